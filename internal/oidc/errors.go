package oidc

import "fmt"

// Reason says which check a token failed.
type Reason int

// Reasons a token is refused.
const (
	ReasonMalformed      Reason = iota + 1 // not a compact JWS, or claims of the wrong type
	ReasonAlgorithm                        // alg is not RS256 or ES256
	ReasonIssuer                           // iss is not the provider's issuer
	ReasonKeys                             // the issuer's keys could not be had
	ReasonUnknownKey                       // no key of the issuer fits the token's kid and alg
	ReasonSignature                        // the signature does not verify
	ReasonExpired                          // exp has passed
	ReasonNotYetValid                      // nbf is in the future
	ReasonIssuedInFuture                   // iat is in the future
	ReasonAudience                         // no aud is a client id of the provider
	ReasonClaims                           // sub is missing or unusable, or claims collide
)

var reasonNames = map[Reason]string{
	ReasonMalformed:      "malformed",
	ReasonAlgorithm:      "algorithm",
	ReasonIssuer:         "issuer",
	ReasonKeys:           "keys",
	ReasonUnknownKey:     "unknown-key",
	ReasonSignature:      "signature",
	ReasonExpired:        "expired",
	ReasonNotYetValid:    "not-yet-valid",
	ReasonIssuedInFuture: "issued-in-future",
	ReasonAudience:       "audience",
	ReasonClaims:         "claims",
}

func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Error is why a token was refused. Detail is safe to show to the client
// that presented the token: it names claims, times, key ids and algorithms,
// never the token or a signature. Err, when set, is an internal cause (a
// network error while fetching keys) for the log only.
type Error struct {
	Reason Reason
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return "oidc: " + e.Detail + ": " + e.Err.Error()
	}
	return "oidc: " + e.Detail
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

func fail(r Reason, format string, args ...any) *Error {
	return &Error{Reason: r, Detail: fmt.Sprintf(format, args...)}
}
