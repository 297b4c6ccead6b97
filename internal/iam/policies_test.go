package iam

import (
	"fmt"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/policy"
)

// docOfSize returns an identity policy of about n characters not counting
// white space, padded with the Sid, plus pad characters of white space.
func docOfSize(n, pad int) string {
	base := `{"Version":"2012-10-17","Statement":[{"Sid":"","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	sid := strings.Repeat("A", n-len(base))
	return strings.Replace(base, `"Sid":""`, `"Sid":"`+sid+`"`+strings.Repeat(" ", pad), 1)
}

func TestInlinePolicies(t *testing.T) {
	f := newFixture(t)
	f.user(t, "u")
	f.group(t, "g", "")
	f.role(t, "r")
	for _, kind := range []EntityKind{KindUser, KindGroup, KindRole} {
		entity := map[EntityKind]string{KindUser: "u", KindGroup: "g", KindRole: "r"}[kind]
		quota := inlineQuota(kind)
		t.Run(kind.String(), func(t *testing.T) {
			runSteps(t, []step{
				{"ok/put", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "read", allowRead) }, nil, ""},
				{"ok/replace", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "read", allowAll) }, nil, ""},
				{"ok/second", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "Another", allowRead) }, nil, ""},
				{"fail/malformed", func() error {
					return f.svc.PutInlinePolicy(bg, kind, entity, "bad", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}]}`)
				}, ErrMalformedPolicyDocument, "Conditions"},
				{"fail/principal-in-identity", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "bad", trustDoc) }, ErrMalformedPolicyDocument, ""},
				{"fail/empty-document", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "bad", "") }, ErrValidation, "policyDocument"},
				{"fail/control-char", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "bad", "{\x01}") }, ErrValidation, "policyDocument"},
				{"fail/bad-name", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "a b", allowRead) }, ErrValidation, "policyName"},
				{"fail/missing-entity", func() error { return f.svc.PutInlinePolicy(bg, kind, "nobody", "p", allowRead) }, ErrNoSuchEntity, "nobody"},
				{"fail/over-quota", func() error { return f.svc.PutInlinePolicy(bg, kind, entity, "big", docOfSize(quota, 0)) }, ErrLimitExceeded, fmt.Sprintf("Maximum policy size of %d bytes exceeded for %s", quota, kind)},
				{"fail/get-missing", func() error { _, err := f.svc.GetInlinePolicy(bg, kind, entity, "nope"); return err }, ErrNoSuchEntity, fmt.Sprintf("The %s policy with name nope cannot be found.", kind)},
				{"fail/delete-missing", func() error { return f.svc.DeleteInlinePolicy(bg, kind, entity, "nope") }, ErrNoSuchEntity, ""},
				{"ok/delete", func() error { return f.svc.DeleteInlinePolicy(bg, kind, entity, "Another") }, nil, ""},
			})
			ip, err := f.svc.GetInlinePolicy(bg, kind, strings.ToUpper(entity), "read")
			must(t, err)
			if ip.Document != allowAll || ip.EntityName != entity {
				t.Errorf("GetInlinePolicy = %+v", ip)
			}
			names, err := f.svc.ListInlinePolicies(bg, kind, entity)
			must(t, err)
			if strings.Join(names, ",") != "read" {
				t.Errorf("ListInlinePolicies = %v", names)
			}
			must(t, f.svc.DeleteInlinePolicy(bg, kind, entity, "read"))
		})
	}
}

func TestInlineQuotaIgnoresWhitespace(t *testing.T) {
	f := newFixture(t)
	f.user(t, "u")
	// 2048 characters plus 500 of white space fit the user quota.
	must(t, f.svc.PutInlinePolicy(bg, KindUser, "u", "exact", docOfSize(2048, 500)))
	// The quota is on the aggregate of the user's inline policies.
	wantErr(t, f.svc.PutInlinePolicy(bg, KindUser, "u", "more", allowRead), ErrLimitExceeded, "for user u")
	// Replacing the one policy by a smaller one is fine.
	must(t, f.svc.PutInlinePolicy(bg, KindUser, "u", "exact", allowRead))
	must(t, f.svc.PutInlinePolicy(bg, KindUser, "u", "more", allowRead))
}

