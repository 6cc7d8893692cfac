package http

// Upstream configuration shared by the upstream modules (proxy, and later
// fastcgi, uwsgi, grpc...): the per-location settings nginx keeps in
// ngx_http_upstream_conf_t, the upstream{} blocks (ngx_http_upstream_srv_conf_t)
// and their servers, and nginx's URL parser for proxy_pass and server
// addresses. Everything here is built while a configuration is parsed and
// read-only afterwards, except the peer state the balancers keep (see
// upstream_rr.go).

import (
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gresty/core"
	"gresty/resolver"
)

// Next-upstream failure types and proxy_next_upstream bits
// (NGX_HTTP_UPSTREAM_FT_*).
const (
	UpstreamFTError         uint32 = 0x00000002
	UpstreamFTTimeout       uint32 = 0x00000004
	UpstreamFTInvalidHeader uint32 = 0x00000008
	UpstreamFTHTTP500       uint32 = 0x00000010
	UpstreamFTHTTP502       uint32 = 0x00000020
	UpstreamFTHTTP503       uint32 = 0x00000040
	UpstreamFTHTTP504       uint32 = 0x00000080
	UpstreamFTHTTP403       uint32 = 0x00000100
	UpstreamFTHTTP404       uint32 = 0x00000200
	UpstreamFTHTTP429       uint32 = 0x00000400
	UpstreamFTUpdating      uint32 = 0x00000800
	UpstreamFTNonIdempotent uint32 = 0x00004000
	UpstreamFTNoLive        uint32 = 0x40000000
	UpstreamFTOff           uint32 = 0x80000000
)

// NextUpstreamMask is a *_next_upstream value as the upstream uses it:
// "off" among the words leaves only off, as nginx's merge does.
func NextUpstreamMask(v uint32) uint32 {
	if v&UpstreamFTOff != 0 {
		return UpstreamFTOff
	}
	return v
}

// proxy_ignore_headers bits (NGX_HTTP_UPSTREAM_IGN_*).
const (
	UpstreamIgnXAccelRedirect  uint32 = 0x00000002
	UpstreamIgnXAccelExpires   uint32 = 0x00000004
	UpstreamIgnExpires         uint32 = 0x00000008
	UpstreamIgnCacheControl    uint32 = 0x00000010
	UpstreamIgnSetCookie       uint32 = 0x00000020
	UpstreamIgnXAccelLimitRate uint32 = 0x00000040
	UpstreamIgnXAccelBuffering uint32 = 0x00000080
	UpstreamIgnXAccelCharset   uint32 = 0x00000100
	UpstreamIgnVary            uint32 = 0x00000200
)

// What an upstream{} block's server directive may carry, set by the
// balancing method (NGX_HTTP_UPSTREAM_CREATE, ...).
const (
	UpstreamCreate      uint32 = 0x0001
	UpstreamWeight      uint32 = 0x0002
	UpstreamMaxFails    uint32 = 0x0004
	UpstreamFailTimeout uint32 = 0x0008
	UpstreamDown        uint32 = 0x0010
	UpstreamBackup      uint32 = 0x0020
	UpstreamMaxConns    uint32 = 0x0100
)

// UpstreamConf is one location's settings for an upstream module, with
// every value merged (nginx's ngx_http_upstream_conf_t). The module builds
// it when it merges its location configuration.
type UpstreamConf struct {
	// Upstream is the upstream block the location passes to, nil when
	// the address has variables and is found per request.
	Upstream *UpstreamSrvConf

	ConnectTimeout      time.Duration
	SendTimeout         time.Duration
	ReadTimeout         time.Duration
	NextUpstreamTimeout time.Duration
	NextUpstreamTries   int
	// NextUpstream holds the UpstreamFT* bits of proxy_next_upstream.
	NextUpstream uint32

	BufferSize int64
	Bufs       core.Bufs
	// LimitRate is proxy_limit_rate: the bytes per second a buffered
	// response is read from the upstream at (0: no limit).
	LimitRate         int64
	BusyBuffersSize   int64
	MaxTempFileSize   int64
	TempFileWriteSize int64
	TempPath          *TempPath

	Buffering          bool
	RequestBuffering   bool
	IgnoreClientAbort  bool
	InterceptErrors    bool
	PassRequestHeaders bool
	PassRequestBody    bool
	SocketKeepalive    bool
	ForceRanges        bool
	// ChangeBuffering lets "X-Accel-Buffering" switch buffering.
	ChangeBuffering bool
	// IgnoreHeaders holds the UpstreamIgn* bits.
	IgnoreHeaders uint32
	// HideHeaders are the lower-case names of response headers that are
	// not passed to the client.
	HideHeaders map[string]bool
	// Local is proxy_bind's address to connect from; nil for none.
	Local *UpstreamLocal
	// Store is proxy_store's, nil when responses are not stored.
	Store *StoreConf
}

