package policy

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/arn"
)

// Principal describes the caller, for Principal and NotPrincipal elements of resource and
// trust policies.
type Principal struct {
	// AWS holds every ARN or id that identifies the caller: a user's ARN
	// ("arn:aws:iam::111122223333:user/alice"); for a role session both the role ARN and
	// the session ARN ("arn:aws:sts::111122223333:assumed-role/R/sess").
	AWS []string
	// Account is the caller's account id. A policy principal naming the account
	// ("111122223333" or "arn:aws:iam::111122223333:root") matches every caller in it.
	Account string
	// SessionARN is the assumed-role ARN of a role session, "" otherwise.
	SessionARN string
	// Federated is the identity provider of a federated caller, "" otherwise.
	Federated string
	// Service is the service principal ("ec2.amazonaws.com") of a service caller.
	Service string
}

// Request is one request to decide.
type Request struct {
	Action    string     // "service:Action", compared case-insensitively
	Resource  string     // the ARN acted on, or "*" for actions without a resource
	Principal *Principal // the caller; used by Principal and NotPrincipal elements
	// Context holds the request context keys and their values as strings ("true",
	// "2026-11-25T10:00:00Z", "1700000000", "10.0.0.1", ARNs...). Key names compare
	// case-insensitively; lower-case keys are found fastest. A key holding an empty list
	// is present with no values.
	Context map[string][]string
	// ContextFunc, if set, makes Context on first need: most requests meet no
	// condition, and most conditions test few keys, so building every key of
	// every request up front is wasted. It is called at most once, and what
	// it returns replaces Context.
	ContextFunc func() map[string][]string
	// Missing asks for Result.MissingKeys (the policy simulator reports them); without it
	// the evaluation skips looking up the keys of conditions it need not evaluate.
	Missing bool
}

// Decision is the outcome of an evaluation.
type Decision int

const (
	ImplicitDeny Decision = iota // no statement allowed the request
	Allow                        // allowed, and no statement denied it
	ExplicitDeny                 // a Deny statement matched
)

// String returns the word the IAM policy simulator uses for d (EvalDecision):
// "implicitDeny", "allowed" or "explicitDeny".
func (d Decision) String() string {
	switch d {
	case ImplicitDeny:
		return "implicitDeny"
	case Allow:
		return "allowed"
	case ExplicitDeny:
		return "explicitDeny"
	}
	return "Decision(" + strconv.Itoa(int(d)) + ")"
}

// Labeled is a policy with the caller's label for it (a policy name or ARN), used in
// results.
type Labeled struct {
	ID     string
	Policy *Policy
}

// Match names a statement that matched the request.
type Match struct {
	PolicyID  string // the Labeled.ID of its policy
	Statement int    // its index in Policy.Statements
	Sid       string
	Effect    string // "Allow" or "Deny"
}

// Result is the outcome of Evaluate or Authorize.
type Result struct {
	Decision Decision
	// Matched lists the statements that matched (Allow and Deny), in evaluation order.
	Matched []Match
	// Deciding is the statement that decided: the first Deny that matched, or the Allow
	// that granted. It points into Matched; nil for an implicit deny.
	Deciding *Match
	// MissingKeys, filled when Request.Missing is set, lists, sorted and once each, the
	// condition keys (as written in the policies) that the request context lacks and that
	// a statement matching the action and principal needed: in a policy variable of its
	// Resource, or, when its resource matched, in its conditions (Null aside). The IAM
	// policy simulator reports these as MissingContextValues.
	MissingKeys []string

	// actIn and actLower remember the last request action and its lower-case form, so
	// that a reused Result lower-cases a repeated action once.
	actIn, actLower string
}

func (r *Result) reset() {
	r.Decision = ImplicitDeny
	r.Matched = r.Matched[:0]
	r.Deciding = nil
	r.MissingKeys = r.MissingKeys[:0]
}

// lowerAction returns the request action in lower case: action patterns are compiled to
// lower case, and comparing lower case with lower case is a plain byte comparison.
func (r *Result) lowerAction(a string) string {
	if a != r.actIn {
		r.actIn, r.actLower = a, lowerASCIIString(a)
	}
	return r.actLower
}

