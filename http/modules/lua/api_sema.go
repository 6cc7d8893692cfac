package lua

import (
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/luavm"
)

// require "ngx.semaphore": lua-resty-core's semaphores over
// ngx_http_lua_semaphore.c. A semaphore belongs to the loop whose code
// created it, as OpenResty's belongs to a worker process; threads of any
// request or timer of that loop may wait on it. post wakes the waiters
// after the running code has waited or ended (a posted event), longest
// waiter first.

func init() { registerAPI(installSema) }

// semaphore is ngx_http_lua_sema_t.
type semaphore struct {
	st        *loopState
	resources int
	waiters   []*semaWaiter
	// posted is set while the wake-up of waiters is queued.
	posted bool
}

// semaWaiter is a thread waiting in wait(), with its timeout.
type semaWaiter struct {
	co    *coCtx
	timer *eventloop.Timer
}

func installSema(st *loopState) {
	L := st.vm.L
	mod := L.NewTable()
	mod.RawSetString("version", glua.LString(restyCoreVersion))
	mt := L.NewTable()
	mt.RawSetString("__index", mod)
	mod.RawSetString("new", L.NewFunction(func(L *glua.LState) int {
		f, _ := toNumber(L.Get(1))
		if f < 0 {
			L.Error(glua.LString("no negative number"), 0)
		}
		n := int(int32(f))
		s := &semaphore{st: st, resources: n}
		st.logf(errlog.Debug, "http lua semaphore new: %p, resources: %d", s, n)
		t := L.NewTable()
		ud := L.NewUserData()
		ud.Value = s
		t.RawSetString("sem", ud)
		L.SetMetatable(t, mt)
		L.Push(t)
		return 1
	}))
	st.vm.RegisterYielding(mod, "wait", func(L *glua.LState) int { return st.semaWait(L) })
	mod.RawSetString("post", L.NewFunction(func(L *glua.LState) int {
		s := semaSelf(L)
		// n and tonumber(n) or 1
		f := 1.0
		if v, ok := toNumber(L.Get(2)); ok {
			f = v
		}
		if f < 1 {
			L.Error(glua.LString("positive number required"), 0)
		}
		n := int(int32(f))
		st.logf(errlog.Debug, "http lua semaphore post: %p, n: %d, resources: %d", s, n, s.resources)
		s.resources += n
		if len(s.waiters) > 0 && !s.posted {
			s.posted = true
			st.ls.Loop().Defer(s.wakeWaiters)
		}
		L.Push(glua.LTrue)
		return 1
	}))
	mod.RawSetString("count", L.NewFunction(func(L *glua.LState) int {
		s := semaSelf(L)
		L.Push(glua.LNumber(s.resources - len(s.waiters)))
		return 1
	}))
	st.vm.Preload("ngx.semaphore", func(L *glua.LState) int {
		L.Push(mod)
		return 1
	})
}

// toNumber is Lua's tonumber for a number or a numeric string.
func toNumber(v glua.LValue) (float64, bool) {
	switch x := v.(type) {
	case glua.LNumber:
		return float64(x), true
	case glua.LString:
		return luavm.ParseNumber(string(x))
	}
	return 0, false
}

// semaSelf checks that argument 1 is a semaphore made by new.
func semaSelf(L *glua.LState) *semaphore {
	if t, ok := L.Get(1).(*glua.LTable); ok {
		if ud, ok := t.RawGetString("sem").(*glua.LUserData); ok {
			if s, ok := ud.Value.(*semaphore); ok {
				return s
			}
		}
	}
	L.Error(glua.LString("not a semaphore instance"), 0)
	return nil
}

// semaWait is sem:wait(seconds): true at once when a resource is free and
// nobody waits before; nil and "timeout" at once for a zero timeout;
// else the thread waits for post (true) or the timeout (false and
// "timeout").
func (st *loopState) semaWait(L *glua.LState) int {
	s := semaSelf(L)
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		L.Error(glua.LString("no request found"), 0)
	}
	secs, ok := toNumber(L.Get(2))
	if !ok {
		L.Error(glua.LString("attempt to perform arithmetic on a nil value"), 0)
	}
	ms := secs * 1000
	if ms < 0 {
		L.Error(glua.LString("no negative number"), 0)
	}
	waitMs := int(int32(ms))
	st.logf(errlog.Debug, "http lua semaphore wait: %p, timeout: %d, resources: %d, event posted: %d",
		s, waitMs, s.resources, b2i(s.posted))
	if c.phase&yieldable == 0 {
		return pushErr(L, "API disabled in the context of "+c.phase.contextName())
	}
	if len(s.waiters) == 0 && s.resources > 0 {
		s.resources--
		L.Push(glua.LTrue)
		return 1
	}
	if waitMs == 0 {
		return pushErr(L, "timeout")
	}
	st.vm.CheckYieldable(L)
	w := &semaWaiter{co: st.curCo()}
	s.waiters = append(s.waiters, w)
	w.timer = st.ls.Loop().AfterFunc(time.Duration(waitMs)*time.Millisecond, func() {
		s.remove(w)
		w.co.wake(glua.LFalse, glua.LString("timeout"))
	})
	w.co.cancel = func() {
		st.logf(errlog.Debug, "http lua semaphore cleanup")
		w.timer.Stop()
		s.remove(w)
	}
	st.logf(errlog.Debug, "http lua semaphore wait yielding")
	return st.vm.Suspend(L)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// remove takes w off the wait queue.
func (s *semaphore) remove(w *semaWaiter) {
	for i, x := range s.waiters {
		if x == w {
			s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
			return
		}
	}
}

// wakeWaiters resumes waiters, longest first, while resources last
// (ngx_http_lua_sema_handler).
func (s *semaphore) wakeWaiters() {
	s.posted = false
	for len(s.waiters) > 0 && s.resources > 0 {
		w := s.waiters[0]
		s.waiters = s.waiters[1:]
		w.timer.Stop()
		s.resources--
		w.co.wake(glua.LTrue, glua.LNil)
	}
}
