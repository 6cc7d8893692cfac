// Package lua is ngx_http_lua_module: Lua code in the request phases
// (set_by_lua, rewrite_by_lua, access_by_lua, content_by_lua,
// header_filter_by_lua, body_filter_by_lua, log_by_lua), in upstream
// blocks (balancer_by_lua), at start-up
// (init_by_lua, init_worker_by_lua, exit_worker_by_lua), and the ngx.* API
// they call. It runs on gresty's Lua runtime (package luavm): one VM per
// event loop and configuration, request code in pooled threads that
// suspend while they wait and are resumed by the loop.
//
// Configuration code runs on the goroutine that builds the cycle; a VM and
// everything that touches it runs on its loop's goroutine.
package lua

import (
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/lua/shdict"
)

// Phase identifies where Lua code runs, as ngx_lua's NGX_HTTP_LUA_CONTEXT_*
// bits: the API checks it.
type Phase uint16

// The phases.
const (
	PhaseSet Phase = 1 << iota
	PhaseRewrite
	PhaseServerRewrite
	PhaseAccess
	PhaseContent
	PhaseLog
	PhaseHeaderFilter
	PhaseBodyFilter
	PhaseTimer
	PhaseInitWorker
	PhaseExitWorker
	PhaseInit
	PhaseBalancer

	// PhasesYieldable are where a request thread may wait.
	PhasesYieldable = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent | PhaseTimer
	// PhasesRequest are the phases that have a request.
	PhasesRequest = PhaseSet | PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent |
		PhaseLog | PhaseHeaderFilter | PhaseBodyFilter | PhaseTimer
)

// Name returns the phase as ngx.get_phase() names it.
func (p Phase) Name() string {
	switch p {
	case PhaseSet:
		return "set"
	case PhaseRewrite:
		return "rewrite"
	case PhaseServerRewrite:
		return "server_rewrite"
	case PhaseAccess:
		return "access"
	case PhaseContent:
		return "content"
	case PhaseLog:
		return "log"
	case PhaseHeaderFilter:
		return "header_filter"
	case PhaseBodyFilter:
		return "body_filter"
	case PhaseTimer:
		return "timer"
	case PhaseInitWorker:
		return "init_worker"
	case PhaseExitWorker:
		return "exit_worker"
	case PhaseInit:
		return "init"
	case PhaseBalancer:
		return "balancer"
	}
	return "unknown"
}

// directiveName returns "content_by_lua*" and friends, as API errors
// print the phase ("API disabled in the context of log_by_lua*").
func (p Phase) directiveName() string {
	return p.Name() + "_by_lua*"
}

// Handler is one piece of Lua code of a directive: inline source or a
// file, compiled once per VM (or per request with lua_code_cache off).
type Handler struct {
	// Src is the inline source; File the path of a *_by_lua_file (may
	// hold variables, then FileTpl is set).
	Src     string
	File    string
	FileTpl *http.Template
	// Chunk is the chunk name ("content_by_lua(nginx.conf:12)").
	Chunk string
	// key is ngx_lua's code cache key: the directive family and a digest
	// of the code, or a digest of the file name as written. Handlers with
	// the same key run the chunk compiled for whichever of them ran
	// first, chunk name included.
	key   string
	Phase Phase
	// Args are set_by_lua's extra arguments.
	Args []*http.Template
	// Var is set_by_lua's target variable index.
	Var int
	id  int
}

// MainConf is the http-level configuration (ngx_http_lua_main_conf_t).
type MainConf struct {
	// initState is the VM that ran init_by_lua at configuration time,
	// until loop 0 takes it over.
	initState *loopState

	PackagePath          core.Value[string]
	PackageCPath         core.Value[string]
	Init                 *Handler
	InitWorker           *Handler
	ExitWorker           *Handler
	MaxPendingTimers     core.Value[int]
	MaxRunningTimers     core.Value[int]
	RegexCacheMaxEntries core.Value[int]
	RegexMatchLimit      core.Value[int]
	MaxRunningTime       core.Value[time.Duration]
	// capture is lua_capture_error_log's buffer, nil without it.
	capture *logRing
	// WorkerThreadVMPoolSize bounds each loop's worker-thread VMs.
	WorkerThreadVMPoolSize core.Value[int]
	SharedDicts            []*SharedDictConf
	// handlers counts the handlers so each gets an id for the per-VM
	// compile cache.
	handlers   []*Handler
	prefix     string
	confPrefix string
	// vms counts the loops' VMs serving the configuration, for VMs.
	vms atomic.Int32
}

