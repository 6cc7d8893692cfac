// Package metrics is gresty's own gresty_metrics location handler: the
// server's counters in the Prometheus text exposition format 0.0.4.
//
// It reports requests by virtual server (its first server_name) and
// status, stub_status's connection counters, for each limit_req and
// limit_conn zone what it decided and how many keys it holds, for each
// upstream peer whether it is up, its connections, attempts and
// failures, and the Lua VMs, their heap and the shared dicts' use.
//
// Request counts are kept per loop and per configuration (one without a
// gresty_metrics location counts nothing): each request adds one, in the
// log phase, to a counter only its loop writes (an atomic add, no lock,
// no lookup by string: every virtual server's counters are found by an
// index fixed when the configuration is built), and a scrape sums the
// loops. A reload starts the request counters of the new configuration
// from zero (Prometheus reads that as a counter reset); connection
// counters and zones carry on.
//
// Configuration runs on the goroutine that builds the cycle; the handlers
// run on the request's loop.
package metrics

import (
	rtmetrics "runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/http/modules/lua"
	"gresty/http/modules/shmzone"
	"gresty/http/modules/upstream"
	"gresty/httpparse"
)

// Module is gresty's metrics module.
var Module = &core.Module{
	Name: "gresty_http_metrics_module",
	Type: core.HTTPType,
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "gresty_metrics", Ctx: core.HTTPSrv | core.HTTPLoc, Args: core.NoArgs, Level: core.LocLevel, Set: setMetrics},
	}
	Module.HTTP = &http.Hooks{
		CreateMainConf: func(*http.Conf) any { return &MainConf{} },
		CreateSrvConf:  func(*http.Conf) any { return &SrvConf{} },
		CreateLocConf: func(cf *http.Conf) any {
			return &LocConf{main: cf.MainConfOf(Module).(*MainConf)}
		},
		Postconfiguration: postconfiguration,
		InitLoop:          initLoop,
	}
}

// maxStatus bounds the statuses counted: nginx's return codes are below
// 1000.
const maxStatus = 1000

// MainConf is one configuration's counters.
type MainConf struct {
	// names are the distinct first server names, in order of the
	// servers; servers sharing a name share its counters.
	names []string
	// loops[i] are loop i's counters; the slice is replaced, never
	// changed, when a loop starts serving the configuration.
	loops atomic.Pointer[[]*loopCounters]
	mu    sync.Mutex
	zones *shmzone.Zones
	// ups and lua are the upstream and Lua modules' configuration, read
	// at scrape time (balancers are built after postconfiguration).
	ups *upstream.MainConf
	lua *lua.MainConf
	// exposed is set when a location of the configuration answers
	// scrapes: without one its request counts can never be read, and
	// requests are not counted.
	exposed bool
}

// SrvConf says which counters a server's requests go to.
type SrvConf struct {
	main *MainConf
	idx  int
}

// LocConf refers to the configuration's counters for the handler.
type LocConf struct {
	main *MainConf
}

// loopCounters are one loop's request counters: counts[name][status].
type loopCounters struct {
	counts [][maxStatus]atomic.Uint64
}

func setMetrics(p *core.Parser, d *conf.Directive, c any) error {
	p.Ctx().ConfFor(http.CoreModule, core.LocLevel).(*http.LocConf).Handler = handler
	c.(*LocConf).main.exposed = true
	return nil
}

func postconfiguration(cf *http.Conf) error {
	mc := cf.MainConfOf(Module).(*MainConf)
	mc.zones = shmzone.OfCycle(cf.Cycle)
	mc.ups, _ = cf.MainConfOf(upstream.Module).(*upstream.MainConf)
	mc.lua, _ = cf.MainConfOf(lua.Module).(*lua.MainConf)
	byName := map[string]int{}
	for _, s := range cf.Main.Servers {
		idx, ok := byName[s.Name]
		if !ok {
			idx = len(mc.names)
			byName[s.Name] = idx
			mc.names = append(mc.names, s.Name)
		}
		sc := s.Ctx.Srv[Module.TypeIndex].(*SrvConf)
		sc.main, sc.idx = mc, idx
	}
	if mc.exposed {
		cf.AddPhaseHandler(http.LogPhase, count)
	}
	return nil
}

// initLoop gives the loop its counters for the configuration.
func initLoop(cfg *http.Config, ls *http.LoopServer) (any, error) {
	mc := cfg.MainConfOf(Module).(*MainConf)
	lc := &loopCounters{counts: make([][maxStatus]atomic.Uint64, len(mc.names))}
	id := ls.Loop().ID()
	mc.mu.Lock()
	defer mc.mu.Unlock()
	var loops []*loopCounters
	if cur := mc.loops.Load(); cur != nil {
		loops = append(loops, *cur...)
	}
	for len(loops) <= id {
		loops = append(loops, nil)
	}
	loops[id] = lc
	mc.loops.Store(&loops)
	return lc, nil
}

