package server

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestLoginProfilesSDK(t *testing.T) {
	admin, client := iamSDKBroker(t)
	ctx := context.Background()
	aliceKey := sdkUser(t, admin, "alice", "")
	alice := client(aliceKey)
	runCodeSteps(t, []codeStep{
		{"fail/short-password", sdkStep(ctx, admin.CreateLoginProfile, &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short")}), "PasswordPolicyViolation"},
		{"fail/no-such-user", sdkStep(ctx, admin.CreateLoginProfile, &sdkiam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("a long enough password")}), "NoSuchEntity"},
		{"fail/no-profile-yet", sdkStep(ctx, admin.GetLoginProfile, &sdkiam.GetLoginProfileInput{UserName: aws.String("alice")}), "NoSuchEntity"},
		{"ok/create", func() error {
			out, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("first password of alice"), PasswordResetRequired: true})
			if err == nil && (aws.ToString(out.LoginProfile.UserName) != "alice" || !out.LoginProfile.PasswordResetRequired || out.LoginProfile.CreateDate == nil) {
				t.Errorf("CreateLoginProfile() = %+v", out.LoginProfile)
			}
			return err
		}, ""},
		{"fail/create-twice", sdkStep(ctx, admin.CreateLoginProfile, &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("first password of alice")}), "EntityAlreadyExists"},
		{"fail/user-lacks-permission", sdkStep(ctx, alice.GetLoginProfile, &sdkiam.GetLoginProfileInput{}), "AccessDenied"},
		{"fail/change-wrong-old", sdkStep(ctx, alice.ChangePassword, &sdkiam.ChangePasswordInput{OldPassword: aws.String("not the password!!"), NewPassword: aws.String("second password of alice")}), "InvalidInput"},
		{"fail/change-to-same", sdkStep(ctx, alice.ChangePassword, &sdkiam.ChangePasswordInput{OldPassword: aws.String("first password of alice"), NewPassword: aws.String("first password of alice")}), "PasswordPolicyViolation"},
		{"fail/update-short", sdkStep(ctx, admin.UpdateLoginProfile, &sdkiam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short")}), "PasswordPolicyViolation"},
		{"ok/change-own", sdkStep(ctx, alice.ChangePassword, &sdkiam.ChangePasswordInput{OldPassword: aws.String("first password of alice"), NewPassword: aws.String("second password of alice")}), ""},
		{"ok/reset-cleared", func() error {
			out, err := admin.GetLoginProfile(ctx, &sdkiam.GetLoginProfileInput{UserName: aws.String("alice")})
			if err == nil && out.LoginProfile.PasswordResetRequired {
				t.Error("ChangePassword left PasswordResetRequired set")
			}
			return err
		}, ""},
		{"ok/update", sdkStep(ctx, admin.UpdateLoginProfile, &sdkiam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("third password of alice"), PasswordResetRequired: aws.Bool(true)}), ""},
		{"ok/delete", sdkStep(ctx, admin.DeleteLoginProfile, &sdkiam.DeleteLoginProfileInput{UserName: aws.String("alice")}), ""},
		{"fail/delete-twice", sdkStep(ctx, admin.DeleteLoginProfile, &sdkiam.DeleteLoginProfileInput{UserName: aws.String("alice")}), "NoSuchEntity"},
	})
}

// TestPasswordErrors: the codes, statuses and messages of IAM's password
// errors, as the SDK sees them.
func TestPasswordErrors(t *testing.T) {
	b := newSMBroker(t)
	ctx := context.Background()
	admin := b.iam()
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
	if _, err := admin.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String("bob")}); err != nil {
		t.Fatal(err)
	}
	out, err := b.sts(b.admin).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/r"), RoleSessionName: aws.String("s1")})
	if err != nil {
		t.Fatal(err)
	}
	role := sdkiam.NewFromConfig(sdkConfig(b.url, sessionCreds(out.Credentials)))
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"fail/change-password-not-a-user", sdkStep(ctx, role.ChangePassword, &sdkiam.ChangePasswordInput{OldPassword: aws.String("old password of a role"), NewPassword: aws.String("new password of a role")}), "InvalidUserType", 400, "The request was rejected because the type of user for the transaction was incorrect: only IAM users can change their password."},
		{"fail/create-short", sdkStep(ctx, admin.CreateLoginProfile, &sdkiam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("short")}), "PasswordPolicyViolation", 400, "Password does not conform to the account password policy: it must have at least 14 characters."},
		{"ok/create", sdkStep(ctx, admin.CreateLoginProfile, &sdkiam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("BOBBOBBOBBOBBOB")}), "", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *smithyhttp.ResponseError
			var ae smithy.APIError
			if !errors.As(err, &re) || !errors.As(err, &ae) {
				t.Fatalf("error %v, want %s", err, tc.code)
			}
			if ae.ErrorCode() != tc.code || re.HTTPStatusCode() != tc.status || ae.ErrorMessage() != tc.msg {
				t.Errorf("%s %d %q, want %s %d %q", ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage(), tc.code, tc.status, tc.msg)
			}
		})
	}
}
