package luavm

import (
	"sync"
	"sync/atomic"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
)

// Request code reads the same library fields over and over: ngx, then
// ngx.say, ngx.req.get_headers, ngx.var... Each read is a Go map lookup in
// a large table (_G holds dozens of names, ngx about a hundred), about 20 ns
// where LuaJIT reads an interned slot. The tables a VM names with
// CacheFields remember their last reads instead: per table, a small cache
// of (key, value) found at a version, the version moving on every write
// that could change a value of the table.
//
// Writes from Lua go through instructions and functions this file wraps
// (SETTABLEKS in fields.go, SETTABLE, SETGLOBAL, rawset, table.clear), so
// they all bump the version of a cached table. Go code that overwrites or
// deletes a field of such a table at run time calls TouchTable; adding a
// key needs nothing, since only keys found are remembered. A cache keeps
// its key strings, so a remembered key's memory is never another key's.

// fieldSlots is the size of the table of cached tables, a power of two.
const fieldSlots = 1024

// fieldWays is the number of reads a table remembers, a power of two.
const fieldWays = 32

// fieldEntry is one remembered read.
type fieldEntry struct {
	key string
	ver uint32
	val lua.LValue
}

// fieldCache is the cache of one table. Only its VM's goroutine uses it.
type fieldCache struct {
	t   *lua.LTable
	ver uint32
	e   [fieldWays]fieldEntry
}

var (
	// fieldBits has a bit set for each slot that holds or held a cache:
	// the quick test for a table that has none.
	fieldBits [fieldSlots / 64]atomic.Uint64
	// fieldTabs are the caches by slot; a table whose slot is taken has
	// none.
	fieldTabs [fieldSlots]atomic.Pointer[fieldCache]
	fieldMu   sync.Mutex // registration
)

func fieldSlot(t *lua.LTable) uintptr {
	return uintptr(unsafe.Pointer(t)) >> 4 & (fieldSlots - 1)
}

// cacheOf returns t's cache, nil when it has none.
func cacheOf(t *lua.LTable) *fieldCache {
	i := fieldSlot(t)
	if fieldBits[i/64].Load()&(1<<(i%64)) == 0 {
		return nil
	}
	if c := fieldTabs[i].Load(); c != nil && c.t == t {
		return c
	}
	return nil
}

// CacheFields gives each table a read cache (see above). Tables whose
// fields change often gain nothing; those whose slot is taken go without.
// Call it on the VM's goroutine, after Go code has filled the tables.
func (vm *VM) CacheFields(tables ...*lua.LTable) {
	fieldMu.Lock()
	defer fieldMu.Unlock()
	for _, t := range tables {
		if t == nil || cacheOf(t) != nil {
			continue
		}
		i := fieldSlot(t)
		if fieldTabs[i].Load() != nil {
			continue
		}
		fieldTabs[i].Store(&fieldCache{t: t, ver: 1})
		fieldBits[i/64].Or(1 << (i % 64))
		vm.fieldTables = append(vm.fieldTables, t)
	}
}

// dropFieldCaches frees the VM's slots.
func (vm *VM) dropFieldCaches() {
	fieldMu.Lock()
	defer fieldMu.Unlock()
	for _, t := range vm.fieldTables {
		i := fieldSlot(t)
		if c := fieldTabs[i].Load(); c != nil && c.t == t {
			fieldTabs[i].Store(nil)
		}
	}
	vm.fieldTables = nil
}

// TouchTable forgets what t's cache remembers: Go code calls it after
// changing or deleting a field of a table that may have one. On the
// goroutine of t's VM.
func TouchTable(t *lua.LTable) {
	if c := cacheOf(t); c != nil {
		c.touch()
	}
}

func (c *fieldCache) touch() {
	c.ver++
	if c.ver == 0 { // wrapped: no entry may match by chance
		c.e = [fieldWays]fieldEntry{}
		c.ver = 1
	}
}

// way returns the entry a key maps to.
func (c *fieldCache) way(key string) *fieldEntry {
	return &c.e[uintptr(unsafe.Pointer(unsafe.StringData(key)))>>3&(fieldWays-1)]
}

// get returns the value remembered for key (the same string: code
// constants are), nil when there is none.
func (c *fieldCache) get(key string) lua.LValue {
	e := c.way(key)
	if e.ver == c.ver && len(e.key) == len(key) && unsafe.StringData(e.key) == unsafe.StringData(key) {
		return e.val
	}
	return nil
}

// put remembers a value the table holds under key.
func (c *fieldCache) put(key string, v lua.LValue) {
	*c.way(key) = fieldEntry{key: key, ver: c.ver, val: v}
}

// cachedField is t[key] for a table with a cache, read without
// metamethods: LNil when t holds no such key.
func cachedField(c *fieldCache, t *lua.LTable, key string) lua.LValue {
	if v := c.get(key); v != nil {
		return v
	}
	v := t.RawGetString(key)
	if v != lua.LNil {
		c.put(key, v)
	}
	return v
}

