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
	"github.com/shortfuse/shortfuse/internal/session"
	"github.com/shortfuse/shortfuse/internal/sessions"
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

// uiSessionDuration is the longest a page session lasts.
const uiSessionDuration = time.Hour

// uiHandler serves the approval page at /ui/.
func (s *Server) uiHandler() http.Handler {
	if s.approval == nil {
		return http.NotFoundHandler()
	}
	ui, err := webui.New(webui.Options{Backend: &uiBackend{s: s}, Now: s.cfg.Now, Rand: s.cfg.Rand, Logger: s.log})
	if err != nil {
		s.log.Error("approval page not served", "err", err)
		return http.NotFoundHandler()
	}
	return ui
}

type uiBackend struct{ s *Server }

var _ webui.Backend = (*uiBackend)(nil)

func claimsOf(p *webui.Principal) *session.Claims {
	c, _ := p.Handle.(*session.Claims)
	return c
}

// newRequest builds the request record of a page action.
func (b *uiBackend) newRequest(action string, m webui.Meta) *Request {
	s := b.s
	id := s.newRequestID()
	return &Request{
		ID:        id,
		Time:      s.cfg.Now().UTC(),
		Service:   "shortfuse",
		Action:    action,
		SourceIP:  m.SourceIP,
		UserAgent: "shortfuse-ui " + safeText(m.UserAgent),
		Secure:    m.Secure,
		Log:       s.log.With("request_id", id),
	}
}

var errUIFailed = &webui.Error{Msg: "Sign-in failed."}

// SignIn checks the password, then the TOTP code, then mints the page's
// session. It is audited as shortfuse:ConsoleSignIn (the password and code
// are not in the record); a user can be kept off the page with an explicit
// Deny of shortfuse:ConsoleSignIn.
func (b *uiBackend) SignIn(ctx context.Context, userName, password, code string, m webui.Meta) (*webui.Principal, error) {
	s := b.s
	r := b.newRequest("ConsoleSignIn", m)
	body, _ := json.Marshal(map[string]string{"UserName": safeText(userName)})
	r.Body = body
	if err := s.auditIntent(ctx, r); err != nil {
		return nil, err
	}
	var result any
	p, err := b.signIn(ctx, r, userName, password, code, &result)
	if aerr := s.auditRequest(ctx, r, result, err); aerr != nil {
		s.log.Error("audit record not written; sign-in refused", "err", aerr)
		if p != nil {
			_ = s.sessions.Revoke(ctx, claimsOf(p).AccessKeyID, "shortfuse:audit-failure", r.Time)
		}
		return nil, errUIFailed
	}
	if err != nil {
		s.log.Info("approval page sign-in refused", "request_id", r.ID, "user", safeText(userName), "source_ip", m.SourceIP)
		return nil, errUIFailed
	}
	s.log.Info("approval page sign-in", "request_id", r.ID, "user", p.UserName, "source_ip", m.SourceIP)
	return p, nil
}

