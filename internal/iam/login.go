package iam

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Login profiles: an IAM user's password, for the broker's approval page
// (CreateLoginProfile, GetLoginProfile, UpdateLoginProfile,
// DeleteLoginProfile, ChangePassword).
//
// A password is stored only as an Argon2id hash (RFC 9106) with a random
// 16-byte salt and the parameters it was made with, so that stronger
// parameters can be adopted without invalidating stored hashes. Records
// are keyed by the user's unique id, not its name: a user deleted and
// created again under the same name does not inherit the old password,
// and a rename keeps it.

const bucketLogin = "iam.login" // user id → loginRec

// Password policy.
const (
	MinPasswordLength = 14
	MaxPasswordLength = 128
)

// ErrWrongPassword is returned by CheckPassword for a wrong password, an
// unknown user or a user without a login profile alike.
var ErrWrongPassword = errors.New("wrong user name or password")

// LoginProfile is the public part of a login profile.
type LoginProfile struct {
	UserName              string
	CreateDate            time.Time
	PasswordResetRequired bool
}

// argonParams are the cost parameters of one hash.
type argonParams struct {
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
}

// defaultArgon is the second configuration OWASP recommends for Argon2id
// (19 MiB, 2 passes, 1 lane): tens of milliseconds per guess on a server
// core. Tests lower it through an export_test hook.
var defaultArgon = argonParams{Time: 2, Memory: 19 * 1024, Threads: 1}

// hashSlots bounds concurrent hashing, so that a burst of sign-in attempts
// cannot make the broker allocate without limit.
var hashSlots = make(chan struct{}, 4)

type loginRec struct {
	UserID        string      `json:"user"`
	Created       time.Time   `json:"created"`
	ResetRequired bool        `json:"reset,omitempty"`
	Params        argonParams `json:"params"`
	Salt          []byte      `json:"salt"`
	Hash          []byte      `json:"hash"`
}

func argonHash(password string, salt []byte, p argonParams) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, 32)
}

func (s *Service) newLoginRec(userID, password string, reset bool) (*loginRec, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(s.rand, salt); err != nil {
		return nil, fmt.Errorf("iam: read random: %w", err)
	}
	return &loginRec{
		UserID: userID, Created: s.timestamp(), ResetRequired: reset,
		Params: defaultArgon, Salt: salt, Hash: argonHash(password, salt, defaultArgon),
	}, nil
}

func (r *loginRec) matches(password string) bool {
	got := argonHash(password, r.Salt, r.Params)
	return subtle.ConstantTimeCompare(got, r.Hash) == 1
}

// CheckPasswordPolicy applies the broker's password policy: 14 to 128
// characters of the set IAM's passwordType allows (tab, newline, carriage
// return and U+0020 to U+00FF), not the user name.
func CheckPasswordPolicy(userName, password string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return newErr(ErrPasswordPolicyViolation, "Password does not conform to the account password policy: it must have at least %d characters.", MinPasswordLength)
	}
	if n > MaxPasswordLength {
		return newErr(ErrPasswordPolicyViolation, "Password does not conform to the account password policy: it must have at most %d characters.", MaxPasswordLength)
	}
	if !utf8.ValidString(password) {
		return newErr(ErrPasswordPolicyViolation, "Password does not conform to the account password policy: it must be valid UTF-8.")
	}
	for _, r := range password {
		if !(r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xff)) {
			return newErr(ErrPasswordPolicyViolation, "Password does not conform to the account password policy: it may contain only characters from U+0020 to U+00FF, tab and line breaks.")
		}
	}
	if strings.EqualFold(password, userName) {
		return newErr(ErrPasswordPolicyViolation, "Password does not conform to the account password policy: it must not be the user name.")
	}
	return nil
}

func noSuchLogin(name string) *Error {
	return newErr(ErrNoSuchEntity, "Login Profile for User %s cannot be found.", name)
}

func (t *txn) login(u *userRec) (*loginRec, error) {
	return load(t, bucketLogin, u.ID, func(r *loginRec) bool { return r.UserID == u.ID }, noSuchLogin, u.Name)
}

// userLogin returns the user userName names and its login profile.
func (t *txn) userLogin(userName string) (*userRec, *loginRec, error) {
	u, err := t.user(userName)
	if err != nil {
		return nil, nil, err
	}
	rec, err := t.login(u)
	if err != nil {
		return nil, nil, err
	}
	return u, rec, nil
}

func profileOut(u *userRec, r *loginRec) *LoginProfile {
	return &LoginProfile{UserName: u.Name, CreateDate: r.Created, PasswordResetRequired: r.ResetRequired}
}

