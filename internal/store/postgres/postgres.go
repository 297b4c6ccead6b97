package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Defaults for the zero fields of Options.
const (
	// DefaultMaxAttempts bounds how often Update runs its function when
	// PostgreSQL keeps reporting serialization failures or deadlocks.
	DefaultMaxAttempts = 50
	// DefaultScanBatchSize is the largest number of rows Scan fetches in one
	// query. Scan starts with smaller pages so that a scan stopped after a
	// few keys reads only a few.
	DefaultScanBatchSize = 256
)

// Back-off between attempts of an Update: a random delay below a bound that
// doubles from minRetryDelay up to maxRetryDelay.
const (
	minRetryDelay = time.Millisecond
	maxRetryDelay = 100 * time.Millisecond

	rollbackTimeout = 10 * time.Second
)

// ErrSchemaTooNew means the database was migrated by a newer shortfuse: this
// version does not know the schema and refuses to use it.
var ErrSchemaTooNew = errors.New("postgres: database schema is newer than this shortfuse")

// ErrUnsafe means the server or the connection settings do not make a
// committed transaction durable or do not store keys as UTF-8, and Open
// refuses the database.
var ErrUnsafe = errors.New("postgres: unsafe database settings")

// Options tunes Open. The zero value is the recommended configuration. The
// pool size and other connection settings come from the DSN, for example
// pool_max_conns=16 (see pgxpool.ParseConfig).
type Options struct {
	// MaxAttempts bounds how many times Update runs its function when the
	// transaction fails with a serialization failure (SQLSTATE 40001) or a
	// deadlock (40P01). Zero means DefaultMaxAttempts.
	MaxAttempts int

	// ScanBatchSize is the largest number of rows one Scan query fetches,
	// which bounds Scan's memory to that many values. Zero means
	// DefaultScanBatchSize.
	ScanBatchSize int

	// Logger receives the reconnections of Listen and the migrations that
	// Open applies. Nil discards them. Nothing logged carries a key, a
	// value or the password of the DSN.
	Logger *slog.Logger

	// TxTimeout, when positive, is the deadline of every View and Update
	// whose context has none: a database that stops answering (a network
	// that drops packets without a reset) gives the caller an error after
	// TxTimeout instead of holding it. Callers that need longer (a scan of
	// every session at start) give their context a deadline of their own.
	TxTimeout time.Duration
}

// Store is a store.Store kept in one PostgreSQL table. Several Stores, in one
// process or in several, may share one database.
type Store struct {
	pool        *pgxpool.Pool
	connConfig  *pgx.ConnConfig // for the dedicated connections of Listen
	log         *slog.Logger
	maxAttempts int
	scanBatch   int
	txTimeout   time.Duration

	// Transactions register in inflight and listeners in listeners
	// through gate, so that Close, having closed gate, can wait for all
	// of them.
	gate      store.Gate
	inflight  sync.WaitGroup
	listeners sync.WaitGroup
	done      chan struct{} // closed by Close; stops listeners

	closeOnce sync.Once

	retries  atomic.Uint64
	gaveUp   atomic.Uint64
	timeouts atomic.Uint64
}

var _ store.Store = (*Store)(nil)

// Stats counts events since Open, for metrics.
type Stats struct {
	// Retries is how many times an Update ran its function again after a
	// serialization failure or a deadlock.
	Retries uint64
	// GaveUp is how many Updates failed after MaxAttempts attempts.
	GaveUp uint64
	// Timeouts is how many transactions ended because their deadline
	// passed (the database did not answer in time).
	Timeouts uint64
}

// Stats returns the counters of s.
func (s *Store) Stats() Stats {
	return Stats{Retries: s.retries.Load(), GaveUp: s.gaveUp.Load(), Timeouts: s.timeouts.Load()}
}

// parseDSN parses dsn without ever echoing it: pgx redacts passwords from
// its parse errors only on a best-effort basis, and url.Parse errors quote
// the whole string.
func parseDSN(dsn string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: cannot parse the connection string (not shown, as it may hold a password)")
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "shortfuse"
	}
	// Connections that died quietly are found between requests, not by
	// the next request to take one; a new connection gives up quickly.
	if !strings.Contains(dsn, "pool_health_check_period") {
		cfg.HealthCheckPeriod = 5 * time.Second
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	return cfg, nil
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string, as pgx accepts), checks that the server commits durably and stores
// UTF-8, applies pending migrations (see Migrate), and returns the Store.
// It fails with an error wrapping ErrUnsafe if fsync or synchronous_commit
// is off or the database encoding is not UTF8, and with ErrSchemaTooNew if
// a newer shortfuse migrated the database. Errors never quote the DSN.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.ScanBatchSize <= 0 {
		opts.ScanBatchSize = DefaultScanBatchSize
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{
		pool:        pool,
		connConfig:  cfg.ConnConfig.Copy(),
		log:         opts.Logger,
		maxAttempts: opts.MaxAttempts,
		scanBatch:   opts.ScanBatchSize,
		txTimeout:   opts.TxTimeout,
		done:        make(chan struct{}),
	}
	if err := s.setUp(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) setUp(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("postgres: connect: %w", err)
	}
	defer conn.Release()
	if err := checkSettings(ctx, conn.Conn()); err != nil {
		return err
	}
	applied, err := migrate(ctx, conn.Conn())
	if err != nil {
		return err
	}
	for _, v := range applied {
		s.log.Info("postgres: applied migration", "version", v)
	}
	return nil
}

