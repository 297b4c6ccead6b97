package sigv4

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// signSpec describes a request for the AWS SDK's signer to sign.
type signSpec struct {
	method   string
	url      string // absolute; its RawQuery is kept as written
	header   http.Header
	body     []byte
	service  string
	region   string
	akid     string
	secret   string
	token    string
	at       time.Time
	presign  bool
	expires  int    // presign only: X-Amz-Expires in seconds
	unsigned bool   // sign over UNSIGNED-PAYLOAD instead of the body's hash
	hostHdr  string // when set, the Host to send instead of the URL's
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sdkSign signs s with github.com/aws/aws-sdk-go-v2/aws/signer/v4 and returns the request
// exactly as the Go HTTP client would put it on the wire.
func sdkSign(tb testing.TB, s signSpec) []byte {
	tb.Helper()
	req, err := http.NewRequest(s.method, s.url, nil)
	if err != nil {
		tb.Fatalf("http.NewRequest(%q): %v", s.url, err)
	}
	for k, vs := range s.header {
		req.Header[k] = slices.Clone(vs)
	}
	if s.hostHdr != "" {
		req.Host = s.hostHdr
	}
	setBody(req, s.body)
	payload := sha256Hex(s.body)
	if s.unsigned {
		payload = UnsignedPayload
	}
	creds := aws.Credentials{AccessKeyID: s.akid, SecretAccessKey: s.secret, SessionToken: s.token}
	signer := v4.NewSigner()
	if !s.presign {
		if err := signer.SignHTTP(context.Background(), creds, req, payload, s.service, s.region, s.at); err != nil {
			tb.Fatalf("SignHTTP: %v", err)
		}
		return writeRequest(tb, req)
	}

	q := req.URL.RawQuery
	if q != "" {
		q += "&"
	}
	req.URL.RawQuery = q + "X-Amz-Expires=" + strconv.Itoa(s.expires)
	signedURL, signedHeaders, err := signer.PresignHTTP(context.Background(), creds, req, payload, s.service, s.region, s.at)
	if err != nil {
		tb.Fatalf("PresignHTTP: %v", err)
	}
	// The client of a presigned URL sends the URL and the headers the signer says it signed.
	out, err := http.NewRequest(s.method, signedURL, nil)
	if err != nil {
		tb.Fatalf("http.NewRequest(presigned %q): %v", signedURL, err)
	}
	for k, vs := range signedHeaders {
		switch strings.ToLower(k) {
		case "host":
			out.Host = vs[0]
		case "content-length":
		default:
			out.Header[k] = vs
		}
	}
	setBody(out, s.body)
	return writeRequest(tb, out)
}

func setBody(req *http.Request, body []byte) {
	if len(body) == 0 {
		req.Body, req.ContentLength = http.NoBody, 0
		return
	}
	req.Body = readCloser{bytes.NewReader(body)}
	req.ContentLength = int64(len(body))
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func writeRequest(tb testing.TB, req *http.Request) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		tb.Fatalf("Request.Write: %v", err)
	}
	return b.Bytes()
}

// randomSpec draws a request the way varied clients of the broker would send it: any
// method, odd paths and query strings, repeated and space-padded headers, bodies, session
// tokens, and the three services.
func randomSpec(rng *rand.Rand, presign bool) signSpec {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	s := signSpec{
		method:  pick("GET", "POST", "PUT", "DELETE", "PATCH"),
		service: pick("sts", "iam", "secretsmanager"),
		region:  pick("us-east-1", "eu-west-1", "ap-southeast-2"),
		akid:    "AKIA" + randString(rng, 16, upperAlnum),
		secret:  randString(rng, 40, base64Chars),
		at:      time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(30*24*3600)) * time.Second),
		presign: presign,
		header:  http.Header{},
	}
	if rng.IntN(2) == 0 {
		s.akid = "ASIA" + randString(rng, 16, upperAlnum)
		s.token = randString(rng, 20+rng.IntN(200), base64Chars)
	}
	if presign {
		s.expires = 1 + rng.IntN(int(MaxPresignExpires/time.Second))
	}

	host := pick("broker.example:8443", "127.0.0.1:9000", "sts.amazonaws.com", "[::1]:8443", "broker.example:443", "localhost")
	u := &url.URL{Scheme: "https", Host: host, Path: randPath(rng)}
	u.RawQuery = randQuery(rng)
	s.url = u.String()

	for range rng.IntN(4) {
		name := "X-Test-" + randString(rng, 1+rng.IntN(6), letters)
		for range 1 + rng.IntN(3) {
			s.header.Add(name, randHeaderValue(rng))
		}
	}
	switch s.service {
	case "secretsmanager":
		s.header.Set("Content-Type", "application/x-amz-json-1.1")
		s.header.Set("X-Amz-Target", "secretsmanager."+pick("GetSecretValue", "ListSecrets", "CreateSecret"))
	default:
		if s.method == "POST" {
			s.header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		}
	}
	if s.method != "GET" && s.method != "DELETE" {
		s.body = []byte(randString(rng, rng.IntN(200), printable))
	}
	if !presign && rng.IntN(3) == 0 {
		s.header.Set("X-Amz-Content-Sha256", sha256Hex(s.body))
	}
	return s
}

