package iamapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// authzCall runs one operation as caller, answering each authorization
// question with decide, and returns the questions asked and the error.
func (h *iamHarness) authzCall(t *testing.T, caller *rpc.Caller, decide func(a *rpc.Authz) policy.Decision, action string, kv ...string) ([]rpc.Authz, error) {
	t.Helper()
	op, r := h.request(t, caller, action, kv...)
	var asked []rpc.Authz
	r.Authorizer = func(_ context.Context, _ *rpc.Request, a *rpc.Authz) (policy.Result, error) {
		asked = append(asked, *a)
		return policy.Result{Decision: decide(a)}, nil
	}
	_, err := op.Handler(context.Background(), r)
	return asked, err
}

// wantInvalidUnasked checks that an operation is refused with
// ValidationError before any authorization question is asked.
func (h *iamHarness) wantInvalidUnasked(t *testing.T, caller *rpc.Caller, decide func(a *rpc.Authz) policy.Decision, action string, kv ...string) {
	t.Helper()
	asked, err := h.authzCall(t, caller, decide, action, kv...)
	if len(asked) != 0 {
		t.Errorf("asked %q before refusing", authzStrings(asked))
	}
	if wireCode(err) != "ValidationError" {
		t.Errorf("error %v, want ValidationError", err)
	}
}

func denyAll(*rpc.Authz) policy.Decision { return policy.ImplicitDeny }

func allowAll(*rpc.Authz) policy.Decision { return policy.Allow }

func explicitDenyAll(*rpc.Authz) policy.Decision { return policy.ExplicitDeny }

// allowActions allows the actions named, on any resource.
func allowActions(actions ...string) func(a *rpc.Authz) policy.Decision {
	return func(a *rpc.Authz) policy.Decision {
		if slices.Contains(actions, a.Action) {
			return policy.Allow
		}
		return policy.ImplicitDeny
	}
}

// allowFirst allows the first question and denies the rest.
func allowFirst() func(a *rpc.Authz) policy.Decision {
	n := 0
	return func(*rpc.Authz) policy.Decision {
		if n++; n == 1 {
			return policy.Allow
		}
		return policy.ImplicitDeny
	}
}

// authzString writes a question as the tables spell it: "ACTION RESOURCE"
// and then the condition keys, sorted, as " key=v1|v2".
func authzString(a rpc.Authz) string {
	keys := make([]string, 0, len(a.Keys))
	for k, vs := range a.Keys {
		keys = append(keys, k+"="+strings.Join(vs, "|"))
	}
	sort.Strings(keys)
	s := a.Action + " " + a.Resource
	for _, k := range keys {
		s += " " + k
	}
	if a.NotDenied {
		s += " (explicit deny only)"
	}
	return s
}

func authzStrings(asked []rpc.Authz) []string {
	out := make([]string, len(asked))
	for i, a := range asked {
		out[i] = authzString(a)
	}
	return out
}

const (
	testAcct = "arn:aws:iam::123456789012:"
	testUser = testAcct + "user/ci/bob"
	testGrp  = testAcct + "group/eng/devs"
	testRole = testAcct + "role/ci/deploy"
	testPol  = testAcct + "policy/app/p"
	testOIDC = testAcct + "oidc-provider/token.example.com"
	testMFA  = testAcct + "mfa/p/phone"
)

var bobCaller = &rpc.Caller{Account: iamTestAccount, ARN: testUser, UserID: "AIDABOB", UserName: "bob", Type: "IAMUser"}

var roleSessionCaller = &rpc.Caller{Account: iamTestAccount, ARN: "arn:aws:sts::123456789012:assumed-role/r/s", RoleName: "r", Type: "AssumedRole"}

// authzWorld is a harness with the user bob (path /ci/, an access key, a
// login profile, an inline policy, the policy p attached, a member of
// devs), the user carol, the group devs (/eng/), the role deploy (/ci/),
// the policy p (/app/), an OpenID Connect provider and the unassigned
// virtual MFA device phone (/p/). It returns bob's access key id.
func authzWorld(t *testing.T) (*iamHarness, string) {
	t.Helper()
	h := newIAMHarness(t)
	h.mustCall(t, "CreateUser", "UserName", "bob", "Path", "/ci/", "Tags.member.1.Key", "team", "Tags.member.1.Value", "a")
	h.mustCall(t, "CreateUser", "UserName", "carol")
	h.mustCall(t, "CreateGroup", "GroupName", "devs", "Path", "/eng/")
	h.mustCall(t, "CreateRole", "RoleName", "deploy", "Path", "/ci/", "AssumeRolePolicyDocument", iamTestTrust, "Tags.member.1.Key", "team", "Tags.member.1.Value", "a")
	h.mustCall(t, "CreatePolicy", "PolicyName", "p", "Path", "/app/", "PolicyDocument", iamTestAllowRead)
	h.mustCall(t, "CreatePolicyVersion", "PolicyArn", testPol, "PolicyDocument", iamTestAllowRead)
	h.mustCall(t, "CreateOpenIDConnectProvider", "Url", "https://token.example.com", "ClientIDList.member.1", "sts.amazonaws.com",
		"ThumbprintList.member.1", strings.Repeat("a", 40), "Tags.member.1.Key", "team", "Tags.member.1.Value", "a")
	h.mustCall(t, "CreateVirtualMFADevice", "VirtualMFADeviceName", "phone", "Path", "/p/")
	for _, e := range [][]string{{"User", "UserName", "bob"}, {"Group", "GroupName", "devs"}, {"Role", "RoleName", "deploy"}} {
		h.mustCall(t, "Put"+e[0]+"Policy", e[1], e[2], "PolicyName", "in", "PolicyDocument", iamTestAllowRead)
		h.mustCall(t, "Attach"+e[0]+"Policy", e[1], e[2], "PolicyArn", testPol)
	}
	h.mustCall(t, "AddUserToGroup", "GroupName", "devs", "UserName", "bob")
	h.mustCall(t, "CreateLoginProfile", "UserName", "bob", "Password", "correct horse battery staple")
	keys, err := h.svc.ListAccessKeys(context.Background(), "bob")
	if err != nil || len(keys) != 0 {
		t.Fatalf("bob's keys: %v %v", keys, err)
	}
	k, err := h.svc.CreateAccessKey(context.Background(), "bob")
	if err != nil {
		t.Fatal(err)
	}
	return h, k.ID
}

