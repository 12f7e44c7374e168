package authz

import (
	"sync"
	"time"

	"github.com/obank/obank/oauth"
)

// cacheMap is a small TTL map of clients.
type cacheMap struct {
	mu sync.RWMutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	client  oauth.Client
	expires time.Time
}

func newCacheMap() cacheMap { return cacheMap{m: map[string]cacheEntry{}} }

func (c *cacheMap) get(id string, now time.Time) (oauth.Client, bool) {
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !now.Before(e.expires) {
		return oauth.Client{}, false
	}
	return e.client, true
}

func (c *cacheMap) put(id string, cl oauth.Client, expires time.Time) {
	c.mu.Lock()
	// The cache holds registered TPPs: a few thousand at most. Dropping
	// everything when it grows past that keeps it bounded without an LRU.
	if len(c.m) > 10000 {
		clear(c.m)
	}
	c.m[id] = cacheEntry{client: cl, expires: expires}
	c.mu.Unlock()
}

func (c *cacheMap) del(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
