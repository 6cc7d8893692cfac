//go:build linux

package eventloop

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// nginx's log levels, the level argument of Config.Logf.
const (
	LogEmerg  = 1
	LogAlert  = 2
	LogCrit   = 3
	LogErr    = 4
	LogWarn   = 5
	LogNotice = 6
	LogInfo   = 7
	LogDebug  = 8
)

// Defaults, as nginx's.
const (
	// DefaultWorkerConnections is nginx's default worker_connections.
	DefaultWorkerConnections = 512
	// DefaultReadBufferSize is the size of the read buffer a loop shares
	// between its connections.
	DefaultReadBufferSize = 64 << 10
	// acceptRetryDelay is how long accepting stays off after EMFILE or
	// ENFILE (nginx's accept_mutex_delay default).
	acceptRetryDelay = 500 * time.Millisecond
)

// Config configures one Loop.
type Config struct {
	// Backend selects the poller; the zero value is BackendDefault.
	Backend Backend
	// WorkerConnections caps the connections of this loop, counting
	// accepted and dialed connections and listening sockets, as nginx's
	// worker_connections does per worker (nginx also spends one slot on
	// its master channel; subtract it here to match exactly). 0 means
	// DefaultWorkerConnections.
	WorkerConnections int
	// ReadBufferSize is the size of the shared read buffer, and so the most
	// bytes one OnData call delivers. 0 means DefaultReadBufferSize.
	ReadBufferSize int
	// CPUs pins the loop's thread to these CPUs (nginx's
	// worker_cpu_affinity); empty leaves the affinity alone.
	CPUs []int
	// Priority is the nice value of the loop's thread (nginx's
	// worker_priority) when SetPriority is set.
	Priority    int
	SetPriority bool
	// Logf receives the loop's own log lines with nginx's numeric levels
	// (LogEmerg..LogDebug) and the connection number (0: none). It is
	// called on the loop goroutine. nil discards them.
	Logf func(level int, connID uint64, format string, args ...any)
	// OnShutdown, if set, is called on the loop goroutine when a graceful
	// shutdown begins, after the loop's listeners closed and idle
	// connections were closed.
	OnShutdown func(l *Loop)
	// MultiAccept accepts every pending connection when a listening
	// socket is reported readable, instead of one (nginx's multi_accept).
	// SetMultiAccept changes it later.
	MultiAccept bool

	// serial numbers connections; a Group shares one between its loops.
	serial *atomic.Uint64
}

type fdEntry struct {
	c  *Conn
	ln *Listener
}

// Loop is one event loop: a goroutine locked to an OS thread that owns a
// poller, the connections and listeners registered on it, and their timers.
// See the package documentation for the threading rules.
type Loop struct {
	cfg      Config
	id       int
	backend  Backend
	p        poller
	perEvent bool // the backend dispatches without returning per batch
	maxConns int
	serial   *atomic.Uint64
	fds      []fdEntry
	buf      []byte
	iov      []unix.Iovec
	chunks   [][]byte
	dirty    []*Conn
	// dispatching is the connection whose event is being handled.
	dispatching *Conn
	closing     []*Conn
	dialDone    []*Conn
	deferred    []func()
	deferSpare  []func()
	timers      timerHeap
	timerSeq    uint64
	base        time.Time
	now         time.Time
	mono        int64
	waitUntil   int64
	nconns      int
	nlisteners  int
	listeners   []*Listener
	reuseHead   *Conn // most recently marked reusable
	reuseTail   *Conn
	nreusable   int
	reuseLogSec int64
	holds       int
	exiting     bool
	forceStop   bool
	acceptOff   bool
	multiAccept atomic.Bool
	acceptTimer *Timer
	exitTimer   *Timer
	rsa         unix.RawSockaddrAny
	rsaLen      uint32

	postMu     sync.Mutex
	posted     []func()
	postRun    []func()
	postWoken  bool
	postClosed bool

	stopReq atomic.Bool
	started atomic.Bool
	done    chan struct{}
	runErr  error
}

// New creates a loop. It does not start it: call Run on the goroutine that
// is to become the loop goroutine. Any goroutine.
func New(cfg Config) (*Loop, error) {
	b := cfg.Backend.resolve()
	p, err := newPoller(b)
	if err != nil {
		return nil, err
	}
	if cfg.WorkerConnections <= 0 {
		cfg.WorkerConnections = DefaultWorkerConnections
	}
	if cfg.ReadBufferSize <= 0 {
		cfg.ReadBufferSize = DefaultReadBufferSize
	}
	serial := cfg.serial
	if serial == nil {
		serial = new(atomic.Uint64)
	}
	now := time.Now()
	l := &Loop{
		cfg:      cfg,
		backend:  b,
		p:        p,
		perEvent: b == BackendNetpoll,
		maxConns: cfg.WorkerConnections,
		serial:   serial,
		fds:      make([]fdEntry, 1024),
		buf:      make([]byte, cfg.ReadBufferSize),
		iov:      make([]unix.Iovec, maxIov),
		base:     now,
		now:      now,
		done:     make(chan struct{}),
	}
	l.multiAccept.Store(cfg.MultiAccept)
	return l, nil
}