func TestManagedPolicies(t *testing.T) {
	f := newFixture(t)
	p := f.policy(t, "Read", allowRead)
	f.user(t, "u")
	if p.ARN != "arn:aws:iam::123456789012:policy/Read" || !strings.HasPrefix(p.ID, "ANPA") || p.DefaultVersionID != "v1" || p.AttachmentCount != 0 {
		t.Fatalf("CreatePolicy = %+v", p)
	}
	runSteps(t, []step{
		{"fail/create-exists", func() error {
			_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "read", Path: "/x/", Document: allowRead})
			return err
		}, ErrEntityAlreadyExists, "A policy called read already exists."},
		{"fail/create-too-big", func() error {
			_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "big", Document: docOfSize(6145, 0)})
			return err
		}, ErrLimitExceeded, "PolicySize: 6144"},
		{"ok/create-6144-with-spaces", func() error {
			_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "fits", Document: docOfSize(6144, 3000)})
			return err
		}, nil, ""},
		{"fail/create-bad-path", func() error {
			_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "x", Path: "/a b/", Document: allowRead})
			return err
		}, ErrValidation, "path"},
		{"fail/create-malformed", func() error {
			_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "x", Document: `{"Statement":[]`})
			return err
		}, ErrMalformedPolicyDocument, ""},
		{"fail/get-bad-arn", func() error { _, err := f.svc.GetPolicy(bg, "not-an-arn-but-long-enough"); return err }, ErrInvalidInput, "is not valid"},
		{"fail/get-short-arn", func() error { _, err := f.svc.GetPolicy(bg, "arn:x"); return err }, ErrValidation, "policyArn"},
		{"fail/get-missing", func() error { _, err := f.svc.GetPolicy(bg, "arn:aws:iam::123456789012:policy/Nope"); return err }, ErrNoSuchEntity, "Policy arn:aws:iam::123456789012:policy/Nope was not found."},
		{"fail/delete-missing", func() error { return f.svc.DeletePolicy(bg, "arn:aws:iam::123456789012:policy/Nope") }, ErrNoSuchEntity, "Policy arn:aws:iam::123456789012:policy/Nope was not found."},
		{"fail/create-not-json", func() error {
			_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "x", Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",}]}`})
			return err
		}, ErrMalformedPolicyDocument, "This policy contains invalid Json"},
		{"fail/attach-not-an-arn", func() error { return f.svc.AttachPolicy(bg, KindUser, "u", "not-an-arn-but-long-enough") }, ErrValidation, "Invalid ARN:  Could not be parsed!"},
		{"fail/attach-short-not-an-arn", func() error { return f.svc.AttachPolicy(bg, KindRole, "u", "ReadOnlyAccess") }, ErrValidation, "Member must have length greater than or equal to 20"},
		{"fail/attach-missing", func() error { return f.svc.AttachPolicy(bg, KindUser, "u", "arn:aws:iam::123456789012:policy/Nope") }, ErrNoSuchEntity, "Policy arn:aws:iam::123456789012:policy/Nope does not exist or is not attachable."},
		{"fail/attach-missing-aws", func() error {
			return f.svc.AttachPolicy(bg, KindUser, "u", "arn:aws:iam::aws:policy/AmazonEC2FullAccess")
		}, ErrNoSuchEntity, "Policy arn:aws:iam::aws:policy/AmazonEC2FullAccess does not exist or is not attachable."},
		{"fail/attach-other-account", func() error { return f.svc.AttachPolicy(bg, KindUser, "u", "arn:aws:iam::111111111111:policy/Read") }, ErrNoSuchEntity, "does not exist or is not attachable."},
		{"fail/detach-missing", func() error { return f.svc.DetachPolicy(bg, KindUser, "u", "arn:aws:iam::123456789012:policy/Nope") }, ErrNoSuchEntity, "Policy arn:aws:iam::123456789012:policy/Nope was not found."},
		{"fail/get-wrong-path", func() error { _, err := f.svc.GetPolicy(bg, "arn:aws:iam::123456789012:policy/x/Read"); return err }, ErrNoSuchEntity, ""},
		{"fail/get-other-account", func() error { _, err := f.svc.GetPolicy(bg, "arn:aws:iam::111111111111:policy/Read"); return err }, ErrNoSuchEntity, ""},
		{"ok/v2", func() error { _, err := f.svc.CreatePolicyVersion(bg, p.ARN, allowAll, false); return err }, nil, ""},
		{"ok/v3-default", func() error { _, err := f.svc.CreatePolicyVersion(bg, p.ARN, allowAll, true); return err }, nil, ""},
		{"ok/v4", func() error { _, err := f.svc.CreatePolicyVersion(bg, p.ARN, allowRead, false); return err }, nil, ""},
		{"ok/v5", func() error { _, err := f.svc.CreatePolicyVersion(bg, p.ARN, allowRead, false); return err }, nil, ""},
		{"fail/v6", func() error { _, err := f.svc.CreatePolicyVersion(bg, p.ARN, allowRead, false); return err }, ErrLimitExceeded, "up to 5 versions"},
		{"fail/delete-default-version", func() error { return f.svc.DeletePolicyVersion(bg, p.ARN, "v3") }, ErrDeleteConflict, "Cannot delete the default version of a policy."},
		{"fail/delete-missing-version", func() error { return f.svc.DeletePolicyVersion(bg, p.ARN, "v9") }, ErrNoSuchEntity, "version v9"},
		{"fail/delete-bad-version-id", func() error { return f.svc.DeletePolicyVersion(bg, p.ARN, "1") }, ErrValidation, "versionId"},
		{"ok/delete-v5", func() error { return f.svc.DeletePolicyVersion(bg, p.ARN, "v5") }, nil, ""},
		{"ok/v6-after-delete", func() error { _, err := f.svc.CreatePolicyVersion(bg, p.ARN, allowRead, false); return err }, nil, ""},
		{"fail/set-default-missing", func() error { return f.svc.SetDefaultPolicyVersion(bg, p.ARN, "v5") }, ErrNoSuchEntity, ""},
		{"ok/set-default", func() error { return f.svc.SetDefaultPolicyVersion(bg, p.ARN, "v6") }, nil, ""},
		{"fail/delete-policy-with-versions", func() error { return f.svc.DeletePolicy(bg, p.ARN) }, ErrDeleteConflict, "more than one version"},
	})

	vs, err := f.svc.ListPolicyVersions(bg, p.ARN)
	must(t, err)
	var ids []string
	for _, v := range vs {
		id := v.VersionID
		if v.IsDefault {
			id += "*"
		}
		ids = append(ids, id)
	}
	if got := strings.Join(ids, ","); got != "v6*,v4,v3,v2,v1" {
		t.Errorf("ListPolicyVersions = %s", got)
	}
	v, err := f.svc.GetPolicyVersion(bg, p.ARN, "v2")
	must(t, err)
	if v.Document != allowAll || v.IsDefault {
		t.Errorf("GetPolicyVersion(v2) = %+v", v)
	}
	got, err := f.svc.GetPolicy(bg, "arn:aws:iam::123456789012:policy/READ")
	must(t, err)
	if got.DefaultVersionID != "v6" || got.ARN != p.ARN {
		t.Errorf("GetPolicy = %+v", got)
	}
	for _, id := range []string{"v1", "v2", "v3", "v4"} {
		must(t, f.svc.DeletePolicyVersion(bg, p.ARN, id))
	}
	must(t, f.svc.DeletePolicy(bg, p.ARN))
	_, err = f.svc.GetPolicy(bg, p.ARN)
	wantErr(t, err, ErrNoSuchEntity, "")
}

