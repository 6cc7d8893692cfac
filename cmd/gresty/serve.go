package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
)

// server is the running process: the loops, the HTTP runtime and the
// current cycle.
type server struct {
	st    *startup
	cycle *core.Cycle
	group *eventloop.Group
	rt    *http.Runtime
	pid   string
	sigs  chan os.Signal
}

// serve starts the server: in the background (daemon on: the parent
// returns once the child is ready) or in the foreground.
func (st *startup) serve() int {
	c, err := st.build(false, nil)
	if err != nil {
		st.log.Logf(core.LevelOf(err), "%s", err)
		st.notifyParent(err.Error())
		return 1
	}
	pc := c.ProcessConf()
	if pc.Daemon.V && !isDaemonChild() {
		return st.daemonize()
	}
	if st.embedded {
		st.log.Logf(errlog.Notice, "no configuration file at %s: using the embedded default configuration", core.DefaultConfPath)
	}
	stopProfile, err := startCPUProfile()
	if err != nil {
		c.Log.Logf(errlog.Emerg, "%s", err)
		st.notifyParent(err.Error())
		return 1
	}
	defer stopProfile()
	floor, err := heapFloor()
	if err != nil {
		c.Log.Logf(errlog.Emerg, "%s", err)
		st.notifyParent(err.Error())
		return 1
	}
	defer runtime.KeepAlive(floor)
	// catch signals before the pid file exists: a harness may signal as
	// soon as it sees it.
	s := &server{st: st, cycle: c, sigs: make(chan os.Signal, 8)}
	errlog.SetCycleLog(c.Log)
	signal.Notify(s.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGWINCH, syscall.SIGUSR2, syscall.SIGPIPE)
	if err := s.start(); err != nil {
		c.Log.Logf(errlog.Emerg, "%s", err)
		st.notifyParent(err.Error())
		return 1
	}
	st.notifyParent("")
	if isDaemonChild() || !c.Log.Sinks()[0].File.IsStderr() {
		redirectStderr(c)
	}
	st.console.Disable()
	return s.loop()
}

// start opens the loops and listeners and writes the pid file, in nginx's
// order: the pid file appears only once every socket is bound.
func (s *server) start() error {
	c := s.cycle
	pc := c.ProcessConf()
	ev := c.Events()
	for _, kv := range pc.Env {
		if k, v, ok := cutEq(kv); ok {
			os.Setenv(k, v)
		}
	}
	if pc.RlimitCore.Set {
		lim := syscall.Rlimit{Cur: uint64(pc.RlimitCore.V), Max: uint64(pc.RlimitCore.V)}
		if err := syscall.Setrlimit(syscall.RLIMIT_CORE, &lim); err != nil {
			c.Log.Logf(errlog.Alert, "setrlimit(RLIMIT_CORE, %d) failed %s", pc.RlimitCore.V, errlog.Errno(err))
		}
	}
	if pc.RlimitNofile.V > 0 {
		lim := syscall.Rlimit{Cur: uint64(pc.RlimitNofile.V), Max: uint64(pc.RlimitNofile.V)}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			c.Log.Logf(errlog.Alert, "setrlimit(RLIMIT_NOFILE, %d) failed %s", pc.RlimitNofile.V, errlog.Errno(err))
		}
	}
	if pc.WorkingDir.Set {
		if err := os.Chdir(pc.WorkingDir.V); err != nil {
			return fmt.Errorf("chdir(\"%s\") failed %s", pc.WorkingDir.V, errlog.Errno(err))
		}
	}
	gc := eventloop.GroupConfig{
		Loops: pc.WorkerProcesses.V,
		Loop: eventloop.Config{
			Priority:          pc.WorkerPriority.V,
			SetPriority:       pc.WorkerPriority.V != 0,
			WorkerConnections: ev.Connections.V,
			MultiAccept:       ev.MultiAccept.V,
			Logf: func(level int, connID uint64, format string, args ...any) {
				s.cycle.Log.Printf(errlog.Level(level), errlog.Entry{Conn: connID}, format, args...)
			},
			// a graceful shutdown lets the modules finish their
			// per-loop work (exit_worker_by_lua, premature timers).
			OnShutdown: func(l *eventloop.Loop) {
				if s.rt != nil {
					s.rt.LoopShutdown(l.ID())
				}
			},
		},
		AffinityAuto: pc.CPUAffinityAuto,
		Affinity:     pc.CPUAffinity,
	}
	if pc.CPUAffinityAuto && len(pc.CPUAffinity) == 1 {
		gc.AutoCPUs = pc.CPUAffinity[0]
	}
	g, err := eventloop.NewGroup(gc)
	if err != nil {
		return err
	}
	if err := g.Start(); err != nil {
		return err
	}
	s.group = g
	s.rt = http.NewRuntime(g)
	if hc := http.ConfigOf(c); hc != nil {
		if err := s.rt.Apply(hc, c.Log); err != nil {
			g.Stop()
			return err
		}
	}
	s.pid = pc.Pid.V
	if err := writePid(s.pid); err != nil {
		g.Stop()
		return err
	}
	return nil
}

