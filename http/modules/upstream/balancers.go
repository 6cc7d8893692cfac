package upstream

// The balancing methods other than round robin, each an nginx module of
// its own with one directive: ip_hash, hash [consistent], least_conn and
// random [two [least_conn]]. Each keeps nginx's arithmetic, so that the
// same key picks the same server as nginx.

import (
	"hash/crc32"
	"math/rand/v2"
	"sort"
	"strconv"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// IPHashModule is ngx_http_upstream_ip_hash_module.
var IPHashModule = &core.Module{
	Name: "ngx_http_upstream_ip_hash_module",
	Type: core.HTTPType,
	Directives: []core.Directive{{Name: "ip_hash", Ctx: core.HTTPUps, Args: core.NoArgs, Level: core.SrvLevel,
		Set: func(p *core.Parser, d *conf.Directive, c any) error {
			setMethod(p, d, srv(c), false, func(us *http.UpstreamSrvConf) (http.Balancer, error) {
				rr, err := http.NewRoundRobin(us)
				if err != nil {
					return nil, err
				}
				return &ipHash{rr}, nil
			})
			return nil
		}}},
}

// HashModule is ngx_http_upstream_hash_module.
var HashModule = &core.Module{
	Name:       "ngx_http_upstream_hash_module",
	Type:       core.HTTPType,
	Directives: []core.Directive{{Name: "hash", Ctx: core.HTTPUps, Args: core.Take12, Level: core.SrvLevel, Set: setHash}},
}

// LeastConnModule is ngx_http_upstream_least_conn_module.
var LeastConnModule = &core.Module{
	Name: "ngx_http_upstream_least_conn_module",
	Type: core.HTTPType,
	Directives: []core.Directive{{Name: "least_conn", Ctx: core.HTTPUps, Args: core.NoArgs, Level: core.SrvLevel,
		Set: func(p *core.Parser, d *conf.Directive, c any) error {
			setMethod(p, d, srv(c), true, func(us *http.UpstreamSrvConf) (http.Balancer, error) {
				rr, err := http.NewRoundRobin(us)
				if err != nil {
					return nil, err
				}
				return &leastConn{rr}, nil
			})
			return nil
		}}},
}

// RandomModule is ngx_http_upstream_random_module.
var RandomModule = &core.Module{
	Name:       "ngx_http_upstream_random_module",
	Type:       core.HTTPType,
	Directives: []core.Directive{{Name: "random", Ctx: core.HTTPUps, Args: core.NoArgs | core.Take12, Level: core.SrvLevel, Set: setRandom}},
}

// ZoneModule is ngx_http_upstream_zone_module. Peer state is shared by
// all loops whether or not a zone is named, so the zone is checked and
// recorded only.
var ZoneModule = &core.Module{
	Name:       "ngx_http_upstream_zone_module",
	Type:       core.HTTPType,
	Directives: []core.Directive{{Name: "zone", Ctx: core.HTTPUps, Args: core.Take12, Level: core.SrvLevel, Set: setZone}},
}

func setZone(p *core.Parser, d *conf.Directive, c any) error {
	us := srv(c)
	if d.Args[0] == "" {
		return p.Errorf(d, "invalid zone name \"%s\"", d.Args[0])
	}
	if len(d.Args) == 2 {
		size, ok := core.ParseSize(d.Args[1])
		if !ok {
			return p.Errorf(d, "invalid zone size \"%s\"", d.Args[1])
		}
		if size < 8*4096 {
			return p.Errorf(d, "zone \"%s\" is too small", d.Args[0])
		}
	}
	us.Zone = d.Args[0]
	return nil
}

// ipHash is ngx_http_upstream_ip_hash: the first three bytes of an IPv4
// client address (all sixteen of IPv6) pick a peer by weight; 20 misses
// fall back to round robin.
type ipHash struct{ rr *http.RoundRobin }

type ipHashPeer struct {
	*http.RRPeerData
	addr  []byte
	hash  uint
	tries int
}

var pseudoAddr = []byte{0, 0, 0}

// ipHashKey, hashKey, cHashKey, leastConnKey and randomKey keep a
// balancer's per-request state with the peer connection for the next
// request (PeerConn.Reuse).
type (
	ipHashKey    struct{}
	hashKey      struct{}
	cHashKey     struct{}
	leastConnKey struct{}
	randomKey    struct{}
)

func (b *ipHash) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	p, _ := pc.Reuse(ipHashKey{}).(*ipHashPeer)
	if p == nil {
		p = &ipHashPeer{}
		pc.Keep(ipHashKey{}, p)
	}
	*p = ipHashPeer{RRPeerData: http.NewRRPeerData(b.rr.Peers, pc), hash: 89}
	ip := r.Conn.RemoteAddrIP()
	switch len(ip) {
	case 4:
		p.addr = ip[:3]
	case 16:
		p.addr = ip
	default:
		p.addr = pseudoAddr
	}
	return p, nil
}

