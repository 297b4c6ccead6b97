package secretref

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

func TestParseReadsVarSecretIDAndJSONKey(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Ref
		err  string
	}{
		{"ok/name", "DB=/prod/db", Ref{Var: "DB", SecretID: "/prod/db"}, ""},
		{"ok/json-key", "DB_PASSWORD=/prod/db#password", Ref{Var: "DB_PASSWORD", SecretID: "/prod/db", JSONKey: "password"}, ""},
		{"ok/arn", "X=arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-AbCdEf", Ref{Var: "X", SecretID: "arn:aws:secretsmanager:us-east-1:123456789012:secret:/prod/db-AbCdEf"}, ""},
		{"ok/key-with-symbols", "_x1=a#key with spaces", Ref{Var: "_x1", SecretID: "a", JSONKey: "key with spaces"}, ""},
		{"fail/no-equals", "/prod/db", Ref{}, "want VAR=SECRET_ID"},
		{"fail/bad-var", "1DB=/prod/db", Ref{}, "not a variable name"},
		{"fail/var-with-dash", "DB-PW=/prod/db", Ref{}, "not a variable name"},
		{"fail/aws-var", "AWS_SECRET_ACCESS_KEY=/x", Ref{}, "set by shortfuse exec"},
		{"fail/shortfuse-var", "shortfuse_token=/x", Ref{}, "set by shortfuse exec"},
		{"fail/empty-id", "DB=", Ref{}, "not a secret name"},
		{"fail/id-with-space", "DB=/prod db", Ref{}, "not a secret name"},
		{"fail/empty-key", "DB=/prod/db#", Ref{}, "JSON key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
			if back := got.String(); back != tc.in {
				t.Errorf("String() = %q, want %q", back, tc.in)
			}
		})
	}
	if _, err := ParseAll([]string{"A=/x", "A=/y"}); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("ParseAll(duplicate var) = %v", err)
	}
}

// fakeSM is an in-memory Secrets Manager that records its calls.
type fakeSM struct {
	secrets    map[string]string // name -> SecretString
	binary     map[string][]byte
	batchErr   error // whole-call error of BatchGetSecretValue
	batchCalls int
	getCalls   []string
}

func apiErr(code, msg string) error { return &smithy.GenericAPIError{Code: code, Message: msg} }

func (f *fakeSM) GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	id := aws.ToString(in.SecretId)
	f.getCalls = append(f.getCalls, id)
	if b, ok := f.binary[id]; ok {
		return &secretsmanager.GetSecretValueOutput{Name: in.SecretId, SecretBinary: b}, nil
	}
	v, ok := f.secrets[id]
	if !ok {
		return nil, apiErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
	}
	return &secretsmanager.GetSecretValueOutput{Name: in.SecretId, SecretString: aws.String(v)}, nil
}

func (f *fakeSM) BatchGetSecretValue(ctx context.Context, in *secretsmanager.BatchGetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.BatchGetSecretValueOutput, error) {
	f.batchCalls++
	if f.batchErr != nil {
		return nil, f.batchErr
	}
	out := &secretsmanager.BatchGetSecretValueOutput{}
	for _, id := range in.SecretIdList {
		if v, ok := f.secrets[id]; ok {
			out.SecretValues = append(out.SecretValues, types.SecretValueEntry{Name: aws.String(id), ARN: aws.String("arn:aws:secretsmanager:us-east-1:1:secret:" + id + "-AbCdEf"), SecretString: aws.String(v)})
		} else {
			out.Errors = append(out.Errors, types.APIErrorType{SecretId: aws.String(id), ErrorCode: aws.String("ResourceNotFoundException"), Message: aws.String("not found")})
		}
	}
	return out, nil
}

func newFake() *fakeSM {
	return &fakeSM{
		secrets: map[string]string{
			"/prod/db":   `{"user":"app","password":"hunter2","port":5432,"tls":true,"nested":{"a":1},"nothing":null}`,
			"/prod/api":  "plain-api-key",
			"/prod/dup":  `{"password":"a","password":"b"}`,
			"/prod/nul":  "a\x00b",
			"/prod/list": `["x"]`,
		},
		binary: map[string][]byte{"/prod/bin": {0xff, 0x00, 0x01}},
	}
}

func mustRefs(t *testing.T, args ...string) []Ref {
	t.Helper()
	refs, err := ParseAll(args)
	if err != nil {
		t.Fatal(err)
	}
	return refs
}

