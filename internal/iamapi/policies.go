package iamapi

import (
	"context"
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// entityParam is the request member naming the principal of an operation
// on user, group or role policies.
func entityParam(kind iam.EntityKind) string {
	switch kind {
	case iam.KindUser:
		return "UserName"
	case iam.KindGroup:
		return "GroupName"
	}
	return "RoleName"
}

// entityWord is the word in the operation names: PutUserPolicy, …
func entityWord(kind iam.EntityKind) string {
	switch kind {
	case iam.KindUser:
		return "User"
	case iam.KindGroup:
		return "Group"
	}
	return "Role"
}

// entityArgs reads the name of the user, group or role (entityParam) and
// the other required members, in that order, and authorizes action on the
// entity, with the condition keys that keys (if not nil) makes of them.
func entityArgs(ctx context.Context, r *rpc.Request, svc *iam.Service, kind iam.EntityKind, action string, keys func(v []string) map[string][]string, members ...string) ([]string, error) {
	v, err := required(r.Params, append([]string{entityParam(kind)}, members...)...)
	if err != nil {
		return nil, err
	}
	var k map[string][]string
	if keys != nil {
		k = keys(v)
	}
	return v, authorizeEntity(ctx, r, svc, kind, action, v[0], k)
}

// policyARNKey is the condition key of attaching and detaching: the
// policy's ARN (the second member).
func policyARNKey(v []string) map[string][]string {
	return map[string][]string{"iam:PolicyARN": {v[1]}}
}

// --- inline policies -----------------------------------------------------------

func handlePutInlinePolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:Put" + entityWord(kind) + "Policy"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, nil, "PolicyName", "PolicyDocument")
		if err != nil {
			return nil, err
		}
		return nil, svc.PutInlinePolicy(ctx, kind, v[0], v[1], v[2])
	}
}

// getInlinePolicyResult is GetUserPolicyResult, GetGroupPolicyResult or
// GetRolePolicyResult: exactly one of the entity names is set.
type getInlinePolicyResult struct {
	UserName       string `xml:"UserName,omitempty"`
	GroupName      string `xml:"GroupName,omitempty"`
	RoleName       string `xml:"RoleName,omitempty"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"`
}

func handleGetInlinePolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:Get" + entityWord(kind) + "Policy"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, nil, "PolicyName")
		if err != nil {
			return nil, err
		}
		ip, err := svc.GetInlinePolicy(ctx, kind, v[0], v[1])
		if err != nil {
			return nil, err
		}
		out := &getInlinePolicyResult{PolicyName: ip.Name, PolicyDocument: encodeDocument(ip.Document)}
		switch kind {
		case iam.KindUser:
			out.UserName = ip.EntityName
		case iam.KindGroup:
			out.GroupName = ip.EntityName
		default:
			out.RoleName = ip.EntityName
		}
		return out, nil
	}
}

type listPolicyNamesResult struct {
	PolicyNames awsapi.Members[string] `xml:"PolicyNames"`
	listResult
}

func handleListInlinePolicies(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:List" + entityWord(kind) + "Policies"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, nil)
		if err != nil {
			return nil, err
		}
		name := v[0]
		names, err := svc.ListInlinePolicies(ctx, kind, name)
		if err != nil {
			return nil, err
		}
		page, more, next, err := pageOf(r.Params, names)
		if err != nil {
			return nil, err
		}
		return &listPolicyNamesResult{PolicyNames: append(awsapi.Members[string]{}, page...), listResult: listResult{more, next}}, nil
	}
}

func handleDeleteInlinePolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:Delete" + entityWord(kind) + "Policy"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, nil, "PolicyName")
		if err != nil {
			return nil, err
		}
		return nil, svc.DeleteInlinePolicy(ctx, kind, v[0], v[1])
	}
}

// --- managed policies ------------------------------------------------------------

