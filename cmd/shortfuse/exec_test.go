package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the scripts run the real command as "shortfuse" (a copy of
// this test binary that calls run, as main does).
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"shortfuse": func() {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			code := run(ctx, os.Args[1:], withStreams(os.Getenv, os.Stdin, os.Stdout, os.Stderr))
			stop()
			os.Exit(code)
		},
	})
}

type fakeKey struct{}

// TestScripts runs testdata/*.txt against a fake AWS (fakeaws_test.go).
// Each script starts with SHORTFUSE_TOKEN set to a fresh 15-minute session
// and the AWS variables pointing at the fake.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			f := newFakeAWS()
			srv := httptest.NewServer(f)
			env.Defer(srv.Close)
			env.Values[fakeKey{}] = f
			s := f.mint("arn:aws:sts::"+fakeAccount+":assumed-role/ci/job", 15*time.Minute, 0)
			creds := filepath.Join(env.WorkDir, ".admin-credentials")
			if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = "+fakeAdminKey+"\naws_secret_access_key = "+fakeAdminSecret+"\n"), 0o600); err != nil {
				return err
			}
			for k, v := range map[string]string{
				"AWS_ENDPOINT_URL":            srv.URL,
				"AWS_REGION":                  "us-east-1",
				"AWS_CONFIG_FILE":             os.DevNull,
				"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
				"AWS_EC2_METADATA_DISABLED":   "true",
				"AWS_MAX_ATTEMPTS":            "1",
				"ADMIN_CREDENTIALS":           creds,
				"SHORTFUSE_TOKEN":             s.jenkins(),
				"TOKEN_AKID":                  s.akid,
				"TOKEN_SECRET":                s.secret,
				"TOKEN_TOKEN":                 s.token,
				"ENDPOINT":                    srv.URL,
				"HOME":                        env.WorkDir,
				"XDG_CACHE_HOME":              filepath.Join(env.WorkDir, ".cache"),
			} {
				env.Setenv(k, v)
			}
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"fake":     cmdFake,
			"waitfile": cmdWaitFile,
			"signal":   cmdSignal,
		},
	})
}

// cmdFake inspects and steers the fake AWS:
//
//	fake revoked [AKID]        the session (default: SHORTFUSE_TOKEN's) is revoked
//	fake heartbeats N [AKID]   the session got N heartbeats (N may be +, at least one)
//	fake calls SERVICE:OP N    the fake got N calls of OP
//	fake nobroker              answer UnknownOperation to the shortfuse service
//	fake token VAR DURATION [MAXUSES]  mint a session, put its jenkins form in VAR
//	fake secret NAME VALUE     set a secret
func cmdFake(ts *testscript.TestScript, neg bool, args []string) {
	f := ts.Value(fakeKey{}).(*fakeAWS)
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(args) == 0 {
		ts.Fatalf("usage: fake revoked|heartbeats|calls|nobroker|token|secret ...")
	}
	session := func(i int) *fakeSession {
		akid := ts.Getenv("TOKEN_AKID")
		if len(args) > i {
			akid = args[i]
		}
		s := f.sessions[akid]
		if s == nil {
			ts.Fatalf("no session %s", akid)
		}
		return s
	}
	check := func(ok bool, format string, a ...any) {
		if ok == neg {
			ts.Fatalf(format, a...)
		}
	}
	switch args[0] {
	case "revoked":
		s := session(1)
		check(s.revoked, "session %s revoked = %v", s.akid, s.revoked)
	case "heartbeats":
		s := session(2)
		if args[1] == "+" {
			check(s.heartbeats > 0, "session %s got %d heartbeats, want some", s.akid, s.heartbeats)
			return
		}
		n, _ := strconv.Atoi(args[1])
		check(s.heartbeats == n, "session %s got %d heartbeats, want %d", s.akid, s.heartbeats, n)
	case "calls":
		n, _ := strconv.Atoi(args[2])
		check(f.calls[args[1]] == n, "%s called %d times, want %d", args[1], f.calls[args[1]], n)
	case "nobroker":
		f.noBroker = true
	case "token":
		d, err := time.ParseDuration(args[2])
		if err != nil {
			ts.Fatalf("%v", err)
		}
		maxUses := 0
		if len(args) > 3 {
			maxUses, _ = strconv.Atoi(args[3])
		}
		s := f.mint("arn:aws:sts::"+fakeAccount+":assumed-role/ci/other", d, maxUses)
		ts.Setenv(args[1], s.jenkins())
		ts.Setenv(args[1]+"_AKID", s.akid)
	case "secret":
		f.putSecret(args[1], args[2])
	default:
		ts.Fatalf("unknown fake command %q", args[0])
	}
}

// cmdWaitFile waits (up to 20 s) for a file to exist.
func cmdWaitFile(ts *testscript.TestScript, neg bool, args []string) {
	p := ts.MkAbs(args[0])
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	ts.Fatalf("%s did not appear", args[0])
}

// cmdSignal sends a signal to the pid written in a file: signal FILE TERM.
func cmdSignal(ts *testscript.TestScript, neg bool, args []string) {
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	ts.Check(err)
	sig := map[string]syscall.Signal{"INT": syscall.SIGINT, "TERM": syscall.SIGTERM, "HUP": syscall.SIGHUP, "QUIT": syscall.SIGQUIT}[args[1]]
	if sig == 0 {
		ts.Fatalf("unknown signal %s", args[1])
	}
	ts.Check(syscall.Kill(pid, sig))
}

func TestExecInputValidate(t *testing.T) {
	base := func() execInput {
		return execInput{args: []string{"true"}, grace: time.Minute, minTTL: 30 * time.Second, childCreds: childCredsBoth, flushAfter: 100 * time.Millisecond}
	}
	tests := []struct {
		name   string
		change func(*execInput)
		err    string
	}{
		{"ok/defaults", func(*execInput) {}, ""},
		{"ok/secrets", func(in *execInput) { in.secretArgs = []string{"A=/x", "B=/y#k"} }, ""},
		{"ok/no-dead-man-switch", func(in *execInput) { in.grace = 0 }, ""},
		{"ok/keep-session-drops-grace", func(in *execInput) { in.keepSession = true; in.grace = time.Second }, ""},
		{"fail/no-command", func(in *execInput) { in.args = nil }, "missing COMMAND"},
		{"fail/bad-secret", func(in *execInput) { in.secretArgs = []string{"AWS_X=/x"} }, "set by shortfuse exec"},
		{"fail/grace-short", func(in *execInput) { in.grace = 5 * time.Second }, "--grace"},
		{"fail/grace-explicit-with-keep", func(in *execInput) { in.keepSession = true; in.graceSet = true; in.grace = 5 * time.Second }, "--grace"},
		{"fail/grace-long", func(in *execInput) { in.grace = 2 * time.Hour }, "--grace"},
		{"fail/min-ttl", func(in *execInput) { in.minTTL = -time.Second }, "--min-ttl"},
		{"fail/flush", func(in *execInput) { in.flushAfter = 0 }, "--flush-after"},
		{"fail/child-creds", func(in *execInput) { in.childCreds = "file" }, "--child-credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := base()
			tc.change(&in)
			checkValidated(t, in.validate(), tc.err)
		})
	}
}
