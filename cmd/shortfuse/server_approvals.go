package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/shortfuse/shortfuse/internal/approvals"
	"github.com/shortfuse/shortfuse/internal/notify"
	"github.com/shortfuse/shortfuse/internal/store"
)

// The broker's side of approvals: the service `shortfuse server` runs.

// startApprovals builds the broker's approval requests service over st,
// with the webhook notifier when webhookURL is set, and starts purging
// requests that ended a week ago. stop closes the notifier (sending what
// is queued, for a few seconds at most).
func startApprovals(ctx context.Context, st store.Store, webhookURL, publicURL string, logger *slog.Logger) (svc *approvals.Service, stop func(), err error) {
	opts := approvals.Options{Now: time.Now, Rand: rand.Reader, Logger: logger}
	stopNotify := func() {}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, nil, fmt.Errorf("--public-url %q: want the broker's http(s) URL", publicURL)
		}
	}
	if webhookURL != "" {
		// The URL of a webhook is often its secret: it is never logged.
		wh, err := notify.New(webhookURL, notify.Options{PublicURL: publicURL, Logger: logger})
		if err != nil {
			return nil, nil, fmt.Errorf("--notify-webhook: %v", err)
		}
		opts.Notifier = wh
		stopNotify = func() {
			cctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = wh.Close(cctx)
		}
		logger.Info("approval notifications go to a webhook")
	}
	svc = approvals.New(st, opts)
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				return
			case <-t.C:
				if n, err := svc.Purge(ctx, 7*24*time.Hour); err != nil {
					logger.Warn("purging old approval requests", "err", err)
				} else if n > 0 {
					logger.Info("purged old approval requests", "count", n)
				}
			}
		}
	}()
	return svc, func() { close(done); stopNotify() }, nil
}
