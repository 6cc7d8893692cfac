package luavm

import (
	"errors"
	"fmt"
	"runtime/metrics"
	"time"

	lua "github.com/yuin/gopher-lua"

	"gresty/luavm/cjson"
)

// DefaultPackagePath is the Lua module search path a VM starts with, and the
// text ";;" stands for in Options.PackagePath, unless the environment has
// LUA_PATH (as LuaJIT, which then starts from that). It is the path of the LuaJIT
// shipped with Debian's nginx Lua module, so modules installed by the
// distribution's lua-resty-* packages are found the same way.
const DefaultPackagePath = "./?.lua;/usr/share/luajit-2.1.0-beta3/?.lua;/usr/local/share/lua/5.1/?.lua;" +
	"/usr/local/share/lua/5.1/?/init.lua;/usr/share/lua/5.1/?.lua;/usr/share/lua/5.1/?/init.lua"

// DefaultPackageCPath is the C module search path a VM starts with. C modules
// cannot be loaded; the path only shapes require's "not found" message.
const DefaultPackageCPath = "./?.so;/usr/local/lib/lua/5.1/?.so;/usr/lib/x86_64-linux-gnu/lua/5.1/?.so;" +
	"/usr/local/lib/lua/5.1/loadall.so"

// Options configures a VM. The zero value is usable.
type Options struct {
	// CallStackSize is the deepest Lua call nesting a thread allows before
	// "stack overflow". Frames are allocated in small segments as needed.
	// Default 1000.
	CallStackSize int
	// RegistrySize is the initial value-stack size of every thread. It
	// grows on demand up to RegistryMaxSize. Defaults 256 and 1<<20.
	RegistrySize    int
	RegistryMaxSize int

	// PackagePath and PackageCPath are lua_package_path and
	// lua_package_cpath: ";"-separated templates where ";;" stands for the
	// default path. Empty means the default.
	PackagePath  string
	PackageCPath string

	// Print receives what Lua's print writes: the caller's position prefix
	// and the arguments formatted as ngx.log formats them (see LogMessage).
	// ngx_lua logs it at the notice level. Nil discards it.
	Print func(L *lua.LState, msg string)

	// MaxRunningTime is lua_max_running_time: the longest (wall-clock) a
	// single Start or Resume may keep running Lua code without waiting
	// before the running handler is stopped with ErrRunningTime. A Go
	// function that does not return is not interrupted. Zero disables
	// the check, and then it costs nothing.
	MaxRunningTime time.Duration

	// MaxIdleThreads bounds each pool of idle threads (request threads and
	// pcall helper threads). Default 512.
	MaxIdleThreads int
}

func (o *Options) setDefaults() {
	if o.CallStackSize <= 0 {
		o.CallStackSize = 1000
	}
	if o.RegistrySize <= 0 {
		o.RegistrySize = 256
	}
	if o.RegistryMaxSize < o.RegistrySize {
		o.RegistryMaxSize = 1 << 20
	}
	if o.MaxIdleThreads <= 0 {
		o.MaxIdleThreads = 512
	}
}

// VM is one Lua universe: a main state, its request-thread pools and the
// runtime's replacements of the standard library. It belongs to one
// goroutine (see the package documentation).
type VM struct {
	// L is the main state. init_by_lua-style code runs on it through Call;
	// request code never runs on it directly.
	L    *lua.LState
	opts Options

	// coErr, failedFrames and wrapTrace carry the frames of user
	// coroutines whose error goes up through coroutine.wrap, for the
	// request thread's traceback (ngxtrace.go).
	coErr        coErrTrace
	failedFrames string
	wrapTrace    []string

	// fastFns are the metamethods given fast paths (fields.go).
	fastFns []*lua.LFunction
	// fieldTables are the tables given field caches (fieldcache.go).
	fieldTables []*lua.LTable

	// null is ngx.null and cjson.null, an opaque userdata.
	null *lua.LUserData

	// sent is the first value of every yield that suspends the request
	// thread for I/O; mark leads every user yield and every helper return,
	// so counts survive gopher-lua padding empty results with a nil;
	// pending tags a helper that stopped in a forwarded yield; busy sits on
	// top of a user coroutine's stack while it waits for I/O.
	sent, mark, pending, busy *lua.LUserData
	// sentRet is a suspension's results, shared (resumeState).
	sentRet []lua.LValue

	factory *lua.LFunction // makes yielding trampolines
	prun    *lua.LFunction // base function of pcall helpers and coroutines
	mkwrap  *lua.LFunction // makes coroutine.wrap's wrappers
	trun    *lua.LFunction // base function of request threads and Call
	trun0   *lua.LFunction // trun for a function called without arguments
	panicFn func(*lua.LState)

	// Go halves of the replaced pcall, xpcall and coroutine functions. The
	// yield check recognises a thread's resumer by these.
	fnPStart, fnPResume, fnXStart, fnXResume *lua.LFunction
	fnCStart, fnCResume, fnCWStart, fnFwd    *lua.LFunction
	fnTraceback                              lua.LValue

	threads []*lua.LState           // idle request threads
	helpers []*lua.LState           // idle pcall helper threads
	tops    map[*lua.LState]*Thread // request threads, idle or not
	free    []*Thread
	current *Thread
	scratch []lua.LValue
	// startArgs holds a fresh thread's function and arguments until
	// Resume has copied them onto the thread.
	startArgs []lua.LValue

	budget *budget
	closed bool
	// deadStatus is the SetDeadStatus hook.
	deadStatus func(co *lua.LState) string
}

