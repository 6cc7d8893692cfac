package lua

import (
	"regexp"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
	"gresty/resolver"
)

// The thread driver: how the Lua threads of one request (or timer) run,
// wait, wake each other and end, as ngx_lua's ngx_http_lua_run_thread and
// ngx_http_lua_run_posted_threads schedule them. A phase's code runs in
// an entry thread; ngx.thread.spawn adds light threads that run at once
// until they first wait; the phase is over once the entry thread and
// every light thread have ended. A light thread that ends before its
// parent waits for it stays a zombie holding its results. A thread that
// calls coroutine.yield at its top level lets the posted threads run
// first. ngx.exit, ngx.exec, ngx.redirect and a URI jump in any thread
// kill them all.

// coStatus is the state of a request thread (ngx_http_lua_co_status_e).
type coStatus uint8

const (
	coRunning coStatus = iota
	// coZombie: a light thread that ended before its parent waited for
	// it; rets holds what ngx.thread.wait will return.
	coZombie
	coDead
	// coSuspended: the on_abort handler, waiting for the client to go.
	coSuspended
)

// coCtx is one Lua thread of a request (ngx_http_lua_co_ctx_t): the entry
// thread, a light thread, or the on_abort handler. Its luavm.Thread's
// Data points back to it.
type coCtx struct {
	c  *reqCtx
	th *luavm.Thread
	// co is the thread's coroutine, as ngx.thread.spawn returns it.
	co *glua.LState
	// parent is the thread that spawned this one, and parentCo the
	// coroutine that called ngx.thread.spawn (a user coroutine of the
	// parent, or the parent's own coroutine): only it may wait on or
	// kill the thread.
	parent   *coCtx
	parentCo *glua.LState
	uthread  bool
	status   coStatus
	// waited is set while the parent waits for this thread in
	// ngx.thread.wait.
	waited bool
	// rets are a zombie's results for ngx.thread.wait: true and the
	// values returned, or false and the error.
	rets []glua.LValue
	// zombies are the thread's children that ended before it waited for
	// them.
	zombies []*coCtx
	// cancel stops what the thread waits for (a sleep timer) when it is
	// killed; the operation clears it when it wakes the thread.
	cancel func()
	// sock is the cosocket the thread waits on, which its kill finalizes
	// (ngx_lua's cleanup of the waiting coroutine); cleared with cancel.
	sock interface{ abortWait() }
	// sub is the thread's pending ngx.location.capture.
	sub *captureState
	// fn and args are what a light thread or the on_abort handler runs,
	// until it starts.
	fn   *glua.LFunction
	args []glua.LValue
	// spawning is the light thread this one asked ngx.thread.spawn for:
	// the driver starts it once this one has suspended. postVals are the
	// values this thread resumes with when it runs from the posted
	// queue (the new thread's coroutine, for spawn).
	spawning *coCtx
	postVals []glua.LValue
}

// schedState is the thread state of a request's Lua context.
type schedState struct {
	entry *coCtx
	// threads are the light threads that count in ngx_lua's uthreads:
	// running ones and zombies.
	threads []*coCtx
	// posted are threads to resume once the running one waits
	// (ctx->posted_threads).
	posted []*coCtx
	// byCo finds a live or zombie light thread from its coroutine, for
	// ngx.thread.wait and kill; a thread waited for or killed leaves it
	// (its coroutine then reads as dead), so that code spawning threads
	// for ever does not grow it.
	byCo map[*glua.LState]*coCtx
	// onAbort is the ngx.on_abort handler.
	onAbort *coCtx
	// aborted is set once the client went away (lua_check_client_abort).
	aborted bool
	// finished runs once every thread of a context without a request
	// (a timer, init_worker_by_lua) has ended.
	finished func()
	// flushing are the threads waiting in ngx.flush(true) for the
	// output to drain.
	flushing []*coCtx
	// captures are the subrequests of ngx.location.capture in flight;
	// capDone the captures whose subrequests have all finished, whose
	// threads resume when the request is next posted. capWH is the
	// request's write handler, replaced while captures run (capSaved).
	captures map[*http.Request]*captureRec
	capDone  []*captureState
	capWH    func(r *http.Request)
	capSaved bool
	// vmRef models the Lua VM ngx_lua gives a request when
	// lua_code_cache is off, shared with the timers it creates.
	vmRef *vmRef
	// loc is the ngx_lua location configuration of a context without a
	// request: the one of the request that created a timer, or the http
	// block's for init_worker_by_lua.
	loc *LocConf
	// hloc is the core location configuration that goes with loc: its
	// resolver serves the cosockets of a context without a request.
	hloc *http.LocConf
	// logExtra follows ", context: ngx.timer" in a timer's log lines:
	// the client and server of the request that created it.
	logExtra string
}

