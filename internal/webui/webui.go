package webui

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/fault"
)

//go:embed templates/*.html static/*
var assets embed.FS

// Meta describes the HTTP request behind a backend call, for the audit
// trail and for condition keys.
type Meta struct {
	SourceIP  string
	UserAgent string
	Secure    bool
}

// Principal is a signed-in approver. Handle is the backend's own state (the
// broker session behind the page).
type Principal struct {
	UserName string
	ARN      string
	// Expires is when the backend's session ends; the page's session ends
	// then at the latest.
	Expires time.Time
	// MustChangePassword sends the user to the password page first.
	MustChangePassword bool
	Handle             any
}

// Build is a request's build.
type Build struct {
	System, URL, Job, Number, Commit, ParamsHash string
}

// Approval is one approval of a request.
type Approval struct {
	UserName string
	At       time.Time
	Duration time.Duration
}

// Request is an approval request as the page shows it.
type Request struct {
	Code, Status, RoleARN, Requester, SourceIP, Reason string
	Duration                                           time.Duration
	CreatedAt, ExpiresAt                               time.Time
	Build                                              Build
	Required                                           int
	Group                                              string
	Approvals                                          []Approval
	Policy                                             string
	DeniedBy, DenyReason                               string
	SessionAccessKeyID                                 string
	SessionExpires                                     time.Time
}

// Session is one of the signed-in user's sessions, or one they lent.
type Session struct {
	AccessKeyID, PrincipalARN, SourceARN, Type, State string
	IssuedAt, Expires                                 time.Time
	// Current marks the session behind this page.
	Current bool
}

// Backend is what the page needs from the broker. Every method but
// SignIn and Check acts as the principal, with its permissions, and is
// audited by the backend. Errors of type *Error carry a message for the
// user; any other error is shown as a generic failure and logged.
type Backend interface {
	// SignIn checks a user's password and TOTP code and opens a session.
	SignIn(ctx context.Context, userName, password, code string, m Meta) (*Principal, error)
	// Check returns an error when the principal's session was revoked or
	// has expired.
	Check(ctx context.Context, p *Principal, m Meta) error
	// SignOut ends the principal's session.
	SignOut(ctx context.Context, p *Principal, m Meta)
	ListRequests(ctx context.Context, p *Principal, m Meta) ([]Request, error)
	GetRequest(ctx context.Context, p *Principal, m Meta, code string) (*Request, error)
	Approve(ctx context.Context, p *Principal, m Meta, code string, d time.Duration, policy string) (*Request, error)
	Deny(ctx context.Context, p *Principal, m Meta, code, reason string) (*Request, error)
	ListSessions(ctx context.Context, p *Principal, m Meta) ([]Session, error)
	RevokeSession(ctx context.Context, p *Principal, m Meta, accessKeyID string) error
	ChangePassword(ctx context.Context, p *Principal, m Meta, oldPassword, newPassword string) error
}

// Error is a backend error whose message is safe to show.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

// Options configure the page.
type Options struct {
	Backend Backend
	Now     func() time.Time
	Rand    io.Reader
	Logger  *slog.Logger
	// IdleTimeout ends a session not used for this long (default 10m).
	IdleTimeout time.Duration
	// MaxFailures sign-in failures per (user name, address) are allowed
	// in FailureWindow (defaults 5 and 15m); then sign-in from that
	// address as that user is refused until the window has passed.
	MaxFailures   int
	FailureWindow time.Duration
}

// Cookie names. The __Host- prefix makes browsers refuse them unless they
// are Secure, host-only and for path /.
const (
	cookieSession = "__Host-shortfuse-ui"
	cookieLogin   = "__Host-shortfuse-login"
)

// maxSessions bounds the session table.
const maxSessions = 10000

// UI is the approval page.
type UI struct {
	o       Options
	tmpl    map[string]*template.Template
	style   []byte
	icon    []byte
	formKey []byte

	mu       sync.Mutex
	sessions map[string]*uiSession // SHA-256 of the cookie value → session
	failures map[string][]time.Time
}

type uiSession struct {
	p        *Principal
	csrf     string
	lastSeen time.Time
	flash    string
	flashErr bool
}

