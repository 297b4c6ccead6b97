package rotation

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

// fakeDB is a database server of users and passwords.
type fakeDB struct {
	mu      sync.Mutex
	pw      map[string]string
	like    map[string]string // user → the role it was made a member of
	down    bool
	sets    int
	delay   time.Duration
	secrets []string // every password the fake saw, to look for leaks
}

func (d *fakeDB) login(c *dbcred.Master) error {
	if d.down {
		return errors.New("connect: connection refused")
	}
	if pw, ok := d.pw[c.Username]; !ok || pw != c.Password.Reveal() {
		return errors.New("password authentication failed for user " + c.Username)
	}
	return nil
}

func (d *fakeDB) Ping(_ context.Context, c *dbcred.Master) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.login(c)
}

func (d *fakeDB) SetOwnPassword(_ context.Context, c *dbcred.Master, pw dbcred.Password) error {
	time.Sleep(d.delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.login(c); err != nil {
		return err
	}
	d.pw[c.Username] = pw.Reveal()
	d.sets++
	d.secrets = append(d.secrets, pw.Reveal())
	return nil
}

func (d *fakeDB) SetUserPassword(_ context.Context, m *dbcred.Master, user, like string, pw dbcred.Password) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.login(m); err != nil {
		return err
	}
	if _, ok := d.pw[user]; !ok {
		d.like[user] = like
	}
	d.pw[user] = pw.Reveal()
	d.sets++
	d.secrets = append(d.secrets, pw.Reveal())
	return nil
}

type env struct {
	svc    *secrets.Service
	db     *fakeDB
	clock  *testutil.Clock
	mu     sync.Mutex
	events []Event
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, _ := testutil.TempStore(t)
	sealer := testutil.Sealer(t)
	c := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	return &env{
		svc:   secrets.New(st, sealer, "123456789012", "us-east-1", c.Now, rand.Reader),
		db:    &fakeDB{pw: map[string]string{}, like: map[string]string{}},
		clock: c,
	}
}

func (e *env) rotation(owner string) *Service {
	return New(Options{
		Secrets: e.svc, Rotators: map[string]dbcred.Rotator{"postgres": e.db}, Replica: dbcred.Replica{Owner: owner, Now: e.clock.Now},
		Audit: func(_ context.Context, ev Event) error {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.events = append(e.events, ev)
			return nil
		},
	})
}

func (e *env) eventNames() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		out = append(out, ev.Name)
	}
	return out
}

func rds(user, pw string, extra ...string) string {
	s := `{"engine":"postgres","host":"db.internal","port":5432,"username":"` + user + `","password":"` + pw + `","dbname":"app"`
	for _, x := range extra {
		s += "," + x
	}
	return s + "}"
}

func (e *env) create(t *testing.T, name, value string, tags ...secrets.Tag) string {
	t.Helper()
	res, err := e.svc.Create(context.Background(), secrets.CreateInput{Name: name, Value: secrets.StringValue(value), Tags: tags})
	if err != nil {
		t.Fatal(err)
	}
	return res.ARN
}

// createUser creates a database secret named name for user with password
// pw, which the fake database holds too, and returns its ARN.
func (e *env) createUser(t *testing.T, name, user, pw string) string {
	t.Helper()
	e.db.pw[user] = pw
	return e.create(t, name, rds(user, pw))
}

func (e *env) current(t *testing.T, id string) (user, pw, version string) {
	t.Helper()
	v, err := e.svc.GetValue(context.Background(), id, "", secrets.StageCurrent)
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Username, Password string }
	if err := json.Unmarshal(v.Value.Reveal(), &m); err != nil {
		t.Fatal(err)
	}
	return m.Username, m.Password, v.VersionID
}

