package iamapi

import (
	"context"
	"errors"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// entityParam is the request member naming the principal of an operation
// on user, group or role policies: UserName, GroupName or RoleName.
func entityParam(kind iam.EntityKind) string {
	return entityWord(kind) + "Name"
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

// policyARNKey is the condition key of attaching and detaching: the
// policy's ARN (the second member).
func policyARNKey(v []string) map[string][]string {
	return map[string][]string{"iam:PolicyARN": {v[1]}}
}

// --- inline policies -----------------------------------------------------------

func handlePutInlinePolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	action, auth := "iam:Put"+entityWord(kind)+"Policy", entityAuthorizer(svc, kind)
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := authorizedArgs(ctx, r, auth, action, nil, entityParam(kind), "PolicyName", "PolicyDocument")
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
	action, auth := "iam:Get"+entityWord(kind)+"Policy", entityAuthorizer(svc, kind)
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		v, err := authorizedArgs(ctx, r, auth, action, nil, entityParam(kind), "PolicyName")
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
	list := func(ctx context.Context, name string) ([]string, error) {
		return svc.ListInlinePolicies(ctx, kind, name)
	}
	return handleList(entityTarget(svc, kind), "iam:List"+entityWord(kind)+"Policies", list, func(page []string, lr listResult) any {
		return &listPolicyNamesResult{PolicyNames: append(awsapi.Members[string]{}, page...), listResult: lr}
	})
}

// handleEntityPolicyOp is Delete…Policy, Attach…Policy and Detach…Policy
// of a user, group or role: verb names the action, member is the required
// member naming the policy, keys makes the condition keys (if not nil) and
// op is the service call.
func handleEntityPolicyOp(svc *iam.Service, kind iam.EntityKind, verb, member string, keys func(v []string) map[string][]string, op func(ctx context.Context, kind iam.EntityKind, name, policy string) error) rpc.Handler {
	return handlePairOp(entityAuthorizer(svc, kind), "iam:"+verb+entityWord(kind)+"Policy", keys, [2]string{entityParam(kind), member},
		func(ctx context.Context, name, policy string) error { return op(ctx, kind, name, policy) })
}

func handleDeleteInlinePolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	return handleEntityPolicyOp(svc, kind, "Delete", "PolicyName", nil, svc.DeleteInlinePolicy)
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

// policyDetail is the result of CreatePolicy and GetPolicy.
func policyDetail(mp *iam.ManagedPolicy) *policyResult {
	return &policyResult{Policy: policyXML(mp, true)}
}

// usageFilterParam reads PolicyUsageFilter.
func usageFilterParam(p *awsapi.Params) (string, error) {
	usage := p.String("PolicyUsageFilter")
	switch usage {
	case "", "PermissionsPolicy", "PermissionsBoundary":
		return usage, nil
	}
	return "", awsapi.Errorf(awsapi.CodeValidation, "1 validation error detected: Value '%s' at 'policyUsageFilter' failed to satisfy constraint: Member must satisfy enum value set: [PermissionsPolicy, PermissionsBoundary]", rpc.SafeText(usage))
}

// authorizePolicy authorizes an action on a managed policy. The resource
// is the policy's ARN as stored, or as given if there is none.
func authorizePolicy(ctx context.Context, r *rpc.Request, svc *iam.Service, action, policyARN string, keys map[string][]string) error {
	resource := policyARN
	p, err := svc.GetPolicy(ctx, policyARN)
	switch {
	case err == nil:
		resource = p.ARN
	case errors.Is(err, iam.ErrNoSuchEntity):
	default:
		return err
	}
	return r.Authorize(ctx, action, resource, keys)
}

func handleCreatePolicy(svc *iam.Service) rpc.Handler {
	read := func(p *awsapi.Params) (iam.CreatePolicyInput, error) {
		v, err := required(p, "PolicyName", "PolicyDocument")
		if err != nil {
			return iam.CreatePolicyInput{}, err
		}
		return iam.CreatePolicyInput{Name: v[0], Document: v[1], Path: p.String("Path"), Description: p.String("Description"), Tags: tagsParam(p)}, nil
	}
	resource := func(in *iam.CreatePolicyInput) (string, []iam.Tag) {
		return svc.PolicyARN(arnPath(in.Path), in.Name), in.Tags
	}
	return handleCreate("iam:CreatePolicy", read, resource, svc.CreatePolicy, func(_ *awsapi.Params, mp *iam.ManagedPolicy) *policyResult {
		return policyDetail(mp)
	})
}

func handleGetPolicy(svc *iam.Service) rpc.Handler {
	return handleGet(policyTarget(svc), "iam:GetPolicy", svc.GetPolicy, policyDetail)
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
		usage, err := usageFilterParam(p)
		if err != nil {
			return nil, err
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
		return listPage(p, policies, func(page []iam.ManagedPolicy, lr listResult) any {
			return &listPoliciesResult{Policies: membersOf(page, policySummary), listResult: lr}
		})
	}
}

// policySummary is a policy as ListPolicies writes it.
func policySummary(p *iam.ManagedPolicy) xmlPolicy { return policyXML(p, false) }

func handleDeletePolicy(svc *iam.Service) rpc.Handler {
	return handleAct(policyTarget(svc), "iam:DeletePolicy", svc.DeletePolicy)
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
		if err := authorizePolicy(ctx, r, svc, "iam:CreatePolicyVersion", v[0], nil); err != nil {
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
		v, err := authorizedArgs(ctx, r, policyAuthorizer(svc), "iam:GetPolicyVersion", nil, policyVersionParams[:]...)
		if err != nil {
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
	return handleList(policyTarget(svc), "iam:ListPolicyVersions", svc.ListPolicyVersions, func(page []iam.PolicyVersion, lr listResult) any {
		return &listPolicyVersionsResult{Versions: membersOf(page, versionSummary), listResult: lr}
	})
}

// versionSummary is a version as ListPolicyVersions writes it.
func versionSummary(v *iam.PolicyVersion) xmlPolicyVersion { return versionXML(v, false) }

// policyVersionParams name the version of the operations on one.
var policyVersionParams = [2]string{"PolicyArn", "VersionId"}

func handleDeletePolicyVersion(svc *iam.Service) rpc.Handler {
	return handlePairOp(policyAuthorizer(svc), "iam:DeletePolicyVersion", nil, policyVersionParams, svc.DeletePolicyVersion)
}

func handleSetDefaultPolicyVersion(svc *iam.Service) rpc.Handler {
	return handlePairOp(policyAuthorizer(svc), "iam:SetDefaultPolicyVersion", nil, policyVersionParams, svc.SetDefaultPolicyVersion)
}

// --- attachments -------------------------------------------------------------------

func handleAttachPolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	return handleEntityPolicyOp(svc, kind, "Attach", "PolicyArn", policyARNKey, svc.AttachPolicy)
}

func handleDetachPolicy(svc *iam.Service, kind iam.EntityKind) rpc.Handler {
	return handleEntityPolicyOp(svc, kind, "Detach", "PolicyArn", policyARNKey, svc.DetachPolicy)
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
	action, t := "iam:ListAttached"+entityWord(kind)+"Policies", entityTarget(svc, kind)
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		name, err := t(ctx, r, action, nil)
		if err != nil {
			return nil, err
		}
		attached, err := svc.ListAttachedPolicies(ctx, kind, name, r.Params.String("PathPrefix"))
		if err != nil {
			return nil, err
		}
		return listPage(r.Params, attached, func(page []iam.AttachedPolicy, lr listResult) any {
			return &listAttachedPoliciesResult{AttachedPolicies: membersOf(page, attachedPolicyXML), listResult: lr}
		})
	}
}

func attachedPolicyXML(a *iam.AttachedPolicy) xmlAttachedPolicy {
	return xmlAttachedPolicy{PolicyName: a.Name, PolicyArn: a.ARN}
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
		usage, err := usageFilterParam(p)
		if err != nil {
			return nil, err
		}
		if err := authorizePolicy(ctx, r, svc, "iam:ListEntitiesForPolicy", arn, nil); err != nil {
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
		return listPage(p, items, entitiesForPolicyResult)
	}
}

func entitiesForPolicyResult(page []entityItem, lr listResult) any {
	out := &listEntitiesForPolicyResult{
		PolicyGroups: awsapi.Members[xmlPolicyGroup]{}, PolicyUsers: awsapi.Members[xmlPolicyUser]{}, PolicyRoles: awsapi.Members[xmlPolicyRole]{},
		listResult: lr,
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
	return out
}