// Backend returns the poller backend the loop uses. Any goroutine.
func (l *Loop) Backend() Backend { return l.backend }

// ID returns the loop's index in its Group (0 for a standalone loop).
// Any goroutine.
func (l *Loop) ID() int { return l.id }

// Done is closed when Run has returned. Any goroutine.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Now returns the loop's cached clock, refreshed once per poller wake-up
// (per event with BackendNetpoll) like nginx's cached time. Loop goroutine
// only.
func (l *Loop) Now() time.Time { return l.now }

// NowMs returns the cached clock as Unix milliseconds. Loop goroutine only.
func (l *Loop) NowMs() int64 { return l.now.UnixMilli() }

// UpdateTime refreshes the cached clock (ngx.update_time). Loop goroutine
// only.
func (l *Loop) UpdateTime() { l.updateTime() }

func (l *Loop) updateTime() {
	now := time.Now()
	l.now = now
	l.mono = int64(now.Sub(l.base))
}

// Conns returns the number of open connections (accepted and dialed) on the
// loop. Loop goroutine only.
func (l *Loop) Conns() int { return l.nconns }

// Exiting reports whether a graceful shutdown has begun; the HTTP layer
// stops keeping connections alive, as nginx does under ngx_exiting. Loop
// goroutine only.
func (l *Loop) Exiting() bool { return l.exiting }

// Hold keeps a gracefully stopping loop alive (until the shutdown deadline)
// even without connections, e.g. while timers that must run remain. Each
// Hold needs one Release. Loop goroutine only.
func (l *Loop) Hold() { l.holds++ }

// Release undoes one Hold. Loop goroutine only.
func (l *Loop) Release() {
	if l.holds > 0 {
		l.holds--
	}
}

// Post queues f to run on the loop goroutine and wakes the loop. It reports
// whether f was accepted: true means f runs exactly once (even if the loop
// is stopping, before it finishes); false means the loop has stopped. Posted
// functions run in order, after the iteration's I/O and timers. Any
// goroutine, including the loop's own.
func (l *Loop) Post(f func()) bool {
	l.postMu.Lock()
	if l.postClosed {
		l.postMu.Unlock()
		return false
	}
	l.posted = append(l.posted, f)
	wake := !l.postWoken
	l.postWoken = true
	l.postMu.Unlock()
	if wake {
		l.p.Wake()
	}
	return true
}

// Defer queues f to run at the end of the current dispatch, after the
// output written so far has been flushed, before the loop waits again
// (nginx's posted events). Functions deferred from a deferred function run
// in the same round. Loop goroutine only.
func (l *Loop) Defer(f func()) {
	l.deferred = append(l.deferred, f)
}

// Stop ends the loop quickly: listeners and connections are closed (their
// handlers get OnClose with ErrLoopStopped) and Run returns. Any goroutine.
func (l *Loop) Stop() {
	l.stopReq.Store(true)
	l.p.Wake()
}

// Shutdown begins a graceful stop: the loop's listeners close (after
// accepting what is already queued on them), connections marked idle are
// closed, and Run returns once no connection and no Hold remains, or when
// timeout passes (then as Stop). A timeout <= 0 waits without limit. Any
// goroutine.
func (l *Loop) Shutdown(timeout time.Duration) {
	l.Post(func() { l.beginExit(timeout) })
}

func (l *Loop) logf(level int, connID uint64, format string, args ...any) {
	if l.cfg.Logf != nil {
		l.cfg.Logf(level, connID, format, args...)
	}
}

