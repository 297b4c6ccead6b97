package iam

import (
	"bytes"
	"image/png"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// code returns the TOTP code of seed at t, as an authenticator app shows it.
func code(t *testing.T, seed string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(seed, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	must(t, err)
	return c
}

// mfaEnabled creates a device and enables it for user with the codes of
// the previous and the current step; it returns the serial.
func (f *fixture) mfaEnabled(t *testing.T, user, device string) string {
	t.Helper()
	d, err := f.svc.CreateVirtualMFADevice(bg, device, "", nil)
	must(t, err)
	now := f.clock.Now()
	must(t, f.svc.EnableMFADevice(bg, user, d.SerialNumber, code(t, d.Base32StringSeed, now.Add(-30*time.Second)), code(t, d.Base32StringSeed, now)))
	return d.SerialNumber
}

func TestCreateVirtualMFADevice(t *testing.T) {
	f := newFixture(t)
	d, err := f.svc.CreateVirtualMFADevice(bg, "phone", "/ci/", []Tag{{"k", "v"}})
	must(t, err)
	if d.SerialNumber != "arn:aws:iam::123456789012:mfa/ci/phone" || len(d.Base32StringSeed) != 64 {
		t.Errorf("device = %s seed length %d", d.SerialNumber, len(d.Base32StringSeed))
	}
	img, err := png.Decode(bytes.NewReader(d.QRCodePNG))
	must(t, err)
	if img.Bounds().Dx() != qrSize {
		t.Errorf("QR code is %d pixels wide, want %d", img.Bounds().Dx(), qrSize)
	}
	for _, tc := range []struct {
		name, dev, path string
		kind            error
	}{
		{"fail/exists-any-path", "PHONE", "/", ErrEntityAlreadyExists},
		{"fail/bad-name", "a b", "/", ErrValidation},
		{"fail/bad-path", "x", "nopath", ErrValidation},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := f.svc.CreateVirtualMFADevice(bg, tc.dev, tc.path, nil)
			wantErr(t, err, tc.kind, "")
		})
	}
}

// newMFAFixture is the world of the MFA tests: the users alice and bob and
// the virtual MFA device phone, whose seed and serial number it returns.
func newMFAFixture(t *testing.T) (f *fixture, seed, serial string) {
	t.Helper()
	f = newFixture(t)
	f.user(t, "alice")
	f.user(t, "bob")
	seed, serial = f.device(t, "phone")
	return f, seed, serial
}

func TestEnableMFADevice(t *testing.T) {
	f, seed, serial := newMFAFixture(t)
	now := f.clock.Now()
	at := func(steps int) string { return code(t, seed, now.Add(time.Duration(steps)*30*time.Second)) }

	tests := []struct {
		name         string
		user, serial string
		c1, c2       string
		kind         error
	}{
		{"fail/same-code-twice", "alice", serial, at(0), at(0), ErrInvalidAuthenticationCode},
		{"fail/reversed", "alice", serial, at(0), at(-1), ErrInvalidAuthenticationCode},
		{"fail/too-old", "alice", serial, at(-4), at(-3), ErrInvalidAuthenticationCode},
		{"fail/too-new", "alice", serial, at(2), at(3), ErrInvalidAuthenticationCode},
		{"fail/not-digits", "alice", serial, "12345a", at(0), ErrValidation},
		{"fail/short", "alice", serial, "12345", at(0), ErrValidation},
		{"fail/unknown-device", "alice", "arn:aws:iam::123456789012:mfa/tablet", at(-1), at(0), ErrNoSuchEntity},
		{"fail/serial-wrong-path", "alice", "arn:aws:iam::123456789012:mfa/x/phone", at(-1), at(0), ErrNoSuchEntity},
		{"fail/unknown-user", "carol", serial, at(-1), at(0), ErrNoSuchEntity},
		{"ok/previous-and-current", "alice", serial, at(-1), at(0), nil},
		{"fail/already-in-use", "bob", serial, at(0), at(1), ErrEntityAlreadyExists},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, f.svc.EnableMFADevice(bg, tc.user, tc.serial, tc.c1, tc.c2), tc.kind, "")
		})
	}
	devs, err := f.svc.ListMFADevices(bg, "alice")
	must(t, err)
	if len(devs) != 1 || devs[0].SerialNumber != serial || !devs[0].EnableDate.Equal(now) {
		t.Errorf("ListMFADevices = %+v", devs)
	}
}

