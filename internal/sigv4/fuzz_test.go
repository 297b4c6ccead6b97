package sigv4

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// suiteSeeds returns the wire form of every suite case that verifies (the skipped ones
// excepted), for seeding the fuzz targets.
func suiteSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	var out [][]byte
	err := fs.WalkDir(os.DirFS(suiteDir), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".sreq" {
			return err
		}
		name := path.Dir(p)
		if _, skip := skipVectors[name]; skip || strings.HasPrefix(name, "normalize-path/") {
			return nil
		}
		b, err := os.ReadFile(path.Join(suiteDir, p))
		out = append(out, suiteWire(b))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// FuzzParse feeds arbitrary authentication inputs to Parse: it must never panic, must fail
// only with ReasonMissing or ReasonMalformed, and what it accepts must format back to
// inputs that parse to the same Auth.
func FuzzParse(f *testing.F) {
	for _, wire := range suiteSeeds(f) {
		r, _, err := readServerRequest(wire)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(r.Header.Get("Authorization"), r.URL.RawQuery, r.Header.Get("X-Amz-Date"), "", r.Header.Get("X-Amz-Security-Token"))
	}
	for _, p := range []bool{false, true} {
		s := baseSpec()
		s.presign, s.token = p, "tok/en+="
		r, _ := mustReadServerRequest(f, sdkSign(f, s))
		f.Add(r.Header.Get("Authorization"), r.URL.RawQuery, r.Header.Get("X-Amz-Date"), "", r.Header.Get("X-Amz-Security-Token"))
	}
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request,SignedHeaders=host,Signature="+strings.Repeat("0", 64),
		"", "", "Sun, 30 Aug 2015 12:36:00 GMT", "")

	f.Fuzz(func(t *testing.T, authorization, rawQuery, amzDate, date, token string) {
		r := newFuzzRequest(authorization, rawQuery, amzDate, date, token)
		a, err := Parse(r)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Reason != ReasonMissing && e.Reason != ReasonMalformed) || e.Detail == "" {
				t.Fatalf("Parse() = %#v, want *Error with ReasonMissing or ReasonMalformed", err)
			}
			return
		}
		checkAuthInvariants(t, a)

		// Format the Auth back into a request and parse it again.
		var r2 *http.Request
		if a.Presigned {
			q := url.Values{
				paramAlgorithm:     {Algorithm},
				paramCredential:    {a.AccessKeyID + "/" + a.Scope.Date + "/" + a.Scope.Region + "/" + a.Scope.Service + "/" + a.terminator},
				paramDate:          {fmtAmz(a.Time)},
				paramExpires:       {strconv.Itoa(int(a.Expires / time.Second))},
				paramSignedHeaders: {strings.Join(a.SignedHeaders, ";")},
				paramSignature:     {a.Signature},
			}
			if a.SecurityToken != "" {
				q.Set(paramSecurityToken, a.SecurityToken)
			}
			r2 = newFuzzRequest("", q.Encode(), "", "", "")
		} else {
			authz := Algorithm + " Credential=" + a.AccessKeyID + "/" + a.Scope.Date + "/" + a.Scope.Region + "/" + a.Scope.Service + "/" + a.terminator +
				", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") + ", Signature=" + a.Signature
			r2 = newFuzzRequest(authz, "", fmtAmz(a.Time), "", a.SecurityToken)
		}
		a2, err := Parse(r2)
		if err != nil {
			t.Fatalf("Parse(formatted %+v) = %v", a, err)
		}
		if a2.AccessKeyID != a.AccessKeyID || a2.Scope != a.Scope || a2.terminator != a.terminator || !a2.Time.Equal(a.Time) ||
			!slices.Equal(a2.SignedHeaders, a.SignedHeaders) || a2.Signature != a.Signature || a2.Presigned != a.Presigned ||
			a2.Expires != a.Expires || a2.SecurityToken != a.SecurityToken {
			t.Fatalf("parse → format → parse changed the Auth:\n%+v\n%+v", a, a2)
		}
	})
}

func newFuzzRequest(authorization, rawQuery, amzDate, date, token string) *http.Request {
	r := &http.Request{Method: "GET", URL: &url.URL{Path: "/", RawQuery: rawQuery}, Header: http.Header{}, Host: "broker.example"}
	for k, v := range map[string]string{"Authorization": authorization, "X-Amz-Date": amzDate, "Date": date, "X-Amz-Security-Token": token} {
		if v != "" {
			r.Header.Set(k, v)
		}
	}
	return r
}

func checkAuthInvariants(t *testing.T, a *Auth) {
	t.Helper()
	switch {
	case !validAccessKeyID(a.AccessKeyID):
		t.Fatalf("AccessKeyID %q", a.AccessKeyID)
	case len(a.Signature) != 64 || !isLowerHex(a.Signature):
		t.Fatalf("Signature %q", a.Signature)
	case len(a.SignedHeaders) == 0:
		t.Fatalf("no SignedHeaders")
	case a.Scope.Region == "" || a.Scope.Service == "" || len(a.Scope.Date) != 8:
		t.Fatalf("Scope %+v", a.Scope)
	case a.Presigned && (a.Expires < time.Second || a.Expires > MaxPresignExpires):
		t.Fatalf("Expires %v", a.Expires)
	case !a.Presigned && a.Expires != 0:
		t.Fatalf("Expires %v on a header-signed request", a.Expires)
	case a.Time.Location() != time.UTC:
		t.Fatalf("Time %v is not UTC", a.Time)
	}
	for _, h := range a.SignedHeaders {
		if h != strings.ToLower(h) || h == "" {
			t.Fatalf("SignedHeaders %q", a.SignedHeaders)
		}
	}
}

