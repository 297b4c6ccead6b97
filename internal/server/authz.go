package server

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
)

// authorize answers one authorization question (authz) with IAM's logic:
// the caller's identity policies intersected with its session policies,
// a secret's resource policy or a role's trust policy, the request's
// condition keys. It is pure apart from reading the caller's policies from
// IAM. Request.Check is the entry point handlers use; it records the
// decision.
func (s *Server) authorize(ctx context.Context, r *rpc.Request, a *rpc.Authz) (policy.Result, error) {
	var in policy.Input
	req := &policy.Request{Action: a.Action, Resource: a.Resource}
	switch {
	case a.Federated != "":
		// A web identity: no identity policies, only its provider, and the
		// condition keys of its token (a.Context).
		req.Principal = &policy.Principal{Federated: a.Federated}
		req.Context = a.Context
	case r.Caller == nil:
		return policy.Result{Decision: policy.ImplicitDeny}, nil
	default:
		var err error
		if in, err = s.policyInput(ctx, r.Caller); err != nil {
			return policy.Result{}, err
		}
		// The principal's tags come from the same caches as its policies,
		// read just above, so the context made later cannot fail.
		var cerr error
		req.ContextFunc = func() map[string][]string {
			m, err := s.requestContext(ctx, r)
			if err != nil {
				cerr = err
				m = map[string][]string{}
			}
			for k, v := range a.Keys {
				m[k] = v
			}
			return m
		}
		req.Principal = principalOf(r.Caller)
		res := s.decide(req, in, a)
		if cerr != nil {
			return policy.Result{}, cerr
		}
		return res, nil
	}
	if req.Context == nil && len(a.Keys) > 0 {
		req.Context = map[string][]string{}
	}
	for k, v := range a.Keys {
		req.Context[k] = v
	}
	return s.decide(req, in, a), nil
}

// decide evaluates the request against the caller's policies and the
// resource or trust policy the authorization names.
func (s *Server) decide(req *policy.Request, in policy.Input, a *rpc.Authz) policy.Result {
	switch {
	case a.Trust != nil:
		in.Resource = []policy.Labeled{{ID: "AssumeRolePolicyDocument", Policy: a.Trust}}
		in.ResourceRequired = true
	case a.ResourcePolicy != nil:
		in.Resource = []policy.Labeled{{ID: "ResourcePolicy", Policy: a.ResourcePolicy}}
	}
	return policy.Authorize(req, in)
}

// policyInput gathers the policies that apply to the caller.
func (s *Server) policyInput(ctx context.Context, c *rpc.Caller) (policy.Input, error) {
	var in policy.Input
	var err error
	switch {
	case c.RoleName != "":
		in.Identity, err = s.pcache.rolePolicies(ctx, c.RoleName)
	case c.UserName != "":
		in.Identity, err = s.pcache.userPolicies(ctx, c.UserName)
	}
	if err != nil {
		return in, fmt.Errorf("policies of %s: %w", c.ARN, err)
	}
	if c.Session != nil && (len(c.Session.SessionPolicies) > 0 || len(c.Session.PolicyARNs) > 0) {
		in.HasSession = true
		for i, doc := range c.Session.SessionPolicies {
			p, err := s.policies.Parse(doc, policy.KindIdentity)
			if err != nil {
				// Session policies were validated when the session was
				// minted; one that no longer parses grants nothing.
				continue
			}
			in.Session = append(in.Session, policy.Labeled{ID: "SessionPolicy" + strconv.Itoa(i+1), Policy: p})
		}
		for _, arn := range c.Session.PolicyARNs {
			p, err := s.iam.ManagedPolicy(ctx, arn)
			if err != nil {
				continue // a deleted managed policy grants nothing
			}
			in.Session = append(in.Session, policy.Labeled{ID: arn, Policy: p})
		}
	}
	return in, nil
}

// principalOf describes the caller for resource and trust policies.
func principalOf(c *rpc.Caller) *policy.Principal {
	p := &policy.Principal{Account: c.Account}
	p.AWS = append(p.AWS, c.ARN)
	if c.Session != nil && c.Session.RoleARN != "" {
		p.AWS = append(p.AWS, c.Session.RoleARN)
		p.SessionARN = c.ARN
	}
	return p
}

// requestContext builds the global condition keys of the request
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html).
func (s *Server) requestContext(ctx context.Context, r *rpc.Request) (map[string][]string, error) {
	c := r.Caller
	m := map[string][]string{
		"aws:CurrentTime":           {r.Time.UTC().Format(time.RFC3339)},
		"aws:EpochTime":             {strconv.FormatInt(r.Time.Unix(), 10)},
		"aws:SecureTransport":       {strconv.FormatBool(r.Secure)},
		"aws:PrincipalAccount":      {c.Account},
		"aws:userid":                {c.UserID},
		"aws:RequestedRegion":       {s.cfg.Region},
		"aws:ViaAWSService":         {"false"},
		"aws:PrincipalIsAWSService": {"false"},
	}
	if r.SourceIP != "" {
		m["aws:SourceIp"] = []string{r.SourceIP}
	}
	var tags []iam.Tag
	switch {
	case c.RoleName != "":
		m["aws:PrincipalArn"] = []string{c.Session.RoleARN}
		m["aws:PrincipalType"] = []string{"AssumedRole"}
		role, err := s.pcache.role(ctx, c.RoleName)
		if err == nil {
			tags = role.Tags
		}
	default:
		m["aws:PrincipalArn"] = []string{c.ARN}
		m["aws:PrincipalType"] = []string{"User"}
		m["aws:username"] = []string{c.UserName}
		user, err := s.pcache.user(ctx, c.UserName)
		if err != nil {
			return nil, fmt.Errorf("principal %s: %w", c.ARN, err)
		}
		tags = user.Tags
	}
	ptags := map[string]string{}
	for _, t := range tags {
		ptags[t.Key] = t.Value
	}
	if sess := c.Session; sess != nil {
		// Session tags override the principal's tags of the same key.
		for k, v := range sess.Tags {
			ptags[k] = v
		}
		m["aws:MultiFactorAuthPresent"] = []string{strconv.FormatBool(sess.MFA)}
		if sess.MFA && !sess.MFAAuthTime.IsZero() {
			age := max(int64(r.Time.Sub(sess.MFAAuthTime)/time.Second), 0)
			m["aws:MultiFactorAuthAge"] = []string{strconv.FormatInt(age, 10)}
		}
		m["aws:TokenIssueTime"] = []string{sess.IssuedAt.UTC().Format(time.RFC3339)}
		if sess.SourceIdentity != "" {
			m["aws:SourceIdentity"] = []string{sess.SourceIdentity}
		}
	}
	for k, v := range ptags {
		m["aws:PrincipalTag/"+k] = []string{v}
	}
	return m, nil
}
