package server

import (
	"reflect"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/awsapi"
)

// The results that build their response elements themselves give the map
// that their scrubbed JSON encoding gives, secrets replaced by their HMAC.
func TestResponseElementsBuiltAsScrubbedJSON(t *testing.T) {
	red := audit.NewRedactor([]byte("0123456789abcdef0123456789abcdef"))
	creds := stsCredentials{
		AccessKeyID:     "ASIAEXAMPLEEXAMPLE12",
		SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		SessionToken:    "FwoGZXIvYXdzEXAMPLETOKEN",
		Expiration:      awsapi.Time(time.Date(2026, 12, 7, 1, 2, 3, 456, time.FixedZone("x", 3600))),
	}
	user := assumedRoleUser{AssumedRoleID: "AROAEXAMPLE:build-42", Arn: "arn:aws:sts::123456789012:assumed-role/ci/build-42"}
	size := 7
	tests := []struct {
		name   string
		result elementsBuilder
	}{
		{"GetSessionToken", &getSessionTokenResult{Credentials: creds}},
		{"AssumeRole", &assumeRoleResult{Credentials: creds, AssumedRoleUser: user}},
		{"AssumeRole with packed size and source identity", &assumeRoleResult{Credentials: creds, AssumedRoleUser: user, PackedPolicySize: &size, SourceIdentity: "alice"}},
		{"AssumeRoleWithWebIdentity", &assumeRoleWithWebIdentityResult{Credentials: creds, AssumedRoleUser: user, SubjectFromWebIdentityToken: "repo:x", Provider: "arn:aws:iam::123456789012:oidc-provider/ci", Audience: "sts"}},
		{"AssumeRoleWithWebIdentity with packed size", &assumeRoleWithWebIdentityResult{Credentials: creds, AssumedRoleUser: user, PackedPolicySize: &size, SourceIdentity: "repo:x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.result.responseElements(red)
			want := scrubbedJSON(red, tt.result)
			if want == nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("built:\n%#v\nscrubbed JSON:\n%#v", got, want)
			}
			c := got["Credentials"].(map[string]any)
			if c["Expiration"] != "2026-12-07T00:02:03Z" {
				t.Errorf("Expiration = %#v", c["Expiration"])
			}
			for _, k := range []string{"SecretAccessKey", "SessionToken"} {
				if c[k] == reflect.ValueOf(creds).FieldByName(k).String() {
					t.Errorf("%s recorded in the clear", k)
				}
			}
		})
	}
}

// The types the results' own XML is compared with: the same members and
// tags, without the AppendXML method, so that EncodeQuery takes
// encoding/xml's way.
type (
	plainCallerIdentity  getCallerIdentityResult
	plainSessionToken    getSessionTokenResult
	plainAssumeRole      assumeRoleResult
	plainWebIdentityRole assumeRoleWithWebIdentityResult
)

// The STS results write byte for byte what encoding/xml writes for them,
// markup and control characters included.
func TestSTSResultsWriteWhatEncodingXMLWrites(t *testing.T) {
	size := 12
	for _, text := range []string{"plain", `a<b>&"c'`, "tab\tnew\nline\rx", "é✓ unicode", "\x00\x01 invalid \xff", ""} {
		creds := stsCredentials{AccessKeyID: "ASIA" + text, SecretAccessKey: text, SessionToken: text + "tok", Expiration: awsapi.Time(time.Unix(1796601600, 0))}
		user := assumedRoleUser{AssumedRoleID: "AROA:" + text, Arn: "arn:" + text}
		tests := []struct {
			fast, plain any
		}{
			{&getCallerIdentityResult{UserID: text, Account: "123456789012", Arn: text}, &plainCallerIdentity{UserID: text, Account: "123456789012", Arn: text}},
			{&getSessionTokenResult{Credentials: creds}, &plainSessionToken{Credentials: creds}},
			{&assumeRoleResult{Credentials: creds, AssumedRoleUser: user}, &plainAssumeRole{Credentials: creds, AssumedRoleUser: user}},
			{&assumeRoleResult{Credentials: creds, AssumedRoleUser: user, PackedPolicySize: &size, SourceIdentity: text}, &plainAssumeRole{Credentials: creds, AssumedRoleUser: user, PackedPolicySize: &size, SourceIdentity: text}},
			{&assumeRoleWithWebIdentityResult{Credentials: creds, AssumedRoleUser: user, SubjectFromWebIdentityToken: text, Provider: text, Audience: text}, &plainWebIdentityRole{Credentials: creds, AssumedRoleUser: user, SubjectFromWebIdentityToken: text, Provider: text, Audience: text}},
			{&assumeRoleWithWebIdentityResult{Credentials: creds, AssumedRoleUser: user, PackedPolicySize: &size, SourceIdentity: text}, &plainWebIdentityRole{Credentials: creds, AssumedRoleUser: user, PackedPolicySize: &size, SourceIdentity: text}},
		}
		for _, tt := range tests {
			if _, ok := tt.fast.(awsapi.XMLAppender); !ok {
				t.Fatalf("%T does not write itself", tt.fast)
			}
			got, err := awsapi.EncodeQuery(awsapi.NamespaceSTS, "AssumeRole", tt.fast, "req-1")
			if err != nil {
				t.Fatal(err)
			}
			want, err := awsapi.EncodeQuery(awsapi.NamespaceSTS, "AssumeRole", tt.plain, "req-1")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(want) {
				t.Errorf("%T with %q:\n got %s\nwant %s", tt.fast, text, got, want)
			}
		}
	}
}
