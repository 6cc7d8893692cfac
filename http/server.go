package http

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/regex"
	"gresty/resolver"
)

// Runtime serves an http configuration on a group of loops. It opens the
// listening sockets, keeps them across reloads when their address stays,
// and hands every loop the current configuration.
type Runtime struct {
	group   *eventloop.Group
	servers []*LoopServer
	cfg     atomic.Pointer[Config]
	mu      sync.Mutex
	// sets are the listening sockets in use, by ListenAddr.Key.
	sets map[string]*eventloop.ListenerSet
	// gen numbers the configurations applied.
	gen uint64
}

// NewRuntime prepares a runtime on g; one LoopServer per loop.
func NewRuntime(g *eventloop.Group) *Runtime {
	rt := &Runtime{group: g, sets: map[string]*eventloop.ListenerSet{}}
	for _, l := range g.Loops() {
		rt.servers = append(rt.servers, newLoopServer(l, rt))
	}
	return rt
}

// Server returns the HTTP state of loop i.
func (rt *Runtime) Server(i int) *LoopServer { return rt.servers[i] }

// Config returns the configuration being served.
func (rt *Runtime) Config() *Config { return rt.cfg.Load() }

// Apply starts serving cfg: new addresses are opened (an error leaves the
// previous configuration running), kept ones get the new servers, and
// addresses cfg no longer has are closed after the loops switched. Any
// goroutine but a loop's.
func (rt *Runtime) Apply(cfg *Config, log *errlog.Log) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	rt.gen++
	cfg.gen = rt.gen
	opened := map[string]*eventloop.ListenerSet{}
	for _, la := range cfg.Addrs {
		key := la.Key()
		if _, ok := rt.sets[key]; ok {
			continue
		}
		set, err := rt.group.Listen(la.listenConfig(), accepter(rt, la, cfg))
		if err != nil {
			for _, s := range opened {
				s.Close()
			}
			return &bindError{addr: la.Opt.Text, err: err}
		}
		opened[key] = set
	}
	// every loop switches to cfg before new connections arrive on kept
	// sockets with the new servers.
	var wg sync.WaitGroup
	for _, s := range rt.servers {
		s := s
		wg.Add(1)
		switch1 := func() {
			s.adopt(cfg)
			wg.Done()
		}
		if !s.loop.Post(switch1) {
			// the loop is not running: nothing can race with us.
			switch1()
		}
	}
	wg.Wait()
	rt.cfg.Store(cfg)
	keep := map[string]bool{}
	for _, la := range cfg.Addrs {
		key := la.Key()
		keep[key] = true
		if set, ok := rt.sets[key]; ok {
			set.SetAccepter(accepter(rt, la, cfg))
		}
	}
	for key, set := range rt.sets {
		if !keep[key] {
			set.CloseAsync()
			delete(rt.sets, key)
		}
	}
	for k, s := range opened {
		rt.sets[k] = s
	}
	return nil
}

// Addr returns the bound address of a listen key (tests use port 0).
func (rt *Runtime) Addr(key string) string {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if s, ok := rt.sets[key]; ok {
		return s.Addr().String()
	}
	return ""
}

type bindError struct {
	addr string
	err  error
}

func (e *bindError) Error() string {
	return "bind() to " + e.addr + " failed " + errlog.Errno(e.err)
}

func (la *ListenAddr) listenConfig() eventloop.ListenConfig {
	o := la.Opt
	lc := eventloop.ListenConfig{
		Network:     o.Network,
		Address:     o.Addr,
		Backlog:     o.Backlog,
		DualStack:   o.Network == "tcp6" && !o.IPv6Only,
		DeferAccept: o.Deferred,
		Shared:      !o.ReusePort,
	}
	if o.Rcvbuf > 0 {
		lc.RcvBuf = o.Rcvbuf
	}
	if o.Sndbuf > 0 {
		lc.SndBuf = o.Sndbuf
	}
	switch o.SoKeepalive {
	case 1:
		lc.KeepAlive = eventloop.KeepAliveOn
		lc.KeepIdle, lc.KeepIntvl, lc.KeepCnt = o.KeepIdle, o.KeepIntvl, o.KeepCnt
	case 2:
		lc.KeepAlive = eventloop.KeepAliveOff
	}
	return lc
}