func stagesOf(t *testing.T, svc *secrets.Service, id string) map[string][]string {
	t.Helper()
	sec, err := svc.Describe(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return sec.VersionsToStages()
}

func TestRotateSingleUser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createUser(t, "/prod/db", "app", "old-pw")
	_, _, v1 := e.current(t, arn)
	r := e.rotation("a")
	res, err := r.Start(ctx, Request{SecretID: "/prod/db", Rules: &Rules{AutomaticallyAfterDays: 1}, Immediately: true})
	if err != nil {
		t.Fatal(err)
	}
	user, pw, v2 := e.current(t, arn)
	if v2 != res.VersionID || user != "app" || pw == "old-pw" || e.db.pw["app"] != pw || len(pw) != 32 {
		t.Fatalf("after the rotation: version %s (answered %s), user %s, database has the new password: %v", v2, res.VersionID, user, e.db.pw["app"] == pw)
	}
	want := map[string][]string{v1: {secrets.StagePrevious}, v2: {secrets.StageCurrent}}
	if got := stagesOf(t, e.svc, arn); !reflect.DeepEqual(got, want) {
		t.Errorf("stages = %v, want %v", got, want)
	}
	sec, _ := e.svc.Describe(ctx, arn)
	rot := sec.Rotation
	if !rot.Enabled || rot.AfterDays != 1 || !rot.LastRotated.Equal(e.clock.Now()) || !rot.Next.Equal(time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)) || rot.ClaimedBy != "" {
		t.Errorf("rotation state: %+v", rot)
	}
	if got := e.eventNames(); !reflect.DeepEqual(got, []string{"RotationStarted", "RotationSucceeded"}) {
		t.Errorf("events = %v", got)
	}
	for _, ev := range e.events {
		if b, _ := json.Marshal(ev); strings.Contains(string(b), pw) || strings.Contains(string(b), "old-pw") {
			t.Errorf("an event holds a password: %s", b)
		}
	}
	if got := counter(t, r, "succeeded"); got != 1 {
		t.Errorf("succeeded = %v", got)
	}
	// Due again the next day: the scheduler rotates it.
	if n, err := r.Pass(ctx); n != 0 || err != nil {
		t.Errorf("Pass before the window = %d, %v", n, err)
	}
	e.clock.Add(12 * time.Hour)
	if n, err := r.Pass(ctx); n != 1 || err != nil {
		t.Fatalf("Pass in the window = %d, %v", n, err)
	}
	if _, pw3, _ := e.current(t, arn); pw3 == pw || e.db.pw["app"] != pw3 {
		t.Error("the scheduled rotation did not change the password")
	}
}

func TestRotateAlternatingUsers(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.db.pw["master"], e.db.pw["app"] = "master-pw", "app-pw"
	master := e.create(t, "/prod/db-master", rds("master", "master-pw"))
	arn := e.create(t, "/prod/db-app", rds("app", "app-pw", `"masterarn":"`+master+`"`))
	r := e.rotation("a")
	if _, err := r.Start(ctx, Request{SecretID: arn, Rules: &Rules{ScheduleExpression: "rate(10 days)"}, Immediately: true}); err != nil {
		t.Fatal(err)
	}
	user, pw, _ := e.current(t, arn)
	if user != "app_clone" || e.db.pw["app_clone"] != pw || e.db.like["app_clone"] != "app" || e.db.pw["app"] != "app-pw" {
		t.Fatalf("first rotation: user %s, clone made like %q, app's password kept: %v", user, e.db.like["app_clone"], e.db.pw["app"] == "app-pw")
	}
	v, _ := e.svc.GetValue(ctx, arn, "", secrets.StageCurrent)
	if !strings.Contains(string(v.Value.Reveal()), `"masterarn":"`+master+`"`) {
		t.Error("the new version lost masterarn")
	}
	e.clock.Add(time.Hour)
	if _, err := r.Start(ctx, Request{SecretID: arn, Immediately: true}); err != nil {
		t.Fatal(err)
	}
	user2, pw2, _ := e.current(t, arn)
	if user2 != "app" || e.db.pw["app"] != pw2 || e.db.pw["app_clone"] != pw {
		t.Fatalf("second rotation: user %s", user2)
	}
	// AWSPREVIOUS (the clone) still works: the alternating strategy's point.
	prev, _ := e.svc.GetValue(ctx, arn, "", secrets.StagePrevious)
	if !strings.Contains(string(prev.Value.Reveal()), `"username":"app_clone"`) {
		t.Error("AWSPREVIOUS is not the clone")
	}
	// A wrong master: the rotation fails, AWSCURRENT stays.
	e.db.pw["master"] = "changed"
	e.clock.Add(time.Hour)
	if _, err := r.Start(ctx, Request{SecretID: arn, Immediately: true}); err != nil {
		t.Fatal(err)
	}
	if u, p, _ := e.current(t, arn); u != "app" || p != pw2 {
		t.Error("a failed rotation changed AWSCURRENT")
	}
	if got := e.eventNames(); got[len(got)-1] != "RotationFailed" {
		t.Errorf("events = %v", got)
	}
}

