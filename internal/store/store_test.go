package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/shortfuse/shortfuse/internal/store"
)

func TestValidateBucket(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		ok     bool
	}{
		{"ok/simple", "users", true},
		{"ok/all-allowed-bytes", "abcdefghijklmnopqrstuvwxyz0123456789_.-", true},
		{"ok/one-byte", "a", true},
		{"ok/max-length", strings.Repeat("b", store.MaxBucketLen), true},
		{"fail/empty", "", false},
		{"fail/too-long", strings.Repeat("b", store.MaxBucketLen+1), false},
		{"fail/upper-case", "Users", false},
		{"fail/slash", "iam/users", false},
		{"fail/space", "iam users", false},
		{"fail/nul", "iam\x00", false},
		{"fail/non-ascii", "usérs", false},
		{"fail/dotless-i-lookalike", "usıers", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.ValidateBucket(tt.bucket)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateBucket() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, store.ErrInvalid) {
				t.Fatalf("ValidateBucket() = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestValidateKey(t *testing.T) {
	tests := []struct {
		name      string
		key       string
		keyOK     bool
		prefixOK  bool
		mustNotIn string // text the error must not echo
	}{
		{"ok/path", "/prod/db", true, true, ""},
		{"ok/arn", "arn:aws:iam::123456789012:user/alice", true, true, ""},
		{"ok/unicode", "日本/ключ", true, true, ""},
		{"ok/max-length", strings.Repeat("k", store.MaxKeyLen), true, true, ""},
		{"ok/empty-is-a-prefix-not-a-key", "", false, true, ""},
		{"fail/too-long", strings.Repeat("k", store.MaxKeyLen+1), false, false, "kkkk"},
		{"fail/nul", "hunter2\x00", false, false, "hunter2"},
		{"fail/invalid-utf8", "hunter2\xff", false, false, "hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []struct {
				fn   func(string) error
				what string
				ok   bool
			}{
				{store.ValidateKey, "ValidateKey", tt.keyOK},
				{store.ValidatePrefix, "ValidatePrefix", tt.prefixOK},
			} {
				err := v.fn(tt.key)
				if v.ok {
					if err != nil {
						t.Errorf("%s() = %v, want nil", v.what, err)
					}
					continue
				}
				if !errors.Is(err, store.ErrInvalid) {
					t.Errorf("%s() = %v, want ErrInvalid", v.what, err)
					continue
				}
				if tt.mustNotIn != "" && strings.Contains(err.Error(), tt.mustNotIn) {
					t.Errorf("%s() error %q echoes the key", v.what, err)
				}
			}
		})
	}
}

func TestCheckTxRefusesInOrder(t *testing.T) {
	broken := errors.New("aborted earlier")
	tests := []struct {
		name                  string
		done, write, writable bool
		broken                error
		key                   string
		want                  error
	}{
		{name: "ok/read", key: "k"},
		{name: "ok/write-in-update", write: true, writable: true, key: "k"},
		{name: "fail/ended-before-everything", done: true, write: true, broken: broken, key: "", want: store.ErrTxDone},
		{name: "fail/write-in-view-before-broken", write: true, broken: broken, key: "", want: store.ErrReadOnly},
		{name: "fail/broken-before-key", writable: true, broken: broken, key: "", want: broken},
		{name: "fail/invalid-key", writable: true, key: "", want: store.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.CheckTx(tt.done, tt.write, tt.writable, tt.broken, "b", tt.key)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Errorf("CheckTx() = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestGateAdmitsUntilClosed(t *testing.T) {
	var g store.Gate
	var calls sync.WaitGroup
	if err := g.Enter(t.Context(), &calls); err != nil {
		t.Fatalf("Enter() on an open gate = %v, want nil", err)
	}
	calls.Done()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := g.Enter(ctx, &calls); !errors.Is(err, context.Canceled) {
		t.Errorf("Enter() with a done context = %v, want context.Canceled", err)
	}
	g.Close()
	if err := g.Enter(t.Context(), &calls); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Enter() after Close() = %v, want ErrClosed", err)
	}
	calls.Wait() // every admitted call has ended
}
