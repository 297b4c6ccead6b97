package iamapi

import (
	"context"
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// The operations that several IAM resource types share (Delete, Tag,
// Untag, List...Tags) have one handler each, given what it needs of the
// type as an iamResource. Below them, the handlers of one shape (read,
// list, act on, create) serve every operation that has it, given how the
// operation reads and authorizes its resource: a target.

// iamResource is one IAM resource type as those handlers see it. Each
// operation's action is "iam:" + verb + noun ("iam:TagRole",
// "iam:ListRoleTags"). A type without tags leaves the tag functions nil.
type iamResource struct {
	noun   string         // "User", "Group", "Role", "OpenIDConnectProvider"
	kind   iam.EntityKind // of a user, group or role
	target target
	del    func(ctx context.Context, name string) error
	tags   func(ctx context.Context, name string) ([]iam.Tag, error)
	tag    func(ctx context.Context, name string, tags []iam.Tag) error
	untag  func(ctx context.Context, name string, keys []string) error
}

func iamUsers(svc *iam.Service) *iamResource {
	return &iamResource{
		noun: "User", kind: iam.KindUser, target: entityTarget(svc, iam.KindUser), del: svc.DeleteUser,
		tags: namedTags(svc, iam.KindUser), tag: svc.TagUser, untag: svc.UntagUser,
	}
}

func iamGroups(svc *iam.Service) *iamResource {
	return &iamResource{noun: "Group", kind: iam.KindGroup, target: entityTarget(svc, iam.KindGroup), del: svc.DeleteGroup}
}

func iamRoles(svc *iam.Service) *iamResource {
	return &iamResource{
		noun: "Role", kind: iam.KindRole, target: entityTarget(svc, iam.KindRole), del: svc.DeleteRole,
		tags: namedTags(svc, iam.KindRole), tag: svc.TagRole, untag: svc.UntagRole,
	}
}

// iamOIDCProviders: the resource is named by its ARN (providerARNParam).
func iamOIDCProviders(svc *iam.Service) *iamResource {
	return &iamResource{
		noun: "OpenIDConnectProvider", target: providerARNParam, del: svc.DeleteOpenIDConnectProvider,
		tags: func(ctx context.Context, arn string) ([]iam.Tag, error) {
			prov, err := svc.GetOpenIDConnectProvider(ctx, arn)
			if err != nil {
				return nil, err
			}
			return prov.Tags, nil
		},
		tag: svc.TagOpenIDConnectProvider, untag: svc.UntagOpenIDConnectProvider,
	}
}

// namedTags reads the tags of a user or role.
func namedTags(svc *iam.Service, kind iam.EntityKind) func(context.Context, string) ([]iam.Tag, error) {
	return func(ctx context.Context, name string) ([]iam.Tag, error) { return svc.EntityTags(ctx, kind, name) }
}

// --- targets ---------------------------------------------------------------------

// A target reads the name (or ARN) of the resource an operation is on from
// the request and authorizes action on the resource, with the condition
// keys keys.
type target func(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error)

// An authorizer authorizes action on the resource named name.
type authorizer func(ctx context.Context, r *rpc.Request, action, name string, keys map[string][]string) error

// entityAuthorizer authorizes on a user, group or role (authorizeEntity).
func entityAuthorizer(svc *iam.Service, kind iam.EntityKind) authorizer {
	return func(ctx context.Context, r *rpc.Request, action, name string, keys map[string][]string) error {
		return authorizeEntity(ctx, r, svc, kind, action, name, keys)
	}
}

// policyAuthorizer authorizes on a managed policy (authorizePolicy).
func policyAuthorizer(svc *iam.Service) authorizer {
	return func(ctx context.Context, r *rpc.Request, action, name string, keys map[string][]string) error {
		return authorizePolicy(ctx, r, svc, action, name, keys)
	}
}

// authorizeAsGiven authorizes on the name as the request gives it.
func authorizeAsGiven(ctx context.Context, r *rpc.Request, action, name string, keys map[string][]string) error {
	return r.Authorize(ctx, action, name, keys)
}

// paramTarget reads the resource's name from the required member param and
// authorizes with auth.
func paramTarget(param string, auth authorizer) target {
	return func(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error) {
		name, err := r.Params.Required(param)
		if err != nil {
			return "", err
		}
		return name, auth(ctx, r, action, name, keys)
	}
}

// entityTarget is a user, group or role named by its member (entityParam).
func entityTarget(svc *iam.Service, kind iam.EntityKind) target {
	return paramTarget(entityParam(kind), entityAuthorizer(svc, kind))
}

// policyTarget is a managed policy named by PolicyArn.
func policyTarget(svc *iam.Service) target {
	return paramTarget("PolicyArn", policyAuthorizer(svc))
}

// userTarget is the user of an operation on one's own user: UserName, or
// the caller (userNameOrCaller).
func userTarget(svc *iam.Service) target {
	auth := entityAuthorizer(svc, iam.KindUser)
	return func(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error) {
		name, err := userNameOrCaller(r)
		if err != nil {
			return "", err
		}
		return name, auth(ctx, r, action, name, keys)
	}
}

// authorizeEntity authorizes an action on a user, group or role. The
// resource is the entity's ARN; for one that does not exist it is built
// with the default path, and the caller learns that it does not exist only
// if authorized.
func authorizeEntity(ctx context.Context, r *rpc.Request, svc *iam.Service, kind iam.EntityKind, action, name string, keys map[string][]string) error {
	arn, err := svc.EntityARN(ctx, kind, name)
	if err != nil && !errors.Is(err, iam.ErrNoSuchEntity) {
		return err
	}
	return r.Authorize(ctx, action, arn, keys)
}

// authorizedArgs reads the required members params, the first of which
// names the resource, and authorizes action on that resource with auth and
// the condition keys that keys (if not nil) makes of the members.
func authorizedArgs(ctx context.Context, r *rpc.Request, auth authorizer, action string, keys func(v []string) map[string][]string, params ...string) ([]string, error) {
	v, err := required(r.Params, params...)
	if err != nil {
		return nil, err
	}
	var k map[string][]string
	if keys != nil {
		k = keys(v)
	}
	return v, auth(ctx, r, action, v[0], k)
}

// --- handlers of one shape -----------------------------------------------------------

// handleRead is an operation that reads what read returns of its target
// and answers with what result makes of it and the request's parameters.
func handleRead[T any](t target, action string, read func(ctx context.Context, name string) (T, error), result func(p *awsapi.Params, v T) (any, error)) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := t(ctx, r, action, nil)
		if err != nil {
			return nil, err
		}
		v, err := read(ctx, name)
		if err != nil {
			return nil, err
		}
		return result(r.Params, v)
	}
}

