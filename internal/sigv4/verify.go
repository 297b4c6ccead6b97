package sigv4

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// UnsignedPayload is the x-amz-content-sha256 value that leaves the body out of the signature.
const UnsignedPayload = "UNSIGNED-PAYLOAD"

// Options are what the server expects of a request.
type Options struct {
	Region, Service string        // the expected credential scope
	Now             time.Time     // the server's clock, read once by the caller
	MaxSkew         time.Duration // tolerated clock difference: 15m for sts and iam, 5m for secretsmanager; 0 (or less) tolerates none
	Body            []byte        // the full request body, already read by the caller

	// AllowUnsignedPayload accepts requests whose body is not covered by the signature:
	// x-amz-content-sha256: UNSIGNED-PAYLOAD, or a presigned URL signed with UNSIGNED-PAYLOAD
	// (the S3 convention). Leave it off unless the operation's body carries nothing that
	// needs authenticating.
	AllowUnsignedPayload bool
}

// Verify checks that a, as returned by [Parse] for r, is a valid signature of r with secret.
//
// The checks run in this order, and the first failure is returned as an [*Error]:
// the credential scope ([ReasonScope]), the time ([ReasonSkew], [ReasonExpired]), the payload
// hash ([ReasonSignature]), then the signature itself ([ReasonSignature]), compared in
// constant time.
//
// For a presigned URL without an x-amz-content-sha256 header the canonical request uses the
// SHA-256 of the body, as the SDKs presign STS and IAM calls (for a GET, the hash of the empty
// string); with AllowUnsignedPayload, a URL signed over UNSIGNED-PAYLOAD is accepted too.
func (v *Verifier) Verify(r *http.Request, a *Auth, secret string, o Options) error {
	if r == nil || r.URL == nil || a == nil {
		return newError(ReasonMalformed, "Request has no authentication parameters.")
	}
	if err := checkScope(a, o); err != nil {
		return err
	}
	if err := checkTime(a, o); err != nil {
		return err
	}
	payloads, err := payloadHashes(r, a, o)
	if err != nil {
		return err
	}
	return v.checkSignature(r, a, secret, payloads)
}

func checkScope(a *Auth, o Options) error {
	switch {
	case a.terminator != Terminator:
		return newError(ReasonScope, "Credential should be scoped with a valid terminator: '"+Terminator+"'.")
	case a.Scope.Region != o.Region:
		return newError(ReasonScope, "Credential should be scoped to a valid region.")
	case a.Scope.Service != o.Service:
		return newError(ReasonScope, "Credential should be scoped to correct service: '"+o.Service+"'.")
	case a.Scope.Date != a.Time.UTC().Format(scopeDateLayout):
		return newError(ReasonScope, "Invalid credential date. Date is not the same as X-Amz-Date.")
	}
	return nil
}

// checkTime applies the clock rules. Both bounds are inclusive: a request dated exactly
// MaxSkew ago, or a presigned URL used exactly Expires after its date, is still accepted.
func checkTime(a *Auth, o Options) error {
	t := a.Time
	skew := max(o.MaxSkew, 0)
	if t.After(o.Now.Add(skew)) {
		return newError(ReasonSkew, "Signature not yet current: "+fmtAmz(t)+" is still later than "+
			fmtAmz(o.Now.Add(skew))+" ("+fmtAmz(o.Now)+" + "+fmtSkew(skew)+")")
	}
	if a.Presigned {
		if o.Now.After(t.Add(a.Expires)) {
			return newError(ReasonExpired, detailExpired)
		}
		return nil
	}
	if t.Before(o.Now.Add(-skew)) {
		return newError(ReasonSkew, "Signature expired: "+fmtAmz(t)+" is now earlier than "+
			fmtAmz(o.Now.Add(-skew))+" ("+fmtAmz(o.Now)+" - "+fmtSkew(skew)+")")
	}
	return nil
}

func fmtAmz(t time.Time) string { return t.UTC().Format(amzDateLayout) }

// fmtSkew writes the skew as AWS does ("15 min."), or as a Go duration if it is not whole minutes.
func fmtSkew(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String()
}

// payloadHashes returns the hashed-payload values the signature may have been computed over.
func payloadHashes(r *http.Request, a *Auth, o Options) ([]string, error) {
	sum := sha256.Sum256(o.Body)
	bodyHash := hex.EncodeToString(sum[:])
	switch h := r.Header.Values(headerContentSHA256); len(h) {
	case 0:
		if a.Presigned && o.AllowUnsignedPayload {
			return []string{bodyHash, UnsignedPayload}, nil
		}
		return []string{bodyHash}, nil
	case 1:
		switch h[0] {
		case bodyHash:
			return []string{bodyHash}, nil
		case UnsignedPayload:
			if o.AllowUnsignedPayload {
				return []string{UnsignedPayload}, nil
			}
			return nil, newError(ReasonSignature, "UNSIGNED-PAYLOAD is not accepted for this request; sign the payload.")
		default:
			return nil, newError(ReasonSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	default:
		return nil, newError(ReasonSignature, "Only one 'x-amz-content-sha256' header may be specified.")
	}
}

func (v *Verifier) checkSignature(r *http.Request, a *Auth, secret string, payloads []string) error {
	if !a.IsSigned("host") {
		return newError(ReasonSignature, "'Host' must be a signed header.")
	}
	headers, err := canonicalHeaders(r, a.SignedHeaders)
	if err != nil {
		var absent errHeaderAbsent
		if errors.As(err, &absent) {
			return newError(ReasonSignature, "The header '"+absent.name+"' is listed in SignedHeaders but is not present in the request.")
		}
		return newError(ReasonSignature, detailSignatureMismatch)
	}
	query, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		return newError(ReasonMalformed, "The query string is not properly percent-encoded.")
	}
	skip := ""
	if a.Presigned {
		skip = paramSignature
	}
	method, uri, cquery, signed := r.Method, canonicalURI(r.URL), canonicalQuery(query, skip), joinSignedHeaders(a.SignedHeaders)

	key := v.signing(secret, a.Scope)
	given := []byte(a.Signature)
	ok := 0
	for _, payload := range payloads {
		creq := canonicalRequest(method, uri, cquery, headers, signed, payload)
		sts := stringToSign(fmtAmz(a.Time), a.Scope, creq)
		var want [2 * sha256.Size]byte
		key.sign([]byte(sts), &want)
		// Constant time: comparing byte by byte and stopping at the first difference would let
		// a client learn, from response times, how many leading bytes of its guess are right,
		// and so forge a signature one byte at a time (minio#5334 compared with ==).
		ok |= subtle.ConstantTimeCompare(want[:], given)
	}
	if ok != 1 {
		return newError(ReasonSignature, detailSignatureMismatch)
	}
	return nil
}

func joinSignedHeaders(names []string) string {
	n := len(names)
	for _, s := range names {
		n += len(s)
	}
	b := make([]byte, 0, n)
	for i, s := range names {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, s...)
	}
	return string(b)
}
