package iam

import (
	"crypto/sha256"
	"errors"
	"sync"

	"github.com/shortfuse/shortfuse/internal/policy"
)

const defaultCacheSize = 4096

// policyCache keeps parsed policies by (kind, SHA-256 of the document). A
// parsed Policy is immutable, so one value serves every caller. When full,
// the oldest entry goes first: the working set of a broker is small and a
// miss costs one parse.
type policyCache struct {
	mu    sync.Mutex
	m     map[cacheKey]*policy.Policy
	ring  []cacheKey
	next  int
	limit int
}

type cacheKey struct {
	kind policy.Kind
	sum  [sha256.Size]byte
}

func newPolicyCache(limit int) *policyCache {
	return &policyCache{m: make(map[cacheKey]*policy.Policy, limit), ring: make([]cacheKey, 0, limit), limit: limit}
}

func (c *policyCache) get(k cacheKey) (*policy.Policy, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[k]
	return p, ok
}

func (c *policyCache) add(k cacheKey, p *policy.Policy) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; ok {
		return
	}
	if len(c.ring) < c.limit {
		c.ring = append(c.ring, k)
	} else {
		delete(c.m, c.ring[c.next])
		c.ring[c.next] = k
		c.next = (c.next + 1) % c.limit
	}
	c.m[k] = p
}

func (c *policyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// parse returns the parsed document, from the cache when it was seen before.
// A document the parser refuses comes back as a MalformedPolicyDocument
// *Error carrying the parser's message.
func (s *Service) parse(doc string, kind policy.Kind) (*policy.Policy, error) {
	k := cacheKey{kind: kind, sum: sha256.Sum256([]byte(doc))}
	if p, ok := s.cache.get(k); ok {
		return p, nil
	}
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		var me *policy.MalformedError
		if errors.As(err, &me) {
			return nil, &Error{Kind: ErrMalformedPolicyDocument, Msg: me.Msg}
		}
		return nil, &Error{Kind: ErrMalformedPolicyDocument, Msg: "Syntax errors in policy."}
	}
	s.cache.add(k, p)
	return p, nil
}
