package webui

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/testutil"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeBackend knows one user, alice, password "correct horse battery",
// code 123456, and one pending request.
type fakeBackend struct {
	mu       sync.Mutex
	clock    *testutil.Clock
	revoked  bool
	calls    []string
	req      Request
	approved time.Duration
	policy   string
	signIns  int
}

func (f *fakeBackend) record(s string) { f.mu.Lock(); f.calls = append(f.calls, s); f.mu.Unlock() }

func (f *fakeBackend) SignIn(ctx context.Context, user, password, code string, m Meta) (*Principal, error) {
	f.mu.Lock()
	f.signIns++
	f.mu.Unlock()
	if user != "alice" || password != "correct horse battery" || code != "123456" {
		return nil, &Error{Msg: "no"}
	}
	return &Principal{UserName: "alice", ARN: "arn:aws:iam::111122223333:user/alice", Expires: f.clock.Now().Add(time.Hour)}, nil
}

func (f *fakeBackend) Check(ctx context.Context, p *Principal, m Meta) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.revoked {
		return errors.New("revoked")
	}
	return nil
}

func (f *fakeBackend) SignOut(ctx context.Context, p *Principal, m Meta) { f.record("signout") }

func (f *fakeBackend) ListRequests(ctx context.Context, p *Principal, m Meta) ([]Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []Request{f.req}, nil
}

func (f *fakeBackend) GetRequest(ctx context.Context, p *Principal, m Meta, code string) (*Request, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if code != f.req.Code {
		return nil, &Error{Msg: "no approval request has that code"}
	}
	r := f.req
	return &r, nil
}

func (f *fakeBackend) Approve(ctx context.Context, p *Principal, m Meta, code string, d time.Duration, policy string) (*Request, error) {
	f.record("approve " + code)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.approved, f.policy = d, policy
	f.req.Status = "approved"
	r := f.req
	return &r, nil
}

func (f *fakeBackend) Deny(ctx context.Context, p *Principal, m Meta, code, reason string) (*Request, error) {
	f.record("deny " + code + " " + reason)
	return &Request{Code: code, Status: "denied"}, nil
}

func (f *fakeBackend) ListSessions(ctx context.Context, p *Principal, m Meta) ([]Session, error) {
	return []Session{{AccessKeyID: "ASIAAAAAAAAAAAAAAAAA", PrincipalARN: p.ARN, State: "active", Current: true, IssuedAt: t0, Expires: t0.Add(time.Hour)}}, nil
}

func (f *fakeBackend) RevokeSession(ctx context.Context, p *Principal, m Meta, akid string) error {
	f.record("revoke " + akid)
	return nil
}

func (f *fakeBackend) ChangePassword(ctx context.Context, p *Principal, m Meta, o, n string) error {
	f.record("password")
	return nil
}

const evilURL = `https://ci.example/job/x/?a="><script>alert(1)</script>`

func newUI(t *testing.T) (*UI, *fakeBackend, *testutil.Clock) {
	t.Helper()
	c := testutil.NewClock(t0)
	f := &fakeBackend{clock: c, req: Request{
		Code: "ABCD-EFGH", Status: "pending", RoleARN: "arn:aws:iam::111122223333:role/deploy", Requester: "arn:aws:iam::111122223333:user/jenkins",
		Reason: "<b>ship</b>", Duration: 15 * time.Minute, CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute), Required: 1,
		Build: Build{URL: evilURL, Job: "deploy<i>", Number: "42", Commit: "0123456789abcdef"},
	}}
	u, err := New(Options{Backend: f, Now: c.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	return u, f, c
}

// client is a browser stand-in: it keeps cookies itself (the __Host-
// cookies are Secure, which Go's jar would not send over the loopback
// HTTP of the test server) and does not follow redirects.
type client struct {
	t       *testing.T
	base    string
	cookies map[string]string
	hc      *http.Client
}

func newClient(t *testing.T, h http.Handler) *client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &client{t: t, base: srv.URL, cookies: map[string]string{}, hc: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// from returns a client of the same page whose connections come from
// another loopback address (another source IP).
func (c *client) from(ip string) *client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	c.t.Cleanup(tr.CloseIdleConnections)
	return &client{t: c.t, base: c.base, cookies: map[string]string{}, hc: &http.Client{Transport: tr, CheckRedirect: c.hc.CheckRedirect}}
}

func (c *client) do(method, path string, form url.Values, hdr map[string]string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", c.base)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	for k, v := range c.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, ck := range resp.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck.Value
		}
	}
	return resp, string(data)
}

var reCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := reCSRF.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

