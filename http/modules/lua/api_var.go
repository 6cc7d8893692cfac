package lua

import (
	"errors"
	"strings"

	glua "github.com/yuin/gopher-lua"

	"gresty/http"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// ngx.var: nginx variables by name (any case), regex captures by number
// (ngx.var[1]), and assignment to the variables nginx lets change, with
// the messages of lua-resty-core's var.lua and ngx_http_lua_ffi_var_set.

func init() { registerAPI(installVar) }

func installVar(st *loopState) {
	L := st.vm.L
	v := L.NewTable()
	mt := L.NewTable()
	get := L.NewFunction(st.varGet)
	st.vm.SetFastIndex(get, st.varGetFast)
	mt.RawSetString("__index", get)
	mt.RawSetString("__newindex", L.NewFunction(st.varSet))
	L.SetMetatable(v, mt)
	st.ngx.RawSetString("var", v)
}

// varGet is ngx.var[name].
func (st *loopState) varGet(L *glua.LState) int {
	c := st.apiReq(L)
	r := c.r
	switch k := L.Get(2).(type) {
	case glua.LNumber:
		n := int(k)
		if n <= 0 {
			L.Push(glua.LNil)
			return 1
		}
		v, ok := r.Capture(n)
		if !ok {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LString(v))
		return 1
	case glua.LString:
		v, ok := r.LookupVariable(strings.ToLower(string(k)))
		if !ok {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LString(v))
		return 1
	}
	luavm.Raise(L, "bad variable name")
	return 0
}

// varGetFast is varGet for ngx.var.name in a request, without a Lua call.
func (st *loopState) varGetFast(_ *glua.LTable, key glua.LString) (glua.LValue, bool) {
	c := st.cur()
	if c == nil || c.phase == PhaseInit || c.r == nil {
		return nil, false
	}
	v, ok := c.r.VariableValue(st.varRef(c.r, strings.ToLower(string(key))))
	if !ok {
		return glua.LNil, true
	}
	return ltable.BoxBytes(v), true
}

// varRef resolves name for r, remembering the last names by where they
// are: mostly the Lua code's constants (ngx.var.http_x_forwarded_for), the
// same strings request after request.
func (st *loopState) varRef(r *http.Request, name string) http.VarRef {
	return st.vars.get(name, r.Resolved, r.ResolveVariable)
}

// varSet is ngx.var[name] = value.
func (st *loopState) varSet(L *glua.LState) int {
	c := st.apiReq(L)
	k, ok := L.Get(2).(glua.LString)
	if !ok {
		luavm.Raise(L, "bad variable name")
	}
	name := strings.ToLower(string(k))
	var val []byte
	v := L.Get(3)
	if v != glua.LNil {
		val = []byte(tostringValue(L, v))
	}
	err := c.r.AssignVariable(name, val, v == glua.LNil)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, http.ErrVarNotFound):
		luavm.Raise(L, "variable \"%s\" not found for writing; maybe it is a built-in variable that is not changeable or you forgot to use \"set $%s '';\" in the config file to define it first", name, name)
	case errors.Is(err, http.ErrVarNotChangeable):
		luavm.Raise(L, "variable \"%s\" not changeable", name)
	default:
		luavm.Raise(L, "variable \"%s\" cannot be assigned a value", name)
	}
	return 0
}
