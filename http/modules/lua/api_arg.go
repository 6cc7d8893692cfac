package lua

import (
	glua "github.com/yuin/gopher-lua"

	"gresty/luavm"
)

// ngx.arg: set_by_lua's arguments (ngx.arg[1..n], nil for an empty one)
// and, in body_filter_by_lua, the chunk (ngx.arg[1]) and the eof flag
// (ngx.arg[2]), both writable, as lua-resty-core's param.lua and ngx_lua's
// ngx_http_lua_body_filter_param_set.

func init() { registerAPI(installArg) }

func installArg(st *loopState) {
	L := st.vm.L
	arg := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(st.argGet))
	mt.RawSetString("__newindex", L.NewFunction(st.argSet))
	L.SetMetatable(arg, mt)
	st.ngx.RawSetString("arg", arg)
}

// argGet is ngx.arg[idx].
func (st *loopState) argGet(L *glua.LState) int {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	idx := 0
	if n, ok := L.Get(2).(glua.LNumber); ok {
		idx = int(n)
	}
	switch c.phase {
	case PhaseSet:
		if idx < 1 || idx > len(c.setArgs) {
			L.Push(glua.LNil)
			return 1
		}
		if s, ok := c.setArgs[idx-1].(glua.LString); ok && s == "" {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(c.setArgs[idx-1])
		return 1
	case PhaseBodyFilter:
		switch idx {
		case 1:
			L.Push(glua.LString(c.filterIn))
		case 2:
			L.Push(glua.LBool(c.filterLast))
		default:
			L.Push(glua.LNil)
		}
		return 1
	}
	luavm.Raise(L, "API disabled in the current context")
	return 0
}

// argSet is ngx.arg[idx] = value, for body filters.
func (st *loopState) argSet(L *glua.LState) int {
	c := st.cur()
	if c == nil || c.r == nil {
		return 0
	}
	if c.phase != PhaseBodyFilter {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	idx := checkInteger(L, 2)
	if idx != 1 && idx != 2 {
		luavm.Raise(L, "bad index: %d", idx)
	}
	if idx == 2 {
		c.filterLast = glua.LVAsBool(L.Get(3))
		return 0
	}
	switch v := L.Get(3).(type) {
	case glua.LString:
		c.filterIn = []byte(v)
	case glua.LNumber:
		c.filterIn = luavm.AppendNumber(nil, float64(v))
	case *glua.LNilType:
		c.filterIn = nil
	case *glua.LTable:
		c.filterIn = st.appendChunkTable(L, nil, v)
	default:
		luavm.Raise(L, "bad chunk data type: %s", v.Type().String())
	}
	return 0
}

// appendChunkTable flattens an array of strings and numbers (and nested
// arrays of them) set as ngx.arg[1].
func (st *loopState) appendChunkTable(L *glua.LState, b []byte, t *glua.LTable) []byte {
	n := t.Len()
	nkeys := 0
	t.ForEach(func(glua.LValue, glua.LValue) { nkeys++ })
	if nkeys != n {
		luavm.ArgError(L, 3, "non-array table found")
	}
	for i := 1; i <= n; i++ {
		switch e := t.RawGetInt(i).(type) {
		case glua.LString:
			b = append(b, e...)
		case glua.LNumber:
			b = luavm.AppendNumber(b, float64(e))
		case *glua.LTable:
			b = st.appendChunkTable(L, b, e)
		default:
			luavm.ArgError(L, 3, "bad data type "+e.Type().String()+" found")
		}
	}
	return b
}
