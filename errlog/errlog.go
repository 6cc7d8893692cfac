// Package errlog writes nginx's error log: the same line format
// ("2026/11/26 12:00:00 [error] 1234#0: *42 message, client: ...") and the
// same level rules, to one or more files or stderr, and reopens the files on
// SIGUSR1.
//
// A *Log is immutable once built and may be used from any goroutine: every
// line is formatted into a private buffer and written with one write(2) on a
// file opened with O_APPEND, so lines from several loops never interleave
// and reach the disk before the call returns, as nginx's do.
package errlog

import (
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Level is an nginx log level. Lower is more severe.
type Level uint8

// The levels, numbered as nginx numbers them.
const (
	Stderr Level = iota
	Emerg
	Alert
	Crit
	Error
	Warn
	Notice
	Info
	Debug
)

// nginx names the stderr level with nothing: its lines read "[]".
var levelNames = [...]string{"", "emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"}

// String returns the level's name as it appears between brackets.
func (l Level) String() string {
	if int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "unknown"
}

// ParseLevel turns a level name from the error_log directive into a Level.
func ParseLevel(s string) (Level, bool) {
	for i, n := range levelNames {
		if n == s {
			return Level(i), true
		}
	}
	return 0, false
}

// maxLine is nginx's NGX_MAX_ERROR_STR: longer lines are cut, keeping the
// final newline.
const maxLine = 2048

// File is an open log file that several Logs may share. Reopen swaps the
// descriptor under the writers without losing lines.
type File struct {
	path string // "" for stderr
	f    atomic.Pointer[os.File]
	// syslog is set for a "syslog:" error log, which has no descriptor.
	syslog *syslogPeer
}

// Path returns the file's path, or "stderr".
func (f *File) Path() string {
	if f.path == "" {
		return "stderr"
	}
	return f.path
}

// IsStderr tells whether the file is the process's standard error.
func (f *File) IsStderr() bool { return f.path == "" }

// IsSyslog tells whether the file is a syslog server rather than a file
// on disk (error_log syslog:...).
func (f *File) IsSyslog() bool { return f.syslog != nil }

func (f *File) write(b []byte) {
	if fp := f.f.Load(); fp != nil {
		fp.Write(b)
	}
}

// Write appends b to the file with one write call. It is how access logs
// and other writers share the reopen machinery.
func (f *File) Write(b []byte) (int, error) {
	fp := f.f.Load()
	if fp == nil {
		return 0, os.ErrClosed
	}
	return fp.Write(b)
}

// Files is the set of log files a configuration opened, keyed by path, so
// that one path is opened once and USR1 reopens each once.
// Its methods may be called from any goroutine.
type Files struct {
	mu      sync.Mutex
	byPath  map[string]*File
	stderr  *File
	syslogs []*File
}

// NewFiles returns an empty set. Stderr is always available.
func NewFiles() *Files {
	fs := &Files{byPath: map[string]*File{}, stderr: &File{}}
	fs.stderr.f.Store(os.Stderr)
	return fs
}

// Stderr returns the File for the process's standard error.
func (fs *Files) Stderr() *File { return fs.stderr }

// Open returns the File for path, opening it for appending (mode 0644,
// created if missing) the first time. The path "stderr" means standard
// error, as in the error_log directive.
func (fs *Files) Open(path string) (*File, error) {
	if path == "stderr" || path == "" {
		return fs.stderr, nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.byPath[path]; ok {
		return f, nil
	}
	fp, err := openAppend(path)
	if err != nil {
		return nil, err
	}
	f := &File{path: path}
	f.f.Store(fp)
	fs.byPath[path] = f
	return f, nil
}

// OpenSyslog is the package's OpenSyslog for a log of this set, which
// closes its socket with the set's files.
func (fs *Files) OpenSyslog(args string) (*File, error) {
	f, err := OpenSyslog(args)
	if err != nil {
		return nil, err
	}
	fs.mu.Lock()
	fs.syslogs = append(fs.syslogs, f)
	fs.mu.Unlock()
	return f, nil
}

// Adopt puts the files of other into fs, so that a reload keeps one open
// descriptor per path and reopening reaches every File still in use.
func (fs *Files) Adopt(other *Files) {
	other.mu.Lock()
	defer other.mu.Unlock()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for p, f := range other.byPath {
		if _, ok := fs.byPath[p]; !ok {
			fs.byPath[p] = f
		}
	}
}

// Reopen reopens every file, as nginx does on SIGUSR1 ("reopen"). A file
// that cannot be reopened keeps its old descriptor; the error of the first
// failure is returned in nginx's words.
func (fs *Files) Reopen() error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var first error
	for p, f := range fs.byPath {
		fp, err := openAppend(p)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		old := f.f.Swap(fp)
		if old != nil {
			old.Close()
		}
	}
	return first
}

// Close closes every file but stderr.
func (fs *Files) Close() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, f := range fs.byPath {
		if fp := f.f.Swap(nil); fp != nil {
			fp.Close()
		}
	}
	for _, f := range fs.syslogs {
		f.syslog.close()
	}
}

