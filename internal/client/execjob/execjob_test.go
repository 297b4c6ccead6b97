package execjob

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/smithy-go"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
	"github.com/shortfuse/shortfuse/internal/client/token"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

func TestCleanEnv(t *testing.T) {
	tests := []struct {
		name    string
		environ []string
		set     []string
		want    []string
	}{
		{"ok/drops-aws-and-token", []string{"PATH=/bin", "AWS_PROFILE=admin", "AWS_ACCESS_KEY_ID=AKIA", "SHORTFUSE_TOKEN=t:a:s", "HOME=/h"}, nil, []string{"PATH=/bin", "HOME=/h"}},
		{"ok/keeps-other-shortfuse", []string{"SHORTFUSE_LOG_LEVEL=debug"}, nil, []string{"SHORTFUSE_LOG_LEVEL=debug"}},
		{"ok/drops-inherited-guard", []string{"SHORTFUSE_EXEC=1"}, nil, []string{}},
		{"ok/set-wins", []string{"DB=old", "X=1"}, []string{"DB=new", "AWS_REGION=eu-west-1"}, []string{"X=1", "DB=new", "AWS_REGION=eu-west-1"}},
		{"ok/set-twice-last-wins", nil, []string{"A=1", "A=2"}, []string{"A=2"}},
		{"ok/inherited-duplicates", []string{"A=1", "A=2"}, nil, []string{"A=1"}},
		{"ok/malformed-dropped", []string{"NOEQUALS", "=x", "B=2"}, nil, []string{"B=2"}},
		{"ok/aws-lowercase-kept", []string{"aws_thing=1"}, nil, []string{"aws_thing=1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CleanEnv(tc.environ, tc.set)
			if !slices.Equal(got, tc.want) {
				t.Errorf("CleanEnv() = %q, want %q", got, tc.want)
			}
		})
	}
	if !Nested(func(k string) string { return map[string]string{NestingGuard: "1"}[k] }) || Nested(func(string) string { return "" }) {
		t.Error("Nested() wrong")
	}
}

func run(t *testing.T, c Config) (Result, string, error) {
	t.Helper()
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	if c.Env == nil {
		c.Env = []string{"PATH=" + os.Getenv("PATH")}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := Run(ctx, c)
	return res, out.String(), err
}

func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantSig  os.Signal
		startErr int
	}{
		{"ok/zero", []string{"true"}, 0, nil, 0},
		{"ok/exit-3", []string{"sh", "-c", "exit 3"}, 3, nil, 0},
		{"ok/exit-255", []string{"sh", "-c", "exit 255"}, 255, nil, 0},
		{"ok/killed-by-term", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15, syscall.SIGTERM, 0},
		{"ok/killed-by-kill", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9, syscall.SIGKILL, 0},
		{"fail/not-found", []string{"shortfuse-no-such-command"}, 0, nil, 127},
		{"fail/not-found-path", []string{filepath.Join(dir, "nope")}, 0, nil, 127},
		{"fail/not-executable", []string{notExec}, 0, nil, 126},
		{"fail/empty", nil, 0, nil, 127},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, _, err := run(t, Config{Args: tc.args})
			if tc.startErr != 0 {
				var se *StartError
				if !errors.As(err, &se) || se.Code != tc.startErr {
					t.Fatalf("Run() = %v, %v; want StartError %d", res, err, tc.startErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != tc.wantCode || res.Signal != tc.wantSig {
				t.Errorf("Run() = %+v, want code %d signal %v", res, tc.wantCode, tc.wantSig)
			}
		})
	}
}

func TestRunEnvAndIO(t *testing.T) {
	res, out, err := run(t, Config{
		Args:  []string{"sh", "-c", `echo "$GREETING"; read line; echo "got $line"; echo err >&2; echo "aws=${AWS_PROFILE-unset}"`},
		Env:   []string{"GREETING=hello", "PATH=" + os.Getenv("PATH")},
		Stdin: strings.NewReader("input\n"),
	})
	if err != nil || res.Code != 0 {
		t.Fatalf("Run() = %+v, %v", res, err)
	}
	if want := "hello\ngot input\nerr\naws=unset\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}
}

// startedSignal runs a shell script that reports each signal it gets (it
// creates the file named by $1 when ready), sends it signals through
// Config.Signals once it is ready, and returns the result.
func startedSignal(t *testing.T, script string, foreground bool, sigs ...os.Signal) (Result, string) {
	t.Helper()
	return startedSignalCmd(t, func(ready string) ([]string, []string) {
		return []string{"sh", "-c", script, "sh", ready}, nil
	}, foreground, sigs...)
}

