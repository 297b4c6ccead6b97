package server

import (
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/time/rate"
)

// failureLimiter throttles authentication failures per (claimed access key
// id, source address) pair. It is consulted only after a request has
// failed verification: a correctly signed request is always served,
// whoever else is failing with the same key id or from the same address,
// so neither forged requests naming a victim's key id (key ids are not
// secret) nor a neighbour behind the same proxy can lock anyone out.
//
// Each pair gets a token bucket that only failures drain; once it is
// empty, its further failures are answered Throttling instead of the
// authentication error, which tells a guesser nothing more and slows
// nothing a valid signer does. The table is a bounded LRU, so a flood of
// made-up pairs cannot exhaust memory (it evicts the oldest pairs, which
// at worst lets an evicted guesser fail unthrottled: a signature is an
// HMAC-SHA256 under a 160-bit secret, which throttling does not need to
// protect).
type failureLimiter struct {
	every time.Duration
	burst int

	mu    sync.Mutex
	pairs *lru.Cache[string, *rate.Limiter]
}

func newFailureLimiter(every time.Duration, burst, size int) *failureLimiter {
	pairs, _ := lru.New[string, *rate.Limiter](size)
	return &failureLimiter{every: every, burst: burst, pairs: pairs}
}

// Failed records one authentication failure of the pair and reports
// whether the pair has failed more than its budget allows (the failure is
// to be answered Throttling).
func (f *failureLimiter) Failed(akid, addr string, now time.Time) (throttled bool) {
	if f == nil {
		return false
	}
	k := akid + "\x00" + addr
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.pairs.Get(k)
	if !ok {
		l = rate.NewLimiter(rate.Every(f.every), f.burst)
		f.pairs.Add(k, l)
	}
	return !l.AllowN(now, 1)
}
