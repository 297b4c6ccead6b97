package policy

import "strconv"

// Kind says where a policy is attached, which decides the elements it may carry.
type Kind int

const (
	// KindIdentity is a policy attached to a user, group or role, or a session policy.
	// It has no Principal or NotPrincipal and needs Resource or NotResource.
	KindIdentity Kind = iota + 1
	// KindResource is a policy attached to a resource, such as a secret. Each statement
	// needs Principal (or NotPrincipal, with Deny only) and Resource or NotResource.
	KindResource
	// KindTrust is a role's trust policy: like KindResource, but every action is an sts
	// action, NotPrincipal is refused and Resource is optional.
	KindTrust
)

// String returns "identity", "resource" or "trust".
func (k Kind) String() string {
	switch k {
	case KindIdentity:
		return "identity"
	case KindResource:
		return "resource"
	case KindTrust:
		return "trust"
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// MaxDocumentSize is the largest policy document Parse accepts, in bytes.
const MaxDocumentSize = 131072

// Policy versions. Policy variables are substituted only under Version2012.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// MalformedError is the error Parse returns for a document it refuses. Msg names the
// element at fault, for example `Statement[1]: unknown element "Conditions"`; it is safe
// to show to the author of the policy (it quotes at most a short piece of the document).
type MalformedError struct{ Msg string }

func (e *MalformedError) Error() string { return e.Msg }

// Policy is a parsed, validated and compiled policy document. It is immutable: the
// exported fields are there to read and report; evaluation uses the compiled form built
// by Parse, so changing them changes nothing but Marshal's output.
type Policy struct {
	Version    string // Version2012 or Version2008 (the default when the document has none)
	ID         string // the Id element, "" when absent
	Statements []Statement

	kind Kind
}

// Kind returns the kind the policy was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Statement is one statement of a policy, as written (single strings become one-element
// lists; numbers and booleans in conditions become strings).
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"

	Principal    *Principals // nil when absent
	NotPrincipal *Principals // nil when absent

	Action    []string // exactly one of Action and NotAction is non-nil
	NotAction []string

	Resource    []string // at most one of Resource and NotResource is non-nil
	NotResource []string

	Conditions []Condition // in document order; nil when there is no Condition element

	c compiled
}

// Principals is the value of a Principal or NotPrincipal element.
type Principals struct {
	Any           bool // the element was the string "*"
	AWS           []string
	CanonicalUser []string
	Federated     []string
	Service       []string
}

// Condition is one key under one operator of a Condition element:
// "Operator": {"Key": Values}.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string // as written; compared case-insensitively
	Values   []string
}
