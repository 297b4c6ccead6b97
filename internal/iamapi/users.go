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
	read := func(p *awsapi.Params) (iam.CreateUserInput, error) {
		name, err := p.Required("UserName")
		if err != nil {
			return iam.CreateUserInput{}, err
		}
		return iam.CreateUserInput{Name: name, Path: p.String("Path"), Tags: tagsParam(p)}, refuseBoundary(p)
	}
	resource := func(in *iam.CreateUserInput) (string, []iam.Tag) {
		return svc.UserARN(arnPath(in.Path), in.Name), in.Tags
	}
	return handleCreate("iam:CreateUser", read, resource, svc.CreateUser, func(_ *awsapi.Params, u *iam.User) *userResult { return userDetail(u) })
}

// userDetail is the result of CreateUser and GetUser.
func userDetail(u *iam.User) *userResult { return &userResult{User: userXML(u, true)} }

func handleGetUser(svc *iam.Service) rpc.Handler {
	return handleGet(userTarget(svc), "iam:GetUser", svc.GetUser, userDetail)
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
	return handleGet(userTarget(svc), "iam:CreateAccessKey", svc.CreateAccessKey, func(k *iam.AccessKey) *createAccessKeyResult {
		// The one response that carries a long-term secret.
		return &createAccessKeyResult{AccessKey: xmlAccessKey{
			UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, SecretAccessKey: k.Secret, CreateDate: awsapi.Time(k.CreateDate),
		}}
	})
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
	return handleList(userTarget(svc), "iam:ListAccessKeys", svc.ListAccessKeys, func(page []iam.AccessKey, lr listResult) any {
		return &listAccessKeysResult{AccessKeyMetadata: membersOf(page, accessKeyMetadataXML), listResult: lr}
	})
}

func accessKeyMetadataXML(k *iam.AccessKey) xmlAccessKeyMetadata {
	return xmlAccessKeyMetadata{UserName: k.UserName, AccessKeyID: k.ID, Status: k.Status, CreateDate: awsapi.Time(k.CreateDate)}
}

// UpdateAccessKey and DeleteAccessKey read the key's members before its
// user (userTarget).

func handleUpdateAccessKey(svc *iam.Service) rpc.Handler {
	return handleMembersOp(userTarget(svc), "iam:UpdateAccessKey", func(ctx context.Context, user string, v []string) error {
		return svc.UpdateAccessKey(ctx, user, v[0], v[1])
	}, "AccessKeyId", "Status")
}

func handleDeleteAccessKey(svc *iam.Service) rpc.Handler {
	return handleMembersOp(userTarget(svc), "iam:DeleteAccessKey", func(ctx context.Context, user string, v []string) error {
		return svc.DeleteAccessKey(ctx, user, v[0])
	}, "AccessKeyId")
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

// keyOwnerAuthorizer authorizes on the owner of the access key named: for
// an unknown key there is none, and only a caller allowed on every
// resource learns so.
func keyOwnerAuthorizer(svc *iam.Service) authorizer {
	return func(ctx context.Context, r *rpc.Request, action, akid string, keys map[string][]string) error {
		resource := "*"
		owner, err := svc.AccessKeyOwner(ctx, akid)
		switch {
		case err == nil:
			resource = owner.ARN
		case !errors.Is(err, iam.ErrNoSuchEntity):
			return err
		}
		return r.Authorize(ctx, action, resource, keys)
	}
}

func handleGetAccessKeyLastUsed(svc *iam.Service) rpc.Handler {
	t := paramTarget("AccessKeyId", keyOwnerAuthorizer(svc))
	return handleGet(t, "iam:GetAccessKeyLastUsed", svc.GetAccessKeyLastUsed, func(lu *iam.KeyLastUsed) *getAccessKeyLastUsedResult {
		out := &getAccessKeyLastUsedResult{UserName: lu.UserName, AccessKeyLastUsed: xmlAccessKeyLastUsed{ServiceName: "N/A", Region: "N/A"}}
		if lu.Used {
			t := awsapi.Time(lu.Date)
			out.AccessKeyLastUsed = xmlAccessKeyLastUsed{LastUsedDate: &t, ServiceName: lu.Service, Region: lu.Region}
		}
		return out
	})
}
