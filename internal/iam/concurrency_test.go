package iam

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// TestConcurrentChangesAreNotLost runs changes of one record at the same
// time: each is one load-change-save transaction, so none is lost, and of
// creates of one name exactly one succeeds.
func TestConcurrentChangesAreNotLost(t *testing.T) {
	const n = concurrentCalls
	tests := []struct {
		name string
		// setup makes the world; change is the i-th concurrent call.
		setup  func(t *testing.T, f *fixture)
		change func(f *fixture, i int) error
		// refused is the number of calls that must fail with refusedWith
		// (EntityAlreadyExists if nil); the others must succeed.
		refused     int
		refusedWith error
		check       func(f *fixture) error
	}{
		{
			name:  "ok/inline-policies-of-one-user-all-kept",
			setup: func(t *testing.T, f *fixture) { f.user(t, "u") },
			change: func(f *fixture, i int) error {
				return f.svc.PutInlinePolicy(bg, KindUser, "u", fmt.Sprintf("p%d", i), allowRead)
			},
			check: func(f *fixture) error {
				names, err := f.svc.ListInlinePolicies(bg, KindUser, "u")
				return wantCount(len(names), err)
			},
		},
		{
			name:  "ok/inline-policy-deletes-of-one-role-all-done",
			setup: func(t *testing.T, f *fixture) { f.role(t, "r"); putInline(t, f, KindRole, "r", n) },
			change: func(f *fixture, i int) error {
				return f.svc.DeleteInlinePolicy(bg, KindRole, "r", fmt.Sprintf("p%d", i))
			},
			check: func(f *fixture) error {
				names, err := f.svc.ListInlinePolicies(bg, KindRole, "r")
				if err == nil && len(names) != 0 {
					return fmt.Errorf("left %v", names)
				}
				return err
			},
		},
		{
			name:  "ok/tags-of-one-user-all-kept",
			setup: func(t *testing.T, f *fixture) { f.user(t, "u") },
			change: func(f *fixture, i int) error {
				return f.svc.TagUser(bg, "u", []Tag{{Key: fmt.Sprintf("k%d", i), Value: "v"}})
			},
			check: func(f *fixture) error {
				tags, err := f.svc.EntityTags(bg, KindUser, "u")
				return wantCount(len(tags), err)
			},
		},
		{
			name:   "ok/members-of-one-group-all-kept-on-both-sides",
			setup:  func(t *testing.T, f *fixture) { f.group(t, "g", ""); users(t, f, n) },
			change: func(f *fixture, i int) error { return f.svc.AddUserToGroup(bg, "g", fmt.Sprintf("u%d", i)) },
			check: func(f *fixture) error {
				_, members, err := f.svc.GetGroup(bg, "g")
				if err != nil {
					return err
				}
				for i := range n {
					gs, err := f.svc.ListGroupsForUser(bg, fmt.Sprintf("u%d", i))
					if err != nil || len(gs) != 1 {
						return fmt.Errorf("u%d's groups %v: %v", i, gs, err)
					}
				}
				return wantCount(len(members), nil)
			},
		},
		{
			name:  "ok/attachments-of-one-policy-all-counted",
			setup: func(t *testing.T, f *fixture) { f.policy(t, "p", allowRead); users(t, f, n) },
			change: func(f *fixture, i int) error {
				return f.svc.AttachPolicy(bg, KindUser, fmt.Sprintf("u%d", i), policyARNOf("p"))
			},
			check: func(f *fixture) error {
				p, err := f.svc.GetPolicy(bg, policyARNOf("p"))
				if err != nil {
					return err
				}
				ents, err := f.svc.ListEntitiesForPolicy(bg, policyARNOf("p"), 0, "")
				if err == nil && len(ents.Users) != n {
					return fmt.Errorf("%d users listed", len(ents.Users))
				}
				return wantCount(p.AttachmentCount, err)
			},
		},
		{
			name: "ok/client-ids-of-one-provider-all-kept",
			setup: func(t *testing.T, f *fixture) {
				_, err := f.svc.CreateOpenIDConnectProvider(bg, CreateOIDCProviderInput{URL: "https://token.example.com"})
				must(t, err)
			},
			change: func(f *fixture, i int) error {
				return f.svc.AddClientIDToOpenIDConnectProvider(bg, oidcARNOf("token.example.com"), fmt.Sprintf("c%d", i))
			},
			check: func(f *fixture) error {
				p, err := f.svc.GetOpenIDConnectProvider(bg, oidcARNOf("token.example.com"))
				if err != nil {
					return err
				}
				return wantCount(len(p.ClientIDs), nil)
			},
		},
		{
			name:   "ok/access-keys-of-one-user-counted-to-the-limit",
			setup:  func(t *testing.T, f *fixture) { f.user(t, "u") },
			change: func(f *fixture, i int) error { _, err := f.svc.CreateAccessKey(bg, "u"); return err },
			check: func(f *fixture) error {
				keys, err := f.svc.ListAccessKeys(bg, "u")
				if err == nil && len(keys) != 2 {
					return fmt.Errorf("%d keys, want the limit of 2", len(keys))
				}
				return err
			},
			refused:     n - 2,
			refusedWith: ErrLimitExceeded,
		},
		{
			name: "ok/users-of-one-name-created-once",
			change: func(f *fixture, i int) error {
				_, err := f.svc.CreateUser(bg, CreateUserInput{Name: "same"})
				return err
			},
			refused: n - 1,
			check:   func(f *fixture) error { us, err := f.svc.ListUsers(bg, ""); return wantOne(len(us), err) },
		},
		{
			name:    "ok/groups-of-one-name-created-once",
			change:  func(f *fixture, i int) error { _, err := f.svc.CreateGroup(bg, "same", ""); return err },
			refused: n - 1,
			check:   func(f *fixture) error { gs, err := f.svc.ListGroups(bg, ""); return wantOne(len(gs), err) },
		},
		{
			name: "ok/roles-of-one-name-created-once",
			change: func(f *fixture, i int) error {
				_, err := f.svc.CreateRole(bg, CreateRoleInput{Name: "same", AssumeRolePolicyDocument: trustDoc})
				return err
			},
			refused: n - 1,
			check:   func(f *fixture) error { rs, err := f.svc.ListRoles(bg, ""); return wantOne(len(rs), err) },
		},
		{
			name: "ok/policies-of-one-name-created-once",
			change: func(f *fixture, i int) error {
				_, err := f.svc.CreatePolicy(bg, CreatePolicyInput{Name: "same", Document: allowRead})
				return err
			},
			refused: n - 1,
			check: func(f *fixture) error {
				ps, err := f.svc.ListPolicies(bg, ListPoliciesInput{Scope: "Local"})
				return wantOne(len(ps), err)
			},
		},
		{
			name:    "ok/mfa-devices-of-one-name-created-once",
			change:  func(f *fixture, i int) error { _, err := f.svc.CreateVirtualMFADevice(bg, "same", "", nil); return err },
			refused: n - 1,
			check: func(f *fixture) error {
				ds, err := f.svc.ListVirtualMFADevices(bg, "Any")
				return wantOne(len(ds), err)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(t, f)
			}
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { errs[i] = tc.change(f, i) })
			}
			wg.Wait()
			want, kind := tc.refused, tc.refusedWith
			if kind == nil {
				kind = ErrEntityAlreadyExists
			}
			refused := 0
			for _, err := range errs {
				switch {
				case err == nil:
				case errors.Is(err, kind):
					refused++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			if refused != want {
				t.Errorf("%d refused with %v, want %d", refused, kind, want)
			}
			if err := tc.check(f); err != nil {
				t.Error(err)
			}
		})
	}
}

// concurrentCalls is the number of calls TestConcurrentChangesAreNotLost
// runs at once.
const concurrentCalls = 8

// wantCount: one of each of the concurrent calls kept.
func wantCount(got int, err error) error {
	if err == nil && got != concurrentCalls {
		return fmt.Errorf("%d kept, want %d", got, concurrentCalls)
	}
	return err
}

// wantOne: one made of all the concurrent calls.
func wantOne(got int, err error) error {
	if err == nil && got != 1 {
		return fmt.Errorf("%d made, want 1", got)
	}
	return err
}

func users(t *testing.T, f *fixture, n int) {
	t.Helper()
	for i := range n {
		f.user(t, fmt.Sprintf("u%d", i))
	}
}

func putInline(t *testing.T, f *fixture, kind EntityKind, name string, n int) {
	t.Helper()
	for i := range n {
		must(t, f.svc.PutInlinePolicy(bg, kind, name, fmt.Sprintf("p%d", i), allowRead))
	}
}

func policyARNOf(name string) string { return "arn:aws:iam::" + testAccount + ":policy/" + name }

func oidcARNOf(host string) string { return "arn:aws:iam::" + testAccount + ":oidc-provider/" + host }
