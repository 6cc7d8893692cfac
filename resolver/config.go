package resolver

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gresty/core"
)

// DNSPort is the port a name server address gets when it names none.
const DNSPort = 53

// Defaults nginx uses for a resolver; neither has a directive in nginx
// 1.22.
const (
	// DefaultTimeout is resolver_timeout's default.
	DefaultTimeout = 30 * time.Second
	// resendTimeout is how long one attempt waits for an answer before the
	// query goes to the next name server (nginx's r->resend_timeout).
	resendTimeout = 5 * time.Second
	// tcpTimeout bounds connecting to a name server and writing to it over
	// TCP (nginx's r->tcp_timeout).
	tcpTimeout = 5 * time.Second
	// idleExpire is how long an unused cache entry is kept (nginx's
	// r->expire).
	idleExpire = 30
	// errorValid is how long a failed answer is reported valid when no
	// valid= is configured (the upstream module retries after it).
	errorValid = 10
)

// Server is one name server of a resolver directive.
type Server struct {
	// Addr is the server's address and port; zero for a unix socket.
	Addr netip.AddrPort
	// Unix is the socket path of a "unix:" address.
	Unix string
	// Name is the address as nginx prints it in "resolver: ..." log
	// context: "127.0.0.1:53", "[::1]:53" or "unix:/path".
	Name string
}

// Config is a resolver: the parsed resolver directive of a location,
// together with that location's resolver_timeout. A Config is immutable
// once built and may be shared by every loop and goroutine.
type Config struct {
	// Servers are the name servers, in the directive's order (a host name
	// contributes every address it resolved to).
	Servers []Server
	// Valid overrides the answers' TTLs when non-zero (valid=).
	Valid time.Duration
	// IPv6 asks for AAAA records besides A records (ipv6=on, the
	// default).
	IPv6 bool
	// Timeout is resolver_timeout: how long a caller waits for a name
	// before it gets error 110. Zero waits without limit.
	Timeout time.Duration

	// resend is the per-attempt timeout; zero means resendTimeout. Tests
	// shorten it.
	resend time.Duration
}

// WithTimeout returns a copy of c with resolver_timeout d, for a location
// that inherits the resolver but sets its own timeout; both share cache
// entries and, on a loop, queries. Any goroutine.
func (c *Config) WithTimeout(d time.Duration) *Config {
	n := *c
	n.Timeout = d
	return &n
}

// ParseError is a resolver directive error; its text is nginx's message
// without the " in FILE:LINE" suffix the configuration parser appends.
type ParseError struct{ Msg string }

// Error returns nginx's message. Any goroutine.
func (e *ParseError) Error() string { return e.Msg }

// FromConf turns the http core module's raw settings of a location (the
// resolver directive's arguments and resolver_timeout) into a Config. No
// arguments means no resolver was configured: it returns nil, nil, and
// callers report "no resolver defined to resolve ..." as nginx does. Host
// names among the arguments are resolved with the system resolver, as
// nginx does while reading its configuration. Any goroutine.
func FromConf(args []string, timeout time.Duration) (*Config, error) {
	if len(args) == 0 {
		return nil, nil
	}
	c, err := Parse(args)
	if err != nil {
		return nil, err
	}
	c.Timeout = timeout
	return c, nil
}

// Parse parses the arguments of a resolver directive as nginx 1.22's
// ngx_resolver_create: "address[:port]" (an IPv6 address in brackets, a
// host name resolved now with the system resolver, or "unix:path"),
// "valid=time" and "ipv6=on|off", in any order. Errors carry nginx's
// texts, e.g. `invalid parameter: valid=x`, `host not found in resolver
// "ns.example"`, `no name servers defined`. The result's Timeout is
// DefaultTimeout. Any goroutine.
func Parse(args []string) (*Config, error) {
	c := &Config{IPv6: true, Timeout: DefaultTimeout}
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "valid="); ok {
			sec, ok := core.ParseTime(v, true)
			if !ok {
				return nil, &ParseError{"invalid parameter: " + a}
			}
			c.Valid = time.Duration(sec) * time.Second
			continue
		}
		if v, ok := strings.CutPrefix(a, "ipv6="); ok {
			switch v {
			case "on":
				c.IPv6 = true
			case "off":
				c.IPv6 = false
			default:
				return nil, &ParseError{"invalid parameter: " + a}
			}
			continue
		}
		srvs, err := parseAddress(a)
		if err != nil {
			return nil, &ParseError{err.Error() + " in resolver \"" + a + "\""}
		}
		c.Servers = append(c.Servers, srvs...)
	}
	if len(c.Servers) == 0 {
		return nil, &ParseError{"no name servers defined"}
	}
	return c, nil
}

// unixPathMax is the size of sun_path, terminating NUL included.
const unixPathMax = 108

// parseAddress parses one name server address as ngx_parse_url does for a
// URL without a URI part; the error is ngx_url_t's err text.
func parseAddress(s string) ([]Server, error) {
	if len(s) >= 5 && strings.EqualFold(s[:5], "unix:") {
		p := s[5:]
		if p == "" {
			return nil, errors.New("no path in the unix domain socket")
		}
		if len(p)+1 > unixPathMax {
			return nil, errors.New("too long path in the unix domain socket")
		}
		return []Server{{Unix: p, Name: s}}, nil
	}
	if strings.HasPrefix(s, "[") {
		return parseInet6(s)
	}
	host := s
	if strings.ContainsAny(host, "/?") {
		return nil, errors.New("invalid host")
	}
	port := DNSPort
	if i := strings.IndexByte(host, ':'); i >= 0 {
		p, ok := parsePort(host[i+1:])
		if !ok {
			return nil, errors.New("invalid port")
		}
		port, host = p, host[:i]
	}
	if host == "" {
		return nil, errors.New("no host")
	}
	if a, ok := inetAddr(host); ok {
		return []Server{server(a, port)}, nil
	}
	addrs, err := SystemLookup(host)
	if err != nil {
		return nil, err
	}
	srvs := make([]Server, len(addrs))
	for i, a := range addrs {
		srvs[i] = server(a, port)
	}
	return srvs, nil
}