const (
	letters     = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	upperAlnum  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	printable   = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"
)

func randString(rng *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

// randPath returns a decoded path with unreserved, reserved, percent and non-ASCII characters.
func randPath(rng *rand.Rand) string {
	pieces := []string{"a", "Z", "9", "-", ".", "_", "~", " ", "!", "$", "&", "'", "(", ")", "*", "+", ",", ";", "=", ":", "@", "%", "é", "ሴ", "|", "\"", "<"}
	n := rng.IntN(5)
	if n == 0 && rng.IntN(2) == 0 {
		return ""
	}
	var b strings.Builder
	for range n {
		b.WriteByte('/')
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// randQuery returns a raw query string, encoded in one of the ways clients encode them
// (spaces as + or %20, keys without '=', repeated keys). ';' is left out: the SDK reads the
// query with url.URL.Query, which drops such pairs before signing.
func randQuery(rng *rand.Rand) string {
	chars := []string{"a", "B", "7", "-", "_", ".", "~", " ", "+", "/", "?", "=", "&", "%", "é", "ሴ", "!", "*", "'"}
	word := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteString(chars[rng.IntN(len(chars))])
		}
		return b.String()
	}
	var parts []string
	for range rng.IntN(5) {
		k, v := word(1+rng.IntN(5)), word(rng.IntN(8))
		switch rng.IntN(4) {
		case 0:
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
		case 1:
			parts = append(parts, uriEncode(k, true)+"="+uriEncode(v, true))
		case 2:
			parts = append(parts, uriEncode(k, true))
		default:
			parts = append(parts, url.QueryEscape(k)+"=")
		}
	}
	return strings.Join(parts, "&")
}

func randHeaderValue(rng *rand.Rand) string {
	pieces := []string{"v", "A", "1", " ", "  ", "   ", "\"", ",", ";", "=", "é", "\t"}
	var b strings.Builder
	for range rng.IntN(10) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	return b.String()
}

// optionsFor returns what the broker would expect for a request signed per s.
func optionsFor(s signSpec, body []byte) Options {
	skew := 15 * time.Minute
	if s.service == "secretsmanager" {
		skew = 5 * time.Minute
	}
	return Options{Region: s.region, Service: s.service, Now: s.at, MaxSkew: skew, Body: body, AllowUnsignedPayload: s.unsigned}
}

// TestSDKDifferential signs random requests with the AWS SDK (header and presigned) and
// checks that they verify, with the right Auth fields, and fail with another secret.
func TestSDKDifferential(t *testing.T) {
	v := NewVerifier()
	for _, mode := range []string{"header", "presigned"} {
		for seed := range uint64(300) {
			name := fmt.Sprintf("ok/%s/seed-%d", mode, seed)
			t.Run(name, func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 1))
				s := randomSpec(rng, mode == "presigned")
				wire := sdkSign(t, s)
				r, body := mustReadServerRequest(t, wire)
				a, err := Parse(r)
				if err != nil {
					t.Fatalf("Parse() = %v\n%s", err, wire)
				}
				if a.AccessKeyID != s.akid || a.SecurityToken != s.token || !a.Time.Equal(s.at) || a.Presigned != s.presign ||
					a.Scope != (Scope{s.at.Format("20060102"), s.region, s.service}) {
					t.Errorf("Parse() = %+v, want fields of %+v", a, s)
				}
				if s.presign && a.Expires != time.Duration(s.expires)*time.Second {
					t.Errorf("Parse().Expires = %v, want %ds", a.Expires, s.expires)
				}
				if err := v.Verify(r, a, s.secret, optionsFor(s, body)); err != nil {
					t.Fatalf("Verify() = %v\n%s", err, wire)
				}
				err = v.Verify(r, a, s.secret[1:]+"x", optionsFor(s, body))
				wantReason(t, "Verify(wrong secret)", err, ReasonSignature)
				assertSafeDetail(t, err, s.secret)
			})
		}
	}
}

// TestSDKPresignedUnsignedPayload covers presigned URLs signed over UNSIGNED-PAYLOAD (the
// S3 convention): accepted only with AllowUnsignedPayload, and then the body is not covered.
func TestSDKPresignedUnsignedPayload(t *testing.T) {
	s := randomSpec(rand.New(rand.NewPCG(7, 7)), true)
	s.method, s.body, s.unsigned = "POST", []byte("Action=GetCallerIdentity&Version=2011-06-15"), true
	wire := sdkSign(t, s)

	tests := []struct {
		name  string
		allow bool
		body  []byte
		want  Reason
	}{
		{"ok/allowed", true, s.body, 0},
		{"ok/allowed-body-not-covered", true, []byte("Action=CreateAccessKey&Version=2010-05-08"), 0},
		{"fail/not-allowed", false, s.body, ReasonSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := mustReadServerRequest(t, wire)
			o := optionsFor(s, tt.body)
			o.AllowUnsignedPayload = tt.allow
			wantReason(t, "Verify()", parseAndVerify(NewVerifier(), r, s.secret, o), tt.want)
		})
	}
}