// UpstreamLocal is the local address of upstream connections
// (ngx_http_upstream_local_t): an address with an optional port, with
// variables evaluated per request; an empty value binds nothing.
type UpstreamLocal struct {
	Value       *Template
	Transparent bool
}

// TempPath is a directory for temporary files with nginx's hashed
// sub-directory levels (proxy_temp_path dir 1 2).
type TempPath struct {
	Dir    string
	Levels []int
}

// UpstreamServer is one server directive of an upstream block, or the
// single address of an implicit upstream.
type UpstreamServer struct {
	// Name is the server as written ("127.0.0.1:8080", "backend.local").
	Name        string
	Addrs       []PeerAddr
	Weight      int
	MaxConns    int
	MaxFails    int
	FailTimeout int64 // seconds
	Backup      bool
	Down        bool
}

// PeerAddr is one address an upstream connection can be made to.
type PeerAddr struct {
	// Network is "tcp" or "unix".
	Network string
	// Address is what eventloop.Loop.Dial takes: "ip:port" or a socket
	// path.
	Address string
	// Name is nginx's text of the address for logs and variables:
	// "127.0.0.1:8080", "[::1]:8080", "unix:/path".
	Name string
}

// UpstreamSrvConf is an upstream block, explicit (upstream name {}) or
// implicit (the host of proxy_pass http://host:port), as nginx's
// ngx_http_upstream_srv_conf_t.
type UpstreamSrvConf struct {
	Host   string
	Port   int
	NoPort bool
	// Flags holds the Upstream* parameter bits the block's balancing
	// method allows; UpstreamCreate marks an explicit block.
	Flags uint32
	// Servers are the block's servers; nil for an implicit upstream
	// whose host is resolved when the configuration is finished.
	Servers []*UpstreamServer
	// File and Line locate the directive that created the upstream.
	File string
	Line int
	// Zone is the zone directive's name ("" without one).
	Zone string

	// InitUpstream builds the block's balancer when the http block is
	// finished (nginx's peer.init_upstream); nil is round robin.
	// Balancing directives set it, keepalive wraps it.
	InitUpstream func(us *UpstreamSrvConf) (Balancer, error)
	// Balancer is the built balancer.
	Balancer Balancer

	confs map[any]any
}

// Conf returns the value a balancing module keeps for this block under
// key, creating it with create on first use. Configuration goroutine only.
func (us *UpstreamSrvConf) Conf(key any, create func() any) any {
	if us.confs == nil {
		us.confs = map[any]any{}
	}
	v, ok := us.confs[key]
	if !ok && create != nil {
		v = create()
		us.confs[key] = v
	}
	return v
}

// Init builds the block's balancer: round robin unless a balancing
// directive replaced InitUpstream. Configuration goroutine only.
func (us *UpstreamSrvConf) Init() error {
	init := us.InitUpstream
	if init == nil {
		init = func(us *UpstreamSrvConf) (Balancer, error) { return NewRoundRobin(us) }
	}
	b, err := init(us)
	if err != nil {
		return err
	}
	us.Balancer = b
	return nil
}

// URL is a parsed upstream address (nginx's ngx_url_t as ngx_parse_url
// fills it with uri_part set).
type URL struct {
	// Host is the host as written (with brackets for IPv6, the path for
	// unix sockets).
	Host string
	// Port is the port, DefaultPort when none was given (NoPort).
	Port     int
	PortText string
	NoPort   bool
	// URI is everything from the first "/" or "?" after the host.
	URI string
	// Unix tells a "unix:" address.
	Unix bool
	// Addrs holds the address when Host is literal (or a unix path),
	// and every address of a resolved name.
	Addrs []PeerAddr
}

// ParseURL parses "host[:port][/uri]" or "unix:/path[:/uri]" as
// ngx_parse_url; a URI part is allowed when uriPart is set (proxy_pass),
// not in server addresses. A name that is not an address is resolved
// only when resolve is set. The error text is nginx's ("invalid host",
// "invalid port", "no host", "host not found", ...).
func ParseURL(s string, defaultPort int, uriPart, resolve bool) (*URL, error) {
	u := &URL{}
	if len(s) >= 5 && strings.EqualFold(s[:5], "unix:") {
		path := s[5:]
		if i := strings.IndexByte(path, ':'); i >= 0 && uriPart {
			u.URI = path[i+1:]
			path = path[:i]
		}
		if path == "" {
			return nil, errors.New("no path in the unix domain socket")
		}
		if len(path)+1 > 108 {
			return nil, errors.New("too long path in the unix domain socket")
		}
		u.Host, u.Unix = path, true
		u.Addrs = []PeerAddr{{Network: "unix", Address: path, Name: "unix:" + path}}
		return u, nil
	}
	if strings.HasPrefix(s, "[") {
		return parseURL6(u, s, defaultPort, uriPart)
	}
	last := len(s)
	port := strings.IndexByte(s, ':')
	uri := strings.IndexByte(s, '/')
	if q := strings.IndexByte(s, '?'); q >= 0 && (uri < 0 || q < uri) {
		uri = q
	}
	if uri >= 0 {
		if !uriPart {
			return nil, errors.New("invalid host")
		}
		u.URI = s[uri:]
		last = uri
		if port > uri {
			port = -1
		}
	}
	if port >= 0 {
		text := s[port+1 : last]
		n, ok := core.Atoi(text)
		if !ok || n < 1 || n > 65535 {
			return nil, errors.New("invalid port")
		}
		u.Port, u.PortText = n, text
		last = port
	} else {
		u.NoPort = true
		u.Port = defaultPort
	}
	host := s[:last]
	if host == "" {
		return nil, errors.New("no host")
	}
	u.Host = host
	if a, ok := inetAddr(host); ok {
		u.Addrs = []PeerAddr{tcpPeer(a, u.Port)}
		return u, nil
	}
	if !resolve {
		return u, nil
	}
	addrs, err := ResolveHost(host)
	if err != nil {
		return nil, err
	}
	for _, a := range addrs {
		u.Addrs = append(u.Addrs, tcpPeer(a, u.Port))
	}
	return u, nil
}

