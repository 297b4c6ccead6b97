package server

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/rotation"
	"github.com/shortfuse/shortfuse/internal/smapi"
)

// memDB is a database of users and passwords that can rotate.
type memDB struct {
	mu   sync.Mutex
	pw   map[string]string
	seen []string
}

func (d *memDB) check(c *dbcred.Master) error {
	if d.pw[c.Username] != c.Password.Reveal() {
		return errors.New("password authentication failed for user " + c.Username)
	}
	return nil
}

func (d *memDB) Ping(_ context.Context, c *dbcred.Master) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.check(c)
}

func (d *memDB) SetOwnPassword(_ context.Context, c *dbcred.Master, pw dbcred.Password) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(c); err != nil {
		return err
	}
	d.pw[c.Username] = pw.Reveal()
	d.seen = append(d.seen, pw.Reveal())
	return nil
}

func (d *memDB) SetUserPassword(_ context.Context, m *dbcred.Master, user, _ string, pw dbcred.Password) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.check(m); err != nil {
		return err
	}
	d.pw[user] = pw.Reveal()
	d.seen = append(d.seen, pw.Reveal())
	return nil
}

// TestRotateSecretAPI: RotateSecret, DescribeSecret's rotation members and
// CancelRotateSecret through the SDK, and what a caller allowed to rotate
// but not to read can learn (nothing).
func TestRotateSecretAPI(t *testing.T) {
	db := &memDB{pw: map[string]string{"app": "Old-App-Passw0rd", "master": testMasterPW}}
	b := newAuditedSMBroker(t, func(b *dynBroker, logger *slog.Logger, deps *Deps) {
		deps.Rotation = rotation.New(rotation.Options{Secrets: b.secret, Rotators: map[string]dbcred.Rotator{"postgres": db},
			Audit: smapi.RotationAuditor(b.audit, smAccount, "us-east-1"), Replica: dbcred.Replica{Owner: "test", Logger: logger}})
	})
	sb := &smBroker{url: b.url, admin: b.admin}
	ctx := context.Background()
	admin := b.sm(b.admin)
	masterARN := createMasterSecret(t, admin)
	if _, err := admin.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/prod/db"),
		SecretString: aws.String(`{"engine":"postgres","host":"db.internal","port":5432,"username":"app","password":"Old-App-Passw0rd","dbname":"app"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CreateSecret(ctx, &sdksm.CreateSecretInput{Name: aws.String("/prod/db-alt"),
		SecretString: aws.String(`{"engine":"postgres","host":"db.internal","port":5432,"username":"app2","password":"x","dbname":"app","masterarn":"` + masterARN + `"}`)}); err != nil {
		t.Fatal(err)
	}
	rotator := b.sm(sb.user(t, "rotator", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["secretsmanager:RotateSecret","secretsmanager:CancelRotateSecret","secretsmanager:DescribeSecret","secretsmanager:ListSecrets","secretsmanager:ListSecretVersionIds"],"Resource":"*"}]}`))
	outsider := b.sm(sb.user(t, "outsider", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["secretsmanager:DescribeSecret"],"Resource":"*"}]}`))

	_, err := outsider.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/prod/db"), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1)}})
	wantCode(t, "RotateSecret without secretsmanager:RotateSecret", err, "AccessDeniedException")
	_, err = outsider.CancelRotateSecret(ctx, &sdksm.CancelRotateSecretInput{SecretId: aws.String("/prod/db")})
	wantCode(t, "CancelRotateSecret without secretsmanager:CancelRotateSecret", err, "AccessDeniedException")
	_, err = rotator.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/prod/db"), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:111122223333:function:rot")})
	wantCode(t, "RotateSecret with a Lambda", err, "InvalidRequestException")
	_, err = rotator.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/prod/db"), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1), ScheduleExpression: aws.String("rate(1 days)")}})
	wantCode(t, "RotateSecret with both rules", err, "InvalidParameterException")
	_, err = rotator.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/prod/db"), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(1 days)"), Duration: aws.String("3d")}})
	wantCode(t, "RotateSecret with a bad Duration", err, "ValidationException")
	// Alternating users spend the master's power: GetSecretValue on it is needed.
	_, err = rotator.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/prod/db-alt"), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1)}})
	wantCode(t, "RotateSecret of alternating users without the master", err, "AccessDeniedException")

	out, err := rotator.RotateSecret(ctx, &sdksm.RotateSecretInput{SecretId: aws.String("/prod/db"), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	newPW := db.pw["app"]
	if newPW == "Old-App-Passw0rd" || aws.ToString(out.VersionId) == "" {
		t.Fatalf("not rotated: %+v", out)
	}
	if b, _ := json.Marshal(out); strings.Contains(string(b), newPW) {
		t.Error("RotateSecret's answer holds the password")
	}
	_, err = rotator.GetSecretValue(ctx, &sdksm.GetSecretValueInput{SecretId: aws.String("/prod/db")})
	wantCode(t, "GetSecretValue by the rotator", err, "AccessDeniedException")
	d, err := rotator.DescribeSecret(ctx, &sdksm.DescribeSecretInput{SecretId: aws.String("/prod/db")})
	if err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(d.RotationEnabled) || d.RotationRules == nil || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 1 || d.LastRotatedDate == nil || d.NextRotationDate == nil {
		t.Errorf("DescribeSecret: enabled %v, rules %+v, last %v, next %v", d.RotationEnabled, d.RotationRules, d.LastRotatedDate, d.NextRotationDate)
	}
	if st := d.VersionIdsToStages[aws.ToString(out.VersionId)]; len(st) != 1 || st[0] != "AWSCURRENT" {
		t.Errorf("stages: %v", d.VersionIdsToStages)
	}
	l, err := rotator.ListSecrets(ctx, &sdksm.ListSecretsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range l.SecretList {
		if aws.ToString(e.Name) == "/prod/db" && (!aws.ToBool(e.RotationEnabled) || e.NextRotationDate == nil) {
			t.Errorf("ListSecrets entry: %+v", e)
		}
		if aws.ToString(e.Name) == "/prod/db-master" && e.RotationEnabled != nil {
			t.Errorf("a secret never configured shows RotationEnabled")
		}
	}
	if _, err := rotator.CancelRotateSecret(ctx, &sdksm.CancelRotateSecretInput{SecretId: aws.String("/prod/db")}); err != nil {
		t.Fatal(err)
	}
	d, _ = rotator.DescribeSecret(ctx, &sdksm.DescribeSecretInput{SecretId: aws.String("/prod/db")})
	if d.RotationEnabled == nil || *d.RotationEnabled || d.NextRotationDate != nil {
		t.Errorf("after CancelRotateSecret: enabled %v, next %v", d.RotationEnabled, d.NextRotationDate)
	}
	// Nowhere a password: audit records and logs.
	text := b.audit.text(t) + b.logs.String()
	for _, pw := range append([]string{"Old-App-Passw0rd", testMasterPW}, db.seen...) {
		if strings.Contains(text, pw) {
			t.Errorf("a password is in the audit records or logs")
		}
	}
	if !strings.Contains(b.audit.text(t), "RotationSucceeded") {
		t.Error("no RotationSucceeded audit record")
	}
}
