package log

import (
	"bytes"
	"compress/gzip"
	"errors"
	"syscall"

	"golang.org/x/sys/unix"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
)

// loopState is the log module's state for one configuration on one loop:
// scratch space for lines, the cached time strings, the buffers of
// buffered logs and the descriptors of logs named with variables. Only
// its loop touches it.
type loopState struct {
	loop *eventloop.Loop
	cfg  *http.Config
	line []byte
	name []byte
	t    logTimes
	bufs map[*logFile]*loopBuf
	fds  fdCache
	gz   map[int]*gzip.Writer
	gzb  bytes.Buffer
	// exited is set once the loop left the configuration (a reload or a
	// shutdown): lines are then written at once, nothing is kept.
	exited bool
}

// loopBuf is one buffered log file's buffer on a loop.
type loopBuf struct {
	f     *logFile
	data  []byte
	timer *eventloop.Timer
}

func initLoop(cfg *http.Config, s *http.LoopServer) (any, error) {
	ls := &loopState{loop: s.Loop(), cfg: cfg, bufs: map[*logFile]*loopBuf{}}
	ls.fds.entries = map[string]*cachedFD{}
	return ls, nil
}

// exitLoop writes out the loop's buffers when it stops serving the
// configuration, as nginx's workers flush their buffers when they exit.
func exitLoop(_ *http.Config, _ *http.LoopServer, st any) {
	ls, ok := st.(*loopState)
	if !ok {
		return
	}
	ls.exited = true
	for _, b := range ls.bufs {
		ls.flush(b)
	}
	ls.fds.closeAll()
}

func stateOf(r *http.Request) *loopState {
	if ls, ok := r.LoopState(Module).(*loopState); ok {
		return ls
	}
	// a loop that never adopted the configuration: write through.
	ls := &loopState{loop: r.Conn.Loop(), cfg: r.Conn.Server().Config(), exited: true}
	ls.fds.entries = map[string]*cachedFD{}
	return ls
}

// handler is the log-phase handler (ngx_http_log_handler).
func handler(r *http.Request) int {
	c := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	if c.Off || len(c.Logs) == 0 {
		return http.OK
	}
	ls := stateOf(r)
	now := ls.loop.Now().Unix()
	for _, l := range c.Logs {
		if l.filter != nil {
			v := l.filter.Eval(r, ls.name[:0])
			ls.name = v
			if len(v) == 0 || len(v) == 1 && v[0] == '0' {
				continue
			}
		}
		if l.diskFullTime.Load() == now {
			// nginx skips a log for the rest of the second after the
			// disk filled up.
			continue
		}
		line := l.fmt.appendLine(ls.line[:0], r, ls)
		if l.syslog != nil {
			ls.line = line
			sendSyslog(r, l, line)
			continue
		}
		line = append(line, '\n')
		ls.line = line
		if l.file != nil && l.file.bufSize > 0 && !ls.exited && !ls.loop.Exiting() {
			ls.buffer(r, l, line)
			continue
		}
		ls.write(r, l, line)
	}
	if ls.exited {
		ls.fds.closeAll()
	}
	return http.OK
}

// sendSyslog sends a line of a "syslog:" log, as ngx_http_log_handler:
// a failure is logged each time.
func sendSyslog(r *http.Request, l *Log, line []byte) {
	n, size, err := l.syslog.SendSyslog(line)
	switch {
	case err != nil:
		r.Logf(errlog.Warn, "send() to syslog failed")
	case n != size:
		r.Logf(errlog.Warn, "send() to syslog has written only %d of %d", n, size)
	}
}

// buffer adds a line to a buffered log, as nginx: a buffer without room
// is written out first, a line longer than the buffer is written alone.
func (ls *loopState) buffer(r *http.Request, l *Log, line []byte) {
	f := l.file
	b := ls.bufs[f]
	if b == nil {
		b = &loopBuf{f: f, data: make([]byte, 0, f.bufSize)}
		ls.bufs[f] = b
	}
	if len(line) > cap(b.data)-len(b.data) {
		ls.flush(b)
	}
	if len(line) > cap(b.data)-len(b.data) {
		ls.write(r, l, line)
		return
	}
	if len(b.data) == 0 && f.flush > 0 {
		if b.timer == nil {
			b.timer = ls.loop.NewTimer(func() { ls.flush(b) })
		}
		b.timer.Reset(f.flush)
	}
	b.data = append(b.data, line...)
}

