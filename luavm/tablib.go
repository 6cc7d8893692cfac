package luavm

import (
	"math"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/ltable"
)

func (vm *VM) openTable() {
	L := vm.L
	t := L.GetGlobal("table").(*lua.LTable)
	t.RawSetString("concat", L.NewFunction(vm.tabConcat))
	t.RawSetString("unpack", lua.LNil)
	for name, fn := range tableExtras {
		t.RawSetString(name, L.NewFunction(fn))
	}
	if t.RawGetString("move") == lua.LNil {
		t.RawSetString("move", L.NewFunction(tabMove))
	}
	t.RawSetString("foreach", L.NewFunction(tabForeach))
	t.RawSetString("foreachi", L.NewFunction(tabForeachi))
}

// tableExtras are LuaJIT's and OpenResty's table.* additions, reachable
// both as require("table.new") and so on and as fields of table.
var tableExtras = map[string]lua.LGFunction{
	"new":     tabNew,
	"clear":   tabClear,
	"nkeys":   tabNKeys,
	"clone":   tabClone,
	"isarray": tabIsArray,
	"isempty": tabIsEmpty,
}

func (vm *VM) openTableModules() {
	t := vm.L.GetGlobal("table").(*lua.LTable)
	for name := range tableExtras {
		fn := t.RawGetString(name)
		vm.Preload("table."+name, func(L *lua.LState) int {
			L.Push(fn)
			return 1
		})
	}
}

func checkTable(L *lua.LState, n int) *lua.LTable {
	t, ok := L.Get(n).(*lua.LTable)
	if !ok {
		TypeError(L, n, "table")
	}
	return t
}

func (vm *VM) tabConcat(L *lua.LState) int {
	t := checkTable(L, 1)
	sep := ""
	if L.GetTop() >= 2 && L.Get(2) != lua.LNil {
		sep = checkString(L, 2)
	}
	i := int64(1)
	if L.GetTop() >= 3 && L.Get(3) != lua.LNil {
		i = checkInt(L, 3)
	}
	var j int64
	if L.GetTop() >= 4 && L.Get(4) != lua.LNil {
		j = checkInt(L, 4)
	} else {
		j = int64(t.Len())
	}
	var b []byte
	for k := i; k <= j; k++ {
		switch v := t.RawGetInt(int(k)).(type) {
		case lua.LString:
			b = append(b, v...)
		case lua.LNumber:
			b = AppendNumber(b, float64(v))
		default:
			Raise(L, "invalid value (%s) at index %d in table for 'concat'", typeName(v), k)
		}
		if k != j {
			b = append(b, sep...)
		}
		if k == math.MaxInt64 {
			break
		}
	}
	L.Push(lua.LString(b))
	return 1
}

func tabNew(L *lua.LState) int {
	narr := checkInt(L, 1)
	nhash := checkInt(L, 2)
	if narr < 0 || narr > 1<<26 {
		narr = 0
	}
	if nhash < 0 || nhash > 1<<26 {
		nhash = 0
	}
	// next()'s bookkeeping is sized too, as LuaJIT sizes the whole hash.
	L.Push(ltable.NewTable(int(narr), int(nhash)))
	return 1
}

// tabClear empties t and keeps its storage, as LuaJIT's table.clear.
func tabClear(L *lua.LState) int {
	t := checkTable(L, 1)
	TouchTable(t)
	ltable.Clear(t)
	return 0
}

func tabNKeys(L *lua.LState) int {
	t := checkTable(L, 1)
	n := 0
	t.ForEach(func(_, _ lua.LValue) { n++ })
	L.Push(lua.LNumber(n))
	return 1
}

func tabClone(L *lua.LState) int {
	t := checkTable(L, 1)
	c := L.CreateTable(t.Len(), 0)
	t.ForEach(func(k, v lua.LValue) { c.RawSet(k, v) })
	L.Push(c)
	return 1
}

func tabIsArray(L *lua.LState) int {
	t := checkTable(L, 1)
	ok := true
	t.ForEach(func(k, _ lua.LValue) {
		if n, isNum := k.(lua.LNumber); !isNum || float64(n) != math.Trunc(float64(n)) {
			ok = false
		}
	})
	L.Push(lua.LBool(ok))
	return 1
}

func tabIsEmpty(L *lua.LState) int {
	t := checkTable(L, 1)
	k, _ := ltable.Next(t, lua.LNil)
	L.Push(lua.LBool(k == lua.LNil))
	return 1
}

// tabMove is Lua 5.3's table.move, which LuaJIT 2.1 has.
func tabMove(L *lua.LState) int {
	a1 := checkTable(L, 1)
	f, e, t := checkInt(L, 2), checkInt(L, 3), checkInt(L, 4)
	a2 := a1
	if L.GetTop() >= 5 && L.Get(5) != lua.LNil {
		a2 = checkTable(L, 5)
	}
	if e >= f {
		if t > e || t <= f || a1 != a2 {
			for i := int64(0); i <= e-f; i++ {
				a2.RawSetInt(int(t+i), a1.RawGetInt(int(f+i)))
			}
		} else {
			for i := e - f; i >= 0; i-- {
				a2.RawSetInt(int(t+i), a1.RawGetInt(int(f+i)))
			}
		}
	}
	L.Push(a2)
	return 1
}

// tabForeach and tabForeachi are Lua 5.0's table iterators, which LuaJIT
// keeps. The callback runs as a nested call: it cannot yield.
func tabForeach(L *lua.LState) int {
	t := checkTable(L, 1)
	f := L.CheckFunction(2)
	for k, v := ltable.Next(t, lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		L.Push(f)
		L.Push(k)
		L.Push(v)
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}

func tabForeachi(L *lua.LState) int {
	t := checkTable(L, 1)
	f := L.CheckFunction(2)
	for i, n := 1, t.Len(); i <= n; i++ {
		L.Push(f)
		L.Push(lua.LNumber(i))
		L.Push(t.RawGetInt(i))
		L.Call(2, 1)
		if r := L.Get(-1); r != lua.LNil {
			return 1
		}
		L.Pop(1)
	}
	return 0
}