// VMs returns how many Lua VMs (one per loop) serve the configuration
// now. Any goroutine.
func (m *MainConf) VMs() int { return int(m.vms.Load()) }

// SharedDictUsage calls f with each lua_shared_dict of the configuration,
// its size and its free space as free_space() reports it. Any goroutine.
func (m *MainConf) SharedDictUsage(f func(name string, capacity, free int64)) {
	for _, sd := range m.SharedDicts {
		f(sd.Name, sd.Zone.Capacity(), sd.Zone.FreeSpace())
	}
}

// SharedDictConf is one lua_shared_dict.
type SharedDictConf struct {
	Name string
	Size int64
	// Zone is the dict, shared by every loop (see shdict.Acquire).
	Zone *shdict.Zone
}

// LocConf is a location's configuration (ngx_http_lua_loc_conf_t).
type LocConf struct {
	Rewrite       *Handler
	ServerRewrite *Handler
	Access        *Handler
	Content       *Handler
	Log           *Handler
	HeaderFilter  *Handler
	BodyFilter    *Handler
	// contentInherited marks Content taken from the enclosing level: the
	// code serves a request only when the enclosing location's handler
	// still applies (an if block), as ngx_lua's content_src is inherited
	// but the core's handler is not.
	contentInherited bool

	CodeCache            core.Value[bool]
	NeedRequestBody      core.Value[bool]
	UseDefaultType       core.Value[bool]
	TransformUnderscores core.Value[bool]
	CheckClientAbort     core.Value[bool]
	HTTP10Buffering      core.Value[bool]
	RewriteNoPostpone    core.Value[bool]
	AccessNoPostpone     core.Value[bool]

	SocketConnectTimeout   core.Value[time.Duration]
	SocketSendTimeout      core.Value[time.Duration]
	SocketReadTimeout      core.Value[time.Duration]
	SocketKeepaliveTimeout core.Value[time.Duration]
	SocketPoolSize         core.Value[int]
	SocketBufferSize       core.Value[int64]
	SocketSendLowat        core.Value[int64]
	SocketLogErrors        core.Value[bool]
}

// Module is ngx_http_lua_module.
var Module = &core.Module{
	Name:      "ngx_http_lua_module",
	Type:      core.HTTPType,
	Configure: "--add-module=ngx_devel_kit --add-module=lua-nginx-module",
}

const anyLoc = core.HTTPMainSrvLoc | core.HTTPSif | core.HTTPLif

