package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/, named NNNN_description.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrationLockKey is the key of the transaction-level advisory lock that
// serializes migrations: replicas started together wait for each other
// instead of racing to create the same tables. The value is "shortfus" in
// ASCII.
const migrationLockKey int64 = 0x73686f7274667573

// loadMigrations returns the embedded migrations in version order. Versions
// start at 1 and have no gaps, which a test checks.
func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := path.Base(name)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("postgres: migration file %s is not named NNNN_description.sql", base)
		}
		b, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("postgres: no migrations embedded")
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	return ms, nil
}

// Migrate connects to the database at dsn and applies the embedded
// migrations that it lacks, and returns their versions in the order applied
// (empty when the schema was current). Open does the same, so Migrate is
// only needed to migrate ahead of a rolling upgrade, or with a more
// privileged role than the servers use.
//
// All pending migrations run in one transaction under an advisory lock:
// concurrent callers (several replicas starting) wait, and either all
// migrations apply or none. It fails with ErrSchemaTooNew if the database
// holds a migration that this version does not know.
func Migrate(ctx context.Context, dsn string) (applied []int, err error) {
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := checkSettings(ctx, conn); err != nil {
		return nil, err
	}
	return migrate(ctx, conn)
}

const sqlCreateMigrations = `CREATE TABLE shortfuse_schema_migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)`

func migrate(ctx context.Context, conn *pgx.Conn) ([]int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	// READ COMMITTED: each statement after the lock sees what the
	// previous holder of the lock committed.
	ptx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	defer rollback(ctx, ptx)
	if _, err := ptx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLockKey); err != nil {
		return nil, fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	// Look before creating, so that a role without CREATE can open a
	// database that is already migrated.
	var exists bool
	if err := ptx.QueryRow(ctx, `SELECT to_regclass('shortfuse_schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if !exists {
		if _, err := ptx.Exec(ctx, sqlCreateMigrations); err != nil {
			return nil, fmt.Errorf("postgres: migrate: create shortfuse_schema_migrations: %w", err)
		}
	}
	rows, err := ptx.Query(ctx, `SELECT version FROM shortfuse_schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	done, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	known := ms[len(ms)-1].version
	for _, v := range done {
		if int(v) > known {
			return nil, fmt.Errorf("%w: it has migration %d, this version knows up to %d; upgrade shortfuse", ErrSchemaTooNew, v, known)
		}
	}
	applied := []int{}
	for _, m := range ms {
		if slices.Contains(done, int32(m.version)) {
			continue
		}
		// Without arguments, pgx sends the file with the simple query
		// protocol, which runs several statements.
		if _, err := ptx.Exec(ctx, m.sql); err != nil {
			return nil, fmt.Errorf("postgres: migrate: %s: %w", m.name, err)
		}
		if _, err := ptx.Exec(ctx, `INSERT INTO shortfuse_schema_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
			return nil, fmt.Errorf("postgres: migrate: record %s: %w", m.name, err)
		}
		applied = append(applied, m.version)
	}
	if err := ptx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("postgres: migrate: commit: %w", err)
	}
	return applied, nil
}
