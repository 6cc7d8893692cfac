package http

// Peer selection: the balancer interfaces the upstream machinery drives
// and nginx's smooth weighted round robin (ngx_http_upstream_round_robin.c),
// on which the other balancers (hash, ip_hash, least_conn, random) build.
//
// Peer state (weights, failures, connection counts) is shared by every
// loop, as nginx shares it between workers when the upstream has a zone:
// RRPeers carries a mutex held only while a peer is picked or released,
// never across I/O.

import (
	"sync"
	"time"

	"gresty/eventloop"
)

// Balancer is an upstream block's balancing method, built once per
// configuration. NewPeer starts selection for one request (nginx's
// peer.init); it runs on the request's loop.
type Balancer interface {
	NewPeer(r *Request, pc *PeerConn) (Peer, error)
}

// Peer picks and releases the peers of one request (nginx's peer.get and
// peer.free). Methods run on the request's loop.
type Peer interface {
	// Get chooses a peer: it sets pc.Addr and pc.Name and returns
	// PeerOK, or PeerCached when it also handed over a connection in
	// pc.Conn, or PeerBusy (pc.Name then names the upstream) when no
	// peer is usable.
	Get(pc *PeerConn) PeerResult
	// Free releases the peer Get chose, with the PeerFailed or PeerNext
	// bits or 0. A keepalive cache may take pc.Conn (setting it nil).
	Free(pc *PeerConn, state uint32)
}

// PeerResult is the outcome of Peer.Get.
type PeerResult int

// Peer.Get results.
const (
	PeerOK PeerResult = iota
	PeerBusy
	PeerCached
	PeerError
	// PeerDeclined (NGX_DECLINED) moves on to the next peer as a
	// connection error would.
	PeerDeclined
)

// Peer.Free states (NGX_PEER_*).
const (
	PeerKeepalive uint32 = 1
	PeerNext      uint32 = 2
	PeerFailed    uint32 = 4
)

// PeerConn is the connection being made to a peer (nginx's
// ngx_peer_connection_t). Request loop only.
type PeerConn struct {
	// Addr is the chosen peer's address; nil before Get or after Free.
	Addr *PeerAddr
	// Name is the chosen peer's name, or the upstream's when none was
	// usable.
	Name string
	// Tries is how many more peers may be tried.
	Tries int
	// Cached tells that Conn came from a keepalive cache.
	Cached bool
	// Conn is the connection: a cached one from Get, or the one the
	// machinery dialed.
	Conn *eventloop.Conn
	// ConnRequests counts the requests Conn has carried, this one
	// included; ConnStart is when it was opened.
	ConnRequests int
	ConnStart    time.Time
	// Keepalive is set by the machinery before Free when the connection
	// ended its response cleanly and may carry another request.
	Keepalive bool

	r     *Request
	reuse peerReuse
}

// peerReuse is the balancers' per-request state a PeerConn keeps from
// one request to the next (it lives in a pooled UpstreamRequest): the
// round-robin data and what balancers stored with Keep.
type peerReuse struct {
	rr   RRPeerData
	kept [4]keptPeer
}

type keptPeer struct{ key, v any }

// Reuse returns what a balancer stored with Keep under key while an
// earlier request used this peer connection's storage, or nil. That
// request is over: the balancer reinitializes the value for this one
// instead of allocating its per-request state. Request loop only.
func (pc *PeerConn) Reuse(key any) any {
	for i := range pc.reuse.kept {
		if k := &pc.reuse.kept[i]; k.key == key {
			return k.v
		}
	}
	return nil
}

// Keep stores v under key for Reuse by the requests that use this peer
// connection's storage later. Keys are comparable values private to the
// balancer (an empty struct type of its own); a few are kept, further
// ones are not. Request loop only.
func (pc *PeerConn) Keep(key, v any) {
	for i := range pc.reuse.kept {
		if k := &pc.reuse.kept[i]; k.key == key || k.key == nil {
			k.key, k.v = key, v
			return
		}
	}
}

// Request returns the request the peer connection serves.
func (pc *PeerConn) Request() *Request { return pc.r }

