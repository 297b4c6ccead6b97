package iamapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

const iamTestAccount = "123456789012"

const (
	iamTestAllowRead = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}]}`
	iamTestTrust     = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
)

// iamHarness calls IAM handlers directly, with an authorizer that allows
// everything and records what was asked (or denies everything).
type iamHarness struct {
	svc  *iam.Service
	mux  *rpc.Mux
	deny bool
}

func newIAMHarness(t *testing.T) *iamHarness {
	t.Helper()
	st, _ := testutil.TempStore(t)
	sealer := testutil.Sealer(t)
	svc := iam.New(st, sealer, iamTestAccount, time.Now, rand.Reader)
	if _, _, _, err := svc.Bootstrap(context.Background(), "admin"); err != nil {
		t.Fatal(err)
	}
	m := rpc.NewMux()
	Register(m, svc)
	return &iamHarness{svc: svc, mux: m}
}

var iamAdminCaller = &rpc.Caller{
	Account: iamTestAccount, ARN: "arn:aws:iam::123456789012:user/admin", UserID: "AIDAADMIN", UserName: "admin", Type: "IAMUser",
}

// request builds the request of one operation as caller with the given
// parameters ("k", "v", …), and returns it with the operation's entry.
func (h *iamHarness) request(t *testing.T, caller *rpc.Caller, action string, kv ...string) (*rpc.Operation, *rpc.Request) {
	t.Helper()
	op := h.mux.Lookup("iam", action)
	if op == nil {
		t.Fatalf("operation iam:%s is not registered", action)
	}
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	params, err := awsapi.ParseQuery(v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return op, &rpc.Request{ID: "req-1", Time: time.Now(), Service: "iam", Action: action, Params: params, Caller: caller}
}

// call runs one operation as caller with the given parameters ("k", "v",
// …) and returns its result encoded as the wire would carry it.
func (h *iamHarness) call(t *testing.T, caller *rpc.Caller, action string, kv ...string) (string, *rpc.Request, error) {
	t.Helper()
	op, r := h.request(t, caller, action, kv...)
	r.Authorizer = func(context.Context, *rpc.Request, *rpc.Authz) (policy.Result, error) {
		if h.deny {
			return policy.Result{Decision: policy.ImplicitDeny}, nil
		}
		return policy.Result{Decision: policy.Allow}, nil
	}
	res, err := op.Handler(context.Background(), r)
	if err != nil {
		return "", r, err
	}
	body, err := awsapi.EncodeQuery(awsapi.NamespaceIAM, action, res, r.ID)
	if err != nil {
		t.Fatalf("encode %s result: %v", action, err)
	}
	return string(body), r, nil
}

// mustCall is call that fails the test on error.
func (h *iamHarness) mustCall(t *testing.T, action string, kv ...string) string {
	t.Helper()
	body, _, err := h.call(t, iamAdminCaller, action, kv...)
	if err != nil {
		t.Fatalf("%s: %v", action, err)
	}
	return body
}

// wireError maps err as the server's toWire does for IAM's handlers.
func wireError(err error) *awsapi.Error {
	var we *awsapi.Error
	if errors.As(err, &we) {
		return we
	}
	var pe *policy.MalformedError
	if errors.As(err, &pe) {
		return &awsapi.Error{Code: awsapi.CodeMalformedPolicyDocument, Message: pe.Msg}
	}
	if w, ok := Codes.ToWire(err); ok {
		return w
	}
	return awsapi.Internal()
}

// wireCode maps err as the server does and returns the Query error code.
func wireCode(err error) string {
	if err == nil {
		return ""
	}
	return wireError(err).QueryCode()
}

func TestRegisterAddsEveryIAMOperation(t *testing.T) {
	h := newIAMHarness(t)
	want := strings.Fields(`CreateUser GetUser ListUsers UpdateUser DeleteUser TagUser UntagUser ListUserTags
		CreateAccessKey ListAccessKeys UpdateAccessKey DeleteAccessKey GetAccessKeyLastUsed
		CreateGroup GetGroup ListGroups UpdateGroup DeleteGroup AddUserToGroup RemoveUserFromGroup ListGroupsForUser
		CreateRole GetRole ListRoles UpdateRole UpdateAssumeRolePolicy DeleteRole TagRole UntagRole ListRoleTags
		PutUserPolicy GetUserPolicy ListUserPolicies DeleteUserPolicy PutGroupPolicy GetGroupPolicy ListGroupPolicies DeleteGroupPolicy
		PutRolePolicy GetRolePolicy ListRolePolicies DeleteRolePolicy
		CreatePolicy GetPolicy ListPolicies DeletePolicy CreatePolicyVersion GetPolicyVersion ListPolicyVersions DeletePolicyVersion SetDefaultPolicyVersion
		AttachUserPolicy DetachUserPolicy ListAttachedUserPolicies AttachGroupPolicy DetachGroupPolicy ListAttachedGroupPolicies
		AttachRolePolicy DetachRolePolicy ListAttachedRolePolicies ListEntitiesForPolicy
		CreateVirtualMFADevice EnableMFADevice DeactivateMFADevice DeleteVirtualMFADevice ListMFADevices ListVirtualMFADevices
		SimulatePrincipalPolicy SimulateCustomPolicy
		CreateLoginProfile GetLoginProfile UpdateLoginProfile DeleteLoginProfile ChangePassword
		CreateOpenIDConnectProvider GetOpenIDConnectProvider ListOpenIDConnectProviders DeleteOpenIDConnectProvider
		AddClientIDToOpenIDConnectProvider RemoveClientIDFromOpenIDConnectProvider UpdateOpenIDConnectProviderThumbprint
		TagOpenIDConnectProvider UntagOpenIDConnectProvider ListOpenIDConnectProviderTags`)
	for _, a := range want {
		if h.mux.Lookup("iam", a) == nil {
			t.Errorf("iam:%s not registered", a)
		}
	}
	if n := len(h.mux.Operations()); n != len(want) {
		t.Errorf("%d operations registered, want %d", n, len(want))
	}
}

func TestIAMErrorKindsBecomeTheirWireCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
		ok   bool
	}{
		{"ok/no-such-entity", &iam.Error{Kind: iam.ErrNoSuchEntity, Msg: "m"}, "NoSuchEntity", true},
		{"ok/exists", &iam.Error{Kind: iam.ErrEntityAlreadyExists, Msg: "m"}, "EntityAlreadyExists", true},
		{"ok/limit", &iam.Error{Kind: iam.ErrLimitExceeded, Msg: "m"}, "LimitExceeded", true},
		{"ok/malformed", &iam.Error{Kind: iam.ErrMalformedPolicyDocument, Msg: "m"}, "MalformedPolicyDocument", true},
		{"ok/conflict", &iam.Error{Kind: iam.ErrDeleteConflict, Msg: "m"}, "DeleteConflict", true},
		{"ok/invalid-input", &iam.Error{Kind: iam.ErrInvalidInput, Msg: "m"}, "InvalidInput", true},
		{"ok/auth-code", &iam.Error{Kind: iam.ErrInvalidAuthenticationCode, Msg: "m"}, "InvalidAuthenticationCode", true},
		{"ok/validation", &iam.Error{Kind: iam.ErrValidation, Msg: "m"}, "ValidationError", true},
		{"ok/password-policy", &iam.Error{Kind: iam.ErrPasswordPolicyViolation, Msg: "m"}, "PasswordPolicyViolation", true},
		{"ok/wrapped", errors.Join(errors.New("ctx"), &iam.Error{Kind: iam.ErrNoSuchEntity, Msg: "m"}), "NoSuchEntity", true},
		{"fail/plain-error", errors.New("disk on fire"), "", false},
		{"fail/sentinel-without-message", iam.ErrNoSuchEntity, "", false},
		{"fail/unknown-kind", &iam.Error{Kind: errors.New("other"), Msg: "m"}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := Codes.ToWire(tc.err)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if ok && (w.QueryCode() != tc.code || w.Message != "m") {
				t.Errorf("Codes.toWire = %s %q, want %s", w.QueryCode(), w.Message, tc.code)
			}
		})
	}
}

// TestIAMAuthorizationResources checks the action and resource each
// operation asks the authorizer about.
func TestIAMAuthorizationResources(t *testing.T) {
	h := newIAMHarness(t)
	h.mustCall(t, "CreateUser", "UserName", "bob", "Path", "/ci/")
	h.mustCall(t, "CreateGroup", "GroupName", "devs", "Path", "/eng/")
	h.mustCall(t, "CreateRole", "RoleName", "deploy", "Path", "/ci/", "AssumeRolePolicyDocument", iamTestTrust)
	h.mustCall(t, "CreatePolicy", "PolicyName", "read", "Path", "/app/", "PolicyDocument", iamTestAllowRead)
	const acct = "arn:aws:iam::123456789012:"
	tests := []struct {
		name     string
		action   string
		kv       []string
		resource string
		keys     []string
	}{
		{"ok/create-user-path", "CreateUser", []string{"UserName", "carol", "Path", "/x/", "Tags.member.1.Key", "team", "Tags.member.1.Value", "a"}, acct + "user/x/carol", []string{"aws:TagKeys", "aws:RequestTag/team"}},
		{"ok/get-user-with-path", "GetUser", []string{"UserName", "BOB"}, acct + "user/ci/bob", nil},
		{"ok/get-user-self", "GetUser", nil, acct + "user/admin", nil},
		{"ok/get-missing-user", "GetUser", []string{"UserName", "nobody"}, acct + "user/nobody", nil},
		{"ok/list-users", "ListUsers", []string{"PathPrefix", "/ci/"}, acct + "user/ci/", nil},
		{"ok/list-users-all", "ListUsers", nil, acct + "user/", nil},
		{"ok/access-keys-self", "ListAccessKeys", nil, acct + "user/admin", nil},
		{"ok/group", "GetGroup", []string{"GroupName", "devs"}, acct + "group/eng/devs", nil},
		{"ok/add-user-to-group", "AddUserToGroup", []string{"GroupName", "devs", "UserName", "bob"}, acct + "group/eng/devs", nil},
		{"ok/role", "GetRole", []string{"RoleName", "deploy"}, acct + "role/ci/deploy", nil},
		{"ok/role-policy", "PutRolePolicy", []string{"RoleName", "deploy", "PolicyName", "p", "PolicyDocument", iamTestAllowRead}, acct + "role/ci/deploy", nil},
		{"ok/policy", "GetPolicy", []string{"PolicyArn", acct + "policy/app/read"}, acct + "policy/app/read", nil},
		{"ok/attach", "AttachUserPolicy", []string{"UserName", "bob", "PolicyArn", acct + "policy/app/read"}, acct + "user/ci/bob", []string{"iam:PolicyARN"}},
		{"ok/list-policies", "ListPolicies", nil, acct + "policy/", nil},
		{"ok/create-mfa", "CreateVirtualMFADevice", []string{"VirtualMFADeviceName", "phone"}, acct + "mfa/phone", nil},
		{"ok/simulate-principal", "SimulatePrincipalPolicy", []string{"PolicySourceArn", acct + "user/ci/bob", "ActionNames.member.1", "s3:GetObject"}, acct + "user/ci/bob", nil},
		{"ok/simulate-custom", "SimulateCustomPolicy", []string{"PolicyInputList.member.1", iamTestAllowRead, "ActionNames.member.1", "s3:GetObject"}, "*", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, r, err := h.call(t, iamAdminCaller, tc.action, tc.kv...)
			if err != nil && !strings.Contains(tc.name, "missing") {
				t.Fatalf("%s: %v", tc.action, err)
			}
			if len(r.Decisions) == 0 {
				t.Fatalf("%s made no authorization", tc.action)
			}
			d := r.Decisions[0]
			if d.Action != "iam:"+tc.action || d.Resource != tc.resource {
				t.Errorf("authorized %s on %s, want iam:%s on %s", d.Action, d.Resource, tc.action, tc.resource)
			}
		})
	}

	t.Run("fail/denied-before-change", func(t *testing.T) {
		h.deny = true
		defer func() { h.deny = false }()
		for _, c := range [][]string{
			{"CreateUser", "UserName", "mallory"},
			{"DeleteUser", "UserName", "bob"},
			{"CreateAccessKey", "UserName", "bob"},
			{"AttachUserPolicy", "UserName", "bob", "PolicyArn", iam.AdministratorAccessARN},
			{"GetUser", "UserName", "nobody"},
		} {
			_, _, err := h.call(t, iamAdminCaller, c[0], c[1:]...)
			if wireCode(err) != "AccessDenied" {
				t.Errorf("%s denied: error %v, want AccessDenied", c[0], err)
			}
		}
		if _, err := h.svc.GetUser(context.Background(), "mallory"); err == nil {
			t.Error("denied CreateUser created the user")
		}
		keys, _ := h.svc.ListAccessKeys(context.Background(), "bob")
		if len(keys) != 0 {
			t.Error("denied CreateAccessKey created a key")
		}
	})
}

func TestIAMHandlerErrors(t *testing.T) {
	h := newIAMHarness(t)
	h.mustCall(t, "CreateUser", "UserName", "bob")
	roleCaller := &rpc.Caller{Account: iamTestAccount, ARN: "arn:aws:sts::123456789012:assumed-role/r/s", RoleName: "r", Type: "AssumedRole"}
	tests := []struct {
		name   string
		caller *rpc.Caller
		action string
		kv     []string
		code   string
		// status and msg, when set, are the HTTP status and the exact message.
		status int
		msg    string
	}{
		{"fail/missing-required", iamAdminCaller, "CreateUser", nil, "ValidationError", 0, ""},
		{"fail/exists", iamAdminCaller, "CreateUser", []string{"UserName", "BOB"}, "EntityAlreadyExists", 0, ""},
		{"fail/boundary-refused", iamAdminCaller, "CreateUser", []string{"UserName", "x", "PermissionsBoundary", iam.AdministratorAccessARN}, "InvalidInput", 0, ""},
		{"fail/no-such-user", iamAdminCaller, "GetUser", []string{"UserName", "nobody"}, "NoSuchEntity", 0, ""},
		{"fail/role-caller-needs-user-name", roleCaller, "GetUser", nil, "ValidationError", 0, ""},
		{"fail/role-caller-access-keys", roleCaller, "CreateAccessKey", nil, "ValidationError", 0, ""},
		{"fail/bad-max-items", iamAdminCaller, "ListUsers", []string{"MaxItems", "0"}, "ValidationError", 0, ""},
		{"fail/bad-marker", iamAdminCaller, "ListUsers", []string{"Marker", "garbage"}, "ValidationError", 0, ""},
		{"fail/malformed-policy", iamAdminCaller, "PutUserPolicy", []string{"UserName", "bob", "PolicyName", "p", "PolicyDocument", `{"Statement":[{"Effect":"Allow"}]}`}, "MalformedPolicyDocument", 0, ""},
		{"fail/role-session-duration", iamAdminCaller, "CreateRole", []string{"RoleName", "r", "AssumeRolePolicyDocument", iamTestTrust, "MaxSessionDuration", "60"}, "ValidationError", 0, ""},
		{"fail/delete-conflict", iamAdminCaller, "DeleteUser", []string{"UserName", "admin"}, "DeleteConflict", 0, ""},
		{"fail/policy-arn-invalid", iamAdminCaller, "GetPolicy", []string{"PolicyArn", "arn:aws:s3:::not/a/policy"}, "InvalidInput", 0, ""},
		{"fail/simulate-no-actions", iamAdminCaller, "SimulateCustomPolicy", []string{"PolicyInputList.member.1", iamTestAllowRead}, "ValidationError", 0, ""},
		{"fail/simulate-no-policies", iamAdminCaller, "SimulateCustomPolicy", []string{"ActionNames.member.1", "s3:GetObject"}, "ValidationError", 0, ""},
		{"fail/simulate-malformed", iamAdminCaller, "SimulateCustomPolicy", []string{"PolicyInputList.member.1", "{", "ActionNames.member.1", "s3:GetObject"}, "MalformedPolicyDocument", 0, ""},
		{"fail/entity-filter", iamAdminCaller, "ListEntitiesForPolicy", []string{"PolicyArn", iam.AdministratorAccessARN, "EntityFilter", "Bucket"}, "ValidationError", 0, ""},
		{"fail/mfa-bad-code", iamAdminCaller, "EnableMFADevice", []string{"UserName", "bob", "SerialNumber", "arn:aws:iam::123456789012:mfa/x", "AuthenticationCode1", "12", "AuthenticationCode2", "123456"}, "ValidationError", 0, ""},

		// AWS's words, exactly.
		{"fail/attach-user-policy-not-an-arn", iamAdminCaller, "AttachUserPolicy", []string{"UserName", "bob", "PolicyArn", "ReadOnlyAccess-not-an-arn"}, "ValidationError", 400, "Invalid ARN:  Could not be parsed!"},
		{"fail/attach-role-policy-not-an-arn", iamAdminCaller, "AttachRolePolicy", []string{"RoleName", "r", "PolicyArn", "ReadOnlyAccess-not-an-arn"}, "ValidationError", 400, "Invalid ARN:  Could not be parsed!"},
		{"fail/attach-group-policy-not-an-arn", iamAdminCaller, "AttachGroupPolicy", []string{"GroupName", "g", "PolicyArn", "ReadOnlyAccess-not-an-arn"}, "ValidationError", 400, "Invalid ARN:  Could not be parsed!"},
		{"fail/attach-unknown-aws-policy", iamAdminCaller, "AttachUserPolicy", []string{"UserName", "bob", "PolicyArn", "arn:aws:iam::aws:policy/AmazonEC2FullAccess"}, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/AmazonEC2FullAccess does not exist or is not attachable."},
		{"fail/delete-missing-policy", iamAdminCaller, "DeletePolicy", []string{"PolicyArn", "arn:aws:iam::123456789012:policy/nope"}, "NoSuchEntity", 404, "Policy arn:aws:iam::123456789012:policy/nope was not found."},
		{"fail/get-missing-policy", iamAdminCaller, "GetPolicy", []string{"PolicyArn", "arn:aws:iam::aws:policy/NoSuchPolicy"}, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/NoSuchPolicy was not found."},
		{"fail/policy-not-json", iamAdminCaller, "PutUserPolicy", []string{"UserName", "bob", "PolicyName", "p", "PolicyDocument", `{"Version":"2012-10-17","Statement":[`}, "MalformedPolicyDocument", 400, "This policy contains invalid Json"},
		{"fail/create-policy-not-json", iamAdminCaller, "CreatePolicy", []string{"PolicyName", "p", "PolicyDocument", `{"Version":"2012-10-17"}}`}, "MalformedPolicyDocument", 400, "This policy contains invalid Json"},
		{"fail/trust-policy-not-json", iamAdminCaller, "CreateRole", []string{"RoleName", "r2", "AssumeRolePolicyDocument", `not json at all`}, "MalformedPolicyDocument", 400, "This policy contains invalid Json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := h.call(t, tc.caller, tc.action, tc.kv...)
			if got := wireCode(err); got != tc.code {
				t.Errorf("%s: error %v (%s), want %s", tc.action, err, got, tc.code)
			}
			if tc.msg == "" {
				return
			}
			we := wireError(err)
			if we.Status() != tc.status || we.Message != tc.msg {
				t.Errorf("%s: %d %q, want %d %q", tc.action, we.Status(), we.Message, tc.status, tc.msg)
			}
		})
	}
}

func TestIAMPagination(t *testing.T) {
	h := newIAMHarness(t)
	for _, n := range []string{"u1", "u2", "u3", "u4"} {
		h.mustCall(t, "CreateUser", "UserName", n)
	}
	var got []string
	marker := ""
	for pages := 0; pages < 10; pages++ {
		kv := []string{"MaxItems", "2"}
		if marker != "" {
			kv = append(kv, "Marker", marker)
		}
		body := h.mustCall(t, "ListUsers", kv...)
		var res struct {
			Result struct {
				Users       []string `xml:"Users>member>UserName"`
				IsTruncated bool     `xml:"IsTruncated"`
				Marker      string   `xml:"Marker"`
			} `xml:"ListUsersResult"`
		}
		if err := xml.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Result.Users...)
		if !res.Result.IsTruncated {
			if res.Result.Marker != "" {
				t.Error("last page has a marker")
			}
			break
		}
		marker = res.Result.Marker
	}
	if s := strings.Join(got, ","); s != "admin,u1,u2,u3,u4" {
		t.Errorf("paged users = %s", s)
	}
}

func TestIAMResponseShapes(t *testing.T) {
	h := newIAMHarness(t)
	tests := []struct {
		name   string
		action string
		kv     []string
		want   []string
		absent []string
	}{
		{"ok/create-user", "CreateUser", []string{"UserName", "bob", "Tags.member.1.Key", "k", "Tags.member.1.Value", "v"},
			[]string{`<CreateUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateUserResult><User><Path>/</Path><UserName>bob</UserName><UserId>AIDA`, `<Arn>arn:aws:iam::123456789012:user/bob</Arn><CreateDate>`, `<Tags><member><Key>k</Key><Value>v</Value></member></Tags>`}, nil},
		{"ok/list-users-no-tags", "ListUsers", nil, []string{`<Users><member>`, `<IsTruncated>false</IsTruncated>`}, []string{`<Tags>`, `<Marker>`}},
		{"ok/create-access-key", "CreateAccessKey", []string{"UserName", "bob"}, []string{`<AccessKey><UserName>bob</UserName><AccessKeyId>AKIA`, `<Status>Active</Status><SecretAccessKey>`}, nil},
		{"ok/list-access-keys-empty-list", "ListAccessKeys", []string{"UserName", "admin"}, []string{`<AccessKeyMetadata><member>`}, []string{"SecretAccessKey"}},
		{"ok/put-user-policy-empty-result", "PutUserPolicy", []string{"UserName", "bob", "PolicyName", "read", "PolicyDocument", iamTestAllowRead}, []string{`<PutUserPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata>`}, []string{"PutUserPolicyResult"}},
		{"ok/get-user-policy-url-encoded", "GetUserPolicy", []string{"UserName", "bob", "PolicyName", "read"},
			[]string{`<UserName>bob</UserName><PolicyName>read</PolicyName><PolicyDocument>%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Sid%22%3A%22Read%22`}, []string{"GroupName", "RoleName"}},
		{"ok/list-user-policies", "ListUserPolicies", []string{"UserName", "bob"}, []string{`<PolicyNames><member>read</member></PolicyNames>`}, nil},
		{"ok/create-role", "CreateRole", []string{"RoleName", "r", "AssumeRolePolicyDocument", iamTestTrust, "Description", "d"},
			[]string{`<RoleName>r</RoleName><RoleId>AROA`, `<AssumeRolePolicyDocument>%7B%22Version`, `<Description>d</Description></Role>`}, []string{"MaxSessionDuration", "RoleLastUsed"}},
		{"ok/create-role-with-max-session", "CreateRole", []string{"RoleName", "r7200", "AssumeRolePolicyDocument", iamTestTrust, "MaxSessionDuration", "7200"},
			[]string{`<MaxSessionDuration>7200</MaxSessionDuration>`}, []string{"RoleLastUsed"}},
		{"ok/get-role", "GetRole", []string{"RoleName", "r"},
			[]string{`<Description>d</Description><MaxSessionDuration>3600</MaxSessionDuration><RoleLastUsed></RoleLastUsed></Role>`}, nil},
		{"ok/list-roles", "ListRoles", nil, []string{`<MaxSessionDuration>3600</MaxSessionDuration>`}, []string{"RoleLastUsed"}},
		{"ok/update-role-empty-result", "UpdateRole", []string{"RoleName", "r", "Description", ""}, []string{`<UpdateRoleResult></UpdateRoleResult>`}, nil},
		{"ok/list-role-tags-empty", "ListRoleTags", []string{"RoleName", "r"}, []string{`<Tags></Tags><IsTruncated>false</IsTruncated>`}, nil},
		{"ok/get-policy", "GetPolicy", []string{"PolicyArn", iam.AdministratorAccessARN},
			[]string{`<PolicyName>AdministratorAccess</PolicyName><PolicyId>ANPA`, `<DefaultVersionId>v1</DefaultVersionId><AttachmentCount>1</AttachmentCount><PermissionsBoundaryUsageCount>0</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable>`}, nil},
		{"ok/get-policy-version", "GetPolicyVersion", []string{"PolicyArn", iam.AdministratorAccessARN, "VersionId", "v1"},
			[]string{`<PolicyVersion><Document>%7B%22Version%22`, `<VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion>`}, nil},
		{"ok/list-entities", "ListEntitiesForPolicy", []string{"PolicyArn", iam.AdministratorAccessARN},
			[]string{`<PolicyGroups></PolicyGroups><PolicyUsers><member><UserName>admin</UserName><UserId>AIDA`, `<PolicyRoles></PolicyRoles>`}, nil},
		{"ok/access-key-never-used", "GetAccessKeyLastUsed", nil, []string{`<ServiceName>N/A</ServiceName><Region>N/A</Region>`}, []string{"LastUsedDate"}},
		{"ok/mfa-create", "CreateVirtualMFADevice", []string{"VirtualMFADeviceName", "phone"},
			[]string{`<SerialNumber>arn:aws:iam::123456789012:mfa/phone</SerialNumber><Base32StringSeed>`, `<QRCodePNG>iVBORw0KGgo`}, nil},
		{"ok/list-virtual-mfa", "ListVirtualMFADevices", nil, []string{`<VirtualMFADevices><member><SerialNumber>arn:aws:iam::123456789012:mfa/phone</SerialNumber></member>`}, []string{"Base32StringSeed", "QRCodePNG"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kv := tc.kv
			if tc.action == "GetAccessKeyLastUsed" {
				keys, err := h.svc.ListAccessKeys(context.Background(), "bob")
				if err != nil || len(keys) == 0 {
					t.Fatalf("bob's keys: %v", err)
				}
				kv = []string{"AccessKeyId", keys[0].ID}
			}
			body := h.mustCall(t, tc.action, kv...)
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("response lacks %s\n%s", w, body)
				}
			}
			for _, a := range tc.absent {
				if strings.Contains(body, a) {
					t.Errorf("response has %s\n%s", a, body)
				}
			}
		})
	}
}

func TestEncodeDocument(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"ok/unreserved", "AZaz09-_.~", "AZaz09-_.~"},
		{"ok/json", `{"a": "b+c/d"}`, "%7B%22a%22%3A%20%22b%2Bc%2Fd%22%7D"},
		{"ok/utf8", "é", "%C3%A9"},
		{"ok/newline", "\n", "%0A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := encodeDocument(tc.in)
			if got != tc.want {
				t.Errorf("encodeDocument(%q) = %q, want %q", tc.in, got, tc.want)
			}
			back, err := url.QueryUnescape(got)
			if err != nil || back != tc.in {
				t.Errorf("QueryUnescape = %q, %v", back, err)
			}
			back, err = url.PathUnescape(got)
			if err != nil || back != tc.in {
				t.Errorf("PathUnescape = %q, %v", back, err)
			}
		})
	}
}

func TestSimulate(t *testing.T) {
	h := newIAMHarness(t)
	h.mustCall(t, "CreateUser", "UserName", "ci")
	h.mustCall(t, "PutUserPolicy", "UserName", "ci", "PolicyName", "read", "PolicyDocument", "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": \"*\", \"Condition\": {\"Bool\": {\"aws:MultiFactorAuthPresent\": \"true\"}}},\n    {\"Effect\": \"Deny\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": \"arn:aws:secretsmanager:us-east-1:123456789012:secret:/admin/*\"}\n  ]\n}")
	type stmt struct {
		ID    string `xml:"SourcePolicyId"`
		Type  string `xml:"SourcePolicyType"`
		Start struct {
			Line   int `xml:"Line"`
			Column int `xml:"Column"`
		} `xml:"StartPosition"`
	}
	type result struct {
		Action   string   `xml:"EvalActionName"`
		Resource string   `xml:"EvalResourceName"`
		Decision string   `xml:"EvalDecision"`
		Matched  []stmt   `xml:"MatchedStatements>member"`
		Missing  []string `xml:"MissingContextValues>member"`
	}
	decode := func(t *testing.T, body, action string) []result {
		var res struct {
			Results []result `xml:"EvaluationResults>member"`
		}
		d := xml.NewDecoder(bytes.NewReader([]byte(body)))
		var env struct {
			Inner struct {
				Results []result `xml:"EvaluationResults>member"`
			} `xml:"SimulatePrincipalPolicyResult"`
			Custom struct {
				Results []result `xml:"EvaluationResults>member"`
			} `xml:"SimulateCustomPolicyResult"`
		}
		if err := d.Decode(&env); err != nil {
			t.Fatal(err)
		}
		res.Results = append(env.Inner.Results, env.Custom.Results...)
		return res.Results
	}

	const secret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db"
	const adminSecret = "arn:aws:secretsmanager:us-east-1:123456789012:secret:/admin/root"
	body := h.mustCall(t, "SimulatePrincipalPolicy",
		"PolicySourceArn", "arn:aws:iam::123456789012:user/ci",
		"ActionNames.member.1", "secretsmanager:GetSecretValue",
		"ActionNames.member.2", "iam:CreateUser",
		"ResourceArns.member.1", secret,
		"ResourceArns.member.2", adminSecret,
		"ContextEntries.member.1.ContextKeyName", "aws:MultiFactorAuthPresent",
		"ContextEntries.member.1.ContextKeyType", "boolean",
		"ContextEntries.member.1.ContextKeyValues.member.1", "true",
	)
	got := decode(t, body, "SimulatePrincipalPolicy")
	want := []struct{ action, resource, decision string }{
		{"secretsmanager:GetSecretValue", secret, "allowed"},
		{"secretsmanager:GetSecretValue", adminSecret, "explicitDeny"},
		{"iam:CreateUser", secret, "implicitDeny"},
		{"iam:CreateUser", adminSecret, "implicitDeny"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d\n%s", len(got), len(want), body)
	}
	for i, w := range want {
		g := got[i]
		if g.Action != w.action || g.Resource != w.resource || g.Decision != w.decision {
			t.Errorf("result %d = %s %s %s, want %s %s %s", i, g.Action, g.Resource, g.Decision, w.action, w.resource, w.decision)
		}
	}
	if m := got[0].Matched; len(m) != 1 || m[0].ID != "read" || m[0].Type != "user" || m[0].Start.Line != 4 || m[0].Start.Column != 5 {
		t.Errorf("allowed: matched %+v, want statement of read at line 4 column 5", m)
	}
	if m := got[1].Matched; len(m) != 1 || m[0].Start.Line != 5 {
		t.Errorf("denied: matched %+v, want the Deny statement at line 5", m)
	}

	t.Run("ok/missing-context", func(t *testing.T) {
		body := h.mustCall(t, "SimulatePrincipalPolicy",
			"PolicySourceArn", "arn:aws:iam::123456789012:user/ci",
			"ActionNames.member.1", "secretsmanager:GetSecretValue")
		got := decode(t, body, "")
		if len(got) != 1 || got[0].Resource != "*" || got[0].Decision != "implicitDeny" || len(got[0].Missing) != 1 || got[0].Missing[0] != "aws:MultiFactorAuthPresent" {
			t.Errorf("results = %+v", got)
		}
	})
	t.Run("ok/custom", func(t *testing.T) {
		body := h.mustCall(t, "SimulateCustomPolicy",
			"PolicyInputList.member.1", iamTestAllowRead,
			"ActionNames.member.1", "secretsmanager:GetSecretValue",
			"ResourceArns.member.1", secret)
		got := decode(t, body, "")
		if len(got) != 1 || got[0].Decision != "allowed" || len(got[0].Matched) != 1 || got[0].Matched[0].ID != "PolicyInputList.1" {
			t.Errorf("results = %+v", got)
		}
	})
	t.Run("ok/custom-boundary", func(t *testing.T) {
		body := h.mustCall(t, "SimulateCustomPolicy",
			"PolicyInputList.member.1", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`,
			"PermissionsBoundaryPolicyInputList.member.1", iamTestAllowRead,
			"ActionNames.member.1", "secretsmanager:GetSecretValue",
			"ActionNames.member.2", "iam:CreateUser",
			"ResourceArns.member.1", secret)
		got := decode(t, body, "")
		if len(got) != 2 || got[0].Decision != "allowed" || got[1].Decision != "implicitDeny" {
			t.Errorf("results = %+v", got)
		}
	})
	t.Run("fail/unknown-principal", func(t *testing.T) {
		_, _, err := h.call(t, iamAdminCaller, "SimulatePrincipalPolicy", "PolicySourceArn", "arn:aws:iam::123456789012:user/none", "ActionNames.member.1", "s3:GetObject")
		if wireCode(err) != "NoSuchEntity" {
			t.Errorf("error %v, want NoSuchEntity", err)
		}
	})
}

func TestStatementSpans(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []stmtSpan
	}{
		{"ok/one-line-array", `{"Statement":[{"a":1},{"b":2}]}`, []stmtSpan{{xmlPosition{1, 15}, xmlPosition{1, 21}}, {xmlPosition{1, 23}, xmlPosition{1, 29}}}},
		{"ok/single-object", "{\"Version\":\"x\",\n\"Statement\": {\"a\":[1,2]}\n}", []stmtSpan{{xmlPosition{2, 14}, xmlPosition{2, 24}}}},
		{"ok/nested-statement-key-ignored", `{"Id":{"Statement":[1]},"Statement":[{}]}`, []stmtSpan{{xmlPosition{1, 38}, xmlPosition{1, 39}}}},
		{"fail/not-object", `[]`, nil},
		{"fail/truncated", `{"Statement":[{"a":`, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := statementSpans(tc.doc)
			if len(got) != len(tc.want) {
				t.Fatalf("spans = %+v, want %+v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("span %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}
