package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/session"
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
// for an empty result) or an error that the table in errors.go maps to the
// wire.
//
// A handler authorizes before it changes anything, by calling
// r.Authorize for every action/resource pair the operation needs.
type Handler func(ctx context.Context, r *Request) (any, error)

// Operation is one entry of the operations table.
type Operation struct {
	Service  string // "sts", "iam", "secretsmanager"
	Action   string // "AssumeRole"
	Protocol Protocol
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
	Session *session.Claims
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
	Secure    bool         // arrived over TLS
	Log       *slog.Logger // carries the request id

	// authorizer is set by the server; handlers go through Authorize.
	authorizer func(ctx context.Context, r *Request, action, resource string, keys map[string][]string, resourcePolicy *policy.Policy) (policy.Result, error)
	// Decisions records every authorization made for the request, for the
	// audit trail.
	Decisions []Decision
}

// Decision is one authorization made while serving a request.
type Decision struct {
	Action   string
	Resource string
	Result   policy.Result
}

// Authorize evaluates the caller's policies for action on resource, with
// extra condition keys (operation-specific, e.g. "sts:RoleSessionName").
// It returns an AccessDenied error unless the decision is Allow.
func (r *Request) Authorize(ctx context.Context, action, resource string, keys map[string][]string) error {
	return r.AuthorizeResource(ctx, action, resource, keys, nil)
}

// AuthorizeResource is Authorize with a resource-based policy (a secret's
// resource policy): the request is allowed if the identity policies or the
// resource policy allow it and no policy denies it (same-account logic).
func (r *Request) AuthorizeResource(ctx context.Context, action, resource string, keys map[string][]string, resourcePolicy *policy.Policy) error {
	if r.authorizer == nil || r.Caller == nil {
		return errAccessDenied(r, action, resource, false)
	}
	res, err := r.authorizer(ctx, r, action, resource, keys, resourcePolicy)
	if err != nil {
		return err
	}
	r.Decisions = append(r.Decisions, Decision{Action: action, Resource: resource, Result: res})
	if res.Decision != policy.Allow {
		return errAccessDenied(r, action, resource, res.Decision == policy.ExplicitDeny)
	}
	return nil
}

// errAccessDenied builds AWS's message: "User: ARN is not authorized to
// perform: ACTION on resource: RESOURCE [with an explicit deny]".
func errAccessDenied(r *Request, action, resource string, explicit bool) error {
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
