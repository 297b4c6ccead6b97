package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/approvals"
)

// Options configure a Webhook.
type Options struct {
	// PublicURL is the broker's URL as approvers reach it; links to the
	// approval page use it. Empty leaves links out.
	PublicURL string
	// Client sends the POSTs (default: 10 s timeout, no redirects).
	Client *http.Client
	Logger *slog.Logger
	// QueueSize bounds the events waiting to be sent (default 256).
	QueueSize int
	// Attempts is how often one event is tried (default 3), Backoff the
	// wait after the first failure, doubled each time (default 1 s).
	Attempts int
	Backoff  time.Duration
}

// Webhook posts events to one URL.
type Webhook struct {
	url  string
	opts Options
	q    chan approvals.Event

	closeOnce sync.Once
	stop      chan struct{}
	done      chan struct{}
}

var _ approvals.Notifier = (*Webhook)(nil)

// CheckURL checks a webhook URL: https, or http to a loopback host (a
// local relay or a test receiver).
func CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("the webhook URL must be an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" {
			return nil
		}
		return errors.New("the webhook URL must be https (plain http only to a loopback address)")
	}
	return errors.New("the webhook URL must be https")
}

// New starts a webhook sender; Close stops it.
func New(rawURL string, o Options) (*Webhook, error) {
	if err := CheckURL(rawURL); err != nil {
		return nil, err
	}
	if o.Client == nil {
		o.Client = &http.Client{
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 256
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	o.PublicURL = strings.TrimSuffix(o.PublicURL, "/")
	w := &Webhook{url: rawURL, opts: o, q: make(chan approvals.Event, o.QueueSize), stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// Notify queues an event; it never blocks.
func (w *Webhook) Notify(e approvals.Event) {
	select {
	case <-w.stop:
		return
	default:
	}
	select {
	case w.q <- e:
	default:
		w.opts.Logger.Warn("webhook queue full; notification dropped", "event", string(e.Kind), "code", e.Request.Code)
	}
}

// Close sends what is queued (for at most the context's time) and stops.
func (w *Webhook) Close(ctx context.Context) error {
	w.closeOnce.Do(func() { close(w.stop) })
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *Webhook) run() {
	defer close(w.done)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for {
		select {
		case e := <-w.q:
			w.send(ctx, e)
		case <-w.stop:
			for {
				select {
				case e := <-w.q:
					w.send(ctx, e)
				default:
					return
				}
			}
		}
	}
}

func (w *Webhook) send(ctx context.Context, e approvals.Event) {
	body, err := json.Marshal(Message(e, w.opts.PublicURL))
	if err != nil {
		w.opts.Logger.Error("webhook message not encoded", "err", err)
		return
	}
	wait := w.opts.Backoff
	for attempt := 1; ; attempt++ {
		err := w.post(ctx, body)
		if err == nil {
			return
		}
		if attempt >= w.opts.Attempts {
			w.opts.Logger.Warn("webhook notification not delivered", "event", string(e.Kind), "code", e.Request.Code, "attempts", attempt, "err", err)
			return
		}
		select {
		case <-time.After(wait):
		case <-w.stop:
			// Shutting down: one last try without waiting.
			wait = 0
		}
		wait *= 2
	}
}

func (w *Webhook) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "shortfuse-webhook")
	resp, err := w.opts.Client.Do(req)
	if err != nil {
		// The error text may hold the URL, whose path is often the
		// webhook's secret: say only what kind of failure it was.
		var ue *url.Error
		if errors.As(err, &ue) {
			return fmt.Errorf("POST failed: %v", ue.Err)
		}
		return errors.New("POST failed")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the receiver answered %d", resp.StatusCode)
	}
	return nil
}
