package gzip

import (
	"bytes"
	"hash/maphash"

	"gresty/http"
)

// The body cache: a loop remembers the compressed form of small bodies it
// compressed more than once, and answers a body it has seen with the
// stored bytes instead of compressing it again. Compression is
// deterministic for a given input and level, so a cached answer is the
// very byte sequence compressing would have produced: nothing about the
// cache is visible to clients, and it saves the work nginx repeats for
// every request for a popular page.
//
//   - only bodies that reach the filter whole, in one call ending the
//     response, from memory (not file buffers), and no longer than
//     cacheMaxBody are candidates;
//   - a body is stored the second time it is seen within a short memory
//     of recent bodies (the doorkeeper), so responses that are different
//     every time (most dynamic ones) never enter the cache;
//   - a hit is confirmed by comparing the whole body with the stored copy,
//     never by the hash alone;
//   - each loop keeps at most cacheMaxBytes of bodies and their compressed
//     forms, evicting the oldest first.

// Limits of a loop's body cache, per encoding.
const (
	cacheMaxBody    = 64 << 10
	cacheMaxBytes   = 2 << 20
	cacheMaxEntries = 1024
	doorkeeperSlots = 256
)

type cacheKey struct {
	sum   uint64
	size  int
	level int
}

// cacheEntry is one cached body: the uncompressed bytes (to confirm hits)
// and the compressed ones. Both are never written after the entry is made,
// so the compressed bytes may be queued on connections as Owned and stay
// valid after the entry is evicted.
type cacheEntry struct {
	key cacheKey
	in  []byte
	out []byte
}

// bodyCache is one loop's cache; only that loop touches it.
type bodyCache struct {
	seed    maphash.Seed
	entries map[cacheKey]*cacheEntry
	// fifo holds the entries in insertion order, from head.
	fifo  []*cacheEntry
	head  int
	bytes int
	seen  [doorkeeperSlots]cacheKey
}

func newBodyCache() *bodyCache {
	return &bodyCache{seed: maphash.MakeSeed(), entries: map[cacheKey]*cacheEntry{}}
}

// cacheable tells whether in is a whole body the cache can take, and its
// size.
func cacheable(in []http.Buf) (int, bool) {
	n := 0
	for i := range in {
		b := &in[i]
		if b.File != nil || b.Flush || (b.Last && i != len(in)-1) {
			return 0, false
		}
		n += len(b.Data)
	}
	if !in[len(in)-1].Last || n > cacheMaxBody {
		return 0, false
	}
	return n, true
}

func (c *bodyCache) key(in []http.Buf, size, level int) cacheKey {
	var h maphash.Hash
	h.SetSeed(c.seed)
	for i := range in {
		h.Write(in[i].Data)
	}
	return cacheKey{sum: h.Sum64(), size: size, level: level}
}

// lookup returns the entry for in, confirmed byte for byte.
func (c *bodyCache) lookup(k cacheKey, in []http.Buf) *cacheEntry {
	e := c.entries[k]
	if e == nil {
		return nil
	}
	rest := e.in
	for i := range in {
		d := in[i].Data
		if !bytes.Equal(rest[:len(d)], d) {
			return nil
		}
		rest = rest[len(d):]
	}
	return e
}

// admit tells whether k was seen recently, and remembers it otherwise.
func (c *bodyCache) admit(k cacheKey) bool {
	slot := &c.seen[k.sum%doorkeeperSlots]
	if *slot == k {
		return true
	}
	*slot = k
	return false
}

// store keeps copies of a body and its compressed form, evicting the
// oldest entries to stay within the limits.
func (c *bodyCache) store(k cacheKey, in []http.Buf, out []byte) *cacheEntry {
	e := &cacheEntry{key: k, in: make([]byte, 0, k.size), out: append([]byte(nil), out...)}
	for i := range in {
		e.in = append(e.in, in[i].Data...)
	}
	size := len(e.in) + len(e.out)
	for c.head < len(c.fifo) && (c.bytes+size > cacheMaxBytes || len(c.entries) >= cacheMaxEntries) {
		old := c.fifo[c.head]
		c.fifo[c.head] = nil
		c.head++
		if c.entries[old.key] == old {
			delete(c.entries, old.key)
		}
		c.bytes -= len(old.in) + len(old.out)
	}
	if c.head > len(c.fifo)/2 {
		n := copy(c.fifo, c.fifo[c.head:])
		clear(c.fifo[n:])
		c.fifo = c.fifo[:n]
		c.head = 0
	}
	if prev := c.entries[k]; prev != nil {
		// an equal key with other bytes: keep the newer body.
		c.bytes -= len(prev.in) + len(prev.out)
		for i := c.head; i < len(c.fifo); i++ {
			if c.fifo[i] == prev {
				c.fifo = append(c.fifo[:i], c.fifo[i+1:]...)
				break
			}
		}
	}
	c.entries[k] = e
	c.fifo = append(c.fifo, e)
	c.bytes += size
	return e
}

// cached answers a whole body from the loop's cache, or compresses it
// and stores it when it was seen recently. It returns false when the body
// is not a candidate or was not seen before; the caller then compresses
// as usual, and whole tells the body's length (-1 when it is not whole).
func (f *Filter) cached(r *http.Request, st *Stream, lp *loopPool, in []http.Buf, next http.BodyFilterFunc) (rc int, done bool, whole int64) {
	size, ok := cacheable(in)
	if !ok {
		return 0, false, -1
	}
	if lp.cache == nil {
		lp.cache = newBodyCache()
	}
	c := lp.cache
	k := c.key(in, size, st.level)
	e := c.lookup(k, in)
	if e == nil {
		if !c.admit(k) {
			return 0, false, int64(size)
		}
		enc := lp.get(f.Pools, st.level)
		enc.Start(int64(size))
		for i := range in {
			if err := enc.Write(in[i].Data); err != nil {
				return http.Error, true, -1
			}
		}
		if err := enc.Finish(); err != nil {
			return http.Error, true, -1
		}
		e = c.store(k, in, enc.Bytes())
		lp.put(st.level, enc)
	}
	st.In, st.Out = int64(len(e.in)), int64(len(e.out))
	st.done = true
	st.bufs[0] = http.Buf{Data: e.out, Owned: true, Last: true, LastInChain: true}
	rc = next(r, st.bufs[:])
	st.bufs[0] = http.Buf{}
	return rc, true, -1
}
