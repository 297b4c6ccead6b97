package smapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/awsapi"
	"github.com/shortfuse/shortfuse/internal/policy"
	"github.com/shortfuse/shortfuse/internal/rpc"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

const smAccount = "123456789012"

// newSecrets is a secrets service over a temporary store.
func newSecrets(t testing.TB) *secrets.Service {
	t.Helper()
	st, _ := testutil.TempStore(t)
	return secrets.New(st, testutil.Sealer(t), smAccount, "us-east-1", time.Now, rand.Reader)
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
	m := rpc.NewMux()
	Register(m, Deps{Secrets: newSecrets(t)})
	for _, op := range []string{
		"BatchGetSecretValue", "CancelRotateSecret", "CreateSecret", "DeleteResourcePolicy", "DeleteSecret",
		"DescribeSecret", "GetRandomPassword", "GetResourcePolicy", "GetSecretValue", "ListSecretVersionIds",
		"ListSecrets", "PutResourcePolicy", "PutSecretValue", "RemoveRegionsFromReplication", "ReplicateSecretToRegions",
		"RestoreSecret", "RotateSecret", "StopReplicationToReplica", "TagResource", "UntagResource", "UpdateSecret",
		"UpdateSecretVersionStage", "ValidateResourcePolicy",
	} {
		if o := m.Lookup("secretsmanager", op); o == nil || o.Protocol != rpc.ProtocolJSON {
			t.Errorf("secretsmanager:%s is not a JSON operation of the table", op)
		}
	}
	if n := len(m.Operations()); n != 23 {
		t.Errorf("%d operations, want 23", n)
	}
	empty := rpc.NewMux()
	Register(empty, Deps{})
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
	svc := newSecrets(f)
	m := rpc.NewMux()
	Register(m, Deps{Secrets: svc})
	ops := m.Operations()
	ctx := context.Background()
	if _, err := svc.Create(ctx, secrets.CreateInput{Name: "/a", Value: secrets.StringValue("fuzz-seed-value")}); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		key := ops[int(which)%len(ops)]
		service, action, _ := strings.Cut(key, ":")
		op := m.Lookup(service, action)
		r := &rpc.Request{ID: "fuzz", Time: time.Now(), Service: service, Action: action, Body: body, Caller: &rpc.Caller{ARN: "arn:aws:iam::123456789012:user/admin", Account: smAccount}}
		r.Authorizer = func(context.Context, *rpc.Request, *rpc.Authz) (policy.Result, error) {
			return policy.Result{Decision: policy.Allow}, nil
		}
		_, err := op.Handler(ctx, r)
		if err == nil {
			return
		}
		var we *awsapi.Error
		if !errors.As(err, &we) {
			if w, ok := Codes.ToWire(err); ok {
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