// again is the driver's "threads still wait" result.
const again = http.Again

// coOf returns the coCtx of a request thread, completing it on the
// thread's first run (StartWith and StartChild return the Thread only
// once it has run).
func coOf(th *luavm.Thread) *coCtx {
	if th == nil {
		return nil
	}
	co, _ := th.Data.(*coCtx)
	if co != nil && co.th == nil {
		co.th = th
		co.co = th.Co()
		if co.co != nil && co.uthread {
			if co.c.sc.byCo == nil {
				co.c.sc.byCo = map[*glua.LState]*coCtx{}
			}
			co.c.sc.byCo[co.co] = co
		}
	}
	return co
}

// curCo returns the thread whose code is running.
func (st *loopState) curCo() *coCtx { return coOf(st.vm.Current()) }

// startEntry runs f in a new entry thread of c and drives it until every
// thread waits or all have ended; it returns again or the phase's result.
func (c *reqCtx) startEntry(f *glua.LFunction, args ...glua.LValue) int {
	c.sc.posted = c.sc.posted[:0]
	var co *coCtx
	if !c.firstUsed {
		// the first entry thread lives in the context: most requests
		// run one phase's code once.
		c.firstUsed = true
		co = &c.firstEntry
		co.c = c
	} else {
		c.moreEntries = true
		co = &coCtx{c: c}
	}
	c.sc.entry = co
	if c.r != nil {
		// a timer's state was taken when it was created.
		c.logNewThread(true)
	}
	var th *luavm.Thread
	var status luavm.Status
	c.st.withCtx(c, func() { th, status = c.st.vm.StartWith(co, f, args...) })
	coOf(th)
	c.entry = th
	rc := c.afterRun(co, status)
	if rc == again {
		rc = c.runPosted()
	}
	return rc
}

// resume continues a suspended thread with vals (the waiting Go
// function's results) and, when the phase is over, moves the request on.
// A thread that was killed or has ended is left alone.
func (c *reqCtx) resume(th *luavm.Thread, vals ...glua.LValue) {
	co, ok := th.Data.(*coCtx)
	if !ok || co.c != c || co.th != th || co.status != coRunning || !th.Alive() {
		return
	}
	if c.r == nil && c.phase != PhaseTimer && c.phase != PhaseInitWorker {
		return
	}
	co.cancel, co.sock = nil, nil
	rc := c.afterRun(co, c.st.vm.Resume(th, vals...))
	if rc == again {
		rc = c.runPosted()
	}
	if rc == again {
		return
	}
	c.over(rc)
}

// over ends the code's phase with rc: the request goes on, or a
// request-less context is done.
func (c *reqCtx) over(rc int) {
	if c.r == nil {
		c.detachedDone()
		return
	}
	c.phaseOver(rc)
}

// runPosted resumes the posted threads in order until one ends the phase
// (ngx_http_lua_run_posted_threads).
func (c *reqCtx) runPosted() int {
	for len(c.sc.posted) > 0 {
		co := c.sc.posted[0]
		c.sc.posted = c.sc.posted[1:]
		if co.status != coRunning || co.th == nil || !co.th.Alive() {
			continue
		}
		vals := co.postVals
		co.postVals = nil
		if rc := c.afterRun(co, c.st.vm.Resume(co.th, vals...)); rc != again {
			return rc
		}
	}
	return again
}