// touchValue is TouchTable for a value written to with rawset.
func touchValue(v lua.LValue) {
	if t, ok := v.(*lua.LTable); ok {
		TouchTable(t)
	}
}

// touchTarget is TouchTable for the tables an assignment to v may write
// to: v, and the tables of its __newindex chain, which gopher-lua follows
// for a key v does not hold.
func touchTarget(v lua.LValue) {
	for range 100 { // gopher-lua's MaxTableGetLoop
		var mt lua.LValue
		switch x := v.(type) {
		case *lua.LTable:
			TouchTable(x)
			mt = x.Metatable
		case *lua.LUserData:
			mt = x.Metatable
		default:
			return
		}
		m, ok := mt.(*lua.LTable)
		if !ok {
			return
		}
		if v = m.RawGetString("__newindex"); v == lua.LNil {
			return
		}
	}
}

func init() {
	self := jumpTable[lua.OP_SELF]
	getGlobal := jumpTable[lua.OP_GETGLOBAL]
	setGlobal := jumpTable[lua.OP_SETGLOBAL]
	setTable := jumpTable[lua.OP_SETTABLE]
	if self == nil || getGlobal == nil || setGlobal == nil || setTable == nil {
		panic("luavm: gopher-lua has no SELF, GETGLOBAL, SETGLOBAL or SETTABLE handler to wrap")
	}
	// R(A+1) := R(B); R(A) := R(B)[RK(C)]: obj:method(), where the method
	// is mostly found in the table of the object's metatable's __index
	// (a module's table, ngx.shared's methods).
	jumpTable[lua.OP_SELF] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		f, rg := curFrame(L), regOf(L)
		ra := f.LocalBase + int(inst>>18)&0xff
		c := int(inst>>9) & 0x1ff
		if c&opBitRk == 0 || ra+1 >= len(rg.array) {
			return self(L, inst, baseframe)
		}
		key, ok := f.Fn.Proto.Constants[c&^opBitRk].(lua.LString)
		if !ok {
			return self(L, inst, baseframe)
		}
		obj := rg.array[f.LocalBase+int(inst&0x1ff)]
		var v lua.LValue = lua.LNil
		var mt lua.LValue
		switch o := obj.(type) {
		case *lua.LTable:
			if c := cacheOf(o); c != nil {
				v = cachedField(c, o, string(key))
			} else {
				v = o.RawGetString(string(key))
			}
			mt = o.Metatable
		case *lua.LUserData:
			mt = o.Metatable
		default:
			return self(L, inst, baseframe)
		}
		if v == lua.LNil {
			m, ok := mt.(*lua.LTable)
			if !ok {
				return self(L, inst, baseframe)
			}
			idx, ok := m.RawGetString("__index").(*lua.LTable)
			if !ok {
				return self(L, inst, baseframe)
			}
			c := cacheOf(idx)
			if c == nil {
				return self(L, inst, baseframe)
			}
			if v = cachedField(c, idx, string(key)); v == lua.LNil {
				return self(L, inst, baseframe) // further up the chain, or nil
			}
		}
		rg.array[ra] = v
		rg.array[ra+1] = obj
		if ra+1 >= rg.top {
			rg.top = ra + 2
		}
		return 0
	}
	// R(A) := Gbl[Kst(Bx)]
	jumpTable[lua.OP_GETGLOBAL] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		f := curFrame(L)
		env := f.Fn.Env
		c := cacheOf(env)
		if c == nil {
			return getGlobal(L, inst, baseframe)
		}
		rg := regOf(L)
		ra := f.LocalBase + int(inst>>18)&0xff
		key, ok := f.Fn.Proto.Constants[inst&0x3ffff].(lua.LString)
		if !ok || ra >= len(rg.array) {
			return getGlobal(L, inst, baseframe)
		}
		v := cachedField(c, env, string(key))
		if v == lua.LNil {
			return getGlobal(L, inst, baseframe) // __index, or nil
		}
		rg.array[ra] = v
		if ra >= rg.top {
			rg.top = ra + 1
		}
		return 0
	}
	// Gbl[Kst(Bx)] := R(A)
	jumpTable[lua.OP_SETGLOBAL] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		touchTarget(curFrame(L).Fn.Env)
		return setGlobal(L, inst, baseframe)
	}
	// R(A)[RK(B)] := RK(C)
	jumpTable[lua.OP_SETTABLE] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		f, rg := curFrame(L), regOf(L)
		// only string keys are cached
		if _, ok := rk(f, rg, int(inst&0x1ff)).(lua.LString); ok {
			touchTarget(rg.array[f.LocalBase+int(inst>>18)&0xff])
		}
		return setTable(L, inst, baseframe)
	}
}
