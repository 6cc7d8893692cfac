package lua

import (
	"os"
	"syscall"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
)

// require "ngx.process" (lua-resty-core over ngx_http_lua_worker.c).
// gresty is one process whatever master_process says: its type is
// "single" with master_process off, as nginx's; with it on, init_by_lua
// runs in the "master" and everything else in a "worker", as nginx's
// processes see it.

func init() { registerAPI(installProcess) }

func installProcess(st *loopState) {
	master := func() bool {
		cc, ok := st.cycle.MainConf(core.CoreModule).(*core.CoreConf)
		return ok && cc.MasterProcess.V
	}
	st.vm.Preload("ngx.process", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("version", glua.LString(restyCoreVersion))
		m.RawSetString("type", L.NewFunction(func(L *glua.LState) int {
			switch c := st.cur(); {
			case !master():
				L.Push(glua.LString("single"))
			case st.ls == nil || c != nil && c.phase == PhaseInit:
				L.Push(glua.LString("master"))
			default:
				L.Push(glua.LString("worker"))
			}
			return 1
		}))
		m.RawSetString("get_master_pid", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LNumber(os.Getpid()))
			return 1
		}))
		m.RawSetString("enable_privileged_agent", L.NewFunction(func(L *glua.LState) int {
			if c := st.cur(); c == nil || c.phase != PhaseInit {
				return pushErr(L, "API disabled in the current context")
			}
			// Debian's nginx lacks OpenResty's core patch, and gresty has
			// no helper processes.
			return pushErr(L, "missing privileged agent process patch in the nginx core")
		}))
		m.RawSetString("signal_graceful_exit", L.NewFunction(func(L *glua.LState) int {
			// ngx_quit: a single process quits gracefully. A worker
			// would quit and be replaced by its master; gresty's one
			// process keeps serving instead.
			if !master() && st.ls != nil {
				_ = syscall.Kill(os.Getpid(), syscall.SIGQUIT)
			}
			return 0
		}))
		L.Push(m)
		return 1
	})
}
