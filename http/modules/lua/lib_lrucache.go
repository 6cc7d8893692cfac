package lua

import (
	"math"

	glua "github.com/yuin/gopher-lua"
)

// This file is resty.lrucache and resty.lrucache.pureffi in Go: the same
// API and semantics as lua-resty-lrucache (one cache per VM, that is per
// event loop, as the original is per worker). Expired entries stay until
// evicted or overwritten; get returns them as the stale value.

func init() { registerAPI(installLRU) }

// lrucacheVersion is the _VERSION lua-resty-lrucache reports.
const lrucacheVersion = "0.11"

// lruNode is one entry. Nodes sit in a ring headed by the cache's
// sentinel, most recently used first.
type lruNode struct {
	key        glua.LValue
	val        glua.LValue
	expire     float64 // seconds; negative: never
	flags      uint32
	prev, next *lruNode
}

// lruCache is the state behind a cache object.
type lruCache struct {
	max int
	// size is new's argument as given, which capacity reports.
	size  glua.LNumber
	items map[glua.LValue]*lruNode
	head  lruNode // sentinel
	// strKeys selects pureffi's behaviour: keys go through tostring and a
	// nil value still occupies its entry.
	strKeys bool
}

func newLRU(max int, strKeys bool) *lruCache {
	c := &lruCache{max: max, items: make(map[glua.LValue]*lruNode), strKeys: strKeys}
	c.head.prev, c.head.next = &c.head, &c.head
	return c
}

func (c *lruCache) unlink(n *lruNode) {
	n.prev.next, n.next.prev = n.next, n.prev
}

func (c *lruCache) pushFront(n *lruNode) {
	n.prev, n.next = &c.head, c.head.next
	c.head.next.prev = n
	c.head.next = n
}

// set stores key. A new key takes a free slot or evicts the least
// recently used entry.
func (c *lruCache) set(key, val glua.LValue, expire float64, flags uint32) {
	n := c.items[key]
	if n == nil {
		if len(c.items) >= c.max {
			n = c.head.prev
			c.unlink(n)
			delete(c.items, n.key)
		} else {
			n = &lruNode{}
		}
		n.key = key
		c.items[key] = n
	} else {
		c.unlink(n)
	}
	n.val = val
	n.expire = expire
	n.flags = flags
	c.pushFront(n)
}

func (c *lruCache) del(key glua.LValue) bool {
	n := c.items[key]
	if n == nil {
		return false
	}
	c.unlink(n)
	delete(c.items, key)
	return true
}

func (c *lruCache) flush() {
	clear(c.items)
	c.head.prev, c.head.next = &c.head, &c.head
}

func installLRU(st *loopState) {
	for _, v := range []struct {
		name    string
		strKeys bool
	}{{"resty.lrucache", false}, {"resty.lrucache.pureffi", true}} {
		v := v
		st.vm.Preload(v.name, func(L *glua.LState) int {
			L.Push(st.lruModule(L, v.strKeys))
			return 1
		})
	}
}

