package iam

import (
	"context"
	"sort"
)

// checkEntityName validates the name of a principal as the model's shape for
// that operation says.
func checkEntityName(kind EntityKind, name string) error {
	switch kind {
	case KindUser:
		return checkName(name, "userName", maxExistingUserName)
	case KindGroup:
		return checkName(name, "groupName", maxGroupName)
	case KindRole:
		return checkName(name, "roleName", maxRoleName)
	}
	return newErr(ErrInvalidInput, "Unknown entity kind.")
}

// inlineQuota is IAM's limit on the aggregate size of an entity's inline
// policies (characters, white space not counted).
func inlineQuota(kind EntityKind) int {
	switch kind {
	case KindUser:
		return 2048
	case KindGroup:
		return 5120
	}
	return 10240
}

func noSuchInline(kind EntityKind, name string) *Error {
	return newErr(ErrNoSuchEntity, "The %s policy with name %s cannot be found.", kind, name)
}

// InlinePolicy is an inline policy as GetUserPolicy (GetGroupPolicy,
// GetRolePolicy) returns it.
type InlinePolicy struct {
	EntityName string
	Name       string
	Document   string
}

// PutInlinePolicy adds or replaces an inline policy of a user, group or role.
func (s *Service) PutInlinePolicy(ctx context.Context, kind EntityKind, entity, name, doc string) error {
	if err := checkEntityName(kind, entity); err != nil {
		return err
	}
	if err := checkName(name, "policyName", maxPolicyName); err != nil {
		return err
	}
	if err := s.checkIdentityDocument(doc, "policyDocument"); err != nil {
		return err
	}
	return s.modifyPrincipal(ctx, kind, entity, func(p *principal) error {
		inline := make([]inlineRec, 0, len(p.h.Inline)+1)
		replaced := false
		for _, ip := range p.h.Inline {
			if ip.Name == name {
				ip.Document = doc
				replaced = true
			}
			inline = append(inline, ip)
		}
		if !replaced {
			inline = append(inline, inlineRec{Name: name, Document: doc})
		}
		total := 0
		for _, ip := range inline {
			total += policySize(ip.Document)
		}
		if q := inlineQuota(kind); total > q {
			return newErr(ErrLimitExceeded, "Maximum policy size of %d bytes exceeded for %s %s", q, kind, p.e.Name)
		}
		p.h.Inline = inline
		return nil
	})
}

// GetInlinePolicy returns one inline policy of a user, group or role.
func (s *Service) GetInlinePolicy(ctx context.Context, kind EntityKind, entity, name string) (*InlinePolicy, error) {
	if err := checkEntityName(kind, entity); err != nil {
		return nil, err
	}
	if err := checkName(name, "policyName", maxPolicyName); err != nil {
		return nil, err
	}
	return readPrincipal(ctx, s, kind, entity, func(_ *txn, p *principal) (*InlinePolicy, error) {
		for _, ip := range p.h.Inline {
			if ip.Name == name {
				return &InlinePolicy{EntityName: p.e.Name, Name: ip.Name, Document: ip.Document}, nil
			}
		}
		return nil, noSuchInline(kind, name)
	})
}

// ListInlinePolicies returns the names of the inline policies of a user,
// group or role, sorted.
func (s *Service) ListInlinePolicies(ctx context.Context, kind EntityKind, entity string) ([]string, error) {
	if err := checkEntityName(kind, entity); err != nil {
		return nil, err
	}
	out, err := readPrincipal(ctx, s, kind, entity, func(_ *txn, p *principal) ([]string, error) {
		var out []string
		for _, ip := range p.h.Inline {
			out = append(out, ip.Name)
		}
		return out, nil
	})
	sort.Strings(out)
	return out, err
}

// DeleteInlinePolicy deletes an inline policy of a user, group or role.
func (s *Service) DeleteInlinePolicy(ctx context.Context, kind EntityKind, entity, name string) error {
	if err := checkEntityName(kind, entity); err != nil {
		return err
	}
	if err := checkName(name, "policyName", maxPolicyName); err != nil {
		return err
	}
	return s.modifyPrincipal(ctx, kind, entity, func(p *principal) error {
		kept := p.h.Inline[:0:0]
		for _, ip := range p.h.Inline {
			if ip.Name != name {
				kept = append(kept, ip)
			}
		}
		if len(kept) == len(p.h.Inline) {
			return noSuchInline(kind, name)
		}
		p.h.Inline = kept
		return nil
	})
}