func TestAttachments(t *testing.T) {
	f := newFixture(t)
	_, _, _, err := f.svc.Bootstrap(bg, "admin")
	must(t, err)
	f.user(t, "u")
	f.group(t, "g", "/team/")
	f.role(t, "r")
	p := f.policy(t, "p", allowRead)
	runSteps(t, []step{
		{"ok/user", func() error { return f.svc.AttachPolicy(bg, KindUser, "u", p.ARN) }, nil, ""},
		{"ok/user-again", func() error { return f.svc.AttachPolicy(bg, KindUser, "U", p.ARN) }, nil, ""},
		{"ok/group", func() error { return f.svc.AttachPolicy(bg, KindGroup, "g", p.ARN) }, nil, ""},
		{"ok/role", func() error { return f.svc.AttachPolicy(bg, KindRole, "r", p.ARN) }, nil, ""},
		{"ok/aws-managed", func() error { return f.svc.AttachPolicy(bg, KindRole, "r", AdministratorAccessARN) }, nil, ""},
		{"fail/missing-policy", func() error { return f.svc.AttachPolicy(bg, KindUser, "u", "arn:aws:iam::aws:policy/Nope") }, ErrNoSuchEntity, ""},
		{"fail/invalid-arn", func() error { return f.svc.AttachPolicy(bg, KindUser, "u", "arn:aws:s3:::bucket/policy/x") }, ErrInvalidInput, ""},
		{"fail/missing-user", func() error { return f.svc.AttachPolicy(bg, KindUser, "nobody", p.ARN) }, ErrNoSuchEntity, "nobody"},
		{"fail/delete-attached", func() error { return f.svc.DeletePolicy(bg, p.ARN) }, ErrDeleteConflict, "attached to entities"},
		{"fail/delete-aws-managed", func() error { return f.svc.DeletePolicy(bg, AdministratorAccessARN) }, ErrInvalidInput, ""},
		{"fail/version-aws-managed", func() error {
			_, err := f.svc.CreatePolicyVersion(bg, AdministratorAccessARN, allowRead, true)
			return err
		}, ErrInvalidInput, ""},
		{"fail/detach-not-attached", func() error { return f.svc.DetachPolicy(bg, KindGroup, "g", AdministratorAccessARN) }, ErrNoSuchEntity, ""},
	})

	got, err := f.svc.GetPolicy(bg, p.ARN)
	must(t, err)
	if got.AttachmentCount != 3 {
		t.Errorf("AttachmentCount = %d, want 3", got.AttachmentCount)
	}
	ents, err := f.svc.ListEntitiesForPolicy(bg, p.ARN, 0, "")
	must(t, err)
	if len(ents.Users) != 1 || len(ents.Groups) != 1 || len(ents.Roles) != 1 || ents.Groups[0].Name != "g" {
		t.Errorf("ListEntitiesForPolicy = %+v", ents)
	}
	ents, err = f.svc.ListEntitiesForPolicy(bg, p.ARN, KindGroup, "/team/")
	must(t, err)
	if len(ents.Users) != 0 || len(ents.Groups) != 1 || len(ents.Roles) != 0 {
		t.Errorf("ListEntitiesForPolicy(group, /team/) = %+v", ents)
	}
	att, err := f.svc.ListAttachedPolicies(bg, KindRole, "r", "")
	must(t, err)
	if len(att) != 2 || att[0].Name != "p" || att[1].ARN != AdministratorAccessARN {
		t.Errorf("ListAttachedPolicies = %+v", att)
	}

	for _, tc := range []struct {
		name string
		in   ListPoliciesInput
		want string
		kind error
	}{
		{"ok/all", ListPoliciesInput{}, shippedAWSPolicies + ",p", nil},
		{"ok/local", ListPoliciesInput{Scope: "Local"}, "p", nil},
		{"ok/aws", ListPoliciesInput{Scope: "AWS"}, shippedAWSPolicies, nil},
		{"ok/aws-path", ListPoliciesInput{Scope: "AWS", PathPrefix: "/job-function/"}, "ViewOnlyAccess", nil},
		{"ok/path", ListPoliciesInput{PathPrefix: "/x/"}, "", nil},
		{"fail/scope", ListPoliciesInput{Scope: "Mine"}, "", ErrValidation},
	} {
		t.Run("ListPolicies/"+tc.name, func(t *testing.T) {
			ps, err := f.svc.ListPolicies(bg, tc.in)
			wantErr(t, err, tc.kind, "")
			if s := nameList(ps, func(p *ManagedPolicy) string { return p.Name }); s != tc.want {
				t.Errorf("ListPolicies = %s, want %s", s, tc.want)
			}
		})
	}

	must(t, f.svc.DetachPolicy(bg, KindUser, "u", p.ARN))
	must(t, f.svc.DetachPolicy(bg, KindGroup, "g", p.ARN))
	must(t, f.svc.DetachPolicy(bg, KindRole, "r", p.ARN))
	must(t, f.svc.DeletePolicy(bg, p.ARN))
}