func (b *uiBackend) signIn(ctx context.Context, r *Request, userName, password, code string, result *any) (*webui.Principal, error) {
	s := b.s
	refused := &awsapi.Error{Code: awsapi.CodeAccessDenied, Message: "Sign-in failed: wrong user name, password or MFA code."}
	profile, err := s.iam.CheckPassword(ctx, userName, password)
	if errors.Is(err, iam.ErrWrongPassword) {
		return nil, refused
	}
	if err != nil {
		return nil, err
	}
	if !reTokenCode.MatchString(code) {
		return nil, refused
	}
	devs, err := s.iam.ListMFADevices(ctx, profile.UserName)
	if err != nil {
		return nil, err
	}
	ok := false
	for _, d := range devs {
		err := s.iam.CheckMFA(ctx, profile.UserName, d.SerialNumber, code)
		if err == nil {
			ok = true
			break
		}
		if !errors.Is(err, iam.ErrInvalidAuthenticationCode) && !errors.Is(err, iam.ErrNoSuchEntity) {
			return nil, err
		}
	}
	if !ok {
		return nil, refused
	}
	user, err := s.iam.GetUser(ctx, profile.UserName)
	if err != nil {
		return nil, err
	}
	r.Caller = &Caller{Account: s.cfg.Account, ARN: user.ARN, UserID: user.ID, UserName: user.Name, Type: "IAMUser"}
	r.authorizer = s.authorize
	if err := s.refuseExplicitDeny(ctx, r, "shortfuse:ConsoleSignIn", user.ARN); err != nil {
		return nil, err
	}
	now := r.Time.Truncate(time.Second)
	claims := session.Claims{
		Account:      s.cfg.Account,
		Type:         session.TypeGetSessionToken,
		PrincipalARN: user.ARN,
		UserID:       user.ID,
		SourceARN:    user.ARN,
		IssuedAt:     now,
		Expires:      s.sessionExpiry(now, uiSessionDuration, nil),
		MFA:          true,
		MFAAuthTime:  now,
	}
	creds, minted, err := s.keyring.Mint(claims, s.cfg.Rand)
	if err != nil {
		return nil, err
	}
	if err := s.sessions.Register(ctx, &minted); err != nil {
		return nil, err
	}
	if m := s.cfg.Metrics; m != nil {
		m.sessionsMinted.WithLabelValues(minted.Type).Inc()
	}
	*result = map[string]any{"UserName": user.Name, "AccessKeyId": creds.AccessKeyID, "Expiration": minted.Expires.UTC().Format(time.RFC3339)}
	return &webui.Principal{UserName: user.Name, ARN: user.ARN, Expires: minted.Expires, MustChangePassword: profile.PasswordResetRequired, Handle: &minted}, nil
}

// Check refuses a page whose session was revoked or has expired.
func (b *uiBackend) Check(ctx context.Context, p *webui.Principal, m webui.Meta) error {
	c := claimsOf(p)
	if c == nil {
		return errors.New("no session")
	}
	if c.Expired(b.s.cfg.Now()) {
		return errExpiredToken
	}
	return b.s.sessions.Admit(ctx, c, b.s.cfg.Now(), false)
}

// SignOut revokes the page's session.
func (b *uiBackend) SignOut(ctx context.Context, p *webui.Principal, m webui.Meta) {
	c := claimsOf(p)
	if c == nil {
		return
	}
	body, _ := json.Marshal(map[string]string{"AccessKeyId": c.AccessKeyID})
	if _, err := b.invoke(ctx, p, m, "RevokeSession", body); err != nil {
		b.s.log.Warn("approval page sign-out: session not revoked", "err", err)
	}
}

// invoke runs a shortfuse operation as the page's user, as serveAPI
// would after authentication: session rules, intent record, handler,
// outcome record.
func (b *uiBackend) invoke(ctx context.Context, p *webui.Principal, m webui.Meta, action string, body []byte) (any, error) {
	s := b.s
	c := claimsOf(p)
	if c == nil {
		return nil, errors.New("no session")
	}
	op := s.mux.Lookup("shortfuse", action)
	if op == nil {
		return nil, errors.New("unknown operation " + action)
	}
	r := b.newRequest(action, m)
	r.Body = body
	r.Caller = callerFromSession(c)
	r.authorizer = s.authorize
	return b.run(ctx, r, op)
}

func (b *uiBackend) run(ctx context.Context, r *Request, op *Operation) (any, error) {
	s := b.s
	if err := s.sessions.Admit(ctx, r.Caller.Session, r.Time, false); err != nil {
		_ = s.auditRequest(ctx, r, nil, errExpiredToken)
		return nil, &webui.Error{Msg: "Your session has ended."}
	}
	if err := s.sessionRules(r); err != nil {
		_ = s.auditRequest(ctx, r, nil, err)
		return nil, uiError(err)
	}
	if !readOnly(op) {
		if err := s.auditIntent(ctx, r); err != nil {
			s.log.Error("audit intent not written; request refused", "request_id", r.ID, "err", err)
			return nil, errors.New("audit intent not written")
		}
	}
	result, err := s.execute(ctx, op, r)
	if aerr := s.auditRequest(ctx, r, result, err); aerr != nil {
		s.log.Error("audit record not written; result withheld", "request_id", r.ID, "err", aerr)
		return nil, errors.New("audit record not written")
	}
	if err != nil {
		return nil, uiError(err)
	}
	return result, nil
}

