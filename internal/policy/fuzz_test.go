package policy

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/arn"
)

// FuzzParse checks that Parse never panics, that Parse → Marshal → Parse is stable, and
// that the re-parsed policy decides as the original does.
func FuzzParse(f *testing.F) {
	docs, kinds := vectorDocs(f)
	for i := range docs {
		f.Add(docs[i], uint8(kinds[i]))
	}
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Conditions":{}}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username, 'x'}"}]} `,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForAnyValue:StringNotLikeIfExists":{"aws:TagKeys":[1,true,"a*"]}}}]}`,
	} {
		f.Add([]byte(s), uint8(KindIdentity))
	}
	requests := []*Request{
		{Action: "secretsmanager:GetSecretValue", Resource: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf",
			Principal: alice, Context: ctx{"aws:username": {"alice"}, "aws:SecureTransport": {"true"}, "aws:SourceIp": {"10.0.0.1"}}},
		{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/ci-reader", Principal: session,
			Context: ctx{"aws:CurrentTime": {"2026-11-25T10:00:00Z"}, "aws:TagKeys": {"Project"}}},
	}
	f.Fuzz(func(t *testing.T, doc []byte, k uint8) {
		kind := Kind(k%3 + 1)
		p, err := Parse(doc, kind)
		if err != nil {
			if _, ok := err.(*MalformedError); !ok {
				t.Fatalf("Parse() error %T, want *MalformedError", err)
			}
			if !utf8.ValidString(err.Error()) {
				t.Fatalf("error message is not valid UTF-8: %q", err.Error())
			}
			return
		}
		m1 := p.Marshal()
		p2, err := Parse(m1, kind)
		if err != nil {
			t.Fatalf("Parse(Marshal()) error: %v\ninput: %s\nmarshal: %s", err, doc, m1)
		}
		if m2 := p2.Marshal(); !bytes.Equal(m1, m2) {
			t.Fatalf("Marshal not stable:\n%s\n%s", m1, m2)
		}
		for _, req := range requests {
			r1 := Evaluate(req, []Labeled{{Policy: p}})
			r2 := Evaluate(req, []Labeled{{Policy: p2}})
			if r1.Decision != r2.Decision || len(r1.Matched) != len(r2.Matched) {
				t.Fatalf("decisions differ after Marshal → Parse: %v vs %v\n%s", r1.Decision, r2.Decision, m1)
			}
		}
	})
}

// FuzzGlob checks the compiled glob and the literal-aware matcher against arn.Match.
func FuzzGlob(f *testing.F) {
	f.Add("arn:aws:secretsmanager:*:*:secret:/prod/*", "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db", false)
	f.Add("secretsmanager:get*value", "SecretsManager:GetSecretValue", true)
	f.Add("*a*b*", "xaxbx", false)
	f.Add("a*?*b", "ab", false)
	f.Fuzz(func(t *testing.T, p, s string, fold bool) {
		// Parse only admits valid UTF-8 patterns; values may be anything.
		if len(p) > 64 || len(s) > 256 || !utf8.ValidString(p) {
			return
		}
		want := arn.Match(p, s, fold)
		if fold {
			// Compiled action patterns are lower case; the request keeps its case.
			p = lowerASCIIString(p)
			if arn.Match(p, s, fold) != want {
				t.Fatalf("arn.Match is not ASCII-case-insensitive for %q", p)
			}
		}
		if g := compileGlob(p, fold); g.match(s) != want {
			t.Fatalf("glob(%q).match(%q, fold=%v) = %v, want %v", p, s, fold, !want, want)
		}
		lit := make([]bool, len(p))
		if got := arn.MatchLit(p, lit, s, fold); got != want {
			t.Fatalf("arn.MatchLit(%q, no literals, %q, fold=%v) = %v, want %v", p, s, fold, got, want)
		}
		// Marking every byte literal turns the pattern into a plain comparison.
		for i := range lit {
			lit[i] = true
		}
		exact := len(p) == len(s) && eqFold(s, p, fold) || !fold && p == s
		if fold {
			exact = len(p) == len(s) && eqFold(s, lowerASCIIString(p), true)
		}
		if got := arn.MatchLit(p, lit, s, fold); got != exact {
			t.Fatalf("arn.MatchLit(%q, all literal, %q, fold=%v) = %v, want %v", p, s, fold, got, exact)
		}
	})
}
