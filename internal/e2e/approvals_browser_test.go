package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/chromedp/chromedp"
)

// The approval page in a real browser: headless Chromium signs in with a
// password and a TOTP code, finds the pending request with its build,
// approves it, and the waiting job receives its session; then the approver
// revokes the session they lent from the page. Screenshots go to
// $SHORTFUSE_ARTIFACTS/<test> when set, else to the test's artifact
// directory (go test -artifacts keeps them).

// chromiumPath finds Debian's chromium. Without it the test is skipped,
// except in CI, where it fails: CI must provide the browser.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{os.Getenv("SHORTFUSE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it (apt-get install -y chromium)")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium)")
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	if base := os.Getenv("SHORTFUSE_ARTIFACTS"); base != "" {
		dir := filepath.Join(base, t.Name())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.ArtifactDir()
}

func TestApprovalsBrowser(t *testing.T) {
	t.Parallel()
	chromium := chromiumPath(t)
	shots := artifactDir(t)
	w := newAPWorld(t)
	const password = "alice approves builds"
	admin := w.b.iamClient(w.b.adminCreds())
	if _, err := admin.CreateLoginProfile(context.Background(), &sdkiam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String(password)}); err != nil {
		t.Fatal(err)
	}

	j, code := w.startJob(t, "jenkins", "--role", "arn:aws:iam::"+apAccount+":role/deploy", "--reason", "release 1.4", "--format", "json")

	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(ctx, 75*time.Second)
	defer cancel()

	shot := func(name string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			buf, err := chromedp.FullScreenshot(100)(ctx, tg) // 100: PNG
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(shots, name), buf, 0o644)
		})
	}
	text := func(id string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("text of #%s: %v", id, err)
		}
		return s
	}
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v\nbroker log:\n%s", what, err, w.b.logs.String())
		}
	}
	location := func() string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	// The link the job printed leads to the sign-in form first.
	do("open the request link",
		chromedp.Navigate(w.b.url+"/ui/requests/"+code),
		chromedp.WaitVisible(chromedp.ID("signin")),
		shot("1-sign-in.png"),
	)
	if loc := location(); !strings.Contains(loc, "/ui/login?next=") {
		t.Errorf("the request link went to %s, want the sign-in form", loc)
	}
	do("sign in",
		chromedp.SendKeys(chromedp.ID("user"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), password),
		chromedp.SendKeys(chromedp.ID("code"), w.code(t, "alice")),
		chromedp.Click(chromedp.ID("signin")),
		chromedp.WaitVisible(chromedp.ID("details")),
		shot("2-request.png"),
	)
	if build, requester, commit := text("build"), text("requester"), text("commit"); build != "https://ci.example/job/deploy/42/" || !strings.Contains(requester, "user/jenkins") || commit != "0123456789abcdef0123456789abcdef01234567" {
		t.Errorf("request page shows build %q, requester %q, commit %q", build, requester, commit)
	}

	// The dashboard lists it too, with its build.
	do("open the dashboard",
		chromedp.Navigate(w.b.url+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("requests")),
		shot("3-pending.png"),
	)
	if pending := text("requests"); !strings.Contains(pending, code) || !strings.Contains(pending, "deploy #42") {
		t.Errorf("the pending list shows %q", pending)
	}

	// Approve.
	do("approve",
		chromedp.Navigate(w.b.url+"/ui/requests/"+code),
		chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("flash")),
		shot("4-approved.png"),
	)
	if flash := text("flash"); !strings.Contains(flash, "Approved") {
		t.Fatalf("after approving the page says %q", flash)
	}

	// The waiting job receives its session, which works.
	if c := j.wait(t); c != 0 {
		t.Fatalf("request: exit %d\n%s", c, j.stderr.String())
	}
	var tok struct{ AccessKeyId, SecretAccessKey, SessionToken string }
	if err := json.Unmarshal(j.stdout.Bytes(), &tok); err != nil {
		t.Fatalf("job output: %v\n%s", err, j.stdout.String())
	}
	sess := creds{AccessKeyID: tok.AccessKeyId, SecretAccessKey: tok.SecretAccessKey, SessionToken: tok.SessionToken}
	id := w.b.mustAWS(sess, "sts", "get-caller-identity")
	if !strings.HasSuffix(str(t, id, "Arn"), "assumed-role/deploy/approval-"+code) {
		t.Errorf("the job's session is %v", id)
	}

	// alice sees the session she lent among hers, and revokes it.
	do("open the sessions",
		chromedp.Navigate(w.b.url+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("sessions")),
		shot("5-sessions.png"),
	)
	if sessions := text("sessions"); !strings.Contains(sessions, tok.AccessKeyId) || !strings.Contains(sessions, "approval-"+code) {
		t.Errorf("the sessions list shows %q", sessions)
	}
	do("revoke",
		chromedp.Click(chromedp.ID("revoke-"+tok.AccessKeyId)),
		chromedp.WaitVisible(chromedp.ID("flash")),
		shot("6-revoked.png"),
	)
	if flash := text("flash"); !strings.Contains(flash, "revoked") {
		t.Errorf("after revoking the page says %q", flash)
	}
	w.b.wantAWSError(sess, "ExpiredToken", "sts", "get-caller-identity")

	// Sign out: the page's own session ends.
	do("sign out",
		chromedp.Click(chromedp.ID("signout")),
		chromedp.WaitVisible(chromedp.ID("signin")),
		chromedp.Navigate(w.b.url+"/ui/"),
		chromedp.WaitVisible(chromedp.ID("signin")),
	)
	if after := location(); !strings.Contains(after, "/ui/login") {
		t.Errorf("after signing out /ui/ shows %s", after)
	}
	// Every step on the page is on record, as the same operations as the
	// API, and the password is not.
	audit := auditLog(t, w.b)
	for _, want := range []string{`"eventName":"ConsoleSignIn"`, `"eventName":"ApproveRequest"`, `"eventName":"RevokeRequestSession"`, `"userAgent":"shortfuse-ui `} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit log has no %s", want)
		}
	}
	if strings.Contains(audit, password) {
		t.Error("the audit log contains the password")
	}
	entries, _ := os.ReadDir(shots)
	if len(entries) < 6 {
		t.Errorf("%d screenshots in %s", len(entries), shots)
	}
	t.Logf("screenshots in %s", shots)
}
