package iam

import (
	"context"
	"time"
)

// bucketRoleUse holds, per role unique id, when and where the role was last
// used, apart from the role so that the role's record is not rewritten on
// use. A role deleted and created again under the same name is another
// role, with no use yet.
const bucketRoleUse = "iam.roleuse"

type roleUseRec struct {
	Date   time.Time `json:"date"`
	Region string    `json:"region"`
}

// RoleLastUsed tells when and in which region a role was last used
// (GetRole's RoleLastUsed).
type RoleLastUsed struct {
	Date   time.Time
	Region string
}

// RecordRoleUse notes that the role with unique id roleID was used now in
// region. A use within keyUseGranularity of the recorded one, in the same
// region, is not written again.
func (s *Service) RecordRoleUse(ctx context.Context, roleID, region string) error {
	now := s.timestamp()
	fresh := func(t *txn) (bool, error) {
		var use roleUseRec
		ok, err := t.get(bucketRoleUse, roleID, &use)
		if err != nil || !ok {
			return false, err
		}
		return use.Region == region && freshUse(use.Date, now), nil
	}
	return s.recordUse(ctx, fresh, func(t *txn) error {
		return t.put(bucketRoleUse, roleID, &roleUseRec{Date: now, Region: region})
	})
}

// freshUse reports whether a use recorded at date needs no new record at
// now: it is at most keyUseGranularity old (and not in the future).
func freshUse(date, now time.Time) bool {
	return !now.After(date.Add(keyUseGranularity)) && !now.Before(date)
}

// recordUse writes a use record unless fresh finds the recorded one fresh
// enough. It asks first in a read transaction, so that recording a use on
// every request costs one read, and again in the write transaction.
func (s *Service) recordUse(ctx context.Context, fresh func(*txn) (bool, error), write func(*txn) error) error {
	skip := false
	if err := s.view(ctx, func(t *txn) error {
		var err error
		skip, err = fresh(t)
		return err
	}); err != nil || skip {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		if ok, err := fresh(t); err != nil || ok {
			return err
		}
		return write(t)
	})
}

// GetRoleLastUsed returns the last recorded use of the role with unique id
// roleID, or nil if it was never used.
func (s *Service) GetRoleLastUsed(ctx context.Context, roleID string) (*RoleLastUsed, error) {
	return read(ctx, s, func(t *txn) (*RoleLastUsed, error) {
		var use roleUseRec
		ok, err := t.get(bucketRoleUse, roleID, &use)
		if !ok {
			return nil, err
		}
		return &RoleLastUsed{Date: use.Date, Region: use.Region}, err
	})
}
