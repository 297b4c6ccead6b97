package iam

import (
	"context"
	"errors"
	"testing"

	"github.com/shortfuse/shortfuse/internal/policy"
)

// TestAWSManagedDocuments: every shipped AWS managed policy parses with the
// strict parser as an identity policy and decides requests as AWS
// documents it.
func TestAWSManagedDocuments(t *testing.T) {
	recs, err := loadAWSManaged()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*policy.Policy{}
	for _, r := range recs {
		if len(r.Versions) != 1 || r.Versions[0].ID != r.Default || r.Default == "" || r.ID == "" || r.Created.IsZero() || r.Updated.Before(r.Created) {
			t.Errorf("%s: metadata %+v", r.Name, r)
		}
		p, err := policy.Parse([]byte(r.defaultDocument()), policy.KindIdentity)
		if err != nil {
			t.Errorf("%s %s does not parse: %v", r.Name, r.Default, err)
			continue
		}
		byName[r.Name] = p
	}
	const (
		acct   = "123456789012"
		secret = "arn:aws:secretsmanager:us-east-1:" + acct + ":secret:/prod/db-AbCdEf"
		user   = "arn:aws:iam::" + acct + ":user/alice"
	)
	ctx := map[string][]string{"aws:username": {"alice"}}
	tests := []struct {
		policy, action, resource string
		want                     policy.Decision
	}{
		{"AdministratorAccess", "iam:CreateUser", user, policy.Allow},
		{"PowerUserAccess", "secretsmanager:GetSecretValue", secret, policy.Allow},
		{"PowerUserAccess", "iam:CreateUser", user, policy.ImplicitDeny},
		{"PowerUserAccess", "iam:ListRoles", "*", policy.Allow},
		{"ReadOnlyAccess", "iam:GetUser", user, policy.Allow},
		{"ReadOnlyAccess", "secretsmanager:DescribeSecret", secret, policy.Allow},
		{"ReadOnlyAccess", "secretsmanager:PutSecretValue", secret, policy.ImplicitDeny},
		{"ReadOnlyAccess", "iam:CreateUser", user, policy.ImplicitDeny},
		{"ViewOnlyAccess", "iam:ListUsers", "*", policy.Allow},
		{"ViewOnlyAccess", "secretsmanager:GetSecretValue", secret, policy.ImplicitDeny},
		{"SecurityAudit", "iam:GetAccountAuthorizationDetails", "*", policy.Allow},
		{"SecurityAudit", "secretsmanager:GetSecretValue", secret, policy.ImplicitDeny},
		{"IAMFullAccess", "iam:DeleteRole", "arn:aws:iam::" + acct + ":role/r", policy.Allow},
		{"IAMFullAccess", "secretsmanager:GetSecretValue", secret, policy.ImplicitDeny},
		{"IAMReadOnlyAccess", "iam:ListAttachedRolePolicies", "arn:aws:iam::" + acct + ":role/r", policy.Allow},
		{"IAMReadOnlyAccess", "iam:CreateUser", user, policy.ImplicitDeny},
		{"IAMUserChangePassword", "iam:ChangePassword", user, policy.Allow},
		{"IAMUserChangePassword", "iam:ChangePassword", "arn:aws:iam::" + acct + ":user/bob", policy.ImplicitDeny},
		{"IAMUserChangePassword", "iam:GetAccountPasswordPolicy", "*", policy.Allow},
		{"IAMUserSSHKeys", "iam:UploadSSHPublicKey", user, policy.Allow},
		{"IAMSelfManageServiceSpecificCredentials", "iam:CreateServiceSpecificCredential", user, policy.Allow},
		{"IAMAccessAdvisorReadOnly", "iam:GetRole", "arn:aws:iam::" + acct + ":role/r", policy.Allow},
		{"SecretsManagerReadWrite", "secretsmanager:PutSecretValue", secret, policy.Allow},
		{"SecretsManagerReadWrite", "iam:CreateUser", user, policy.ImplicitDeny},
		{"AWSSecretsManagerClientReadOnlyAccess", "secretsmanager:GetSecretValue", secret, policy.Allow},
		{"AWSSecretsManagerClientReadOnlyAccess", "secretsmanager:PutSecretValue", secret, policy.ImplicitDeny},
	}
	for _, tt := range tests {
		p := byName[tt.policy]
		if p == nil {
			t.Errorf("%s is not shipped", tt.policy)
			continue
		}
		req := &policy.Request{Action: tt.action, Resource: tt.resource, Context: ctx}
		if got := policy.Evaluate(req, []policy.Labeled{{ID: tt.policy, Policy: p}}).Decision; got != tt.want {
			t.Errorf("%s: %s on %s = %v, want %v", tt.policy, tt.action, tt.resource, got, tt.want)
		}
	}
	if len(byName) != len(recs) {
		t.Errorf("%d of %d documents parse", len(byName), len(recs))
	}
}

