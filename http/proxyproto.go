package http

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"strconv"

	"gresty/errlog"
)

// ProxyProtocol is what the PROXY protocol header of a connection accepted
// on a "listen ... proxy_protocol" socket says (ngx_proxy_protocol_t): the
// client's and the proxy's addresses. A header without addresses (v1
// UNKNOWN, a v2 LOCAL command or another family) leaves none.
type ProxyProtocol struct {
	SrcAddr, DstAddr string
	SrcPort, DstPort int
}

// ProxyProtocol returns the addresses of the connection's PROXY protocol
// header; nil when its listener reads none or the header had none.
func (c *Conn) ProxyProtocol() *ProxyProtocol { return c.pp }

// The PROXY protocol header comes before the first request
// (ngx_proxy_protocol_read). nginx wants it whole in the first read; a
// header split across reads is waited for here, up to its largest size.
const (
	ppV1Max = 107
	ppV2Max = 4096
)

var ppV2Sig = []byte("\r\n\r\n\x00\r\nQUIT\n")

// readProxyProtocol consumes the header at the start of the input. It
// reports false when the connection must wait for more or was closed
// over a broken header.
func (c *Conn) readProxyProtocol() bool {
	in := c.data[c.pos:]
	n, pp, msg := parseProxyProtocol(in)
	switch {
	case msg != "":
		c.action = "reading PROXY protocol"
		c.logf(errlog.Error, "%s", msg)
		c.closeNow()
		return false
	case n == 0:
		return false
	}
	c.pos += n
	c.pp = pp
	c.ppWait = false
	c.startHead()
	return true
}

// parseProxyProtocol reads a v1 or v2 header at the start of b: its
// length and addresses; 0 and no message when more input is needed; a
// message (nginx's) when the header is broken.
func parseProxyProtocol(b []byte) (int, *ProxyProtocol, string) {
	if len(b) < len(ppV2Sig) && bytes.HasPrefix(ppV2Sig, b) {
		return 0, nil, ""
	}
	if bytes.HasPrefix(b, ppV2Sig) {
		return parseProxyProtocolV2(b)
	}
	end := bytes.IndexByte(b, '\n')
	if end < 0 {
		if len(b) < ppV1Max && (bytes.HasPrefix(b, []byte("PROXY ")) || bytes.HasPrefix([]byte("PROXY "), b)) {
			return 0, nil, ""
		}
		return 0, nil, brokenHeader(b)
	}
	n, pp, ok := parseProxyProtocolV1(b[:end+1])
	if !ok {
		return 0, nil, brokenHeader(b)
	}
	return n, pp, ""
}

// brokenHeader is nginx's message, which shows all the input read.
func brokenHeader(b []byte) string {
	return "broken header: \"" + string(b) + "\""
}

// parseProxyProtocolV1 reads "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n"
// or "PROXY UNKNOWN ...\r\n" field by field as nginx does (an address is
// only checked for its characters).
func parseProxyProtocolV1(line []byte) (int, *ProxyProtocol, bool) {
	p, ok := bytes.CutPrefix(line, []byte("PROXY "))
	if !ok || len(line) < 8 {
		return 0, nil, false
	}
	if bytes.HasPrefix(p, []byte("UNKNOWN")) {
		if !bytes.HasSuffix(line, []byte("\r\n")) {
			return 0, nil, false
		}
		return len(line), nil, true
	}
	if len(p) < 5 || !bytes.HasPrefix(p, []byte("TCP")) || (p[3] != '4' && p[3] != '6') || p[4] != ' ' {
		return 0, nil, false
	}
	p = p[5:]
	field := func(sep byte, ok func(byte) bool) ([]byte, bool) {
		i := bytes.IndexByte(p, sep)
		if i < 0 {
			return nil, false
		}
		f := p[:i]
		for _, ch := range f {
			if !ok(ch) {
				return nil, false
			}
		}
		p = p[i+1:]
		return f, true
	}
	addrChar := func(ch byte) bool {
		return ch == ':' || ch == '.' || '0' <= ch && ch <= '9' || 'a' <= ch && ch <= 'f' || 'A' <= ch && ch <= 'F'
	}
	digit := func(ch byte) bool { return '0' <= ch && ch <= '9' }
	pp := &ProxyProtocol{}
	src, ok1 := field(' ', addrChar)
	dst, ok2 := field(' ', addrChar)
	sport, ok3 := field(' ', digit)
	dport, ok4 := field('\r', digit)
	if !ok1 || !ok2 || !ok3 || !ok4 || len(p) != 1 || p[0] != '\n' {
		return 0, nil, false
	}
	pp.SrcAddr, pp.DstAddr = string(src), string(dst)
	for i, f := range [][]byte{sport, dport} {
		n, err := strconv.Atoi(string(f))
		if err != nil || n > 65535 {
			return 0, nil, false
		}
		if i == 0 {
			pp.SrcPort = n
		} else {
			pp.DstPort = n
		}
	}
	return len(line), pp, true
}

// parseProxyProtocolV2 reads the binary header: signature, version and
// command, family and transport, length, addresses.
func parseProxyProtocolV2(b []byte) (int, *ProxyProtocol, string) {
	if len(b) < 16 {
		return 0, nil, ""
	}
	if v := b[12] >> 4; v != 2 {
		return 0, nil, "unknown PROXY protocol version: " + strconv.Itoa(int(v))
	}
	size := 16 + int(binary.BigEndian.Uint16(b[14:16]))
	if size > ppV2Max {
		return 0, nil, "header is too large"
	}
	if len(b) < size {
		return 0, nil, ""
	}
	body := b[16:size]
	// only the PROXY command over a stream carries addresses nginx reads.
	if b[12]&0x0f != 1 || b[13]&0x0f != 1 {
		return size, nil, ""
	}
	var n int
	switch b[13] >> 4 {
	case 1:
		n = 4
	case 2:
		n = 16
	default:
		return size, nil, ""
	}
	if len(body) < 2*n+4 {
		return 0, nil, brokenHeader(b)
	}
	pp := &ProxyProtocol{}
	src, _ := netip.AddrFromSlice(body[:n])
	dst, _ := netip.AddrFromSlice(body[n : 2*n])
	pp.SrcAddr, pp.DstAddr = src.String(), dst.String()
	pp.SrcPort = int(binary.BigEndian.Uint16(body[2*n:]))
	pp.DstPort = int(binary.BigEndian.Uint16(body[2*n+2:]))
	return size, pp, ""
}

// ppAddr and ppPort are $proxy_protocol_addr and _port (server: the
// _server_ ones): not found without a header; the port empty when the
// header had no addresses.
func ppAddr(r *Request, server bool) ([]byte, bool) {
	pp := r.Conn.pp
	if pp == nil {
		return nil, false
	}
	if server {
		return []byte(pp.DstAddr), true
	}
	return []byte(pp.SrcAddr), true
}

func ppPort(r *Request, server bool) ([]byte, bool) {
	pp := r.Conn.pp
	if pp == nil {
		return nil, false
	}
	p := pp.SrcPort
	if server {
		p = pp.DstPort
	}
	if p <= 0 {
		return []byte{}, true
	}
	return strconv.AppendInt(nil, int64(p), 10), true
}