// xmlPolicy is botocore's Policy shape.
type xmlPolicy struct {
	PolicyName                    string                     `xml:"PolicyName"`
	PolicyID                      string                     `xml:"PolicyId"`
	Arn                           string                     `xml:"Arn"`
	Path                          string                     `xml:"Path"`
	DefaultVersionID              string                     `xml:"DefaultVersionId"`
	AttachmentCount               int                        `xml:"AttachmentCount"`
	PermissionsBoundaryUsageCount int                        `xml:"PermissionsBoundaryUsageCount"`
	IsAttachable                  bool                       `xml:"IsAttachable"`
	Description                   string                     `xml:"Description,omitempty"`
	CreateDate                    awsapi.Time                `xml:"CreateDate"`
	UpdateDate                    awsapi.Time                `xml:"UpdateDate"`
	Tags                          awsapi.Members[awsapi.Tag] `xml:"Tags,omitempty"`
}

func policyXML(p *iam.ManagedPolicy, detail bool) xmlPolicy {
	x := xmlPolicy{
		PolicyName: p.Name, PolicyID: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
		AttachmentCount: p.AttachmentCount, IsAttachable: true,
		CreateDate: awsapi.Time(p.CreateDate), UpdateDate: awsapi.Time(p.UpdateDate),
	}
	if detail {
		x.Description = p.Description
		x.Tags = tagsXML(p.Tags)
	}
	return x
}

type policyResult struct {
	Policy xmlPolicy `xml:"Policy"`
}

// authorizePolicy authorizes an action on a managed policy. The resource
// is the policy's ARN as stored, or as given if there is none.
func authorizePolicy(ctx context.Context, r *rpc.Request, svc *iam.Service, action, policyARN string) error {
	resource := policyARN
	p, err := svc.GetPolicy(ctx, policyARN)
	switch {
	case err == nil:
		resource = p.ARN
	case errors.Is(err, iam.ErrNoSuchEntity):
	default:
		return err
	}
	return r.Authorize(ctx, action, resource, nil)
}

func handleCreatePolicy(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		v, err := required(p, "PolicyName", "PolicyDocument")
		if err != nil {
			return nil, err
		}
		in := iam.CreatePolicyInput{Name: v[0], Document: v[1], Path: p.String("Path"), Description: p.String("Description"), Tags: tagsParam(p)}
		arnPath := in.Path
		if arnPath == "" {
			arnPath = "/"
		}
		if err := r.Authorize(ctx, "iam:CreatePolicy", svc.PolicyARN(arnPath, in.Name), tagConditionKeys(in.Tags)); err != nil {
			return nil, err
		}
		mp, err := svc.CreatePolicy(ctx, in)
		if err != nil {
			return nil, err
		}
		return &policyResult{Policy: policyXML(mp, true)}, nil
	}
}

func handleGetPolicy(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		arn, err := r.Params.Required("PolicyArn")
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:GetPolicy", arn); err != nil {
			return nil, err
		}
		mp, err := svc.GetPolicy(ctx, arn)
		if err != nil {
			return nil, err
		}
		return &policyResult{Policy: policyXML(mp, true)}, nil
	}
}

type listPoliciesResult struct {
	Policies awsapi.Members[xmlPolicy] `xml:"Policies"`
	listResult
}

func handleListPolicies(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		onlyAttached, err := p.Bool("OnlyAttached", false)
		if err != nil {
			return nil, err
		}
		usage := p.String("PolicyUsageFilter")
		switch usage {
		case "", "PermissionsPolicy", "PermissionsBoundary":
		default:
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", rpc.SafeText(usage))
		}
		in := iam.ListPoliciesInput{Scope: p.String("Scope"), OnlyAttached: onlyAttached, PathPrefix: p.String("PathPrefix")}
		if err := r.Authorize(ctx, "iam:ListPolicies", listResource(svc, "policy", in.PathPrefix), nil); err != nil {
			return nil, err
		}
		var policies []iam.ManagedPolicy
		if usage != "PermissionsBoundary" { // no policy is used as a boundary here
			if policies, err = svc.ListPolicies(ctx, in); err != nil {
				return nil, err
			}
		}
		page, more, next, err := pageOf(p, policies)
		if err != nil {
			return nil, err
		}
		out := &listPoliciesResult{Policies: make(awsapi.Members[xmlPolicy], len(page)), listResult: listResult{more, next}}
		for i := range page {
			out.Policies[i] = policyXML(&page[i], false)
		}
		return out, nil
	}
}

func handleDeletePolicy(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		arn, err := r.Params.Required("PolicyArn")
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:DeletePolicy", arn); err != nil {
			return nil, err
		}
		return nil, svc.DeletePolicy(ctx, arn)
	}
}

