package luavm

import (
	"maps"
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

// t.name and t.name = v compile to gopher-lua's GETTABLEKS and SETTABLEKS
// with the name as a constant the compiler already boxed, but the VM
// passes it on as a Go string: it boxes it again for every __index or
// __newindex function call (ngx.var.x, ngx.header.x, ngx.ctx.x) and for
// every new key of a plain table. Both instructions are wrapped here (as
// concat.go wraps CONCAT) so that these two cases use the constant as it
// is; everything else (non-tables, __index tables, errors) goes to the
// original, so messages and semantics stay gopher-lua's.

// regMirror mirrors the head of gopher-lua's registry (v1.1.2): the
// value stack and its top.
type regMirror struct {
	array []lua.LValue
	top   int
}

// offReg is the offset of LState.reg, computed once at init.
var offReg = regLayoutCheck()

func regLayoutCheck() uintptr {
	f, ok := reflect.TypeOf(lua.LState{}).FieldByName("reg")
	if !ok || f.Type.Kind() != reflect.Pointer {
		panic("luavm: gopher-lua LState has no reg pointer; the registry mirror needs updating")
	}
	real, mirror := f.Type.Elem(), reflect.TypeOf(regMirror{})
	for i := 0; i < mirror.NumField(); i++ {
		m, r := mirror.Field(i), real.Field(i)
		if m.Name != r.Name || m.Offset != r.Offset || m.Type != r.Type {
			panic("luavm: gopher-lua registry field " + r.Name + " does not match the mirror")
		}
	}
	return f.Offset
}

func regOf(L *lua.LState) *regMirror {
	return *(**regMirror)(unsafe.Add(unsafe.Pointer(L), offReg))
}

// opBitRk marks an RK operand that is a constant (gopher-lua's opBitRk).
const opBitRk = 1 << 8

// rk is the value of an RK operand: a constant or a register.
func rk(f *frame, rg *regMirror, x int) lua.LValue {
	if x&opBitRk != 0 {
		return f.Fn.Proto.Constants[x&^opBitRk]
	}
	return rg.array[f.LocalBase+x]
}

// FastIndex answers t[key] for a Go __index function without a Lua call,
// in the cases it is sure of; ok false sends the access to the function.
type FastIndex func(t *lua.LTable, key lua.LString) (v lua.LValue, ok bool)

// FastNewIndex does t[key] = v for a Go __newindex function without a Lua
// call, in the cases it is sure of; false sends the assignment to the
// function, which must then do it whole (the fast path changed nothing
// it would not change again).
type FastNewIndex func(t *lua.LTable, key lua.LString, v lua.LValue) bool

// fastPaths are the fast paths of one __index or __newindex function.
type fastPaths struct {
	get FastIndex
	set FastNewIndex
}

// The fast paths by function, for every VM (the instruction table is
// global); a VM drops its own when it closes. Loops read the map at every
// such access, so it is never changed in place: a change installs a copy.
var (
	fastMu  sync.Mutex
	fastFns atomic.Pointer[map[*lua.LFunction]fastPaths]
)

// fastOf returns fn's fast paths.
func fastOf(fn *lua.LFunction) fastPaths {
	if m := fastFns.Load(); m != nil {
		return (*m)[fn]
	}
	return fastPaths{}
}

// updateFast installs a copy of the fast paths changed by edit.
func updateFast(edit func(m map[*lua.LFunction]fastPaths)) {
	fastMu.Lock()
	defer fastMu.Unlock()
	m := make(map[*lua.LFunction]fastPaths)
	if old := fastFns.Load(); old != nil {
		maps.Copy(m, *old)
	}
	edit(m)
	fastFns.Store(&m)
}

// SetFastIndex gives t.name through the __index function fn the fast
// path f. Configuration or loop goroutine of the VM.
func (vm *VM) SetFastIndex(fn *lua.LFunction, f FastIndex) {
	updateFast(func(m map[*lua.LFunction]fastPaths) {
		p := m[fn]
		p.get = f
		m[fn] = p
	})
	vm.fastFns = append(vm.fastFns, fn)
}

// SetFastNewIndex gives t.name = v through the __newindex function fn
// the fast path f.
func (vm *VM) SetFastNewIndex(fn *lua.LFunction, f FastNewIndex) {
	updateFast(func(m map[*lua.LFunction]fastPaths) {
		p := m[fn]
		p.set = f
		m[fn] = p
	})
	vm.fastFns = append(vm.fastFns, fn)
}

// dropFast forgets the VM's fast paths.
func (vm *VM) dropFast() {
	if len(vm.fastFns) == 0 {
		return
	}
	updateFast(func(m map[*lua.LFunction]fastPaths) {
		for _, fn := range vm.fastFns {
			delete(m, fn)
		}
	})
	vm.fastFns = nil
}

// metaFunc is t's metatable's field name when it is a function.
func metaFunc(t *lua.LTable, name string) *lua.LFunction {
	mt, ok := t.Metatable.(*lua.LTable)
	if !ok {
		return nil
	}
	fn, _ := mt.RawGetString(name).(*lua.LFunction)
	return fn
}

func init() {
	getOrig := jumpTable[lua.OP_GETTABLEKS]
	setOrig := jumpTable[lua.OP_SETTABLEKS]
	if getOrig == nil || setOrig == nil {
		panic("luavm: gopher-lua has no GETTABLEKS or SETTABLEKS handler to wrap")
	}
	// R(A) := R(B)[RK(C)]
	jumpTable[lua.OP_GETTABLEKS] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		f, rg := curFrame(L), regOf(L)
		ra := f.LocalBase + int(inst>>18)&0xff
		if ra >= len(rg.array) {
			return getOrig(L, inst, baseframe)
		}
		t, ok := rg.array[f.LocalBase+int(inst&0x1ff)].(*lua.LTable)
		if !ok {
			return getOrig(L, inst, baseframe)
		}
		key := rk(f, rg, int(inst>>9)&0x1ff)
		s, ok := key.(lua.LString)
		if !ok {
			return getOrig(L, inst, baseframe)
		}
		var v lua.LValue
		if c := cacheOf(t); c != nil {
			v = cachedField(c, t, string(s))
		} else {
			v = ltable.GetString(t, string(s))
		}
		if v == lua.LNil {
			fn := metaFunc(t, "__index")
			if fn == nil {
				return getOrig(L, inst, baseframe)
			}
			if f := fastOf(fn).get; f != nil {
				if fv, ok := f(t, s); ok {
					rg.array[ra] = fv
					if ra >= rg.top {
						rg.top = ra + 1
					}
					return 0
				}
			}
			L.Push(fn)
			L.Push(t)
			L.Push(key)
			L.Call(2, 1)
			v = L.Get(-1)
			L.Pop(1)
			rg = regOf(L) // the call may have grown the stack
		}
		rg.array[ra] = v
		if ra >= rg.top {
			rg.top = ra + 1
		}
		return 0
	}
	// R(A)[RK(B)] := RK(C)
	jumpTable[lua.OP_SETTABLEKS] = func(L *lua.LState, inst uint32, baseframe unsafe.Pointer) int {
		f, rg := curFrame(L), regOf(L)
		target := rg.array[f.LocalBase+int(inst>>18)&0xff]
		t, ok := target.(*lua.LTable)
		if !ok {
			touchTarget(target)
			return setOrig(L, inst, baseframe)
		}
		key := rk(f, rg, int(inst&0x1ff))
		s, ok := key.(lua.LString)
		if !ok {
			return setOrig(L, inst, baseframe) // no cache holds a key that is not a string
		}
		value := rk(f, rg, int(inst>>9)&0x1ff)
		if ltable.GetString(t, string(s)) != lua.LNil {
			TouchTable(t)
			ltable.SetString(t, key, value)
			return 0
		}
		// From here on the key is new to t: a cache has nothing to forget
		// unless a __newindex table passes the write on.
		mt, ok := t.Metatable.(*lua.LTable)
		if !ok {
			ltable.SetString(t, key, value)
			return 0
		}
		h := ltable.GetString(mt, "__newindex")
		if h == lua.LNil {
			ltable.SetString(t, key, value)
			return 0
		}
		fn, ok := h.(*lua.LFunction)
		if !ok {
			touchTarget(h)
			return setOrig(L, inst, baseframe)
		}
		if f := fastOf(fn).set; f != nil && f(t, s, value) {
			return 0
		}
		L.Push(fn)
		L.Push(t)
		L.Push(key)
		L.Push(value)
		L.Call(3, 0)
		return 0
	}
}