func TestFetch(t *testing.T) {
	tests := []struct {
		name       string
		refs       []string
		batchErr   error
		want       map[string]string
		wantBatch  int
		wantGets   int
		wantErr    string
		wantErrVar string
	}{
		{"ok/one-secret-uses-get", []string{"API=/prod/api"}, nil, map[string]string{"API": "plain-api-key"}, 0, 1, "", ""},
		{"ok/several-use-one-batch", []string{"API=/prod/api", "PW=/prod/db#password", "USER=/prod/db#user"}, nil, map[string]string{"API": "plain-api-key", "PW": "hunter2", "USER": "app"}, 1, 0, "", ""},
		{"ok/batch-denied-falls-back", []string{"API=/prod/api", "PW=/prod/db#password"}, apiErr("AccessDeniedException", "no"), map[string]string{"API": "plain-api-key", "PW": "hunter2"}, 1, 2, "", ""},
		{"ok/batch-unknown-falls-back", []string{"API=/prod/api", "PW=/prod/db#password"}, apiErr("UnknownOperationException", "no"), map[string]string{"API": "plain-api-key", "PW": "hunter2"}, 1, 2, "", ""},
		{"ok/number-and-bool", []string{"PORT=/prod/db#port", "TLS=/prod/db#tls"}, nil, map[string]string{"PORT": "5432", "TLS": "true"}, 0, 1, "", ""},
		{"ok/binary-base64", []string{"BIN=/prod/bin"}, nil, map[string]string{"BIN": "/wAB"}, 0, 1, "", ""},
		{"fail/not-found", []string{"X=/prod/missing"}, nil, nil, 0, 1, "ResourceNotFoundException", "X"},
		{"fail/not-found-in-batch", []string{"API=/prod/api", "X=/prod/missing"}, nil, nil, 1, 0, "ResourceNotFoundException", "X"},
		{"fail/batch-expired-token", []string{"API=/prod/api", "X=/prod/db"}, apiErr("ExpiredTokenException", "revoked"), nil, 1, 0, "ExpiredTokenException", "API"},
		{"fail/missing-key", []string{"X=/prod/db#nope"}, nil, nil, 0, 1, `no key "nope"`, "X"},
		{"fail/nested-key", []string{"X=/prod/db#nested"}, nil, nil, 0, 1, "object or array", "X"},
		{"fail/null-key", []string{"X=/prod/db#nothing"}, nil, nil, 0, 1, "is null", "X"},
		{"fail/not-object", []string{"X=/prod/api#k"}, nil, nil, 0, 1, "not a JSON object", "X"},
		{"fail/array", []string{"X=/prod/list#k"}, nil, nil, 0, 1, "not a JSON object", "X"},
		{"fail/duplicate-key", []string{"X=/prod/dup#password"}, nil, nil, 0, 1, "twice", "X"},
		{"fail/nul", []string{"X=/prod/nul"}, nil, nil, 0, 1, "NUL", "X"},
		{"fail/binary-key", []string{"X=/prod/bin#k"}, nil, nil, 0, 1, "binary", "X"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			f.batchErr = tc.batchErr
			vals, err := Fetch(context.Background(), f, mustRefs(t, tc.refs...))
			if f.batchCalls != tc.wantBatch || len(f.getCalls) != tc.wantGets {
				t.Errorf("calls: %d batch, %d get (%v); want %d, %d", f.batchCalls, len(f.getCalls), f.getCalls, tc.wantBatch, tc.wantGets)
			}
			if tc.wantErr != "" {
				var fe *Error
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.wantErr) || fe.Ref.Var != tc.wantErrVar {
					t.Fatalf("Fetch() = %v; want *Error for %s containing %q", err, tc.wantErrVar, tc.wantErr)
				}
				for _, secret := range []string{"hunter2", "plain-api-key", "5432"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q contains a secret value", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Fetch() = %v", err)
			}
			got := make(map[string]string)
			for _, v := range vals {
				got[v.Var] = v.Value
			}
			if len(got) != len(tc.want) {
				t.Errorf("Fetch() = %v, want %v", got, tc.want)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

func TestFetchManyInChunks(t *testing.T) {
	f := &fakeSM{secrets: map[string]string{}}
	var args []string
	for i := 0; i < 45; i++ {
		id := "/s/" + strings.Repeat("x", i+1)
		f.secrets[id] = "value-" + id
		args = append(args, "V"+strings.Repeat("x", i+1)+"="+id)
	}
	vals, err := Fetch(context.Background(), f, mustRefs(t, args...))
	if err != nil || len(vals) != 45 {
		t.Fatalf("Fetch() = %d values, %v", len(vals), err)
	}
	if f.batchCalls != 3 || len(f.getCalls) != 0 {
		t.Errorf("calls: %d batch, %d get; want 3 batches of at most 20", f.batchCalls, len(f.getCalls))
	}
}
