// Package luavm is gresty's Lua runtime: one gopher-lua VM per event loop,
// the request-thread scheduler core, LuaJIT-compatible library behaviour and
// the modules OpenResty code expects to find (bit, jit, table.new and
// friends, cjson and cjson.safe from luavm/cjson). The ngx.* API is built
// on top of it elsewhere.
//
// # Goroutines
//
// A VM is single-threaded. Everything in this package, unless a doc comment
// says otherwise, must be called on the goroutine that owns the VM, which is
// its event loop. Start, Resume and Kill are called by the loop outside Lua;
// Go functions registered into the VM run on the same goroutine inside Lua
// and may call the methods documented as callable from inside Lua (Suspend,
// CheckYieldable, Spawn, Current, Call, ArgError, ...). The only other
// goroutine is the lua_max_running_time watchdog, which never touches Lua
// state.
//
// # Threads and waiting
//
// Request code runs in pooled Lua threads. The loop starts a compiled
// handler with Start, which runs it until it finishes (Done), fails
// (Failed), waits (Suspended) or calls coroutine.yield outside any user
// coroutine (Yielded, which ngx_lua treats as "let other threads run").
// A Go function that must wait, such as ngx.sleep or a cosocket read, is
// registered with RegisterYielding (or wrapped with YieldingFunction for a
// metatable) and does:
//
//	vm.CheckYieldable(L)           // before registering the wait
//	th := vm.Current()             // the request thread to wake later
//	registerWait(th, ...)
//	return vm.Suspend(L)
//
// When the wait completes, the loop calls vm.Resume(th, results...) and the
// results become the Go function's return values in Lua. Such functions
// must never be exposed without their trampoline: gopher-lua loses a yield
// from a tail-called Go function.
//
// pcall, xpcall and coroutine.* are replaced so waits pass through them,
// as in ngx_lua: a wait inside pcall or inside a user coroutine suspends
// the whole request thread. Waits from places that cannot yield (metamethods,
// iterator functions, table.sort comparators, gsub callbacks, a module's
// main chunk run by require, code run by Call) raise "attempt to yield
// across C-call boundary".
//
// # Light threads
//
// ngx.thread.spawn is built on Spawn: called from inside Lua, it runs a new
// thread at once until it finishes or waits, then returns to the caller
// with the child's Status; Thread.Parent links the child to the thread that
// spawned it. The loop resumes every waiting thread, parent or child, with
// Resume; Kill abandons one; Release recycles a thread that is no longer
// alive once its owner is done with its results. Thread.Data carries the
// owner's request.
//
// # Field caches
//
// Tables given to CacheFields remember the fields Lua code reads from them
// by name (t.name, globals, obj:method() through an __index table), so
// that ngx.say or red:get costs no map lookup after the first request. The
// ngx module gives caches to _G, the libraries, ngx, ngx's API groups and
// the shared dicts' methods; require gives one to each Lua module's table.
// Every write from Lua reaches them (assignments, rawset, table.clear).
// Go code that changes or deletes a field of such a table after the VM's
// set-up must call TouchTable on it; adding a field that was not there
// needs nothing.
package luavm
