// Command gresty is OpenResty rebuilt in Go: a drop-in replacement for the
// nginx binary that reads nginx.conf, speaks nginx's command line and
// serves HTTP on per-CPU event loops.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/modules"
)

const prog = "gresty"

func main() {
	os.Exit(run(os.Args[1:]))
}

// startup holds what the command line and the environment decided before
// any configuration is read.
type startup struct {
	o        *options
	prefix   string
	confFile string
	embedded bool
	errorLog string
	console  *errlog.Console
	files    *errlog.Files
	log      *errlog.Log
	reg      *core.Registry
}

func run(args []string) int {
	o, ok := parseOptions(args, os.Stderr, prog)
	if !ok {
		return 1
	}
	reg := modules.Registry()
	if o.version {
		showVersion(os.Stderr, o, reg)
		if !o.test {
			return 0
		}
	}
	st, err := newStartup(o, reg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: [emerg] %s\n", prog, err)
		return 1
	}
	if o.signal != "" {
		return st.sendSignal()
	}
	if o.test {
		return st.test()
	}
	return st.serve()
}

func newStartup(o *options, reg *core.Registry) (*startup, error) {
	st := &startup{o: o, reg: reg, console: errlog.NewConsole(prog), files: errlog.NewFiles()}
	st.prefix = core.DefaultPrefix
	if o.prefixSet {
		st.prefix = o.prefix
		if st.prefix != "" && !strings.HasSuffix(st.prefix, "/") {
			st.prefix += "/"
		}
		if st.prefix == "" {
			wd, err := os.Getwd()
			if err != nil {
				return nil, err
			}
			st.prefix = wd + "/"
		}
	}
	st.confFile = o.confFile
	if st.confFile == "" {
		st.confFile = core.DefaultConfPath
		if _, err := os.Stat(st.confFile); errors.Is(err, os.ErrNotExist) && o.signal == "" {
			st.embedded = true
			if !o.prefixSet {
				st.prefix = runtimePrefix()
			}
		}
	}
	if !filepath.IsAbs(st.confFile) {
		st.confFile = st.prefix + st.confFile
	}
	st.errorLog = core.DefaultErrorLog
	if o.errorLogSet {
		st.errorLog = o.errorLog
	}
	st.log = st.openStartLog()
	return st, nil
}

// runtimePrefix is where the embedded configuration keeps its pid file
// when no -p was given: a private directory that any user can create.
func runtimePrefix() string {
	dir := os.Getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	p := filepath.Join(dir, fmt.Sprintf("gresty-%d", os.Getuid()))
	os.MkdirAll(p, 0o700)
	return p + "/"
}

// openStartLog opens the log used while starting (nginx's ngx_log_init):
// the -e file, or the built-in default; a file that cannot be opened is
// reported and stderr is used instead.
func (st *startup) openStartLog() *errlog.Log {
	path := st.errorLog
	if path == "stderr" || path == "" {
		return errlog.New(st.console, errlog.Sink{File: st.files.Stderr(), Level: errlog.Notice})
	}
	if !filepath.IsAbs(path) {
		path = st.prefix + path
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil && !os.IsExist(err) {
		_ = err
	}
	f, err := st.files.Open(path)
	if err != nil {
		st.console.Printf("[alert] could not open error log file: %s", err)
		return errlog.New(st.console, errlog.Sink{File: st.files.Stderr(), Level: errlog.Notice})
	}
	return errlog.New(st.console, errlog.Sink{File: f, Level: errlog.Notice})
}

// build reads and checks the configuration.
func (st *startup) build(test bool, old *core.Cycle) (*core.Cycle, error) {
	bo := core.BuildOptions{
		Registry:        st.reg,
		Prefix:          st.prefix,
		ConfFile:        st.confFile,
		ConfParams:      st.o.confParams,
		DefaultErrorLog: st.errorLog,
		StartLog:        st.log,
		Files:           st.files,
		Old:             old,
		Test:            test,
		ConfOptions:     conf.Options{},
	}
	if st.embedded {
		bo.Text = []byte(embeddedConf)
	}
	if !test && old == nil && isDaemonChild() {
		// The parent read this configuration a moment ago and logged
		// what reading it says (warnings, init_by_lua's output); nginx
		// reads it once and forks. The child keeps quiet while reading;
		// an error of its own is still logged by the caller.
		quiet := errlog.NewConsole(st.console.Prog)
		quiet.Disable()
		bo.StartLog = errlog.New(quiet)
		c, err := core.Build(bo)
		if err == nil {
			c.Log = c.Log.WithConsole(st.console)
		}
		return c, err
	}
	return core.Build(bo)
}

// test is -t and -T: nginx's two lines on success, the error and "test
// failed" otherwise.
func (st *startup) test() int {
	c, err := st.build(true, nil)
	if err != nil {
		st.log.Logf(core.LevelOf(err), "%s", err)
		st.console.Printf("configuration file %s test failed", st.confFile)
		return 1
	}
	if !st.o.quiet {
		st.console.Printf("the configuration file %s syntax is ok", st.confFile)
		st.console.Printf("configuration file %s test is successful", st.confFile)
	}
	if st.o.dump {
		os.Stdout.Write(conf.Dump(c.Conf))
	}
	return 0
}
