package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

const apAccount = "123456789012"

// approvalBroker is a broker with approvals, the users of the flow and
// two roles: "deploy" (one approval) and "release" (two of the group
// release-managers).
type approvalBroker struct {
	*testBroker
	iam       *iam.Service
	approvals *approvals.Service
	users     map[string]aws.Credentials
	seeds     map[string]string
	steps     map[string]int64 // next unused TOTP step per user
}

const (
	deployRole  = "arn:aws:iam::" + apAccount + ":role/deploy"
	releaseRole = "arn:aws:iam::" + apAccount + ":role/release"
	trustAcct   = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + apAccount + `:root"},"Action":"sts:AssumeRole"}]}`
)

func allow(action, resource string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`
}

func newApprovalBroker(t *testing.T, roleTags map[string][]iam.Tag) *approvalBroker {
	t.Helper()
	ctx := context.Background()
	var ap *approvals.Service
	tb, core := newTestBrokerWith(t, time.Hour, func(core *testCore, clk *testutil.Clock, deps *Deps) {
		ap = approvals.New(core.st, approvals.Options{Now: clk.Now, Rand: rand.Reader})
		deps.Approvals = ap
	})
	svc := core.iam
	b := &approvalBroker{
		testBroker: tb,
		iam:        svc, approvals: ap, users: map[string]aws.Credentials{}, seeds: map[string]string{}, steps: map[string]int64{},
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"jenkins", "alice", "bob", "carol", "dave"} {
		_, err := svc.CreateUser(ctx, iam.CreateUserInput{Name: name})
		must(err)
		k, err := svc.CreateAccessKey(ctx, name)
		must(err)
		b.users[name] = aws.Credentials{AccessKeyID: k.ID, SecretAccessKey: k.Secret}
	}
	// The job's doorbell: CreateRequest only.
	must(svc.PutInlinePolicy(ctx, iam.KindUser, "jenkins", "doorbell", allow("shortfuse:CreateRequest", "*")))
	// Approvers may assume the roles themselves; dave may not.
	for _, name := range []string{"alice", "bob", "carol"} {
		must(svc.PutInlinePolicy(ctx, iam.KindUser, name, "assume", allow("sts:AssumeRole", "arn:aws:iam::"+apAccount+":role/*")))
		b.enableMFA(t, name)
	}
	b.enableMFA(t, "dave")
	_, err := svc.CreateGroup(ctx, "release-managers", "")
	must(err)
	must(svc.AddUserToGroup(ctx, "release-managers", "alice"))
	must(svc.AddUserToGroup(ctx, "release-managers", "bob"))

	tags := map[string][]iam.Tag{
		"deploy":  nil,
		"release": {{Key: approvals.TagRequired, Value: "2"}, {Key: approvals.TagApprovers, Value: "release-managers"}, {Key: approvals.TagMaxDur, Value: "30m"}},
	}
	for k, v := range roleTags {
		tags[k] = v
	}
	for name, tt := range tags {
		_, err := svc.CreateRole(ctx, iam.CreateRoleInput{Name: name, AssumeRolePolicyDocument: trustAcct, Tags: tt})
		must(err)
		must(svc.PutInlinePolicy(ctx, iam.KindRole, name, "work", allow("secretsmanager:ListSecrets", "*")))
	}
	return b
}

var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func (b *approvalBroker) enableMFA(t *testing.T, user string) {
	t.Helper()
	ctx := context.Background()
	dev, err := b.iam.CreateVirtualMFADevice(ctx, user+"-phone", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := b.clock.Now()
	c1, _ := totp.GenerateCodeCustom(dev.Base32StringSeed, now.Add(-30*time.Second), totpOpts)
	c2, _ := totp.GenerateCodeCustom(dev.Base32StringSeed, now, totpOpts)
	if err := b.iam.EnableMFADevice(ctx, user, dev.SerialNumber, c1, c2); err != nil {
		t.Fatal(err)
	}
	b.seeds[user] = dev.Base32StringSeed
	b.steps[user] = now.Unix()/30 + 1
}

// code returns the user's next unused TOTP code. The broker accepts a code
// one step ahead and each step once: when the user's next step is further
// ahead, the broker's clock moves on.
func (b *approvalBroker) code(t *testing.T, user string) string {
	t.Helper()
	step := max(b.steps[user], b.clock.Now().Unix()/30)
	b.steps[user] = step + 1
	if cur := b.clock.Now().Unix() / 30; step > cur+1 {
		b.clock.Add(time.Duration(step-cur-1) * 30 * time.Second)
	}
	c, err := totp.GenerateCodeCustom(b.seeds[user], time.Unix(step*30, 0), totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// ask creates a request as jenkins and returns its code and the job's key.
func (b *approvalBroker) ask(t *testing.T, role string, extra map[string]any) (string, *approvals.RedemptionKey) {
	t.Helper()
	k, err := approvals.NewRedemptionKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	in := map[string]any{
		"RoleArn": role, "DurationSeconds": 900, "Reason": "release 1.4",
		"Build":     map[string]any{"System": "jenkins", "Url": "https://ci.example/job/deploy/42/", "Job": "deploy", "Number": "42", "Commit": "0123456789abcdef0123456789abcdef01234567"},
		"VerifyKey": k.VerifyKey(), "WrapKey": k.WrapKey(),
	}
	for kk, v := range extra {
		in[kk] = v
	}
	out := b.call(t, "jenkins", "CreateRequest", in)
	code, _ := out["Code"].(string)
	if _, err := approvals.ParseCode(code); err != nil || out["ApprovalPath"] != "/ui/requests/"+code {
		t.Fatalf("CreateRequest() = %v", out)
	}
	return code, k
}

func (b *approvalBroker) approve(t *testing.T, user, code string, extra map[string]any) map[string]any {
	t.Helper()
	in := map[string]any{"Code": code, "TokenCode": b.code(t, user)}
	for k, v := range extra {
		in[k] = v
	}
	return b.call(t, user, "ApproveRequest", in)
}

// call makes op as user with the input in, which must succeed.
func (b *approvalBroker) call(t *testing.T, user, op string, in any) map[string]any {
	t.Helper()
	return mustShortfuse(t, b.testBroker, b.users[user], op, jsonBody(t, in))
}

// refused makes op as user with the input in, which must be refused with
// the error code.
func (b *approvalBroker) refused(t *testing.T, user, op string, in any, code string) {
	t.Helper()
	wantShortfuseError(t, b.testBroker, b.users[user], op, jsonBody(t, in), code)
}

func requestOf(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	r, ok := out["Request"].(map[string]any)
	if !ok {
		t.Fatalf("no Request in %v", out)
	}
	return r
}

// redeem takes the session and opens it with the job's key.
func (b *approvalBroker) redeem(t *testing.T, code string, k *approvals.RedemptionKey) aws.Credentials {
	t.Helper()
	out := b.call(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)})
	sealed, err := base64.StdEncoding.DecodeString(out["SealedCredentials"].(string))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := k.Unwrap(code, sealed)
	if err != nil {
		t.Fatalf("Unwrap: %v", err)
	}
	var w wrappedCredentials
	if err := json.Unmarshal(plain, &w); err != nil {
		t.Fatal(err)
	}
	return aws.Credentials{AccessKeyID: w.AccessKeyID, SecretAccessKey: w.SecretAccessKey, SessionToken: w.SessionToken}
}

func TestApprovalOneApprover(t *testing.T) {
	b := newApprovalBroker(t, nil)
	code, k := b.ask(t, deployRole, nil)

	// Who sees the request.
	got := requestOf(t, b.call(t, "alice", "GetRequest", map[string]any{"Code": code}))
	if got["Status"] != "pending" || got["Requester"] != "arn:aws:iam::"+apAccount+":user/jenkins" || got["Build"].(map[string]any)["Url"] != "https://ci.example/job/deploy/42/" {
		t.Fatalf("GetRequest() = %v", got)
	}
	b.refused(t, "dave", "GetRequest", map[string]any{"Code": code}, "ResourceNotFoundException")
	list := b.call(t, "alice", "ListRequests", map[string]any{})
	if n := len(list["Requests"].([]any)); n != 1 {
		t.Errorf("ListRequests(alice) has %d requests, want 1", n)
	}
	list = b.call(t, "dave", "ListRequests", map[string]any{})
	if n := len(list["Requests"].([]any)); n != 0 {
		t.Errorf("ListRequests(dave) has %d requests, want 0", n)
	}

	tests := []struct {
		name, user string
		body       map[string]any
		code       string
	}{
		{"fail/redeem-before-approval", "jenkins", nil, ""},
		{"fail/self-approval", "jenkins", map[string]any{"Code": code, "TokenCode": "123456"}, "AccessDeniedException"},
		{"fail/no-mfa", "alice", map[string]any{"Code": code}, "AccessDeniedException"},
		{"fail/wrong-mfa", "alice", map[string]any{"Code": code, "TokenCode": "000000"}, "AccessDeniedException"},
		{"fail/no-assume-role-permission", "dave", map[string]any{"Code": code, "TokenCode": "000000"}, "ResourceNotFoundException"},
		{"fail/longer-duration", "carol", map[string]any{"Code": code, "TokenCode": "123456", "DurationSeconds": 3600}, "InvalidParameterException"},
		{"fail/malformed-code", "carol", map[string]any{"Code": code, "TokenCode": "12345x"}, "InvalidParameterException"},
		{"fail/bad-policy", "carol", map[string]any{"Code": code, "Policy": `{"Statement":"nope"}`}, "MalformedPolicyDocumentException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.body == nil {
				b.refused(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)}, "InvalidRequestException")
				return
			}
			b.refused(t, tc.user, "ApproveRequest", tc.body, tc.code)
		})
	}

	// alice approves, narrowing the duration and attaching a policy.
	pol := allow("secretsmanager:ListSecrets", "*")
	out := requestOf(t, b.approve(t, "alice", code, map[string]any{"DurationSeconds": 600, "Policy": pol}))
	if out["Status"] != "approved" || out["SessionAccessKeyId"] == "" || out["SessionPolicy"] != pol {
		t.Fatalf("ApproveRequest() = %v", out)
	}

	// A stranger, even with the proof, cannot redeem; a wrong proof fails.
	b.refused(t, "alice", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)}, "ResourceNotFoundException")
	other, _ := approvals.NewRedemptionKey(rand.Reader)
	b.refused(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": other.Proof(code)}, "AccessDeniedException")

	sess := b.redeem(t, code, k)
	id, err := b.sts(sess).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("the redeemed session does not work: %v", err)
	}
	if want := "arn:aws:sts::" + apAccount + ":assumed-role/deploy/approval-" + code; aws.ToString(id.Arn) != want {
		t.Errorf("caller = %s, want %s", aws.ToString(id.Arn), want)
	}
	rec, err := b.srv.sessions.Get(context.Background(), sess.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if rec.SourceARN != "arn:aws:iam::"+apAccount+":user/alice" || rec.SourceIdentity != "alice" {
		t.Errorf("session source = %s / %s, want alice", rec.SourceARN, rec.SourceIdentity)
	}
	if d := rec.Expires.Sub(rec.IssuedAt); d != 10*time.Minute {
		t.Errorf("session lasts %s, want the approver's 10m", d)
	}

	// The second redemption is refused, counted, and kills the session.
	b.refused(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)}, "InvalidRequestException")
	if b.approvals.Replays() != 1 {
		t.Errorf("Replays() = %d, want 1", b.approvals.Replays())
	}
	wantCallerCode(t, b.testBroker, sess, "ExpiredToken")
	got = requestOf(t, b.call(t, "alice", "GetRequest", map[string]any{"Code": code}))
	if got["Status"] != "redeemed" || got["Replays"] != float64(1) {
		t.Errorf("after replay: %v", got)
	}
}

func TestApprovalNOfM(t *testing.T) {
	b := newApprovalBroker(t, nil)
	code, k := b.ask(t, releaseRole, nil)

	// carol may assume the role but is not in the approvers group.
	b.refused(t, "carol", "ApproveRequest", map[string]any{"Code": code, "TokenCode": b.code(t, "carol")}, "AccessDeniedException")

	first := requestOf(t, b.approve(t, "alice", code, nil))
	if first["Status"] != "pending" || len(first["Approvals"].([]any)) != 1 {
		t.Fatalf("after alice: %v", first)
	}
	b.refused(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)}, "InvalidRequestException")
	second := requestOf(t, b.approve(t, "bob", code, nil))
	if second["Status"] != "approved" {
		t.Fatalf("after bob: %v", second)
	}
	sess := b.redeem(t, code, k)
	rec, err := b.srv.sessions.Get(context.Background(), sess.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	// The rules cap the session at 30m; the job asked for 15m.
	if d := rec.Expires.Sub(rec.IssuedAt); d != 15*time.Minute {
		t.Errorf("session lasts %s", d)
	}
	// Both approvers may take their line of sight back.
	out := b.call(t, "alice", "RevokeRequestSession", map[string]any{"Code": code})
	if out["AccessKeyId"] != sess.AccessKeyID {
		t.Errorf("RevokeRequestSession() = %v", out)
	}
	wantCallerCode(t, b.testBroker, sess, "ExpiredToken")
	b.refused(t, "dave", "RevokeRequestSession", map[string]any{"Code": code}, "ResourceNotFoundException")
}

func TestApprovalDuplicateApprover(t *testing.T) {
	b := newApprovalBroker(t, nil)
	code, _ := b.ask(t, releaseRole, nil)
	b.approve(t, "alice", code, nil)
	// A second approval by alice, with a fresh code, does not count.
	b.refused(t, "alice", "ApproveRequest", map[string]any{"Code": code, "TokenCode": b.code(t, "alice")}, "InvalidRequestException")
	// Nor does one signed with her MFA session.
	sess, err := b.sts(b.users["alice"]).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{
		SerialNumber: aws.String("arn:aws:iam::" + apAccount + ":mfa/alice-phone"), TokenCode: aws.String(b.code(t, "alice")),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantShortfuseError(t, b.testBroker, sessionCreds(sess.Credentials), "ApproveRequest", jsonBody(t, map[string]any{"Code": code}), "InvalidRequestException")
	// bob's approval, signed with his MFA session (no code in the call),
	// completes it.
	bs, err := b.sts(b.users["bob"]).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{
		SerialNumber: aws.String("arn:aws:iam::" + apAccount + ":mfa/bob-phone"), TokenCode: aws.String(b.code(t, "bob")),
	})
	if err != nil {
		t.Fatal(err)
	}
	out := requestOf(t, mustShortfuse(t, b.testBroker, sessionCreds(bs.Credentials), "ApproveRequest", jsonBody(t, map[string]any{"Code": code})))
	if out["Status"] != "approved" {
		t.Fatalf("after bob: %v", out)
	}
	// A session without MFA cannot approve.
	plain, err := b.sts(b.users["carol"]).GetSessionToken(context.Background(), &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	code2, _ := b.ask(t, deployRole, nil)
	wantShortfuseError(t, b.testBroker, sessionCreds(plain.Credentials), "ApproveRequest", jsonBody(t, map[string]any{"Code": code2}), "AccessDeniedException")
}

func TestApprovalMisconfigured(t *testing.T) {
	b := newApprovalBroker(t, map[string][]iam.Tag{
		"typo":      {{Key: "shortfuse:approver", Value: "ops"}},
		"junk":      {{Key: approvals.TagRequired, Value: "lots"}},
		"toofew":    {{Key: approvals.TagRequired, Value: "3"}, {Key: approvals.TagApprovers, Value: "release-managers"}},
		"nogroup":   {{Key: approvals.TagApprovers, Value: "nobody-here"}},
		"shortwait": {{Key: approvals.TagWindow, Value: "1m"}},
	})
	for _, role := range []string{"typo", "junk", "toofew", "nogroup"} {
		t.Run("fail/"+role, func(t *testing.T) {
			k, _ := approvals.NewRedemptionKey(rand.Reader)
			body := jsonBody(t, map[string]any{"RoleArn": "arn:aws:iam::" + apAccount + ":role/" + role, "VerifyKey": k.VerifyKey(), "WrapKey": k.WrapKey()})
			status, m := callShortfuse(t, b.testBroker, b.users["jenkins"], "CreateRequest", body)
			if status == 200 || m["__type"] != "AccessDeniedException" || !strings.Contains(fmt.Sprint(m["message"]), "misconfigured") {
				t.Fatalf("CreateRequest(%s) = %d %v, want a misconfiguration refusal", role, status, m)
			}
		})
	}

	// A rule broken after the request was made refuses the approval.
	code, _ := b.ask(t, deployRole, nil)
	if err := b.iam.TagRole(context.Background(), "deploy", []iam.Tag{{Key: approvals.TagRequired, Value: "0"}}); err != nil {
		t.Fatal(err)
	}
	b.refused(t, "alice", "ApproveRequest", map[string]any{"Code": code, "TokenCode": b.code(t, "alice")}, "AccessDeniedException")

	// Unapproved requests expire at the end of the window.
	code, k := b.ask(t, "arn:aws:iam::"+apAccount+":role/shortwait", map[string]any{"DurationSeconds": 600})
	b.clock.Shift(61 * time.Second)
	got := requestOf(t, b.call(t, "jenkins", "GetRequest", map[string]any{"Code": code}))
	if got["Status"] != "expired" {
		t.Fatalf("after the window: %v", got)
	}
	b.refused(t, "bob", "ApproveRequest", map[string]any{"Code": code, "TokenCode": b.code(t, "bob")}, "InvalidRequestException")
	b.refused(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)}, "InvalidRequestException")
}

func TestApprovalDenyAndWithdraw(t *testing.T) {
	b := newApprovalBroker(t, nil)
	code, k := b.ask(t, deployRole, nil)
	b.refused(t, "dave", "DenyRequest", map[string]any{"Code": code}, "ResourceNotFoundException")
	out := requestOf(t, b.call(t, "bob", "DenyRequest", map[string]any{"Code": code, "Reason": "not on a Friday"}))
	if out["Status"] != "denied" || out["DenyReason"] != "not on a Friday" {
		t.Fatalf("DenyRequest() = %v", out)
	}
	b.refused(t, "jenkins", "RedeemRequest", map[string]any{"Code": code, "Proof": k.Proof(code)}, "InvalidRequestException")

	// The requester withdraws its own request.
	code2, _ := b.ask(t, deployRole, nil)
	out = requestOf(t, b.call(t, "jenkins", "DenyRequest", map[string]any{"Code": code2}))
	if out["Status"] != "denied" {
		t.Fatalf("withdraw: %v", out)
	}
}

func TestCreateRequestRefusals(t *testing.T) {
	b := newApprovalBroker(t, nil)
	k, _ := approvals.NewRedemptionKey(rand.Reader)
	good := func() map[string]any {
		return map[string]any{"RoleArn": deployRole, "VerifyKey": k.VerifyKey(), "WrapKey": k.WrapKey()}
	}
	tests := []struct {
		name string
		user string
		mod  func(map[string]any)
		code string
	}{
		{"fail/no-permission", "dave", func(map[string]any) {}, "AccessDeniedException"},
		{"fail/not-a-role", "jenkins", func(m map[string]any) { m["RoleArn"] = "arn:aws:iam::" + apAccount + ":user/x" }, "InvalidParameterException"},
		{"fail/duration-over-rules", "jenkins", func(m map[string]any) { m["DurationSeconds"] = 7200 }, "InvalidParameterException"},
		{"fail/javascript-build-url", "jenkins", func(m map[string]any) { m["Build"] = map[string]any{"Url": "javascript:alert(1)"} }, "InvalidParameterException"},
		{"fail/short-wrap-key", "jenkins", func(m map[string]any) { m["WrapKey"] = []byte("short") }, "InvalidParameterException"},
		{"fail/unknown-member", "jenkins", func(m map[string]any) { m["Approver"] = "me" }, "ValidationException"},
		{"fail/missing-role", "jenkins", func(m map[string]any) { m["RoleArn"] = "arn:aws:iam::" + apAccount + ":role/nope" }, "AccessDeniedException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := good()
			tc.mod(m)
			b.refused(t, tc.user, "CreateRequest", m, tc.code)
		})
	}
}

func TestApprovalsOff(t *testing.T) {
	b := newTestBroker(t, time.Hour, nil)
	wantShortfuseError(t, b, b.admin, "ListRequests", "{}", "InvalidRequestException")
}

func TestTagValue(t *testing.T) {
	if got := tagValue("https://ci/job/x/?a=1&b=<2>"); got != "https://ci/job/x/_a=1_b=_2_" {
		t.Errorf("tagValue() = %q", got)
	}
	if got := tagValue(strings.Repeat("é", 300)); len([]rune(got)) != 256 {
		t.Errorf("tagValue() has %d runes", len([]rune(got)))
	}
}
