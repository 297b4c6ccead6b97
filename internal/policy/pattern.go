package policy

import (
	"fmt"
	"strings"

	"github.com/shortfuse/shortfuse/internal/arn"
)

type patKind uint8

const (
	patAny      patKind = iota // "*" (with wildcards on)
	patExact                   // no wildcards: compare
	patGlob                    // '*' or '?': arn.Match
	patTemplate                // policy variables: expand at evaluation, then match
)

// pattern is a compiled Action, Resource or condition value.
type pattern struct {
	kind patKind
	text string    // patExact, patGlob (lower-cased when compiled to fold case)
	glob glob      // patGlob
	segs []segment // patTemplate
}

type segKind uint8

const (
	segText    segKind = iota // policy text: wildcards active (when the pattern has them)
	segLiteral                // ${*}, ${?}, ${$}: a literal character
	segVar                    // ${key} or ${key, 'default'}
)

type segment struct {
	kind       segKind
	text       string // segText, segLiteral; the default of a segVar
	key        keyRef // segVar
	hasDefault bool
}

// plainPattern compiles s with no policy variables. With globs, '*' and '?' are wildcards;
// without, s is compared as it is.
func plainPattern(s string, globs bool) pattern {
	switch {
	case !globs:
		return pattern{kind: patExact, text: s}
	case s == "*":
		return pattern{kind: patAny, text: s}
	case strings.ContainsAny(s, "*?"):
		return pattern{kind: patGlob, text: s, glob: compileGlob(s, false)}
	}
	return pattern{kind: patExact, text: s}
}

// actionPattern compiles an Action or NotAction value: globs, ASCII case folded.
func actionPattern(s string) pattern {
	s = lowerASCIIString(s)
	p := plainPattern(s, true)
	if p.kind == patGlob {
		p.glob = compileGlob(s, true)
	}
	return p
}

func lowerASCIIString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				b[j] = lowerASCII(b[j])
			}
			return string(b)
		}
	}
	return s
}

// glob is a compiled wildcard pattern: the segments between its '*'s, so that matching
// is a prefix test, a suffix test and a strings.Index per inner segment. Patterns with '?'
// keep the general matcher.
type glob struct {
	prefix, suffix string
	middle         []string
	slow           bool // has '?': arn.Match on raw
	fold           bool // ASCII case-insensitive; the segments are lower case
	raw            string
}

func compileGlob(p string, fold bool) glob {
	g := glob{raw: p, fold: fold}
	if strings.IndexByte(p, '?') >= 0 || strings.IndexByte(p, '*') < 0 {
		g.slow = true
		return g
	}
	first, last := strings.IndexByte(p, '*'), strings.LastIndexByte(p, '*')
	g.prefix, g.suffix = p[:first], p[last+1:]
	for _, m := range strings.Split(p[first+1:last+1], "*") {
		if m != "" {
			g.middle = append(g.middle, m)
		}
	}
	return g
}

func (g *glob) match(s string) bool { return g.matchFold(s, g.fold) }

// matchLower matches s, already in lower case, against a pattern compiled to fold case:
// the fast path compares bytes as they are.
func (g *glob) matchLower(s string) bool { return g.matchFold(s, false) }

func (g *glob) matchFold(s string, fold bool) bool {
	if g.slow {
		return arn.Match(g.raw, s, g.fold)
	}
	np, ns := len(g.prefix), len(g.suffix)
	if len(s) < np+ns || !eqFold(s[:np], g.prefix, fold) || !eqFold(s[len(s)-ns:], g.suffix, fold) {
		return false
	}
	s = s[np : len(s)-ns]
	for _, m := range g.middle {
		i := indexFold(s, m, fold)
		if i < 0 {
			return false
		}
		s = s[i+len(m):]
	}
	return true
}

// eqFold compares s with lower, of the same length; with fold, ASCII letters of s compare
// in lower case. It compares from the end: action patterns share their service prefix, so
// a mismatch shows sooner there.
func eqFold(s, lower string, fold bool) bool {
	if !fold {
		return s == lower
	}
	for i := len(lower) - 1; i >= 0; i-- {
		if lowerASCII(s[i]) != lower[i] {
			return false
		}
	}
	return true
}

func indexFold(s, m string, fold bool) int {
	if !fold {
		return strings.Index(s, m)
	}
	for i := 0; i+len(m) <= len(s); i++ {
		if eqFold(s[i:i+len(m)], m, true) {
			return i
		}
	}
	return -1
}

// compilePattern compiles s, reading policy variables when vars is set
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html):
//
//	${aws:username}              the value of a request context key
//	${aws:PrincipalTag/team, 'x'} the same, with a default when the key is absent
//	${*} ${?} ${$}               a literal '*', '?' and '$'
func compilePattern(s string, vars, globs bool) (pattern, error) {
	if !vars || !strings.Contains(s, "${") {
		return plainPattern(s, globs), nil
	}
	var segs []segment
	rest := s
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			if rest != "" {
				segs = append(segs, segment{kind: segText, text: rest})
			}
			break
		}
		if i > 0 {
			segs = append(segs, segment{kind: segText, text: rest[:i]})
		}
		seg, n, err := parseVariable(rest[i+2:])
		if err != nil {
			return pattern{}, err
		}
		segs = append(segs, seg)
		rest = rest[i+2+n:]
	}
	if !globs {
		// Wildcards are plain characters here; mark the text literal so that expansion
		// need not care.
		for i := range segs {
			if segs[i].kind == segText {
				segs[i].kind = segLiteral
			}
		}
	}
	return pattern{kind: patTemplate, text: s, segs: segs}, nil
}

// parseVariable reads the inside of "${...}" from s (just after "${") and returns the
// segment and the number of bytes read, including the closing '}'.
func parseVariable(s string) (segment, int, error) {
	end := strings.IndexAny(s, ",}")
	if end < 0 {
		return segment{}, 0, fmt.Errorf("unterminated policy variable in %s", quote("${"+s))
	}
	name := strings.TrimSpace(s[:end])
	seg := segment{kind: segVar}
	n := end + 1
	if s[end] == ',' {
		rest := strings.TrimLeft(s[end+1:], " ")
		if !strings.HasPrefix(rest, "'") {
			return segment{}, 0, fmt.Errorf("policy variable default must be quoted with ', in %s", quote("${"+s))
		}
		q := strings.IndexByte(rest[1:], '\'')
		if q < 0 {
			return segment{}, 0, fmt.Errorf("unterminated default in policy variable %s", quote("${"+s))
		}
		seg.text, seg.hasDefault = rest[1:1+q], true
		after := rest[1+q+1:]
		trimmed := strings.TrimLeft(after, " ")
		if !strings.HasPrefix(trimmed, "}") {
			return segment{}, 0, fmt.Errorf("unterminated policy variable in %s", quote("${"+s))
		}
		n = len(s) - len(trimmed) + 1
	}
	switch name {
	case "*", "?", "$":
		if seg.hasDefault {
			return segment{}, 0, fmt.Errorf("${%s} takes no default", name)
		}
		return segment{kind: segLiteral, text: name}, n, nil
	}
	if err := checkKey(name); err != nil {
		return segment{}, 0, fmt.Errorf("policy variable: %w", err)
	}
	seg.key = newKeyRef(name)
	return seg, n, nil
}
