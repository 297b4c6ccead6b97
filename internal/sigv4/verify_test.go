package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

const (
	testAKID   = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY"
	testBody   = "Action=GetCallerIdentity&Version=2011-06-15"
)

// baseSpec is an STS call as the aws CLI would send it to the broker.
func baseSpec() signSpec {
	return signSpec{
		method:  "POST",
		url:     "https://broker.example:8443/",
		header:  http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
		body:    []byte(testBody),
		service: "sts",
		region:  "us-east-1",
		akid:    testAKID,
		secret:  testSecret,
		at:      t0,
		expires: 900,
	}
}

func baseOptions() Options {
	return Options{Region: "us-east-1", Service: "sts", Now: t0, MaxSkew: 15 * time.Minute, Body: []byte(testBody)}
}

// editHeader replaces (or, with value "", removes) every header line named name.
func editHeader(w *wireRequest, name, value string) {
	out := w.headers[:0]
	found := false
	for _, h := range w.headers {
		if strings.EqualFold(h[0], name) {
			if value != "" && !found {
				out = append(out, [2]string{h[0], value})
			}
			found = true
			continue
		}
		out = append(out, h)
	}
	if !found && value != "" {
		out = append(out, [2]string{name, value})
	}
	w.headers = out
}

func header(w *wireRequest, name string) string {
	for _, h := range w.headers {
		if strings.EqualFold(h[0], name) {
			return h[1]
		}
	}
	return ""
}

// testSignAuthorization signs r with this package's own canonicalisation. It is used only
// where the SDK cannot produce the request (a Date header instead of X-Amz-Date); the SDK
// differential tests cover the same steps independently.
func testSignAuthorization(r *http.Request, body []byte, akid, secret string, scope Scope, at time.Time, signed []string) string {
	headers, err := canonicalHeaders(r, signed)
	if err != nil {
		panic(err)
	}
	q, _ := parseQuery(r.URL.RawQuery)
	creq := canonicalRequest(r.Method, canonicalURI(r.URL), canonicalQuery(q, ""), headers, strings.Join(signed, ";"), sha256Hex(body))
	m := hmac.New(sha256.New, deriveSigningKey(secret, scope))
	m.Write([]byte(stringToSign(fmtAmz(at), scope, creq)))
	return Algorithm + " Credential=" + akid + "/" + scope.String() + ", SignedHeaders=" + strings.Join(signed, ";") +
		", Signature=" + hex.EncodeToString(m.Sum(nil))
}

type reasonCase struct {
	name   string
	spec   func(s *signSpec)                          // changes what the SDK signs
	wire   func(w *wireRequest)                       // changes the request after signing
	req    func(r *http.Request)                      // changes the request as the server holds it
	opts   func(o *Options)                           // changes what the server expects
	want   Reason                                     // 0: must verify
	detail string                                     // when set, the exact Detail
	check  func(t *testing.T, a *Auth)                // extra checks on Parse's result (ok cases)
	custom func(t *testing.T) (*http.Request, []byte) // builds the request instead of the SDK
}

func runReasonCases(t *testing.T, cases []reasonCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := baseSpec()
			if tc.spec != nil {
				tc.spec(&s)
			}
			var r *http.Request
			var body []byte
			if tc.custom != nil {
				r, body = tc.custom(t)
			} else {
				w := splitWire(t, sdkSign(t, s))
				if tc.wire != nil {
					tc.wire(&w)
				}
				var err error
				r, body, err = readServerRequest(w.bytes())
				if err != nil {
					t.Fatalf("request does not parse: %v\n%s", err, w.bytes())
				}
			}
			if tc.req != nil {
				tc.req(r)
			}
			o := baseOptions()
			o.Body = body
			if tc.opts != nil {
				tc.opts(&o)
			}
			a, err := Parse(r)
			if err == nil {
				if tc.check != nil {
					tc.check(t, a)
				}
				err = NewVerifier().Verify(r, a, s.secret, o)
			}
			wantReason(t, "Parse+Verify()", err, tc.want)
			if e, ok := err.(*Error); ok && tc.detail != "" && e.Detail != tc.detail {
				t.Errorf("Detail = %q, want %q", e.Detail, tc.detail)
			}
			assertSafeDetail(t, err, s.secret)
			if err != nil && hex64.MatchString(err.Error()) {
				t.Errorf("error %q contains a 64-digit hex string (a signature?)", err)
			}
		})
	}
}

