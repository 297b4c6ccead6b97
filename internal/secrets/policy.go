package secrets

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/shortfuse/shortfuse/internal/policy"
)

// PolicyProblem is one failed check of ValidatePolicy
// (botocore ValidationErrorsEntry).
type PolicyProblem struct {
	CheckName, Message string
}

// The checks of ValidatePolicy.
const (
	// CheckPublicAccess fails for a policy that allows anyone ("*") without
	// a condition that pins the caller's account, organization or ARN.
	CheckPublicAccess = "PUBLIC_ACCESS_CHECK"
)

// parsePolicy parses a resource policy, refusing what the service model
// and the IAM policy grammar refuse.
func parsePolicy(doc string) (*policy.Policy, error) {
	if doc == "" || len(doc) > MaxPolicySize {
		return nil, validationf("resourcePolicy", "Member must have length between 1 and %d", MaxPolicySize)
	}
	p, err := policy.Parse([]byte(doc), policy.KindResource)
	if err != nil {
		var me *policy.MalformedError
		if errors.As(err, &me) {
			return nil, newErr(ErrMalformedPolicy, "This resource policy contains a syntax error: %s", me.Msg)
		}
		return nil, err
	}
	return p, nil
}

// principalKeys are condition keys that pin who the caller is: a statement
// for Principal "*" with one of them is not public.
var principalKeys = []string{
	"aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:principalorgpaths",
	"aws:userid", "aws:username", "aws:sourceaccount", "aws:sourcearn", "aws:sourceowner",
}

// publicStatement reports whether st allows anyone: an Allow for the
// principal "*" (or AWS "*") with no condition that pins the caller with a
// value free of wildcards.
func publicStatement(st policy.Statement) bool {
	if st.Effect != "Allow" || st.Principal == nil {
		return false
	}
	if !st.Principal.Any && !slices.Contains(st.Principal.AWS, "*") {
		return false
	}
	for _, c := range st.Conditions {
		if !slices.Contains(principalKeys, strings.ToLower(c.Key)) || strings.HasSuffix(c.Operator, "IfExists") {
			continue
		}
		if !slices.ContainsFunc(c.Values, func(v string) bool { return strings.ContainsAny(v, "*?") }) {
			return false
		}
	}
	return true
}

func isPublic(p *policy.Policy) bool {
	return slices.ContainsFunc(p.Statements, publicStatement)
}

// ValidatePolicy checks a resource policy (ValidateResourcePolicy). A
// document that does not parse is an error of kind ErrMalformedPolicy; one
// that parses is checked for public access, and the failed checks are
// returned.
func (s *Service) ValidatePolicy(doc string) ([]PolicyProblem, error) {
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, err
	}
	var out []PolicyProblem
	if isPublic(p) {
		out = append(out, PolicyProblem{CheckName: CheckPublicAccess, Message: "The policy allows access to any principal (\"*\") without a condition on the caller's account, organization or ARN."})
	}
	return out, nil
}

// PutPolicy attaches a resource policy to a secret, replacing any other.
// With blockPublic, a policy that allows public access is refused with
// ErrPublicPolicy.
func (s *Service) PutPolicy(ctx context.Context, id, doc string, blockPublic bool) (*Result, error) {
	p, err := parsePolicy(doc)
	if err != nil {
		return nil, err
	}
	if blockPublic && isPublic(p) {
		return nil, newErr(ErrPublicPolicy, "This resource policy contains a statement that grants public access to the secret.")
	}
	return s.modify(ctx, id, func(r *secretRec) error {
		r.Policy = doc
		return nil
	})
}

// DeletePolicy removes the secret's resource policy, if any.
func (s *Service) DeletePolicy(ctx context.Context, id string) (*Result, error) {
	return s.modify(ctx, id, func(r *secretRec) error {
		r.Policy = ""
		return nil
	})
}
