package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"time"
	"unicode/utf8"
)

// Values of the Record fields that have a fixed vocabulary.
const (
	// EventVersion is the CloudTrail record format version the records follow.
	EventVersion = "1.08"
	// EventTypeAPICall is the EventType of a record of an API request.
	EventTypeAPICall = "AwsApiCall"

	SourceSTS            = "sts.amazonaws.com"
	SourceIAM            = "iam.amazonaws.com"
	SourceSecretsManager = "secretsmanager.amazonaws.com"
	SourceShortfuse      = "shortfuse"

	// PhaseIntent marks the record a state-changing request writes before it executes,
	// so that a failing sink refuses the request with nothing changed. The complete
	// record that follows it has an empty Phase.
	PhaseIntent = "intent"

	DecisionAllowed      = "allowed"
	DecisionExplicitDeny = "explicitDeny"
	DecisionImplicitDeny = "implicitDeny"

	IdentityIAMUser     = "IAMUser"
	IdentityAssumedRole = "AssumedRole"
	IdentityUnknown     = "Unknown"
)

// MaxRecordBytes bounds the encoded size of one record (one line). Append refuses a
// larger record with [ErrTooLarge]; Verify and Tail refuse longer lines.
const MaxRecordBytes = 4 << 20

// Record is one audit record: the CloudTrail record shape where it fits
// (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html),
// plus the authorization decisions and the hash-chain fields.
//
// A record never holds secret material: secret values, secret access keys, session tokens,
// MFA codes and passwords are left out or replaced by [Redactor.Hash] (see [Redactor.Scrub]).
type Record struct {
	EventVersion string `json:"eventVersion"` // EventVersion when empty
	// EventTime is stored in UTC at second precision, as CloudTrail does
	// ("2026-11-25T19:30:05Z"); Append fills it from Options.Now when zero.
	EventTime       time.Time     `json:"eventTime"`
	EventSource     string        `json:"eventSource"` // Source* constants
	EventName       string        `json:"eventName"`   // the API action: "AssumeRole"
	AWSRegion       string        `json:"awsRegion"`
	SourceIPAddress string        `json:"sourceIPAddress"`
	UserAgent       string        `json:"userAgent"`
	UserIdentity    *UserIdentity `json:"userIdentity,omitempty"` // nil before authentication
	// RequestParameters and ResponseElements are null when there are none. Their values
	// must be JSON-encodable; Append stores them in their JSON form (object keys sorted,
	// numbers as written), which is what Verify and Tail read back.
	RequestParameters  map[string]any `json:"requestParameters"`
	ResponseElements   map[string]any `json:"responseElements"`
	ErrorCode          string         `json:"errorCode,omitempty"`
	ErrorMessage       string         `json:"errorMessage,omitempty"`
	RequestID          string         `json:"requestID"`
	EventID            string         `json:"eventID"` // a random UUID when empty
	ReadOnly           bool           `json:"readOnly"`
	EventType          string         `json:"eventType"` // EventTypeAPICall when empty
	RecipientAccountID string         `json:"recipientAccountId"`
	// Phase is "" for a complete record and PhaseIntent for the record written before a
	// state-changing request executes.
	Phase string `json:"phase,omitempty"`
	// Decisions are the authorization decisions the request needed, in order, with the
	// policy statement that decided each.
	Decisions []Decision `json:"decisions,omitempty"`

	// The chain. Append sets these; a caller leaves them zero.

	// Seq numbers records densely from 1 across the log and its rotated files.
	Seq uint64 `json:"seq"`
	// PrevHash is the Hash of record Seq-1, "" for Seq 1.
	PrevHash string `json:"prevHash"`
	// Hash is the lower-case hex SHA-256 of the record's canonical encoding with Hash
	// empty (see the package documentation). It must stay the last field: the writer and
	// the verifier find it at the end of the line.
	Hash string `json:"hash"`
}

// UserIdentity is CloudTrail's userIdentity element.
type UserIdentity struct {
	Type           string          `json:"type"` // Identity* constants
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
}

// SessionContext describes the session of a caller using temporary credentials.
type SessionContext struct {
	SessionIssuer  *SessionIssuer    `json:"sessionIssuer,omitempty"`
	Attributes     SessionAttributes `json:"attributes"`
	SourceIdentity string            `json:"sourceIdentity,omitempty"`
}

// SessionAttributes are the creation time and MFA state of a session.
type SessionAttributes struct {
	CreationDate     time.Time `json:"creationDate"`     // stored in UTC at second precision
	MFAAuthenticated string    `json:"mfaAuthenticated"` // "true" or "false", as CloudTrail writes it
}