func TestRotateFailureAndResume(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createUser(t, "db", "app", "old-pw")
	_, _, v1 := e.current(t, arn)
	r := e.rotation("a")
	e.db.down = true
	res, err := r.Start(ctx, Request{SecretID: arn, Rules: &Rules{AutomaticallyAfterDays: 7}, Immediately: true})
	if err != nil {
		t.Fatalf("RotateSecret answers success even when the rotation fails (as AWS, whose rotation runs on its own): %v", err)
	}
	if _, pw, v := e.current(t, arn); v != v1 || pw != "old-pw" {
		t.Fatal("a failed rotation changed AWSCURRENT")
	}
	want := map[string][]string{v1: {secrets.StageCurrent}, res.VersionID: {secrets.StagePending}}
	if got := stagesOf(t, e.svc, arn); !reflect.DeepEqual(got, want) {
		t.Errorf("stages = %v, want %v", got, want)
	}
	sec, _ := e.svc.Describe(ctx, arn)
	if sec.Rotation.Failures != 1 || !sec.Rotation.Next.Equal(e.clock.Now().Add(time.Minute)) || sec.Rotation.ClaimedBy != "" {
		t.Errorf("after a failure: %+v", sec.Rotation)
	}
	if e.events[len(e.events)-1].Name != "RotationFailed" || !strings.Contains(e.events[len(e.events)-1].Error, "connection refused") {
		t.Errorf("events: %+v", e.events)
	}
	// A new rotation while this one is pending: AWS's error.
	if _, err := r.Start(ctx, Request{SecretID: arn, Immediately: true}); !errors.Is(err, secrets.ErrInvalidRequest) || !strings.Contains(err.Error(), "previous rotation isn't complete") {
		t.Errorf("RotateSecret with a rotation pending: %v", err)
	}
	// The backoff: no retry before it, and it doubles.
	if n, _ := r.Pass(ctx); n != 0 {
		t.Error("retried before the backoff")
	}
	e.clock.Add(61 * time.Second)
	if _, err := r.Pass(ctx); err == nil {
		t.Error("the retry with the database down succeeded")
	}
	sec, _ = e.svc.Describe(ctx, arn)
	if sec.Rotation.Failures != 2 || !sec.Rotation.Next.Equal(e.clock.Now().Add(2*time.Minute)) {
		t.Errorf("after two failures: %+v", sec.Rotation)
	}
	// The database is back: the retry resumes from the same pending version.
	e.db.down = false
	e.clock.Add(3 * time.Minute)
	if n, err := r.Pass(ctx); n != 1 || err != nil {
		t.Fatalf("the retry: %d, %v", n, err)
	}
	if _, pw, v := e.current(t, arn); v != res.VersionID || e.db.pw["app"] != pw {
		t.Error("the retry did not finish the pending version")
	}
	if got := counter(t, r, "failed"); got != 2 {
		t.Errorf("failed = %v", got)
	}
}

