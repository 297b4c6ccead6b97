package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/brokerwire"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
)

// Build-bound approval requests (docs/APPROVALS.md), in the shortfuse
// service:
//
//   - CreateRequest: a job asks for a role session. It needs
//     shortfuse:CreateRequest on the role, and nothing else: a requester
//     credential is a doorbell.
//   - GetRequest (optionally waiting for a decision) and ListRequests: the
//     requester, the approvers of the role and operators with
//     shortfuse:ListRequests see a request; anyone else is told it does not
//     exist.
//   - ApproveRequest: an IAM user with MFA who may assume the role
//     themselves (their identity policies allow sts:AssumeRole on it and its
//     trust policy trusts them), a member of the role's approvers group if it
//     has one, and not the requester. The last approval mints the session
//     "as the approver" and seals it for the job.
//   - DenyRequest: an eligible approver denies; the requester withdraws.
//   - RedeemRequest: the requester, with a proof signed by the redemption
//     key, takes the sealed session once.
//   - RevokeRequestSession: the requester or an approver of a request kills
//     its session now.

// Tags the broker sets on a session minted by an approval.
const (
	tagRequest    = "shortfuse:request"
	tagRequester  = "shortfuse:requester"
	tagApprovedBy = "shortfuse:approved-by"
	tagBuildURL   = "shortfuse:build-url"
	tagJob        = "shortfuse:job"
	tagCommit     = "shortfuse:commit"
)

// maxWaitSeconds bounds a GetRequest long poll (well under the HTTP
// server's write timeout).
const maxWaitSeconds = 20

func errApprovalsOff() error {
	return &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "This broker does not serve approval requests."}
}

// approvalsOp wraps a handler: it refuses when approvals are not
// configured, and maps the approvals domain's errors to the wire.
func approvalsOp(s *Server, h rpc.Handler) rpc.Handler {
	return func(ctx context.Context, r *rpc.Request) (any, error) {
		if s.approval == nil {
			return nil, errApprovalsOff()
		}
		return h(ctx, r) // their domain errors become wire errors in toWire
	}
}

// approvalsErrorToWire maps the approvals domain's errors, for toWire.
func approvalsErrorToWire(err error) (*awsapi.Error, bool) {
	var me *approvals.MisconfiguredError
	switch {
	case errors.As(err, &me):
		return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "No session can be issued: " + me.Error()}, true
	case errors.Is(err, approvals.ErrDuration):
		return &awsapi.Error{Code: awsapi.CodeInvalidParameter, Message: approvals.ErrDuration.Error()}, true
	case errors.Is(err, approvals.ErrTooMany):
		return &awsapi.Error{Code: awsapi.CodeLimitExceededSM, Message: approvals.ErrTooMany.Error()}, true
	case errors.Is(err, approvals.ErrNotFound):
		return &awsapi.Error{Code: awsapi.CodeResourceNotFound, Message: approvals.ErrNotFound.Error()}, true
	case errors.Is(err, approvals.ErrSelfApproval), errors.Is(err, approvals.ErrNotRequester), errors.Is(err, approvals.ErrBadProof):
		return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: domainMessage(err)}, true
	case errors.Is(err, approvals.ErrNotPending), errors.Is(err, approvals.ErrExpired), errors.Is(err, approvals.ErrDenied),
		errors.Is(err, approvals.ErrDuplicate), errors.Is(err, approvals.ErrNotApproved), errors.Is(err, approvals.ErrRedeemed),
		errors.Is(err, approvals.ErrConflict), errors.Is(err, approvals.ErrPolicyClash):
		return &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: domainMessage(err)}, true
	}
	return nil, false
}

// domainMessage is the client-safe text of a domain sentinel.
func domainMessage(err error) string {
	for _, e := range []error{approvals.ErrSelfApproval, approvals.ErrNotRequester, approvals.ErrBadProof, approvals.ErrNotPending,
		approvals.ErrExpired, approvals.ErrDenied, approvals.ErrDuplicate, approvals.ErrNotApproved, approvals.ErrRedeemed,
		approvals.ErrConflict, approvals.ErrPolicyClash} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "the request cannot be served"
}

func invalidParam(format string, args ...any) error {
	return awsapi.Errorf(awsapi.CodeInvalidParameter, format, args...)
}

// durationParam checks the optional DurationSeconds of a request or an
// approval (def when none): an approved session lasts from
// approvals.MinDuration to approvals.MaxSessionDuration.
func durationParam(seconds *int64, def time.Duration) (time.Duration, error) {
	if seconds == nil {
		return def, nil
	}
	if *seconds < int64(approvals.MinDuration/time.Second) || *seconds > int64(approvals.MaxSessionDuration/time.Second) {
		return 0, invalidParam("DurationSeconds must be from 60 to 43200")
	}
	return time.Duration(*seconds) * time.Second, nil
}

