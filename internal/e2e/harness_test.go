package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// binary builds ./cmd/shortfuse once per test process (with -race when the
// tests run under it).
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "shortfuse-e2e-bin")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "shortfuse")
	args := []string{"build", "-o", out}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/shortfuse/shortfuse/cmd/shortfuse")
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, stderr.String())
	}
	return out, nil
})

func mustBinary(tb testing.TB) string {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		tb.Fatal(err)
	}
	return bin
}

// broker is a running shortfuse server.
type broker struct {
	t       *testing.T
	dir     string
	args    []string
	cmd     *exec.Cmd
	url     string
	logs    *testutil.Buffer
	done    chan struct{}
	waitErr error
	client  *http.Client // trusts the broker's certificate when it serves TLS
}

var reListening = regexp.MustCompile(`msg=listening url=(https?://127\.0\.0\.1:\d+)`)

// startBroker starts the binary with a data directory (a new temp dir when
// dir is "") and extra flags, and waits until /healthz answers.
func startBroker(t *testing.T, dir string, extra ...string) *broker {
	t.Helper()
	return startBrokerClient(t, dir, http.DefaultClient, extra...)
}

// startBrokerClient is startBroker with the HTTP client used to reach it.
func startBrokerClient(t *testing.T, dir string, client *http.Client, extra ...string) *broker {
	t.Helper()
	if dir == "" {
		dir = filepath.Join(t.TempDir(), "data")
	}
	b := &broker{t: t, dir: dir, logs: &testutil.Buffer{}, done: make(chan struct{}), client: client}
	b.args = append([]string{"server", "--listen", "127.0.0.1:0", "--data", dir}, extra...)
	b.start()
	t.Cleanup(func() { b.stop() })
	return b
}

func (b *broker) start() {
	t := b.t
	t.Helper()
	b.done = make(chan struct{})
	b.cmd = exec.Command(mustBinary(t), b.args...)
	b.cmd.Env = append(os.Environ(), "SHORTFUSE_LOG_LEVEL=info")
	pr, pw := io.Pipe()
	b.cmd.Stderr = pw
	b.cmd.Stdout = b.logs
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			b.logs.Write([]byte(line + "\n"))
			if m := reListening.FindStringSubmatch(line); m != nil && !sent {
				urlc <- m[1]
				sent = true
			}
		}
	}()
	go func() {
		b.waitErr = b.cmd.Wait()
		pw.Close()
		close(b.done)
	}()
	select {
	case b.url = <-urlc:
	case <-b.done:
		t.Fatalf("broker exited before listening: %v\n%s", b.waitErr, b.logs.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("broker did not report its address\n%s", b.logs.String())
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := b.client.Get(b.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker not healthy: %v\n%s", err, b.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and checks that the broker exits 0.
func (b *broker) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	select {
	case <-b.done:
		return
	default:
	}
	_ = b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		_ = b.cmd.Process.Kill()
		<-b.done
		b.t.Errorf("broker did not stop on SIGTERM\n%s", b.logs.String())
		return
	}
	if b.waitErr != nil {
		b.t.Errorf("broker exit: %v\n%s", b.waitErr, b.logs.String())
	}
}

func (b *broker) restart() {
	b.t.Helper()
	b.stop()
	b.start()
}

func (b *broker) adminCredentialsFile() string { return filepath.Join(b.dir, "admin-credentials") }

// auditLogPath is the broker's audit log (unless --audit-log puts it
// elsewhere).
func (b *broker) auditLogPath() string { return filepath.Join(b.dir, "audit.log") }

// auditLog reads the broker's audit log.
func auditLog(t *testing.T, b *broker) string {
	t.Helper()
	data, err := os.ReadFile(b.auditLogPath())
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// creds is a set of AWS credentials for a test client.
type creds struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

// stsCreds are the credentials of an STS answer.
func stsCreds(c *ststypes.Credentials) creds {
	return creds{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

// awsCredentials is c as aws-sdk-go-v2 holds credentials.
func (c creds) awsCredentials() aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
}

// adminCreds reads the admin-credentials file the broker wrote.
func (b *broker) adminCreds() creds {
	b.t.Helper()
	data, err := os.ReadFile(b.adminCredentialsFile())
	if err != nil {
		b.t.Fatal(err)
	}
	var c creds
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "aws_access_key_id":
			c.AccessKeyID = strings.TrimSpace(v)
		case "aws_secret_access_key":
			c.SecretAccessKey = strings.TrimSpace(v)
		}
	}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		b.t.Fatalf("admin-credentials file incomplete:\n%s", data)
	}
	return c
}

// errCodeOf is the AWS error code of err: "" for no error, and the error's
// text for an error that is not an AWS one.
func errCodeOf(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// cliResult is the outcome of one aws CLI call.
type cliResult struct {
	Stdout, Stderr string
	Code           int
}

// JSON decodes stdout.
func (r cliResult) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &m); err != nil {
		t.Fatalf("aws CLI output is not JSON: %v\nstdout: %s\nstderr: %s", err, r.Stdout, r.Stderr)
	}
	return m
}

// cliEnv is the environment for the aws CLI: only what the test sets, so that
// nothing of the machine's own AWS configuration leaks in.
func (b *broker) cliEnv(c creds, extra ...string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + b.t.TempDir(),
		"AWS_ENDPOINT_URL=" + b.url,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
	}
	if pyenv := os.Getenv("PYENV_ROOT"); pyenv != "" {
		env = append(env, "PYENV_ROOT="+pyenv)
	}
	if c.AccessKeyID != "" {
		env = append(env, "AWS_ACCESS_KEY_ID="+c.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey)
	}
	if c.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+c.SessionToken)
	}
	return append(env, extra...)
}

