package arn

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string // "aws", "aws-cn", ...
	Service   string // "iam", "sts", "secretsmanager", ...
	Region    string // empty for global services
	Account   string // 12-digit account id, "aws" for AWS-managed resources, or empty
	Resource  string // may contain ':' and '/'
}

// maxLen bounds the length of an ARN. IAM allows 2048 characters for most ARNs
// (botocore shape arnType: max 2048); a little more leaves room for other services.
const maxLen = 4096

var (
	errPrefix   = errors.New(`arn: missing "arn:" prefix`)
	errParts    = errors.New("arn: want 6 colon-separated parts")
	errTooLong  = errors.New("arn: longer than 4096 bytes")
	errUTF8     = errors.New("arn: invalid UTF-8")
	errControl  = errors.New("arn: control character")
	errResource = errors.New("arn: empty resource")
)

// Parse parses s as "arn:partition:service:region:account:resource".
//
// Partition and service must be non-empty and, like region and account, use only
// [a-z0-9-]; the resource must be non-empty. Control characters and invalid UTF-8 are
// refused anywhere. Parse(a.String()) returns a again for every a that Parse returned.
func Parse(s string) (ARN, error) {
	if len(s) > maxLen {
		return ARN{}, errTooLong
	}
	if !utf8.ValidString(s) {
		return ARN{}, errUTF8
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return ARN{}, errControl
		}
	}
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ARN{}, errPrefix
	}
	var parts [4]string
	for i := range parts {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ARN{}, errParts
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	a := ARN{Partition: parts[0], Service: parts[1], Region: parts[2], Account: parts[3], Resource: rest}
	switch {
	case a.Partition == "" || !isLowerWord(a.Partition):
		return ARN{}, errors.New("arn: partition must be non-empty [a-z0-9-]")
	case a.Service == "" || !isLowerWord(a.Service):
		return ARN{}, errors.New("arn: service must be non-empty [a-z0-9-]")
	case !isLowerWord(a.Region):
		return ARN{}, errors.New("arn: region must be [a-z0-9-]")
	case !isLowerWord(a.Account):
		return ARN{}, errors.New("arn: account must be [a-z0-9-]")
	case a.Resource == "":
		return ARN{}, errResource
	}
	return a, nil
}

