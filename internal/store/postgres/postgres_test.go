package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/pgtest"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
	"github.com/shortfuse/shortfuse/internal/store/storetest"
	"github.com/shortfuse/shortfuse/internal/testutil"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mustOpen opens a Store on dsn and closes it when the test ends.
func mustOpen(tb testing.TB, dsn string, opts postgres.Options) *postgres.Store {
	tb.Helper()
	return storetest.MustOpen(tb, func() (*postgres.Store, error) { return postgres.Open(context.Background(), dsn, opts) })
}

// exec runs one statement on dsn on a connection of its own.
func exec(t *testing.T, dsn, sql string, args ...any) {
	t.Helper()
	// Not t.Context(): exec also runs in cleanups, after it is done.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestConformance(t *testing.T) {
	tests := []struct {
		name string
		opts postgres.Options
	}{
		{"ok/default", postgres.Options{}},
		// One row per page: every Scan crosses page boundaries, with
		// writes between them.
		{"ok/scan-batch-1", postgres.Options{ScanBatchSize: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				return mustOpen(t, pgtest.NewDatabase(t), tt.opts)
			})
		})
	}
}

func count(t *testing.T, s store.Store, bucket string) int {
	t.Helper()
	var n int
	err := s.View(t.Context(), func(tx store.Tx) error {
		var err error
		n, err = tx.Count(bucket, "")
		return err
	})
	if err != nil {
		t.Fatalf("Count() = %v", err)
	}
	return n
}

