package policy

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/shortfuse/shortfuse/internal/arn"
)

// compiled is the form of a statement that evaluation uses, built once by Parse.
type compiled struct {
	deny         bool
	notAction    bool
	actions      []pattern
	anyResource  bool // no Resource or NotResource (trust policies only)
	notResource  bool
	resources    []pattern
	principal    *principalMatcher // nil: no Principal or NotPrincipal
	notPrincipal bool
	conds        []condition
}

// compilePolicy validates p as a policy of the given kind and fills in the compiled form of
// each statement.
func compilePolicy(p *Policy, kind Kind) error {
	switch p.Version {
	case Version2012, Version2008:
	default:
		return malformed("Version: must be %q or %q, got %s", Version2012, Version2008, quote(p.Version))
	}
	p.kind = kind
	vars := p.Version == Version2012
	sids := make(map[string]int)
	for i := range p.Statements {
		s := &p.Statements[i]
		path := fmt.Sprintf("Statement[%d]", i)
		if s.Sid != "" {
			if !isAlnum(s.Sid) {
				return malformed("%s.Sid: must contain only letters and digits, got %s", path, quote(s.Sid))
			}
			if j, dup := sids[s.Sid]; dup {
				return malformed("%s.Sid: %s is already the Sid of Statement[%d]", path, quote(s.Sid), j)
			}
			sids[s.Sid] = i
		}
		if err := compileStatement(s, path, kind, vars); err != nil {
			return err
		}
	}
	return nil
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// compileStatement checks a statement against the rules of its policy's
// kind and compiles it, element by element.
func compileStatement(s *Statement, path string, kind Kind, vars bool) error {
	c := &s.c
	switch s.Effect {
	case "Allow":
	case "Deny":
		c.deny = true
	default:
		return malformed("%s.Effect: must be \"Allow\" or \"Deny\", got %s", path, quote(s.Effect))
	}
	if err := compileStatementPrincipal(s, path, kind); err != nil {
		return err
	}
	if err := compileStatementActions(s, path, kind); err != nil {
		return err
	}
	if err := compileStatementResources(s, path, kind, vars); err != nil {
		return err
	}
	return compileStatementConditions(s, path, vars)
}

// compileStatementPrincipal compiles Principal or NotPrincipal, where the
// policy's kind allows them.
func compileStatementPrincipal(s *Statement, path string, kind Kind) error {
	c := &s.c
	switch {
	case s.Principal != nil && s.NotPrincipal != nil:
		return malformed("%s: has both Principal and NotPrincipal", path)
	case kind == KindIdentity && s.Principal != nil:
		return malformed("%s.Principal: not allowed in an identity policy", path)
	case kind == KindIdentity && s.NotPrincipal != nil:
		return malformed("%s.NotPrincipal: not allowed in an identity policy", path)
	case kind == KindTrust && s.NotPrincipal != nil:
		return malformed("%s.NotPrincipal: not allowed in a trust policy", path)
	case kind != KindIdentity && s.Principal == nil && s.NotPrincipal == nil:
		return malformed("%s: missing element \"Principal\" (required in a %s policy)", path, kind)
	case s.NotPrincipal != nil && !c.deny:
		// IAM supports NotPrincipal only with Deny: with Allow it would grant to everyone
		// not listed, anonymous callers included.
		return malformed("%s.NotPrincipal: only allowed with \"Effect\": \"Deny\"", path)
	}
	var err error
	if s.Principal != nil {
		c.principal, err = compilePrincipals(s.Principal, path+".Principal")
	}
	if s.NotPrincipal != nil {
		c.principal, err = compilePrincipals(s.NotPrincipal, path+".NotPrincipal")
		c.notPrincipal = true
	}
	return err
}

// compileStatementActions compiles Action or NotAction (one is required).
func compileStatementActions(s *Statement, path string, kind Kind) error {
	c := &s.c
	actions, apath := s.Action, path+".Action"
	switch {
	case s.Action != nil && s.NotAction != nil:
		return malformed("%s: has both Action and NotAction", path)
	case s.Action == nil && s.NotAction == nil:
		return malformed("%s: missing element \"Action\" or \"NotAction\"", path)
	case s.NotAction != nil:
		actions, apath, c.notAction = s.NotAction, path+".NotAction", true
	}
	c.actions = make([]pattern, len(actions))
	for i, a := range actions {
		if err := checkAction(a, kind); err != nil {
			return malformed("%s[%d]: %s", apath, i, err)
		}
		c.actions[i] = actionPattern(a)
	}
	return nil
}

// compileStatementResources compiles Resource or NotResource (one is
// required, except in a trust policy, where none means any).
func compileStatementResources(s *Statement, path string, kind Kind, vars bool) error {
	c := &s.c
	resources, rpath := s.Resource, path+".Resource"
	switch {
	case s.Resource != nil && s.NotResource != nil:
		return malformed("%s: has both Resource and NotResource", path)
	case s.Resource == nil && s.NotResource == nil:
		if kind != KindTrust {
			return malformed("%s: missing element \"Resource\" or \"NotResource\"", path)
		}
		c.anyResource = true
	case s.NotResource != nil:
		resources, rpath, c.notResource = s.NotResource, path+".NotResource", true
	}
	c.resources = make([]pattern, len(resources))
	for i, r := range resources {
		p, err := compileResource(r, vars)
		if err != nil {
			return malformed("%s[%d]: %s", rpath, i, err)
		}
		c.resources[i] = p
	}
	return nil
}

// compileStatementConditions compiles the Condition block.
func compileStatementConditions(s *Statement, path string, vars bool) error {
	if len(s.Conditions) == 0 {
		return nil
	}
	c := &s.c
	c.conds = make([]condition, len(s.Conditions))
	seen := make(map[[2]string]string)
	for i := range s.Conditions {
		sc := &s.Conditions[i]
		cpath := join(join(path+".Condition", sc.Operator), sc.Key)
		// Keys are case-insensitive, so "aws:username" and "aws:UserName" under one
		// operator would be two spellings of one key: refuse rather than pick one.
		k := [2]string{sc.Operator, strings.ToLower(sc.Key)}
		if prev, dup := seen[k]; dup {
			return malformed("%s: same key as %s (keys are case-insensitive)", cpath, quote(prev))
		}
		seen[k] = sc.Key
		if err := compileCondition(&c.conds[i], sc, cpath, vars); err != nil {
			return err
		}
	}
	return nil
}

// checkAction accepts "*" and "service:Action", where the action name may hold wildcards.
// Service prefixes are written in lower case by AWS; upper case is accepted too, since
// actions compare case-insensitively and AWS accepts it.
func checkAction(a string, kind Kind) error {
	if a == "*" {
		if kind == KindTrust {
			return fmt.Errorf("a trust policy may only name sts actions, got %s", quote(a))
		}
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return fmt.Errorf("want \"*\" or \"service:Action\", got %s", quote(a))
	}
	for i := 0; i < len(svc); i++ {
		if c := svc[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("service prefix must be [a-z0-9-], got %s", quote(a))
		}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?' || c == '_' || c == '-') {
			return fmt.Errorf("action name must be letters, digits and wildcards, got %s", quote(a))
		}
	}
	if kind == KindTrust && !strings.EqualFold(svc, "sts") {
		return fmt.Errorf("a trust policy may only name sts actions, got %s", quote(a))
	}
	return nil
}