// xmlPolicyVersion is botocore's PolicyVersion shape; Document is
// URL-encoded and only GetPolicyVersion sends it.
type xmlPolicyVersion struct {
	Document         string      `xml:"Document,omitempty"`
	VersionID        string      `xml:"VersionId"`
	IsDefaultVersion bool        `xml:"IsDefaultVersion"`
	CreateDate       awsapi.Time `xml:"CreateDate"`
}

func versionXML(v *iam.PolicyVersion, withDocument bool) xmlPolicyVersion {
	x := xmlPolicyVersion{VersionID: v.VersionID, IsDefaultVersion: v.IsDefault, CreateDate: awsapi.Time(v.CreateDate)}
	if withDocument {
		x.Document = encodeDocument(v.Document)
	}
	return x
}

type policyVersionResult struct {
	PolicyVersion xmlPolicyVersion `xml:"PolicyVersion"`
}

func handleCreatePolicyVersion(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, "PolicyArn", "PolicyDocument")
		if err != nil {
			return nil, err
		}
		setDefault, err := r.Params.Bool("SetAsDefault", false)
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:CreatePolicyVersion", v[0]); err != nil {
			return nil, err
		}
		pv, err := svc.CreatePolicyVersion(ctx, v[0], v[1], setDefault)
		if err != nil {
			return nil, err
		}
		return &policyVersionResult{PolicyVersion: versionXML(pv, false)}, nil
	}
}

func handleGetPolicyVersion(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, "PolicyArn", "VersionId")
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:GetPolicyVersion", v[0]); err != nil {
			return nil, err
		}
		pv, err := svc.GetPolicyVersion(ctx, v[0], v[1])
		if err != nil {
			return nil, err
		}
		return &policyVersionResult{PolicyVersion: versionXML(pv, true)}, nil
	}
}

type listPolicyVersionsResult struct {
	Versions awsapi.Members[xmlPolicyVersion] `xml:"Versions"`
	listResult
}

func handleListPolicyVersions(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		arn, err := r.Params.Required("PolicyArn")
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:ListPolicyVersions", arn); err != nil {
			return nil, err
		}
		versions, err := svc.ListPolicyVersions(ctx, arn)
		if err != nil {
			return nil, err
		}
		page, more, next, err := pageOf(r.Params, versions)
		if err != nil {
			return nil, err
		}
		out := &listPolicyVersionsResult{Versions: make(awsapi.Members[xmlPolicyVersion], len(page)), listResult: listResult{more, next}}
		for i := range page {
			out.Versions[i] = versionXML(&page[i], false)
		}
		return out, nil
	}
}

func handleDeletePolicyVersion(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, "PolicyArn", "VersionId")
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:DeletePolicyVersion", v[0]); err != nil {
			return nil, err
		}
		return nil, svc.DeletePolicyVersion(ctx, v[0], v[1])
	}
}

func handleSetDefaultPolicyVersion(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := required(r.Params, "PolicyArn", "VersionId")
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:SetDefaultPolicyVersion", v[0]); err != nil {
			return nil, err
		}
		return nil, svc.SetDefaultPolicyVersion(ctx, v[0], v[1])
	}
}

// --- attachments -------------------------------------------------------------------

func handleAttachPolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:Attach" + entityWord(kind) + "Policy"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, policyARNKey, "PolicyArn")
		if err != nil {
			return nil, err
		}
		return nil, svc.AttachPolicy(ctx, kind, v[0], v[1])
	}
}

func handleDetachPolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:Detach" + entityWord(kind) + "Policy"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, policyARNKey, "PolicyArn")
		if err != nil {
			return nil, err
		}
		return nil, svc.DetachPolicy(ctx, kind, v[0], v[1])
	}
}

type xmlAttachedPolicy struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type listAttachedPoliciesResult struct {
	AttachedPolicies awsapi.Members[xmlAttachedPolicy] `xml:"AttachedPolicies"`
	listResult
}

