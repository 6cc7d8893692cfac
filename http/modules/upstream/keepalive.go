package upstream

// ngx_http_upstream_keepalive_module: a cache of idle upstream
// connections in front of the block's balancing method. The balancer
// picks the peer; a cached connection to that peer is reused when there
// is one. Each loop has its own cache of up to "keepalive N" connections
// per upstream block, as each nginx worker has; a connection is kept only
// when its response ended cleanly (HTTP/1.1, no "Connection: close", the
// whole body read) and it is below keepalive_requests and keepalive_time.
// An idle connection is closed after keepalive_timeout, or when the
// upstream sends anything or closes.

import (
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/eventloop"
	"gresty/http"
)

// KeepaliveModule is ngx_http_upstream_keepalive_module.
var KeepaliveModule = &core.Module{
	Name: "ngx_http_upstream_keepalive_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		{Name: "keepalive", Ctx: core.HTTPUps, Args: core.Take1, Level: core.SrvLevel, Set: setKeepalive},
		{Name: "keepalive_time", Ctx: core.HTTPUps, Args: core.Take1, Level: core.SrvLevel, Set: setKeepaliveMsec},
		{Name: "keepalive_timeout", Ctx: core.HTTPUps, Args: core.Take1, Level: core.SrvLevel, Set: setKeepaliveMsec},
		{Name: "keepalive_requests", Ctx: core.HTTPUps, Args: core.Take1, Level: core.SrvLevel, Set: setKeepaliveRequests},
	},
	HTTP: &http.Hooks{
		InitLoop: func(cfg *http.Config, ls *http.LoopServer) (any, error) {
			return &loopCaches{caches: map[*kaConf]*kaCache{}}, nil
		},
		ExitLoop: func(cfg *http.Config, ls *http.LoopServer, state any) {
			if lc, ok := state.(*loopCaches); ok {
				lc.closeAll()
			}
		},
	},
}

// kaConf is one block's keepalive settings; -1 is unset.
type kaConf struct {
	max      int
	time     time.Duration
	timeout  time.Duration
	requests int
}

type kaKey struct{}

func kaOf(us *http.UpstreamSrvConf) *kaConf {
	return us.Conf(kaKey{}, func() any { return &kaConf{time: -1, timeout: -1, requests: -1} }).(*kaConf)
}

func setKeepalive(p *core.Parser, d *conf.Directive, c any) error {
	us := srv(c)
	kc := kaOf(us)
	if kc.max != 0 {
		return p.Invalid(d, "is duplicate")
	}
	n, ok := core.Atoi(d.Args[0])
	if !ok || n == 0 {
		return p.InvalidValue(d, d.Args[0])
	}
	kc.max = n
	orig := us.InitUpstream
	us.InitUpstream = func(us *http.UpstreamSrvConf) (http.Balancer, error) {
		var inner http.Balancer
		var err error
		if orig != nil {
			inner, err = orig(us)
		} else {
			inner, err = http.NewRoundRobin(us)
		}
		if err != nil {
			return nil, err
		}
		if kc.time < 0 {
			kc.time = time.Hour
		}
		if kc.timeout < 0 {
			kc.timeout = 60 * time.Second
		}
		if kc.requests < 0 {
			kc.requests = 1000
		}
		return &kaBalancer{inner: inner, conf: kc}, nil
	}
	return nil
}

func setKeepaliveMsec(p *core.Parser, d *conf.Directive, c any) error {
	kc := kaOf(srv(c))
	v := &kc.timeout
	if d.Name == "keepalive_time" {
		v = &kc.time
	}
	if *v >= 0 {
		return p.Invalid(d, "is duplicate")
	}
	ms, ok := core.ParseTime(d.Args[0], false)
	if !ok {
		return p.Invalid(d, "invalid value")
	}
	*v = time.Duration(ms) * time.Millisecond
	return nil
}

func setKeepaliveRequests(p *core.Parser, d *conf.Directive, c any) error {
	kc := kaOf(srv(c))
	if kc.requests >= 0 {
		return p.Invalid(d, "is duplicate")
	}
	n, ok := core.Atoi(d.Args[0])
	if !ok {
		return p.Invalid(d, "invalid number")
	}
	kc.requests = n
	return nil
}

// kaBalancer wraps a block's balancer with the loop's cache.
type kaBalancer struct {
	inner http.Balancer
	conf  *kaConf
}

// RoundRobinPeers implements http.PeerLister with the wrapped
// balancer's peers, nil when it has none.
func (b *kaBalancer) RoundRobinPeers() *http.RRPeers {
	if l, ok := b.inner.(http.PeerLister); ok {
		return l.RoundRobinPeers()
	}
	return nil
}

func (b *kaBalancer) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	inner, err := b.inner.NewPeer(r, pc)
	if err != nil {
		return nil, err
	}
	var cache *kaCache
	if lc, ok := r.LoopState(KeepaliveModule).(*loopCaches); ok {
		cache = lc.get(b.conf)
	}
	p, _ := pc.Reuse(kaPeerKey{}).(*kaPeer)
	if p == nil {
		p = &kaPeer{}
		pc.Keep(kaPeerKey{}, p)
	}
	*p = kaPeer{inner: inner, conf: b.conf, cache: cache}
	return p, nil
}

// kaPeerKey keeps a request's kaPeer with its peer connection for the
// next request (PeerConn.Reuse).
type kaPeerKey struct{}

