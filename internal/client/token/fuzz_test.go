package token

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, never quotes a secret part in an error, and
// parse → encode → parse is stable.
func FuzzParse(f *testing.F) {
	for _, fm := range Formats {
		data, _ := Encode(fm, testCred)
		f.Add(data)
	}
	f.Add([]byte("a:b:c"))
	f.Add([]byte(`{"Version":1,"AccessKeyId":"AKIAEXAMPLE7Q4ZKXYZW","SecretAccessKey":"x","SessionToken":"y"}`))
	f.Add([]byte(`{"Credentials":{"AccessKeyId":"AKIAEXAMPLE7Q4ZKXYZW","SecretAccessKey":"x","SessionToken":"y"},"PackedPolicySize":1}`))
	f.Add([]byte("export AWS_ACCESS_KEY_ID='AKIAEXAMPLE7Q4ZKXYZW'\nAWS_SECRET_ACCESS_KEY=\"x\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, fm, err := Parse(data)
		if err != nil {
			if strings.Contains(err.Error(), "SECRETMARK") {
				t.Fatalf("error quotes the input: %v", err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse() returned invalid credentials: %v", err)
		}
		if fm == FormatJenkins && c.SessionToken == "" {
			t.Fatal("jenkins format without a session token")
		}
		enc, err := Encode(fm, c)
		if err != nil {
			t.Fatalf("Encode(Parse()) = %v", err)
		}
		c2, fm2, err := Parse(enc)
		if err != nil || fm2 != fm || c2.AccessKeyID != c.AccessKeyID || c2.SecretAccessKey != c.SecretAccessKey || c2.SessionToken != c.SessionToken || !c2.Expiration.Equal(c.Expiration) {
			t.Fatalf("not stable: %v %v %v", err, fm, fm2)
		}
		enc2, _ := Encode(fm2, c2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding not stable:\n%s\n%s", enc, enc2)
		}
	})
}
