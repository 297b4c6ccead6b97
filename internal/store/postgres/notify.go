package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Notifier is what a Store offers beyond store.Store to let replicas tell
// each other about changes (such as revocations) through the database.
type Notifier interface {
	Notify(ctx context.Context, channel, payload string) error
	Listen(ctx context.Context, channel string, fn func(payload string)) error
	ListenSync(ctx context.Context, channel string, synced func(), fn func(payload string)) error
}

var _ Notifier = (*Store)(nil)

// Reconnection of Listen: a random delay below a bound that doubles from
// listenMinBackoff to listenMaxBackoff, reset once LISTEN succeeds again. An
// idle listening connection is pinged every listenPingInterval, so that a
// connection lost without a word (a partition, a crashed host) is noticed.
const (
	listenMinBackoff   = 100 * time.Millisecond
	listenMaxBackoff   = 5 * time.Second
	listenPingInterval = 15 * time.Second
	listenPingTimeout  = 5 * time.Second
	closeTimeout       = 5 * time.Second
)

// Notify sends payload to the listeners of channel in every Store on the
// database (this one included), with pg_notify outside any transaction. To
// notify only if a transaction commits, use the Tx's Notify (TxNotifier)
// inside Update instead.
//
// It returns an error wrapping store.ErrInvalid for a channel or payload
// that ValidateChannel or ValidatePayload refuses, ctx.Err() if ctx is done
// and store.ErrClosed after Close.
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if err := errors.Join(ValidateChannel(channel), ValidatePayload(payload)); err != nil {
		return err
	}
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.inflight.Done()
	if _, err := s.pool.Exec(ctx, sqlNotify, channel, payload); err != nil {
		return fmt.Errorf("postgres: notify on channel %q: %w", channel, err)
	}
	return nil
}

// Listen is ListenSync without the synced callback.
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	return s.ListenSync(ctx, channel, nil, fn)
}

// ListenSync calls fn with the payload of each notification sent on channel
// (by Notify or by a committed Update whose Tx notified), in the order of
// the commits, until ctx is done or the Store is closed; it then returns
// ctx.Err() or store.ErrClosed. fn runs on the calling goroutine, one
// notification at a time; a slow fn delays the next ones, which PostgreSQL
// queues.
//
// ListenSync holds a connection of its own, outside the pool. When that
// connection fails it reconnects, with back-off, until it succeeds. Each
// time LISTEN takes effect, first and after every reconnection, it calls
// synced (if not nil) before any notification that follows. Notifications
// sent while no connection listened are lost: a caller that caches state
// invalidates or reloads it in synced, and may also poll as a fallback.
//
// It returns an error wrapping store.ErrInvalid at once for a channel that
// ValidateChannel refuses.
func (s *Store) ListenSync(ctx context.Context, channel string, synced func(), fn func(payload string)) error {
	if err := ValidateChannel(channel); err != nil {
		return err
	}
	if err := s.gate.Enter(ctx, &s.listeners); err != nil {
		return err
	}
	defer s.listeners.Done()

	// lctx ends with ctx or with Close.
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.done:
			cancel()
		case <-lctx.Done():
		}
	}()
	stopped := func() error {
		select {
		case <-s.done:
			return store.ErrClosed
		default:
			return ctx.Err()
		}
	}

	backoff := listenMinBackoff
	for {
		listened, err := s.listenOnce(lctx, channel, synced, fn)
		if lctx.Err() != nil {
			return stopped()
		}
		if listened {
			backoff = listenMinBackoff
		}
		delay := rand.N(backoff) + 1 // jitter, as in retryDelay
		s.log.Warn("postgres: listening connection failed; reconnecting", "channel", channel, "err", err, "after", delay)
		if sleep(lctx, delay) != nil {
			return stopped()
		}
		backoff = min(2*backoff, listenMaxBackoff)
	}
}

// listenOnce listens on one new connection until it fails or ctx is done.
// It reports whether LISTEN took effect.
func (s *Store) listenOnce(ctx context.Context, channel string, synced func(), fn func(string)) (listened bool, err error) {
	conn, err := pgx.ConnectConfig(ctx, s.connConfig.Copy())
	if err != nil {
		return false, fmt.Errorf("postgres: listen: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), closeTimeout)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, fmt.Errorf("postgres: listen: %w", err)
	}
	if synced != nil {
		synced()
	}
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPingInterval)
		n, err := conn.WaitForNotification(wctx)
		timedOut := wctx.Err() != nil && ctx.Err() == nil
		cancel()
		switch {
		case err == nil:
			fn(n.Payload)
		case ctx.Err() != nil:
			return true, ctx.Err()
		case timedOut && !conn.IsClosed():
			// Quiet for a while: check that the server is still there.
			pctx, cancel := context.WithTimeout(ctx, listenPingTimeout)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, fmt.Errorf("postgres: listen: ping: %w", err)
			}
		default:
			return true, fmt.Errorf("postgres: listen: %w", err)
		}
	}
}
