package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	sdksts "github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestPrincipalCacheSeesIAMWrites checks that an IAM write takes effect on the very next
// request, with a principal cache whose entries would otherwise live for an hour: the
// cache serves keys, users, their policies and AssumeRole's role only while IAM is
// unchanged.
func TestPrincipalCacheSeesIAMWrites(t *testing.T) {
	ctx := context.Background()
	core := newTestCore(t, iamTestAccount, nil)
	srv := New(Config{Account: iamTestAccount, Region: "us-east-1", PrincipalCacheTTL: time.Hour}, core.deps())
	url := newTestServer(t, srv)
	iamOf := func(c aws.Credentials) *sdkiam.Client { return sdkiam.NewFromConfig(sdkConfig(url, c)) }
	stsOf := func(c aws.Credentials) *sdksts.Client { return sdksts.NewFromConfig(sdkConfig(url, c)) }
	admin := iamOf(core.admin)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	must(admin.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String("ci")}))
	key, err := admin.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String("ci")})
	if err != nil {
		t.Fatal(err)
	}
	ciCreds := accessKeyCreds(key.AccessKey)
	ciIAM, ciSTS := iamOf(ciCreds), stsOf(ciCreds)
	roleARN := "arn:aws:iam::" + iamTestAccount + ":role/deploy"
	must(admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}`)}))
	trust := func(who string) *string {
		return aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/%s"},"Action":"sts:AssumeRole"}]}`, iamTestAccount, who))
	}
	must(admin.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: trust("ci")}))
	assume := sdkStep(ctx, ciSTS.AssumeRole, &sdksts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("job-1")})
	getUser := sdkStep(ctx, ciIAM.GetUser, &sdkiam.GetUserInput{})
	// Warm the cache.
	for range 3 {
		if err := getUser(); err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		if err := assume(); err != nil {
			t.Fatalf("AssumeRole: %v", err)
		}
	}

	// A trust policy that no longer names the caller denies the next AssumeRole.
	must(admin.UpdateAssumeRolePolicy(ctx, &sdkiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deploy"), PolicyDocument: trust("admin")}))
	if code := errCode(assume()); code != "AccessDenied" {
		t.Errorf("AssumeRole after the trust policy changed: %q, want AccessDenied", code)
	}
	// So does a deleted identity policy, for every action.
	must(admin.DeleteUserPolicy(ctx, &sdkiam.DeleteUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("p")}))
	if code := errCode(getUser()); code != "AccessDenied" {
		t.Errorf("GetUser after its policy was deleted: %q, want AccessDenied", code)
	}
	// And a deactivated key stops authenticating.
	must(admin.UpdateAccessKey(ctx, &sdkiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: key.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive}))
	if code := errCode(getUser()); code != "InvalidClientTokenId" {
		t.Errorf("GetUser with a deactivated key: %q, want InvalidClientTokenId", code)
	}
}