func (p *ipHashPeer) Get(pc *http.PeerConn) http.PeerResult {
	peers := p.Peers
	if p.tries > 20 || peers.Single {
		return p.RRPeerData.Get(pc)
	}
	pc.Cached, pc.Conn = false, nil
	now := pc.Now()
	peers.Lock()
	h := p.hash
	for {
		for _, c := range p.addr {
			h = (h*113 + uint(c)) % 6271
		}
		w := int(h % uint(peers.TotalWeight))
		i := 0
		for w >= peers.Peers[i].Weight {
			w -= peers.Peers[i].Weight
			i++
		}
		if !p.Tried(i) && peers.Peers[i].Usable(now) {
			p.Choose(pc, peers.Peers[i], i, now)
			peers.Unlock()
			p.hash = h
			return http.PeerOK
		}
		p.tries++
		if p.tries > 20 {
			peers.Unlock()
			return p.RRPeerData.Get(pc)
		}
	}
}

// setHash is the hash directive: a key, and "consistent" for ketama.
func setHash(p *core.Parser, d *conf.Directive, c any) error {
	us := srv(c)
	key, err := http.CompileTemplateP(p, d.Args[0])
	if err != nil {
		return err
	}
	consistent := false
	if len(d.Args) == 2 {
		if d.Args[1] != "consistent" {
			// nginx has installed the method before it looks at the
			// parameter.
			setMethod(p, d, us, false, nil)
			return p.Errorf(d, "invalid parameter \"%s\"", d.Args[1])
		}
		consistent = true
	}
	setMethod(p, d, us, false, func(us *http.UpstreamSrvConf) (http.Balancer, error) {
		rr, err := http.NewRoundRobin(us)
		if err != nil {
			return nil, err
		}
		if consistent {
			return newCHash(rr, key), nil
		}
		return &hashBalancer{rr: rr, key: key}, nil
	})
	return nil
}

// hashBalancer is ngx_http_upstream_hash: Cache::Memcached's
// ((crc32([REHASH] KEY) >> 16) & 0x7fff) + PREV_HASH, taken modulo the
// total weight.
type hashBalancer struct {
	rr  *http.RoundRobin
	key *http.Template
}

type hashPeer struct {
	*http.RRPeerData
	key    []byte
	hash   uint32
	rehash int
	tries  int
	num    [20]byte // the rehash count as text
}

func (b *hashBalancer) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	p, _ := pc.Reuse(hashKey{}).(*hashPeer)
	if p == nil {
		p = &hashPeer{}
		pc.Keep(hashKey{}, p)
	}
	*p = hashPeer{RRPeerData: http.NewRRPeerData(b.rr.Peers, pc), key: b.key.Eval(r, p.key[:0])}
	return p, nil
}