// New returns the page's handler, to be mounted at /ui/.
func New(o Options) (*UI, error) {
	if o.Backend == nil || o.Now == nil || o.Rand == nil {
		return nil, errors.New("webui: Backend, Now and Rand are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 10 * time.Minute
	}
	if o.MaxFailures <= 0 {
		o.MaxFailures = 5
	}
	if o.FailureWindow <= 0 {
		o.FailureWindow = 15 * time.Minute
	}
	u := &UI{o: o, tmpl: map[string]*template.Template{}, sessions: map[string]*uiSession{}, failures: map[string][]time.Time{}}
	u.formKey = make([]byte, 32)
	if _, err := io.ReadFull(o.Rand, u.formKey); err != nil {
		return nil, err
	}
	funcs := template.FuncMap{
		"when":     func(t time.Time) string { return formatTime(t) },
		"dur":      func(d time.Duration) string { return d.String() },
		"minutes":  func(d time.Duration) int { return int(d / time.Minute) },
		"short":    shortARN,
		"count":    func(a []Approval) int { return len(a) },
		"left":     func(t time.Time) string { return t.Sub(o.Now()).Round(time.Second).String() },
		"upper":    strings.ToUpper,
		"isactive": func(s string) bool { return s == "active" },
	}
	for _, page := range []string{"login", "index", "request", "password"} {
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/"+page+".html")
		if err != nil {
			return nil, fmt.Errorf("webui: template %s: %w", page, err)
		}
		u.tmpl[page] = t
	}
	style, err := assets.ReadFile("static/style.css")
	if err != nil {
		return nil, err
	}
	u.style = style
	if u.icon, err = assets.ReadFile("static/favicon.svg"); err != nil {
		return nil, err
	}
	return u, nil
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func shortARN(arn string) string {
	for _, sep := range []string{":user/", ":assumed-role/", ":role/"} {
		if _, rest, ok := strings.Cut(arn, sep); ok {
			return rest
		}
	}
	return arn
}

// securityHeaders go on every answer.
func securityHeaders(w http.ResponseWriter, tls bool) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	if tls {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
}

// loopbackConn reports whether the request came in on a loopback address.
func loopbackConn(r *http.Request) bool {
	a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var (
	reCodePath = regexp.MustCompile(`^/ui/requests/([A-Za-z2-9]{4}-[A-Za-z2-9]{4})(/approve|/deny)?$`)
	reAKID     = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
)

// ServeHTTP implements http.Handler: the transport and form checks, then
// the pages open to all (static files, sign-in), then, for a signed-in
// approver whose session still holds, the pages behind sign-in.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !admit(w, r) || u.servePublic(w, r) {
		return
	}
	s, sid, ok := u.signedIn(w, r)
	if !ok {
		return
	}
	u.serveSignedIn(w, r, s, sid)
}

// admit sets the security headers and refuses plain HTTP off loopback,
// other methods than GET and POST, cross-site POSTs and bad forms.
func admit(w http.ResponseWriter, r *http.Request) bool {
	securityHeaders(w, r.TLS != nil)
	if r.TLS == nil && !loopbackConn(r) {
		http.Error(w, "The approval page is served over HTTPS only: start the broker with --tls-cert and --tls-key.", http.StatusForbidden)
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	if r.Method == http.MethodPost {
		if !sameOrigin(r) {
			http.Error(w, "cross-site request refused", http.StatusForbidden)
			return false
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return false
		}
	}
	return true
}

// servePublic serves the pages open without signing in; false for others.
func (u *UI) servePublic(w http.ResponseWriter, r *http.Request) bool {
	switch path := r.URL.Path; {
	case path == "/ui/static/style.css" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(u.style)
	case path == "/ui/static/favicon.svg" && r.Method == http.MethodGet:
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "max-age=86400")
		_, _ = w.Write(u.icon)
	case path == "/ui/login" && r.Method == http.MethodPost:
		u.postLogin(w, r)
	case path == "/ui/login":
		u.getLogin(w, r, "", "")
	default:
		return false
	}
	return true
}

// signedIn is the request's sign-in session, checked again with the
// backend (a revoked or expired one is dropped), with the form's CSRF
// token on a POST. Without one, a GET goes to the sign-in page (and back
// to a request's page after it).
func (u *UI) signedIn(w http.ResponseWriter, r *http.Request) (*uiSession, string, bool) {
	s, sid := u.session(r)
	if s == nil {
		if r.Method == http.MethodGet {
			next := ""
			if reCodePath.MatchString(r.URL.Path) {
				next = r.URL.Path
			}
			http.Redirect(w, r, "/ui/login"+nextQuery(next), http.StatusSeeOther)
			return nil, "", false
		}
		http.Error(w, "your session has ended: sign in again", http.StatusForbidden)
		return nil, "", false
	}
	if err := u.o.Backend.Check(r.Context(), s.p, metaOf(r)); err != nil {
		u.drop(sid)
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return nil, "", false
	}
	if r.Method == http.MethodPost && !u.csrfOK(s, r.PostFormValue("csrf")) {
		http.Error(w, "the form is stale or forged: reload the page", http.StatusForbidden)
		return nil, "", false
	}
	return s, sid, true
}

// serveSignedIn serves the pages behind sign-in; an approver who must
// change a password sees only that page.
func (u *UI) serveSignedIn(w http.ResponseWriter, r *http.Request, s *uiSession, sid string) {
	path := r.URL.Path
	switch {
	case path == "/ui/logout" && r.Method == http.MethodPost:
		u.o.Backend.SignOut(r.Context(), s.p, metaOf(r))
		u.drop(sid)
		clearCookie(w, cookieSession)
		http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
		return
	case path == "/ui/password":
		u.password(w, r, s)
		return
	case u.mustChange(s):
		http.Redirect(w, r, "/ui/password", http.StatusSeeOther)
		return
	case path == "/ui/" && r.Method == http.MethodGet:
		u.index(w, r, s)
		return
	case path == "/ui/sessions/revoke" && r.Method == http.MethodPost:
		u.revoke(w, r, s, sid)
		return
	}
	m := reCodePath.FindStringSubmatch(path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	code := strings.ToUpper(m[1])
	switch {
	case m[2] == "" && r.Method == http.MethodGet:
		u.request(w, r, s, code)
	case m[2] == "/approve" && r.Method == http.MethodPost:
		u.approve(w, r, s, code)
	case m[2] == "/deny" && r.Method == http.MethodPost:
		u.deny(w, r, s, code)
	default:
		http.NotFound(w, r)
	}
}

func nextQuery(next string) string {
	if next == "" {
		return ""
	}
	return "?next=" + url.QueryEscape(next)
}

// sameOrigin refuses a post that says it comes from another origin. Forms
// of this page send Origin (or, from older browsers, nothing).
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

func metaOf(r *http.Request) Meta {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return Meta{SourceIP: host, UserAgent: r.UserAgent(), Secure: r.TLS != nil}
}

// --- sessions -----------------------------------------------------------------

func (u *UI) random(n int) string {
	b := make([]byte, n)
	if _, err := io.ReadFull(u.o.Rand, b); err != nil {
		panic("webui: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func sessionKey(cookie string) string {
	sum := sha256.Sum256([]byte(cookie))
	return hex.EncodeToString(sum[:])
}

// session returns the live session the request's cookie names.
func (u *UI) session(r *http.Request) (*uiSession, string) {
	c, err := r.Cookie(cookieSession)
	if err != nil || len(c.Value) != 43 {
		return nil, ""
	}
	key := sessionKey(c.Value)
	now := u.o.Now()
	u.mu.Lock()
	defer u.mu.Unlock()
	s := u.sessions[key]
	if s == nil {
		return nil, ""
	}
	if now.Sub(s.lastSeen) >= u.o.IdleTimeout || !now.Before(s.p.Expires) {
		delete(u.sessions, key)
		return nil, ""
	}
	s.lastSeen = now
	return s, key
}

func (u *UI) drop(key string) {
	u.mu.Lock()
	delete(u.sessions, key)
	u.mu.Unlock()
}

// open starts a session for p and sets its cookie.
func (u *UI) open(w http.ResponseWriter, p *Principal) {
	value := u.random(32)
	now := u.o.Now()
	u.mu.Lock()
	if len(u.sessions) >= maxSessions {
		// Forget idle sessions first; if none, the oldest.
		var oldest string
		var oldestSeen time.Time
		for k, s := range u.sessions {
			if now.Sub(s.lastSeen) >= u.o.IdleTimeout {
				delete(u.sessions, k)
				continue
			}
			if oldest == "" || s.lastSeen.Before(oldestSeen) {
				oldest, oldestSeen = k, s.lastSeen
			}
		}
		if len(u.sessions) >= maxSessions {
			delete(u.sessions, oldest)
		}
	}
	u.sessions[sessionKey(value)] = &uiSession{p: p, csrf: u.random(32), lastSeen: now}
	u.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: cookieSession, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearCookie(w http.ResponseWriter, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func (u *UI) csrfOK(s *uiSession, token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

func (u *UI) mustChange(s *uiSession) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return s.p.MustChangePassword
}

func (u *UI) setFlash(s *uiSession, msg string, isErr bool) {
	u.mu.Lock()
	s.flash, s.flashErr = msg, isErr
	u.mu.Unlock()
}

func (u *UI) takeFlash(s *uiSession) (string, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	msg, isErr := s.flash, s.flashErr
	s.flash = ""
	return msg, isErr
}

// --- sign-in ------------------------------------------------------------------

// loginToken binds the login form to its pre-session cookie.
func (u *UI) loginToken(cookie string) string {
	m := hmac.New(sha256.New, u.formKey)
	m.Write([]byte("login\x00" + cookie))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

type page struct {
	Title    string
	User     string
	CSRF     string
	Flash    string
	FlashErr bool
	Data     any
}

func (u *UI) render(w http.ResponseWriter, status int, name string, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := u.tmpl[name].Execute(w, p); err != nil {
		u.o.Logger.Error("webui: render", "page", name, "err", err)
	}
}

type loginData struct {
	UserName string
	Next     string
}

func (u *UI) getLogin(w http.ResponseWriter, r *http.Request, msg, userName string) {
	c, err := r.Cookie(cookieLogin)
	value := ""
	if err == nil && len(c.Value) == 43 {
		value = c.Value
	} else {
		value = u.random(32)
		http.SetCookie(w, &http.Cookie{Name: cookieLogin, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	}
	next := r.FormValue("next")
	if !reCodePath.MatchString(next) {
		next = ""
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnauthorized
	}
	u.render(w, status, "login", page{Title: "Sign in", CSRF: u.loginToken(value), Flash: msg, FlashErr: msg != "", Data: loginData{UserName: userName, Next: next}})
}

// throttled reports whether sign-in is refused for these keys now.
func (u *UI) throttled(keys []string, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	for _, k := range keys {
		recent := u.failures[k][:0]
		for _, t := range u.failures[k] {
			if now.Sub(t) < u.o.FailureWindow {
				recent = append(recent, t)
			}
		}
		if len(recent) == 0 {
			delete(u.failures, k)
			continue
		}
		u.failures[k] = recent
		if len(recent) >= u.o.MaxFailures {
			return true
		}
	}
	return false
}

func (u *UI) failed(keys []string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.failures) > 100000 {
		u.failures = map[string][]time.Time{}
	}
	for _, k := range keys {
		u.failures[k] = append(u.failures[k], now)
	}
}

func (u *UI) postLogin(w http.ResponseWriter, r *http.Request) {
	c, err := r.Cookie(cookieLogin)
	if err != nil || len(c.Value) != 43 || !hmac.Equal([]byte(r.PostFormValue("csrf")), []byte(u.loginToken(c.Value))) {
		u.getLogin(w, r, "The sign-in form expired. Please try again.", "")
		return
	}
	user := strings.TrimSpace(r.PostFormValue("user"))
	password := r.PostFormValue("password")
	code := strings.TrimSpace(r.PostFormValue("code"))
	meta := metaOf(r)
	now := u.o.Now()
	// Failures are counted per (user, address): one user's failures from
	// one address never lock that user out of signing in from another, nor
	// another user out from the same address (behind a proxy, everyone).
	keys := []string{"user+ip:" + strings.ToLower(user) + "\x00" + meta.SourceIP}
	if u.throttled(keys, now) {
		u.o.Logger.Warn("webui: sign-in throttled", "user", fault.Printable(user, 64), "source_ip", meta.SourceIP)
		u.getLogin(w, r, "Too many failed sign-ins. Wait a few minutes.", user)
		return
	}
	p, err := u.o.Backend.SignIn(r.Context(), user, password, code, meta)
	if err != nil {
		u.failed(keys, now)
		var e *Error
		if !errors.As(err, &e) {
			u.o.Logger.Error("webui: sign-in", "err", err)
		}
		u.getLogin(w, r, "Sign-in failed: check the user name, the password and the MFA code.", user)
		return
	}
	clearCookie(w, cookieLogin)
	u.open(w, p)
	next := r.PostFormValue("next")
	if !reCodePath.MatchString(next) {
		next = "/ui/"
	}
	if p.MustChangePassword {
		next = "/ui/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// --- pages --------------------------------------------------------------------

func (u *UI) basePage(s *uiSession, title string) page {
	msg, isErr := u.takeFlash(s)
	return page{Title: title, User: s.p.UserName, CSRF: s.csrf, Flash: msg, FlashErr: isErr}
}

// userMessage is the text shown for a backend error.
func (u *UI) userMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	u.o.Logger.Error("webui: backend", "err", err)
	return "Something went wrong; the broker's log has the details."
}

type indexData struct {
	Requests []Request
	Sessions []Session
	ReqErr   string
	SessErr  string
}

func (u *UI) index(w http.ResponseWriter, r *http.Request, s *uiSession) {
	meta := metaOf(r)
	var d indexData
	reqs, err := u.o.Backend.ListRequests(r.Context(), s.p, meta)
	if err != nil {
		d.ReqErr = u.userMessage(err)
	}
	d.Requests = reqs
	sess, err := u.o.Backend.ListSessions(r.Context(), s.p, meta)
	if err != nil {
		d.SessErr = u.userMessage(err)
	}
	d.Sessions = sess
	p := u.basePage(s, "Approvals")
	p.Data = d
	u.render(w, http.StatusOK, "index", p)
}

type requestData struct {
	R          *Request
	MaxMinutes int
	Pending    bool
	Approved   []string
}

func (u *UI) request(w http.ResponseWriter, r *http.Request, s *uiSession, code string) {
	req, err := u.o.Backend.GetRequest(r.Context(), s.p, metaOf(r), code)
	if err != nil {
		p := u.basePage(s, "Request "+code)
		p.Flash, p.FlashErr = u.userMessage(err), true
		u.render(w, http.StatusNotFound, "request", p)
		return
	}
	p := u.basePage(s, "Request "+req.Code)
	p.Data = requestData{R: req, MaxMinutes: max(int(req.Duration/time.Minute), 1), Pending: req.Status == "pending"}
	u.render(w, http.StatusOK, "request", p)
}

func (u *UI) approve(w http.ResponseWriter, r *http.Request, s *uiSession, code string) {
	var d time.Duration
	if v := strings.TrimSpace(r.PostFormValue("minutes")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 720 {
			u.setFlash(s, "The duration must be a whole number of minutes.", true)
			http.Redirect(w, r, "/ui/requests/"+code, http.StatusSeeOther)
			return
		}
		d = time.Duration(n) * time.Minute
	}
	policy := strings.TrimSpace(r.PostFormValue("policy"))
	req, err := u.o.Backend.Approve(r.Context(), s.p, metaOf(r), code, d, policy)
	if err != nil {
		u.setFlash(s, u.userMessage(err), true)
		http.Redirect(w, r, "/ui/requests/"+code, http.StatusSeeOther)
		return
	}
	if req.Status == "approved" {
		u.setFlash(s, "Approved. The session waits for the build, which takes it once.", false)
	} else {
		u.setFlash(s, fmt.Sprintf("Your approval is recorded: %d of %d.", len(req.Approvals), req.Required), false)
	}
	http.Redirect(w, r, "/ui/requests/"+code, http.StatusSeeOther)
}

func (u *UI) deny(w http.ResponseWriter, r *http.Request, s *uiSession, code string) {
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, err := u.o.Backend.Deny(r.Context(), s.p, metaOf(r), code, reason); err != nil {
		u.setFlash(s, u.userMessage(err), true)
	} else {
		u.setFlash(s, "Denied. The build gets no session.", false)
	}
	http.Redirect(w, r, "/ui/requests/"+code, http.StatusSeeOther)
}

func (u *UI) revoke(w http.ResponseWriter, r *http.Request, s *uiSession, sid string) {
	akid := r.PostFormValue("akid")
	if !reAKID.MatchString(akid) {
		u.setFlash(s, "That is not a session's access key id.", true)
		http.Redirect(w, r, "/ui/", http.StatusSeeOther)
		return
	}
	if err := u.o.Backend.RevokeSession(r.Context(), s.p, metaOf(r), akid); err != nil {
		u.setFlash(s, u.userMessage(err), true)
	} else {
		u.setFlash(s, "Session "+akid+" is revoked.", false)
	}
	http.Redirect(w, r, "/ui/", http.StatusSeeOther)
}

type passwordData struct {
	Required bool
	Min      int
}

func (u *UI) password(w http.ResponseWriter, r *http.Request, s *uiSession) {
	if r.Method == http.MethodPost {
		oldPw, newPw, again := r.PostFormValue("old"), r.PostFormValue("new"), r.PostFormValue("again")
		switch {
		case newPw != again:
			u.setFlash(s, "The new passwords differ.", true)
		default:
			if err := u.o.Backend.ChangePassword(r.Context(), s.p, metaOf(r), oldPw, newPw); err != nil {
				u.setFlash(s, u.userMessage(err), true)
			} else {
				u.mu.Lock()
				s.p.MustChangePassword = false
				u.mu.Unlock()
				u.setFlash(s, "Your password is changed.", false)
				http.Redirect(w, r, "/ui/", http.StatusSeeOther)
				return
			}
		}
		http.Redirect(w, r, "/ui/password", http.StatusSeeOther)
		return
	}
	p := u.basePage(s, "Change password")
	p.Data = passwordData{Required: u.mustChange(s), Min: 14}
	u.render(w, http.StatusOK, "password", p)
}
