package secrets

import (
	"bytes"
	"slices"
	"sync"
	"time"
)

// recCache keeps decoded secret records by name together with the stored bytes they were
// decoded from. A hit needs the bytes read in the current transaction to equal the cached
// ones, so the cache can never answer with a record other than the stored one, whichever
// replica wrote it and whether or not the writing transaction committed. It saves the JSON
// decoding of a record (with up to 100 versions) on every read and write of a secret.
type recCache struct {
	mu  sync.Mutex
	max int
	m   map[string]recEntry
}

type recEntry struct {
	raw []byte
	rec *secretRec // never handed out: callers get clones
}

func newRecCache(max int) *recCache {
	return &recCache{max: max, m: make(map[string]recEntry)}
}

// decode returns the record stored as b under name, decoding b only when the cache does
// not hold these exact bytes. The caller owns the record returned.
func (c *recCache) decode(name string, b []byte) (*secretRec, error) {
	c.mu.Lock()
	e, ok := c.m[name]
	c.mu.Unlock()
	if ok && bytes.Equal(e.raw, b) {
		return e.rec.clone(), nil
	}
	r, err := decodeRec(b)
	if err != nil {
		return nil, err
	}
	c.put(name, b, r.clone())
	return r, nil
}

// put caches rec as the decoding of b; it copies b, and keeps rec (which the caller must
// no longer modify).
func (c *recCache) put(name string, b []byte, rec *secretRec) {
	e := recEntry{raw: bytes.Clone(b), rec: rec}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[name]; !ok && len(c.m) >= c.max {
		for k := range c.m { // evict one entry, at random
			delete(c.m, k)
			break
		}
	}
	c.m[name] = e
}

// forget drops name's entry.
func (c *recCache) forget(name string) {
	c.mu.Lock()
	delete(c.m, name)
	c.mu.Unlock()
}

// normalize puts r in the form decoding its JSON gives: times in UTC without a monotonic
// reading, empty lists nil. Saved records are normalized, so that the record cached at a
// save is the one a later read would decode.
func (r *secretRec) normalize() {
	for _, t := range []*time.Time{&r.Created, &r.Changed, &r.Accessed, &r.Deleted, &r.DeleteAt} {
		*t = t.Round(0).UTC()
	}
	if len(r.Tags) == 0 {
		r.Tags = nil
	}
	if len(r.Versions) == 0 {
		r.Versions = nil
	}
	if r.Rotation != nil {
		r.Rotation.normalize()
	}
	for i := range r.Versions {
		v := &r.Versions[i]
		v.Created, v.Accessed = v.Created.Round(0).UTC(), v.Accessed.Round(0).UTC()
		if len(v.Stages) == 0 {
			v.Stages = nil
		}
	}
}

// clone returns a deep copy of r.
func (r *secretRec) clone() *secretRec {
	c := *r
	c.Tags = slices.Clone(r.Tags)
	if r.Rotation != nil {
		rot := *r.Rotation
		c.Rotation = &rot
	}
	if r.Versions != nil {
		c.Versions = make([]versionRec, len(r.Versions))
		for i, v := range r.Versions {
			v.Stages = slices.Clone(v.Stages)
			c.Versions[i] = v
		}
	}
	return &c
}