// reasonParam checks the optional Reason of a request or a denial ("" when
// none).
func reasonParam(reason *string) (string, error) {
	if reason == nil {
		return "", nil
	}
	if err := approvals.CheckReason(*reason); err != nil {
		return "", invalidParam("Reason: %s", err.Error())
	}
	return *reason, nil
}

// --- wire shapes -----------------------------------------------------------

// RequestShape is a request as the shortfuse service answers it.
type requestShape struct {
	Code              string                `json:"Code"`
	Status            string                `json:"Status"`
	RoleArn           string                `json:"RoleArn"`
	Requester         string                `json:"Requester"`
	SourceIP          string                `json:"SourceIp,omitempty"`
	Reason            string                `json:"Reason,omitempty"`
	DurationSeconds   int64                 `json:"DurationSeconds"`
	CreatedAt         float64               `json:"CreatedAt"`
	ExpiresAt         float64               `json:"ExpiresAt"`
	Build             brokerwire.Build      `json:"Build"`
	ApprovalsRequired int                   `json:"ApprovalsRequired"`
	ApproversGroup    string                `json:"ApproversGroup,omitempty"`
	Approvals         []brokerwire.Approval `json:"Approvals"`
	SessionPolicy     string                `json:"SessionPolicy,omitempty"`
	DeniedBy          string                `json:"DeniedBy,omitempty"`
	DeniedAt          *float64              `json:"DeniedAt,omitempty"`
	DenyReason        string                `json:"DenyReason,omitempty"`
	SessionAccessKey  string                `json:"SessionAccessKeyId,omitempty"`
	SessionExpiration *float64              `json:"SessionExpiration,omitempty"`
	RedeemedAt        *float64              `json:"RedeemedAt,omitempty"`
	Replays           int                   `json:"Replays,omitempty"`
}

func apEpoch(t time.Time) float64 { return float64(t.Unix()) }

func apEpochPtr(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := apEpoch(t)
	return &v
}

func requestOut(q *approvals.Request, now time.Time) requestShape {
	out := requestShape{
		Code:              q.Code,
		Status:            string(q.Status(now)),
		RoleArn:           q.RoleARN,
		Requester:         q.Requester,
		SourceIP:          q.SourceIP,
		Reason:            q.Reason,
		DurationSeconds:   int64(q.Duration / time.Second),
		CreatedAt:         apEpoch(q.CreatedAt),
		ExpiresAt:         apEpoch(q.ExpiresAt),
		Build:             brokerwire.Build{System: q.Build.System, URL: q.Build.URL, Job: q.Build.Job, Number: q.Build.Number, Commit: q.Build.Commit, ParametersHash: q.Build.ParamsHash},
		ApprovalsRequired: q.Rules.Required,
		ApproversGroup:    q.Rules.Group,
		Approvals:         []brokerwire.Approval{},
		SessionPolicy:     q.Policy(),
		DeniedBy:          q.DeniedBy,
		DeniedAt:          apEpochPtr(q.DeniedAt),
		DenyReason:        q.DenyReason,
		RedeemedAt:        apEpochPtr(q.RedeemedAt),
		Replays:           q.Replays,
	}
	for _, a := range q.Approvals {
		out.Approvals = append(out.Approvals, brokerwire.Approval{Approver: a.ARN, UserName: a.UserName, ApprovedAt: brokerwire.EpochTime{Time: a.At}, DurationSeconds: int64(a.Duration / time.Second), AttachedPolicy: a.Policy != ""})
	}
	if q.Session != nil {
		out.SessionAccessKey = q.Session.AccessKeyID
		out.SessionExpiration = apEpochPtr(q.Session.Expires)
	}
	return out
}

type requestOutput struct {
	Request requestShape `json:"Request"`
}

// --- who is who ------------------------------------------------------------

// requesterIdentities are the ARNs that count as the requester: the
// caller, and for a session every principal along its chain: its own, its
// role, whoever asked for it, and the same of every session it descends
// from, back to the root's source (the human or key that started the
// chain). So a request made through any number of hops is still the
// request of whoever is at the start, who cannot approve it.
func (s *Server) requesterIdentities(ctx context.Context, c *rpc.Caller) ([]string, error) {
	ids := []string{c.ARN}
	add := func(arns ...string) {
		for _, a := range arns {
			if a != "" && !containsFold(ids, a) {
				ids = append(ids, a)
			}
		}
	}
	if sc := c.Session; sc != nil {
		add(sc.SourceARN, sc.RoleARN, sc.PrincipalARN)
		for _, akid := range sc.Chain {
			rec, err := s.sessions.Get(ctx, akid)
			if err != nil {
				return nil, fmt.Errorf("requester's chain: %w", err)
			}
			add(rec.SourceARN, rec.RoleARN, rec.PrincipalARN)
		}
	}
	return ids, nil
}

