package server

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

// TestIAMIdentityPoliciesDecideIAMOperations drives IAM operations with
// the SDK as a user whose one inline policy allows some actions, on some
// resources, under some conditions, and checks each answer: the policies
// are evaluated against the action, the resource ARN (with its path) and
// the condition keys each operation authorizes with.
func TestIAMIdentityPoliciesDecideIAMOperations(t *testing.T) {
	admin, newClient := iamSDKBroker(t)
	ctx := context.Background()
	const acct = "arn:aws:iam::123456789012:"
	for _, u := range []struct{ name, path string }{{"ops", "/ops/"}, {"app", "/team/"}, {"other", "/"}} {
		_, err := admin.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String(u.name), Path: aws.String(u.path)})
		must(t, "CreateUser "+u.name, err)
	}
	for _, name := range []string{"allowed", "forbidden"} {
		_, err := admin.CreatePolicy(ctx, &sdkiam.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(iamTestAllowRead)})
		must(t, "CreatePolicy "+name, err)
	}
	_, err := admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("existing"), PolicyDocument: aws.String(iamTestAllowRead)})
	must(t, "PutUserPolicy", err)
	otherKey, err := admin.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String("other")})
	must(t, "CreateAccessKey other", err)

	opsPolicy := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["iam:PutUserPolicy","iam:GetUser","iam:ListGroupsForUser"],"Resource":"` + acct + `user/team/*"},
		{"Effect":"Allow","Action":["iam:ListAccessKeys","iam:UpdateAccessKey"],"Resource":"` + acct + `user/ops/${aws:username}"},
		{"Effect":"Allow","Action":"iam:AttachUserPolicy","Resource":"` + acct + `user/team/*","Condition":{"ArnEquals":{"iam:PolicyARN":"` + acct + `policy/allowed"}}},
		{"Effect":"Allow","Action":"iam:CreateUser","Resource":"` + acct + `user/team/*","Condition":{"StringEquals":{"aws:RequestTag/team":"app"}}},
		{"Effect":"Allow","Action":"iam:UntagUser","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["scratch"]}}}
	]}`
	_, err = admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("ops"), PolicyDocument: aws.String(opsPolicy)})
	must(t, "PutUserPolicy ops", err)
	key, err := admin.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String("ops")})
	must(t, "CreateAccessKey ops", err)
	ops := newClient(accessKeyCreds(key.AccessKey))
	opsKey := aws.ToString(key.AccessKey.AccessKeyId)
	tag := func(k, v string) []iamtypes.Tag { return []iamtypes.Tag{{Key: aws.String(k), Value: aws.String(v)}} }

	runCodeSteps(t, []codeStep{
		{"ok/put-user-policy-on-a-user-under-the-allowed-path", sdkStep(ctx, ops.PutUserPolicy, &sdkiam.PutUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("p"), PolicyDocument: aws.String(iamTestAllowRead)}), ""},
		{"fail/delete-user-policy-denied-with-only-put-user-policy", sdkStep(ctx, ops.DeleteUserPolicy, &sdkiam.DeleteUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("existing")}), "AccessDenied"},
		{"fail/get-user-policy-denied-with-only-put-user-policy", sdkStep(ctx, ops.GetUserPolicy, &sdkiam.GetUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("existing")}), "AccessDenied"},
		{"fail/put-user-policy-denied-on-a-user-outside-the-path", sdkStep(ctx, ops.PutUserPolicy, &sdkiam.PutUserPolicyInput{UserName: aws.String("other"), PolicyName: aws.String("p"), PolicyDocument: aws.String(iamTestAllowRead)}), "AccessDenied"},
		{"ok/get-user-under-the-allowed-path-any-case", sdkStep(ctx, ops.GetUser, &sdkiam.GetUserInput{UserName: aws.String("APP")}), ""},
		{"fail/get-missing-user-denied-before-no-such-entity", sdkStep(ctx, ops.GetUser, &sdkiam.GetUserInput{UserName: aws.String("nobody")}), "AccessDenied"},
		{"fail/get-own-user-denied-outside-the-path", sdkStep(ctx, ops.GetUser, &sdkiam.GetUserInput{}), "AccessDenied"},
		{"fail/list-groups-for-missing-user-authorized-on-the-default-path-denied", sdkStep(ctx, ops.ListGroupsForUser, &sdkiam.ListGroupsForUserInput{UserName: aws.String("nobody")}), "AccessDenied"},
		{"ok/list-own-access-keys-without-user-name", func() error {
			out, err := ops.ListAccessKeys(ctx, &sdkiam.ListAccessKeysInput{})
			if err == nil && (len(out.AccessKeyMetadata) != 1 || aws.ToString(out.AccessKeyMetadata[0].AccessKeyId) != opsKey) {
				t.Errorf("ListAccessKeys = %+v, want ops's one key", out.AccessKeyMetadata)
			}
			return err
		}, ""},
		{"fail/list-another-users-access-keys-denied", sdkStep(ctx, ops.ListAccessKeys, &sdkiam.ListAccessKeysInput{UserName: aws.String("other")}), "AccessDenied"},
		{"fail/update-another-users-key-without-user-name-is-no-such-entity", sdkStep(ctx, ops.UpdateAccessKey, &sdkiam.UpdateAccessKeyInput{AccessKeyId: otherKey.AccessKey.AccessKeyId, Status: iamtypes.StatusTypeInactive}), "NoSuchEntity"},
		{"fail/delete-own-access-key-denied-with-only-update-access-key", sdkStep(ctx, ops.DeleteAccessKey, &sdkiam.DeleteAccessKeyInput{AccessKeyId: aws.String(opsKey)}), "AccessDenied"},
		{"ok/attach-the-policy-the-condition-names", sdkStep(ctx, ops.AttachUserPolicy, &sdkiam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: aws.String(acct + "policy/allowed")}), ""},
		{"fail/attach-another-policy-denied-by-the-policy-arn-condition", sdkStep(ctx, ops.AttachUserPolicy, &sdkiam.AttachUserPolicyInput{UserName: aws.String("app"), PolicyArn: aws.String(acct + "policy/forbidden")}), "AccessDenied"},
		{"fail/detach-denied-with-only-attach", sdkStep(ctx, ops.DetachUserPolicy, &sdkiam.DetachUserPolicyInput{UserName: aws.String("app"), PolicyArn: aws.String(acct + "policy/allowed")}), "AccessDenied"},
		{"ok/create-user-with-the-request-tag-the-condition-names", sdkStep(ctx, ops.CreateUser, &sdkiam.CreateUserInput{UserName: aws.String("app2"), Path: aws.String("/team/"), Tags: tag("team", "app")}), ""},
		{"fail/create-user-with-another-tag-value-denied", sdkStep(ctx, ops.CreateUser, &sdkiam.CreateUserInput{UserName: aws.String("app3"), Path: aws.String("/team/"), Tags: tag("team", "ops")}), "AccessDenied"},
		{"fail/create-user-without-tags-denied", sdkStep(ctx, ops.CreateUser, &sdkiam.CreateUserInput{UserName: aws.String("app4"), Path: aws.String("/team/")}), "AccessDenied"},
		{"fail/create-user-outside-the-path-denied", sdkStep(ctx, ops.CreateUser, &sdkiam.CreateUserInput{UserName: aws.String("app5"), Tags: tag("team", "app")}), "AccessDenied"},
		{"ok/untag-the-tag-keys-the-condition-allows", sdkStep(ctx, ops.UntagUser, &sdkiam.UntagUserInput{UserName: aws.String("app2"), TagKeys: []string{"scratch"}}), ""},
		{"fail/untag-other-tag-keys-denied", sdkStep(ctx, ops.UntagUser, &sdkiam.UntagUserInput{UserName: aws.String("app2"), TagKeys: []string{"team"}}), "AccessDenied"},
	})

	// What the refused calls left as it was.
	if _, err := admin.GetUserPolicy(ctx, &sdkiam.GetUserPolicyInput{UserName: aws.String("app"), PolicyName: aws.String("existing")}); err != nil {
		t.Errorf("app's policy existing: %v", err)
	}
	attached, err := admin.ListAttachedUserPolicies(ctx, &sdkiam.ListAttachedUserPoliciesInput{UserName: aws.String("app")})
	must(t, "ListAttachedUserPolicies", err)
	var names []string
	for _, p := range attached.AttachedPolicies {
		names = append(names, aws.ToString(p.PolicyName))
	}
	if s := strings.Join(names, ","); s != "allowed" {
		t.Errorf("app's attached policies = %s, want allowed", s)
	}
	keys, err := admin.ListAccessKeys(ctx, &sdkiam.ListAccessKeysInput{UserName: aws.String("other")})
	must(t, "ListAccessKeys other", err)
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != iamtypes.StatusTypeActive {
		t.Errorf("other's keys = %+v", keys.AccessKeyMetadata)
	}
	for _, name := range []string{"app3", "app4", "app5"} {
		if _, err := admin.GetUser(ctx, &sdkiam.GetUserInput{UserName: aws.String(name)}); errCode(err) != "NoSuchEntity" {
			t.Errorf("refused CreateUser %s: %v", name, err)
		}
	}
}
