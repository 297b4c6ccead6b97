package sigv4

import (
	"errors"
	"strconv"
)

// Reason says why a request failed authentication. Callers map it to a wire error code.
type Reason int

const (
	// ReasonMissing: no Authorization header and no X-Amz-Algorithm query parameter.
	ReasonMissing Reason = iota + 1
	// ReasonMalformed: the Authorization header or the presign parameters are present but
	// incomplete or unparsable, the algorithm is not supported, or a date is badly formatted.
	ReasonMalformed
	// ReasonUnknownKey is reserved for callers (unknown access key id); Parse and Verify
	// never return it.
	ReasonUnknownKey
	// ReasonSignature: the signature does not match, the signed headers do not include
	// host, a signed header is absent, or the payload hash does not match the body.
	ReasonSignature
	// ReasonExpired: a presigned URL used after X-Amz-Date + X-Amz-Expires.
	ReasonExpired
	// ReasonSkew: a header-signed request dated outside now±MaxSkew, or a presigned URL
	// dated more than MaxSkew in the future.
	ReasonSkew
	// ReasonScope: the credential scope's date is not the request's day, its region or
	// service is not the expected one, or its terminator is not aws4_request.
	ReasonScope
)

var reasonNames = [...]string{
	ReasonMissing:    "missing authentication",
	ReasonMalformed:  "malformed authentication",
	ReasonUnknownKey: "unknown access key",
	ReasonSignature:  "signature mismatch",
	ReasonExpired:    "request expired",
	ReasonSkew:       "clock skew",
	ReasonScope:      "invalid credential scope",
}

func (r Reason) String() string {
	if r > 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Error is the only error type returned by [Parse] and [Verifier.Verify].
//
// Detail is an AWS-like, human-readable message that is safe to send to the client: it never
// contains a secret, a signing key or the expected signature.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string {
	return "sigv4: " + e.Reason.String() + ": " + e.Detail
}

// ReasonOf returns the Reason of err if it is (or wraps) an [*Error], and 0 otherwise.
func ReasonOf(err error) Reason {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return 0
}

func newError(r Reason, detail string) *Error {
	return &Error{Reason: r, Detail: detail}
}

// AWS-worded details that several places use.
const (
	detailSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	detailMissing       = "Request is missing Authentication Token"
	detailBothSources   = "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified"
	detailBadCredential = `Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; ` +
		`expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`
	detailBadAmzDate  = "X-Amz-Date must be in the ISO-8601 'basic format' YYYYMMDD'T'HHMMSS'Z'."
	detailExpired     = "Request has expired"
	detailPresignKeys = "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', " +
		"'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. Re-examine the query-string parameters."
)