// compileResource accepts "*" and ARNs of six parts (wildcards and, under 2012-10-17,
// policy variables allowed).
func compileResource(r string, vars bool) (pattern, error) {
	p, err := compilePattern(r, vars, true)
	if err != nil {
		return pattern{}, err
	}
	if r == "*" {
		return p, nil
	}
	if !strings.HasPrefix(r, "arn:") {
		return pattern{}, fmt.Errorf("want \"*\" or an ARN, got %s", quote(r))
	}
	if colons(p) < 5 {
		return pattern{}, fmt.Errorf("an ARN has 6 colon-separated parts, got %s", quote(r))
	}
	return p, nil
}

// colons counts the colons of a pattern's own text (not those inside variable names).
func colons(p pattern) int {
	if p.kind != patTemplate {
		return strings.Count(p.text, ":")
	}
	n := 0
	for _, s := range p.segs {
		if s.kind == segText {
			n += strings.Count(s.text, ":")
		}
	}
	return n
}

// principalMatcher is the compiled form of a Principal or NotPrincipal element.
type principalMatcher struct {
	any       bool     // "*" or {"AWS": "*"}
	accounts  []string // account ids, from "111122223333" or "arn:aws:iam::111122223333:root"
	arns      []string // other AWS principal ARNs, matched exactly
	federated []string
	anyFed    bool
	services  []string
	anySvc    bool
	// CanonicalUser values are accepted and kept for Marshal but never match: this broker
	// has no canonical users.
}