// Run runs the loop on the calling goroutine, locked to its OS thread,
// until Stop, or until a graceful Shutdown has finished. It returns an
// error if the poller fails or Run was already called. The calling
// goroutine becomes the loop goroutine.
func (l *Loop) Run() error {
	if !l.started.CompareAndSwap(false, true) {
		return errors.New("eventloop: Run called twice")
	}
	defer close(l.done)
	runtime.LockOSThread()
	restore := l.setAffinity()
	restorePrio := l.setPriority()
	defer func() {
		restorePrio()
		restore()
		runtime.UnlockOSThread()
	}()
	l.updateTime()
	l.afterDispatch()
	for {
		l.runPosted()
		l.runTimers()
		if l.shouldExit() {
			break
		}
		timeout := time.Duration(-1)
		l.waitUntil = 1<<63 - 1
		if len(l.timers) > 0 {
			l.waitUntil = l.timers[0].when
			timeout = time.Duration(l.waitUntil - l.mono)
			if timeout < 0 {
				timeout = 0
			}
		}
		if err := l.p.Wait(timeout, l); err != nil {
			l.runErr = err
			break
		}
	}
	l.teardown()
	return l.runErr
}

// setAffinity pins the locked thread and returns how to undo it, so a
// pinned thread never goes back to the runtime's pool still pinned.
func (l *Loop) setAffinity() func() {
	if len(l.cfg.CPUs) == 0 {
		return func() {}
	}
	var old, set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &old); err != nil {
		l.logf(LogAlert, 0, "sched_getaffinity() failed %s", ErrnoText(err))
		return func() {}
	}
	for _, cpu := range l.cfg.CPUs {
		l.logf(LogNotice, 0, "sched_setaffinity(): using cpu #%d", cpu)
		set.Set(cpu)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		l.logf(LogAlert, 0, "sched_setaffinity() failed %s", ErrnoText(err))
		return func() {}
	}
	return func() { unix.SchedSetaffinity(0, &old) }
}

// setPriority gives the loop's thread its nice value (on Linux a thread
// has its own) and returns how to give the thread its old one back.
func (l *Loop) setPriority() func() {
	if !l.cfg.SetPriority {
		return func() {}
	}
	// getpriority's raw answer is 20 - nice.
	old, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err := unix.Setpriority(unix.PRIO_PROCESS, 0, l.cfg.Priority); err != nil {
		l.logf(LogAlert, 0, "setpriority(%d) failed %s", l.cfg.Priority, ErrnoText(err))
		return func() {}
	}
	if err != nil {
		return func() {}
	}
	return func() { unix.Setpriority(unix.PRIO_PROCESS, 0, 20-old) }
}

func (l *Loop) shouldExit() bool {
	if l.stopReq.Load() || l.forceStop {
		return true
	}
	return l.exiting && l.nconns == 0 && l.holds == 0
}

// SetMultiAccept switches multi_accept (Config.MultiAccept); any
// goroutine.
func (l *Loop) SetMultiAccept(on bool) { l.multiAccept.Store(on) }

// polled implements sink.
func (l *Loop) polled() { l.updateTime() }

// event implements sink: one dispatch for one ready descriptor.
func (l *Loop) event(fd int, ev uint32) bool {
	if fd < len(l.fds) {
		e := &l.fds[fd]
		if c := e.c; c != nil {
			l.dispatching = c
			c.onEvent(ev)
			l.dispatching = nil
		} else if ln := e.ln; ln != nil {
			ln.onReadable()
		}
	}
	l.afterDispatch()
	if !l.perEvent {
		return false
	}
	return l.stopReq.Load() || l.forceStop || (len(l.timers) > 0 && l.timers[0].when < l.waitUntil) ||
		(l.exiting && l.nconns == 0 && l.holds == 0)
}

// afterDispatch ends a dispatch: flush queued output, deliver close and
// dial notifications, then run deferred functions, each followed by its own
// flush, until nothing is left.
func (l *Loop) afterDispatch() {
	for {
		l.flushDirty()
		if len(l.closing) == 0 && len(l.dialDone) == 0 && len(l.deferred) == 0 {
			return
		}
		for i := 0; i < len(l.dialDone); i++ {
			c := l.dialDone[i]
			l.dialDone[i] = nil
			if cb := c.dialCB; cb != nil {
				c.dialCB = nil
				err := c.dialErr
				if err == nil && c.flags&fClosed != 0 {
					err = ErrClosed
				}
				cb(c, err)
				c.resumeOutput()
				l.flushDirty()
			}
		}
		l.dialDone = l.dialDone[:0]
		for i := 0; i < len(l.closing); i++ {
			c := l.closing[i]
			l.closing[i] = nil
			if c.h != nil {
				c.h.OnClose(c, c.closeErr)
				l.flushDirty()
			}
		}
		l.closing = l.closing[:0]
		if len(l.deferred) > 0 {
			batch := l.deferred
			l.deferred = l.deferSpare[:0]
			for i, f := range batch {
				batch[i] = nil
				f()
				l.flushDirty()
			}
			l.deferSpare = batch[:0]
		}
	}
}