func TestAttachLimit(t *testing.T) {
	f := newFixture(t)
	f.user(t, "u")
	for i := range maxAttachedPerEntity {
		p := f.policy(t, fmt.Sprintf("p%d", i), allowRead)
		must(t, f.svc.AttachPolicy(bg, KindUser, "u", p.ARN))
	}
	p := f.policy(t, "extra", allowRead)
	wantErr(t, f.svc.AttachPolicy(bg, KindUser, "u", p.ARN), ErrLimitExceeded, "PoliciesPerUser: 10")
}

func TestEffectivePolicies(t *testing.T) {
	f := newFixture(t)
	f.user(t, "u")
	f.group(t, "g", "")
	must(t, f.svc.AddUserToGroup(bg, "g", "u"))
	shared := f.policy(t, "shared", allowRead)
	groupOnly := f.policy(t, "grouponly", allowRead)
	must(t, f.svc.PutInlinePolicy(bg, KindUser, "u", "mine", allowRead))
	must(t, f.svc.AttachPolicy(bg, KindUser, "u", shared.ARN))
	must(t, f.svc.PutInlinePolicy(bg, KindGroup, "g", "team", allowAll))
	must(t, f.svc.AttachPolicy(bg, KindGroup, "g", shared.ARN))
	must(t, f.svc.AttachPolicy(bg, KindGroup, "g", groupOnly.ARN))
	_, err := f.svc.CreatePolicyVersion(bg, groupOnly.ARN, allowAll, true)
	must(t, err)

	src, err := f.svc.UserSourcePolicies(bg, "u")
	must(t, err)
	var got []string
	for _, s := range src {
		got = append(got, s.Type+":"+s.ID)
		if s.Policy == nil {
			t.Errorf("%s: nil policy", s.ID)
		}
	}
	want := "user:mine,user-managed:" + shared.ARN + ",group:team,user-managed:" + groupOnly.ARN
	if s := strings.Join(got, ","); s != want {
		t.Errorf("UserSourcePolicies = %s\nwant %s", s, want)
	}
	if src[3].Document != allowAll {
		t.Errorf("managed policy source is not the default version: %s", src[3].Document)
	}
	labeled, err := f.svc.UserPolicies(bg, "u")
	must(t, err)
	if len(labeled) != 4 || labeled[0].ID != "mine" || labeled[1].ID != shared.ARN {
		t.Errorf("UserPolicies = %+v", labeled)
	}
	_, err = f.svc.UserPolicies(bg, "nobody")
	wantErr(t, err, ErrNoSuchEntity, "")

	mp, err := f.svc.ManagedPolicy(bg, groupOnly.ARN)
	must(t, err)
	if len(mp.Statements) != 1 || mp.Statements[0].Action[0] != "*" {
		t.Errorf("ManagedPolicy = %+v", mp.Statements)
	}
	_, err = f.svc.ManagedPolicy(bg, "arn:aws:iam::123456789012:policy/none")
	wantErr(t, err, ErrNoSuchEntity, "")

	f.role(t, "r")
	must(t, f.svc.PutInlinePolicy(bg, KindRole, "r", "ri", allowRead))
	must(t, f.svc.AttachPolicy(bg, KindRole, "r", shared.ARN))
	rp, err := f.svc.RolePolicies(bg, "r")
	must(t, err)
	if len(rp) != 2 || rp[0].ID != "ri" || rp[1].ID != shared.ARN {
		t.Errorf("RolePolicies = %+v", rp)
	}

	for _, tc := range []struct {
		name, arn string
		n         int
		kind      error
	}{
		{"ok/user", "arn:aws:iam::123456789012:user/u", 4, nil},
		{"ok/group", "arn:aws:iam::123456789012:group/g", 3, nil},
		{"ok/role", "arn:aws:iam::123456789012:role/r", 2, nil},
		{"fail/wrong-path", "arn:aws:iam::123456789012:user/x/u", 0, ErrNoSuchEntity},
		{"fail/missing", "arn:aws:iam::123456789012:role/none", 0, ErrNoSuchEntity},
		{"fail/not-a-principal", "arn:aws:iam::123456789012:policy/shared", 0, ErrInvalidInput},
	} {
		t.Run("PrincipalSourcePolicies/"+tc.name, func(t *testing.T) {
			src, err := f.svc.PrincipalSourcePolicies(bg, tc.arn)
			wantErr(t, err, tc.kind, "")
			if len(src) != tc.n {
				t.Errorf("got %d policies, want %d", len(src), tc.n)
			}
		})
	}
}

