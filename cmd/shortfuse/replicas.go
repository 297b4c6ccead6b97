package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/feed"
	"github.com/shortfuse/shortfuse/internal/keystore"
	"github.com/shortfuse/shortfuse/internal/registry"
	"github.com/shortfuse/shortfuse/internal/store"
	"github.com/shortfuse/shortfuse/internal/store/postgres"
)

// feedChannel is the PostgreSQL notification channel that wakes the
// replicas' feed followers.
const feedChannel = "shortfuse_feed"

// newFeed returns the change feed of st. Over PostgreSQL, publishing also
// sends a notification, in the publishing transaction, that wakes the
// other replicas at once.
func newFeed(st *brokerStore, logger *slog.Logger, poll time.Duration) *feed.Feed {
	opts := feed.Options{PollInterval: poll, Logger: logger}
	if st.pg != nil {
		opts.Notify = func(tx store.Tx, payload string) error {
			n, ok := tx.(postgres.TxNotifier)
			if !ok {
				return errors.New("feed: the transaction cannot notify")
			}
			return n.Notify(feedChannel, payload)
		}
	}
	return feed.New(st, opts)
}

// followFeed keeps this replica's memory in step with what every replica
// publishes: session revocations and key changes. from is the feed head
// read before that memory was loaded. It returns when ctx is done; wg
// tracks its goroutines.
// sessionChanged is told of every change to a session applied from the
// feed (the database credentials' reaper looks at once).
func followFeed(ctx context.Context, wg *sync.WaitGroup, st *brokerStore, fd *feed.Feed, from uint64, reg *registry.Service, keys *keystore.Keys, logger *slog.Logger, sessionChanged func()) {
	applySessions := func(ctx context.Context, e feed.Entry) error {
		err := reg.Apply(ctx, e.Topic, e.Subject)
		if err == nil && sessionChanged != nil {
			sessionChanged()
		}
		return err
	}
	h := feed.Handlers{
		Topics: map[string]feed.Handler{
			registry.TopicSession:      applySessions,
			registry.TopicRevokeBefore: applySessions,
			keystore.TopicKeys:         func(ctx context.Context, _ feed.Entry) error { return keys.Reload(ctx) },
		},
		Resync: func(ctx context.Context) error {
			return errors.Join(reg.Reload(ctx), keys.Reload(ctx))
		},
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = fd.Follow(ctx, from, h)
	}()
	if st.pg == nil {
		return
	}
	// Notifications make the feed immediate; on every (re)connection the
	// follower reads the feed, since notifications sent while no
	// connection listened are lost.
	wg.Add(1)
	go func() {
		defer wg.Done()
		err := st.pg.ListenSync(ctx, feedChannel, fd.Wake, func(string) { fd.Wake() })
		if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrClosed) {
			logger.Error("listening for other replicas' changes stopped; polling only", "err", err)
		}
	}()
}

// registerStoreMetrics adds the metrics of the store and of the change
// feed: how far this replica is behind the others' changes, and, over
// PostgreSQL, how often transactions had to be run again.
func registerStoreMetrics(reg *prometheus.Registry, st *brokerStore, fd *feed.Feed) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "shortfuse_feed_lag",
		Help: "Changes published by replicas (revocations, key rotations) that this replica has not applied yet.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		head, err := fd.Head(ctx)
		if err != nil {
			return -1
		}
		pos := fd.Position()
		if head < pos {
			return 0
		}
		return float64(head - pos)
	}))
	if st.pg == nil {
		return
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shortfuse_store_retries_total",
			Help: "PostgreSQL transactions run again after a serialization failure or a deadlock.",
		}, func() float64 { return float64(st.pg.Stats().Retries) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shortfuse_store_timeouts_total",
			Help: "PostgreSQL transactions that ended because the database did not answer within their deadline (--db-timeout, --store-timeout).",
		}, func() float64 { return float64(st.pg.Stats().Timeouts) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "shortfuse_store_gave_up_total",
			Help: "PostgreSQL transactions that failed after the most attempts allowed.",
		}, func() float64 { return float64(st.pg.Stats().GaveUp) }),
	)
}
