package lua

import (
	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
)

// ngx.thread.spawn, wait and kill (ngx_http_lua_uthread.c), ngx.on_abort
// and the client-abort check of lua_check_client_abort
// (ngx_http_lua_rd_check_broken_connection).

func init() { registerAPI(installThread) }

func installThread(st *loopState) {
	L := st.vm.L
	t := L.NewTable()
	st.vm.RegisterYielding(t, "spawn", func(L *glua.LState) int { return st.spawn(L) })
	st.vm.RegisterYielding(t, "wait", func(L *glua.LState) int { return st.wait(L) })
	t.RawSetString("kill", L.NewFunction(func(L *glua.LState) int { return st.kill(L) }))
	st.ngx.RawSetString("thread", t)
	st.ngx.RawSetString("on_abort", L.NewFunction(func(L *glua.LState) int { return st.onAbort(L) }))
	// a light thread that ended before its parent waited for it is a
	// zombie to coroutine.status.
	st.vm.SetDeadStatus(func(co *glua.LState) string {
		c := st.cur()
		if c == nil {
			return ""
		}
		if t := c.sc.byCo[co]; t != nil && t.status == coZombie {
			return "zombie"
		}
		return ""
	})
}

// yieldable is NGX_HTTP_LUA_CONTEXT_YIELDABLE.
const yieldable = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent | PhaseTimer

// threadCtx returns the running code's context for the light-thread API,
// raising ngx_lua's errors outside the phases that may wait.
func (st *loopState) threadCtx(L *glua.LState) *reqCtx {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	if c.phase&yieldable == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	return c
}

// luaFunctionArg checks that argument n is a Lua function (not a Go one).
func luaFunctionArg(L *glua.LState, n int) *glua.LFunction {
	f, ok := L.Get(n).(*glua.LFunction)
	if !ok || f.IsG {
		luavm.ArgError(L, n, "Lua function expected")
	}
	return f
}

// spawn is ngx.thread.spawn(func, ...): the caller waits in the posted
// queue while the new light thread runs until it first waits or ends,
// then goes on with the thread's coroutine.
func (st *loopState) spawn(L *glua.LState) int {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	fn := luaFunctionArg(L, 1)
	c = st.threadCtx(L)
	// ngx_lua's spawn always yields: where that cannot be done, it fails.
	st.vm.CheckYieldable(L)
	parent := st.curCo()
	child := &coCtx{c: c, uthread: true, parent: parent, parentCo: st.vm.Running(L), fn: fn}
	for i, n := 2, L.GetTop(); i <= n; i++ {
		child.args = append(child.args, L.Get(i))
	}
	c.sc.threads = append(c.sc.threads, child)
	c.logNewThread(false)
	parent.spawning = child
	c.post(parent)
	return st.vm.Suspend(L)
}

// wait is ngx.thread.wait(t1, t2, ...): the results of the first of the
// threads to end, at once for one that already has.
func (st *loopState) wait(L *glua.LState) int {
	c := st.threadCtx(L)
	st.curCo()
	n := L.GetTop()
	if n == 0 {
		luavm.Raise(L, "at least one coroutine should be specified")
	}
	running := st.vm.Running(L)
	for i := 1; i <= n; i++ {
		sub, ok := L.Get(i).(*glua.LState)
		if !ok {
			luavm.ArgError(L, i, "lua thread expected")
		}
		t := c.sc.byCo[sub]
		if t == nil && sub.Dead {
			// a light thread already waited for or killed.
			if i < n {
				continue
			}
			return pushErr(L, "already waited or killed")
		}
		if t == nil || !t.uthread {
			luavm.Raise(L, "attempt to wait on a coroutine that is not a user thread")
		}
		if t.parentCo != running {
			luavm.Raise(L, "only the parent coroutine can wait on the thread")
		}
		switch t.status {
		case coZombie:
			rets := t.rets
			c.deleteThread(t)
			for _, v := range rets {
				L.Push(v)
			}
			return len(rets)
		case coDead:
			if i < n {
				continue
			}
			L.Push(glua.LNil)
			L.Push(glua.LString("already waited or killed"))
			return 2
		}
		t.waited = true
	}
	return st.vm.Suspend(L)
}