// principalNames checks the Federated or Service principals (field) of
// the element at path and returns a copy of them, and whether one is "*".
func principalNames(names []string, path, field string) (kept []string, anyName bool, err error) {
	for i, v := range names {
		if err := checkPrincipalName(v); err != nil {
			return nil, false, malformed("%s.%s[%d]: %s", path, field, i, err)
		}
		if v == "*" {
			anyName = true
		}
		kept = append(kept, v)
	}
	return kept, anyName, nil
}

func compilePrincipals(p *Principals, path string) (*principalMatcher, error) {
	m := &principalMatcher{any: p.Any}
	for i, v := range p.AWS {
		vpath := fmt.Sprintf("%s.AWS[%d]", path, i)
		switch {
		case v == "*":
			m.any = true
		case isAccountID(v):
			m.accounts = append(m.accounts, v)
		default:
			a, err := arn.Parse(v)
			if err != nil || (a.Service != "iam" && a.Service != "sts") || a.Region != "" || !isAccountID(a.Account) {
				return nil, malformed("%s: want \"*\", a 12-digit account id or an IAM principal ARN, got %s", vpath, quote(v))
			}
			if strings.ContainsAny(v, "*?") {
				return nil, malformed("%s: wildcards are not allowed in principal ARNs, got %s", vpath, quote(v))
			}
			if a.Service == "iam" && a.Resource == "root" {
				m.accounts = append(m.accounts, a.Account)
			} else {
				m.arns = append(m.arns, v)
			}
		}
	}
	var err error
	if m.federated, m.anyFed, err = principalNames(p.Federated, path, "Federated"); err != nil {
		return nil, err
	}
	if m.services, m.anySvc, err = principalNames(p.Service, path, "Service"); err != nil {
		return nil, err
	}
	for i, v := range p.CanonicalUser {
		if err := checkPrincipalName(v); err != nil || v == "*" {
			return nil, malformed("%s.CanonicalUser[%d]: want a canonical user id, got %s", path, i, quote(v))
		}
	}
	return m, nil
}

func checkPrincipalName(v string) error {
	if v == "" {
		return fmt.Errorf("must not be empty")
	}
	if v != "*" && strings.ContainsAny(v, "*?") {
		return fmt.Errorf("wildcards are not allowed in principals, got %s", quote(v))
	}
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Condition operators
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).

type family uint8

const (
	famString family = iota + 1
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpEqFold
	cmpLike
	cmpLT
	cmpLE
	cmpGT
	cmpGE
)

type setQual uint8

const (
	setNone setQual = iota
	setAny          // ForAnyValue:
	setAll          // ForAllValues:
)

type condition struct {
	fam      family
	cmp      cmpOp
	neg      bool
	ifExists bool
	set      setQual
	key      keyRef
	vals     []condValue
	varRefs  []keyRef // keys of the policy variables in vals
}

type condValue struct {
	pat    pattern // famString, famARN, famBool: the value (maybe a template)
	num    float64
	t      time.Time
	prefix netip.Prefix
	bin    []byte
	b      bool // famBool, famNull
}