// post queues co to run after the running thread waits.
func (c *reqCtx) post(co *coCtx) { c.sc.posted = append(c.sc.posted, co) }

// afterRun follows a run of co that ended with status: a thread that
// waits leaves the others to run, one that yields lets the posted
// threads go first, one that ends may wake its waiting parent, which then
// runs in turn. It returns again while threads wait, else the phase's
// result.
func (c *reqCtx) afterRun(co *coCtx, status luavm.Status) int {
	for {
		switch status {
		case luavm.Suspended:
			c.waited = true
			if c.stopsThread() {
				return c.abandon(co.th)
			}
			if child := co.spawning; child != nil {
				// ngx.thread.spawn: the spawner waits in the posted
				// queue while its new thread runs until it first waits.
				co.spawning = nil
				fn, args := child.fn, child.args
				child.fn, child.args = nil, nil
				th, st := c.st.vm.StartChild(co.th, child, fn, args...)
				coOf(th)
				co.postVals = []glua.LValue{child.co}
				co, status = child, st
				continue
			}
			return again
		case luavm.Yielded:
			c.waited = true
			// ngx_lua resumes a thread that yielded at once unless
			// other threads are posted (ctx->posted_threads).
			if len(c.sc.posted) > 0 {
				c.post(co)
				return again
			}
			status = c.st.vm.Resume(co.th)
			continue
		}
		next, vals, rc := c.ended(co, status)
		if next == nil {
			return rc
		}
		co = next
		co.cancel, co.sock = nil, nil
		status = c.st.vm.Resume(co.th, vals...)
	}
}

// ended handles the end of thread co (Done or Failed). It returns the
// parent to resume with vals when the parent waits for co, else the
// driver's result.
func (c *reqCtx) ended(co *coCtx, status luavm.Status) (*coCtx, []glua.LValue, int) {
	th := co.th
	co.cancel, co.sock = nil, nil
	co.status = coDead
	zombies := co.zombies
	co.zombies = nil
	for _, z := range zombies {
		c.deleteThread(z)
	}
	if status == luavm.Failed {
		c.logAbort(th)
	}
	if !co.uthread {
		// the entry thread.
		c.sc.entry = nil
		c.entry = nil
		c.logDelThread(co)
		if status == luavm.Failed {
			c.killThreads()
			c.st.vm.Release(th)
			if c.r == nil {
				return nil, nil, http.Error
			}
			if c.rq.noAbort {
				c.rq.noAbort = false
				return nil, nil, http.Error
			}
			if c.r.HeaderSent || c.headersSent {
				return nil, nil, http.Error
			}
			return nil, nil, 500
		}
		c.st.vm.Release(th)
		if len(c.sc.threads) > 0 {
			return nil, nil, again
		}
		return nil, nil, c.allDone()
	}
	var rets []glua.LValue
	if status == luavm.Failed {
		rets = failResults(th.Err().Value)
	} else {
		rets = append([]glua.LValue{glua.LTrue}, doneResults(th)...)
	}
	p := co.parent
	if p != nil && p.alive() && co.parentAlive() {
		if co.waited {
			c.deleteThread(co)
			p.stopWaiting()
			return p, rets, 0
		}
		co.status = coZombie
		co.rets = rets
		p.zombies = append(p.zombies, co)
		return nil, nil, again
	}
	c.deleteThread(co)
	if len(c.sc.threads) == 0 && (c.sc.entry == nil || c.sc.entry.status != coRunning) {
		return nil, nil, c.allDone()
	}
	return nil, nil, again
}

// doneResults are the values a finished thread returned: gopher-lua
// reports a function that returned nothing as returning one nil.
func doneResults(th *luavm.Thread) []glua.LValue {
	rets := th.Results()
	if len(rets) == 1 && rets[0] == glua.LNil {
		return nil
	}
	return append([]glua.LValue(nil), rets...)
}

// failResults are what ngx.thread.wait returns for a light thread that
// failed with v. ngx_lua hands over the dead coroutine's stack behind
// false, which under LuaJIT holds the message error() was given and then
// the message with its position: a positioned message comes back as both.
func failResults(v glua.LValue) []glua.LValue {
	if s, ok := v.(glua.LString); ok {
		if m := errPosition.FindStringIndex(string(s)); m != nil {
			return []glua.LValue{glua.LFalse, s[m[1]:], s}
		}
	}
	return []glua.LValue{glua.LFalse, v}
}

