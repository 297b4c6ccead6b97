package sigv4

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm this package accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator ends every SigV4 credential scope.
const Terminator = "aws4_request"

// MaxPresignExpires is the longest validity AWS allows for a presigned URL (7 days).
const MaxPresignExpires = 7 * 24 * time.Hour

const (
	amzDateLayout   = "20060102T150405Z"
	scopeDateLayout = "20060102"
)

// Query parameters and headers, spelled as AWS spells them (query names are case-sensitive).
const (
	paramAlgorithm     = "X-Amz-Algorithm"
	paramCredential    = "X-Amz-Credential"
	paramDate          = "X-Amz-Date"
	paramExpires       = "X-Amz-Expires"
	paramSignedHeaders = "X-Amz-SignedHeaders"
	paramSignature     = "X-Amz-Signature"
	paramSecurityToken = "X-Amz-Security-Token"

	headerAuthorization = "Authorization"
	headerAmzDate       = "X-Amz-Date"
	headerDate          = "Date"
	headerSecurityToken = "X-Amz-Security-Token"
	headerContentSHA256 = "X-Amz-Content-Sha256"
)

// Scope is the credential scope of a signature, as in
// AKID/<Date>/<Region>/<Service>/aws4_request.
type Scope struct {
	Date    string // YYYYMMDD
	Region  string
	Service string
}

func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + Terminator
}

// Auth holds the authentication parameters of one request, as read by [Parse].
type Auth struct {
	AccessKeyID   string
	Time          time.Time // from X-Amz-Date, or the Date header when a header-signed request has no X-Amz-Date
	Scope         Scope
	SignedHeaders []string // lower-case, in the order given by the client
	Signature     string   // 64 lower-case hex digits
	Presigned     bool
	Expires       time.Duration // presigned only: X-Amz-Expires, 1s..7 days
	SecurityToken string        // X-Amz-Security-Token header or query parameter ("" if none)

	// terminator is the fifth credential field; Verify checks that it is aws4_request.
	terminator string
}

// IsSigned reports whether the header name (any case) is covered by the signature.
func (a *Auth) IsSigned(name string) bool {
	name = strings.ToLower(name)
	return slices.Contains(a.SignedHeaders, name)
}

// Parse reads the authentication parameters of r from its Authorization header or from its
// query string (a presigned URL). It needs no secret and checks no signature.
//
// It returns an [*Error] with [ReasonMissing] if r carries neither, and [ReasonMalformed] if it
// carries both, or if the parameters present are incomplete or unparsable.
func Parse(r *http.Request) (*Auth, error) {
	if r == nil || r.URL == nil {
		return nil, newError(ReasonMalformed, "Request has no URL")
	}
	authz := r.Header.Values(headerAuthorization)
	query, qerr := parseQuery(r.URL.RawQuery)
	hasQuery := qerr == nil && query.has(paramAlgorithm)
	if qerr != nil && strings.Contains(r.URL.RawQuery, paramAlgorithm) {
		hasQuery = true // a presign attempt we cannot read: refuse it, never ignore it
	}
	switch {
	case len(authz) > 0 && hasQuery:
		return nil, newError(ReasonMalformed, detailBothSources)
	case len(authz) == 0 && !hasQuery:
		return nil, newError(ReasonMissing, detailMissing)
	case qerr != nil:
		return nil, newError(ReasonMalformed, "The query string is not properly percent-encoded.")
	case len(authz) > 0:
		return parseHeader(r, authz, query)
	default:
		return parsePresigned(r, query)
	}
}