func cutEq(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// writePid writes the pid file whole: a file written beside it is renamed
// over it, so a reader that sees the file (a harness waiting for it to
// appear, "gresty -s") never reads it empty. Where the directory cannot
// take a new file but the pid file itself is writable, it is written in
// place as nginx does.
func writePid(path string) error {
	data := []byte(strconv.Itoa(os.Getpid()) + "\n")
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+strconv.Itoa(os.Getpid()))
	if err := os.WriteFile(tmp, data, 0o644); err == nil {
		if err := os.Rename(tmp, path); err == nil {
			return nil
		}
		os.Remove(tmp)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return fmt.Errorf("open() \"%s\" failed %s", path, errlog.Errno(err))
	}
	return nil
}

// loop waits for signals and acts on them as nginx's master does.
func (s *server) loop() int {
	sigs := s.sigs
	done := make(chan error, 1)
	go func() { done <- s.group.Wait() }()
	for {
		select {
		case err := <-done:
			s.exit()
			if err != nil {
				s.cycle.Log.Logf(errlog.Alert, "%s", err)
				return 1
			}
			return 0
		case sig := <-sigs:
			switch sig {
			case syscall.SIGTERM, syscall.SIGINT:
				s.cycle.Log.Logf(errlog.Notice, "signal %d (%s) received, exiting", sigNum(sig), sigName(sig))
				s.rt.ExitLoops()
				s.group.Stop()
				<-done
				s.exit()
				return 0
			case syscall.SIGQUIT:
				s.cycle.Log.Logf(errlog.Notice, "signal %d (SIGQUIT) received, shutting down", sigNum(sig))
				timeout := s.cycle.ProcessConf().ShutdownTimeout.V
				if timeout <= 0 {
					timeout = 24 * time.Hour
				}
				s.group.Shutdown(timeout)
				<-done
				s.exit()
				return 0
			case syscall.SIGHUP:
				s.cycle.Log.Logf(errlog.Notice, "signal %d (SIGHUP) received, reconfiguring", sigNum(sig))
				s.reload()
			case syscall.SIGUSR1:
				s.cycle.Log.Logf(errlog.Notice, "signal %d (SIGUSR1) received, reopening logs", sigNum(sig))
				if err := s.cycle.Files.Reopen(); err != nil {
					s.cycle.Log.Logf(errlog.Emerg, "%s", err)
				}
			}
		}
	}
}

// reload reads the configuration again; a bad one is reported and the
// running one stays.
func (s *server) reload() {
	st := s.st
	st.files = errlog.NewFiles()
	c, err := st.build(false, s.cycle)
	if err != nil {
		s.cycle.Log.Logf(core.LevelOf(err), "%s", err)
		st.files = s.cycle.Files
		return
	}
	if hc := http.ConfigOf(c); hc != nil {
		if err := s.rt.Apply(hc, c.Log); err != nil {
			c.Log.Logf(errlog.Emerg, "%s", err)
			s.cycle.Log.Logf(errlog.Emerg, "%s", err)
			return
		}
	}
	for _, l := range s.group.Loops() {
		l.SetMultiAccept(c.Events().MultiAccept.V)
	}
	old := s.cycle
	s.cycle = c
	errlog.SetCycleLog(c.Log)
	if pid := c.ProcessConf().Pid.V; pid != s.pid {
		if err := writePid(pid); err != nil {
			c.Log.Logf(errlog.Emerg, "%s", err)
		} else {
			os.Remove(s.pid)
			s.pid = pid
		}
	}
	// the old cycle's files close once no request can use them.
	go func() {
		time.Sleep(time.Minute)
		old.Files.Close()
	}()
}

func (s *server) exit() {
	if s.pid != "" {
		os.Remove(s.pid)
	}
	s.cycle.Log.Logf(errlog.Notice, "exit")
}

func sigNum(sig os.Signal) int { return int(sig.(syscall.Signal)) }

func sigName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}

// redirectStderr points fd 2 at the error log file, as
// ngx_log_redirect_stderr, so that stray output lands in the log.
func redirectStderr(c *core.Cycle) {
	if c.LogUseStderr {
		return
	}
	for _, s := range c.Log.Sinks() {
		if s.File.IsStderr() {
			return
		}
	}
	// The first log that is a file: a syslog server cannot take fd 2.
	path := ""
	for _, s := range c.Log.Sinks() {
		if !s.File.IsSyslog() {
			path = s.File.Path()
			break
		}
	}
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	syscall.Dup2(int(f.Fd()), 2)
	f.Close()
}

var _ = filepath.Join
