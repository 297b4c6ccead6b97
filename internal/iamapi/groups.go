package iamapi

import (
	"context"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

type groupResult struct {
	Group xmlGroup `xml:"Group"`
}

// handleCreateGroup: a group has no tags; the request's are ignored.
func handleCreateGroup(svc *iam.Service) rpc.Handler {
	resource := func(in *namedInput) (string, []iam.Tag) { return svc.GroupARN(arnPath(in.path), in.name), nil }
	create := func(ctx context.Context, in namedInput) (*iam.Group, error) {
		return svc.CreateGroup(ctx, in.name, in.path)
	}
	return handleCreate("iam:CreateGroup", readNamed("GroupName"), resource, create, func(_ *awsapi.Params, g *iam.Group) *groupResult {
		return &groupResult{Group: groupXML(g)}
	})
}

type getGroupResult struct {
	Group xmlGroup                `xml:"Group"`
	Users awsapi.Members[xmlUser] `xml:"Users"`
	listResult
}

func handleGetGroup(svc *iam.Service) rpc.Handler {
	t := entityTarget(svc, iam.KindGroup)
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := t(ctx, r, "iam:GetGroup", nil)
		if err != nil {
			return nil, err
		}
		g, users, err := svc.GetGroup(ctx, name)
		if err != nil {
			return nil, err
		}
		return listPage(r.Params, users, func(page []iam.User, lr listResult) any {
			return &getGroupResult{Group: groupXML(g), Users: usersXML(page), listResult: lr}
		})
	}
}

type listGroupsResult struct {
	Groups awsapi.Members[xmlGroup] `xml:"Groups"`
	listResult
}

func handleListGroups(svc *iam.Service) rpc.Handler {
	return handleListByPath(svc, "iam:ListGroups", "group", svc.ListGroups, groupsResult)
}

func groupsResult(page []iam.Group, lr listResult) any {
	return &listGroupsResult{Groups: groupsXML(page), listResult: lr}
}

// handleMembership is AddUserToGroup and RemoveUserFromGroup: authorized
// on the group.
func handleMembership(svc *iam.Service, action string, change func(ctx context.Context, group, user string) error) rpc.Handler {
	return handlePairOp(entityAuthorizer(svc, iam.KindGroup), action, nil, [2]string{"GroupName", "UserName"}, change)
}

func handleListGroupsForUser(svc *iam.Service) rpc.Handler {
	return handleList(entityTarget(svc, iam.KindUser), "iam:ListGroupsForUser", svc.ListGroupsForUser, groupsResult)
}
