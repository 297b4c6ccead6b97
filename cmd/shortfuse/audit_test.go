package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

var auditT0 = time.Date(2026, 11, 25, 19, 30, 0, 0, time.UTC)

// auditRecord is record i of the test logs: alice reads secrets, every third is denied.
func auditRecord(i int) *audit.Record {
	r := &audit.Record{
		EventTime:   auditT0.Add(time.Duration(i) * time.Minute),
		EventSource: audit.SourceSecretsManager, EventName: "GetSecretValue", AWSRegion: "us-east-1",
		SourceIPAddress: "10.0.0.1", UserAgent: "aws-cli/2",
		UserIdentity: &audit.UserIdentity{Type: audit.IdentityIAMUser, ARN: "arn:aws:iam::111122223333:user/alice",
			AccountID: "111122223333", AccessKeyID: "AKIAALICE", UserName: "alice"},
		RequestParameters: map[string]any{"secretId": fmt.Sprintf("/prod/s%d", i)},
		RequestID:         fmt.Sprintf("req-%d", i), ReadOnly: true, RecipientAccountID: "111122223333",
		Decisions: []audit.Decision{{Action: "secretsmanager:GetSecretValue", Resource: "*",
			Decision: audit.DecisionAllowed, PolicyID: "user/alice/read", StatementIndex: 0}},
	}
	if i%3 == 0 {
		r.ErrorCode = "AccessDeniedException"
		r.Decisions[0] = audit.Decision{Action: "secretsmanager:GetSecretValue", Resource: "*", Decision: audit.DecisionImplicitDeny}
	}
	if i%4 == 0 {
		r.EventSource, r.EventName = audit.SourceSTS, "GetCallerIdentity"
		r.UserIdentity.ARN = "arn:aws:iam::111122223333:user/bob"
	}
	return r
}