// operator maps the base name of a condition operator (without set prefix or IfExists)
// to its family, comparison and negation.
func operator(name string) (fam family, cmp cmpOp, neg bool, ok bool) {
	switch name {
	case "StringEquals":
		return famString, cmpEq, false, true
	case "StringNotEquals":
		return famString, cmpEq, true, true
	case "StringEqualsIgnoreCase":
		return famString, cmpEqFold, false, true
	case "StringNotEqualsIgnoreCase":
		return famString, cmpEqFold, true, true
	case "StringLike":
		return famString, cmpLike, false, true
	case "StringNotLike":
		return famString, cmpLike, true, true
	case "NumericEquals":
		return famNumeric, cmpEq, false, true
	case "NumericNotEquals":
		return famNumeric, cmpEq, true, true
	case "NumericLessThan":
		return famNumeric, cmpLT, false, true
	case "NumericLessThanEquals":
		return famNumeric, cmpLE, false, true
	case "NumericGreaterThan":
		return famNumeric, cmpGT, false, true
	case "NumericGreaterThanEquals":
		return famNumeric, cmpGE, false, true
	case "DateEquals":
		return famDate, cmpEq, false, true
	case "DateNotEquals":
		return famDate, cmpEq, true, true
	case "DateLessThan":
		return famDate, cmpLT, false, true
	case "DateLessThanEquals":
		return famDate, cmpLE, false, true
	case "DateGreaterThan":
		return famDate, cmpGT, false, true
	case "DateGreaterThanEquals":
		return famDate, cmpGE, false, true
	case "Bool":
		return famBool, cmpEq, false, true
	case "BinaryEquals":
		return famBinary, cmpEq, false, true
	case "IpAddress":
		return famIP, cmpEq, false, true
	case "NotIpAddress":
		return famIP, cmpEq, true, true
	case "ArnEquals", "ArnLike":
		return famARN, cmpLike, false, true
	case "ArnNotEquals", "ArnNotLike":
		return famARN, cmpLike, true, true
	case "Null":
		return famNull, cmpEq, false, true
	}
	return 0, 0, false, false
}

func compileCondition(c *condition, sc *Condition, path string, vars bool) error {
	name := sc.Operator
	if rest, ok := strings.CutPrefix(name, "ForAnyValue:"); ok {
		c.set, name = setAny, rest
	} else if rest, ok := strings.CutPrefix(name, "ForAllValues:"); ok {
		c.set, name = setAll, rest
	}
	if rest, ok := strings.CutSuffix(name, "IfExists"); ok && rest != "" {
		c.ifExists, name = true, rest
	}
	var ok bool
	c.fam, c.cmp, c.neg, ok = operator(name)
	if !ok {
		return malformed("%s: unknown condition operator %s", path, quote(sc.Operator))
	}
	if c.fam == famNull && c.ifExists {
		return malformed("%s: the Null operator cannot take IfExists", path)
	}
	if c.fam == famNull && c.set != setNone {
		return malformed("%s: the Null operator cannot take ForAnyValue or ForAllValues", path)
	}
	if err := checkKey(sc.Key); err != nil {
		return malformed("%s: %s", path, err)
	}
	c.key = newKeyRef(sc.Key)

	c.vals = make([]condValue, len(sc.Values))
	for i, v := range sc.Values {
		vpath := fmt.Sprintf("%s[%d]", path, i)
		cv := &c.vals[i]
		var err error
		switch c.fam {
		case famString:
			cv.pat, err = compilePattern(v, vars, c.cmp == cmpLike)
		case famARN:
			cv.pat, err = compilePattern(v, vars, true)
			if err == nil && cv.pat.kind != patTemplate && (!strings.HasPrefix(v, "arn:") || strings.Count(v, ":") < 5) {
				err = fmt.Errorf("want an ARN of 6 colon-separated parts, got %s", quote(v))
			}
		case famBool:
			cv.pat, err = compilePattern(v, vars, false)
			if err == nil && cv.pat.kind != patTemplate {
				cv.b, err = parseBool(v)
			}
		case famNull:
			cv.b, err = parseBool(v)
		case famNumeric:
			cv.num, err = parseNumber(v)
		case famDate:
			cv.t, err = parseDate(v)
		case famBinary:
			cv.bin, err = base64.StdEncoding.Strict().DecodeString(v)
			if err != nil {
				err = fmt.Errorf("want base64, got %s", quote(v))
			}
		case famIP:
			cv.prefix, err = parsePrefix(v)
		}
		if err != nil {
			return malformed("%s: %s", vpath, err)
		}
		if cv.pat.kind == patTemplate {
			for _, s := range cv.pat.segs {
				if s.kind == segVar {
					c.varRefs = append(c.varRefs, s.key)
				}
			}
		}
	}
	return nil
}

