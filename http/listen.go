package http

import (
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
)

func isRoot() bool { return os.Geteuid() == 0 }

// listenOpt is one listen directive's address and options
// (ngx_http_listen_opt_t).
type listenOpt struct {
	// Network is "tcp4", "tcp6" or "unix"; Addr the address to bind
	// ("127.0.0.1:80", "[::]:80", a unix path); Text nginx's addr_text.
	Network string
	Addr    string
	Text    string
	IP      net.IP
	Port    int

	Wildcard      bool
	DefaultServer bool
	Bind          bool
	set           bool
	Backlog       int
	Rcvbuf        int
	Sndbuf        int
	Deferred      bool
	IPv6Only      bool
	ReusePort     bool
	FastOpen      int
	// SoKeepalive is 0 (unset), 1 (on) or 2 (off); the tunables are zero
	// when not given.
	SoKeepalive   int
	KeepIdle      time.Duration
	KeepIntvl     time.Duration
	KeepCnt       int
	ProxyProtocol bool
	SSL           bool
	HTTP2         bool
}

// listenBacklog is nginx's NGX_LISTEN_BACKLOG on Linux.
const listenBacklog = 511

func setListen(p *core.Parser, d *conf.Directive, c any) error {
	s := c.(*SrvConf)
	s.listen = true
	lo, err := parseListen(p, d, d.Args)
	if err != nil {
		return err
	}
	return confOf(p).Main.addListen(p, d, s, lo)
}

// parseListen parses a listen directive's arguments (address, then
// options) as ngx_http_core_listen with ngx_parse_url.
func parseListen(p *core.Parser, d *conf.Directive, args []string) (*listenOpt, error) {
	lo, errText := parseListenURL(args[0])
	if errText != "" {
		return nil, p.Errorf(d, "%s in \"%s\" of the \"listen\" directive", errText, args[0])
	}
	lo.Backlog, lo.Rcvbuf, lo.Sndbuf, lo.FastOpen, lo.IPv6Only = listenBacklog, -1, -1, -1, true
	for _, a := range args[1:] {
		switch {
		case a == "default_server" || a == "default":
			lo.DefaultServer = true
		case a == "bind":
			lo.set, lo.Bind = true, true
		case strings.HasPrefix(a, "setfib="):
			return nil, p.Errorf(d, "invalid parameter \"%s\"", a)
		case strings.HasPrefix(a, "fastopen="):
			n, ok := core.Atoi(a[9:])
			if !ok {
				return nil, p.Errorf(d, "invalid fastopen \"%s\"", a)
			}
			lo.FastOpen, lo.set, lo.Bind = n, true, true
		case strings.HasPrefix(a, "backlog="):
			n, ok := core.Atoi(a[8:])
			if !ok || n == 0 {
				return nil, p.Errorf(d, "invalid backlog \"%s\"", a)
			}
			lo.Backlog, lo.set, lo.Bind = n, true, true
		case strings.HasPrefix(a, "rcvbuf="):
			n, ok := core.ParseSize(a[7:])
			if !ok {
				return nil, p.Errorf(d, "invalid rcvbuf \"%s\"", a)
			}
			lo.Rcvbuf, lo.set, lo.Bind = int(n), true, true
		case strings.HasPrefix(a, "sndbuf="):
			n, ok := core.ParseSize(a[7:])
			if !ok {
				return nil, p.Errorf(d, "invalid sndbuf \"%s\"", a)
			}
			lo.Sndbuf, lo.set, lo.Bind = int(n), true, true
		case strings.HasPrefix(a, "accept_filter="):
			p.Warnf(d, "accept filters \"%s\" are not supported on this platform, ignored", a[14:])
		case a == "deferred":
			lo.Deferred, lo.set, lo.Bind = true, true, true
		case strings.HasPrefix(a, "ipv6only=o"):
			switch a[10:] {
			case "n":
				lo.IPv6Only = true
			case "ff":
				lo.IPv6Only = false
			default:
				return nil, p.Errorf(d, "invalid ipv6only flags \"%s\"", a[9:])
			}
			lo.set, lo.Bind = true, true
		case a == "reuseport":
			lo.ReusePort, lo.set, lo.Bind = true, true, true
		case a == "ssl":
			return nil, p.Errorf(d, "the \"ssl\" parameter requires ngx_http_ssl_module")
		case a == "http2":
			return nil, p.Errorf(d, "the \"http2\" parameter requires ngx_http_v2_module")
		case strings.HasPrefix(a, "so_keepalive="):
			v := a[13:]
			switch v {
			case "on":
				lo.SoKeepalive = 1
			case "off":
				lo.SoKeepalive = 2
			default:
				parts := strings.SplitN(v, ":", 3)
				for len(parts) < 3 {
					parts = append(parts, "")
				}
				bad := func() error { return p.Errorf(d, "invalid so_keepalive value: \"%s\"", v) }
				if parts[0] != "" {
					t, ok := core.ParseTime(parts[0], true)
					if !ok {
						return nil, bad()
					}
					lo.KeepIdle = time.Duration(t) * time.Second
				}
				if parts[1] != "" {
					t, ok := core.ParseTime(parts[1], true)
					if !ok {
						return nil, bad()
					}
					lo.KeepIntvl = time.Duration(t) * time.Second
				}
				if parts[2] != "" {
					n, ok := core.Atoi(parts[2])
					if !ok {
						return nil, bad()
					}
					lo.KeepCnt = n
				}
				if lo.KeepIdle == 0 && lo.KeepIntvl == 0 && lo.KeepCnt == 0 {
					return nil, bad()
				}
				lo.SoKeepalive = 1
			}
			lo.set, lo.Bind = true, true
		case a == "proxy_protocol":
			lo.ProxyProtocol = true
		default:
			return nil, p.Errorf(d, "invalid parameter \"%s\"", a)
		}
	}
	return lo, nil
}