// flush writes a buffer out (ngx_http_log_flush).
func (ls *loopState) flush(b *loopBuf) {
	if b.timer != nil {
		b.timer.Stop()
	}
	if len(b.data) == 0 {
		return
	}
	data := b.data
	b.data = b.data[:0]
	n, err := ls.writeFile(b.f, data)
	if err == nil && n == len(data) {
		return
	}
	lg := ls.cfg.Cycle().Log
	if err != nil {
		lg.Logf(errlog.Alert, "write() to \"%s\" failed %s", b.f.path, errlog.Errno(err))
		return
	}
	lg.Logf(errlog.Alert, "write() to \"%s\" was incomplete: %d of %d", b.f.path, n, len(data))
}

// writeFile writes data to a file named without variables, compressed as
// one gzip member when the log has gzip.
func (ls *loopState) writeFile(f *logFile, data []byte) (int, error) {
	if f.file == nil {
		// not opened: only -t leaves a file so, and it serves nothing.
		return len(data), nil
	}
	if f.gzip == 0 {
		return f.file.Write(data)
	}
	z := ls.gz[f.gzip]
	ls.gzb.Reset()
	if z == nil {
		if ls.gz == nil {
			ls.gz = map[int]*gzip.Writer{}
		}
		z, _ = gzip.NewWriterLevel(&ls.gzb, f.gzip)
		ls.gz[f.gzip] = z
	} else {
		z.Reset(&ls.gzb)
	}
	z.Write(data)
	z.Close()
	out := ls.gzb.Bytes()
	n, err := f.file.Write(out)
	if err != nil {
		return n, err
	}
	// as nginx, a complete compressed write counts as the whole line.
	if n == len(out) {
		return len(data), nil
	}
	return n, nil
}

// write writes one line now (ngx_http_log_write), with nginx's error
// handling: failures are logged at most once a minute per log, and a full
// disk suspends the log for the rest of the second.
func (ls *loopState) write(r *http.Request, l *Log, line []byte) {
	var n int
	var err error
	var name string
	if l.file != nil {
		name = l.file.path
		n, err = ls.writeFile(l.file, line)
	} else {
		var ok bool
		name, n, err, ok = ls.writeVar(r, l, line)
		if !ok {
			return
		}
	}
	if err == nil && n == len(line) {
		return
	}
	now := ls.loop.Now().Unix()
	if err != nil {
		if errors.Is(err, syscall.ENOSPC) {
			l.diskFullTime.Store(now)
		}
		if now-l.errorLogTime.Load() > 59 {
			r.Logf(errlog.Alert, "write() to \"%s\" failed %s", name, errlog.Errno(err))
			l.errorLogTime.Store(now)
		}
		return
	}
	if now-l.errorLogTime.Load() > 59 {
		r.Logf(errlog.Alert, "write() to \"%s\" was incomplete: %d of %d", name, n, len(line))
		l.errorLogTime.Store(now)
	}
}

// writeVar writes a line to a log named with variables
// (ngx_http_log_script_write). As nginx, nothing is written (and no
// error reported as a write error) when the request's root directory does
// not exist or the file cannot be opened; ok is false then.
func (ls *loopState) writeVar(r *http.Request, l *Log, line []byte) (name string, n int, err error, ok bool) {
	path, rootLen, mapped := r.MapURIToPath(0)
	if !mapped {
		return "", 0, nil, false
	}
	root := path[:rootLen]
	var st unix.Stat_t
	if e := unix.Stat(root, &st); e != nil {
		r.Logf(errlog.Error, "testing \"%s\" existence failed %s", root, errlog.Errno(e))
		return "", 0, nil, false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		r.Logf(errlog.Error, "testing \"%s\" existence failed %s", root, errlog.Errno(syscall.ENOTDIR))
		return "", 0, nil, false
	}
	ls.name = l.path.Eval(r, ls.name[:0])
	name = string(ls.name)
	c := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	fd, keep, e := ls.fds.open(name, c.cache, ls.loop.Now())
	if e != nil {
		r.Logf(errlog.Crit, "open() \"%s\" failed %s", name, errlog.Errno(e))
		return name, 0, nil, false
	}
	n, err = writeAll(fd, line)
	if !keep {
		unix.Close(fd)
	}
	return name, n, err, true
}

func writeAll(fd int, b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := unix.Write(fd, b[done:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return done, err
		}
		if n == 0 {
			break
		}
		done += n
	}
	return done, nil
}
