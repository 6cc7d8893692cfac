package lua

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"unsafe"

	glua "github.com/yuin/gopher-lua"

	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// loopState is the Lua world of one loop for one configuration: its VM,
// the ngx table, and the handlers compiled in it.
type loopState struct {
	// balancer is the peer data of the balancer_by_lua code that ran
	// last (ngx_lua's lmcf->balancer_peer_data): the code cannot yield,
	// so it belongs to the running code while the phase is "balancer".
	balancer *luaPeer
	// wt is the loop's worker-thread VMs and thread pools, made on the
	// first ngx.run_worker_thread.
	wt *workerThreads

	vm    *luavm.VM
	ls    *http.LoopServer
	cycle *core.Cycle
	main  *MainConf
	ngx   *glua.LTable
	// compiled[h.id] is the handler's function in this VM; files holds
	// *_by_lua_file handlers whose path has variables, by path.
	// code holds the chunks compiled in this VM, by reference - 1;
	// codeKeys their references by Handler.key (ngx_lua's code cache).
	code     []*glua.LFunction
	codeKeys map[string]int
	// refs are the handlers' code cache references plus one (0: none
	// yet), by handler id: the directives' own, in the loop's state.
	refs  []int32
	files map[string]*glua.LFunction
	// exiting is set once the loop stops serving the configuration.
	exiting bool
	// api holds what API files keep per VM (regex caches, pools...),
	// by key.
	api map[string]any
	// sock is the cosocket state (api_socket.go), kept out of api for
	// the output calls that ask it about the raw request socket.
	sock *sockState
	// ctxRelease is logCtxRelease, made once.
	ctxRelease func()
	// current is the context of code running on the main state (init,
	// filters, log), where no request thread is current.
	current *reqCtx
	// initReplay is set while init_by_lua runs again in a loop's own VM:
	// its shared-dict writes already happened once.
	initReplay bool
	// sayBuf is ngx.say's and ngx.print's formatting buffer, reused from
	// one call to the next; a call made while another holds it (from a
	// filter that call runs) formats into a buffer of its own.
	sayBuf []byte
	// threads counts the thread states ngx_lua would cache (sched.go).
	threads threadCache
	// freeCtx are request contexts kept for reuse (ctx.go).
	freeCtx []*reqCtx
	// keys interns header names for the tables get_headers builds, and
	// cosocket pool names.
	keys ltable.Keys
	// index is the key index get_headers' tables share until walked.
	index ltable.Index
	// nums boxes the numbers shared dictionaries return.
	nums ltable.Numbers
	// sendBuf is where a cosocket's send flattens a table.
	sendBuf []byte
	// dashes remembers header names with "_" turned into "-" (dashed).
	dashes nameCache[string]
	// vars remembers variable names resolved (varRef).
	vars nameCache[http.VarRef]
	// parent is the loop's state when this one is the VM of a single
	// request under lua_code_cache off (requestState).
	parent *loopState
}

// apiInstaller adds part of the ngx API to a new VM. Files of this package
// register one each in init; they run in registration order.
type apiInstaller func(st *loopState)

var apiInstallers []apiInstaller

func registerAPI(f apiInstaller) { apiInstallers = append(apiInstallers, f) }

// newLoopState creates a VM for cfg on a loop (ls is nil for the
// configuration-time VM that runs init_by_lua for -t).
func newLoopState(cycle *core.Cycle, m *MainConf, ls *http.LoopServer) (*loopState, error) {
	st := &loopState{ls: ls, cycle: cycle, main: m, api: map[string]any{}}
	st.ctxRelease = st.logCtxRelease
	opts := luavm.Options{
		PackagePath:    expandPrefix(m.PackagePath.V, m.prefix),
		PackageCPath:   expandPrefix(m.PackageCPath.V, m.prefix),
		MaxRunningTime: m.MaxRunningTime.V,
		Print:          st.print,
	}
	vm, err := luavm.New(opts)
	if err != nil {
		return nil, err
	}
	st.vm = vm
	st.refs = make([]int32, len(m.handlers))
	st.ngx = vm.L.NewTable()
	vm.L.SetGlobal("ngx", st.ngx)
	for _, install := range apiInstallers {
		install(st)
	}
	// every new VM of ngx_lua requires resty.core (gresty's is built in)
	// and gets OpenResty's guard against globals written by requests.
	fn, lerr := vm.L.LoadString(`require "resty.core"`)
	if lerr == nil {
		_, err := vm.Call(fn)
		if err != nil {
			return nil, fmt.Errorf("failed to load the 'resty.core' module: %s", luaErrText(err))
		}
	}
	if guard, lerr := vm.Load(globalWriteGuard, "=_G write guard"); lerr == nil {
		if _, err := vm.Call(guard); err != nil {
			return nil, fmt.Errorf("failed to run Lua code: %s", luaErrText(err))
		}
	}
	cacheLibraryFields(vm)
	return st, nil
}