func containsFold(list []string, v string) bool {
	for _, x := range list {
		if strings.EqualFold(x, v) {
			return true
		}
	}
	return false
}

// requesterID returns the identity of the caller under which q was
// requested, or "" if the caller is not its requester.
func (s *Server) requesterID(ctx context.Context, c *rpc.Caller, q *approvals.Request) (string, error) {
	ids, err := s.requesterIdentities(ctx, c)
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		if q.IsRequester(id) {
			return id, nil
		}
	}
	return "", nil
}

// isRequester reports whether the caller is (one of the identities of) the
// requester of q.
func (s *Server) isRequester(ctx context.Context, c *rpc.Caller, q *approvals.Request) (bool, error) {
	id, err := s.requesterID(ctx, c, q)
	return id != "", err
}

// visible decides whether the caller may see q: its requester, an approver
// of it, anyone whose identity policies allow sts:AssumeRole on its role
// (the people who could approve), and operators allowed
// shortfuse:ListRequests on the role. The checks are not recorded as
// decisions: they only filter what is shown.
func (s *Server) visible(ctx context.Context, r *rpc.Request, q *approvals.Request) bool {
	mine, err := s.isRequester(ctx, r.Caller, q)
	if err != nil {
		// A chain that cannot be read hides the request: nothing is shown
		// and nothing can be approved on a guess.
		return false
	}
	if mine || q.HasApproved(r.Caller.ARN) {
		return true
	}
	return r.Allowed(ctx, "shortfuse:ListRequests", q.RoleARN) || r.Allowed(ctx, "sts:AssumeRole", q.RoleARN)
}

// codedInput is the input of an approval operation that names a request
// by its Code.
type codedInput interface{ requestCode() *string }

// namedRequest is the Code member of a codedInput.
type namedRequest struct {
	Code *string `json:"Code"`
}

func (n *namedRequest) requestCode() *string { return n.Code }

// codedOp is jsonOp for an approval operation, whose input must name a
// request.
func codedOp[In any, P interface {
	*In
	codedInput
}](serve func(ctx context.Context, r *rpc.Request, in P) (any, error)) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *In) (any, error) {
		if P(in).requestCode() == nil {
			return nil, invalidParam("Code is required")
		}
		return serve(ctx, r, in)
	})
}

func (s *Server) getVisible(ctx context.Context, r *rpc.Request, code string) (*approvals.Request, error) {
	code, err := approvals.ParseCode(code)
	if err != nil {
		return nil, invalidParam("Code: %s", err.Error())
	}
	q, err := s.approval.Get(ctx, code)
	if err != nil {
		return nil, err
	}
	if !s.visible(ctx, r, q) {
		return nil, approvals.ErrNotFound
	}
	return q, nil
}

// roleRules loads the role of a request and its rules. A role that is
// gone, or whose rules do not parse, refuses (fail closed).
func (s *Server) roleRules(ctx context.Context, roleARN string) (*iam.Role, approvals.Rules, error) {
	role, err := s.iam.GetRoleByARN(ctx, roleARN)
	if errors.Is(err, iam.ErrNoSuchEntity) {
		return nil, approvals.Rules{}, &approvals.MisconfiguredError{Detail: "the role no longer exists"}
	}
	if err != nil {
		return nil, approvals.Rules{}, err
	}
	tags := make(map[string]string, len(role.Tags))
	for _, t := range role.Tags {
		tags[t.Key] = t.Value
	}
	rules, err := approvals.ParseRules(tags, roleMaxDuration(role, nil))
	if err != nil {
		return nil, approvals.Rules{}, err
	}
	if rules.Group != "" {
		_, members, err := s.iam.GetGroup(ctx, rules.Group)
		if errors.Is(err, iam.ErrNoSuchEntity) {
			return nil, approvals.Rules{}, &approvals.MisconfiguredError{Detail: "the approvers group " + rules.Group + " does not exist"}
		}
		if err != nil {
			return nil, approvals.Rules{}, err
		}
		if err := rules.CheckGroupSize(len(members)); err != nil {
			return nil, approvals.Rules{}, err
		}
	}
	return role, rules, nil
}

// inGroup reports whether a user is a member of a group.
func (s *Server) inGroup(ctx context.Context, userName, group string) (bool, error) {
	groups, err := s.iam.ListGroupsForUser(ctx, userName)
	if err != nil {
		return false, err
	}
	for _, g := range groups {
		if strings.EqualFold(g.Name, group) {
			return true, nil
		}
	}
	return false, nil
}

