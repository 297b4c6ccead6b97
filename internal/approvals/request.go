package approvals

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Errors of the service. Messages are safe to show to clients.
var (
	ErrNotFound      = errors.New("no approval request has that code")
	ErrNotPending    = errors.New("the request is no longer waiting for approval")
	ErrExpired       = errors.New("the request expired before it was approved")
	ErrDenied        = errors.New("the request was denied")
	ErrSelfApproval  = errors.New("the requester cannot approve their own request")
	ErrDuplicate     = errors.New("this approver has already approved the request")
	ErrNotApproved   = errors.New("the request has not been approved yet")
	ErrRedeemed      = errors.New("the request was already redeemed; this attempt is recorded as an alarm")
	ErrBadProof      = errors.New("the redemption proof does not verify")
	ErrNotRequester  = errors.New("only the requester can redeem the request")
	ErrConflict      = errors.New("the request changed while it was being approved; try again")
	ErrPolicyClash   = errors.New("another approver attached a different session policy; approve with the same policy or none")
	ErrMisconfigured = errors.New("the role's approval rules are misconfigured")
	ErrTooMany       = errors.New("the requester has too many requests waiting for approval")
	ErrDuration      = errors.New("the approved duration must be positive and at most what the job asked for")
)

// MaxPendingPerRequester bounds the requests one requester may have
// waiting, so that a stolen requester credential cannot flood approvers.
const MaxPendingPerRequester = 20

// Status is where a request is in its life.
type Status string

// The states of a request. Pending is the only one that accepts approvals;
// Approved is the only one that can be redeemed.
const (
	StatusPending  Status = "pending"
	StatusApproved Status = "approved" // the session is minted and waits for the job
	StatusRedeemed Status = "redeemed"
	StatusDenied   Status = "denied"
	StatusExpired  Status = "expired"
)

// Build identifies the CI build that asks. Every field is optional; the
// approver decides whether what is there is enough.
type Build struct {
	System     string `json:"system,omitempty"` // jenkins, github, gitlab or other
	URL        string `json:"url,omitempty"`
	Job        string `json:"job,omitempty"`
	Number     string `json:"number,omitempty"`
	Commit     string `json:"commit,omitempty"`
	ParamsHash string `json:"paramsHash,omitempty"` // "sha256:" + 64 hex digits
}

var (
	reCommit     = regexp.MustCompile(`^[0-9a-fA-F]{7,64}$`)
	reParamsHash = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	reNumber     = regexp.MustCompile(`^[0-9A-Za-z._-]{1,32}$`)
	reSystem     = regexp.MustCompile(`^(jenkins|github|gitlab|other)$`)
)

// Limits on the text fields of a request.
const (
	MaxURLLen    = 2048
	MaxJobLen    = 256
	MaxReasonLen = 512
)

// Validate checks a build as a client sent it. The URL must be http(s),
// absolute and carry no user information (a credential in a URL would be
// shown to every approver).
func (b *Build) Validate() error {
	if b.System != "" && !reSystem.MatchString(b.System) {
		return errors.New("build system must be jenkins, github, gitlab or other")
	}
	if b.URL != "" {
		if len(b.URL) > MaxURLLen || !printable(b.URL) {
			return fmt.Errorf("build URL must be printable and at most %d characters", MaxURLLen)
		}
		u, err := url.Parse(b.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errors.New("build URL must be an absolute http or https URL")
		}
		if u.User != nil {
			return errors.New("build URL must not carry user information")
		}
	}
	if len(b.Job) > MaxJobLen || !printable(b.Job) {
		return fmt.Errorf("job must be printable and at most %d characters", MaxJobLen)
	}
	if b.Number != "" && !reNumber.MatchString(b.Number) {
		return errors.New("build number must be 1-32 letters, digits, dots, dashes or underscores")
	}
	if b.Commit != "" && !reCommit.MatchString(b.Commit) {
		return errors.New("commit must be 7 to 64 hexadecimal digits")
	}
	if b.ParamsHash != "" && !reParamsHash.MatchString(b.ParamsHash) {
		return errors.New("parameter hash must be sha256: followed by 64 lower-case hexadecimal digits")
	}
	return nil
}