// SessionIssuer is the principal (a role, or the user of GetSessionToken) that issued a
// session.
type SessionIssuer struct {
	Type        string `json:"type"` // "Role" or "IAMUser"
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// Decision is one authorization decision and the statement that made it.
type Decision struct {
	Action   string `json:"action"`   // "secretsmanager:GetSecretValue"
	Resource string `json:"resource"` // an ARN, or "*"
	Decision string `json:"decision"` // Decision* constants
	// PolicyID names the policy whose statement decided; "" for an implicit deny.
	PolicyID string `json:"policyId,omitempty"`
	// StatementIndex is the index of the deciding statement in that policy's Statement
	// list; meaningful only when PolicyID is set.
	StatementIndex int    `json:"statementIndex"`
	Sid            string `json:"sid,omitempty"`
}

// Errors of records.
var (
	// ErrTooLarge is returned by Append for a record whose encoding exceeds MaxRecordBytes.
	ErrTooLarge = errors.New("audit record too large")
	// ErrInvalid is returned by Append for a record that cannot be encoded (a value that
	// JSON cannot represent, a time outside years 0-9999).
	ErrInvalid = errors.New("audit record cannot be encoded")
)

// hashSuffix ends the encoding of a record whose Hash is empty.
const hashSuffix = `"hash":""}`

// hashHexLen is the length of a hex SHA-256.
const hashHexLen = 2 * sha256.Size

// normalize puts r in the form whose encoding is canonical: the encoding of the record
// that Verify decodes from the line is byte for byte the line itself. Typed strings are
// made valid UTF-8 (encoding/json would write an invalid byte as \ufffd, which decodes to
// a rune that it then writes raw), times are UTC seconds, and the free-form maps are
// replaced by their JSON form when they hold anything but JSON's own types.
func normalize(r *Record) error {
	for _, s := range []*string{&r.EventVersion, &r.EventSource, &r.EventName, &r.AWSRegion,
		&r.SourceIPAddress, &r.UserAgent, &r.ErrorCode, &r.ErrorMessage, &r.RequestID,
		&r.EventID, &r.EventType, &r.RecipientAccountID, &r.Phase} {
		validUTF8(s)
	}
	r.EventTime = r.EventTime.UTC().Truncate(time.Second)
	if u := r.UserIdentity; u != nil {
		for _, s := range []*string{&u.Type, &u.PrincipalID, &u.ARN, &u.AccountID, &u.AccessKeyID, &u.UserName} {
			validUTF8(s)
		}
		if sc := u.SessionContext; sc != nil {
			validUTF8(&sc.SourceIdentity)
			validUTF8(&sc.Attributes.MFAAuthenticated)
			sc.Attributes.CreationDate = sc.Attributes.CreationDate.UTC().Truncate(time.Second)
			if si := sc.SessionIssuer; si != nil {
				for _, s := range []*string{&si.Type, &si.PrincipalID, &si.ARN, &si.AccountID, &si.UserName} {
					validUTF8(s)
				}
			}
		}
	}
	for i := range r.Decisions {
		d := &r.Decisions[i]
		for _, s := range []*string{&d.Action, &d.Resource, &d.Decision, &d.PolicyID, &d.Sid} {
			validUTF8(s)
		}
	}
	var err error
	if r.RequestParameters, err = canonicalMap(r.RequestParameters); err != nil {
		return err
	}
	r.ResponseElements, err = canonicalMap(r.ResponseElements)
	return err
}

func validUTF8(s *string) {
	if !utf8.ValidString(*s) {
		*s = string(bytes.ToValidUTF8([]byte(*s), []byte("\uFFFD")))
	}
}

// canonicalMap returns m, or, when m holds values whose JSON does not decode back to the
// same JSON (structs, whose fields are not in key order; []byte; invalid UTF-8), a copy
// in JSON's own types. The caller's map is never modified.
func canonicalMap(m map[string]any) (map[string]any, error) {
	if m == nil || isCanonical(m) {
		return m, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return out, nil
}

// isCanonical reports whether v is made only of values that encoding/json writes and
// reads back unchanged (a decoder with UseNumber).
func isCanonical(v any) bool {
	switch v := v.(type) {
	case nil, bool, json.Number, float64, float32,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return true
	case string:
		return utf8.ValidString(v)
	case map[string]any:
		for k, e := range v {
			if !utf8.ValidString(k) || !isCanonical(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if !isCanonical(e) {
				return false
			}
		}
		return true
	case []string:
		for _, e := range v {
			if !utf8.ValidString(e) {
				return false
			}
		}
		return true
	case map[string]string:
		for k, e := range v {
			if !utf8.ValidString(k) || !utf8.ValidString(e) {
				return false
			}
		}
		return true
	default:
		return false
	}
}

// chainSuffix ends the encoding of a record whose chain fields are zero. The chain fields
// are the last three fields of Record.
const chainSuffix = `"seq":0,"prevHash":"","hash":""}`

// maxChainLen bounds what appendLine adds to a body.
const maxChainLen = len(`"seq":18446744073709551615,"prevHash":"`) + hashHexLen + len(`","hash":"`) + hashHexLen + len("\"}\n")

// encodeBody returns the encoding of r (normalized) up to its chain fields:
// json.Marshal(r) (appendRecord writes the same bytes) with the chain fields zero, cut
// before `"seq":`.
func encodeBody(r *Record) ([]byte, error) {
	clearChain(r)
	b, err := appendRecord(make([]byte, 0, 1024), r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if !bytes.HasSuffix(b, []byte(chainSuffix)) {
		return nil, fmt.Errorf("%w: encoding does not end with the chain fields", ErrInvalid)
	}
	body := b[:len(b)-len(chainSuffix)]
	if n := len(body) + maxChainLen; n > MaxRecordBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, n, MaxRecordBytes)
	}
	return body, nil
}

// appendLine appends to buf the line (newline included) of the record encoded as body with
// chain fields seq and prev, and returns the record's hash.
//
// The bytes up to the hash value are what json.Marshal writes for the record with those
// chain fields and Hash empty, minus the final `"}`; the hash is the SHA-256 of those bytes
// followed by `"}` (that is, of the whole encoding with Hash empty), and it is spliced in
// between the last two quotes. So the line is also json.Marshal of the record with Hash
// set, and a verifier recomputes the hash by cutting the value out again (lineHash).
func appendLine(buf []byte, h hash.Hash, body []byte, seq uint64, prev string) ([]byte, string) {
	start := len(buf)
	buf = append(buf, body...)
	buf = append(buf, `"seq":`...)
	buf = strconv.AppendUint(buf, seq, 10)
	buf = append(buf, `,"prevHash":"`...)
	buf = append(buf, prev...)
	buf = append(buf, `","hash":"`...)
	h.Reset()
	h.Write(buf[start:])
	h.Write([]byte(`"}`))
	var sum [sha256.Size]byte
	var hx [hashHexLen]byte
	hex.Encode(hx[:], h.Sum(sum[:0]))
	buf = append(buf, hx[:]...)
	buf = append(buf, "\"}\n"...)
	return buf, string(hx[:])
}

// lineHash returns the hash that a canonical line (no newline) should carry: the SHA-256
// of the line with the value of its final "hash" field cut out. ok is false when the line
// does not end in a hash field of the right length.
func lineHash(line []byte) (want, got string, ok bool) {
	const tail = `"}`
	n := len(line)
	if n < len(hashSuffix)+hashHexLen || !bytes.HasSuffix(line, []byte(tail)) ||
		!bytes.HasSuffix(line[:n-len(tail)-hashHexLen], []byte(hashSuffix[:len(hashSuffix)-len(tail)])) {
		return "", "", false
	}
	h := sha256.New()
	h.Write(line[:n-len(tail)-hashHexLen])
	h.Write([]byte(tail))
	return hex.EncodeToString(h.Sum(nil)), string(line[n-len(tail)-hashHexLen : n-len(tail)]), true
}

// parseLine decodes one line (no newline) strictly: no unknown field, and the line must be
// the canonical encoding of the record it decodes to, so that duplicate keys, fields in
// another case or order, extra spaces and any other edit that keeps the meaning are all
// refused. It does not check the hash.
func parseLine(line []byte) (*Record, error) {
	if len(line) == 0 {
		return nil, errors.New("empty line")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	var r Record
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("not a record: %v", cleanJSONError(err))
	}
	// Whatever follows the first value, and every edit that keeps the meaning, makes the
	// line differ from the record's encoding.
	b, err := json.Marshal(&r)
	if err != nil || !bytes.Equal(b, line) {
		return nil, errors.New("not in canonical form (edited by hand?)")
	}
	return &r, nil
}

// cleanJSONError keeps decoder errors short and free of the line's content.
func cleanJSONError(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("wrong type for field %q", te.Field)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of line"
	}
	s := err.Error()
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}