// mayActAsApprover checks that the caller could approve q: an IAM user,
// in the approvers group if there is one, whose identity policies allow
// sts:AssumeRole on the role and whom the role's trust policy trusts. keys
// are extra condition keys (MFA). Every evaluation is recorded.
func (s *Server) mayActAsApprover(ctx context.Context, r *rpc.Request, q *approvals.Request, role *iam.Role, rules approvals.Rules, keys map[string][]string) error {
	if r.Caller.UserName == "" || r.Caller.RoleName != "" {
		return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Only IAM users (with MFA) approve or deny requests; role sessions cannot."}
	}
	if rules.Group != "" {
		ok, err := s.inGroup(ctx, r.Caller.UserName, rules.Group)
		if err != nil {
			return err
		}
		if !ok {
			return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "User: " + r.Caller.ARN + " is not a member of " + rules.Group + ", the approvers group of " + role.ARN}
		}
	}
	return s.checkAssumeRole(ctx, r, "sts:AssumeRole", role, role.ARN, keys)
}

// approverOf checks that the caller may decide q as an approver: the role's
// rules load, no policy denies the caller action on the role explicitly, and
// the caller could approve (mayActAsApprover, with the condition keys keys).
// It returns the role and its rules.
func (s *Server) approverOf(ctx context.Context, r *rpc.Request, q *approvals.Request, action string, keys map[string][]string) (*iam.Role, approvals.Rules, error) {
	role, rules, err := s.roleRules(ctx, q.RoleARN)
	if err != nil {
		return nil, approvals.Rules{}, err
	}
	if err := r.RefuseExplicitDeny(ctx, action, role.ARN); err != nil {
		return nil, approvals.Rules{}, err
	}
	if err := s.mayActAsApprover(ctx, r, q, role, rules, keys); err != nil {
		return nil, approvals.Rules{}, err
	}
	return role, rules, nil
}

// --- CreateRequest ----------------------------------------------------------

type createRequestInput struct {
	RoleArn         *string           `json:"RoleArn"`
	DurationSeconds *int64            `json:"DurationSeconds"`
	Reason          *string           `json:"Reason"`
	Build           *brokerwire.Build `json:"Build"`
	VerifyKey       []byte            `json:"VerifyKey"`
	WrapKey         []byte            `json:"WrapKey"`
}

var reRoleARN = regexp.MustCompile(`^arn:aws:iam::\d{12}:role/[\w+=,.@/-]{1,512}$`)

func handleCreateRequest(s *Server) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *createRequestInput) (any, error) {
		if in.RoleArn == nil || !reRoleARN.MatchString(*in.RoleArn) {
			return nil, invalidParam("RoleArn must be the ARN of a role, arn:aws:iam::ACCOUNT:role/NAME")
		}
		roleARN := *in.RoleArn
		dur, err := durationParam(in.DurationSeconds, 15*time.Minute)
		if err != nil {
			return nil, err
		}
		reason, err := reasonParam(in.Reason)
		if err != nil {
			return nil, err
		}
		var build approvals.Build
		if in.Build != nil {
			build = approvals.Build{System: in.Build.System, URL: in.Build.URL, Job: in.Build.Job, Number: in.Build.Number, Commit: in.Build.Commit, ParamsHash: in.Build.ParametersHash}
			if err := build.Validate(); err != nil {
				return nil, invalidParam("Build: %s", err.Error())
			}
		}
		if err := approvals.CheckPublicKeys(in.VerifyKey, in.WrapKey); err != nil {
			return nil, invalidParam("%s", err.Error())
		}
		// The permission is checked first, naming the role ARN whether or
		// not it exists, so that a doorbell learns nothing about roles.
		if err := r.Authorize(ctx, "shortfuse:CreateRequest", roleARN, nil); err != nil {
			return nil, err
		}
		_, rules, err := s.roleRules(ctx, roleARN)
		if err != nil {
			return nil, err
		}
		if dur > rules.MaxDuration {
			return nil, invalidParam("DurationSeconds: the role's approval rules allow at most %s", rules.MaxDuration)
		}
		ids, err := s.requesterIdentities(ctx, r.Caller)
		if err != nil {
			return nil, err
		}
		q, err := s.approval.Create(ctx, approvals.CreateInput{
			RoleARN: roleARN, Requester: r.Caller.ARN, Identities: ids, SourceIP: r.SourceIP,
			Reason: reason, Duration: dur, Build: build, Rules: rules, VerifyKey: in.VerifyKey, WrapKey: in.WrapKey,
		})
		if err != nil {
			return nil, err
		}
		s.log.Info("approval requested", "request_id", r.ID, "code", q.Code, "role", roleARN, "by", r.Caller.ARN)
		return &brokerwire.CreateRequestOutput{Code: q.Code, Status: string(q.Status(r.Time)), ExpiresAt: brokerwire.EpochTime{Time: q.ExpiresAt}, ApprovalsRequired: q.Rules.Required, ApprovalPath: "/ui/requests/" + q.Code}, nil
	})
}