func TestOpen(t *testing.T) {
	base := pgtest.DSN(t)
	const password = "hunter2-not-for-logs"
	closedPort, err := testutil.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dsn     func(t *testing.T) string
		wantErr error // nil: any error
	}{
		{"fail/unparsable-url", func(*testing.T) string { return "postgres://u:" + password + "@host:notaport/db" }, nil},
		{"fail/unparsable-key-value", func(*testing.T) string { return "host=x password='" + password }, nil},
		{"fail/unreachable", func(*testing.T) string {
			return fmt.Sprintf("postgres://u:%s@127.0.0.1:%d/db?connect_timeout=2", password, closedPort)
		}, nil},
		{"fail/wrong-password", func(t *testing.T) string {
			return editDSN(t, pgtest.NewDatabase(t), func(u *url.URL, q url.Values) {
				u.User = url.UserPassword(u.User.Username(), password)
			})
		}, nil},
		{"fail/synchronous-commit-off", func(t *testing.T) string {
			return editDSN(t, pgtest.NewDatabase(t), func(u *url.URL, q url.Values) {
				q.Set("synchronous_commit", "off")
			})
		}, postgres.ErrUnsafe},
		{"fail/encoding-not-utf8", func(t *testing.T) string {
			name := fmt.Sprintf("sftest_ascii_%d", time.Now().UnixNano())
			exec(t, base, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'SQL_ASCII' LOCALE 'C'`)
			t.Cleanup(func() { exec(t, base, `DROP DATABASE `+name+` WITH (FORCE)`) })
			return editDSN(t, base, func(u *url.URL, q url.Values) { u.Path = "/" + name })
		}, postgres.ErrUnsafe},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), tt.dsn(t), postgres.Options{})
			if err == nil {
				s.Close()
				t.Fatal("Open() = nil, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Open() = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("Open() error shows the password: %v", err)
			}
		})
	}
}

// editDSN changes a postgres:// DSN.
func editDSN(t *testing.T, dsn string, edit func(u *url.URL, q url.Values)) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("the test DSN is not a URL")
	}
	q := u.Query()
	edit(u, q)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestSeveralStoresShareOneDatabase(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := mustOpen(t, dsn, postgres.Options{})
	b := mustOpen(t, dsn, postgres.Options{})
	storetest.Put(t, a, "items", "k", "from-a")
	if got, err := storetest.Get(t, b, "items", "k"); err != nil || got != "from-a" {
		t.Errorf("Get() on the other Store = %q, %v; want %q, nil", got, err, "from-a")
	}
}

// conflict runs two Updates that read the same key and then both write it:
// under SERIALIZABLE the second to write cannot commit. first commits while
// second is between its read and its write. It returns second's result and
// how many times second's function ran.
func conflict(t *testing.T, s *postgres.Store) (error, int) {
	t.Helper()
	runs := 0
	increment := func(tx store.Tx) error { return storetest.Increment(tx, "ctr", "n") }
	err := s.Update(t.Context(), func(tx store.Tx) error {
		runs++
		if _, err := tx.Get("ctr", "n"); err != nil {
			return err
		}
		if runs == 1 {
			// Another connection of the pool; this transaction stays
			// open meanwhile.
			if err := s.Update(context.Background(), increment); err != nil {
				return fmt.Errorf("first Update() = %w", err)
			}
		}
		return increment(tx)
	})
	return err, runs
}

func TestSerializationRetry(t *testing.T) {
	t.Run("ok/function-runs-again", func(t *testing.T) {
		s := mustOpen(t, pgtest.NewDatabase(t), postgres.Options{})
		storetest.Put(t, s, "ctr", "n", "0")
		err, runs := conflict(t, s)
		if err != nil {
			t.Fatalf("Update() = %v, want nil", err)
		}
		if runs != 2 {
			t.Errorf("function ran %d times, want 2", runs)
		}
		if got, _ := storetest.Get(t, s, "ctr", "n"); got != "2" {
			t.Errorf("counter = %q, want 2", got)
		}
		if st := s.Stats(); st.Retries != 1 || st.GaveUp != 0 {
			t.Errorf("Stats() = %+v, want 1 retry", st)
		}
	})

	t.Run("fail/max-attempts-reached", func(t *testing.T) {
		s := mustOpen(t, pgtest.NewDatabase(t), postgres.Options{MaxAttempts: 1})
		storetest.Put(t, s, "ctr", "n", "0")
		err, runs := conflict(t, s)
		if err == nil || !strings.Contains(err.Error(), "40001") {
			t.Fatalf("Update() = %v, want a serialization failure", err)
		}
		if runs != 1 {
			t.Errorf("function ran %d times, want 1", runs)
		}
		if got, _ := storetest.Get(t, s, "ctr", "n"); got != "1" {
			t.Errorf("counter = %q, want 1 (only the first Update)", got)
		}
		if st := s.Stats(); st.GaveUp != 1 {
			t.Errorf("Stats() = %+v, want GaveUp 1", st)
		}
	})

	t.Run("ok/concurrent-increments-exact", func(t *testing.T) {
		// More connections than the default pool, so that many
		// transactions really overlap.
		dsn := editDSN(t, pgtest.NewDatabase(t), func(u *url.URL, q url.Values) { q.Set("pool_max_conns", "12") })
		s := mustOpen(t, dsn, postgres.Options{})
		const workers, rounds = 12, 50
		storetest.Put(t, s, "ctr", "n", "0")
		storetest.UpdateConcurrently(t, s, workers, rounds, func(tx store.Tx, w, r int) error {
			v, err := tx.Get("ctr", "n")
			if err != nil {
				return err
			}
			n, _ := strconv.Atoi(string(v))
			// Also a scan of the bucket, so that predicate locks
			// take part.
			if _, err := tx.Count("ctr", "w"); err != nil {
				return err
			}
			return errors.Join(
				tx.Put("ctr", "n", []byte(strconv.Itoa(n+1))),
				tx.Put("ctr", fmt.Sprintf("w%02d/%03d", w, r), nil),
			)
		})
		if got, _ := storetest.Get(t, s, "ctr", "n"); got != strconv.Itoa(workers*rounds) {
			t.Errorf("counter = %q, want %d", got, workers*rounds)
		}
		if n := count(t, s, "ctr"); n != workers*rounds+1 {
			t.Errorf("Count() = %d, want %d", n, workers*rounds+1)
		}
		st := s.Stats()
		if st.Retries == 0 {
			t.Error("no Update was retried; the test did not exercise serialization failures")
		}
		t.Logf("%d increments, %d retries", workers*rounds, st.Retries)
	})
}

// backendPIDs returns the server processes of database dsn that hold a
// transaction open and idle.
func backendPIDs(t *testing.T, dsn string) []int32 {
	t.Helper()
	return int32s(t, dsn, `SELECT pid FROM pg_stat_activity
		WHERE datname = current_database() AND state = 'idle in transaction' AND pid <> pg_backend_pid()`)
}

// int32s runs query, whose one column is an int4, on a connection of its
// own to dsn and returns the column.
func int32s(t *testing.T, dsn, query string) []int32 {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), query)
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestKilledConnection(t *testing.T) {
	tests := []struct {
		name string
		// after runs in the transaction function once its connection
		// has been terminated; it returns the function's result.
		after func(tx store.Tx) error
	}{
		{"fail/function-returns-the-error", func(tx store.Tx) error {
			return tx.Put("items", "after", []byte("x"))
		}},
		{"fail/function-ignores-the-error", func(tx store.Tx) error {
			_ = tx.Put("items", "after", []byte("x"))
			return nil
		}},
		{"fail/no-statement-after-the-kill", func(tx store.Tx) error {
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn := pgtest.NewDatabase(t)
			s := mustOpen(t, dsn, postgres.Options{})
			storetest.Put(t, s, "items", "k0", "old")
			err := s.Update(t.Context(), func(tx store.Tx) error {
				for i := range 10 {
					if err := tx.Put("items", fmt.Sprintf("k%d", i), []byte("new")); err != nil {
						return err
					}
				}
				pids := backendPIDs(t, dsn)
				if len(pids) != 1 {
					return fmt.Errorf("found %d idle transactions, want 1", len(pids))
				}
				exec(t, dsn, `SELECT pg_terminate_backend($1)`, pids[0])
				return tt.after(tx)
			})
			if err == nil {
				t.Fatal("Update() = nil after its connection was killed, want an error")
			}
			if strings.Contains(err.Error(), "found") {
				t.Fatal(err)
			}
			// Nothing of the transaction was written, and the Store
			// keeps working on its other connections.
			want := map[string]string{"k0": "old"}
			got := storetest.Contents(t, s, "items")
			if len(got) != len(want) || got["k0"] != "old" {
				t.Errorf("bucket after the kill = %v, want %v", got, want)
			}
			storetest.Put(t, s, "items", "k1", "later")
		})
	}
}

func TestScanLarge(t *testing.T) {
	s := mustOpen(t, pgtest.NewDatabase(t), postgres.Options{ScanBatchSize: 64})
	const n = 1000
	var want []string
	err := s.Update(t.Context(), func(tx store.Tx) error {
		for i := range n {
			k := fmt.Sprintf("k/%d", i)
			if err := tx.Put("many", k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		want = append(want, fmt.Sprintf("k/%d", i))
	}
	slices.Sort(want)

	tests := []struct {
		name  string
		write func(tx store.Tx, k string) error
	}{
		{"ok/read-only", func(store.Tx, string) error { return nil }},
		{"ok/delete-each", func(tx store.Tx, k string) error { return tx.Delete("many", k) }},
		{"ok/overwrite-each", func(tx store.Tx, k string) error { return tx.Put("many", k, []byte("x")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := s.Update(t.Context(), func(tx store.Tx) error {
				got = nil
				err := tx.Scan("many", "k/", "", func(k string, v []byte) (bool, error) {
					if string(v) != k {
						return false, fmt.Errorf("value of %s = %q", k, v)
					}
					got = append(got, k)
					return true, tt.write(tx, k)
				})
				if err != nil {
					return err
				}
				return errors.New("roll back")
			})
			if err == nil || err.Error() != "roll back" {
				t.Fatalf("Update() = %v", err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("Scan() visited %d keys, want %d in order", len(got), len(want))
			}
		})
	}
}
