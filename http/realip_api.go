package http

import (
	"net/netip"
	"strconv"
)

// This file holds what the realip, geo and limit modules need of client
// addresses: a per-request replacement of the client address (nginx's
// realip module rewrites c->sockaddr and c->addr_text and restores them
// when the request's pool is destroyed), and nginx's address parsers and
// matchers (ngx_inet_addr, ngx_inet6_addr, ngx_ptocidr, ngx_parse_addr,
// ngx_parse_addr_port, ngx_cidr_match, ngx_http_get_forwarded_addr).

// realAddr is the client address a module set for the current request.
type realAddr struct {
	set  bool
	ap   netip.AddrPort
	text string
	bin  [16]byte
	nbin uint8
}

// SetRemoteAddr replaces the client address for the rest of r's main
// request: $remote_addr, $binary_remote_addr, $remote_port, allow/deny,
// the "client:" of error-log lines and everything else that reads
// Conn.RemoteIP or Conn.RemoteAddrPort see it. A port of 0 makes
// $remote_port empty. The connection's own address comes back once the
// request is logged and freed. Loop goroutine.
func (r *Request) SetRemoteAddr(a netip.Addr, port uint16) {
	c := r.Conn
	ra := &c.realip
	ra.set = true
	ra.ap = netip.AddrPortFrom(a, port)
	ra.text = string(AppendAddrText(nil, a))
	if a.Is4() {
		b := a.As4()
		ra.nbin = uint8(copy(ra.bin[:], b[:]))
	} else {
		b := a.As16()
		ra.nbin = uint8(copy(ra.bin[:], b[:]))
	}
}

// RemoteAddrReplaced tells whether a module replaced the client address
// of the request being served (SetRemoteAddr). Loop goroutine.
func (c *Conn) RemoteAddrReplaced() bool { return c.realip.set }

// PeerIP returns the address of the socket's peer as text, whatever a
// module set for the request ($realip_remote_addr); "unix:" for a
// unix-domain client.
func (c *Conn) PeerIP() string {
	if c.remoteIP == "" {
		ap := c.ec.RemoteAddrPort()
		if !ap.IsValid() {
			c.remoteIP = "unix:"
		} else {
			c.remoteIP = ap.Addr().Unmap().String()
		}
	}
	return c.remoteIP
}

// PeerAddrPort returns the address and port of the socket's peer,
// invalid for a unix-domain client.
func (c *Conn) PeerAddrPort() netip.AddrPort { return c.ec.RemoteAddrPort() }

// AppendAddrText appends an address as nginx prints it (ngx_sock_ntop
// without the port): IPv6 with the longest run of zero groups shortened
// and an embedded IPv4 address dotted when the first 96 bits say so
// (::ffff:a.b.c.d, ::a.b.c.d).
func AppendAddrText(dst []byte, a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		for i, o := range b {
			if i > 0 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(o), 10)
		}
		return dst
	}
	p := a.As16()
	zero, maxRun, run, last := -1, 1, 0, -1
	for i := 0; i < 16; i += 2 {
		if p[i] != 0 || p[i+1] != 0 {
			if maxRun < run {
				zero, maxRun = last, run
			}
			run = 0
			continue
		}
		if run == 0 {
			last = i
		}
		run++
	}
	if maxRun < run {
		zero, maxRun = last, run
	}
	n := 16
	if zero == 0 {
		if (maxRun == 5 && p[10] == 0xff && p[11] == 0xff) || maxRun == 6 ||
			(maxRun == 7 && p[14] != 0 && p[15] != 1) {
			n = 12
		}
		dst = append(dst, ':')
	}
	for i := 0; i < n; i += 2 {
		if i == zero {
			dst = append(dst, ':')
			i += (maxRun - 1) * 2
			continue
		}
		dst = strconv.AppendUint(dst, uint64(p[i])<<8|uint64(p[i+1]), 16)
		if i < 14 {
			dst = append(dst, ':')
		}
	}
	if n == 12 {
		for i := 12; i < 16; i++ {
			if i > 12 {
				dst = append(dst, '.')
			}
			dst = strconv.AppendUint(dst, uint64(p[i]), 10)
		}
	}
	return dst
}

// ParseInet4 reads a dotted IPv4 address as ngx_inet_addr: exactly four
// decimal octets up to 255. 255.255.255.255 is refused, as nginx's
// INADDR_NONE is its failure value.
func ParseInet4[T ~string | ~[]byte](s T) (netip.Addr, bool) {
	var addr uint32
	octet, dots := uint32(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			octet = octet*10 + uint32(c-'0')
			if octet > 255 {
				return netip.Addr{}, false
			}
		case c == '.':
			addr = addr<<8 + octet
			octet = 0
			dots++
		default:
			return netip.Addr{}, false
		}
	}
	if dots != 3 {
		return netip.Addr{}, false
	}
	addr = addr<<8 + octet
	if addr == 0xffffffff {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}), true
}

