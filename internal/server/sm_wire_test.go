package server

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// smRaw sends a hand-built JSON 1.1 request for op, signed by the SDK's
// signer, and returns the status, the error type header and the body.
func smRaw(t *testing.T, b *smBroker, op, body string) (int, string, string) {
	t.Helper()
	resp := signedPost(t, b.url, b.admin, body, "secretsmanager", "us-east-1", time.Now(),
		http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"secretsmanager." + op}})
	return resp.status, resp.header.Get("X-Amzn-Errortype"), resp.body
}

// TestSecretsWire checks the wire itself: strict decoding of request bodies
// (what encoding/json would silently resolve is refused), the error
// document, and epoch-second timestamps.
func TestSecretsWire(t *testing.T) {
	b := newSMBroker(t)
	status, _, body := smRaw(t, b, "CreateSecret", `{"Name":"/prod/db","SecretString":"hunter2-wire","ClientRequestToken":"`+strings.Repeat("a", 36)+`"}`)
	if status != 200 {
		t.Fatalf("CreateSecret: %d %s", status, body)
	}
	tests := []struct {
		name, op, body string
		wantStatus     int
		wantType       string
	}{
		{"ok/get", "GetSecretValue", `{"SecretId":"/prod/db"}`, 200, ""},
		{"ok/empty-body-for-list", "ListSecrets", ``, 200, ""},
		{"fail/duplicate-key", "GetSecretValue", `{"SecretId":"/nope","SecretId":"/prod/db"}`, 400, "SerializationException"},
		{"fail/duplicate-key-nested", "ListSecrets", `{"Filters":[{"Key":"name","Key":"tag-key","Values":["x"]}]}`, 400, "SerializationException"},
		{"fail/wrong-case-member", "GetSecretValue", `{"secretid":"/prod/db"}`, 400, "ValidationException"},
		{"ok/unknown-member-ignored", "GetSecretValue", `{"SecretId":"/prod/db","VersionLabel":"x"}`, 200, ""},
		{"ok/js-sdk-policy-name-ignored", "GetResourcePolicy", `{"SecretId":"/prod/db","PolicyName":"x"}`, 200, ""},
		{"fail/trailing-data", "GetSecretValue", `{"SecretId":"/prod/db"}{}`, 400, "SerializationException"},
		{"fail/invalid-utf8", "GetSecretValue", "{\"SecretId\":\"/prod/\xff\"}", 400, "SerializationException"},
		{"fail/lone-surrogate", "PutSecretValue", `{"SecretId":"/prod/db","SecretString":"\ud800"}`, 400, "SerializationException"},
		{"fail/wrong-type", "GetSecretValue", `{"SecretId":["/prod/db"]}`, 400, "SerializationException"},
		{"fail/secret-string-not-a-string", "PutSecretValue", `{"SecretId":"/prod/db","SecretString":12}`, 400, "SerializationException"},
		{"fail/binary-not-base64", "PutSecretValue", `{"SecretId":"/prod/db","SecretBinary":"!!!"}`, 400, "SerializationException"},
		{"fail/missing-secret-id", "GetSecretValue", `{}`, 400, "ValidationException"},
		{"fail/null-secret-id", "DescribeSecret", `{"SecretId":null}`, 400, "ValidationException"},
		{"fail/unknown-operation", "FrobnicateSecret", `{}`, 400, "UnknownOperationException"},
	}
	errDoc := regexp.MustCompile(`^\{"__type":"[A-Za-z]+","Message":".*"\}$`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, typ, body := smRaw(t, b, tt.op, tt.body)
			if status != tt.wantStatus || typ != tt.wantType {
				t.Errorf("%s = %d %q %s, want %d %q", tt.op, status, typ, body, tt.wantStatus, tt.wantType)
			}
			if tt.wantType != "" && !errDoc.MatchString(body) {
				t.Errorf("error document %s", body)
			}
			if strings.Contains(body, "hunter2") && tt.name != "ok/get" && tt.name != "ok/unknown-member-ignored" {
				t.Errorf("response quotes the value: %s", body)
			}
		})
	}

	// Timestamps are epoch seconds, as numbers with a fraction.
	_, _, body = smRaw(t, b, "DescribeSecret", `{"SecretId":"/prod/db"}`)
	var doc map[string]any
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"CreatedDate", "LastChangedDate"} {
		f, ok := doc[k].(float64)
		if !ok || f < float64(time.Now().Add(-time.Hour).Unix()) || f > float64(time.Now().Add(time.Hour).Unix()) {
			t.Errorf("%s = %v (%T), want epoch seconds", k, doc[k], doc[k])
		}
	}
	if !regexp.MustCompile(`"CreatedDate":\d{10}(\.\d{1,3})?[,}]`).MatchString(body) {
		t.Errorf("CreatedDate is not written as epoch seconds: %s", body)
	}
	if strings.Contains(b.logs.String(), "hunter2") {
		t.Error("the broker's log contains a secret value")
	}
}
