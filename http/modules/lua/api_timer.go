package lua

import (
	"sort"
	"strings"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/luavm"
)

// ngx.timer.at, every, running_count and pending_count
// (ngx_http_lua_timer.c). A timer belongs to the loop and configuration
// whose code created it. When it expires its function runs in a thread
// of its own, with a context that has no request ("context: ngx.timer"
// in log lines, followed by the client and server of the request that
// created it). When the loop stops serving the configuration (reload or
// shutdown), every pending timer runs at once with premature = true, as
// ngx_lua does on HUP and QUIT.

func init() {
	registerAPI(installTimer)
	exitHooks = append(exitHooks, func(st *loopState) {
		if ts, ok := st.api["timer"].(*timerState); ok {
			// ngx_lua's watcher connection exists once a timer was
			// created.
			st.logf(errlog.Debug, "lua abort pending timers")
			ts.abortPending(st)
		}
	})
}

// timerState is the timers of one loopState.
type timerState struct {
	// pending are the armed timers (lmcf->pending_timers).
	pending map[*luaTimer]struct{}
	// running counts timers whose code runs or waits
	// (lmcf->running_timers).
	running int
	seqN    uint64
}

// luaTimer is one armed timer (ngx_http_lua_timer_ctx_t).
type luaTimer struct {
	fn   *glua.LFunction
	args []glua.LValue
	// every is the period of ngx.timer.every, 0 for ngx.timer.at.
	every time.Duration
	t     *eventloop.Timer
	// seq orders timers of the same deadline by creation, for the
	// premature run.
	seq      uint64
	logExtra string
	// loc is the ngx_lua configuration the timer's code runs with, hloc
	// the core one (its resolver).
	loc  *LocConf
	hloc *http.LocConf
	// vm is the per-request VM reference (lua_code_cache off).
	vm *vmRef
}

func timersOf(st *loopState) *timerState {
	if ts, ok := st.api["timer"].(*timerState); ok {
		return ts
	}
	ts := &timerState{pending: map[*luaTimer]struct{}{}}
	st.api["timer"] = ts
	return ts
}

func installTimer(st *loopState) {
	L := st.vm.L
	t := L.NewTable()
	t.RawSetString("at", L.NewFunction(func(L *glua.LState) int { return st.timerAt(L, false) }))
	t.RawSetString("every", L.NewFunction(func(L *glua.LState) int { return st.timerAt(L, true) }))
	t.RawSetString("running_count", L.NewFunction(func(L *glua.LState) int {
		if c := st.cur(); c == nil || c.phase == PhaseInit {
			luavm.Raise(L, "no request")
		}
		L.Push(glua.LNumber(timersOf(st).running))
		return 1
	}))
	t.RawSetString("pending_count", L.NewFunction(func(L *glua.LState) int {
		if c := st.cur(); c == nil || c.phase == PhaseInit {
			luavm.Raise(L, "no request")
		}
		L.Push(glua.LNumber(len(timersOf(st).pending)))
		return 1
	}))
	st.ngx.RawSetString("timer", t)
}

// timerAt is ngx.timer.at(delay, func, ...) and ngx.timer.every.
func (st *loopState) timerAt(L *glua.LState, every bool) int {
	n := L.GetTop()
	if n < 2 {
		luavm.Raise(L, "expecting at least 2 arguments but got %d", n)
	}
	ms := float64(L.CheckNumber(1)) * 1000
	if ms < 0 {
		// ngx_msec_t is unsigned: nginx's conversion of a negative
		// delay is undefined; it runs at once here.
		ms = 0
	}
	delay := time.Duration(uint64(ms)) * time.Millisecond
	if every && delay == 0 {
		luavm.Raise(L, "delay cannot be zero")
	}
	fn := luaFunctionArg(L, 2)
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "no request")
	}
	if c.phase == PhaseExitWorker {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	if st.exiting && delay > 0 {
		return pushErr(L, "process exiting")
	}
	ts := timersOf(st)
	if len(ts.pending) >= st.main.MaxPendingTimers.V {
		return pushErr(L, "too many pending timers")
	}
	tm := &luaTimer{fn: fn}
	if every {
		tm.every = delay
	}
	for i := 3; i <= n; i++ {
		tm.args = append(tm.args, L.Get(i))
	}
	switch {
	case c.r != nil:
		var b strings.Builder
		if ip := c.r.Conn.RemoteIP(); ip != "" {
			b.WriteString(", client: " + ip)
		}
		if s := c.r.Conn.ListenText(); s != "" {
			b.WriteString(", server: " + s)
		}
		tm.logExtra = b.String()
		tm.loc, _ = c.r.Loc.LocConfOf(Module).(*LocConf)
		tm.hloc = c.r.Loc
	default:
		tm.logExtra = c.sc.logExtra
		tm.loc, tm.hloc = c.sc.loc, c.sc.hloc
	}
	c.logNewThread(false)
	tm.vm = c.sc.vmRef.hold()
	ts.arm(st, tm, delay)
	c.logDebug("created timer (co: %p delay: %d ms): sz=%d", tm, delay.Milliseconds(), n)
	L.Push(glua.LNumber(1))
	return 1
}