// count is the log-phase handler: one more request of the server with
// its logged status.
func count(r *http.Request) int {
	sc, _ := r.Srv.Ctx.Srv[Module.TypeIndex].(*SrvConf)
	if sc == nil || sc.main == nil {
		return http.OK
	}
	loops := sc.main.loops.Load()
	id := r.Conn.Loop().ID()
	if loops == nil || id >= len(*loops) || (*loops)[id] == nil {
		return http.OK
	}
	st := r.LogStatus()
	if st < 0 || st >= maxStatus {
		return http.OK
	}
	(*loops)[id].counts[sc.idx][st].Add(1)
	return http.OK
}

// handler answers a scrape.
func handler(r *http.Request) int {
	if r.Method != httpparse.MethodGET && r.Method != httpparse.MethodHEAD {
		return 405
	}
	if rc := r.DiscardBody(); rc != http.OK {
		return rc
	}
	lc := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	body := lc.main.expose(nil, r.ServerStats())
	r.Out.Status = 200
	r.Out.ContentType = "text/plain; version=0.0.4; charset=utf-8"
	r.Out.ContentLength = int64(len(body))
	if rc := r.SendHeader(); rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	return r.OutputBytes(body, true, r == r.Main)
}

// expose appends the exposition of every metric to b.
func (mc *MainConf) expose(b []byte, cs http.ConnStats) []byte {
	b = family(b, "gresty_http_requests_total", "counter",
		"Requests answered, by virtual server (its first server_name) and status.")
	if loops := mc.loops.Load(); loops != nil {
		for idx, name := range mc.names {
			for st := 0; st < maxStatus; st++ {
				var n uint64
				for _, lc := range *loops {
					if lc != nil {
						n += lc.counts[idx][st].Load()
					}
				}
				if n == 0 {
					continue
				}
				b = append(b, "gresty_http_requests_total{server=\""...)
				b = appendLabel(b, name)
				b = append(b, "\",status=\""...)
				b = strconv.AppendInt(b, int64(st), 10)
				b = append(b, "\"} "...)
				b = strconv.AppendUint(b, n, 10)
				b = append(b, '\n')
			}
		}
	}
	for _, c := range []struct {
		name, help string
		v          uint64
	}{
		{"gresty_http_connections_accepted_total", "Client connections accepted.", cs.Accepted},
		{"gresty_http_connections_handled_total", "Client connections handled.", cs.Handled},
		{"gresty_http_client_requests_total", "Client requests read (stub_status's requests).", cs.Requests},
	} {
		b = family(b, c.name, "counter", c.help)
		b = sample(b, c.name, "", "", c.v)
	}
	b = family(b, "gresty_http_connections", "gauge", "Client connections open now, by state (stub_status's).")
	for _, g := range []struct {
		state string
		v     int64
	}{{"active", cs.Active}, {"reading", cs.Reading}, {"writing", cs.Writing}, {"waiting", cs.Waiting}} {
		b = sample(b, "gresty_http_connections", "state", g.state, uint64(max(g.v, 0)))
	}
	b = mc.exposeZones(b)
	b = mc.exposeUpstreams(b, time.Now().Unix())
	b = mc.exposeLua(b)
	return b
}

// peerSample is one peer's state, copied under its list's lock.
type peerSample struct {
	upstream, peer     string
	backup, up         bool
	conns              int
	requests, failures uint64
}

// exposeUpstreams appends, for every peer of every upstream block the
// configuration's balancers pick from, whether it is up, its connections
// and the attempts made with it.
func (mc *MainConf) exposeUpstreams(b []byte, now int64) []byte {
	if mc.ups == nil {
		return b
	}
	var peers []peerSample
	for _, us := range mc.ups.Upstreams {
		l, ok := us.Balancer.(http.PeerLister)
		if !ok {
			continue
		}
		backup := false
		for ps := l.RoundRobinPeers(); ps != nil; ps, backup = ps.Next, true {
			ps.Lock()
			for _, p := range ps.Peers {
				failed := p.MaxFails > 0 && p.Fails >= p.MaxFails && now-p.Checked <= p.FailTimeout
				peers = append(peers, peerSample{upstream: us.Host, peer: p.Addr.Name, backup: backup,
					up: !p.Down && !failed, conns: p.Conns, requests: p.Requests, failures: p.Failures})
			}
			ps.Unlock()
		}
	}
	if len(peers) == 0 {
		return b
	}
	for _, m := range []struct {
		name, typ, help string
		v               func(p *peerSample) uint64
	}{
		{"gresty_upstream_peer_up", "gauge",
			"1 while the peer may be chosen: not marked down and not failed max_fails times within fail_timeout.",
			func(p *peerSample) uint64 {
				if p.up {
					return 1
				}
				return 0
			}},
		{"gresty_upstream_peer_connections", "gauge", "Requests using the peer now.",
			func(p *peerSample) uint64 { return uint64(max(p.conns, 0)) }},
		{"gresty_upstream_peer_requests_total", "counter", "Attempts to serve a request with the peer.",
			func(p *peerSample) uint64 { return p.requests }},
		{"gresty_upstream_peer_failures_total", "counter",
			"Attempts that failed (the cases proxy_next_upstream counts as failures).",
			func(p *peerSample) uint64 { return p.failures }},
	} {
		b = family(b, m.name, m.typ, m.help)
		for i := range peers {
			p := &peers[i]
			b = append(b, m.name...)
			b = append(b, "{upstream=\""...)
			b = appendLabel(b, p.upstream)
			b = append(b, "\",peer=\""...)
			b = appendLabel(b, p.peer)
			if p.backup {
				b = append(b, "\",backup=\"1\"} "...)
			} else {
				b = append(b, "\",backup=\"0\"} "...)
			}
			b = strconv.AppendUint(b, m.v(p), 10)
			b = append(b, '\n')
		}
	}
	return b
}