func handleListAttachedPolicies(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action := "iam:ListAttached" + entityWord(kind) + "Policies"
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := entityArgs(ctx, r, svc, kind, action, nil)
		if err != nil {
			return nil, err
		}
		name := v[0]
		attached, err := svc.ListAttachedPolicies(ctx, kind, name, r.Params.String("PathPrefix"))
		if err != nil {
			return nil, err
		}
		page, more, next, err := pageOf(r.Params, attached)
		if err != nil {
			return nil, err
		}
		out := &listAttachedPoliciesResult{AttachedPolicies: make(awsapi.Members[xmlAttachedPolicy], len(page)), listResult: listResult{more, next}}
		for i, a := range page {
			out.AttachedPolicies[i] = xmlAttachedPolicy{PolicyName: a.Name, PolicyArn: a.ARN}
		}
		return out, nil
	}
}

type xmlPolicyGroup struct {
	GroupName string `xml:"GroupName"`
	GroupID   string `xml:"GroupId"`
}

type xmlPolicyUser struct {
	UserName string `xml:"UserName"`
	UserID   string `xml:"UserId"`
}

type xmlPolicyRole struct {
	RoleName string `xml:"RoleName"`
	RoleID   string `xml:"RoleId"`
}

type listEntitiesForPolicyResult struct {
	PolicyGroups awsapi.Members[xmlPolicyGroup] `xml:"PolicyGroups"`
	PolicyUsers  awsapi.Members[xmlPolicyUser]  `xml:"PolicyUsers"`
	PolicyRoles  awsapi.Members[xmlPolicyRole]  `xml:"PolicyRoles"`
	listResult
}

// entityItem is one row of ListEntitiesForPolicy, for pagination across the
// three lists.
type entityItem struct {
	kind iam.EntityKind
	ref  iam.EntityRef
}

func handleListEntitiesForPolicy(svc *iam.Service) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		p := r.Params
		arn, err := p.Required("PolicyArn")
		if err != nil {
			return nil, err
		}
		var filter iam.EntityKind
		switch f := p.String("EntityFilter"); f {
		case "":
		case "User":
			filter = iam.KindUser
		case "Group":
			filter = iam.KindGroup
		case "Role":
			filter = iam.KindRole
		case "LocalManagedPolicy", "AWSManagedPolicy":
			filter = -1 // policies are never attached to policies
		default:
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'entityFilter' failed to satisfy constraint: Member must satisfy enum value set: [User, Role, Group, LocalManagedPolicy, AWSManagedPolicy]", rpc.SafeText(f))
		}
		usage := p.String("PolicyUsageFilter")
		if usage != "" && usage != "PermissionsPolicy" && usage != "PermissionsBoundary" {
			return nil, awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", rpc.SafeText(usage))
		}
		if err := authorizePolicy(ctx, r, svc, "iam:ListEntitiesForPolicy", arn); err != nil {
			return nil, err
		}
		ents, err := svc.ListEntitiesForPolicy(ctx, arn, max(filter, 0), p.String("PathPrefix"))
		if err != nil {
			return nil, err
		}
		var items []entityItem
		if filter >= 0 && usage != "PermissionsBoundary" {
			for _, e := range ents.Groups {
				items = append(items, entityItem{iam.KindGroup, e})
			}
			for _, e := range ents.Users {
				items = append(items, entityItem{iam.KindUser, e})
			}
			for _, e := range ents.Roles {
				items = append(items, entityItem{iam.KindRole, e})
			}
		}
		page, more, next, err := pageOf(p, items)
		if err != nil {
			return nil, err
		}
		out := &listEntitiesForPolicyResult{
			PolicyGroups: awsapi.Members[xmlPolicyGroup]{}, PolicyUsers: awsapi.Members[xmlPolicyUser]{}, PolicyRoles: awsapi.Members[xmlPolicyRole]{},
			listResult: listResult{more, next},
		}
		for _, it := range page {
			switch it.kind {
			case iam.KindGroup:
				out.PolicyGroups = append(out.PolicyGroups, xmlPolicyGroup{it.ref.Name, it.ref.ID})
			case iam.KindUser:
				out.PolicyUsers = append(out.PolicyUsers, xmlPolicyUser{it.ref.Name, it.ref.ID})
			case iam.KindRole:
				out.PolicyRoles = append(out.PolicyRoles, xmlPolicyRole{it.ref.Name, it.ref.ID})
			}
		}
		return out, nil
	}
}