func TestRotateResumesInterrupted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createUser(t, "db", "app", "old-pw")
	// A replica that died after setSecret: the pending version exists, the
	// database has its password, the claim is stale.
	const token = "11111111-2222-4333-8444-555555555555"
	if _, err := e.svc.PutValue(ctx, secrets.PutInput{SecretID: arn, VersionID: token, Value: secrets.StringValue(rds("app", "pending-pw")), Stages: []string{secrets.StagePending}}); err != nil {
		t.Fatal(err)
	}
	e.db.pw["app"] = "pending-pw"
	claimedAt := e.clock.Now()
	if _, err := e.svc.UpdateRotation(ctx, arn, func(_ *secrets.Secret, rot *secrets.Rotation) error {
		rot.Enabled, rot.AfterDays, rot.Next, rot.ClaimedBy, rot.ClaimedAt = true, 1, claimedAt, "dead", claimedAt
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := e.rotation("b")
	if n, _ := r.Pass(ctx); n != 0 {
		t.Fatal("a fresh claim of another replica was taken over")
	}
	e.clock.Add(3 * time.Minute)
	if n, err := r.Pass(ctx); n != 1 || err != nil {
		t.Fatalf("resume: %d, %v", n, err)
	}
	if _, pw, v := e.current(t, arn); v != token || pw != "pending-pw" || e.db.sets != 0 {
		t.Errorf("resumed: version %s, password set again %d times", v, e.db.sets)
	}
}

func TestOneReplicaRotates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.db.delay = 50 * time.Millisecond
	arn := e.createUser(t, "db", "app", "old-pw")
	if _, err := e.rotation("x").Start(ctx, Request{SecretID: arn, Rules: &Rules{AutomaticallyAfterDays: 1}}); err != nil {
		t.Fatal(err)
	}
	if e.db.sets != 0 {
		t.Fatal("RotateImmediately=false rotated")
	}
	e.clock.Add(48 * time.Hour)
	var wg sync.WaitGroup
	for _, owner := range []string{"a", "b", "c", "d"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.rotation(owner).Pass(ctx)
		}()
	}
	wg.Wait()
	if e.db.sets != 1 {
		t.Errorf("%d replicas set the password", e.db.sets)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	r := e.rotation("a")
	day := &Rules{AutomaticallyAfterDays: 1}
	master := e.create(t, "m", rds("master", "pw"))
	dynRes, err := e.svc.Create(ctx, secrets.CreateInput{
		Name: "dyn", Value: secrets.StringValue(`{"masterarn":"` + master + `","grants":["app_reader"]}`),
		Tags: []secrets.Tag{{Key: dbcred.TagDynamic, Value: "true"}}, Master: master,
	})
	if err != nil {
		t.Fatal(err)
	}
	dyn := dynRes.ARN
	for _, tc := range []struct {
		name, value, msg string
		rules            *Rules
	}{
		{"plain", "hunter2", "not in that shape", day},
		{"json-array", `[1]`, "not in that shape", day},
		{"no-engine", `{"username":"a","password":"b"}`, "engine is missing", day},
		{"mysql", `{"engine":"mysql","host":"h","username":"a","password":"b"}`, `engine "mysql"`, day},
		{"no-password", `{"engine":"postgres","host":"h","username":"a"}`, "password is required", day},
		{"no-rules", rds("app", "pw"), "no rotation schedule", nil},
		{"self-master", "", "names itself", day},
		{"master-user", rds("master", "pw", `"masterarn":"`+master+`"`), "the master's", day},
		{"other-server", `{"engine":"postgres","host":"elsewhere","username":"app","password":"pw","masterarn":"` + master + `"}`, "another database server", day},
	} {
		t.Run(tc.name, func(t *testing.T) {
			value := tc.value
			arn := ""
			if tc.name == "self-master" {
				arn = e.create(t, tc.name, rds("app", "pw"))
				self := rds("app", "pw", `"masterarn":"`+arn+`"`)
				if _, err := e.svc.PutValue(ctx, secrets.PutInput{SecretID: arn, Value: secrets.StringValue(self)}); err != nil {
					t.Fatal(err)
				}
			} else {
				arn = e.create(t, tc.name, value)
			}
			_, err := r.Start(ctx, Request{SecretID: arn, Rules: tc.rules, Immediately: true})
			if !errors.Is(err, secrets.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Start = %v, want InvalidRequest saying %q", err, tc.msg)
			}
			if strings.Contains(err.Error(), "pw") && !strings.Contains(tc.msg, "pw") || strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error quotes the value: %v", err)
			}
		})
	}
	if _, err := r.Start(ctx, Request{SecretID: dyn, Rules: day, Immediately: true}); !errors.Is(err, secrets.ErrInvalidRequest) || !strings.Contains(err.Error(), "dynamic") {
		t.Errorf("dynamic secret: %v", err)
	}
	if _, err := r.Start(ctx, Request{SecretID: "nope", Rules: day}); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("missing secret: %v", err)
	}
	if len(e.events) != 0 {
		t.Errorf("refusals were audited as rotations: %v", e.eventNames())
	}
}