// --- GetRequest / ListRequests ------------------------------------------------

type getRequestInput struct {
	namedRequest
	WaitSeconds *int64 `json:"WaitSeconds"`
}

func handleGetRequest(s *Server) rpc.Handler {
	return codedOp(func(ctx context.Context, r *rpc.Request, in *getRequestInput) (any, error) {
		q, err := s.getVisible(ctx, r, *in.Code)
		if err != nil {
			return nil, err
		}
		if in.WaitSeconds != nil && *in.WaitSeconds > 0 {
			if *in.WaitSeconds > maxWaitSeconds {
				return nil, invalidParam("WaitSeconds must be from 0 to %d", maxWaitSeconds)
			}
			if q, err = s.approval.Wait(ctx, q.Code, time.Duration(*in.WaitSeconds)*time.Second); err != nil {
				return nil, err
			}
		}
		return &requestOutput{Request: requestOut(q, s.cfg.Now())}, nil
	})
}

type listRequestsInput struct {
	Status     *string `json:"Status"`
	MaxResults *int    `json:"MaxResults"`
}

type listRequestsOutput struct {
	Requests []requestShape `json:"Requests"`
}

func handleListRequests(s *Server) rpc.Handler {
	return jsonOp(func(ctx context.Context, r *rpc.Request, in *listRequestsInput) (any, error) {
		f := approvals.Filter{Status: approvals.StatusPending, Limit: 100}
		if in.Status != nil {
			switch st := approvals.Status(*in.Status); st {
			case approvals.StatusPending, approvals.StatusApproved, approvals.StatusRedeemed, approvals.StatusDenied, approvals.StatusExpired:
				f.Status = st
			case "all":
				f.Status = ""
			default:
				return nil, invalidParam("Status must be pending, approved, redeemed, denied, expired or all")
			}
		}
		if in.MaxResults != nil {
			if *in.MaxResults < 1 || *in.MaxResults > 1000 {
				return nil, invalidParam("MaxResults must be from 1 to 1000")
			}
			f.Limit = *in.MaxResults
		}
		f.Visible = func(q *approvals.Request) bool { return s.visible(ctx, r, q) }
		list, err := s.approval.List(ctx, f)
		if err != nil {
			return nil, err
		}
		now := s.cfg.Now()
		out := &listRequestsOutput{Requests: []requestShape{}}
		for i := range list {
			out.Requests = append(out.Requests, requestOut(&list[i], now))
		}
		return out, nil
	})
}

// --- ApproveRequest -------------------------------------------------------------

type approveRequestInput struct {
	namedRequest
	DurationSeconds *int64  `json:"DurationSeconds"`
	Policy          *string `json:"Policy"`
	SerialNumber    *string `json:"SerialNumber"`
	TokenCode       *string `json:"TokenCode"`
}

// approverMFA decides how the approver presents MFA: a TOTP code in the
// request (of the given device, or of any of the user's devices), checked
// by the returned verify func once everything else allows the approval (so
// that a refused approval does not use up the code), or a session that was
// created with MFA. It returns when the factor was presented.
func (s *Server) approverMFA(ctx context.Context, r *rpc.Request, serial, code *string) (time.Time, func() error, error) {
	c := r.Caller
	if code != nil {
		if !reTokenCode.MatchString(*code) {
			return time.Time{}, nil, invalidParam("TokenCode must be the 6 digits the MFA device shows")
		}
		if serial != nil && !reSerialNumber.MatchString(*serial) {
			return time.Time{}, nil, invalidParam("SerialNumber is not an MFA device serial number")
		}
		verify := func() error {
			ok, err := s.userMFA(ctx, c.UserName, serial, *code)
			if err != nil {
				return err
			}
			if !ok {
				return &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "MultiFactorAuthentication failed with invalid MFA one time pass code."}
			}
			return nil
		}
		return r.Time, verify, nil
	}
	if c.Session != nil && c.Session.MFA && c.Session.Type == sessiontoken.TypeGetSessionToken {
		return c.Session.MFAAuthTime, func() error { return nil }, nil
	}
	return time.Time{}, nil, &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Approving a request needs MFA: pass TokenCode (and SerialNumber), or sign the request with a session created with MFA."}
}

