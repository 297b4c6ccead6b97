package approvals

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) Notify(e Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) kinds() []EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EventKind
	for _, e := range r.events {
		out = append(out, e.Kind)
	}
	return out
}

func newService(t *testing.T) (*Service, *testutil.Clock, *recorder) {
	t.Helper()
	st, _ := testutil.TempStore(t)
	c := testutil.NewClock(t0)
	rec := &recorder{}
	return New(st, Options{Now: c.Now, Rand: rand.Reader, Notifier: rec}), c, rec
}

const (
	jobARN   = "arn:aws:iam::111122223333:user/jenkins"
	aliceARN = "arn:aws:iam::111122223333:user/alice"
	bobARN   = "arn:aws:iam::111122223333:user/bob"
	roleARN  = "arn:aws:iam::111122223333:role/deploy"
)

func mustKey(t *testing.T) *RedemptionKey {
	t.Helper()
	k, err := NewRedemptionKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func create(t *testing.T, s *Service, k *RedemptionKey, rules Rules) *Request {
	t.Helper()
	r, err := s.Create(context.Background(), CreateInput{
		RoleARN: roleARN, Requester: jobARN, Duration: 15 * time.Minute, Rules: rules,
		Build:     Build{System: "jenkins", URL: "https://ci.example/job/deploy/42/", Job: "deploy", Number: "42", Commit: "0123456789abcdef0123456789abcdef01234567"},
		VerifyKey: k.VerifyKey(), WrapKey: k.WrapKey(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func defaultRules() Rules {
	return Rules{Required: 1, MaxDuration: time.Hour, Window: 15 * time.Minute}
}

func TestStatusBoundaries(t *testing.T) {
	r := &Request{CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	tests := []struct {
		name string
		now  time.Time
		want Status
	}{
		{"ok/pending-before-window-end", t0.Add(59 * time.Second), StatusPending},
		{"fail/expired-at-window-end", t0.Add(time.Minute), StatusExpired},
		{"fail/expired-after-window-end", t0.Add(61 * time.Second), StatusExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.Status(tc.now); got != tc.want {
				t.Errorf("Status(%v) = %v, want %v", tc.now, got, tc.want)
			}
		})
	}
	approved := &Request{ExpiresAt: t0.Add(time.Minute), Session: &Minted{Expires: t0.Add(2 * time.Minute)}}
	for _, tc := range []struct {
		now  time.Time
		want Status
	}{
		{t0.Add(2*time.Minute - time.Second), StatusApproved},
		{t0.Add(2 * time.Minute), StatusExpired},
		{t0.Add(2*time.Minute + time.Second), StatusExpired},
	} {
		if got := approved.Status(tc.now); got != tc.want {
			t.Errorf("approved.Status(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	base := func() *Request {
		return &Request{Requester: jobARN, Identities: []string{"arn:aws:iam::111122223333:user/Carol"}, Duration: 15 * time.Minute, ExpiresAt: t0.Add(time.Minute)}
	}
	two := defaultRules()
	two.Required = 2
	tests := []struct {
		name      string
		req       func() *Request
		a         Approval
		rules     Rules
		now       time.Time
		wantFinal bool
		wantErr   error
	}{
		{"ok/final-one-of-one", base, Approval{ARN: aliceARN}, defaultRules(), t0, true, nil},
		{"ok/first-of-two", base, Approval{ARN: aliceARN}, two, t0, false, nil},
		{"ok/second-of-two", func() *Request { r := base(); r.Approvals = []Approval{{ARN: bobARN}}; return r }, Approval{ARN: aliceARN}, two, t0, true, nil},
		{"ok/narrower-duration", base, Approval{ARN: aliceARN, Duration: 5 * time.Minute}, defaultRules(), t0, true, nil},
		{"ok/same-policy", func() *Request { r := base(); r.Approvals = []Approval{{ARN: bobARN, Policy: "P"}}; return r }, Approval{ARN: aliceARN, Policy: "P"}, two, t0, true, nil},
		{"fail/self-approval", base, Approval{ARN: jobARN}, defaultRules(), t0, false, ErrSelfApproval},
		{"fail/self-approval-other-identity-case", base, Approval{ARN: "arn:aws:iam::111122223333:user/carol"}, defaultRules(), t0, false, ErrSelfApproval},
		{"fail/duplicate", func() *Request { r := base(); r.Approvals = []Approval{{ARN: aliceARN}}; return r }, Approval{ARN: aliceARN}, two, t0, false, ErrDuplicate},
		{"fail/expired", base, Approval{ARN: aliceARN}, defaultRules(), t0.Add(time.Minute), false, ErrExpired},
		{"fail/denied", func() *Request { r := base(); r.Denied = true; return r }, Approval{ARN: aliceARN}, defaultRules(), t0, false, ErrDenied},
		{"fail/approved-already", func() *Request { r := base(); r.Session = &Minted{Expires: t0.Add(time.Hour)}; return r }, Approval{ARN: aliceARN}, defaultRules(), t0, false, ErrNotPending},
		{"fail/policy-clash", func() *Request { r := base(); r.Approvals = []Approval{{ARN: bobARN, Policy: "P"}}; return r }, Approval{ARN: aliceARN, Policy: "Q"}, two, t0, false, ErrPolicyClash},
		{"fail/bad-rules", base, Approval{ARN: aliceARN}, Rules{}, t0, false, ErrMisconfigured},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			final, err := tc.req().Check(tc.a, tc.rules, tc.now)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Check() error = %v, want %v", err, tc.wantErr)
			}
			if final != tc.wantFinal {
				t.Errorf("Check() final = %v, want %v", final, tc.wantFinal)
			}
		})
	}
	t.Run("fail/longer-duration", func(t *testing.T) {
		if _, err := base().Check(Approval{ARN: aliceARN, Duration: time.Hour}, defaultRules(), t0); err == nil {
			t.Error("Check() accepted a duration longer than asked")
		}
	})
}

func TestSessionDuration(t *testing.T) {
	r := &Request{Duration: 30 * time.Minute, Approvals: []Approval{{Duration: 20 * time.Minute}, {}}}
	rules := defaultRules()
	if got := r.SessionDuration(Approval{Duration: 25 * time.Minute}, rules); got != 20*time.Minute {
		t.Errorf("SessionDuration() = %v, want 20m", got)
	}
	rules.MaxDuration = 10 * time.Minute
	if got := r.SessionDuration(Approval{}, rules); got != 10*time.Minute {
		t.Errorf("SessionDuration() = %v, want the rules' 10m", got)
	}
}

func TestParseRules(t *testing.T) {
	tests := []struct {
		name    string
		tags    map[string]string
		roleMax time.Duration
		want    Rules
		wantErr bool
	}{
		{"ok/defaults", nil, 0, Rules{Required: 1, MaxDuration: time.Hour, Window: 15 * time.Minute}, false},
		{"ok/defaults-capped-by-role", nil, 30 * time.Minute, Rules{Required: 1, MaxDuration: 30 * time.Minute, Window: 15 * time.Minute}, false},
		{"ok/all", map[string]string{TagRequired: "2", TagApprovers: "release-managers", TagMaxDur: "30m", TagWindow: "1h", "team": "x"}, 2 * time.Hour,
			Rules{Required: 2, Group: "release-managers", MaxDuration: 30 * time.Minute, Window: time.Hour}, false},
		{"fail/required-zero", map[string]string{TagRequired: "0"}, 0, Rules{}, true},
		{"fail/required-words", map[string]string{TagRequired: "two"}, 0, Rules{}, true},
		{"fail/required-too-many", map[string]string{TagRequired: "11"}, 0, Rules{}, true},
		{"fail/group-bad", map[string]string{TagApprovers: "a b"}, 0, Rules{}, true},
		{"fail/max-duration-junk", map[string]string{TagMaxDur: "forever"}, 0, Rules{}, true},
		{"fail/max-duration-beyond-role", map[string]string{TagMaxDur: "2h"}, time.Hour, Rules{}, true},
		{"fail/window-too-short", map[string]string{TagWindow: "9s"}, 0, Rules{}, true},
		{"fail/misspelled-tag", map[string]string{"shortfuse:approver": "ops"}, 0, Rules{}, true},
		{"fail/wrong-case-tag", map[string]string{"Shortfuse:Approvals-Required": "2"}, 0, Rules{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRules(tc.tags, tc.roleMax)
			if tc.wantErr {
				if !errors.Is(err, ErrMisconfigured) {
					t.Fatalf("ParseRules() error = %v, want ErrMisconfigured", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRules() error = %v", err)
			}
			if got != tc.want {
				t.Errorf("ParseRules() = %+v, want %+v", got, tc.want)
			}
		})
	}
	if err := (Rules{Required: 3, Group: "g", MaxDuration: time.Hour, Window: time.Hour}).CheckGroupSize(2); !errors.Is(err, ErrMisconfigured) {
		t.Errorf("CheckGroupSize(2) for 3 approvals = %v, want ErrMisconfigured", err)
	}
}

func TestCodes(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := NewCode(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParseCode(c)
		if err != nil || p != c {
			t.Fatalf("ParseCode(%q) = %q, %v", c, p, err)
		}
		seen[c] = true
	}
	if len(seen) < 199 {
		t.Errorf("%d distinct codes of 200", len(seen))
	}
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"ok/canonical", "ABCD-EFGH", "ABCD-EFGH", true},
		{"ok/lower-no-dash", " abcdefgh ", "ABCD-EFGH", true},
		{"fail/ambiguous-letter", "ABCD-EFGI", "", false},
		{"fail/zero", "ABCD-EFG0", "", false},
		{"fail/short", "ABC-EFGH", "", false},
		{"fail/injection", "ABCD-EFGH<", "", false},
		{"fail/empty", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCode(tc.in)
			if (err == nil) != tc.ok || got != tc.want {
				t.Errorf("ParseCode(%q) = %q, %v; want %q ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestWrap(t *testing.T) {
	k := mustKey(t)
	blob, err := Wrap(rand.Reader, k.WrapKey(), "ABCD-EFGH", []byte("credentials"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(blob, []byte("credentials")) {
		t.Fatal("the sealed blob contains the plaintext")
	}
	got, err := k.Unwrap("ABCD-EFGH", blob)
	if err != nil || string(got) != "credentials" {
		t.Fatalf("Unwrap() = %q, %v", got, err)
	}
	other := mustKey(t)
	tests := []struct {
		name string
		open func() ([]byte, error)
	}{
		{"fail/other-code", func() ([]byte, error) { return k.Unwrap("ABCD-EFGJ", blob) }},
		{"fail/other-key", func() ([]byte, error) { return other.Unwrap("ABCD-EFGH", blob) }},
		{"fail/flipped-bit", func() ([]byte, error) {
			b := bytes.Clone(blob)
			b[len(b)-1] ^= 1
			return k.Unwrap("ABCD-EFGH", b)
		}},
		{"fail/truncated", func() ([]byte, error) { return k.Unwrap("ABCD-EFGH", blob[:40]) }},
		{"fail/version", func() ([]byte, error) {
			b := bytes.Clone(blob)
			b[0] = 2
			return k.Unwrap("ABCD-EFGH", b)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if pt, err := tc.open(); err == nil {
				t.Fatalf("Unwrap() = %q, want an error", pt)
			}
		})
	}
	if !VerifyProof(k.VerifyKey(), "ABCD-EFGH", k.Proof("ABCD-EFGH")) {
		t.Error("VerifyProof() refused a good proof")
	}
	if VerifyProof(k.VerifyKey(), "ABCD-EFGJ", k.Proof("ABCD-EFGH")) {
		t.Error("VerifyProof() accepted a proof for another code")
	}
	if VerifyProof(other.VerifyKey(), "ABCD-EFGH", k.Proof("ABCD-EFGH")) {
		t.Error("VerifyProof() accepted another key's proof")
	}
	if s := k.String() + k.GoString(); strings.Contains(s, string(k.sign)) {
		t.Error("String() shows the key")
	}
	if err := CheckPublicKeys(k.VerifyKey(), k.WrapKey()); err != nil {
		t.Errorf("CheckPublicKeys() = %v", err)
	}
	if err := CheckPublicKeys(k.VerifyKey(), make([]byte, 31)); err == nil {
		t.Error("CheckPublicKeys() accepted a short wrap key")
	}
}

func TestBuildFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	event := func(string) ([]byte, error) {
		return []byte(`{"inputs":{"env":"prod","dry_run":false}}`), nil
	}
	wantParams, _ := ParamsHash([]byte(`{"dry_run":false,"env":"prod"}`))
	tests := []struct {
		name string
		env  map[string]string
		want Build
	}{
		{"ok/jenkins", map[string]string{"JENKINS_URL": "https://ci/", "BUILD_URL": "https://ci/job/deploy/42/", "JOB_NAME": "deploy", "BUILD_NUMBER": "42", "GIT_COMMIT": "0123456789abcdef0123456789abcdef01234567", ParamsEnv: `{"env":"prod","dry_run":false}`},
			Build{System: "jenkins", URL: "https://ci/job/deploy/42/", Job: "deploy", Number: "42", Commit: "0123456789abcdef0123456789abcdef01234567", ParamsHash: wantParams}},
		{"ok/github", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SERVER_URL": "https://github.com", "GITHUB_REPOSITORY": "o/r", "GITHUB_RUN_ID": "7", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_WORKFLOW": "deploy", "GITHUB_JOB": "prod", "GITHUB_RUN_NUMBER": "3", "GITHUB_SHA": "abcdef1", "GITHUB_EVENT_PATH": "/ev"},
			Build{System: "github", URL: "https://github.com/o/r/actions/runs/7/attempts/2", Job: "o/r deploy:prod", Number: "3", Commit: "abcdef1", ParamsHash: wantParams}},
		{"ok/gitlab", map[string]string{"GITLAB_CI": "true", "CI_JOB_URL": "https://gitlab.example/g/p/-/jobs/9", "CI_PROJECT_PATH": "g/p", "CI_JOB_NAME": "deploy", "CI_PIPELINE_IID": "5", "CI_COMMIT_SHA": "abcdef12"},
			Build{System: "gitlab", URL: "https://gitlab.example/g/p/-/jobs/9", Job: "g/p:deploy", Number: "5", Commit: "abcdef12"}},
		{"ok/none", map[string]string{}, Build{}},
		{"ok/drops-invalid", map[string]string{"BUILD_URL": "https://user:pw@ci/job/1/", "JOB_NAME": "x\x1b[31m", "GIT_COMMIT": "not-hex"},
			Build{System: "jenkins"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := BuildFromEnv(env(tc.env), event)
			if got != tc.want {
				t.Errorf("BuildFromEnv() = %+v\nwant %+v", got, tc.want)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("BuildFromEnv() result does not validate: %v", err)
			}
		})
	}
}

func TestParamsHashCanonical(t *testing.T) {
	a, err := ParamsHash([]byte(`{"b": 1, "a": "x"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ParamsHash([]byte(`{"a":"x","b":1}`))
	c, _ := ParamsHash([]byte(`{"a":"x","b":2}`))
	if a != b || a == c {
		t.Errorf("ParamsHash: %s %s %s", a, b, c)
	}
	for _, bad := range []string{`[]`, `{"a":1} {}`, `nope`} {
		if _, err := ParamsHash([]byte(bad)); err == nil {
			t.Errorf("ParamsHash(%q) accepted", bad)
		}
	}
}

func TestBuildValidate(t *testing.T) {
	tests := []struct {
		name string
		b    Build
		ok   bool
	}{
		{"ok/full", Build{System: "other", URL: "http://ci.example:8080/job/1/?x=1", Job: "a", Number: "1", Commit: "abcdef1", ParamsHash: "sha256:" + strings.Repeat("0", 64)}, true},
		{"ok/empty", Build{}, true},
		{"fail/javascript-url", Build{URL: "javascript:alert(1)"}, false},
		{"fail/relative-url", Build{URL: "/job/1"}, false},
		{"fail/userinfo", Build{URL: "https://u:p@ci/"}, false},
		{"fail/control-in-job", Build{Job: "a\nb"}, false},
		{"fail/bidi-in-job", Build{Job: "a\u202eb"}, false},
		{"fail/long-job", Build{Job: strings.Repeat("j", MaxJobLen+1)}, false},
		{"fail/system", Build{System: "travis"}, false},
		{"fail/params-upper", Build{ParamsHash: "sha256:" + strings.Repeat("A", 64)}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.b.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestServiceFlow(t *testing.T) {
	s, clk, rec := newService(t)
	ctx := context.Background()
	k := mustKey(t)
	r := create(t, s, k, defaultRules())
	if r.Status(clk.Now()) != StatusPending || r.ExpiresAt != t0.Add(15*time.Minute) {
		t.Fatalf("new request: %+v", r)
	}
	if _, err := s.Redeem(ctx, r.Code, jobARN, k.Proof(r.Code)); !errors.Is(err, ErrNotApproved) {
		t.Fatalf("Redeem(pending) = %v, want ErrNotApproved", err)
	}
	if _, err := s.Approve(ctx, r.Code, r.Version, Approval{ARN: jobARN}, defaultRules(), nil); !errors.Is(err, ErrSelfApproval) {
		t.Fatalf("Approve(by requester) = %v, want ErrSelfApproval", err)
	}
	// A final approval without a minted session is a conflict: the caller
	// decided on stale rules.
	if _, err := s.Approve(ctx, r.Code, r.Version, Approval{ARN: aliceARN}, defaultRules(), nil); !errors.Is(err, ErrConflict) {
		t.Fatalf("Approve(final, nothing minted) = %v, want ErrConflict", err)
	}
	blob, err := Wrap(rand.Reader, r.WrapKey, r.Code, []byte(`{"creds":1}`))
	if err != nil {
		t.Fatal(err)
	}
	minted := &Minted{AccessKeyID: "ASIAEXAMPLEEXAMPLE12", Expires: t0.Add(15 * time.Minute), Wrapped: blob}
	if _, err := s.Approve(ctx, r.Code, r.Version+1, Approval{ARN: aliceARN}, defaultRules(), minted); !errors.Is(err, ErrConflict) {
		t.Fatalf("Approve(stale version) = %v, want ErrConflict", err)
	}
	ap, err := s.Approve(ctx, r.Code, r.Version, Approval{ARN: aliceARN, UserName: "alice"}, defaultRules(), minted)
	if err != nil {
		t.Fatal(err)
	}
	if ap.Status(clk.Now()) != StatusApproved {
		t.Fatalf("status after approval = %v", ap.Status(clk.Now()))
	}
	if got, err := s.BySession(ctx, minted.AccessKeyID); err != nil || got.Code != r.Code {
		t.Fatalf("BySession() = %v, %v", got, err)
	}

	tests := []struct {
		name    string
		caller  string
		proof   []byte
		wantErr error
	}{
		{"fail/not-requester", aliceARN, k.Proof(r.Code), ErrNotRequester},
		{"fail/bad-proof", jobARN, mustKey(t).Proof(r.Code), ErrBadProof},
		{"fail/proof-for-other-code", jobARN, k.Proof("ZZZZ-ZZZZ"), ErrBadProof},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Redeem(ctx, r.Code, tc.caller, tc.proof); !errors.Is(err, tc.wantErr) {
				t.Fatalf("Redeem() = %v, want %v", err, tc.wantErr)
			}
		})
	}
	red, err := s.Redeem(ctx, r.Code, jobARN, k.Proof(r.Code))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := k.Unwrap(r.Code, red.Wrapped)
	if err != nil || string(pt) != `{"creds":1}` {
		t.Fatalf("Unwrap(redeemed) = %q, %v", pt, err)
	}
	// The second redemption is refused, counted and recorded; the stored
	// ciphertext is gone.
	_, err = s.Redeem(ctx, r.Code, jobARN, k.Proof(r.Code))
	var re *ReplayError
	if !errors.As(err, &re) || !errors.Is(err, ErrRedeemed) || re.AccessKeyID != minted.AccessKeyID {
		t.Fatalf("second Redeem() = %v, want a ReplayError naming the session", err)
	}
	if s.Replays() != 1 {
		t.Errorf("Replays() = %d, want 1", s.Replays())
	}
	got, err := s.Get(ctx, r.Code)
	if err != nil {
		t.Fatal(err)
	}
	if got.Replays != 1 || got.Status(clk.Now()) != StatusRedeemed || got.Session == nil || len(got.Session.Wrapped) != 0 {
		t.Errorf("after replay: %+v", got)
	}
	want := []EventKind{EventRequested, EventApproved, EventRedeemed, EventReplay}
	if k := rec.kinds(); len(k) != len(want) || k[0] != want[0] || k[1] != want[1] || k[2] != want[2] || k[3] != want[3] {
		t.Errorf("events = %v, want %v", k, want)
	}
	for _, e := range rec.events {
		if e.Request.Session != nil && len(e.Request.Session.Wrapped) != 0 {
			t.Error("an event carries the sealed credentials")
		}
	}
}

func TestServiceExpiryAndDeny(t *testing.T) {
	s, clk, _ := newService(t)
	ctx := context.Background()
	k := mustKey(t)
	r := create(t, s, k, defaultRules())
	clk.Set(t0.Add(15 * time.Minute))
	if _, err := s.Approve(ctx, r.Code, r.Version, Approval{ARN: aliceARN}, defaultRules(), &Minted{AccessKeyID: "ASIAX", Expires: t0.Add(time.Hour)}); !errors.Is(err, ErrExpired) {
		t.Fatalf("Approve(expired) = %v, want ErrExpired", err)
	}
	if _, err := s.Deny(ctx, r.Code, aliceARN, ""); !errors.Is(err, ErrExpired) {
		t.Fatalf("Deny(expired) = %v, want ErrExpired", err)
	}
	if _, err := s.Redeem(ctx, r.Code, jobARN, k.Proof(r.Code)); !errors.Is(err, ErrExpired) {
		t.Fatalf("Redeem(expired) = %v, want ErrExpired", err)
	}

	clk.Set(t0)
	r2 := create(t, s, k, defaultRules())
	d, err := s.Deny(ctx, r2.Code, aliceARN, "not now")
	if err != nil || d.Status(t0) != StatusDenied || d.DenyReason != "not now" {
		t.Fatalf("Deny() = %+v, %v", d, err)
	}
	if _, err := s.Redeem(ctx, r2.Code, jobARN, k.Proof(r2.Code)); !errors.Is(err, ErrDenied) {
		t.Fatalf("Redeem(denied) = %v, want ErrDenied", err)
	}
	if _, err := s.Deny(ctx, r2.Code, aliceARN, ""); !errors.Is(err, ErrDenied) {
		t.Fatalf("Deny(denied) = %v, want ErrDenied", err)
	}

	// Purge forgets what ended long ago, and keeps what is live.
	clk.Set(t0.Add(47 * time.Hour))
	r3 := create(t, s, k, defaultRules())
	clk.Set(t0.Add(48 * time.Hour))
	n, err := s.Purge(ctx, 24*time.Hour)
	if err != nil || n != 2 {
		t.Fatalf("Purge() = %d, %v; want 2", n, err)
	}
	if _, err := s.Get(ctx, r.Code); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(purged) = %v", err)
	}
	if _, err := s.Get(ctx, r3.Code); err != nil {
		t.Errorf("Get(recent) = %v", err)
	}
}

func TestServiceNOfM(t *testing.T) {
	s, _, rec := newService(t)
	ctx := context.Background()
	rules := defaultRules()
	rules.Required = 2
	k := mustKey(t)
	r := create(t, s, k, rules)
	a1, err := s.Approve(ctx, r.Code, r.Version, Approval{ARN: aliceARN, UserName: "alice", Duration: 10 * time.Minute}, rules, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a1.Status(t0) != StatusPending || len(a1.Approvals) != 1 {
		t.Fatalf("after one of two: %+v", a1)
	}
	if _, err := s.Approve(ctx, r.Code, a1.Version, Approval{ARN: aliceARN}, rules, nil); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("second approval by the same approver = %v, want ErrDuplicate", err)
	}
	if d := a1.SessionDuration(Approval{ARN: bobARN}, rules); d != 10*time.Minute {
		t.Errorf("SessionDuration() = %v, want 10m", d)
	}
	a2, err := s.Approve(ctx, r.Code, a1.Version, Approval{ARN: bobARN, UserName: "bob"}, rules, &Minted{AccessKeyID: "ASIAY", Expires: t0.Add(10 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	if a2.Status(t0) != StatusApproved || strings.Join(a2.Approvers(), ",") != "alice,bob" {
		t.Fatalf("after two of two: %+v", a2)
	}
	if k := rec.kinds(); k[1] != EventApproval || k[2] != EventApproved {
		t.Errorf("events = %v", k)
	}
}

func TestWaitWakes(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	k := mustKey(t)
	r := create(t, s, k, defaultRules())
	done := make(chan *Request)
	go func() {
		got, _ := s.Wait(ctx, r.Code, 30*time.Second)
		done <- got
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := s.Deny(ctx, r.Code, aliceARN, ""); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got == nil || !got.Denied {
			t.Fatalf("Wait() = %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait() did not wake on a change")
	}
	if _, err := s.Wait(ctx, "ZZZZ-ZZZZ", time.Second); !errors.Is(err, ErrNotFound) {
		t.Errorf("Wait(unknown) = %v", err)
	}
}

func TestCreateRefuses(t *testing.T) {
	s, _, _ := newService(t)
	k := mustKey(t)
	good := CreateInput{RoleARN: roleARN, Requester: jobARN, Duration: 15 * time.Minute, Rules: defaultRules(), VerifyKey: k.VerifyKey(), WrapKey: k.WrapKey()}
	tests := []struct {
		name string
		mod  func(*CreateInput)
	}{
		{"fail/duration-over-rules", func(in *CreateInput) { in.Duration = 2 * time.Hour }},
		{"fail/duration-short", func(in *CreateInput) { in.Duration = time.Second }},
		{"fail/bad-build", func(in *CreateInput) { in.Build.URL = "ftp://x" }},
		{"fail/bad-reason", func(in *CreateInput) { in.Reason = "a\x00b" }},
		{"fail/bad-keys", func(in *CreateInput) { in.VerifyKey = []byte("short") }},
		{"fail/bad-rules", func(in *CreateInput) { in.Rules = Rules{} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			tc.mod(&in)
			if _, err := s.Create(context.Background(), in); err == nil {
				t.Fatal("Create() accepted")
			}
		})
	}
}

func TestCreateCapsPendingPerRequester(t *testing.T) {
	s, clk, _ := newService(t)
	k := mustKey(t)
	for range MaxPendingPerRequester {
		create(t, s, k, defaultRules())
	}
	in := CreateInput{RoleARN: roleARN, Requester: jobARN, Duration: 15 * time.Minute, Rules: defaultRules(), VerifyKey: k.VerifyKey(), WrapKey: k.WrapKey()}
	if _, err := s.Create(context.Background(), in); !errors.Is(err, ErrTooMany) {
		t.Fatalf("Create() beyond the cap = %v, want ErrTooMany", err)
	}
	in.Requester = aliceARN
	if _, err := s.Create(context.Background(), in); err != nil {
		t.Fatalf("Create() by another requester = %v", err)
	}
	// Once they expire, the requester may ask again.
	clk.Set(t0.Add(15 * time.Minute))
	in.Requester = jobARN
	if _, err := s.Create(context.Background(), in); err != nil {
		t.Fatalf("Create() after the others expired = %v", err)
	}
}
