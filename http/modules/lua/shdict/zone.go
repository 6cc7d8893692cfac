// Package shdict holds the zones of lua_shared_dict: key-value stores
// shared by every event loop, with ngx_lua's semantics (expiry, LRU
// eviction when full, flags, numbers, strings, booleans and lists) and
// its memory accounting: each zone models nginx's slab allocator over the
// configured size, so that an entry fits, forces evictions or fails with
// "no memory" exactly when it would in nginx.
//
// # Goroutines
//
// Every method of Zone may be called from any goroutine. One mutex per
// zone guards it, as ngx_lua has one lock per dict; operations are short
// and never wait for anything else while holding it.
package shdict

import (
	"errors"
	"math"
	"sync"
)

// Type is a stored value's type, numbered as ngx_lua numbers them (the
// Lua type tags, plus List).
type Type uint8

// The value types.
const (
	Nil     Type = 0
	Boolean Type = 1
	Number  Type = 3
	String  Type = 4
	List    Type = 5
)

// Value is a value stored in a zone or read from one. Str is a String's
// bytes; Num a Number, or a Boolean as 1 or 0.
type Value struct {
	Type Type
	Str  string
	Num  float64
}

// size is the number of bytes ngx_lua stores for v.
func (v Value) size() int {
	switch v.Type {
	case String:
		return len(v.Str)
	case Number:
		return 8
	case Boolean:
		return 1
	}
	return 0
}

// Store operations (ngx_http_lua_ffi_shdict_store's op bits).
const (
	OpSet     = 0
	OpAdd     = 0x0001
	OpReplace = 0x0002
	// OpSafe never evicts valid entries to make room.
	OpSafe = 0x0004
)

// The errors of zone operations, worded as ngx_lua returns them to Lua.
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("exists")
	ErrNoMemory   = errors.New("no memory")
	ErrNotNumber  = errors.New("not a number")
	ErrNotList    = errors.New("value not a list")
	ErrIsList     = errors.New("value is a list")
	ErrNilAddRepl = errors.New("attempt to add or replace nil values")
)

const (
	// nodeOverhead is what an entry costs besides its key and value:
	// the rbtree node up to its color field and the shdict node header.
	nodeOverhead = 32 + 36
	// listHead is the size of a list entry's queue head.
	listHead = 16
	// listNodeOverhead is a list element's header.
	listNodeOverhead = 21
	// evictRounds bounds the forced evictions of one store.
	evictRounds = 30
)

// entry is one key.
type entry struct {
	key   string
	val   Value
	flags uint32
	// expires is the expiry time in milliseconds since the epoch; 0
	// never expires.
	expires uint64
	mem     allocation
	// items holds a List's elements, left to right.
	items deque
	// prev and next link the entry into the zone's LRU queue.
	prev, next *entry
}

// Zone is one lua_shared_dict.
type Zone struct {
	name string
	size int64

	mu   sync.Mutex
	pool slabPool
	keys map[string]*entry
	// lru is the queue's sentinel: lru.next is the most recently used
	// entry, lru.prev the least.
	lru entry
	// initErr is set when the zone is too small for nginx to set it up.
	initErr error
}

// errInit is nginx's message when a zone is too small to hold its own
// bookkeeping.
var errInit = errors.New("ngx_slab_alloc() failed: no memory")

// New creates an empty zone of size bytes named name, laid out as nginx
// lays out a fresh shared memory zone: the dict's tree and queue heads and
// its log context are allocated first.
func New(name string, size int64) *Zone {
	z := &Zone{name: name, size: size, keys: map[string]*entry{}}
	z.lru.next, z.lru.prev = &z.lru, &z.lru
	z.pool.init(poolPages(size))
	// ngx_http_lua_shdict_shctx_t, then " in lua_shared_dict zone "NAME""
	// with its NUL.
	if _, ok := z.pool.alloc(80); !ok {
		z.initErr = errInit
	} else if _, ok := z.pool.alloc(len(` in lua_shared_dict zone ""`) + 1 + len(name)); !ok {
		z.initErr = errInit
	}
	return z
}

// Name returns the zone's name.
func (z *Zone) Name() string { return z.name }

// Capacity returns the zone's configured size in bytes.
func (z *Zone) Capacity() int64 { return z.size }

// InitErr returns nginx's error when the zone is too small to be set up
// (nginx then fails to start), else nil.
func (z *Zone) InitErr() error { return z.initErr }

