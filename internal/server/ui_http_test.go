package server

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/registry"
)

// pageClient drives the approval page in-process over HTTP, as a browser
// would: it keeps the cookies and sends back the csrf token of the last
// form it was shown.
type pageClient struct {
	t       *testing.T
	h       http.Handler
	cookies map[string]*http.Cookie
	csrf    string
	body    string // of the last response
}

var reFormCSRF = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newPageClient(t *testing.T, h http.Handler) *pageClient {
	return &pageClient{t: t, h: h, cookies: map[string]*http.Cookie{}}
}

// do serves one request and returns its status and Location.
func (c *pageClient) do(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		form.Set("csrf", c.csrf)
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "https://broker.test"+path, body)
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("User-Agent", "page-test")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, ck := range c.cookies {
		req.AddCookie(ck)
	}
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	res := rec.Result()
	for _, ck := range res.Cookies() {
		if ck.MaxAge < 0 {
			delete(c.cookies, ck.Name)
		} else {
			c.cookies[ck.Name] = ck
		}
	}
	c.body = rec.Body.String()
	if m := reFormCSRF.FindStringSubmatch(c.body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return res.StatusCode, res.Header.Get("Location")
}

// get shows a page, which must be served.
func (c *pageClient) get(path string) string {
	c.t.Helper()
	if status, loc := c.do(http.MethodGet, path, nil); status != http.StatusOK {
		c.t.Fatalf("GET %s: %d (to %q)", path, status, loc)
	}
	return c.body
}

// post sends a form, which must be answered with a redirect to want.
func (c *pageClient) post(path string, form url.Values, want string) {
	c.t.Helper()
	if status, loc := c.do(http.MethodPost, path, form); status != http.StatusSeeOther || loc != want {
		c.t.Fatalf("POST %s: %d to %q, want 303 to %q; %s", path, status, loc, want, c.body)
	}
}

// newSignInPage starts an approval broker in which user has a login
// profile, with the password "a long password of USER", and jenkins has
// asked for the deploy role. It returns the broker, the request's code and
// the job's key, and a page client shown the sign-in form.
func newSignInPage(t *testing.T, user string) (*approvalBroker, string, *approvals.RedemptionKey, *pageClient) {
	t.Helper()
	b := newApprovalBroker(t, nil)
	if _, err := b.iam.CreateLoginProfile(context.Background(), user, "a long password of "+user, false); err != nil {
		t.Fatal(err)
	}
	code, key := b.ask(t, deployRole, nil)
	page := newPageClient(t, b.srv.Handler())
	page.get("/ui/login")
	return b, code, key, page
}

// signIn signs user in with the password and the next MFA code.
func (c *pageClient) signIn(b *approvalBroker, user string) {
	c.t.Helper()
	c.post("/ui/login", url.Values{"user": {user}, "password": {"a long password of " + user}, "code": {b.code(c.t, user)}}, "/ui/")
}