func (c *client) signIn(password string) *http.Response {
	c.t.Helper()
	_, page := c.do("GET", "/ui/login", nil, nil)
	resp, _ := c.do("POST", "/ui/login", url.Values{"csrf": {csrfOf(c.t, page)}, "user": {"alice"}, "password": {password}, "code": {"123456"}}, nil)
	return resp
}

func TestSignInAndApprove(t *testing.T) {
	u, f, _ := newUI(t)
	c := newClient(t, u)

	resp, _ := c.do("GET", "/ui/requests/ABCD-EFGH", nil, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/login?next=%2Fui%2Frequests%2FABCD-EFGH" {
		t.Fatalf("unauthenticated GET: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := c.do("GET", "/ui/login", nil, nil)
	checkHeaders(t, resp)
	ck := findCookie(resp, cookieLogin)
	if ck == nil || !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" {
		t.Fatalf("login cookie = %+v", ck)
	}
	if !strings.Contains(page, `name="password"`) || strings.Contains(page, "<script") {
		t.Fatalf("login page:\n%s", page)
	}

	resp = c.signIn("correct horse battery")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/ui/" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	sc := findCookie(resp, cookieSession)
	if sc == nil || !sc.Secure || !sc.HttpOnly || sc.SameSite != http.SameSiteStrictMode || sc.Path != "/" || sc.Domain != "" {
		t.Fatalf("session cookie = %+v", sc)
	}

	resp, page = c.do("GET", "/ui/", nil, nil)
	checkHeaders(t, resp)
	for _, want := range []string{"ABCD-EFGH", "deploy&lt;i&gt; #42", "0123456789ab", "ASIAAAAAAAAAAAAAAAAA", "(this page)"} {
		if !strings.Contains(page, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	assertNoInjection(t, page)

	_, page = c.do("GET", "/ui/requests/abcd-efgh", nil, nil)
	if !strings.Contains(page, "&lt;b&gt;ship&lt;/b&gt;") || !strings.Contains(page, `id="approve"`) {
		t.Fatalf("request page:\n%s", page)
	}
	assertNoInjection(t, page)
	token := csrfOf(t, page)

	// A post without the token, with a wrong one, or from another origin
	// is refused and changes nothing.
	for name, tc := range map[string]struct {
		form url.Values
		hdr  map[string]string
	}{
		"fail/no-token":     {url.Values{"minutes": {"5"}}, nil},
		"fail/wrong-token":  {url.Values{"minutes": {"5"}, "csrf": {token + "x"}}, nil},
		"fail/cross-origin": {url.Values{"minutes": {"5"}, "csrf": {token}}, map[string]string{"Origin": "https://evil.example"}},
		"fail/cross-site":   {url.Values{"minutes": {"5"}, "csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
	} {
		t.Run(name, func(t *testing.T) {
			resp, _ := c.do("POST", "/ui/requests/ABCD-EFGH/approve", tc.form, tc.hdr)
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	if len(f.calls) != 0 {
		t.Fatalf("refused posts reached the backend: %v", f.calls)
	}

	resp, _ = c.do("POST", "/ui/requests/ABCD-EFGH/approve", url.Values{"csrf": {token}, "minutes": {"5"}, "policy": {`{"Version":"2012-10-17"}`}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d", resp.StatusCode)
	}
	if f.approved != 5*time.Minute || f.policy != `{"Version":"2012-10-17"}` {
		t.Errorf("backend got %s %q", f.approved, f.policy)
	}
	_, page = c.do("GET", "/ui/requests/ABCD-EFGH", nil, nil)
	if !strings.Contains(page, "Approved. The session waits for the build") {
		t.Errorf("no confirmation after approving:\n%s", page)
	}

	resp, _ = c.do("POST", "/ui/sessions/revoke", url.Values{"csrf": {token}, "akid": {"ASIAAAAAAAAAAAAAAAAA"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || f.calls[len(f.calls)-1] != "revoke ASIAAAAAAAAAAAAAAAAA" {
		t.Fatalf("revoke: %d %v", resp.StatusCode, f.calls)
	}
	resp, _ = c.do("POST", "/ui/logout", url.Values{"csrf": {token}}, nil)
	if resp.StatusCode != http.StatusSeeOther || f.calls[len(f.calls)-1] != "signout" {
		t.Fatalf("logout: %d %v", resp.StatusCode, f.calls)
	}
	resp, _ = c.do("GET", "/ui/", nil, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

func assertNoInjection(t *testing.T, page string) {
	t.Helper()
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>ship") || strings.Contains(page, "<i>") {
		t.Errorf("client text reached the page unescaped:\n%s", page)
	}
}

func findCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func checkHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "same-origin",
		"Cache-Control":           "no-store",
	}
	for k, v := range want {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestSessionEnds(t *testing.T) {
	t.Run("fail/idle", func(t *testing.T) {
		u, _, c := newUI(t)
		cl := newClient(t, u)
		cl.signIn("correct horse battery")
		c.Add(9 * time.Minute)
		if resp, _ := cl.do("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("after 9 idle minutes: %d", resp.StatusCode)
		}
		c.Add(10 * time.Minute)
		if resp, _ := cl.do("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("after 10 idle minutes: %d, want a redirect to sign in", resp.StatusCode)
		}
	})
	t.Run("fail/revoked", func(t *testing.T) {
		u, f, _ := newUI(t)
		cl := newClient(t, u)
		cl.signIn("correct horse battery")
		f.mu.Lock()
		f.revoked = true
		f.mu.Unlock()
		if resp, _ := cl.do("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoked session: %d", resp.StatusCode)
		}
	})
	t.Run("fail/forged-cookie", func(t *testing.T) {
		u, _, _ := newUI(t)
		cl := newClient(t, u)
		cl.cookies[cookieSession] = strings.Repeat("A", 43)
		if resp, _ := cl.do("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("forged cookie: %d", resp.StatusCode)
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	u, f, c := newUI(t)
	cl := newClient(t, u)
	// A login post without the pre-session cookie's token is refused
	// before the backend sees it.
	resp, _ := cl.do("POST", "/ui/login", url.Values{"user": {"alice"}, "password": {"correct horse battery"}, "code": {"123456"}}, nil)
	if resp.StatusCode != http.StatusUnauthorized || f.signIns != 0 {
		t.Fatalf("login without token: %d, %d sign-ins", resp.StatusCode, f.signIns)
	}
	for range 5 {
		if resp := cl.signIn("wrong"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", resp.StatusCode)
		}
	}
	// Throttled: even the right password is refused, without asking.
	before := f.signIns
	if resp := cl.signIn("correct horse battery"); resp.StatusCode != http.StatusUnauthorized || f.signIns != before {
		t.Fatalf("throttled sign-in: %d, backend asked %d times", resp.StatusCode, f.signIns-before)
	}
	// The failures were alice's from this address: alice signing in from
	// another address is not locked out.
	if resp := cl.from("127.0.0.2").signIn("correct horse battery"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in from another address while this one is throttled: %d", resp.StatusCode)
	}
	c.Add(16 * time.Minute)
	if resp := cl.signIn("correct horse battery"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: %d", resp.StatusCode)
	}
}

func TestTransportAndRoutes(t *testing.T) {
	u, _, _ := newUI(t)
	tests := []struct {
		name   string
		local  string
		tls    bool
		method string
		path   string
		want   int
	}{
		{"ok/loopback-http", "127.0.0.1:7575", false, "GET", "/ui/login", 200},
		{"ok/ipv6-loopback-http", "[::1]:7575", false, "GET", "/ui/login", 200},
		{"ok/tls-anywhere", "10.0.0.5:443", true, "GET", "/ui/login", 200},
		{"ok/style", "127.0.0.1:7575", false, "GET", "/ui/static/style.css", 200},
		{"fail/plain-http-off-loopback", "10.0.0.5:7575", false, "GET", "/ui/login", 403},
		{"fail/plain-http-unknown-address", "", false, "GET", "/ui/login", 403},
		{"fail/method", "127.0.0.1:7575", false, "PUT", "/ui/login", 405},
		{"fail/unknown-path-redirects-to-sign-in", "127.0.0.1:7575", false, "GET", "/ui/../etc/passwd", 303},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.local != "" {
				host, port, _ := net.SplitHostPort(tc.local)
				addr, err := net.ResolveTCPAddr("tcp", net.JoinHostPort(host, port))
				if err != nil {
					t.Fatal(err)
				}
				r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, addr))
			}
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			u.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.want, w.Body.String())
			}
			if tc.tls && w.Header().Get("Strict-Transport-Security") == "" {
				t.Error("no HSTS over TLS")
			}
			if w.Header().Get("Content-Security-Policy") == "" {
				t.Error("no CSP")
			}
		})
	}
}

func TestUnknownPathsSignedIn(t *testing.T) {
	u, _, _ := newUI(t)
	c := newClient(t, u)
	c.signIn("correct horse battery")
	for _, p := range []string{"/ui/nope", "/ui/requests/ABCD-EFGH/approve", "/ui/requests/../x"} {
		if resp, _ := c.do("GET", p, nil, nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", p, resp.StatusCode)
		}
	}
	resp, page := c.do("GET", "/ui/requests/ZZZZ-ZZZZ", nil, nil)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(page, "no approval request has that code") {
		t.Errorf("unknown code: %d", resp.StatusCode)
	}
}

func TestPasswordChangeRequired(t *testing.T) {
	c := testutil.NewClock(t0)
	f := &fakeBackend{clock: c}
	b := &mustChangeBackend{fakeBackend: f}
	u, err := New(Options{Backend: b, Now: c.Now, Rand: rand.Reader})
	if err != nil {
		t.Fatal(err)
	}
	cl := newClient(t, u)
	resp := cl.signIn("correct horse battery")
	if resp.Header.Get("Location") != "/ui/password" {
		t.Fatalf("sign-in with a reset password goes to %s", resp.Header.Get("Location"))
	}
	// Until the password is changed, every page sends the user back.
	if resp, _ := cl.do("GET", "/ui/", nil, nil); resp.Header.Get("Location") != "/ui/password" {
		t.Fatalf("GET /ui/ before the change: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, page := cl.do("GET", "/ui/password", nil, nil)
	token := csrfOf(t, page)
	resp, _ = cl.do("POST", "/ui/password", url.Values{"csrf": {token}, "old": {"a"}, "new": {"new password of alice"}, "again": {"different"}}, nil)
	if resp.Header.Get("Location") != "/ui/password" || len(f.calls) != 0 {
		t.Fatalf("mismatched passwords: %s %v", resp.Header.Get("Location"), f.calls)
	}
	resp, _ = cl.do("POST", "/ui/password", url.Values{"csrf": {token}, "old": {"a"}, "new": {"new password of alice"}, "again": {"new password of alice"}}, nil)
	if resp.Header.Get("Location") != "/ui/" || f.calls[len(f.calls)-1] != "password" {
		t.Fatalf("change: %s %v", resp.Header.Get("Location"), f.calls)
	}
	if resp, _ := cl.do("GET", "/ui/", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the change: %d", resp.StatusCode)
	}
}

type mustChangeBackend struct{ *fakeBackend }

func (b *mustChangeBackend) SignIn(ctx context.Context, user, password, code string, m Meta) (*Principal, error) {
	p, err := b.fakeBackend.SignIn(ctx, user, password, code, m)
	if p != nil {
		p.MustChangePassword = true
	}
	return p, err
}

// FuzzServeHTTP: whatever a signed-in browser sends, the page answers
// without panicking and without a server error, and every answer carries
// the security headers.
func FuzzServeHTTP(f *testing.F) {
	for _, s := range []struct{ method, path, body string }{
		{"GET", "/ui/", ""}, {"GET", "/ui/requests/ABCD-EFGH", ""}, {"POST", "/ui/requests/ABCD-EFGH/approve", "minutes=5&csrf=x"},
		{"POST", "/ui/sessions/revoke", "akid=ASIAAAAAAAAAAAAAAAAA"}, {"POST", "/ui/login", "user=a&password=b&code=1"},
		{"GET", "/ui/login?next=/ui/requests/ABCD-EFGH", ""}, {"POST", "/ui/password", "old=a&new=b&again=b"}, {"GET", "/ui/%2e%2e/", ""},
	} {
		f.Add(s.method, s.path, s.body, true)
	}
	c := testutil.NewClock(t0)
	fb := &fakeBackend{clock: c, req: Request{Code: "ABCD-EFGH", Status: "pending", Duration: time.Minute, Required: 1}}
	u, err := New(Options{Backend: fb, Now: c.Now, Rand: rand.Reader, MaxFailures: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	// A signed-in session whose CSRF token the fuzzer may or may not send.
	w := httptest.NewRecorder()
	u.open(w, &Principal{UserName: "alice", ARN: "arn:aws:iam::111122223333:user/alice", Expires: t0.Add(time.Hour)})
	cookie := w.Result().Cookies()[0]
	var csrf string
	for _, s := range u.sessions {
		csrf = s.csrf
	}
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7575}
	f.Fuzz(func(t *testing.T, method, path, body string, withToken bool) {
		if withToken && method == "POST" {
			body += "&csrf=" + url.QueryEscape(csrf)
		}
		r, err := http.NewRequest(method, "http://127.0.0.1:7575"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.AddCookie(cookie)
		r = r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, net.Addr(loopback)))
		rec := httptest.NewRecorder()
		u.ServeHTTP(rec, r)
		if rec.Code >= 500 {
			t.Fatalf("%s %q: status %d", method, path, rec.Code)
		}
		if rec.Header().Get("Content-Security-Policy") == "" || rec.Header().Get("X-Frame-Options") != "DENY" {
			t.Fatalf("%s %q: no security headers", method, path)
		}
	})
}