// accepter serves connections of la, an address of cfg. A connection can
// arrive before the loop has switched to cfg (a listener is opened before
// the switch reaches every loop): the loop then switches at once. One
// accepted on a kept listener whose accepter still names an older
// configuration is served with the loop's newer one.
func accepter(rt *Runtime, la *ListenAddr, cfg *Config) eventloop.Accepter {
	return eventloop.AccepterFunc(func(ec *eventloop.Conn) eventloop.Handler {
		s := rt.servers[ec.Loop().ID()]
		s.adopt(cfg)
		if s.cfg != cfg {
			la = s.cfg.addrByKey(la.Key())
			if la == nil {
				return nil
			}
			cfg = s.cfg
		}
		c := &Conn{ec: ec, srv: s, cfg: cfg, la: la, start: s.loop.Now(), ppWait: la.Opt.ProxyProtocol}
		if !ec.RemoteAddrPort().IsValid() {
			// a unix-domain socket has neither option.
			c.nopush, c.nodelay = nopushDisabled, nodelayDisabled
		}
		s.conns++
		s.stats.accepted.Add(1)
		s.stats.handled.Add(1)
		s.stats.active.Add(1)
		c.setStat(statWaiting)
		c.vs = la.virtualServers(c)
		c.setTimer(tmHeader, c.vs.Default.ClientHeaderTimeout.V)
		c.startHead()
		return c
	})
}

// virtualServers picks the servers for the address the connection came in
// on: a wildcard socket serves several addresses.
func (la *ListenAddr) virtualServers(c *Conn) *VirtualServers {
	if len(la.Addrs) == 1 {
		return la.Addrs[0]
	}
	local := c.ec.LocalAddrPort().Addr().Unmap()
	for _, vs := range la.Addrs {
		if ip, ok := netip.AddrFromSlice(vs.IP); ok && ip.Unmap() == local {
			return vs
		}
	}
	return la.Addrs[len(la.Addrs)-1]
}

// LoopServer is the HTTP state of one loop: its current configuration,
// pools of requests and buffers, and caches. Only its loop touches it.
type LoopServer struct {
	loop *eventloop.Loop
	rt   *Runtime
	cfg  *Config

	reqs    []*Request
	bufs    [][]byte
	conns   int
	outHigh int

	hdrScratch   []byte
	bufScratch   []Buf
	chunkScratch []Buf

	dateSec int64
	date    []byte

	matcher *regex.Matcher
	// resSets are the loop's resolver sockets per configuration.
	resSets map[*Config]*resolver.Set

	// files holds the loop's open file caches (static_openfile.go).
	files fileState

	// stats are the loop's stub_status counters (stubstatus_api.go).
	stats connStats
}

func newLoopServer(l *eventloop.Loop, rt *Runtime) *LoopServer {
	return &LoopServer{loop: l, rt: rt, outHigh: 1 << 20, hdrScratch: make([]byte, 0, 1024), bufScratch: make([]Buf, 0, 8),
		matcher: regex.NewMatcher()}
}

// Loop returns the server's loop.
func (s *LoopServer) Loop() *eventloop.Loop { return s.loop }

// Config returns the configuration the loop serves.
func (s *LoopServer) Config() *Config { return s.cfg }

func (s *LoopServer) exiting() bool { return s.loop.Exiting() }

// httpDate returns the cached Date header value for the loop's clock.
func (s *LoopServer) httpDate() []byte {
	now := s.loop.Now()
	if sec := now.Unix(); sec != s.dateSec || s.date == nil {
		s.dateSec = sec
		s.date = appendHTTPTime(s.date[:0], now)
	}
	return s.date
}