// CheckReason checks the requester's free-text reason.
func CheckReason(s string) error {
	if len(s) > MaxReasonLen || !printable(s) {
		return fmt.Errorf("reason must be printable and at most %d characters", MaxReasonLen)
	}
	return nil
}

// printable reports whether s is valid UTF-8 without control characters.
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || (r >= '\u202a' && r <= '\u202e') || (r >= '\u2066' && r <= '\u2069') {
			return false
		}
	}
	return true
}

// Approval is one approver's decision.
type Approval struct {
	ARN      string        `json:"arn"`
	UserName string        `json:"user"`
	At       time.Time     `json:"at"`
	Duration time.Duration `json:"duration,omitempty"` // narrowed duration; 0 keeps the request's
	Policy   string        `json:"policy,omitempty"`   // session policy; "" attaches none
	SourceIP string        `json:"sourceIp,omitempty"`
}

// Minted is the session minted on the final approval, sealed for the job.
type Minted struct {
	AccessKeyID string    `json:"akid"`
	Expires     time.Time `json:"expires"`
	Wrapped     []byte    `json:"wrapped"`
}

// Request is one approval request as the broker stores it. It holds no
// secret: the redemption key's public halves and, once approved, the
// credentials sealed to the job's wrap key.
type Request struct {
	Code       string   `json:"code"`
	Version    int      `json:"version"`
	RoleARN    string   `json:"role"`
	Requester  string   `json:"requester"`            // ARN of the caller that asked
	Identities []string `json:"identities,omitempty"` // every ARN that counts as the requester
	SourceIP   string   `json:"sourceIp,omitempty"`
	Reason     string   `json:"reason,omitempty"`
	// Duration is the session lifetime asked for.
	Duration time.Duration `json:"duration"`
	Build    Build         `json:"build"`
	// Rules are the role's rules when the request was made (approvals use
	// the rules in force when they are given).
	Rules     Rules     `json:"rules"`
	CreatedAt time.Time `json:"created"`
	// ExpiresAt ends the approval window.
	ExpiresAt time.Time `json:"expires"`
	VerifyKey []byte    `json:"verifyKey"`
	WrapKey   []byte    `json:"wrapKey"`

	Approvals []Approval `json:"approvals,omitempty"`
	Denied    bool       `json:"denied,omitempty"`
	DeniedBy  string     `json:"deniedBy,omitempty"`
	DeniedAt  time.Time  `json:"deniedAt,omitzero"`
	// DenyReason is the denier's free text.
	DenyReason string `json:"denyReason,omitempty"`

	Session    *Minted   `json:"session,omitempty"`
	RedeemedAt time.Time `json:"redeemedAt,omitzero"`
	// Replays counts refused second redemptions.
	Replays int `json:"replays,omitempty"`
}

// Status returns the request's state at now: a pending request past its
// window, or an approved one whose session has expired unredeemed, is
// expired.
func (r *Request) Status(now time.Time) Status {
	switch {
	case r.Denied:
		return StatusDenied
	case !r.RedeemedAt.IsZero():
		return StatusRedeemed
	case r.Session != nil:
		if !now.Before(r.Session.Expires) {
			return StatusExpired
		}
		return StatusApproved
	case !now.Before(r.ExpiresAt):
		return StatusExpired
	}
	return StatusPending
}

// IsRequester reports whether arn is one of the identities that asked.
func (r *Request) IsRequester(arn string) bool {
	if strings.EqualFold(arn, r.Requester) {
		return true
	}
	for _, id := range r.Identities {
		if strings.EqualFold(arn, id) {
			return true
		}
	}
	return false
}

// HasApproved reports whether arn has approved the request.
func (r *Request) HasApproved(arn string) bool {
	for _, a := range r.Approvals {
		if strings.EqualFold(a.ARN, arn) {
			return true
		}
	}
	return false
}