// userMFA reports whether code is the current code of one of the user's
// MFA devices (of the device serial only, when given). A failure other
// than a wrong code or a device that is gone is returned.
func (s *Server) userMFA(ctx context.Context, userName string, serial *string, code string) (bool, error) {
	var serials []string
	if serial != nil {
		serials = []string{*serial}
	} else {
		devs, err := s.iam.ListMFADevices(ctx, userName)
		if err != nil {
			return false, err
		}
		for _, d := range devs {
			serials = append(serials, d.SerialNumber)
		}
	}
	for _, sn := range serials {
		err := s.iam.CheckMFA(ctx, userName, sn, code)
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, iam.ErrInvalidAuthenticationCode) && !errors.Is(err, iam.ErrNoSuchEntity) {
			return false, err
		}
	}
	return false, nil
}

func handleApproveRequest(s *Server) rpc.Handler {
	return codedOp(func(ctx context.Context, r *rpc.Request, in *approveRequestInput) (any, error) {
		narrowed, sessionPolicy, err := s.approveParams(in)
		if err != nil {
			return nil, err
		}
		q, err := s.getVisible(ctx, r, *in.Code)
		if err != nil {
			return nil, err
		}
		if mine, err := s.isRequester(ctx, r.Caller, q); err != nil {
			return nil, err
		} else if mine {
			return nil, approvals.ErrSelfApproval
		}
		if narrowed > q.Duration {
			return nil, approvals.ErrDuration
		}
		mfaTime, verifyMFA, err := s.approverMFA(ctx, r, in.SerialNumber, in.TokenCode)
		if err != nil {
			return nil, err
		}
		sessName := approvalSessionName(q)
		mfaAge := max(int64(r.Time.Sub(mfaTime)/time.Second), 0)
		keys := map[string][]string{
			"sts:RoleSessionName":        {sessName},
			"aws:MultiFactorAuthPresent": {"true"},
			"aws:MultiFactorAuthAge":     {strconv.FormatInt(mfaAge, 10)},
		}
		role, rules, err := s.approverOf(ctx, r, q, "shortfuse:ApproveRequest", keys)
		if err != nil {
			return nil, err
		}
		a := approvals.Approval{ARN: r.Caller.ARN, UserName: r.Caller.UserName, At: r.Time.UTC().Truncate(time.Second), Duration: narrowed, Policy: sessionPolicy, SourceIP: r.SourceIP}
		final, err := q.Check(a, rules, r.Time)
		if err != nil {
			return nil, err
		}
		// Everything else allows the approval: now the code is used up.
		if err := verifyMFA(); err != nil {
			return nil, err
		}
		var minted *approvals.Minted
		if final {
			if err := s.stillApprovers(ctx, q, rules); err != nil {
				return nil, err
			}
			if minted, err = s.mintApproved(ctx, r, q, role, rules, a, sessName, mfaTime); err != nil {
				return nil, err
			}
		}
		updated, err := s.approval.Approve(ctx, q.Code, q.Version, a, rules, minted)
		if err != nil {
			if minted != nil {
				// The session never reaches anyone: kill it.
				if rerr := s.sessions.Revoke(ctx, minted.AccessKeyID, r.Caller.ARN, r.Time); rerr != nil {
					s.log.Error("revoking an unused approval session", "request_id", r.ID, "access_key_id", minted.AccessKeyID, "err", rerr)
				}
			}
			return nil, err
		}
		s.log.Info("approval given", "request_id", r.ID, "code", q.Code, "by", r.Caller.ARN, "approvals", len(updated.Approvals), "required", rules.Required, "minted", minted != nil)
		return &requestOutput{Request: requestOut(updated, s.cfg.Now())}, nil
	})
}

// approveParams checks ApproveRequest's parameters: a narrower
// duration (0 when none) and a session policy ("" when none).
func (s *Server) approveParams(in *approveRequestInput) (narrowed time.Duration, sessionPolicy string, err error) {
	if narrowed, err = durationParam(in.DurationSeconds, 0); err != nil {
		return 0, "", err
	}
	if in.Policy == nil || *in.Policy == "" {
		return narrowed, "", nil
	}
	if len(*in.Policy) > 2048 {
		return 0, "", invalidParam("Policy must be at most 2048 characters")
	}
	if _, err := s.policies.Parse(*in.Policy, policy.KindIdentity); err != nil {
		var me *policy.MalformedError
		if errors.As(err, &me) {
			return 0, "", &awsapi.Error{Code: awsapi.CodeMalformedPolicyDocumentSM, Message: me.Msg}
		}
		return 0, "", err
	}
	return narrowed, *in.Policy, nil
}

