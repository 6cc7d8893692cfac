package lua

import (
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
)

// balancer_by_lua_block and balancer_by_lua_file (ngx_http_lua_balancer.c)
// and require "ngx.balancer" (lua-resty-core's ngx/balancer.lua).
//
// The code runs each time the upstream machinery picks a peer, the first
// try and every retry, on the request's loop and without yielding. It
// may name the peer with set_current_peer; when it does not, the
// block's servers are picked round robin, as ngx_lua falls back to.

// ngxBusy is NGX_BUSY, which ngx.exit may pass on from the code: no live
// upstreams.
const ngxBusy = -3

// balancerKey keys a block's balancer code in UpstreamSrvConf.Conf.
type balancerKey struct{}

func balancerDirectives() []core.Directive {
	set := func(form string) func(p *core.Parser, d *conf.Directive, c any) error {
		return func(p *core.Parser, d *conf.Directive, c any) error {
			us := c.(*http.UpstreamSrvConf)
			if us.Conf(balancerKey{}, nil) != nil {
				if form == "block" {
					// ngx_lua's block parser reports its handler's
					// answer bare.
					return p.Errorf(d, "is duplicate")
				}
				return p.Invalid(d, "is duplicate")
			}
			h, err := newHandler(p, p.Ext.(*http.Conf), d, form, "balancer_by_lua", PhaseBalancer)
			if err != nil {
				return err
			}
			us.Conf(balancerKey{}, func() any { return h })
			if us.InitUpstream != nil {
				p.Warnf(d, "load balancing method redefined")
			}
			us.InitUpstream = func(us *http.UpstreamSrvConf) (http.Balancer, error) {
				rr, err := http.NewRoundRobin(us)
				if err != nil {
					return nil, err
				}
				// ngx_lua clears the round-robin peers' "single" flag on
				// the first peer Lua sets, so that a fallback try does
				// the full round-robin checks; done once here.
				rr.Peers.Single = false
				return &luaBalancer{rr: rr, h: h}, nil
			}
			us.Flags = http.UpstreamCreate | http.UpstreamWeight | http.UpstreamMaxFails |
				http.UpstreamFailTimeout | http.UpstreamDown
			return nil
		}
	}
	return []core.Directive{
		{Name: "balancer_by_lua_block", Ctx: core.HTTPUps, Args: core.Block | core.NoArgs, Level: core.SrvLevel, Set: set("block")},
		{Name: "balancer_by_lua_file", Ctx: core.HTTPUps, Args: core.Take1, Level: core.SrvLevel, Set: set("file")},
	}
}

// luaBalancer is an upstream block with balancer_by_lua.
type luaBalancer struct {
	rr *http.RoundRobin
	h  *Handler
}

func (b *luaBalancer) NewPeer(r *http.Request, pc *http.PeerConn) (http.Peer, error) {
	rp, err := b.rr.NewPeer(r, pc)
	if err != nil {
		return nil, err
	}
	p, _ := pc.Reuse(balancerKey{}).(*luaPeer)
	if p == nil {
		p = &luaPeer{}
		pc.Keep(balancerKey{}, p)
	}
	*p = luaPeer{rr: rp, r: r, h: b.h}
	return p, nil
}

// luaPeer is one request's peer data (ngx_http_lua_balancer_peer_data_t).
type luaPeer struct {
	rr http.Peer
	r  *http.Request
	h  *Handler
	// addr is the peer set_current_peer named for the current try, nil
	// when the code named none.
	addr       *http.PeerAddr
	addrBuf    http.PeerAddr
	moreTries  int
	totalTries int
	lastState  uint32
}

// Get runs the code for a try (ngx_http_lua_balancer_get_peer).
func (p *luaPeer) Get(pc *http.PeerConn) http.PeerResult {
	r := p.r
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "lua balancer peer, tries: %d", pc.Tries)
	}
	st := stateOf(r)
	if st == nil {
		return http.PeerError
	}
	c := ctxOf(st, r)
	c.exited, c.exitCode = false, 0
	p.addr = nil
	p.moreTries = 0
	p.totalTries++
	st.balancer = p
	_, ok := runSync(st, r, p.h, PhaseBalancer, "balancer_by_lua*")
	if !ok {
		return http.PeerError
	}
	if c.exited && c.exitCode != http.OK {
		switch code := c.exitCode; {
		case code == http.Error:
			return http.PeerError
		case code == ngxBusy:
			return http.PeerBusy
		case code == http.Declined:
			return http.PeerDeclined
		case code > http.OK:
			return http.PeerError
		}
	}
	if p.addr != nil {
		pc.Addr = p.addr
		pc.Name = p.addr.Name
		pc.Cached = false
		pc.Conn = nil
		pc.Tries += p.moreTries
		return http.PeerOK
	}
	return p.rr.Get(pc)
}