func (p *hashPeer) Get(pc *http.PeerConn) http.PeerResult {
	peers := p.Peers
	if p.tries > 20 || peers.Single || len(p.key) == 0 {
		return p.RRPeerData.Get(pc)
	}
	pc.Cached, pc.Conn = false, nil
	now := pc.Now()
	peers.Lock()
	for {
		var h uint32
		if p.rehash > 0 {
			h = crc32.Update(0, crc32.IEEETable, strconv.AppendInt(p.num[:0], int64(p.rehash), 10))
		}
		h = crc32.Update(h, crc32.IEEETable, p.key)
		p.hash += (h >> 16) & 0x7fff
		p.rehash++
		w := int(p.hash % uint32(peers.TotalWeight))
		i := 0
		for w >= peers.Peers[i].Weight {
			w -= peers.Peers[i].Weight
			i++
		}
		if !p.Tried(i) && peers.Peers[i].Usable(now) {
			p.Choose(pc, peers.Peers[i], i, now)
			peers.Unlock()
			return http.PeerOK
		}
		p.tries++
		if p.tries > 20 {
			peers.Unlock()
			return p.RRPeerData.Get(pc)
		}
	}
}

// chashPoint is one point of the ketama continuum.
type chashPoint struct {
	hash   uint32
	server string
}

// cHash is ngx_http_upstream_chash: every server gets 160 points per unit
// of weight, crc32(HOST \0 PORT PREV_HASH) as Cache::Memcached::Fast; a
// key goes to the first point at or after crc32(KEY), then on around the
// ring.
type cHash struct {
	rr     *http.RoundRobin
	key    *http.Template
	points []chashPoint
}

func newCHash(rr *http.RoundRobin, key *http.Template) *cHash {
	b := &cHash{rr: rr, key: key}
	for _, peer := range rr.Peers.Peers {
		server := peer.Server
		var host, port string
		if len(server) >= 5 && equalFoldASCII(server[:5], "unix:") {
			host = server[5:]
		} else {
			host = server
			for j := 0; j < len(server); j++ {
				c := server[len(server)-j-1]
				if c == ':' {
					host, port = server[:len(server)-j-1], server[len(server)-j:]
					break
				}
				if c < '0' || c > '9' {
					break
				}
			}
		}
		base := crc32.Update(0, crc32.IEEETable, []byte(host))
		base = crc32.Update(base, crc32.IEEETable, []byte{0})
		base = crc32.Update(base, crc32.IEEETable, []byte(port))
		var prev [4]byte
		for j := 0; j < peer.Weight*160; j++ {
			h := crc32.Update(base, crc32.IEEETable, prev[:])
			b.points = append(b.points, chashPoint{hash: h, server: server})
			prev = [4]byte{byte(h), byte(h >> 8), byte(h >> 16), byte(h >> 24)}
		}
	}
	sort.SliceStable(b.points, func(i, j int) bool { return b.points[i].hash < b.points[j].hash })
	k := 0
	for j := 1; j < len(b.points); j++ {
		if b.points[k].hash != b.points[j].hash {
			k++
			b.points[k] = b.points[j]
		}
	}
	if len(b.points) > 0 {
		b.points = b.points[:k+1]
	}
	return b
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// findPoint returns the first point at or after h (the end when none).
func (b *cHash) findPoint(h uint32) uint32 {
	i, j := 0, len(b.points)
	for i < j {
		k := (i + j) / 2
		switch {
		case h > b.points[k].hash:
			i = k + 1
		case h < b.points[k].hash:
			j = k
		default:
			return uint32(k)
		}
	}
	return uint32(i)
}

type cHashPeer struct {
	*http.RRPeerData
	b     *cHash
	key   []byte
	hash  uint32
	tries int
}

func (b *cHash) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	p, _ := pc.Reuse(cHashKey{}).(*cHashPeer)
	if p == nil {
		p = &cHashPeer{}
		pc.Keep(cHashKey{}, p)
	}
	*p = cHashPeer{RRPeerData: http.NewRRPeerData(b.rr.Peers, pc), b: b, key: b.key.Eval(r, p.key[:0])}
	p.hash = b.findPoint(crc32.ChecksumIEEE(p.key))
	return p, nil
}

