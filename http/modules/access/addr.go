package access

// parseInet is ngx_inet_addr: a dotted quad with exactly three dots,
// octets of decimal digits up to 255 (leading zeros allowed, as nginx
// reads them). It returns the address in network order; nginx's
// INADDR_NONE (255.255.255.255) counts as a failure, as it does there.
func parseInet(s string) ([4]byte, bool) {
	var out [4]byte
	octet, n := 0, 0
	var addr uint32
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			octet = octet*10 + int(c-'0')
			if octet > 255 {
				return out, false
			}
		case c == '.':
			addr = addr<<8 + uint32(octet)
			octet = 0
			n++
		default:
			return out, false
		}
	}
	if n != 3 {
		return out, false
	}
	addr = addr<<8 + uint32(octet)
	if addr == 0xffffffff {
		return out, false
	}
	out = [4]byte{byte(addr >> 24), byte(addr >> 16), byte(addr >> 8), byte(addr)}
	return out, true
}

// parseInet6 is ngx_inet6_addr: eight groups of up to four hex digits, one
// "::" run of zero groups, and a dotted quad allowed in the last 32 bits.
// It accepts what nginx accepts, including a leading single ":".
func parseInet6(s string) ([16]byte, bool) {
	var out [16]byte
	if s == "" {
		return out, false
	}
	p := 0
	if s[0] == ':' {
		p++
	}
	pos := 0    // next byte of out to fill
	zero := -1  // where the "::" run starts in out
	digit := -1 // start in s of the current group
	nibbles, word, groups := 0, 0, 8
	for ; p < len(s); p++ {
		c := s[p]
		if c == ':' {
			if nibbles > 0 {
				digit = p + 1
				out[pos], out[pos+1] = byte(word>>8), byte(word)
				pos += 2
				groups--
				if groups > 0 {
					nibbles, word = 0, 0
					continue
				}
			} else if zero < 0 {
				digit = p + 1
				zero = pos
				continue
			}
			return out, false
		}
		if c == '.' && nibbles > 0 {
			if groups < 2 || digit < 0 {
				return out, false
			}
			v4, ok := parseInet(s[digit:])
			if !ok {
				return out, false
			}
			out[pos], out[pos+1] = v4[0], v4[1]
			pos += 2
			word = int(v4[2])<<8 | int(v4[3])
			groups--
			nibbles = 1
			p = len(s)
			break
		}
		nibbles++
		if nibbles > 4 {
			return out, false
		}
		switch {
		case c >= '0' && c <= '9':
			word = word*16 + int(c-'0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			word = word*16 + int(c|0x20-'a') + 10
		default:
			return out, false
		}
	}
	if nibbles == 0 && zero < 0 {
		return out, false
	}
	out[pos], out[pos+1] = byte(word>>8), byte(word)
	pos += 2
	groups--
	if groups > 0 {
		if zero < 0 {
			return out, false
		}
		// move what followed "::" to the end, zeros in between
		n := groups * 2
		copy(out[zero+n:pos+n], out[zero:pos])
		for i := zero; i < zero+n; i++ {
			out[i] = 0
		}
		return out, true
	}
	if zero >= 0 {
		return out, false
	}
	return out, true
}

// cidr is a parsed allow/deny address: family 4 or 6 with address and mask
// (network order), as ngx_cidr_t.
type cidr struct {
	family     int
	addr, mask [16]byte
}

// cidrResult says how parseCIDR went, as ngx_ptocidr's return codes.
type cidrResult int

const (
	cidrOK cidrResult = iota
	// cidrMasked: the address had bits set below the mask; they were
	// cleared (nginx warns "low address bits ... are meaningless").
	cidrMasked
	cidrInvalid
)

// parseCIDR is ngx_ptocidr: an IPv4 or IPv6 address with an optional
// "/bits".
func parseCIDR(s string) (cidr, cidrResult) {
	var c cidr
	addrPart, maskPart, hasMask := s, "", false
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			addrPart, maskPart, hasMask = s[:i], s[i+1:], true
			break
		}
	}
	if a, ok := parseInet(addrPart); ok {
		c.family = 4
		copy(c.addr[:], a[:])
	} else if a, ok := parseInet6(addrPart); ok {
		c.family = 6
		c.addr = a
	} else {
		return c, cidrInvalid
	}
	size := 4
	if c.family == 6 {
		size = 16
	}
	if !hasMask {
		for i := 0; i < size; i++ {
			c.mask[i] = 0xff
		}
		return c, cidrOK
	}
	shift, ok := atoi(maskPart)
	if !ok || shift > size*8 {
		return c, cidrInvalid
	}
	res := cidrOK
	for i := 0; i < size; i++ {
		s := min(shift, 8)
		shift -= s
		c.mask[i] = byte(0xff << (8 - s))
		if c.addr[i]&c.mask[i] != c.addr[i] {
			res = cidrMasked
			c.addr[i] &= c.mask[i]
		}
	}
	return c, res
}

// atoi is ngx_atoi: decimal digits only, not empty.
func atoi(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' || n > 1<<30 {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}
