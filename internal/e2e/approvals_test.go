package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// Build-bound approvals with the real binary: a job process asks with
// shortfuse request, another process approves with shortfuse approve, and
// the job receives its session once.

const apAccount = "111122223333"

// hookReceiver is a local webhook endpoint that keeps what it receives.
type hookReceiver struct {
	mu    sync.Mutex
	texts []string
	srv   *httptest.Server
}

func newHookReceiver(t *testing.T) *hookReceiver {
	h := &hookReceiver{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m struct {
			Text string `json:"text"`
		}
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &m); err != nil || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook received %q (%s)", data, r.Header.Get("Content-Type"))
		}
		h.mu.Lock()
		h.texts = append(h.texts, m.Text)
		h.mu.Unlock()
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// waitFor waits until a received message contains all of want.
func (h *hookReceiver) waitFor(t *testing.T, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		for _, s := range h.texts {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(s, w)
			}
			if ok {
				h.mu.Unlock()
				return s
			}
		}
		h.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Fatalf("no webhook message with %q; received:\n%s", want, strings.Join(h.texts, "\n---\n"))
	return ""
}

// apWorld is a broker with the people of the approval flow: jenkins (the
// job's doorbell), alice and bob (release managers), carol (may assume
// roles, not a release manager), and roles deploy (one approval),
// release (two of release-managers) and quick (a 10 s window).
type apWorld struct {
	b     *broker
	users map[string]creds
	seeds map[string]string
	steps map[string]int64
	mu    sync.Mutex
	hook  *hookReceiver
}

func newAPWorld(t *testing.T) *apWorld {
	t.Helper()
	hook := newHookReceiver(t)
	b := startBroker(t, "", "--account-id", apAccount, "--notify-webhook", hook.srv.URL+"/hook", "--public-url", "https://broker.example")
	w := &apWorld{b: b, users: map[string]creds{}, seeds: map[string]string{}, steps: map[string]int64{}, hook: hook}
	admin := b.iamClient(b.adminCreds())
	ctx := context.Background()
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	policy := func(action, resource string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"` + resource + `"}]}`)
	}
	for _, u := range []string{"jenkins", "alice", "bob", "carol"} {
		w.users[u] = newUserSDK(t, b, u, "")
	}
	_, err := admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String("jenkins"), PolicyName: aws.String("doorbell"), PolicyDocument: policy("shortfuse:CreateRequest", "*")})
	check("PutUserPolicy", err)
	for _, u := range []string{"alice", "bob", "carol"} {
		_, err := admin.PutUserPolicy(ctx, &sdkiam.PutUserPolicyInput{UserName: aws.String(u), PolicyName: aws.String("approver"),
			PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","shortfuse:CreateRequest"],"Resource":"arn:aws:iam::` + apAccount + `:role/*"}]}`)})
		check("PutUserPolicy", err)
		w.enableMFA(t, admin, u)
	}
	_, err = admin.CreateGroup(ctx, &sdkiam.CreateGroupInput{GroupName: aws.String("release-managers")})
	check("CreateGroup", err)
	for _, u := range []string{"alice", "bob"} {
		_, err := admin.AddUserToGroup(ctx, &sdkiam.AddUserToGroupInput{GroupName: aws.String("release-managers"), UserName: aws.String(u)})
		check("AddUserToGroup", err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + apAccount + `:root"},"Action":"sts:AssumeRole"}]}`
	roles := map[string][]iamtypes.Tag{
		"deploy":  nil,
		"release": {{Key: aws.String("shortfuse:approvals-required"), Value: aws.String("2")}, {Key: aws.String("shortfuse:approvers"), Value: aws.String("release-managers")}},
		"quick":   {{Key: aws.String("shortfuse:approval-window"), Value: aws.String("10s")}},
	}
	for name, tags := range roles {
		_, err := admin.CreateRole(ctx, &sdkiam.CreateRoleInput{RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust), Tags: tags})
		check("CreateRole", err)
		_, err = admin.PutRolePolicy(ctx, &sdkiam.PutRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String("work"), PolicyDocument: policy("secretsmanager:ListSecrets", "*")})
		check("PutRolePolicy", err)
	}
	return w
}