func (p *cHashPeer) Get(pc *http.PeerConn) http.PeerResult {
	peers := p.Peers
	if p.tries > 20 || peers.Single || len(p.key) == 0 || len(p.b.points) == 0 {
		return p.RRPeerData.Get(pc)
	}
	pc.Cached, pc.Conn = false, nil
	now := pc.Now()
	peers.Lock()
	for {
		server := p.b.points[p.hash%uint32(len(p.b.points))].server
		var best *http.RRPeer
		bi, total := 0, 0
		for i, peer := range peers.Peers {
			if p.Tried(i) || !peer.Usable(now) || peer.Server != server {
				continue
			}
			peer.CurrentWeight += peer.EffectiveWeight
			total += peer.EffectiveWeight
			if peer.EffectiveWeight < peer.Weight {
				peer.EffectiveWeight++
			}
			if best == nil || peer.CurrentWeight > best.CurrentWeight {
				best, bi = peer, i
			}
		}
		if best != nil {
			best.CurrentWeight -= total
			p.Choose(pc, best, bi, now)
			peers.Unlock()
			return http.PeerOK
		}
		p.hash++
		p.tries++
		if p.tries > 20 {
			peers.Unlock()
			return p.RRPeerData.Get(pc)
		}
	}
}

// leastConn is ngx_http_upstream_least_conn: the peer with the fewest
// connections for its weight, round robin among equals, then the backup
// list.
type leastConn struct{ rr *http.RoundRobin }

type leastConnPeer struct{ *http.RRPeerData }

func (b *leastConn) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	p, _ := pc.Reuse(leastConnKey{}).(*leastConnPeer)
	if p == nil {
		p = &leastConnPeer{}
		pc.Keep(leastConnKey{}, p)
	}
	*p = leastConnPeer{http.NewRRPeerData(b.rr.Peers, pc)}
	return p, nil
}

func (p *leastConnPeer) Get(pc *http.PeerConn) http.PeerResult {
	peers := p.Peers
	if peers.Single {
		return p.RRPeerData.Get(pc)
	}
	pc.Cached, pc.Conn = false, nil
	now := pc.Now()
	peers.Lock()
	var best *http.RRPeer
	bi, many := 0, false
	for i, peer := range peers.Peers {
		if p.Tried(i) || !peer.Usable(now) {
			continue
		}
		if best == nil || peer.Conns*best.Weight < best.Conns*peer.Weight {
			best, bi, many = peer, i, false
		} else if peer.Conns*best.Weight == best.Conns*peer.Weight {
			many = true
		}
	}
	if best == nil {
		if peers.Next != nil {
			p.Peers = peers.Next
			p.ClearTried()
			peers.Unlock()
			if rc := p.Get(pc); rc != http.PeerBusy {
				return rc
			}
			pc.Name = peers.Name
			return http.PeerBusy
		}
		peers.Unlock()
		pc.Name = peers.Name
		return http.PeerBusy
	}
	total := 0
	if many {
		first := best
		for i := bi; i < len(peers.Peers); i++ {
			peer := peers.Peers[i]
			if p.Tried(i) || peer.Down || peer.Conns*first.Weight != first.Conns*peer.Weight || !peer.Usable(now) {
				continue
			}
			peer.CurrentWeight += peer.EffectiveWeight
			total += peer.EffectiveWeight
			if peer.EffectiveWeight < peer.Weight {
				peer.EffectiveWeight++
			}
			if peer.CurrentWeight > best.CurrentWeight {
				best, bi = peer, i
			}
		}
	}
	best.CurrentWeight -= total
	p.Choose(pc, best, bi, now)
	peers.Unlock()
	return http.PeerOK
}

