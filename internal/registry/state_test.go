package registry_test

import (
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// TestStateAfterRevokeBefore: revoking a principal's sessions counts and
// labels only those still live; a used-up session keeps saying so.
func TestStateAfterRevokeBefore(t *testing.T) {
	st, _ := testutil.TempStore(t)
	r := newReplica(t, st)
	used := register(t, r, alice, 1)
	live := register(t, r, alice, 0)
	now := t0.Add(time.Minute)
	if err := r.reg.Admit(t.Context(), used, now, registry.Use{Count: true}); err != nil {
		t.Fatal(err)
	}
	n, err := r.reg.RevokeBefore(t.Context(), alice, now, now)
	if err != nil || n != 1 {
		t.Fatalf("RevokeBefore() = %d, %v; want 1 (the live one)", n, err)
	}
	recs, _, err := r.reg.List(t.Context(), registry.Filter{Principal: alice, IncludeInactive: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{used.AccessKeyID: registry.StateUsedUp, live.AccessKeyID: registry.StateRevoked}
	for _, rec := range recs {
		if w, ok := want[rec.AccessKeyID]; ok {
			if got := rec.State(now, r.reg.Before()); got != w {
				t.Errorf("%s: state %s, want %s", rec.AccessKeyID, got, w)
			}
		}
	}
}
