package httpparse

// ValidateHost checks a host (a Host header value or the host of an absolute
// URI) as nginx's ngx_http_validate_host does and returns the length of its
// name part: without ":port", without the brackets' trailing text for an
// IPv6 literal, and without one trailing dot. It rejects "/", control bytes,
// space, DEL, "..", and hosts whose name part is empty.
func ValidateHost(host []byte) (n int, ok bool) {
	const (
		usual = iota
		literal
		rest
	)
	dot := len(host) // position of the last dot; len means none
	n = len(host)
	state := usual
	for i, ch := range host {
		switch ch {
		case '.':
			if dot == i-1 {
				return 0, false
			}
			dot = i
		case ':':
			if state == usual {
				n = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				n = i + 1
				state = rest
			}
		default:
			if ch == '/' || ch <= 0x20 || ch == 0x7f {
				return 0, false
			}
		}
	}
	if dot == n-1 {
		n--
	}
	if n <= 0 {
		return 0, false
	}
	return n, true
}
