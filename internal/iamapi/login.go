package iamapi

import (
	"context"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// IAM login profiles: the passwords of the approval page. Shapes from
// botocore's iam service-2.json (LoginProfile, CreateLoginProfileRequest,
// UpdateLoginProfileRequest, ChangePasswordRequest). A password the policy
// refuses answers PasswordPolicyViolation, as IAM does.

type xmlLoginProfile struct {
	UserName              string      `xml:"UserName"`
	CreateDate            awsapi.Time `xml:"CreateDate"`
	PasswordResetRequired bool        `xml:"PasswordResetRequired"`
}

type loginProfileResult struct {
	LoginProfile xmlLoginProfile `xml:"LoginProfile"`
}

func loginProfileXML(p *iam.LoginProfile) *loginProfileResult {
	return &loginProfileResult{LoginProfile: xmlLoginProfile{UserName: p.UserName, CreateDate: awsapi.Time(p.CreateDate), PasswordResetRequired: p.PasswordResetRequired}}
}

// passwordParam reads a password member, which may be up to 128
// characters of the passwordType set (checked by the password policy).
func passwordParam(p *awsapi.Params, name string) (string, error) {
	v, err := p.Required(name)
	if err != nil {
		return "", err
	}
	if len(v) > 4*iam.MaxPasswordLength {
		return "", rpc.ValidationError("1 validation error detected: Value at '%s' failed to satisfy constraint: Member must have length less than or equal to %d", lowerFirstRune(name), iam.MaxPasswordLength)
	}
	return v, nil
}

func lowerFirstRune(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]|0x20) + s[1:]
}

func handleCreateLoginProfile(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		pw, err := passwordParam(r.Params, "Password")
		if err != nil {
			return nil, err
		}
		reset, err := r.Params.Bool("PasswordResetRequired", false)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:CreateLoginProfile", name, nil); err != nil {
			return nil, err
		}
		p, err := svc.CreateLoginProfile(ctx, name, pw, reset)
		if err != nil {
			return nil, err
		}
		return loginProfileXML(p), nil
	}
}

func handleGetLoginProfile(svc *iam.Service) rpc.Handler {
	return handleGet(userTarget(svc), "iam:GetLoginProfile", svc.GetLoginProfile, loginProfileXML)
}

func handleUpdateLoginProfile(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := r.Params.Required("UserName")
		if err != nil {
			return nil, err
		}
		var pw *string
		if r.Params.Has("Password") {
			v, err := passwordParam(r.Params, "Password")
			if err != nil {
				return nil, err
			}
			pw = &v
		}
		var reset *bool
		if r.Params.Has("PasswordResetRequired") {
			v, err := r.Params.Bool("PasswordResetRequired", false)
			if err != nil {
				return nil, err
			}
			reset = &v
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:UpdateLoginProfile", name, nil); err != nil {
			return nil, err
		}
		return nil, svc.UpdateLoginProfile(ctx, name, pw, reset)
	}
}

func handleDeleteLoginProfile(svc *iam.Service) rpc.Handler {
	return handleAct(userTarget(svc), "iam:DeleteLoginProfile", svc.DeleteLoginProfile)
}

// ChangePassword: an IAM user changes their own password. As when an AWS
// account's password policy lets users change their own passwords, no
// permission is needed; an explicit Deny of iam:ChangePassword still
// refuses.
func handleChangePassword(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		oldPw, err := passwordParam(r.Params, "OldPassword")
		if err != nil {
			return nil, err
		}
		newPw, err := passwordParam(r.Params, "NewPassword")
		if err != nil {
			return nil, err
		}
		if r.Caller.UserName == "" {
			return nil, &awsapi.Error{Code: awsapi.CodeInvalidUserType, Message: "The request was rejected because the type of user for the transaction was incorrect: only IAM users can change their password."}
		}
		if err := r.RefuseExplicitDeny(ctx, "iam:ChangePassword", r.Caller.ARN); err != nil {
			return nil, err
		}
		return nil, svc.ChangePassword(ctx, r.Caller.UserName, oldPw, newPw)
	}
}