// exposeLua appends the Lua VMs serving the configuration, the heap
// they live in and the shared dicts' use.
func (mc *MainConf) exposeLua(b []byte) []byte {
	if mc.lua == nil {
		return b
	}
	// Every VM's objects are Go objects in the one Go heap: gopher-lua
	// keeps no per-VM allocation count, so the heap is what is reported
	// (what collectgarbage("count") returns, in bytes).
	s := []rtmetrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() == rtmetrics.KindUint64 {
		b = family(b, "gresty_lua_memory_bytes", "gauge",
			"Bytes of live heap objects, which hold every Lua VM (the VMs share one heap; collectgarbage(\"count\") reports it in KB).")
		b = sample(b, "gresty_lua_memory_bytes", "", "", s[0].Value.Uint64())
	}
	b = family(b, "gresty_lua_vms", "gauge", "Lua VMs serving the configuration (one per event loop).")
	b = sample(b, "gresty_lua_vms", "", "", uint64(mc.lua.VMs()))
	type dict struct {
		name           string
		capacity, free int64
	}
	var dicts []dict
	mc.lua.SharedDictUsage(func(name string, capacity, free int64) {
		dicts = append(dicts, dict{name, capacity, free})
	})
	if len(dicts) == 0 {
		return b
	}
	b = family(b, "gresty_lua_shared_dict_capacity_bytes", "gauge", "A lua_shared_dict's size.")
	for _, d := range dicts {
		b = sample(b, "gresty_lua_shared_dict_capacity_bytes", "dict", d.name, uint64(d.capacity))
	}
	b = family(b, "gresty_lua_shared_dict_free_bytes", "gauge", "A lua_shared_dict's free pages, as free_space() reports them.")
	for _, d := range dicts {
		b = sample(b, "gresty_lua_shared_dict_free_bytes", "dict", d.name, uint64(max(d.free, 0)))
	}
	return b
}

// exposeZones appends, for limit_req and then limit_conn, the decisions
// and the keys held of each zone.
func (mc *MainConf) exposeZones(b []byte) []byte {
	if mc.zones == nil {
		return b
	}
	for _, kind := range []string{"limit_req", "limit_conn"} {
		var zones []*shmzone.Zone
		for _, z := range mc.zones.List {
			if _, ok := z.State.(shmzone.Counted); ok && z.Tag != nil && z.Tag.Name == "ngx_http_"+kind+"_module" {
				zones = append(zones, z)
			}
		}
		if len(zones) == 0 {
			continue
		}
		name := "gresty_" + kind + "_requests_total"
		b = family(b, name, "counter", "Requests "+kind+" decided on, by zone and outcome ($"+kind+"_status).")
		for _, z := range zones {
			z.State.(shmzone.Counted).Counts(func(outcome string, n uint64) {
				b = append(b, name...)
				b = append(b, "{zone=\""...)
				b = appendLabel(b, z.Name)
				b = append(b, "\",outcome=\""...)
				b = append(b, outcome...)
				b = append(b, "\"} "...)
				b = strconv.AppendUint(b, n, 10)
				b = append(b, '\n')
			})
		}
		name = "gresty_" + kind + "_zone_keys"
		b = family(b, name, "gauge", "Keys a "+kind+" zone holds now.")
		for _, z := range zones {
			b = sample(b, name, "zone", z.Name, uint64(z.State.(shmzone.Counted).Entries()))
		}
	}
	return b
}

func family(b []byte, name, typ, help string) []byte {
	b = append(b, "# HELP "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, help...)
	b = append(b, "\n# TYPE "...)
	b = append(b, name...)
	b = append(b, ' ')
	b = append(b, typ...)
	return append(b, '\n')
}

func sample(b []byte, name, label, value string, v uint64) []byte {
	b = append(b, name...)
	if label != "" {
		b = append(b, '{')
		b = append(b, label...)
		b = append(b, "=\""...)
		b = appendLabel(b, value)
		b = append(b, "\"}"...)
	}
	b = append(b, ' ')
	b = strconv.AppendUint(b, v, 10)
	return append(b, '\n')
}

// appendLabel escapes a label value as the text format wants: backslash,
// double quote and line feed.
func appendLabel(b []byte, s string) []byte {
	if !strings.ContainsAny(s, "\\\"\n") {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return b
}