func TestCheckMFA(t *testing.T) {
	f, seed, serial := newMFAFixture(t)
	t0 := f.clock.Now()
	must(t, f.svc.EnableMFADevice(bg, "alice", serial, code(t, seed, t0.Add(-30*time.Second)), code(t, seed, t0)))
	other, err := f.svc.CreateVirtualMFADevice(bg, "spare", "", nil)
	must(t, err)

	step := func(n int) time.Time { return t0.Add(time.Duration(n) * 30 * time.Second) }
	tests := []struct {
		name   string
		now    time.Time // the broker's clock
		codeAt time.Time // the authenticator's clock
		user   string
		serial string
		kind   error
	}{
		{"fail/enable-code-replayed", step(0), step(0), "alice", serial, ErrInvalidAuthenticationCode},
		{"ok/next-step", step(1), step(1), "alice", serial, nil},
		{"fail/replay-same-step", step(1).Add(10 * time.Second), step(1), "alice", serial, ErrInvalidAuthenticationCode},
		{"ok/authenticator-one-step-ahead", step(3), step(4), "alice", serial, nil},
		{"fail/older-step-after-newer", step(4), step(3), "alice", serial, ErrInvalidAuthenticationCode},
		{"ok/authenticator-one-step-behind", step(6), step(5), "alice", serial, nil},
		{"fail/two-steps-behind", step(10), step(8), "alice", serial, ErrInvalidAuthenticationCode},
		{"fail/two-steps-ahead", step(10), step(12), "alice", serial, ErrInvalidAuthenticationCode},
		{"fail/other-user", step(20), step(20), "bob", serial, ErrNoSuchEntity},
		{"fail/unassigned-device", step(20), step(20), "alice", other.SerialNumber, ErrNoSuchEntity},
		{"fail/unknown-serial", step(20), step(20), "alice", "arn:aws:iam::123456789012:mfa/none", ErrNoSuchEntity},
		{"fail/unknown-user", step(20), step(20), "nobody", serial, ErrNoSuchEntity},
		{"fail/garbage-serial", step(20), step(20), "alice", "x", ErrNoSuchEntity},
		{"ok/after-failures", step(20), step(20), "alice", serial, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f.clock.Set(tc.now)
			wantErr(t, f.svc.CheckMFA(bg, tc.user, tc.serial, code(t, seed, tc.codeAt)), tc.kind, "")
		})
	}
	t.Run("fail/malformed-code", func(t *testing.T) {
		wantErr(t, f.svc.CheckMFA(bg, "alice", serial, "abcdef"), ErrInvalidAuthenticationCode, "")
	})
}

func TestDeactivateAndDeleteMFA(t *testing.T) {
	f := newFixture(t)
	f.user(t, "alice")
	f.user(t, "bob")
	serial := f.mfaEnabled(t, "alice", "phone")
	spare, err := f.svc.CreateVirtualMFADevice(bg, "spare", "", nil)
	must(t, err)

	for _, tc := range []struct {
		status string
		want   int
	}{{"Any", 2}, {"", 2}, {"Assigned", 1}, {"Unassigned", 1}} {
		ds, err := f.svc.ListVirtualMFADevices(bg, tc.status)
		must(t, err)
		if len(ds) != tc.want {
			t.Errorf("ListVirtualMFADevices(%q) = %d devices, want %d", tc.status, len(ds), tc.want)
		}
		for _, d := range ds {
			if d.Base32StringSeed != "" || d.QRCodePNG != nil {
				t.Errorf("ListVirtualMFADevices revealed a seed")
			}
			if (d.User != nil) != (d.SerialNumber == serial) {
				t.Errorf("device %s user = %+v", d.SerialNumber, d.User)
			}
		}
	}

	runSteps(t, []step{
		{"fail/list-bad-status", func() error { _, err := f.svc.ListVirtualMFADevices(bg, "Some"); return err }, ErrValidation, ""},
		{"fail/delete-assigned", func() error { return f.svc.DeleteVirtualMFADevice(bg, serial) }, ErrDeleteConflict, ""},
		{"fail/deactivate-other-user", func() error { return f.svc.DeactivateMFADevice(bg, "bob", serial) }, ErrNoSuchEntity, ""},
		{"fail/deactivate-unassigned", func() error { return f.svc.DeactivateMFADevice(bg, "", spare.SerialNumber) }, ErrNoSuchEntity, ""},
		{"ok/deactivate-without-user", func() error { return f.svc.DeactivateMFADevice(bg, "", serial) }, nil, ""},
		{"fail/check-after-deactivate", func() error {
			return f.svc.CheckMFA(bg, "alice", serial, "123456")
		}, ErrNoSuchEntity, ""},
		{"ok/delete", func() error { return f.svc.DeleteVirtualMFADevice(bg, serial) }, nil, ""},
		{"fail/delete-again", func() error { return f.svc.DeleteVirtualMFADevice(bg, serial) }, ErrNoSuchEntity, ""},
		{"ok/delete-user", func() error { return f.svc.DeleteUser(bg, "alice") }, nil, ""},
	})
}

func TestBootstrap(t *testing.T) {
	f := newFixture(t)
	akid, secret, created, err := f.svc.Bootstrap(bg, "admin")
	must(t, err)
	if !created || !reAKID.MatchString(akid) || !reSecret.MatchString(secret) {
		t.Fatalf("Bootstrap = %q, created %v", akid, created)
	}
	u, got, active, err := f.svc.LookupAccessKey(bg, akid)
	must(t, err)
	if u.Name != "admin" || got != secret || !active {
		t.Errorf("LookupAccessKey = %s, active %v", u.Name, active)
	}
	pols, err := f.svc.UserPolicies(bg, "admin")
	must(t, err)
	if len(pols) != 1 || pols[0].ID != AdministratorAccessARN {
		t.Errorf("admin policies = %+v", pols)
	}
	for _, name := range []string{"admin", "other"} {
		akid2, secret2, created2, err := f.svc.Bootstrap(bg, name)
		must(t, err)
		if created2 || akid2 != "" || secret2 != "" {
			t.Errorf("Bootstrap(%q) again = %q, created %v", name, akid2, created2)
		}
	}
	keys, err := f.svc.ListAccessKeys(bg, "admin")
	must(t, err)
	if len(keys) != 1 {
		t.Errorf("admin has %d keys after repeated Bootstrap, want 1", len(keys))
	}
	p, err := f.svc.GetPolicy(bg, AdministratorAccessARN)
	must(t, err)
	if p.AttachmentCount != 1 || !p.AWSManaged {
		t.Errorf("AdministratorAccess = %+v", p)
	}
	_, _, _, err = f.svc.Bootstrap(bg, "bad name")
	wantErr(t, err, ErrValidation, "")
}