// parseListenURL parses a listen address as ngx_parse_url with listen set:
// "8080", "*:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]:8080",
// "localhost:8080", "unix:/path". It returns nginx's error text on failure.
func parseListenURL(s string) (*listenOpt, string) {
	if strings.HasPrefix(s, "unix:") {
		path := s[5:]
		if path == "" {
			return nil, "no path in the unix domain socket"
		}
		if len(path) >= 108 {
			return nil, "too long path in the unix domain socket"
		}
		return &listenOpt{Network: "unix", Addr: path, Text: s}, ""
	}
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return nil, "invalid host"
		}
		host := s[1:end]
		rest := s[end+1:]
		port := 80
		if rest != "" {
			if rest[0] != ':' {
				return nil, "invalid host"
			}
			n, ok := core.Atoi(rest[1:])
			if !ok || n < 1 || n > 65535 {
				return nil, "invalid port"
			}
			port = n
		}
		ip := net.ParseIP(host)
		if ip == nil || ip.To4() != nil && !strings.Contains(host, ":") {
			return nil, "invalid IPv6 address"
		}
		lo := &listenOpt{Network: "tcp6", IP: ip, Port: port}
		lo.Wildcard = ip.IsUnspecified()
		lo.Addr = net.JoinHostPort(ip.String(), strconv.Itoa(port))
		lo.Text = lo.Addr
		return lo, ""
	}
	host, portStr := s, ""
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		host, portStr = s[:i], s[i+1:]
		n, ok := core.Atoi(portStr)
		if !ok || n < 1 || n > 65535 {
			return nil, "invalid port"
		}
	} else if n, ok := core.Atoi(s); ok {
		if n < 1 || n > 65535 {
			return nil, "invalid port"
		}
		host, portStr = "", s
	}
	port := 80
	if portStr != "" {
		port, _ = core.Atoi(portStr)
	}
	var ip net.IP
	switch host {
	case "", "*":
		ip = net.IPv4zero
	default:
		ip = net.ParseIP(host)
		if ip == nil {
			addrs, err := net.LookupIP(host)
			if err != nil || len(addrs) == 0 {
				return nil, "host not found"
			}
			for _, a := range addrs {
				if a.To4() != nil {
					ip = a
					break
				}
			}
			if ip == nil {
				ip = addrs[0]
			}
		}
	}
	network := "tcp4"
	if ip.To4() == nil {
		network = "tcp6"
	} else {
		ip = ip.To4()
	}
	lo := &listenOpt{Network: network, IP: ip, Port: port, Wildcard: ip.IsUnspecified()}
	lo.Addr = net.JoinHostPort(ip.String(), strconv.Itoa(port))
	lo.Text = lo.Addr
	return lo, ""
}

// confPort groups the listen addresses of one port (ngx_http_conf_port_t).
type confPort struct {
	network string
	port    int
	addrs   []*confAddr
}

// confAddr is one address:port with the servers listening on it
// (ngx_http_conf_addr_t).
type confAddr struct {
	opt           *listenOpt
	servers       []*SrvConf
	defaultServer *SrvConf
}