func init() {
	type mc = MainConf
	type lc = LocConf
	ds := []core.Directive{
		core.StrSlot("lua_package_path", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[string] { return &c.PackagePath }, ""),
		core.StrSlot("lua_package_cpath", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[string] { return &c.PackageCPath }, ""),
		core.NumSlot("lua_max_pending_timers", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.MaxPendingTimers }, 1024),
		core.NumSlot("lua_max_running_timers", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.MaxRunningTimers }, 256),
		core.NumSlot("lua_regex_cache_max_entries", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.RegexCacheMaxEntries }, 1024),
		core.NumSlot("lua_regex_match_limit", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.RegexMatchLimit }, 0),
		core.MsecSlot("lua_max_running_time", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[time.Duration] { return &c.MaxRunningTime }, 0),
		core.NumSlot("lua_worker_thread_vm_pool_size", core.HTTPMain, core.MainLevel, func(c *mc) *core.Value[int] { return &c.WorkerThreadVMPoolSize }, 100),
		codeCacheDirective(),
		core.FlagSlot("lua_need_request_body", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.NeedRequestBody }, false),
		core.FlagSlot("lua_use_default_type", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.UseDefaultType }, true),
		core.FlagSlot("lua_transform_underscores_in_response_headers", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.TransformUnderscores }, true),
		core.FlagSlot("lua_check_client_abort", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.CheckClientAbort }, false),
		core.FlagSlot("lua_http10_buffering", core.HTTPMainSrvLoc|core.HTTPLif, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.HTTP10Buffering }, true),
		core.FlagSlot("rewrite_by_lua_no_postpone", core.HTTPMain, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.RewriteNoPostpone }, false),
		core.FlagSlot("access_by_lua_no_postpone", core.HTTPMain, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.AccessNoPostpone }, false),
		core.MsecSlot("lua_socket_connect_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.SocketConnectTimeout }, 60*time.Second),
		core.MsecSlot("lua_socket_send_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.SocketSendTimeout }, 60*time.Second),
		core.MsecSlot("lua_socket_read_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.SocketReadTimeout }, 60*time.Second),
		core.MsecSlot("lua_socket_keepalive_timeout", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[time.Duration] { return &c.SocketKeepaliveTimeout }, 60*time.Second),
		core.NumSlot("lua_socket_pool_size", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.SocketPoolSize }, 30),
		core.SizeSlot("lua_socket_buffer_size", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.SocketBufferSize }, 4096),
		core.LowatSlot("lua_socket_send_lowat", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.SocketSendLowat }, "lua_send_lowat"),
		core.FlagSlot("lua_socket_log_errors", core.HTTPMainSrvLoc, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.SocketLogErrors }, true),
		{Name: "lua_shared_dict", Ctx: core.HTTPMain, Args: core.Take2, Level: core.MainLevel, Set: setSharedDict},
		{Name: "lua_capture_error_log", Ctx: core.HTTPMain, Args: core.Take1, Level: core.MainLevel, Set: setCaptureErrorLog},
		{Name: "lua_load_resty_core", Ctx: core.HTTPMain, Args: core.Flag, Level: core.MainLevel, Set: func(p *core.Parser, d *conf.Directive, _ any) error {
			// resty.core is built in; nginx 1.22's ngx_lua warns the
			// directive is obsolete.
			p.Warnf(d, "lua_load_resty_core is deprecated (the lua-resty-core library is required since ngx_lua v0.10.16)")
			return nil
		}},
	}
	// the *_by_lua families: string, _block and _file forms.
	type hf struct {
		base  string
		ctx   core.Ctx
		phase Phase
		main  bool
		field func(mc *MainConf, lc *LocConf) **Handler
	}
	families := []hf{
		{"init_by_lua", core.HTTPMain, PhaseInit, true, func(m *MainConf, _ *LocConf) **Handler { return &m.Init }},
		{"init_worker_by_lua", core.HTTPMain, PhaseInitWorker, true, func(m *MainConf, _ *LocConf) **Handler { return &m.InitWorker }},
		{"exit_worker_by_lua", core.HTTPMain, PhaseExitWorker, true, func(m *MainConf, _ *LocConf) **Handler { return &m.ExitWorker }},
		{"server_rewrite_by_lua", core.HTTPMain | core.HTTPSrv, PhaseServerRewrite, false, func(_ *MainConf, l *LocConf) **Handler { return &l.ServerRewrite }},
		{"rewrite_by_lua", anyLoc, PhaseRewrite, false, func(_ *MainConf, l *LocConf) **Handler { return &l.Rewrite }},
		{"access_by_lua", core.HTTPMainSrvLoc | core.HTTPLif, PhaseAccess, false, func(_ *MainConf, l *LocConf) **Handler { return &l.Access }},
		{"content_by_lua", core.HTTPLoc | core.HTTPLif, PhaseContent, false, func(_ *MainConf, l *LocConf) **Handler { return &l.Content }},
		{"log_by_lua", core.HTTPMainSrvLoc | core.HTTPLif, PhaseLog, false, func(_ *MainConf, l *LocConf) **Handler { return &l.Log }},
		{"header_filter_by_lua", core.HTTPMainSrvLoc | core.HTTPLif, PhaseHeaderFilter, false, func(_ *MainConf, l *LocConf) **Handler { return &l.HeaderFilter }},
		{"body_filter_by_lua", core.HTTPMainSrvLoc | core.HTTPLif, PhaseBodyFilter, false, func(_ *MainConf, l *LocConf) **Handler { return &l.BodyFilter }},
	}
	for _, f := range families {
		f := f
		level := core.LocLevel
		if f.main {
			level = core.MainLevel
		}
		set := func(form string) func(p *core.Parser, d *conf.Directive, c any) error {
			return func(p *core.Parser, d *conf.Directive, c any) error {
				cf := p.Ext.(*http.Conf)
				m := mainConf(cf)
				var slot **Handler
				if f.main {
					slot = f.field(m, nil)
				} else {
					slot = f.field(nil, c.(*LocConf))
				}
				if *slot != nil {
					return p.Invalid(d, "is duplicate")
				}
				h, err := newHandler(p, cf, d, form, f.base, f.phase)
				if err != nil {
					return err
				}
				*slot = h
				return nil
			}
		}
		if f.base != "exit_worker_by_lua" && f.base != "server_rewrite_by_lua" {
			ds = append(ds, core.Directive{Name: f.base, Ctx: f.ctx, Args: core.Take1, Level: level, Set: set("string")})
		}
		ds = append(ds,
			core.Directive{Name: f.base + "_block", Ctx: f.ctx, Args: core.Block | core.NoArgs, Level: level, Set: set("block")},
			core.Directive{Name: f.base + "_file", Ctx: f.ctx, Args: core.Take1, Level: level, Set: set("file")},
		)
	}
	ds = append(ds,
		core.Directive{Name: "set_by_lua", Ctx: core.HTTPSrv | core.HTTPSif | core.HTTPLoc | core.HTTPLif, Args: core.TwoMore, Level: core.LocLevel, Set: setByLua("string")},
		core.Directive{Name: "set_by_lua_block", Ctx: core.HTTPSrv | core.HTTPSif | core.HTTPLoc | core.HTTPLif, Args: core.Block | core.Take1, Level: core.LocLevel, Set: setByLua("block")},
		core.Directive{Name: "set_by_lua_file", Ctx: core.HTTPSrv | core.HTTPSif | core.HTTPLoc | core.HTTPLif, Args: core.TwoMore, Level: core.LocLevel, Set: setByLua("file")},
	)
	ds = append(ds, balancerDirectives()...)
	Module.Directives = ds
	Module.HTTP = &http.Hooks{
		CreateMainConf:    func(cf *http.Conf) any { return &MainConf{} },
		InitMainConf:      initMainConf,
		CreateLocConf:     func(cf *http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
		InitLoop:          initLoop,
		ExitLoop:          exitLoop,
	}
}

