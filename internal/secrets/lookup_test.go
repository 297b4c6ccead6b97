package secrets

import (
	"context"
	"testing"
)

// Lookup fails only for a secret that does not exist; what keeps a version
// from being read is Open's error, after the caller had Secret to authorize
// on. Open decrypts what Lookup read.
func TestLookupOpen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	first := f.create(t, "app/db", "one")
	second := f.put(t, "app/db", "two")
	f.create(t, "app/gone", "x")
	if _, err := f.svc.Delete(ctx, "app/gone", 7, false); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, id, version, stage string
		lookupErr, openErr       error
		want                     string
	}{
		{"ok/current", "app/db", "", "", nil, nil, "two"},
		{"ok/previous-by-stage", "app/db", "", StagePrevious, nil, nil, "one"},
		{"ok/by-version", "app/db", first.VersionID, "", nil, nil, "one"},
		{"ok/version-and-stage", "app/db", second.VersionID, StageCurrent, nil, nil, "two"},
		{"fail/no-such-secret", "app/none", "", "", ErrNotFound, nil, ""},
		{"fail/no-such-version-is-open's", "app/db", "00000000-0000-4000-8000-000000000000", "", nil, ErrNotFound, ""},
		{"fail/stage-mismatch-is-open's", "app/db", first.VersionID, StageCurrent, nil, ErrInvalidRequest, ""},
		{"fail/deleted-is-open's", "app/gone", "", "", nil, ErrInvalidRequest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := f.svc.Lookup(ctx, tc.id, tc.version, tc.stage)
			wantKind(t, "Lookup()", err, tc.lookupErr)
			if err != nil {
				return
			}
			if l.Secret == nil || l.Secret.Name != tc.id {
				t.Fatalf("Lookup().Secret = %+v, want the secret %s", l.Secret, tc.id)
			}
			v, err := f.svc.Open(ctx, l)
			wantKind(t, "Open()", err, tc.openErr)
			if err == nil && string(v.Value.Reveal()) != tc.want {
				t.Errorf("Open() = %q, want %q", v.Value.Reveal(), tc.want)
			}
		})
	}
}
