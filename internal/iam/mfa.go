package iam

import (
	"bytes"
	"context"
	"crypto/subtle"
	"fmt"
	"image/png"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/seal"
)

// TOTP parameters of virtual MFA devices (RFC 6238 as authenticator apps
// use it): 30-second steps, six digits, HMAC-SHA1.
const (
	totpPeriod = 30
	seedBytes  = 40 // a 64-character base32 seed, as IAM's
	qrSize     = 256
)

// VirtualMFADevice is a virtual MFA device. Base32StringSeed and QRCodePNG
// are set only in the result of CreateVirtualMFADevice.
type VirtualMFADevice struct {
	SerialNumber     string
	Base32StringSeed string
	QRCodePNG        []byte
	User             *User // nil while unassigned
	EnableDate       time.Time
	CreateDate       time.Time
	Tags             []Tag
}

// MFADevice is an MFA device enabled for a user.
type MFADevice struct {
	UserName     string
	SerialNumber string
	EnableDate   time.Time
}

func mfaAAD(serial string) []byte { return seal.AAD("mfa-seed", serial) }

// mfa loads a device by serial number.
func (t *txn) mfa(serial string) (*mfaRec, string, error) {
	name := serial[strings.LastIndexByte(serial, '/')+1:]
	key := nameKey(name)
	if name == "" {
		return nil, "", noSuchMFA(serial)
	}
	rec, err := load(t, bucketMFA, key, func(r *mfaRec) bool { return sameEntityARN(r.Serial, serial) }, noSuchMFA, serial)
	if err != nil {
		return nil, "", err
	}
	return rec, key, nil
}