// checkKey accepts condition keys of the form "prefix:name", "prefix:name/tag" or
// "prefix:name:key" (a key within the name, as in kms:EncryptionContext:SecretARN, which
// AWS managed policies use). The prefix is a service prefix or, for web identity keys, a
// provider host name ("token.actions.githubusercontent.com:sub",
// "oidc.eks.us-east-1.amazonaws.com/id/X:sub").
func checkKey(k string) error {
	if len(k) > 256 {
		return fmt.Errorf("condition key longer than 256 characters")
	}
	prefix, rest, ok := strings.Cut(k, ":")
	if !ok || prefix == "" || rest == "" {
		return fmt.Errorf("condition key must be \"service:name\", got %s", quote(k))
	}
	for i := 0; i < len(prefix); i++ {
		if c := prefix[i]; !(isAlnumByte(c) || c == '-' || c == '.' || c == '_' || c == '/') {
			return fmt.Errorf("condition key prefix must be [A-Za-z0-9._/-], got %s", quote(k))
		}
	}
	name, tag, hasTag := strings.Cut(rest, "/")
	name, sub, hasSub := strings.Cut(name, ":")
	if name == "" {
		return fmt.Errorf("condition key has an empty name, got %s", quote(k))
	}
	if hasSub {
		if hasTag || sub == "" || len(sub) > 128 {
			return fmt.Errorf("condition key has a malformed key after its name, got %s", quote(k))
		}
		tag, hasTag = sub, true // the same characters as a tag key
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(isAlnumByte(c) || c == '-' || c == '.' || c == '_') {
			return fmt.Errorf("condition key name must be [A-Za-z0-9._-], got %s", quote(k))
		}
	}
	if hasTag {
		if tag == "" || len(tag) > 128 {
			return fmt.Errorf("condition key tag must be 1 to 128 characters, got %s", quote(k))
		}
		// The characters IAM allows in tag keys: letters, digits, spaces and _ . : / = + - @
		for i := 0; i < len(tag); i++ {
			if c := tag[i]; !(isAlnumByte(c) || strings.IndexByte(" _.:/=+-@", c) >= 0) {
				return fmt.Errorf("condition key tag must be letters, digits, spaces and _.:/=+-@, got %s", quote(k))
			}
		}
	}
	return nil
}

func isAlnumByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// keyRef is a condition key as written, and its lower-case form for lookups.
type keyRef struct {
	name, lower string
}

func newKeyRef(name string) keyRef {
	return keyRef{name: name, lower: strings.ToLower(name)}
}

func parseBool(s string) (bool, error) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return false, fmt.Errorf("want \"true\" or \"false\", got %s", quote(s))
}

func parseNumber(s string) (float64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a number, got %s", quote(s))
	}
	return f, nil
}

// dateLayouts are the ISO 8601 forms accepted besides epoch seconds, most common first.
var dateLayouts = [...]string{
	time.RFC3339Nano, // also accepts no fraction: 2026-11-25T10:00:00Z
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"20060102T150405Z0700",
	"20060102T150405",
	"2006-01-02",
}

// parseDate reads a date as IAM's Date operators do: ISO 8601 (a time without a zone is
// UTC) or POSIX epoch seconds.
func parseDate(s string) (time.Time, error) {
	if t, ok := dateOf(s); ok {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("want an ISO 8601 date or epoch seconds, got %s", quote(s))
}

func isEpoch(s string) bool {
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("want an IP address or CIDR block, got %s", quote(s))
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
			if p.Bits() < 0 {
				return netip.Prefix{}, fmt.Errorf("want an IP address or CIDR block, got %s", quote(s))
			}
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("want an IP address or CIDR block, got %s", quote(s))
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}
