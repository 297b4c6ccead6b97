package arn

import (
	"strings"
	"testing"
)

func TestParseSplitsARNsAndRefusesMalformedOnes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want ARN
		err  bool
	}{
		{name: "ok/iam-user", in: "arn:aws:iam::111122223333:user/alice",
			want: ARN{"aws", "iam", "", "111122223333", "user/alice"}},
		{name: "ok/assumed-role", in: "arn:aws:sts::111122223333:assumed-role/R/sess",
			want: ARN{"aws", "sts", "", "111122223333", "assumed-role/R/sess"}},
		{name: "ok/secret-with-colons-in-resource", in: "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf",
			want: ARN{"aws", "secretsmanager", "us-east-1", "111122223333", "secret:/prod/db-AbCdEf"}},
		{name: "ok/s3-no-region-no-account", in: "arn:aws:s3:::bucket/key",
			want: ARN{"aws", "s3", "", "", "bucket/key"}},
		{name: "ok/aws-managed-policy", in: "arn:aws:iam::aws:policy/AdministratorAccess",
			want: ARN{"aws", "iam", "", "aws", "policy/AdministratorAccess"}},
		{name: "ok/other-partition", in: "arn:aws-cn:iam::111122223333:root",
			want: ARN{"aws-cn", "iam", "", "111122223333", "root"}},
		{name: "ok/unicode-resource", in: "arn:aws:s3:::bücket",
			want: ARN{"aws", "s3", "", "", "bücket"}},

		{name: "fail/empty", in: "", err: true},
		{name: "fail/no-prefix", in: "aws:iam::111122223333:user/alice", err: true},
		{name: "fail/uppercase-prefix", in: "ARN:aws:iam::111122223333:user/alice", err: true},
		{name: "fail/five-parts", in: "arn:aws:iam::111122223333", err: true},
		{name: "fail/empty-resource", in: "arn:aws:iam::111122223333:", err: true},
		{name: "fail/empty-partition", in: "arn::iam::111122223333:root", err: true},
		{name: "fail/empty-service", in: "arn:aws:::111122223333:root", err: true},
		{name: "fail/uppercase-service", in: "arn:aws:IAM::111122223333:root", err: true},
		{name: "fail/space-in-account", in: "arn:aws:iam:: 111122223333:root", err: true},
		{name: "fail/wildcard-in-account", in: "arn:aws:iam::*:root", err: true},
		{name: "fail/control-char", in: "arn:aws:iam::111122223333:user/a\nb", err: true},
		{name: "fail/nul", in: "arn:aws:iam::111122223333:user/a\x00", err: true},
		{name: "fail/invalid-utf8", in: "arn:aws:iam::111122223333:user/\xff", err: true},
		{name: "fail/too-long", in: "arn:aws:s3:::" + strings.Repeat("a", 4096), err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("Parse(%q) = %+v, want error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String() = %q, want %q", s, tt.in)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		value   string
		fold    bool
		want    bool
	}{
		{"ok/exact", "s3:GetObject", "s3:GetObject", false, true},
		{"ok/star-all", "*", "anything:at/all", false, true},
		{"ok/star-empty-value", "*", "", false, true},
		{"ok/star-matches-empty-run", "a*b", "ab", false, true},
		{"ok/star-suffix", "secretsmanager:Get*", "secretsmanager:GetSecretValue", false, true},
		{"ok/star-middle", "arn:aws:s3:::b/*/x", "arn:aws:s3:::b/a/b/c/x", false, true},
		{"ok/star-spans-colons", "arn:aws:*", "arn:aws:iam::1:user/a", false, true},
		{"ok/question", "user/?ob", "user/bob", false, true},
		{"ok/question-unicode-rune", "a?c", "aéc", false, true},
		{"ok/multiple-stars", "*a*b*c*", "xxaxxbxxcxx", false, true},
		{"ok/backtrack", "*ab", "aaab", false, true},
		{"ok/fold", "SECRETSMANAGER:get*", "secretsmanager:GetSecretValue", true, true},
		{"ok/fold-ascii-with-unicode-around", "é*ABC", "éxabc", true, true},
		{"fail/fold-is-ascii-only", "ÄB", "äb", true, false},
		{"fail/fold-no-kelvin-sign", "k", "\u212a", true, false},
		{"fail/fold-no-long-s", "secretsmanager:*", "\u017fecretsmanager:GetSecretValue", true, false},
		{"ok/empty-empty", "", "", false, true},
		{"ok/trailing-stars", "a**", "a", false, true},

		{"fail/case-sensitive", "s3:getobject", "s3:GetObject", false, false},
		{"fail/question-needs-one", "a?", "a", false, false},
		{"fail/question-one-not-two", "a?", "abc", false, false},
		{"fail/question-one-rune-not-two", "??", "é", false, false},
		{"fail/prefix-only", "abc", "abcd", false, false},
		{"fail/longer-pattern", "abcd", "abc", false, false},
		{"fail/empty-pattern", "", "a", false, false},
		{"fail/star-then-literal", "*x", "abc", false, false},
		{"fail/fold-non-letter", "a[", "A{", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Match(tt.pattern, tt.value, tt.fold); got != tt.want {
				t.Errorf("Match(%q, %q, %v) = %v, want %v", tt.pattern, tt.value, tt.fold, got, tt.want)
			}
		})
	}
}

