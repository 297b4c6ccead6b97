package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The aws CLI of the tests. A command runs in a long-lived Python process
// that holds the aws CLI's modules (testdata/awsdriver.py) and forks a child
// per command, when that process reports the same version as the aws command
// on PATH: it saves the second of CPU that Python's start and the imports
// cost every command. The child takes the command's environment whole, and
// what the imports computed from HOME (the CLI's credential cache directory
// among them) is rewritten with the command's HOME; a command the driver
// cannot run as the aws command would (its environment changes a variable
// the imports read) runs the aws command. SHORTFUSE_E2E_AWS_DRIVER=0 runs the
// aws command for every command.

var awsCLI = func() func(t *testing.T) string {
	var once sync.Once
	var path string
	return func(t *testing.T) string {
		t.Helper()
		once.Do(func() { path, _ = exec.LookPath("aws") })
		if path == "" {
			if os.Getenv("CI") != "" {
				t.Fatal("the aws CLI is not on PATH; .ci/run installs it")
			}
			t.Skip("the aws CLI is not on PATH")
		}
		return path
	}
}()

// runAWS runs one aws CLI command with env.
func runAWS(t *testing.T, env []string, args ...string) cliResult {
	t.Helper()
	path := awsCLI(t)
	if pool := awsDrivers(path); pool != nil {
		res, rerun, err := pool.run(env, args, 60*time.Second)
		if err != nil {
			t.Fatalf("aws %v: %v", args, err)
		}
		if rerun == "" {
			return res
		}
		t.Logf("aws %v runs the aws command: %s", args, rerun)
	}
	res, err := runCmd(60*time.Second, env, nil, path, args...)
	if err != nil {
		t.Fatalf("aws %v: %v", args, err)
	}
	return res
}

// driverPool holds idle driver processes, by the environment they started
// with: a command's environment but for HOME and the AWS_ variables, which
// the driver gives each command itself. A command takes an idle driver of
// its environment, or starts one, and gives it back after.
type driverPool struct {
	mu   sync.Mutex
	idle map[string][]*awsDriver
}

type awsDriver struct {
	home string // the HOME it started with
	cmd  *exec.Cmd
	in   io.WriteCloser
	out  *bufio.Reader
}

var awsDrivers = func() func(awsPath string) *driverPool {
	var once sync.Once
	var pool *driverPool
	return func(awsPath string) *driverPool {
		once.Do(func() {
			if os.Getenv("SHORTFUSE_E2E_AWS_DRIVER") == "0" {
				return
			}
			p := &driverPool{idle: map[string][]*awsDriver{}}
			env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
			if v := os.Getenv("PYENV_ROOT"); v != "" {
				env = append(env, "PYENV_ROOT="+v)
			}
			want, err := runCmd(time.Minute, env, nil, awsPath, "--version")
			if err != nil || want.Code != 0 {
				return
			}
			got, rerun, err := p.run(env, []string{"--version"}, time.Minute)
			if err != nil {
				fmt.Fprintf(os.Stderr, "e2e: the aws CLI driver: %v; every command runs the aws command\n", err)
				return
			}
			if rerun != "" || got.Code != 0 || strings.TrimSpace(got.Stdout+got.Stderr) != strings.TrimSpace(want.Stdout+want.Stderr) {
				return // another aws CLI than python3's: run the command
			}
			pool = p
		})
		return pool
	}
}()

// driverEnv is the environment a driver starts with for a command's
// environment env, and the key of its drivers in the pool.
func driverEnv(env []string) ([]string, string) {
	var start []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "AWS_") {
			start = append(start, kv)
		}
	}
	sort.Strings(start)
	return start, strings.Join(start, "\x00")
}

// run runs a command in a driver; rerun says why the command must run the
// aws command instead, when it must.
func (p *driverPool) run(env, args []string, timeout time.Duration) (res cliResult, rerun string, err error) {
	start, key := driverEnv(env)
	p.mu.Lock()
	var d *awsDriver
	if n := len(p.idle[key]); n > 0 {
		d, p.idle[key] = p.idle[key][n-1], p.idle[key][:n-1]
	}
	p.mu.Unlock()
	if d == nil {
		if d, err = startAWSDriver(start); err != nil {
			return cliResult{}, "", err
		}
	}
	res, rerun, err = d.run(env, args, timeout)
	if err != nil {
		d.kill()
		return res, "", err
	}
	p.mu.Lock()
	p.idle[key] = append(p.idle[key], d)
	p.mu.Unlock()
	return res, rerun, nil
}

// driverHomes numbers the HOMEs of the drivers.
var driverHomes atomic.Int64

