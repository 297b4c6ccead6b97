package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/smapi"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// recordingEngine is a database that records what it is asked.
type recordingEngine struct {
	mu      sync.Mutex
	created map[string][]string // role → grants
	until   map[string]time.Time
	dropped []string
}

func (e *recordingEngine) CreateLease(_ context.Context, m *dbcred.Master, role string, _ dbcred.Password, grants []string, until time.Time) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.created[role] = append([]string{}, grants...)
	e.until[role] = until
	return nil
}

func (e *recordingEngine) Drop(_ context.Context, _ *dbcred.Master, role string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dropped = append(e.dropped, role)
	return nil
}

func (e *recordingEngine) ListLeftovers(context.Context, *dbcred.Master, string) ([]string, error) {
	return nil, nil
}

// memAudit keeps audit records in memory.
type memAudit struct {
	mu   sync.Mutex
	recs []*audit.Record
}

func (a *memAudit) Append(_ context.Context, r *audit.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, r)
	return nil
}

func (a *memAudit) text(t *testing.T) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	b, err := json.Marshal(a.recs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type dynBroker struct {
	url    string
	admin  aws.Credentials
	eng    *recordingEngine
	dbc    *dbcred.Service
	audit  *memAudit
	logs   *testutil.Buffer
	core   *testCore
	secret *secrets.Service
}

// newAuditedSMBroker starts the broker with Secrets Manager on the real
// clock, auditing to memory and logging at debug level; plane adds to its
// dependencies the services of the plane under test, made over b's core,
// secrets and audit.
func newAuditedSMBroker(t *testing.T, plane func(b *dynBroker, logger *slog.Logger, deps *Deps)) *dynBroker {
	t.Helper()
	core := newTestCore(t, smAccount, nil)
	logs, logger := debugLog()
	b := &dynBroker{admin: core.admin, audit: &memAudit{}, logs: logs, core: core, secret: core.secretsService(time.Now)}
	deps := core.deps()
	deps.Secrets = b.secret
	plane(b, logger, &deps)
	srv := New(Config{Account: smAccount, Region: "us-east-1", Logger: logger, Audit: b.audit, Redactor: audit.NewRedactor(make([]byte, 32))}, deps)
	b.url = newTestServer(t, srv)
	return b
}

// newDynBroker is the broker with dynamic secrets on a recording database.
func newDynBroker(t *testing.T) *dynBroker {
	t.Helper()
	return newAuditedSMBroker(t, func(b *dynBroker, logger *slog.Logger, deps *Deps) {
		b.eng = &recordingEngine{created: map[string][]string{}, until: map[string]time.Time{}}
		b.dbc = dbcred.New(dbcred.Options{
			Store: b.core.st, Sealer: b.core.sealer, Engines: map[string]dbcred.Engine{dbcred.EnginePostgres: b.eng},
			Master: smapi.MasterReader(b.secret), Live: b.core.reg.Live, Audit: smapi.LeaseAuditor(b.audit, smAccount, "us-east-1"), Replica: dbcred.Replica{Logger: logger},
		})
		deps.DBCred = b.dbc
	})
}

func (b *dynBroker) sm(c aws.Credentials) *sdksm.Client {
	return sdksm.NewFromConfig(sdkConfig(b.url, c))
}

const testMasterPW = "Th3-Master-Passw0rd"

// createMasterSecret creates, with c, the secret /prod/db-master: the
// master credentials of the database, password testMasterPW. It returns
// its ARN.
func createMasterSecret(t *testing.T, c *sdksm.Client) string {
	t.Helper()
	master, err := c.CreateSecret(context.Background(), &sdksm.CreateSecretInput{Name: aws.String("/prod/db-master"),
		SecretString: aws.String(`{"engine":"postgres","host":"db.internal","port":5432,"username":"master","password":"` + testMasterPW + `","dbname":"app"}`)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(master.ARN)
}

// leaseLogin reads, with c, the database login that the dynamic secret
// /prod/db issues to c's session.
func leaseLogin(t *testing.T, c *sdksm.Client) (login struct{ Username, Password string }) {
	t.Helper()
	v, err := c.GetSecretValue(context.Background(), &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(aws.ToString(v.SecretString)), &login)
	return login
}

// TestDynamicSecretAttacks: what a reader of a dynamic secret may try.
func TestDynamicSecretAttacks(t *testing.T) {
	b := newDynBroker(t)
	ctx := context.Background()
	sm := b.sm(b.admin)
	masterARN := createMasterSecret(t, sm)
	_, err := sm.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/prod/db"),
		SecretString: aws.String(`{"masterarn":"` + masterARN + `","grants":["app_reader"]}`),
		Tags:         []smtypes.Tag{{Key: aws.String("shortfuse:dynamic"), Value: aws.String("true")}}})
	if err != nil {
		t.Fatal(err)
	}
	// A role that may read /prod/db only (not its master), and a user who
	// may assume it and write secrets but not read the master.
	sb := &smBroker{url: b.url, admin: b.admin}
	reader := sb.user(t, "reader", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:CreateSecret","secretsmanager:PutSecretValue","secretsmanager:TagResource"],"Resource":"*"},
		{"Effect":"Deny","Action":"secretsmanager:GetSecretValue","Resource":"`+masterARN+`"}]}`)
	out, err := sb.sts(reader).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	job := sessionCreds(out.Credentials)
	jobSM := b.sm(job)

	t.Run("reads-without-the-master", func(t *testing.T) {
		v, err := jobSM.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
		if err != nil {
			t.Fatal(err)
		}
		s := aws.ToString(v.SecretString)
		if strings.Contains(s, testMasterPW) || strings.Contains(s, "masterarn") || strings.Contains(s, "grants") {
			t.Fatalf("the value leaks configuration: %s", s)
		}
		if _, err := jobSM.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String(masterARN)}); err == nil {
			t.Fatal("the job read the master")
		}
	})

	t.Run("smuggled-grants-are-ignored", func(t *testing.T) {
		body := `{"SecretId":"/prod/db","Grants":["pg_write_all_data"],"grants":["postgres"],"MasterArn":"x"}`
		resp := signedPost(t, b.url, job, body, "secretsmanager", "us-east-1", time.Now(), http.Header{
			"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"secretsmanager.GetSecretValue"}})
		// Refused (a member spelt like a known one but for case), or
		// served with the stored grants.
		if resp.status != 200 && !strings.Contains(resp.body, "Exception") {
			t.Fatalf("status %d: %s", resp.status, resp.body)
		}
		b.eng.mu.Lock()
		defer b.eng.mu.Unlock()
		if len(b.eng.created) == 0 {
			t.Fatal("no role was created at all")
		}
		for role, g := range b.eng.created {
			if len(g) != 1 || g[0] != "app_reader" {
				t.Errorf("role %s granted %v; the configuration says [app_reader]", role, g)
			}
		}
	})

	t.Run("cannot-configure-with-an-unreadable-master", func(t *testing.T) {
		_, err := jobSM.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/evil/db"),
			SecretString: aws.String(`{"masterarn":"` + masterARN + `","grants":["app_owner"]}`),
			Tags:         []smtypes.Tag{{Key: aws.String("shortfuse:dynamic"), Value: aws.String("true")}}})
		wantCode(t, "CreateSecret with the master", err, "AccessDeniedException")
		// Nor by writing a configuration into a static secret, then tagging it.
		if _, err := jobSM.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/evil/two"),
			SecretString: aws.String(`{"masterarn":"` + masterARN + `","grants":["app_owner"]}`)}); err != nil {
			t.Fatal(err)
		}
		_, err = jobSM.TagResource(ctx, &sdksm.TagResourceInput{SecretId: aws.String("/evil/two"), Tags: []smtypes.Tag{{Key: aws.String("shortfuse:dynamic"), Value: aws.String("true")}}})
		wantCode(t, "TagResource making it dynamic", err, "AccessDeniedException")
		// Nor by changing an existing dynamic secret's grants.
		_, err = jobSM.PutSecretValue(ctx, &sdksm.PutSecretValueInput{SecretId: aws.String("/prod/db"),
			SecretString: aws.String(`{"masterarn":"` + masterARN + `","grants":["app_owner"]}`)})
		wantCode(t, "PutSecretValue with new grants", err, "AccessDeniedException")
	})

	t.Run("another-session-gets-its-own", func(t *testing.T) {
		out2, err := sb.sts(reader).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
		if err != nil {
			t.Fatal(err)
		}
		v1, _ := jobSM.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
		v2, err := b.sm(sessionCreds(out2.Credentials)).GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(v1.SecretString) == aws.ToString(v2.SecretString) {
			t.Fatal("two sessions got one credential")
		}
	})

	t.Run("no-password-in-audit-or-logs", func(t *testing.T) {
		cred := leaseLogin(t, jobSM)
		if cred.Password == "" {
			t.Fatal("no password")
		}
		a := b.audit.text(t)
		for _, secret := range []string{cred.Password, testMasterPW} {
			if strings.Contains(a, secret) || strings.Contains(b.logs.String(), secret) {
				t.Errorf("a password is in the audit records or the log")
			}
		}
		if !strings.Contains(a, `"CreateDatabaseLease"`) {
			t.Error("no CreateDatabaseLease audit record")
		}
	})

	t.Run("dropped-with-the-session", func(t *testing.T) {
		cred := leaseLogin(t, jobSM)
		if err := b.core.reg.Revoke(ctx, job.AccessKeyID, "test", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := b.dbc.Reap(ctx); err != nil {
			t.Fatal(err)
		}
		b.eng.mu.Lock()
		dropped := strings.Join(b.eng.dropped, " ")
		b.eng.mu.Unlock()
		if !strings.Contains(dropped, cred.Username) {
			t.Fatalf("the revoked session's role %s was not dropped (dropped: %s)", cred.Username, dropped)
		}
		if _, err := jobSM.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")}); err == nil {
			t.Fatal("a revoked session read the dynamic secret")
		}
	})
}
