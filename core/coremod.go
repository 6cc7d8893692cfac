package core

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gresty/conf"
	"gresty/errlog"
)

// Built-in paths, as nginx's configure-time defaults. The -V output prints
// them in configure-argument form.
const (
	DefaultPrefix   = "/usr/share/gresty/"
	DefaultConfPath = "/etc/gresty/nginx.conf"
	DefaultPidPath  = "/run/gresty.pid"
	DefaultErrorLog = "stderr"
	DefaultUser     = "nobody"
)

// CoreConf is the main context's configuration (ngx_core_conf_t).
type CoreConf struct {
	Daemon          Value[bool]
	MasterProcess   Value[bool]
	TimerResolution Value[time.Duration]
	ShutdownTimeout Value[time.Duration]
	Pid             Value[string]
	LockFile        Value[string]
	WorkerProcesses Value[int]
	WorkerPriority  Value[int]
	RlimitNofile    Value[int]
	RlimitCore      Value[int64]
	WorkingDir      Value[string]
	DebugPoints     Value[string]
	User            Value[string]
	Group           string
	// CPUAffinityAuto and CPUAffinity (one CPU set per worker) come from
	// worker_cpu_affinity.
	CPUAffinityAuto bool
	CPUAffinity     [][]int
	// Env lists the env directives: NAME keeps the variable, NAME=VALUE
	// sets it.
	Env []string
	// PCREJIT is accepted for compatibility; the regex engine has no JIT.
	PCREJIT Value[bool]
	// ThreadPools are the thread_pool directives by name.
	ThreadPools map[string]*ThreadPool
}

// ThreadPool is one thread_pool: at most Threads tasks run at once, and
// at most MaxQueue wait for a thread (nginx's ngx_thread_pool_t). Each
// loop has pools of its own, as each nginx worker process has.
type ThreadPool struct {
	Name     string
	Threads  int
	MaxQueue int
}

// CoreModule is nginx's ngx_core_module plus the main-level directives of
// ngx_regex_module and ngx_thread_pool_module, which have no separate
// behaviour here.
var CoreModule = &Module{
	Name: "ngx_core_module",
	Type: CoreType,
	Directives: []Directive{
		FlagSlot("daemon", MainCtx, MainLevel, func(c *CoreConf) *Value[bool] { return &c.Daemon }, true),
		FlagSlot("master_process", MainCtx, MainLevel, func(c *CoreConf) *Value[bool] { return &c.MasterProcess }, true),
		MsecSlot("timer_resolution", MainCtx, MainLevel, func(c *CoreConf) *Value[time.Duration] { return &c.TimerResolution }, 0),
		StrSlot("pid", MainCtx, MainLevel, func(c *CoreConf) *Value[string] { return &c.Pid }, ""),
		StrSlot("lock_file", MainCtx, MainLevel, func(c *CoreConf) *Value[string] { return &c.LockFile }, ""),
		Custom("worker_processes", MainCtx, Take1, MainLevel, setWorkerProcesses, nil),
		Custom("debug_points", MainCtx, Take1, MainLevel, setDebugPoints, nil),
		Custom("user", MainCtx, Take12, MainLevel, setUser, nil),
		Custom("worker_priority", MainCtx, Take1, MainLevel, setPriority, nil),
		Custom("worker_cpu_affinity", MainCtx, OneMore, MainLevel, setCPUAffinity, nil),
		NumSlot("worker_rlimit_nofile", MainCtx, MainLevel, func(c *CoreConf) *Value[int] { return &c.RlimitNofile }, 0),
		OffSlot("worker_rlimit_core", MainCtx, MainLevel, func(c *CoreConf) *Value[int64] { return &c.RlimitCore }, 0),
		MsecSlot("worker_shutdown_timeout", MainCtx, MainLevel, func(c *CoreConf) *Value[time.Duration] { return &c.ShutdownTimeout }, 0),
		StrSlot("working_directory", MainCtx, MainLevel, func(c *CoreConf) *Value[string] { return &c.WorkingDir }, ""),
		Custom("env", MainCtx, Take1, MainLevel, func(p *Parser, d *conf.Directive, c *CoreConf) error {
			c.Env = append(c.Env, d.Args[0])
			return nil
		}, nil),
		Custom("load_module", MainCtx, Take1, MainLevel, setLoadModule, nil),
		FlagSlot("pcre_jit", MainCtx, MainLevel, func(c *CoreConf) *Value[bool] { return &c.PCREJIT }, false),
		Custom("thread_pool", MainCtx, Take23, MainLevel, setThreadPool, nil),
	},
	CreateConf: func(*Cycle) any { return &CoreConf{} },
	InitConf:   initCoreConf,
}

