package approvals

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Role tags that set a role's approval rules.
const (
	TagRequired  = "shortfuse:approvals-required" // N: distinct approvers needed, 1-10
	TagApprovers = "shortfuse:approvers"          // IAM group whose members may approve
	TagMaxDur    = "shortfuse:max-duration"       // longest session, e.g. 30m
	TagWindow    = "shortfuse:approval-window"    // how long a request waits, e.g. 15m
)

// Defaults of a role without rule tags.
const (
	DefaultRequired    = 1
	DefaultWindow      = 15 * time.Minute
	DefaultMaxDuration = time.Hour
	MaxRequired        = 10
	MinDuration        = time.Minute
	MinWindow          = 10 * time.Second
	MaxWindow          = 24 * time.Hour
	MaxSessionDuration = 12 * time.Hour
)

// Rules are a role's approval rules.
type Rules struct {
	// Required is N: the number of distinct approvers.
	Required int `json:"required"`
	// Group, when set, names the IAM group whose members alone may approve;
	// its size is M, and M < N is a misconfiguration.
	Group string `json:"group,omitempty"`
	// MaxDuration caps the session.
	MaxDuration time.Duration `json:"maxDuration"`
	// Window is how long a request waits for its approvals.
	Window time.Duration `json:"window"`
}

var reGroupName = regexp.MustCompile(`^[\w+=,.@-]{1,128}$`)

// ParseRules reads the rules from a role's tags. roleMax is the role's own
// maximum session duration; the rules never allow more. Any tag in the
// shortfuse:approv… family that is not one of the known tags, or a known
// tag whose value does not parse, is a misconfiguration: the error wraps
// ErrMisconfigured and the role's requests cannot be approved (fail
// closed, rather than fall back to a default that may be weaker).
func ParseRules(tags map[string]string, roleMax time.Duration) (Rules, error) {
	r := Rules{Required: DefaultRequired, MaxDuration: DefaultMaxDuration, Window: DefaultWindow}
	if roleMax > 0 && roleMax < r.MaxDuration {
		r.MaxDuration = roleMax
	}
	for k, v := range tags {
		lk := strings.ToLower(k)
		if !strings.HasPrefix(lk, "shortfuse:approv") && lk != TagMaxDur {
			continue
		}
		v = strings.TrimSpace(v)
		switch lk {
		case TagRequired:
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > MaxRequired {
				return Rules{}, misconfigured("%s must be a whole number from 1 to %d", TagRequired, MaxRequired)
			}
			r.Required = n
		case TagApprovers:
			if !reGroupName.MatchString(v) {
				return Rules{}, misconfigured("%s must name an IAM group", TagApprovers)
			}
			r.Group = v
		case TagMaxDur:
			d, err := tagDuration(TagMaxDur, v, MinDuration, MaxSessionDuration)
			if err != nil {
				return Rules{}, err
			}
			if roleMax > 0 && d > roleMax {
				return Rules{}, misconfigured("%s is longer than the role's maximum session duration", TagMaxDur)
			}
			r.MaxDuration = d
		case TagWindow:
			d, err := tagDuration(TagWindow, v, MinWindow, MaxWindow)
			if err != nil {
				return Rules{}, err
			}
			r.Window = d
		default:
			return Rules{}, misconfigured("unknown rule tag %q (known: %s, %s, %s, %s)", k, TagRequired, TagApprovers, TagMaxDur, TagWindow)
		}
		if k != lk {
			return Rules{}, misconfigured("rule tag %q must be spelled in lower case", k)
		}
	}
	return r, nil
}

// tagDuration parses the duration value v of a rule tag: a duration from lo
// to hi in whole seconds.
func tagDuration(tag, v string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi || d%time.Second != 0 {
		return 0, misconfigured("%s must be a duration from %s to %s in whole seconds", tag, lo, hi)
	}
	return d, nil
}

// Validate checks rules built in code or decoded from a record.
func (r Rules) Validate() error {
	switch {
	case r.Required < 1 || r.Required > MaxRequired:
		return misconfigured("approvals required must be from 1 to %d", MaxRequired)
	case r.Group != "" && !reGroupName.MatchString(r.Group):
		return misconfigured("approvers group name is not valid")
	case r.MaxDuration < MinDuration || r.MaxDuration > MaxSessionDuration:
		return misconfigured("maximum duration out of range")
	case r.Window < MinWindow || r.Window > MaxWindow:
		return misconfigured("approval window out of range")
	}
	return nil
}

// CheckGroupSize checks that a group of m members can supply the approvals
// the rules need.
func (r Rules) CheckGroupSize(m int) error {
	if r.Group != "" && m < r.Required {
		return misconfigured("%s needs %d approvals but group %s has %d members", TagRequired, r.Required, r.Group, m)
	}
	return nil
}

// MisconfiguredError says which rule is wrong. It wraps ErrMisconfigured.
type MisconfiguredError struct{ Detail string }

func (e *MisconfiguredError) Error() string {
	return ErrMisconfigured.Error() + ": " + e.Detail
}

// Unwrap returns ErrMisconfigured.
func (e *MisconfiguredError) Unwrap() error { return ErrMisconfigured }

func misconfigured(format string, args ...any) error {
	return &MisconfiguredError{Detail: fmt.Sprintf(format, args...)}
}
