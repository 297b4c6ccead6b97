package server

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// failureLimiter throttles callers that keep failing to authenticate: per
// access key id (guessing a secret) and per source address (guessing keys).
// Each key gets a token bucket that only failures drain; once it is empty,
// requests from that key or address are refused with Throttling before any
// verification, until the bucket refills. Successful requests are never
// limited. The tables are bounded LRUs, so a flood of made-up key ids
// cannot exhaust memory.
type failureLimiter struct {
	every time.Duration
	burst int

	mu    sync.Mutex
	keys  *lru.Cache[string, *rate.Limiter]
	addrs *lru.Cache[string, *rate.Limiter]
}

func newFailureLimiter(every time.Duration, burst, size int) *failureLimiter {
	keys, _ := lru.New[string, *rate.Limiter](size)
	addrs, _ := lru.New[string, *rate.Limiter](size)
	return &failureLimiter{every: every, burst: burst, keys: keys, addrs: addrs}
}

func (f *failureLimiter) get(c *lru.Cache[string, *rate.Limiter], k string) *rate.Limiter {
	l, ok := c.Get(k)
	if !ok {
		l = rate.NewLimiter(rate.Every(f.every), f.burst)
		c.Add(k, l)
	}
	return l
}

// Blocked reports whether requests from this key or address are refused now.
func (f *failureLimiter) Blocked(akid, addr string, now time.Time) bool {
	if f == nil {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if akid != "" {
		if l, ok := f.keys.Get(akid); ok && l.TokensAt(now) < 1 {
			return true
		}
	}
	if addr != "" {
		if l, ok := f.addrs.Get(addr); ok && l.TokensAt(now) < 1 {
			return true
		}
	}
	return false
}

// Failed records one authentication failure.
func (f *failureLimiter) Failed(akid, addr string, now time.Time) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if akid != "" {
		f.get(f.keys, akid).AllowN(now, 1)
	}
	if addr != "" {
		f.get(f.addrs, addr).AllowN(now, 1)
	}
}
