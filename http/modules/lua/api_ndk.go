package lua

import (
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"

	"gresty/http/modules/setmisc"
	"gresty/luavm"
)

func init() { registerAPI(installNDK) }

// installNDK adds the ndk global (also package.loaded.ndk): ndk.set_var.NAME
// is a function that runs directive NAME of a module built with the
// Nginx Development Kit's ndk_set_var_value (set-misc's set_escape_uri,
// set_quote_sql_str...) on its one argument, as lua-resty-core's ndk.lua
// does. An unknown name raises; set_var cannot be assigned to.
func installNDK(st *loopState) {
	L := st.vm.L
	ndk := L.NewTable()
	setVar := L.NewTable()
	mt := L.NewTable()
	mt.RawSetString("__index", L.NewFunction(func(L *glua.LState) int {
		name := L.ToStringMeta(L.Get(2)).String()
		fn, ok := setmisc.NDKSetVar(name)
		if !ok {
			luavm.Raise(L, "ndk.set_var: directive \"%s\" not found or does not use ndk_set_var_value", name)
		}
		L.Push(L.NewFunction(func(L *glua.LState) int {
			c := st.cur()
			var env setmisc.Env
			switch {
			case c != nil && c.r != nil:
				env = c.r
			case c != nil && c.sc.hloc != nil:
				// a timer or init_worker_by_lua: ngx_lua's fake request
				// has the configuration they run with.
				env = detachedEnv{c}
			default:
				luavm.Raise(L, "no request found")
			}
			arg := L.ToStringMeta(L.Get(1)).String()
			out, rc := fn(env, []byte(arg))
			if rc != 0 {
				luavm.Raise(L, "calling directive %s failed with code %d", name, rc)
			}
			L.Push(glua.LString(out))
			return 1
		}))
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *glua.LState) int {
		luavm.Raise(L, "not allowed")
		return 0
	}))
	L.SetMetatable(setVar, mt)
	ndk.RawSetString("set_var", setVar)
	L.SetGlobal("ndk", ndk)
	if loaded, ok := L.GetField(L.GetGlobal("package"), "loaded").(*glua.LTable); ok {
		loaded.RawSetString("ndk", ndk)
	}
}

// detachedEnv is what ndk.set_var's directives see of a timer or of
// init_worker_by_lua: the location configuration the code runs with, and
// the code's log context.
type detachedEnv struct{ c *reqCtx }

func (e detachedEnv) Alloc(n int) []byte { return make([]byte, n) }

func (e detachedEnv) Logf(level errlog.Level, format string, args ...any) {
	e.c.logf(level, format, args...)
}

func (e detachedEnv) LocConfOf(m *core.Module) any { return e.c.sc.hloc.LocConfOf(m) }

func (e detachedEnv) LoopState(m *core.Module) any {
	return http.ConfigOf(e.c.st.cycle).LoopState(e.c.st.ls, m)
}

func (e detachedEnv) Now() time.Time { return e.c.st.ls.Loop().Now() }
