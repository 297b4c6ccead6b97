package e2e

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// silentBroker is a loopback listener that accepts connections and never
// answers: a stuck broker. asked is closed once a request has reached it.
type silentBroker struct {
	url   string
	asked chan struct{}
}

func newSilentBroker(t *testing.T) *silentBroker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sb := &silentBroker{url: "http://" + ln.Addr().String(), asked: make(chan struct{})}
	var mu sync.Mutex
	var conns []net.Conn
	var once sync.Once
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				if n, _ := c.Read(make([]byte, 1)); n == 1 {
					once.Do(func() { close(sb.asked) })
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return sb
}

// fullBroker is a loopback listener whose accept queue is full, so that a
// new connection is never made (the kernel drops its SYN).
func fullBroker(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: sa.(*syscall.SockaddrInet4).Port}).String()
	// Fill the queue: these connections complete, and are never accepted.
	for range 4 {
		d := net.Dialer{Timeout: 300 * time.Millisecond}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			break // the queue is full
		}
		t.Cleanup(func() { c.Close() })
	}
	return "http://" + addr
}

// timeoutRun is one run of the binary against a broker that does not
// answer.
type timeoutRun struct {
	stdout, stderr string
	code           int
	took           time.Duration
}

// signalling is when runAgainst signals the binary: once at least after
// has passed and, with asked, a request is in flight (so that the binary
// is past its start however slow the machine).
type signalling struct {
	sig   syscall.Signal
	after time.Duration
	asked <-chan struct{}
}

// runAgainst runs the binary with env, signalling it as sig says (not at
// all if sig.sig is 0).
func runAgainst(t *testing.T, env []string, sig signalling, args ...string) timeoutRun {
	t.Helper()
	cmd := exec.Command(mustBinary(t), args...)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + t.TempDir(),
		"AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent",
		"AWS_EC2_METADATA_DISABLED=true",
	}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if sig.sig != 0 {
		go func() {
			if sig.asked != nil {
				select {
				case <-sig.asked:
				case <-time.After(30 * time.Second):
				}
			}
			time.Sleep(time.Until(start.Add(sig.after)))
			_ = cmd.Process.Signal(sig.sig)
		}()
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("shortfuse %v still running after 60s\nstderr: %s", args, stderr.String())
	}
	r := timeoutRun{stdout: stdout.String(), stderr: stderr.String(), took: time.Since(start)}
	if ee, ok := err.(*exec.ExitError); ok {
		r.code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return r
}

const (
	staticKeyEnv = "AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE12"
	staticSecret = "AWS_SECRET_ACCESS_KEY=abcdefabcdefabcdefabcdefabcdefabcdefabcd"
	// A jenkins-format token that parses; a silent broker never judges it.
	silentToken = "SHORTFUSE_TOKEN=FQoGZXIvYXdzEXAMPLETOKENabcdefghijklmnopqrstuvwxyz0123456789:ASIAEXAMPLEEXAMPLE1:abcdefabcdefabcdefabcdefabcdefabcdefabcd"
)

// oneErrorLine checks that stderr has exactly one error line, containing
// every want, and returns it.
func oneErrorLine(t *testing.T, stderr string, want ...string) string {
	t.Helper()
	var errs []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "shortfuse: error:") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("want one error line, got %d:\n%s", len(errs), stderr)
	}
	for _, w := range want {
		if !strings.Contains(errs[0], w) {
			t.Errorf("error line %q lacks %q", errs[0], w)
		}
	}
	return errs[0]
}