// cacheLibraryFields prepares the tables request code reads on every
// line. _G, the tables it holds (the libraries, ngx), the tables ngx holds
// (its API groups) and the metatables of all of these get maps of their
// own size (ltable.Compact). _G, ngx and those of the others that have no
// metatable get field caches; package.loaded and package.preload, which
// require changes from Go, do not.
func cacheLibraryFields(vm *luavm.VM) {
	g, ok := vm.L.Get(glua.GlobalsIndex).(*glua.LTable)
	if !ok {
		return
	}
	ngx, _ := g.RawGetString("ngx").(*glua.LTable)
	cached := []*glua.LTable{g}
	seen := map[*glua.LTable]bool{g: true}
	prepare := func(t *glua.LTable, cache bool) {
		if seen[t] {
			return
		}
		seen[t] = true
		mt, hasMeta := t.Metatable.(*glua.LTable)
		if hasMeta && !seen[mt] {
			seen[mt] = true
			ltable.Compact(mt)
		}
		if cache && (!hasMeta || t == ngx) {
			cached = append(cached, t)
		}
		ltable.Compact(t)
	}
	g.ForEach(func(_, v glua.LValue) {
		if t, ok := v.(*glua.LTable); ok {
			prepare(t, true)
		}
	})
	if ngx != nil {
		ngx.ForEach(func(_, v glua.LValue) {
			if t, ok := v.(*glua.LTable); ok {
				prepare(t, true)
			}
		})
	}
	if pkg, ok := g.RawGetString("package").(*glua.LTable); ok {
		for _, name := range []string{"loaded", "preload"} {
			if t, ok := pkg.RawGetString(name).(*glua.LTable); ok {
				prepare(t, false)
			}
		}
	}
	if mt, ok := g.Metatable.(*glua.LTable); ok {
		ltable.Compact(mt)
	}
	ltable.Compact(g)
	vm.CacheFields(cached...)
}

// globalWriteGuard is the metatable OpenResty's ngx_lua gives _G in every
// VM: a new global written outside init_by_lua and init_worker_by_lua is
// logged with a warning, once per name and VM.
const globalWriteGuard = `local ngx_log = ngx.log
local ngx_WARN = ngx.WARN
local tostring = tostring
local ngx_get_phase = ngx.get_phase
local traceback = require 'debug'.traceback
local function newindex(table, key, value)
rawset(table, key, value)
local phase = ngx_get_phase()
if phase == 'init_worker' or phase == 'init' then
return
end
ngx_log(ngx_WARN, 'writing a global Lua variable (\'', tostring(key), '\') which may lead to race conditions between concurrent requests, so prefer the use of \'local\' variables', traceback('', 2))
end
setmetatable(_G, { __newindex = newindex })
`

// expandPrefix replaces $prefix in lua_package_path, as ngx_lua does.
func expandPrefix(p, prefix string) string {
	if p == "" {
		return p
	}
	out := []byte{}
	for i := 0; i < len(p); i++ {
		if p[i] == '$' && len(p)-i >= len("$prefix") && p[i:i+len("$prefix")] == "$prefix" {
			out = append(out, prefix...)
			i += len("$prefix") - 1
			continue
		}
		if p[i] == '$' && len(p)-i >= len("${prefix}") && p[i:i+len("${prefix}")] == "${prefix}" {
			out = append(out, prefix...)
			i += len("${prefix}") - 1
			continue
		}
		out = append(out, p[i])
	}
	return string(out)
}

