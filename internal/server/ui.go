package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/sessiontoken"
	"github.com/shortfuse/shortfuse/internal/webui"
)

// The approval page (package webui) acts through this adapter. Signing in
// mints a GetSessionToken-type session with MFA for the user, registered
// like any other, so the page's session shows in the user's session list,
// can be revoked (which signs the page out) and is what approvals made on
// the page are authorized with. Its credentials are never handed out: the
// page keeps only the claims.
//
// Every action goes through the operations table as an API call would,
// with the same authorization and the same audit records (intent before a
// change, outcome after); the user agent is marked "shortfuse-ui".

// uiSessionDuration is the longest a page session lasts; uiIdle is how long
// it lasts without a page being shown (the page's own idle timeout, which
// the session's dead-man switch mirrors, so that a page left open, or left
// at the password change, shows as abandoned rather than active).
const (
	uiSessionDuration = time.Hour
	uiIdle            = 10 * time.Minute
)

// uiHandler serves the approval page at /ui/.
func (s *Server) uiHandler() http.Handler {
	if s.approval == nil {
		return http.NotFoundHandler()
	}
	ui, err := webui.New(webui.Options{Backend: &uiBackend{s: s}, Now: s.cfg.Now, Rand: s.cfg.Rand, Logger: s.log, IdleTimeout: uiIdle})
	if err != nil {
		s.log.Error("approval page not served", "err", err)
		return http.NotFoundHandler()
	}
	return ui
}

type uiBackend struct{ s *Server }

var _ webui.Backend = (*uiBackend)(nil)

func claimsOf(p *webui.Principal) *sessiontoken.Claims {
	c, _ := p.Handle.(*sessiontoken.Claims)
	return c
}

// newRequest builds the request record of a page action.
func (b *uiBackend) newRequest(action string, m webui.Meta) *rpc.Request {
	s := b.s
	id := s.newRequestID()
	return &rpc.Request{
		ID:        id,
		Time:      s.cfg.Now().UTC(),
		Service:   "shortfuse",
		Action:    action,
		SourceIP:  m.SourceIP,
		UserAgent: "shortfuse-ui " + safeText(m.UserAgent),
		Secure:    m.Secure,
		BaseLog:   s.log,
	}
}

var errUIFailed = &webui.Error{Msg: "Sign-in failed."}

// SignIn checks the password, then the TOTP code, then mints the page's
// session, as the operation shortfuse:ConsoleSignIn through the pipeline
// (the password and code are not in the record); a user can be kept off
// the page with an explicit Deny of shortfuse:ConsoleSignIn.
func (b *uiBackend) SignIn(ctx context.Context, userName, password, code string, m webui.Meta) (*webui.Principal, error) {
	s := b.s
	r := b.newRequest("ConsoleSignIn", m)
	body, _ := json.Marshal(map[string]string{"UserName": safeText(userName)})
	r.Body = body
	var p *webui.Principal
	op := &rpc.Operation{Service: "shortfuse", Action: "ConsoleSignIn", Protocol: rpc.ProtocolJSON, Rules: rpc.Mint,
		Handler: func(ctx context.Context, r *rpc.Request) (any, error) {
			var result any
			var err error
			p, result, err = b.signIn(ctx, r, userName, password, code)
			return result, err
		}}
	_, err := s.dispatch(ctx, op, r, nil)
	if err != nil {
		if p != nil {
			// Minted, but its record was not written: it never reaches anyone.
			_ = s.sessions.Revoke(ctx, claimsOf(p).AccessKeyID, "shortfuse:audit-failure", r.Time)
		}
		s.log.Info("approval page sign-in refused", "request_id", r.ID, "user", safeText(userName), "source_ip", m.SourceIP)
		return nil, errUIFailed
	}
	s.log.Info("approval page sign-in", "request_id", r.ID, "user", p.UserName, "source_ip", m.SourceIP)
	return p, nil
}

