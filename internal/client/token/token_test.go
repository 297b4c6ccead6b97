package token

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	testExp  = time.Date(2026, 11, 25, 10, 15, 0, 0, time.UTC)
	testCred = Credentials{
		AccessKeyID:     "ASIAEXAMPLE7Q4ZKXYZW",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		SessionToken:    "sfs1.AbCdEf-_0123456789aBcDeFgHiJkLmNoPqRsTuVwXyZ",
		Expiration:      testExp,
	}
)

func TestRoundTrip(t *testing.T) {
	for _, f := range Formats {
		for _, tc := range []struct {
			name string
			cred Credentials
		}{
			{"ok/with-expiry", testCred},
			{"ok/without-expiry", Credentials{AccessKeyID: testCred.AccessKeyID, SecretAccessKey: testCred.SecretAccessKey, SessionToken: "FwoGZXIvYXdzEJr//////////wEaDK+a/b=="}},
		} {
			t.Run(string(f)+"/"+tc.name, func(t *testing.T) {
				data, err := Encode(f, tc.cred)
				if err != nil {
					t.Fatalf("Encode() = %v", err)
				}
				want := tc.cred
				if f == FormatJenkins {
					want.Expiration = time.Time{}
				}
				got, err := Decode(f, data)
				if err != nil {
					t.Fatalf("Decode(Encode()) = %v\n%s", err, data)
				}
				if got != want {
					t.Errorf("Decode(Encode()) = %#v, want %#v", got, want)
				}
				got2, gf, err := Parse(data)
				if err != nil || gf != f || got2 != want {
					t.Errorf("Parse() = %v, %q, %v; want format %q", got2, gf, err, f)
				}
				again, err := Encode(f, got)
				if err != nil || !bytes.Equal(again, data) {
					t.Errorf("Encode(Decode()) not stable:\n%s\n%s", data, again)
				}
			})
		}
	}
}

