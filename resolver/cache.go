package resolver

import (
	"net/netip"
	"sync"
	"time"
)

const cacheShards = 32

// Cache holds the answers of every resolver of a process: all loops share
// one, so a name one loop resolved is known to the others. Entries live
// while their TTL (or valid=) lasts, counted in whole seconds as nginx
// does, and an entry nobody asked for in 30 seconds is dropped. Failed
// resolutions are not cached, as in nginx 1.22. A Cache is safe for any
// goroutine; each shard has its own mutex, taken once per lookup and once
// per answer, never on a path that does not resolve a name.
//
// Make one Cache per configuration generation: nginx's resolvers belong to
// a configuration, so a reload starts with nothing cached, and users rely
// on a reload to pick up changed DNS records.
type Cache struct {
	now    func() time.Time
	shards [cacheShards]cacheShard
}

type cacheShard struct {
	mu        sync.Mutex
	m         map[cacheKey]*entry
	lastSweep int64
}

type cacheKey struct {
	cfg  string // Config.key: equal resolvers share entries
	name string
}

// entry is one cached name: its addresses, or the name its CNAME points
// to. The address slices are never modified once stored.
type entry struct {
	v4, v6 []netip.Addr
	cname  string
	valid  int64 // usable while the current second is <= valid
	expire int64 // dropped once the current second is past expire
}

// NewCache returns an empty cache. now is its clock (nil: time.Now);
// only whole seconds of it matter. Any goroutine.
func NewCache(now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	c := &Cache{now: now}
	for i := range c.shards {
		c.shards[i].m = make(map[cacheKey]*entry)
	}
	return c
}

// sec is the cache's clock in seconds, nginx's ngx_time().
func (c *Cache) sec() int64 { return c.now().Unix() }

func (c *Cache) shard(name string) *cacheShard {
	// FNV-1a: cheap, and names differ enough in their bytes.
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h ^= uint32(name[i])
		h *= 16777619
	}
	return &c.shards[h%cacheShards]
}

// get returns a copy of the entry for name if it is still valid at now,
// and marks it used.
func (c *Cache) get(cfg, name string, now int64) (entry, bool) {
	s := c.shard(name)
	s.mu.Lock()
	e := s.m[cacheKey{cfg, name}]
	if e == nil || e.valid < now {
		s.mu.Unlock()
		return entry{}, false
	}
	e.expire = now + idleExpire
	v := *e
	s.mu.Unlock()
	return v, true
}

// put stores e for name, replacing what was there.
func (c *Cache) put(cfg, name string, e entry, now int64) {
	e.expire = now + idleExpire
	s := c.shard(name)
	s.mu.Lock()
	s.m[cacheKey{cfg, name}] = &e
	if now != s.lastSweep {
		// At most one sweep per shard and second keeps the work per
		// insertion small while unused entries still go.
		s.lastSweep = now
		for k, v := range s.m {
			if v.expire < now {
				delete(s.m, k)
			}
		}
	}
	s.mu.Unlock()
}

// Len returns the number of entries held, expired ones not yet dropped
// included. Any goroutine.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		n += len(s.m)
		s.mu.Unlock()
	}
	return n
}
