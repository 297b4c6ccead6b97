package rotation

import (
	"context"
	"crypto/rand"
	"sync"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/internal/dbcred"
	"github.com/shortfuse/shortfuse/internal/secrets"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestReplicasPostgresStore: replicas sharing a PostgreSQL store run
// their passes at once; one of them rotates each due secret.
func TestReplicasPostgresStore(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	sealer := testutil.Sealer(t)
	c := testutil.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	db := &fakeDB{pw: map[string]string{}, like: map[string]string{}, delay: 30 * time.Millisecond}
	const n = 3
	var reps []*Service
	var svcs []*secrets.Service
	for i := range n {
		st, err := postgres.Open(t.Context(), dsn, postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		svc := secrets.New(st, sealer, "123456789012", "us-east-1", c.Now, rand.Reader)
		svcs = append(svcs, svc)
		reps = append(reps, New(Options{Secrets: svc, Rotators: map[string]dbcred.Rotator{"postgres": db}, Replica: dbcred.Replica{Owner: string(rune('a' + i)), Now: c.Now}}))
	}
	ctx := context.Background()
	users := []string{"u1", "u2", "u3", "u4"}
	for _, u := range users {
		db.pw[u] = "old-" + u
		res, err := svcs[0].Create(ctx, secrets.CreateInput{Name: "/db/" + u, Value: secrets.StringValue(rds(u, "old-"+u))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := reps[0].Start(ctx, Request{SecretID: res.ARN, Rules: &Rules{AutomaticallyAfterDays: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	c.Add(36 * time.Hour)
	var wg sync.WaitGroup
	counts := make([]int, n)
	for i, r := range reps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], _ = r.Pass(ctx)
		}()
	}
	wg.Wait()
	total := 0
	for _, k := range counts {
		total += k
	}
	if db.sets != len(users) || total != len(users) {
		t.Errorf("passwords set %d times, rotations counted %v, want %d each", db.sets, counts, len(users))
	}
	for _, u := range users {
		v, err := svcs[1].GetValue(ctx, "/db/"+u, "", secrets.StageCurrent)
		if err != nil {
			t.Fatal(err)
		}
		if string(v.Value.Reveal()) == rds(u, "old-"+u) {
			t.Errorf("%s was not rotated", u)
		}
	}
}
