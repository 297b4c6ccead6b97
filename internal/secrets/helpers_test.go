package secrets

import (
	"context"
	"crypto/rand"
	"errors"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

const (
	testAccount = "123456789012"
	testRegion  = "us-east-1"
	testPrefix  = "arn:aws:secretsmanager:us-east-1:123456789012:secret:"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fixture struct {
	svc   *Service
	st    store.Store
	clock *testutil.Clock
	path  string
}

func newFixture(t *testing.T) *fixture { return newFixtureTB(t) }

func newFixtureTB(t testing.TB) *fixture {
	t.Helper()
	st, path := testutil.TempStore(t)
	sealer := testutil.Sealer(t)
	clock := testutil.NewClock(t0)
	return &fixture{svc: New(st, sealer, testAccount, testRegion, clock.Now, rand.Reader), st: st, clock: clock, path: path}
}

func (f *fixture) create(t *testing.T, name, value string) *Result {
	t.Helper()
	in := CreateInput{Name: name}
	if value != "" {
		in.Value = StringValue(value)
	}
	res, err := f.svc.Create(context.Background(), in)
	if err != nil {
		t.Fatalf("Create(%s): %v", name, err)
	}
	return res
}

func (f *fixture) put(t *testing.T, id, value string, stages ...string) *Result {
	t.Helper()
	in := PutInput{SecretID: id, Value: StringValue(value)}
	if len(stages) > 0 {
		in.Stages = stages
	}
	res, err := f.svc.PutValue(context.Background(), in)
	if err != nil {
		t.Fatalf("PutValue(%s): %v", id, err)
	}
	return res
}

func (f *fixture) get(t *testing.T, id, versionID, stage string) string {
	t.Helper()
	v, err := f.svc.GetValue(context.Background(), id, versionID, stage)
	if err != nil {
		t.Fatalf("GetValue(%s, %q, %q): %v", id, versionID, stage, err)
	}
	return string(v.Value.Reveal())
}

// stages returns version id → sorted labels of every version of the secret,
// deprecated ones included (with no labels).
func (f *fixture) stages(t *testing.T, id string) map[string][]string {
	t.Helper()
	sec, err := f.svc.Describe(context.Background(), id)
	if err != nil {
		t.Fatalf("Describe(%s): %v", id, err)
	}
	m := map[string][]string{}
	for _, v := range sec.Versions {
		s := slices.Clone(v.Stages)
		sort.Strings(s)
		m[v.ID] = s
	}
	return m
}

// wantKind checks that err is a domain error of the kind want.
func wantKind(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Errorf("%s = %v, want success", what, err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, want) {
		t.Errorf("%s = %v, want an *Error of kind %v", what, err, want)
	}
}

func token(c byte) string {
	b := make([]byte, 36)
	for i := range b {
		b[i] = c
	}
	return string(b)
}