// TestApprovalPageServesEveryActionOverHTTP signs in on the approval page
// and uses every action it offers, through the broker's HTTP handler: the
// adapter (ui.go) runs each as an operation of the pipeline, as the page's
// session.
func TestApprovalPageServesEveryActionOverHTTP(t *testing.T) {
	b, code, key, page := newSignInPage(t, "alice")
	ctx := context.Background()
	page.signIn(b, "alice")
	if body := page.get("/ui/"); !strings.Contains(body, code) {
		t.Fatalf("the index does not list the pending request %s:\n%s", code, body)
	}
	if body := page.get("/ui/requests/" + code); !strings.Contains(body, "deploy") {
		t.Fatalf("the request page does not name the role:\n%s", body)
	}

	// Approving lends the session; the build takes it, and alice sees it
	// among her sessions and revokes it.
	page.post("/ui/requests/"+code+"/approve", url.Values{"minutes": {"10"}}, "/ui/requests/"+code)
	if body := page.get("/ui/requests/" + code); !strings.Contains(body, "Approved.") {
		t.Fatalf("no confirmation of the approval:\n%s", body)
	}
	lent := b.redeem(t, code, key)
	if body := page.get("/ui/"); !strings.Contains(body, lent.AccessKeyID) {
		t.Fatalf("the index does not list the lent session %s:\n%s", lent.AccessKeyID, body)
	}
	page.post("/ui/sessions/revoke", url.Values{"akid": {lent.AccessKeyID}}, "/ui/")
	if body := page.get("/ui/"); !strings.Contains(body, "is revoked") {
		t.Fatalf("no confirmation of the revocation:\n%s", body)
	}
	if rec, err := b.srv.sessions.Get(ctx, lent.AccessKeyID); err != nil || rec.State(b.clock.Now(), nil) != registry.StateRevoked {
		t.Fatalf("the lent session after its revocation on the page: %v, %v", rec, err)
	}

	// Denying another request.
	denied, _ := b.ask(t, deployRole, nil)
	page.get("/ui/requests/" + denied)
	page.post("/ui/requests/"+denied+"/deny", url.Values{"reason": {"not today"}}, "/ui/requests/"+denied)
	if body := page.get("/ui/requests/" + denied); !strings.Contains(body, "Denied.") {
		t.Fatalf("no confirmation of the denial:\n%s", body)
	}

	// Changing the password: the new one signs in, the old one no longer.
	page.get("/ui/password")
	page.post("/ui/password", url.Values{"old": {"a long password of alice"}, "new": {"another long password of alice"}, "again": {"another long password of alice"}}, "/ui/")
	if _, err := b.iam.CheckPassword(ctx, "alice", "another long password of alice"); err != nil {
		t.Errorf("the new password: %v", err)
	}

	// Signing out revokes the page's session: the page asks to sign in.
	page.get("/ui/")
	page.post("/ui/logout", url.Values{}, "/ui/login")
	if status, loc := page.do(http.MethodGet, "/ui/", nil); status != http.StatusSeeOther || loc != "/ui/login" {
		t.Fatalf("the index after signing out: %d to %q", status, loc)
	}
}

// TestApprovalPageShowsRefusalsInWireWords: a failed sign-in is refused
// without a session, and an action the user may not take is refused with
// the operation's wire message, on the page.
func TestApprovalPageShowsRefusalsInWireWords(t *testing.T) {
	b, code, _, page := newSignInPage(t, "dave")
	if status, _ := page.do(http.MethodPost, "/ui/login", url.Values{"user": {"dave"}, "password": {"a wrong password of dave"}, "code": {b.code(t, "dave")}}); status != http.StatusUnauthorized ||
		!strings.Contains(page.body, "Sign-in failed") {
		t.Fatalf("a wrong password: %d\n%s", status, page.body)
	}
	page.signIn(b, "dave")

	// dave may not assume the role: he is not shown its request, and his
	// approval is refused with the operation's wire message, which does not
	// tell him that the request exists.
	if status, _ := page.do(http.MethodGet, "/ui/requests/"+code, nil); status != http.StatusNotFound {
		t.Fatalf("a request dave may not approve: %d, want 404", status)
	}
	page.post("/ui/requests/"+code+"/approve", url.Values{}, "/ui/requests/"+code)
	page.do(http.MethodGet, "/ui/requests/"+code, nil)
	if !strings.Contains(page.body, "no approval request has that code") {
		t.Fatalf("no wire message for a refused approval:\n%s", page.body)
	}
	// Revoking a session that is not his is refused too.
	page.post("/ui/sessions/revoke", url.Values{"akid": {"ASIAAAAAAAAAAAAAAAAA"}}, "/ui/")
	if body := page.get("/ui/"); strings.Contains(body, "is revoked") {
		t.Fatalf("a stranger's session revoked from the page:\n%s", body)
	}
}