// errPosition matches the "chunk:line: " an error message starts with.
var errPosition = regexp.MustCompile(`^.*?:\d+: `)

// alive is ngx_http_lua_coroutine_alive.
func (co *coCtx) alive() bool {
	return co.status == coRunning && co.th != nil && co.th.Alive()
}

// parentAlive reports whether the coroutine that spawned co still runs:
// a light thread spawned inside a user coroutine outlives it.
func (co *coCtx) parentAlive() bool {
	return co.parentCo == nil || co.parent == nil || co.parentCo == co.parent.co || !co.parentCo.Dead
}

// stopWaiting ends the parent's ngx.thread.wait: its other children are
// no longer waited for.
func (co *coCtx) stopWaiting() {
	for _, t := range co.c.sc.threads {
		if t.parent == co {
			t.waited = false
		}
	}
}

// deleteThread drops light thread co from the context
// (ngx_http_lua_del_thread and uthreads--).
func (c *reqCtx) deleteThread(co *coCtx) {
	c.logDelThread(co)
	co.status = coDead
	co.rets = nil
	if co.co != nil {
		delete(c.sc.byCo, co.co)
	}
	if p := co.parent; p != nil {
		for i, z := range p.zombies {
			if z == co {
				p.zombies = append(p.zombies[:i], p.zombies[i+1:]...)
				break
			}
		}
	}
	for i, t := range c.sc.threads {
		if t == co {
			c.sc.threads = append(c.sc.threads[:i], c.sc.threads[i+1:]...)
			break
		}
	}
}