// Approvers returns the user names of the approvers, in order.
func (r *Request) Approvers() []string {
	out := make([]string, len(r.Approvals))
	for i, a := range r.Approvals {
		out[i] = a.UserName
	}
	return out
}

// Check decides whether a may approve the request at now under rules: the
// request must be pending, a must not be the requester nor have approved
// already, a narrowed duration must not exceed the request's, and a
// session policy must agree with one attached before. It returns whether
// this approval is the last one needed.
func (r *Request) Check(a Approval, rules Rules, now time.Time) (final bool, err error) {
	switch r.Status(now) {
	case StatusPending:
	case StatusExpired:
		return false, ErrExpired
	case StatusDenied:
		return false, ErrDenied
	default:
		return false, ErrNotPending
	}
	if r.IsRequester(a.ARN) {
		return false, ErrSelfApproval
	}
	if r.HasApproved(a.ARN) {
		return false, ErrDuplicate
	}
	if a.Duration < 0 || a.Duration > r.Duration {
		return false, ErrDuration
	}
	if a.Policy != "" {
		if p := r.Policy(); p != "" && p != a.Policy {
			return false, ErrPolicyClash
		}
	}
	if err := rules.Validate(); err != nil {
		return false, err
	}
	return len(r.Approvals)+1 >= rules.Required, nil
}

// Policy returns the session policy attached by an approver, or "".
func (r *Request) Policy() string {
	for _, a := range r.Approvals {
		if a.Policy != "" {
			return a.Policy
		}
	}
	return ""
}

// SessionDuration is the lifetime of the session once a is added: the
// shortest of what was asked, what each approver allowed and the rules'
// maximum.
func (r *Request) SessionDuration(a Approval, rules Rules) time.Duration {
	d := r.Duration
	for _, x := range append(append([]Approval(nil), r.Approvals...), a) {
		if x.Duration > 0 && x.Duration < d {
			d = x.Duration
		}
	}
	if rules.MaxDuration > 0 && rules.MaxDuration < d {
		d = rules.MaxDuration
	}
	return d
}

// --- codes ---------------------------------------------------------------

// codeAlphabet has no letters that read like digits or each other (I, L,
// O, U) and no 0 or 1: codes are read aloud and typed.
const codeAlphabet = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

// CodeLen is the number of characters of a code, shown as two groups of
// four: about 39 bits, enough that codes do not collide, not a secret.
const CodeLen = 8

var reCode = regexp.MustCompile(`^[A-Za-z2-9]{4}-?[A-Za-z2-9]{4}$`)

// NewCode returns a random code, XXXX-XXXX.
func NewCode(rand io.Reader) (string, error) {
	out := make([]byte, 0, CodeLen+1)
	var buf [16]byte
	for len(out) < CodeLen+1 {
		if _, err := io.ReadFull(rand, buf[:]); err != nil {
			return "", fmt.Errorf("approvals: read random: %w", err)
		}
		for _, b := range buf {
			// Rejection sampling keeps every character equally likely.
			if int(b) >= 256/len(codeAlphabet)*len(codeAlphabet) {
				continue
			}
			if len(out) == 4 {
				out = append(out, '-')
			}
			out = append(out, codeAlphabet[int(b)%len(codeAlphabet)])
			if len(out) == CodeLen+1 {
				break
			}
		}
	}
	return string(out), nil
}

// ParseCode returns the canonical form (upper case, XXXX-XXXX) of a code
// as a person typed it. It refuses anything that is not a code.
func ParseCode(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !reCode.MatchString(s) {
		return "", errors.New("an approval code is 8 letters and digits, XXXX-XXXX")
	}
	s = strings.ToUpper(strings.ReplaceAll(s, "-", ""))
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(codeAlphabet, s[i]) < 0 {
			return "", errors.New("an approval code is 8 letters and digits, XXXX-XXXX")
		}
	}
	return s[:4] + "-" + s[4:], nil
}
