package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/iamapi"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/sigv4"
	"github.com/shortfuse/shortfuse/internal/smapi"
)

// sigv4Codes maps each verification failure to its wire error. AWS does not
// document these in the service models; the spellings follow what the
// services answer (and what botocore's clock-skew retry looks for).
var sigv4Codes = map[sigv4.Reason]awsapi.Code{
	sigv4.ReasonMissing:    awsapi.CodeMissingAuthenticationToken,
	sigv4.ReasonMalformed:  awsapi.CodeIncompleteSignature,
	sigv4.ReasonUnknownKey: awsapi.CodeInvalidClientTokenID,
	sigv4.ReasonSignature:  awsapi.CodeSignatureDoesNotMatch,
	sigv4.ReasonExpired:    awsapi.CodeRequestExpired,
	sigv4.ReasonSkew:       awsapi.CodeSignatureDoesNotMatch,
	sigv4.ReasonScope:      awsapi.CodeSignatureDoesNotMatch,
}

const msgSignatureDoesNotMatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

// toWire is the one place where errors become wire errors. Anything it does
// not know becomes InternalFailure with a fixed message; the cause is
// logged with the request id and never sent.
func (s *Server) toWire(err error, reqID string) *awsapi.Error {
	var we *awsapi.Error
	if errors.As(err, &we) {
		return we
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		code, ok := sigv4Codes[se.Reason]
		if !ok {
			code = awsapi.CodeIncompleteSignature
		}
		msg := se.Detail
		if se.Reason == sigv4.ReasonSignature {
			msg = msgSignatureDoesNotMatch
		}
		if se.Reason == sigv4.ReasonMissing && msg == "" {
			msg = "Request is missing Authentication Token"
		}
		return &awsapi.Error{Code: code, Message: msg}
	}
	var pe *policy.MalformedError
	if errors.As(err, &pe) {
		return &awsapi.Error{Code: awsapi.CodeMalformedPolicyDocument, Message: pe.Msg}
	}
	if w, ok := iamapi.Codes.ToWire(err); ok {
		return w
	}
	if w, ok := smapi.Codes.ToWire(err); ok {
		return w
	}
	if w, ok := approvalsErrorToWire(err); ok {
		return w
	}
	s.log.Error("internal error", "request_id", reqID, "err", err)
	return awsapi.Internal()
}

// encodeJSONResult encodes a JSON 1.1 result; nil becomes {}.
func encodeJSONResult(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(v)
}

// jsonMessageKey is the member a JSON 1.1 error carries its message in,
// by the service the request's X-Amz-Target names: "Message" for Secrets
// Manager, as AWS sends it, "message" for the shortfuse API
// (docs/shortfuse-api.md).
func jsonMessageKey(hr *http.Request) string {
	if prefix, _, _ := strings.Cut(hr.Header.Get("X-Amz-Target"), "."); prefix == "secretsmanager" {
		return awsapi.MessageKeyUpper
	}
	return awsapi.MessageKeyLower
}