func (b *uiBackend) signIn(ctx context.Context, r *rpc.Request, userName, password, code string) (*webui.Principal, any, error) {
	s := b.s
	refused := &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Sign-in failed: wrong user name, password or MFA code."}
	profile, err := s.iam.CheckPassword(ctx, userName, password)
	if errors.Is(err, iam.ErrWrongPassword) {
		return nil, nil, refused
	}
	if err != nil {
		return nil, nil, err
	}
	if !reTokenCode.MatchString(code) {
		return nil, nil, refused
	}
	ok, err := s.userMFA(ctx, profile.UserName, nil, code)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, refused
	}
	// IAM reports a password's last use (GetUser's PasswordLastUsed); a
	// failure to note it does not refuse the sign-in.
	if err := s.iam.RecordPasswordUse(ctx, profile.UserName); err != nil {
		s.log.Warn("password use not recorded", "user", profile.UserName, "err", err)
	}
	user, err := s.iam.GetUser(ctx, profile.UserName)
	if err != nil {
		return nil, nil, err
	}
	r.Caller = &rpc.Caller{Account: s.cfg.Account, ARN: user.ARN, UserID: user.ID, UserName: user.Name, Type: "IAMUser"}
	r.Authorizer = s.authorize
	if err := r.RefuseExplicitDeny(ctx, "shortfuse:ConsoleSignIn", user.ARN); err != nil {
		return nil, nil, err
	}
	creds, minted, err := s.mintSession(ctx, r, sessionSpec{
		Type: sessiontoken.TypeGetSessionToken, User: user, Duration: uiSessionDuration, MFA: true, MFAAuthTime: r.Time,
	})
	if err != nil {
		return nil, nil, err
	}
	if _, err := s.sessions.Heartbeat(ctx, minted.AccessKeyID, uiIdle, r.Time); err != nil {
		return nil, nil, err
	}
	result := map[string]any{"UserName": user.Name, "AccessKeyId": creds.AccessKeyID, "Expiration": minted.Expires.UTC().Format(time.RFC3339)}
	return &webui.Principal{UserName: user.Name, ARN: user.ARN, Expires: minted.Expires, MustChangePassword: profile.PasswordResetRequired, Handle: minted}, result, nil
}

// opConsolePage is what showing a page to a signed-in user is, for the
// session rules: it changes nothing and spends no use.
var opConsolePage = &rpc.Operation{Service: "shortfuse", Action: "ConsolePage", Protocol: rpc.ProtocolJSON, Rules: rpc.Read | rpc.Uncounted}

// Check refuses a page whose session may no longer act: the session rules
// of every call (admit), without a record.
func (b *uiBackend) Check(ctx context.Context, p *webui.Principal, m webui.Meta) error {
	c := claimsOf(p)
	if c == nil {
		return errors.New("no session")
	}
	r := b.newRequest(opConsolePage.Action, m)
	r.Caller = callerFromSession(c)
	if err := b.s.admit(ctx, opConsolePage, r); err != nil {
		return err
	}
	// A page shown is the session's heartbeat.
	_, err := b.s.sessions.Heartbeat(ctx, c.AccessKeyID, uiIdle, r.Time)
	return err
}

// SignOut revokes the page's session.
func (b *uiBackend) SignOut(ctx context.Context, p *webui.Principal, m webui.Meta) {
	c := claimsOf(p)
	if c == nil {
		return
	}
	body, _ := json.Marshal(map[string]string{"AccessKeyId": c.AccessKeyID})
	if _, err := b.invoke(ctx, p, m, "shortfuse", "RevokeSession", nil, body); err != nil {
		b.s.log.Warn("approval page sign-out: session not revoked", "err", err)
	}
}

// invoke runs an operation of the table as the page's user, through the
// pipeline, as an API call signed with the page's session would run.
func (b *uiBackend) invoke(ctx context.Context, p *webui.Principal, m webui.Meta, service, action string, params *awsapi.Params, body []byte) (any, error) {
	s := b.s
	c := claimsOf(p)
	if c == nil {
		return nil, errors.New("no session")
	}
	op := s.mux.Lookup(service, action)
	if op == nil {
		return nil, errors.New("unknown operation " + service + ":" + action)
	}
	r := b.newRequest(action, m)
	r.Service, r.Params, r.Body = service, params, body
	r.Caller = callerFromSession(c)
	result, err := s.dispatch(ctx, op, r, nil)
	if err != nil {
		var we *awsapi.Error
		if errors.As(err, &we) && (we.Code == awsapi.CodeExpiredToken || we.Code == awsapi.CodeInvalidClientTokenID) {
			return nil, &webui.Error{Msg: "Your session has ended."}
		}
		return nil, s.uiError(err, r.ID)
	}
	return result, nil
}

// uiError turns an operation's error into what the page may show: the
// wire message (toWire), which is written for clients; an internal error
// stays the error it is.
func (s *Server) uiError(err error, reqID string) error {
	if we := s.toWire(err, reqID); we.Code != awsapi.CodeInternal {
		return &webui.Error{Msg: we.Message}
	}
	return err
}

func requestView(q *requestShape) *webui.Request {
	out := &webui.Request{
		Code: q.Code, Status: q.Status, RoleARN: q.RoleArn, Requester: q.Requester, SourceIP: q.SourceIP, Reason: q.Reason,
		Duration:  time.Duration(q.DurationSeconds) * time.Second,
		CreatedAt: time.Unix(int64(q.CreatedAt), 0), ExpiresAt: time.Unix(int64(q.ExpiresAt), 0),
		Build:    webui.Build{System: q.Build.System, URL: q.Build.URL, Job: q.Build.Job, Number: q.Build.Number, Commit: q.Build.Commit, ParamsHash: q.Build.ParametersHash},
		Required: q.ApprovalsRequired, Group: q.ApproversGroup, Policy: q.SessionPolicy, DeniedBy: q.DeniedBy, DenyReason: q.DenyReason,
		SessionAccessKeyID: q.SessionAccessKey,
	}
	if q.SessionExpiration != nil {
		out.SessionExpires = time.Unix(int64(*q.SessionExpiration), 0)
	}
	for _, a := range q.Approvals {
		out.Approvals = append(out.Approvals, webui.Approval{UserName: a.UserName, At: time.Unix(a.ApprovedAt.Unix(), 0), Duration: time.Duration(a.DurationSeconds) * time.Second})
	}
	return out
}