// writeAuditLog writes records 1..n to a log at dir/audit.log, rotating at maxBytes (0:
// never), and returns its path.
func writeAuditLog(t *testing.T, dir string, n int, maxBytes int64) string {
	t.Helper()
	path := filepath.Join(dir, "audit.log")
	w, err := audit.Open(path, audit.Options{MaxBytes: maxBytes, Now: func() time.Time { return auditT0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	for i := 1; i <= n; i++ {
		if err := w.Append(context.Background(), auditRecord(i)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func runAudit(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb testutil.Buffer
	code = run(context.Background(), args, withStreams(func(string) string { return "" }, strings.NewReader(""), &out, &errb))
	return code, out.String(), errb.String()
}

func TestAuditCommand(t *testing.T) {
	dir := t.TempDir()
	whole := writeAuditLog(t, dir, 12, 0)
	rotatedDir := filepath.Join(dir, "rotated")
	os.Mkdir(rotatedDir, 0o700)
	rotated := writeAuditLog(t, rotatedDir, 30, 4<<10)
	rotatedFiles, _ := filepath.Glob(rotated + "*")
	if len(rotatedFiles) < 3 {
		t.Fatalf("rotated log has files %v", rotatedFiles)
	}
	var oldest string
	for _, f := range rotatedFiles {
		if strings.HasPrefix(filepath.Base(f), "audit.log.1-") {
			oldest = f
		}
	}
	tamperedDir := filepath.Join(dir, "tampered")
	os.Mkdir(tamperedDir, 0o700)
	tampered := writeAuditLog(t, tamperedDir, 5, 0)
	b, _ := os.ReadFile(tampered)
	os.WriteFile(tampered, bytes.Replace(b, []byte("/prod/s3"), []byte("/prod/s9"), 1), 0o600)
	var withoutOldest []string
	for _, f := range rotatedFiles {
		if f != oldest {
			withoutOldest = append(withoutOldest, f)
		}
	}

	lines := strings.Split(strings.TrimSpace(string(mustRead(t, whole))), "\n")
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string // lines, exactly
		contains []string // in stdout
		stderr   string   // exactly
	}{
		{name: "ok/verify", args: []string{"audit", "verify", whole}, code: 0,
			contains: []string{"ok: 12 records, chain whole\nhead: seq 12 hash "}},
		{name: "ok/verify-rotated", args: append([]string{"audit", "verify"}, rotatedFiles...), code: 0,
			contains: []string{"ok: 30 records, chain whole\n"}},
		{name: "fail/verify-tampered", args: []string{"audit", "verify", tampered}, code: 1,
			stderr: "shortfuse: error: broken at seq 3 (" + tampered + ":3): hash of seq 3 does not match the record (edited)\n" +
				"shortfuse: hint: the chain is whole up to seq 2\n"},
		{name: "fail/verify-oldest-file-missing", args: append([]string{"audit", "verify"}, withoutOldest...), code: 1},
		{name: "fail/verify-no-file", args: []string{"audit", "verify"}, code: 1},
		{name: "fail/verify-missing-file", args: []string{"audit", "verify", filepath.Join(dir, "nope")}, code: 1,
			stderr: "shortfuse: error: open " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{name: "ok/tail-last-10", args: []string{"audit", "tail", whole}, code: 0, stdout: []string{
			"2026-11-25T19:33:00Z #3 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue AccessDeniedException implicitDeny",
			"2026-11-25T19:34:00Z #4 arn:aws:iam::111122223333:user/bob sts:GetCallerIdentity ok allowed(user/alice/read#0)",
			"2026-11-25T19:35:00Z #5 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue ok allowed(user/alice/read#0)",
			"2026-11-25T19:36:00Z #6 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue AccessDeniedException implicitDeny",
			"2026-11-25T19:37:00Z #7 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue ok allowed(user/alice/read#0)",
			"2026-11-25T19:38:00Z #8 arn:aws:iam::111122223333:user/bob sts:GetCallerIdentity ok allowed(user/alice/read#0)",
			"2026-11-25T19:39:00Z #9 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue AccessDeniedException implicitDeny",
			"2026-11-25T19:40:00Z #10 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue ok allowed(user/alice/read#0)",
			"2026-11-25T19:41:00Z #11 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue ok allowed(user/alice/read#0)",
			"2026-11-25T19:42:00Z #12 arn:aws:iam::111122223333:user/bob sts:GetCallerIdentity AccessDeniedException implicitDeny",
		}},
		{name: "ok/tail-json", args: []string{"audit", "tail", "--json", "-n", "2", whole}, code: 0, stdout: lines[10:]},
		{name: "ok/tail-all-errors-of-alice", args: []string{"audit", "tail", "-n", "0", "--errors-only", "--principal", "*:user/alice", whole}, code: 0,
			stdout: []string{
				"2026-11-25T19:33:00Z #3 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue AccessDeniedException implicitDeny",
				"2026-11-25T19:36:00Z #6 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue AccessDeniedException implicitDeny",
				"2026-11-25T19:39:00Z #9 arn:aws:iam::111122223333:user/alice secretsmanager:GetSecretValue AccessDeniedException implicitDeny",
			}},
		{name: "ok/tail-event-since", args: []string{"audit", "tail", "--event", "sts:*", "--since", "2026-11-25T19:35:00Z", whole}, code: 0,
			stdout: []string{
				"2026-11-25T19:38:00Z #8 arn:aws:iam::111122223333:user/bob sts:GetCallerIdentity ok allowed(user/alice/read#0)",
				"2026-11-25T19:42:00Z #12 arn:aws:iam::111122223333:user/bob sts:GetCallerIdentity AccessDeniedException implicitDeny",
			}},
		{name: "ok/tail-nothing", args: []string{"audit", "tail", "--event", "DeleteSecret", whole}, code: 0, stdout: []string{}},
		{name: "fail/tail-since", args: []string{"audit", "tail", "--since", "yesterday", whole}, code: 1,
			stderr: "shortfuse: error: --since \"yesterday\": want a duration (90m, 24h) or a time (2026-11-25T19:30:00Z)\n"},
		{name: "fail/tail-lines", args: []string{"audit", "tail", "-n", "-1", whole}, code: 1,
			stderr: "shortfuse: error: --lines -1: want 0 (all) or more\n"},
		{name: "fail/tail-two-files", args: []string{"audit", "tail", whole, whole}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runAudit(t, tt.args...)
			if code != tt.code {
				t.Fatalf("exit code = %d, want %d; stderr:\n%s", code, tt.code, stderr)
			}
			if tt.stdout != nil {
				got := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				if stdout == "" {
					got = []string{}
				}
				if strings.Join(got, "\n") != strings.Join(tt.stdout, "\n") {
					t.Errorf("stdout =\n%s\nwant\n%s", stdout, strings.Join(tt.stdout, "\n"))
				}
			}
			for _, c := range tt.contains {
				if !strings.Contains(stdout, c) {
					t.Errorf("stdout =\n%s\nwant it to contain %q", stdout, c)
				}
			}
			if tt.stderr != "" && stderr != tt.stderr {
				t.Errorf("stderr =\n%s\nwant\n%s", stderr, tt.stderr)
			}
			if tt.code != 0 && !strings.HasPrefix(stderr, "shortfuse: error: ") {
				t.Errorf("stderr = %q, want a shortfuse: error: line", stderr)
			}
		})
	}
	t.Run("fail/verify-oldest-file-missing-hint", func(t *testing.T) {
		_, _, stderr := runAudit(t, append([]string{"audit", "verify"}, withoutOldest...)...)
		want := "shortfuse: hint: give every file of the log, the rotated ones too: " + rotated + "*\n"
		if !strings.Contains(stderr, "): chain starts at seq ") || !strings.HasSuffix(stderr, want) {
			t.Errorf("stderr = %q, want the chain-start reason and hint %q", stderr, want)
		}
	})
}

func TestAuditTailSinceDuration(t *testing.T) {
	path := writeAuditLog(t, t.TempDir(), 12, 0)
	var out, errb bytes.Buffer
	d := withStreams(func(string) string { return "" }, strings.NewReader(""), &out, &errb)
	d.now = func() time.Time { return auditT0.Add(12 * time.Minute) } // the time of record 12
	cmd := newAuditTailCommand(d)
	cmd.SetArgs([]string{"--since", "2m", "--json", path})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(out.String(), "\n"); got != 3 { // records 10, 11 and 12
		t.Errorf("--since 2m printed %d records, want 3:\n%s", got, out.String())
	}
}

func TestAuditTailFollow(t *testing.T) {
	dir := t.TempDir()
	path := writeAuditLog(t, dir, 2, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb testutil.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"audit", "tail", "-f", "--json", path}, withStreams(func(string) string { return "" }, strings.NewReader(""), &out, &errb))
	}()
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(out.String(), "\n") < n {
			if time.Now().After(deadline) {
				t.Fatalf("tail -f printed %q, want %d records", out.String(), n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(2)
	w, err := audit.Open(path, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Append(ctx, auditRecord(3)); err != nil {
		t.Fatal(err)
	}
	waitFor(3)
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("tail -f exit code = %d after interrupt, want 0; stderr %s", code, errb.String())
	}
	if got := strings.TrimSpace(out.String()); got != strings.TrimSpace(string(mustRead(t, path))) {
		t.Errorf("tail -f printed\n%s\nwant the log", got)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
