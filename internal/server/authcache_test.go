package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	sdksts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/sessions"
	"github.com/shortfuse/shortfuse/internal/store/bolt"
)

// TestPrincipalCacheSeesIAMWrites checks that an IAM write takes effect on the very next
// request, with a principal cache whose entries would otherwise live for an hour: the
// cache serves keys, users, their policies and AssumeRole's role only while IAM is
// unchanged.
func TestPrincipalCacheSeesIAMWrites(t *testing.T) {
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "store.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mk, err := seal.GenerateMasterKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sealer, keyring, err := LoadKeys(ctx, st, mk, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	svc := iam.New(st, sealer, iamTestAccount, time.Now, rand.Reader)
	akid, secret, _, err := svc.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sessions.New(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Config{Account: iamTestAccount, Region: "us-east-1", PrincipalCacheTTL: time.Hour},
		Deps{IAM: svc, Keyring: keyring, Sessions: reg})
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	creds := func(akid, secret string) aws.CredentialsProvider {
		return credentials.NewStaticCredentialsProvider(akid, secret, "")
	}
	iamOf := func(c aws.CredentialsProvider) *sdkiam.Client {
		return sdkiam.New(sdkiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), Credentials: c, RetryMaxAttempts: 1, HTTPClient: ts.Client()})
	}
	stsOf := func(c aws.CredentialsProvider) *sdksts.Client {
		return sdksts.New(sdksts.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), Credentials: c, RetryMaxAttempts: 1, HTTPClient: ts.Client()})
	}
	admin := iamOf(creds(akid, secret))
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
	ciCreds := creds(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey)
	ciIAM, ciSTS := iamOf(ciCreds), stsOf(ciCreds)
	roleARN := "arn:aws:iam::" + iamTestAccount + ":role/deploy"
	must(admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}`)}))
	trust := func(who string) *string {
		return aws.String(fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::%s:user/%s"},"Action":"sts:AssumeRole"}]}`, iamTestAccount, who))
	}
	must(admin.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("deploy"), AssumeRolePolicyDocument: trust("ci")}))
	assume := func() error {
		_, err := ciSTS.AssumeRole(ctx, &sdksts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("job-1")})
		return err
	}
	getUser := func() error {
		_, err := ciIAM.GetUser(ctx, &sdkiam.GetUserInput{})
		return err
	}
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
	if code := apiCode(assume()); code != "AccessDenied" {
		t.Errorf("AssumeRole after the trust policy changed: %q, want AccessDenied", code)
	}
	// So does a deleted identity policy, for every action.
	must(admin.DeleteUserPolicy(ctx, &sdkiam.DeleteUserPolicyInput{UserName: aws.String("ci"), PolicyName: aws.String("p")}))
	if code := apiCode(getUser()); code != "AccessDenied" {
		t.Errorf("GetUser after its policy was deleted: %q, want AccessDenied", code)
	}
	// And a deactivated key stops authenticating.
	must(admin.UpdateAccessKey(ctx, &sdkiam.UpdateAccessKeyInput{UserName: aws.String("ci"), AccessKeyId: key.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive}))
	if code := apiCode(getUser()); code != "InvalidClientTokenId" {
		t.Errorf("GetUser with a deactivated key: %q, want InvalidClientTokenId", code)
	}
}