func TestEncodeShapes(t *testing.T) {
	tests := []struct {
		name string
		f    Format
		want string
	}{
		{"ok/jenkins", FormatJenkins, testCred.SessionToken + ":" + testCred.AccessKeyID + ":" + testCred.SecretAccessKey + "\n"},
		{"ok/env", FormatEnv, "export AWS_ACCESS_KEY_ID='ASIAEXAMPLE7Q4ZKXYZW'\nexport AWS_SECRET_ACCESS_KEY='wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'\nexport AWS_SESSION_TOKEN='" + testCred.SessionToken + "'\nexport AWS_CREDENTIAL_EXPIRATION='2026-11-25T10:15:00Z'\n"},
		{"ok/json", FormatJSON, `{
  "Version": 1,
  "AccessKeyId": "ASIAEXAMPLE7Q4ZKXYZW",
  "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  "SessionToken": "` + testCred.SessionToken + `",
  "Expiration": "2026-11-25T10:15:00Z"
}
`},
		{"ok/aws", FormatAWS, `{
  "Credentials": {
    "AccessKeyId": "ASIAEXAMPLE7Q4ZKXYZW",
    "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "SessionToken": "` + testCred.SessionToken + `",
    "Expiration": "2026-11-25T10:15:00+00:00"
  }
}
`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Encode(tc.f, testCred)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("Encode() =\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestDecode(t *testing.T) {
	tok, akid, sk := testCred.SessionToken, testCred.AccessKeyID, testCred.SecretAccessKey
	tests := []struct {
		name   string
		f      Format
		in     string
		reason string // substring of the error; "" means success
	}{
		{"ok/jenkins-trailing-newline", FormatJenkins, tok + ":" + akid + ":" + sk + "\r\n", ""},
		{"ok/jenkins-real-aws-token", FormatJenkins, "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJH+/abc==:" + akid + ":" + sk, ""},
		{"ok/env-bare-values", FormatEnv, "AWS_ACCESS_KEY_ID=" + akid + "\nAWS_SECRET_ACCESS_KEY=" + sk + "\nAWS_SESSION_TOKEN=" + tok + "\n", ""},
		{"ok/env-double-quotes-comments", FormatEnv, "# from shortfuse\nexport AWS_ACCESS_KEY_ID=\"" + akid + "\"\n\nexport AWS_SECRET_ACCESS_KEY=\"" + sk + "\"\n", ""},
		{"ok/aws-assume-role", FormatAWS, `{"Credentials":{"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `","SessionToken":"` + tok + `","Expiration":"2026-11-25T10:15:00Z"},"AssumedRoleUser":{"AssumedRoleId":"AROA:x","Arn":"arn:aws:sts::1:assumed-role/r/x"},"PackedPolicySize":3}`, ""},
		{"ok/json-long-term", FormatJSON, `{"Version":1,"AccessKeyId":"AKIAEXAMPLE7Q4ZKXYZW","SecretAccessKey":"` + sk + `"}`, ""},

		{"fail/jenkins-two-parts", FormatJenkins, akid + ":" + sk, "has 2 parts"},
		{"fail/jenkins-four-parts", FormatJenkins, tok + ":" + akid + ":" + sk + ":x", "has 4 parts"},
		{"fail/jenkins-empty-part", FormatJenkins, tok + "::" + sk, "access key id (part 2) is empty"},
		{"fail/jenkins-space", FormatJenkins, tok + ": " + akid + ":" + sk, "white space"},
		{"fail/jenkins-lowercase-akid", FormatJenkins, tok + ":asiaexample7q4zkxyzw:" + sk, "access key id is malformed"},
		{"fail/jenkins-swapped", FormatJenkins, akid + ":" + tok + ":" + sk, "access key id is malformed"},
		{"fail/jenkins-control-char", FormatJenkins, tok + "\x01:" + akid + ":" + sk, "session token is malformed"},
		{"fail/jenkins-not-utf8", FormatJenkins, tok + "\xff:" + akid + ":" + sk, "not valid UTF-8"},
		{"fail/env-unknown-var", FormatEnv, "AWS_ACCESS_KEY_ID=" + akid + "\nAWS_REGION=x\n", "unexpected variable AWS_REGION"},
		{"fail/env-twice", FormatEnv, "AWS_ACCESS_KEY_ID=" + akid + "\nAWS_ACCESS_KEY_ID=" + akid + "\n", "set twice"},
		{"fail/env-expansion", FormatEnv, "AWS_ACCESS_KEY_ID=\"$X\"\n", "expand"},
		{"fail/env-bad-expiry", FormatEnv, "AWS_ACCESS_KEY_ID=" + akid + "\nAWS_SECRET_ACCESS_KEY=" + sk + "\nAWS_CREDENTIAL_EXPIRATION=tomorrow\n", "RFC 3339"},
		{"fail/env-no-equals", FormatEnv, "AWS_ACCESS_KEY_ID " + akid + "\n", "not NAME=VALUE"},
		{"fail/json-version-2", FormatJSON, `{"Version":2,"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `"}`, "Version must be 1"},
		{"fail/json-version-string", FormatJSON, `{"Version":"1","AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `"}`, "want a number"},
		{"fail/json-duplicate", FormatJSON, `{"Version":1,"AccessKeyId":"` + akid + `","AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `"}`, "appears twice"},
		{"fail/json-wrong-case", FormatJSON, `{"Version":1,"accessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `"}`, "unexpected member"},
		{"fail/json-unknown", FormatJSON, `{"Version":1,"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `","Extra":1}`, "unexpected member"},
		{"fail/json-trailing", FormatJSON, `{"Version":1,"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `"} {}`, "data after"},
		{"fail/json-truncated", FormatJSON, `{"Version":1,"AccessKeyId":"` + akid, "truncated"},
		{"fail/json-no-secret", FormatJSON, `{"Version":1,"AccessKeyId":"` + akid + `"}`, "secret access key is missing"},
		{"fail/aws-no-token", FormatAWS, `{"Credentials":{"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `"}}`, "SessionToken is missing"},
		{"fail/aws-no-credentials", FormatAWS, `{"AssumedRoleUser":{}}`, "no Credentials"},
		{"fail/aws-bad-expiration", FormatAWS, `{"Credentials":{"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `","SessionToken":"` + tok + `","Expiration":"soon"}}`, "RFC 3339"},
		{"fail/aws-nested-unknown", FormatAWS, `{"Credentials":{"AccessKeyId":"` + akid + `","SecretAccessKey":"` + sk + `","SessionToken":"` + tok + `","X":""}}`, "unexpected member"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Decode(tc.f, []byte(tc.in))
			if tc.reason == "" {
				if err != nil {
					t.Fatalf("Decode() = %v", err)
				}
				if err := got.Validate(); err != nil {
					t.Errorf("decoded credentials invalid: %v", err)
				}
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Decode() = %v, want a *ParseError containing %q", err, tc.reason)
			}
			if !strings.Contains(err.Error(), tc.reason) {
				t.Errorf("Decode() = %q, want it to contain %q", err, tc.reason)
			}
			for _, secret := range []string{sk, tok} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains a secret part", err)
				}
			}
		})
	}
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Format
	}{
		{"ok/jenkins", "a:b:c", FormatJenkins},
		{"ok/env", "export AWS_ACCESS_KEY_ID=x", FormatEnv},
		{"ok/json", `{"Version":1}`, FormatJSON},
		{"ok/aws", ` {"Credentials":{}}`, FormatAWS},
		{"fail/empty", " \n", ""},
		{"fail/json-other", `{"x":1}`, ""},
		{"fail/json-broken", `{"x":`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Detect([]byte(tc.in))
			if got != tc.want || (tc.want == "") != (err != nil) {
				t.Errorf("Detect() = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range Formats {
		if got, err := ParseFormat(string(f)); got != f || err != nil {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "jenkins, env, json, aws") {
		t.Errorf("ParseFormat(yaml) = %v", err)
	}
}

func TestEncodeRefuses(t *testing.T) {
	if _, err := Encode(FormatJenkins, Credentials{AccessKeyID: "AKIAEXAMPLE7Q4ZKXYZW", SecretAccessKey: "x"}); err == nil {
		t.Error("Encode(jenkins, long-term key) succeeded")
	}
	if _, err := Encode(FormatJSON, Credentials{AccessKeyID: "bad"}); err == nil {
		t.Error("Encode(malformed) succeeded")
	}
}

func TestRedaction(t *testing.T) {
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("got", "cred", testCred)
	for _, s := range []string{
		fmt.Sprint(testCred), fmt.Sprintf("%v %+v %#v %s", testCred, testCred, testCred, testCred), logs.String(),
	} {
		if strings.Contains(s, testCred.SecretAccessKey) || strings.Contains(s, testCred.SessionToken) || strings.Contains(s, testCred.AccessKeyID) {
			t.Errorf("printed credentials show a secret part: %s", s)
		}
		if !strings.Contains(s, "XYZW") {
			t.Errorf("printed credentials lack the key hint: %s", s)
		}
	}
}

func TestRemaining(t *testing.T) {
	if d, ok := testCred.Remaining(testExp.Add(-time.Minute)); !ok || d != time.Minute {
		t.Errorf("Remaining() = %v, %v", d, ok)
	}
	if _, ok := (Credentials{}).Remaining(testExp); ok {
		t.Error("Remaining() of unknown expiry is ok")
	}
}

func TestCache(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := &Cache{Dir: dir}
	key := Key("profile", "arn:aws:iam::1:role/r", "15m0s")
	if key == Key("profile", "arn:aws:iam::1:role/r15m0s") || key == Key("profilearn:aws:iam::1:role/r", "15m0s") {
		t.Fatal("Key() is ambiguous")
	}
	now := testExp.Add(-10 * time.Minute)
	if _, ok, err := c.Load(key, now, time.Minute); ok || err != nil {
		t.Fatalf("Load(empty) = %v, %v", ok, err)
	}
	if err := c.Store(key, testCred); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{dir, filepath.Join(dir, key+".json")} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if want := os.FileMode(0o600); fi.Mode().IsRegular() && fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
		}
		if fi.IsDir() && fi.Mode().Perm() != 0o700 {
			t.Errorf("%s mode %v, want 0700", p, fi.Mode().Perm())
		}
	}
	got, ok, err := c.Load(key, now, time.Minute)
	if !ok || err != nil || got != testCred {
		t.Fatalf("Load() = %v, %v, %v", got, ok, err)
	}
	// Boundaries: valid for exactly minRemaining is a hit, a second less a miss.
	if _, ok, _ := c.Load(key, testExp.Add(-time.Minute), time.Minute); !ok {
		t.Error("Load() at exactly minRemaining is a miss")
	}
	if _, ok, _ := c.Load(key, testExp.Add(-time.Minute+time.Second), time.Minute); ok {
		t.Error("Load() with less than minRemaining left is a hit")
	}
	// ...and the stale entry is gone.
	if _, err := os.Stat(filepath.Join(dir, key+".json")); !os.IsNotExist(err) {
		t.Errorf("stale entry not removed: %v", err)
	}
	// A widened file is refused.
	if err := c.Store(key, testCred); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, key+".json"), 0o644)
	if _, _, err := c.Load(key, now, time.Minute); err == nil {
		t.Error("Load() of a 0644 entry succeeded")
	}
	// A corrupt file is a miss.
	os.WriteFile(filepath.Join(dir, key+".json"), []byte("{"), 0o600)
	os.Chmod(filepath.Join(dir, key+".json"), 0o600)
	if _, ok, err := c.Load(key, now, time.Minute); ok || err != nil {
		t.Errorf("Load(corrupt) = %v, %v", ok, err)
	}
	if _, _, err := c.Load("../../etc/passwd", now, 0); err == nil {
		t.Error("Load() accepted a path as key")
	}
	if err := c.Remove(key); err != nil {
		t.Error(err)
	}
}