type kaPeer struct {
	inner http.Peer
	conf  *kaConf
	cache *kaCache
}

// Get asks the balancer for a peer, then the cache for a connection to it
// (ngx_http_upstream_get_keepalive_peer).
func (p *kaPeer) Get(pc *http.PeerConn) http.PeerResult {
	rc := p.inner.Get(pc)
	if rc != http.PeerOK || p.cache == nil {
		return rc
	}
	if ec, requests, start := p.cache.take(pc.Addr); ec != nil {
		pc.Conn = ec
		pc.Cached = true
		pc.ConnRequests = requests
		pc.ConnStart = start
		return http.PeerCached
	}
	return rc
}

// Free keeps a clean connection in the cache, then lets the balancer
// account for the peer (ngx_http_upstream_free_keepalive_peer).
func (p *kaPeer) Free(pc *http.PeerConn, state uint32) {
	ec := pc.Conn
	if p.cache != nil && state&http.PeerFailed == 0 && ec != nil && !ec.Closed() && pc.Keepalive &&
		pc.ConnRequests < p.conf.requests && time.Since(pc.ConnStart) <= p.conf.time &&
		!ec.Loop().Exiting() && pc.Addr != nil {
		p.cache.put(ec, *pc.Addr, pc.ConnRequests, pc.ConnStart)
		pc.Conn = nil
	}
	p.inner.Free(pc, state)
}

// loopCaches are one loop's caches, one per upstream block with
// keepalive. Loop goroutine only.
type loopCaches struct {
	caches map[*kaConf]*kaCache
}

func (lc *loopCaches) get(kc *kaConf) *kaCache {
	c := lc.caches[kc]
	if c == nil {
		c = &kaCache{conf: kc}
		lc.caches[kc] = c
	}
	return c
}

func (lc *loopCaches) closeAll() {
	for _, c := range lc.caches {
		for len(c.items) > 0 {
			c.items[0].close()
		}
	}
}

// kaCache holds a block's idle connections on one loop, the most recently
// kept first; free holds spare items with their timers, so that keeping a
// connection allocates nothing.
type kaCache struct {
	conf  *kaConf
	items []*kaItem
	free  []*kaItem
}

// kaItem is one idle connection; it is the connection's handler while
// idle, so that anything the upstream does closes it.
type kaItem struct {
	cache    *kaCache
	ec       *eventloop.Conn
	addr     http.PeerAddr
	requests int
	start    time.Time
	timer    *eventloop.Timer
}

// take hands over a cached connection to addr, nil when there is none.
func (c *kaCache) take(addr *http.PeerAddr) (*eventloop.Conn, int, time.Time) {
	for i, it := range c.items {
		if it.addr.Network == addr.Network && it.addr.Address == addr.Address {
			c.remove(i)
			it.timer.Stop()
			ec := it.ec
			ec.SetIdle(false)
			c.recycle(it)
			return ec, it.requests, it.start
		}
	}
	return nil, 0, time.Time{}
}

// recycle keeps a spare item.
func (c *kaCache) recycle(it *kaItem) {
	it.ec = nil
	if len(c.free) < c.conf.max {
		c.free = append(c.free, it)
	}
}

func (c *kaCache) remove(i int) {
	copy(c.items[i:], c.items[i+1:])
	c.items[len(c.items)-1] = nil
	c.items = c.items[:len(c.items)-1]
}

func (c *kaCache) put(ec *eventloop.Conn, addr http.PeerAddr, requests int, start time.Time) {
	if len(c.items) >= c.conf.max {
		c.items[len(c.items)-1].close()
	}
	var it *kaItem
	if n := len(c.free); n > 0 {
		it = c.free[n-1]
		c.free = c.free[:n-1]
	} else {
		it = &kaItem{cache: c}
		it.timer = ec.Loop().NewTimer(it.close)
	}
	it.ec, it.addr, it.requests, it.start = ec, addr, requests, start
	it.timer.Reset(c.conf.timeout)
	c.items = append(c.items, nil)
	copy(c.items[1:], c.items)
	c.items[0] = it
	ec.SetHandler(it)
	ec.ResumeRead()
	ec.SetIdle(true)
}

// close drops the item's connection from the cache and closes it.
func (it *kaItem) close() {
	c := it.cache
	ec := it.ec
	if ec == nil {
		return
	}
	for i, x := range c.items {
		if x == it {
			c.remove(i)
			break
		}
	}
	it.timer.Stop()
	c.recycle(it)
	ec.Close()
}

// The item is the handler of its connection while idle; events of a
// connection it no longer holds are ignored.

// OnData: an idle upstream connection must stay silent.
func (it *kaItem) OnData(ec *eventloop.Conn, b []byte) {
	if ec == it.ec {
		it.close()
	}
}

// OnReadEOF: the upstream closed the idle connection.
func (it *kaItem) OnReadEOF(ec *eventloop.Conn) {
	if ec == it.ec {
		it.close()
	}
}

// OnDrain does nothing: nothing is written to an idle connection.
func (it *kaItem) OnDrain(ec *eventloop.Conn) {}

// OnClose drops a connection that failed while idle.
func (it *kaItem) OnClose(ec *eventloop.Conn, err error) {
	if ec != it.ec {
		return
	}
	c := it.cache
	for i, x := range c.items {
		if x == it {
			c.remove(i)
			break
		}
	}
	it.timer.Stop()
	c.recycle(it)
}
