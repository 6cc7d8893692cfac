package lua

import (
	"strings"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
)

// reqCtx is ngx_lua's per-request context (ngx_http_lua_ctx_t): the phase
// running, the entry thread, ngx.ctx, and the output state. Timers and
// init_worker get one without a request.
type reqCtx struct {
	st    *loopState
	r     *http.Request
	phase Phase

	entry *luavm.Thread
	// handler is the phase's code, for error messages.
	handler *Handler

	// ctxTable is ngx.ctx.
	ctxTable *glua.LTable

	// exited is set by ngx.exit (and ngx.exec, ngx.redirect): the thread
	// is abandoned and the phase ends with exitCode.
	exited   bool
	exitCode int
	// eof is set once the response's last buffer was sent (ngx.eof).
	eof bool
	// headersSent mirrors r.HeaderSent for Lua's view.
	headersSent bool
	out         outState

	// entered and done track an asynchronous rewrite/access phase: the
	// phase handler is entered again once the thread finished, and
	// returns result.
	entered bool
	done    bool
	result  int
	held    bool

	// waits counts what the suspended threads wait for; cleanup cancels
	// pending operations (timers, sockets) when the request goes away.
	cleanups []func()
	// threads are the light threads of ngx.thread.spawn still alive.
	threads []*luavm.Thread

	// filter state for body_filter_by_lua: ngx.arg[1], ngx.arg[2], the
	// flush flag of the chunk, and whether the code already sent the
	// last buffer (ngx_lua's seen_last_in_filter).
	filterIn       []byte
	filterLast     bool
	filterFlush    bool
	filterSeenLast bool

	// setArgs and setResult are set_by_lua's arguments and value.
	setArgs []glua.LValue

	// rq is the state of the request and response API (api_ctl.go).
	rq reqExt
}

// ctxOf returns the request's Lua context, creating it.
func ctxOf(st *loopState, r *http.Request) *reqCtx {
	if c, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok && c != nil && c.st == st {
		return c
	}
	c := &reqCtx{st: st, r: r}
	r.SetCtx(Module.TypeIndex, c)
	r.AddCleanup(c.cleanup)
	r.AddCleanup(func() {
		if c.ctxTable != nil {
			// ngx_lua frees the request's ngx.ctx with its pool.
			st.logf(errlog.Debug, "lua release ngx.ctx at ref 1")
		}
	})
	return c
}

// withCtx runs f with ctx current for code on the main state (init, the
// filters, set_by_lua, log_by_lua: code that cannot wait).
func (st *loopState) withCtx(ctx *reqCtx, f func()) {
	prev := st.current
	st.current = ctx
	f()
	st.current = prev
}

// cur returns the context of the Lua code running now.
func (st *loopState) cur() *reqCtx {
	for th := st.vm.Current(); th != nil; th = th.Parent() {
		if c, ok := th.Data.(*reqCtx); ok {
			return c
		}
	}
	return st.current
}

func (c *reqCtx) cleanup() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	c.cleanups = nil
	for _, th := range c.threads {
		if th.Alive() {
			c.st.vm.Kill(th)
		}
	}
	c.threads = nil
	if c.entry != nil && c.entry.Alive() {
		c.st.vm.Kill(c.entry)
	}
}

// onCleanup registers f to run when the request ends or the thread is
// abandoned.
func (c *reqCtx) onCleanup(f func()) { c.cleanups = append(c.cleanups, f) }

// runPhase starts handler h for r in a new entry thread and returns the
// phase handler's result, as ngx_lua's *_by_chunk functions.
func runPhase(st *loopState, r *http.Request, h *Handler, phase Phase) int {
	c := ctxOf(st, r)
	llcf := r.Loc.LocConfOf(Module).(*LocConf)
	f, err := st.fn(h, r, llcf.CodeCache.V)
	if err != nil {
		r.Logf(errlog.Error, "%s", err)
		return loadFailStatus(h, err)
	}
	c.phase = phase
	c.handler = h
	c.exited, c.done, c.entered = false, false, true
	var th *luavm.Thread
	var status luavm.Status
	// the thread runs at once: the context must be known before.
	st.withCtx(c, func() { th, status = st.vm.Start(f) })
	th.Data = c
	c.entry = th
	return c.afterRun(th, status)
}

// afterRun reads how a run of a request thread ended and turns it into
// the phase's result: Again/Done while threads wait, else the code the
// phase ends with.
func (c *reqCtx) afterRun(th *luavm.Thread, status luavm.Status) int {
	r := c.r
	switch status {
	case luavm.Failed:
		c.logAbort(th)
		c.st.vm.Release(th)
		if th == c.entry {
			c.entry = nil
			if r.HeaderSent || c.headersSent {
				return http.Error
			}
			return 500
		}
		return c.continueAfterChild()
	case luavm.Done:
		if th == c.entry {
			c.entry = nil
			c.st.vm.Release(th)
			return c.entryDone()
		}
		c.st.vm.Release(th)
		return c.continueAfterChild()
	case luavm.Yielded:
		// coroutine.yield at the top: let others run, then resume.
		c.st.ls.Loop().Defer(func() { c.resume(th) })
		return c.suspend()
	}
	// Suspended: ngx.exit, ngx.exec, ngx.redirect and a URI jump abandon
	// the thread; otherwise it waits.
	if c.stopsThread() {
		return c.abandon(th)
	}
	return c.suspend()
}