// startAWSDriver starts a driver process with env. Its HOME is a path of its
// own that nothing uses, by which the driver finds what the aws CLI's
// imports computed from HOME. It ends when its input closes, which the end
// of the test process does.
func startAWSDriver(env []string) (*awsDriver, error) {
	script, err := filepath.Abs(filepath.Join("testdata", "awsdriver.py"))
	if err != nil {
		return nil, err
	}
	home := filepath.Join(os.TempDir(), fmt.Sprintf("shortfuse-e2e-awsdriver-home-%d-%d", os.Getpid(), driverHomes.Add(1)))
	cmd := exec.Command("python3", script)
	cmd.Env = append(slices.Clip(env), "HOME="+home)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its children go with it
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &awsDriver{home: home, cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20)}
	var hello struct {
		Ready bool   `json:"ready"`
		Error string `json:"error"`
	}
	err = d.answer(time.Minute, &hello)
	if err == nil && !hello.Ready {
		err = fmt.Errorf("the aws CLI driver cannot keep commands apart: %s", hello.Error)
	}
	if err != nil {
		d.kill()
		return nil, err
	}
	return d, nil
}

// kill ends the driver and the command it runs.
func (d *awsDriver) kill() {
	_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
	_ = d.cmd.Wait()
}

// answer reads the driver's next line into v.
func (d *awsDriver) answer(timeout time.Duration, v any) error {
	done := make(chan error, 1)
	go func() {
		line, err := d.out.ReadBytes('\n')
		if err != nil {
			done <- fmt.Errorf("the aws CLI driver ended: %v", err)
			return
		}
		if err := json.Unmarshal(line, v); err != nil {
			done <- fmt.Errorf("the aws CLI driver answered %q: %v", line, err)
			return
		}
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(timeout):
		return fmt.Errorf("no answer in %s", timeout)
	}
}

func (d *awsDriver) run(env, args []string, timeout time.Duration) (cliResult, string, error) {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	req, err := json.Marshal(struct {
		Args []string          `json:"args"`
		Env  map[string]string `json:"env"`
	}{args, m})
	if err != nil {
		return cliResult{}, "", err
	}
	if _, err := d.in.Write(append(req, '\n')); err != nil {
		return cliResult{}, "", err
	}
	var a struct {
		Code   int    `json:"code"`
		Stdout string `json:"stdout"`
		Stderr string `json:"stderr"`
		Rerun  string `json:"rerun"`
	}
	if err := d.answer(timeout, &a); err != nil {
		return cliResult{}, "", err
	}
	return cliResult{Code: a.Code, Stdout: a.Stdout, Stderr: a.Stderr}, a.Rerun, nil
}

