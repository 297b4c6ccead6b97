package postgres_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
	"github.com/shortfuse/shortfuse/internal/store/storetest"
)

// migrations returns the versions recorded in the database.
func migrations(t *testing.T, dsn string) []int32 {
	t.Helper()
	return int32s(t, dsn, `SELECT version FROM shortfuse_schema_migrations ORDER BY version`)
}

func TestMigrate(t *testing.T) {
	t.Run("ok/idempotent", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		applied, err := postgres.Migrate(t.Context(), dsn)
		if err != nil || !slices.Equal(applied, []int{1}) {
			t.Fatalf("first Migrate() = %v, %v; want [1], nil", applied, err)
		}
		applied, err = postgres.Migrate(t.Context(), dsn)
		if err != nil || len(applied) != 0 {
			t.Fatalf("second Migrate() = %v, %v; want [], nil", applied, err)
		}
		// Open finds nothing to do and the store works.
		s := mustOpen(t, dsn, postgres.Options{})
		storetest.Put(t, s, "items", "k", "v")
		if got := migrations(t, dsn); !slices.Equal(got, []int32{1}) {
			t.Errorf("recorded migrations = %v, want [1]", got)
		}
	})

	t.Run("ok/open-migrates-a-new-database", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		s := mustOpen(t, dsn, postgres.Options{})
		storetest.Put(t, s, "items", "k", "v")
		applied, err := postgres.Migrate(t.Context(), dsn)
		if err != nil || len(applied) != 0 {
			t.Fatalf("Migrate() after Open = %v, %v; want [], nil", applied, err)
		}
	})

	t.Run("ok/concurrent-opens", func(t *testing.T) {
		// Replicas starting at once on an empty database: the advisory
		// lock makes one migrate and the others wait and find it done.
		dsn := pgtest.NewDatabase(t)
		const replicas = 3
		stores := make([]*postgres.Store, replicas)
		errs := make([]error, replicas)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range replicas {
			wg.Go(func() {
				<-start
				stores[i], errs[i] = postgres.Open(context.Background(), dsn, postgres.Options{})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open() %d = %v", i, err)
				continue
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		if t.Failed() {
			return
		}
		if got := migrations(t, dsn); !slices.Equal(got, []int32{1}) {
			t.Errorf("recorded migrations = %v, want [1]", got)
		}
		storetest.Put(t, stores[0], "items", "k", "v")
		for i, s := range stores {
			if got, err := storetest.Get(t, s, "items", "k"); err != nil || got != "v" {
				t.Errorf("Get() on store %d = %q, %v", i, got, err)
			}
		}
	})

	t.Run("ok/concurrent-migrates", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		const callers = 3
		applied := make([][]int, callers)
		errs := make([]error, callers)
		var wg sync.WaitGroup
		for i := range callers {
			wg.Go(func() { applied[i], errs[i] = postgres.Migrate(context.Background(), dsn) })
		}
		wg.Wait()
		total := 0
		for i := range callers {
			if errs[i] != nil {
				t.Errorf("Migrate() %d = %v", i, errs[i])
			}
			total += len(applied[i])
		}
		if total != 1 {
			t.Errorf("migrations applied in all = %d (%v), want 1", total, applied)
		}
	})

	t.Run("fail/schema-too-new", func(t *testing.T) {
		dsn := pgtest.NewDatabase(t)
		if _, err := postgres.Migrate(t.Context(), dsn); err != nil {
			t.Fatal(err)
		}
		exec(t, dsn, `INSERT INTO shortfuse_schema_migrations (version, name) VALUES (9999, '9999_future.sql')`)
		if _, err := postgres.Open(t.Context(), dsn, postgres.Options{}); !errors.Is(err, postgres.ErrSchemaTooNew) {
			t.Errorf("Open() = %v, want ErrSchemaTooNew", err)
		}
		if _, err := postgres.Migrate(t.Context(), dsn); !errors.Is(err, postgres.ErrSchemaTooNew) {
			t.Errorf("Migrate() = %v, want ErrSchemaTooNew", err)
		}
	})

	t.Run("fail/failed-migration-applies-nothing", func(t *testing.T) {
		// A table in the way makes migration 1 fail: the migrations
		// table created in the same transaction must not stay behind.
		dsn := pgtest.NewDatabase(t)
		exec(t, dsn, `CREATE TABLE shortfuse_kv (x int)`)
		if _, err := postgres.Migrate(t.Context(), dsn); err == nil {
			t.Fatal("Migrate() = nil, want an error")
		}
		conn, err := pgx.Connect(t.Context(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		var exists bool
		if err := conn.QueryRow(t.Context(), `SELECT to_regclass('shortfuse_schema_migrations') IS NOT NULL`).Scan(&exists); err != nil || exists {
			t.Errorf("shortfuse_schema_migrations exists = %v, %v; want false", exists, err)
		}
	})
}