// FreeSpace returns the bytes of the zone's wholly free pages, as
// ngx_lua's free_space() reports them.
func (z *Zone) FreeSpace() int64 {
	z.mu.Lock()
	n := z.pool.pfree
	z.mu.Unlock()
	return int64(n) * pageSize
}

func (z *Zone) lruFront(e *entry) {
	e.prev = &z.lru
	e.next = z.lru.next
	e.next.prev = e
	z.lru.next = e
}

func (z *Zone) lruUnlink(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
}

func (z *Zone) touch(e *entry) {
	z.lruUnlink(e)
	z.lruFront(e)
}

type lookupResult uint8

const (
	missing lookupResult = iota
	valid
	expired
)

// lookup finds key, moves it to the front of the LRU queue and tells
// whether it has expired.
func (z *Zone) lookup(key string, now uint64) (*entry, lookupResult) {
	e := z.keys[key]
	if e == nil {
		return nil, missing
	}
	z.touch(e)
	if e.expires != 0 && int64(e.expires-now) < 0 {
		return e, expired
	}
	return e, valid
}

// remove deletes e and frees its memory.
func (z *Zone) remove(e *entry) {
	if e.val.Type == List {
		for i := 0; i < e.items.len(); i++ {
			z.pool.free(e.items.at(i).mem)
		}
		e.items = deque{}
	}
	z.lruUnlink(e)
	delete(z.keys, e.key)
	z.pool.free(e.mem)
}

// expire removes from the old end of the LRU queue: with force, the
// oldest entry whatever its expiry and then up to two expired ones;
// without, up to two expired ones. It returns how many it removed.
func (z *Zone) expire(now uint64, force bool) int {
	freed := 0
	n := 1
	if force {
		n = 0
	}
	for ; n < 3; n++ {
		e := z.lru.prev
		if e == &z.lru {
			return freed
		}
		if n != 0 {
			if e.expires == 0 || int64(e.expires-now) > 0 {
				return freed
			}
		}
		z.remove(e)
		freed++
	}
	return freed
}

// allocEvicting allocates size bytes, evicting the oldest entries when
// the zone is full, as a non-safe store does. forcible tells whether any
// entry was evicted.
func (z *Zone) allocEvicting(size int, now uint64) (a allocation, forcible, ok bool) {
	if a, ok := z.pool.alloc(size); ok {
		return a, false, true
	}
	for i := 0; i < evictRounds; i++ {
		if z.expire(now, true) == 0 {
			break
		}
		forcible = true
		if a, ok := z.pool.alloc(size); ok {
			return a, true, true
		}
	}
	return allocation{}, forcible, false
}

func expiry(now uint64, ttl int64) uint64 {
	if ttl > 0 {
		return now + uint64(ttl)
	}
	return 0
}

