package bench

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretsLedger is a Secrets Manager stand-in that counts, per secret, the
// versions written, and remembers which secrets were created and deleted.
type secretsLedger struct {
	mu       sync.Mutex
	puts     map[string]int
	created  map[string]bool
	deleted  map[string]bool
	failFrom int // CreateSecret fails from this call on (0: never)
	creates  int
}

func (l *secretsLedger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in struct{ Name, SecretId string }
	body, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(body, &in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	arn := func(name string) string {
		return "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + name + "-AbCdEf"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "secretsmanager.") {
	case "CreateSecret":
		l.creates++
		if l.failFrom > 0 && l.creates >= l.failFrom {
			w.WriteHeader(400)
			io.WriteString(w, `{"__type":"LimitExceededException","message":"too many secrets"}`)
			return
		}
		l.created[arn(in.Name)] = true
		json.NewEncoder(w).Encode(map[string]string{"ARN": arn(in.Name), "Name": in.Name, "VersionId": "01234567-89ab-4cde-8f01-23456789abcd"})
	case "PutSecretValue":
		l.puts[in.SecretId]++
		json.NewEncoder(w).Encode(map[string]string{"ARN": arn(in.SecretId), "Name": in.SecretId, "VersionId": "01234567-89ab-4cde-8f01-23456789abcd"})
	case "DeleteSecret":
		l.deleted[in.SecretId] = true
		json.NewEncoder(w).Encode(map[string]string{"ARN": in.SecretId, "Name": in.SecretId})
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"InvalidAction","message":"no"}`)
	}
}

func newSecretsLedger(t *testing.T) (*secretsLedger, string) {
	l := &secretsLedger{puts: map[string]int{}, created: map[string]bool{}, deleted: map[string]bool{}}
	hs := httptest.NewServer(l)
	t.Cleanup(hs.Close)
	return l, hs.URL
}

// TestPutSpreadsOverSecrets checks that put-secret-value never writes one
// secret more than putsPerSecret times and deletes every secret it made.
func TestPutSpreadsOverSecrets(t *testing.T) {
	l, url := newSecretsLedger(t)
	res, err := Run(context.Background(), quickConfig(url, PutSecretValue))
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if res.Errors != 0 {
		t.Fatalf("errors: %v %v", res.ErrorsByCode, res.ErrorSamples)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	total := 0
	for name, n := range l.puts {
		total += n
		if n > putsPerSecret {
			t.Errorf("secret %s written %d times, want ≤ %d", name, n, putsPerSecret)
		}
	}
	if total <= putsPerSecret {
		t.Fatalf("only %d puts: the test did not make the load move to a second secret", total)
	}
	if len(l.created) < total/putsPerSecret {
		t.Errorf("%d secrets created for %d puts, want ≥ %d", len(l.created), total, total/putsPerSecret)
	}
	for arn := range l.created {
		if !l.deleted[arn] {
			t.Errorf("secret %s not deleted", arn)
		}
	}
}

func TestSecretPoolTake(t *testing.T) {
	l, url := newSecretsLedger(t)
	l.failFrom = 3 // two secrets, then every CreateSecret fails
	cl := testClients(t, url)
	p := newSecretPool(cl.sm, "shortfuse-bench/test", "v", 2)
	p.wait = 200 * time.Millisecond
	ctx := context.Background()
	if err := p.fill(ctx); err != nil {
		t.Fatalf("fill() = %v", err)
	}
	p.start(ctx)
	defer p.cleanup(ctx)
	for i := range 2 {
		if name, err := p.take(ctx); err != nil || !strings.HasPrefix(name, "shortfuse-bench/test/w") {
			t.Fatalf("take() #%d = %q, %v", i, name, err)
		}
	}
	_, err := p.take(ctx)
	var pe *poolExhaustedError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "LimitExceededException") {
		t.Fatalf("take() on an exhausted pool = %v, want poolExhaustedError naming the cause", err)
	}
	if code, _ := classify(err); code != "PoolExhausted" {
		t.Errorf("classify() = %q, want PoolExhausted", code)
	}
	if w := p.cleanup(ctx); len(w) != 0 {
		t.Errorf("cleanup() = %v", w)
	}
	if _, err := cl.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String("x")}); err == nil {
		t.Error("the ledger answered an operation it does not know")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.deleted) != 2 {
		t.Errorf("%d secrets deleted, want the 2 made", len(l.deleted))
	}
}