// setThreadPool is ngx_thread_pool: "threads=" is required, "max_queue="
// defaults to 65536, and other parameters are ignored, as nginx does.
func setThreadPool(p *Parser, d *conf.Directive, c *CoreConf) error {
	name := d.Args[0]
	if c.ThreadPools[name] != nil {
		return p.Errorf(d, "duplicate thread pool \"%s\"", name)
	}
	tp := &ThreadPool{Name: name, MaxQueue: 65536}
	for _, a := range d.Args[1:] {
		switch {
		case strings.HasPrefix(a, "threads="):
			n, ok := Atoi(a[len("threads="):])
			if !ok || n == 0 {
				return p.Errorf(d, "invalid threads value \"%s\"", a)
			}
			tp.Threads = n
		case strings.HasPrefix(a, "max_queue="):
			n, ok := Atoi(a[len("max_queue="):])
			if !ok {
				return p.Errorf(d, "invalid max_queue value \"%s\"", a)
			}
			tp.MaxQueue = n
		}
	}
	if tp.Threads == 0 {
		return p.Errorf(d, "\"%s\" must have \"threads\" parameter", d.Name)
	}
	if c.ThreadPools == nil {
		c.ThreadPools = map[string]*ThreadPool{}
	}
	c.ThreadPools[name] = tp
	return nil
}

func setWorkerProcesses(p *Parser, d *conf.Directive, c *CoreConf) error {
	if c.WorkerProcesses.Set {
		return p.Invalid(d, "is duplicate")
	}
	if d.Args[0] == "auto" {
		c.WorkerProcesses = Of(runtime.NumCPU())
		return nil
	}
	n, ok := Atoi(d.Args[0])
	if !ok {
		return p.Invalid(d, "invalid value")
	}
	c.WorkerProcesses = Of(n)
	return nil
}

func setDebugPoints(p *Parser, d *conf.Directive, c *CoreConf) error {
	if c.DebugPoints.Set {
		return p.Invalid(d, "is duplicate")
	}
	if d.Args[0] != "stop" && d.Args[0] != "abort" {
		return p.Errorf(d, "invalid value \"%s\"", d.Args[0])
	}
	c.DebugPoints = Of(d.Args[0])
	return nil
}

// setUser checks the user as nginx does. gresty is one process, so the
// user is never switched: the directive only warns when it cannot apply.
func setUser(p *Parser, d *conf.Directive, c *CoreConf) error {
	if c.User.Set {
		return p.Invalid(d, "is duplicate")
	}
	if os.Geteuid() != 0 {
		p.Warnf(d, "the \"user\" directive makes sense only if the master process runs with super-user privileges, ignored")
		return nil
	}
	if _, err := user.Lookup(d.Args[0]); err != nil {
		return p.Errorf(d, "getpwnam(\"%s\") failed", d.Args[0])
	}
	group := d.Args[0]
	if len(d.Args) == 2 {
		group = d.Args[1]
	}
	if _, err := user.LookupGroup(group); err != nil {
		return p.Errorf(d, "getgrnam(\"%s\") failed", group)
	}
	c.User = Of(d.Args[0])
	c.Group = group
	return nil
}

func setPriority(p *Parser, d *conf.Directive, c *CoreConf) error {
	if c.WorkerPriority.Set {
		return p.Invalid(d, "is duplicate")
	}
	s, neg := d.Args[0], false
	if strings.HasPrefix(s, "-") {
		s, neg = s[1:], true
	} else if strings.HasPrefix(s, "+") {
		s = s[1:]
	}
	n, ok := Atoi(s)
	if !ok {
		return p.Invalid(d, "invalid number")
	}
	if neg {
		n = -n
	}
	c.WorkerPriority = Of(n)
	return nil
}

func setCPUAffinity(p *Parser, d *conf.Directive, c *CoreConf) error {
	if c.CPUAffinityAuto || c.CPUAffinity != nil {
		return p.Invalid(d, "is duplicate")
	}
	args := d.Args
	if args[0] == "auto" {
		if len(args) > 2 {
			return p.Invalid(d, "invalid number of arguments")
		}
		c.CPUAffinityAuto = true
		args = args[1:]
		if len(args) == 0 {
			return nil
		}
	}
	for _, a := range args {
		if len(a) > 64 {
			return p.Errorf(d, "\"worker_cpu_affinity\" supports up to %d CPUs only", 64)
		}
		var cpus []int
		for i := 0; i < len(a); i++ {
			switch a[len(a)-1-i] {
			case '0', ' ':
			case '1':
				cpus = append(cpus, i)
			default:
				return p.Errorf(d, "invalid character \"%c\" in \"worker_cpu_affinity\"", a[len(a)-1-i])
			}
		}
		if c.CPUAffinityAuto {
			c.CPUAffinity = [][]int{cpus}
			return nil
		}
		c.CPUAffinity = append(c.CPUAffinity, cpus)
	}
	return nil
}