// nextSeq numbers timers as they are armed.
func (ts *timerState) nextSeq() uint64 {
	ts.seqN++
	return ts.seqN
}

// arm makes tm pending and starts its clock.
func (ts *timerState) arm(st *loopState, tm *luaTimer, delay time.Duration) {
	tm.seq = ts.nextSeq()
	ts.pending[tm] = struct{}{}
	tm.t = st.ls.Loop().AfterFunc(delay, func() { ts.expire(st, tm, false) })
}

// expire runs timer tm's function (ngx_http_lua_timer_handler).
func (ts *timerState) expire(st *loopState, tm *luaTimer, premature bool) {
	if _, ok := ts.pending[tm]; !ok {
		return
	}
	delete(ts.pending, tm)
	st.logf(errlog.Debug, "lua ngx.timer expired")
	if !st.exiting && tm.every > 0 {
		next := &luaTimer{fn: tm.fn, args: tm.args, every: tm.every, logExtra: tm.logExtra, loc: tm.loc, hloc: tm.hloc, vm: tm.vm.hold()}
		(&reqCtx{st: st, phase: PhaseTimer}).logNewThread(false)
		ts.arm(st, next, tm.every)
		st.logf(errlog.Debug, "created next timer (co: %p delay: %d ms)", next, tm.every.Milliseconds())
	}
	if ts.running >= st.main.MaxRunningTimers.V {
		p := tm.fn.Proto
		st.logf(errlog.Alert, "lua failed to run timer with function defined at %s:%d: %d lua_max_running_timers are not enough",
			chunkSource(p.SourceName), p.LineDefined, st.main.MaxRunningTimers.V)
		tm.vm.release(st)
		return
	}
	c := &reqCtx{st: st, phase: PhaseTimer}
	c.sc.logExtra = tm.logExtra
	c.sc.loc, c.sc.hloc = tm.loc, tm.hloc
	c.sc.vmRef = tm.vm
	ts.running++
	// a stopping loop waits for the timer's code, as an exiting nginx
	// worker waits for its timers' events.
	loop := st.ls.Loop()
	loop.Hold()
	c.sc.finished = func() {
		ts.running--
		loop.Release()
	}
	args := make([]glua.LValue, 0, len(tm.args)+1)
	args = append(args, glua.LBool(premature))
	args = append(args, tm.args...)
	if rc := c.startEntry(tm.fn, args...); rc != again {
		c.detachedDone()
	}
}

// abortPending runs every pending timer at once with premature = true,
// in the order of their deadlines (ngx_http_lua_abort_pending_timers).
func (ts *timerState) abortPending(st *loopState) {
	if len(ts.pending) == 0 {
		return
	}
	list := make([]*luaTimer, 0, len(ts.pending))
	for tm := range ts.pending {
		list = append(list, tm)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i].t.Deadline(), list[j].t.Deadline()
		if !a.Equal(b) {
			return a.Before(b)
		}
		return list[i].seq < list[j].seq
	})
	st.logf(errlog.Debug, "lua found %d pending timers to be aborted prematurely", len(list))
	for _, tm := range list {
		tm.t.Stop()
		ts.expire(st, tm, true)
	}
}

// chunkSource is a function's source as LuaJIT's lua_getinfo reports it:
// "=name" for inline code, "@path" for a file.
func chunkSource(name string) string {
	switch {
	case strings.HasPrefix(name, "[string"), strings.HasPrefix(name, "="), strings.HasPrefix(name, "@"):
		return name
	case strings.Contains(name, "_by_lua") && strings.HasSuffix(name, ")"):
		return "=" + name
	}
	return "@" + name
}
