package iam

import (
	"context"
	"errors"

	"github.com/shortfuse/shortfuse/internal/store"
)

// CreateUserInput is the input of CreateUser.
type CreateUserInput struct {
	Name string
	Path string // "" means "/"
	Tags []Tag
}

// CreateUser creates a user. Names are unique without regard to case.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*User, error) {
	if err := checkName(in.Name, "userName", maxUserName); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path, "path")
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	id, err := s.newID("AIDA")
	if err != nil {
		return nil, err
	}
	rec := &userRec{entity: entity{Name: in.Name, ID: id, Path: path, Created: s.timestamp()}, Tags: in.Tags}
	err = s.update(ctx, func(t *txn) error { return t.insertUser(rec) })
	if err != nil {
		return nil, err
	}
	return s.userOut(rec), nil
}

func (t *txn) insertUser(rec *userRec) error {
	return insertNew(t, bucketUsers, nameKey(rec.Name), rec, newErr(ErrEntityAlreadyExists, "User with name %s already exists.", rec.Name))
}

// GetUser returns the user with that name (without regard to case).
func (s *Service) GetUser(ctx context.Context, name string) (*User, error) {
	return readUser(ctx, s, name, s.userWithUse)
}

// userWithUse is the user with its password's last use.
func (s *Service) userWithUse(t *txn, rec *userRec) (*User, error) {
	u := s.userOut(rec)
	var err error
	u.PasswordLastUsed, err = t.passwordLastUsed(rec.ID)
	return u, err
}

// ListUsers returns the users whose path starts with pathPrefix ("" for
// all), ordered by name.
func (s *Service) ListUsers(ctx context.Context, pathPrefix string) ([]User, error) {
	return listByPath(ctx, s, bucketUsers, pathPrefix, func(r *userRec) string { return r.Path }, s.userWithUse)
}

// UpdateUser renames a user and/or changes its path; empty arguments leave
// the attribute as it is. Every reference to the user (groups, keys,
// attachments, MFA devices) follows the rename in the same transaction.
func (s *Service) UpdateUser(ctx context.Context, name, newName, newPath string) error {
	return s.renamePrincipal(ctx, KindUser, name, newName, newPath, func(t *txn, p *principal, oldKey, newKey string) error {
		return t.renameUserRefs(p.rec.(*userRec), oldKey, newKey)
	})
}

func (t *txn) renameUserRefs(rec *userRec, oldKey, newKey string) error {
	if err := modifyEach(t, bucketGroups, rec.Groups, func(g *groupRec) { g.Members = replace(g.Members, oldKey, newKey) }); err != nil {
		return err
	}
	if err := modifyEach(t, bucketKeys, rec.Keys, func(k *keyRec) { k.User = newKey }); err != nil {
		return err
	}
	for _, serial := range rec.MFA {
		m, key, err := t.mfa(serial)
		if err != nil {
			return err
		}
		m.User = newKey
		if err := t.put(bucketMFA, key, m); err != nil {
			return err
		}
	}
	return nil
}

// DeleteUser deletes a user that has no access keys, group memberships,
// inline or attached policies and MFA devices left: like IAM, it refuses
// with DeleteConflict rather than deleting them along.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	return s.deletePrincipal(ctx, KindUser, name, func(t *txn, p *principal) error {
		rec := p.rec.(*userRec)
		if len(rec.Keys) > 0 {
			return newErr(ErrDeleteConflict, "Cannot delete entity, must delete access keys first.")
		}
		if err := rec.holdsPolicies(); err != nil {
			return err
		}
		switch {
		case len(rec.Groups) > 0:
			return newErr(ErrDeleteConflict, "Cannot delete entity, must remove users from group first.")
		case len(rec.MFA) > 0:
			return newErr(ErrDeleteConflict, "Cannot delete entity, must delete MFA device first.")
		}
		if _, err := t.Get(bucketLogin, rec.ID); err == nil {
			return newErr(ErrDeleteConflict, "Cannot delete entity, must delete login profile first.")
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return t.del(bucketPasswordUse, rec.ID)
	})
}

// TagUser adds tags to a user, replacing the value of keys it already has.
func (s *Service) TagUser(ctx context.Context, name string, tags []Tag) error {
	return s.retag(ctx, KindUser, name, tagging(tags))
}

// UntagUser removes the tags with those keys; absent keys are ignored.
func (s *Service) UntagUser(ctx context.Context, name string, keys []string) error {
	return s.retag(ctx, KindUser, name, untagging(keys))
}