func openAppend(path string) (*os.File, error) {
	fp, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open() \"%s\" failed %s", path, Errno(err))
	}
	return fp, nil
}

// Console is where nginx echoes severe start-up messages ("nginx: [emerg]
// ...") while the process still owns a terminal. Enabled is switched off
// once the server has daemonised or finished starting.
type Console struct {
	Prog    string
	enabled atomic.Bool
}

// NewConsole returns an enabled console for the program name prog.
func NewConsole(prog string) *Console {
	c := &Console{Prog: prog}
	c.enabled.Store(true)
	return c
}

// Disable stops echoing to stderr.
func (c *Console) Disable() { c.enabled.Store(false) }

// Enabled tells whether messages are still echoed to stderr.
func (c *Console) Enabled() bool { return c != nil && c.enabled.Load() }

// Printf writes "prog: msg\n" to stderr, as nginx's ngx_log_stderr does.
func (c *Console) Printf(format string, args ...any) {
	b := make([]byte, 0, 128)
	b = append(b, c.Prog...)
	b = append(b, ": "...)
	b = fmt.Appendf(b, format, args...)
	b = append(b, '\n')
	os.Stderr.Write(b)
}

// Sink is one error_log destination with its threshold.
type Sink struct {
	File  *File
	Level Level
}

// Log is an error log: a list of sinks (several error_log directives at
// one level) and the console. The zero Log discards everything.
type Log struct {
	sinks   []Sink // sorted by Level, most verbose first
	max     Level
	console *Console
	hook    *Hook
}

// Hook passes every line the logs of a cycle write, before their sinks
// get it, to a function set at any time (OpenResty's intercept error log
// handler, which lua_capture_error_log sets). The zero Hook passes
// nothing. Any goroutine.
type Hook struct {
	f atomic.Pointer[func(level Level, line []byte)]
}

// Set makes f receive each line, without its newline; f must not keep
// line and must not log.
func (h *Hook) Set(f func(level Level, line []byte)) { h.f.Store(&f) }

// SetHook makes l pass its lines to h. Configuration goroutine only,
// before l is used.
func (l *Log) SetHook(h *Hook) { l.hook = h }

// MaxLevel is the most verbose level l writes to a sink (nginx's
// log->log_level).
func (l *Log) MaxLevel() Level {
	if l == nil {
		return Stderr
	}
	return l.max
}

// New builds a Log from its sinks. console may be nil.
func New(console *Console, sinks ...Sink) *Log {
	l := &Log{console: console}
	for _, s := range sinks {
		l.sinks = append(l.sinks, s)
		if s.Level > l.max {
			l.max = s.Level
		}
	}
	// nginx keeps the chain ordered so that the most verbose sink comes
	// first and the walk can stop at the first one that is too quiet.
	for i := 1; i < len(l.sinks); i++ {
		for j := i; j > 0 && l.sinks[j].Level > l.sinks[j-1].Level; j-- {
			l.sinks[j], l.sinks[j-1] = l.sinks[j-1], l.sinks[j]
		}
	}
	return l
}

// Sinks returns the log's sinks, most verbose first.
func (l *Log) Sinks() []Sink { return l.sinks }

