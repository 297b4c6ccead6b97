package feed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/shortfuse/shortfuse/internal/store"
)

// Defaults for the zero fields of Options.
const (
	DefaultBucket       = "feed"
	DefaultPollInterval = 500 * time.Millisecond
	DefaultKeep         = 10000
)

// Limits on what a record carries.
const (
	MaxTopicLen   = 64
	MaxSubjectLen = 2048
)

// batchSize bounds the records read in one transaction by a follower.
const batchSize = 500

// Keys of the feed's bucket: the head (the last sequence number given out)
// and one record per sequence number, in fixed-width hex so that keys sort
// in sequence order.
const (
	keyHead     = "head"
	entryPrefix = "e/"
)

func entryKey(seq uint64) string { return fmt.Sprintf("%s%016x", entryPrefix, seq) }

// Entry is one published change.
type Entry struct {
	Seq     uint64
	Topic   string // which kind of state changed, e.g. "sessions/session"
	Subject string // which item: an access key id, a principal ARN; may be empty
}

// record is an Entry as stored.
type record struct {
	Topic   string `json:"t"`
	Subject string `json:"s,omitempty"`
}

// Options tunes a Feed. The zero value works for one replica; several
// replicas over PostgreSQL also set Notify.
type Options struct {
	// Bucket holds the log. Zero means DefaultBucket.
	Bucket string
	// PollInterval is how often Follow reads the head when nothing wakes
	// it: the bound on how late a change reaches a replica whose
	// notifications are lost. Zero means DefaultPollInterval.
	PollInterval time.Duration
	// Keep is how many of the newest records Prune leaves. Zero means
	// DefaultKeep.
	Keep int
	// Notify, if set, is called by Publish inside the publishing
	// transaction, to wake the other replicas at once. Its effect must
	// happen only if the transaction commits (a PostgreSQL NOTIFY sent
	// through the Tx). payload is the new sequence number in decimal.
	Notify func(tx store.Tx, payload string) error
	// Logger receives warnings of Follow (a failed read, a resync).
	Logger *slog.Logger
}

// Feed is the change log of one store. It is safe for concurrent use;
// Follow runs once per Feed.
type Feed struct {
	st   store.Store
	opts Options
	wake chan struct{}
	pos  atomic.Uint64
	// current is when the last CatchUp that reached the head began (Unix
	// nanoseconds): every change committed before then has been applied.
	current atomic.Int64
}

