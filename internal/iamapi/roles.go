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
	read := func(p *awsapi.Params) (iam.CreateRoleInput, error) {
		v, err := required(p, "RoleName", "AssumeRolePolicyDocument")
		if err != nil {
			return iam.CreateRoleInput{}, err
		}
		if err := refuseBoundary(p); err != nil {
			return iam.CreateRoleInput{}, err
		}
		maxSession, err := p.Int("MaxSessionDuration", 3600, 3600, 43200)
		return iam.CreateRoleInput{
			Name: v[0], Path: p.String("Path"), AssumeRolePolicyDocument: v[1],
			Description: p.String("Description"), MaxSessionDuration: int32(maxSession), Tags: tagsParam(p),
		}, err
	}
	resource := func(in *iam.CreateRoleInput) (string, []iam.Tag) {
		return svc.RoleARN(arnPath(in.Path), in.Name), in.Tags
	}
	return handleCreate("iam:CreateRole", read, resource, svc.CreateRole, func(p *awsapi.Params, role *iam.Role) *roleResult {
		x := roleXML(role, true)
		if !p.Has("MaxSessionDuration") {
			x.MaxSessionDuration = 0 // IAM's CreateRole echoes it only when given
		}
		return &roleResult{Role: x}
	})
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
