package resolver

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// DNS wire constants nginx's resolver uses.
const (
	typeA     = 1
	typeCNAME = 5
	typePTR   = 12
	typeAAAA  = 28
	typeSRV   = 33
	typeDNAME = 39

	hdrLen = 12
	qsLen  = 4  // type, class
	anLen  = 10 // type, class, ttl, rdlength

	flagTC = 0x0200
)

// buildQuery returns a recursive query for name with the given id and
// type, byte for byte what ngx_resolver_create_name_query sends, or false
// when nginx declines to ask (an empty name or an empty or over-long
// label), which callers report as "Host not found". name has no trailing
// dot.
func buildQuery(name string, id uint16, qtype uint16) ([]byte, bool) {
	if name == "" {
		return nil, false
	}
	q := make([]byte, hdrLen, hdrLen+len(name)+2+qsLen)
	binary.BigEndian.PutUint16(q[0:], id)
	q[2] = 1 // RD
	q[5] = 1 // one question
	start := 0
	for i := 0; i <= len(name); i++ {
		if i < len(name) && name[i] != '.' {
			continue
		}
		n := i - start
		// nginx bounds labels at 255, not DNS's 63: a longer label is
		// sent as is and the server's answer decides.
		if n == 0 || n > 255 {
			return nil, false
		}
		q = append(q, byte(n))
		q = append(q, name[start:i]...)
		start = i + 1
	}
	q = append(q, 0, byte(qtype>>8), byte(qtype), 0, 1)
	return q, true
}

// setQueryID rewrites the id of a query built by buildQuery.
func setQueryID(q []byte, id uint16) { binary.BigEndian.PutUint16(q, id) }

func queryID(q []byte) uint16 { return binary.BigEndian.Uint16(q) }

// head is what ngx_resolver_process_response learns from a response
// before it looks for the query it answers.
type head struct {
	ident  uint16
	flags  uint16
	code   int
	trunc  bool
	nan    int
	qtype  uint16
	name   string // the question, lowercased, without the root dot
	ansOff int    // offset of the answer section
}

// headStatus says what to do with a response after parseHead.
type headStatus int

const (
	headOK      headStatus = iota // process the answers for h.qtype
	headLog                       // log msg and drop the response
	headDNSErr                    // rcode FORMERR or above REFUSED: log with the query's name if known
	headUnknown                   // a query type this resolver never asks (SRV, PTR): unexpected
)

// parseHead checks a response's header and question as nginx does, in
// nginx's order, so the same malformed response gets the same message.
func parseHead(b []byte, tcp bool) (h head, st headStatus, msg string) {
	if len(b) < hdrLen {
		return h, headLog, "short DNS response"
	}
	h.ident = binary.BigEndian.Uint16(b[0:])
	h.flags = binary.BigEndian.Uint16(b[2:])
	nqs := int(binary.BigEndian.Uint16(b[4:]))
	h.nan = int(binary.BigEndian.Uint16(b[6:]))
	h.trunc = h.flags&flagTC != 0
	// A standard query's response, not truncated over TCP.
	if h.flags&0xf870 != 0x8000 || (h.trunc && tcp) {
		proto := "UDP"
		if tcp {
			proto = "TCP"
		}
		return h, headLog, "invalid " + proto + " DNS response " + strconv.Itoa(int(h.ident)) + " fl:" + hex4(h.flags)
	}
	h.code = int(h.flags & 0xf)
	if h.code == FormErr || h.code > Refused {
		return h, headDNSErr, ""
	}
	if nqs != 1 {
		return h, headLog, "invalid number of questions in DNS response"
	}
	i := hdrLen
	for {
		if i >= len(b) {
			return h, headLog, "short DNS response"
		}
		if b[i]&0xc0 != 0 {
			return h, headLog, "unexpected compression pointer in DNS response"
		}
		if b[i] == 0 {
			break
		}
		i += 1 + int(b[i])
	}
	if i == hdrLen {
		return h, headLog, "zero-length domain name in DNS response"
	}
	i++
	if i+qsLen+h.nan*(2+anLen) > len(b) {
		return h, headLog, "short DNS response"
	}
	h.qtype = binary.BigEndian.Uint16(b[i:])
	qclass := binary.BigEndian.Uint16(b[i+2:])
	if qclass != 1 {
		return h, headLog, "unknown query class " + strconv.Itoa(int(qclass)) + " in DNS response"
	}
	h.ansOff = i + qsLen
	name, msg := readName(b, hdrLen)
	if msg != "" {
		return h, headLog, msg
	}
	h.name = name
	switch h.qtype {
	case typeA, typeAAAA:
		return h, headOK, ""
	case typeSRV, typePTR:
		return h, headUnknown, ""
	}
	return h, headLog, "unknown query type " + strconv.Itoa(int(h.qtype)) + " in DNS response"
}

