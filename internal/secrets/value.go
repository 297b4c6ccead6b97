package secrets

import (
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

const redacted = "[redacted]"

// Value is a secret value: the text of a SecretString or the bytes of a
// SecretBinary. It redacts itself everywhere it could leak: fmt (every
// verb), slog, encoding/json and encoding (text) all print "[redacted]".
// The only way to the plaintext is [Value.Reveal], so every place that
// sends a value is greppable.
//
// Keep a Value in an exported field or a variable of its own: fmt prints
// the unexported fields of a struct without asking them to format
// themselves.
type Value struct {
	data   []byte
	binary bool
}

// StringValue returns the value of a SecretString.
func StringValue(s string) Value { return Value{data: []byte(s)} }

// BinaryValue returns the value of a SecretBinary. It keeps its own copy.
func BinaryValue(b []byte) Value { return Value{data: append([]byte{}, b...), binary: true} }

// IsBinary reports whether the value is a SecretBinary.
func (v Value) IsBinary() bool { return v.binary }

// Len is the size of the value in bytes.
func (v Value) Len() int { return len(v.data) }

// IsZero reports whether v holds no value at all (neither kind was given).
func (v Value) IsZero() bool { return v.data == nil && !v.binary }

// Reveal returns the plaintext. The caller must not modify it. Call it only
// where the value leaves the broker on purpose: the response encoders of
// GetSecretValue, BatchGetSecretValue and GetRandomPassword.
func (v Value) Reveal() []byte { return v.data }

// Equal reports whether v and o are the same kind and bytes, in time that
// depends only on their lengths.
func (v Value) Equal(o Value) bool {
	return v.binary == o.binary && subtle.ConstantTimeCompare(v.data, o.data) == 1
}

// String returns "[redacted]".
func (Value) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Value) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, %x and %q included.
func (Value) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue redacts the value in log/slog records.
func (Value) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON returns "[redacted]" as a JSON string: a Value that reaches an
// encoder by mistake sends nothing. Response encoders use Reveal.
func (Value) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText returns "[redacted]".
func (Value) MarshalText() ([]byte, error) { return []byte(redacted), nil }

var (
	_ fmt.Formatter  = Value{}
	_ fmt.Stringer   = Value{}
	_ fmt.GoStringer = Value{}
	_ slog.LogValuer = Value{}
)
