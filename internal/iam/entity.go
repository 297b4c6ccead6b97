package iam

import (
	"context"
	"strings"
)

// What users, groups and roles share is done once here, by kind: loading,
// reading and saving one (principal), listing them by path, renaming,
// deleting, tagging.

// principal is a user, group or role loaded for a change.
type principal struct {
	kind EntityKind
	key  string
	e    *entity
	tags *[]Tag // nil for groups, which have no tags
	h    *holder
	rec  any
}

// bucketOf is the bucket of the records of one kind of principal.
func bucketOf(kind EntityKind) string {
	switch kind {
	case KindUser:
		return bucketUsers
	case KindGroup:
		return bucketGroups
	}
	return bucketRoles
}

// noun is the kind as a message starts with it: "User".
func (k EntityKind) noun() string {
	s := k.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// newPrincipal is an empty record of that kind to load into; nil for an
// unknown kind.
func newPrincipal(kind EntityKind) *principal {
	p := &principal{kind: kind}
	switch kind {
	case KindUser:
		r := new(userRec)
		p.rec, p.e, p.h, p.tags = r, &r.entity, &r.holder, &r.Tags
	case KindGroup:
		r := new(groupRec)
		p.rec, p.e, p.h = r, &r.entity, &r.holder
	case KindRole:
		r := new(roleRec)
		p.rec, p.e, p.h, p.tags = r, &r.entity, &r.holder, &r.Tags
	default:
		return nil
	}
	return p
}

func (p *principal) save(t *txn) error { return t.put(bucketOf(p.kind), p.key, p.rec) }

// principalByKey loads a principal by its store key; ok is false if absent.
func (t *txn) principalByKey(kind EntityKind, key string) (*principal, bool, error) {
	p := newPrincipal(kind)
	if p == nil {
		return nil, false, nil
	}
	ok, err := t.get(bucketOf(kind), key, p.rec)
	if err != nil || !ok {
		return nil, false, err
	}
	p.key = key
	return p, true, nil
}

// principal loads a principal by name (without regard to case).
func (t *txn) principal(kind EntityKind, name string) (*principal, error) {
	if newPrincipal(kind) == nil {
		return nil, newErr(ErrInvalidInput, "Unknown entity kind.")
	}
	p, ok, err := t.principalByKey(kind, nameKey(name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, newErr(ErrNoSuchEntity, "The %s with name %s cannot be found.", kind, name)
	}
	return p, nil
}

// readPrincipal returns what fn makes of one user, group or role, in a
// read transaction.
func readPrincipal[T any](ctx context.Context, s *Service, kind EntityKind, name string, fn func(t *txn, p *principal) (T, error)) (T, error) {
	return readFrom(ctx, s, func(t *txn) (*principal, error) { return t.principal(kind, name) }, fn)
}

// readUser returns what fn makes of the user with that name, in a read
// transaction.
func readUser[T any](ctx context.Context, s *Service, userName string, fn func(t *txn, u *userRec) (T, error)) (T, error) {
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		var zero T
		return zero, err
	}
	return readFrom(ctx, s, func(t *txn) (*userRec, error) { return t.user(userName) }, fn)
}

// listByPath returns what out makes of each record in bucket (users,
// groups or roles) whose path starts with pathPrefix, ordered by name.
func listByPath[R, T any](ctx context.Context, s *Service, bucket, pathPrefix string, path func(*R) string, out func(t *txn, rec *R) (*T, error)) ([]T, error) {
	if err := CheckPathPrefix(pathPrefix); err != nil {
		return nil, err
	}
	return read(ctx, s, func(t *txn) ([]T, error) {
		var list []T
		err := scanAll(t, bucket, "", func(_ string, rec *R) error {
			if !strings.HasPrefix(path(rec), pathPrefix) {
				return nil
			}
			v, err := out(t, rec)
			if err != nil {
				return err
			}
			list = append(list, *v)
			return nil
		})
		return list, err
	})
}

// modifyPrincipal changes one user, group or role in a transaction.
func (s *Service) modifyPrincipal(ctx context.Context, kind EntityKind, name string, fn func(*principal) error) error {
	return modify(ctx, s, func(t *txn) (*principal, error) { return t.principal(kind, name) }, fn, (*principal).save)
}

// checkNewName validates the new name of a rename as the model's shape
// for that operation says.
func checkNewName(kind EntityKind, name string) error {
	if kind == KindUser {
		return checkName(name, "newUserName", maxUserName)
	}
	return checkName(name, "newGroupName", maxGroupName)
}

// renamePrincipal renames a user or group and/or changes its path; empty
// arguments leave the attribute as it is. The policies attached to it
// follow the rename, and moveRefs moves the other references to it, in the
// same transaction.
func (s *Service) renamePrincipal(ctx context.Context, kind EntityKind, name, newName, newPath string, moveRefs func(t *txn, p *principal, oldKey, newKey string) error) error {
	if err := checkEntityName(kind, name); err != nil {
		return err
	}
	if newName != "" {
		if err := checkNewName(kind, newName); err != nil {
			return err
		}
	}
	if newPath != "" {
		if _, err := checkPath(newPath, "newPath"); err != nil {
			return err
		}
	}
	return s.update(ctx, func(t *txn) error {
		p, err := t.principal(kind, name)
		if err != nil {
			return err
		}
		if newPath != "" {
			p.e.Path = newPath
		}
		oldKey, newKey := p.key, nameKey(newName)
		if newName == "" || newName == p.e.Name {
			return p.save(t)
		}
		if newKey != oldKey {
			if _, taken, err := t.principalByKey(kind, newKey); err != nil {
				return err
			} else if taken {
				return newErr(ErrEntityAlreadyExists, "%s with name %s already exists.", kind.noun(), newName)
			}
		}
		p.e.Name = newName
		if newKey == oldKey {
			return p.save(t)
		}
		if err := t.del(bucketOf(kind), oldKey); err != nil {
			return err
		}
		p.key = newKey
		if err := p.save(t); err != nil {
			return err
		}
		for _, arn := range p.h.Attached {
			if err := t.renameAttachment(arn, kind, oldKey, newKey); err != nil {
				return err
			}
		}
		return moveRefs(t, p, oldKey, newKey)
	})
}

// deletePrincipal deletes a user, group or role. before runs first in the
// same transaction: it refuses with DeleteConflict one that still holds
// something, and removes the records kept beside it.
func (s *Service) deletePrincipal(ctx context.Context, kind EntityKind, name string, before func(t *txn, p *principal) error) error {
	if err := checkEntityName(kind, name); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		p, err := t.principal(kind, name)
		if err != nil {
			return err
		}
		if err := before(t, p); err != nil {
			return err
		}
		return t.del(bucketOf(kind), p.key)
	})
}