func hex4(v uint16) string {
	const digits = "0123456789ABCDEF"
	return string([]byte{digits[v>>12], digits[v>>8&0xf], digits[v>>4&0xf], digits[v&0xf]})
}

// readName reads the domain name at off as ngx_resolver_copy: compression
// pointers followed (at most 128 steps), labels joined with dots and
// lowercased, the root as "". msg is nginx's complaint about a malformed
// name.
func readName(b []byte, off int) (name string, msg string) {
	p := off
	n := 0
	done := false
	for range 128 {
		if p >= len(b) {
			return "", "name is out of DNS response"
		}
		l := int(b[p])
		p++
		if l == 0 {
			done = true
			break
		}
		if l&0xc0 != 0 {
			if l&0xc0 != 0xc0 {
				return "", "invalid label type in DNS response"
			}
			if p >= len(b) {
				return "", "name is out of DNS response"
			}
			p = (l&0x3f)<<8 | int(b[p])
		} else {
			n += 1 + l
			p += l
		}
		if p >= len(b) {
			return "", "name is out of DNS response"
		}
	}
	if !done {
		return "", "compression pointers loop in DNS response"
	}
	if n == 0 {
		return "", ""
	}
	out := make([]byte, 0, n-1)
	p = off
	for {
		l := int(b[p])
		p++
		if l == 0 {
			return string(out), ""
		}
		if l&0xc0 != 0 {
			p = (l&0x3f)<<8 | int(b[p])
			continue
		}
		if len(out) > 0 {
			out = append(out, '.')
		}
		for _, c := range b[p : p+l] {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			out = append(out, c)
		}
		p += l
	}
}

// answers is what the answer section of an A or AAAA response holds, as
// ngx_resolver_process_a reads it.
type answers struct {
	addrs    []netip.Addr // records of the query's type, in order
	cnameOff int          // rdata offset of the last CNAME record, or -1
	ttl      uint32       // smallest TTL seen (negative TTLs count as 0)
	sawTTL   bool
	msg      string   // why the section was refused; empty when usable
	notes    []string // records nginx logs and skips
}

// parseAnswers walks nan answer records from off for a query of type
// qtype. A refused section (msg set) leaves the query waiting for
// another response, as nginx does; ttl still holds the records seen
// before the fault, since nginx lowers the node's TTL as it goes.
func parseAnswers(b []byte, off, nan int, qtype uint16) (a answers) {
	a.cnameOff = -1
	a.ttl = ^uint32(0)
	i := off
	for range nan {
		start := i
		compressed := false
		for {
			if i >= len(b) {
				a.msg = "short DNS response"
				return a
			}
			if b[i]&0xc0 != 0 {
				i += 2
				compressed = true
				break
			}
			if b[i] == 0 {
				i++
				break
			}
			i += 1 + int(b[i])
		}
		if !compressed && i-start < 2 {
			a.msg = "invalid name in DNS response"
			return a
		}
		if i+anLen >= len(b) {
			a.msg = "short DNS response"
			return a
		}
		typ := binary.BigEndian.Uint16(b[i:])
		class := binary.BigEndian.Uint16(b[i+2:])
		ttl := int32(binary.BigEndian.Uint32(b[i+4:]))
		l := int(binary.BigEndian.Uint16(b[i+8:]))
		if class != 1 {
			a.msg = "unexpected RR class " + strconv.Itoa(int(class)) + " in DNS response"
			return a
		}
		if ttl < 0 {
			ttl = 0
		}
		a.ttl = min(a.ttl, uint32(ttl))
		a.sawTTL = true
		i += anLen
		switch typ {
		case typeA:
			if qtype != typeA {
				a.msg = "unexpected A record in DNS response"
				return a
			}
			if l != 4 {
				a.msg = "invalid A record in DNS response"
				return a
			}
			if i+4 > len(b) {
				a.msg = "short DNS response"
				return a
			}
			a.addrs = append(a.addrs, netip.AddrFrom4([4]byte(b[i:i+4])))
		case typeAAAA:
			if qtype != typeAAAA {
				a.msg = "unexpected AAAA record in DNS response"
				return a
			}
			if l != 16 {
				a.msg = "invalid AAAA record in DNS response"
				return a
			}
			if i+16 > len(b) {
				a.msg = "short DNS response"
				return a
			}
			a.addrs = append(a.addrs, netip.AddrFrom16([16]byte(b[i:i+16])))
		case typeCNAME:
			a.cnameOff = i
		case typeDNAME:
		default:
			a.notes = append(a.notes, "unexpected RR type "+strconv.Itoa(int(typ))+" in DNS response")
		}
		i += l
	}
	return a
}
