//go:build linux

package eventloop

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// GroupConfig configures a Group of loops.
type GroupConfig struct {
	// Loops is the number of loops (worker_processes); 0 means one per CPU
	// (worker_processes auto).
	Loops int
	// Loop is the configuration every loop starts from; its CPUs field is
	// replaced per loop when an affinity is configured.
	Loop Config
	// AffinityAuto pins loop i to the i-th CPU (modulo their number) of
	// AutoCPUs, or of CPUs 0..NumCPU-1 when AutoCPUs is empty
	// (worker_cpu_affinity auto [mask]).
	AffinityAuto bool
	AutoCPUs     []int
	// Affinity gives each loop its CPUs explicitly (worker_cpu_affinity
	// masks); loops past the end use the last entry, as nginx does.
	Affinity [][]int
}

// Group starts N loops, opens listen addresses on all of them and stops
// them together. Methods are safe for any goroutine that is not one of the
// group's loop goroutines, unless stated otherwise.
type Group struct {
	loops  []*Loop
	serial atomic.Uint64
	logf   func(int, uint64, string, ...any)

	mu      sync.Mutex
	sets    map[string]*ListenerSet
	started bool
	errs    []error
	wg      sync.WaitGroup
}

// NewGroup creates the loops (not yet running). Any goroutine.
func NewGroup(cfg GroupConfig) (*Group, error) {
	n := cfg.Loops
	if n <= 0 {
		n = runtime.NumCPU()
	}
	g := &Group{sets: make(map[string]*ListenerSet), logf: cfg.Loop.Logf}
	if g.logf == nil {
		g.logf = func(int, uint64, string, ...any) {}
	}
	for i := 0; i < n; i++ {
		lc := cfg.Loop
		lc.serial = &g.serial
		lc.CPUs = cpusFor(&cfg, i)
		l, err := New(lc)
		if err != nil {
			for _, x := range g.loops {
				x.p.Close()
			}
			return nil, err
		}
		l.id = i
		g.loops = append(g.loops, l)
	}
	return g, nil
}

// cpusFor applies nginx's ngx_get_cpu_affinity rules for loop i.
func cpusFor(cfg *GroupConfig, i int) []int {
	if cfg.AffinityAuto {
		cpus := cfg.AutoCPUs
		if len(cpus) == 0 {
			for c := 0; c < runtime.NumCPU(); c++ {
				cpus = append(cpus, c)
			}
		}
		sorted := append([]int(nil), cpus...)
		sort.Ints(sorted)
		return []int{sorted[i%len(sorted)]}
	}
	if len(cfg.Affinity) == 0 {
		return cfg.Loop.CPUs
	}
	if i < len(cfg.Affinity) {
		return cfg.Affinity[i]
	}
	return cfg.Affinity[len(cfg.Affinity)-1]
}

// Loops returns the group's loops in order. Any goroutine.
func (g *Group) Loops() []*Loop { return g.loops }

// Start runs every loop on its own goroutine and returns once all of them
// are running. Any goroutine.
func (g *Group) Start() error {
	g.mu.Lock()
	if g.started {
		g.mu.Unlock()
		return errors.New("eventloop: group already started")
	}
	g.started = true
	g.mu.Unlock()
	var ready sync.WaitGroup
	for _, l := range g.loops {
		ready.Add(1)
		l.Post(ready.Done)
		g.wg.Add(1)
		go func(l *Loop) {
			defer g.wg.Done()
			if err := l.Run(); err != nil {
				g.mu.Lock()
				g.errs = append(g.errs, fmt.Errorf("%v: %w", l, err))
				g.mu.Unlock()
			}
		}(l)
	}
	ready.Wait()
	return nil
}