func (m *MainConf) addListen(p *core.Parser, d *conf.Directive, s *SrvConf, lo *listenOpt) error {
	m.listens = append(m.listens, lo)
	var port *confPort
	key := lo.Network
	if key == "tcp4" || key == "tcp6" {
		key = "tcp"
	}
	for _, pt := range m.ports() {
		if pt.network == lo.Network && pt.port == lo.Port {
			port = pt
			break
		}
	}
	if port == nil {
		port = &confPort{network: lo.Network, port: lo.Port}
		m.portList = append(m.portList, port)
	}
	for _, a := range port.addrs {
		if a.opt.Addr != lo.Addr {
			continue
		}
		for _, srv := range a.servers {
			if srv == s {
				return p.Errorf(d, "a duplicate listen %s", a.opt.Text)
			}
		}
		a.servers = append(a.servers, s)
		defaultServer := a.opt.DefaultServer
		pp := lo.ProxyProtocol || a.opt.ProxyProtocol
		if lo.set {
			if a.opt.set {
				return p.Errorf(d, "duplicate listen options for %s", a.opt.Text)
			}
			a.opt = lo
		}
		if lo.DefaultServer {
			if defaultServer {
				return p.Errorf(d, "a duplicate default server for %s", a.opt.Text)
			}
			defaultServer = true
			a.defaultServer = s
		}
		a.opt.DefaultServer = defaultServer
		a.opt.ProxyProtocol = pp
		return nil
	}
	port.addrs = append(port.addrs, &confAddr{opt: lo, servers: []*SrvConf{s}, defaultServer: s})
	return nil
}

func (m *MainConf) ports() []*confPort { return m.portList }

// serverName is one server_name entry.
type serverName struct {
	name  string // lowercased; for wildcards as written
	raw   string
	regex *Regex
	srv   *SrvConf
}

func setServerName(p *core.Parser, d *conf.Directive, c any) error {
	s := c.(*SrvConf)
	for _, a := range d.Args {
		if a == "" {
			s.Names = append(s.Names, serverName{srv: s})
			continue
		}
		ch := a[0]
		if (ch == '*' && (len(a) < 3 || a[1] != '.')) || (ch == '.' && len(a) < 2) {
			return p.Errorf(d, "server name \"%s\" is invalid", a)
		}
		if strings.IndexByte(a, '/') >= 0 {
			p.Warnf(d, "server name \"%s\" has suspicious symbols", a)
		}
		name := a
		if strings.EqualFold(a, "$hostname") {
			name, _ = os.Hostname()
		}
		if ch != '~' {
			s.Names = append(s.Names, serverName{name: strings.ToLower(name), raw: name, srv: s})
			continue
		}
		if len(a) == 1 {
			return p.Errorf(d, "empty regex in server name \"%s\"", a)
		}
		pat := a[1:]
		caseless := false
		for i := 0; i < len(pat); i++ {
			if pat[i] >= 'A' && pat[i] <= 'Z' {
				caseless = true
				break
			}
		}
		re, err := compileRegex(p, d, pat, caseless)
		if err != nil {
			return err
		}
		s.Names = append(s.Names, serverName{name: pat, raw: pat, regex: re, srv: s})
		if re.NumCaptures() > 0 {
			s.captures = true
		}
	}
	return nil
}

// ListenAddr is one listening socket address with the virtual servers
// reachable through it: what the runtime binds on every loop.
type ListenAddr struct {
	Opt *listenOpt
	// Addrs are the address-specific server sets a wildcard socket also
	// serves (chosen by the connection's local address); for a socket
	// bound to one address it holds that address only.
	Addrs []*VirtualServers
}

// Network returns "tcp4", "tcp6" or "unix".
func (l *ListenAddr) Network() string { return l.Opt.Network }

// Address returns the address to bind.
func (l *ListenAddr) Address() string { return l.Opt.Addr }

// Key identifies the socket across reloads: same key, same socket.
func (l *ListenAddr) Key() string {
	return l.Opt.Network + " " + l.Opt.Addr
}

// VirtualServers are the servers of one address:port and how to choose
// among them by the Host name (ngx_http_virtual_names_t).
type VirtualServers struct {
	IP      net.IP
	Default *SrvConf
	exact   map[string]*SrvConf
	// wcHead are "*.example.com" / ".example.com" names, longest first;
	// wcTail are "www.example.*" names.
	wcHead []wildName
	wcTail []wildName
	regex  []serverName
	// single is set when only the default server listens here and it has
	// no regex names: the common case needs no lookup at all.
	single bool
}

type wildName struct {
	suffix string // ".example.com" for both "*.example.com" and ".example.com"
	dot    bool   // ".example.com" also matches "example.com"
	prefix string // "www." for "www.example.*"
	srv    *SrvConf
}

