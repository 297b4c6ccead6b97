package server

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

func TestLoginProfilesSDK(t *testing.T) {
	admin, client := iamSDKBroker(t)
	ctx := context.Background()
	if _, err := admin.CreateUser(ctx, &sdkiam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	key, err := admin.CreateAccessKey(ctx, &sdkiam.CreateAccessKeyInput{UserName: aws.String("alice")})
	if err != nil {
		t.Fatal(err)
	}
	alice := client(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey))
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
		}, "InvalidInput"},
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
