package policy

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustParse(tb testing.TB, kind Kind, d string) *Policy {
	tb.Helper()
	p, err := Parse([]byte(d), kind)
	if err != nil {
		tb.Fatalf("Parse(%s) error: %v", d, err)
	}
	return p
}

const (
	acct      = "111122223333"
	other     = "444455556666"
	aliceARN  = "arn:aws:iam::111122223333:user/alice"
	roleARN   = "arn:aws:iam::111122223333:role/ci"
	sessARN   = "arn:aws:sts::111122223333:assumed-role/ci/build-42"
	secretARN = "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf"
)

var (
	alice   = &Principal{AWS: []string{aliceARN}, Account: acct}
	session = &Principal{AWS: []string{roleARN, sessARN}, Account: acct, SessionARN: sessARN}
)

func TestEvaluateIdentity(t *testing.T) {
	tests := []struct {
		name     string
		stmts    string
		action   string
		resource string
		ctx      ctx
		want     Decision
	}{
		{name: "allow/exact", stmts: `{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"` + secretARN + `"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/action-case-insensitive", stmts: `{"Effect":"Allow","Action":"SecretsManager:getsecretvalue","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/action-wildcard", stmts: `{"Effect":"Allow","Action":"secretsmanager:Get*","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/action-question", stmts: `{"Effect":"Allow","Action":"iam:?etUser","Resource":"*"}`,
			action: "iam:GetUser", resource: "*", want: Allow},
		{name: "allow/action-list", stmts: `{"Effect":"Allow","Action":["iam:*","sts:GetCallerIdentity"],"Resource":"*"}`,
			action: "sts:GetCallerIdentity", resource: "*", want: Allow},
		{name: "allow/resource-wildcard-secret-path", stmts: `{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/prod/*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/resource-star-spans-colons", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:secret:/prod/*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/resource-star-for-no-resource-action", stmts: `{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}`,
			action: "sts:GetCallerIdentity", resource: "*", want: Allow},
		{name: "allow/not-action", stmts: `{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/not-resource", stmts: `{"Effect":"Allow","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:/admin/*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/deny-other-action", stmts: `{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:DeleteSecret","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: Allow},
		{name: "allow/resource-variable", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}/*"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/home/alice/db", ctx: ctx{"aws:username": {"alice"}}, want: Allow},
		{name: "allow/resource-variable-principal-tag", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/team/${aws:PrincipalTag/team}/*"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/team/red/db", ctx: ctx{"aws:principaltag/team": {"red"}}, want: Allow},
		{name: "allow/resource-variable-userid", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/u/${aws:userid}"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/u/AIDAEXAMPLE", ctx: ctx{"aws:userid": {"AIDAEXAMPLE"}}, want: Allow},
		{name: "allow/resource-literal-star", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${*}"}`,
			action: "s3:GetObject", resource: "arn:aws:s3:::b/*", want: Allow},
		{name: "allow/resource-2008-no-variables", stmts: ``, action: "s3:GetObject", resource: "arn:aws:s3:::b/${aws:username}", ctx: ctx{"aws:username": {"alice"}}, want: Allow},

		{name: "deny/no-statement-matches", stmts: `{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/action-is-not-a-prefix", stmts: `{"Effect":"Allow","Action":"secretsmanager:Get","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/action-other-service", stmts: `{"Effect":"Allow","Action":"secretsmanager2:*","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/resource-case-sensitive", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/PROD/*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/resource-other-path", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:us-east-1:*:secret:/dev/*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/resource-arn-vs-star-request", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:*:*:*:*"}`,
			action: "sts:GetCallerIdentity", resource: "*", want: ImplicitDeny},
		{name: "deny/explicit", stmts: `{"Effect":"Deny","Action":"*","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ExplicitDeny},
		{name: "deny/deny-beats-allow", stmts: `{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"secretsmanager:*","Resource":"arn:aws:secretsmanager:*:*:secret:/prod/*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ExplicitDeny},
		{name: "deny/deny-before-allow", stmts: `{"Effect":"Deny","Action":"*","Resource":"*"},{"Effect":"Allow","Action":"*","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ExplicitDeny},
		{name: "deny/not-action-excludes", stmts: `{"Effect":"Allow","NotAction":"secretsmanager:*","Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/not-action-deny-everything-else", stmts: `{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","NotAction":["sts:GetCallerIdentity"],"Resource":"*"}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ExplicitDeny},
		{name: "deny/not-resource-excludes", stmts: `{"Effect":"Allow","Action":"*","NotResource":["arn:aws:secretsmanager:*:*:secret:/prod/*"]}`,
			action: "secretsmanager:GetSecretValue", resource: secretARN, want: ImplicitDeny},
		{name: "deny/resource-variable-missing", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}/*"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/home/alice/db", want: ImplicitDeny},
		{name: "deny/resource-variable-other-user", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}/*"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/home/bob/db", ctx: ctx{"aws:username": {"alice"}}, want: ImplicitDeny},
		{name: "deny/resource-variable-value-wildcard-is-literal", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/team/${aws:PrincipalTag/team}/*"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/team/red/db", ctx: ctx{"aws:PrincipalTag/team": {"*"}}, want: ImplicitDeny},
		{name: "deny/resource-variable-value-slash-stays-literal", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/home/alice", ctx: ctx{"aws:username": {"al?ce"}}, want: ImplicitDeny},
		{name: "deny/not-resource-variable-missing-denies", stmts: `{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","NotResource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}/*"}`,
			action: "secretsmanager:GetSecretValue", resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/home/alice/db", want: ExplicitDeny},
		{name: "deny/unicode-fold-not-for-resources", stmts: `{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::B"}`,
			action: "s3:GetObject", resource: "arn:aws:s3:::b", want: ImplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p *Policy
			if tt.stmts == "" {
				p = mustParse(t, KindIdentity, `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/${aws:username}"}}`)
			} else {
				p = mustParse(t, KindIdentity, doc(tt.stmts))
			}
			req := &Request{Action: tt.action, Resource: tt.resource, Principal: alice, Context: tt.ctx}
			if got := Evaluate(req, []Labeled{{ID: "p", Policy: p}}).Decision; got != tt.want {
				t.Errorf("Evaluate() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluatePrincipal(t *testing.T) {
	anonymous := (*Principal)(nil)
	otherUser := &Principal{AWS: []string{"arn:aws:iam::444455556666:user/mallory"}, Account: other}
	service := &Principal{Service: "ec2.amazonaws.com"}
	federated := &Principal{Federated: "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}
	root := &Principal{AWS: []string{"arn:aws:iam::111122223333:root"}, Account: acct}
	tests := []struct {
		name   string
		elem   string // "Principal": ... or "NotPrincipal": ...
		effect string
		caller *Principal
		want   Decision
	}{
		{name: "allow/star", elem: `"Principal":"*"`, caller: alice, want: Allow},
		{name: "allow/star-anonymous", elem: `"Principal":"*"`, caller: anonymous, want: Allow},
		{name: "allow/aws-star", elem: `"Principal":{"AWS":"*"}`, caller: otherUser, want: Allow},
		{name: "allow/account-id", elem: `"Principal":{"AWS":"111122223333"}`, caller: alice, want: Allow},
		{name: "allow/account-root-arn", elem: `"Principal":{"AWS":"arn:aws:iam::111122223333:root"}`, caller: session, want: Allow},
		{name: "allow/account-from-arn-without-account-field", elem: `"Principal":{"AWS":"111122223333"}`, caller: &Principal{AWS: []string{aliceARN}}, want: Allow},
		{name: "allow/user-arn", elem: `"Principal":{"AWS":["arn:aws:iam::444455556666:user/x","` + aliceARN + `"]}`, caller: alice, want: Allow},
		{name: "allow/role-arn-matches-session", elem: `"Principal":{"AWS":"` + roleARN + `"}`, caller: session, want: Allow},
		{name: "allow/session-arn", elem: `"Principal":{"AWS":"` + sessARN + `"}`, caller: session, want: Allow},
		{name: "allow/service", elem: `"Principal":{"Service":"ec2.amazonaws.com"}`, caller: service, want: Allow},
		{name: "allow/federated", elem: `"Principal":{"Federated":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"}`, caller: federated, want: Allow},
		{name: "allow/root-caller-by-account", elem: `"Principal":{"AWS":"111122223333"}`, caller: root, want: Allow},

		{name: "deny/other-account", elem: `"Principal":{"AWS":"111122223333"}`, caller: otherUser, want: ImplicitDeny},
		{name: "deny/other-user", elem: `"Principal":{"AWS":"arn:aws:iam::111122223333:user/bob"}`, caller: alice, want: ImplicitDeny},
		{name: "deny/user-arn-case-sensitive", elem: `"Principal":{"AWS":"arn:aws:iam::111122223333:user/Alice"}`, caller: alice, want: ImplicitDeny},
		{name: "deny/anonymous-needs-star", elem: `"Principal":{"AWS":"111122223333"}`, caller: anonymous, want: ImplicitDeny},
		{name: "deny/service-is-not-aws", elem: `"Principal":{"AWS":"111122223333"}`, caller: service, want: ImplicitDeny},
		{name: "deny/other-service", elem: `"Principal":{"Service":"lambda.amazonaws.com"}`, caller: service, want: ImplicitDeny},
		{name: "deny/canonical-user-never-matches", elem: `"Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, caller: alice, want: ImplicitDeny},
		{name: "deny/session-arn-other-session", elem: `"Principal":{"AWS":"arn:aws:sts::111122223333:assumed-role/ci/other"}`, caller: session, want: ImplicitDeny},

		// NotPrincipal with Deny, on top of an Allow for "*".
		{name: "deny/not-principal-other-user-denied", elem: `"NotPrincipal":{"AWS":["` + aliceARN + `","111122223333"]}`, effect: "Deny", caller: otherUser, want: ExplicitDeny},
		{name: "allow/not-principal-listed-user-and-account", elem: `"NotPrincipal":{"AWS":["` + aliceARN + `","111122223333"]}`, effect: "Deny", caller: alice, want: Allow},
		{name: "deny/not-principal-user-without-account", elem: `"NotPrincipal":{"AWS":"` + aliceARN + `"}`, effect: "Deny", caller: alice, want: ExplicitDeny},
		{name: "deny/not-principal-account-only", elem: `"NotPrincipal":{"AWS":"111122223333"}`, effect: "Deny", caller: alice, want: ExplicitDeny},
		{name: "deny/not-principal-role-without-session", elem: `"NotPrincipal":{"AWS":["` + roleARN + `","111122223333"]}`, effect: "Deny", caller: session, want: ExplicitDeny},
		{name: "allow/not-principal-role-session-and-account", elem: `"NotPrincipal":{"AWS":["` + roleARN + `","` + sessARN + `","arn:aws:iam::111122223333:root"]}`, effect: "Deny", caller: session, want: Allow},
		{name: "deny/not-principal-anonymous", elem: `"NotPrincipal":{"AWS":"111122223333"}`, effect: "Deny", caller: anonymous, want: ExplicitDeny},
		{name: "deny/not-principal-empty-caller", elem: `"NotPrincipal":{"AWS":"111122223333"}`, effect: "Deny", caller: &Principal{}, want: ExplicitDeny},
		{name: "allow/not-principal-star", elem: `"NotPrincipal":"*"`, effect: "Deny", caller: otherUser, want: Allow},
		{name: "allow/not-principal-service", elem: `"NotPrincipal":{"Service":"ec2.amazonaws.com"}`, effect: "Deny", caller: service, want: Allow},
		{name: "deny/not-principal-other-service", elem: `"NotPrincipal":{"Service":"lambda.amazonaws.com"}`, effect: "Deny", caller: service, want: ExplicitDeny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			effect := tt.effect
			if effect == "" {
				effect = "Allow"
			}
			stmts := `{"Effect":"` + effect + `",` + tt.elem + `,"Action":"secretsmanager:GetSecretValue","Resource":"*"}`
			if effect == "Deny" {
				stmts = `{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},` + stmts
			}
			p := mustParse(t, KindResource, doc(stmts))
			req := &Request{Action: "secretsmanager:GetSecretValue", Resource: secretARN, Principal: tt.caller}
			if got := Evaluate(req, []Labeled{{ID: "rp", Policy: p}}).Decision; got != tt.want {
				t.Errorf("Evaluate() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	allowSecrets := mustParse(t, KindIdentity, doc(`{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:*:secret:/prod/*"}`))
	allowAll := mustParse(t, KindIdentity, doc(`{"Sid":"All","Effect":"Allow","Action":"*","Resource":"*"}`))
	allowIAM := mustParse(t, KindIdentity, doc(`{"Sid":"IAM","Effect":"Allow","Action":"iam:*","Resource":"*"}`))
	denySecrets := mustParse(t, KindIdentity, doc(`{"Sid":"NoSecrets","Effect":"Deny","Action":"secretsmanager:*","Resource":"*"}`))
	rpAccount := mustParse(t, KindResource, doc(`{"Sid":"Acct","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpRole := mustParse(t, KindResource, doc(`{"Sid":"Role","Effect":"Allow","Principal":{"AWS":"`+roleARN+`"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpSession := mustParse(t, KindResource, doc(`{"Sid":"Sess","Effect":"Allow","Principal":{"AWS":"`+sessARN+`"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpUser := mustParse(t, KindResource, doc(`{"Sid":"User","Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpAccountRoot := mustParse(t, KindResource, doc(`{"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpAccountAndUser := mustParse(t, KindResource, doc(`{"Sid":"Both","Effect":"Allow","Principal":{"AWS":["111122223333","`+aliceARN+`"]},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpStar := mustParse(t, KindResource, doc(`{"Sid":"Star","Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpAccountDeny := mustParse(t, KindResource, doc(`{"Sid":"AcctDeny","Effect":"Deny","Principal":{"AWS":"111122223333"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}`))
	rpDeny := mustParse(t, KindResource, doc(`{"Sid":"RDeny","Effect":"Deny","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}`))
	l := func(id string, p *Policy) []Labeled { return []Labeled{{ID: id, Policy: p}} }

	tests := []struct {
		name     string
		caller   *Principal
		action   string
		in       Input
		ctx      ctx
		want     Decision
		deciding string // PolicyID/Sid of the deciding statement
	}{
		{name: "allow/identity", caller: alice, in: Input{Identity: l("id", allowSecrets)}, want: Allow, deciding: "id/Read"},
		{name: "allow/identity-and-session", caller: session, in: Input{Identity: l("id", allowAll), Session: l("sp", allowSecrets), HasSession: true}, want: Allow, deciding: "id/All"},
		{name: "allow/resource-policy-alone", caller: alice, in: Input{Resource: l("rp", rpUser)}, want: Allow, deciding: "rp/User"},
		{name: "deny/resource-policy-account-delegates-to-iam", caller: alice, in: Input{Resource: l("rp", rpAccount)}, want: ImplicitDeny},
		{name: "deny/resource-policy-account-root-delegates-to-iam", caller: session, in: Input{Resource: l("rp", rpAccountRoot)}, want: ImplicitDeny},
		{name: "allow/resource-policy-account-and-identity", caller: alice, in: Input{Identity: l("id", allowSecrets), Resource: l("rp", rpAccount)}, want: Allow, deciding: "id/Read"},
		{name: "allow/resource-policy-account-and-user", caller: alice, in: Input{Resource: l("rp", rpAccountAndUser)}, want: Allow, deciding: "rp/Both"},
		{name: "allow/resource-policy-star", caller: alice, in: Input{Resource: l("rp", rpStar)}, want: Allow, deciding: "rp/Star"},
		{name: "deny/resource-policy-account-deny-applies", caller: alice, in: Input{Identity: l("id", allowSecrets), Resource: l("rp", rpAccountDeny)}, want: ExplicitDeny, deciding: "rp/AcctDeny"},
		{name: "allow/trust-names-user", caller: alice, in: Input{Resource: l("trust", rpUser), ResourceRequired: true}, want: Allow, deciding: "trust/User"},
		{name: "allow/trust-account-and-identity", caller: alice, in: Input{Identity: l("id", allowSecrets), Resource: l("trust", rpAccount), ResourceRequired: true}, want: Allow, deciding: "id/Read"},
		{name: "deny/trust-account-without-identity", caller: alice, in: Input{Resource: l("trust", rpAccount), ResourceRequired: true}, want: ImplicitDeny},
		{name: "deny/trust-required-identity-alone", caller: alice, in: Input{Identity: l("id", allowSecrets), ResourceRequired: true}, want: ImplicitDeny},
		{name: "deny/trust-other-principal-identity-allows", caller: alice, in: Input{Identity: l("id", allowSecrets), Resource: l("trust", rpSession), ResourceRequired: true}, want: ImplicitDeny},
		{name: "allow/resource-policy-role-with-session-policy", caller: session, in: Input{Session: l("sp", allowSecrets), HasSession: true, Resource: l("rp", rpRole)}, want: Allow, deciding: "rp/Role"},
		{name: "allow/resource-policy-names-session", caller: session, in: Input{Session: l("sp", allowIAM), HasSession: true, Resource: l("rp", rpSession)}, want: Allow, deciding: "rp/Sess"},
		{name: "allow/resource-names-session-no-session-policies", caller: session, in: Input{HasSession: true, Resource: l("rp", rpSession)}, want: Allow, deciding: "rp/Sess"},
		{name: "allow/identity-when-resource-deny-condition-false", caller: alice, ctx: ctx{"aws:SecureTransport": {"true"}}, in: Input{Identity: l("id", allowSecrets), Resource: l("rp", rpDeny)}, want: Allow, deciding: "id/Read"},
		{name: "allow/several-identity-policies", caller: alice, in: Input{Identity: []Labeled{{ID: "a", Policy: allowIAM}, {ID: "b", Policy: allowSecrets}, {ID: "nil"}}}, want: Allow, deciding: "b/Read"},

		{name: "deny/nothing", caller: alice, in: Input{}, want: ImplicitDeny},
		{name: "deny/identity-other-action", caller: alice, in: Input{Identity: l("id", allowIAM)}, want: ImplicitDeny},
		{name: "deny/session-policy-limits", caller: session, in: Input{Identity: l("id", allowAll), Session: l("sp", allowIAM), HasSession: true}, want: ImplicitDeny},
		{name: "deny/session-policy-alone-grants-nothing", caller: session, in: Input{Session: l("sp", allowAll), HasSession: true}, want: ImplicitDeny},
		{name: "deny/has-session-without-session-policies", caller: session, in: Input{Identity: l("id", allowAll), HasSession: true}, want: ImplicitDeny},
		{name: "deny/resource-policy-role-limited-by-session-policy", caller: session, in: Input{Session: l("sp", allowIAM), HasSession: true, Resource: l("rp", rpRole)}, want: ImplicitDeny},
		{name: "deny/resource-policy-account-limited-by-session-policy", caller: session, in: Input{Session: l("sp", allowIAM), HasSession: true, Resource: l("rp", rpAccount)}, want: ImplicitDeny},
		{name: "deny/resource-policy-other-principal", caller: &Principal{AWS: []string{"arn:aws:iam::111122223333:user/bob"}, Account: acct}, in: Input{Resource: l("rp", rpUser)}, want: ImplicitDeny},
		{name: "deny/explicit-in-identity-beats-resource-allow", caller: alice, in: Input{Identity: l("id", denySecrets), Resource: l("rp", rpUser)}, want: ExplicitDeny, deciding: "id/NoSecrets"},
		{name: "deny/explicit-in-session-beats-identity-allow", caller: session, in: Input{Identity: l("id", allowAll), Session: []Labeled{{ID: "sp1", Policy: allowAll}, {ID: "sp2", Policy: denySecrets}}, HasSession: true}, want: ExplicitDeny, deciding: "sp2/NoSecrets"},
		{name: "deny/explicit-in-resource-beats-identity-allow", caller: alice, ctx: ctx{"aws:SecureTransport": {"false"}}, in: Input{Identity: l("id", allowAll), Resource: l("rp", rpDeny)}, want: ExplicitDeny, deciding: "rp/RDeny"},
		{name: "deny/first-deny-decides", caller: alice, in: Input{Identity: []Labeled{{ID: "a", Policy: allowAll}, {ID: "b", Policy: denySecrets}, {ID: "c", Policy: denySecrets}}}, want: ExplicitDeny, deciding: "b/NoSecrets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action := tt.action
			if action == "" {
				action = "secretsmanager:GetSecretValue"
			}
			req := &Request{Action: action, Resource: secretARN, Principal: tt.caller, Context: tt.ctx}
			r := Authorize(req, tt.in)
			if r.Decision != tt.want {
				t.Fatalf("Authorize() = %v, want %v (matched %+v)", r.Decision, tt.want, r.Matched)
			}
			switch {
			case tt.deciding == "" && r.Deciding != nil:
				t.Errorf("Deciding = %+v, want nil", *r.Deciding)
			case tt.deciding != "" && r.Deciding == nil:
				t.Errorf("Deciding = nil, want %s", tt.deciding)
			case tt.deciding != "" && r.Deciding.PolicyID+"/"+r.Deciding.Sid != tt.deciding:
				t.Errorf("Deciding = %+v, want %s", *r.Deciding, tt.deciding)
			}
		})
	}
}

func TestResultDetails(t *testing.T) {
	p1 := mustParse(t, KindIdentity, doc(`
		{"Sid":"A","Effect":"Allow","Action":"secretsmanager:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"red"},"NumericLessThan":{"aws:MultiFactorAuthAge":"3600"}}},
		{"Sid":"B","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"},
		{"Sid":"C","Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"Bool":{"k:unrelated":"true"}}},
		{"Sid":"D","Effect":"Allow","Action":"*","Resource":"arn:aws:secretsmanager:*:*:secret:/home/${aws:username}/*"},
		{"Sid":"E","Effect":"Allow","Action":"*","Resource":"*","Condition":{"Null":{"k:null":"true"},"StringEqualsIfExists":{"Aws:SourceVpc":"${aws:SourceVpce}"}}}`))
	p2 := mustParse(t, KindIdentity, doc(`{"Sid":"X","Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}},
		{"Sid":"Y","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:principaltag/TEAM":"blue"}}}`))
	req := &Request{Action: "secretsmanager:GetSecretValue", Resource: secretARN, Context: ctx{"aws:SecureTransport": {"false"}}, Missing: true}
	r := Evaluate(req, []Labeled{{ID: "p1", Policy: p1}, {ID: "p2", Policy: p2}})
	if r.Decision != ExplicitDeny {
		t.Fatalf("Decision = %v, want explicitDeny", r.Decision)
	}
	want := []Match{
		{PolicyID: "p1", Statement: 1, Sid: "B", Effect: "Allow"},
		{PolicyID: "p1", Statement: 4, Sid: "E", Effect: "Allow"},
		{PolicyID: "p2", Statement: 0, Sid: "X", Effect: "Deny"},
	}
	if !slices.Equal(r.Matched, want) {
		t.Errorf("Matched = %+v, want %+v", r.Matched, want)
	}
	if r.Deciding == nil || *r.Deciding != want[2] {
		t.Errorf("Deciding = %v, want %+v", r.Deciding, want[2])
	}
	// aws:MultiFactorAuthAge is missing but not evaluated once the first condition of A
	// failed... it is still reported, since A matched the action and resource.
	// k:unrelated belongs to a statement for another action; aws:username to a resource
	// pattern (D matched the action, and the resource failed for want of the variable).
	wantKeys := []string{"aws:MultiFactorAuthAge", "aws:PrincipalTag/team", "Aws:SourceVpc", "aws:SourceVpce", "aws:username"}
	if !slices.Equal(r.MissingKeys, wantKeys) {
		t.Errorf("MissingKeys = %q, want %q", r.MissingKeys, wantKeys)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "implicitDeny", Allow: "allowed", ExplicitDeny: "explicitDeny", 7: "Decision(7)"} {
		if got := d.String(); got != want {
			t.Errorf("Decision(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

func TestEvaluateNil(t *testing.T) {
	p := mustParse(t, KindIdentity, doc(`{"Effect":"Allow","Action":"*","Resource":"*"}`))
	if r := Evaluate(nil, []Labeled{{Policy: p}}); r.Decision != ImplicitDeny || r.Deciding != nil {
		t.Errorf("Evaluate(nil) = %+v", r)
	}
	if r := Authorize(nil, Input{Identity: []Labeled{{Policy: p}}}); r.Decision != ImplicitDeny {
		t.Errorf("Authorize(nil) = %+v", r)
	}
	if r := Evaluate(&Request{Action: "s3:GetObject", Resource: "*"}, nil); r.Decision != ImplicitDeny {
		t.Errorf("Evaluate(no policies) = %+v", r)
	}
}

// TestEvaluateIntoReuses checks that a reused Result is reset between evaluations.
func TestEvaluateIntoReuses(t *testing.T) {
	allow := mustParse(t, KindIdentity, doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}`))
	var r Result
	EvaluateInto(&r, &Request{Action: "s3:GetObject", Resource: "*", Context: ctx{"aws:username": {"alice"}}}, []Labeled{{ID: "p", Policy: allow}})
	if r.Decision != Allow || len(r.Matched) != 1 {
		t.Fatalf("first = %+v", r)
	}
	EvaluateInto(&r, &Request{Action: "s3:GetObject", Resource: "*", Missing: true}, []Labeled{{ID: "p", Policy: allow}})
	if r.Decision != ImplicitDeny || len(r.Matched) != 0 || r.Deciding != nil || !slices.Equal(r.MissingKeys, []string{"aws:username"}) {
		t.Fatalf("second = %+v", r)
	}
}

func TestEvaluateAllocs(t *testing.T) {
	p := benchPolicy(t, 10)
	req := benchRequest()
	var r Result
	allocs := testing.AllocsPerRun(200, func() {
		EvaluateInto(&r, req, []Labeled{{ID: "p", Policy: p}})
	})
	if r.Decision != Allow {
		t.Fatalf("Decision = %v, want allowed", r.Decision)
	}
	if allocs != 0 {
		t.Errorf("EvaluateInto allocs = %v, want 0", allocs)
	}
}

// TestConcurrentEvaluate runs one parsed policy from many goroutines (for -race).
func TestConcurrentEvaluate(t *testing.T) {
	p := benchPolicy(t, 10)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if d := Evaluate(benchRequest(), []Labeled{{ID: "p", Policy: p}}).Decision; d != Allow {
					t.Errorf("Decision = %v", d)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMalformedErrorMessage(t *testing.T) {
	_, err := Parse([]byte(doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"`+strings.Repeat("x", 500)+`"}},"Bogus":1}`)), KindIdentity)
	if err == nil || len(err.Error()) > 200 {
		t.Fatalf("error = %v; want a short message", err)
	}
}

func TestTrustWithoutResource(t *testing.T) {
	p := mustParse(t, KindTrust, doc(`{"Effect":"Allow","Principal":{"AWS":"`+aliceARN+`"},"Action":"sts:AssumeRole"}`))
	for _, tt := range []struct {
		name   string
		action string
		want   Decision
	}{
		{"allow/any-resource", "sts:AssumeRole", Allow},
		{"deny/other-sts-action", "sts:TagSession", ImplicitDeny},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := &Request{Action: tt.action, Resource: "arn:aws:iam::111122223333:role/anything", Principal: alice}
			if got := Evaluate(req, []Labeled{{Policy: p}}).Decision; got != tt.want {
				t.Errorf("Evaluate() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLookupAmbiguousContext: a context spelling one key twice gets a deterministic
// answer (the smallest spelling), whatever the map order.
func TestLookupAmbiguousContext(t *testing.T) {
	p := mustParse(t, KindIdentity, doc(`{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"alice"}}}`))
	req := &Request{Action: "s3:GetObject", Resource: "*", Context: ctx{"AWS:username": {"alice"}, "aws:UserName": {"bob"}}}
	for range 50 {
		if got := Evaluate(req, []Labeled{{Policy: p}}).Decision; got != Allow {
			t.Fatalf("Evaluate() = %v, want allowed (from %q)", got, "AWS:username")
		}
	}
}

// ContextFunc makes the context only when a condition needs a key, once for
// all the policies of a decision.
func TestContextFuncLazy(t *testing.T) {
	plain := mustParse(t, KindIdentity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	cond := mustParse(t, KindIdentity, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",
		"Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}]}`)
	for _, tc := range []struct {
		name     string
		policies []*Policy
		calls    int
		want     Decision
	}{
		{"ok/no-condition-no-call", []*Policy{plain}, 0, Allow},
		{"ok/condition-one-call", []*Policy{cond, cond}, 1, Allow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			req := &Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ContextFunc: func() map[string][]string {
				calls++
				return map[string][]string{"aws:principaltag/team": {"blue"}}
			}}
			var in Input
			for i, p := range tc.policies {
				in.Identity = append(in.Identity, Labeled{ID: string(rune('a' + i)), Policy: p})
			}
			if got := Authorize(req, in); got.Decision != tc.want || calls != tc.calls {
				t.Errorf("Authorize() = %v with %d calls of ContextFunc; want %v with %d", got.Decision, calls, tc.want, tc.calls)
			}
		})
	}
}
