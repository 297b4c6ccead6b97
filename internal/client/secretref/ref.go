package secretref

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is one --secret argument: put the value of secret ID (or of one key
// of its JSON object) in the variable Var.
type Ref struct {
	Var      string
	SecretID string
	JSONKey  string // "" for the whole value
}

func (r Ref) String() string {
	s := r.Var + "=" + r.SecretID
	if r.JSONKey != "" {
		s += "#" + r.JSONKey
	}
	return s
}

var reVar = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Secrets Manager names are [A-Za-z0-9/_+=.@-] (up to 512), and ARNs add
// ':'; neither has '#', which separates the JSON key.
var reSecretID = regexp.MustCompile(`^[A-Za-z0-9/_+=.@:-]+$`)

const maxSecretIDLen = 2048

// reserved variables cannot receive secrets: exec sets them itself.
func reserved(name string) bool {
	u := strings.ToUpper(name)
	return strings.HasPrefix(u, "AWS_") || strings.HasPrefix(u, "SHORTFUSE_")
}

// Parse reads VAR=SECRET_ID[#JSON_KEY].
func Parse(s string) (Ref, error) {
	v, rest, ok := strings.Cut(s, "=")
	if !ok {
		return Ref{}, fmt.Errorf("--secret %q: want VAR=SECRET_ID[#JSON_KEY]", s)
	}
	if !reVar.MatchString(v) {
		return Ref{}, fmt.Errorf("--secret %q: %q is not a variable name (letters, digits, _; not starting with a digit)", s, v)
	}
	if reserved(v) {
		return Ref{}, fmt.Errorf("--secret %q: variables named AWS_* and SHORTFUSE_* are set by shortfuse exec itself", s)
	}
	id, key, hasKey := strings.Cut(rest, "#")
	if len(id) > maxSecretIDLen || !reSecretID.MatchString(id) {
		return Ref{}, fmt.Errorf("--secret %q: %q is not a secret name or ARN", s, id)
	}
	if hasKey && (key == "" || len(key) > 256) {
		return Ref{}, fmt.Errorf("--secret %q: the JSON key after '#' must be 1-256 characters", s)
	}
	return Ref{Var: v, SecretID: id, JSONKey: key}, nil
}

// ParseAll reads every reference and refuses a variable named twice.
func ParseAll(args []string) ([]Ref, error) {
	refs := make([]Ref, 0, len(args))
	seen := make(map[string]bool)
	for _, a := range args {
		r, err := Parse(a)
		if err != nil {
			return nil, err
		}
		if seen[r.Var] {
			return nil, fmt.Errorf("--secret: variable %s is given twice", r.Var)
		}
		seen[r.Var] = true
		refs = append(refs, r)
	}
	return refs, nil
}