// startedSignalCmd is startedSignal for the command and extra environment
// that cmd returns for the ready file's path.
func startedSignalCmd(t *testing.T, cmd func(ready string) (args, env []string), foreground bool, sigs ...os.Signal) (Result, string) {
	t.Helper()
	sigc := make(chan os.Signal, len(sigs))
	ready := filepath.Join(t.TempDir(), "ready")
	args, env := cmd(ready)
	var out testutil.Buffer
	var wg sync.WaitGroup
	ended := make(chan struct{})
	c := Config{
		Args:       args,
		Env:        append([]string{"PATH=" + os.Getenv("PATH")}, env...),
		Stdout:     &out,
		Stderr:     &out,
		Foreground: foreground,
		Signals:    sigc,
		WaitDelay:  time.Second,
		Started: func(pid int) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
					if _, err := os.Stat(ready); err == nil {
						break
					}
				}
				for _, s := range sigs {
					sigc <- s
					time.Sleep(50 * time.Millisecond)
				}
				// A child that outlives its signals by far fails the test
				// instead of hanging it.
				select {
				case <-ended:
				case <-time.After(30 * time.Second):
					t.Errorf("the child was still running 30s after its signals; killing it")
					_ = syscall.Kill(-pid, syscall.SIGKILL)
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}()
		},
	}
	res, err := Run(context.Background(), c)
	close(ended)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	return res, out.String()
}

// trapChildEnv makes the test binary, run as a child, trap the forwarded
// signals (see TestMain): it creates the file named by
// EXECJOB_TEST_READY once it listens, and on a signal says so and exits with
// a code naming it. A Go child has no window in which a signal can be lost,
// which a shell loop running external commands has.
const trapChildEnv = "EXECJOB_TEST_TRAP_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(trapChildEnv) == "1" {
		trapChild()
		return
	}
	os.Exit(m.Run())
}

func trapChild() {
	codes := map[os.Signal]struct {
		name string
		code int
	}{syscall.SIGINT: {"INT", 10}, syscall.SIGTERM: {"TERM", 11}, syscall.SIGHUP: {"HUP", 12}, syscall.SIGQUIT: {"QUIT", 13}}
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, ForwardedSignals...)
	if err := os.WriteFile(os.Getenv("EXECJOB_TEST_READY"), nil, 0o600); err != nil {
		os.Exit(99)
	}
	s := <-ch
	fmt.Println("got-" + codes[s].name)
	os.Exit(codes[s].code)
}

func TestRunForwardsSignals(t *testing.T) {
	// The child traps each signal, says so and exits with a code naming it.
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := func(ready string) ([]string, []string) {
		return []string{self}, []string{trapChildEnv + "=1", "EXECJOB_TEST_READY=" + ready}
	}
	tests := []struct {
		name string
		sig  os.Signal
		want string
		code int
	}{
		{"ok/int", syscall.SIGINT, "got-INT", 10},
		{"ok/term", syscall.SIGTERM, "got-TERM", 11},
		{"ok/hup", syscall.SIGHUP, "got-HUP", 12},
		{"ok/quit", syscall.SIGQUIT, "got-QUIT", 13},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, out := startedSignalCmd(t, child, false, tc.sig)
			if res.Code != tc.code || !strings.Contains(out, tc.want) {
				t.Errorf("Run() = %+v, output %q; want code %d and %q", res, out, tc.code, tc.want)
			}
		})
	}
}

func TestRunSignalReachesGrandchildren(t *testing.T) {
	// sh waits for sleep; the group gets the TERM, so sleep ends too and
	// sh reports it.
	res, _ := startedSignal(t, `touch "$1"; sleep 30; echo after`, false, syscall.SIGTERM)
	if res.Code != 128+15 {
		t.Errorf("Run() = %+v, want killed by SIGTERM", res)
	}
}

func TestRunSecondSignalKills(t *testing.T) {
	res, out := startedSignal(t, `trap 'echo ignoring' TERM; touch "$1"; while :; do sleep 0.05; done`, false, syscall.SIGTERM, syscall.SIGTERM)
	if res.Code != 128+9 || res.Signal != syscall.SIGKILL {
		t.Errorf("Run() = %+v (output %q), want killed by SIGKILL after the second signal", res, out)
	}
}

func TestRunForegroundLeavesTerminalSignals(t *testing.T) {
	// At a terminal, SIGINT reaches the child from the terminal itself;
	// forwarding it would deliver it twice. SIGTERM is still forwarded.
	res, out := startedSignal(t, `trap 'echo got-INT' INT; trap 'echo got-TERM; exit 11' TERM; touch "$1"; while :; do sleep 0.05; done`, true, syscall.SIGINT, syscall.SIGTERM)
	if res.Code != 11 || strings.Contains(out, "got-INT") {
		t.Errorf("Run() = %+v, output %q; want SIGINT not forwarded, SIGTERM forwarded", res, out)
	}
}

