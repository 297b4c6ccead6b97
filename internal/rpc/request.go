// Package rpc is what the pipeline (package server) and the handlers of
// every service share: the request, the handler signature, the operations
// table and its rules, paging, and the mapping of domain errors to wire
// codes. A service's handlers import it, not the server.
package rpc

import (
	"context"
	"log/slog"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// Protocol is the wire protocol of an operation.
type Protocol int

// The protocols the broker speaks.
const (
	ProtocolQuery Protocol = iota + 1 // form in, XML out (STS, IAM)
	ProtocolJSON                      // JSON 1.1 (Secrets Manager, shortfuse)
)

// Handler executes one operation. It returns the result shape (an XML-tagged
// struct for Query operations, a JSON-tagged struct for JSON operations; nil
// for an empty result) or an error that package server maps to the wire in
// one place: an *awsapi.Error as it is, a domain error (package fault) by
// its domain's FaultCodes.
//
// A handler authorizes before it changes anything, by calling
// r.Authorize for every action/resource pair the operation needs.
type Handler func(ctx context.Context, r *Request) (any, error)

// Decoded is the handler of an operation whose input is a T: decode reads
// the request's body into a new T (each service's JSON decoder), and serve
// acts on it.
func Decoded[T any](decode func(body []byte, v any) error, serve func(ctx context.Context, r *Request, in *T) (any, error)) Handler {
	return func(ctx context.Context, r *Request) (any, error) {
		in := new(T)
		if err := decode(r.Body, in); err != nil {
			return nil, err
		}
		return serve(ctx, r, in)
	}
}

// Rules declare, per operation in the operations table, how the pipeline
// (pipeline.go) treats a call: what goes on the audit record, and which
// sessions may make it. The zero value is Write.
type Rules uint8

const (
	// Write: the call may change state. It is put on record before it
	// runs (an intent record), and its response elements are recorded.
	Write Rules = 0
	// Read: the call changes nothing. No intent record; its response
	// elements are left out of the record (as CloudTrail does).
	Read Rules = 1 << iota
	// Mint: the call issues session credentials. It registers the session
	// but the credentials leave only once the outcome record is written,
	// so no intent record; the response (access key id, expiry) is
	// recorded, the secret parts redacted.
	Mint
	// IAM: the call is authorized by an iam: action or changes identity
	// configuration. Sessions from GetSessionToken without MFA are refused
	// it, as AWS refuses them every IAM call.
	IAM
	// SelfRevoke: a session whose use limit is exhausted may still make
	// the call (it revokes itself). Revoked, expired and abandoned
	// sessions may not.
	SelfRevoke
	// Uncounted: the call is session control and does not spend a use.
	Uncounted
)

// Has reports whether every rule of q is in r.
func (r Rules) Has(q Rules) bool { return r&q == q }

// Operation is one entry of the operations table.
type Operation struct {
	Service  string // "sts", "iam", "secretsmanager"
	Action   string // "AssumeRole"
	Protocol Protocol
	Rules    Rules
	Handler  Handler
	// Unsigned operations may be called without a signature (as AWS allows
	// for AssumeRoleWithWebIdentity). Every other operation is refused
	// unless its request verifies.
	Unsigned bool
}

// Caller is the authenticated principal of a request.
type Caller struct {
	Account     string
	ARN         string // user ARN, or assumed-role session ARN
	UserID      string // AIDA… for users, AROA…:session for role sessions
	UserName    string // IAM user name ("" for role sessions)
	Type        string // "IAMUser" or "AssumedRole"
	AccessKeyID string
	// Session is set for requests signed with STS session credentials.
	Session *sessiontoken.Claims
	// RoleName is set for role sessions.
	RoleName string
}

// IsSession reports whether the caller uses temporary credentials.
func (c *Caller) IsSession() bool { return c.Session != nil }

// Request is one authenticated API call.
type Request struct {
	ID        string // request id, echoed in responses and logs
	Time      time.Time
	Service   string
	Action    string
	Params    *awsapi.Params // Query operations
	Body      []byte         // JSON operations
	Caller    *Caller        // nil only for Unsigned operations
	SourceIP  string
	UserAgent string
	Secure    bool // arrived over TLS
	// BaseLog is the server's logger; Log adds the request id to it.
	BaseLog *slog.Logger
	log     *slog.Logger

	// Op is the operation being served, set by the pipeline.
	Op *Operation
	// Authorizer answers the request's authorization questions. It is set
	// by the pipeline (and by tests); handlers ask through Check.
	Authorizer func(ctx context.Context, r *Request, a *Authz) (policy.Result, error)
	// Decisions records every authorization made for the request, for the
	// audit trail.
	Decisions []Decision
}

// Log returns the request's logger: BaseLog with the request id, made on
// first use (most requests log nothing of their own).
func (r *Request) Log() *slog.Logger {
	if r.log == nil {
		r.log = r.BaseLog.With("request_id", r.ID)
	}
	return r.log
}

// Decision is one authorization made while serving a request.
type Decision struct {
	Action   string
	Resource string
	Result   policy.Result
}

// Authz is one authorization question. Every decision the broker makes
// about a caller (identity policies, a secret's resource policy, a role's
// trust policy, a web identity against a trust policy) is asked through
// Request.Check with one of these.
type Authz struct {
	Action, Resource string
	// Keys are operation-specific condition keys ("sts:RoleSessionName"),
	// added to the request's global keys.
	Keys map[string][]string
	// ResourcePolicy is a secret's resource policy: one more way to be
	// allowed, as IAM decides for a resource in the caller's account (an
	// account principal delegates to the identity policies; a principal
	// naming the caller grants directly).
	ResourcePolicy *policy.Policy
	// Trust is a role's trust policy, which must allow too (AssumeRole,
	// approvals); a trust statement naming the caller directly needs no
	// identity policy, one naming its account does.
	Trust *policy.Policy
	// Federated names the identity provider of an unsigned web-identity
	// call: the caller is that provider's token, with the condition keys
	// in Context instead of the request's.
	Federated string
	Context   map[string][]string
	// NotDenied: the action needs no permission (GetSessionToken), only an
	// explicit Deny refuses it.
	NotDenied bool
	// Quiet: the question only filters what is shown (who may see an
	// approval request); its answer is not recorded.
	Quiet bool
}

// Check is the one authorization entry point. It decides a, records the
// decision for the audit trail (unless Quiet) and returns AccessDenied
// unless the decision allows (or, with NotDenied, does not explicitly
// deny).
func (r *Request) Check(ctx context.Context, a Authz) error {
	res, err := r.decide(ctx, &a)
	if err != nil {
		return err
	}
	if res.Decision == policy.Allow || (a.NotDenied && res.Decision != policy.ExplicitDeny) {
		return nil
	}
	return AccessDenied(r, a.Action, a.Resource, res.Decision == policy.ExplicitDeny)
}

// Allowed reports, without recording it, whether the caller is allowed
// action on resource: for filters, never for granting.
func (r *Request) Allowed(ctx context.Context, action, resource string) bool {
	res, err := r.decide(ctx, &Authz{Action: action, Resource: resource, Quiet: true})
	return err == nil && res.Decision == policy.Allow
}

func (r *Request) decide(ctx context.Context, a *Authz) (policy.Result, error) {
	if r.Authorizer == nil {
		return policy.Result{Decision: policy.ImplicitDeny}, nil
	}
	res, err := r.Authorizer(ctx, r, a)
	if err != nil {
		return res, err
	}
	if !a.Quiet {
		r.Decisions = append(r.Decisions, Decision{Action: a.Action, Resource: a.Resource, Result: res})
	}
	return res, nil
}

// Authorize is Check of the caller's policies for action on resource, with
// extra condition keys (operation-specific, e.g. "sts:RoleSessionName").
func (r *Request) Authorize(ctx context.Context, action, resource string, keys map[string][]string) error {
	return r.Check(ctx, Authz{Action: action, Resource: resource, Keys: keys})
}

// AuthorizeResource is Check with a secret's resource policy.
func (r *Request) AuthorizeResource(ctx context.Context, action, resource string, keys map[string][]string, resourcePolicy *policy.Policy) error {
	return r.Check(ctx, Authz{Action: action, Resource: resource, Keys: keys, ResourcePolicy: resourcePolicy})
}

// RefuseExplicitDeny is Check of an action that needs no permission but
// that an explicit Deny refuses (as AWS does for GetSessionToken).
func (r *Request) RefuseExplicitDeny(ctx context.Context, action, resource string) error {
	return r.Check(ctx, Authz{Action: action, Resource: resource, NotDenied: true})
}

// AccessDenied builds AWS's message: "User: ARN is not authorized to
// perform: ACTION on resource: RESOURCE [with an explicit deny]".
func AccessDenied(r *Request, action, resource string, explicit bool) error {
	who := "anonymous"
	if r.Caller != nil {
		who = r.Caller.ARN
	}
	msg := "User: " + who + " is not authorized to perform: " + action + " on resource: " + resource
	if explicit {
		msg += " with an explicit deny"
	}
	return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: msg}
}
