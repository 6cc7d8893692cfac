package lua

import (
	"os"

	glua "github.com/yuin/gopher-lua"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// ngx.config and ngx.worker. A gresty "worker" is an event loop: its id
// is the loop's index and the count is the number of loops, which is what
// code sharding work by worker needs. ngx.config describes the nginx
// build gresty stands in for; debug is true because gresty logs at the
// debug level, as nginx built --with-debug (Debian's) does.

func init() { registerAPI(installConfig) }

// Versions ngx.config reports: nginx 1.22.1 and ngx_lua 0.10.23.
const (
	nginxVersionNumber  = 1022001
	ngxLuaVersionNumber = 10023
)

func installConfig(st *loopState) {
	L := st.vm.L
	cfg := L.NewTable()
	cfg.RawSetString("debug", glua.LTrue)
	cfg.RawSetString("nginx_version", glua.LNumber(nginxVersionNumber))
	cfg.RawSetString("ngx_lua_version", glua.LNumber(ngxLuaVersionNumber))
	cfg.RawSetString("subsystem", glua.LString("http"))
	cfg.RawSetString("prefix", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LString(st.cycle.Prefix))
		return 1
	}))
	cfg.RawSetString("nginx_configure", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LString(http.ConfigureArguments(st.cycle.Registry)))
		return 1
	}))
	st.ngx.RawSetString("config", cfg)

	w := L.NewTable()
	w.RawSetString("id", L.NewFunction(func(L *glua.LState) int {
		if st.ls == nil {
			// the configuration-time VM of init_by_lua: no worker yet.
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LNumber(st.ls.Loop().ID()))
		return 1
	}))
	w.RawSetString("count", L.NewFunction(func(L *glua.LState) int {
		n := 1
		if cc, ok := st.cycle.MainConf(core.CoreModule).(*core.CoreConf); ok && cc.WorkerProcesses.V > 0 {
			n = cc.WorkerProcesses.V
		}
		L.Push(glua.LNumber(n))
		return 1
	}))
	w.RawSetString("pid", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LNumber(os.Getpid()))
		return 1
	}))
	w.RawSetString("exiting", L.NewFunction(func(L *glua.LState) int {
		L.Push(glua.LBool(st.exiting || st.ls != nil && st.ls.Loop().Exiting()))
		return 1
	}))
	w.RawSetString("pids", L.NewFunction(func(L *glua.LState) int {
		if c := st.cur(); c == nil || c.phase&(PhaseInit|PhaseInitWorker) != 0 {
			L.Push(glua.LNil)
			L.Push(glua.LString("API disabled in the current context"))
			return 2
		}
		// one process serves every loop.
		t := L.CreateTable(1, 0)
		t.RawSetInt(1, glua.LNumber(os.Getpid()))
		L.Push(t)
		return 1
	}))
	st.ngx.RawSetString("worker", w)

	// the raw phase numbers lua-resty-core's coroutine wrappers read.
	raw := func(L *glua.LState) int {
		c := st.cur()
		if c == nil {
			L.Push(glua.LNumber(0))
			return 1
		}
		L.Push(glua.LNumber(rawContext(c.phase)))
		return 1
	}
	st.ngx.RawSetString("get_raw_phase", L.NewFunction(raw))
	st.ngx.RawSetString("_phase_ctx", L.NewFunction(raw))

	// require "ngx" returns the ngx table, as in ngx_lua.
	if loaded, ok := L.GetField(L.GetField(L.Get(glua.GlobalsIndex), "package"), "loaded").(*glua.LTable); ok {
		loaded.RawSetString("ngx", st.ngx)
	}
}

// codeCacheDirective is lua_code_cache. Turning it off is worth an alert,
// as in ngx_lua: every request then compiles its code again.
func codeCacheDirective() core.Directive {
	d := core.FlagSlot("lua_code_cache", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel,
		func(c *LocConf) *core.Value[bool] { return &c.CodeCache }, true)
	set := d.Set
	d.Set = func(p *core.Parser, cd *conf.Directive, c any) error {
		if err := set(p, cd, c); err != nil {
			return err
		}
		if lc, ok := c.(*LocConf); ok && !lc.CodeCache.V {
			p.Logf(errlog.Alert, cd, "lua_code_cache is off; this will hurt performance")
		}
		return nil
	}
	return d
}

// rawContext is a phase as ngx_lua's NGX_HTTP_LUA_CONTEXT_* bit.
func rawContext(p Phase) int {
	switch p {
	case PhaseSet:
		return 0x0001
	case PhaseRewrite:
		return 0x0002
	case PhaseAccess:
		return 0x0004
	case PhaseContent:
		return 0x0008
	case PhaseLog:
		return 0x0010
	case PhaseHeaderFilter:
		return 0x0020
	case PhaseBodyFilter:
		return 0x0040
	case PhaseTimer:
		return 0x0080
	case PhaseInitWorker:
		return 0x0100
	case PhaseBalancer:
		return 0x0200
	case PhaseExitWorker:
		return 0x2000
	case PhaseServerRewrite:
		return 0x8000
	}
	return 0
}