// TestAWSManagedPolicies: Bootstrap writes the shipped policies with their
// real ids, paths and default versions; they attach, cannot be changed, and
// an AWS managed ARN that is not shipped is NoSuchEntity.
func TestAWSManagedPolicies(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if _, _, _, err := f.svc.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	for _, r := range awsManaged {
		p, err := f.svc.GetPolicy(ctx, r.ARN)
		if err != nil {
			t.Errorf("GetPolicy(%s): %v", r.ARN, err)
			continue
		}
		if p.ID != r.ID || p.Path != r.Path || p.DefaultVersionID != r.Default || !p.AWSManaged || p.Description != r.Description {
			t.Errorf("GetPolicy(%s) = %+v", r.ARN, p)
		}
		v, err := f.svc.GetPolicyVersion(ctx, r.ARN, r.Default)
		if err != nil || v.Document != r.defaultDocument() || !v.IsDefault {
			t.Errorf("GetPolicyVersion(%s, %s) = %v, %v", r.ARN, r.Default, v, err)
		}
	}
	const view = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
	f.user(t, "alice")
	must(t, f.svc.AttachPolicy(ctx, KindUser, "alice", view))
	must(t, f.svc.AttachPolicy(ctx, KindUser, "alice", "arn:aws:iam::aws:policy/ReadOnlyAccess"))
	if _, err := f.svc.GetPolicy(ctx, "arn:aws:iam::aws:policy/ViewOnlyAccess"); !errors.Is(err, ErrNoSuchEntity) {
		t.Errorf("ViewOnlyAccess without its path: %v, want NoSuchEntity", err)
	}
	for _, arn := range []string{"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "arn:aws:iam::aws:policy/NoSuchPolicy"} {
		if _, err := f.svc.GetPolicy(ctx, arn); !errors.Is(err, ErrNoSuchEntity) {
			t.Errorf("GetPolicy(%s) = %v, want NoSuchEntity", arn, err)
		}
		if err := f.svc.AttachPolicy(ctx, KindUser, "alice", arn); !errors.Is(err, ErrNoSuchEntity) {
			t.Errorf("AttachPolicy(%s) = %v, want NoSuchEntity", arn, err)
		}
	}
	if _, err := f.svc.CreatePolicyVersion(ctx, "arn:aws:iam::aws:policy/ReadOnlyAccess", allowAll, true); err == nil {
		t.Error("an AWS managed policy took a new version")
	}
	if err := f.svc.DeletePolicy(ctx, "arn:aws:iam::aws:policy/SecretsManagerReadWrite"); err == nil {
		t.Error("an AWS managed policy was deleted")
	}
}

// BenchmarkEvaluateReadOnlyAccess is the cost of deciding a request against
// the largest shipped document (some 3,000 action patterns), the worst case
// a principal with an AWS managed policy attached adds to a request.
func BenchmarkEvaluateReadOnlyAccess(b *testing.B) {
	recs, err := loadAWSManaged()
	if err != nil {
		b.Fatal(err)
	}
	var p *policy.Policy
	for _, r := range recs {
		if r.Name == "ReadOnlyAccess" {
			if p, err = policy.Parse([]byte(r.defaultDocument()), policy.KindIdentity); err != nil {
				b.Fatal(err)
			}
		}
	}
	set := []policy.Labeled{{ID: "ReadOnlyAccess", Policy: p}}
	req := &policy.Request{Action: "secretsmanager:PutSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-AbCdEf"}
	var res policy.Result
	b.ReportAllocs()
	for b.Loop() {
		policy.EvaluateInto(&res, req, set)
	}
	if res.Decision != policy.ImplicitDeny {
		b.Fatalf("decision %v", res.Decision)
	}
}
