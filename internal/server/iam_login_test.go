package server

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func TestLoginProfilesSDK(t *testing.T) {
	admin, client := iamSDKBroker(t)
	ctx := context.Background()
	aliceKey := sdkUser(t, admin, "alice", "")
	alice := client(aliceKey.AccessKeyID, aliceKey.SecretAccessKey)
	code := func(err error) string {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return ae.ErrorCode()
		}
		if err != nil {
			return err.Error()
		}
		return ""
	}

	tests := []struct {
		name string
		call func() error
		want string
	}{
		{"fail/short-password", func() error {
			_, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short")})
			return err
		}, "PasswordPolicyViolation"},
		{"fail/no-such-user", func() error {
			_, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("a long enough password")})
			return err
		}, "NoSuchEntity"},
		{"fail/no-profile-yet", func() error {
			_, err := admin.GetLoginProfile(ctx, &sdkiam.GetLoginProfileInput{UserName: aws.String("alice")})
			return err
		}, "NoSuchEntity"},
		{"ok/create", func() error {
			out, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("first password of alice"), PasswordResetRequired: true})
			if err == nil && (aws.ToString(out.LoginProfile.UserName) != "alice" || !out.LoginProfile.PasswordResetRequired || out.LoginProfile.CreateDate == nil) {
				t.Errorf("CreateLoginProfile() = %+v", out.LoginProfile)
			}
			return err
		}, ""},
		{"fail/create-twice", func() error {
			_, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("first password of alice")})
			return err
		}, "EntityAlreadyExists"},
		{"fail/user-lacks-permission", func() error {
			_, err := alice.GetLoginProfile(ctx, &sdkiam.GetLoginProfileInput{})
			return err
		}, "AccessDenied"},
		{"fail/change-wrong-old", func() error {
			_, err := alice.ChangePassword(ctx, &sdkiam.ChangePasswordInput{OldPassword: aws.String("not the password!!"), NewPassword: aws.String("second password of alice")})
			return err
		}, "InvalidInput"},
		{"fail/change-to-same", func() error {
			_, err := alice.ChangePassword(ctx, &sdkiam.ChangePasswordInput{OldPassword: aws.String("first password of alice"), NewPassword: aws.String("first password of alice")})
			return err
		}, "PasswordPolicyViolation"},
		{"fail/update-short", func() error {
			_, err := admin.UpdateLoginProfile(ctx, &sdkiam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("short")})
			return err
		}, "PasswordPolicyViolation"},
		{"ok/change-own", func() error {
			_, err := alice.ChangePassword(ctx, &sdkiam.ChangePasswordInput{OldPassword: aws.String("first password of alice"), NewPassword: aws.String("second password of alice")})
			return err
		}, ""},
		{"ok/reset-cleared", func() error {
			out, err := admin.GetLoginProfile(ctx, &sdkiam.GetLoginProfileInput{UserName: aws.String("alice")})
			if err == nil && out.LoginProfile.PasswordResetRequired {
				t.Error("ChangePassword left PasswordResetRequired set")
			}
			return err
		}, ""},
		{"ok/update", func() error {
			_, err := admin.UpdateLoginProfile(ctx, &sdkiam.UpdateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("third password of alice"), PasswordResetRequired: aws.Bool(true)})
			return err
		}, ""},
		{"ok/delete", func() error {
			_, err := admin.DeleteLoginProfile(ctx, &sdkiam.DeleteLoginProfileInput{UserName: aws.String("alice")})
			return err
		}, ""},
		{"fail/delete-twice", func() error {
			_, err := admin.DeleteLoginProfile(ctx, &sdkiam.DeleteLoginProfileInput{UserName: aws.String("alice")})
			return err
		}, "NoSuchEntity"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := code(tc.call()); got != tc.want {
				t.Fatalf("code = %q, want %q", got, tc.want)
			}
		})
	}
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
	role := sdkiam.New(sdkiam.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(b.url),
		Credentials: credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: *out.Credentials.AccessKeyId,
			SecretAccessKey: *out.Credentials.SecretAccessKey, SessionToken: *out.Credentials.SessionToken}},
		RetryMaxAttempts: 1,
	})
	tests := []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"fail/change-password-not-a-user", func() error {
			_, err := role.ChangePassword(ctx, &sdkiam.ChangePasswordInput{OldPassword: aws.String("old password of a role"), NewPassword: aws.String("new password of a role")})
			return err
		}, "InvalidUserType", 400, "The request was rejected because the type of user for the transaction was incorrect: only IAM users can change their password."},
		{"fail/create-short", func() error {
			_, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("short")})
			return err
		}, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy: it must have at least 14 characters."},
		{"ok/create", func() error {
			_, err := admin.CreateLoginProfile(ctx, &sdkiam.CreateLoginProfileInput{UserName: aws.String("bob"), Password: aws.String("BOBBOBBOBBOBBOB")})
			return err
		}, "", 0, ""},
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