// kill is ngx.thread.kill(t): 1, or nil and the reason it cannot.
func (st *loopState) kill(L *glua.LState) int {
	c := st.threadCtx(L)
	st.curCo()
	sub, ok := L.Get(1).(*glua.LState)
	if !ok {
		luavm.ArgError(L, 1, "lua thread expected")
	}
	t := c.sc.byCo[sub]
	if t == nil {
		switch {
		case c.isThreadOf(sub):
			return pushErr(L, "not user thread")
		case sub.Dead:
			// a light thread already waited for or killed.
			return pushErr(L, "already waited or killed")
		}
		luavm.Raise(L, "no co ctx found")
	}
	switch {
	case !t.uthread:
		return pushErr(L, "not user thread")
	case t.parentCo != st.vm.Running(L):
		return pushErr(L, "killer not parent")
	case t.sub != nil && t.sub.pending > 0:
		return pushErr(L, "pending subrequests")
	}
	switch t.status {
	case coZombie:
		c.deleteThread(t)
		return pushErr(L, "already terminated")
	case coDead:
		return pushErr(L, "already waited or killed")
	}
	c.killCo(t)
	c.deleteThread(t)
	L.Push(glua.LNumber(1))
	return 1
}

// onAbort is ngx.on_abort(func): func runs in a light thread once the
// client closes its side of the connection (lua_check_client_abort on).
func (st *loopState) onAbort(L *glua.LState) int {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request found")
	}
	if c.r == nil {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	if c.sc.onAbort != nil {
		return pushErr(L, "duplicate call")
	}
	if lc, ok := c.r.Loc.LocConfOf(Module).(*LocConf); !ok || !lc.CheckClientAbort.V {
		return pushErr(L, "lua_check_client_abort is off")
	}
	fn := luaFunctionArg(L, 1)
	c = st.threadCtx(L)
	c.logNewThread(false)
	c.sc.onAbort = &coCtx{c: c, uthread: true, status: coSuspended, parent: st.curCo(),
		parentCo: st.vm.Running(L), fn: fn}
	L.Push(glua.LNumber(1))
	return 1
}

// isThreadOf reports whether co is the coroutine of the context's entry
// thread or of its on_abort handler.
func (c *reqCtx) isThreadOf(co *glua.LState) bool {
	if e := c.sc.entry; e != nil && e.th != nil && e.th.Co() == co {
		return true
	}
	a := c.sc.onAbort
	return a != nil && a.th != nil && a.th.Co() == co
}

// startAbortHandler starts the on_abort thread co.
func (c *reqCtx) startAbortHandler(co *coCtx) luavm.Status {
	fn := co.fn
	co.fn = nil
	th, status := c.st.vm.StartWith(co, fn)
	coOf(th)
	return status
}

// watchClientAbort makes the client's FIN end the request or run the
// on_abort handler, when lua_check_client_abort is on.
func (c *reqCtx) watchClientAbort() {
	r := c.r
	if r == nil || r != r.Main {
		return
	}
	lc, ok := r.Loc.LocConfOf(Module).(*LocConf)
	if !ok || !lc.CheckClientAbort.V {
		return
	}
	c.pin()
	r.SetReadHandler(func(r *http.Request) {
		// bytes from the client: it is still there. Like nginx's peek,
		// the input is left for later, and a FIN behind it goes
		// unnoticed.
		r.Conn.EventConn().PauseRead()
	})
	r.SetEOFHandler(func(r *http.Request) { c.clientAborted() })
	if r.ClientEOF() {
		c.clientAborted()
	}
}

// clientClosed is the client's FIN seen by a module that owned the
// connection's events for a while (a request socket between reads): it
// counts when lua_check_client_abort is on.
func (c *reqCtx) clientClosed() {
	r := c.r
	if r == nil || r != r.Main {
		return
	}
	if lc, ok := r.Loc.LocConfOf(Module).(*LocConf); ok && lc.CheckClientAbort.V {
		c.clientAborted()
	}
}

// clientAborted is ngx_http_lua_rd_check_broken_connection seeing the
// client's FIN.
func (c *reqCtx) clientAborted() {
	r := c.r
	if r == nil || c.sc.aborted {
		return
	}
	c.sc.aborted = true
	r.Logf(errlog.Info, "client prematurely closed connection")
	a := c.sc.onAbort
	if a == nil || a.status == coSuspended && c.sc.entry == nil && len(c.sc.threads) == 0 {
		c.killThreads()
		r.Finalize(499)
		return
	}
	if a.status != coSuspended {
		// the handler already ran for this code.
		return
	}
	a.status = coRunning
	c.sc.threads = append(c.sc.threads, a)
	c.logDebug("lua waking up the on_abort callback thread")
	rc := c.afterRun(a, c.startAbortHandler(a))
	if rc == again {
		rc = c.runPosted()
	}
	if rc == again {
		return
	}
	c.over(rc)
}