var apTOTP = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func (w *apWorld) enableMFA(t *testing.T, admin *sdkiam.Client, user string) {
	t.Helper()
	ctx := context.Background()
	dev, err := admin.CreateVirtualMFADevice(ctx, &sdkiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String(user)})
	if err != nil {
		t.Fatal(err)
	}
	seed := string(dev.VirtualMFADevice.Base32StringSeed)
	now := time.Now()
	c1, _ := totp.GenerateCodeCustom(seed, now.Add(-30*time.Second), apTOTP)
	c2, _ := totp.GenerateCodeCustom(seed, now, apTOTP)
	if _, err := admin.EnableMFADevice(ctx, &sdkiam.EnableMFADeviceInput{UserName: aws.String(user), SerialNumber: dev.VirtualMFADevice.SerialNumber, AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)}); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	w.seeds[user] = seed
	w.steps[user] = now.Unix()/30 + 1
	w.mu.Unlock()
}

// code returns the user's next unused TOTP code, waiting for its step to
// be within the broker's window (one step either side) if need be.
func (w *apWorld) code(t *testing.T, user string) string {
	t.Helper()
	w.mu.Lock()
	// The next unused step, but not one the broker no longer accepts.
	step := max(w.steps[user], time.Now().Unix()/30)
	w.steps[user] = step + 1
	seed := w.seeds[user]
	w.mu.Unlock()
	for time.Now().Unix()/30+1 < step {
		time.Sleep(200 * time.Millisecond)
	}
	c, err := totp.GenerateCodeCustom(seed, time.Unix(step*30, 0), apTOTP)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// run runs the binary as user and returns its outcome.
func (w *apWorld) run(user string, extra []string, args ...string) cliResult {
	w.b.t.Helper()
	return w.b.sfAs(w.users[user], extra, "", args...)
}

// job is a running shortfuse request.
type job struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr *testutil.Buffer
	codec  chan string
	done   chan struct{}
	err    error
}

var reApprovalCode = regexp.MustCompile(`approval code ([A-Z2-9]{4}-[A-Z2-9]{4})`)

// jenkinsEnv is what a Jenkins build's environment says about it.
var jenkinsEnv = []string{
	"JENKINS_URL=https://ci.example/", "BUILD_URL=https://ci.example/job/deploy/42/", "JOB_NAME=deploy",
	"BUILD_NUMBER=42", "GIT_COMMIT=0123456789abcdef0123456789abcdef01234567", `SHORTFUSE_BUILD_PARAMS={"env":"prod"}`,
}

// startJob starts shortfuse request as user and waits for its code.
func (w *apWorld) startJob(t *testing.T, user string, args ...string) (*job, string) {
	t.Helper()
	j := &job{stderr: &testutil.Buffer{}, codec: make(chan string, 1), done: make(chan struct{})}
	j.cmd = exec.Command(mustBinary(t), append([]string{"request"}, args...)...)
	j.cmd.Env = w.b.cliEnv(w.users[user], jenkinsEnv...)
	j.cmd.Stdout = &j.stdout
	pr, pw := io.Pipe()
	j.cmd.Stderr = pw
	if err := j.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(pr)
		code, sent := "", false
		for sc.Scan() {
			j.stderr.Write([]byte(sc.Text() + "\n"))
			if m := reApprovalCode.FindStringSubmatch(sc.Text()); m != nil && code == "" {
				code = m[1]
			}
			// The code is handed on once the whole notice is printed.
			if code != "" && !sent && strings.Contains(sc.Text(), "waiting for a decision") {
				j.codec <- code
				sent = true
			}
		}
	}()
	go func() {
		j.err = j.cmd.Wait()
		pw.Close()
		close(j.done)
	}()
	t.Cleanup(func() {
		select {
		case <-j.done:
		default:
			_ = j.cmd.Process.Kill()
			<-j.done
		}
	})
	select {
	case code := <-j.codec:
		return j, code
	case <-j.done:
		t.Fatalf("shortfuse request exited before asking: %v\n%s", j.err, j.stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("shortfuse request printed no code\n%s", j.stderr.String())
	}
	return nil, ""
}