func parseInet6(s string) ([]Server, error) {
	end := strings.IndexByte(s, ']')
	if end < 0 {
		return nil, errors.New("invalid host")
	}
	host, rest := s[1:end], s[end+1:]
	if strings.IndexByte(rest, '/') >= 0 {
		return nil, errors.New("invalid host")
	}
	port := DNSPort
	if rest != "" {
		if rest[0] != ':' {
			return nil, errors.New("invalid host")
		}
		p, ok := parsePort(rest[1:])
		if !ok {
			return nil, errors.New("invalid port")
		}
		port = p
	}
	if host == "" {
		return nil, errors.New("no host")
	}
	a, err := netip.ParseAddr(host)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return nil, errors.New("invalid IPv6 address")
	}
	return []Server{server(a, port)}, nil
}

func parsePort(s string) (int, bool) {
	n, ok := core.Atoi(s)
	return n, ok && n >= 1 && n <= 65535
}

func server(a netip.Addr, port int) Server {
	ap := netip.AddrPortFrom(a, uint16(port))
	return Server{Addr: ap, Name: ap.String()}
}

// inetAddr parses a dotted-quad IPv4 address as ngx_inet_addr: exactly
// four decimal parts, each at most 255 (leading zeros allowed).
func inetAddr(s string) (netip.Addr, bool) {
	var b [4]byte
	part, octet := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			octet = octet*10 + int(c-'0')
			if octet > 255 {
				return netip.Addr{}, false
			}
		case c == '.' && part < 3:
			b[part] = byte(octet)
			part++
			octet = 0
		default:
			return netip.Addr{}, false
		}
	}
	// An empty part counts as 0 ("1..2.3"), as in nginx.
	if part != 3 {
		return netip.Addr{}, false
	}
	b[3] = byte(octet)
	return netip.AddrFrom4(b), true
}

// SystemLookup resolves host with the system resolver (the hosts file,
// then DNS as resolv.conf says), the way nginx resolves names while it
// reads its configuration (getaddrinfo): numeric forms the C library
// accepts ("127.1", "0x7f.1") are addresses, and a failure is "host not
// found". It blocks: call it at start-up or reload, never on a loop. Any
// goroutine.
func SystemLookup(host string) ([]netip.Addr, error) {
	if a, ok := atonAddr(host); ok {
		return []netip.Addr{a}, nil
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{a.Unmap()}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(ips) == 0 {
		return nil, errors.New("host not found")
	}
	has4, has6 := addrConfig()
	out := make([]netip.Addr, 0, len(ips))
	for _, a := range ips {
		a = a.Unmap()
		if (a.Is4() && !has4) || (a.Is6() && !has6) {
			continue
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		return nil, errors.New("host not found")
	}
	return out, nil
}

// addrConfig reports which address families the host has configured on
// an interface other than loopback: nginx asks getaddrinfo with
// AI_ADDRCONFIG, which then drops the answers of a family the host lacks.
// As in the C library, seeing neither family (or failing to list the
// interfaces) keeps both.
func addrConfig() (has4, has6 bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return true, true
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok || n.IP.IsLoopback() {
			continue
		}
		if n.IP.To4() != nil {
			has4 = true
		} else {
			has6 = true
		}
	}
	if !has4 && !has6 {
		return true, true
	}
	return has4, has6
}

// atonAddr parses the IPv4 forms of inet_aton, which getaddrinfo tries
// before any lookup: one to four parts, each decimal, octal (leading 0)
// or hexadecimal (0x), the last part filling the remaining bytes.
func atonAddr(s string) (netip.Addr, bool) {
	if s == "" {
		return netip.Addr{}, false
	}
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base := 10
		switch {
		case len(p) > 1 && (p[:2] == "0x" || p[:2] == "0X"):
			base, p = 16, p[2:]
			if p == "" {
				// "0x" alone is 0 for inet_aton.
				p = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, p = 8, p[1:]
		}
		if p == "" || p[0] == '+' || p[0] == '-' {
			return netip.Addr{}, false
		}
		v, err := strconv.ParseUint(p, base, 32)
		if err != nil {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var n uint64
	last := len(vals) - 1
	for i := 0; i < last; i++ {
		if vals[i] > 255 {
			return netip.Addr{}, false
		}
		n = n<<8 | vals[i]
	}
	rest := uint(4 - last)
	if vals[last] >= 1<<(8*rest) {
		return netip.Addr{}, false
	}
	n = n<<(8*rest) | vals[last]
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}), true
}

// key identifies what a Config's answers depend on, so that loops and
// locations using equal resolvers share cache entries.
func (c *Config) key() string {
	var b strings.Builder
	for _, s := range c.Servers {
		b.WriteString(s.Name)
		b.WriteByte(' ')
	}
	b.WriteString(strconv.FormatInt(int64(c.Valid/time.Second), 10))
	if c.IPv6 {
		b.WriteString(" 6")
	}
	return b.String()
}

func (c *Config) resendTimeout() time.Duration {
	if c.resend > 0 {
		return c.resend
	}
	return resendTimeout
}
