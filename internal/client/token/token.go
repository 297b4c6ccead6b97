package token

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
)

// Credentials is a set of AWS credentials: an exploding session when
// SessionToken is set.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	// Expiration is zero when it is not known (the jenkins format does not
	// carry it).
	Expiration time.Time
}

// KeyHint shows an access key id the way AWS consoles do: its last four
// characters.
func KeyHint(akid string) string {
	if len(akid) <= 4 {
		return "…"
	}
	return akid[:4] + "…" + akid[len(akid)-4:]
}

// String describes the credentials without any secret part.
func (c Credentials) String() string {
	s := KeyHint(c.AccessKeyID)
	if !c.Expiration.IsZero() {
		s += " (expires " + c.Expiration.UTC().Format(time.RFC3339) + ")"
	}
	return s
}

// GoString is String, so that %#v does not print the secret parts either.
func (c Credentials) GoString() string { return "token.Credentials{" + c.String() + "}" }

// LogValue keeps the secret parts out of slog records.
func (c Credentials) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("access_key_id", KeyHint(c.AccessKeyID))}
	if !c.Expiration.IsZero() {
		attrs = append(attrs, slog.Time("expiration", c.Expiration))
	}
	return slog.GroupValue(attrs...)
}

// Parts returns the values a masker must hide: the access key id, the
// secret access key and the session token (when set).
func (c Credentials) Parts() []string {
	parts := []string{c.AccessKeyID, c.SecretAccessKey}
	if c.SessionToken != "" {
		parts = append(parts, c.SessionToken)
	}
	return parts
}

// IsSession reports whether these are session credentials (they carry a
// session token), as opposed to a long-lived access key.
func (c Credentials) IsSession() bool { return c.SessionToken != "" }

// Remaining is how long the credentials stay valid at now; ok is false when
// the expiry is not known.
func (c Credentials) Remaining(now time.Time) (d time.Duration, ok bool) {
	if c.Expiration.IsZero() {
		return 0, false
	}
	return c.Expiration.Sub(now), true
}

var (
	reAccessKeyID = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	// Secret keys and session tokens: printable ASCII without whitespace
	// and without ':' (the jenkins separator). AWS's own use base64.
	reSecretPart = regexp.MustCompile(`^[!-9;-~]+$`)
)

const (
	maxSecretKeyLen    = 256
	maxSessionTokenLen = 16 << 10
)

// Validate checks the shape of each part. Its errors name the part, never
// its value.
func (c Credentials) Validate() error {
	switch {
	case c.AccessKeyID == "":
		return fmt.Errorf("the access key id is missing")
	case !reAccessKeyID.MatchString(c.AccessKeyID):
		return fmt.Errorf("the access key id is malformed (want 16-128 upper-case letters and digits)")
	case c.SecretAccessKey == "":
		return fmt.Errorf("the secret access key is missing")
	case len(c.SecretAccessKey) > maxSecretKeyLen || !reSecretPart.MatchString(c.SecretAccessKey):
		return fmt.Errorf("the secret access key is malformed")
	case len(c.SessionToken) > maxSessionTokenLen:
		return fmt.Errorf("the session token is longer than %d bytes", maxSessionTokenLen)
	case c.SessionToken != "" && !reSecretPart.MatchString(c.SessionToken):
		return fmt.Errorf("the session token is malformed")
	}
	return nil
}

// Format is one of the token formats.
type Format string

// The formats (see the package documentation).
const (
	FormatJenkins Format = "jenkins"
	FormatEnv     Format = "env"
	FormatJSON    Format = "json"
	FormatAWS     Format = "aws"
)

// Formats lists every format, in the order help texts show them.
var Formats = []Format{FormatJenkins, FormatEnv, FormatJSON, FormatAWS}

// ParseFormat returns the Format named s.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	names := make([]string, len(Formats))
	for i, f := range Formats {
		names[i] = string(f)
	}
	return "", fmt.Errorf("unknown format %q (want %s)", s, strings.Join(names, ", "))
}

// ParseError reports input that is not a token in the expected format.
// Reason never contains the input.
type ParseError struct {
	Format Format // "" when the format could not be detected
	Reason string
}

func (e *ParseError) Error() string {
	if e.Format == "" {
		return "token: " + e.Reason
	}
	return fmt.Sprintf("token (%s format): %s", e.Format, e.Reason)
}

func parseErr(f Format, format string, args ...any) error {
	return &ParseError{Format: f, Reason: fmt.Sprintf(format, args...)}
}
