// Package upstream is ngx_http_upstream_module's configuration side and
// nginx's balancing modules: the upstream{} block and its server
// directive, the registry of upstreams (explicit blocks and the implicit
// ones proxy_pass creates), the $upstream_* variables, and the hash,
// ip_hash, least_conn, random, keepalive and zone directives
// (ngx_http_upstream_hash_module ... ngx_http_upstream_zone_module).
//
// The request-time machinery and round robin live in package http; the
// balancers here build on its RRPeers. Peer state is shared by all loops
// (a mutex per upstream, held only while a peer is picked or released),
// as nginx shares it between workers when the upstream has a zone; the
// zone directive is accepted and changes nothing else. Keepalive caches
// are per loop: "keepalive N" keeps up to N idle connections on each
// loop, as nginx keeps N per worker.
//
// Configuration hooks run on the goroutine that builds the
// configuration; balancers run on the request's loop.
package upstream

import (
	"fmt"
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// MainConf is the upstream module's http-level configuration: every
// upstream of the http block, explicit or implicit, in order of creation.
type MainConf struct {
	Upstreams []*http.UpstreamSrvConf
}

// Module is ngx_http_upstream_module.
var Module = &core.Module{
	Name: "ngx_http_upstream_module",
	Type: core.HTTPType,
	Directives: []core.Directive{
		{Name: "upstream", Ctx: core.HTTPMain, Args: core.Block | core.Take1, Level: core.MainLevel, Set: setUpstream},
		{Name: "server", Ctx: core.HTTPUps, Args: core.OneMore, Level: core.SrvLevel, Set: setServer},
	},
	HTTP: &http.Hooks{
		Preconfiguration: func(cf *http.Conf) error {
			for _, v := range http.UpstreamVariables() {
				if _, err := cf.AddVariable(v); err != nil {
					return err
				}
			}
			return nil
		},
		CreateMainConf: func(cf *http.Conf) any { return &MainConf{} },
		InitMainConf:   initMainConf,
	},
}

// MainConfOf returns the upstream registry of the http block a directive
// is being parsed in.
func MainConfOf(p *core.Parser) *MainConf {
	ctx := p.Ctx().(*http.ConfCtx)
	return ctx.Main[Module.TypeIndex].(*MainConf)
}

func initMainConf(cf *http.Conf, c any) error {
	for _, us := range c.(*MainConf).Upstreams {
		if err := us.Init(); err != nil {
			return &core.Error{Msg: err.Error()}
		}
	}
	return nil
}

// Find returns the upstream a run-time address names
// (ngx_http_upstream_init_request's search): same host, and the same
// port unless the upstream is a block and the address has none.
func (mc *MainConf) Find(host string, port int, noPort bool) *http.UpstreamSrvConf {
	for _, us := range mc.Upstreams {
		if len(us.Host) == len(host) && ((us.Port == 0 && noPort) || us.Port == port) && strings.EqualFold(us.Host, host) {
			return us
		}
	}
	return nil
}

// blockCtx is the context of an upstream{} block: every balancing module
// writes into the block's UpstreamSrvConf.
type blockCtx struct {
	main []any
	us   *http.UpstreamSrvConf
}

func (c *blockCtx) ConfFor(m *core.Module, level core.Level) any {
	if level == core.MainLevel {
		return c.main[m.TypeIndex]
	}
	return c.us
}

// Srv returns the upstream block being parsed, from a directive's
// configuration argument.
func srv(c any) *http.UpstreamSrvConf { return c.(*http.UpstreamSrvConf) }

func endLine(d *conf.Directive) int {
	if d.EndLine != 0 {
		return d.EndLine
	}
	return d.Line
}

// Add finds or creates the upstream for u (ngx_http_upstream_add): an
// upstream block (flags with http.UpstreamCreate) or the address of
// proxy_pass. Errors carry nginx's messages.
func (mc *MainConf) Add(p *core.Parser, d *conf.Directive, u *http.URL, flags uint32) (*http.UpstreamSrvConf, error) {
	for _, us := range mc.Upstreams {
		if len(us.Host) != len(u.Host) || !strings.EqualFold(us.Host, u.Host) {
			continue
		}
		if flags&http.UpstreamCreate != 0 && us.Flags&http.UpstreamCreate != 0 {
			return nil, p.Errorf(d, "duplicate upstream \"%s\"", u.Host)
		}
		if us.Flags&http.UpstreamCreate != 0 && !u.NoPort {
			return nil, p.Errorf(d, "upstream \"%s\" may not have port %d", u.Host, u.Port)
		}
		if flags&http.UpstreamCreate != 0 && !us.NoPort {
			return nil, &core.Error{Msg: fmt.Sprintf("upstream \"%s\" may not have port %d in %s:%d", u.Host, us.Port, us.File, us.Line)}
		}
		if us.Port != 0 && u.Port != 0 && us.Port != u.Port {
			continue
		}
		if flags&http.UpstreamCreate != 0 {
			us.Flags = flags
			us.Port = 0
		}
		return us, nil
	}
	us := &http.UpstreamSrvConf{Flags: flags, Host: u.Host, File: d.File, Line: endLine(d), Port: u.Port, NoPort: u.NoPort}
	if len(u.Addrs) == 1 && (u.Port != 0 || u.Unix) {
		us.Servers = []*http.UpstreamServer{{Name: u.Host, Addrs: u.Addrs}}
	}
	mc.Upstreams = append(mc.Upstreams, us)
	return us, nil
}

func setUpstream(p *core.Parser, d *conf.Directive, c any) error {
	mc := c.(*MainConf)
	flags := http.UpstreamCreate | http.UpstreamWeight | http.UpstreamMaxConns | http.UpstreamMaxFails |
		http.UpstreamFailTimeout | http.UpstreamDown | http.UpstreamBackup
	us, err := mc.Add(p, d, &http.URL{Host: d.Args[0], NoPort: true}, flags)
	if err != nil {
		return err
	}
	us.Servers = []*http.UpstreamServer{}
	pctx := p.Ctx().(*http.ConfCtx)
	if err := p.Block(d, core.HTTPType, core.HTTPUps, &blockCtx{main: pctx.Main, us: us}); err != nil {
		return err
	}
	if len(us.Servers) == 0 {
		line := d.CloseLine
		if line == 0 {
			line = endLine(d)
		}
		return &core.Error{Msg: "no servers are inside upstream", File: d.File, Line: line}
	}
	return nil
}

// setServer is ngx_http_upstream_server: an address and its parameters,
// the ones the balancing method allows.
func setServer(p *core.Parser, d *conf.Directive, c any) error {
	us := srv(c)
	s := &http.UpstreamServer{Weight: 1, MaxFails: 1, FailTimeout: 10}
	for _, a := range d.Args[1:] {
		var need uint32
		ok := true
		switch {
		case strings.HasPrefix(a, "weight="):
			need = http.UpstreamWeight
			n, good := core.Atoi(a[7:])
			ok = good && n != 0
			s.Weight = n
		case strings.HasPrefix(a, "max_conns="):
			need = http.UpstreamMaxConns
			s.MaxConns, ok = core.Atoi(a[10:])
		case strings.HasPrefix(a, "max_fails="):
			need = http.UpstreamMaxFails
			s.MaxFails, ok = core.Atoi(a[10:])
		case strings.HasPrefix(a, "fail_timeout="):
			need = http.UpstreamFailTimeout
			s.FailTimeout, ok = core.ParseTime(a[13:], true)
		case a == "backup":
			need = http.UpstreamBackup
			s.Backup = true
		case a == "down":
			need = http.UpstreamDown
			s.Down = true
		default:
			ok = false
		}
		if need != 0 && us.Flags&need == 0 {
			return p.Errorf(d, "balancing method does not support parameter \"%s\"", a)
		}
		if !ok {
			return p.Errorf(d, "invalid parameter \"%s\"", a)
		}
	}
	u, err := http.ParseURL(d.Args[0], 80, false, true)
	if err != nil {
		return p.Errorf(d, "%s in upstream \"%s\"", err, d.Args[0])
	}
	s.Name = d.Args[0]
	s.Addrs = u.Addrs
	us.Servers = append(us.Servers, s)
	return nil
}

// setMethod installs a balancing method on the block being parsed, with
// nginx's warning when one was already chosen, and narrows what server
// directives may carry.
func setMethod(p *core.Parser, d *conf.Directive, us *http.UpstreamSrvConf, backup bool,
	init func(us *http.UpstreamSrvConf) (http.Balancer, error)) {
	if us.InitUpstream != nil {
		p.Warnf(d, "load balancing method redefined")
	}
	us.InitUpstream = init
	us.Flags = http.UpstreamCreate | http.UpstreamWeight | http.UpstreamMaxConns | http.UpstreamMaxFails |
		http.UpstreamFailTimeout | http.UpstreamDown
	if backup {
		us.Flags |= http.UpstreamBackup
	}
}
