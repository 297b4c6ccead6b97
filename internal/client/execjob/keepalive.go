package execjob

import (
	"context"
	"errors"
	"time"

	"github.com/shortfuse/shortfuse/internal/client/brokerapi"
)

// Beat sends one heartbeat with the given grace period.
type Beat func(ctx context.Context, grace time.Duration) (brokerapi.HeartbeatResult, error)

// BeatEvent is what KeepAlive reports.
type BeatEvent int

const (
	// BeatUnsupported: the endpoint has no dead-man switch (real AWS, or a
	// broker without it). KeepAlive stops.
	BeatUnsupported BeatEvent = iota + 1
	// BeatRefused: the broker no longer accepts the session (revoked,
	// expired, used up, abandoned). KeepAlive stops.
	BeatRefused
	// BeatFailing: a heartbeat failed (network, broker down); KeepAlive
	// keeps trying. Reported once per run of failures.
	BeatFailing
	// BeatRecovered: a heartbeat succeeded after BeatFailing.
	BeatRecovered
)

// KeepAlive sends a heartbeat every interval (the broker's advice is
// grace/3) until ctx ends, and reports events (with the error, if any) to
// report. The first heartbeat is the caller's to send, before the child
// starts; KeepAlive begins after one interval.
func KeepAlive(ctx context.Context, beat Beat, grace, interval time.Duration, report func(BeatEvent, error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		_, err := beat(ctx, grace)
		switch {
		case err == nil:
			if failing {
				failing = false
				report(BeatRecovered, nil)
			}
		case ctx.Err() != nil:
			return
		case errors.Is(err, brokerapi.ErrUnsupported):
			report(BeatUnsupported, err)
			return
		case brokerapi.IsSessionRefused(err):
			report(BeatRefused, err)
			return
		default:
			if !failing {
				failing = true
				report(BeatFailing, err)
			}
		}
	}
}
