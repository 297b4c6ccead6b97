package iam

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/shortfuse/shortfuse/internal/seal"
	"github.com/shortfuse/shortfuse/internal/store"
)

// Access key statuses.
const (
	StatusActive   = "Active"
	StatusInactive = "Inactive"
)

// AccessKey is an access key's metadata. Secret is set only in the result
// of CreateAccessKey, the one time IAM reveals it.
type AccessKey struct {
	UserName   string
	ID         string
	Status     string
	CreateDate time.Time
	Secret     string
}

// KeyLastUsed tells when and where an access key was last used. Used is
// false for a key never used.
type KeyLastUsed struct {
	UserName string
	UserARN  string
	Used     bool
	Date     time.Time
	Service  string
	Region   string
}

// keyUseGranularity bounds how often RecordKeyUse writes: a use within this
// long of the recorded one, for the same service and region, is not
// written again. IAM itself documents last-used data as approximate.
const keyUseGranularity = time.Minute

func keyAAD(akid string) []byte { return seal.AAD("access-key", akid) }

// newSecret returns a 40-character secret access key (30 random bytes in
// standard base64, the alphabet of AWS's secrets).
func (s *Service) newSecret() (string, error) {
	var b [30]byte
	if _, err := io.ReadFull(s.rand, b[:]); err != nil {
		return "", fmt.Errorf("iam: read random: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// mintKey draws a new key id and secret and seals the secret. It runs before
// the transaction, which may be re-run.
func (s *Service) mintKey() (akid, secret string, sealed []byte, err error) {
	if akid, err = s.newID("AKIA"); err != nil {
		return "", "", nil, err
	}
	if secret, err = s.newSecret(); err != nil {
		return "", "", nil, err
	}
	sealed, err = s.sealer.Seal([]byte(secret), keyAAD(akid))
	if err != nil {
		return "", "", nil, fmt.Errorf("iam: seal access key: %w", err)
	}
	return akid, secret, sealed, nil
}

// CreateAccessKey creates an active access key for the user; a user has at
// most two. The result carries the secret, which is never returned again.
func (s *Service) CreateAccessKey(ctx context.Context, userName string) (*AccessKey, error) {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return nil, err
	}
	akid, secret, sealed, err := s.mintKey()
	if err != nil {
		return nil, err
	}
	created := s.timestamp()
	var name string
	err = s.update(ctx, func(t *txn) error {
		u, err := t.user(userName)
		if err != nil {
			return err
		}
		name = u.Name
		return t.addKey(u, &keyRec{ID: akid, Secret: sealed, Status: StatusActive, Created: created})
	})
	if err != nil {
		return nil, err
	}
	return &AccessKey{UserName: name, ID: akid, Status: StatusActive, CreateDate: created, Secret: secret}, nil
}

func (t *txn) addKey(u *userRec, k *keyRec) error {
	if len(u.Keys) >= maxKeysPerUser {
		return newErr(ErrLimitExceeded, "Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
	}
	k.User = nameKey(u.Name)
	b, err := jsonBytes(k)
	if err != nil {
		return err
	}
	if err := t.Insert(bucketKeys, k.ID, b); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("iam: access key id collision")
		}
		return err
	}
	u.Keys = append(u.Keys, k.ID)
	return t.put(bucketUsers, nameKey(u.Name), u)
}

// ListAccessKeys returns the user's keys (without secrets) in creation order.
func (s *Service) ListAccessKeys(ctx context.Context, userName string) ([]AccessKey, error) {
	return readUser(ctx, s, userName, func(t *txn, u *userRec) ([]AccessKey, error) {
		return mapRecs(t, bucketKeys, u.Keys, func(k *keyRec) AccessKey {
			return AccessKey{UserName: u.Name, ID: k.ID, Status: k.Status, CreateDate: k.Created}
		})
	})
}

// userKey loads the user and its key akid, failing with NoSuchEntity if the
// key does not belong to the user.
func (t *txn) userKey(userName, akid string) (*userRec, *keyRec, error) {
	u, err := t.user(userName)
	if err != nil {
		return nil, nil, err
	}
	k, err := load(t, bucketKeys, akid, func(k *keyRec) bool { return k.User == nameKey(u.Name) }, noSuchAccessKey, akid)
	if err != nil {
		return nil, nil, err
	}
	return u, k, nil
}

// UpdateAccessKey sets a key's status to Active or Inactive.
func (s *Service) UpdateAccessKey(ctx context.Context, userName, akid, status string) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	if err := checkAccessKeyID(akid); err != nil {
		return err
	}
	switch status {
	case StatusActive, StatusInactive:
	case "":
		return validationNull("status")
	case "Expired":
		return newErr(ErrInvalidInput, "Access key status cannot be set to Expired.")
	default:
		return validationf(status, "status", "Member must satisfy enum value set: [Active, Inactive, Expired]")
	}
	return s.update(ctx, func(t *txn) error {
		_, k, err := t.userKey(userName, akid)
		if err != nil {
			return err
		}
		k.Status = status
		return t.put(bucketKeys, akid, k)
	})
}

