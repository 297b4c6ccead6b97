package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/secrets"
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

func TestEpochTime(t *testing.T) {
	for _, tt := range []struct {
		in   time.Time
		want string
	}{
		{time.Unix(1700000000, 0), "1700000000"},
		{time.Unix(1700000000, 123000000), "1700000000.123"},
		{time.Unix(1700000000, 999999999), "1700000000.999"},
		{time.UnixMilli(1), "0.001"},
	} {
		b, err := json.Marshal(epochTime(tt.in))
		if err != nil || string(b) != tt.want {
			t.Errorf("epochTime(%v) = %s, %v; want %s", tt.in, b, err, tt.want)
		}
	}
	if epoch(time.Time{}) != nil {
		t.Error("epoch(zero) is not nil")
	}
}

// TestSecretsOperationsTable: every operation of the Secrets Manager model
// is in the table, the refused ones included.
func TestSecretsOperationsTable(t *testing.T) {
	b := newSMBroker(t)
	m := NewMux()
	addSecretsOperations(m, b.svc, nil, nil)
	for _, op := range []string{
		"BatchGetSecretValue", "CancelRotateSecret", "CreateSecret", "DeleteResourcePolicy", "DeleteSecret",
		"DescribeSecret", "GetRandomPassword", "GetResourcePolicy", "GetSecretValue", "ListSecretVersionIds",
		"ListSecrets", "PutResourcePolicy", "PutSecretValue", "RemoveRegionsFromReplication", "ReplicateSecretToRegions",
		"RestoreSecret", "RotateSecret", "StopReplicationToReplica", "TagResource", "UntagResource", "UpdateSecret",
		"UpdateSecretVersionStage", "ValidateResourcePolicy",
	} {
		if o := m.Lookup("secretsmanager", op); o == nil || o.Protocol != ProtocolJSON {
			t.Errorf("secretsmanager:%s is not a JSON operation of the table", op)
		}
	}
	if n := len(m.Operations()); n != 23 {
		t.Errorf("%d operations, want 23", n)
	}
	empty := NewMux()
	addSecretsOperations(empty, nil, nil, nil)
	if len(empty.Operations()) != 0 {
		t.Error("operations registered without a secrets service")
	}
}

// FuzzSecretsHandlers feeds arbitrary bodies to every Secrets Manager
// handler, with a caller allowed everything: no handler panics, and every
// refusal is a wire error (never an internal one), whose message does not
// quote the body's values.
func FuzzSecretsHandlers(f *testing.F) {
	seeds := []string{
		`{}`, `{"Name":"/a","SecretString":"v","ClientRequestToken":"00000000-0000-4000-8000-000000000000"}`, `{"SecretId":"/a"}`, `{"SecretId":"/a","SecretBinary":"AAE="}`,
		`{"SecretId":"/a","VersionStage":"AWSCURRENT","MoveToVersionId":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}`,
		`{"Filters":[{"Key":"name","Values":["/"]}],"MaxResults":1}`, `{"SecretIdList":["/a","/b"]}`,
		`{"SecretId":"/a","ResourcePolicy":"{}"}`, `{"PasswordLength":8,"ExcludeCharacters":"abc"}`,
		`{"SecretId":"/a","RecoveryWindowInDays":7}`, `{"SecretId":"/a","Tags":[{"Key":"k","Value":"v"}]}`,
		`{"NextToken":"c20xOjE"}`, `{"SecretId":"/a","SecretId":"/b"}`,
	}
	for _, s := range seeds {
		for i := range 3 {
			f.Add(uint8(i*7), []byte(s))
		}
	}
	b := newSMBroker(f)
	m := NewMux()
	// The stored value, as the broker reads a secret that is not dynamic.
	read := func(ctx context.Context, _ *Request, l *secrets.Looked, _, _ string) (*secrets.SecretValue, error) {
		return b.svc.Open(ctx, l)
	}
	addSecretsOperations(m, b.svc, read, nil)
	ops := m.Operations()
	ctx := context.Background()
	if _, err := b.svc.Create(ctx, secrets.CreateInput{Name: "/a", Value: secrets.StringValue("fuzz-seed-value")}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		key := ops[int(which)%len(ops)]
		svc, action, _ := strings.Cut(key, ":")
		op := m.Lookup(svc, action)
		r := &Request{ID: "fuzz", Time: time.Now(), Service: svc, Action: action, Body: body, Caller: &Caller{ARN: "arn:aws:iam::123456789012:user/admin", Account: smAccount}}
		r.Authorizer = func(context.Context, *Request, *authz) (policy.Result, error) {
			return policy.Result{Decision: policy.Allow}, nil
		}
		_, err := op.Handler(ctx, r)
		if err == nil {
			return
		}
		var we *awsapi.Error
		if !errors.As(err, &we) {
			if w, ok := secretsCodes.ToWire(err); ok {
				we = w
			} else {
				t.Fatalf("%s: error %v does not map to a wire error", key, err)
			}
		}
		if we.Code == awsapi.CodeInternal {
			t.Fatalf("%s: internal error %v", key, we)
		}
		if strings.Contains(we.Message, "fuzz-seed-value") {
			t.Fatalf("%s: error quotes a secret value: %s", key, we.Message)
		}
	})
}