const inputBufSize = 4096

func (s *LoopServer) getBuf(n int) []byte {
	if n <= inputBufSize {
		if k := len(s.bufs); k > 0 {
			b := s.bufs[k-1]
			s.bufs = s.bufs[:k-1]
			return b[:0]
		}
		return make([]byte, 0, inputBufSize)
	}
	return make([]byte, 0, n+n/2)
}

func (s *LoopServer) putBuf(b []byte) {
	if cap(b) == inputBufSize && len(s.bufs) < 256 {
		s.bufs = append(s.bufs, b[:0])
	}
}

func (s *LoopServer) getRequest() *Request {
	if k := len(s.reqs); k > 0 {
		r := s.reqs[k-1]
		s.reqs = s.reqs[:k-1]
		r.reset()
		return r
	}
	r := &Request{}
	r.reset()
	return r
}

func (s *LoopServer) putRequest(r *Request) {
	if len(s.reqs) < 1024 {
		s.reqs = append(s.reqs, r)
	}
}

// reset clears a pooled request, keeping its slices' capacity.
func (r *Request) reset() {
	in, caps, ctx, arena, hs, ts, cl := r.In[:0], r.captures[:0], r.ctx[:0], r.arena[:0], r.Out.Headers[:0], r.Out.Trailers[:0], r.cleanups[:0]
	files, pcl := r.files[:0], r.poolCleanups[:0]
	posted, subs := r.posted[:0], r.subs[:0]
	vars := r.vars[:0]
	if r.Main != nil && r.Main != r {
		// a subrequest shared its parent's headers, variables and maybe
		// captures: those slices are not its own to reuse.
		vars, in, caps = nil, nil, nil
	}
	spare := r.upstreamSpare
	// cleared in place, then refilled: a composite literal would be built
	// whole on the stack and copied over.
	*r = Request{}
	r.In, r.vars, r.captures, r.ctx, r.arena, r.cleanups = in, vars, caps, ctx, arena, cl
	r.files, r.posted, r.subs, r.upstreamSpare, r.poolCleanups = files, posted, subs, spare, pcl
	r.Out.Headers, r.Out.Trailers = hs, ts
	r.ContentLength = -1
}

var _ = time.Second

// LoopShutdown runs the modules' ExitLoop hooks of the configuration a
// loop serves when the server shuts down. Loop goroutine (eventloop's
// Config.OnShutdown).
func (rt *Runtime) LoopShutdown(i int) {
	s := rt.servers[i]
	if s.cfg != nil {
		s.cfg.exitLoop(s)
	}
}

// ExitLoops runs every loop's exit hooks and waits for them, before a fast
// stop (nginx flushes buffered logs and runs exit_worker_by_lua on TERM
// too). Any goroutine but a loop's.
func (rt *Runtime) ExitLoops() {
	var wg sync.WaitGroup
	for i, s := range rt.servers {
		i := i
		wg.Add(1)
		if !s.loop.Post(func() { rt.LoopShutdown(i); wg.Done() }) {
			wg.Done()
		}
	}
	wg.Wait()
}

// adopt makes the loop serve cfg unless it already serves it or a newer
// configuration: the modules' per-loop state is created for cfg and the
// previous configuration's is ended. Loop goroutine.
func (s *LoopServer) adopt(cfg *Config) {
	old := s.cfg
	if old == cfg || old != nil && old.gen > cfg.gen {
		return
	}
	s.cfg = cfg
	cfg.initLoop(s)
	if old != nil {
		old.exitLoop(s)
	}
}

// addrByKey finds the listen address with key in the configuration.
func (c *Config) addrByKey(key string) *ListenAddr {
	for _, la := range c.Addrs {
		if la.Key() == key {
			return la
		}
	}
	return nil
}
