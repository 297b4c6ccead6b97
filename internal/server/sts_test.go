package server

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/shortfuse/shortfuse/internal/iam"
)

// TestAssumeRoleChaining: setting a source identity needs
// sts:SetSourceIdentity; a role session assuming a role gets a child
// session with AWS's rules for role chaining: at most an hour, the parent's
// source identity kept and never changed, its transitive tags carried over
// and not overridden.
func TestAssumeRoleChaining(t *testing.T) {
	b := newTestBroker(t, 12*time.Hour, nil)
	ctx := context.Background()
	const account = "123456789012"
	firstTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:user/admin"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	if _, err := b.srv.iam.CreateRole(ctx, iam.CreateRoleInput{Name: "first", AssumeRolePolicyDocument: firstTrust}); err != nil {
		t.Fatal(err)
	}
	first := "arn:aws:iam::" + account + ":role/first"
	// A role that trusts the caller without sts:SetSourceIdentity: the
	// caller may assume it, but not stamp the session with a source identity.
	plain := createTrustingRole(t, b, "plain")
	if _, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(plain), RoleSessionName: aws.String("xx"), SourceIdentity: aws.String("alice")}); errCode(err) != "AccessDenied" {
		t.Fatalf("SourceIdentity without sts:SetSourceIdentity: %v, want AccessDenied", err)
	}
	if _, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(plain), RoleSessionName: aws.String("xx")}); err != nil {
		t.Fatalf("the same role without a source identity: %v", err)
	}
	if err := b.srv.iam.PutInlinePolicy(ctx, iam.KindRole, "first", "chain",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"],"Resource":"*"}]}`); err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + account + `:role/first"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
	if _, err := b.srv.iam.CreateRole(ctx, iam.CreateRoleInput{Name: "second", AssumeRolePolicyDocument: trust, MaxSessionDuration: 12 * 3600}); err != nil {
		t.Fatal(err)
	}
	second := "arn:aws:iam::" + account + ":role/second"
	tag := func(k, v string) ststypes.Tag { return ststypes.Tag{Key: aws.String(k), Value: aws.String(v)} }

	parentOut, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(first), RoleSessionName: aws.String("parent"), SourceIdentity: aws.String("alice"),
		Tags: []ststypes.Tag{tag("Team", "blue")}, TransitiveTagKeys: []string{"Team"},
	})
	if err != nil {
		t.Fatal(err)
	}
	parent := sessionCreds(parentOut.Credentials)

	tests := []struct {
		name     string
		in       sts.AssumeRoleInput
		code     string
		contains string
	}{
		{"fail/over-an-hour", sts.AssumeRoleInput{DurationSeconds: aws.Int32(3601)}, "ValidationError", "1 hour session limit for roles assumed by role chaining"},
		{"ok/an-hour", sts.AssumeRoleInput{DurationSeconds: aws.Int32(3600)}, "", ""},
		{"fail/source-identity-changed", sts.AssumeRoleInput{SourceIdentity: aws.String("mallory")}, "AccessDenied", "source identity"},
		{"ok/source-identity-repeated", sts.AssumeRoleInput{SourceIdentity: aws.String("alice")}, "", ""},
		{"fail/transitive-tag-overridden", sts.AssumeRoleInput{Tags: []ststypes.Tag{tag("team", "red")}}, "InvalidParameterValue", ""},
		{"ok/other-tag", sts.AssumeRoleInput{Tags: []ststypes.Tag{tag("Stage", "prod")}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			in.RoleArn, in.RoleSessionName = aws.String(second), aws.String("child")
			out, err := b.sts(parent).AssumeRole(ctx, &in)
			wantCodeMessage(t, err, tt.code, tt.contains)
			if err != nil {
				return
			}
			// The child keeps the parent's source identity, and its end
			// is within the hour whatever was asked.
			if got := aws.ToString(out.SourceIdentity); got != "alice" {
				t.Errorf("SourceIdentity = %q, want the parent's %q", got, "alice")
			}
			if d := time.Until(*out.Credentials.Expiration); d > time.Hour+time.Minute {
				t.Errorf("chained session lasts %s, want at most an hour", d)
			}
		})
	}
}

// TestAssumeRoleAWSErrors: AssumeRole's documented refusals, with AWS's
// code and message, and the shape of its answer.
func TestAssumeRoleAWSErrors(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	ctx := context.Background()
	role := createTrustingRole(t, b, "errs")
	tag := func(k, v string) ststypes.Tag { return ststypes.Tag{Key: aws.String(k), Value: aws.String(v)} }
	tests := []struct {
		name     string
		in       sts.AssumeRoleInput
		code     string
		contains string
	}{
		{"arn/short", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::1"), RoleSessionName: aws.String("ok")}, "ValidationError", "greater than or equal to 20"},
		{"arn/not-an-arn", sts.AssumeRoleInput{RoleArn: aws.String("this-is-not-an-arn-at-all"), RoleSessionName: aws.String("ok")}, "ValidationError", "this-is-not-an-arn-at-all is invalid"},
		{"arn/user", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:user/admin"), RoleSessionName: aws.String("ok")}, "ValidationError", "is invalid"},
		{"arn/no-account", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam:::role/errs-role-name"), RoleSessionName: aws.String("ok")}, "ValidationError", "is invalid"},
		{"arn/no-name", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/"), RoleSessionName: aws.String("ok")}, "ValidationError", "is invalid"},
		{"arn/other-service", sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:s3:::123456789012:role/x"), RoleSessionName: aws.String("ok")}, "ValidationError", "is invalid"},
		{"session-name/one-character", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("a")}, "ValidationError", "greater than or equal to 2"},
		{"session-name/bad-character", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("a b")}, "ValidationError", "regular expression"},
		{"transitive/not-a-tag", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ok"), Tags: []ststypes.Tag{tag("Team", "x")}, TransitiveTagKeys: []string{"Other"}}, "InvalidParameterValue", "transitive tag key"},
		{"ok/transitive-other-case", sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("ok"), Tags: []ststypes.Tag{tag("Team", "x")}, TransitiveTagKeys: []string{"team"}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := b.sts(b.admin).AssumeRole(ctx, &tt.in)
			wantCodeMessage(t, err, tt.code, tt.contains)
		})
	}
	// PackedPolicySize only when the request has session policies or tags.
	out, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	if out.PackedPolicySize != nil {
		t.Errorf("PackedPolicySize = %d without session policies or tags, want none", *out.PackedPolicySize)
	}
	out, err = b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(role), RoleSessionName: aws.String("tagged"), Tags: []ststypes.Tag{tag("Team", "x")}})
	if err != nil {
		t.Fatal(err)
	}
	if out.PackedPolicySize == nil {
		t.Errorf("PackedPolicySize missing with session tags")
	}
}