// aws runs the aws CLI with the given credentials and arguments.
func (b *broker) aws(c creds, args ...string) cliResult {
	b.t.Helper()
	return b.awsEnv(b.cliEnv(c), args...)
}

func (b *broker) awsEnv(env []string, args ...string) cliResult {
	b.t.Helper()
	return runAWS(b.t, env, append([]string{"--output", "json"}, args...)...)
}

// mustAWS runs the aws CLI and fails the test unless it succeeds.
func (b *broker) mustAWS(c creds, args ...string) map[string]any {
	b.t.Helper()
	r := b.aws(c, args...)
	if r.Code != 0 {
		b.t.Fatalf("aws %s: exit %d\nstderr: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	if strings.TrimSpace(r.Stdout) == "" {
		return nil
	}
	return r.JSON(b.t)
}

// wantAWSError runs the aws CLI and checks that it fails with code.
func (b *broker) wantAWSError(c creds, code string, args ...string) cliResult {
	b.t.Helper()
	r := b.aws(c, args...)
	if r.Code == 0 {
		b.t.Fatalf("aws %s: succeeded, want error %s\nstdout: %s", strings.Join(args, " "), code, r.Stdout)
	}
	if !strings.Contains(r.Stderr, "("+code+")") {
		b.t.Fatalf("aws %s: stderr does not name error %s:\n%s", strings.Join(args, " "), code, r.Stderr)
	}
	return r
}

// sdkConfig is an aws-sdk-go-v2 configuration pointed at the broker.
func (b *broker) sdkConfig(c creds) aws.Config {
	return aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
		BaseEndpoint:     aws.String(b.url),
		RetryMaxAttempts: 1,
	}
}

func (b *broker) stsClient(c creds) *sts.Client { return sts.NewFromConfig(b.sdkConfig(c)) }
func (b *broker) iamClient(c creds) *iam.Client { return iam.NewFromConfig(b.sdkConfig(c)) }
func (b *broker) smClient(c creds) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(b.sdkConfig(c))
}

// secretValue reads the version of the secret id at stage (AWSCURRENT when
// stage is "") as c with aws-sdk-go-v2, and returns its value and version
// id.
func secretValue(t *testing.T, b *broker, c creds, id, stage string) (string, string) {
	t.Helper()
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	out, err := b.smClient(c).GetSecretValue(context.Background(), in)
	if err != nil {
		t.Fatalf("GetSecretValue(%s %s): %v", id, stage, err)
	}
	return aws.ToString(out.SecretString), aws.ToString(out.VersionId)
}

// str digs a string out of decoded JSON: str(m, "Credentials", "AccessKeyId").
func str(t *testing.T, m map[string]any, path ...string) string {
	t.Helper()
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("path %v: %v is not an object", path, cur)
		}
		cur = mm[p]
	}
	s, ok := cur.(string)
	if !ok {
		t.Fatalf("path %v: %v is not a string", path, cur)
	}
	return s
}

// credsFrom extracts STS credentials from CLI output.
func credsFrom(t *testing.T, m map[string]any) creds {
	t.Helper()
	return creds{
		AccessKeyID:     str(t, m, "Credentials", "AccessKeyId"),
		SecretAccessKey: str(t, m, "Credentials", "SecretAccessKey"),
		SessionToken:    str(t, m, "Credentials", "SessionToken"),
	}
}

// writeFile writes content to a new file in a temp dir and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// doHTTP sends req with client and returns the answer's status, header and
// body.
func doHTTP(t *testing.T, client *http.Client, req *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return resp.StatusCode, resp.Header, string(body)
}

// getURL GETs url and returns the status and body.
func getURL(t *testing.T, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := doHTTP(t, http.DefaultClient, req)
	return status, body
}

// metricsText reads a broker's /metrics.
func metricsText(t *testing.T, b *broker) string {
	t.Helper()
	req, err := http.NewRequest("GET", b.url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	status, _, body := doHTTP(t, b.client, req)
	if status != 200 {
		t.Fatalf("GET /metrics: %d\n%s", status, body)
	}
	return body
}

// runCmd runs a program to completion, killing it after timeout, and
// returns its outcome; err is set only when it could not run at all.
func runCmd(timeout time.Duration, env []string, stdin io.Reader, name string, args ...string) (cliResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.Code = ee.ExitCode()
	} else if err != nil {
		return res, err
	}
	return res, nil
}

// sf runs the shortfuse binary with the test's AWS environment plus extra,
// and stdin.
func (b *broker) sf(extra []string, stdin string, args ...string) cliResult {
	b.t.Helper()
	return b.sfAs(creds{}, extra, stdin, args...)
}

// sfAs is sf with the credentials c in the environment.
func (b *broker) sfAs(c creds, extra []string, stdin string, args ...string) cliResult {
	b.t.Helper()
	res, err := runCmd(60*time.Second, b.cliEnv(c, extra...), strings.NewReader(stdin), mustBinary(b.t), args...)
	if err != nil {
		b.t.Fatalf("shortfuse %v: %v", args, err)
	}
	return res
}

// runBinary runs the binary to completion and returns its combined output.
func runBinary(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, mustBinary(t), args...).CombinedOutput()
	return string(out), err
}
