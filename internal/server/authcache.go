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

// accessKey is iam.LookupAccessKey, cached.
func (pc *principalCache) accessKey(ctx context.Context, akid string) (*iam.User, string, bool, error) {
	if v, ok := pc.get("k\x00" + akid); ok {
		e := v.(keyEntry)
		return e.user, e.secret, e.active, nil
	}
	gen := pc.iam.Generation()
	user, secret, active, err := pc.iam.LookupAccessKey(ctx, akid)
	if err != nil {
		return nil, "", false, err
	}
	pc.put("k\x00"+akid, gen, keyEntry{user: user, secret: secret, active: active})
	return user, secret, active, nil
}

func (pc *principalCache) user(ctx context.Context, name string) (*iam.User, error) {
	if v, ok := pc.get("u\x00" + name); ok {
		return v.(*iam.User), nil
	}
	gen := pc.iam.Generation()
	u, err := pc.iam.GetUser(ctx, name)
	if err != nil {
		return nil, err
	}
	pc.put("u\x00"+name, gen, u)
	return u, nil
}

func (pc *principalCache) role(ctx context.Context, name string) (*iam.Role, error) {
	if v, ok := pc.get("r\x00" + name); ok {
		return v.(*iam.Role), nil
	}
	gen := pc.iam.Generation()
	r, err := pc.iam.GetRole(ctx, name)
	if err != nil {
		return nil, err
	}
	pc.put("r\x00"+name, gen, r)
	return r, nil
}

func (pc *principalCache) userPolicies(ctx context.Context, name string) ([]policy.Labeled, error) {
	if v, ok := pc.get("up\x00" + name); ok {
		return v.([]policy.Labeled), nil
	}
	gen := pc.iam.Generation()
	p, err := pc.iam.UserPolicies(ctx, name)
	if err != nil {
		return nil, err
	}
	pc.put("up\x00"+name, gen, p)
	return p, nil
}

func (pc *principalCache) rolePolicies(ctx context.Context, name string) ([]policy.Labeled, error) {
	if v, ok := pc.get("rp\x00" + name); ok {
		return v.([]policy.Labeled), nil
	}
	gen := pc.iam.Generation()
	p, err := pc.iam.RolePolicies(ctx, name)
	if err != nil {
		return nil, err
	}
	pc.put("rp\x00"+name, gen, p)
	return p, nil
}