// Evaluate decides req against one set of policies: any matching Deny statement gives
// ExplicitDeny, else any matching Allow statement gives Allow, else ImplicitDeny.
// Policies with a nil Policy are skipped; a nil req is implicitly denied.
func Evaluate(req *Request, policies []Labeled) Result {
	var r Result
	EvaluateInto(&r, req, policies)
	return r
}

// EvaluateInto is Evaluate writing into r, reusing the capacity of r.Matched and
// r.MissingKeys: with a reused Result, evaluation without policy variables allocates
// nothing.
func EvaluateInto(r *Result, req *Request, policies []Labeled) {
	r.reset()
	if req == nil {
		return
	}
	ev := evaluator{req: req, res: r, act: r.lowerAction(req.Action)}
	s := ev.set(policies)
	switch {
	case s.deny >= 0:
		r.Decision, r.Deciding = ExplicitDeny, &r.Matched[s.deny]
	case s.allow >= 0:
		r.Decision, r.Deciding = Allow, &r.Matched[s.allow]
	}
	ev.finish()
}

// Input holds the policy sets of one request, for Authorize.
type Input struct {
	Identity   []Labeled // identity policies of the user (and its groups) or the role
	Session    []Labeled // session policies: the inline Policy and PolicyArns given to STS
	HasSession bool      // session policies were given: permissions are identity ∩ session
	Resource   []Labeled // resource policies (a secret's policy) or a role's trust policy
	// ResourceRequired: the resource policies must allow (a role's trust policy, which
	// every AssumeRole needs); otherwise they are one more way to be allowed (a secret's).
	ResourceRequired bool
}

// Authorize decides req with IAM's logic for a caller and a resource in the same account
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
//
//   - a matching Deny in any set gives ExplicitDeny;
//   - with ResourceRequired, no resource statement allowing gives ImplicitDeny;
//   - else Allow when the identity policies allow and, if HasSession, the session policies
//     allow too;
//   - else Allow when a resource statement allows that names the caller directly (its user
//     or role ARN, "*", its identity provider) and, if HasSession, the session policies
//     allow or the statement names the session (req.Principal.SessionARN) itself;
//   - else ImplicitDeny.
//
// A resource statement whose principal matched only through the caller's account
// ("111122223333" or "arn:aws:iam::111122223333:root") delegates to IAM: it grants nothing
// by itself, and the identity policies must allow, as in AWS. With HasSession and no
// session policy, only a resource statement naming the session can allow: an empty
// session policy grants nothing.
func Authorize(req *Request, in Input) Result {
	var r Result
	AuthorizeInto(&r, req, in)
	return r
}

// AuthorizeInto is Authorize writing into r, reusing its capacity as EvaluateInto does.
func AuthorizeInto(r *Result, req *Request, in Input) {
	r.reset()
	if req == nil {
		return
	}
	ev := evaluator{req: req, res: r, act: r.lowerAction(req.Action)}
	id := ev.set(in.Identity)
	se := ev.set(in.Session)
	rs := ev.set(in.Resource)
	// Matched grows while the sets are evaluated; indices stay valid, pointers would not.
	deny := -1
	for _, d := range [...]int{id.deny, se.deny, rs.deny} {
		if d >= 0 {
			deny = d
			break
		}
	}
	sessionAllows := !in.HasSession || se.allow >= 0
	switch {
	case deny >= 0:
		r.Decision, r.Deciding = ExplicitDeny, &r.Matched[deny]
	case in.ResourceRequired && rs.allow < 0:
	case id.allow >= 0 && sessionAllows:
		r.Decision, r.Deciding = Allow, &r.Matched[id.allow]
	case rs.allowDirect >= 0 && sessionAllows:
		r.Decision, r.Deciding = Allow, &r.Matched[rs.allowDirect]
	case rs.allowNamingSession >= 0:
		r.Decision, r.Deciding = Allow, &r.Matched[rs.allowNamingSession]
	}
	ev.finish()
}

// setOutcome gives indices into Result.Matched, -1 for none.
type setOutcome struct {
	deny, allow int
	// allowDirect is the first Allow whose principal named the caller (not
	// only its account); allowNamingSession the first that named the
	// caller's role session.
	allowDirect, allowNamingSession int
}

