package core

import (
	"errors"
	"path/filepath"
	"strings"

	"gresty/conf"
	"gresty/errlog"
)

// Cycle is one configuration of the server, as nginx's ngx_cycle_t: the
// paths it was read from, every module's configuration, the logs it opened.
// A Cycle is built off the loops and never changes afterwards; a reload
// builds a new one.
type Cycle struct {
	Registry *Registry

	// Prefix and ConfPrefix end with "/". ConfFile is absolute.
	Prefix     string
	ConfPrefix string
	ConfFile   string
	ConfParams string

	// Conf is the parsed configuration text, for -T.
	Conf *conf.Config

	// StartLog receives messages while the cycle is built (the -e log and
	// the console); Log is the configured error_log of the main context.
	StartLog *errlog.Log
	Log      *errlog.Log
	Files    *errlog.Files
	// LogHook sees every line the cycle's logs write (set on Log and on
	// the logs of error_log directives below the main context).
	LogHook errlog.Hook
	// DefaultErrorLog is the -e file (or the built-in default), used when
	// the configuration has no error_log.
	DefaultErrorLog string

	// Old is the cycle this one replaces on reload, nil at start-up.
	Old *Cycle
	// Test is set for -t/-T: nothing is opened that a test does not need.
	Test bool
	// LogUseStderr is set when any error_log, at any level, writes to
	// stderr: standard error is then left alone instead of being pointed
	// at the error log file (nginx's cycle->log_use_stderr).
	LogUseStderr bool

	confs []any

	// logSinks collects the main-level error_log directives.
	logSinks []errlog.Sink
}

// ConfFor implements Context for the main level.
func (c *Cycle) ConfFor(m *Module, _ Level) any { return c.confs[m.Index] }

// MainConf returns a core module's configuration.
func (c *Cycle) MainConf(m *Module) any { return c.confs[m.Index] }

// SetMainConf stores a module's main configuration; block directives such
// as http and events create theirs when they are met, as nginx does.
func (c *Cycle) SetMainConf(m *Module, v any) { c.confs[m.Index] = v }

// FullName resolves a path from the configuration as ngx_conf_full_name:
// absolute paths stay, relative ones are taken from the prefix, or from the
// configuration's directory when confPrefix is set.
func (c *Cycle) FullName(name string, confPrefix bool) string {
	if filepath.IsAbs(name) {
		return name
	}
	if confPrefix {
		return c.ConfPrefix + name
	}
	return c.Prefix + name
}

// AddErrorLog adds a main-level error_log sink.
func (c *Cycle) AddErrorLog(s errlog.Sink) { c.logSinks = append(c.logSinks, s) }

// BuildOptions says where a configuration comes from.
type BuildOptions struct {
	Registry *Registry
	// Prefix (with or without trailing "/") and ConfFile (absolute or
	// relative to Prefix).
	Prefix   string
	ConfFile string
	// ConfParams are the -g directives.
	ConfParams string
	// Text, when not nil, is the configuration itself; ConfFile is then
	// only its name (the embedded default configuration).
	Text []byte
	// DefaultErrorLog is the -e value or the built-in default ("stderr"
	// or a path).
	DefaultErrorLog string
	StartLog        *errlog.Log
	Files           *errlog.Files
	Old             *Cycle
	Test            bool
	// ConfOptions are handed to the conf parser.
	ConfOptions conf.Options
}

// Build reads and checks a configuration, as the first half of
// ngx_init_cycle: it parses the -g directives and the file, hands every
// directive to its module, and runs the core modules' init hooks. The
// returned error is nginx's text; the caller prints it after "[emerg]".
func Build(o BuildOptions) (*Cycle, error) {
	c := &Cycle{
		Registry:        o.Registry,
		Prefix:          withSlash(o.Prefix),
		ConfParams:      o.ConfParams,
		StartLog:        o.StartLog,
		Files:           o.Files,
		Old:             o.Old,
		Test:            o.Test,
		DefaultErrorLog: o.DefaultErrorLog,
	}
	if c.Files == nil {
		c.Files = errlog.NewFiles()
	}
	c.ConfFile = o.ConfFile
	if !filepath.IsAbs(c.ConfFile) {
		c.ConfFile = c.Prefix + c.ConfFile
	}
	c.ConfPrefix = withSlash(filepath.Dir(c.ConfFile))

	c.confs = make([]any, len(o.Registry.Modules))
	for _, m := range o.Registry.Modules {
		if m.Type == CoreType && m.CreateConf != nil {
			c.confs[m.Index] = m.CreateConf(c)
		}
	}

	p := &Parser{Cycle: c, reg: o.Registry, modType: CoreType, ctxBits: MainCtx, ctx: c}

	if o.ConfParams != "" {
		params, err := conf.ParseCommandLine(o.ConfParams, o.ConfOptions)
		if err != nil {
			return nil, convertErr(err)
		}
		if err := p.list(params.Main, false); err != nil {
			return nil, err
		}
	}

	var cf *conf.Config
	var perr error
	if o.Text != nil {
		cf, perr = conf.ParseBytes(c.ConfFile, o.Text, o.ConfOptions)
	} else {
		cf, perr = conf.ParseFile(c.ConfFile, o.ConfOptions)
	}
	if cf == nil {
		return nil, convertErr(perr)
	}
	c.Conf = cf
	p.synErr = convertErr(perr)
	if err := p.list(cf.Main, perr != nil); err != nil {
		return nil, err
	}

	for _, m := range o.Registry.Modules {
		if m.Type == CoreType && m.InitConf != nil {
			if err := m.InitConf(c, c.confs[m.Index]); err != nil {
				return nil, err
			}
		}
	}
	if err := c.openErrorLog(); err != nil {
		return nil, err
	}
	return c, nil
}

// openErrorLog builds the cycle's error log from the main-level error_log
// directives, falling back to the default log at level error as
// ngx_log_open_default does.
func (c *Cycle) openErrorLog() error {
	sinks := c.logSinks
	// Logs that only go to syslog servers still get the default file
	// (at level error), as nginx keeps one log that is a file.
	hasFile := false
	for _, s := range sinks {
		if !s.File.IsSyslog() {
			hasFile = true
		}
	}
	if !hasFile {
		f, err := c.Files.Open(c.defaultErrorLogPath())
		if err != nil {
			return err
		}
		sinks = append(sinks, errlog.Sink{File: f, Level: errlog.Error})
	}
	c.Log = errlog.New(c.StartLog.Console(), sinks...)
	c.Log.SetHook(&c.LogHook)
	return nil
}

func (c *Cycle) defaultErrorLogPath() string {
	if c.DefaultErrorLog == "" || c.DefaultErrorLog == "stderr" {
		return "stderr"
	}
	return c.FullName(c.DefaultErrorLog, false)
}

func withSlash(s string) string {
	if s == "" || strings.HasSuffix(s, "/") {
		return s
	}
	return s + "/"
}

func convertErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *conf.Error
	if errors.As(err, &ce) {
		e := &Error{Msg: ce.Msg, File: ce.File, Line: ce.Line, CmdLine: ce.File == "" && !ce.NoLocation}
		if ce.NoLocation {
			e.File = ""
		}
		if ce.Level == "crit" {
			e.Level = errlog.Crit
		}
		return e
	}
	return err
}
