package policy

import (
	"crypto/sha256"
	"sync"
)

// Cache keeps parsed policies by kind and document (its SHA-256). A parsed
// Policy is immutable, so one value serves every caller. The cache is
// bounded: when full, the oldest entry goes first. The working set of a
// broker is small and a miss costs one parse.
type Cache struct {
	mu    sync.Mutex
	m     map[cacheKey]*Policy
	ring  []cacheKey
	next  int
	limit int
}

type cacheKey struct {
	kind Kind
	sum  [sha256.Size]byte
}

// NewCache returns a cache of at most limit policies.
func NewCache(limit int) *Cache {
	return &Cache{m: make(map[cacheKey]*Policy, limit), ring: make([]cacheKey, 0, limit), limit: limit}
}

// Parse returns the parsed document, from the cache when it was parsed
// before; a document Parse refuses gets Parse's error and is not kept.
func (c *Cache) Parse(doc string, kind Kind) (*Policy, error) {
	k := cacheKey{kind: kind, sum: sha256.Sum256([]byte(doc))}
	c.mu.Lock()
	p, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := Parse([]byte(doc), kind)
	if err != nil {
		return nil, err
	}
	c.add(k, p)
	return p, nil
}

func (c *Cache) add(k cacheKey, p *Policy) {
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

// Len is the number of policies kept.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}