// TestAWSDriverKeepsCommandsApart runs commands that differ in HOME,
// credentials, region and endpoint one after the other in one driver, and
// each as the aws command, against two STS endpoints that answer with what
// they were asked: a command in the driver answers what the aws command
// answers, whatever ran in that driver before it. The web identity
// credentials of one endpoint, kept in the CLI's cache under one HOME, are
// not served to a command with another HOME.
func TestAWSDriverKeepsCommandsApart(t *testing.T) {
	path := awsCLI(t)
	if awsDrivers(path) == nil {
		if os.Getenv("SHORTFUSE_E2E_AWS_DRIVER") == "0" {
			t.Skip("SHORTFUSE_E2E_AWS_DRIVER=0: every command runs the aws command")
		}
		t.Skip("python3 does not hold the aws command's CLI: every command runs the aws command")
	}
	reCred := regexp.MustCompile(`Credential=([^/]+)/[^/]+/([^/]+)/`)
	sts := func(name string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "text/xml")
			switch r.Form.Get("Action") {
			case "AssumeRoleWithWebIdentity":
				fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
					`<Credentials><AccessKeyId>ASIAFROM%s</AccessKeyId><SecretAccessKey>secret-%[1]s</SecretAccessKey><SessionToken>token-%[1]s</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>`+
					`<SubjectFromWebIdentityToken>build</SubjectFromWebIdentityToken><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/ci/%s</Arn><AssumedRoleId>AROA:%[2]s</AssumedRoleId></AssumedRoleUser>`+
					`</AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
					name, r.Form.Get("RoleSessionName"))
			case "GetCallerIdentity":
				m := reCred.FindStringSubmatch(r.Header.Get("Authorization"))
				if m == nil {
					http.Error(w, "unsigned", http.StatusForbidden)
					return
				}
				// Who asked whom, where: the endpoint, the access key, the
				// signature's region.
				fmt.Fprintf(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
					`<Arn>arn:aws:sts::123456789012:endpoint/%s/%s/%s</Arn><UserId>%[2]s</UserId><Account>123456789012</Account>`+
					`</GetCallerIdentityResult><ResponseMetadata><RequestId>2</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
					name, m[1], m[2])
			default:
				http.Error(w, "no such action", http.StatusBadRequest)
			}
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	urlA, urlB := sts("A"), sts("B")
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	configFile := filepath.Join(dir, "config")
	if err := os.WriteFile(tokenFile, []byte("header.payload.signature"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(configFile, []byte("[default]\nregion = eu-west-3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"PATH=" + os.Getenv("PATH"), "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1"}
	if v := os.Getenv("PYENV_ROOT"); v != "" {
		base = append(base, "PYENV_ROOT="+v)
	}
	webIdentity := []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=arn:aws:iam::123456789012:role/ci", "AWS_ROLE_SESSION_NAME=build-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/nonexistent"}
	static := func(key string) []string {
		return []string{"AWS_ACCESS_KEY_ID=" + key, "AWS_SECRET_ACCESS_KEY=secret-" + key}
	}
	steps := []struct {
		name string
		home string // h1 or h2
		env  []string
		want string // in stdout, or in stderr when the command fails
		fail bool
	}{
		{"web identity from A", "h1", append([]string{"AWS_ENDPOINT_URL=" + urlA}, webIdentity...), "endpoint/A/ASIAFROMA/us-east-1", false},
		{"web identity from B, another HOME", "h2", append([]string{"AWS_ENDPOINT_URL=" + urlB}, webIdentity...), "endpoint/B/ASIAFROMB/us-east-1", false},
		{"web identity from B, the first HOME: its cache", "h1", append([]string{"AWS_ENDPOINT_URL=" + urlB}, webIdentity...), "endpoint/B/ASIAFROMA/us-east-1", false},
		{"a static key", "h1", append([]string{"AWS_ENDPOINT_URL=" + urlA, "AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE=/nonexistent"}, static("AKIAONE")...), "endpoint/A/AKIAONE/us-west-2", false},
		{"no credentials", "h2", []string{"AWS_ENDPOINT_URL=" + urlA, "AWS_DEFAULT_REGION=us-west-2", "AWS_CONFIG_FILE=/nonexistent"}, "Unable to locate credentials", true},
		{"the region of a config file", "h2", append([]string{"AWS_ENDPOINT_URL=" + urlB, "AWS_CONFIG_FILE=" + configFile}, static("AKIATWO")...), "endpoint/B/AKIATWO/eu-west-3", false},
		{"no region", "h1", append([]string{"AWS_ENDPOINT_URL=" + urlB, "AWS_CONFIG_FILE=/nonexistent"}, static("AKIATWO")...), "You must specify a region", true},
	}
	run := func(mode string, one func(env []string) (cliResult, error)) []cliResult {
		homes := map[string]string{"h1": filepath.Join(t.TempDir(), "h1"), "h2": filepath.Join(t.TempDir(), "h2")}
		var got []cliResult
		for _, s := range steps {
			env := append(append([]string{"HOME=" + homes[s.home]}, base...), s.env...)
			res, err := one(env)
			if err != nil {
				t.Fatalf("%s: %s: %v", mode, s.name, err)
			}
			out := res.Stdout
			if s.fail {
				out = res.Stderr
			}
			if (res.Code != 0) != s.fail || !strings.Contains(out, s.want) {
				t.Errorf("%s: %s: exit %d, want %q\nstdout: %s\nstderr: %s", mode, s.name, res.Code, s.want, res.Stdout, res.Stderr)
			}
			got = append(got, res)
		}
		for _, h := range homes {
			if ents, _ := os.ReadDir(filepath.Join(h, ".aws", "cli", "cache")); len(ents) != 1 {
				t.Errorf("%s: %s/.aws/cli/cache holds %d entries, want the one web identity's", mode, h, len(ents))
			}
		}
		return got
	}
	args := []string{"--output", "json", "sts", "get-caller-identity"}
	start, _ := driverEnv(append([]string{"HOME=/"}, base...))
	d, err := startAWSDriver(start)
	if err != nil {
		t.Fatal(err)
	}
	defer d.kill()
	inDriver := run("driver", func(env []string) (cliResult, error) {
		res, rerun, err := d.run(env, args, time.Minute)
		if err == nil && rerun != "" {
			err = fmt.Errorf("the driver did not run it: %s", rerun)
		}
		return res, err
	})
	asCommand := run("aws command", func(env []string) (cliResult, error) { return runCmd(time.Minute, env, nil, path, args...) })
	// AWS_DATA_PATH is read as the CLI's modules load: a command that sets
	// it is one the driver does not run.
	env := append(append([]string{"HOME=" + t.TempDir()}, base...), "AWS_DATA_PATH="+dir)
	if _, rerun, err := d.run(env, args, time.Minute); err != nil || rerun == "" {
		t.Errorf("a command with its own AWS_DATA_PATH: rerun %q, %v; want it run as the aws command", rerun, err)
	}
	if _, err := os.Stat(d.home); !os.IsNotExist(err) {
		t.Errorf("the driver's own HOME %s: %v, want nothing there", d.home, err)
	}
	for i, s := range steps {
		if inDriver[i] != asCommand[i] {
			t.Errorf("%s: in the driver %+v, as the aws command %+v", s.name, inDriver[i], asCommand[i])
		}
	}
}
