package policy

import (
	"errors"
	"testing"
)

const (
	cacheAllowRead = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	cacheAllowAll  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	cacheDenyAll   = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`
)

func TestCacheServesRepeatsAndEvictsTheOldest(t *testing.T) {
	c := NewCache(2)
	parse := func(doc string, kind Kind) *Policy {
		t.Helper()
		p, err := c.Parse(doc, kind)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := parse(cacheAllowRead, KindIdentity)
	if parse(cacheAllowRead, KindIdentity) != a {
		t.Error("a second parse of the same document did not come from the cache")
	}
	parse(cacheAllowAll, KindIdentity)
	parse(cacheDenyAll, KindIdentity)
	if n := c.Len(); n != 2 {
		t.Errorf("the cache holds %d policies, want its bound 2", n)
	}
	if parse(cacheAllowRead, KindIdentity) == a {
		t.Error("the oldest entry was not evicted")
	}
	var me *MalformedError
	if _, err := c.Parse("{", KindIdentity); !errors.As(err, &me) {
		t.Errorf("a malformed document: %v, want a *MalformedError", err)
	}
}