// TestIAMEveryOperationAuthorizesItsActionOnItsResource asks every
// registered operation, as a caller denied everything, and checks the one
// question it asks: its own action, on the resource's ARN (with the path
// the resource has, or the one the request gives a new resource), with its
// condition keys; and that the caller is answered AccessDenied.
func TestIAMEveryOperationAuthorizesItsActionOnItsResource(t *testing.T) {
	h, akid := authzWorld(t)
	tag := []string{"Tags.member.1.Key", "team", "Tags.member.1.Value", "b"}
	tagKeys := " aws:RequestTag/team=b aws:TagKeys=team"
	with := func(kv []string, more ...string) []string { return append(append([]string(nil), kv...), more...) }
	type tc struct {
		name   string
		caller *rpc.Caller
		action string
		kv     []string
		want   string
	}
	tests := []tc{
		// Users.
		{"fail/create-user-on-new-arn-with-path-and-tag-keys", nil, "CreateUser", with(tag, "UserName", "dave", "Path", "/x/"), "iam:CreateUser " + testAcct + "user/x/dave" + tagKeys},
		{"fail/create-user-on-new-arn-default-path", nil, "CreateUser", []string{"UserName", "dave"}, "iam:CreateUser " + testAcct + "user/dave"},
		{"fail/get-user-on-stored-path-any-case", nil, "GetUser", []string{"UserName", "BOB"}, "iam:GetUser " + testUser},
		{"fail/get-user-self", bobCaller, "GetUser", nil, "iam:GetUser " + testUser},
		{"fail/get-missing-user-on-default-path", nil, "GetUser", []string{"UserName", "nobody"}, "iam:GetUser " + testAcct + "user/nobody"},
		{"fail/list-users-on-prefix", nil, "ListUsers", []string{"PathPrefix", "/ci/"}, "iam:ListUsers " + testAcct + "user/ci/"},
		{"fail/update-user-on-user", nil, "UpdateUser", []string{"UserName", "bob", "NewUserName", "robert"}, "iam:UpdateUser " + testUser},
		{"fail/delete-user-on-user", nil, "DeleteUser", []string{"UserName", "bob"}, "iam:DeleteUser " + testUser},
		{"fail/tag-user-with-tag-keys", nil, "TagUser", with(tag, "UserName", "bob"), "iam:TagUser " + testUser + tagKeys},
		{"fail/untag-user-with-tag-keys", nil, "UntagUser", []string{"UserName", "bob", "TagKeys.member.1", "team"}, "iam:UntagUser " + testUser + " aws:TagKeys=team"},
		{"fail/list-user-tags-on-user", nil, "ListUserTags", []string{"UserName", "bob"}, "iam:ListUserTags " + testUser},

		// Access keys.
		{"fail/create-access-key-on-user", nil, "CreateAccessKey", []string{"UserName", "bob"}, "iam:CreateAccessKey " + testUser},
		{"fail/create-access-key-self", bobCaller, "CreateAccessKey", nil, "iam:CreateAccessKey " + testUser},
		{"fail/list-access-keys-self", bobCaller, "ListAccessKeys", nil, "iam:ListAccessKeys " + testUser},
		{"fail/list-access-keys-of-user", nil, "ListAccessKeys", []string{"UserName", "bob"}, "iam:ListAccessKeys " + testUser},
		{"fail/update-access-key-self", bobCaller, "UpdateAccessKey", []string{"AccessKeyId", akid, "Status", "Inactive"}, "iam:UpdateAccessKey " + testUser},
		{"fail/update-access-key-of-named-user", nil, "UpdateAccessKey", []string{"UserName", "carol", "AccessKeyId", akid, "Status", "Inactive"}, "iam:UpdateAccessKey " + testAcct + "user/carol"},
		{"fail/delete-access-key-self", bobCaller, "DeleteAccessKey", []string{"AccessKeyId", akid}, "iam:DeleteAccessKey " + testUser},
		{"fail/delete-access-key-of-named-user", nil, "DeleteAccessKey", []string{"UserName", "bob", "AccessKeyId", akid}, "iam:DeleteAccessKey " + testUser},
		{"fail/get-access-key-last-used-on-owner", nil, "GetAccessKeyLastUsed", []string{"AccessKeyId", akid}, "iam:GetAccessKeyLastUsed " + testUser},
		{"fail/get-unknown-access-key-last-used-on-any-resource", nil, "GetAccessKeyLastUsed", []string{"AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"}, "iam:GetAccessKeyLastUsed *"},

		// Groups.
		{"fail/create-group-on-new-arn-without-tag-keys", nil, "CreateGroup", with(tag, "GroupName", "ops", "Path", "/eng/"), "iam:CreateGroup " + testAcct + "group/eng/ops"},
		{"fail/get-group-on-group", nil, "GetGroup", []string{"GroupName", "DEVS"}, "iam:GetGroup " + testGrp},
		{"fail/list-groups-on-prefix", nil, "ListGroups", nil, "iam:ListGroups " + testAcct + "group/"},
		{"fail/update-group-on-group", nil, "UpdateGroup", []string{"GroupName", "devs", "NewPath", "/x/"}, "iam:UpdateGroup " + testGrp},
		{"fail/delete-group-on-group", nil, "DeleteGroup", []string{"GroupName", "devs"}, "iam:DeleteGroup " + testGrp},
		{"fail/add-user-to-group-on-group", nil, "AddUserToGroup", []string{"GroupName", "devs", "UserName", "carol"}, "iam:AddUserToGroup " + testGrp},
		{"fail/remove-user-from-group-on-group", nil, "RemoveUserFromGroup", []string{"GroupName", "devs", "UserName", "bob"}, "iam:RemoveUserFromGroup " + testGrp},
		{"fail/list-groups-for-user-on-user", nil, "ListGroupsForUser", []string{"UserName", "bob"}, "iam:ListGroupsForUser " + testUser},

		// Roles.
		{"fail/create-role-on-new-arn-with-tag-keys", nil, "CreateRole", with(tag, "RoleName", "r2", "Path", "/ci/", "AssumeRolePolicyDocument", iamTestTrust), "iam:CreateRole " + testAcct + "role/ci/r2" + tagKeys},
		{"fail/get-role-on-role", nil, "GetRole", []string{"RoleName", "Deploy"}, "iam:GetRole " + testRole},
		{"fail/list-roles-on-prefix", nil, "ListRoles", []string{"PathPrefix", "/ci/"}, "iam:ListRoles " + testAcct + "role/ci/"},
		{"fail/update-role-on-role", nil, "UpdateRole", []string{"RoleName", "deploy", "Description", "d"}, "iam:UpdateRole " + testRole},
		{"fail/update-assume-role-policy-on-role", nil, "UpdateAssumeRolePolicy", []string{"RoleName", "deploy", "PolicyDocument", iamTestTrust}, "iam:UpdateAssumeRolePolicy " + testRole},
		{"fail/delete-role-on-role", nil, "DeleteRole", []string{"RoleName", "deploy"}, "iam:DeleteRole " + testRole},
		{"fail/tag-role-with-tag-keys", nil, "TagRole", with(tag, "RoleName", "deploy"), "iam:TagRole " + testRole + tagKeys},
		{"fail/untag-role-with-tag-keys", nil, "UntagRole", []string{"RoleName", "deploy", "TagKeys.member.1", "team", "TagKeys.member.2", "x"}, "iam:UntagRole " + testRole + " aws:TagKeys=team|x"},
		{"fail/list-role-tags-on-role", nil, "ListRoleTags", []string{"RoleName", "deploy"}, "iam:ListRoleTags " + testRole},

		// Managed policies and versions.
		{"fail/create-policy-on-new-arn-with-tag-keys", nil, "CreatePolicy", with(tag, "PolicyName", "q", "Path", "/app/", "PolicyDocument", iamTestAllowRead), "iam:CreatePolicy " + testAcct + "policy/app/q" + tagKeys},
		{"fail/get-policy-on-stored-arn-name-any-case", nil, "GetPolicy", []string{"PolicyArn", testAcct + "policy/app/P"}, "iam:GetPolicy " + testPol},
		{"fail/get-missing-policy-on-arn-as-given", nil, "GetPolicy", []string{"PolicyArn", testAcct + "policy/nope"}, "iam:GetPolicy " + testAcct + "policy/nope"},
		{"fail/list-policies-on-prefix", nil, "ListPolicies", []string{"PathPrefix", "/app/"}, "iam:ListPolicies " + testAcct + "policy/app/"},
		{"fail/delete-policy-on-policy", nil, "DeletePolicy", []string{"PolicyArn", testPol}, "iam:DeletePolicy " + testPol},
		{"fail/create-policy-version-on-policy", nil, "CreatePolicyVersion", []string{"PolicyArn", testPol, "PolicyDocument", iamTestAllowRead}, "iam:CreatePolicyVersion " + testPol},
		{"fail/get-policy-version-on-policy", nil, "GetPolicyVersion", []string{"PolicyArn", testPol, "VersionId", "v1"}, "iam:GetPolicyVersion " + testPol},
		{"fail/list-policy-versions-on-policy", nil, "ListPolicyVersions", []string{"PolicyArn", testPol}, "iam:ListPolicyVersions " + testPol},
		{"fail/delete-policy-version-on-policy", nil, "DeletePolicyVersion", []string{"PolicyArn", testPol, "VersionId", "v1"}, "iam:DeletePolicyVersion " + testPol},
		{"fail/set-default-policy-version-on-policy", nil, "SetDefaultPolicyVersion", []string{"PolicyArn", testPol, "VersionId", "v2"}, "iam:SetDefaultPolicyVersion " + testPol},
		{"fail/list-entities-for-policy-on-policy", nil, "ListEntitiesForPolicy", []string{"PolicyArn", testPol}, "iam:ListEntitiesForPolicy " + testPol},

		// Policy simulator.
		{"fail/simulate-principal-policy-on-source", nil, "SimulatePrincipalPolicy", []string{"PolicySourceArn", testUser, "ActionNames.member.1", "s3:GetObject"}, "iam:SimulatePrincipalPolicy " + testUser},
		{"fail/simulate-custom-policy-on-any-resource", nil, "SimulateCustomPolicy", []string{"PolicyInputList.member.1", iamTestAllowRead, "ActionNames.member.1", "s3:GetObject"}, "iam:SimulateCustomPolicy *"},

		// Virtual MFA devices.
		{"fail/create-virtual-mfa-device-on-new-serial-with-tag-keys", nil, "CreateVirtualMFADevice", with(tag, "VirtualMFADeviceName", "tablet", "Path", "/p/"), "iam:CreateVirtualMFADevice " + testAcct + "mfa/p/tablet" + tagKeys},
		{"fail/enable-mfa-device-on-user", nil, "EnableMFADevice", []string{"UserName", "bob", "SerialNumber", testMFA, "AuthenticationCode1", "123456", "AuthenticationCode2", "654321"}, "iam:EnableMFADevice " + testUser},
		{"fail/deactivate-mfa-device-on-named-user", nil, "DeactivateMFADevice", []string{"UserName", "bob", "SerialNumber", testMFA}, "iam:DeactivateMFADevice " + testUser},
		{"fail/deactivate-unassigned-mfa-device-on-device", nil, "DeactivateMFADevice", []string{"SerialNumber", testMFA}, "iam:DeactivateMFADevice " + testMFA},
		{"fail/delete-virtual-mfa-device-on-serial", nil, "DeleteVirtualMFADevice", []string{"SerialNumber", testMFA}, "iam:DeleteVirtualMFADevice " + testMFA},
		{"fail/list-mfa-devices-self", bobCaller, "ListMFADevices", nil, "iam:ListMFADevices " + testUser},
		{"fail/list-virtual-mfa-devices-on-mfa", nil, "ListVirtualMFADevices", nil, "iam:ListVirtualMFADevices " + testAcct + "mfa/"},

		// Login profiles.
		{"fail/create-login-profile-on-user", nil, "CreateLoginProfile", []string{"UserName", "carol", "Password", "correct horse battery staple"}, "iam:CreateLoginProfile " + testAcct + "user/carol"},
		{"fail/get-login-profile-self", bobCaller, "GetLoginProfile", nil, "iam:GetLoginProfile " + testUser},
		{"fail/update-login-profile-on-user", nil, "UpdateLoginProfile", []string{"UserName", "bob", "PasswordResetRequired", "true"}, "iam:UpdateLoginProfile " + testUser},
		{"fail/delete-login-profile-self", bobCaller, "DeleteLoginProfile", nil, "iam:DeleteLoginProfile " + testUser},

		// OpenID Connect providers.
		{"fail/create-oidc-provider-on-new-arn-with-tag-keys", nil, "CreateOpenIDConnectProvider", with(tag, "Url", "https://other.example.com"), "iam:CreateOpenIDConnectProvider " + testAcct + "oidc-provider/other.example.com" + tagKeys},
		{"fail/get-oidc-provider-on-provider", nil, "GetOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC}, "iam:GetOpenIDConnectProvider " + testOIDC},
		{"fail/list-oidc-providers-on-any-resource", nil, "ListOpenIDConnectProviders", nil, "iam:ListOpenIDConnectProviders *"},
		{"fail/delete-oidc-provider-on-provider", nil, "DeleteOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC}, "iam:DeleteOpenIDConnectProvider " + testOIDC},
		{"fail/add-client-id-on-provider", nil, "AddClientIDToOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC, "ClientID", "c"}, "iam:AddClientIDToOpenIDConnectProvider " + testOIDC},
		{"fail/remove-client-id-on-provider", nil, "RemoveClientIDFromOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC, "ClientID", "sts.amazonaws.com"}, "iam:RemoveClientIDFromOpenIDConnectProvider " + testOIDC},
		{"fail/update-thumbprint-on-provider", nil, "UpdateOpenIDConnectProviderThumbprint", []string{"OpenIDConnectProviderArn", testOIDC, "ThumbprintList.member.1", strings.Repeat("b", 40)}, "iam:UpdateOpenIDConnectProviderThumbprint " + testOIDC},
		{"fail/tag-oidc-provider-with-tag-keys", nil, "TagOpenIDConnectProvider", with(tag, "OpenIDConnectProviderArn", testOIDC), "iam:TagOpenIDConnectProvider " + testOIDC + tagKeys},
		{"fail/untag-oidc-provider-with-tag-keys", nil, "UntagOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC, "TagKeys.member.1", "team"}, "iam:UntagOpenIDConnectProvider " + testOIDC + " aws:TagKeys=team"},
		{"fail/list-oidc-provider-tags-on-provider", nil, "ListOpenIDConnectProviderTags", []string{"OpenIDConnectProviderArn", testOIDC}, "iam:ListOpenIDConnectProviderTags " + testOIDC},
	}
	// Inline policies and attachments, of each kind of principal.
	for _, e := range []struct{ word, param, name, arn string }{
		{"User", "UserName", "bob", testUser}, {"Group", "GroupName", "devs", testGrp}, {"Role", "RoleName", "deploy", testRole},
	} {
		lw := strings.ToLower(e.word)
		doc := []string{e.param, e.name, "PolicyName", "in", "PolicyDocument", iamTestAllowRead}
		tests = append(tests,
			tc{"fail/put-" + lw + "-policy-on-" + lw, nil, "Put" + e.word + "Policy", doc, "iam:Put" + e.word + "Policy " + e.arn},
			tc{"fail/get-" + lw + "-policy-on-" + lw, nil, "Get" + e.word + "Policy", doc[:4], "iam:Get" + e.word + "Policy " + e.arn},
			tc{"fail/list-" + lw + "-policies-on-" + lw, nil, "List" + e.word + "Policies", doc[:2], "iam:List" + e.word + "Policies " + e.arn},
			tc{"fail/delete-" + lw + "-policy-on-" + lw, nil, "Delete" + e.word + "Policy", doc[:4], "iam:Delete" + e.word + "Policy " + e.arn},
			tc{"fail/attach-" + lw + "-policy-on-" + lw + "-with-policy-arn-key", nil, "Attach" + e.word + "Policy", []string{e.param, e.name, "PolicyArn", iam.AdministratorAccessARN}, "iam:Attach" + e.word + "Policy " + e.arn + " iam:PolicyARN=" + iam.AdministratorAccessARN},
			tc{"fail/detach-" + lw + "-policy-on-" + lw + "-with-policy-arn-key", nil, "Detach" + e.word + "Policy", []string{e.param, e.name, "PolicyArn", testPol}, "iam:Detach" + e.word + "Policy " + e.arn + " iam:PolicyARN=" + testPol},
			tc{"fail/list-attached-" + lw + "-policies-on-" + lw, nil, "ListAttached" + e.word + "Policies", doc[:2], "iam:ListAttached" + e.word + "Policies " + e.arn},
		)
	}

	covered := map[string]bool{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			caller := tc.caller
			if caller == nil {
				caller = iamAdminCaller
			}
			asked, err := h.authzCall(t, caller, denyAll, tc.action, tc.kv...)
			if got := authzStrings(asked); len(got) != 1 || got[0] != tc.want {
				t.Errorf("asked %q, want [%q]", got, tc.want)
			}
			if wireCode(err) != "AccessDenied" {
				t.Errorf("error %v, want AccessDenied", err)
			}
		})
		covered["iam:"+tc.action] = true
	}
	t.Run("ok/every-operation-checked", func(t *testing.T) {
		covered["iam:ChangePassword"] = true // TestIAMChangePasswordRefusesOnlyAnExplicitDeny
		for _, op := range h.mux.Operations() {
			if !covered[op] {
				t.Errorf("%s is not in the table", op)
			}
		}
	})
	t.Run("ok/world-unchanged-by-denied-calls", func(t *testing.T) {
		checkAuthzWorld(t, h, akid)
	})
}

// checkAuthzWorld checks that authzWorld's world is as it was made.
func checkAuthzWorld(t *testing.T, h *iamHarness, akid string) {
	t.Helper()
	ctx := context.Background()
	checks := []struct {
		what string
		err  func() error
	}{
		{"user dave absent", func() error { return wantAbsent(h.svc.GetUser(ctx, "dave")) }},
		{"user carol not renamed", func() error { _, err := h.svc.GetUser(ctx, "carol"); return err }},
		{"group devs not renamed", func() error { _, _, err := h.svc.GetGroup(ctx, "devs"); return err }},
		{"bob's one key active", func() error {
			keys, err := h.svc.ListAccessKeys(ctx, "bob")
			if err == nil && (len(keys) != 1 || keys[0].ID != akid || keys[0].Status != "Active") {
				return fmt.Errorf("keys %+v", keys)
			}
			return err
		}},
		{"bob's tags", func() error {
			tags, err := h.svc.EntityTags(ctx, iam.KindUser, "bob")
			if err == nil && (len(tags) != 1 || tags[0].Key != "team" || tags[0].Value != "a") {
				return fmt.Errorf("tags %+v", tags)
			}
			return err
		}},
		{"bob in devs", func() error {
			_, users, err := h.svc.GetGroup(ctx, "devs")
			if err == nil && (len(users) != 1 || users[0].Name != "bob") {
				return fmt.Errorf("members %+v", users)
			}
			return err
		}},
		{"bob's inline policy", func() error { _, err := h.svc.GetInlinePolicy(ctx, iam.KindUser, "bob", "in"); return err }},
		{"group's inline policy", func() error { _, err := h.svc.GetInlinePolicy(ctx, iam.KindGroup, "devs", "in"); return err }},
		{"role's inline policy", func() error { _, err := h.svc.GetInlinePolicy(ctx, iam.KindRole, "deploy", "in"); return err }},
		{"p attached thrice, default v1", func() error {
			p, err := h.svc.GetPolicy(ctx, testPol)
			if err == nil && (p.AttachmentCount != 3 || p.DefaultVersionID != "v1") {
				return fmt.Errorf("policy %+v", p)
			}
			return err
		}},
		{"bob's login profile", func() error { _, err := h.svc.GetLoginProfile(ctx, "bob"); return err }},
		{"provider's client ids", func() error {
			p, err := h.svc.GetOpenIDConnectProvider(ctx, testOIDC)
			if err == nil && (len(p.ClientIDs) != 1 || len(p.Tags) != 1) {
				return fmt.Errorf("provider %+v", p)
			}
			return err
		}},
		{"device phone", func() error {
			ds, err := h.svc.ListVirtualMFADevices(ctx, "Any")
			if err == nil && (len(ds) != 1 || ds[0].SerialNumber != testMFA) {
				return fmt.Errorf("devices %+v", ds)
			}
			return err
		}},
		{"role deploy's trust", func() error {
			r, err := h.svc.GetRole(ctx, "deploy")
			if err == nil && (r.Description != "" || r.AssumeRolePolicyDocument != iamTestTrust || len(r.Tags) != 1) {
				return fmt.Errorf("role %+v", r)
			}
			return err
		}},
	}
	for _, c := range checks {
		if err := c.err(); err != nil {
			t.Errorf("%s: %v", c.what, err)
		}
	}
}

func wantAbsent[T any](_ T, err error) error {
	if err == nil {
		return errors.New("exists")
	}
	return nil
}

// TestIAMSiblingPermissionDoesNotAuthorize: a caller allowed actions
// other than the operation's own, on every resource, is refused, and
// nothing changes; allowed the operation's own action, the same call
// succeeds.
func TestIAMSiblingPermissionDoesNotAuthorize(t *testing.T) {
	h, akid := authzWorld(t)
	other := strings.Replace(iamTestTrust, ":root", ":user/ci/bob", 1)
	tests := []struct {
		name    string
		caller  *rpc.Caller
		action  string
		kv      []string
		allowed []string
		then    string // the error code of the call allowed its own action
	}{
		{"delete-user-policy-with-only-put-and-get-user-policy", nil, "DeleteUserPolicy", []string{"UserName", "bob", "PolicyName", "in"}, []string{"iam:PutUserPolicy", "iam:GetUserPolicy"}, ""},
		{"delete-group-policy-with-only-put-group-policy", nil, "DeleteGroupPolicy", []string{"GroupName", "devs", "PolicyName", "in"}, []string{"iam:PutGroupPolicy"}, ""},
		{"delete-role-policy-with-only-delete-user-policy", nil, "DeleteRolePolicy", []string{"RoleName", "deploy", "PolicyName", "in"}, []string{"iam:DeleteUserPolicy", "iam:DeleteGroupPolicy"}, ""},
		{"put-user-policy-with-only-put-group-and-role-policy", nil, "PutUserPolicy", []string{"UserName", "bob", "PolicyName", "in2", "PolicyDocument", iamTestAllowRead}, []string{"iam:PutGroupPolicy", "iam:PutRolePolicy"}, ""},
		{"detach-user-policy-with-only-attach-user-policy", nil, "DetachUserPolicy", []string{"UserName", "bob", "PolicyArn", testPol}, []string{"iam:AttachUserPolicy"}, ""},
		{"detach-role-policy-with-only-detach-user-and-group-policy", nil, "DetachRolePolicy", []string{"RoleName", "deploy", "PolicyArn", testPol}, []string{"iam:DetachUserPolicy", "iam:DetachGroupPolicy"}, ""},
		{"attach-group-policy-with-only-attach-user-and-role-policy", nil, "AttachGroupPolicy", []string{"GroupName", "devs", "PolicyArn", iam.AdministratorAccessARN}, []string{"iam:AttachUserPolicy", "iam:AttachRolePolicy"}, ""},
		{"delete-policy-version-with-only-create-and-set-default", nil, "DeletePolicyVersion", []string{"PolicyArn", testPol, "VersionId", "v2"}, []string{"iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion"}, ""},
		{"set-default-policy-version-with-only-get-policy-version", nil, "SetDefaultPolicyVersion", []string{"PolicyArn", testPol, "VersionId", "v2"}, []string{"iam:GetPolicyVersion", "iam:GetPolicy"}, ""},
		{"delete-policy-with-only-delete-policy-version", nil, "DeletePolicy", []string{"PolicyArn", testPol}, []string{"iam:DeletePolicyVersion"}, "DeleteConflict"},
		{"update-own-access-key-with-only-list-and-create", bobCaller, "UpdateAccessKey", []string{"AccessKeyId", akid, "Status", "Inactive"}, []string{"iam:ListAccessKeys", "iam:CreateAccessKey"}, ""},
		{"delete-own-access-key-with-only-update-access-key", bobCaller, "DeleteAccessKey", []string{"AccessKeyId", akid}, []string{"iam:UpdateAccessKey"}, ""},
		{"create-own-access-key-with-only-list-access-keys", bobCaller, "CreateAccessKey", nil, []string{"iam:ListAccessKeys"}, ""},
		{"remove-user-from-group-with-only-add-user-to-group", nil, "RemoveUserFromGroup", []string{"GroupName", "devs", "UserName", "bob"}, []string{"iam:AddUserToGroup"}, ""},
		{"add-user-to-group-with-only-remove-user-from-group", nil, "AddUserToGroup", []string{"GroupName", "devs", "UserName", "carol"}, []string{"iam:RemoveUserFromGroup"}, ""},
		{"untag-user-with-only-tag-user", nil, "UntagUser", []string{"UserName", "bob", "TagKeys.member.1", "team"}, []string{"iam:TagUser"}, ""},
		{"tag-role-with-only-tag-user", nil, "TagRole", []string{"RoleName", "deploy", "Tags.member.1.Key", "x", "Tags.member.1.Value", "y"}, []string{"iam:TagUser", "iam:UntagRole"}, ""},
		{"untag-oidc-provider-with-only-tag-oidc-provider", nil, "UntagOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC, "TagKeys.member.1", "team"}, []string{"iam:TagOpenIDConnectProvider"}, ""},
		{"remove-client-id-with-only-add-client-id", nil, "RemoveClientIDFromOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC, "ClientID", "sts.amazonaws.com"}, []string{"iam:AddClientIDToOpenIDConnectProvider"}, ""},
		{"add-client-id-with-only-remove-client-id", nil, "AddClientIDToOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC, "ClientID", "c2"}, []string{"iam:RemoveClientIDFromOpenIDConnectProvider"}, ""},
		{"delete-oidc-provider-with-only-get-and-update-thumbprint", nil, "DeleteOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC}, []string{"iam:GetOpenIDConnectProvider", "iam:UpdateOpenIDConnectProviderThumbprint"}, ""},
		{"update-assume-role-policy-with-only-update-role", nil, "UpdateAssumeRolePolicy", []string{"RoleName", "deploy", "PolicyDocument", other}, []string{"iam:UpdateRole"}, ""},
		{"update-role-with-only-update-assume-role-policy", nil, "UpdateRole", []string{"RoleName", "deploy", "Description", "changed"}, []string{"iam:UpdateAssumeRolePolicy"}, ""},
		{"delete-own-login-profile-with-only-get-and-update", bobCaller, "DeleteLoginProfile", nil, []string{"iam:GetLoginProfile", "iam:UpdateLoginProfile"}, ""},
		{"delete-virtual-mfa-device-with-only-create-and-deactivate", nil, "DeleteVirtualMFADevice", []string{"SerialNumber", testMFA}, []string{"iam:CreateVirtualMFADevice", "iam:DeactivateMFADevice"}, ""},
		{"update-user-with-only-get-user", nil, "UpdateUser", []string{"UserName", "carol", "NewUserName", "caroline"}, []string{"iam:GetUser"}, ""},
		{"update-group-with-only-get-group", nil, "UpdateGroup", []string{"GroupName", "devs", "NewGroupName", "builders"}, []string{"iam:GetGroup"}, ""},
		{"create-user-with-only-create-group-and-role", nil, "CreateUser", []string{"UserName", "dave"}, []string{"iam:CreateGroup", "iam:CreateRole"}, ""},
	}
	for _, tc := range tests {
		caller := tc.caller
		if caller == nil {
			caller = iamAdminCaller
		}
		t.Run("fail/"+tc.name, func(t *testing.T) {
			asked, err := h.authzCall(t, caller, allowActions(tc.allowed...), tc.action, tc.kv...)
			if wireCode(err) != "AccessDenied" {
				t.Errorf("error %v, want AccessDenied", err)
			}
			if len(asked) == 0 || asked[0].Action != "iam:"+tc.action {
				t.Errorf("asked %q, want iam:%s first", authzStrings(asked), tc.action)
			}
		})
	}
	t.Run("ok/world-unchanged-by-refused-calls", func(t *testing.T) { checkAuthzWorld(t, h, akid) })

	for _, tc := range tests {
		caller := tc.caller
		if caller == nil {
			caller = iamAdminCaller
		}
		own := strings.Replace(tc.name, "-with-only-", "-allowed-instead-of-", 1)
		t.Run("ok/"+own, func(t *testing.T) {
			h, akid := authzWorld(t)
			kv := slices.Clone(tc.kv)
			if tc.action == "UpdateAccessKey" || tc.action == "DeleteAccessKey" {
				kv[1] = akid
			}
			if _, err := h.authzCall(t, caller, allowActions("iam:"+tc.action), tc.action, kv...); wireCode(err) != tc.then {
				t.Errorf("%s allowed: %v, want %q", tc.action, err, tc.then)
			}
		})
	}
}

// TestIAMOwnUserOperations: without UserName, an operation on one's own
// user is on the calling user, and never reaches another user's
// credentials; a caller that is not an IAM user must name the user, and is
// told so before any authorization.
func TestIAMOwnUserOperations(t *testing.T) {
	h, akid := authzWorld(t)
	ctx := context.Background()
	adminKeys, err := h.svc.ListAccessKeys(ctx, "admin")
	if err != nil || len(adminKeys) == 0 {
		t.Fatalf("admin's keys: %v %v", adminKeys, err)
	}
	adminKey := adminKeys[0].ID

	t.Run("ok/list-access-keys-lists-the-callers-own-keys-only", func(t *testing.T) {
		body, _, err := h.call(t, bobCaller, "ListAccessKeys")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(body, "<AccessKeyId>"+akid+"</AccessKeyId>") || strings.Contains(body, adminKey) || strings.Contains(body, "<UserName>admin</UserName>") {
			t.Errorf("bob's ListAccessKeys:\n%s", body)
		}
	})
	t.Run("ok/get-user-is-the-caller", func(t *testing.T) {
		body, _, err := h.call(t, bobCaller, "GetUser")
		if err != nil || !strings.Contains(body, "<Arn>"+testUser+"</Arn>") {
			t.Errorf("bob's GetUser: %v\n%s", err, body)
		}
	})
	t.Run("ok/get-login-profile-is-the-callers", func(t *testing.T) {
		body, _, err := h.call(t, bobCaller, "GetLoginProfile")
		if err != nil || !strings.Contains(body, "<UserName>bob</UserName>") {
			t.Errorf("bob's GetLoginProfile: %v\n%s", err, body)
		}
	})
	t.Run("ok/create-access-key-creates-the-callers", func(t *testing.T) {
		body, _, err := h.call(t, bobCaller, "CreateAccessKey")
		if err != nil || !strings.Contains(body, "<UserName>bob</UserName>") {
			t.Fatalf("bob's CreateAccessKey: %v\n%s", err, body)
		}
		keys, _ := h.svc.ListAccessKeys(ctx, "bob")
		after, _ := h.svc.ListAccessKeys(ctx, "admin")
		if len(keys) != 2 || len(after) != len(adminKeys) {
			t.Errorf("bob has %d keys, admin %d (was %d)", len(keys), len(after), len(adminKeys))
		}
	})
	for _, tc := range []struct {
		name, action string
		kv           []string
	}{
		{"fail/update-access-key-of-another-user-is-no-such-entity", "UpdateAccessKey", []string{"AccessKeyId", adminKey, "Status", "Inactive"}},
		{"fail/delete-access-key-of-another-user-is-no-such-entity", "DeleteAccessKey", []string{"AccessKeyId", adminKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asked, err := h.authzCall(t, bobCaller, allowAll, tc.action, tc.kv...)
			if got := authzStrings(asked); len(got) != 1 || got[0] != "iam:"+tc.action+" "+testUser {
				t.Errorf("asked %q, want iam:%s on bob", got, tc.action)
			}
			if wireCode(err) != "NoSuchEntity" {
				t.Errorf("error %v, want NoSuchEntity", err)
			}
			keys, _ := h.svc.ListAccessKeys(ctx, "admin")
			if len(keys) != len(adminKeys) || keys[0].Status != "Active" {
				t.Errorf("admin's keys changed: %+v", keys)
			}
		})
	}
	for _, tc := range []struct {
		action string
		kv     []string
	}{
		{"GetUser", nil}, {"CreateAccessKey", nil}, {"ListAccessKeys", nil},
		{"UpdateAccessKey", []string{"AccessKeyId", akid, "Status", "Inactive"}}, {"DeleteAccessKey", []string{"AccessKeyId", akid}},
		{"ListMFADevices", nil}, {"GetLoginProfile", nil}, {"DeleteLoginProfile", nil},
	} {
		t.Run("fail/"+strings.ToLower(tc.action)+"-by-a-role-session-needs-user-name", func(t *testing.T) {
			h.wantInvalidUnasked(t, roleSessionCaller, allowAll, tc.action, tc.kv...)
		})
	}
}

// TestIAMOrderOfRefusals: a request missing a required member is refused
// before any authorization; a caller not allowed is refused before learning
// whether the resource exists; an allowed caller then learns it does not.
func TestIAMOrderOfRefusals(t *testing.T) {
	h, _ := authzWorld(t)
	missingMember := []struct {
		action string
		kv     []string
	}{
		{"CreateUser", nil},
		{"GetGroup", nil},
		{"DeleteUserPolicy", []string{"UserName", "bob"}},
		{"PutRolePolicy", []string{"RoleName", "deploy", "PolicyName", "p"}},
		{"AttachRolePolicy", []string{"RoleName", "deploy"}},
		{"DetachGroupPolicy", []string{"GroupName", "devs"}},
		{"AddUserToGroup", []string{"GroupName", "devs"}},
		{"UpdateAccessKey", []string{"UserName", "bob", "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"}},
		{"DeleteAccessKey", []string{"UserName", "bob"}},
		{"GetAccessKeyLastUsed", nil},
		{"DeletePolicyVersion", []string{"PolicyArn", testPol}},
		{"GetPolicyVersion", []string{"PolicyArn", testPol}},
		{"UpdateAssumeRolePolicy", []string{"RoleName", "deploy"}},
		{"AddClientIDToOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC}},
		{"RemoveClientIDFromOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testOIDC}},
		{"EnableMFADevice", []string{"UserName", "bob", "SerialNumber", testMFA, "AuthenticationCode1", "123456"}},
		{"DeleteVirtualMFADevice", nil},
		{"CreateVirtualMFADevice", nil},
		{"DeleteOpenIDConnectProvider", nil},
	}
	for _, tc := range missingMember {
		t.Run("fail/"+strings.ToLower(tc.action)+"-missing-member-is-validation-error-unasked", func(t *testing.T) {
			h.wantInvalidUnasked(t, iamAdminCaller, denyAll, tc.action, tc.kv...)
		})
	}

	missingResource := []struct {
		action string
		kv     []string
	}{
		{"GetUser", []string{"UserName", "nobody"}},
		{"DeleteUserPolicy", []string{"UserName", "nobody", "PolicyName", "in"}},
		{"DeleteUserPolicy", []string{"UserName", "bob", "PolicyName", "none"}},
		{"GetGroupPolicy", []string{"GroupName", "nogroup", "PolicyName", "in"}},
		{"AttachGroupPolicy", []string{"GroupName", "nogroup", "PolicyArn", testPol}},
		{"DetachRolePolicy", []string{"RoleName", "deploy", "PolicyArn", iam.AdministratorAccessARN}},
		{"GetRole", []string{"RoleName", "norole"}},
		{"ListGroupsForUser", []string{"UserName", "nobody"}},
		{"UpdateAccessKey", []string{"UserName", "carol", "AccessKeyId", "AKIAAAAAAAAAAAAAAAAA", "Status", "Inactive"}},
		{"GetAccessKeyLastUsed", []string{"AccessKeyId", "AKIAAAAAAAAAAAAAAAAA"}},
		{"DeletePolicy", []string{"PolicyArn", testAcct + "policy/nope"}},
		{"GetPolicyVersion", []string{"PolicyArn", testPol, "VersionId", "v9"}},
		{"DeleteOpenIDConnectProvider", []string{"OpenIDConnectProviderArn", testAcct + "oidc-provider/nope.example.com"}},
		{"ListOpenIDConnectProviderTags", []string{"OpenIDConnectProviderArn", testAcct + "oidc-provider/nope.example.com"}},
		{"DeleteVirtualMFADevice", []string{"SerialNumber", testAcct + "mfa/none"}},
		{"GetLoginProfile", []string{"UserName", "carol"}},
		{"DeleteLoginProfile", []string{"UserName", "nobody"}},
	}
	for _, tc := range missingResource {
		name := strings.ToLower(tc.action) + "-" + tc.kv[1]
		t.Run("fail/"+name+"-denied-is-access-denied", func(t *testing.T) {
			asked, err := h.authzCall(t, iamAdminCaller, denyAll, tc.action, tc.kv...)
			if len(asked) != 1 || wireCode(err) != "AccessDenied" {
				t.Errorf("asked %q, error %v, want one question and AccessDenied", authzStrings(asked), err)
			}
		})
		t.Run("fail/"+name+"-allowed-is-no-such-entity", func(t *testing.T) {
			asked, err := h.authzCall(t, iamAdminCaller, allowAll, tc.action, tc.kv...)
			if len(asked) != 1 || wireCode(err) != "NoSuchEntity" {
				t.Errorf("asked %q, error %v, want one question and NoSuchEntity", authzStrings(asked), err)
			}
		})
	}
}

// TestIAMRenameNeedsPermissionOnTheNewARN: UpdateUser and UpdateGroup ask
// for the action on the entity and then on its new ARN, and a caller
// allowed only the first is refused without the rename.
func TestIAMRenameNeedsPermissionOnTheNewARN(t *testing.T) {
	h, _ := authzWorld(t)
	tests := []struct {
		name, action string
		kv           []string
		want         []string
		exists       func() error
	}{
		{"fail/rename-user", "UpdateUser", []string{"UserName", "bob", "NewUserName", "robert"},
			[]string{"iam:UpdateUser " + testUser, "iam:UpdateUser " + testAcct + "user/ci/robert"},
			func() error { _, err := h.svc.GetUser(context.Background(), "bob"); return err }},
		{"fail/move-user", "UpdateUser", []string{"UserName", "bob", "NewPath", "/x/"},
			[]string{"iam:UpdateUser " + testUser, "iam:UpdateUser " + testAcct + "user/x/bob"},
			func() error {
				u, err := h.svc.GetUser(context.Background(), "bob")
				if err == nil && u.Path != "/ci/" {
					return fmt.Errorf("moved to %s", u.Path)
				}
				return err
			}},
		{"fail/rename-and-move-group", "UpdateGroup", []string{"GroupName", "devs", "NewGroupName", "builders", "NewPath", "/x/"},
			[]string{"iam:UpdateGroup " + testGrp, "iam:UpdateGroup " + testAcct + "group/x/builders"},
			func() error { _, _, err := h.svc.GetGroup(context.Background(), "devs"); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name+"-allowed-only-on-the-old-arn", func(t *testing.T) {
			asked, err := h.authzCall(t, iamAdminCaller, allowFirst(), tc.action, tc.kv...)
			if got := authzStrings(asked); !slices.Equal(got, tc.want) {
				t.Errorf("asked %q, want %q", got, tc.want)
			}
			if wireCode(err) != "AccessDenied" {
				t.Errorf("error %v, want AccessDenied", err)
			}
			if err := tc.exists(); err != nil {
				t.Errorf("changed: %v", err)
			}
		})
	}
}

// TestIAMChangePasswordRefusesOnlyAnExplicitDeny: ChangePassword is on the
// caller's own user and needs no permission; only an explicit Deny refuses
// it.
func TestIAMChangePasswordRefusesOnlyAnExplicitDeny(t *testing.T) {
	h, _ := authzWorld(t)
	const pw, next = "correct horse battery staple", "another horse battery staple"
	tests := []struct {
		name   string
		decide func(*rpc.Authz) policy.Decision
		kv     []string
		code   string
	}{
		{"fail/explicit-deny-is-access-denied", explicitDenyAll, []string{"OldPassword", pw, "NewPassword", next}, "AccessDenied"},
		{"ok/no-allow-needed", denyAll, []string{"OldPassword", pw, "NewPassword", next}, ""},
		{"fail/old-password-checked-after-authorization", denyAll, []string{"OldPassword", pw, "NewPassword", next}, "InvalidInput"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			asked, err := h.authzCall(t, bobCaller, tc.decide, "ChangePassword", tc.kv...)
			if got := authzStrings(asked); len(got) != 1 || got[0] != "iam:ChangePassword "+testUser+" (explicit deny only)" {
				t.Errorf("asked %q", got)
			}
			if wireCode(err) != tc.code {
				t.Errorf("error %v, want %q", err, tc.code)
			}
		})
	}
}