// handleGet is handleRead answering with one result.
func handleGet[T, R any](t target, action string, get func(ctx context.Context, name string) (T, error), result func(v T) R) rpc.Handler {
	return handleRead(t, action, get, func(_ *awsapi.Params, v T) (any, error) { return result(v), nil })
}

// handleList is handleRead answering with the request's page of a list.
func handleList[T any](t target, action string, list func(ctx context.Context, name string) ([]T, error), result func(page []T, lr listResult) any) rpc.Handler {
	return handleRead(t, action, list, func(p *awsapi.Params, items []T) (any, error) { return listPage(p, items, result) })
}

// handleCreate is a Create operation. read reads the request into the
// service's input, of which resource names the new resource's ARN and the
// tags it is created with: the action is authorized on that ARN with the
// tags' condition keys. create then makes the resource, and result answers
// with it.
func handleCreate[In, T, R any](action string, read func(p *awsapi.Params) (In, error), resource func(in *In) (arn string, tags []iam.Tag), create func(ctx context.Context, in In) (T, error), result func(p *awsapi.Params, v T) R) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		in, err := read(r.Params)
		if err != nil {
			return nil, err
		}
		arn, tags := resource(&in)
		if err := r.Authorize(ctx, action, arn, tagConditionKeys(tags)); err != nil {
			return nil, err
		}
		v, err := create(ctx, in)
		if err != nil {
			return nil, err
		}
		return result(r.Params, v), nil
	}
}