// Store is set, add, replace and their safe forms (op), and delete (a Nil
// value with OpSet). ttl is the time to live in milliseconds (0 or less:
// none), now the current time in milliseconds. forcible reports that
// valid entries were evicted to make room.
func (z *Zone) Store(op int, key string, v Value, ttl int64, flags uint32, now uint64) (forcible bool, err error) {
	if v.Type == Nil && op&(OpAdd|OpReplace) != 0 {
		return false, ErrNilAddRepl
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	z.expire(now, false)
	e, res := z.lookup(key, now)

	switch {
	case op&OpReplace != 0:
		if res != valid {
			return false, ErrNotFound
		}
		if z.reuse(e, v, ttl, flags, now) {
			return false, nil
		}
		z.remove(e)
	case op&OpAdd != 0:
		if res == valid {
			return false, ErrExists
		}
		if res == expired {
			if z.reuse(e, v, ttl, flags, now) {
				return false, nil
			}
			z.remove(e)
		}
	case res != missing:
		if v.Type != Nil && z.reuse(e, v, ttl, flags, now) {
			return false, nil
		}
		z.remove(e)
	}

	if v.Type == Nil {
		return false, nil
	}
	size := nodeOverhead + len(key) + v.size()
	var a allocation
	var ok bool
	if op&OpSafe != 0 {
		a, ok = z.pool.alloc(size)
	} else {
		a, forcible, ok = z.allocEvicting(size, now)
	}
	if !ok {
		return forcible, ErrNoMemory
	}
	e = &entry{key: key, val: v, flags: flags, expires: expiry(now, ttl), mem: a}
	z.keys[key] = e
	z.lruFront(e)
	return forcible, nil
}

// reuse overwrites e in place when the new value has the old one's size,
// as ngx_lua does to spare an allocation.
func (z *Zone) reuse(e *entry, v Value, ttl int64, flags uint32, now uint64) bool {
	if e.val.Type == List || v.size() != e.val.size() {
		return false
	}
	e.expires = expiry(now, ttl)
	e.flags = flags
	e.val = v
	return true
}

// Get returns key's value and flags. With stale, an expired value that
// is still in the zone is returned too, and isStale tells so; without,
// expired values read as Nil. A list is ErrIsList.
func (z *Zone) Get(key string, stale bool, now uint64) (v Value, flags uint32, isStale bool, err error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	if !stale {
		z.expire(now, false)
	}
	e, res := z.lookup(key, now)
	if res == missing || res == expired && !stale {
		return Value{}, 0, false, nil
	}
	if e.val.Type == List {
		return Value{}, 0, false, ErrIsList
	}
	return e.val, e.flags, res == expired, nil
}

// Incr adds delta to key's number. A missing or expired key is ErrNotFound
// unless hasInit, in which case it starts at init (then expiring after
// initTTL milliseconds if that is positive). forcible reports evictions
// made to create it.
func (z *Zone) Incr(key string, delta float64, hasInit bool, init float64, initTTL int64, now uint64) (n float64, forcible bool, err error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.expire(now, false)
	e, res := z.lookup(key, now)
	if res == valid {
		if e.val.Type != Number {
			return 0, false, ErrNotNumber
		}
		e.val.Num += delta
		return e.val.Num, false, nil
	}
	if !hasInit {
		return 0, false, ErrNotFound
	}
	n = delta + init
	if res == expired {
		if e.val.Type != List && e.val.size() == 8 {
			e.flags = 0
			e.expires = expiry(now, initTTL)
			e.val = Value{Type: Number, Num: n}
			return n, false, nil
		}
		z.remove(e)
	}
	a, forcible, ok := z.allocEvicting(nodeOverhead+len(key)+8, now)
	if !ok {
		return 0, forcible, ErrNoMemory
	}
	e = &entry{key: key, val: Value{Type: Number, Num: n}, expires: expiry(now, initTTL), mem: a}
	z.keys[key] = e
	z.lruFront(e)
	return n, forcible, nil
}

// FlushAll marks every entry expired and frees the oldest few, as
// ngx_lua's flush_all does; the others stay until something removes
// them.
func (z *Zone) FlushAll(now uint64) {
	z.mu.Lock()
	defer z.mu.Unlock()
	for e := z.lru.next; e != &z.lru; e = e.next {
		e.expires = 1
	}
	z.expire(now, true)
}

// FlushExpired removes expired entries, oldest first, at most max of them
// when max is not 0, and returns how many it removed.
func (z *Zone) FlushExpired(max int, now uint64) int {
	z.mu.Lock()
	defer z.mu.Unlock()
	freed := 0
	for e := z.lru.prev; e != &z.lru; {
		prev := e.prev
		if e.expires != 0 && e.expires <= now {
			z.remove(e)
			freed++
			if max != 0 && freed == max {
				break
			}
		}
		e = prev
	}
	return freed
}

// Keys returns the keys that have not expired, oldest first, at most max
// of them when max is not 0.
func (z *Zone) Keys(max int, now uint64) []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	var keys []string
	for e := z.lru.prev; e != &z.lru; e = e.prev {
		if e.expires == 0 || e.expires > now {
			keys = append(keys, e.key)
			if max != 0 && len(keys) == max {
				break
			}
		}
	}
	return keys
}

// TTL returns the milliseconds key has left to live (0: no expiry; it may
// be negative for an expired entry not yet removed). ok is false when the
// key is not in the zone.
func (z *Zone) TTL(key string, now uint64) (ms int64, ok bool) {
	z.mu.Lock()
	defer z.mu.Unlock()
	e := z.keys[key]
	if e == nil {
		return 0, false
	}
	if e.expires == 0 {
		return 0, true
	}
	return int64(e.expires - now), true
}

// SetExpire sets key's time to live to ttl milliseconds (0 or less: no
// expiry), even if it has expired. It reports false when the key is not
// in the zone.
func (z *Zone) SetExpire(key string, ttl int64, now uint64) bool {
	z.mu.Lock()
	defer z.mu.Unlock()
	e := z.keys[key]
	if e == nil {
		return false
	}
	e.expires = expiry(now, ttl)
	return true
}

