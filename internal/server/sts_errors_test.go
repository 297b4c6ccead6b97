package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
)

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
			if got := errCode(err); got != tt.code {
				t.Fatalf("code = %q (%v), want %q", got, err, tt.code)
			}
			var ae smithy.APIError
			if tt.contains != "" && (!errors.As(err, &ae) || !strings.Contains(ae.ErrorMessage(), tt.contains)) {
				t.Errorf("message %v does not contain %q", err, tt.contains)
			}
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