func TestCredentialsServer(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	creds := token.Credentials{AccessKeyID: "ASIAEXAMPLE7Q4ZKXYZW", SecretAccessKey: "secret", SessionToken: "tok", Expiration: exp}
	s, err := NewCredentialsServer(creds, rand.Reader, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	env := s.Env()
	if len(env) != 2 || !strings.HasPrefix(env[0], "AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:") || len(s.AuthToken()) < 40 {
		t.Fatalf("Env() = %q", env)
	}

	// The SDK's own container-credentials client.
	p := endpointcreds.New(s.URL(), func(o *endpointcreds.Options) { o.AuthorizationToken = s.AuthToken() })
	got, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatalf("SDK Retrieve() = %v", err)
	}
	if got.AccessKeyID != creds.AccessKeyID || got.SecretAccessKey != "secret" || got.SessionToken != "tok" || !got.Expires.Equal(exp) || !got.CanExpire {
		t.Errorf("SDK got %+v", got)
	}
	bad := endpointcreds.New(s.URL(), func(o *endpointcreds.Options) { o.AuthorizationToken = s.AuthToken()[:10] })
	if _, err := bad.Retrieve(context.Background()); err == nil {
		t.Error("SDK Retrieve() with a wrong token succeeded")
	}

	tests := []struct {
		name   string
		method string
		url    string
		host   string
		auth   string
		want   int
	}{
		{"ok/get", "GET", s.URL(), "", s.AuthToken(), 200},
		{"fail/no-token", "GET", s.URL(), "", "", 401},
		{"fail/token-prefix", "GET", s.URL(), "", s.AuthToken()[:20], 401},
		{"fail/bearer-prefix", "GET", s.URL(), "", "Bearer " + s.AuthToken(), 401},
		{"fail/post", "POST", s.URL(), "", s.AuthToken(), 405},
		{"fail/other-path", "GET", strings.TrimSuffix(s.URL(), "credentials") + "x", "", s.AuthToken(), 404},
		{"fail/rebinding-host", "GET", s.URL(), "evil.example:80", s.AuthToken(), 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, tc.url, nil)
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want != 200 && strings.Contains(string(body), "secret") {
				t.Errorf("refusal carries credentials: %s", body)
			}
		})
	}
}

func TestCredentialsServerUnknownExpiry(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s, err := NewCredentialsServer(token.Credentials{AccessKeyID: "ASIAEXAMPLE7Q4ZKXYZW", SecretAccessKey: "s", SessionToken: "t"}, rand.Reader, func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := endpointcreds.New(s.URL(), func(o *endpointcreds.Options) { o.AuthorizationToken = s.AuthToken() }).Retrieve(context.Background())
	if err != nil || !got.Expires.Equal(now.Add(unknownExpiryLease)) {
		t.Errorf("Retrieve() = %+v, %v; want expiry now+%v", got, err, unknownExpiryLease)
	}
}

func TestKeepAlive(t *testing.T) {
	refused := &brokerapi.Error{Code: "ExpiredTokenException", Message: "revoked"}
	unsupported := &brokerapi.Error{Code: "UnknownOperationException"}
	network := errors.New("connection refused")
	tests := []struct {
		name    string
		answers []error
		want    []BeatEvent
	}{
		{"ok/all-fine", []error{nil, nil, nil}, nil},
		{"ok/unsupported-stops", []error{unsupported, nil}, []BeatEvent{BeatUnsupported}},
		{"ok/refused-stops", []error{nil, refused, nil}, []BeatEvent{BeatRefused}},
		{"ok/sdk-refused-stops", []error{&smithy.GenericAPIError{Code: "ExpiredToken"}}, []BeatEvent{BeatRefused}},
		{"ok/failing-reported-once", []error{network, network, network, nil, network}, []BeatEvent{BeatFailing, BeatRecovered, BeatFailing}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var mu sync.Mutex
			calls := 0
			beat := func(ctx context.Context, grace time.Duration) (brokerapi.HeartbeatResult, error) {
				mu.Lock()
				defer mu.Unlock()
				if grace != time.Minute {
					t.Errorf("grace %v", grace)
				}
				calls++
				if calls > len(tc.answers) {
					cancel()
					return brokerapi.HeartbeatResult{}, context.Canceled
				}
				return brokerapi.HeartbeatResult{}, tc.answers[calls-1]
			}
			var got []BeatEvent
			KeepAlive(ctx, beat, time.Minute, time.Millisecond, func(e BeatEvent, err error) {
				got = append(got, e)
			})
			if !slices.Equal(got, tc.want) {
				t.Errorf("events %v, want %v", got, tc.want)
			}
		})
	}
}