func mainConf(cf *http.Conf) *MainConf {
	for _, m := range cf.Modules() {
		if m == Module {
			return cf.MainConfOf(Module).(*MainConf)
		}
	}
	return nil
}

func initMainConf(cf *http.Conf, c any) error {
	m := c.(*MainConf)
	var z MainConf
	core.MergeValue(&z.PackagePath, &m.PackagePath, "")
	core.MergeValue(&z.PackageCPath, &m.PackageCPath, "")
	core.MergeValue(&z.MaxPendingTimers, &m.MaxPendingTimers, 1024)
	core.MergeValue(&z.MaxRunningTimers, &m.MaxRunningTimers, 256)
	core.MergeValue(&z.RegexCacheMaxEntries, &m.RegexCacheMaxEntries, 1024)
	core.MergeValue(&z.WorkerThreadVMPoolSize, &m.WorkerThreadVMPoolSize, 100)
	m.prefix = cf.Cycle.Prefix
	m.confPrefix = cf.Cycle.ConfPrefix
	return nil
}

func mergeLocConf(cf *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	inherit := func(dst **Handler, src *Handler) {
		if *dst == nil {
			*dst = src
		}
	}
	inherit(&c.Rewrite, p.Rewrite)
	inherit(&c.ServerRewrite, p.ServerRewrite)
	inherit(&c.Access, p.Access)
	inherit(&c.Log, p.Log)
	if c.Content == nil && p.Content != nil {
		c.Content, c.contentInherited = p.Content, true
	}
	inherit(&c.HeaderFilter, p.HeaderFilter)
	inherit(&c.BodyFilter, p.BodyFilter)
	return nil
}

