package audit_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
)

func TestFilter(t *testing.T) {
	allowed := newRecord(1) // secretsmanager GetSecretValue by the deploy role's session, t0+1s
	denied := newRecord(2)
	denied.EventSource, denied.EventName = audit.SourceSTS, "AssumeRole"
	denied.UserIdentity = &audit.UserIdentity{Type: audit.IdentityIAMUser, ARN: "arn:aws:iam::111122223333:user/alice", AccessKeyID: "AKIAALICE"}
	denied.ErrorCode = "AccessDenied"
	denied.Decisions[0].Decision = audit.DecisionExplicitDeny
	anonymous := newRecord(3)
	anonymous.UserIdentity = nil
	anonymous.ErrorCode = "InvalidClientTokenId"

	tests := []struct {
		name   string
		filter audit.Filter
		rec    *audit.Record
		want   bool
	}{
		{"ok/zero-filter", audit.Filter{}, allowed, true},
		{"ok/principal-exact", audit.Filter{Principal: "arn:aws:iam::111122223333:user/alice"}, denied, true},
		{"ok/principal-glob", audit.Filter{Principal: "arn:aws:sts::*:assumed-role/deploy/*"}, allowed, true},
		{"ok/principal-session-issuer", audit.Filter{Principal: "arn:aws:iam::111122223333:role/deploy"}, allowed, true},
		{"ok/principal-access-key", audit.Filter{Principal: "AKIAALICE"}, denied, true},
		{"fail/principal-other", audit.Filter{Principal: "arn:aws:iam::111122223333:user/bob"}, denied, false},
		{"fail/principal-case", audit.Filter{Principal: "arn:aws:iam::111122223333:user/Alice"}, denied, false},
		{"fail/principal-anonymous", audit.Filter{Principal: "*"}, anonymous, false},
		{"ok/event-name", audit.Filter{Event: "GetSecretValue"}, allowed, true},
		{"ok/event-name-any-case", audit.Filter{Event: "getsecretvalue"}, allowed, true},
		{"ok/event-glob", audit.Filter{Event: "Get*"}, allowed, true},
		{"ok/event-service", audit.Filter{Event: "secretsmanager:*"}, allowed, true},
		{"fail/event-service", audit.Filter{Event: "sts:*"}, allowed, false},
		{"fail/event-other", audit.Filter{Event: "AssumeRole"}, allowed, false},
		{"ok/errors-only-error", audit.Filter{ErrorsOnly: true}, denied, true},
		{"ok/errors-only-anonymous", audit.Filter{ErrorsOnly: true}, anonymous, true},
		{"fail/errors-only-allowed", audit.Filter{ErrorsOnly: true}, allowed, false},
		{"ok/since-equal", audit.Filter{Since: t0.Add(time.Second)}, allowed, true},
		{"fail/since-after", audit.Filter{Since: t0.Add(2 * time.Second)}, allowed, false},
		{"ok/all", audit.Filter{Principal: "*alice", Event: "sts:Assume*", ErrorsOnly: true, Since: t0}, denied, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.filter.Match(tt.rec); got != tt.want {
				t.Errorf("%+v.Match() = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func TestFormat(t *testing.T) {
	r := newRecord(0)
	r.Seq = 42
	tests := []struct {
		name string
		edit func(r *audit.Record)
		want string
	}{
		{"ok/allowed", func(r *audit.Record) {},
			"2026-11-25T19:30:05Z #42 arn:aws:sts::111122223333:assumed-role/deploy/job-42 secretsmanager:GetSecretValue ok allowed(role/deploy/ReadProd#0:Read)"},
		{"ok/denied-of-two", func(r *audit.Record) {
			r.ErrorCode = "AccessDeniedException"
			r.Decisions = append(r.Decisions, audit.Decision{Decision: audit.DecisionImplicitDeny})
		}, "2026-11-25T19:30:05Z #42 arn:aws:sts::111122223333:assumed-role/deploy/job-42 secretsmanager:GetSecretValue AccessDeniedException implicitDeny+1"},
		{"ok/explicit-deny-wins", func(r *audit.Record) {
			r.ErrorCode = "AccessDenied"
			r.Decisions = []audit.Decision{{Decision: audit.DecisionImplicitDeny}, {Decision: audit.DecisionExplicitDeny, PolicyID: "p", StatementIndex: 3}}
		}, "2026-11-25T19:30:05Z #42 arn:aws:sts::111122223333:assumed-role/deploy/job-42 secretsmanager:GetSecretValue AccessDenied explicitDeny(p#3)+1"},
		{"ok/intent-anonymous", func(r *audit.Record) {
			r.Phase, r.UserIdentity, r.Decisions = audit.PhaseIntent, nil, nil
		}, "2026-11-25T19:30:05Z #42 - secretsmanager:GetSecretValue intent -"},
		{"ok/access-key-only", func(r *audit.Record) {
			r.UserIdentity = &audit.UserIdentity{Type: audit.IdentityUnknown, AccessKeyID: "AKIAX"}
		}, "2026-11-25T19:30:05Z #42 AKIAX secretsmanager:GetSecretValue ok allowed(role/deploy/ReadProd#0:Read)"},
		{"fail/forged-line-quoted", func(r *audit.Record) {
			r.EventName = "X ok allowed\n2026-01-01T00:00:00Z #1 root"
			r.Decisions[0].Sid = "\x1b[31m"
		}, `2026-11-25T19:30:05Z #42 arn:aws:sts::111122223333:assumed-role/deploy/job-42 "secretsmanager:X ok allowed\n2026-01-01T00:00:00Z #1 root" ok "allowed(role/deploy/ReadProd#0:\x1b[31m)"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *r
			c.Decisions = append([]audit.Decision(nil), r.Decisions...)
			tt.edit(&c)
			if got := audit.Format(&c); got != tt.want {
				t.Errorf("Format() =\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	for i := range 20 {
		r := newRecord(i)
		if i%5 == 0 {
			r.ErrorCode = "AccessDeniedException"
		}
		if err := w.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		opts audit.TailOptions
		want []uint64
	}{
		{"ok/all", audit.TailOptions{}, seqRange(1, 20)},
		{"ok/last-3", audit.TailOptions{Lines: 3}, []uint64{18, 19, 20}},
		{"ok/errors", audit.TailOptions{Filter: audit.Filter{ErrorsOnly: true}}, []uint64{1, 6, 11, 16}},
		{"ok/last-2-errors", audit.TailOptions{Lines: 2, Filter: audit.Filter{ErrorsOnly: true}}, []uint64{11, 16}},
		{"ok/more-lines-than-records", audit.TailOptions{Lines: 100, Filter: audit.Filter{Since: t0.Add(18 * time.Second)}}, []uint64{19, 20}},
		{"fail/nothing-matches", audit.TailOptions{Filter: audit.Filter{Event: "Nope"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			err := audit.Tail(context.Background(), path, tt.opts, func(r *audit.Record, line []byte) error {
				got = append(got, r.Seq)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Tail() seqs = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestTailFollow follows a log while it grows and rotates, and sees every record once.
func TestTailFollow(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	opts := testOptions()
	opts.MaxBytes = 8 << 10
	w := mustOpen(t, path, opts)
	appendN(t, w, 0, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	const total = 60
	var mu sync.Mutex
	var got []uint64
	var warnings []string
	done := make(chan error, 1)
	go func() {
		done <- audit.Tail(ctx, path, audit.TailOptions{Follow: true, Poll: 5 * time.Millisecond,
			Warn: func(s string) { warnings = append(warnings, s) }},
			func(r *audit.Record, line []byte) error {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, r.Seq)
				if len(got) == total {
					cancel()
				}
				return nil
			})
	}()
	// Wait for Tail to have read the first records, so that it starts on the first file.
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n == 3 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Tail follows by polling, so a file created and rotated away between two
	// polls would be missed (documented); append one record at a time and let
	// Tail catch up, so that the test checks following across rotations and
	// not the scheduler of a loaded machine.
	for i := 3; i < total; i++ {
		appendN(t, w, i, 1)
		deadline := time.Now().Add(5 * time.Second)
		for {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n >= i+1 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := w.Stats(); st.Rotations == 0 {
		t.Fatal("the log did not rotate; the test tests less than it says")
	}
	if fmt.Sprint(got) != fmt.Sprint(seqRange(1, total)) {
		t.Errorf("Tail(Follow) saw %v, want 1..%d", got, total)
	}
	if len(warnings) > 0 {
		t.Errorf("warnings: %v", warnings)
	}
}

func seqRange(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}
