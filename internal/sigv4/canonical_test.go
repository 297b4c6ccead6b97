package sigv4

import (
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"
)

func TestCanonicalURI(t *testing.T) {
	tests := []struct {
		name string
		url  *url.URL
		want string
	}{
		{"ok/empty-is-slash", &url.URL{}, "/"},
		{"ok/slash", &url.URL{Path: "/"}, "/"},
		{"ok/unreserved-kept", &url.URL{Path: "/a-b_c.d~e/"}, "/a-b_c.d~e/"},
		{"ok/double-encoded-space", &url.URL{Path: "/a b"}, "/a%2520b"},
		{"ok/double-encoded-utf8", &url.URL{Path: "/ሴ"}, "/%25E1%2588%25B4"},
		{"ok/encoded-slash-kept-as-sent", &url.URL{Path: "/a/b", RawPath: "/a%2Fb"}, "/a%252Fb"},
		{"ok/raw-utf8-as-sent", &url.URL{Path: "/ሴ", RawPath: "/ሴ"}, "/%E1%88%B4"},
		{"ok/lower-case-escape-as-sent", &url.URL{Path: "/é", RawPath: "/%c3%a9"}, "/%25c3%25a9"},
		{"ok/stale-raw-path-ignored", &url.URL{Path: "/rewritten", RawPath: "/a%2Fb"}, "/rewritten"},
		{"ok/dot-segments-not-removed", &url.URL{Path: "/a/../b"}, "/a/../b"},
		{"ok/slashes-not-merged", &url.URL{Path: "//a//"}, "//a//"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := canonicalURI(tt.url); got != tt.want {
				t.Errorf("canonicalURI(%#v) = %q, want %q", tt.url, got, tt.want)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		skip string
		want string
	}{
		{"ok/empty", "", "", ""},
		{"ok/key-without-equals", "Param1", "", "Param1="},
		{"ok/empty-value", "a=&b", "", "a=&b="},
		{"ok/sort-by-key-then-value", "b=2&a=2&a=1&A=3", "", "A=3&a=1&a=2&b=2"},
		{"ok/sort-by-encoded-key", "a%20b=1&a=2&a-b=3", "", "a=2&a%20b=1&a-b=3"},
		{"ok/plus-is-space", "a=b+c", "", "a=b%20c"},
		{"ok/encoded-plus", "a=b%2Bc", "", "a=b%2Bc"},
		{"ok/reserved-encoded", "k=/?:@%26%3D", "", "k=%2F%3F%3A%40%26%3D"},
		{"ok/empty-key-from-bare-equals", "k=1&=", "", "=&k=1"},
		{"ok/semicolon-is-data", "a=1;b=2", "", "a=1%3Bb%3D2"},
		{"ok/utf8", "ሴ=bar", "", "%E1%88%B4=bar"},
		{"ok/lower-hex-normalised", "a=%c3%a9", "", "a=%C3%A9"},
		{"ok/empty-pieces-skipped", "&&a=1&&", "", "a=1"},
		{"ok/signature-skipped", "X-Amz-Signature=abc&a=1", paramSignature, "a=1"},
		{"ok/signature-kept-for-headers", "X-Amz-Signature=abc", "", "X-Amz-Signature=abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := parseQuery(tt.raw)
			if err != nil {
				t.Fatalf("parseQuery(%q) = %v", tt.raw, err)
			}
			if got := canonicalQuery(q, tt.skip); got != tt.want {
				t.Errorf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
	for _, raw := range []string{"a=%", "a=%4", "a=%zz", "%g0=1"} {
		t.Run("fail/"+raw, func(t *testing.T) {
			if _, err := parseQuery(raw); err == nil {
				t.Errorf("parseQuery(%q) = nil error, want an error", raw)
			}
		})
	}
}

func TestCanonicalHeaders(t *testing.T) {
	tests := []struct {
		name          string
		header        http.Header
		host          string
		contentLength int64
		signed        []string
		want          string
		wantErr       bool
	}{
		{name: "ok/trim-and-collapse", header: http.Header{"My-Header2": {`  "a   b   c"  `}}, host: "h",
			signed: []string{"host", "my-header2"}, want: "host:h\nmy-header2:\"a b c\"\n"},
		{name: "ok/values-joined-in-order", header: http.Header{"My-Header1": {"value4", "value1", " value3 "}}, host: "h",
			signed: []string{"my-header1"}, want: "my-header1:value4,value1,value3\n"},
		{name: "ok/inner-tab-kept", header: http.Header{"X-A": {"a\t  b"}}, signed: []string{"x-a"}, want: "x-a:a\t b\n"},
		{name: "ok/empty-value", header: http.Header{"X-A": {""}}, signed: []string{"x-a"}, want: "x-a:\n"},
		{name: "ok/non-canonical-keys-merged-sorted", header: http.Header{"x_custom": {"2"}, "X_custom": {"1"}},
			signed: []string{"x_custom"}, want: "x_custom:1,2\n"},
		{name: "ok/content-length-from-request", header: http.Header{}, contentLength: 12,
			signed: []string{"content-length"}, want: "content-length:12\n"},
		{name: "ok/content-length-header-wins", header: http.Header{"Content-Length": {"5"}}, contentLength: 12,
			signed: []string{"content-length"}, want: "content-length:5\n"},
		{name: "ok/order-as-given", header: http.Header{"B": {"2"}, "A": {"1"}}, signed: []string{"b", "a"}, want: "b:2\na:1\n"},
		{name: "fail/absent", header: http.Header{}, signed: []string{"x-a"}, wantErr: true},
		{name: "fail/no-host", header: http.Header{}, signed: []string{"host"}, wantErr: true},
		{name: "fail/content-length-unknown", header: http.Header{}, contentLength: -1, signed: []string{"content-length"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &http.Request{Header: tt.header, Host: tt.host, ContentLength: tt.contentLength, URL: &url.URL{}}
			got, err := canonicalHeaders(r, tt.signed)
			if (err != nil) != tt.wantErr {
				t.Fatalf("canonicalHeaders() error = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("canonicalHeaders() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSigningKey(t *testing.T) {
	// From "Derive a signing key" in the AWS documentation's example (secret
	// wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20150830/us-east-1/iam).
	const want = "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
	got := deriveSigningKey(suiteSecret, Scope{"20150830", "us-east-1", "iam"})
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("deriveSigningKey() = %s, want %s", h, want)
	}
}