// TestMatchNoExponentialBacktracking would hang for hours with a naive recursive matcher.
func TestMatchNoExponentialBacktracking(t *testing.T) {
	pattern := strings.Repeat("a*", 50) + "b"
	value := strings.Repeat("a", 5000)
	if Match(pattern, value, false) {
		t.Fatal("Match() = true, want false")
	}
	if !Match(pattern, value+"b", true) {
		t.Fatal("Match() = false, want true")
	}
}

func TestMatchARN(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		value   string
		want    bool
	}{
		{"ok/exact", "arn:aws:iam::111122223333:role/R", "arn:aws:iam::111122223333:role/R", true},
		{"ok/wildcard-account", "arn:aws:iam::*:role/R", "arn:aws:iam::111122223333:role/R", true},
		{"ok/wildcard-resource", "arn:aws:iam::111122223333:role/*", "arn:aws:iam::111122223333:role/a/b", true},
		{"ok/resource-keeps-colons", "arn:aws:secretsmanager:*:*:secret:/prod/*", "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db", true},
		{"ok/all-star-parts", "arn:*:*:*:*:*", "arn:aws:s3:::b", true},
		{"ok/question", "arn:aws:iam::11112222333?:root", "arn:aws:iam::111122223333:root", true},

		{"fail/star-cannot-cross-colon", "arn:aws:iam::*", "arn:aws:iam::111122223333:root", false},
		{"fail/region-star-not-account", "arn:aws:sts:*:role/R", "arn:aws:sts::111122223333:role/R", false},
		{"fail/case-sensitive", "arn:aws:iam::111122223333:role/r", "arn:aws:iam::111122223333:role/R", false},
		{"fail/bare-star", "*", "arn:aws:iam::111122223333:root", false},
		{"fail/value-not-arn", "arn:aws:iam::*:*", "111122223333", false},
		{"fail/wrong-account", "arn:aws:iam::111122223333:*", "arn:aws:iam::444455556666:root", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MatchARN(tt.pattern, tt.value); got != tt.want {
				t.Errorf("MatchARN(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
			}
		})
	}
}

func TestMatchAllocs(t *testing.T) {
	allocs := testing.AllocsPerRun(100, func() {
		Match("secretsmanager:*Secret*", "secretsmanager:GetSecretValue", true)
		MatchARN("arn:aws:iam::*:role/*", "arn:aws:iam::111122223333:role/R")
	})
	if allocs != 0 {
		t.Errorf("allocs = %v, want 0", allocs)
	}
}

func BenchmarkMatch(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Match("arn:aws:secretsmanager:*:*:secret:/prod/*", "arn:aws:secretsmanager:us-east-1:111122223333:secret:/prod/db-AbCdEf", false)
	}
}