// setLoadModule accepts load_module lines for modules gresty has built in,
// so configurations written for a modular nginx (Debian's
// modules-enabled/*.conf) run unchanged. A missing file fails as nginx's
// dlopen does; a module gresty does not have is reported, and its
// directives will then be unknown.
func setLoadModule(p *Parser, d *conf.Directive, c *CoreConf) error {
	path := p.Cycle.FullName(d.Args[0], false)
	if _, err := os.Stat(path); err != nil {
		return p.Errorf(d, "dlopen() \"%s\" failed (%s: cannot open shared object file: No such file or directory)", path, path)
	}
	base := strings.TrimSuffix(filepath.Base(path), ".so")
	if base == "ndk_http_module" || p.reg.Find(base) != nil {
		return nil
	}
	p.Logf(errlog.Notice, d, "module \"%s\" is not built into gresty, load_module ignored", base)
	return nil
}

func initCoreConf(c *Cycle, v any) error {
	cc := v.(*CoreConf)
	var z CoreConf
	MergeValue(&z.Daemon, &cc.Daemon, true)
	MergeValue(&z.MasterProcess, &cc.MasterProcess, true)
	MergeValue(&z.TimerResolution, &cc.TimerResolution, 0)
	MergeValue(&z.ShutdownTimeout, &cc.ShutdownTimeout, 0)
	MergeValue(&z.WorkerProcesses, &cc.WorkerProcesses, 1)
	MergeValue(&z.Pid, &cc.Pid, DefaultPidPath)
	cc.Pid.V = c.FullName(cc.Pid.V, false)
	if cc.WorkerProcesses.V == 0 {
		// nginx accepts 0 and then runs no workers with a master; with
		// one process there must be at least one loop.
		cc.WorkerProcesses.V = 1
	}
	if !cc.CPUAffinityAuto && len(cc.CPUAffinity) > 1 && len(cc.CPUAffinity) != cc.WorkerProcesses.V {
		c.StartLog.Logf(errlog.Warn, "the number of \"worker_processes\" is not equal to the number of \"worker_cpu_affinity\" masks, using last mask for remaining worker processes")
	}
	return nil
}

// ErrlogModule is ngx_errlog_module: the main-level error_log directive.
var ErrlogModule = &Module{
	Name: "ngx_errlog_module",
	Type: CoreType,
	Directives: []Directive{{
		Name: "error_log", Ctx: MainCtx, Args: OneMore, Level: MainLevel,
		Set: func(p *Parser, d *conf.Directive, _ any) error {
			s, err := p.ErrorLogSink(d)
			if err != nil {
				return err
			}
			p.Cycle.AddErrorLog(s)
			return nil
		},
	}},
}

// ErrorLogSink parses an error_log directive (file, then levels) as
// ngx_log_set_log and opens its file. The http package uses it for
// error_log in http, server and location.
func (p *Parser) ErrorLogSink(d *conf.Directive) (errlog.Sink, error) {
	name := d.Args[0]
	switch {
	case strings.HasPrefix(name, "memory:"):
		return errlog.Sink{}, p.Errorf(d, "nginx was built without debug support")
	}
	level := errlog.Level(0)
	if len(d.Args) == 1 {
		level = errlog.Error
	}
	for _, a := range d.Args[1:] {
		if l, ok := errlog.ParseLevel(a); ok && l != errlog.Stderr {
			if level != 0 {
				return errlog.Sink{}, p.Errorf(d, "duplicate log level \"%s\"", a)
			}
			level = l
			continue
		}
		if isDebugLevel(a) {
			// debug_core, debug_http...: gresty's debug output is not
			// split by subsystem; a debug subsystem means debug.
			if level != 0 && level != errlog.Debug {
				return errlog.Sink{}, p.Errorf(d, "invalid log level \"%s\"", a)
			}
			level = errlog.Debug
			continue
		}
		return errlog.Sink{}, p.Errorf(d, "invalid log level \"%s\"", a)
	}
	if args, ok := strings.CutPrefix(name, "syslog:"); ok {
		f, err := p.Cycle.Files.OpenSyslog(args)
		if err != nil {
			return errlog.Sink{}, p.Errorf(d, "%s", err)
		}
		return errlog.Sink{File: f, Level: level}, nil
	}
	path := name
	if name != "stderr" {
		path = p.Cycle.FullName(name, false)
	} else {
		p.Cycle.LogUseStderr = true
	}
	f, err := p.Cycle.Files.Open(path)
	if err != nil {
		return errlog.Sink{}, &Error{Msg: err.Error()}
	}
	return errlog.Sink{File: f, Level: level}, nil
}