// holdsPolicies refuses to delete a principal that still has policies.
func (h *holder) holdsPolicies() error {
	switch {
	case len(h.Inline) > 0:
		return newErr(ErrDeleteConflict, "Cannot delete entity, must delete policies first.")
	case len(h.Attached) > 0:
		return newErr(ErrDeleteConflict, "Cannot delete entity, must detach all policies first.")
	}
	return nil
}

// tagChange is what a Tag or Untag operation does to a resource's tags.
type tagChange struct {
	tags  []Tag
	keys  []string
	untag bool
}

func tagging(tags []Tag) tagChange      { return tagChange{tags: tags} }
func untagging(keys []string) tagChange { return tagChange{keys: keys, untag: true} }

// check validates the change's input, before any resource is loaded.
func (c tagChange) check() error {
	if c.untag {
		return checkTagKeys(c.keys)
	}
	if len(c.tags) == 0 {
		return validationNull("tags")
	}
	return checkTags(c.tags)
}

// apply makes the change: tags replace the value of keys already there;
// keys not there are ignored.
func (c tagChange) apply(have *[]Tag) error {
	if c.untag {
		*have = removeTags(*have, c.keys)
		return nil
	}
	merged, err := mergeTags(*have, c.tags)
	if err != nil {
		return err
	}
	*have = merged
	return nil
}

// retag makes a change to the tags of a user or role.
func (s *Service) retag(ctx context.Context, kind EntityKind, name string, c tagChange) error {
	if err := checkEntityName(kind, name); err != nil {
		return err
	}
	if err := c.check(); err != nil {
		return err
	}
	return s.modifyPrincipal(ctx, kind, name, func(p *principal) error { return c.apply(p.tags) })
}

// RenamedARN returns the ARN the user or group with that name would have
// after UpdateUser (UpdateGroup) with newName and newPath; an empty one
// keeps the attribute as it is.
func (s *Service) RenamedARN(ctx context.Context, kind EntityKind, name, newName, newPath string) (string, error) {
	if err := checkEntityName(kind, name); err != nil {
		return "", err
	}
	return readPrincipal(ctx, s, kind, name, func(_ *txn, p *principal) (string, error) {
		path, name := p.e.Path, p.e.Name
		if newName != "" {
			name = newName
		}
		if newPath != "" {
			path = newPath
		}
		return s.arn(kind.String(), path, name), nil
	})
}

// EntityARN returns the ARN of the user, group or role with that name. For
// one that does not exist, the error is ErrNoSuchEntity and the ARN is the
// one the name would have with the default path, "/": the resource a
// request about it is authorized on.
func (s *Service) EntityARN(ctx context.Context, kind EntityKind, name string) (string, error) {
	if err := checkEntityName(kind, name); err != nil {
		return "", err
	}
	arn, err := readPrincipal(ctx, s, kind, name, func(_ *txn, p *principal) (string, error) {
		return s.arn(kind.String(), p.e.Path, p.e.Name), nil
	})
	if err != nil {
		arn = s.arn(kind.String(), "/", name)
	}
	return arn, err
}

// EntityTags returns the tags of the user or role with that name (none
// for a group).
func (s *Service) EntityTags(ctx context.Context, kind EntityKind, name string) ([]Tag, error) {
	if err := checkEntityName(kind, name); err != nil {
		return nil, err
	}
	return readPrincipal(ctx, s, kind, name, func(_ *txn, p *principal) ([]Tag, error) {
		if p.tags == nil {
			return nil, nil
		}
		return append([]Tag(nil), *p.tags...), nil
	})
}
