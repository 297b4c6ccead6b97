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
// type as an iamResource.

// iamResource is one IAM resource type as those handlers see it. Each
// operation's action is "iam:" + verb + noun ("iam:TagRole",
// "iam:ListRoleTags"). A type without tags leaves the tag functions nil.
type iamResource struct {
	noun string         // "User", "Group", "Role", "OpenIDConnectProvider"
	kind iam.EntityKind // of a user, group or role
	// target reads the resource's name (or ARN) from the request and
	// authorizes action on the resource.
	target func(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error)
	del    func(ctx context.Context, name string) error
	tags   func(ctx context.Context, name string) ([]iam.Tag, error)
	tag    func(ctx context.Context, name string, tags []iam.Tag) error
	untag  func(ctx context.Context, name string, keys []string) error
}

func iamUsers(svc *iam.Service) *iamResource {
	return &iamResource{
		noun: "User", kind: iam.KindUser, target: namedTarget(svc, iam.KindUser, "UserName"), del: svc.DeleteUser,
		tags: namedTags(svc, iam.KindUser), tag: svc.TagUser, untag: svc.UntagUser,
	}
}

func iamGroups(svc *iam.Service) *iamResource {
	return &iamResource{noun: "Group", kind: iam.KindGroup, target: namedTarget(svc, iam.KindGroup, "GroupName"), del: svc.DeleteGroup}
}

func iamRoles(svc *iam.Service) *iamResource {
	return &iamResource{
		noun: "Role", kind: iam.KindRole, target: namedTarget(svc, iam.KindRole, "RoleName"), del: svc.DeleteRole,
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

// namedTarget reads a user's, group's or role's name from the parameter
// and authorizes the action on it (authorizeEntity).
func namedTarget(svc *iam.Service, kind iam.EntityKind, param string) func(context.Context, *rpc.Request, string, map[string][]string) (string, error) {
	return func(ctx context.Context, r *rpc.Request, action string, keys map[string][]string) (string, error) {
		name, err := r.Params.Required(param)
		if err != nil {
			return "", err
		}
		return name, authorizeEntity(ctx, r, svc, kind, action, name, keys)
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
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := res.target(ctx, r, "iam:Delete"+res.noun, nil)
		if err != nil {
			return nil, err
		}
		return nil, res.del(ctx, name)
	}
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
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := res.target(ctx, r, "iam:List"+res.noun+"Tags", nil)
		if err != nil {
			return nil, err
		}
		tags, err := res.tags(ctx, name)
		if err != nil {
			return nil, err
		}
		return listPage(r.Params, tags, func(page []iam.Tag, lr listResult) any {
			return &listTagsResult{Tags: allTagsXML(page), listResult: lr}
		})
	}
}
