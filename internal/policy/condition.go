package policy

import (
	"bytes"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/arn"
)

// grant says how a statement's Principal element matched the caller,
// which decides what a resource policy's Allow is worth (Authorize).
type grant uint8

const (
	grantNone    grant = iota // the element does not match the caller
	grantAccount              // only through the caller's account: delegates to IAM
	grantDirect               // names the caller's user or role, or everyone ("*"), or its provider or service
	grantSession              // names the caller's role session itself
)

// match reports how a Principal element matches the caller p. A name is
// looked for before the account, so that a statement naming both the
// account and the caller grants directly.
func (m *principalMatcher) match(p *Principal) grant {
	if p == nil {
		if m.any {
			return grantDirect
		}
		return grantNone
	}
	if p.SessionARN != "" && slices.Contains(m.arns, p.SessionARN) {
		return grantSession
	}
	if m.any {
		return grantDirect
	}
	for _, a := range p.AWS {
		if slices.Contains(m.arns, a) {
			return grantDirect
		}
	}
	if p.Federated != "" && (m.anyFed || slices.Contains(m.federated, p.Federated)) {
		return grantDirect
	}
	if p.Service != "" && (m.anySvc || slices.Contains(m.services, p.Service)) {
		return grantDirect
	}
	if len(m.accounts) > 0 {
		if p.Account != "" && slices.Contains(m.accounts, p.Account) {
			return grantAccount
		}
		for _, a := range p.AWS {
			if acct := principalAccount(a); acct != "" && slices.Contains(m.accounts, acct) {
				return grantAccount
			}
		}
		if acct := principalAccount(p.SessionARN); acct != "" && slices.Contains(m.accounts, acct) {
			return grantAccount
		}
	}
	return grantNone
}

// appliesNot reports whether a statement with this NotPrincipal element applies to p.
// IAM checks the account, then the user or role, then the session, so the statement
// applies unless every identity of the caller is listed: naming a role does not exempt
// its sessions, and naming a user without its account does not exempt the user.
// A caller with no identity (anonymous) is never exempt.
func (m *principalMatcher) appliesNot(p *Principal) bool {
	if m.any {
		return false
	}
	if p == nil {
		return true
	}
	n := 0
	if p.Account != "" {
		n++
		if !slices.Contains(m.accounts, p.Account) {
			return true
		}
	}
	for _, a := range p.AWS {
		n++
		if !m.listsAWS(a) {
			return true
		}
	}
	if p.SessionARN != "" {
		n++
		if !m.listsAWS(p.SessionARN) {
			return true
		}
	}
	if p.Federated != "" {
		n++
		if !m.anyFed && !slices.Contains(m.federated, p.Federated) {
			return true
		}
	}
	if p.Service != "" {
		n++
		if !m.anySvc && !slices.Contains(m.services, p.Service) {
			return true
		}
	}
	return n == 0
}

// listsAWS reports whether one AWS identity of the caller is listed by the element itself
// (an account is listed by its id or root ARN; any other ARN only by itself).
func (m *principalMatcher) listsAWS(a string) bool {
	if isAccountID(a) {
		return slices.Contains(m.accounts, a)
	}
	if acct, ok := rootAccount(a); ok {
		return slices.Contains(m.accounts, acct)
	}
	return slices.Contains(m.arns, a)
}

// principalAccount returns the account of a caller identity: an account id, or the
// account part of an iam or sts ARN.
func principalAccount(a string) string {
	if isAccountID(a) {
		return a
	}
	if !strings.HasPrefix(a, "arn:") {
		return ""
	}
	rest := a[len("arn:"):]
	for i := 0; i < 3; i++ {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ""
		}
		rest = rest[j+1:]
	}
	j := strings.IndexByte(rest, ':')
	if j < 0 || !isAccountID(rest[:j]) {
		return ""
	}
	return rest[:j]
}

// rootAccount recognises "arn:PARTITION:iam::ACCOUNT:root".
func rootAccount(a string) (string, bool) {
	if !strings.HasSuffix(a, ":root") {
		return "", false
	}
	x, err := arn.Parse(a)
	if err != nil || x.Service != "iam" || x.Region != "" || x.Resource != "root" || !isAccountID(x.Account) {
		return "", false
	}
	return x.Account, true
}