// evaluator holds the state of one evaluation.
type evaluator struct {
	req *Request
	res *Result
	act string // req.Action in lower case
	// ctxLower records whether every key of req.Context is lower case (1) or not (2),
	// once a lookup has needed to know (0 until then).
	ctxLower uint8
	// relevant is set while a statement that matches the action, resource and principal is
	// evaluated; only then are absent keys recorded in MissingKeys.
	relevant bool
	// parsed caches request values parsed as numbers, dates or addresses: the same key
	// (aws:SourceIp, aws:CurrentTime) is usually tested by several statements.
	parsed  [4]parsedValue
	nparsed int
}

// parsedValue is one request value parsed for one condition family.
type parsedValue struct {
	s   string
	fam family
	ok  bool
	f   float64
	t   time.Time
	a   netip.Addr
}

// parse returns request value r parsed for fam (famNumeric, famDate or famIP), from the
// cache when this evaluation parsed it before.
func (ev *evaluator) parse(fam family, r string) parsedValue {
	for i := 0; i < ev.nparsed; i++ {
		if p := &ev.parsed[i]; p.fam == fam && p.s == r {
			return *p
		}
	}
	p := parseValue(fam, r)
	if ev.nparsed < len(ev.parsed) {
		ev.parsed[ev.nparsed] = p
		ev.nparsed++
	}
	return p
}

func parseValue(fam family, r string) parsedValue {
	p := parsedValue{s: r, fam: fam}
	switch fam {
	case famNumeric:
		f, err := strconv.ParseFloat(r, 64)
		p.f, p.ok = f, err == nil && f == f
	case famDate:
		p.t, p.ok = dateOf(r)
	case famIP:
		a, err := netip.ParseAddr(r)
		p.a, p.ok = a.Unmap().WithZone(""), err == nil
	}
	return p
}

func (ev *evaluator) set(policies []Labeled) setOutcome {
	out := setOutcome{-1, -1, -1, -1}
	for _, l := range policies {
		if l.Policy == nil {
			continue
		}
		for i := range l.Policy.Statements {
			s := &l.Policy.Statements[i]
			g := ev.statement(&s.c)
			if g == grantNone {
				continue
			}
			idx := len(ev.res.Matched)
			ev.res.Matched = append(ev.res.Matched, Match{PolicyID: l.ID, Statement: i, Sid: s.Sid, Effect: s.Effect})
			switch {
			case s.c.deny:
				if out.deny < 0 {
					out.deny = idx
				}
			default:
				if out.allow < 0 {
					out.allow = idx
				}
				if g >= grantDirect && out.allowDirect < 0 {
					out.allowDirect = idx
				}
				if g == grantSession && out.allowNamingSession < 0 {
					out.allowNamingSession = idx
				}
			}
		}
	}
	return out
}

// statement reports whether the statement matches the request (grantNone if not), and
// how its Principal element matched the caller (grantDirect for statements without one).
func (ev *evaluator) statement(c *compiled) grant {
	ev.relevant = false
	if !ev.action(c) {
		return grantNone
	}
	g := grantDirect
	switch {
	case c.principal == nil:
	case c.notPrincipal:
		if !c.principal.appliesNot(ev.req.Principal) {
			return grantNone
		}
	default:
		if g = c.principal.match(ev.req.Principal); g == grantNone {
			return grantNone
		}
	}
	ev.relevant = true
	if !c.anyResource && !ev.resource(c) {
		return grantNone
	}
	for i := range c.conds {
		if !ev.condition(&c.conds[i]) {
			// The statement does not apply, but the keys of the remaining conditions are
			// still missing if absent: note them for MissingKeys.
			for j := i + 1; ev.req.Missing && j < len(c.conds); j++ {
				ev.noteAbsent(&c.conds[j])
			}
			return grantNone
		}
	}
	return g
}

func (ev *evaluator) action(c *compiled) bool {
	a := ev.act
	for i := range c.actions {
		p := &c.actions[i]
		var m bool
		switch p.kind {
		case patAny:
			m = true
		case patExact:
			m = a == p.text
		default:
			m = p.glob.matchLower(a)
		}
		if m {
			return !c.notAction
		}
	}
	return c.notAction
}

