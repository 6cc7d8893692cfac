// Package log is nginx's ngx_http_log_module: log_format, access_log and
// open_log_file_cache. Its log-phase handler writes one line per request
// to each access log of the request's location, in nginx's formats and
// with nginx's escaping.
//
// Files named without variables are opened once per configuration through
// the cycle's file registry, so USR1 reopens them with the error logs.
// Without buffer= a line is one write(2) on an O_APPEND descriptor, done
// before the request is released, so a reader sees it as soon as the
// response is complete. With buffer=, each loop keeps its own buffer per
// file, written out when full, when flush= expires, and when a graceful
// shutdown begins. Files named with variables are opened per request
// through a small per-loop descriptor cache.
//
// Configuration runs on the goroutine that builds the cycle; the handler
// and the buffers belong to the request's loop.
package log

import (
	"strings"
	"sync/atomic"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// DefaultPath is where requests are logged when no access_log applies,
// relative to the prefix (nginx's NGX_HTTP_LOG_PATH as built by default).
const DefaultPath = "logs/access.log"

// Module is ngx_http_log_module.
var Module = &core.Module{
	Name: "ngx_http_log_module",
	Type: core.HTTPType,
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "log_format", Ctx: core.HTTPMain, Args: core.TwoMore, Level: core.MainLevel,
			Set: func(p *core.Parser, d *conf.Directive, c any) error { return setFormat(p, d, c.(*MainConf)) }},
		core.Custom("access_log", core.HTTPMainSrvLoc|core.HTTPLif|core.HTTPLmt, core.OneMore, core.LocLevel, setAccessLog, nil),
		core.Custom("open_log_file_cache", core.HTTPMainSrvLoc, core.Take1234, core.LocLevel, setOpenLogFileCache, nil),
	}
	Module.HTTP = &http.Hooks{
		CreateMainConf:    createMainConf,
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
		InitLoop:          initLoop,
		ExitLoop:          exitLoop,
	}
}

// MainConf holds the log formats of an http block, "combined" first.
type MainConf struct {
	Formats []*Format
	// files are the log files named without variables, by full path:
	// every access_log naming one path shares it (and its buffer).
	files map[string]*logFile
	// order keeps files in the order they were first named.
	order []*logFile
	// defaultLog is the implicit "logs/access.log combined", made once.
	defaultLog *Log
	cf         *http.Conf
	combined   bool
}

// LocConf is the access logs of one level.
type LocConf struct {
	// Logs are the level's access_log entries; nil when the level has
	// none (it inherits) unless Off.
	Logs []*Log
	Off  bool

	// cache is open_log_file_cache for logs named with variables; nil
	// for none. cacheSet tells that the level had the directive.
	cache    *fileCacheConf
	cacheSet bool
}

// fileCacheConf is open_log_file_cache's parameters.
type fileCacheConf struct {
	max      int
	inactive time.Duration
	valid    time.Duration
	minUses  int
}

// Log is one access_log.
type Log struct {
	// file is the file named without variables; path its template when
	// the name has variables.
	file *logFile
	path *http.Template
	// syslog is the destination of a "syslog:" log.
	syslog *errlog.File
	fmt    *Format
	// filter is if=: a line is written unless it evaluates to "" or "0".
	filter *http.Template

	// errorLogTime and diskFullTime are nginx's rate limits: write errors
	// are logged once a minute, and a full disk skips the log for the
	// rest of the second.
	errorLogTime atomic.Int64
	diskFullTime atomic.Int64
}

// logFile is a log file named without variables, shared by every
// access_log naming it, with its buffering parameters.
type logFile struct {
	path string
	file *errlog.File
	// bufSize is buffer= (0: unbuffered), flush flush=, gzip the
	// compression level (0: none).
	bufSize int
	flush   time.Duration
	gzip    int
	// deferred is set for the implicit default log, which -t does not
	// open (see postconfiguration).
	deferred bool
	main     *MainConf
}