// namedInput is the input of CreateGroup and CreateVirtualMFADevice: a
// name, a path and tags.
type namedInput struct {
	name, path string
	tags       []iam.Tag
}

// readNamed reads a namedInput whose name is the required member param.
func readNamed(param string) func(p *awsapi.Params) (namedInput, error) {
	return func(p *awsapi.Params) (namedInput, error) {
		name, err := p.Required(param)
		return namedInput{name: name, path: p.String("Path"), tags: tagsParam(p)}, err
	}
}

// handleAct is an operation with no result on its target.
func handleAct(t target, action string, act func(ctx context.Context, name string) error) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := t(ctx, r, action, nil)
		if err != nil {
			return nil, err
		}
		return nil, act(ctx, name)
	}
}

// handleMembersOp is an operation with no result that reads its required
// members params before its target, and gives op the target's name and
// the members' values.
func handleMembersOp(t target, action string, op func(ctx context.Context, name string, v []string) error, params ...string) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, params...)
		if err != nil {
			return nil, err
		}
		name, err := t(ctx, r, action, nil)
		if err != nil {
			return nil, err
		}
		return nil, op(ctx, name, v)
	}
}

// handlePairOp is an operation with no result on two required members:
// the first names the resource, authorized with auth (and the condition
// keys that keys, if not nil, makes of the members), the second is what
// op does with it.
func handlePairOp(auth authorizer, action string, keys func(v []string) map[string][]string, params [2]string, op func(ctx context.Context, name, arg string) error) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := authorizedArgs(ctx, r, auth, action, keys, params[:]...)
		if err != nil {
			return nil, err
		}
		return nil, op(ctx, v[0], v[1])
	}
}

// handleRename is UpdateUser and UpdateGroup: a rename (New...Name) and/or
// a move (NewPath). A rename needs the permission on the new name too, as
// in IAM.
func handleRename(svc *iam.Service, res *iamResource, update func(ctx context.Context, name, newName, newPath string) error) rpc.Handler {
	action := "iam:Update" + res.noun
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := res.target(ctx, r, action, nil)
		if err != nil {
			return nil, err
		}
		newName, newPath := r.Params.String("New"+res.noun+"Name"), r.Params.String("NewPath")
		if newName != "" || newPath != "" {
			arn, err := svc.RenamedARN(ctx, res.kind, name, newName, newPath)
			if err != nil {
				return nil, err
			}
			if err := r.Authorize(ctx, action, arn, nil); err != nil {
				return nil, err
			}
		}
		return nil, update(ctx, name, newName, newPath)
	}
}

func handleDelete(res *iamResource) rpc.Handler {
	return handleAct(res.target, "iam:Delete"+res.noun, res.del)
}

func handleTag(res *iamResource) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		tags := tagsParam(r.Params)
		name, err := res.target(ctx, r, "iam:Tag"+res.noun, tagConditionKeys(tags))
		if err != nil {
			return nil, err
		}
		return nil, res.tag(ctx, name, tags)
	}
}

func handleUntag(res *iamResource) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		keys := r.Params.Strings("TagKeys")
		var cond map[string][]string
		if len(keys) > 0 {
			cond = map[string][]string{"aws:TagKeys": keys}
		}
		name, err := res.target(ctx, r, "iam:Untag"+res.noun, cond)
		if err != nil {
			return nil, err
		}
		return nil, res.untag(ctx, name, keys)
	}
}

type listTagsResult struct {
	Tags awsapi.Members[awsapi.Tag] `xml:"Tags"`
	listResult
}

func handleListTags(res *iamResource) rpc.Handler {
	return handleList(res.target, "iam:List"+res.noun+"Tags", res.tags, func(page []iam.Tag, lr listResult) any {
		return &listTagsResult{Tags: allTagsXML(page), listResult: lr}
	})
}