// stillApprovers checks, before the final approval mints, that the
// approvers before this one may still approve under the rules in force
// now: they are still members of the approvers' group.
func (s *Server) stillApprovers(ctx context.Context, q *approvals.Request, rules approvals.Rules) error {
	if rules.Group == "" {
		return nil
	}
	for _, prev := range q.Approvals {
		ok, err := s.inGroup(ctx, prev.UserName, rules.Group)
		if err != nil && !errors.Is(err, iam.ErrNoSuchEntity) {
			return err
		}
		if !ok {
			return &approvals.MisconfiguredError{Detail: "approver " + prev.UserName + " is no longer a member of " + rules.Group}
		}
	}
	return nil
}

// wrappedCredentials is the plaintext sealed for the job.
type wrappedCredentials struct {
	AccessKeyID     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
	AssumedRoleArn  string `json:"AssumedRoleArn"`
}

// mintApproved mints the request's session as the final approver: an
// AssumeRole session of the role whose source is the approver (so that
// revoking the approver's sessions revokes it), tagged with the request
// and the build, and seals it to the request's wrap key.
func (s *Server) mintApproved(ctx context.Context, r *rpc.Request, q *approvals.Request, role *iam.Role, rules approvals.Rules, a approvals.Approval, sessName string, mfaTime time.Time) (*approvals.Minted, error) {
	approvers := append(q.Approvers(), a.UserName)
	tags := map[string]string{
		tagRequest:    q.Code,
		tagRequester:  tagValue(q.Requester),
		tagApprovedBy: tagValue(strings.Join(approvers, " ")),
	}
	if q.Build.URL != "" {
		tags[tagBuildURL] = tagValue(q.Build.URL)
	}
	if q.Build.Job != "" {
		tags[tagJob] = tagValue(q.Build.Job)
	}
	if q.Build.Commit != "" {
		tags[tagCommit] = tagValue(q.Build.Commit)
	}
	sp := sessionSpec{
		Type: sessiontoken.TypeAssumeRole, Role: role, Name: sessName, Duration: q.SessionDuration(a, rules),
		Tags: tags, MFA: true, MFAAuthTime: mfaTime,
	}
	if reSourceID.MatchString(a.UserName) {
		sp.SourceIdentity = a.UserName
	}
	if p := q.Policy(); p != "" {
		sp.Policies = []string{p}
	} else if a.Policy != "" {
		sp.Policies = []string{a.Policy}
	}
	// The session is lent, not chained: it is a root whose source is the
	// approver, so that revoking the approver's sessions revokes it but
	// signing out of the approval page does not.
	creds, claims, err := s.mintSession(ctx, r, sp)
	if err != nil {
		return nil, err
	}
	sessARN := claims.PrincipalARN
	plain, err := json.Marshal(wrappedCredentials{
		AccessKeyID: creds.AccessKeyID, SecretAccessKey: creds.SecretAccessKey, SessionToken: creds.SessionToken,
		Expiration: creds.Expiration.UTC().Format(time.RFC3339), AssumedRoleArn: sessARN,
	})
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	blob, err := approvals.Wrap(s.cfg.Rand, q.WrapKey, q.Code, plain)
	if err != nil {
		_ = s.sessions.Revoke(ctx, creds.AccessKeyID, r.Caller.ARN, r.Time)
		return nil, err
	}
	return &approvals.Minted{AccessKeyID: creds.AccessKeyID, Expires: creds.Expiration, Wrapped: blob}, nil
}

var reTagUnsafe = regexp.MustCompile(`[^\p{L}\p{Z}\p{N}_.:/=+\-@]`)

// tagValue makes text fit a session tag value: disallowed characters become
// "_", and it is cut to 256 characters.
func tagValue(v string) string {
	v = reTagUnsafe.ReplaceAllString(v, "_")
	if r := []rune(v); len(r) > 256 {
		v = string(r[:256])
	}
	return v
}

// --- DenyRequest ----------------------------------------------------------------

type denyRequestInput struct {
	namedRequest
	Reason *string `json:"Reason"`
}

// DenyRequest: the requester withdraws its own request; otherwise the
// caller must be someone who could approve it (no MFA needed to say no).
func handleDenyRequest(s *Server) rpc.Handler {
	return codedOp(func(ctx context.Context, r *rpc.Request, in *denyRequestInput) (any, error) {
		reason, err := reasonParam(in.Reason)
		if err != nil {
			return nil, err
		}
		q, err := s.getVisible(ctx, r, *in.Code)
		if err != nil {
			return nil, err
		}
		mine, err := s.isRequester(ctx, r.Caller, q)
		if err != nil {
			return nil, err
		}
		if !mine {
			if _, _, err := s.approverOf(ctx, r, q, "shortfuse:DenyRequest", map[string][]string{"sts:RoleSessionName": {approvalSessionName(q)}}); err != nil {
				return nil, err
			}
		}
		updated, err := s.approval.Deny(ctx, q.Code, r.Caller.ARN, reason)
		if err != nil {
			return nil, err
		}
		s.log.Info("approval denied", "request_id", r.ID, "code", q.Code, "by", r.Caller.ARN)
		return &requestOutput{Request: requestOut(updated, s.cfg.Now())}, nil
	})
}