var hex64 = regexp.MustCompile(`[0-9a-fA-F]{64}`)

func presign(s *signSpec) { s.presign = true }

// TestVerifyReasons covers every Reason that Parse and Verify return.
func TestVerifyReasons(t *testing.T) {
	runReasonCases(t, []reasonCase{
		// ok
		{name: "ok/header", check: func(t *testing.T, a *Auth) {
			if !a.IsSigned("Content-Type") || a.IsSigned("User-Agent") {
				t.Errorf("IsSigned: content-type %v, user-agent %v; want true, false", a.IsSigned("Content-Type"), a.IsSigned("User-Agent"))
			}
		}},
		{name: "ok/header-session-token", spec: func(s *signSpec) { s.token = "FwoGZXIvYXdzEXAMPLE/token+==" },
			check: func(t *testing.T, a *Auth) {
				if a.SecurityToken != "FwoGZXIvYXdzEXAMPLE/token+==" || !a.IsSigned("x-amz-security-token") {
					t.Errorf("SecurityToken = %q (signed %v)", a.SecurityToken, a.IsSigned("x-amz-security-token"))
				}
			}},
		{name: "ok/header-token-added-after-signing", wire: func(w *wireRequest) { editHeader(w, "X-Amz-Security-Token", "tok") },
			check: func(t *testing.T, a *Auth) {
				if a.SecurityToken != "tok" || a.IsSigned("x-amz-security-token") {
					t.Errorf("SecurityToken = %q (signed %v), want tok unsigned", a.SecurityToken, a.IsSigned("x-amz-security-token"))
				}
			}},
		{name: "ok/presigned", spec: presign, check: func(t *testing.T, a *Auth) {
			if !a.Presigned || a.Expires != 900*time.Second {
				t.Errorf("Presigned %v Expires %v", a.Presigned, a.Expires)
			}
		}},
		{name: "ok/presigned-get-empty-body", spec: func(s *signSpec) {
			s.presign, s.method, s.body, s.header = true, "GET", nil, nil
			s.url += "?Action=GetCallerIdentity&Version=2011-06-15"
		}},
		{name: "ok/presigned-session-token", spec: func(s *signSpec) { s.presign, s.token = true, "FwoGZXIvYXdzEXAMPLE/token+==" },
			check: func(t *testing.T, a *Auth) {
				if a.SecurityToken != "FwoGZXIvYXdzEXAMPLE/token+==" {
					t.Errorf("SecurityToken = %q", a.SecurityToken)
				}
			}},
		{name: "ok/presigned-expires-max", spec: func(s *signSpec) { s.presign, s.expires = true, 604800 },
			opts: func(o *Options) { o.Now = t0.Add(7 * 24 * time.Hour) }},
		{name: "ok/content-length-taken-from-request", req: func(r *http.Request) {
			r.Header.Del("Content-Length")
		}, check: func(t *testing.T, a *Auth) {
			if !a.IsSigned("content-length") {
				t.Errorf("content-length is not signed: %v", a.SignedHeaders)
			}
		}},
		{name: "ok/unsigned-payload-allowed",
			spec: func(s *signSpec) { s.unsigned = true; s.header.Set("X-Amz-Content-Sha256", UnsignedPayload) },
			opts: func(o *Options) { o.AllowUnsignedPayload = true; o.Body = []byte("anything") }},
		{name: "ok/content-sha256-header", spec: func(s *signSpec) { s.header.Set("X-Amz-Content-Sha256", sha256Hex(s.body)) }},
		{name: "ok/date-header-fallback", custom: func(t *testing.T) (*http.Request, []byte) {
			r, _ := http.NewRequest("POST", "https://broker.example:8443/", strings.NewReader(testBody))
			r.Header.Set("Date", t0.Format(http.TimeFormat))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Authorization", testSignAuthorization(r, []byte(testBody), testAKID, testSecret,
				Scope{"20260314", "us-east-1", "sts"}, t0, []string{"content-type", "date", "host"}))
			return r, []byte(testBody)
		}, check: func(t *testing.T, a *Auth) {
			if !a.Time.Equal(t0) {
				t.Errorf("Time = %v, want %v", a.Time, t0)
			}
		}},

		// ReasonMissing
		{name: "fail/missing/no-authentication", wire: func(w *wireRequest) { editHeader(w, "Authorization", "") },
			want: ReasonMissing, detail: detailMissing},
		{name: "fail/missing/credential-without-algorithm", spec: presign, wire: func(w *wireRequest) {
			w.target = strings.Replace(w.target, "X-Amz-Algorithm=", "X-Amz-Algorithn=", 1)
		}, want: ReasonMissing},

		// ReasonMalformed
		{name: "fail/malformed/both-header-and-query", wire: func(w *wireRequest) { w.target += "?X-Amz-Algorithm=AWS4-HMAC-SHA256" },
			want: ReasonMalformed, detail: detailBothSources},
		{name: "fail/malformed/algorithm-basic", wire: func(w *wireRequest) { editHeader(w, "Authorization", "Basic dXNlcjpwYXNz") },
			want: ReasonMalformed},
		{name: "fail/malformed/algorithm-sigv4a", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256", 1))
		}, want: ReasonMalformed},
		{name: "fail/malformed/no-signature-component", wire: func(w *wireRequest) {
			a := header(w, "Authorization")
			editHeader(w, "Authorization", a[:strings.Index(a, ", Signature=")])
		}, want: ReasonMalformed, detail: "Authorization header requires 'Signature' parameter."},
		{name: "fail/malformed/unknown-component", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", header(w, "Authorization")+", Extra=1")
		}, want: ReasonMalformed},
		{name: "fail/malformed/repeated-component", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", header(w, "Authorization")+", SignedHeaders=host")
		}, want: ReasonMalformed},
		{name: "fail/malformed/credential-four-parts", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "/us-east-1/", "/", 1))
		}, want: ReasonMalformed, detail: detailBadCredential},
		{name: "fail/malformed/credential-bad-date", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "/20260314/", "/2026-03-14/", 1))
		}, want: ReasonMalformed},
		{name: "fail/malformed/credential-empty-key", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), testAKID, "", 1))
		}, want: ReasonMalformed},
		{name: "fail/malformed/x-amz-date-extended-format", wire: func(w *wireRequest) { editHeader(w, "X-Amz-Date", "2026-03-14T15:09:26Z") },
			want: ReasonMalformed, detail: detailBadAmzDate},
		{name: "fail/malformed/x-amz-date-not-utc", wire: func(w *wireRequest) { editHeader(w, "X-Amz-Date", "20260314T150926+") },
			want: ReasonMalformed},
		{name: "fail/malformed/no-date", wire: func(w *wireRequest) { editHeader(w, "X-Amz-Date", "") },
			want: ReasonMalformed},
		{name: "fail/malformed/bad-date-header", wire: func(w *wireRequest) {
			editHeader(w, "X-Amz-Date", "")
			editHeader(w, "Date", "yesterday")
		}, want: ReasonMalformed},
		{name: "fail/malformed/two-x-amz-date", wire: func(w *wireRequest) {
			w.headers = append(w.headers, [2]string{"X-Amz-Date", header(w, "X-Amz-Date")})
		}, want: ReasonMalformed},
		{name: "fail/malformed/signature-upper-case", wire: func(w *wireRequest) {
			a := header(w, "Authorization")
			i := strings.Index(a, "Signature=") + len("Signature=")
			editHeader(w, "Authorization", a[:i]+strings.ToUpper(a[i:]))
		}, want: ReasonMalformed},
		{name: "fail/malformed/signature-short", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", header(w, "Authorization")[:len(header(w, "Authorization"))-1])
		}, want: ReasonMalformed},
		{name: "fail/malformed/signed-headers-upper-case", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "SignedHeaders=content-length;content-type;host", "SignedHeaders=content-length;content-type;Host", 1))
		}, want: ReasonMalformed},
		{name: "fail/malformed/signed-headers-empty", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "SignedHeaders=content-length;content-type;host;x-amz-date", "SignedHeaders=", 1))
		}, want: ReasonMalformed},
		{name: "fail/malformed/signed-headers-duplicate", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "SignedHeaders=", "SignedHeaders=host;", 1))
		}, want: ReasonMalformed},
		{name: "fail/malformed/two-authorization-headers", wire: func(w *wireRequest) {
			w.headers = append(w.headers, [2]string{"Authorization", header(w, "Authorization")})
		}, want: ReasonMalformed},
		{name: "fail/malformed/query-bad-escape", wire: func(w *wireRequest) { w.target += "?a=%zz" }, want: ReasonMalformed},
		{name: "fail/malformed/two-different-security-tokens", spec: func(s *signSpec) { s.token = "one" },
			wire: func(w *wireRequest) { w.target += "?X-Amz-Security-Token=two" }, want: ReasonMalformed},
		{name: "fail/malformed/presign-missing-signature", spec: presign, wire: func(w *wireRequest) {
			w.target = regexp.MustCompile(`&X-Amz-Signature=[0-9a-f]+`).ReplaceAllString(w.target, "")
		}, want: ReasonMalformed, detail: detailPresignKeys},
		{name: "fail/malformed/presign-algorithm", spec: presign, wire: func(w *wireRequest) {
			w.target = strings.Replace(w.target, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1", 1)
		}, want: ReasonMalformed},
		{name: "fail/malformed/presign-expires-zero", spec: func(s *signSpec) { s.presign, s.expires = true, 0 }, want: ReasonMalformed},
		{name: "fail/malformed/presign-expires-over-a-week", spec: func(s *signSpec) { s.presign, s.expires = true, 604801 }, want: ReasonMalformed},
		{name: "fail/malformed/presign-expires-negative", spec: func(s *signSpec) { s.presign, s.expires = true, -1 }, want: ReasonMalformed},
		{name: "fail/malformed/presign-duplicate-credential", spec: presign, wire: func(w *wireRequest) {
			w.target += "&X-Amz-Credential=" + testAKID + "%2F20260314%2Fus-east-1%2Fsts%2Faws4_request"
		}, want: ReasonMalformed},
		{name: "fail/malformed/presign-x-amz-date", spec: presign, wire: func(w *wireRequest) {
			w.target = strings.Replace(w.target, "X-Amz-Date=20260314T150926Z", "X-Amz-Date=20260314T1509Z", 1)
		}, want: ReasonMalformed},

		// ReasonScope
		{name: "fail/scope/region", spec: func(s *signSpec) { s.region = "us-west-2" },
			want: ReasonScope, detail: "Credential should be scoped to a valid region."},
		{name: "fail/scope/service", spec: func(s *signSpec) { s.service = "iam" },
			want: ReasonScope, detail: "Credential should be scoped to correct service: 'sts'."},
		{name: "fail/scope/presigned-service", spec: func(s *signSpec) { s.presign, s.service = true, "secretsmanager" },
			want: ReasonScope, detail: "Credential should be scoped to correct service: 'sts'."},
		{name: "fail/scope/terminator", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), "/aws4_request", "/aws4_requesT", 1))
		}, want: ReasonScope},
		{name: "fail/scope/date-not-request-day", spec: func(s *signSpec) { s.at = time.Date(2026, 3, 14, 23, 59, 50, 0, time.UTC) },
			wire: func(w *wireRequest) { editHeader(w, "X-Amz-Date", "20260315T000010Z") },
			opts: func(o *Options) { o.Now = time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC) },
			want: ReasonScope, detail: "Invalid credential date. Date is not the same as X-Amz-Date."},
		{name: "fail/scope/empty-expected-region", opts: func(o *Options) { o.Region = "" }, want: ReasonScope},

		// ReasonSignature
		{name: "fail/signature/host-not-signed", wire: func(w *wireRequest) {
			editHeader(w, "Authorization", strings.Replace(header(w, "Authorization"), ";host;", ";", 1))
		}, want: ReasonSignature, detail: "'Host' must be a signed header."},
		{name: "fail/signature/signed-header-absent", spec: func(s *signSpec) { s.header.Set("X-Test", "1") },
			wire: func(w *wireRequest) { editHeader(w, "X-Test", "") }, want: ReasonSignature,
			detail: "The header 'x-test' is listed in SignedHeaders but is not present in the request."},
		{name: "fail/signature/content-length-unknown", req: func(r *http.Request) {
			r.Header.Del("Content-Length")
			r.ContentLength = -1
		}, want: ReasonSignature},
		{name: "fail/signature/host-changed", wire: func(w *wireRequest) { editHeader(w, "Host", "broker.example:8444") }, want: ReasonSignature},
		{name: "fail/signature/payload-hash-mismatch", spec: func(s *signSpec) { s.header.Set("X-Amz-Content-Sha256", sha256Hex(s.body)) },
			opts: func(o *Options) { o.Body = []byte(testBody + "&x=1") }, want: ReasonSignature,
			detail: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "fail/signature/body-changed", opts: func(o *Options) { o.Body = []byte(testBody + "&x=1") }, want: ReasonSignature},
		{name: "fail/signature/unsigned-payload-not-allowed",
			spec: func(s *signSpec) { s.unsigned = true; s.header.Set("X-Amz-Content-Sha256", UnsignedPayload) }, want: ReasonSignature},
		{name: "fail/signature/two-content-sha256", spec: func(s *signSpec) { s.header.Set("X-Amz-Content-Sha256", sha256Hex(s.body)) },
			wire: func(w *wireRequest) {
				w.headers = append(w.headers, [2]string{"X-Amz-Content-Sha256", header(w, "X-Amz-Content-Sha256")})
			}, want: ReasonSignature},
		{name: "fail/signature/presigned-query-added", spec: presign, wire: func(w *wireRequest) { w.target += "&Action=CreateUser" },
			want: ReasonSignature},
		{name: "fail/signature/presigned-expires-changed", spec: presign, wire: func(w *wireRequest) {
			w.target = strings.Replace(w.target, "X-Amz-Expires=900", "X-Amz-Expires=901", 1)
		}, want: ReasonSignature},

		// Order of the checks.
		{name: "fail/order/scope-before-time", spec: func(s *signSpec) { s.region = "eu-west-1" },
			opts: func(o *Options) { o.Now = t0.Add(time.Hour) }, want: ReasonScope},
		{name: "fail/order/time-before-payload", spec: func(s *signSpec) { s.header.Set("X-Amz-Content-Sha256", sha256Hex(nil)) },
			opts: func(o *Options) { o.Now = t0.Add(time.Hour) }, want: ReasonSkew},
		{name: "fail/order/payload-before-signature", spec: func(s *signSpec) { s.header.Set("X-Amz-Content-Sha256", sha256Hex(nil)) },
			wire: func(w *wireRequest) { editHeader(w, "Host", "other.example") }, want: ReasonSignature,
			detail: "The provided 'x-amz-content-sha256' header does not match what was computed."},
	})
}

