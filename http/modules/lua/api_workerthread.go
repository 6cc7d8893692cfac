package lua

import (
	"fmt"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
	"gresty/errlog"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// ngx.run_worker_thread(pool, module, func, args...)
// (ngx_http_lua_worker_thread.c): module.func(args...) runs in a Lua VM
// of its own on another goroutine, a task of the thread_pool named pool,
// while the calling thread waits; it gets true and the function's
// results, or false and an error.
//
// The worker VMs are kept per loop, up to lua_worker_thread_vm_pool_size,
// and have only what ngx_lua gives them: the standard libraries,
// require with the request VM's package path, and ngx's string codecs
// (encode_args, decode_args, quote_sql_str, hmac_sha1, md5, md5_bin,
// sha1_bin, crc32_short, crc32_long, encode_base64, decode_base64),
// ngx.re, ngx.config and ngx.shared. Arguments and results are copied
// between the VMs: nil (not inside tables), booleans, numbers, strings,
// ngx.null and tables of them, 100 levels deep at most.

func init() {
	registerAPI(installWorkerThread)
	// a loop that stops serving its configuration closes its worker VMs,
	// the idle ones now and the busy ones when their task ends.
	exitHooks = append(exitHooks, func(st *loopState) {
		if st.wt == nil {
			return
		}
		for _, w := range st.wt.idle {
			w.vm.Close()
		}
		st.wt.idle = nil
	})
}

// workerThreadAPI are the ngx fields a worker VM keeps.
var workerThreadAPI = []string{
	"encode_args", "decode_args", "quote_sql_str", "hmac_sha1", "md5", "md5_bin", "sha1_bin",
	"crc32_short", "crc32_long", "encode_base64", "decode_base64", "re", "config", "shared",
}

// maxCopyDepth is LUA_COPY_MAX_DEPTH.
const maxCopyDepth = 100

// workerThreads is a loop's worker VMs and thread pools (an nginx
// worker process has its own of both). Loop goroutine only.
type workerThreads struct {
	idle  []*loopState
	count int
	pools map[string]*threadPool
}

// threadPool runs at most conf.Threads tasks at once and queues at most
// conf.MaxQueue more.
type threadPool struct {
	conf    *core.ThreadPool
	running int
	queue   []*workerTask
}

// workerTask is one call: the worker VM, with the function and the
// arguments on its side, and the thread that waits for it.
type workerTask struct {
	st      *loopState
	wvm     *loopState
	pool    *threadPool
	fn      *glua.LFunction
	args    []glua.LValue
	co      *coCtx
	th      *luavm.Thread
	aborted bool
	rets    []glua.LValue
	err     *luavm.Error
}

func installWorkerThread(st *loopState) {
	st.vm.RegisterYielding(st.ngx, "run_worker_thread", st.runWorkerThread)
}

// luaToStr is lua_tolstring: strings and numbers, else false.
func (st *loopState) luaToStr(L *glua.LState, n int) (string, bool) {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v), true
	case glua.LNumber:
		return st.vm.ToString(L, v).String(), true
	}
	return "", false
}

func (st *loopState) runWorkerThread(L *glua.LState) int {
	c := st.cur()
	if c == nil || c.phase == PhaseInit || st.ls == nil {
		luavm.Raise(L, "no request found")
	}
	if c.phase&PhasesYieldable == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	fail := func(msg string) int {
		L.Push(glua.LFalse)
		L.Push(glua.LString(msg))
		return 2
	}
	n := L.GetTop()
	if n < 3 {
		return fail("expecting at least 3 arguments")
	}
	name, ok := st.luaToStr(L, 1)
	if !ok {
		return fail("threadpool should be a string")
	}
	pool := st.threadPool(name)
	if pool == nil {
		return fail(fmt.Sprintf("thread pool %s not found", name))
	}
	mod, ok := st.luaToStr(L, 2)
	if !ok {
		return fail("module name should be a string")
	}
	fname, ok := st.luaToStr(L, 3)
	if !ok {
		return fail("function name should be a string")
	}
	// a caller that cannot wait fails before a VM is taken
	st.vm.CheckYieldable(L)
	wvm := st.workerVM()
	if wvm == nil {
		return fail("no available Lua vm")
	}
	WL := wvm.vm.L
	require, _ := WL.GetGlobal("require").(*glua.LFunction)
	var rets []glua.LValue
	var lerr *luavm.Error
	if require != nil {
		rets, lerr = wvm.vm.Call(require, glua.LString(mod))
	}
	if lerr != nil {
		st.freeWorkerVM(wvm)
		return fail(luaErrText(lerr))
	}
	t, ok := firstValue(rets).(*glua.LTable)
	if !ok {
		st.freeWorkerVM(wvm)
		return fail("invalid lua module")
	}
	fn, ok := t.RawGetString(fname).(*glua.LFunction)
	if !ok {
		st.freeWorkerVM(wvm)
		return fail("invalid function")
	}
	args := make([]glua.LValue, 0, n-3)
	for i := 4; i <= n; i++ {
		v, err := copyLuaValue(st, wvm, L.Get(i), true, 1)
		if err != "" {
			st.freeWorkerVM(wvm)
			return fail(err + " in the argument")
		}
		args = append(args, v)
	}
	task := &workerTask{st: st, wvm: wvm, pool: pool, fn: fn, args: args, co: st.curCo()}
	task.th = task.co.th
	if pool.running >= pool.conf.Threads {
		// an idle thread takes a task at once; max_queue counts the
		// ones that wait for a thread. The line goes to the pool's
		// log, which has no request in it.
		if len(pool.queue) >= pool.conf.MaxQueue {
			st.logf(errlog.Error, "thread pool \"%s\" queue overflow: %d tasks waiting", name, len(pool.queue))
			st.freeWorkerVM(wvm)
			return fail("ngx_thread_task_post failed")
		}
		pool.queue = append(pool.queue, task)
	} else {
		st.startWorkerTask(task)
	}
	task.co.cancel = func() { task.aborted = true }
	return st.vm.Suspend(L)
}