// uiError turns an operation's error into what the page may show: the
// wire message, which is written for clients.
func uiError(err error) error {
	var we *awsapi.Error
	if errors.As(err, &we) {
		if we.Code == awsapi.CodeInternal {
			return err
		}
		return &webui.Error{Msg: we.Message}
	}
	var ie *iam.Error
	if errors.As(err, &ie) {
		return &webui.Error{Msg: ie.Msg}
	}
	if w := approvalsErrorToWire(err); w != err {
		return uiError(w)
	}
	return err
}

func requestView(q *requestShape) *webui.Request {
	out := &webui.Request{
		Code: q.Code, Status: q.Status, RoleARN: q.RoleArn, Requester: q.Requester, SourceIP: q.SourceIP, Reason: q.Reason,
		Duration:  time.Duration(q.DurationSeconds) * time.Second,
		CreatedAt: time.Unix(int64(q.CreatedAt), 0), ExpiresAt: time.Unix(int64(q.ExpiresAt), 0),
		Build:    webui.Build{System: q.Build.System, URL: q.Build.URL, Job: q.Build.Job, Number: q.Build.Number, Commit: q.Build.Commit, ParamsHash: q.Build.ParamsHash},
		Required: q.ApprovalsRequired, Group: q.ApproversGroup, Policy: q.SessionPolicy, DeniedBy: q.DeniedBy, DenyReason: q.DenyReason,
		SessionAccessKeyID: q.SessionAccessKey,
	}
	if q.SessionExpiration != nil {
		out.SessionExpires = time.Unix(int64(*q.SessionExpiration), 0)
	}
	for _, a := range q.Approvals {
		out.Approvals = append(out.Approvals, webui.Approval{UserName: a.UserName, At: time.Unix(int64(a.ApprovedAt), 0), Duration: time.Duration(a.DurationSeconds) * time.Second})
	}
	return out
}

func (b *uiBackend) ListRequests(ctx context.Context, p *webui.Principal, m webui.Meta) ([]webui.Request, error) {
	res, err := b.invoke(ctx, p, m, "ListRequests", []byte(`{"Status":"pending"}`))
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
	res, err := b.invoke(ctx, p, m, action, body)
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
	recs, _, err := b.s.sessions.List(ctx, sessions.Filter{Principal: p.ARN, Limit: 200}, now)
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
			_, err := b.invoke(ctx, p, m, "RevokeRequestSession", body)
			return err
		} else if !errors.Is(err, approvals.ErrNotFound) {
			return err
		}
	}
	body, _ := json.Marshal(map[string]string{"AccessKeyId": akid})
	_, err := b.invoke(ctx, p, m, "RevokeSession", body)
	return err
}

// ChangePassword runs iam:ChangePassword as the page's user.
func (b *uiBackend) ChangePassword(ctx context.Context, p *webui.Principal, m webui.Meta, oldPassword, newPassword string) error {
	s := b.s
	c := claimsOf(p)
	if c == nil {
		return errors.New("no session")
	}
	op := s.mux.Lookup("iam", "ChangePassword")
	if op == nil {
		return errors.New("ChangePassword is not served")
	}
	params, err := awsapi.ParseQuery(url.Values{"OldPassword": {oldPassword}, "NewPassword": {newPassword}}.Encode())
	if err != nil {
		return &webui.Error{Msg: "The password has characters that cannot be sent."}
	}
	r := b.newRequest("ChangePassword", m)
	r.Service, r.Params = "iam", params
	r.Caller = callerFromSession(c)
	r.authorizer = s.authorize
	_, err = b.run(ctx, r, op)
	return err
}
