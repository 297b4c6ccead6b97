package audit_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/shortfuse/shortfuse/internal/audit"
)

var key1 = bytes.Repeat([]byte{1}, 32)
var key2 = bytes.Repeat([]byte{2}, 32)

func TestRedactorHash(t *testing.T) {
	r1, r2 := audit.NewRedactor(key1), audit.NewRedactor(key2)
	a, b := r1.Hash([]byte("hunter2")), r1.Hash([]byte("hunter2"))
	if a != b {
		t.Errorf("Hash() differs for equal values: %s %s", a, b)
	}
	if !regexp.MustCompile(`^hmac-sha256:[0-9a-f]{64}$`).MatchString(a) {
		t.Errorf("Hash() = %q, want hmac-sha256:<64 hex>", a)
	}
	tests := []struct {
		name string
		got  string
	}{
		{"fail/other-value", r1.Hash([]byte("hunter3"))},
		{"fail/other-key", r2.Hash([]byte("hunter2"))},
		{"fail/empty", r1.Hash(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got == a {
				t.Errorf("Hash() = %s, same as for hunter2 under key 1", tt.got)
			}
		})
	}
	t.Run("fail/short-key", func(t *testing.T) {
		defer func() {
			if recover() == nil {
				t.Error("NewRedactor(15 bytes) did not panic")
			}
		}()
		audit.NewRedactor(make([]byte, 15))
	})
}

// TestScrubKeepsSecretsOut writes records holding every kind of secret through Scrub and
// greps the log for each secret.
func TestScrubKeepsSecretsOut(t *testing.T) {
	red := audit.NewRedactor(key1)
	secrets := []string{
		"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  // secret access key
		"FwoGZXIvYXdzEJr//////////wEaDEXAMPLETOKEN", // session token
		"123456",                    // MFA code
		"correct horse battery",     // password
		"db-password-value",         // secret string
		"\x00\x01binary-secret\x02", // secret binary
		"JBSWY3DPEHPK3PXP",          // MFA seed
	}
	type creds struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string
		SessionToken    string
	}
	params := []map[string]any{
		{"SecretAccessKey": secrets[0], "AccessKeyId": "AKIAEXAMPLE"},
		{"credentials": map[string]any{"accessKeyId": "ASIA1", "sessionToken": secrets[1], "secretAccessKey": secrets[0]}},
		{"serialNumber": "arn:aws:iam::111122223333:mfa/alice", "tokenCode": secrets[2]},
		{"userName": "alice", "password": secrets[3], "newPassword": secrets[3]},
		{"secretId": "/prod/db", "secretString": secrets[4], "secretBinary": []byte(secrets[5])},
		{"virtualMFADevice": map[string]string{"Base32StringSeed": secrets[6], "SerialNumber": "x"}},
		{"Credentials": creds{"ASIA2", secrets[0], secrets[1]}},
		{"SecretValues": []map[string]any{{"Name": "a", "SecretString": secrets[4]}}},
		{"list": []any{map[string]any{"AuthenticationCode1": secrets[2], "AuthenticationCode2": secrets[2]}}},
	}
	path := filepath.Join(t.TempDir(), "audit.log")
	w := mustOpen(t, path, testOptions())
	for i, p := range params {
		r := newRecord(i)
		before := fmt.Sprint(p)
		r.RequestParameters = red.Scrub(p)
		r.ResponseElements = red.Scrub(p)
		if fmt.Sprint(p) != before {
			t.Errorf("Scrub modified its input %s", before)
		}
		if err := w.Append(context.Background(), r); err != nil {
			t.Fatal(err)
		}
	}
	log, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(log, []byte(s)) {
			t.Errorf("secret %q found in the audit log", s)
		}
	}
	if want := red.Hash([]byte(secrets[4])); !bytes.Contains(log, []byte(want)) {
		t.Errorf("the HMAC of the secret string is not in the log, so records cannot be compared")
	}
	for _, keep := range []string{"AKIAEXAMPLE", "/prod/db", "arn:aws:iam::111122223333:mfa/alice", "ASIA2"} {
		if !bytes.Contains(log, []byte(keep)) {
			t.Errorf("%q was scrubbed, but it is not secret", keep)
		}
	}
	if audit.Sensitive("secretid") || !audit.Sensitive("SECRETSTRING") {
		t.Error("Sensitive() is wrong about secretid or SECRETSTRING")
	}
	if red.Scrub(nil) != nil {
		t.Error("Scrub(nil) != nil")
	}
}