// requestView is what a handler acts on once a request is authenticated: if a changed
// request still verifies, this must not have changed.
type requestView struct {
	method, path, host, token, auth string
	query                           url.Values
	signed                          map[string]string // canonical value of each signed header
	body                            []byte
}

func viewOf(r *http.Request, a *Auth, body []byte) requestView {
	q, _ := url.ParseQuery(r.URL.RawQuery) // the handler's reading, errors and all
	delete(q, paramSignature)
	v := requestView{
		method: r.Method, path: r.URL.Path, host: trimAll(r.Host), query: q, body: body,
		auth:   a.AccessKeyID + "|" + a.Scope.String() + "|" + a.terminator + "|" + fmtAmz(a.Time) + "|" + a.Expires.String(),
		signed: map[string]string{},
	}
	// A session token header may be left unsigned (AWS allows it: the token is sealed and
	// bound to its access key id, so it authenticates itself); only a signed one counts here.
	if a.IsSigned("x-amz-security-token") {
		v.token = a.SecurityToken
	}
	for _, h := range a.SignedHeaders {
		c, err := canonicalHeaders(r, []string{h})
		if err == nil {
			v.signed[h] = c
		}
	}
	return v
}

func (v requestView) equal(w requestView) bool {
	if v.method != w.method || v.path != w.path || v.host != w.host || v.token != w.token || v.auth != w.auth ||
		!bytes.Equal(v.body, w.body) || len(v.query) != len(w.query) || len(v.signed) != len(w.signed) {
		return false
	}
	for k, vs := range v.query {
		if !slices.Equal(slices.Sorted(slices.Values(vs)), slices.Sorted(slices.Values(w.query[k]))) {
			return false
		}
	}
	for k, s := range v.signed {
		if w.signed[k] != s {
			return false
		}
	}
	return true
}

// FuzzVerify takes a validly signed request (from the SDK, header or presigned, or from the
// AWS suite), changes one byte (replace, insert or delete), and checks that the result
// verifies only if it is the same request to the handler.
func FuzzVerify(f *testing.F) {
	suite := suiteSeeds(f)
	for src := range uint8(3) {
		for seed := range uint64(4) {
			f.Add(src, seed, uint8(0), uint32(seed*37), byte('x'))
			f.Add(src, seed, uint8(1), uint32(seed*11), byte(' '))
			f.Add(src, seed, uint8(2), uint32(seed*53), byte(0))
		}
	}
	v := NewVerifier()
	f.Fuzz(func(t *testing.T, src uint8, seed uint64, op uint8, pos uint32, b byte) {
		var wire []byte
		var secret, akid string
		var o Options
		switch src % 3 {
		case 0, 1:
			s := randomSpec(rand.New(rand.NewPCG(seed, 3)), src%3 == 1)
			wire, secret, akid = sdkSign(t, s), s.secret, s.akid
			o = optionsFor(s, nil)
		default:
			wire, secret, akid = suite[seed%uint64(len(suite))], suiteSecret, suiteAccessKey
			o = suiteOptions(nil)
		}
		r0, body0, err := readServerRequest(wire)
		if err != nil {
			t.Fatal(err)
		}
		a0, err := Parse(r0)
		if err != nil {
			t.Fatal(err)
		}
		o.Body = body0
		if err := v.Verify(r0, a0, secret, o); err != nil {
			t.Fatalf("original does not verify: %v", err)
		}
		view0 := viewOf(r0, a0, body0)

		mutated := slices.Clone(wire)
		i := int(pos % uint32(len(wire)))
		switch op % 3 {
		case 0:
			mutated[i] = b
		case 1:
			mutated = slices.Insert(mutated, i, b)
		default:
			mutated = slices.Delete(mutated, i, i+1)
		}

		r, body, err := readServerRequest(mutated)
		if err != nil {
			return // Go's server would refuse it before us
		}
		a, err := Parse(r)
		if err != nil {
			if ReasonOf(err) == 0 {
				t.Fatalf("Parse() = %v, not a *sigv4.Error", err)
			}
			return
		}
		if a.AccessKeyID != akid {
			return // another key: the broker would look up another secret
		}
		o.Body = body
		err = v.Verify(r, a, secret, o)
		if bytes.Equal(mutated, wire) {
			if err != nil {
				t.Fatalf("unchanged request does not verify: %v", err)
			}
			return
		}
		if err == nil && !view0.equal(viewOf(r, a, body)) {
			t.Fatalf("changed request verifies:\n%q\nwas\n%q", mutated, wire)
		}
		if err != nil && ReasonOf(err) == 0 {
			t.Fatalf("Verify() = %v, not a *sigv4.Error", err)
		}
	})
}
