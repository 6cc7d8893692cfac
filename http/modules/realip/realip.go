// Package realip is nginx's ngx_http_realip_module: behind trusted
// proxies (set_real_ip_from), the client address is taken from a request
// header (real_ip_header: X-Real-IP, X-Forwarded-For, any other header,
// or proxy_protocol) and replaces the connection's address for the rest
// of the request: $remote_addr, $binary_remote_addr, $remote_port,
// allow/deny, limits keyed by the address, the access log and the
// "client:" of error-log lines. $realip_remote_addr and
// $realip_remote_port keep the original address.
//
// The handler runs in the post-read phase with the server's
// configuration, and again in the pre-access phase with the location's,
// as nginx's does; once an address was set, it stays for the request.
// Configuration runs on the goroutine that builds the cycle; the handler
// runs on the request's loop.
package realip

import (
	"strconv"
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_realip_module.
var Module = &core.Module{
	Name:      "ngx_http_realip_module",
	Type:      core.HTTPType,
	Configure: "--with-http_realip_module",
}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.Custom("set_real_ip_from", ctx, core.Take1, core.LocLevel, setFrom, nil),
		core.Custom("real_ip_header", ctx, core.Take1, core.LocLevel, setHeader, nil),
		core.FlagSlot("real_ip_recursive", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Recursive }, false),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration:  addVariables,
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// Where the address comes from.
const (
	fromXRealIP = iota
	fromXForwardedFor
	fromHeader
	fromProxyProtocol
)

// LocConf is one level's configuration.
type LocConf struct {
	// From are the trusted addresses; nil when the level set none.
	From []http.CIDR
	// Type is where the address comes from; Header names the header
	// when Type is fromHeader.
	Type      core.Value[int]
	Header    string
	Recursive core.Value[bool]
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.From == nil {
		c.From = p.From
	}
	core.MergeValue(&p.Type, &c.Type, fromXRealIP)
	if c.Header == "" {
		c.Header = p.Header
	}
	return nil
}

// setFrom is ngx_http_realip_from: "unix:", a network, or a host name
// whose addresses are trusted.
func setFrom(p *core.Parser, d *conf.Directive, c *LocConf) error {
	arg := d.Args[0]
	if c.From == nil {
		c.From = make([]http.CIDR, 0, 2)
	}
	if arg == "unix:" {
		c.From = append(c.From, http.CIDR{Unix: true})
		return nil
	}
	cd, res := http.ParseCIDR(arg)
	if res != http.CIDRInvalid {
		if res == http.CIDRMasked {
			p.Warnf(d, "low address bits of %s are meaningless", arg)
		}
		c.From = append(c.From, cd)
		return nil
	}
	addrs, err := http.ResolveHost(arg)
	if err != nil {
		return p.Errorf(d, "%s in set_real_ip_from \"%s\"", err.Error(), arg)
	}
	for _, a := range addrs {
		c.From = append(c.From, http.HostCIDR(a))
	}
	return nil
}

// setHeader is ngx_http_realip: the three names nginx knows are compared
// with case, any other word is a header name.
func setHeader(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.Type.Set {
		return p.Invalid(d, "is duplicate")
	}
	switch v := d.Args[0]; v {
	case "X-Real-IP":
		c.Type = core.Of(fromXRealIP)
	case "X-Forwarded-For":
		c.Type = core.Of(fromXForwardedFor)
	case "proxy_protocol":
		c.Type = core.Of(fromProxyProtocol)
	default:
		c.Type = core.Of(fromHeader)
		c.Header = strings.ToLower(v)
	}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	active := func(l *http.LocConf) bool { return l.Confs[Module.TypeIndex].(*LocConf).From != nil }
	cf.AddPhaseHandlerIf(http.PostReadPhase, active, handler)
	cf.AddPhaseHandlerIf(http.PreAccessPhase, active, handler)
	return nil
}

// handler is ngx_http_realip_handler.
func handler(r *http.Request) int {
	c := r.Loc.Confs[Module.TypeIndex].(*LocConf)
	if c.From == nil || r.Conn.RemoteAddrReplaced() {
		return http.Declined
	}
	var values [][]byte
	var one [1][]byte
	var ppPort uint16
	switch c.Type.V {
	case fromXRealIP:
		v, ok := r.KnownIn(httpparse.HdrXRealIP)
		if !ok {
			return http.Declined
		}
		one[0] = v
		values = one[:]
	case fromXForwardedFor:
		for i := range r.In {
			if r.In[i].Known == httpparse.HdrXForwardedFor {
				values = append(values, r.In[i].Value)
			}
		}
		if values == nil {
			return http.Declined
		}
	case fromProxyProtocol:
		pp := r.Conn.ProxyProtocol()
		if pp == nil {
			return http.Declined
		}
		one[0] = []byte(pp.SrcAddr)
		values = one[:]
		ppPort = uint16(pp.SrcPort)
	default:
		v, ok := r.HeaderIn(c.Header)
		if !ok {
			return http.Declined
		}
		one[0] = v
		values = one[:]
	}
	// a single header value is walked as one X-Forwarded-For header,
	// as nginx does.
	ap, rc := http.ForwardedAddr(r.Conn.RemoteAddrPort(), values, c.From, c.Recursive.V)
	if rc != http.ForwardedDeclined {
		port := ap.Port()
		if c.Type.V == fromProxyProtocol {
			// the header's port comes with its address.
			port = ppPort
		}
		r.SetRemoteAddr(ap.Addr(), port)
	}
	return http.Declined
}

func addVariables(cf *http.Conf) error {
	vars := []*http.Variable{
		{Name: "realip_remote_addr", Get: func(r *http.Request, _ any) ([]byte, bool) {
			return []byte(r.Conn.PeerIP()), true
		}},
		{Name: "realip_remote_port", Get: func(r *http.Request, _ any) ([]byte, bool) {
			port := r.Conn.PeerAddrPort().Port()
			if port == 0 {
				return []byte{}, true
			}
			return strconv.AppendUint(nil, uint64(port), 10), true
		}},
	}
	for _, v := range vars {
		if _, err := cf.AddVariable(v); err != nil {
			return err
		}
	}
	return nil
}