func createMainConf(cf *http.Conf) any {
	return &MainConf{
		Formats: []*Format{{Name: "combined"}},
		files:   map[string]*logFile{},
		cf:      cf,
	}
}

func mainConf(p *core.Parser) *MainConf {
	return p.Ext.(*http.Conf).MainConfOf(Module).(*MainConf)
}

func setFormat(p *core.Parser, d *conf.Directive, m *MainConf) error {
	name := d.Args[0]
	for _, f := range m.Formats {
		if f.Name == name {
			return p.Errorf(d, "duplicate \"log_format\" name \"%s\"", name)
		}
	}
	f := &Format{Name: name}
	m.Formats = append(m.Formats, f)
	return compileFormat(p, p.Ext.(*http.Conf), d, f, d.Args[1:])
}

// findFormat looks a format up by name, without case, as nginx does.
func (m *MainConf) findFormat(name string) *Format {
	for _, f := range m.Formats {
		if strings.EqualFold(f.Name, name) {
			return f
		}
	}
	return nil
}

// openFile returns the shared logFile for a path named without variables.
func (m *MainConf) openFile(p *core.Parser, name string) *logFile {
	full := name
	if name != "" {
		full = p.Cycle.FullName(name, false)
	}
	if f := m.files[full]; f != nil && name != "" {
		return f
	}
	f := &logFile{path: full, main: m}
	if name != "" {
		m.files[full] = f
	}
	m.order = append(m.order, f)
	return f
}

func setAccessLog(p *core.Parser, d *conf.Directive, c *LocConf) error {
	args := d.Args
	if args[0] == "off" {
		c.Off = true
		if len(args) == 1 {
			return nil
		}
		return p.Errorf(d, "invalid parameter \"%s\"", args[1])
	}
	m := mainConf(p)
	l := &Log{}
	c.Logs = append(c.Logs, l)
	if strings.HasPrefix(args[0], "syslog:") {
		f, err := p.Cycle.Files.OpenSyslog(args[0][len("syslog:"):])
		if err != nil {
			return p.Errorf(d, "%s", err)
		}
		l.syslog = f
	} else if strings.Contains(args[0], "$") {
		full := p.Cycle.FullName(args[0], false)
		t, err := http.CompileTemplateP(p, full)
		if err != nil {
			return err
		}
		l.path = t
	} else {
		l.file = m.openFile(p, args[0])
	}
	name := "combined"
	if len(args) >= 2 {
		name = args[1]
	}
	l.fmt = m.findFormat(name)
	if l.fmt == nil {
		return p.Errorf(d, "unknown log format \"%s\"", name)
	}
	if l.fmt == m.Formats[0] {
		m.combined = true
	}
	var size int64
	var flush time.Duration
	gzip := 0
	for _, a := range args[min(len(args), 2):] {
		switch {
		case strings.HasPrefix(a, "buffer="):
			n, ok := core.ParseSize(a[7:])
			if !ok || n == 0 {
				return p.Errorf(d, "invalid buffer size \"%s\"", a[7:])
			}
			size = n
		case strings.HasPrefix(a, "flush="):
			ms, ok := core.ParseTime(a[6:], false)
			if !ok || ms == 0 {
				return p.Errorf(d, "invalid flush time \"%s\"", a[6:])
			}
			flush = time.Duration(ms) * time.Millisecond
		case a == "gzip" || strings.HasPrefix(a, "gzip="):
			if size == 0 {
				size = 64 << 10
			}
			if a == "gzip" {
				gzip = 1
				continue
			}
			lv, ok := core.Atoi(a[5:])
			if !ok || lv < 1 || lv > 9 {
				return p.Errorf(d, "invalid compression level \"%s\"", a[5:])
			}
			gzip = lv
		case strings.HasPrefix(a, "if="):
			t, err := http.CompileTemplateP(p, a[3:])
			if err != nil {
				return err
			}
			l.filter = t
		default:
			return p.Errorf(d, "invalid parameter \"%s\"", a)
		}
	}
	if flush > 0 && size == 0 {
		return p.Errorf(d, "no buffer is defined for access_log \"%s\"", args[0])
	}
	if size == 0 {
		return nil
	}
	if l.path != nil {
		return p.Errorf(d, "buffered logs cannot have variables in name")
	}
	if l.syslog != nil {
		return p.Errorf(d, "logs to syslog cannot be buffered")
	}
	f := l.file
	if f.bufSize != 0 {
		if int64(f.bufSize) != size || f.flush != flush || f.gzip != gzip {
			return p.Errorf(d, "access_log \"%s\" already defined with conflicting parameters", args[0])
		}
		return nil
	}
	f.bufSize, f.flush, f.gzip = int(size), flush, gzip
	return nil
}