// ParseInet6 reads an IPv6 address as ngx_inet6_addr: up to eight groups
// of at most four hex digits, one "::", an IPv4 address in the last 32
// bits; a single leading ":" is skipped, as nginx does.
func ParseInet6[T ~string | ~[]byte](s T) (netip.Addr, bool) {
	var out [16]byte
	if len(s) == 0 {
		return netip.Addr{}, false
	}
	i := 0
	if s[0] == ':' {
		i++
	}
	pos, zero, groupStart := 0, -1, -1
	nibbles, word, left := 0, 0, 8
	for ; i < len(s); i++ {
		c := s[i]
		if c == ':' {
			if nibbles > 0 {
				groupStart = i + 1
				out[pos], out[pos+1] = byte(word>>8), byte(word)
				pos += 2
				left--
				if left > 0 {
					nibbles, word = 0, 0
					continue
				}
			} else if zero < 0 {
				groupStart = i + 1
				zero = pos
				continue
			}
			return netip.Addr{}, false
		}
		if c == '.' && nibbles > 0 {
			if left < 2 || groupStart < 0 {
				return netip.Addr{}, false
			}
			v4, ok := ParseInet4(s[groupStart:])
			if !ok {
				return netip.Addr{}, false
			}
			b := v4.As4()
			out[pos], out[pos+1] = b[0], b[1]
			pos += 2
			left--
			word = int(b[2])<<8 | int(b[3])
			nibbles = 1
			break
		}
		nibbles++
		if nibbles > 4 {
			return netip.Addr{}, false
		}
		switch {
		case c >= '0' && c <= '9':
			word = word<<4 | int(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			word = word<<4 | int(c|0x20-'a'+10)
		default:
			return netip.Addr{}, false
		}
	}
	if nibbles == 0 && zero < 0 {
		return netip.Addr{}, false
	}
	out[pos], out[pos+1] = byte(word>>8), byte(word)
	pos += 2
	left--
	switch {
	case left > 0 && zero >= 0:
		gap := left * 2
		copy(out[zero+gap:], out[zero:pos])
		clear(out[zero : zero+gap])
	case left > 0 || zero >= 0:
		return netip.Addr{}, false
	}
	return netip.AddrFrom16(out), true
}

// ParseAddr reads an address without a port as ngx_parse_addr: IPv4
// first, then IPv6 (an IPv4-mapped IPv6 address stays IPv6).
func ParseAddr[T ~string | ~[]byte](s T) (netip.Addr, bool) {
	if a, ok := ParseInet4(s); ok {
		return a, true
	}
	return ParseInet6(s)
}

// ParseAddrPort reads an address with an optional port as
// ngx_parse_addr_port: "a.b.c.d", "a.b.c.d:port", an IPv6 address, or
// "[v6]:port"; the port, when given, is 1 to 65535.
func ParseAddrPort[T ~string | ~[]byte](s T) (netip.AddrPort, bool) {
	if a, ok := ParseAddr(s); ok {
		return netip.AddrPortFrom(a, 0), true
	}
	var host, port T
	if len(s) > 0 && s[0] == '[' {
		end := -1
		for i := 0; i < len(s); i++ {
			if s[i] == ']' {
				end = i
				break
			}
		}
		if end < 0 || end == len(s)-1 || s[end+1] != ':' {
			return netip.AddrPort{}, false
		}
		host, port = s[1:end], s[end+2:]
	} else {
		colon := -1
		for i := 0; i < len(s); i++ {
			if s[i] == ':' {
				colon = i
				break
			}
		}
		if colon < 0 {
			return netip.AddrPort{}, false
		}
		host, port = s[:colon], s[colon+1:]
	}
	n := 0
	if len(port) == 0 {
		return netip.AddrPort{}, false
	}
	for i := 0; i < len(port); i++ {
		c := port[i]
		if c < '0' || c > '9' || n > 65535 {
			return netip.AddrPort{}, false
		}
		n = n*10 + int(c-'0')
	}
	if n < 1 || n > 65535 {
		return netip.AddrPort{}, false
	}
	a, ok := ParseAddr(host)
	if !ok {
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(a, uint16(n)), true
}

// CIDR is an address block of a configuration (ngx_cidr_t): an IPv4 or
// IPv6 network, or, with Unix set, every unix-domain client.
type CIDR struct {
	Prefix netip.Prefix
	Unix   bool
}

// CIDRResult is how ParseCIDR went, as ngx_ptocidr's return codes.
type CIDRResult int

// ParseCIDR results.
const (
	CIDROK CIDRResult = iota
	// CIDRMasked: the address had bits set below the mask; they were
	// cleared (nginx warns "low address bits of ... are meaningless").
	CIDRMasked
	CIDRInvalid
)

// ParseCIDR reads "address[/bits]" as ngx_ptocidr; an address alone is a
// single host.
func ParseCIDR(s string) (CIDR, CIDRResult) {
	addr, bits, hasBits := s, "", false
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			addr, bits, hasBits = s[:i], s[i+1:], true
			break
		}
	}
	a, ok := ParseAddr(addr)
	if !ok {
		return CIDR{}, CIDRInvalid
	}
	if !hasBits {
		return CIDR{Prefix: netip.PrefixFrom(a, a.BitLen())}, CIDROK
	}
	n := 0
	if bits == "" {
		return CIDR{}, CIDRInvalid
	}
	for i := 0; i < len(bits); i++ {
		c := bits[i]
		if c < '0' || c > '9' || n > 1<<20 {
			return CIDR{}, CIDRInvalid
		}
		n = n*10 + int(c-'0')
	}
	if n > a.BitLen() {
		return CIDR{}, CIDRInvalid
	}
	p := netip.PrefixFrom(a, n)
	m := p.Masked()
	if m.Addr() != a {
		return CIDR{Prefix: m}, CIDRMasked
	}
	return CIDR{Prefix: p}, CIDROK
}