// lruModule builds the module table: new, and the methods objects find
// through their metatable's __index.
func (st *loopState) lruModule(L *glua.LState, strKeys bool) *glua.LTable {
	m := L.NewTable()
	m.RawSetString("_VERSION", glua.LString(lrucacheVersion))
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", m)

	self := func(L *glua.LState) *lruCache {
		t, ok := L.Get(1).(*glua.LTable)
		if !ok {
			raise(L, "attempt to index local 'self' (a "+L.Get(1).Type().String()+" value)")
		}
		if ud, ok := t.RawGetString("_lru").(*glua.LUserData); ok {
			if c, ok := ud.Value.(*lruCache); ok {
				return c
			}
		}
		raise(L, "attempt to index field 'hasht' (a nil value)")
		return nil
	}
	// key checks a key as a Lua table index (or converts it for pureffi).
	key := func(L *glua.LState, c *lruCache, v glua.LValue) glua.LValue {
		if c.strKeys {
			if _, ok := v.(glua.LString); ok {
				return v
			}
			return st.vm.ToString(L, v)
		}
		switch k := v.(type) {
		case *glua.LNilType:
			raise(L, "table index is nil")
		case glua.LNumber:
			if math.IsNaN(float64(k)) {
				raise(L, "table index is NaN")
			}
		}
		return v
	}
	fn := func(name string, f glua.LGFunction) { m.RawSetString(name, L.NewFunction(f)) }

	fn("new", func(L *glua.LState) int {
		n, ok := L.Get(1).(glua.LNumber)
		if !ok {
			raise(L, "attempt to compare "+L.Get(1).Type().String()+" with number")
		}
		if n < 1 {
			L.Push(glua.LNil)
			L.Push(glua.LString("size too small"))
			return 2
		}
		ud := L.NewUserData()
		c := newLRU(int(n), strKeys)
		c.size = n
		ud.Value = c
		obj := L.CreateTable(0, 1)
		obj.RawSetString("_lru", ud)
		L.SetMetatable(obj, mt)
		L.Push(obj)
		return 1
	})
	fn("count", func(L *glua.LState) int {
		L.Push(glua.LNumber(len(self(L).items)))
		return 1
	})
	fn("capacity", func(L *glua.LState) int {
		L.Push(self(L).size)
		return 1
	})
	fn("get", func(L *glua.LState) int {
		c := self(L)
		k := key(L, c, L.Get(2))
		n := c.items[k]
		if n == nil || (!c.strKeys && n.val == glua.LNil) {
			L.Push(glua.LNil)
			return 1
		}
		c.unlink(n)
		c.pushFront(n)
		if n.expire >= 0 && n.expire < st.nowSeconds() {
			L.Push(glua.LNil)
			L.Push(n.val)
			L.Push(glua.LNumber(n.flags))
			return 3
		}
		L.Push(n.val)
		L.Push(glua.LNil)
		L.Push(glua.LNumber(n.flags))
		return 3
	})
	fn("set", func(L *glua.LState) int {
		c := self(L)
		k := key(L, c, L.Get(2))
		expire := -1.0
		switch ttl := L.Get(4).(type) {
		case *glua.LNilType:
		case glua.LBool:
			if ttl {
				raise(L, "attempt to perform arithmetic on local 'ttl' (a boolean value)")
			}
		case glua.LNumber:
			expire = st.nowSeconds() + float64(ttl)
		default:
			raise(L, "attempt to perform arithmetic on local 'ttl' (a "+ttl.Type().String()+" value)")
		}
		var flags uint32
		if f, ok := L.Get(5).(glua.LNumber); ok && f >= 0 {
			flags = uint32(int64(f))
		}
		c.set(k, L.Get(3), expire, flags)
		return 0
	})
	fn("delete", func(L *glua.LState) int {
		c := self(L)
		L.Push(glua.LBool(c.del(key(L, c, L.Get(2)))))
		return 1
	})
	fn("flush_all", func(L *glua.LState) int {
		self(L).flush()
		return 0
	})
	fn("get_keys", func(L *glua.LState) int {
		c := self(L)
		max := len(c.items)
		if v, ok := L.Get(2).(glua.LNumber); ok && v != 0 {
			max = int(v)
		}
		res, ok := L.Get(3).(*glua.LTable)
		if !ok {
			res = L.CreateTable(max+1, 0)
		}
		i := 0
		for n := c.head.next; n != &c.head && i < max; n = n.next {
			i++
			res.RawSetInt(i, n.key)
		}
		res.RawSetInt(i+1, glua.LNil)
		L.Push(res)
		return 1
	})
	return m
}

// nowSeconds is ngx.now(): the cached time to the millisecond.
func (st *loopState) nowSeconds() float64 {
	ms := st.now().UnixMilli()
	return float64(ms/1000) + float64(ms%1000)/1000.0
}
