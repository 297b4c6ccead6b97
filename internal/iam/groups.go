package iam

import (
	"context"
)

// CreateGroup creates a group; path "" means "/".
func (s *Service) CreateGroup(ctx context.Context, name, path string) (*Group, error) {
	if err := checkName(name, "groupName", maxGroupName); err != nil {
		return nil, err
	}
	path, err := checkPath(path, "path")
	if err != nil {
		return nil, err
	}
	id, err := s.newID("AGPA")
	if err != nil {
		return nil, err
	}
	rec := &groupRec{entity: entity{Name: name, ID: id, Path: path, Created: s.timestamp()}}
	err = s.update(ctx, func(t *txn) error {
		return insertNew(t, bucketGroups, nameKey(name), rec, newErr(ErrEntityAlreadyExists, "Group with name %s already exists.", name))
	})
	if err != nil {
		return nil, err
	}
	return s.groupOut(rec), nil
}

// GetGroup returns the group and its members, ordered by name.
func (s *Service) GetGroup(ctx context.Context, name string) (*Group, []User, error) {
	if err := checkName(name, "groupName", maxGroupName); err != nil {
		return nil, nil, err
	}
	var (
		g     *Group
		users []User
	)
	err := s.view(ctx, func(t *txn) error {
		rec, err := t.group(name)
		if err != nil {
			return err
		}
		g = s.groupOut(rec)
		users, err = mapRecs(t, bucketUsers, rec.Members, func(u *userRec) User { return *s.userOut(u) })
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	sortUsers(users)
	return g, users, nil
}

// ListGroups returns the groups whose path starts with pathPrefix, ordered
// by name.
func (s *Service) ListGroups(ctx context.Context, pathPrefix string) ([]Group, error) {
	return listByPath(ctx, s, bucketGroups, pathPrefix, func(r *groupRec) string { return r.Path }, func(_ *txn, r *groupRec) (*Group, error) {
		return s.groupOut(r), nil
	})
}

// UpdateGroup renames a group and/or changes its path; empty arguments leave
// the attribute as it is. Its members and attachments follow the rename.
func (s *Service) UpdateGroup(ctx context.Context, name, newName, newPath string) error {
	return s.renamePrincipal(ctx, KindGroup, name, newName, newPath, func(t *txn, p *principal, oldKey, newKey string) error {
		return modifyEach(t, bucketUsers, p.rec.(*groupRec).Members, func(u *userRec) { u.Groups = replace(u.Groups, oldKey, newKey) })
	})
}

// DeleteGroup deletes a group without members and policies.
func (s *Service) DeleteGroup(ctx context.Context, name string) error {
	return s.deletePrincipal(ctx, KindGroup, name, func(_ *txn, p *principal) error {
		if len(p.rec.(*groupRec).Members) > 0 {
			return newErr(ErrDeleteConflict, "Cannot delete entity, must remove users from group first.")
		}
		return p.h.holdsPolicies()
	})
}

// AddUserToGroup makes the user a member of the group; adding a member
// again changes nothing.
func (s *Service) AddUserToGroup(ctx context.Context, groupName, userName string) error {
	return s.changeMembership(ctx, groupName, userName, func(g *groupRec, u *userRec, gk, uk string) (bool, error) {
		if contains(u.Groups, gk) {
			return false, nil
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return false, newErr(ErrLimitExceeded, "Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		u.Groups = append(u.Groups, gk)
		if !contains(g.Members, uk) {
			g.Members = append(g.Members, uk)
		}
		return true, nil
	})
}

// RemoveUserFromGroup ends the user's membership of the group.
func (s *Service) RemoveUserFromGroup(ctx context.Context, groupName, userName string) error {
	return s.changeMembership(ctx, groupName, userName, func(g *groupRec, u *userRec, gk, uk string) (bool, error) {
		if !contains(u.Groups, gk) {
			return false, newErr(ErrNoSuchEntity, "User %s is not in group %s.", u.Name, g.Name)
		}
		u.Groups = remove(u.Groups, gk)
		g.Members = remove(g.Members, uk)
		return true, nil
	})
}

// changeMembership loads a group and a user in one transaction, lets fn
// change their records (gk and uk are their store keys), and saves both
// when fn reports a change.
func (s *Service) changeMembership(ctx context.Context, groupName, userName string, fn func(g *groupRec, u *userRec, gk, uk string) (bool, error)) error {
	if err := checkName(groupName, "groupName", maxGroupName); err != nil {
		return err
	}
	if err := checkName(userName, "userName", maxExistingUserName); err != nil {
		return err
	}
	return s.update(ctx, func(t *txn) error {
		g, err := t.group(groupName)
		if err != nil {
			return err
		}
		u, err := t.user(userName)
		if err != nil {
			return err
		}
		gk, uk := nameKey(g.Name), nameKey(u.Name)
		if changed, err := fn(g, u, gk, uk); err != nil || !changed {
			return err
		}
		if err := t.put(bucketUsers, uk, u); err != nil {
			return err
		}
		return t.put(bucketGroups, gk, g)
	})
}

// ListGroupsForUser returns the groups the user belongs to, ordered by name.
func (s *Service) ListGroupsForUser(ctx context.Context, userName string) ([]Group, error) {
	out, err := readUser(ctx, s, userName, func(t *txn, u *userRec) ([]Group, error) {
		return mapRecs(t, bucketGroups, u.Groups, func(g *groupRec) Group { return *s.groupOut(g) })
	})
	if err != nil {
		return nil, err
	}
	sortGroups(out)
	return out, nil
}
