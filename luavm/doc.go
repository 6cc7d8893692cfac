// Package luavm is gresty's Lua runtime: one gopher-lua VM per event loop,
// the request-thread scheduler core, LuaJIT-compatible library behaviour and
// the modules OpenResty code expects to find (bit, jit, table.new and
// friends, cjson through the luavm/cjson package). The ngx.* API is built
// on top of it elsewhere.
//
// # Goroutines
//
// A VM is single-threaded. Everything in this package, unless a doc comment
// says otherwise, must be called on the goroutine that owns the VM, which is
// its event loop. Go functions registered into the VM run on that goroutine
// too, inside Lua, and may call the VM's methods that are documented as
// callable from inside Lua (Suspend, Spawn, Current, ...). The only
// exception is the runaway watchdog, a goroutine of its own that never
// touches Lua state.
//
// # Threads
//
// Request code runs in pooled Lua threads. The scheduler starts a compiled
// handler with Start, which runs it until it finishes, fails, or suspends.
// A Go function that must wait for I/O records what it waits for and
// returns vm.Suspend(L); the loop later calls Resume with the results,
// which become that Go function's return values in Lua. Such functions must
// be registered with RegisterYielding, which puts them behind a Lua
// trampoline so a yield is never lost to gopher-lua's tail-call handling.
// pcall, xpcall and coroutine.* are replaced by versions that let these
// suspensions pass through them, as ngx_lua's do.
package luavm