// Now returns the loop's clock in seconds, the granularity of nginx's
// fail_timeout bookkeeping (ngx_time()).
func (pc *PeerConn) Now() int64 { return pc.r.Conn.loopNow().Unix() }

// RRPeer is one peer of a round-robin list (ngx_http_upstream_rr_peer_t).
// Its mutable fields are guarded by the list's lock.
type RRPeer struct {
	Addr   PeerAddr
	Server string

	Weight          int
	EffectiveWeight int
	CurrentWeight   int
	Conns           int
	MaxConns        int
	Fails           int
	MaxFails        int
	FailTimeout     int64
	Accessed        int64
	Checked         int64
	Down            bool

	// Requests and Failures count, for the metrics exposition, the
	// attempts made with the peer and those that failed, since the
	// configuration was built.
	Requests uint64
	Failures uint64
}

// Usable tells whether the peer may be picked now: not down, not failed
// within fail_timeout, below max_conns. Lock held.
func (p *RRPeer) Usable(now int64) bool {
	if p.Down {
		return false
	}
	if p.MaxFails > 0 && p.Fails >= p.MaxFails && now-p.Checked <= p.FailTimeout {
		return false
	}
	return p.MaxConns == 0 || p.Conns < p.MaxConns
}

// RRPeers is a list of peers, the primary ones with the backup list in
// Next (ngx_http_upstream_rr_peers_t).
type RRPeers struct {
	mu sync.Mutex

	Peers       []*RRPeer
	Single      bool
	Weighted    bool
	TotalWeight int
	Tries       int
	// Name is the upstream's name, what pc.Name says when no peer is
	// usable.
	Name string
	Next *RRPeers
}

// PeerLister is implemented by balancers built on round robin's peers:
// it gives the primary list (the backup one in its Next) to readers such
// as the metrics exposition. Any goroutine; the peers' fields are read
// under the list's lock.
type PeerLister interface {
	RoundRobinPeers() *RRPeers
}

// RoundRobinPeers implements PeerLister.
func (rr *RoundRobin) RoundRobinPeers() *RRPeers { return rr.Peers }

// Lock takes the list's lock; balancers hold it while they pick.
func (ps *RRPeers) Lock() { ps.mu.Lock() }

// Unlock releases the list's lock.
func (ps *RRPeers) Unlock() { ps.mu.Unlock() }

// RoundRobin is the default balancer and the base of the others: its
// Peers are shared by every request of every loop.
type RoundRobin struct {
	Peers *RRPeers
}

// NewRoundRobin builds the peers of an upstream block as
// ngx_http_upstream_init_round_robin: the primary servers, the backup
// ones, or the resolved addresses of an implicit upstream.
// Configuration goroutine only.
func NewRoundRobin(us *UpstreamSrvConf) (*RoundRobin, error) {
	if us.Servers != nil {
		peers := buildPeers(us, false)
		if peers == nil {
			return nil, &upstreamInitError{msg: "no servers in upstream \"" + us.Host + "\" in " + us.File + ":" + itoa(us.Line)}
		}
		if backup := buildPeers(us, true); backup != nil {
			peers.Single = false
			peers.Next = backup
		}
		return &RoundRobin{Peers: peers}, nil
	}
	if us.Port == 0 {
		return nil, &upstreamInitError{msg: "no port in upstream \"" + us.Host + "\" in " + us.File + ":" + itoa(us.Line)}
	}
	addrs, err := ResolveHost(us.Host)
	if err != nil {
		return nil, &upstreamInitError{msg: err.Error() + " in upstream \"" + us.Host + "\" in " + us.File + ":" + itoa(us.Line)}
	}
	peers := &RRPeers{Single: len(addrs) == 1, TotalWeight: len(addrs), Tries: len(addrs), Name: us.Host}
	for _, a := range addrs {
		peers.Peers = append(peers.Peers, &RRPeer{Addr: tcpPeer(a, us.Port), Weight: 1, EffectiveWeight: 1,
			MaxFails: 1, FailTimeout: 10})
	}
	return &RoundRobin{Peers: peers}, nil
}

