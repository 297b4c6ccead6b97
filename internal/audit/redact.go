package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
	"sync"
)

// MinRedactorKey is the shortest key NewRedactor accepts.
const MinRedactorKey = 16

// Redactor replaces secret values by their HMAC-SHA256 under an audit key, so that two
// records can be compared (the same session token, the same secret value) without
// revealing the value. Without the key the HMAC cannot be inverted or confirmed by
// guessing, which a bare hash could be for a short password or an MFA code.
type Redactor struct {
	pool sync.Pool // of hash.Hash, each keyed
}

// NewRedactor returns a Redactor keyed with key, which should be 32 random bytes kept with
// the broker's other keys. It panics if key is shorter than MinRedactorKey: a short key
// would make the HMACs guessable, and the key is the program's choice, not its input's.
func NewRedactor(key []byte) *Redactor {
	if len(key) < MinRedactorKey {
		panic("audit: redactor key shorter than 16 bytes")
	}
	k := append([]byte(nil), key...)
	r := &Redactor{}
	r.pool.New = func() any { return hmac.New(sha256.New, k) }
	return r
}

// Hash returns "hmac-sha256:<hex>" of value. Equal values give equal strings.
func (r *Redactor) Hash(value []byte) string {
	h := r.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(value)
	var sum [sha256.Size]byte
	s := "hmac-sha256:" + hex.EncodeToString(h.Sum(sum[:0]))
	r.pool.Put(h)
	return s
}

// sensitiveFields are the members that hold secret material in the APIs the broker speaks:
// those botocore marks sensitive in the STS, IAM and Secrets Manager models, and the ones
// it does not mark but that are secret all the same (SessionToken, TokenCode and the
// authentication codes of MFA devices). Names compare case-insensitively, so that
// CloudTrail's lower-camel requestParameters ("sessionToken") match too.
var sensitiveFields = []string{
	// STS
	"SecretAccessKey", "SessionToken", "TokenCode", "SAMLAssertion", "WebIdentityToken", "TradeInToken",
	// IAM
	"Password", "NewPassword", "OldPassword", "PrivateKey", "AddPrivateKey", "Base32StringSeed",
	"QRCodePNG", "AuthenticationCode1", "AuthenticationCode2", "ServicePassword",
	"ServiceCredentialSecret",
	// Secrets Manager
	"SecretString", "SecretBinary", "RandomPassword", "RotationToken",
}

// Sensitive reports whether a request parameter or response element of that name holds
// secret material that Scrub replaces.
func Sensitive(name string) bool {
	for _, s := range sensitiveFields {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// Scrub returns a copy of m (request parameters or response elements) in which the value
// of every Sensitive key, at any depth, is replaced by its Hash: a string or []byte value
// is hashed as its bytes, anything else as its JSON encoding. m is not modified. Scrub is
// a safety net for the callers that build records; the surest way to keep a secret out of
// a record is never to put it there.
func (r *Redactor) Scrub(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		if Sensitive(k) {
			out[k] = r.hashValue(v)
			continue
		}
		out[k] = r.scrubValue(v)
	}
	return out
}

func (r *Redactor) scrubValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return r.Scrub(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.scrubValue(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = r.Scrub(e)
		}
		return out
	case map[string]string:
		out := make(map[string]any, len(v))
		for k, e := range v {
			if Sensitive(k) {
				out[k] = r.Hash([]byte(e))
			} else {
				out[k] = e
			}
		}
		return out
	case nil, bool, string, json.Number, float64, float32, int, int8, int16, int32, int64,
		uint, uint8, uint16, uint32, uint64, []string:
		return v
	default:
		// A struct or another type whose fields Scrub cannot see: go through its JSON
		// form, so that a sensitive field inside it is found all the same.
		b, err := json.Marshal(v)
		if err != nil {
			return "[unencodable]"
		}
		var x any
		if err := json.Unmarshal(b, &x); err != nil {
			return "[unencodable]"
		}
		return r.scrubValue(x)
	}
}

func (r *Redactor) hashValue(v any) string {
	switch v := v.(type) {
	case string:
		return r.Hash([]byte(v))
	case []byte:
		return r.Hash(v)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return "[redacted]"
		}
		return r.Hash(b)
	}
}