// HostCIDR is the block of one address (a resolved host name in
// set_real_ip_from).
func HostCIDR(a netip.Addr) CIDR { return CIDR{Prefix: netip.PrefixFrom(a, a.BitLen())} }

// CIDRMatch tells whether a client address belongs to one of the blocks,
// as ngx_cidr_match: an IPv4-mapped IPv6 address is checked as IPv4, an
// invalid address is a unix-domain client.
func CIDRMatch(ap netip.AddrPort, list []CIDR) bool {
	if !ap.IsValid() {
		for i := range list {
			if list[i].Unix {
				return true
			}
		}
		return false
	}
	a := ap.Addr().Unmap()
	for i := range list {
		if !list[i].Unix && list[i].Prefix.Contains(a) {
			return true
		}
	}
	return false
}

// ForwardedResult is how ForwardedAddr went.
type ForwardedResult int

// ForwardedAddr results, as ngx_http_get_forwarded_addr's.
const (
	// ForwardedDeclined: the address is not a trusted proxy's, or the
	// header named no address.
	ForwardedDeclined ForwardedResult = iota
	// ForwardedOK: every address walked was a trusted proxy's and the
	// last one found is the client.
	ForwardedOK
	// ForwardedDone: the walk stopped at an address that is not a
	// trusted proxy's, which is the client.
	ForwardedDone
)

// ForwardedAddr finds the client behind trusted proxies as
// ngx_http_get_forwarded_addr: starting from addr (invalid for a
// unix-domain peer), while the current address is in proxies, the
// rightmost address left in the header values (the last header first)
// becomes the current one; without recursive, only one step is taken.
// The header values are read as X-Forwarded-For lists: addresses
// separated by commas and spaces, each optionally with a port.
func ForwardedAddr(addr netip.AddrPort, values [][]byte, proxies []CIDR, recursive bool) (netip.AddrPort, ForwardedResult) {
	rc := ForwardedDeclined
	found := false
	for i := len(values) - 1; i >= 0; i-- {
		addr, rc = forwardedOne(addr, values[i], proxies, recursive)
		if !recursive {
			break
		}
		if rc == ForwardedDeclined && found {
			rc = ForwardedDone
			break
		}
		if rc != ForwardedOK {
			break
		}
		found = true
	}
	return addr, rc
}

func forwardedOne(addr netip.AddrPort, xff []byte, proxies []CIDR, recursive bool) (netip.AddrPort, ForwardedResult) {
	found := false
	end := len(xff)
	for {
		if !CIDRMatch(addr, proxies) {
			if found {
				return addr, ForwardedDone
			}
			return addr, ForwardedDeclined
		}
		p := end - 1
		for p > 0 && (xff[p] == ' ' || xff[p] == ',') {
			p--
			end--
		}
		for ; p > 0; p-- {
			if xff[p] == ' ' || xff[p] == ',' {
				p++
				break
			}
		}
		if p < 0 {
			p = 0
		}
		a, ok := ParseAddrPort(xff[p:end])
		if !ok {
			if found {
				return addr, ForwardedDone
			}
			return addr, ForwardedDeclined
		}
		addr, found = a, true
		end = p - 1
		if !recursive || p <= 0 {
			return addr, ForwardedOK
		}
	}
}
