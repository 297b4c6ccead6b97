package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shortfuse/shortfuse/internal/audit"
	"github.com/shortfuse/shortfuse/internal/store"
)

// The head of each broker's audit chain is recorded in the store, so that a
// log that no longer continues from it (removed, replaced, truncated while
// the broker was down) is found at the next start instead of starting a new
// chain that verifies. Each log has its own record, keyed by the host and
// the log's absolute path (replicas over one PostgreSQL each keep a log).

const bucketAuditHeads = "audit-heads"

// auditHeadEvery is how often the recorded head follows the log.
const auditHeadEvery = time.Second

func auditHeadKey(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	host, _ := os.Hostname()
	sum := sha256.Sum256([]byte(host + "\x00" + abs))
	return hex.EncodeToString(sum[:16])
}

func loadAuditHead(ctx context.Context, st store.Store, key string) (audit.Head, error) {
	var h audit.Head
	err := st.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(bucketAuditHeads, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &h)
	})
	return h, err
}

func saveAuditHead(ctx context.Context, st store.Store, key string, h audit.Head) error {
	v, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return st.Update(ctx, func(tx store.Tx) error { return tx.Put(bucketAuditHeads, key, v) })
}

// checkAuditChain compares the log with the head recorded for it. A log
// that does not continue from it is refused, unless acceptBreak: then the
// break is written into the log as its next record (which `shortfuse audit
// verify` reports) and the broker goes on.
func checkAuditChain(ctx context.Context, st store.Store, w *audit.Writer, path, key string, acceptBreak bool, breaks prometheus.Counter, logger *slog.Logger) error {
	then, err := loadAuditHead(ctx, st, key)
	if err != nil {
		return fmt.Errorf("audit chain head: %w", err)
	}
	seq, hash := w.Head()
	now := audit.Head{Seq: seq, Hash: hash}
	ok, err := audit.Continues(path, now, then)
	if err != nil {
		return fmt.Errorf("audit chain head: %w", err)
	}
	if ok {
		return nil
	}
	breaks.Inc()
	logger.Error("AUDIT CHAIN BREAK: the audit log does not continue from the head recorded in the store; it was removed, replaced or truncated",
		"audit_log", path, "recorded_seq", then.Seq, "recorded_hash", then.Hash, "log_seq", now.Seq)
	if !acceptBreak {
		return fmt.Errorf("audit log %s does not continue from the chain head recorded in the store (seq %d): records were lost or the log was removed or replaced; investigate, then start with --audit-accept-break to record the break in the log and go on", path, then.Seq)
	}
	rec := &audit.Record{
		EventSource: audit.SourceShortfuse,
		EventName:   audit.EventChainBreak,
		ReadOnly:    false,
		RequestParameters: map[string]any{
			"expected": map[string]any{"seq": then.Seq, "hash": then.Hash},
			"found":    map[string]any{"seq": now.Seq, "hash": now.Hash},
		},
	}
	if err := w.Append(ctx, rec); err != nil {
		return fmt.Errorf("audit log: recording the chain break: %w", err)
	}
	return nil
}

// followAuditHead records the log's head in the store every second while
// it moves, and once more when ctx ends.
func followAuditHead(ctx context.Context, wg *sync.WaitGroup, st store.Store, w *audit.Writer, key string, logger *slog.Logger) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		var last audit.Head
		save := func(ctx context.Context) {
			seq, hash := w.Head()
			h := audit.Head{Seq: seq, Hash: hash}
			if h == last || h.Seq == 0 {
				return
			}
			if err := saveAuditHead(ctx, st, key, h); err != nil {
				logger.Warn("audit chain head not recorded", "err", err)
				return
			}
			last = h
		}
		t := time.NewTicker(auditHeadEvery)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				save(ctx)
			case <-ctx.Done():
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				save(sctx)
				cancel()
				return
			}
		}
	}()
}

// pruneAudit prunes the rotated audit files beyond the newest o.Keep every
// 10 seconds (audit.Prune: each only once it verifies, and shipped first
// with o.ShipDir). A file that does not verify stops the pruning, loudly.
func pruneAudit(ctx context.Context, wg *sync.WaitGroup, path string, o audit.PruneOptions, logger *slog.Logger) {
	every(ctx, wg, 10*time.Second, func(context.Context) {
		removed, err := audit.Prune(path, o)
		if len(removed) > 0 {
			logger.Info("pruned rotated audit files", "count", len(removed), "shipped_to", o.ShipDir)
		}
		if err != nil {
			logger.Error("pruning rotated audit files stopped", "err", err)
		}
	})
}

// every runs fn every d until ctx is done, in a goroutine that wg tracks.
func every(ctx context.Context, wg *sync.WaitGroup, d time.Duration, fn func(context.Context)) {
	everyOr(ctx, wg, d, nil, fn)
}

// everyOr is every that also runs fn whenever nudge delivers.
func everyOr(ctx context.Context, wg *sync.WaitGroup, d time.Duration, nudge <-chan struct{}, fn func(context.Context)) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-nudge:
			}
			fn(ctx)
		}
	}()
}