// fn returns handler h compiled in this VM, through ngx_lua's code
// cache: a chunk is found by the reference its directive took (the
// directive's own, kept for the loop across the VMs of lua_code_cache
// off), else by the key of its code (Handler.key: the directive family
// and code, or the file as written); a miss compiles it and gives it the
// VM's next reference. The debug log says so as ngx_lua's does. A path
// with variables is cached by the path it evaluates to, with no
// reference. Code run outside requests (init, init_worker, exit_worker)
// is compiled without the cache, as ngx_lua loads it.
func (st *loopState) fn(h *Handler, r *http.Request, cache bool) (*glua.LFunction, error) {
	if r == nil {
		if h.File != "" {
			return st.vm.CompileFile(h.File)
		}
		return st.vm.CompileInline(h.Src, h.Chunk)
	}
	// a VM of one request (lua_code_cache off) caches what it compiles
	// for the rest of the request.
	keep := cache || st.parent != nil
	debug := r.Log().Enabled(errlog.Debug)
	if h.FileTpl != nil {
		path := h.FileTpl.EvalString(r)
		if path == "" {
			return nil, fmt.Errorf("failed to eval the Lua file path")
		}
		path = st.cycle.FullName(path, false)
		key := ""
		if debug {
			key = fileCacheKey(path)
			st.logCache(r, "lookup", key, noRef)
		}
		if f := st.files[path]; f != nil && keep {
			if debug {
				st.logCache(r, "hit", key, noRef)
			}
			return f, nil
		}
		if debug {
			st.logCache(r, "miss", key, noRef)
		}
		f, err := st.vm.CompileFile(path)
		if err != nil {
			return nil, err
		}
		if keep {
			if st.files == nil {
				st.files = map[string]*glua.LFunction{}
			}
			st.files[path] = f
		}
		return f, nil
	}
	root := st
	if st.parent != nil {
		root = st.parent
	}
	ref := int(root.refs[h.id]) - 1
	if debug {
		st.logCache(r, "lookup", h.key, ref)
	}
	if ref == refNil && keep {
		if n, ok := st.codeKeys[h.key]; ok {
			ref = n
			root.refs[h.id] = int32(n + 1)
			if debug {
				st.logCache(r, "setting ref", h.key, ref)
			}
		}
	}
	if ref > 0 && ref <= len(st.code) && keep {
		if debug {
			st.logCache(r, "hit", h.key, ref)
		}
		return st.code[ref-1], nil
	}
	if debug {
		st.logCache(r, "miss", h.key, ref)
	}
	var f *glua.LFunction
	var err error
	if h.File != "" {
		f, err = st.vm.CompileFile(h.File)
	} else {
		f, err = st.vm.CompileInline(h.Src, h.Chunk)
	}
	if err != nil {
		return nil, err
	}
	if keep {
		st.code = append(st.code, f)
		ref = len(st.code)
		root.refs[h.id] = int32(ref + 1)
		if st.codeKeys == nil {
			st.codeKeys = map[string]int{}
		}
		st.codeKeys[h.key] = ref
	}
	return f, nil
}

// ngx_lua's LUA_REFNIL and LUA_NOREF as code cache references.
const (
	refNil = -1
	noRef  = -2
)

func (st *loopState) logCache(r *http.Request, what, key string, ref int) {
	r.Logf(errlog.Debug, "code cache %s (key='%s', ref=%d)", what, key, ref)
}

// inlineCacheKey and fileCacheKey are ngx_lua's code cache keys.
func inlineCacheKey(family, src string) string {
	sum := md5.Sum([]byte(src))
	return family + "_nhli_" + hex.EncodeToString(sum[:])
}

func fileCacheKey(path string) string {
	sum := md5.Sum([]byte(path))
	return "nhlf_" + hex.EncodeToString(sum[:])
}

// print is Lua's print: ngx_lua logs it at notice level with the
// caller's position.
func (st *loopState) print(L *glua.LState, msg string) {
	// luavm's print has put the caller's position in front already.
	logLuaText(st, errlog.Notice, "[lua] "+msg)
}

// initLoop creates the loop's VM for a configuration, runs init_by_lua
// in it and then init_worker_by_lua (nginx runs init_by_lua once in the
// master and forks; each gresty loop has its own VM, so it runs in each).
func initLoop(cfg *http.Config, ls *http.LoopServer) (any, error) {
	m, ok := cfg.MainConfOf(Module).(*MainConf)
	if !ok || m == nil {
		return nil, nil
	}
	// nginx runs init_by_lua once, in the master, and its workers inherit
	// the result. Loop 0 takes over the VM that ran it at configuration
	// time, so with one loop it runs exactly once; every other loop runs
	// it in its own VM with shared-dict writes suppressed (they happened
	// in the first run), so the dicts see them once.
	var st *loopState
	if ls.Loop().ID() == 0 && m.initState != nil {
		st = m.initState
		m.initState = nil
		st.ls = ls
		for _, f := range adoptHooks {
			f(st)
		}
	} else {
		var err error
		st, err = newLoopState(cfg.Cycle(), m, ls)
		if err != nil {
			return nil, err
		}
		if m.Init != nil {
			st.initReplay = true
			err := st.runInit(m.Init)
			st.initReplay = false
			if err != nil {
				return nil, err
			}
		}
	}
	m.vms.Add(1)
	if m.InitWorker != nil {
		st.runInitWorker(m.InitWorker)
	}
	return st, nil
}

