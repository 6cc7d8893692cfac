package httpparse

// Arg finds argument name in a query string as nginx's ngx_http_arg does
// (for $arg_NAME): the name is matched without regard to ASCII case, must
// start the string or follow '&', and must be followed by '='. The value
// runs to the next '&' and is not decoded; it aliases args.
func Arg(args, name []byte) ([]byte, bool) {
	n := len(name)
	if len(args) == 0 || n == 0 {
		return nil, false
	}
	// nginx searches args[:len-1] for the name, so that the byte after
	// a match (which must be '=') is always inside args.
	last := len(args) - 1
	for p := 0; p < last; p++ {
		i := indexFold(args[p:last], name)
		if i < 0 {
			return nil, false
		}
		p += i
		if (p == 0 || args[p-1] == '&') && p+n < len(args) && args[p+n] == '=' {
			v := args[p+n+1:]
			for j, c := range v {
				if c == '&' {
					return v[:j:j], true
				}
			}
			return v, true
		}
	}
	return nil, false
}

// indexFold returns the index of the first match of sub in s without regard
// to ASCII case, or -1.
func indexFold(s, sub []byte) int {
	n := len(sub)
	if n == 0 {
		return 0
	}
	first := lower(sub[0])
	for i := 0; i+n <= len(s); i++ {
		if lower(s[i]) == first && asciiEqualFold(s[i+1:i+n], sub[1:]) {
			return i
		}
	}
	return -1
}

// SplitArgs splits a URI at its first '?' as nginx's ngx_http_split_args
// does; args is nil when there is no '?'.
func SplitArgs(uri []byte) (path, args []byte) {
	for i, c := range uri {
		if c == '?' {
			return uri[:i:i], uri[i+1:]
		}
	}
	return uri, nil
}

// CheckUnsafeURI applies nginx's ngx_http_parse_unsafe_uri to a URI that a
// response or a configuration hands over for an internal redirect
// (X-Accel-Redirect, SSI, ...): it splits off the arguments at the first
// '?', and rejects empty URIs, URIs starting with '?', "..", "/../" and a
// trailing "/.." segment, and NUL, both before and after %XX-decoding.
// When the URI has escapes the decoded path is written into dst's backing
// array (allocating only if it is too small), else path aliases uri.
func CheckUnsafeURI(dst, uri []byte) (path, args []byte, ok bool) {
	if len(uri) == 0 || uri[0] == '?' || dotDotAt(uri, 0) {
		return nil, nil, false
	}
	path = uri
	quoted := false
	for i := 0; i < len(uri); i++ {
		ch := uri[i]
		if ch == '%' {
			quoted = true
			continue
		}
		if uriUsual[ch] {
			continue
		}
		if ch == '?' {
			path, args = uri[:i:i], uri[i+1:]
			break
		}
		if ch == 0 {
			return nil, nil, false
		}
		if ch == '/' && len(uri)-i > 2 && dotDotAt(uri, i+1) {
			return nil, nil, false
		}
	}
	if !quoted {
		return path, args, true
	}
	dec, _ := AppendUnescape(dst[:0], path, UnescapePlain)
	if len(dec) > 0 && dotDotAt(dec, 0) {
		return nil, nil, false
	}
	for i, ch := range dec {
		if ch == 0 {
			return nil, nil, false
		}
		if ch == '/' && len(dec)-i > 2 && dotDotAt(dec, i+1) {
			return nil, nil, false
		}
	}
	return dec, args, true
}

// dotDotAt reports whether b[i:] is ".." alone or followed by '/'.
func dotDotAt(b []byte, i int) bool {
	return len(b)-i >= 2 && b[i] == '.' && b[i+1] == '.' && (len(b)-i == 2 || b[i+2] == '/')
}

// CookieValue finds name in one Cookie (or similar "a=b; c=d") header value
// as nginx's ngx_http_parse_multi_header_lines does for $cookie_NAME: names
// are matched without regard to ASCII case at the start of an item (items
// are separated by ';' or ',' and optional spaces), spaces may surround
// '=', and the value runs to the next ';'. It aliases value.
func CookieValue(value, name []byte) ([]byte, bool) {
	if len(name) > len(value) {
		return nil, false
	}
	p, end := 0, len(value)
	for p < end {
		if end-p >= len(name) && asciiEqualFold(value[p:p+len(name)], name) {
			q := p + len(name)
			for q < end && value[q] == ' ' {
				q++
			}
			if q < end && value[q] == '=' {
				q++
				for q < end && value[q] == ' ' {
					q++
				}
				v := q
				for v < end && value[v] != ';' {
					v++
				}
				return value[q:v:v], true
			}
			// nginx has consumed the byte that is not '=' before it
			// skips to the next item.
			if q < end {
				q++
			}
			p = q
		}
		for p < end {
			c := value[p]
			p++
			if c == ';' || c == ',' {
				break
			}
		}
		for p < end && value[p] == ' ' {
			p++
		}
	}
	return nil, false
}
