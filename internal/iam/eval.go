package iam

import (
	"context"
	"strings"

	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/policy"
)

// Source policy types, as IAM's policy simulator names them
// (PolicySourceType).
const (
	SourceUser        = "user"
	SourceGroup       = "group"
	SourceRole        = "role"
	SourceAWSManaged  = "aws-managed"
	SourceUserManaged = "user-managed"
)

// SourcePolicy is one identity policy in force for a principal.
type SourcePolicy struct {
	// ID is the inline policy's name or the managed policy's ARN.
	ID   string
	Type string // SourceUser, SourceGroup, SourceRole, SourceAWSManaged, SourceUserManaged
	// Document is the text as stored; Policy its parsed form.
	Document string
	Policy   *policy.Policy
}

// collector gathers a principal's policies, each managed policy once.
type collector struct {
	s    *Service
	t    *txn
	seen map[string]bool
	out  []SourcePolicy
}

func (c *collector) inline(h *holder, typ string) error {
	for _, ip := range h.Inline {
		p, err := c.s.parse(ip.Document, policy.KindIdentity)
		if err != nil {
			return err
		}
		c.out = append(c.out, SourcePolicy{ID: ip.Name, Type: typ, Document: ip.Document, Policy: p})
	}
	return nil
}

func (c *collector) attached(h *holder) error {
	for _, a := range h.Attached {
		if c.seen[a] {
			continue
		}
		c.seen[a] = true
		rec, _, err := c.t.policy(c.s, a)
		if err != nil {
			return err
		}
		doc := rec.defaultDocument()
		p, err := c.s.parse(doc, policy.KindIdentity)
		if err != nil {
			return err
		}
		typ := SourceUserManaged
		if strings.HasPrefix(a, "arn:aws:iam::aws:") {
			typ = SourceAWSManaged
		}
		c.out = append(c.out, SourcePolicy{ID: a, Type: typ, Document: doc, Policy: p})
	}
	return nil
}

// holder gathers the inline, then the attached policies of a user, group
// or role; typ is its source type.
func (c *collector) holder(h *holder, typ string) error {
	if err := c.inline(h, typ); err != nil {
		return err
	}
	return c.attached(h)
}

// principal gathers the policies of a user, group or role, and then a
// user's groups' policies.
func (c *collector) principal(p *principal) error {
	if err := c.holder(p.h, p.kind.String()); err != nil {
		return err
	}
	u, ok := p.rec.(*userRec)
	if !ok {
		return nil
	}
	return eachRec(c.t, bucketGroups, u.Groups, func(_ string, g *groupRec) error { return c.holder(&g.holder, SourceGroup) })
}

func (s *Service) collect(ctx context.Context, fn func(*collector) error) ([]SourcePolicy, error) {
	var out []SourcePolicy
	err := s.view(ctx, func(t *txn) error {
		c := &collector{s: s, t: t, seen: map[string]bool{}}
		if err := fn(c); err != nil {
			return err
		}
		out = c.out
		return nil
	})
	return out, err
}

func labeled(src []SourcePolicy, err error) ([]policy.Labeled, error) {
	if err != nil {
		return nil, err
	}
	out := make([]policy.Labeled, len(src))
	for i, p := range src {
		out[i] = policy.Labeled{ID: p.ID, Policy: p.Policy}
	}
	return out, nil
}

// UserSourcePolicies returns the identity policies in force for a user:
// its inline policies, its attached managed policies (default versions),
// then each group's inline and attached policies.
func (s *Service) UserSourcePolicies(ctx context.Context, userName string) ([]SourcePolicy, error) {
	return s.sourcePolicies(ctx, KindUser, userName, "")
}

// RoleSourcePolicies returns a role's inline and attached policies.
func (s *Service) RoleSourcePolicies(ctx context.Context, roleName string) ([]SourcePolicy, error) {
	return s.sourcePolicies(ctx, KindRole, roleName, "")
}

// GroupSourcePolicies returns a group's inline and attached policies.
func (s *Service) GroupSourcePolicies(ctx context.Context, groupName string) ([]SourcePolicy, error) {
	return s.sourcePolicies(ctx, KindGroup, groupName, "")
}

// sourcePolicies returns the identity policies in force for the user,
// group or role with that name; with wantARN, only if that is its ARN
// (NoSuchEntity otherwise), read in the same transaction.
func (s *Service) sourcePolicies(ctx context.Context, kind EntityKind, name, wantARN string) ([]SourcePolicy, error) {
	if err := checkEntityName(kind, name); err != nil {
		return nil, err
	}
	return s.collect(ctx, func(c *collector) error {
		p, err := c.t.principal(kind, name)
		if err != nil {
			return err
		}
		if wantARN != "" && !sameEntityARN(s.arn(kind.String(), p.e.Path, p.e.Name), wantARN) {
			return newErr(ErrNoSuchEntity, "The entity %s cannot be found.", fault.Printable(wantARN, 128))
		}
		return c.principal(p)
	})
}

// PrincipalSourcePolicies returns the policies of the user, group or role
// named by its ARN (in this account), for the policy simulator.
func (s *Service) PrincipalSourcePolicies(ctx context.Context, principalARN string) ([]SourcePolicy, error) {
	for _, kind := range []EntityKind{KindUser, KindGroup, KindRole} {
		name, ok := s.nameFromARN(principalARN, kind.String())
		if !ok {
			continue
		}
		return s.sourcePolicies(ctx, kind, name, principalARN)
	}
	return nil, newErr(ErrInvalidInput, "Invalid Entity Arn: %s does not clearly define entity type and name.", fault.Printable(principalARN, 128))
}

// UserPolicies returns the identity policies in force for a user (see
// UserSourcePolicies), labeled by policy name or ARN.
func (s *Service) UserPolicies(ctx context.Context, userName string) ([]policy.Labeled, error) {
	return labeled(s.UserSourcePolicies(ctx, userName))
}

// RolePolicies returns a role's identity policies, labeled by policy name
// or ARN.
func (s *Service) RolePolicies(ctx context.Context, roleName string) ([]policy.Labeled, error) {
	return labeled(s.RoleSourcePolicies(ctx, roleName))
}

// ManagedPolicy returns the default version of a managed policy, parsed
// (for the PolicyArns of STS sessions).
func (s *Service) ManagedPolicy(ctx context.Context, policyARN string) (*policy.Policy, error) {
	var doc string
	err := s.view(ctx, func(t *txn) error {
		rec, _, err := t.policy(s, policyARN)
		if err != nil {
			return err
		}
		doc = rec.defaultDocument()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.parse(doc, policy.KindIdentity)
}
