package brokerapi

import (
	"context"
	"time"

	"github.com/shortfuse/shortfuse/internal/brokerwire"
	"github.com/shortfuse/shortfuse/internal/client/awsconf"
)

// Build-bound approval requests (docs/APPROVALS.md).

// Build identifies the CI build that asks.
type Build = brokerwire.Build

// CreateRequestInput asks for a role session. VerifyKey and WrapKey are
// the public halves of the job's redemption key.
type CreateRequestInput struct {
	RoleArn         string `json:"RoleArn"`
	DurationSeconds int64  `json:"DurationSeconds,omitempty"`
	Reason          string `json:"Reason,omitempty"`
	Build           *Build `json:"Build,omitempty"`
	VerifyKey       []byte `json:"VerifyKey"`
	WrapKey         []byte `json:"WrapKey"`
}

// CreateRequestOutput is the broker's receipt.
type CreateRequestOutput = brokerwire.CreateRequestOutput

// Approval is one approver's decision.
type Approval = brokerwire.Approval

// ApprovalRequest is a request as the broker reports it.
type ApprovalRequest struct {
	Code               string     `json:"Code"`
	Status             string     `json:"Status"`
	RoleArn            string     `json:"RoleArn"`
	Requester          string     `json:"Requester"`
	SourceIP           string     `json:"SourceIp,omitempty"`
	Reason             string     `json:"Reason,omitempty"`
	DurationSeconds    int64      `json:"DurationSeconds"`
	CreatedAt          EpochTime  `json:"CreatedAt"`
	ExpiresAt          EpochTime  `json:"ExpiresAt"`
	Build              Build      `json:"Build"`
	ApprovalsRequired  int        `json:"ApprovalsRequired"`
	ApproversGroup     string     `json:"ApproversGroup,omitempty"`
	Approvals          []Approval `json:"Approvals"`
	SessionPolicy      string     `json:"SessionPolicy,omitempty"`
	DeniedBy           string     `json:"DeniedBy,omitempty"`
	DeniedAt           EpochTime  `json:"DeniedAt"`
	DenyReason         string     `json:"DenyReason,omitempty"`
	SessionAccessKeyID string     `json:"SessionAccessKeyId,omitempty"`
	SessionExpiration  EpochTime  `json:"SessionExpiration"`
	RedeemedAt         EpochTime  `json:"RedeemedAt"`
	Replays            int        `json:"Replays,omitempty"`
}

// Request states.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRedeemed = "redeemed"
	RequestDenied   = "denied"
	RequestExpired  = "expired"
)

type requestOutput struct {
	Request ApprovalRequest `json:"Request"`
}

// callRequest calls op, whose output is the request it acted on.
func (c *Client) callRequest(ctx context.Context, op string, in any) (*ApprovalRequest, error) {
	out, err := callFor[requestOutput](ctx, c, op, in)
	if err != nil {
		return nil, err
	}
	return &out.Request, nil
}

// CreateRequest records a request; it needs shortfuse:CreateRequest on the
// role.
func (c *Client) CreateRequest(ctx context.Context, in CreateRequestInput) (*CreateRequestOutput, error) {
	return callFor[CreateRequestOutput](ctx, c, "CreateRequest", in)
}

// GetRequest returns a request; with wait > 0 the broker answers as soon
// as the request is decided, or after wait (at most 20 s).
func (c *Client) GetRequest(ctx context.Context, code string, wait time.Duration) (*ApprovalRequest, error) {
	in := struct {
		Code        string `json:"Code"`
		WaitSeconds int64  `json:"WaitSeconds,omitempty"`
	}{code, int64(wait / time.Second)}
	// The broker holds the request open up to wait: not a stuck broker.
	return c.callRequest(awsconf.WithLongPoll(ctx, wait), "GetRequest", in)
}

// ListRequests returns the requests the caller may see in a state
// (pending, approved, redeemed, denied, expired, or all).
func (c *Client) ListRequests(ctx context.Context, status string) ([]ApprovalRequest, error) {
	in := struct {
		Status string `json:"Status,omitempty"`
	}{status}
	var out struct {
		Requests []ApprovalRequest `json:"Requests"`
	}
	if err := c.call(ctx, "ListRequests", in, &out); err != nil {
		return nil, err
	}
	return out.Requests, nil
}

// ApproveRequestInput approves a request. DurationSeconds narrows the
// session, Policy attaches a session policy; TokenCode (with SerialNumber,
// or alone to try each of the caller's devices) is the MFA.
type ApproveRequestInput struct {
	Code            string `json:"Code"`
	DurationSeconds int64  `json:"DurationSeconds,omitempty"`
	Policy          string `json:"Policy,omitempty"`
	SerialNumber    string `json:"SerialNumber,omitempty"`
	TokenCode       string `json:"TokenCode,omitempty"`
}

// ApproveRequest approves; the last approval needed mints the session.
func (c *Client) ApproveRequest(ctx context.Context, in ApproveRequestInput) (*ApprovalRequest, error) {
	return c.callRequest(ctx, "ApproveRequest", in)
}

// DenyRequest denies a request (or, for its requester, withdraws it).
func (c *Client) DenyRequest(ctx context.Context, code, reason string) (*ApprovalRequest, error) {
	in := struct {
		Code   string `json:"Code"`
		Reason string `json:"Reason,omitempty"`
	}{code, reason}
	return c.callRequest(ctx, "DenyRequest", in)
}

// RedeemRequestOutput holds the session sealed to the job's wrap key.
type RedeemRequestOutput = brokerwire.RedeemRequestOutput

// RedeemRequest takes the approved session, once; proof is the redemption
// key's signature over the code.
func (c *Client) RedeemRequest(ctx context.Context, code string, proof []byte) (*RedeemRequestOutput, error) {
	in := struct {
		Code  string `json:"Code"`
		Proof []byte `json:"Proof"`
	}{code, proof}
	return callFor[RedeemRequestOutput](ctx, c, "RedeemRequest", in)
}

// RevokeRequestSession kills the session minted for a request and returns
// its access key id.
func (c *Client) RevokeRequestSession(ctx context.Context, code string) (string, error) {
	in := struct {
		Code string `json:"Code"`
	}{code}
	var out struct {
		AccessKeyID string `json:"AccessKeyId"`
	}
	err := c.call(ctx, "RevokeRequestSession", in, &out)
	return out.AccessKeyID, err
}