// Listen opens cfg's address on every loop and accepts connections with a.
// TCP addresses get one SO_REUSEPORT socket per loop unless cfg.Shared;
// unix addresses get one socket shared by all loops. It fails, with
// nginx's message, if the address cannot be bound, or if a set with the
// same key is already open (look it up with ListenerSet to keep it across
// a reload). Call it after Start, from any goroutine but the group's loop
// goroutines (it waits for them).
func (g *Group) Listen(cfg ListenConfig, a Accepter) (*ListenerSet, error) {
	if a == nil {
		return nil, errors.New("eventloop: nil Accepter")
	}
	g.mu.Lock()
	started := g.started
	g.mu.Unlock()
	if !started {
		return nil, errors.New("eventloop: Listen before Start")
	}
	t, err := parseListen(&cfg)
	if err != nil {
		return nil, err
	}
	shared := cfg.Shared || t.unixPath != ""
	s := &ListenerSet{g: g, cfg: cfg, unixPath: t.unixPath}
	s.SetAccepter(a)
	var fds []int
	cleanup := func() {
		for _, fd := range fds {
			closeFd(fd)
		}
	}
	switch {
	case len(cfg.FDs) > 0:
		if len(cfg.FDs) != 1 && len(cfg.FDs) != len(g.loops) {
			return nil, fmt.Errorf("eventloop: %d inherited sockets for %d loops", len(cfg.FDs), len(g.loops))
		}
		fds = append(fds, cfg.FDs...)
		for _, fd := range fds {
			if err := unix.SetNonblock(fd, true); err != nil {
				cleanup()
				return nil, &OpError{Op: "ioctl", Msg: "ioctl(FIONBIO) " + t.text(), Err: err}
			}
			unix.CloseOnExec(fd)
		}
		shared = len(fds) == 1
		t, s.addr = boundAddr(fds[0], t)
		if shared {
			s.refs.Store(int32(len(g.loops)))
		}
	case shared:
		fd, err := openListenSocket(&cfg, t, false, g.logf)
		if err != nil {
			return nil, err
		}
		fds = append(fds, fd)
		t, s.addr = boundAddr(fd, t)
		s.refs.Store(int32(len(g.loops)))
	default:
		for i := range g.loops {
			fd, err := openListenSocket(&cfg, t, true, g.logf)
			if err != nil {
				cleanup()
				return nil, err
			}
			fds = append(fds, fd)
			if i == 0 {
				// Port 0: every later socket joins the port the first got.
				t, s.addr = boundAddr(fd, t)
			}
		}
	}
	s.key = t.text()
	g.mu.Lock()
	if _, dup := g.sets[s.key]; dup {
		g.mu.Unlock()
		cleanup()
		return nil, fmt.Errorf("eventloop: already listening on %s", s.key)
	}
	g.sets[s.key] = s
	g.mu.Unlock()
	for i, l := range g.loops {
		fd := fds[0]
		if !shared {
			fd = fds[i]
		}
		s.lns = append(s.lns, &Listener{set: s, loop: l, fd: fd, shared: shared})
	}
	errs := make([]error, len(s.lns))
	var wg sync.WaitGroup
	for i, ln := range s.lns {
		wg.Add(1)
		i, ln := i, ln
		if !ln.loop.Post(func() { errs[i] = ln.attach(); wg.Done() }) {
			ln.closed = true
			ln.release()
			errs[i] = ErrLoopStopped
			wg.Done()
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ListenerSet returns the open set with this key ("127.0.0.1:8080",
// "[::]:80", "unix:/path"), or nil. Any goroutine.
func (g *Group) ListenerSet(key string) *ListenerSet {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sets[key]
}

// ListenerSets returns the open sets sorted by key. Any goroutine.
func (g *Group) ListenerSets() []*ListenerSet {
	g.mu.Lock()
	out := make([]*ListenerSet, 0, len(g.sets))
	for _, s := range g.sets {
		out = append(out, s)
	}
	g.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].key < out[j].key })
	return out
}

func (g *Group) forget(s *ListenerSet) {
	g.mu.Lock()
	if g.sets[s.key] == s {
		delete(g.sets, s.key)
	}
	g.mu.Unlock()
}

// Shutdown stops gracefully: every listener set closes (queued connections
// are still accepted), then each loop finishes its connections and stops,
// or is stopped fast once timeout passes (timeout <= 0: no limit). It
// returns when every loop has stopped. Any goroutine but the group's loop
// goroutines.
func (g *Group) Shutdown(timeout time.Duration) error {
	for _, s := range g.ListenerSets() {
		s.Close()
	}
	for _, l := range g.loops {
		l.Shutdown(timeout)
	}
	return g.Wait()
}

// Stop stops every loop fast: listeners and connections close at once.
// It returns when every loop has stopped. Any goroutine but the group's
// loop goroutines.
func (g *Group) Stop() error {
	for _, s := range g.ListenerSets() {
		g.forget(s)
		s.closed.Store(true)
	}
	for _, l := range g.loops {
		l.Stop()
	}
	return g.Wait()
}

// Wait blocks until every loop has stopped and returns their errors. Any
// goroutine but the group's loop goroutines.
func (g *Group) Wait() error {
	g.wg.Wait()
	g.mu.Lock()
	defer g.mu.Unlock()
	return errors.Join(g.errs...)
}