// runInit runs init_by_lua on the VM's main state. Its failure is the
// configuration's.
func (st *loopState) runInit(h *Handler) error {
	what := "init_by_lua"
	if h.File != "" {
		what = "init_by_lua_file"
	}
	// ngx_lua reports a failed init_by_lua at level error (and nginx
	// then stops): the bare Lua message, with the traceback of a
	// runtime error.
	fail := func(msg string) error {
		return &core.Error{Msg: what + " error: " + msg, Level: errlog.Error}
	}
	f, err := st.fn(h, nil, true)
	if err != nil {
		return fail(bareLoadError(h, err))
	}
	ctx := &reqCtx{st: st, phase: PhaseInit}
	st.withCtx(ctx, func() {
		_, lerr := st.vm.Call(f)
		if lerr != nil {
			// an error object that is not a string gets no traceback
			// and reads "unknown error" (ngx_http_lua_report).
			switch lerr.Value.(type) {
			case glua.LString, glua.LNumber:
			default:
				err = fail("unknown error")
				return
			}
			msg := luaErrText(lerr)
			if trace := lerr.Traceback; trace != "" {
				if !strings.HasPrefix(trace, "stack traceback:") {
					trace = "stack traceback:\n" + trace
				}
				msg += "\n" + trace
			}
			err = fail(msg)
		}
	})
	return err
}

// bareLoadError is the Lua message of a handler's load error, without
// the words a request handler's load error starts with.
func bareLoadError(h *Handler, err error) string {
	msg := err.Error()
	if h.File != "" {
		return strings.TrimPrefix(msg, "failed to load external Lua file \""+h.File+"\": ")
	}
	return strings.TrimPrefix(msg, "failed to load inlined Lua code: ")
}

// runInitWorker runs init_worker_by_lua as a request-less thread that may
// wait (ngx.timer, cosockets).
func (st *loopState) runInitWorker(h *Handler) {
	f, err := st.fn(h, nil, true)
	if err != nil {
		// ngx_lua loads this chunk itself and reports the bare Lua
		// message after the directive's name.
		what := "init_worker_by_lua"
		if h.File != "" {
			what = "init_worker_by_lua_file"
		}
		st.logf(errlog.Error, "%s error: %s", what, bareLoadError(h, err))
		return
	}
	ctx := &reqCtx{st: st, phase: PhaseInitWorker}
	ctx.runDetached(f, "init_worker_by_lua")
}

func exitLoop(cfg *http.Config, ls *http.LoopServer, state any) {
	st, ok := state.(*loopState)
	if !ok || st == nil {
		return
	}
	st.exiting = true
	st.main.vms.Add(-1)
	for _, f := range exitHooks {
		f(st)
	}
	if h := st.main.ExitWorker; h != nil {
		f, err := st.fn(h, nil, true)
		if err != nil {
			st.logf(errlog.Error, "%s", err)
			return
		}
		ctx := &reqCtx{st: st, phase: PhaseExitWorker}
		st.withCtx(ctx, func() {
			if _, lerr := st.vm.Call(f); lerr != nil {
				st.logf(errlog.Error, "exit_worker_by_lua error: %s", luaErrText(lerr))
			}
		})
	}
}

// exitHooks run when a loop stops serving a configuration (timers run
// premature, pools close...). API files register them in init.
var exitHooks []func(st *loopState)

func (st *loopState) logf(level errlog.Level, format string, args ...any) {
	l := st.cycle.Log
	if l == nil {
		// init_by_lua runs while the configuration is read, before the
		// cycle's own log opens: nginx's messages then go to the log it
		// started with.
		l = st.cycle.StartLog
	}
	if !l.Enabled(level) {
		return
	}
	loop := 0
	if st.ls != nil {
		loop = st.ls.Loop().ID()
	}
	l.Printf(level, errlog.Entry{Loop: loop}, format, args...)
}

// checkInit validates init_by_lua at configuration time (so that -t and a
// reload report its errors as nginx does) in a VM of its own.
func checkInit(cf *http.Conf, m *MainConf) error {
	if m.Init == nil {
		return nil
	}
	st, err := newLoopState(cf.Cycle, m, nil)
	if err != nil {
		return err
	}
	if err := st.runInit(m.Init); err != nil {
		st.vm.Close()
		return err
	}
	// loop 0 adopts this VM (see initLoop).
	m.initState = st
	return nil
}

// adoptHooks run when a loop takes over the configuration-time VM (API
// files that need the loop register them in init).
var adoptHooks []func(st *loopState)

// nameCache remembers what was made from the last names seen, by where
// the names' bytes are: the names are mostly the Lua code's constants, the
// same strings request after request. An entry keeps its name, so a name
// found is the name it was made from.
type nameCache[V any] [16]struct {
	name string
	v    V
}

// get returns what make makes of name, made again when valid (if given)
// rejects what was remembered.
func (c *nameCache[V]) get(name string, valid func(V) bool, make func(string) V) V {
	e := &c[uintptr(unsafe.Pointer(unsafe.StringData(name)))>>4%uintptr(len(c))]
	if e.name != name || valid != nil && !valid(e.v) {
		e.name, e.v = name, make(name)
	}
	return e.v
}