// CreateVirtualMFADevice creates an unassigned virtual MFA device and
// returns it with its seed, as base32 text and as a QR code PNG of the
// otpauth:// URL that authenticator apps scan. The seed is sealed at rest
// and never returned again.
func (s *Service) CreateVirtualMFADevice(ctx context.Context, name, path string, tags []Tag) (*VirtualMFADevice, error) {
	if err := checkName(name, "virtualMFADeviceName", maxMFAName); err != nil {
		return nil, err
	}
	path, err := checkPath(path, "path")
	if err != nil {
		return nil, err
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	raw := make([]byte, seedBytes)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return nil, fmt.Errorf("iam: read random: %w", err)
	}
	serial := s.MFASerial(path, name)
	if err := checkLen(serial, "serialNumber", 9, 256); err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      "shortfuse",
		AccountName: name + "@" + s.account,
		Period:      totpPeriod,
		Secret:      raw,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	clear(raw)
	if err != nil {
		return nil, fmt.Errorf("iam: make TOTP key: %w", err)
	}
	seed := key.Secret()
	img, err := key.Image(qrSize, qrSize)
	if err != nil {
		return nil, fmt.Errorf("iam: make QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, fmt.Errorf("iam: encode QR code: %w", err)
	}
	sealed, err := s.sealer.Seal([]byte(seed), mfaAAD(serial))
	if err != nil {
		return nil, fmt.Errorf("iam: seal MFA seed: %w", err)
	}
	rec := &mfaRec{Serial: serial, Name: name, Path: path, Seed: sealed, Created: s.timestamp(), Tags: tags}
	err = s.update(ctx, func(t *txn) error {
		return insertNew(t, bucketMFA, nameKey(name), rec, newErr(ErrEntityAlreadyExists, "MFADevice entity at the same path and name already exists."))
	})
	if err != nil {
		return nil, err
	}
	return &VirtualMFADevice{SerialNumber: serial, Base32StringSeed: seed, QRCodePNG: qr.Bytes(), CreateDate: rec.Created, Tags: tags}, nil
}

// totpCode returns the code of step counter for seed.
func totpCode(seed string, counter int64) (string, error) {
	return hotp.GenerateCodeCustom(seed, uint64(counter), hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// codeEqual compares codes in constant time.
func codeEqual(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

func (s *Service) step() int64 { return s.now().Unix() / totpPeriod }

func invalidCode() *Error {
	return newErr(ErrInvalidAuthenticationCode, "Authentication code for device is not valid.")
}

// EnableMFADevice assigns a virtual MFA device to a user. The two codes must
// be consecutive codes of the device, the second one from the current 30 s
// step or one step either side, which proves the user holds the seed.
func (s *Service) EnableMFADevice(ctx context.Context, userName, serial, code1, code2 string) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	if err := checkSerial(serial); err != nil {
		return err
	}
	if err := checkAuthCode(code1, "authenticationCode1"); err != nil {
		return err
	}
	if err := checkAuthCode(code2, "authenticationCode2"); err != nil {
		return err
	}
	now, step := s.timestamp(), s.step()
	return s.update(ctx, func(t *txn) error {
		u, m, key, err := t.userAndMFA(userName, serial)
		if err != nil {
			return err
		}
		if m.User != "" {
			return newErr(ErrEntityAlreadyExists, "MFA Device is already in use.")
		}
		if len(u.MFA) >= maxMFAPerUser {
			return newErr(ErrLimitExceeded, "Cannot exceed quota for MFADevicesPerUser: %d", maxMFAPerUser)
		}
		matched, err := s.matchCodes(m, step-2, step, m.LastCounter, code1, code2)
		if err != nil {
			return err
		}
		if matched < 0 {
			return invalidCode()
		}
		m.User, m.Enabled, m.LastCounter = nameKey(u.Name), now, matched
		u.MFA = append(u.MFA, m.Serial)
		if err := t.put(bucketMFA, key, m); err != nil {
			return err
		}
		return t.put(bucketUsers, nameKey(u.Name), u)
	})
}

// noSuchAssignedMFA is the error for a device that is not assigned to the
// user asked about.
func noSuchAssignedMFA(serial string) *Error {
	return newErr(ErrNoSuchEntity, "MFA Device with serial number %s does not exist.", serial)
}

// assignedUser loads the user device m (serial) is assigned to.
func (t *txn) assignedUser(m *mfaRec, serial string) (*userRec, error) {
	if m.User == "" {
		return nil, noSuchAssignedMFA(serial)
	}
	return load[userRec](t, bucketUsers, m.User, nil, noSuchAssignedMFA, serial)
}

// DeactivateMFADevice unassigns a device from its user; userName "" means
// whichever user it is assigned to. The device remains and can be enabled
// again.
func (s *Service) DeactivateMFADevice(ctx context.Context, userName, serial string) error {
	if userName != "" {
		if err := checkName(userName, "userName", maxExistingUserName); err != nil {
			return err
		}
	}
	return s.updateDevice(ctx, serial, func(t *txn, m *mfaRec, key string) error {
		var u *userRec
		if userName != "" {
			var err error
			if u, err = t.user(userName); err != nil {
				return err
			}
			if m.User != nameKey(u.Name) {
				return noSuchAssignedMFA(serial)
			}
		} else {
			var err error
			if u, err = t.assignedUser(m, serial); err != nil {
				return err
			}
		}
		u.MFA = remove(u.MFA, m.Serial)
		m.User, m.Enabled = "", time.Time{}
		if err := t.put(bucketMFA, key, m); err != nil {
			return err
		}
		return t.put(bucketUsers, nameKey(u.Name), u)
	})
}

// DeleteVirtualMFADevice deletes an unassigned virtual MFA device.
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, serial string) error {
	return s.updateDevice(ctx, serial, func(t *txn, m *mfaRec, key string) error {
		if m.User != "" {
			return newErr(ErrDeleteConflict, "MFA device is still assigned to a user; deactivate it first.")
		}
		return t.del(bucketMFA, key)
	})
}

// ListMFADevices returns the devices enabled for a user.
func (s *Service) ListMFADevices(ctx context.Context, userName string) ([]MFADevice, error) {
	return readUser(ctx, s, userName, func(t *txn, u *userRec) ([]MFADevice, error) {
		var out []MFADevice
		for _, serial := range u.MFA {
			m, _, err := t.mfa(serial)
			if err != nil {
				return out, err
			}
			out = append(out, MFADevice{UserName: u.Name, SerialNumber: m.Serial, EnableDate: m.Enabled})
		}
		return out, nil
	})
}

// ListVirtualMFADevices returns the virtual MFA devices with that
// assignment status ("Assigned", "Unassigned", or "Any"/""), ordered by
// serial number.
func (s *Service) ListVirtualMFADevices(ctx context.Context, status string) ([]VirtualMFADevice, error) {
	switch status {
	case "", "Any", "Assigned", "Unassigned":
	default:
		return nil, validationf(status, "assignmentStatus", "Member must satisfy enum value set: [Assigned, Unassigned, Any]")
	}
	out, err := read(ctx, s, func(t *txn) ([]VirtualMFADevice, error) {
		var out []VirtualMFADevice
		err := scanAll(t, bucketMFA, "", func(_ string, m *mfaRec) error {
			assigned := m.User != ""
			if status == "Assigned" && !assigned || status == "Unassigned" && assigned {
				return nil
			}
			d := VirtualMFADevice{SerialNumber: m.Serial, CreateDate: m.Created, Tags: m.Tags}
			if assigned {
				u := new(userRec)
				ok, err := t.get(bucketUsers, m.User, u)
				if err != nil {
					return err
				}
				if ok {
					d.User = s.userOut(u)
					d.EnableDate = m.Enabled
				}
			}
			out = append(out, d)
			return nil
		})
		return out, err
	})
	sort.Slice(out, func(i, j int) bool { return out[i].SerialNumber < out[j].SerialNumber })
	return out, err
}

// CheckMFA verifies a code of the user's enabled device serial: a TOTP code
// of the current 30 s step or one step either side. A code is accepted once:
// a step at or before the last one accepted for the device is refused, so a
// code seen by someone else cannot be replayed. It returns
// ErrInvalidAuthenticationCode for a wrong or replayed code and
// ErrNoSuchEntity if the user has no such enabled device.
func (s *Service) CheckMFA(ctx context.Context, userName, serial, code string) error {
	if checkName(userName, "userName", maxExistingUserName) != nil || checkSerial(serial) != nil {
		return noSuchAssignedMFA(fault.Printable(serial, 128))
	}
	if checkAuthCode(code, "tokenCode") != nil {
		return invalidCode()
	}
	step := s.step()
	return s.update(ctx, func(t *txn) error {
		u, m, key, err := t.userAndMFA(userName, serial)
		if err != nil {
			return err
		}
		if m.User != nameKey(u.Name) || !contains(u.MFA, m.Serial) {
			return noSuchAssignedMFA(serial)
		}
		matched, err := s.matchCodes(m, step-1, step+1, -1, code)
		if err != nil {
			return err
		}
		if matched < 0 || matched <= m.LastCounter {
			return invalidCode()
		}
		m.LastCounter = matched
		return t.put(bucketMFA, key, m)
	})
}

// MFADeviceUser returns the user a virtual MFA device is assigned to; it
// returns ErrNoSuchEntity if the device does not exist or is unassigned.
func (s *Service) MFADeviceUser(ctx context.Context, serial string) (*User, error) {
	if err := checkSerial(serial); err != nil {
		return nil, err
	}
	load := func(t *txn) (*userRec, error) {
		m, _, err := t.mfa(serial)
		if err != nil {
			return nil, err
		}
		return t.assignedUser(m, serial)
	}
	return readFrom(ctx, s, load, func(_ *txn, u *userRec) (*User, error) { return s.userOut(u), nil })
}

// updateDevice runs fn, in one write transaction, on the virtual MFA
// device serial and its key.
func (s *Service) updateDevice(ctx context.Context, serial string, fn func(t *txn, m *mfaRec, key string) error) error {
	if err := checkSerial(serial); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		m, key, err := t.mfa(serial)
		if err != nil {
			return err
		}
		return fn(t, m, key)
	})
}