func isDebugLevel(s string) bool {
	switch s {
	case "debug_core", "debug_alloc", "debug_mutex", "debug_event", "debug_http", "debug_mail", "debug_stream":
		return true
	}
	return false
}

// EventsConf is the events block's configuration (ngx_event_conf_t).
type EventsConf struct {
	Connections    Value[int]
	Use            Value[string]
	MultiAccept    Value[bool]
	AcceptMutex    Value[bool]
	AcceptMutexDly Value[time.Duration]
	DebugConn      []string
	EpollEvents    Value[int]
	AioRequests    Value[int]

	present bool
}

// EventsModule is ngx_events_module with ngx_event_core_module's and
// ngx_epoll_module's directives.
var EventsModule = &Module{
	Name: "ngx_events_module",
	Type: CoreType,
	Directives: []Directive{{
		Name: "events", Ctx: MainCtx, Args: Block | NoArgs, Level: MainLevel,
		Set: func(p *Parser, d *conf.Directive, c any) error {
			ec := c.(*EventsConf)
			if ec.present {
				return p.Invalid(d, "is duplicate")
			}
			ec.present = true
			return p.Block(d, EventType, EventsCtx, eventsCtx{ec})
		},
	}},
	CreateConf: func(*Cycle) any { return &EventsConf{} },
	InitConf: func(c *Cycle, v any) error {
		ec := v.(*EventsConf)
		if !ec.present {
			return &Error{Msg: "no \"events\" section in configuration"}
		}
		var z EventsConf
		MergeValue(&z.Connections, &ec.Connections, 512)
		MergeValue(&z.Use, &ec.Use, "epoll")
		MergeValue(&z.MultiAccept, &ec.MultiAccept, false)
		MergeValue(&z.AcceptMutex, &ec.AcceptMutex, false)
		return nil
	},
}

type eventsCtx struct{ ec *EventsConf }

func (e eventsCtx) ConfFor(*Module, Level) any { return e.ec }

// EventCoreModule holds the directives of the events block.
var EventCoreModule = &Module{
	Name: "ngx_event_core_module",
	Type: EventType,
	Directives: []Directive{
		Custom("worker_connections", EventsCtx, Take1, MainLevel, func(p *Parser, d *conf.Directive, c *EventsConf) error {
			if c.Connections.Set {
				return p.Invalid(d, "is duplicate")
			}
			n, ok := Atoi(d.Args[0])
			if !ok {
				return p.Errorf(d, "invalid number \"%s\"", d.Args[0])
			}
			c.Connections = Of(n)
			return nil
		}, nil),
		Custom("use", EventsCtx, Take1, MainLevel, func(p *Parser, d *conf.Directive, c *EventsConf) error {
			if c.Use.Set {
				return p.Invalid(d, "is duplicate")
			}
			switch d.Args[0] {
			case "epoll":
			case "poll", "select":
				p.Logf(errlog.Notice, d, "the \"%s\" event method is served by epoll", d.Args[0])
			default:
				return p.Errorf(d, "invalid event type \"%s\"", d.Args[0])
			}
			c.Use = Of(d.Args[0])
			return nil
		}, nil),
		FlagSlot("multi_accept", EventsCtx, MainLevel, func(c *EventsConf) *Value[bool] { return &c.MultiAccept }, false),
		FlagSlot("accept_mutex", EventsCtx, MainLevel, func(c *EventsConf) *Value[bool] { return &c.AcceptMutex }, false),
		MsecSlot("accept_mutex_delay", EventsCtx, MainLevel, func(c *EventsConf) *Value[time.Duration] { return &c.AcceptMutexDly }, 500*time.Millisecond),
		Custom("debug_connection", EventsCtx, Take1, MainLevel, func(p *Parser, d *conf.Directive, c *EventsConf) error {
			c.DebugConn = append(c.DebugConn, d.Args[0])
			return nil
		}, nil),
		NumSlot("epoll_events", EventsCtx, MainLevel, func(c *EventsConf) *Value[int] { return &c.EpollEvents }, 512),
		NumSlot("worker_aio_requests", EventsCtx, MainLevel, func(c *EventsConf) *Value[int] { return &c.AioRequests }, 32),
	},
}

// ProcessConf returns the core configuration of a built cycle.
func (c *Cycle) ProcessConf() *CoreConf { return c.MainConf(CoreModule).(*CoreConf) }

// Events returns the events configuration of a built cycle.
func (c *Cycle) Events() *EventsConf { return c.MainConf(EventsModule).(*EventsConf) }

// String helps debugging.
func (c *CoreConf) String() string {
	return fmt.Sprintf("daemon=%v master=%v workers=%d pid=%s", c.Daemon.V, c.MasterProcess.V, c.WorkerProcesses.V, c.Pid.V)
}