func (b *uiBackend) ListRequests(ctx context.Context, p *webui.Principal, m webui.Meta) ([]webui.Request, error) {
	res, err := b.invoke(ctx, p, m, "shortfuse", "ListRequests", nil, []byte(`{"Status":"pending"}`))
	if err != nil {
		return nil, err
	}
	out := res.(*listRequestsOutput)
	list := make([]webui.Request, 0, len(out.Requests))
	for i := range out.Requests {
		list = append(list, *requestView(&out.Requests[i]))
	}
	return list, nil
}

func (b *uiBackend) requestCall(ctx context.Context, p *webui.Principal, m webui.Meta, action string, in any) (*webui.Request, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	res, err := b.invoke(ctx, p, m, "shortfuse", action, nil, body)
	if err != nil {
		return nil, err
	}
	return requestView(&res.(*requestOutput).Request), nil
}

func (b *uiBackend) GetRequest(ctx context.Context, p *webui.Principal, m webui.Meta, code string) (*webui.Request, error) {
	return b.requestCall(ctx, p, m, "GetRequest", map[string]any{"Code": code})
}

func (b *uiBackend) Approve(ctx context.Context, p *webui.Principal, m webui.Meta, code string, d time.Duration, policy string) (*webui.Request, error) {
	in := map[string]any{"Code": code}
	if d > 0 {
		in["DurationSeconds"] = int64(d / time.Second)
	}
	if policy != "" {
		in["Policy"] = policy
	}
	return b.requestCall(ctx, p, m, "ApproveRequest", in)
}

func (b *uiBackend) Deny(ctx context.Context, p *webui.Principal, m webui.Meta, code, reason string) (*webui.Request, error) {
	in := map[string]any{"Code": code}
	if reason != "" {
		in["Reason"] = reason
	}
	return b.requestCall(ctx, p, m, "DenyRequest", in)
}

// ListSessions lists the user's own sessions and those lent by the user's
// approvals (their source is the user). It needs no permission: these are
// the caller's own.
func (b *uiBackend) ListSessions(ctx context.Context, p *webui.Principal, m webui.Meta) ([]webui.Session, error) {
	c := claimsOf(p)
	if c == nil {
		return nil, errors.New("no session")
	}
	now := b.s.cfg.Now()
	recs, _, err := b.s.sessions.List(ctx, registry.Filter{Principal: p.ARN, Limit: 200}, now)
	if err != nil {
		return nil, err
	}
	before := b.s.sessions.Before()
	out := make([]webui.Session, 0, len(recs))
	for _, r := range recs {
		out = append(out, webui.Session{
			AccessKeyID: r.AccessKeyID, PrincipalARN: r.PrincipalARN, SourceARN: r.SourceARN, Type: r.Type,
			State: r.State(now, before), IssuedAt: r.IssuedAt, Expires: r.Expires, Current: r.AccessKeyID == c.AccessKeyID,
		})
	}
	return out, nil
}

// RevokeSession: a session lent through an approval is revoked with
// RevokeRequestSession (its approvers may always); any other with
// RevokeSession (the page's own session always; others need
// shortfuse:RevokeSession).
func (b *uiBackend) RevokeSession(ctx context.Context, p *webui.Principal, m webui.Meta, akid string) error {
	if b.s.approval != nil {
		if q, err := b.s.approval.BySession(ctx, akid); err == nil {
			body, _ := json.Marshal(map[string]string{"Code": q.Code})
			_, err := b.invoke(ctx, p, m, "shortfuse", "RevokeRequestSession", nil, body)
			return err
		} else if !errors.Is(err, approvals.ErrNotFound) {
			return err
		}
	}
	body, _ := json.Marshal(map[string]string{"AccessKeyId": akid})
	_, err := b.invoke(ctx, p, m, "shortfuse", "RevokeSession", nil, body)
	return err
}

// ChangePassword runs iam:ChangePassword as the page's user.
func (b *uiBackend) ChangePassword(ctx context.Context, p *webui.Principal, m webui.Meta, oldPassword, newPassword string) error {
	params, err := awsapi.ParseQuery(url.Values{"OldPassword": {oldPassword}, "NewPassword": {newPassword}}.Encode())
	if err != nil {
		return &webui.Error{Msg: "The password has characters that cannot be sent."}
	}
	_, err = b.invoke(ctx, p, m, "iam", "ChangePassword", params, nil)
	return err
}