// --- RedeemRequest ----------------------------------------------------------------

type redeemRequestInput struct {
	namedRequest
	Proof []byte `json:"Proof"`
}

// RedeemRequest hands the sealed session to the requester once. A second
// redemption is refused, counted as an alarm, and revokes the session: a
// replayed redemption means the request's secret was copied or its answer
// intercepted.
func handleRedeemRequest(s *Server) rpc.Handler {
	return codedOp(func(ctx context.Context, r *rpc.Request, in *redeemRequestInput) (any, error) {
		code, err := approvals.ParseCode(*in.Code)
		if err != nil {
			return nil, invalidParam("Code: %s", err.Error())
		}
		if len(in.Proof) != approvals.ProofSize {
			return nil, invalidParam("Proof must be %d bytes", approvals.ProofSize)
		}
		q, err := s.approval.Get(ctx, code)
		if err != nil {
			return nil, err
		}
		// Only the requester's identities may try; for anyone else the
		// request does not exist.
		caller, err := s.requesterID(ctx, r.Caller, q)
		if err != nil {
			return nil, err
		}
		if caller == "" {
			return nil, approvals.ErrNotFound
		}
		red, err := s.approval.Redeem(ctx, code, caller, in.Proof)
		var re *approvals.ReplayError
		if errors.As(err, &re) {
			s.log.Warn("ALARM: second redemption of an approval request refused; its session is revoked", "request_id", r.ID, "code", code, "caller", r.Caller.ARN, "access_key_id", re.AccessKeyID)
			if re.AccessKeyID != "" {
				if rerr := s.sessions.Revoke(ctx, re.AccessKeyID, "shortfuse:replayed-redemption", r.Time); rerr != nil {
					s.log.Error("revoking the session of a replayed redemption", "request_id", r.ID, "err", rerr)
				}
			}
			return nil, err
		}
		if err != nil {
			return nil, err
		}
		s.log.Info("approval redeemed", "request_id", r.ID, "code", code, "by", r.Caller.ARN)
		return &brokerwire.RedeemRequestOutput{Code: code, SealedCredentials: red.Wrapped, Expiration: brokerwire.EpochTime{Time: red.Expires}}, nil
	})
}

// --- RevokeRequestSession ------------------------------------------------------------

type revokeRequestSessionInput struct {
	namedRequest
}

type revokeRequestSessionOutput struct {
	AccessKeyID string `json:"AccessKeyId"`
}

// RevokeRequestSession kills the session minted for a request: its
// requester and its approvers may always do so (an approver takes back the
// line of sight they lent); others need shortfuse:RevokeSession on the
// session's principal.
func handleRevokeRequestSession(s *Server) rpc.Handler {
	return codedOp(func(ctx context.Context, r *rpc.Request, in *revokeRequestSessionInput) (any, error) {
		q, err := s.getVisible(ctx, r, *in.Code)
		if err != nil {
			return nil, err
		}
		if q.Session == nil {
			return nil, approvals.ErrNotApproved
		}
		mine, err := s.isRequester(ctx, r.Caller, q)
		if err != nil {
			return nil, err
		}
		if !mine && !q.HasApproved(r.Caller.ARN) {
			rec, err := s.sessions.Get(ctx, q.Session.AccessKeyID)
			if errors.Is(err, registry.ErrNotFound) {
				return nil, &awsapi.Error{Code: awsapi.CodeInvalidRequest, Message: "The session of this request has expired and is forgotten."}
			}
			if err != nil {
				return nil, err
			}
			if err := r.Authorize(ctx, "shortfuse:RevokeSession", rec.PrincipalARN, nil); err != nil {
				return nil, err
			}
		}
		if err := s.sessions.Revoke(ctx, q.Session.AccessKeyID, r.Caller.ARN, r.Time); err != nil {
			return nil, err
		}
		s.log.Info("approval session revoked", "request_id", r.ID, "code", q.Code, "access_key_id", q.Session.AccessKeyID, "by", r.Caller.ARN)
		return &revokeRequestSessionOutput{AccessKeyID: q.Session.AccessKeyID}, nil
	})
}

// approvalSessionName is the role session name of the session an approved
// request mints, which DenyRequest authorizes with as ApproveRequest does.
func approvalSessionName(q *approvals.Request) string { return "approval-" + q.Code }