// newHandler reads a *_by_lua directive's code.
func newHandler(p *core.Parser, cf *http.Conf, d *conf.Directive, form, base string, phase Phase) (*Handler, error) {
	m := mainConf(cf)
	h := &Handler{Phase: phase, id: len(m.handlers)}
	args := d.HeadArgs()
	if phase == PhaseSet && form != "block" {
		// set_by_lua $var CODE [args...]: the code is the second
		// argument.
		args = args[:2]
	}
	switch form {
	case "block":
		h.Src = d.Args[len(d.Args)-1]
		h.Chunk = chunkName(p, d, base, d.LuaLine)
	case "string":
		h.Src = args[len(args)-1]
		h.Chunk = chunkName(p, d, base, 0)
	case "file":
		path := args[len(args)-1]
		if strings.Contains(path, "$") {
			t, err := http.CompileTemplateP(p, path)
			if err != nil {
				return nil, err
			}
			h.FileTpl = t
		} else {
			path = p.Cycle.FullName(path, false)
		}
		h.File = path
		h.Chunk = path
	}
	if form != "file" {
		h.key = inlineCacheKey(base, h.Src)
	} else if h.FileTpl == nil {
		h.key = fileCacheKey(args[len(args)-1])
	}
	if form != "file" && strings.TrimSpace(h.Src) == "" && phase != PhaseInit {
		if h.Src == "" {
			return nil, p.Errorf(d, "invalid location config: no runnable Lua code")
		}
	}
	m.handlers = append(m.handlers, h)
	return h, nil
}

// chunkName is ngx_lua's chunk name for inline code: the directive family
// with the file name (its tail when it is nginx.conf or under the
// configuration's directory) and the line where the code starts: the
// line of "{" for a block, else the directive's line.
func chunkName(p *core.Parser, d *conf.Directive, base string, line int) string {
	if line == 0 {
		line = d.EndLine
		if line == 0 {
			line = d.Line
		}
	}
	file := d.File
	switch {
	case strings.HasSuffix(file, "/nginx.conf"):
		file = "nginx.conf"
	case strings.HasPrefix(file, p.Cycle.ConfPrefix) && len(file) > len(p.Cycle.ConfPrefix):
		file = file[len(p.Cycle.ConfPrefix):]
	}
	// LJ_CHUNKNAME_MAX_LEN in ngx_lua.
	const maxLen = 56
	reserve := len(base) + len(strconv.Itoa(line))
	if len(file)+reserve > maxLen {
		file = "..." + file[len(file)-(maxLen-reserve-3):]
	}
	return base + "(" + file + ":" + strconv.Itoa(line) + ")"
}

func setSharedDict(p *core.Parser, d *conf.Directive, _ any) error {
	cf := p.Ext.(*http.Conf)
	m := mainConf(cf)
	name, size := d.Args[0], d.Args[1]
	if name == "" {
		return p.Errorf(d, "invalid lua shared dict name \"%s\"", name)
	}
	n, ok := core.ParseSize(size)
	if !ok || n <= 8191 {
		return p.Errorf(d, "invalid lua shared dict size \"%s\"", size)
	}
	for _, sd := range m.SharedDicts {
		if sd.Name == name {
			if sd.Size != n {
				// ngx_shared_memory_add's check comes first.
				return p.Errorf(d, "the size %d of shared memory zone \"%s\" conflicts with already declared size %d", n, name, sd.Size)
			}
			return p.Errorf(d, "lua_shared_dict \"%s\" is already defined as \"%s\"", name, sd.Name)
		}
	}
	z := shdict.Acquire(name, n)
	m.SharedDicts = append(m.SharedDicts, &SharedDictConf{Name: name, Size: n, Zone: z})
	if err := z.InitErr(); err != nil {
		// nginx sets zones up after parsing, and fails without a location.
		cf.AfterParse(func() error { return &core.Error{Msg: err.Error(), Level: errlog.Crit} })
	}
	return nil
}

// setByLua is set_by_lua[_block|_file] $var [args...]: a step of the
// rewrite module's script.
func setByLua(form string) func(p *core.Parser, d *conf.Directive, c any) error {
	return func(p *core.Parser, d *conf.Directive, c any) error {
		cf := p.Ext.(*http.Conf)
		args := d.HeadArgs()
		name := args[0]
		if !strings.HasPrefix(name, "$") {
			return p.Errorf(d, "invalid variable name \"%s\"", name)
		}
		base := "set_by_lua"
		h, err := newHandler(p, cf, d, form, base, PhaseSet)
		if err != nil {
			return err
		}
		rest := args[1:]
		if form != "block" {
			rest = args[2:]
		}
		for _, a := range rest {
			t, err := http.CompileTemplateP(p, a)
			if err != nil {
				return err
			}
			h.Args = append(h.Args, t)
		}
		return addSetStep(p, d, cf, name[1:], h)
	}
}

func isAbs(p string) bool { return filepath.IsAbs(p) }
