package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// The steps below follow "Create a canonical request" and "Create a string to sign" in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html. Each is a pure
// function of its inputs.

// canonicalRequest joins the six parts of a canonical request:
//
//	<HTTPMethod>\n
//	<CanonicalURI>\n
//	<CanonicalQueryString>\n
//	<CanonicalHeaders>\n      (each header line ends in \n, so a blank line follows them)
//	<SignedHeaders>\n
//	<HashedPayload>
func canonicalRequest(method, uri, query, headers, signedHeaders, payloadHash string) string {
	var b strings.Builder
	b.Grow(len(method) + len(uri) + len(query) + len(headers) + len(signedHeaders) + len(payloadHash) + 5)
	b.WriteString(method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	b.WriteString(headers)
	b.WriteByte('\n')
	b.WriteString(signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// stringToSign is
//
//	AWS4-HMAC-SHA256\n
//	<RequestDateTime>\n       (YYYYMMDD'T'HHMMSS'Z')
//	<CredentialScope>\n       (YYYYMMDD/region/service/aws4_request)
//	<HashedCanonicalRequest>  (lower-case hex SHA-256)
func stringToSign(amzDate string, scope Scope, canonicalRequest string) string {
	sum := sha256.Sum256([]byte(canonicalRequest))
	return Algorithm + "\n" + amzDate + "\n" + scope.String() + "\n" + hex.EncodeToString(sum[:])
}

// canonicalURI is the URI-encoded path. For every service but S3 the path is encoded twice:
// once by the client when it put the path on the wire, and once more here. So this encodes
// the path exactly as it was received (wirePath), keeping '/'. An empty path is "/".
func canonicalURI(u *url.URL) string {
	p := wirePath(u)
	if p == "" {
		return "/"
	}
	return uriEncode(p, false)
}

// wirePath returns the path as the client sent it. Go's server keeps it in RawPath unless it
// equals the default encoding of Path; RawPath is used only while it still decodes to Path (a
// handler that rewrites Path without RawPath gets the default encoding). Unlike
// url.URL.EscapedPath, a RawPath with characters Go would have escaped (raw UTF-8, '|', ...)
// is kept as sent, since that is what the client signed.
func wirePath(u *url.URL) string {
	if u.Opaque != "" {
		return u.Opaque
	}
	if u.RawPath != "" {
		if p, err := url.PathUnescape(u.RawPath); err == nil && p == u.Path {
			return u.RawPath
		}
	}
	return u.EscapedPath()
}

// uriEncode is UriEncode from the specification: every byte but the RFC 3986 unreserved
// characters A-Z a-z 0-9 - . _ ~ becomes %XX with upper-case hex. '/' is kept in paths
// (encodeSlash false) and encoded in query components (encodeSlash true).
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !isUnreserved(s[i]) && (s[i] != '/' || encodeSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || (c == '/' && !encodeSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// queryParam is one decoded query parameter. A key without '=' has an empty value.
type queryParam struct{ key, value string }

type queryParams []queryParam

var errBadEscape = errors.New("invalid percent-encoding in query")

// parseQuery splits a raw query the way AWS reads it: on '&' only (never ';'), skipping empty
// pieces, each piece split at its first '='. Keys and values are percent-decoded, '+' meaning
// a space as in forms (the Go SDK decodes the query the same way before signing). Unlike
// url.ParseQuery nothing is silently dropped: a bad escape is an error.
func parseQuery(raw string) (queryParams, error) {
	var out queryParams
	for piece := range strings.SplitSeq(raw, "&") {
		if piece == "" {
			continue
		}
		k, v, _ := strings.Cut(piece, "=")
		key, ok := unescapeQuery(k)
		if !ok {
			return nil, errBadEscape
		}
		value, ok := unescapeQuery(v)
		if !ok {
			return nil, errBadEscape
		}
		out = append(out, queryParam{key, value})
	}
	return out, nil
}

func unescapeQuery(s string) (string, bool) {
	if strings.IndexByte(s, '%') < 0 && strings.IndexByte(s, '+') < 0 {
		return s, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%':
			if i+2 >= len(s) {
				return "", false
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return "", false
			}
			b = append(b, hi<<4|lo)
			i += 2
		case '+':
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// get returns the first value for key and how many times key appears.
func (q queryParams) get(key string) (string, int) {
	var v string
	n := 0
	for _, p := range q {
		if p.key == key {
			if n == 0 {
				v = p.value
			}
			n++
		}
	}
	return v, n
}

func (q queryParams) has(key string) bool {
	_, n := q.get(key)
	return n > 0
}

// canonicalQuery encodes each key and value (RFC 3986, spaces as %20), sorts by encoded key
// then encoded value, and joins them as k=v&k=v. Parameters named skip (X-Amz-Signature for
// presigned URLs) are left out.
func canonicalQuery(q queryParams, skip string) string {
	if len(q) == 0 {
		return ""
	}
	enc := make([]queryParam, 0, len(q))
	for _, p := range q {
		if skip != "" && p.key == skip {
			continue
		}
		enc = append(enc, queryParam{uriEncode(p.key, true), uriEncode(p.value, true)})
	}
	sort.Slice(enc, func(i, j int) bool {
		if enc[i].key != enc[j].key {
			return enc[i].key < enc[j].key
		}
		return enc[i].value < enc[j].value
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// errHeaderAbsent names a signed header that the request does not carry.
type errHeaderAbsent struct{ name string }

func (e errHeaderAbsent) Error() string { return "signed header " + e.name + " is absent" }

// canonicalHeaders writes one "name:value\n" line per signed header, in the order given.
// Values are trimmed, runs of spaces collapse to one, and repeated headers are joined with
// ",". host comes from r.Host (Go's server moves the Host header there); content-length, if
// the server took it out of r.Header, from r.ContentLength.
func canonicalHeaders(r *http.Request, signed []string) (string, error) {
	var b strings.Builder
	for _, name := range signed {
		var vals []string
		switch name {
		case "host":
			host := r.Host
			if host == "" && r.URL != nil {
				host = r.URL.Host
			}
			if host == "" {
				return "", errHeaderAbsent{name}
			}
			vals = []string{host}
		default:
			vals = headerValues(r.Header, name)
			if len(vals) == 0 && name == "content-length" && r.ContentLength >= 0 {
				vals = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
			if len(vals) == 0 {
				return "", errHeaderAbsent{name}
			}
		}
		b.WriteString(name)
		b.WriteByte(':')
		for i, v := range vals {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(trimAll(v))
		}
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// headerValues returns the values of the header named lower (lower case), matching names
// case-insensitively as AWS does. Go's server canonicalises the names it can but keeps
// others (for example with '_') as sent, so several keys may match; they are then taken in
// sorted order, so that the result is deterministic.
func headerValues(h http.Header, lower string) []string {
	var keys []string
	for k := range h {
		if len(k) == len(lower) && strings.EqualFold(k, lower) {
			keys = append(keys, k)
		}
	}
	switch len(keys) {
	case 0:
		return nil
	case 1:
		return h[keys[0]]
	}
	sort.Strings(keys)
	var vals []string
	for _, k := range keys {
		vals = append(vals, h[k]...)
	}
	return vals
}

// trimAll removes leading and trailing white space and collapses each run of spaces to one,
// as "Trim(value)" in the canonical headers specification (and as the Go SDK does: inner
// tabs are kept).
func trimAll(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}
