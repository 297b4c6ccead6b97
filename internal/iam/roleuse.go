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
		return use.Region == region && !now.After(use.Date.Add(keyUseGranularity)) && !now.Before(use.Date), nil
	}
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
		return t.put(bucketRoleUse, roleID, &roleUseRec{Date: now, Region: region})
	})
}

// GetRoleLastUsed returns the last recorded use of the role with unique id
// roleID, or nil if it was never used.
func (s *Service) GetRoleLastUsed(ctx context.Context, roleID string) (*RoleLastUsed, error) {
	var out *RoleLastUsed
	err := s.view(ctx, func(t *txn) error {
		var use roleUseRec
		ok, err := t.get(bucketRoleUse, roleID, &use)
		if ok {
			out = &RoleLastUsed{Date: use.Date, Region: use.Region}
		}
		return err
	})
	return out, err
}
