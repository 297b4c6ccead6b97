package iam

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/internal/fault"
	"github.com/shortfuse/shortfuse/internal/store"
)

// FuzzNames checks the validators that stand between client text and store
// keys: whatever they accept is printable ASCII within the model's lengths
// and makes a valid store key.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"alice", "a_Z9+=,.@-", "ıdmin", "a/b", "", "/ci/", "/", "//", "/a b/", "aws:x", strings.Repeat("u", 65), "\x00", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if checkName(s, "userName", maxExistingUserName) == nil {
			if len(s) == 0 || len(s) > maxExistingUserName {
				t.Fatalf("accepted name of length %d", len(s))
			}
			for i := 0; i < len(s); i++ {
				if s[i] <= 0x20 || s[i] >= 0x7f || s[i] == '/' || s[i] == ':' {
					t.Fatalf("accepted name %q with byte %#x", s, s[i])
				}
			}
			if err := store.ValidateKey(nameKey(s)); err != nil {
				t.Fatalf("name %q makes an invalid key: %v", s, err)
			}
			if err := store.ValidateKey(policyKey("123456789012", s)); err != nil {
				t.Fatalf("name %q makes an invalid policy key: %v", s, err)
			}
		}
		if p, err := checkPath(s, "path"); err == nil {
			if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || strings.ContainsAny(p, " \x00\x7f") || !utf8.ValidString(p) {
				t.Fatalf("accepted path %q", p)
			}
		}
		if checkTags([]Tag{{Key: s, Value: s}}) == nil && strings.HasPrefix(strings.ToLower(s), "aws:") {
			t.Fatalf("accepted reserved tag key %q", s)
		}
		_ = CheckPathPrefix(s)
		_ = checkSerial(s)
		_ = checkAccessKeyID(s)
		_ = checkVersionID(s)
		_ = fault.Printable(s, 128)
	})
}

// FuzzPolicyARN checks that any policy ARN a client sends either is refused
// or names a valid store key.
func FuzzPolicyARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:iam::123456789012:policy/p", "arn:aws:iam::aws:policy/AdministratorAccess",
		"arn:aws:iam::123456789012:policy/a/b/", "arn:aws:iam::123456789012:policy/", "arn:aws:s3:::x", "policy/x",
	} {
		f.Add(s)
	}
	s := &Service{account: "123456789012"}
	f.Fuzz(func(t *testing.T, a string) {
		key, err := s.parsePolicyARN(a)
		if err != nil {
			return
		}
		if err := store.ValidateKey(key); err != nil {
			t.Fatalf("ARN %q makes an invalid key: %v", a, err)
		}
		if !strings.HasPrefix(key, "local/") && !strings.HasPrefix(key, "aws/") {
			t.Fatalf("ARN %q makes key %q", a, key)
		}
	})
}