func (c *reqCtx) continueAfterChild() int {
	if c.entry != nil && c.entry.Alive() {
		return c.suspend()
	}
	return c.entryDone()
}

// suspend: the phase waits; the request is held until a thread resumes
// and finishes.
func (c *reqCtx) suspend() int {
	if !c.held {
		c.held = true
		c.r.Hold()
	}
	return http.Done
}

// entryDone is the end of a phase's code: content flushes the response,
// rewrite and access go on to the next handler.
func (c *reqCtx) entryDone() int {
	for _, th := range c.threads {
		if th.Alive() {
			// ngx_lua waits for light threads before ending the phase.
			return c.suspend()
		}
	}
	c.done = true
	if c.exited {
		return c.exitResult()
	}
	if c.phase == PhaseContent {
		return c.finishOutput()
	}
	return http.OK
}

// resume continues a suspended thread with vals (the waiting Go
// function's results) and, when the phase is over, moves the request on.
func (c *reqCtx) resume(th *luavm.Thread, vals ...glua.LValue) {
	if !th.Alive() || c.r == nil && c.phase != PhaseTimer && c.phase != PhaseInitWorker {
		return
	}
	status := c.st.vm.Resume(th, vals...)
	if c.r == nil {
		c.afterDetached(th, status)
		return
	}
	rc := c.afterRun(th, status)
	if rc == http.Done {
		return
	}
	c.phaseOver(rc)
}

// phaseOver continues the request once an asynchronous phase ended.
func (c *reqCtx) phaseOver(rc int) {
	r := c.r
	held := c.held
	c.held = false
	switch c.phase {
	case PhaseContent:
		if held {
			r.Finalize(rc)
			return
		}
	case PhaseRewrite, PhaseServerRewrite, PhaseAccess:
		if rc == http.Done {
			// ngx.exec: the request went on elsewhere.
			if held {
				r.Finalize(http.Done)
			}
			return
		}
		c.result = rc
		c.done = true
		if held {
			r.Finalize(http.Done)
		}
		r.RunPhases()
		return
	}
	r.Finalize(rc)
}

// logAbort logs a failed thread as ngx_lua does.
func (c *reqCtx) logAbort(th *luavm.Thread) {
	e := th.Err()
	kind := "entry"
	if th != c.entry {
		kind = "user"
	}
	msg := e.Msg()
	trace := e.Traceback
	if !strings.HasPrefix(trace, "stack traceback:") && trace != "" {
		trace = "stack traceback:\n" + trace
	}
	text := "lua " + kind + " thread aborted: runtime error: " + msg
	if trace != "" {
		text += "\n" + trace
	}
	if c.r != nil {
		c.r.Logf(errlog.Error, "%s", text)
		return
	}
	c.st.logf(errlog.Error, "%s%s", text, c.detachedContext())
}

func (c *reqCtx) detachedContext() string {
	switch c.phase {
	case PhaseInitWorker:
		return ", context: init_worker_by_lua*"
	case PhaseTimer:
		return ", context: ngx.timer"
	}
	return ""
}

// runDetached runs f in a thread with no request (init_worker_by_lua).
func (c *reqCtx) runDetached(f *glua.LFunction, what string) {
	var th *luavm.Thread
	var status luavm.Status
	c.st.withCtx(c, func() { th, status = c.st.vm.Start(f) })
	th.Data = c
	c.entry = th
	c.afterDetached(th, status)
}

func (c *reqCtx) afterDetached(th *luavm.Thread, status luavm.Status) {
	switch status {
	case luavm.Failed:
		c.logAbort(th)
		c.st.vm.Release(th)
	case luavm.Done:
		c.st.vm.Release(th)
	case luavm.Yielded:
		c.st.ls.Loop().Defer(func() { c.resume(th) })
	default:
		if c.stopsThread() {
			c.st.vm.Kill(th)
			c.st.vm.Release(th)
			c.cleanup()
		}
	}
}

// luaErrText is an error of code run with Call, as logged.
func luaErrText(e *luavm.Error) string { return e.Msg() }

// logLua logs msg from Lua at level with ngx_lua's "[lua] FILE:LINE: "
// prefix, in the request's context when there is one.
func logLua(st *loopState, L *glua.LState, level errlog.Level, msg string) {
	logLuaText(st, level, "[lua] "+luavm.LogPrefix(L)+msg)
}

// logLuaText logs text from Lua code at level, in the request's context
// when there is one.
func logLuaText(st *loopState, level errlog.Level, text string) {
	c := st.cur()
	if c != nil && c.r != nil {
		if c.phase == PhaseLog {
			// nginx's log phase context says so before the client part.
			c.r.Logf(level, "%s while logging request", text)
			return
		}
		c.r.Logf(level, "%s", text)
		return
	}
	ctxText := ""
	if c != nil {
		ctxText = c.detachedContext()
	}
	st.logf(level, "%s%s", text, ctxText)
}