// Free ends a try (ngx_http_lua_balancer_free_peer): a peer Lua named
// only keeps its state for get_last_failure.
func (p *luaPeer) Free(pc *http.PeerConn, state uint32) {
	r := p.r
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "lua balancer free peer, tries: %d", pc.Tries)
	}
	if p.addr != nil {
		p.lastState = state
		if pc.Tries > 0 {
			pc.Tries--
		}
		return
	}
	p.rr.Free(pc, state)
}

func init() { registerAPI(installBalancer) }

func installBalancer(st *loopState) {
	// peer returns the balancer data of the running code, or the
	// message ngx_lua's FFI functions fail with.
	peer := func(L *glua.LState) (*luaPeer, *http.UpstreamRequest, string) {
		c := st.cur()
		if c == nil || c.r == nil {
			luavm.Raise(L, "no request found")
		}
		u := c.r.UpstreamRequest()
		switch {
		case u == nil:
			return nil, nil, "no upstream found"
		case c.phase != PhaseBalancer:
			return nil, nil, "API disabled in the current context"
		case st.balancer == nil:
			return nil, nil, "no upstream peer data found"
		}
		return st.balancer, u, ""
	}
	st.vm.Preload("ngx.balancer", func(L *glua.LState) int {
		m := L.NewTable()
		m.RawSetString("version", glua.LString(restyCoreVersion))
		m.RawSetString("set_current_peer", L.NewFunction(func(L *glua.LState) int {
			addr := checkLuaString(L, 1)
			port := 0
			switch v := L.Get(2).(type) {
			case *glua.LNilType:
			case glua.LNumber:
				port = int(v)
			default:
				if f, ok := luavm.ParseNumber(L.ToString(2)); ok {
					port = int(f)
				}
			}
			p, _, msg := peer(L)
			if p == nil {
				return pushErr(L, msg)
			}
			u, err := http.ParseURL(addr, port, false, false)
			if err != nil {
				return pushErr(L, err.Error())
			}
			if len(u.Addrs) == 0 {
				return pushErr(L, "no host allowed")
			}
			p.addrBuf = u.Addrs[0]
			p.addr = &p.addrBuf
			L.Push(glua.LTrue)
			return 1
		}))
		m.RawSetString("set_more_tries", L.NewFunction(func(L *glua.LState) int {
			count := checkInteger(L, 1)
			p, u, msg := peer(L)
			if p == nil {
				return pushErr(L, msg)
			}
			warn := ""
			total := p.totalTries + u.PeerTries() - 1
			if max := u.Conf.NextUpstreamTries; max > 0 && total+count > max {
				count = max - total
				warn = "reduced tries due to limit"
			}
			p.moreTries = count
			L.Push(glua.LTrue)
			if warn != "" {
				L.Push(glua.LString(warn))
				return 2
			}
			return 1
		}))
		m.RawSetString("get_last_failure", L.NewFunction(func(L *glua.LState) int {
			p, u, msg := peer(L)
			if p == nil {
				L.Push(glua.LNil)
				L.Push(glua.LNil)
				L.Push(glua.LString(msg))
				return 3
			}
			if p.lastState == 0 {
				L.Push(glua.LNil)
				return 1
			}
			switch p.lastState {
			case http.PeerKeepalive:
				L.Push(glua.LString("keepalive"))
			case http.PeerNext:
				L.Push(glua.LString("next"))
			case http.PeerFailed:
				L.Push(glua.LString("failed"))
			default:
				L.Push(glua.LString("unknown"))
			}
			L.Push(glua.LNumber(u.PreviousStatus()))
			return 2
		}))
		m.RawSetString("set_timeouts", L.NewFunction(func(L *glua.LState) int {
			var ms [3]int64
			for i, what := range []string{"connect", "send", "read"} {
				switch v := L.Get(i + 1).(type) {
				case *glua.LNilType:
				case glua.LNumber:
					if v <= 0 {
						luavm.Raise(L, "bad %s timeout", what)
					}
					ms[i] = int64(float64(v) * 1000)
				default:
					if v == glua.LFalse {
						continue
					}
					luavm.Raise(L, "bad %s timeout", what)
				}
			}
			p, u, msg := peer(L)
			if p == nil {
				L.Push(glua.LFalse)
				L.Push(glua.LString(msg))
				return 2
			}
			uc := u.OwnConf()
			if ms[0] > 0 {
				uc.ConnectTimeout = time.Duration(ms[0]) * time.Millisecond
			}
			if ms[1] > 0 {
				uc.SendTimeout = time.Duration(ms[1]) * time.Millisecond
			}
			if ms[2] > 0 {
				uc.ReadTimeout = time.Duration(ms[2]) * time.Millisecond
			}
			L.Push(glua.LTrue)
			return 1
		}))
		m.RawSetString("recreate_request", L.NewFunction(func(L *glua.LState) int {
			p, u, msg := peer(L)
			if p == nil {
				return pushErr(L, msg)
			}
			if err := u.RecreateRequest(); err != nil {
				return pushErr(L, "failed to recreate the upstream request")
			}
			L.Push(glua.LTrue)
			return 1
		}))
		L.Push(m)
		return 1
	})
}