// optimizeServers builds the listening sockets and their name lookups
// (ngx_http_optimize_servers and ngx_http_init_listening).
func optimizeServers(cf *Conf) ([]*ListenAddr, error) {
	var out []*ListenAddr
	for _, port := range cf.Main.portList {
		var wildcard *confAddr
		for _, a := range port.addrs {
			if a.opt.Wildcard {
				wildcard = a
			}
		}
		var wl *ListenAddr
		if wildcard != nil {
			wl = &ListenAddr{Opt: wildcard.opt}
		}
		for _, a := range port.addrs {
			vs, err := buildNames(cf, a)
			if err != nil {
				return nil, err
			}
			if a.opt.Network == "unix" || a.opt.Bind || wildcard == nil || a == wildcard {
				if a == wildcard {
					wl.Addrs = append(wl.Addrs, vs)
					continue
				}
				out = append(out, &ListenAddr{Opt: a.opt, Addrs: []*VirtualServers{vs}})
				continue
			}
			wl.Addrs = append(wl.Addrs, vs)
		}
		if wl != nil {
			// the wildcard's own servers are the fallback: keep them last.
			for i, vs := range wl.Addrs {
				if vs.IP.IsUnspecified() && i != len(wl.Addrs)-1 {
					wl.Addrs = append(append(wl.Addrs[:i:i], wl.Addrs[i+1:]...), vs)
					break
				}
			}
			out = append(out, wl)
		}
	}
	return out, nil
}

func buildNames(cf *Conf, a *confAddr) (*VirtualServers, error) {
	vs := &VirtualServers{IP: a.opt.IP, Default: a.defaultServer}
	if len(a.servers) == 1 && !a.defaultServer.captures {
		hasRegex := false
		for _, n := range a.defaultServer.Names {
			if n.regex != nil {
				hasRegex = true
			}
		}
		if !hasRegex {
			vs.single = true
			return vs, nil
		}
	}
	vs.exact = map[string]*SrvConf{}
	seen := map[string]bool{}
	for _, s := range a.servers {
		for _, n := range s.Names {
			if n.regex != nil {
				vs.regex = append(vs.regex, n)
				continue
			}
			key := n.name
			if seen[key] {
				cf.Cycle.StartLog.Logf(errlog.Warn, "conflicting server name \"%s\" on %s, ignored", n.name, a.opt.Text)
				continue
			}
			seen[key] = true
			switch {
			case strings.HasPrefix(key, "*."):
				vs.wcHead = append(vs.wcHead, wildName{suffix: key[1:], srv: s})
			case strings.HasPrefix(key, "."):
				vs.wcHead = append(vs.wcHead, wildName{suffix: key, dot: true, srv: s})
				if _, ok := vs.exact[key[1:]]; !ok {
					vs.exact[key[1:]] = s
				}
			case strings.HasSuffix(key, ".*"):
				vs.wcTail = append(vs.wcTail, wildName{prefix: key[:len(key)-1], srv: s})
			case strings.Contains(key, "*"):
				return nil, &core.Error{Msg: "invalid server name or wildcard \"" + n.name + "\" on " + a.opt.Text}
			default:
				if _, ok := vs.exact[key]; !ok {
					vs.exact[key] = s
				}
			}
		}
	}
	sortWild(vs.wcHead, func(w wildName) int { return len(w.suffix) })
	sortWild(vs.wcTail, func(w wildName) int { return len(w.prefix) })
	return vs, nil
}

func sortWild(ws []wildName, key func(wildName) int) {
	for i := 1; i < len(ws); i++ {
		for j := i; j > 0 && key(ws[j]) > key(ws[j-1]); j-- {
			ws[j], ws[j-1] = ws[j-1], ws[j]
		}
	}
}

// find returns the server for a lowercased host name, as
// ngx_http_find_virtual_server: exact, leading wildcard (longest), trailing
// wildcard (longest), then regexes in order; nil when nothing matched.
func (vs *VirtualServers) find(r *Request, host []byte) (*SrvConf, error) {
	if vs.single {
		return nil, nil
	}
	if s := vs.exact[string(host)]; s != nil || len(host) == 0 {
		// a request without a name finds only a server_name "".
		return s, nil
	}
	for _, w := range vs.wcHead {
		if len(host) > len(w.suffix) && string(host[len(host)-len(w.suffix):]) == w.suffix {
			return w.srv, nil
		}
	}
	for _, w := range vs.wcTail {
		if len(host) > len(w.prefix) && string(host[:len(w.prefix)]) == w.prefix {
			return w.srv, nil
		}
	}
	for _, n := range vs.regex {
		ok, err := r.regexMatch(n.regex, host, n.srv.captures)
		if err != nil {
			return nil, err
		}
		if ok {
			return n.srv, nil
		}
	}
	return nil, nil
}