func (ev *evaluator) resource(c *compiled) bool {
	r := ev.req.Resource
	for i := range c.resources {
		if ev.matchPattern(&c.resources[i], r) {
			return !c.notResource
		}
	}
	return c.notResource
}

// matchPattern matches s against a Resource or StringLike pattern (case-sensitive).
func (ev *evaluator) matchPattern(p *pattern, s string) bool {
	switch p.kind {
	case patAny:
		return true
	case patExact:
		return p.text == s
	case patGlob:
		return p.glob.match(s)
	}
	text, lit, ok := ev.expand(p.segs)
	return ok && arn.MatchLit(text, lit, s, false)
}

// expand substitutes the policy variables of a template. It fails when a variable's key is
// absent (and it has no default) or holds other than exactly one value: the value using it
// then matches nothing.
func (ev *evaluator) expand(segs []segment) (string, []bool, bool) {
	var b []byte
	var lit []bool
	addLiteral := func(s string) {
		if lit == nil {
			lit = make([]bool, len(b), len(b)+len(s)+16)
		}
		b = append(b, s...)
		for range len(s) {
			lit = append(lit, true)
		}
	}
	for i := range segs {
		s := &segs[i]
		switch s.kind {
		case segText:
			b = append(b, s.text...)
			if lit != nil {
				lit = append(lit, make([]bool, len(s.text))...)
			}
		case segLiteral:
			addLiteral(s.text)
		case segVar:
			vals, ok := ev.lookup(&s.key)
			switch {
			case ok && len(vals) == 1:
				addLiteral(vals[0])
			case s.hasDefault && (!ok || len(vals) == 0):
				addLiteral(s.text)
			default:
				if !ok {
					ev.noteMissing(&s.key)
				}
				return "", nil, false
			}
		}
	}
	return string(b), lit, true
}

// lookup finds a context key case-insensitively.
func (ev *evaluator) lookup(k *keyRef) ([]string, bool) {
	if f := ev.req.ContextFunc; f != nil {
		ev.req.ContextFunc = nil
		ev.req.Context = f()
	}
	ctx := ev.req.Context
	if len(ctx) == 0 {
		return nil, false
	}
	if v, ok := ctx[k.lower]; ok {
		return v, true
	}
	if k.name != k.lower {
		if v, ok := ctx[k.name]; ok {
			return v, true
		}
	}
	if ev.ctxLower == 0 {
		ev.ctxLower = 1
		for key := range ctx {
			if hasUpper(key) {
				ev.ctxLower = 2
				break
			}
		}
	}
	if ev.ctxLower == 1 {
		return nil, false
	}
	// Mixed-case keys: scan. Should the context spell one key twice, the smallest
	// spelling wins, so that the answer does not depend on map order.
	var best string
	var vals []string
	found := false
	for key, v := range ctx {
		if strings.EqualFold(key, k.lower) && (!found || key < best) {
			best, vals, found = key, v, true
		}
	}
	return vals, found
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' || c >= 0x80 {
			return true
		}
	}
	return false
}

func (ev *evaluator) noteMissing(k *keyRef) {
	if ev.relevant && ev.req.Missing {
		ev.res.MissingKeys = append(ev.res.MissingKeys, k.name)
	}
}

// noteAbsent records the absent keys of a condition that was not evaluated.
func (ev *evaluator) noteAbsent(c *condition) {
	if !ev.req.Missing {
		return
	}
	if c.fam != famNull {
		if _, ok := ev.lookup(&c.key); !ok {
			ev.noteMissing(&c.key)
		}
	}
	for i := range c.varRefs {
		if _, ok := ev.lookup(&c.varRefs[i]); !ok {
			ev.noteMissing(&c.varRefs[i])
		}
	}
}

// finish sorts MissingKeys and drops repeats (compared case-insensitively).
func (ev *evaluator) finish() {
	m := ev.res.MissingKeys
	if len(m) < 2 {
		return
	}
	slices.SortFunc(m, func(a, b string) int {
		if c := compareFold(a, b); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	ev.res.MissingKeys = slices.CompactFunc(m, strings.EqualFold)
}

// compareFold compares ASCII-case-insensitively (condition keys are ASCII).
func compareFold(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := lowerASCII(a[i]), lowerASCII(b[i])
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
	}
	return len(a) - len(b)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