func buildPeers(us *UpstreamSrvConf, backup bool) *RRPeers {
	n, w, t := 0, 0, 0
	for _, s := range us.Servers {
		if s.Backup != backup {
			continue
		}
		n += len(s.Addrs)
		w += len(s.Addrs) * s.Weight
		if !s.Down {
			t += len(s.Addrs)
		}
	}
	if n == 0 {
		return nil
	}
	ps := &RRPeers{Single: n == 1, Weighted: w != n, TotalWeight: w, Tries: t, Name: us.Host}
	for _, s := range us.Servers {
		if s.Backup != backup {
			continue
		}
		for _, a := range s.Addrs {
			ps.Peers = append(ps.Peers, &RRPeer{Addr: a, Server: s.Name, Weight: s.Weight, EffectiveWeight: s.Weight,
				MaxConns: s.MaxConns, MaxFails: s.MaxFails, FailTimeout: s.FailTimeout, Down: s.Down})
		}
	}
	return ps
}

// upstreamInitError is an error found while an upstream is initialised;
// its text already names the place, as nginx's ngx_log_error with the
// upstream's file and line.
type upstreamInitError struct{ msg string }

func (e *upstreamInitError) Error() string { return e.msg }

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	if n == 0 {
		return "0"
	}
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// NewPeer implements Balancer.
func (rr *RoundRobin) NewPeer(r *Request, pc *PeerConn) (Peer, error) {
	return NewRRPeerData(rr.Peers, pc), nil
}

// RRPeerData is one request's round-robin state
// (ngx_http_upstream_rr_peer_data_t): the list in use, the current peer
// and the peers tried. Request loop only.
type RRPeerData struct {
	Peers   *RRPeers
	Current *RRPeer
	tried   []uint64
	small   [1]uint64
}

// NewRRPeerData starts round-robin selection over peers for a request and
// sets pc.Tries (ngx_http_upstream_init_round_robin_peer). The data lives
// in pc, one per peer connection: a request selects its peers once.
func NewRRPeerData(peers *RRPeers, pc *PeerConn) *RRPeerData {
	n := len(peers.Peers)
	if peers.Next != nil && len(peers.Next.Peers) > n {
		n = len(peers.Next.Peers)
	}
	d := &pc.reuse.rr
	tried := d.tried
	*d = RRPeerData{Peers: peers}
	if w := (n + 63) / 64; w <= 1 {
		d.tried = d.small[:]
	} else if cap(tried) >= w {
		d.tried = tried[:w]
		clear(d.tried)
	} else {
		d.tried = make([]uint64, w)
	}
	pc.Tries = peers.Tries
	if peers.Next != nil {
		pc.Tries += peers.Next.Tries
	}
	return d
}

// Tried tells whether peer i of the current list was tried.
func (d *RRPeerData) Tried(i int) bool { return d.tried[i/64]&(1<<(uint(i)%64)) != 0 }

// ClearTried forgets the peers tried, when selection moves to the backup
// list.
func (d *RRPeerData) ClearTried() { clear(d.tried) }

// SetTried marks peer i of the current list as tried.
func (d *RRPeerData) SetTried(i int) { d.tried[i/64] |= 1 << (uint(i) % 64) }

// Choose makes p the request's peer: pc gets its address, its connection
// count grows and its check time moves on (lock held).
func (d *RRPeerData) Choose(pc *PeerConn, p *RRPeer, i int, now int64) {
	d.Current = p
	pc.Addr = &p.Addr
	pc.Name = p.Addr.Name
	p.Conns++
	if now-p.Checked > p.FailTimeout {
		p.Checked = now
	}
	d.SetTried(i)
}