// wait waits for the job to end and returns its exit code.
func (j *job) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-j.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("shortfuse request did not finish\n%s", j.stderr.String())
	}
	if ee, ok := j.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if j.err != nil {
		t.Fatal(j.err)
	}
	return 0
}

func TestApprovalsCLIFlow(t *testing.T) {
	t.Parallel()
	w := newAPWorld(t)
	deploy := "arn:aws:iam::" + apAccount + ":role/deploy"
	j, code := w.startJob(t, "jenkins", "--role", deploy, "--duration", "10m", "--reason", "release 1.4", "--format", "json")
	if !strings.Contains(j.stderr.String(), "shortfuse approve "+code) || !strings.Contains(j.stderr.String(), w.b.url+"/ui/requests/"+code) {
		t.Errorf("the job's log does not show how to approve:\n%s", j.stderr.String())
	}
	// The webhook hears of the request, with the build and a link.
	w.hook.waitFor(t, "jenkins asks for role *deploy*", code, "<https://ci.example/job/deploy/42/|deploy #42>", "commit 0123456789abcdef", "https://broker.example/ui/requests/"+code)

	// The requester cannot approve its own request, nor can anyone
	// without the right to assume the role.
	if r := w.run("jenkins", nil, "approve", code, "--mfa-code", "123456"); r.Code == 0 || !strings.Contains(r.Stderr, "cannot approve their own request") {
		t.Fatalf("self-approval: exit %d\n%s", r.Code, r.Stderr)
	}

	// The approvers' list shows it.
	r := w.run("alice", nil, "requests")
	if r.Code != 0 || !strings.Contains(r.Stdout, code) || !strings.Contains(r.Stdout, "https://ci.example/job/deploy/42/") {
		t.Fatalf("requests: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}

	// alice approves from another process, with her MFA code, narrowing
	// the session to 5 minutes.
	r = w.run("alice", nil, "approve", strings.ToLower(code), "--mfa-code", w.code(t, "alice"), "--duration", "5m")
	if r.Code != 0 {
		t.Fatalf("approve: exit %d\n%s", r.Code, r.Stderr)
	}
	for _, want := range []string{"requester  arn:aws:iam::" + apAccount + ":user/jenkins", "role       " + deploy, "reason     release 1.4",
		"build      https://ci.example/job/deploy/42/", "job        deploy #42 (jenkins)", "commit     0123456789abcdef0123456789abcdef01234567", "parameters sha256:", "shortfuse: approved " + code} {
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("approve output lacks %q:\n%s", want, r.Stderr)
		}
	}

	// The job gets the session and nothing else; it works.
	if c := j.wait(t); c != 0 {
		t.Fatalf("request: exit %d\n%s", c, j.stderr.String())
	}
	var tok struct {
		Version                                   int
		AccessKeyID                               string `json:"AccessKeyId"`
		SecretAccessKey, SessionToken, Expiration string
	}
	if err := json.Unmarshal(j.stdout.Bytes(), &tok); err != nil || tok.Version != 1 {
		t.Fatalf("request stdout is not credential_process JSON: %v\n%s", err, j.stdout.String())
	}
	sess := creds{AccessKeyID: tok.AccessKeyID, SecretAccessKey: tok.SecretAccessKey, SessionToken: tok.SessionToken}
	id := w.b.mustAWS(sess, "sts", "get-caller-identity")
	if got, want := str(t, id, "Arn"), "arn:aws:sts::"+apAccount+":assumed-role/deploy/approval-"+code; got != want {
		t.Errorf("the session is %s, want %s", got, want)
	}
	w.b.mustAWS(sess, "secretsmanager", "list-secrets")
	if exp, err := time.Parse(time.RFC3339, tok.Expiration); err != nil || time.Until(exp) > 5*time.Minute+5*time.Second {
		t.Errorf("the session expires at %s, want within alice's 5 minutes", tok.Expiration)
	}
	if !strings.Contains(j.stderr.String(), "approved by alice") {
		t.Errorf("job log:\n%s", j.stderr.String())
	}
	w.hook.waitFor(t, code, "approved by alice")
	w.hook.waitFor(t, code, "the job redeemed")

	// The request is done: redeemed, with no second chance.
	r = w.run("alice", nil, "requests", "--status", "all", "--json")
	var list struct{ Requests []brokerapi.ApprovalRequest }
	if err := json.Unmarshal([]byte(r.Stdout), &list); err != nil || len(list.Requests) != 1 || list.Requests[0].Status != "redeemed" {
		t.Fatalf("requests --status all: %v\n%s", err, r.Stdout)
	}
}

// TestApprovalsRedeemOnce plays the job with the client library, so that
// it can try to redeem twice.
func TestApprovalsRedeemOnce(t *testing.T) {
	t.Parallel()
	w := newAPWorld(t)
	ctx := context.Background()
	jc := w.brokerClient("jenkins")
	key, err := approvals.NewRedemptionKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jc.CreateRequest(ctx, brokerapi.CreateRequestInput{RoleArn: "arn:aws:iam::" + apAccount + ":role/deploy", VerifyKey: key.VerifyKey(), WrapKey: key.WrapKey()})
	if err != nil {
		t.Fatal(err)
	}
	if r := w.run("bob", nil, "approve", out.Code, "--mfa-code", w.code(t, "bob")); r.Code != 0 {
		t.Fatalf("approve: exit %d\n%s", r.Code, r.Stderr)
	}
	// alice holds the doorbell's proof but is not the requester.
	if _, err := w.brokerClient("alice").RedeemRequest(ctx, out.Code, key.Proof(out.Code)); err == nil || !strings.Contains(err.Error(), "ResourceNotFound") {
		t.Fatalf("redeem by another user = %v", err)
	}
	red, err := jc.RedeemRequest(ctx, out.Code, key.Proof(out.Code))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := key.Unwrap(out.Code, red.SealedCredentials)
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	if err := json.Unmarshal(plain, &c); err != nil {
		t.Fatal(err)
	}
	sess := creds{AccessKeyID: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	w.b.mustAWS(sess, "sts", "get-caller-identity")

	// The second redemption is refused, raises the alarm and kills the
	// session.
	if _, err := jc.RedeemRequest(ctx, out.Code, key.Proof(out.Code)); err == nil || !strings.Contains(err.Error(), "already redeemed") {
		t.Fatalf("second redemption = %v", err)
	}
	w.b.wantAWSError(sess, "ExpiredToken", "sts", "get-caller-identity")
	if metrics := metricsText(t, w.b); !strings.Contains(metrics, "shortfuse_approval_replays_total 1") {
		t.Errorf("/metrics does not count the replay:\n%s", grepLines(metrics, "approval"))
	}
	w.hook.waitFor(t, "ALARM", out.Code)
	if !strings.Contains(w.b.logs.String(), "second redemption") {
		t.Errorf("the broker log does not raise the alarm")
	}
	// The audit trail records both redemptions, the second refused.
	r := w.b.sf(nil, "", "audit", "verify", w.b.auditLogPath())
	if r.Code != 0 {
		t.Errorf("audit verify: exit %d %s", r.Code, r.Stderr)
	}
	audit := auditLog(t, w.b)
	if n := strings.Count(audit, `"eventName":"RedeemRequest"`); n < 3 {
		t.Errorf("the audit log has %d RedeemRequest records, want the intents and outcomes of both", n)
	}
	if strings.Contains(audit, c.SecretAccessKey) || strings.Contains(audit, c.SessionToken) {
		t.Error("the audit log contains the session's secrets")
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func (w *apWorld) brokerClient(user string) *brokerapi.Client {
	return w.b.shortfuse(w.users[user])
}

func TestApprovalsTwoOfGroup(t *testing.T) {
	t.Parallel()
	w := newAPWorld(t)
	j, code := w.startJob(t, "jenkins", "--role", "arn:aws:iam::"+apAccount+":role/release", "--format", "env")
	if !strings.Contains(j.stderr.String(), "needs 2 approvals") {
		t.Errorf("job log:\n%s", j.stderr.String())
	}
	// carol may assume the role but is not a release manager.
	if r := w.run("carol", nil, "approve", code, "--mfa-code", w.code(t, "carol")); r.Code == 0 || !strings.Contains(r.Stderr, "not a member of release-managers") {
		t.Fatalf("carol: exit %d\n%s", r.Code, r.Stderr)
	}
	if r := w.run("alice", nil, "approve", code, "--mfa-code", w.code(t, "alice")); r.Code != 0 || !strings.Contains(r.Stderr, "1 of 2 approvals") {
		t.Fatalf("alice: exit %d\n%s", r.Code, r.Stderr)
	}
	w.hook.waitFor(t, "alice approved request *"+code+"*", "(1 of 2 approvals)")
	// One approval is not enough: the job still waits.
	time.Sleep(300 * time.Millisecond)
	select {
	case <-j.done:
		t.Fatalf("the job finished after one approval of two\n%s", j.stderr.String())
	default:
	}
	if r := w.run("bob", nil, "approve", code, "--mfa-code", w.code(t, "bob")); r.Code != 0 {
		t.Fatalf("bob: exit %d\n%s", r.Code, r.Stderr)
	}
	if c := j.wait(t); c != 0 {
		t.Fatalf("request: exit %d\n%s", c, j.stderr.String())
	}
	if !strings.Contains(j.stdout.String(), "export AWS_SESSION_TOKEN=") || !strings.Contains(j.stderr.String(), "approved by alice, bob") {
		t.Errorf("job output:\n%s\n%s", j.stdout.String(), j.stderr.String())
	}

	// Someone who asks cannot approve their own request, even when they
	// may approve others'.
	j2, code2 := w.startJob(t, "alice", "--role", "arn:aws:iam::"+apAccount+":role/deploy")
	if r := w.run("alice", nil, "approve", code2, "--mfa-code", "123456"); r.Code == 0 || !strings.Contains(r.Stderr, "cannot approve their own request") {
		t.Fatalf("alice approving her own: exit %d\n%s", r.Code, r.Stderr)
	}
	// bob denies it: the job fails with his reason.
	if r := w.run("bob", nil, "deny", code2, "--reason", "not today"); r.Code != 0 {
		t.Fatalf("deny: exit %d\n%s", r.Code, r.Stderr)
	}
	if c := j2.wait(t); c == 0 || !strings.Contains(j2.stderr.String(), "was denied by bob: not today") {
		t.Fatalf("denied request: exit %d\n%s", c, j2.stderr.String())
	}
	if j2.stdout.Len() != 0 {
		t.Errorf("a denied job printed %q", j2.stdout.String())
	}
	w.hook.waitFor(t, "bob denied request *"+code2+"*", "not today")
}

func TestApprovalsExpireAndWithdraw(t *testing.T) {
	t.Parallel()
	w := newAPWorld(t)
	// Nobody approves within the role's 10 s window: the job fails.
	j, code := w.startJob(t, "jenkins", "--role", "arn:aws:iam::"+apAccount+":role/quick", "--duration", "5m")
	if c := j.wait(t); c == 0 || !strings.Contains(j.stderr.String(), "request "+code+" expired before it was approved") {
		t.Fatalf("expired request: exit %d\n%s", c, j.stderr.String())
	}
	if r := w.run("alice", nil, "approve", code, "--mfa-code", w.code(t, "alice")); r.Code == 0 || !strings.Contains(r.Stderr, "(expired)") {
		t.Fatalf("approving an expired request: exit %d\n%s", r.Code, r.Stderr)
	}

	// A job stopped while it waits withdraws its request.
	j2, code2 := w.startJob(t, "jenkins", "--role", "arn:aws:iam::"+apAccount+":role/deploy")
	if err := j2.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if c := j2.wait(t); c == 0 || !strings.Contains(j2.stderr.String(), "withdrew request "+code2) {
		t.Fatalf("stopped job: exit %d\n%s", c, j2.stderr.String())
	}
	r := w.run("bob", nil, "requests", "--status", "denied")
	if !strings.Contains(r.Stdout, code2) {
		t.Errorf("the withdrawn request is not denied:\n%s%s", r.Stdout, r.Stderr)
	}
	w.hook.waitFor(t, code2, "withdrawn by the requester")
}