// condition evaluates one key under one operator
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html):
//
//   - an absent key: Null decides on absence; ...IfExists is true; ForAllValues is true;
//     ForAnyValue is false; a negated operator (StringNotEquals, NotIpAddress...) is true;
//     any other is false;
//   - a present key, no set prefix: true when some request value matches some policy value
//     (values OR); negated operators are true when none does (NOR);
//   - ForAnyValue: true when some request value matches (for a negated operator: matches
//     none of the policy values); ForAllValues: true when every request value does,
//     hence also when the key holds no values.
func (ev *evaluator) condition(c *condition) bool {
	vals, ok := ev.lookup(&c.key)
	if c.fam == famNull {
		absent := !ok || len(vals) == 0
		for i := range c.vals {
			if c.vals[i].b == absent {
				return true
			}
		}
		return false
	}
	if !ok {
		ev.noteAbsent(c)
		switch {
		case c.ifExists, c.set == setAll:
			return true
		case c.set == setAny:
			return false
		}
		return c.neg
	}
	switch c.set {
	case setAny:
		for _, r := range vals {
			if ev.matchValues(c, r) != c.neg {
				return true
			}
		}
		return false
	case setAll:
		for _, r := range vals {
			if ev.matchValues(c, r) == c.neg {
				return false
			}
		}
		return true
	}
	for _, r := range vals {
		if ev.matchValues(c, r) {
			return !c.neg
		}
	}
	return c.neg
}

// matchValues reports whether request value r matches any policy value of c under the
// positive form of its operator.
func (ev *evaluator) matchValues(c *condition, r string) bool {
	switch c.fam {
	case famNumeric:
		p := ev.parse(famNumeric, r)
		if !p.ok {
			return false
		}
		for i := range c.vals {
			if compare(c.cmp, cmpFloat(p.f, c.vals[i].num)) {
				return true
			}
		}
		return false
	case famDate:
		p := ev.parse(famDate, r)
		if !p.ok {
			return false
		}
		for i := range c.vals {
			if compare(c.cmp, p.t.Compare(c.vals[i].t)) {
				return true
			}
		}
		return false
	case famIP:
		p := ev.parse(famIP, r)
		if !p.ok {
			return false
		}
		for i := range c.vals {
			if c.vals[i].prefix.Contains(p.a) {
				return true
			}
		}
		return false
	case famBinary:
		b, err := base64.StdEncoding.DecodeString(r)
		if err != nil {
			return false
		}
		for i := range c.vals {
			if bytes.Equal(b, c.vals[i].bin) {
				return true
			}
		}
		return false
	}
	for i := range c.vals {
		if ev.matchText(c, &c.vals[i], r) {
			return true
		}
	}
	return false
}

// matchText compares r with one String, Arn or Bool policy value.
func (ev *evaluator) matchText(c *condition, v *condValue, r string) bool {
	p := &v.pat
	text, lit := p.text, []bool(nil)
	if p.kind == patTemplate {
		var ok bool
		if text, lit, ok = ev.expand(p.segs); !ok {
			return false
		}
	}
	switch c.fam {
	case famARN:
		return arn.MatchARNLit(text, lit, r)
	case famBool:
		want, ok1 := boolOf(text)
		got, ok2 := boolOf(r)
		return ok1 && ok2 && want == got
	}
	switch c.cmp {
	case cmpEqFold:
		return strings.EqualFold(text, r)
	case cmpLike:
		switch p.kind {
		case patAny:
			return true
		case patExact:
			return text == r
		case patGlob:
			return p.glob.match(r)
		}
		return arn.MatchLit(text, lit, r, false)
	}
	return text == r
}

func boolOf(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}

// dateOf is parseDate without the error value, which would allocate.
func dateOf(s string) (time.Time, bool) {
	if n := len(s); n > 0 && n <= 19 && isEpoch(s) {
		if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.Unix(sec, 0).UTC(), true
		}
	}
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare applies op to the result of comparing the request value with the policy value.
func compare(op cmpOp, c int) bool {
	switch op {
	case cmpLT:
		return c < 0
	case cmpLE:
		return c <= 0
	case cmpGT:
		return c > 0
	case cmpGE:
		return c >= 0
	}
	return c == 0
}
