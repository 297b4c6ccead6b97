package iamapi

import (
	"context"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

type roleResult struct {
	Role xmlRole `xml:"Role"`
}

func handleCreateRole(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		v, err := required(p, "RoleName", "AssumeRolePolicyDocument")
		if err != nil {
			return nil, err
		}
		if err := refuseBoundary(p); err != nil {
			return nil, err
		}
		maxSession, err := p.Int("MaxSessionDuration", 3600, 3600, 43200)
		if err != nil {
			return nil, err
		}
		in := iam.CreateRoleInput{
			Name: v[0], Path: p.String("Path"), AssumeRolePolicyDocument: v[1],
			Description: p.String("Description"), MaxSessionDuration: int32(maxSession), Tags: tagsParam(p),
		}
		if err := r.Authorize(ctx, "iam:CreateRole", svc.RoleARN(arnPath(in.Path), in.Name), tagConditionKeys(in.Tags)); err != nil {
			return nil, err
		}
		role, err := svc.CreateRole(ctx, in)
		if err != nil {
			return nil, err
		}
		x := roleXML(role, true)
		if !p.Has("MaxSessionDuration") {
			x.MaxSessionDuration = 0 // IAM's CreateRole echoes it only when given
		}
		return &roleResult{Role: x}, nil
	}
}

func handleGetRole(svc *iam.Service) rpc.Handler {
	get := func(ctx context.Context, name string) (xmlRole, error) {
		role, err := svc.GetRole(ctx, name)
		if err != nil {
			return xmlRole{}, err
		}
		x := roleXML(role, true)
		x.RoleLastUsed = &xmlRoleLastUsed{}
		lu, err := svc.GetRoleLastUsed(ctx, role.ID)
		if err != nil {
			return xmlRole{}, err
		}
		if lu != nil {
			t := awsapi.Time(lu.Date)
			x.RoleLastUsed = &xmlRoleLastUsed{LastUsedDate: &t, Region: lu.Region}
		}
		return x, nil
	}
	return handleGet(entityTarget(svc, iam.KindRole), "iam:GetRole", get, func(x xmlRole) *roleResult { return &roleResult{Role: x} })
}

type listRolesResult struct {
	Roles awsapi.Members[xmlRole] `xml:"Roles"`
	listResult
}

func handleListRoles(svc *iam.Service) rpc.Handler {
	return handleListByPath(svc, "iam:ListRoles", "role", svc.ListRoles, func(page []iam.Role, lr listResult) any {
		return &listRolesResult{Roles: membersOf(page, roleSummary), listResult: lr}
	})
}

// roleSummary is a role as ListRoles writes it: without tags.
func roleSummary(r *iam.Role) xmlRole { return roleXML(r, false) }

type updateRoleResult struct{}

func handleUpdateRole(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		name, err := p.Required("RoleName")
		if err != nil {
			return nil, err
		}
		var desc *string
		if d, ok := p.Lookup("Description"); ok {
			desc = &d
		}
		maxSession, err := p.Int("MaxSessionDuration", 0, 3600, 43200)
		if err != nil {
			return nil, err
		}
		if err := authorizeEntity(ctx, r, svc, iam.KindRole, "iam:UpdateRole", name, nil); err != nil {
			return nil, err
		}
		if err := svc.UpdateRole(ctx, name, desc, int32(maxSession)); err != nil {
			return nil, err
		}
		return &updateRoleResult{}, nil
	}
}

func handleUpdateAssumeRolePolicy(svc *iam.Service) rpc.Handler {
	return handlePairOp(entityAuthorizer(svc, iam.KindRole), "iam:UpdateAssumeRolePolicy", nil, [2]string{"RoleName", "PolicyDocument"}, svc.UpdateAssumeRolePolicy)
}