// New returns the feed kept in st.
func New(st store.Store, opts Options) *Feed {
	if opts.Bucket == "" {
		opts.Bucket = DefaultBucket
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Keep <= 0 {
		opts.Keep = DefaultKeep
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Feed{st: st, opts: opts, wake: make(chan struct{}, 1)}
}

// Publish appends a record of a change to the log, inside tx, the
// transaction of store.Store.Update that makes the change. The record
// commits with the change or not at all. Like any Update function, the
// caller's may run more than once; only the run that commits publishes.
//
// It returns an error wrapping store.ErrInvalid for an empty or too long
// topic, or a too long subject.
func (f *Feed) Publish(tx store.Tx, topic, subject string) error {
	if topic == "" || len(topic) > MaxTopicLen {
		return fmt.Errorf("%w: feed topic has %d bytes, want 1 to %d", store.ErrInvalid, len(topic), MaxTopicLen)
	}
	if len(subject) > MaxSubjectLen {
		return fmt.Errorf("%w: feed subject has %d bytes, want at most %d", store.ErrInvalid, len(subject), MaxSubjectLen)
	}
	head, err := readHead(tx, f.opts.Bucket)
	if err != nil {
		return err
	}
	seq := head + 1
	v, err := json.Marshal(record{Topic: topic, Subject: subject})
	if err != nil {
		return err
	}
	if err := tx.Put(f.opts.Bucket, entryKey(seq), v); err != nil {
		return err
	}
	if err := tx.Put(f.opts.Bucket, keyHead, []byte(strconv.FormatUint(seq, 16))); err != nil {
		return err
	}
	if f.opts.Notify != nil {
		return f.opts.Notify(tx, strconv.FormatUint(seq, 10))
	}
	return nil
}

func readHead(tx store.Tx, bucket string) (uint64, error) {
	v, err := tx.Get(bucket, keyHead)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(string(v), 16, 64)
	if err != nil {
		return 0, fmt.Errorf("feed: malformed head record")
	}
	return n, nil
}

// Head returns the sequence number of the newest record (0 for an empty
// log). Read it before loading the state that Follow will keep up to date,
// and pass it to Follow: a change committed in between is then applied,
// not missed.
func (f *Feed) Head(ctx context.Context) (uint64, error) {
	var head uint64
	err := f.st.View(ctx, func(tx store.Tx) error {
		var err error
		head, err = readHead(tx, f.opts.Bucket)
		return err
	})
	return head, err
}

// Wake makes Follow read the log now instead of at its next poll. It never
// blocks; wakes while a read is pending merge into one.
func (f *Feed) Wake() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// Position returns the sequence number of the last record Follow applied
// (or skipped past by a resync).
func (f *Feed) Position() uint64 { return f.pos.Load() }

// Handler applies one record. It must be idempotent: after a resync or a
// failed read, a record may be applied again.
type Handler func(ctx context.Context, e Entry) error

// Handlers say what Follow does with records.
type Handlers struct {
	// Topics maps a topic to its handler. Records of other topics (written
	// by a newer version) are skipped.
	Topics map[string]Handler
	// Resync reloads all the state the handlers keep, when records were
	// pruned before this follower read them. Nil skips the gap.
	Resync func(ctx context.Context) error
}

// Follow applies the records published after from, in order, as they
// come: at once when Wake is called, and at every poll interval anyway,
// until ctx is done; it then returns ctx.Err(). A read or a handler that
// fails is logged and retried at the next poll or wake, from the record
// that failed.
func (f *Feed) Follow(ctx context.Context, from uint64, h Handlers) error {
	f.pos.Store(from)
	t := time.NewTicker(f.opts.PollInterval)
	defer t.Stop()
	for {
		if err := f.CatchUp(ctx, h); err != nil && ctx.Err() == nil {
			f.opts.Logger.Warn("feed: catching up failed; retrying", "position", f.Position(), "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-f.wake:
		}
	}
}

// Current returns the time as of which this replica has applied every
// change: the start of the last catch-up that reached the head. The zero
// time until one has. How old it is, is how stale the replica's view of
// the others' changes may be.
func (f *Feed) Current() time.Time {
	n := f.current.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// CatchUp applies the records after Position once, up to the head it
// finds. Follow calls it; tests may call it directly instead of Follow.
func (f *Feed) CatchUp(ctx context.Context, h Handlers) error {
	start := time.Now()
	if err := f.catchUp(ctx, h); err != nil {
		return err
	}
	// Only move forward: a slow catch-up that began before a faster one
	// confirms less.
	for {
		old := f.current.Load()
		if start.UnixNano() <= old || f.current.CompareAndSwap(old, start.UnixNano()) {
			return nil
		}
	}
}

func (f *Feed) catchUp(ctx context.Context, h Handlers) error {
	for {
		last := f.pos.Load()
		var (
			head    uint64
			entries []Entry
			gap     bool
		)
		err := f.st.View(ctx, func(tx store.Tx) error {
			entries, gap = entries[:0], false
			var err error
			head, err = readHead(tx, f.opts.Bucket)
			if err != nil || head == last {
				return err
			}
			if head < last {
				// The log restarted (a store restored from an older
				// backup): nothing after last can be trusted.
				gap = true
				return nil
			}
			next := last + 1
			err = tx.Scan(f.opts.Bucket, entryPrefix, entryKey(last), func(k string, v []byte) (bool, error) {
				seq, err := strconv.ParseUint(k[len(entryPrefix):], 16, 64)
				if err != nil || len(k) != len(entryPrefix)+16 {
					return false, fmt.Errorf("feed: malformed record key")
				}
				if seq != next {
					gap = true
					return false, nil
				}
				var r record
				if err := json.Unmarshal(v, &r); err != nil {
					return false, fmt.Errorf("feed: record %d: %w", seq, err)
				}
				entries = append(entries, Entry{Seq: seq, Topic: r.Topic, Subject: r.Subject})
				next++
				return seq < head && len(entries) < batchSize, nil
			})
			if err == nil && len(entries) == 0 {
				gap = true // head moved on but its records are gone
			}
			return err
		})
		if err != nil {
			return err
		}
		if head == last {
			return nil
		}
		if gap {
			f.opts.Logger.Warn("feed: records were pruned before this replica read them; reloading all state", "position", last, "head", head)
			if h.Resync != nil {
				if err := h.Resync(ctx); err != nil {
					return fmt.Errorf("feed: resync: %w", err)
				}
			}
			f.pos.Store(head)
			return nil
		}
		for _, e := range entries {
			if fn := h.Topics[e.Topic]; fn != nil {
				if err := fn(ctx, e); err != nil {
					return fmt.Errorf("feed: applying record %d (%s): %w", e.Seq, e.Topic, err)
				}
			}
			f.pos.Store(e.Seq)
		}
		if f.pos.Load() >= head {
			return nil
		}
	}
}

// Prune deletes all but the newest Options.Keep records and returns how
// many it deleted. Several replicas may prune at once.
func (f *Feed) Prune(ctx context.Context) (int, error) {
	total := 0
	for {
		var keys []string
		err := f.st.View(ctx, func(tx store.Tx) error {
			keys = keys[:0]
			head, err := readHead(tx, f.opts.Bucket)
			if err != nil || head <= uint64(f.opts.Keep) {
				return err
			}
			limit := entryKey(head - uint64(f.opts.Keep))
			return tx.Scan(f.opts.Bucket, entryPrefix, "", func(k string, _ []byte) (bool, error) {
				if k > limit {
					return false, nil
				}
				keys = append(keys, k)
				return len(keys) < batchSize, nil
			})
		})
		if err != nil || len(keys) == 0 {
			return total, err
		}
		err = f.st.Update(ctx, func(tx store.Tx) error {
			for _, k := range keys {
				if err := tx.Delete(f.opts.Bucket, k); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += len(keys)
	}
}