// DeleteAccessKey deletes one of the user's keys.
func (s *Service) DeleteAccessKey(ctx context.Context, userName, akid string) error {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	if err := checkAccessKeyID(akid); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		u, _, err := t.userKey(userName, akid)
		if err != nil {
			return err
		}
		u.Keys = remove(u.Keys, akid)
		if err := t.put(bucketUsers, nameKey(u.Name), u); err != nil {
			return err
		}
		if err := t.del(bucketKeyUse, akid); err != nil {
			return err
		}
		return t.del(bucketKeys, akid)
	})
}

// AccessKeyOwner returns the user an access key belongs to.
func (s *Service) AccessKeyOwner(ctx context.Context, akid string) (*User, error) {
	if checkAccessKeyID(akid) != nil {
		return nil, noSuchAccessKey(akid)
	}
	return readFrom(ctx, s, keyUser(akid), func(_ *txn, u *userRec) (*User, error) { return s.userOut(u), nil })
}

// keyUser loads the user access key akid belongs to.
func keyUser(akid string) func(*txn) (*userRec, error) {
	return func(t *txn) (*userRec, error) {
		_, u, err := t.keyAndUser(akid)
		return u, err
	}
}

// GetAccessKeyLastUsed returns when, where and by whom the key was last
// used.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, akid string) (*KeyLastUsed, error) {
	if err := checkAccessKeyID(akid); err != nil {
		return nil, err
	}
	return readFrom(ctx, s, keyUser(akid), func(t *txn, u *userRec) (*KeyLastUsed, error) {
		out := &KeyLastUsed{UserName: u.Name, UserARN: s.UserARN(u.Path, u.Name)}
		var use keyUseRec
		ok, err := t.get(bucketKeyUse, akid, &use)
		if ok {
			out.Used, out.Date, out.Service, out.Region = true, use.Date, use.Service, use.Region
		}
		return out, err
	})
}

func (t *txn) keyAndUser(akid string) (*keyRec, *userRec, error) {
	k := new(keyRec)
	ok, err := t.get(bucketKeys, akid, k)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, noSuchAccessKey(akid)
	}
	u := new(userRec)
	ok, err = t.get(bucketUsers, k.User, u)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, noSuchAccessKey(akid)
	}
	return k, u, nil
}

// LookupAccessKey returns the user owning the key, the key's secret and
// whether the key is active. It returns ErrNoSuchEntity for a key that does
// not exist (or whose id could not be one). It is on the path of every
// request signed with a long-term key: two record reads and one AES-GCM
// open.
func (s *Service) LookupAccessKey(ctx context.Context, akid string) (user *User, secret string, active bool, err error) {
	if checkAccessKeyID(akid) != nil {
		return nil, "", false, noSuchAccessKey(akid)
	}
	var (
		k *keyRec
		u *userRec
	)
	err = s.view(ctx, func(t *txn) error {
		var err error
		k, u, err = t.keyAndUser(akid)
		return err
	})
	if err != nil {
		return nil, "", false, err
	}
	plain, err := s.sealer.Open(k.Secret, keyAAD(akid))
	if err != nil {
		return nil, "", false, fmt.Errorf("iam: open secret of access key %s: %w", akid, err)
	}
	return s.userOut(u), string(plain), k.Status == StatusActive, nil
}

// RecordKeyUse notes that the key was used now for service in region. Uses
// within a minute of the recorded one, for the same service and region, are
// not written again, so calling it on every request costs one read. It is
// safe to call asynchronously; an unknown key is not an error.
func (s *Service) RecordKeyUse(ctx context.Context, akid, service, region string) error {
	if checkAccessKeyID(akid) != nil {
		return nil
	}
	now := s.timestamp()
	fresh := func(t *txn) (bool, error) {
		var use keyUseRec
		ok, err := t.get(bucketKeyUse, akid, &use)
		if err != nil || !ok {
			return false, err
		}
		return use.Service == service && use.Region == region && freshUse(use.Date, now), nil
	}
	return s.recordUse(ctx, fresh, func(t *txn) error {
		if _, err := t.Get(bucketKeys, akid); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		return t.put(bucketKeyUse, akid, &keyUseRec{Date: now, Service: service, Region: region})
	})
}