// checkSettings refuses a server on which an acknowledged commit might not
// survive a crash, or whose text columns cannot hold every valid key.
func checkSettings(ctx context.Context, conn *pgx.Conn) error {
	var fsync, syncCommit, encoding string
	err := conn.QueryRow(ctx, `SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('server_encoding')`).
		Scan(&fsync, &syncCommit, &encoding)
	if err != nil {
		return fmt.Errorf("postgres: read server settings: %w", err)
	}
	var bad []string
	if fsync != "on" {
		bad = append(bad, "fsync is "+fsync+", want on")
	}
	if syncCommit == "off" {
		bad = append(bad, "synchronous_commit is off, want on (or local, remote_write, remote_apply)")
	}
	if encoding != "UTF8" {
		bad = append(bad, "the database encoding is "+encoding+", want UTF8")
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrUnsafe, strings.Join(bad, "; "))
	}
	return nil
}

// enter registers a transaction, or reports why none may start.
// deadline gives ctx the store's TxTimeout unless it has a deadline. The
// returned func ends it, and counts a transaction that ended because a
// deadline passed.
func (s *Store) deadline(ctx context.Context) (context.Context, func()) {
	ctx, cancel := store.DefaultDeadline(ctx, s.txTimeout)
	return ctx, func() {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			s.timeouts.Add(1)
		}
		cancel()
	}
}

func (s *Store) enter(ctx context.Context) error {
	return s.gate.Enter(ctx, &s.inflight)
}

// View implements store.Store with a REPEATABLE READ, READ ONLY transaction:
// every statement of fn sees the snapshot taken by its first one.
func (s *Store) View(ctx context.Context, fn func(store.Tx) error) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.inflight.Done()
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("postgres: begin view: %w", err)
	}
	// Rolling back also ends a read-only transaction; it runs even if fn
	// panics.
	defer rollback(ctx, ptx)
	t := &tx{ctx: ctx, ptx: ptx, s: s}
	return t.run(fn)
}

// Update implements store.Store with a SERIALIZABLE transaction. When
// PostgreSQL aborts it with a serialization failure or a deadlock, at any
// statement or at commit, the transaction is rolled back and fn runs again in
// a new one, after a short random delay, up to Options.MaxAttempts times.
// Only the attempt that commits counts; synchronous_commit makes it durable
// before Update returns nil.
//
// If the connection fails during COMMIT the outcome is unknown: Update
// returns the error and does not retry, as the commit may have happened.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	ctx, cancel := s.deadline(ctx)
	defer cancel()
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.inflight.Done()
	var last error
	for attempt := 1; ; attempt++ {
		retry, err := s.attempt(ctx, fn)
		if !retry {
			return err
		}
		last = err
		if attempt >= s.maxAttempts {
			s.gaveUp.Add(1)
			return fmt.Errorf("postgres: update gave up after %d attempts: %w", attempt, last)
		}
		s.retries.Add(1)
		if err := sleep(ctx, retryDelay(attempt)); err != nil {
			return fmt.Errorf("postgres: update interrupted while retrying (%w): %w", err, last)
		}
	}
}

// attempt runs fn in one transaction. It reports retry when the transaction
// failed with an error that a new attempt may not meet.
func (s *Store) attempt(ctx context.Context, fn func(store.Tx) error) (retry bool, err error) {
	ptx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable, AccessMode: pgx.ReadWrite})
	if err != nil {
		return false, fmt.Errorf("postgres: begin update: %w", err)
	}
	// After a successful Commit, rollback is a no-op.
	defer rollback(ctx, ptx)
	t := &tx{ctx: ctx, ptx: ptx, s: s, writable: true}
	fnErr := t.run(fn)
	if t.aborted != nil && retryable(t.aborted) {
		// fn saw an error caused by the conflict, and may have decided on
		// it: whatever it returned, run it again.
		return true, t.aborted
	}
	if fnErr != nil {
		return false, fnErr
	}
	if t.aborted != nil {
		// fn ignored a failed statement: PostgreSQL has aborted the
		// transaction, so its writes are lost and must not be reported
		// as committed.
		return false, fmt.Errorf("postgres: commit refused: a statement of the transaction failed: %w", t.aborted)
	}
	if err := ptx.Commit(ctx); err != nil {
		if retryable(err) {
			return true, err
		}
		return false, fmt.Errorf("postgres: commit: %w", err)
	}
	return false, nil
}

// retryable reports a serialization failure or a deadlock, after which the
// transaction was rolled back and may succeed if run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// retryDelay is a random delay before attempt+1 ("full jitter"): contending
// transactions spread out instead of colliding again in step. The jitter
// comes from math/rand/v2's shared generator on purpose: it affects only
// timing, never a result.
func retryDelay(attempt int) time.Duration {
	bound := maxRetryDelay
	if attempt < 10 && minRetryDelay<<attempt < maxRetryDelay {
		bound = minRetryDelay << attempt
	}
	return rand.N(bound) + 1
}

// rollback ends ptx unless it was committed. It runs even when ctx is
// cancelled, but gives up after rollbackTimeout: if the server cannot be
// reached, pgx closes the connection, and the server rolls back on its own.
func rollback(ctx context.Context, ptx pgx.Tx) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_ = ptx.Rollback(ctx)
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close implements store.Store: it refuses new transactions, stops Listen
// calls, waits for the transactions in flight, and closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.gate.Close()
		close(s.done) // Listen calls admitted end; no new one is admitted
		s.inflight.Wait()
		s.listeners.Wait()
		s.pool.Close()
	})
	return nil
}