// allDone is the end of the phase's code once every thread has ended:
// content flushes the response, rewrite and access go on.
func (c *reqCtx) allDone() int {
	if c.r == nil {
		return http.OK
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

// killThreads kills every thread of the context and cancels what they
// wait for (ngx_http_lua_finalize_threads).
func (c *reqCtx) killThreads() {
	vm := c.st.vm
	if a := c.sc.onAbort; a != nil {
		c.sc.onAbort = nil
		if a.status != coSuspended {
			c.killCo(a)
		}
		a.status = coDead
	}
	threads := c.sc.threads
	c.sc.threads = nil
	for _, co := range threads {
		c.killCo(co)
		c.logDelThread(co)
	}
	if e := c.sc.entry; e != nil {
		c.sc.entry = nil
		c.killCo(e)
		c.logDelThread(e)
		if e.th != nil && !e.th.Alive() {
			vm.Release(e.th)
		}
	}
	c.entry = nil
	c.sc.posted = c.sc.posted[:0]
}

// killCo stops one thread: what it waits for is cancelled and it never
// runs again.
func (c *reqCtx) killCo(co *coCtx) {
	if f := co.cancel; f != nil {
		co.cancel = nil
		f()
	}
	if u := co.sock; u != nil {
		co.sock = nil
		u.abortWait()
	}
	// the thread's subrequests go on; their end no longer wakes it.
	co.sub = nil
	co.status = coDead
	co.rets = nil
	if co.th != nil && co.th.Alive() {
		c.st.vm.Kill(co.th)
	}
}

// detachedDone ends a request-less context once its threads are over.
func (c *reqCtx) detachedDone() {
	c.killThreads()
	c.cleanup()
	if c.ctxTable != nil {
		c.logDebug("lua release ngx.ctx at ref 1")
	}
	if c.phase == PhaseTimer {
		c.logDebug("http lua close fake request")
		c.logDebug("http lua close fake http connection %p", c)
	}
	if f := c.sc.finished; f != nil {
		c.sc.finished = nil
		f()
	}
	if ref := c.sc.vmRef; ref != nil {
		c.sc.vmRef = nil
		ref.release(c.st)
	}
}

// waitFor registers cancel as what stops the running thread's pending
// operation when the thread is killed, and returns the thread to resume
// later. The caller must have checked that the thread may suspend.
func (st *loopState) waitFor(cancel func()) *coCtx {
	co := st.curCo()
	if co != nil {
		co.cancel = cancel
	}
	return co
}

// wake resumes co with vals once its pending operation completed, unless
// it was killed meanwhile.
func (co *coCtx) wake(vals ...glua.LValue) {
	if co == nil || co.status != coRunning || co.th == nil {
		return
	}
	co.cancel, co.sock = nil, nil
	co.c.resume(co.th, vals...)
}

// logDebug writes a debug line in the code's context.
func (c *reqCtx) logDebug(format string, args ...any) {
	if c.r != nil {
		c.r.Logf(errlog.Debug, format, args...)
		return
	}
	if c.st.cycle.Log.Enabled(errlog.Debug) {
		c.st.logf(errlog.Debug, format+"%s", append(args, c.detachedContext())...)
	}
}

// waitFlush suspends the running thread until the response's output has
// drained (ngx.flush(true)); every thread waiting so wakes then.
func (st *loopState) waitFlush(L *glua.LState, c *reqCtx) int {
	co := st.curCo()
	c.sc.flushing = append(c.sc.flushing, co)
	co.cancel = func() {
		for i, w := range c.sc.flushing {
			if w == co {
				c.sc.flushing = append(c.sc.flushing[:i], c.sc.flushing[i+1:]...)
				break
			}
		}
	}
	if len(c.sc.flushing) == 1 {
		st.watchFlush(c)
	}
	return st.vm.Suspend(L)
}

// watchFlush wakes the threads waiting in ngx.flush(true) once the
// output is written and limit_rate delays no more (nginx's write event,
// which a rate delay holds back even when nothing is left to write).
func (st *loopState) watchFlush(c *reqCtx) {
	ec := c.r.Conn.EventConn()
	switch {
	case ec.Buffered() > 0:
		c.r.SetDrainHandler(func(r *http.Request) {
			r.SetDrainHandler(nil)
			st.watchFlush(c)
		})
	case ec.Delayed():
		st.ls.Loop().AfterFunc(time.Until(ec.DelayedUntil()), func() {
			if len(c.sc.flushing) > 0 && c.r != nil {
				st.watchFlush(c)
			}
		})
	default:
		ws := c.sc.flushing
		c.sc.flushing = nil
		for _, w := range ws {
			w.wake(glua.LTrue)
		}
	}
}

// threadCache models ngx_lua's cache of entry-thread states
// (lua_thread_cache_max_entries, 1024 by default) for its debug lines,
// which tests count: an entry thread, a timer's thread or a light thread
// takes a cached state when there is one, and an entry thread's state is
// cached again when it is deleted. The runtime's own pooling differs.
type threadCache struct {
	n   int
	ref int
}

const threadCacheMax = 1024

// threadCache returns the VM's thread-cache counters, a field of the
// loop state rather than an entry of its api map: every request thread's
// start and end reads them.
func (st *loopState) threadCache() *threadCache { return &st.threads }

// logNewThread logs the creation of a thread's state: an entry thread
// of a request phase (entry), or a cached one taken for a timer or a
// light thread (ngx_http_lua_new_thread, _new_cached_thread).
func (c *reqCtx) logNewThread(entry bool) {
	tc := c.st.threadCache()
	debug := c.debugOn()
	if entry && debug {
		c.logDebug("lua creating new thread")
	}
	if tc.n > 0 {
		tc.n--
		if debug {
			c.logDebug("lua reusing cached lua thread %p (ref %d)", tc, tc.n+1)
		}
		return
	}
	tc.ref++
	if debug {
		c.st.logf(errlog.Debug, "lua ref lua thread %p (ref %d)", tc, tc.ref)
	}
}

// logDelThread logs the deletion of a thread (ngx_http_lua_del_thread):
// an entry thread's state goes back to the cache.
func (c *reqCtx) logDelThread(co *coCtx) {
	tc := c.st.threadCache()
	debug := c.debugOn()
	if debug {
		c.logDebug("lua deleting light thread %p (ref %d)", co, tc.ref)
	}
	if !co.uthread && tc.n < threadCacheMax {
		tc.n++
		if debug {
			c.logDebug("lua caching unused lua thread %p (ref %d)", co, tc.n)
		}
		return
	}
	if debug {
		c.logDebug("http lua unref thread %p: %d", co, tc.ref)
	}
}

// httpLevelConf is the http block's ngx_lua configuration, which
// init_worker_by_lua's code and its timers run with: what the block sets,
// defaults elsewhere.
// resolver returns the resolver the context's cosockets use: the
// request's location's, or for a timer the one of the location that
// created it (the http block's for init_worker_by_lua); nil for none.
func (c *reqCtx) resolver() *resolver.Resolver {
	if c.r != nil {
		return c.r.Resolver()
	}
	if c.st.ls == nil {
		return nil
	}
	return c.st.ls.LocResolver(http.ConfigOf(c.st.cycle), c.sc.hloc)
}

func httpLevelConf(cfg *http.Config) *LocConf {
	if cfg == nil {
		return nil
	}
	lc, ok := cfg.Ctx.Loc[Module.TypeIndex].(*LocConf)
	if !ok || lc == nil {
		return nil
	}
	m := *defaultSockConf
	pick := func(dst *core.Value[time.Duration], src core.Value[time.Duration]) {
		if src.Set {
			*dst = src
		}
	}
	pick(&m.SocketConnectTimeout, lc.SocketConnectTimeout)
	pick(&m.SocketSendTimeout, lc.SocketSendTimeout)
	pick(&m.SocketReadTimeout, lc.SocketReadTimeout)
	pick(&m.SocketKeepaliveTimeout, lc.SocketKeepaliveTimeout)
	if lc.SocketPoolSize.Set {
		m.SocketPoolSize = lc.SocketPoolSize
	}
	if lc.SocketBufferSize.Set {
		m.SocketBufferSize = lc.SocketBufferSize
	}
	if lc.SocketSendLowat.Set {
		m.SocketSendLowat = lc.SocketSendLowat
	}
	if lc.SocketLogErrors.Set {
		m.SocketLogErrors = lc.SocketLogErrors
	}
	return &m
}

// vmRef is the reference count of the Lua VM ngx_lua creates for each
// request when lua_code_cache is off: the request and every timer it
// creates hold it, and the VM is closed with the last one
// (ngx_http_lua_cleanup_vm): see requestState.
type vmRef struct{ count int }

// newVMRef gives a new request context its VM reference when
// lua_code_cache is off (ngx_http_lua_create_ctx); the request drops it
// when it ends.
func (c *reqCtx) newVMRef() {
	lc, ok := c.r.Loc.LocConfOf(Module).(*LocConf)
	if !ok || lc.CodeCache.V {
		return
	}
	ref := &vmRef{count: 1}
	c.sc.vmRef = ref
	c.r.AddCleanup(func() { ref.release(c.st) })
}

// closeRequestVM closes a request's own VM (requestState): its pooled
// connections go with it, as ngx_http_lua_cleanup_vm closes the pools.
func (st *loopState) closeRequestVM() {
	ss := sockStateOf(st)
	for _, p := range ss.pools {
		st.logf(errlog.Debug, "lua tcp socket keepalive: free connection pool %s for \"%s\"", ptrHex(p), p.key)
	}
	ss.shutdown()
	st.vm.Close()
}

// hold takes a reference for a timer.
func (v *vmRef) hold() *vmRef {
	if v != nil {
		v.count++
	}
	return v
}

// release drops a reference.
func (v *vmRef) release(st *loopState) {
	if v == nil {
		return
	}
	st.logf(errlog.Debug, "lua decrementing the reference count for Lua VM: %d", v.count)
	if v.count--; v.count == 0 {
		st.logf(errlog.Debug, "lua close the global Lua VM %p", v)
		if st.parent != nil && st.ls != nil {
			// after the request's last phase (log_by_lua runs after
			// its cleanups) and whatever else this dispatch does.
			st.ls.Loop().Defer(st.closeRequestVM)
		}
	}
}