// WithConsole returns a copy of l that echoes to console.
func (l *Log) WithConsole(c *Console) *Log {
	n := *l
	n.console = c
	return &n
}

// Enabled tells whether a message at level would be written anywhere.
// Callers test it before formatting expensive messages.
func (l *Log) Enabled(level Level) bool {
	return l != nil && (level <= l.max || (level <= Warn && l.console.Enabled()))
}

// Context appends nginx's trailing context to a message, such as
// ", client: 127.0.0.1, server: localhost, request: ...". It is not applied
// to debug messages, as in nginx.
type Context interface {
	AppendLogContext(b []byte) []byte
}

// Entry describes where a message comes from: the loop (printed after the
// pid, "#N") and the connection serial number ("*N"; 0 for none).
type Entry struct {
	Loop int
	Conn uint64
	Ctx  Context
	// noSyslog keeps the line from syslog sinks: it tells of a failed
	// syslog send (nginx's busy peer).
	noSyslog bool
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, maxLine); return &b }}

// Logf writes a message with no connection context.
func (l *Log) Logf(level Level, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	l.Write(level, Entry{}, func(b []byte) []byte { return fmt.Appendf(b, format, args...) })
}

// Printf is Logf for an entry.
func (l *Log) Printf(level Level, e Entry, format string, args ...any) {
	if !l.Enabled(level) {
		return
	}
	l.Write(level, e, func(b []byte) []byte { return fmt.Appendf(b, format, args...) })
}

// Write formats one line (the message is appended by msg) and writes it to
// every sink whose level admits it, then echoes it to the console if no
// sink is stderr and the level is warn or more severe.
func (l *Log) Write(level Level, e Entry, msg func([]byte) []byte) {
	if l == nil {
		return
	}
	bp := bufPool.Get().(*[]byte)
	b := (*bp)[:0]
	b = appendTime(b)
	b = append(b, " ["...)
	b = append(b, level.String()...)
	b = append(b, "] "...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, '#')
	b = strconv.AppendInt(b, int64(e.Loop), 10)
	b = append(b, ": "...)
	if e.Conn != 0 {
		b = append(b, '*')
		b = strconv.AppendUint(b, e.Conn, 10)
		b = append(b, ' ')
	}
	msgStart := len(b)
	b = msg(b)
	if level != Debug && e.Ctx != nil {
		b = e.Ctx.AppendLogContext(b)
	}
	if len(b) > maxLine-1 {
		b = b[:maxLine-1]
	}
	if l.hook != nil {
		if f := l.hook.f.Load(); f != nil {
			(*f)(level, b)
		}
	}
	b = append(b, '\n')

	wroteStderr := false
	for _, s := range l.sinks {
		if s.Level < level {
			break
		}
		if s.File.syslog != nil {
			if !e.noSyslog {
				s.File.syslog.send(level, b)
			}
			continue
		}
		s.File.write(b)
		if s.File.IsStderr() {
			wroteStderr = true
		}
	}
	if !wroteStderr && level <= Warn && l.console.Enabled() {
		c := make([]byte, 0, len(b)-msgStart+32)
		c = append(c, l.console.Prog...)
		c = append(c, ": ["...)
		c = append(c, level.String()...)
		c = append(c, "] "...)
		c = append(c, b[msgStart:]...)
		os.Stderr.Write(c)
	}
	*bp = b
	bufPool.Put(bp)
}

var pid = os.Getpid()

type cachedTime struct {
	sec int64
	s   []byte
}

var timeCache atomic.Pointer[cachedTime]

func appendTime(b []byte) []byte {
	now := time.Now()
	sec := now.Unix()
	if c := timeCache.Load(); c != nil && c.sec == sec {
		return append(b, c.s...)
	}
	c := &cachedTime{sec: sec, s: now.AppendFormat(nil, "2006/01/02 15:04:05")}
	timeCache.Store(c)
	return append(b, c.s...)
}

// Console returns the console the log echoes to, or nil.
func (l *Log) Console() *Console {
	if l == nil {
		return nil
	}
	return l.console
}
