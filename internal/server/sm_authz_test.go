package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	sdksm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// TestSecretsAuthorization: identity policies, resource policies and the
// condition keys decide every operation, and a caller that may not act on
// a secret cannot tell whether it exists.
func TestSecretsAuthorization(t *testing.T) {
	b := newSMBroker(t)
	admin := b.sm(b.admin)
	ctx := context.Background()
	mk := func(name, value string, tags ...smtypes.Tag) string {
		t.Helper()
		out, err := admin.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value), Tags: tags})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.ARN)
	}
	tag := func(k, v string) smtypes.Tag { return smtypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	prodARN := mk("/prod/exampleCredential", "prod-value")
	mk("/staging/exampleCredential", "staging-value")
	mk("/team/ci", "ci-value", tag("team", "ci"))
	mk("/team/web", "web-value", tag("team", "web"))
	shared := mk("/shared/token", "shared-value")

	// The recipe's policy: a wildcard account and /prod/* must match the ARN
	// with its random suffix.
	reader := b.sm(b.user(t, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}]}`))
	tagged := b.sm(b.user(t, "tagged", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"ci"}}}]}`))
	nothing := b.sm(b.user(t, "nothing", ""))
	stageDeny := b.sm(b.user(t, "stagedeny", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},
		{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSPREVIOUS"}}}]}`))
	creator := b.sm(b.user(t, "creator", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["secretsmanager:CreateSecret","secretsmanager:TagResource"],"Resource":"*",
		 "Condition":{"StringEquals":{"aws:RequestTag/team":"ci"},"ForAllValues:StringEquals":{"aws:TagKeys":["team"]}}}]}`))
	namer := b.sm(b.user(t, "namer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:DescribeSecret","Resource":"*","Condition":{"StringLike":{"secretsmanager:Name":"/team/*"}}}]}`))
	// A user with no identity policy, named by the resource policy of
	// /shared/token.
	viaResource := b.sm(b.user(t, "viaresource", ""))
	_, err := admin.PutResourcePolicy(ctx, &sdksm.PutResourcePolicyInput{SecretId: aws.String(shared), ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/viaresource"},"Action":"secretsmanager:GetSecretValue","Resource":"*"},
		{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::123456789012:user/stagedeny"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}

	get := func(c *sdksm.Client, id, stage string) error {
		in := &sdksm.GetSecretValueInput{SecretId: aws.String(id)}
		if stage != "" {
			in.VersionStage = aws.String(stage)
		}
		_, err := c.GetSecretValue(ctx, in)
		return err
	}
	runCodeSteps(t, []codeStep{
		{"ok/recipe-policy-by-name", func() error { return get(reader, "/prod/exampleCredential", "") }, ""},
		{"ok/recipe-policy-by-full-arn", func() error { return get(reader, prodARN, "") }, ""},
		{"ok/recipe-policy-by-partial-arn", func() error {
			return get(reader, "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/exampleCredential", "")
		}, ""},
		{"ok/recipe-policy-missing-prod-secret-is-not-found", func() error { return get(reader, "/prod/missing", "") }, "ResourceNotFoundException"},
		{"fail/recipe-policy-staging", func() error { return get(reader, "/staging/exampleCredential", "") }, "AccessDeniedException"},
		{"fail/recipe-policy-missing-staging-looks-denied", func() error { return get(reader, "/staging/missing", "") }, "AccessDeniedException"},
		{"fail/recipe-policy-put", sdkStep(ctx, reader.PutSecretValue, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/exampleCredential"), SecretString: aws.String("x")}), "AccessDeniedException"},
		{"fail/recipe-policy-describe", sdkStep(ctx, reader.DescribeSecret, &sdksm.DescribeSecretInput{SecretId: aws.String("/prod/exampleCredential")}), "AccessDeniedException"},
		{"fail/recipe-policy-list", sdkStep(ctx, reader.ListSecrets, &sdksm.ListSecretsInput{}), "AccessDeniedException"},
		{"fail/recipe-policy-random-password", sdkStep(ctx, reader.GetRandomPassword, &sdksm.GetRandomPasswordInput{}), "AccessDeniedException"},
		{"ok/resource-tag", func() error { return get(tagged, "/team/ci", "") }, ""},
		{"fail/resource-tag-other-value", func() error { return get(tagged, "/team/web", "") }, "AccessDeniedException"},
		{"fail/resource-tag-untagged", func() error { return get(tagged, "/prod/exampleCredential", "") }, "AccessDeniedException"},
		{"fail/resource-tag-missing-secret", func() error { return get(tagged, "/team/missing", "") }, "AccessDeniedException"},
		{"fail/no-policy", func() error { return get(nothing, "/prod/exampleCredential", "") }, "AccessDeniedException"},
		{"fail/no-policy-missing", func() error { return get(nothing, "/prod/missing", "") }, "AccessDeniedException"},
		{"ok/version-stage-default", func() error { return get(stageDeny, "/prod/exampleCredential", "") }, ""},
		{"fail/version-stage-denied", func() error { return get(stageDeny, "/prod/exampleCredential", "AWSPREVIOUS") }, "AccessDeniedException"},
		{"ok/resource-policy-allows", func() error { return get(viaResource, "/shared/token", "") }, ""},
		{"fail/resource-policy-only-for-that-secret", func() error { return get(viaResource, "/prod/exampleCredential", "") }, "AccessDeniedException"},
		{"fail/resource-policy-deny-beats-identity-allow", func() error { return get(stageDeny, "/shared/token", "") }, "AccessDeniedException"},
		{"ok/request-tag", sdkStep(ctx, creator.CreateSecret, &sdksm.CreateSecretInput{Name: aws.String("/team/new"), Tags: []smtypes.Tag{tag("team", "ci")}}), ""},
		{"fail/request-tag-other-value", sdkStep(ctx, creator.CreateSecret, &sdksm.CreateSecretInput{Name: aws.String("/team/new2"), Tags: []smtypes.Tag{tag("team", "web")}}), "AccessDeniedException"},
		{"fail/request-tag-extra-key", sdkStep(ctx, creator.CreateSecret, &sdksm.CreateSecretInput{Name: aws.String("/team/new3"), Tags: []smtypes.Tag{tag("team", "ci"), tag("owner", "x")}}), "AccessDeniedException"},
		{"fail/request-tag-none", sdkStep(ctx, creator.CreateSecret, &sdksm.CreateSecretInput{Name: aws.String("/team/new4")}), "AccessDeniedException"},
		{"ok/name-condition", sdkStep(ctx, namer.DescribeSecret, &sdksm.DescribeSecretInput{SecretId: aws.String("/team/web")}), ""},
		{"fail/name-condition", sdkStep(ctx, namer.DescribeSecret, &sdksm.DescribeSecretInput{SecretId: aws.String("/prod/exampleCredential")}), "AccessDeniedException"},
	})

	// A denied caller learns nothing about existence: the two refusals
	// read the same but for the name the caller gave.
	errExisting := get(reader, "/staging/exampleCredential", "")
	errMissing := get(reader, "/staging/missing", "")
	msg := func(err error) string {
		var ae smithy.APIError
		if !errors.As(err, &ae) {
			return ""
		}
		return ae.ErrorMessage()
	}
	if a, m := strings.Replace(msg(errExisting), "exampleCredential", "X", 1), strings.Replace(msg(errMissing), "missing", "X", 1); a != m || a == "" {
		t.Errorf("denials differ:\n%s\n%s", msg(errExisting), msg(errMissing))
	}
	if strings.Contains(msg(errExisting), "arn:aws:secretsmanager") {
		t.Errorf("denial names the ARN found: %s", msg(errExisting))
	}
	// Nor through the resource policy's explicit Deny.
	if m := msg(get(stageDeny, "/shared/token", "")); strings.Contains(m, "explicit") {
		t.Errorf("denial says an explicit deny matched: %s", m)
	}

	// BatchGetSecretValue: allowed per secret, errors for the others.
	batcher := b.sm(b.user(t, "batcher", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:BatchGetSecretValue","Resource":"*"},
		{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/*"}]}`))
	out, err := batcher.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{SecretIdList: []string{"/prod/exampleCredential", "/staging/exampleCredential", "/staging/missing"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.SecretValues) != 1 || aws.ToString(out.SecretValues[0].SecretString) != "prod-value" || len(out.Errors) != 2 ||
		aws.ToString(out.Errors[0].ErrorCode) != "AccessDeniedException" || aws.ToString(out.Errors[1].ErrorCode) != "AccessDeniedException" {
		t.Errorf("BatchGetSecretValue = %+v", out)
	}
	_, err = batcher.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{"/"}}}})
	wantCode(t, "BatchGetSecretValue(filters without ListSecrets)", err, "AccessDeniedException")
	_, err = reader.BatchGetSecretValue(ctx, &sdksm.BatchGetSecretValueInput{SecretIdList: []string{"/prod/exampleCredential"}})
	wantCode(t, "BatchGetSecretValue(without the batch action)", err, "AccessDeniedException")
}

// TestSecretsSessions: the recipe's two kinds of exploding credentials read
// what their principal may read, and nothing else.
func TestSecretsSessions(t *testing.T) {
	b := newSMBroker(t)
	admin := b.sm(b.admin)
	ctx := context.Background()
	for _, n := range []string{"/prod/exampleCredential", "/staging/exampleCredential"} {
		if _, err := admin.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String(n), SecretString: aws.String("v" + n)}); err != nil {
			t.Fatal(err)
		}
	}
	read := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"},{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`
	human := b.user(t, "human", read)
	st, err := b.sts(human).GetSessionToken(ctx, &sts.GetSessionTokenInput{DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	sess := b.sm(sessionCreds(st.Credentials))
	gv, err := sess.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/exampleCredential")})
	if err != nil || aws.ToString(gv.SecretString) != "v/prod/exampleCredential" {
		t.Fatalf("session GetSecretValue = %v", err)
	}
	_, err = sess.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/staging/exampleCredential")})
	wantCode(t, "session GetSecretValue(staging)", err, "AccessDeniedException")

	iamc := b.iam()
	if _, err := iamc.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("prod-reader"), AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/human"},"Action":"sts:AssumeRole"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutRolePolicy(ctx, &sdkiam.PutRolePolicyInput{RoleName: aws.String("prod-reader"), PolicyName: aws.String("read"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	ar, err := b.sts(human).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/prod-reader"), RoleSessionName: aws.String("build-42")})
	if err != nil {
		t.Fatal(err)
	}
	role := b.sm(sessionCreds(ar.Credentials))
	if _, err := role.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/exampleCredential")}); err != nil {
		t.Errorf("role GetSecretValue = %v", err)
	}
	_, err = role.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/staging/exampleCredential")})
	wantCode(t, "role GetSecretValue(staging)", err, "AccessDeniedException")
	_, err = role.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/exampleCredential"), SecretString: aws.String("x")})
	wantCode(t, "role PutSecretValue", err, "AccessDeniedException")
	var ade *smtypes.ResourceNotFoundException
	if errors.As(err, &ade) {
		t.Error("typed as not found")
	}
}