// CreateLoginProfile gives a user a password.
func (s *Service) CreateLoginProfile(ctx context.Context, userName, password string, resetRequired bool) (*LoginProfile, error) {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return nil, err
	}
	if err := CheckPasswordPolicy(userName, password); err != nil {
		return nil, err
	}
	var userID string
	if err := s.view(ctx, func(t *txn) error {
		u, err := t.user(userName)
		if err != nil {
			return err
		}
		userID = u.ID
		return nil
	}); err != nil {
		return nil, err
	}
	// The slow hash is made outside the transaction.
	rec, err := s.newLoginRec(userID, password, resetRequired)
	if err != nil {
		return nil, err
	}
	var out *LoginProfile
	err = s.update(ctx, func(t *txn) error {
		u, err := t.user(userName)
		if err != nil {
			return err
		}
		if u.ID != userID {
			return noSuchUser(userName)
		}
		if _, err := t.login(u); err == nil {
			return newErr(ErrEntityAlreadyExists, "Login Profile for user %s already exists.", u.Name)
		}
		if err := t.put(bucketLogin, u.ID, rec); err != nil {
			return err
		}
		out = profileOut(u, rec)
		return nil
	})
	return out, err
}

// GetLoginProfile returns a user's login profile (never the hash).
func (s *Service) GetLoginProfile(ctx context.Context, userName string) (*LoginProfile, error) {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return nil, err
	}
	return read(ctx, s, func(t *txn) (*LoginProfile, error) {
		u, rec, err := t.userLogin(userName)
		if err != nil {
			return nil, err
		}
		return profileOut(u, rec), nil
	})
}

// UpdateLoginProfile sets a new password (if password is not nil) and/or
// the reset flag (if resetRequired is not nil).
func (s *Service) UpdateLoginProfile(ctx context.Context, userName string, password *string, resetRequired *bool) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	if password != nil {
		if err := CheckPasswordPolicy(userName, *password); err != nil {
			return err
		}
	}
	var fresh *loginRec
	if password != nil {
		var userID string
		if err := s.view(ctx, func(t *txn) error {
			u, _, err := t.userLogin(userName)
			if err != nil {
				return err
			}
			userID = u.ID
			return nil
		}); err != nil {
			return err
		}
		var err error
		if fresh, err = s.newLoginRec(userID, *password, false); err != nil {
			return err
		}
	}
	return s.update(ctx, func(t *txn) error {
		u, rec, err := t.userLogin(userName)
		if err != nil {
			return err
		}
		if fresh != nil {
			if fresh.UserID != u.ID {
				return noSuchUser(userName)
			}
			rec.Params, rec.Salt, rec.Hash = fresh.Params, fresh.Salt, fresh.Hash
		}
		if resetRequired != nil {
			rec.ResetRequired = *resetRequired
		}
		return t.put(bucketLogin, u.ID, rec)
	})
}

// DeleteLoginProfile removes a user's password.
func (s *Service) DeleteLoginProfile(ctx context.Context, userName string) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		u, _, err := t.userLogin(userName)
		if err != nil {
			return err
		}
		return t.del(bucketLogin, u.ID)
	})
}

// dummyLogin is hashed against when the user or the profile does not
// exist, so that a refusal takes as long either way.
var dummyLogin = &loginRec{Params: defaultArgon, Salt: make([]byte, 16), Hash: make([]byte, 32)}

// CheckPassword verifies a user's password. It returns ErrWrongPassword
// whether the user is unknown, has no login profile or gave a wrong
// password, after the same amount of hashing.
func (s *Service) CheckPassword(ctx context.Context, userName, password string) (*LoginProfile, error) {
	var (
		rec *loginRec
		u   *userRec
	)
	if checkName(userName, "userName", maxExistingUserName) == nil && len(password) <= 4*MaxPasswordLength {
		err := s.view(ctx, func(t *txn) error {
			var err error
			if u, err = t.user(userName); err != nil {
				return err
			}
			rec, err = t.login(u)
			return err
		})
		if err != nil && !errors.Is(err, ErrNoSuchEntity) {
			return nil, err
		}
	}
	if rec == nil {
		d := *dummyLogin
		d.Params = defaultArgon
		d.matches(password)
		return nil, ErrWrongPassword
	}
	if !rec.matches(password) {
		return nil, ErrWrongPassword
	}
	return profileOut(u, rec), nil
}

// ChangePassword is a user changing their own password: the old one must
// match. It clears the reset flag.
func (s *Service) ChangePassword(ctx context.Context, userName, oldPassword, newPassword string) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	if err := CheckPasswordPolicy(userName, newPassword); err != nil {
		return err
	}
	if oldPassword == newPassword {
		return newErr(ErrPasswordPolicyViolation, "Password does not conform to the account password policy: the new password must differ from the old one.")
	}
	if _, err := s.CheckPassword(ctx, userName, oldPassword); err != nil {
		if errors.Is(err, ErrWrongPassword) {
			return newErr(ErrInvalidInput, "The old password is not correct.")
		}
		return err
	}
	f := false
	return s.UpdateLoginProfile(ctx, userName, &newPassword, &f)
}