// TestVerifyWrongSecret checks that a signature made with another secret never verifies,
// whatever is in the signing-key cache.
func TestVerifyWrongSecret(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		want   Reason
	}{
		{"ok/right-secret", testSecret, 0},
		{"fail/wrong-secret", "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEX", ReasonSignature},
		{"fail/empty-secret", "", ReasonSignature},
		{"fail/secret-prefix", testSecret[:len(testSecret)-1], ReasonSignature},
		{"ok/right-secret-again", testSecret, 0},
	}
	wire := sdkSign(t, baseSpec())
	v := NewVerifier() // shared on purpose: the cache must not let a wrong secret pass
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, body := mustReadServerRequest(t, wire)
			o := baseOptions()
			o.Body = body
			err := parseAndVerify(v, r, tt.secret, o)
			wantReason(t, "Verify()", err, tt.want)
			if err != nil {
				assertSafeDetail(t, err, testSecret, tt.secret)
				if hex64.MatchString(err.Error()) {
					t.Errorf("error %q contains a 64-digit hex string", err)
				}
			}
		})
	}
}

// TestVerifyTimeBoundaries tests each clock bound at t-1s, t and t+1s.
func TestVerifyTimeBoundaries(t *testing.T) {
	const s = time.Second
	type bound struct {
		name    string
		presign bool
		service string
		skew    time.Duration
		now     time.Time
		want    Reason
	}
	var tests []bound
	add := func(name string, presign bool, service string, skew time.Duration, edge time.Time, before, at, after Reason) {
		tests = append(tests,
			bound{name + "/t-1s", presign, service, skew, edge.Add(-s), before},
			bound{name + "/t", presign, service, skew, edge, at},
			bound{name + "/t+1s", presign, service, skew, edge.Add(s), after})
	}
	// Header-signed: now may be at most MaxSkew after or before the request time.
	add("header/sts/past-skew", false, "sts", 15*time.Minute, t0.Add(15*time.Minute), 0, 0, ReasonSkew)
	add("header/sts/future-skew", false, "sts", 15*time.Minute, t0.Add(-15*time.Minute), ReasonSkew, 0, 0)
	add("header/secretsmanager/past-skew", false, "secretsmanager", 5*time.Minute, t0.Add(5*time.Minute), 0, 0, ReasonSkew)
	add("header/secretsmanager/future-skew", false, "secretsmanager", 5*time.Minute, t0.Add(-5*time.Minute), ReasonSkew, 0, 0)
	// Presigned: valid until X-Amz-Date + X-Amz-Expires (900 s); dated at most MaxSkew ahead.
	add("presigned/expiry", true, "sts", 15*time.Minute, t0.Add(900*s), 0, 0, ReasonExpired)
	add("presigned/future-skew", true, "sts", 15*time.Minute, t0.Add(-15*time.Minute), ReasonSkew, 0, 0)
	add("header/zero-skew", false, "iam", 0, t0, ReasonSkew, 0, ReasonSkew)

	wires := map[string][]byte{}
	for _, svc := range []string{"sts", "iam", "secretsmanager"} {
		for _, p := range []bool{false, true} {
			spec := baseSpec()
			spec.service, spec.presign = svc, p
			wires[svc+strings.Repeat("+presign", boolInt(p))] = sdkSign(t, spec)
		}
	}
	v := NewVerifier()
	for _, tt := range tests {
		prefix := "ok/"
		if tt.want != 0 {
			prefix = "fail/"
		}
		t.Run(prefix+tt.name, func(t *testing.T) {
			r, body := mustReadServerRequest(t, wires[tt.service+strings.Repeat("+presign", boolInt(tt.presign))])
			o := Options{Region: "us-east-1", Service: tt.service, Now: tt.now, MaxSkew: tt.skew, Body: body}
			wantReason(t, "Verify(now="+tt.now.Format(time.RFC3339)+")", parseAndVerify(v, r, testSecret, o), tt.want)
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestVerifyDetails pins the AWS wording of the messages clients see.
func TestVerifyDetails(t *testing.T) {
	tests := []struct {
		name    string
		presign bool
		now     time.Time
		skew    time.Duration
		want    string
	}{
		{"fail/skew-past", false, t0.Add(30 * time.Minute), 15 * time.Minute,
			"Signature expired: 20260314T150926Z is now earlier than 20260314T152426Z (20260314T153926Z - 15 min.)"},
		{"fail/skew-future", false, t0.Add(-10 * time.Minute), 5 * time.Minute,
			"Signature not yet current: 20260314T150926Z is still later than 20260314T150426Z (20260314T145926Z + 5 min.)"},
		{"fail/skew-odd-duration", false, t0.Add(time.Hour), 90 * time.Second,
			"Signature expired: 20260314T150926Z is now earlier than 20260314T160756Z (20260314T160926Z - 1m30s)"},
		{"fail/presign-expired", true, t0.Add(time.Hour), 15 * time.Minute, "Request has expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := baseSpec()
			s.presign = tt.presign
			r, body := mustReadServerRequest(t, sdkSign(t, s))
			o := baseOptions()
			o.Body, o.Now, o.MaxSkew = body, tt.now, tt.skew
			err := parseAndVerify(NewVerifier(), r, testSecret, o)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Verify() = %v, want *Error", err)
			}
			if e.Detail != tt.want {
				t.Errorf("Detail = %q\nwant     %q", e.Detail, tt.want)
			}
		})
	}

	// The suite's own clock, with the wording AWS uses.
	r, _ := mustReadServerRequest(t, suiteWire([]byte("GET / HTTP/1.1\nHost:example.amazonaws.com\nX-Amz-Date:20150830T123600Z\n"+
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "+
		"Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")))
	o := suiteOptions(nil)
	o.Now = time.Date(2015, 8, 30, 13, 6, 0, 0, time.UTC)
	err := parseAndVerify(NewVerifier(), r, suiteSecret, o)
	want := "Signature expired: 20150830T123600Z is now earlier than 20150830T125100Z (20150830T130600Z - 15 min.)"
	if e, ok := err.(*Error); !ok || e.Detail != want {
		t.Errorf("Verify() = %v, want detail %q", err, want)
	}
}

func TestReasonString(t *testing.T) {
	for r := ReasonMissing; r <= ReasonScope; r++ {
		if s := r.String(); s == "" || strings.HasPrefix(s, "reason(") {
			t.Errorf("Reason(%d).String() = %q", int(r), s)
		}
	}
	if s := Reason(99).String(); s != "reason(99)" {
		t.Errorf("Reason(99).String() = %q", s)
	}
	err := error(&Error{Reason: ReasonUnknownKey, Detail: "The security token included in the request is invalid."})
	if ReasonOf(err) != ReasonUnknownKey || ReasonOf(nil) != 0 {
		t.Errorf("ReasonOf() = %v", ReasonOf(err))
	}
	if got := err.Error(); got != "sigv4: unknown access key: The security token included in the request is invalid." {
		t.Errorf("Error() = %q", got)
	}
}

// TestVerifierCache checks that the signing-key cache stays bounded and is shared safely.
func TestVerifierCache(t *testing.T) {
	t.Run("ok/bounded", func(t *testing.T) {
		v := newVerifier(4)
		for i := range 10 {
			scope := Scope{Date: "20260314", Region: "r" + string(rune('a'+i)), Service: "sts"}
			want := deriveSigningKey("secret", scope)
			if got := v.signingKey("secret", scope); !hmac.Equal(got, want) {
				t.Fatalf("signingKey() = %x, want %x", got, want)
			}
			if n := v.cached(); n > 4 {
				t.Fatalf("cache holds %d keys, want at most 4", n)
			}
		}
		// The most recent entry is still there.
		scope := Scope{Date: "20260314", Region: "rj", Service: "sts"}
		if got := v.signingKey("secret", scope); !hmac.Equal(got, deriveSigningKey("secret", scope)) {
			t.Fatalf("signingKey() after eviction is wrong")
		}
	})
	t.Run("ok/keyed-by-secret", func(t *testing.T) {
		scope := Scope{"20260314", "us-east-1", "sts"}
		if cacheKey("a", scope) == cacheKey("b", scope) {
			t.Fatal("cache keys of different secrets collide")
		}
		// Length prefixes: moving a byte between fields changes the key.
		if cacheKey("ab", Scope{"c", "d", "e"}) == cacheKey("a", Scope{"bc", "d", "e"}) {
			t.Fatal("cache key is ambiguous")
		}
	})
	t.Run("ok/concurrent", func(t *testing.T) {
		v := newVerifier(2)
		wire := sdkSign(t, baseSpec())
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 50 {
					r, body, err := readServerRequest(wire)
					if err != nil {
						t.Error(err)
						return
					}
					o := baseOptions()
					o.Body = body
					secret, want := testSecret, Reason(0)
					if (g+i)%3 == 0 {
						secret, want = "wrong"+string(rune('a'+g)), ReasonSignature
					}
					wantReason(t, "Verify()", parseAndVerify(v, r, secret, o), want)
				}
			}()
		}
		wg.Wait()
	})
}