func isLowerWord(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// String formats a as "arn:partition:service:region:account:resource".
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Match reports whether value matches the IAM glob pattern: '*' matches any run of
// characters (including none), '?' matches exactly one character (a UTF-8 rune), and every
// other character matches itself. With caseInsensitive, ASCII letters match regardless of
// case; other characters must be equal. (IAM names are ASCII. Unicode case folding would
// make "K" (U+212A KELVIN SIGN) equal "k" and "ſ" (U+017F) equal "s", a surprise an
// attacker could use.)
//
// The pattern is read as fixed segments separated by '*': the first must be a prefix of
// value, the last a suffix, and the others must occur in order in between. Taking the
// leftmost occurrence of each is always right (a segment has a fixed number of runes, so an
// earlier start never ends later), so there is no backtracking: the time is
// O(len(pattern)·len(value)) at worst, and a strings.Index per segment in the common case.
//
// Both strings are expected to be valid UTF-8; otherwise the result is still defined (bytes
// that are not valid UTF-8 match themselves, and '?' matches one such byte) but an invalid
// pattern may match inside a multi-byte character of value.
func Match(pattern, value string, caseInsensitive bool) bool {
	return MatchLit(pattern, nil, value, caseInsensitive)
}

// MatchLit is [Match] where a byte of pattern whose lit entry is true is always a
// literal, even '*' or '?' (the text a policy variable expanded to). lit is nil when no
// byte is literal, and otherwise as long as pattern.
func MatchLit(pattern string, lit []bool, value string, caseInsensitive bool) bool {
	first := strings.IndexByte(pattern, '*')
	if lit != nil {
		first = nextLitStar(pattern, lit)
	}
	if first < 0 {
		n, ok := matchPrefix(pattern, lit, value, caseInsensitive)
		return ok && n == len(value)
	}
	n, ok := matchPrefix(pattern[:first], litTo(lit, first), value, caseInsensitive)
	if !ok {
		return false
	}
	value = value[n:]
	last := strings.LastIndexByte(pattern, '*')
	if lit != nil {
		last = lastLitStar(pattern, lit)
	}
	start, ok := matchSuffix(pattern[last+1:], litFrom(lit, last+1), value, caseInsensitive)
	if !ok {
		return false
	}
	value = value[:start]
	for i := first + 1; i < last; {
		j := i + strings.IndexByte(pattern[i:], '*')
		if lit != nil {
			j = i + nextLitStar(pattern[i:], lit[i:])
		}
		if j > i {
			end := index(pattern[i:j], litFrom(litTo(lit, j), i), value, caseInsensitive)
			if end < 0 {
				return false
			}
			value = value[end:]
		}
		i = j + 1
	}
	return true
}

// nextLitStar is the index of the first '*' of pattern that lit does not mark literal,
// or -1.
func nextLitStar(pattern string, lit []bool) int {
	for i := 0; i < len(pattern); i++ {
		if pattern[i] == '*' && !lit[i] {
			return i
		}
	}
	return -1
}

// lastLitStar is the index of the last '*' of pattern that lit does not mark literal,
// or -1.
func lastLitStar(pattern string, lit []bool) int {
	for i := len(pattern) - 1; i >= 0; i-- {
		if pattern[i] == '*' && !lit[i] {
			return i
		}
	}
	return -1
}

func litTo(lit []bool, i int) []bool {
	if lit == nil {
		return nil
	}
	return lit[:i]
}

func litFrom(lit []bool, i int) []bool {
	if lit == nil {
		return nil
	}
	return lit[i:]
}

// anyRune reports whether byte i of the segment seg is a '?' that is not literal.
func anyRune(seg string, lit []bool, i int) bool {
	return seg[i] == '?' && (lit == nil || !lit[i])
}

// plainLit reports whether the segment seg has no '?' that lit does not mark literal.
func plainLit(seg string, lit []bool) bool {
	for i := range len(seg) {
		if anyRune(seg, lit, i) {
			return false
		}
	}
	return true
}

// matchPrefix matches the star-free segment seg against the start of s and returns the
// number of bytes of s it covers.
func matchPrefix(seg string, lit []bool, s string, fold bool) (int, bool) {
	if !fold && (strings.IndexByte(seg, '?') < 0 || lit != nil && plainLit(seg, lit)) {
		return len(seg), strings.HasPrefix(s, seg)
	}
	si := 0
	for pi := 0; pi < len(seg); pi++ {
		if si >= len(s) {
			return 0, false
		}
		if anyRune(seg, lit, pi) {
			_, n := utf8.DecodeRuneInString(s[si:])
			si += n
			continue
		}
		if !eqByte(seg[pi], s[si], fold) {
			return 0, false
		}
		si++
	}
	return si, true
}

// matchSuffix matches the star-free segment seg against the end of s and returns where in
// s the match starts.
func matchSuffix(seg string, lit []bool, s string, fold bool) (int, bool) {
	si := len(s)
	for pi := len(seg) - 1; pi >= 0; pi-- {
		if si == 0 {
			return 0, false
		}
		if anyRune(seg, lit, pi) {
			_, n := utf8.DecodeLastRuneInString(s[:si])
			si -= n
			continue
		}
		if !eqByte(seg[pi], s[si-1], fold) {
			return 0, false
		}
		si--
	}
	return si, true
}

// index finds the leftmost match of the star-free segment seg in s and returns the end of
// that match, or -1. When seg is valid UTF-8 a match can only start at a rune boundary,
// so strings.Index finds the same match as the rune-by-rune search.
func index(seg string, lit []bool, s string, fold bool) int {
	if !fold && (strings.IndexByte(seg, '?') < 0 || lit != nil && plainLit(seg, lit)) {
		if i := strings.Index(s, seg); i >= 0 {
			return i + len(seg)
		}
		return -1
	}
	for k := 0; k <= len(s); {
		if n, ok := matchPrefix(seg, lit, s[k:], fold); ok {
			return k + n
		}
		if k == len(s) {
			break
		}
		_, w := utf8.DecodeRuneInString(s[k:])
		k += w
	}
	return -1
}

func eqByte(a, b byte, fold bool) bool {
	return a == b || fold && a|0x20 == b|0x20 && isASCIILetter(a)
}

func isASCIILetter(c byte) bool {
	c |= 0x20
	return c >= 'a' && c <= 'z'
}

// MatchARN reports whether value matches pattern with the semantics of the ArnLike and
// ArnEquals condition operators: both are split into six colon-separated parts (the
// resource part keeps any further colons) and each part of value must match the
// corresponding part of pattern as a case-sensitive glob ([Match]). A pattern or value
// with fewer than six parts matches nothing.
//
// See https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html#Conditions_ARN
func MatchARN(pattern, value string) bool {
	return MatchARNLit(pattern, nil, value)
}

// MatchARNLit is [MatchARN] with the literal bytes of pattern marked as [MatchLit] takes
// them.
func MatchARNLit(pattern string, lit []bool, value string) bool {
	for i := 0; i < 5; i++ {
		pj := strings.IndexByte(pattern, ':')
		vj := strings.IndexByte(value, ':')
		if pj < 0 || vj < 0 {
			return false
		}
		if !MatchLit(pattern[:pj], litTo(lit, pj), value[:vj], false) {
			return false
		}
		pattern, lit, value = pattern[pj+1:], litFrom(lit, pj+1), value[vj+1:]
	}
	return MatchLit(pattern, lit, value, false)
}