// setRandom is the random directive: "two" picks the less loaded of two
// random peers ("least_conn", the only method, may follow).
func setRandom(p *core.Parser, d *conf.Directive, c any) error {
	us := srv(c)
	two := false
	if len(d.Args) >= 1 {
		if d.Args[0] != "two" {
			setMethod(p, d, us, false, nil)
			return p.Errorf(d, "invalid parameter \"%s\"", d.Args[0])
		}
		two = true
		if len(d.Args) == 2 && d.Args[1] != "least_conn" {
			setMethod(p, d, us, false, nil)
			return p.Errorf(d, "invalid parameter \"%s\"", d.Args[1])
		}
	}
	setMethod(p, d, us, false, func(us *http.UpstreamSrvConf) (http.Balancer, error) {
		rr, err := http.NewRoundRobin(us)
		if err != nil {
			return nil, err
		}
		b := &random{rr: rr, two: two}
		total := 0
		for _, peer := range rr.Peers.Peers {
			b.ranges = append(b.ranges, total)
			total += peer.Weight
		}
		return b, nil
	})
	return nil
}

// random is ngx_http_upstream_random: a peer drawn in proportion to its
// weight; with two, the less loaded of two draws.
type random struct {
	rr     *http.RoundRobin
	two    bool
	ranges []int
}

type randomPeer struct {
	*http.RRPeerData
	b     *random
	tries int
}

func (b *random) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	p, _ := pc.Reuse(randomKey{}).(*randomPeer)
	if p == nil {
		p = &randomPeer{}
		pc.Keep(randomKey{}, p)
	}
	*p = randomPeer{RRPeerData: http.NewRRPeerData(b.rr.Peers, pc), b: b}
	return p, nil
}

// peek draws a peer index by weight (ngx_http_upstream_peek_random_peer).
func (p *randomPeer) peek() int {
	peers := p.b.rr.Peers
	x := rand.IntN(peers.TotalWeight)
	i, j := 0, len(peers.Peers)
	for j-i > 1 {
		k := (i + j) / 2
		if x < p.b.ranges[k] {
			j = k
		} else {
			i = k
		}
	}
	return i
}

func (p *randomPeer) Get(pc *http.PeerConn) http.PeerResult {
	peers := p.Peers
	if p.tries > 20 || peers.Single || peers != p.b.rr.Peers {
		return p.RRPeerData.Get(pc)
	}
	pc.Cached, pc.Conn = false, nil
	now := pc.Now()
	peers.Lock()
	if !p.b.two {
		for {
			i := p.peek()
			if !p.Tried(i) && peers.Peers[i].Usable(now) {
				p.Choose(pc, peers.Peers[i], i, now)
				peers.Unlock()
				return http.PeerOK
			}
			p.tries++
			if p.tries > 20 {
				peers.Unlock()
				return p.RRPeerData.Get(pc)
			}
		}
	}
	prev, pi := (*http.RRPeer)(nil), 0
	for {
		i := p.peek()
		peer := peers.Peers[i]
		if peer != prev && !p.Tried(i) && peer.Usable(now) {
			if prev != nil {
				if peer.Conns*prev.Weight > prev.Conns*peer.Weight {
					peer, i = prev, pi
				}
				p.Choose(pc, peer, i, now)
				peers.Unlock()
				return http.PeerOK
			}
			prev, pi = peer, i
		}
		p.tries++
		if p.tries > 20 {
			peers.Unlock()
			return p.RRPeerData.Get(pc)
		}
	}
}

// RoundRobinPeers implements http.PeerLister for the balancing methods,
// which all pick among round robin's peers.
func (b *ipHash) RoundRobinPeers() *http.RRPeers       { return b.rr.Peers }
func (b *hashBalancer) RoundRobinPeers() *http.RRPeers { return b.rr.Peers }
func (b *cHash) RoundRobinPeers() *http.RRPeers        { return b.rr.Peers }
func (b *leastConn) RoundRobinPeers() *http.RRPeers    { return b.rr.Peers }
func (b *random) RoundRobinPeers() *http.RRPeers       { return b.rr.Peers }