// Get implements Peer: smooth weighted round robin, then the backup list,
// then PeerBusy (ngx_http_upstream_get_round_robin_peer).
func (d *RRPeerData) Get(pc *PeerConn) PeerResult {
	pc.Cached = false
	pc.Conn = nil
	peers := d.Peers
	peers.Lock()
	if peers.Single {
		p := peers.Peers[0]
		if p.Down || (p.MaxConns > 0 && p.Conns >= p.MaxConns) {
			return d.failed(pc, peers)
		}
		d.Current = p
		pc.Addr = &p.Addr
		pc.Name = p.Addr.Name
		p.Conns++
		peers.Unlock()
		return PeerOK
	}
	if p := d.pick(pc.Now()); p != nil {
		pc.Addr = &p.Addr
		pc.Name = p.Addr.Name
		p.Conns++
		peers.Unlock()
		return PeerOK
	}
	return d.failed(pc, peers)
}

// failed moves to the backup list, or reports PeerBusy; the lock of
// peers is held on entry and released.
func (d *RRPeerData) failed(pc *PeerConn, peers *RRPeers) PeerResult {
	if peers.Next != nil {
		d.Peers = peers.Next
		clear(d.tried)
		peers.Unlock()
		if rc := d.Get(pc); rc != PeerBusy {
			return rc
		}
		pc.Name = peers.Name
		return PeerBusy
	}
	peers.Unlock()
	pc.Name = peers.Name
	return PeerBusy
}

// pick is ngx_http_upstream_get_peer: the usable untried peer with the
// highest current weight after each was raised by its effective weight.
// Lock held.
func (d *RRPeerData) pick(now int64) *RRPeer {
	var best *RRPeer
	bi, total := 0, 0
	for i, p := range d.Peers.Peers {
		if d.Tried(i) || !p.Usable(now) {
			continue
		}
		p.CurrentWeight += p.EffectiveWeight
		total += p.EffectiveWeight
		if p.EffectiveWeight < p.Weight {
			p.EffectiveWeight++
		}
		if best == nil || p.CurrentWeight > best.CurrentWeight {
			best, bi = p, i
		}
	}
	if best == nil {
		return nil
	}
	d.Current = best
	d.SetTried(bi)
	best.CurrentWeight -= total
	if now-best.Checked > best.FailTimeout {
		best.Checked = now
	}
	return best
}

// GetRR is round robin's Get, for balancers that fall back to it.
func (d *RRPeerData) GetRR(pc *PeerConn) PeerResult { return d.Get(pc) }

// Free implements Peer: a failure counts against the peer and lowers its
// effective weight ("upstream server temporarily disabled" once it
// reaches max_fails); a success after a failure clears the count
// (ngx_http_upstream_free_round_robin_peer).
func (d *RRPeerData) Free(pc *PeerConn, state uint32) {
	p := d.Current
	if p == nil {
		return
	}
	peers := d.Peers
	peers.Lock()
	p.Requests++
	if state&PeerFailed != 0 {
		p.Failures++
	}
	if peers.Single {
		p.Conns--
		peers.Unlock()
		pc.Tries = 0
		return
	}
	disabled := false
	if state&PeerFailed != 0 {
		now := pc.Now()
		p.Fails++
		p.Accessed = now
		p.Checked = now
		if p.MaxFails > 0 {
			p.EffectiveWeight -= p.Weight / p.MaxFails
			disabled = p.Fails >= p.MaxFails
		}
		if p.EffectiveWeight < 0 {
			p.EffectiveWeight = 0
		}
	} else if p.Accessed < p.Checked {
		p.Fails = 0
	}
	p.Conns--
	peers.Unlock()
	if disabled {
		pc.r.upstreamWarn("upstream server temporarily disabled")
	}
	if pc.Tries > 0 {
		pc.Tries--
	}
}

// ResolvedPeers makes the one-request peer list of an address found at
// run time (a literal, or a resolved name in proxy_pass with variables),
// as ngx_http_upstream_create_round_robin_peer.
func ResolvedPeers(host string, addrs []PeerAddr) *RRPeers {
	ps := &RRPeers{Single: len(addrs) == 1, Tries: len(addrs), Name: host}
	for _, a := range addrs {
		ps.Peers = append(ps.Peers, &RRPeer{Addr: a, Weight: 1, EffectiveWeight: 1, MaxFails: 1, FailTimeout: 10})
	}
	ps.TotalWeight = len(addrs)
	return ps
}
