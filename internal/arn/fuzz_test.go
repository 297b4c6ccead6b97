package arn

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics and that Parse → String → Parse is stable.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::111122223333:user/alice",
		"arn:aws:sts::111122223333:assumed-role/R/sess",
		"arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf",
		"arn:aws:s3:::bucket/key",
		"arn:aws:iam::aws:policy/AdministratorAccess",
		"arn:aws:iam::111122223333",
		"arn::::::",
		"arn:aws:s3:::bücket",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		if !utf8.ValidString(a.Resource) {
			t.Fatalf("Parse(%q) returned invalid UTF-8", s)
		}
		out := a.String()
		if out != s {
			t.Fatalf("String() = %q, want the input %q", out, s)
		}
		b, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(String()) error: %v", err)
		}
		if a != b {
			t.Fatalf("Parse(String()) = %+v, want %+v", b, a)
		}
		if !MatchARN(out, out) || !Match(out, out, false) {
			t.Fatalf("an ARN must match itself: %q", out)
		}
	})
}

// matchRef is a plain dynamic-programming glob matcher over runes, the reference for
// FuzzMatch.
func matchRef(pattern, value string, fold bool) bool {
	p, s := []rune(pattern), []rune(value)
	// m[j] reports whether p[:i] matches s[:j], for the current i.
	m := make([]bool, len(s)+1)
	m[0] = true
	for i := 1; i <= len(p); i++ {
		next := make([]bool, len(s)+1)
		c := p[i-1]
		if c == '*' {
			next[0] = m[0]
		}
		for j := 1; j <= len(s); j++ {
			switch {
			case c == '*':
				next[j] = m[j] || next[j-1]
			case c == '?':
				next[j] = m[j-1]
			case c == s[j-1] || fold && c < 0x80 && s[j-1] < 0x80 && strings.EqualFold(string(c), string(s[j-1])):
				next[j] = m[j-1]
			}
		}
		m = next
	}
	return m[len(s)]
}

// FuzzMatch checks Match against matchRef.
func FuzzMatch(f *testing.F) {
	f.Add("secretsmanager:Get*", "secretsmanager:GetSecretValue", false)
	f.Add("*a*b?c*", "xxaxbyczz", false)
	f.Add("A*?é", "aXyÉ", true)
	f.Add("*ab*ab*", "abab", false)
	f.Add("a*a", "a", false)
	f.Add("??*", "é", false)
	f.Fuzz(func(t *testing.T, pattern, value string, fold bool) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(value) || len(pattern) > 64 || len(value) > 256 {
			return
		}
		got, want := Match(pattern, value, fold), matchRef(pattern, value, fold)
		if got != want {
			t.Fatalf("Match(%q, %q, %v) = %v, reference says %v", pattern, value, fold, got, want)
		}
	})
}