// matchCodes finds the first counter c from first to last at which codes
// are the consecutive codes c, c+1, ... of device m, and returns the
// counter of the last code, or -1. A counter whose last code would be at
// or before after is not tried. Every other counter is, whether one
// matched already or not.
func (s *Service) matchCodes(m *mfaRec, first, last, after int64, codes ...string) (int64, error) {
	seed, err := s.sealer.Open(m.Seed, mfaAAD(m.Serial))
	if err != nil {
		return -1, fmt.Errorf("iam: open seed of MFA device: %w", err)
	}
	defer clear(seed)
	matched := int64(-1)
	for c := first; c <= last; c++ {
		end := c + int64(len(codes)) - 1
		if end <= after {
			continue
		}
		all := true
		for i, code := range codes {
			want, err := totpCode(string(seed), c+int64(i))
			if err != nil {
				return -1, err
			}
			if !codeEqual(want, code) {
				all = false
			}
		}
		if all && matched < 0 {
			matched = end
		}
	}
	return matched, nil
}

// userAndMFA loads a user and an MFA device (and the device's store key).
func (t *txn) userAndMFA(userName, serial string) (*userRec, *mfaRec, string, error) {
	u, err := t.user(userName)
	if err != nil {
		return nil, nil, "", err
	}
	m, key, err := t.mfa(serial)
	if err != nil {
		return nil, nil, "", err
	}
	return u, m, key, nil
}
