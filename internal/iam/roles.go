package iam

import (
	"context"
	"errors"
	"strings"

	"github.com/shortfuse/shortfuse/internal/arn"
	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/policy"
)

// CreateRoleInput is the input of CreateRole.
type CreateRoleInput struct {
	Name                     string
	Path                     string // "" means "/"
	AssumeRolePolicyDocument string
	Description              string
	MaxSessionDuration       int32 // 0 means 3600
	Tags                     []Tag
}

func checkMaxSession(d int32) error {
	if d < minSessionDuration || d > maxSessionDuration {
		field := "maxSessionDuration"
		if d < minSessionDuration {
			return newErr(ErrValidation, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", d, field, minSessionDuration)
		}
		return newErr(ErrValidation, "1 validation error detected: Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", d, field, maxSessionDuration)
	}
	return nil
}

// checkTrust validates a trust policy document: the model's constraints,
// then the policy parser in its trust mode.
func (s *Service) checkTrust(doc, field string) error {
	if err := checkDocument(doc, field); err != nil {
		return err
	}
	_, err := s.parse(doc, policy.KindTrust)
	return err
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, in CreateRoleInput) (*Role, error) {
	if err := checkName(in.Name, "roleName", maxRoleName); err != nil {
		return nil, err
	}
	path, err := checkPath(in.Path, "path")
	if err != nil {
		return nil, err
	}
	if err := checkRoleDescription(in.Description); err != nil {
		return nil, err
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = defaultSessionDuration
	}
	if err := checkMaxSession(in.MaxSessionDuration); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	if err := s.checkTrust(in.AssumeRolePolicyDocument, "assumeRolePolicyDocument"); err != nil {
		return nil, err
	}
	id, err := s.newID("AROA")
	if err != nil {
		return nil, err
	}
	rec := &roleRec{
		entity: entity{Name: in.Name, ID: id, Path: path, Created: s.timestamp()}, Trust: in.AssumeRolePolicyDocument,
		Description: in.Description, MaxSession: in.MaxSessionDuration, Tags: in.Tags,
	}
	err = s.update(ctx, func(t *txn) error {
		return insertNew(t, bucketRoles, nameKey(in.Name), rec, newErr(ErrEntityAlreadyExists, "Role with name %s already exists.", in.Name))
	})
	if err != nil {
		return nil, err
	}
	return s.roleOut(rec), nil
}

// GetRole returns the role with that name (without regard to case).
func (s *Service) GetRole(ctx context.Context, name string) (*Role, error) {
	if err := checkName(name, "roleName", maxRoleName); err != nil {
		return nil, err
	}
	return readFrom(ctx, s, func(t *txn) (*roleRec, error) { return t.role(name) },
		func(_ *txn, rec *roleRec) (*Role, error) { return s.roleOut(rec), nil })
}

// GetRoleByARN returns the role whose ARN is roleARN: the account, the path
// and the name must all match (the name without regard to case, like every
// IAM name). Anything else is NoSuchEntity.
func (s *Service) GetRoleByARN(ctx context.Context, roleARN string) (*Role, error) {
	name, ok := s.nameFromARN(roleARN, "role")
	if !ok {
		return nil, newErr(ErrNoSuchEntity, "The role with ARN %s cannot be found.", fault.Printable(roleARN, 128))
	}
	r, err := s.GetRole(ctx, name)
	if errors.Is(err, ErrNoSuchEntity) || errors.Is(err, ErrValidation) {
		return nil, newErr(ErrNoSuchEntity, "The role with ARN %s cannot be found.", fault.Printable(roleARN, 128))
	}
	if err != nil {
		return nil, err
	}
	// The path must match exactly; the name, like every IAM name, without
	// regard to case.
	rest, ok := strings.CutPrefix(roleARN, "arn:aws:iam::"+s.account+":role"+r.Path)
	if !ok || !strings.EqualFold(rest, r.Name) {
		return nil, newErr(ErrNoSuchEntity, "The role with ARN %s cannot be found.", fault.Printable(roleARN, 128))
	}
	return r, nil
}

// nameFromARN returns the name of an IAM entity of this account from its
// ARN ("arn:aws:iam::ACCOUNT:TYPE/path/NAME").
func (s *Service) nameFromARN(a, resourceType string) (string, bool) {
	p, err := arn.Parse(a)
	if err != nil || p.Partition != "aws" || p.Service != "iam" || p.Region != "" || p.Account != s.account {
		return "", false
	}
	rest, ok := strings.CutPrefix(p.Resource, resourceType+"/")
	if !ok {
		return "", false
	}
	name := rest[strings.LastIndexByte(rest, '/')+1:]
	if name == "" {
		return "", false
	}
	return name, true
}

// ListRoles returns the roles whose path starts with pathPrefix, ordered by
// name.
func (s *Service) ListRoles(ctx context.Context, pathPrefix string) ([]Role, error) {
	return listByPath(ctx, s, bucketRoles, pathPrefix, func(r *roleRec) string { return r.Path }, func(_ *txn, r *roleRec) (*Role, error) {
		return s.roleOut(r), nil
	})
}

// UpdateRole changes a role's description (when description is not nil)
// and maximum session duration (when maxSession is not 0).
func (s *Service) UpdateRole(ctx context.Context, name string, description *string, maxSession int32) error {
	if err := checkName(name, "roleName", maxRoleName); err != nil {
		return err
	}
	if description != nil {
		if err := checkRoleDescription(*description); err != nil {
			return err
		}
	}
	if maxSession != 0 {
		if err := checkMaxSession(maxSession); err != nil {
			return err
		}
	}
	return s.modifyRole(ctx, name, func(rec *roleRec) {
		if description != nil {
			rec.Description = *description
		}
		if maxSession != 0 {
			rec.MaxSession = maxSession
		}
	})
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, name, doc string) error {
	if err := checkName(name, "roleName", maxRoleName); err != nil {
		return err
	}
	if err := s.checkTrust(doc, "policyDocument"); err != nil {
		return err
	}
	return s.modifyRole(ctx, name, func(rec *roleRec) { rec.Trust = doc })
}

// modifyRole changes one role in a transaction (modifyPrincipal).
func (s *Service) modifyRole(ctx context.Context, name string, fn func(*roleRec)) error {
	return s.modifyPrincipal(ctx, KindRole, name, func(p *principal) error {
		fn(p.rec.(*roleRec))
		return nil
	})
}

// DeleteRole deletes a role without inline or attached policies.
func (s *Service) DeleteRole(ctx context.Context, name string) error {
	return s.deletePrincipal(ctx, KindRole, name, func(t *txn, p *principal) error {
		if err := p.h.holdsPolicies(); err != nil {
			return err
		}
		return t.del(bucketRoleUse, p.e.ID)
	})
}

// TagRole adds tags to a role, replacing the value of keys it already has.
func (s *Service) TagRole(ctx context.Context, name string, tags []Tag) error {
	return s.retag(ctx, KindRole, name, tagging(tags))
}

// UntagRole removes the tags with those keys; absent keys are ignored.
func (s *Service) UntagRole(ctx context.Context, name string, keys []string) error {
	return s.retag(ctx, KindRole, name, untagging(keys))
}
