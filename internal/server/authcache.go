package server

import (
	"context"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/shortfuse/shortfuse/internal/iam"
	"github.com/shortfuse/shortfuse/internal/policy"
)

// principalCache keeps what authentication and authorization read from IAM
// on every request: access keys, users, roles and their compiled policies.
// An entry is used only while IAM's generation is unchanged (any IAM write
// on this replica invalidates everything at once) and for at most maxAge,
// which bounds how long a change made on another replica can go unseen.
type principalCache struct {
	iam    *iam.Service
	maxAge time.Duration
	c      *lru.Cache[string, cacheEntry]
}

type cacheEntry struct {
	gen uint64
	at  time.Time
	v   any
}

type keyEntry struct {
	user   *iam.User
	secret string
	active bool
}

func newPrincipalCache(svc *iam.Service, size int, maxAge time.Duration) *principalCache {
	c, _ := lru.New[string, cacheEntry](size)
	return &principalCache{iam: svc, maxAge: maxAge, c: c}
}

func (pc *principalCache) get(key string) (any, bool) {
	if pc == nil || pc.maxAge <= 0 {
		return nil, false
	}
	e, ok := pc.c.Get(key)
	if !ok || e.gen != pc.iam.Generation() || time.Since(e.at) > pc.maxAge {
		return nil, false
	}
	return e.v, true
}

func (pc *principalCache) put(key string, gen uint64, v any) {
	if pc == nil || pc.maxAge <= 0 {
		return
	}
	pc.c.Add(key, cacheEntry{gen: gen, at: time.Now(), v: v})
}

// cached returns the value under key, or loads it and keeps it. The
// generation is read before loading, so a write that lands during the load
// leaves an entry that is already stale. Errors are not kept.
func cached[T any](pc *principalCache, key string, load func() (T, error)) (T, error) {
	if v, ok := pc.get(key); ok {
		return v.(T), nil
	}
	gen := pc.iam.Generation()
	v, err := load()
	if err != nil {
		return v, err
	}
	pc.put(key, gen, v)
	return v, nil
}

// accessKey is iam.LookupAccessKey, cached.
func (pc *principalCache) accessKey(ctx context.Context, akid string) (*iam.User, string, bool, error) {
	e, err := cached(pc, "k\x00"+akid, func() (keyEntry, error) {
		user, secret, active, err := pc.iam.LookupAccessKey(ctx, akid)
		return keyEntry{user: user, secret: secret, active: active}, err
	})
	return e.user, e.secret, e.active, err
}

func (pc *principalCache) user(ctx context.Context, name string) (*iam.User, error) {
	return cached(pc, "u\x00"+name, func() (*iam.User, error) { return pc.iam.GetUser(ctx, name) })
}

func (pc *principalCache) role(ctx context.Context, name string) (*iam.Role, error) {
	return cached(pc, "r\x00"+name, func() (*iam.Role, error) { return pc.iam.GetRole(ctx, name) })
}

// roleByARN is iam.GetRoleByARN, cached: the role an AssumeRole names, with its trust
// policy.
func (pc *principalCache) roleByARN(ctx context.Context, roleARN string) (*iam.Role, error) {
	return cached(pc, "ra\x00"+roleARN, func() (*iam.Role, error) { return pc.iam.GetRoleByARN(ctx, roleARN) })
}

func (pc *principalCache) userPolicies(ctx context.Context, name string) ([]policy.Labeled, error) {
	return cached(pc, "up\x00"+name, func() ([]policy.Labeled, error) { return pc.iam.UserPolicies(ctx, name) })
}

func (pc *principalCache) rolePolicies(ctx context.Context, name string) ([]policy.Labeled, error) {
	return cached(pc, "rp\x00"+name, func() ([]policy.Labeled, error) { return pc.iam.RolePolicies(ctx, name) })
}
