package iamapi

import (
	"context"
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

type userResult struct {
	User xmlUser `xml:"User"`
}

func handleCreateUser(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		name, err := p.Required("UserName")
		if err != nil {
			return nil, err
		}
		if err := refuseBoundary(p); err != nil {
			return nil, err
		}
		path := p.String("Path")
		tags := tagsParam(p)
		arnPath := path
		if arnPath == "" {
			arnPath = "/"
		}
		if err := r.Authorize(ctx, "iam:CreateUser", svc.UserARN(arnPath, name), tagConditionKeys(tags)); err != nil {
			return nil, err
		}
		u, err := svc.CreateUser(ctx, iam.CreateUserInput{Name: name, Path: path, Tags: tags})
		if err != nil {
			return nil, err
		}
		return &userResult{User: userXML(u, true)}, nil
	}
}

func handleGetUser(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:GetUser", name, nil); err != nil {
			return nil, err
		}
		u, err := svc.GetUser(ctx, name)
		if err != nil {
			return nil, err
		}
		return &userResult{User: userXML(u, true)}, nil
	}
}

type listUsersResult struct {
	Users awsapi.Members[xmlUser] `xml:"Users"`
	listResult
}

func handleListUsers(svc *iam.Service) rpc.Handler {
	return handleListByPath(svc, "iam:ListUsers", "user", svc.ListUsers, func(page []iam.User, lr listResult) any {
		return &listUsersResult{Users: usersXML(page), listResult: lr}
	})
}

// --- access keys -------------------------------------------------------------

type xmlAccessKey struct {
	UserName        string      `xml:"UserName"`
	AccessKeyID     string      `xml:"AccessKeyId"`
	Status          string      `xml:"Status"`
	SecretAccessKey string      `xml:"SecretAccessKey"`
	CreateDate      awsapi.Time `xml:"CreateDate"`
}

type createAccessKeyResult struct {
	AccessKey xmlAccessKey `xml:"AccessKey"`
}

func handleCreateAccessKey(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:CreateAccessKey", name, nil); err != nil {
			return nil, err
		}
		k, err := svc.CreateAccessKey(ctx, name)
		if err != nil {
			return nil, err
		}
		// The one response that carries a long-term secret.
		return &createAccessKeyResult{AccessKey: xmlAccessKey{
			UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: awsapi.Time(k.CreateDate),
		}}, nil
	}
}

type xmlAccessKeyMetadata struct {
	UserName    string      `xml:"UserName"`
	AccessKeyID string      `xml:"AccessKeyId"`
	Status      string      `xml:"Status"`
	CreateDate  awsapi.Time `xml:"CreateDate"`
}

type listAccessKeysResult struct {
	AccessKeyMetadata awsapi.Members[xmlAccessKeyMetadata] `xml:"AccessKeyMetadata"`
	listResult
}

func handleListAccessKeys(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:ListAccessKeys", name, nil); err != nil {
			return nil, err
		}
		keys, err := svc.ListAccessKeys(ctx, name)
		if err != nil {
			return nil, err
		}
		page, more, next, err := pageOf(r.Params, keys)
		if err != nil {
			return nil, err
		}
		out := &listAccessKeysResult{AccessKeyMetadata: awsapi.Members[xmlAccessKeyMetadata]{}, listResult: listResult{more, next}}
		for _, k := range page {
			out.AccessKeyMetadata = append(out.AccessKeyMetadata, xmlAccessKeyMetadata{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: awsapi.Time(k.CreateDate)})
		}
		return out, nil
	}
}

func handleUpdateAccessKey(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, "AccessKeyId", "Status")
		if err != nil {
			return nil, err
		}
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:UpdateAccessKey", name, nil); err != nil {
			return nil, err
		}
		return nil, svc.UpdateAccessKey(ctx, name, v[0], v[1])
	}
}

func handleDeleteAccessKey(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		akid, err := r.Params.Required("AccessKeyId")
		if err != nil {
			return nil, err
		}
		name, err := userNameOrCaller(r)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindUser, "iam:DeleteAccessKey", name, nil); err != nil {
			return nil, err
		}
		return nil, svc.DeleteAccessKey(ctx, name, akid)
	}
}

type xmlAccessKeyLastUsed struct {
	LastUsedDate *awsapi.Time `xml:"LastUsedDate,omitempty"`
	ServiceName  string       `xml:"ServiceName"`
	Region       string       `xml:"Region"`
}

type getAccessKeyLastUsedResult struct {
	UserName          string               `xml:"UserName"`
	AccessKeyLastUsed xmlAccessKeyLastUsed `xml:"AccessKeyLastUsed"`
}

func handleGetAccessKeyLastUsed(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		akid, err := r.Params.Required("AccessKeyId")
		if err != nil {
			return nil, err
		}
		// The resource is the key's owner; for an unknown key there is
		// none, and only a caller allowed on every resource learns so.
		resource := "*"
		owner, err := svc.AccessKeyOwner(ctx, akid)
		switch {
		case err == nil:
			resource = owner.ARN
		case !errors.Is(err, iam.ErrNoSuchEntity):
			return nil, err
		}
		if err := r.Authorize(ctx, "iam:GetAccessKeyLastUsed", resource, nil); err != nil {
			return nil, err
		}
		lu, err := svc.GetAccessKeyLastUsed(ctx, akid)
		if err != nil {
			return nil, err
		}
		out := &getAccessKeyLastUsedResult{UserName: lu.UserName, AccessKeyLastUsed: xmlAccessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}}
		if lu.Used {
			t := awsapi.Time(lu.Date)
			out.AccessKeyLastUsed = xmlAccessKeyLastUsed{LastUsedDate: &t, ServiceName: lu.Service, Region: lu.Region}
		}
		return out, nil
	}
}
