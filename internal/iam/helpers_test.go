package iam

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

const testAccount = "123456789012"

const (
	allowAll  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	allowRead = `{"Version":"2012-10-17","Statement":[{"Sid":"Read","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	trustDoc  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}]}`
)

type fixture struct {
	svc   *Service
	clock *testutil.Clock
	path  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, path := testutil.TempStore(t)
	sealer := testutil.Sealer(t)
	clock := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return &fixture{svc: New(st, sealer, testAccount, clock.Now, rand.Reader), clock: clock, path: path}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantErr checks that err is of kind (nil for success) and, if msg is not
// empty, that its message contains msg.
func wantErr(t *testing.T, err, kind error, msg string) {
	t.Helper()
	if kind == nil {
		if err != nil {
			t.Fatalf("error = %v, want nil", err)
		}
		return
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error = %v, want kind %v", err, kind)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T is not *iam.Error", err)
	}
	if msg != "" && !strings.Contains(e.Msg, msg) {
		t.Fatalf("message = %q, want it to contain %q", e.Msg, msg)
	}
}

var bg = context.Background()

func (f *fixture) user(t *testing.T, name string) *User {
	t.Helper()
	u, err := f.svc.CreateUser(bg, CreateUserInput{Name: name})
	must(t, err)
	return u
}

// nameList is the names of items, comma-separated, as the list tests
// compare them.
func nameList[T any](items []T, name func(*T) string) string {
	names := make([]string, len(items))
	for i := range items {
		names[i] = name(&items[i])
	}
	return strings.Join(names, ",")
}

// step is one call of a sequence a test makes, and the error it must
// return: of kind (nil: none), with a message containing msg.
type step struct {
	name string
	do   func() error
	kind error
	msg  string
}

// runSteps makes the calls of steps in order, each a subtest.
func runSteps(t *testing.T, steps []step) {
	t.Helper()
	for _, tc := range steps {
		t.Run(tc.name, func(t *testing.T) { wantErr(t, tc.do(), tc.kind, tc.msg) })
	}
}

// device creates the virtual MFA device name, and returns its seed and
// serial number.
func (f *fixture) device(t *testing.T, name string) (seed, serial string) {
	t.Helper()
	d, err := f.svc.CreateVirtualMFADevice(bg, name, "", nil)
	must(t, err)
	return d.Base32StringSeed, d.SerialNumber
}

func (f *fixture) role(t *testing.T, name string) *Role {
	t.Helper()
	r, err := f.svc.CreateRole(bg, CreateRoleInput{Name: name, AssumeRolePolicyDocument: trustDoc})
	must(t, err)
	return r
}

func (f *fixture) group(t *testing.T, name, path string) *Group {
	t.Helper()
	g, err := f.svc.CreateGroup(bg, name, path)
	must(t, err)
	return g
}

func (f *fixture) policy(t *testing.T, name, doc string) *ManagedPolicy {
	t.Helper()
	p, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: name, Document: doc})
	must(t, err)
	return p
}