// Push adds v (a String or a Number) to the left or right end of key's
// list, creating the list, and returns the list's new length. When even
// the list's head cannot be allocated, the error is ErrNoMemory with
// headless set: ngx_lua reports that case as false rather than nil.
func (z *Zone) Push(key string, v Value, left bool, now uint64) (n int, headless bool, err error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.expire(now, false)
	e, res := z.lookup(key, now)
	switch res {
	case expired:
		if e.val.Type != List {
			z.remove(e)
			e = nil
			break
		}
		for i := 0; i < e.items.len(); i++ {
			z.pool.free(e.items.at(i).mem)
		}
		e.items = deque{}
		e.expires = 0
	case valid:
		if e.val.Type != List {
			return 0, false, ErrNotList
		}
	default:
		e = nil
	}
	if e == nil {
		a, ok := z.pool.alloc((nodeOverhead + len(key) + listHead + 7) &^ 7)
		if !ok {
			return 0, true, ErrNoMemory
		}
		e = &entry{key: key, val: Value{Type: List}, mem: a}
		z.keys[key] = e
		z.lruFront(e)
	}
	a, ok := z.pool.alloc(listNodeOverhead + v.size())
	if !ok {
		if e.items.len() == 0 {
			z.lruUnlink(e)
			delete(z.keys, e.key)
			z.pool.free(e.mem)
		}
		return 0, false, ErrNoMemory
	}
	it := item{val: v, mem: a}
	if left {
		e.items.pushFront(it)
	} else {
		e.items.pushBack(it)
	}
	return e.items.len(), false, nil
}

// Pop removes and returns the value at the left or right end of key's
// list. ok is false when the key is missing or expired.
func (z *Zone) Pop(key string, left bool, now uint64) (v Value, ok bool, err error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.expire(now, false)
	e, res := z.lookup(key, now)
	if res != valid {
		return Value{}, false, nil
	}
	if e.val.Type != List {
		return Value{}, false, ErrNotList
	}
	var it item
	if left {
		it = e.items.popFront()
	} else {
		it = e.items.popBack()
	}
	z.pool.free(it.mem)
	if e.items.len() == 0 {
		z.lruUnlink(e)
		delete(z.keys, e.key)
		z.pool.free(e.mem)
	}
	return it.val, true, nil
}

// Len returns the length of key's list (0 when missing or expired).
func (z *Zone) Len(key string, now uint64) (int, error) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.expire(now, false)
	e, res := z.lookup(key, now)
	if res != valid {
		return 0, nil
	}
	if e.val.Type != List {
		return 0, ErrNotList
	}
	return e.items.len(), nil
}

// item is one list element.
type item struct {
	val Value
	mem allocation
}

// deque is a list's elements in a ring buffer.
type deque struct {
	buf   []item
	first int
	n     int
}

func (d *deque) len() int { return d.n }

func (d *deque) at(i int) item { return d.buf[(d.first+i)%len(d.buf)] }

func (d *deque) grow() {
	if d.n < len(d.buf) {
		return
	}
	nb := make([]item, max(4, 2*len(d.buf)))
	for i := 0; i < d.n; i++ {
		nb[i] = d.at(i)
	}
	d.buf, d.first = nb, 0
}

func (d *deque) pushFront(it item) {
	d.grow()
	d.first = (d.first - 1 + len(d.buf)) % len(d.buf)
	d.buf[d.first] = it
	d.n++
}

func (d *deque) pushBack(it item) {
	d.grow()
	d.buf[(d.first+d.n)%len(d.buf)] = it
	d.n++
}

func (d *deque) popFront() item {
	it := d.buf[d.first]
	d.buf[d.first] = item{}
	d.first = (d.first + 1) % len(d.buf)
	d.n--
	return it
}

func (d *deque) popBack() item {
	i := (d.first + d.n - 1) % len(d.buf)
	it := d.buf[i]
	d.buf[i] = item{}
	d.n--
	return it
}

// ToLong converts a double to a C long as x86-64 does (cvttsd2si): values
// out of range, and NaN, become the smallest long. ngx_lua's FFI calls
// convert times in milliseconds this way.
func ToLong(f float64) int64 {
	if f != f || f >= 9223372036854775808.0 || f < -9223372036854775808.0 {
		return math.MinInt64
	}
	return int64(f)
}

// ToInt32 converts a double to a C int as x86-64 does: out of range and
// NaN give the smallest int. ngx_lua passes user flags this way.
func ToInt32(f float64) int32 {
	if f != f || f >= 2147483648.0 || f <= -2147483649.0 {
		return math.MinInt32
	}
	return int32(f)
}