func TestCancel(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createUser(t, "db", "app", "old-pw")
	r := e.rotation("a")
	e.db.down = true
	res, err := r.Start(ctx, Request{SecretID: arn, Rules: &Rules{AutomaticallyAfterDays: 1}, Immediately: true})
	if err != nil {
		t.Fatal(err)
	}
	before := stagesOf(t, e.svc, arn)
	sec, pending, err := r.Cancel(ctx, arn)
	if err != nil {
		t.Fatal(err)
	}
	if pending != res.VersionID || sec.Rotation.Enabled || !sec.Rotation.Next.IsZero() || sec.Rotation.AfterDays != 1 {
		t.Errorf("after Cancel: pending %q, %+v", pending, sec.Rotation)
	}
	if got := stagesOf(t, e.svc, arn); !reflect.DeepEqual(got, before) {
		t.Errorf("Cancel changed the stages: %v → %v", before, got)
	}
	e.db.down = false
	e.clock.Add(72 * time.Hour)
	if n, _ := r.Pass(ctx); n != 0 {
		t.Error("a cancelled rotation was rotated")
	}
}

func counter(t *testing.T, r *Service, result string) float64 {
	t.Helper()
	var m dto.Metric
	if err := r.total.WithLabelValues(result).Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestStartWhileAnotherReplicaRotates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createUser(t, "db", "app", "old-pw")
	now := e.clock.Now()
	if _, err := e.svc.UpdateRotation(ctx, arn, func(_ *secrets.Secret, rot *secrets.Rotation) error {
		rot.Enabled, rot.AfterDays, rot.Next, rot.ClaimedBy, rot.ClaimedAt = true, 1, now, "other", now
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := e.rotation("a").Start(ctx, Request{SecretID: arn, Immediately: true})
	if !errors.Is(err, secrets.ErrInvalidRequest) || e.db.sets != 0 {
		t.Fatalf("Start while another replica holds the claim: %v (password set %d times)", err, e.db.sets)
	}
	// RotateImmediately=false only changes the configuration.
	if _, err := e.rotation("a").Start(ctx, Request{SecretID: arn, Rules: &Rules{AutomaticallyAfterDays: 3}}); err != nil {
		t.Fatal(err)
	}
	sec, _ := e.svc.Describe(ctx, arn)
	if sec.Rotation.ClaimedBy != "other" || sec.Rotation.AfterDays != 3 || !sec.Rotation.Next.Equal(time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("after a configuration change: %+v", sec.Rotation)
	}
}

// TestStartRetried: the same ClientRequestToken again (an SDK's retry of
// a RotateSecret whose answer was lost) answers the same version and
// rotates nothing more.
func TestStartRetried(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	arn := e.createUser(t, "db", "app", "old-pw")
	const token = "22222222-2222-4333-8444-555555555555"
	r := e.rotation("a")
	for range 2 {
		res, err := r.Start(ctx, Request{SecretID: arn, Token: token, Rules: &Rules{AutomaticallyAfterDays: 1}, Immediately: true})
		if err != nil || res.VersionID != token {
			t.Fatalf("Start = %+v, %v", res, err)
		}
	}
	if _, _, v := e.current(t, arn); v != token || e.db.sets != 1 {
		t.Errorf("AWSCURRENT %s, password set %d times", v, e.db.sets)
	}
}