// New creates a VM with the standard libraries, the runtime's replacements
// and the built-in modules. It must be called on the goroutine that will
// own the VM.
func New(opts Options) (*VM, error) {
	opts.setDefaults()
	L := lua.NewState(lua.Options{
		CallStackSize:       opts.CallStackSize,
		RegistrySize:        opts.RegistrySize,
		RegistryMaxSize:     opts.RegistryMaxSize,
		RegistryGrowStep:    opts.RegistrySize,
		SkipOpenLibs:        true,
		MinimizeStackMemory: true,
	})
	vm := &VM{
		L:       L,
		opts:    opts,
		null:    &lua.LUserData{Metatable: lua.LNil},
		sent:    &lua.LUserData{Metatable: lua.LNil},
		mark:    &lua.LUserData{Metatable: lua.LNil},
		pending: &lua.LUserData{Metatable: lua.LNil},
		busy:    &lua.LUserData{Metatable: lua.LNil},
		tops:    make(map[*lua.LState]*Thread),
	}
	vm.sentRet = []lua.LValue{vm.sent}
	if err := vm.init(); err != nil {
		L.Close()
		return nil, err
	}
	if opts.MaxRunningTime > 0 {
		vm.budget = newBudget(opts.MaxRunningTime)
	}
	return vm, nil
}

func (vm *VM) init() (err error) {
	L := vm.L
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("luavm: initialising the VM: %v", r)
		}
	}()
	for _, lib := range []struct {
		name string
		fn   lua.LGFunction
	}{
		{lua.LoadLibName, lua.OpenPackage},
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.IoLibName, lua.OpenIo},
		{lua.OsLibName, lua.OpenOs},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.DebugLibName, lua.OpenDebug},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.fn))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	vm.openBase()
	vm.openString()
	vm.openTable()
	vm.openOS()
	vm.openPackage()
	if err := vm.openGlue(); err != nil {
		return err
	}
	vm.openBit()
	vm.openJIT()
	vm.openTableModules()
	env := cjson.Env{Null: vm.null, ArgError: ArgError, Raise: Raise}
	vm.Preload("cjson", cjson.Loader(env, false))
	vm.Preload("cjson.safe", cjson.Loader(env, true))
	vm.fnTraceback = L.GetField(L.GetGlobal("debug"), "traceback")
	return nil
}

// Null returns the VM's null value, the light userdata that cjson.null and
// ngx.null are. Callable from inside Lua.
func (vm *VM) Null() *lua.LUserData { return vm.null }

// Options returns the options the VM was created with, defaults filled in.
func (vm *VM) Options() Options { return vm.opts }

// Close releases the VM. Threads must not be resumed afterwards.
func (vm *VM) Close() {
	if vm.closed {
		return
	}
	vm.closed = true
	if vm.budget != nil {
		vm.budget.stop()
	}
	vm.dropFast()
	vm.dropFieldCaches()
	vm.L.Close()
}

// Preload registers a Go-native module: require(name) calls loader once
// and caches what it returns, as package.preload does.
func (vm *VM) Preload(name string, loader lua.LGFunction) {
	pre := vm.L.GetField(vm.L.GetField(vm.L.Get(lua.GlobalsIndex), "package"), "preload")
	if t, ok := pre.(*lua.LTable); ok {
		t.RawSetString(name, vm.L.NewFunction(loader))
	}
}

// ErrRunningTime is wrapped by the error of a thread stopped because it ran
// longer than Options.MaxRunningTime in one go.
var ErrRunningTime = errors.New("lua_max_running_time exceeded")

// gcKB approximates the VM's heap use for collectgarbage("count"). All VMs
// share Go's heap, so this is the process's live heap objects, read without
// stopping the world and never triggering a collection.
func gcKB() float64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return float64(s[0].Value.Uint64()) / 1024
}