func TestParsedPoliciesComeFromTheBoundedCache(t *testing.T) {
	f := newFixture(t)
	f.svc.cache = policy.NewCache(2)
	a, err := f.svc.parse(allowRead, 1)
	must(t, err)
	b, err := f.svc.parse(allowRead, 1)
	must(t, err)
	if a != b {
		t.Error("second parse of the same document did not come from the cache")
	}
	_, err = f.svc.parse(allowAll, 1)
	must(t, err)
	_, err = f.svc.parse(docOfSize(200, 0), 1)
	must(t, err)
	if n := f.svc.cache.Len(); n != 2 {
		t.Errorf("cache holds %d entries, want its bound 2", n)
	}
	c, err := f.svc.parse(allowRead, 1)
	must(t, err)
	if c == a {
		t.Error("the oldest entry was not evicted")
	}
	_, err = f.svc.parse("{", 1)
	wantErr(t, err, ErrMalformedPolicyDocument, "")
}

// shippedAWSPolicies are the AWS managed policies Bootstrap writes, in the
// order ListPolicies lists them.
const shippedAWSPolicies = "AdministratorAccess,AWSSecretsManagerClientReadOnlyAccess,IAMAccessAdvisorReadOnly,IAMFullAccess,IAMReadOnlyAccess," +
	"IAMSelfManageServiceSpecificCredentials,IAMUserChangePassword,IAMUserSSHKeys,PowerUserAccess,ReadOnlyAccess,SecretsManagerReadWrite,SecurityAudit,ViewOnlyAccess"