// parseHeader reads
//
//	Authorization: AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=<hex>
//
// and the request time from X-Amz-Date, or from Date when there is no X-Amz-Date.
func parseHeader(r *http.Request, authz []string, query queryParams) (*Auth, error) {
	if len(authz) != 1 {
		return nil, newError(ReasonMalformed, "Only one Authorization header may be specified.")
	}
	alg, rest, _ := strings.Cut(strings.TrimSpace(authz[0]), " ")
	if alg != Algorithm {
		return nil, newError(ReasonMalformed, "Unsupported AWS 'algorithm': only "+Algorithm+" is accepted.")
	}
	var credential, signedHeaders, signature string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, newError(ReasonMalformed, "Authorization header components must be key=value pairs separated by commas.")
		}
		var i int
		switch key {
		case "Credential":
			i, credential = 0, value
		case "SignedHeaders":
			i, signedHeaders = 1, value
		case "Signature":
			i, signature = 2, value
		default:
			return nil, newError(ReasonMalformed, "Authorization header has an unknown component; expected Credential, SignedHeaders and Signature.")
		}
		if seen[i] {
			return nil, newError(ReasonMalformed, "Authorization header repeats the '"+key+"' component.")
		}
		seen[i] = true
	}
	var missing []string
	for i, name := range [...]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			missing = append(missing, "Authorization header requires '"+name+"' parameter.")
		}
	}
	if len(missing) > 0 {
		return nil, newError(ReasonMalformed, strings.Join(missing, " "))
	}

	a := &Auth{}
	if err := a.setCommon(credential, signedHeaders, signature); err != nil {
		return nil, err
	}

	switch dates := r.Header.Values(headerAmzDate); len(dates) {
	case 0:
		d := r.Header.Values(headerDate)
		if len(d) != 1 {
			return nil, newError(ReasonMalformed, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
		t, err := http.ParseTime(d[0])
		if err != nil {
			return nil, newError(ReasonMalformed, "Date header must be an HTTP date (RFC 7231 section 7.1.1.1).")
		}
		a.Time = t.UTC()
	case 1:
		t, err := parseAmzDate(dates[0])
		if err != nil {
			return nil, err
		}
		a.Time = t
	default:
		return nil, newError(ReasonMalformed, "Only one X-Amz-Date header may be specified.")
	}

	token, err := securityToken(r, query)
	if err != nil {
		return nil, err
	}
	a.SecurityToken = token
	return a, nil
}

// parsePresigned reads the query-string form:
//
//	?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request
//	&X-Amz-Date=20150830T123600Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=<hex>
func parsePresigned(r *http.Request, query queryParams) (*Auth, error) {
	var vals [6]string
	for i, name := range [...]string{paramAlgorithm, paramCredential, paramDate, paramExpires, paramSignedHeaders, paramSignature} {
		v, n := query.get(name)
		switch {
		case n == 0:
			return nil, newError(ReasonMalformed, detailPresignKeys)
		case n > 1:
			return nil, newError(ReasonMalformed, "The query parameter '"+name+"' may be specified only once.")
		}
		vals[i] = v
	}
	if vals[0] != Algorithm {
		return nil, newError(ReasonMalformed, "X-Amz-Algorithm only supports \""+Algorithm+"\".")
	}
	a := &Auth{Presigned: true}
	if err := a.setCommon(vals[1], vals[4], vals[5]); err != nil {
		return nil, err
	}
	t, err := parseAmzDate(vals[2])
	if err != nil {
		return nil, err
	}
	a.Time = t
	exp, err := parseExpires(vals[3])
	if err != nil {
		return nil, err
	}
	a.Expires = exp

	token, err := securityToken(r, query)
	if err != nil {
		return nil, err
	}
	a.SecurityToken = token
	return a, nil
}

// setCommon parses the three values both forms share.
func (a *Auth) setCommon(credential, signedHeaders, signature string) error {
	// Credential: <AKID>/<YYYYMMDD>/<region>/<service>/aws4_request
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || !validAccessKeyID(parts[0]) || parts[2] == "" || parts[3] == "" || parts[4] == "" {
		return newError(ReasonMalformed, detailBadCredential)
	}
	if len(parts[1]) != len(scopeDateLayout) || !allDigits(parts[1]) {
		return newError(ReasonMalformed, detailBadCredential)
	}
	if _, err := time.Parse(scopeDateLayout, parts[1]); err != nil {
		return newError(ReasonMalformed, detailBadCredential)
	}
	a.AccessKeyID = parts[0]
	a.Scope = Scope{Date: parts[1], Region: parts[2], Service: parts[3]}
	a.terminator = parts[4]

	// SignedHeaders: lower-case header names separated by ';'.
	if signedHeaders == "" {
		return newError(ReasonMalformed, "SignedHeaders must not be empty.")
	}
	names := strings.Split(signedHeaders, ";")
	for i, name := range names {
		if !validSignedHeaderName(name) {
			return newError(ReasonMalformed, "SignedHeaders must be a ';'-separated list of lower-case header names.")
		}
		if slices.Contains(names[:i], name) {
			return newError(ReasonMalformed, "SignedHeaders must not name a header twice.")
		}
	}
	a.SignedHeaders = names

	// Signature: hex of an HMAC-SHA256, lower-case as every SDK writes it.
	if len(signature) != 64 || !isLowerHex(signature) {
		return newError(ReasonMalformed, "Signature must be 64 lower-case hexadecimal characters.")
	}
	a.Signature = signature
	return nil
}

func parseAmzDate(s string) (time.Time, error) {
	// time.Parse tolerates input the layout does not describe (a fractional second after
	// the seconds, for one), and the string to sign needs the exact text: insist on its shape.
	if len(s) != len(amzDateLayout) || !allDigits(s[0:8]) || s[8] != 'T' || !allDigits(s[9:15]) || s[15] != 'Z' {
		return time.Time{}, newError(ReasonMalformed, detailBadAmzDate)
	}
	t, err := time.Parse(amzDateLayout, s)
	if err != nil {
		return time.Time{}, newError(ReasonMalformed, detailBadAmzDate)
	}
	return t, nil
}

func parseExpires(s string) (time.Duration, error) {
	if s == "" || len(s) > 7 || !allDigits(s) {
		return 0, newError(ReasonMalformed, "X-Amz-Expires should be a number of seconds between 1 and 604800.")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return 0, newError(ReasonMalformed, "X-Amz-Expires should be a number of seconds between 1 and 604800.")
	}
	d := time.Duration(n) * time.Second
	if d > MaxPresignExpires {
		return 0, newError(ReasonMalformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	return d, nil
}

// securityToken returns the session token from the X-Amz-Security-Token header or query
// parameter. Two different values are refused: which one would the caller check?
func securityToken(r *http.Request, query queryParams) (string, error) {
	vals := r.Header.Values(headerSecurityToken)
	for _, p := range query {
		if p.key == paramSecurityToken {
			vals = append(vals, p.value)
		}
	}
	if len(vals) == 0 {
		return "", nil
	}
	for _, v := range vals[1:] {
		if v != vals[0] {
			return "", newError(ReasonMalformed, "Only one X-Amz-Security-Token may be specified.")
		}
	}
	return vals[0], nil
}

// validAccessKeyID accepts AWS-shaped key ids: 1 to 128 ASCII letters and digits.
func validAccessKeyID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// validSignedHeaderName accepts an RFC 7230 token without upper-case letters.
func validSignedHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