func parseURL6(u *URL, s string, defaultPort int, uriPart bool) (*URL, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return nil, errors.New("invalid host")
	}
	rest := s[end+1:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		if !uriPart {
			return nil, errors.New("invalid host")
		}
		u.URI = rest[i:]
		rest = rest[:i]
	}
	if rest != "" {
		if rest[0] != ':' {
			return nil, errors.New("invalid host")
		}
		n, ok := core.Atoi(rest[1:])
		if !ok || n < 1 || n > 65535 {
			return nil, errors.New("invalid port")
		}
		u.Port, u.PortText = n, rest[1:]
	} else {
		u.NoPort, u.Port = true, defaultPort
	}
	if end == 1 {
		return nil, errors.New("no host")
	}
	a, err := netip.ParseAddr(s[1:end])
	if err != nil || !a.Is6() || a.Zone() != "" {
		return nil, errors.New("invalid IPv6 address")
	}
	u.Host = s[:end+1]
	u.Addrs = []PeerAddr{tcpPeer(a, u.Port)}
	return u, nil
}

// inetAddr parses an IPv4 address as nginx's ngx_inet_addr: four decimal
// parts of at most 255 separated by dots (an empty part counts as 0).
func inetAddr(s string) (netip.Addr, bool) {
	var b [4]byte
	part, n := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			n = n*10 + int(c-'0')
			if n > 255 {
				return netip.Addr{}, false
			}
			continue
		}
		if c == '.' {
			if part == 3 {
				return netip.Addr{}, false
			}
			b[part] = byte(n)
			part++
			n = 0
			continue
		}
		return netip.Addr{}, false
	}
	if part != 3 {
		return netip.Addr{}, false
	}
	b[3] = byte(n)
	return netip.AddrFrom4(b), true
}

func tcpPeer(a netip.Addr, port int) PeerAddr {
	ap := netip.AddrPortFrom(a.Unmap(), uint16(port)).String()
	return PeerAddr{Network: "tcp", Address: ap, Name: ap}
}

// ResolveHost resolves a name at configuration time as nginx's
// ngx_inet_resolve_host (getaddrinfo): every address, in the system
// resolver's order. It blocks; call it only while a configuration is
// built.
func ResolveHost(host string) ([]netip.Addr, error) {
	return resolver.SystemLookup(host)
}

// PeerAddrFor makes the address of a resolved name (or literal) and port,
// named as nginx's ngx_sock_ntop with the port.
func PeerAddrFor(a netip.Addr, port int) PeerAddr { return tcpPeer(a, port) }

// HideHeaders builds the set of response header names an upstream module
// hides: its defaults and hide directives, minus the pass directives, as
// ngx_http_upstream_hide_headers_hash. Names compare without case.
func HideHeaders(defaults, hide, pass []string) map[string]bool {
	m := make(map[string]bool, len(defaults)+len(hide))
	for _, h := range defaults {
		m[strings.ToLower(h)] = true
	}
	for _, h := range hide {
		m[strings.ToLower(h)] = true
	}
	for _, h := range pass {
		delete(m, strings.ToLower(h))
	}
	return m
}

// TempFileName builds the name of temporary file number n in p, with the
// hashed levels nginx takes from the end of the ten-digit number
// (ngx_create_hashed_filename): dir/3/12/0000000123 for levels 1 2.
func (p *TempPath) TempFileName(n uint64) string {
	num := strconv.FormatUint(n%10000000000, 10)
	if len(num) < 10 {
		num = strings.Repeat("0", 10-len(num)) + num
	}
	var b strings.Builder
	b.WriteString(p.Dir)
	end := len(num)
	for _, l := range p.Levels {
		b.WriteByte('/')
		b.WriteString(num[end-l : end])
		end -= l
	}
	b.WriteByte('/')
	b.WriteString(num)
	return b.String()
}
