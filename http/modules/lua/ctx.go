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
	// firstEntry is the state of the context's first entry thread,
	// allocated with it; later entry threads get their own (moreEntries).
	firstEntry  coCtx
	firstUsed   bool
	moreEntries bool
	// freeCleanups counts the cosocket cleanups freed by a finalize and
	// not yet taken again by a connect (ngx_lua's ctx->free_cleanup).
	freeCleanups int
	// waited is set once a thread of the context suspended or yielded,
	// pinned once something that may outlive the request (a cosocket, the
	// client-abort handlers) took a reference to the context: either keeps
	// the context from being reused for another request (see recyclable).
	waited bool
	pinned bool
	// active counts the phase drivers running the context's code.
	active int
	// doneFn is requestDone bound to this context once, so that a reused
	// context registers its cleanup without allocating.
	doneFn func()
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
	// sc is the state of the code's threads (sched.go).
	sc schedState

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
	if lc, ok := r.Loc.LocConfOf(Module).(*LocConf); ok && !lc.CodeCache.V {
		c := &reqCtx{st: st, r: r}
		r.SetCtx(Module.TypeIndex, c)
		// the VM reference is released between the two, as ngx_lua's
		// pool cleanups run.
		r.AddCleanup(c.cleanup)
		c.newVMRef()
		return c
	}
	var c *reqCtx
	if n := len(st.freeCtx); n > 0 {
		c = st.freeCtx[n-1]
		st.freeCtx[n-1] = nil
		st.freeCtx = st.freeCtx[:n-1]
		c.r = r
	} else {
		c = &reqCtx{st: st, r: r}
		c.doneFn = c.requestDone
	}
	r.SetCtx(Module.TypeIndex, c)
	// one cleanup, so that a request costs a single closure, made once
	// per context.
	r.AddCleanup(c.doneFn)
	return c
}

// maxFreeCtx bounds the contexts a loop keeps for reuse.
const maxFreeCtx = 64

// requestDone is the end of the request for its context: ngx.ctx goes,
// then the threads and what they wait for. A context nothing else can
// still refer to is kept for the loop's next request.
func (c *reqCtx) requestDone() {
	reuse := c.recyclable()
	c.cleanup()
	if !reuse {
		return
	}
	st := c.st
	if len(st.freeCtx) >= maxFreeCtx || st.exiting {
		return
	}
	if c.r.Ctx(Module.TypeIndex) == c {
		// code of this request that runs after its cleanups (none is
		// known) must not find the context in another request's hands.
		c.r.SetCtx(Module.TypeIndex, nil)
	}
	*c = reqCtx{st: st, doneFn: c.doneFn}
	st.freeCtx = append(st.freeCtx, c)
}

// recyclable reports, before the cleanups run, whether the context can
// serve another request once its own is over: only a main request's
// context that no Lua code or phase driver is using, whose location has
// no log_by_lua, whose code never waited (no timer, socket or subrequest can
// still wake it), that started no light thread, on_abort handler or
// second entry thread (their states point back to it), registered no
// cleanup, and that nothing pinned: Lua objects that outlive the request,
// such as a cosocket, compare contexts by identity.
func (c *reqCtx) recyclable() bool {
	r := c.r
	if r == nil || r != r.Main || r.Loc == nil || c.active > 0 || c.st.current != nil || c.st.vm.Current() != nil {
		return false
	}
	if lc, ok := r.Loc.LocConfOf(Module).(*LocConf); !ok || lc.Log != nil {
		// log_by_lua runs after the cleanups, with this context.
		return false
	}
	return !c.waited && !c.pinned && !c.moreEntries &&
		len(c.cleanups) == 0 && c.sc.byCo == nil && len(c.sc.threads) == 0 && c.sc.onAbort == nil &&
		c.sc.captures == nil && len(c.sc.capDone) == 0 && c.sc.vmRef == nil && c.sc.finished == nil &&
		len(c.sc.flushing) == 0 && c.phase != PhaseTimer
}

// pin keeps the context from being reused for another request: something
// that may outlive this one refers to it.
func (c *reqCtx) pin() { c.pinned = true }

// ctxCreated is called when the request's ngx.ctx table comes to be:
// ngx_lua references it then and frees the reference with the request's
// pool, after the log phase, which logs it. A timer's ngx.ctx goes with
// the timer (detachedDone).
func (c *reqCtx) ctxCreated() {
	if c.r != nil {
		c.r.AddPoolCleanup(c.st.ctxRelease)
	}
}

// logCtxRelease is the pool cleanup of a request's ngx.ctx.
func (st *loopState) logCtxRelease() { st.logf(errlog.Debug, "lua release ngx.ctx at ref 1") }

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
		switch d := th.Data.(type) {
		case *coCtx:
			return d.c
		case *reqCtx:
			return d
		}
	}
	return st.current
}

func (c *reqCtx) cleanup() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
	c.cleanups = nil
	c.killThreads()
}

// onCleanup registers f to run when the request ends or the thread is
// abandoned.
func (c *reqCtx) onCleanup(f func()) { c.cleanups = append(c.cleanups, f) }

// runPhase starts handler h for r in a new entry thread and returns the
// phase handler's result, as ngx_lua's *_by_chunk functions.
func runPhase(st *loopState, r *http.Request, h *Handler, phase Phase) int {
	c := ctxOf(st, r)
	// the context stays in use until the driver returns, whatever the
	// request's fate meanwhile.
	c.active++
	defer func() { c.active-- }()
	llcf := r.Loc.LocConfOf(Module).(*LocConf)
	f, err := st.fn(h, r, llcf.CodeCache.V)
	if err != nil {
		r.Logf(errlog.Error, "%s", err)
		return loadFailStatus(h, err)
	}
	c.phase = phase
	c.handler = h
	c.exited, c.done, c.entered = false, false, true
	c.watchClientAbort()
	if rc := c.startEntry(f); rc != again {
		return rc
	}
	return c.suspend()
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
		return ", context: ngx.timer" + c.sc.logExtra
	}
	return ""
}

// runDetached runs f in a thread with no request (init_worker_by_lua).
func (c *reqCtx) runDetached(f *glua.LFunction, what string) {
	if c.st.ls != nil {
		c.sc.loc = httpLevelConf(c.st.ls.Config())
		if cfg := c.st.ls.Config(); cfg != nil {
			c.sc.hloc = cfg.HTTPLocConf()
		}
	}
	if rc := c.startEntry(f); rc != again {
		c.detachedDone()
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
		c.r.Logf(level, "%s", text)
		return
	}
	ctxText := ""
	if c != nil {
		ctxText = c.detachedContext()
	}
	st.logf(level, "%s%s", text, ctxText)
}