func setOpenLogFileCache(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.cacheSet {
		return p.Invalid(d, "is duplicate")
	}
	c.cacheSet = true
	fc := &fileCacheConf{inactive: 10 * time.Second, valid: 60 * time.Second, minUses: 1}
	off := false
	for _, a := range d.Args {
		ok := true
		switch {
		case strings.HasPrefix(a, "max="):
			fc.max, ok = core.Atoi(a[4:])
		case strings.HasPrefix(a, "inactive="):
			var s int64
			s, ok = core.ParseTime(a[9:], true)
			fc.inactive = time.Duration(s) * time.Second
		case strings.HasPrefix(a, "min_uses="):
			fc.minUses, ok = core.Atoi(a[9:])
		case strings.HasPrefix(a, "valid="):
			var s int64
			s, ok = core.ParseTime(a[6:], true)
			fc.valid = time.Duration(s) * time.Second
		case a == "off":
			off = true
		default:
			ok = false
		}
		if !ok {
			return p.Errorf(d, "invalid \"open_log_file_cache\" parameter \"%s\"", a)
		}
	}
	if off {
		return nil
	}
	if fc.max == 0 {
		return p.Errorf(d, "\"open_log_file_cache\" must have \"max\" parameter")
	}
	c.cache = fc
	return nil
}

func mergeLocConf(cf *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if !c.cacheSet {
		c.cache, c.cacheSet = p.cache, p.cacheSet
	}
	if c.Logs != nil || c.Off {
		return nil
	}
	c.Logs, c.Off = p.Logs, p.Off
	if c.Logs != nil || c.Off {
		return nil
	}
	m := cf.MainConfOf(Module).(*MainConf)
	if m.defaultLog == nil {
		full := cf.Cycle.FullName(DefaultPath, false)
		f := m.files[full]
		if f == nil {
			f = &logFile{path: full, deferred: true, main: m}
			m.files[full] = f
			m.order = append(m.order, f)
		}
		m.defaultLog = &Log{file: f, fmt: m.Formats[0]}
		m.combined = true
	}
	c.Logs = []*Log{m.defaultLog}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	m := cf.MainConfOf(Module).(*MainConf)
	if m.combined && !m.Formats[0].compiled {
		if err := compileFormat(cf.Parser, cf, cf.Dir, m.Formats[0], []string{combinedText}); err != nil {
			return err
		}
	}
	cf.AddPhaseHandler(http.LogPhase, handler)
	cf.AfterParse(func() error {
		for _, f := range m.order {
			// -t does not open the implicit default log: Debian's nginx
			// would open its own default (/var/log/nginx/access.log)
			// there, so a prefix without logs/ must not fail the test.
			if cf.Cycle.Test && f.deferred {
				continue
			}
			if f.path == "" {
				f.file = cf.Cycle.Files.Stderr()
				continue
			}
			file, err := cf.Cycle.Files.Open(f.path)
			if err != nil {
				return &core.Error{Msg: err.Error()}
			}
			f.file = file
		}
		return nil
	})
	return nil
}
