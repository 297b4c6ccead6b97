package iam

import (
	"bytes"
	"os"
	"regexp"
	"testing"
	"time"
)

var (
	reAKID   = regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`)
	reSecret = regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`)
)

func TestAccessKeys(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	f.user(t, "bob")
	k1, err := f.svc.CreateAccessKey(bg, "ALICE")
	must(t, err)
	if !reAKID.MatchString(k1.ID) || !reSecret.MatchString(k1.Secret) || k1.Status != StatusActive || k1.UserName != "alice" {
		t.Fatalf("CreateAccessKey = %+v", k1)
	}
	k2, err := f.svc.CreateAccessKey(bg, "alice")
	must(t, err)

	runSteps(t, []step{
		{"fail/third-key", func() error { _, err := f.svc.CreateAccessKey(bg, "alice"); return err }, ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: 2"},
		{"fail/create-missing-user", func() error { _, err := f.svc.CreateAccessKey(bg, "nobody"); return err }, ErrNoSuchEntity, ""},
		{"fail/update-other-users-key", func() error { return f.svc.UpdateAccessKey(bg, "bob", k1.ID, StatusInactive) }, ErrNoSuchEntity, "The Access Key with id " + k1.ID + " cannot be found."},
		{"fail/update-bad-status", func() error { return f.svc.UpdateAccessKey(bg, "alice", k1.ID, "Off") }, ErrValidation, "enum value set"},
		{"fail/update-expired", func() error { return f.svc.UpdateAccessKey(bg, "alice", k1.ID, "Expired") }, ErrInvalidInput, ""},
		{"fail/update-short-id", func() error { return f.svc.UpdateAccessKey(bg, "alice", "AKIA", StatusActive) }, ErrValidation, "accessKeyId"},
		{"fail/delete-other-users-key", func() error { return f.svc.DeleteAccessKey(bg, "bob", k1.ID) }, ErrNoSuchEntity, ""},
		{"fail/delete-unknown", func() error { return f.svc.DeleteAccessKey(bg, "alice", "AKIAAAAAAAAAAAAAAAAA") }, ErrNoSuchEntity, ""},
		{"ok/deactivate", func() error { return f.svc.UpdateAccessKey(bg, "alice", k1.ID, StatusInactive) }, nil, ""},
	})

	u, secret, active, err := f.svc.LookupAccessKey(bg, k1.ID)
	must(t, err)
	if u.Name != "alice" || secret != k1.Secret || active {
		t.Errorf("LookupAccessKey(k1) = %s, secret match %v, active %v; want alice, true, false", u.Name, secret == k1.Secret, active)
	}
	_, secret, active, err = f.svc.LookupAccessKey(bg, k2.ID)
	must(t, err)
	if secret != k2.Secret || !active {
		t.Errorf("LookupAccessKey(k2): secret match %v, active %v", secret == k2.Secret, active)
	}

	keys, err := f.svc.ListAccessKeys(bg, "alice")
	must(t, err)
	if len(keys) != 2 || keys[0].ID != k1.ID || keys[0].Status != StatusInactive || keys[1].ID != k2.ID || keys[0].Secret != "" {
		t.Errorf("ListAccessKeys = %+v", keys)
	}

	must(t, f.svc.DeleteAccessKey(bg, "alice", k1.ID))
	_, _, _, err = f.svc.LookupAccessKey(bg, k1.ID)
	wantErr(t, err, ErrNoSuchEntity, "")
	if _, err := f.svc.CreateAccessKey(bg, "alice"); err != nil {
		t.Errorf("CreateAccessKey after delete: %v", err)
	}
}

func TestLookupAccessKeyUnknown(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct{ name, akid string }{
		{"fail/unknown", "AKIAAAAAAAAAAAAAAAAA"},
		{"fail/empty", ""},
		{"fail/nul", "AKIA\x00AAAAAAAAAAAAAAA"},
		{"fail/slash", "AKIA/AAAAAAAAAAAAAAA"},
		{"fail/long", string(bytes.Repeat([]byte("A"), 2000))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := f.svc.LookupAccessKey(bg, tc.akid)
			wantErr(t, err, ErrNoSuchEntity, "")
		})
	}
}

func TestKeyLastUsed(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	k, err := f.svc.CreateAccessKey(bg, "alice")
	must(t, err)

	lu, err := f.svc.GetAccessKeyLastUsed(bg, k.ID)
	must(t, err)
	if lu.Used || lu.UserName != "alice" || lu.UserARN != "arn:aws:iam::123456789012:user/alice" {
		t.Errorf("never used: %+v", lu)
	}
	checkUseRecording(t, f, "service", "sts", "iam",
		func(service string) error { return f.svc.RecordKeyUse(bg, k.ID, service, "us-east-1") },
		func() (any, string, time.Time, error) {
			lu, err := f.svc.GetAccessKeyLastUsed(bg, k.ID)
			if err != nil || !lu.Used || lu.Region != "us-east-1" {
				return lu, "", time.Time{}, err
			}
			return lu, lu.Service, lu.Date, nil
		})
	t.Run("ok/unknown-key-ignored", func(t *testing.T) {
		must(t, f.svc.RecordKeyUse(bg, "AKIAAAAAAAAAAAAAAAAA", "sts", "us-east-1"))
		_, err := f.svc.GetAccessKeyLastUsed(bg, "AKIAAAAAAAAAAAAAAAAA")
		wantErr(t, err, ErrNoSuchEntity, "")
	})
}

// TestSecretsSealedAtRest reads the store file and checks that neither an
// access key secret nor an MFA seed is in it in clear.
func TestSecretsSealedAtRest(t *testing.T) {
	f := newFixture(t)
	akid, secret, created, err := f.svc.Bootstrap(bg, "admin")
	must(t, err)
	if !created {
		t.Fatal("Bootstrap did not create")
	}
	k, err := f.svc.CreateAccessKey(bg, "admin")
	must(t, err)
	dev, err := f.svc.CreateVirtualMFADevice(bg, "phone", "", nil)
	must(t, err)

	raw, err := os.ReadFile(f.path)
	must(t, err)
	for name, s := range map[string]string{"bootstrap secret": secret, "key secret": k.Secret, "mfa seed": dev.Base32StringSeed} {
		if bytes.Contains(raw, []byte(s)) || bytes.Contains(raw, []byte(s[:20])) {
			t.Errorf("%s found in clear in the store file", name)
		}
	}
	if !bytes.Contains(raw, []byte(akid)) {
		t.Errorf("access key id not found in the store file: the check reads the wrong file")
	}
}