func firstValue(vs []glua.LValue) glua.LValue {
	if len(vs) == 0 {
		return glua.LNil
	}
	return vs[0]
}

// threadPool returns the loop's pool of the thread_pool named name, nil
// when there is none.
func (st *loopState) threadPool(name string) *threadPool {
	cc, ok := st.cycle.MainConf(core.CoreModule).(*core.CoreConf)
	if !ok || cc.ThreadPools[name] == nil {
		return nil
	}
	wt := st.workerThreads()
	p := wt.pools[name]
	if p == nil {
		p = &threadPool{conf: cc.ThreadPools[name]}
		wt.pools[name] = p
	}
	return p
}

func (st *loopState) workerThreads() *workerThreads {
	if st.wt == nil {
		st.wt = &workerThreads{pools: map[string]*threadPool{}}
	}
	return st.wt
}

// workerVM takes an idle worker VM or makes one while the pool allows,
// nil otherwise (ngx_http_lua_get_task_ctx).
func (st *loopState) workerVM() *loopState {
	wt := st.workerThreads()
	if n := len(wt.idle); n > 0 {
		w := wt.idle[n-1]
		wt.idle = wt.idle[:n-1]
		return w
	}
	if wt.count >= st.main.WorkerThreadVMPoolSize.V {
		return nil
	}
	w, err := newLoopState(st.cycle, st.main, nil)
	if err != nil {
		st.logf(errlog.Error, "failed to create a Lua VM for a worker thread: %s", err)
		return nil
	}
	keep := w.vm.L.NewTable()
	for _, k := range workerThreadAPI {
		keep.RawSetString(k, w.ngx.RawGetString(k))
	}
	w.vm.L.SetGlobal("ngx", keep)
	luavm.TouchTable(w.vm.L.Get(glua.GlobalsIndex).(*glua.LTable))
	w.vm.L.SetMetatable(w.vm.L.Get(glua.GlobalsIndex), glua.LNil)
	wt.count++
	return w
}

func (st *loopState) freeWorkerVM(w *loopState) {
	if st.exiting {
		w.vm.Close()
		return
	}
	w.vm.L.SetTop(0)
	st.wt.idle = append(st.wt.idle, w)
}

// startWorkerTask runs the call on a goroutine of its own; its end comes
// back to the loop.
func (st *loopState) startWorkerTask(t *workerTask) {
	t.pool.running++
	loop := st.ls.Loop()
	go func() {
		t.rets, t.err = t.wvm.vm.Call(t.fn, t.args...)
		// a loop that is gone drops the task with its VM
		loop.Post(func() { st.workerTaskDone(t) })
	}()
}

// workerTaskDone is the end of a call, on the loop: the next queued task
// of the pool starts, and the waiting thread gets the results unless it
// was killed or its request ended meanwhile.
func (st *loopState) workerTaskDone(t *workerTask) {
	p := t.pool
	p.running--
	if len(p.queue) > 0 {
		next := p.queue[0]
		p.queue = p.queue[1:]
		st.startWorkerTask(next)
	}
	co := t.co
	if t.aborted || co.th != t.th || co.status != coRunning {
		st.freeWorkerVM(t.wvm)
		return
	}
	var vals []glua.LValue
	if t.err != nil {
		vals = []glua.LValue{glua.LFalse, glua.LString(luaErrText(t.err))}
	} else {
		vals = append(vals, glua.LTrue)
		for _, v := range t.rets {
			cv, err := copyLuaValue(t.wvm, st, v, true, 1)
			if err != "" {
				vals = []glua.LValue{glua.LFalse, glua.LString(err + " in the return value")}
				break
			}
			vals = append(vals, cv)
		}
	}
	st.freeWorkerVM(t.wvm)
	co.wake(vals...)
}

// copyLuaValue copies v of from's VM into to's (ngx_http_lua_xcopy); err
// names what cannot be copied.
func copyLuaValue(from, to *loopState, v glua.LValue, allowNil bool, depth int) (glua.LValue, string) {
	switch x := v.(type) {
	case glua.LBool, glua.LNumber, glua.LString:
		return v, ""
	case *glua.LNilType:
		if allowNil {
			return v, ""
		}
		return nil, "unsupported Lua type: LUA_TNIL"
	case *glua.LTable:
		if depth >= maxCopyDepth {
			return nil, fmt.Sprintf("suspicious circular references, table depth exceed max depth: %d", maxCopyDepth)
		}
		t := to.vm.L.NewTable()
		for k, val := ltable.Next(x, glua.LNil); k != glua.LNil; k, val = ltable.Next(x, k) {
			ck, err := copyLuaValue(from, to, k, false, depth+1)
			if err != "" {
				return nil, err
			}
			cv, err := copyLuaValue(from, to, val, false, depth+1)
			if err != "" {
				return nil, err
			}
			t.RawSet(ck, cv)
		}
		return t, ""
	case *glua.LFunction:
		return nil, "unsupported Lua type: LUA_TFUNCTION"
	case *glua.LUserData:
		if x == from.vm.Null() {
			return to.vm.Null(), ""
		}
		return nil, "unsupported Lua type: LUA_TUSERDATA"
	case *glua.LState:
		return nil, "unsupported Lua type: LUA_TTHREAD"
	}
	return nil, "unsupported Lua type"
}