func TestClientTimeouts(t *testing.T) {
	t.Parallel()
	silent := newSilentBroker(t).url

	t.Run("fail/token-request-timeout", func(t *testing.T) {
		t.Parallel()
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, staticKeyEnv, staticSecret, "SHORTFUSE_REQUEST_TIMEOUT=1s"}, signalling{}, "token")
		if r.code != 124 {
			t.Fatalf("exit %d, want 124\n%s", r.code, r.stderr)
		}
		oneErrorLine(t, r.stderr, "sts:GetSessionToken: no answer from "+silent+" within 1s", "--request-timeout or SHORTFUSE_REQUEST_TIMEOUT")
		if r.took > 10*time.Second {
			t.Errorf("took %s with a 1s timeout", r.took)
		}
		if r.stdout != "" {
			t.Errorf("stdout %q, want nothing", r.stdout)
		}
	})

	t.Run("fail/flag-beats-env", func(t *testing.T) {
		t.Parallel()
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, staticKeyEnv, staticSecret, "SHORTFUSE_REQUEST_TIMEOUT=50s"}, signalling{}, "sessions", "--request-timeout", "700ms")
		if r.code != 124 {
			t.Fatalf("exit %d, want 124\n%s", r.code, r.stderr)
		}
		oneErrorLine(t, r.stderr, "shortfuse:ListSessions: no answer from "+silent+" within 700ms")
	})

	t.Run("fail/bad-env-value", func(t *testing.T) {
		t.Parallel()
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, staticKeyEnv, staticSecret, "SHORTFUSE_CONNECT_TIMEOUT=soon"}, signalling{}, "token")
		if r.code != 1 {
			t.Fatalf("exit %d, want 1\n%s", r.code, r.stderr)
		}
		oneErrorLine(t, r.stderr, `SHORTFUSE_CONNECT_TIMEOUT="soon": want a duration`)
	})

	t.Run("fail/exec-never-starts-without-secrets", func(t *testing.T) {
		t.Parallel()
		marker := filepath.Join(t.TempDir(), "ran")
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, silentToken, "SHORTFUSE_REQUEST_TIMEOUT=1s"}, signalling{},
			"exec", "--secret", "DB=/prod/db", "--", "touch", marker)
		if r.code != 124 {
			t.Fatalf("exit %d, want 124\n%s", r.code, r.stderr)
		}
		if fileExists(marker) {
			t.Fatal("COMMAND ran without its secrets")
		}
		oneErrorLine(t, r.stderr, "no answer from "+silent+" within 1s")
		if !strings.Contains(r.stderr, "could not revoke session ASIA…PLE1") {
			t.Errorf("no word about the revocation:\n%s", r.stderr)
		}
		// heartbeat 1s, then the revocation 1s: no retries of a timeout.
		if r.took > 8*time.Second {
			t.Errorf("took %s", r.took)
		}
	})

	t.Run("fail/exec-revocation-has-its-own-limit", func(t *testing.T) {
		t.Parallel()
		// No dead-man switch and no secrets: the only calls are the
		// identity check (2s) and, after it failed, the revocation,
		// which gives up after its own 5s, not the 30s asked for.
		sb := newSilentBroker(t)
		silent := sb.url
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, silentToken, "SHORTFUSE_REQUEST_TIMEOUT=30s"}, signalling{syscall.SIGINT, 2 * time.Second, sb.asked},
			"exec", "--grace", "0", "--", "true")
		if r.code != 130 {
			t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
		}
		if !strings.Contains(r.stderr, "no answer from "+silent+" within 5s (the revocation's own limit)") {
			t.Errorf("revocation limit not said:\n%s", r.stderr)
		}
		oneErrorLine(t, r.stderr, "sts:GetCallerIdentity: no answer from "+silent+" after", "interrupted (SIGINT)")
		if r.took > 15*time.Second {
			t.Errorf("took %s", r.took)
		}
	})

	t.Run("fail/ctrl-c-says-what-where-how-long", func(t *testing.T) {
		t.Parallel()
		marker := filepath.Join(t.TempDir(), "ran")
		sb := newSilentBroker(t)
		silent := sb.url
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, silentToken}, signalling{syscall.SIGINT, 1500 * time.Millisecond, sb.asked},
			"exec", "--keep-session", "--secret", "DB=/prod/db", "--", "touch", marker)
		if r.code != 130 {
			t.Fatalf("exit %d, want 130\n%s", r.code, r.stderr)
		}
		if fileExists(marker) {
			t.Fatal("COMMAND ran after Ctrl-C")
		}
		line := oneErrorLine(t, r.stderr, "secretsmanager:GetSecretValue: no answer from "+silent+" after ", "interrupted (SIGINT)")
		if strings.Contains(line, "context canceled") {
			t.Errorf("bare context error: %s", line)
		}
	})

	t.Run("fail/sigterm-token", func(t *testing.T) {
		t.Parallel()
		sb := newSilentBroker(t)
		silent := sb.url
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + silent, staticKeyEnv, staticSecret}, signalling{syscall.SIGTERM, time.Second, sb.asked}, "token")
		if r.code != 143 {
			t.Fatalf("exit %d, want 143\n%s", r.code, r.stderr)
		}
		oneErrorLine(t, r.stderr, "sts:GetSessionToken: no answer from "+silent+" after ", "interrupted (SIGTERM)")
	})

	t.Run("fail/connect-timeout", func(t *testing.T) {
		t.Parallel()
		full := fullBroker(t)
		r := runAgainst(t, []string{"AWS_ENDPOINT_URL=" + full, staticKeyEnv, staticSecret}, signalling{}, "token", "--connect-timeout", "500ms")
		if r.code != 124 {
			t.Fatalf("exit %d, want 124\n%s", r.code, r.stderr)
		}
		// A connection never made is safe to try again: 3 attempts.
		oneErrorLine(t, r.stderr, "sts:GetSessionToken: could not connect to "+full+" within 500ms", "(3 attempts)")
	})
}
