package regex

// DefaultCacheEntries is lua_regex_cache_max_entries' default.
const DefaultCacheEntries = 1024

type cacheKey struct {
	pattern string
	flags   Flags
}

type cacheEntry struct {
	key        cacheKey
	re         *Regexp
	prev, next *cacheEntry
}

// Cache keeps compiled patterns by (pattern, flags), evicting the least
// recently used one beyond its capacity, as ngx.re's "o" option does with
// lua_regex_cache_max_entries. Failed compiles are not kept. A Cache is
// not safe for concurrent use: each event loop owns one and uses it from
// its own goroutine only.
type Cache struct {
	max     int
	opts    Options
	entries map[cacheKey]*cacheEntry
	head    cacheEntry // sentinel: head.next is the most recent entry
}

// NewCache returns a cache of at most max entries (DefaultCacheEntries
// if max is 0; a negative max caches nothing) whose compiles use opts.
func NewCache(max int, opts Options) *Cache {
	if max == 0 {
		max = DefaultCacheEntries
	}
	c := &Cache{max: max, opts: opts, entries: make(map[cacheKey]*cacheEntry)}
	c.head.next, c.head.prev = &c.head, &c.head
	return c
}

// Len returns the number of cached patterns.
func (c *Cache) Len() int { return len(c.entries) }

// Get returns the compiled pattern, compiling and caching it on a miss.
// A hit does not allocate.
func (c *Cache) Get(pattern string, flags Flags) (*Regexp, error) {
	k := cacheKey{pattern, flags}
	if e, ok := c.entries[k]; ok {
		c.unlink(e)
		c.pushFront(e)
		return e.re, nil
	}
	re, err := CompileOptions(pattern, flags, c.opts)
	if err != nil || c.max < 0 {
		return re, err
	}
	if len(c.entries) >= c.max {
		old := c.head.prev
		c.unlink(old)
		delete(c.entries, old.key)
	}
	e := &cacheEntry{key: k, re: re}
	c.entries[k] = e
	c.pushFront(e)
	return re, nil
}

func (c *Cache) unlink(e *cacheEntry) {
	e.prev.next, e.next.prev = e.next, e.prev
}

func (c *Cache) pushFront(e *cacheEntry) {
	e.prev, e.next = &c.head, c.head.next
	c.head.next.prev = e
	c.head.next = e
}
