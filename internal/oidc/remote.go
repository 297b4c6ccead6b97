package oidc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/shortfuse/shortfuse/internal/fault"
)

// RemoteOptions configure a [Remote]. Zero values take the defaults.
type RemoteOptions struct {
	// Client fetches discovery documents and key sets. The default has a
	// 10 s overall timeout and follows at most 3 redirects, each to an
	// https (or loopback http) URL. A Client given here keeps its own
	// Timeout and redirect policy, but every response is still size-bounded.
	Client *http.Client
	// TTL is how long a fetched key set is used before it is fetched again
	// (default 1 h).
	TTL time.Duration
	// MinInterval is the least time between two fetches for one issuer,
	// however many tokens name unknown keys (default 1 min). A failed
	// fetch waits as long before it is tried again.
	MinInterval time.Duration
	// MaxStale is how long a key set is still used after it should have
	// been refreshed, while the issuer cannot be reached (default 24 h).
	MaxStale time.Duration
	// MaxIssuers bounds the cache (default 256); the least recently used
	// issuer is dropped first.
	MaxIssuers int
	// MaxResponseBytes bounds a discovery document or key set (default
	// MaxKeySetBytes).
	MaxResponseBytes int64
}

// Remote is a cache of issuers' key sets, fetched through their OpenID
// Connect discovery documents (issuer + "/.well-known/openid-configuration"
// → jwks_uri). It is safe for concurrent use; one issuer is fetched by one
// goroutine at a time, and others wait for its result.
type Remote struct {
	opt RemoteOptions

	mu      sync.Mutex
	entries map[string]*remoteEntry
}

type remoteEntry struct {
	mu          sync.Mutex // held during a fetch
	keys        *KeySet
	fetched     time.Time // when keys were fetched
	lastAttempt time.Time
	lastErr     error
	used        time.Time // for eviction; guarded by Remote.mu
}

// NewRemote returns an empty cache.
func NewRemote(opt RemoteOptions) *Remote {
	if opt.TTL <= 0 {
		opt.TTL = time.Hour
	}
	if opt.MinInterval <= 0 {
		opt.MinInterval = time.Minute
	}
	if opt.MaxStale <= 0 {
		opt.MaxStale = 24 * time.Hour
	}
	if opt.MaxIssuers <= 0 {
		opt.MaxIssuers = 256
	}
	if opt.MaxResponseBytes <= 0 {
		opt.MaxResponseBytes = MaxKeySetBytes
	}
	if opt.Client == nil {
		opt.Client = defaultClient()
	}
	return &Remote{opt: opt, entries: make(map[string]*remoteEntry)}
}

func defaultClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSHandshakeTimeout = 5 * time.Second
	tr.ResponseHeaderTimeout = 5 * time.Second
	tr.MaxResponseHeaderBytes = 64 << 10
	tr.DialContext = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	return &http.Client{
		Timeout:   10 * time.Second,
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			if !allowedFetchURL(req.URL) {
				return errors.New("redirect to a URL that is not https")
			}
			return nil
		},
	}
}

// KeySource returns the source of one issuer's keys. issuer must be
// normalized ([NormalizeIssuer]).
func (r *Remote) KeySource(issuer string) KeySource { return remoteSource{r, issuer} }

type remoteSource struct {
	r      *Remote
	issuer string
}

func (s remoteSource) KeySet(ctx context.Context, now time.Time, refresh bool) (*KeySet, error) {
	return s.r.keySet(ctx, s.issuer, now, refresh)
}

// Forget drops an issuer from the cache (its provider was deleted or
// changed).
func (r *Remote) Forget(issuer string) {
	r.mu.Lock()
	delete(r.entries, issuer)
	r.mu.Unlock()
}

func (r *Remote) entry(issuer string, now time.Time) *remoteEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.entries[issuer]
	if !ok {
		if len(r.entries) >= r.opt.MaxIssuers {
			var oldest string
			var t time.Time
			for k, v := range r.entries {
				if oldest == "" || v.used.Before(t) {
					oldest, t = k, v.used
				}
			}
			delete(r.entries, oldest)
		}
		e = &remoteEntry{}
		r.entries[issuer] = e
	}
	e.used = now
	return e
}

const errKeysUnavailable = "Couldn't retrieve verification key from your identity provider"

func (r *Remote) keySet(ctx context.Context, issuer string, now time.Time, refresh bool) (*KeySet, error) {
	e := r.entry(issuer, now)
	e.mu.Lock()
	defer e.mu.Unlock()
	fresh := e.keys != nil && now.Sub(e.fetched) < r.opt.TTL
	if fresh && !refresh {
		return e.keys, nil
	}
	if !e.lastAttempt.IsZero() && now.Sub(e.lastAttempt) < r.opt.MinInterval {
		// Too soon to fetch again: what we have, if it is not too old.
		if e.keys != nil && now.Sub(e.fetched) < r.opt.TTL+r.opt.MaxStale {
			return e.keys, nil
		}
		return nil, &Error{Reason: ReasonKeys, Detail: errKeysUnavailable, Err: e.lastErr}
	}
	e.lastAttempt = now
	// The fetch outlives the request that started it: other requests wait
	// for its result, and a caller hanging up must not poison the cache.
	ks, err := r.fetch(context.WithoutCancel(ctx), issuer)
	if err != nil {
		e.lastErr = err
		if e.keys != nil && now.Sub(e.fetched) < r.opt.TTL+r.opt.MaxStale {
			return e.keys, nil
		}
		return nil, &Error{Reason: ReasonKeys, Detail: errKeysUnavailable, Err: err}
	}
	e.keys, e.fetched, e.lastErr = ks, now, nil
	return ks, nil
}

func (r *Remote) fetch(ctx context.Context, issuer string) (*KeySet, error) {
	u, err := url.Parse(issuer + "/.well-known/openid-configuration")
	if err != nil || !allowedFetchURL(u) {
		return nil, errors.New("issuer URL is not https")
	}
	body, err := r.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("discovery document: %w", err)
	}
	doc, err := decodeObject(body)
	if err != nil {
		return nil, fmt.Errorf("discovery document: %v", err)
	}
	// OpenID Provider Metadata (OpenID Connect Discovery 1.0, section 3):
	// only issuer and jwks_uri matter here.
	docIssuer, _ := doc["issuer"].(string)
	jwksURI, _ := doc["jwks_uri"].(string)
	// The issuer in the document must be the one asked for (Discovery
	// section 4.3), or a document served elsewhere could vouch for keys.
	if got, err := NormalizeIssuer(docIssuer); err != nil || got != issuer {
		return nil, fmt.Errorf("discovery document names issuer %q, want %q", fault.Printable(docIssuer, 128), issuer)
	}
	ju, err := url.Parse(jwksURI)
	if err != nil || jwksURI == "" || !allowedFetchURL(ju) || ju.Fragment != "" {
		return nil, fmt.Errorf("discovery document has no https jwks_uri (%q)", fault.Printable(jwksURI, 128))
	}
	body, err = r.get(ctx, ju)
	if err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	return ParseKeySet(body)
}

func (r *Remote) get(ctx context.Context, u *url.URL) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.opt.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("GET %s: status %d", u.Redacted(), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.opt.MaxResponseBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u.Redacted(), err)
	}
	if int64(len(body)) > r.opt.MaxResponseBytes {
		return nil, fmt.Errorf("GET %s: response larger than %d bytes", u.Redacted(), r.opt.MaxResponseBytes)
	}
	return body, nil
}