func (l *Loop) flushDirty() {
	for i := 0; i < len(l.dirty); i++ {
		c := l.dirty[i]
		l.dirty[i] = nil
		c.flags &^= fDirty
		c.flush()
	}
	l.dirty = l.dirty[:0]
}

func (l *Loop) runPosted() {
	l.postMu.Lock()
	run := l.posted
	l.posted = l.postRun[:0]
	l.postWoken = false
	l.postMu.Unlock()
	if len(run) == 0 {
		l.postRun = run
		return
	}
	l.updateTime()
	for i, f := range run {
		run[i] = nil
		f()
		l.afterDispatch()
	}
	l.postRun = run[:0]
}

// runTimers fires due timers. Timers armed while it runs (seq past the
// starting one) wait for the next iteration, so a timer that re-arms itself
// with a zero delay cannot starve I/O.
func (l *Loop) runTimers() {
	start := l.timerSeq
	for len(l.timers) > 0 {
		t := l.timers[0]
		if t.when > l.mono || t.seq > start {
			return
		}
		l.timers.remove(0)
		t.fire()
		l.afterDispatch()
	}
}

func (l *Loop) beginExit(timeout time.Duration) {
	if l.exiting {
		return
	}
	l.exiting = true
	if timeout > 0 {
		l.exitTimer = l.AfterFunc(timeout, func() { l.forceStop = true })
	}
	for _, ln := range append([]*Listener(nil), l.listeners...) {
		ln.close()
	}
	for _, e := range l.fds {
		if c := e.c; c != nil && c.flags&fIdle != 0 {
			c.closeNow(nil)
		}
	}
	if l.cfg.OnShutdown != nil {
		l.cfg.OnShutdown(l)
	}
}

// teardown closes everything once the loop has decided to stop. Posted
// functions that were accepted still run, so whoever waits on them is
// released.
func (l *Loop) teardown() {
	l.updateTime()
	l.exiting = true // refuses listeners attached by late posted functions
	// Handlers run while closing may open connections or post more work;
	// repeat until nothing is left (bounded, against a handler that always
	// does).
	for round := 0; ; round++ {
		for _, ln := range append([]*Listener(nil), l.listeners...) {
			ln.closeNow()
		}
		for _, e := range l.fds {
			if c := e.c; c != nil {
				c.closeNow(ErrLoopStopped)
			}
		}
		l.afterDispatch()
		l.postMu.Lock()
		if (len(l.posted) == 0 && l.nconns == 0) || round == 100 {
			l.postClosed = true
			l.postMu.Unlock()
			break
		}
		l.postMu.Unlock()
		l.runPosted()
	}
	for len(l.timers) > 0 {
		l.timers.remove(len(l.timers) - 1)
	}
	l.p.Close()
}

// register records a descriptor's owner in the fd table.
func (l *Loop) register(fd int, e fdEntry) {
	if fd >= len(l.fds) {
		n := len(l.fds) * 2
		for n <= fd {
			n *= 2
		}
		fds := make([]fdEntry, n)
		copy(fds, l.fds)
		l.fds = fds
	}
	l.fds[fd] = e
}

// getChunk returns a pooled output chunk.
func (l *Loop) getChunk() []byte {
	if n := len(l.chunks); n > 0 {
		b := l.chunks[n-1]
		l.chunks[n-1] = nil
		l.chunks = l.chunks[:n-1]
		return b
	}
	return make([]byte, chunkSize)
}

func (l *Loop) putChunk(b []byte) {
	if len(l.chunks) < maxFreeChunks {
		l.chunks = append(l.chunks, b[:cap(b)])
	}
}

// slotsFull reports whether worker_connections is used up, after trying to
// reclaim reusable connections as nginx's ngx_drain_connections does.
func (l *Loop) slotsFull() bool {
	free := l.maxConns - l.nconns - l.nlisteners
	if free > l.maxConns/16 || l.nreusable == 0 {
		return free <= 0
	}
	sec := l.now.Unix()
	if l.reuseLogSec != sec {
		l.reuseLogSec = sec
		l.logf(LogWarn, 0, "%d worker_connections are not enough, reusing connections", l.maxConns)
	}
	n := l.nreusable / 8
	if n > 32 {
		n = 32
	}
	if n < 1 {
		n = 1
	}
	for ; n > 0 && l.reuseTail != nil; n-- {
		l.reuseTail.closeNow(nil)
	}
	return l.maxConns-l.nconns-l.nlisteners <= 0
}

// String names the loop and its backend for messages. Any goroutine.
func (l *Loop) String() string { return fmt.Sprintf("loop %d (%s)", l.id, l.backend) }
