package headersmore

import (
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// inputSetters are the request headers nginx keeps a field for
// (headers_in.host, .user_agent, ...), by lower-cased name, with the
// extra work some of them need.
var inputSetters = map[string]setFunc{
	"host":                setHost,
	"connection":          setBuiltinIn,
	"if-modified-since":   setBuiltinIn,
	"if-unmodified-since": setBuiltinIn,
	"if-match":            setBuiltinIn,
	"if-none-match":       setBuiltinIn,
	"user-agent":          setBuiltinIn,
	"referer":             setBuiltinIn,
	"content-length":      setInputContentLength,
	"content-type":        setBuiltinIn,
	"range":               setBuiltinIn,
	"if-range":            setBuiltinIn,
	"transfer-encoding":   setBuiltinIn,
	"expect":              setBuiltinIn,
	"upgrade":             setBuiltinIn,
	"accept-encoding":     setBuiltinIn,
	"via":                 setBuiltinIn,
	"authorization":       setBuiltinIn,
	"keep-alive":          setBuiltinIn,
	"x-forwarded-for":     setMultiIn,
	"x-real-ip":           setBuiltinIn,
	"depth":               setBuiltinIn,
	"destination":         setBuiltinIn,
	"overwrite":           setBuiltinIn,
	"date":                setBuiltinIn,
	"cookie":              setMultiIn,
}

// inputHandler runs the input directives of the request's location in
// order; it is registered at the end of the rewrite phase.
func inputHandler(r *http.Request) int {
	r.Logf(errlog.Debug, "headers more rewrite handler, uri \"%s\"", r.URI)
	lc := locConf(r)
	if len(lc.cmds) == 0 || r.HTTPVersion < 1000 {
		return http.Declined
	}
	for _, cmd := range lc.cmds {
		if !cmd.input || cmd.headers == nil {
			continue
		}
		if cmd.types != nil && !inTypeMatches(r, cmd.types) {
			continue
		}
		for _, hv := range cmd.headers {
			if rc := hv.set(r, hv, hv.eval(r)); rc != http.OK {
				return rc
			}
		}
	}
	return http.Declined
}

// inTypeMatches compares the whole request Content-Type with the -t
// list.
func inTypeMatches(r *http.Request, types [][]byte) bool {
	ct, ok := r.KnownIn(httpparse.HdrContentType)
	if !ok || len(ct) == 0 {
		return false
	}
	for _, t := range types {
		if string(t) == string(ct) {
			return true
		}
	}
	return false
}

// setInput sets a request header: the first line the key matches takes
// the value, later ones go; an empty value removes every match (a
// "Prefix*" key matches only then). Without a match a line is added,
// unless the value is empty or -r asked to replace only.
func setInput(r *http.Request, hv *headerVal, v []byte) int {
	matched := -1
	for i := 0; i < len(r.In); {
		h := &r.In[i]
		if !inputMatches(hv, h.Name, v) {
			i++
			continue
		}
		if len(v) == 0 || matched >= 0 {
			r.In = append(r.In[:i], r.In[i+1:]...)
			continue
		}
		h.Value = v
		matched = i
		i++
	}
	if matched >= 0 || len(v) == 0 || hv.replace || headFailed(r) {
		return http.OK
	}
	r.In = append(r.In, http.Header{Name: hv.key, Value: v, Known: httpparse.LookupHeader(hv.key)})
	return http.OK
}

// headFailed tells whether the request's head could not be parsed (an
// error page for a bad request runs): nginx has no header list to add to
// then.
func headFailed(r *http.Request) bool {
	return r.Main.Head != nil && r.Main.Head.Status() != 0
}

// shareUp hands a subrequest's request headers to its ancestors, as the
// original copies nginx's header fields up after adding one of them: the
// parent then sees the header too.
func shareUp(r *http.Request) {
	for ; r != r.Main; r = r.Parent {
		r.Parent.In = r.In
	}
}

func inputMatches(hv *headerVal, name, v []byte) bool {
	if !hv.wildcard {
		return len(name) == len(hv.key) && equalFold(name, hv.key)
	}
	return len(v) == 0 && hv.nameMatches(name)
}

// setBuiltinIn changes only the line nginx's field points at (the first
// of the name) when it sets a value; a clear, or a header the request
// lacks, goes through setInput.
func setBuiltinIn(r *http.Request, hv *headerVal, v []byte) int {
	if len(v) == 0 {
		return setInput(r, hv, v)
	}
	for i := range r.In {
		h := &r.In[i]
		if len(h.Name) == len(hv.key) && equalFold(h.Name, hv.key) {
			h.Value = v
			return http.OK
		}
	}
	rc := setInput(r, hv, v)
	shareUp(r)
	return rc
}

// setMultiIn is for the headers nginx collects into a list (Cookie,
// X-Forwarded-For): one line remains.
func setMultiIn(r *http.Request, hv *headerVal, v []byte) int {
	if r.Out.Status == 400 || headFailed(r) {
		return http.OK
	}
	rc := setInput(r, hv, v)
	shareUp(r)
	return rc
}

// setHost also changes the server name the request asked for ($host),
// after nginx's checks of a Host value.
func setHost(r *http.Request, hv *headerVal, v []byte) int {
	if len(v) == 0 {
		r.Host = nil
		return setBuiltinIn(r, hv, v)
	}
	host, ok := validateHost(v)
	if !ok {
		return http.Error
	}
	r.Host = host
	return setBuiltinIn(r, hv, v)
}

// validateHost checks a Host value and returns the server name in it:
// no port, no trailing dot, lower case. It fails on "..", NUL, '/' and
// an empty name.
func validateHost(h []byte) ([]byte, bool) {
	const (
		usual = iota
		literal
		rest
	)
	dot := len(h)
	hostLen := len(h)
	state := usual
	lower := false
	for i, c := range h {
		switch c {
		case '.':
			if dot == i-1 {
				return nil, false
			}
			dot = i
		case ':':
			if state == usual {
				hostLen = i
				state = rest
			}
		case '[':
			if i == 0 {
				state = literal
			}
		case ']':
			if state == literal {
				hostLen = i + 1
				state = rest
			}
		case 0, '/':
			return nil, false
		default:
			if c >= 'A' && c <= 'Z' {
				lower = true
			}
		}
	}
	if dot == hostLen-1 {
		hostLen--
	}
	if hostLen <= 0 {
		return nil, false
	}
	if !lower {
		return h[:hostLen:hostLen], true
	}
	out := make([]byte, hostLen)
	for i := range out {
		c := h[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		out[i] = c
	}
	return out, true
}

// setInputContentLength also changes the body length nginx reads.
func setInputContentLength(r *http.Request, hv *headerVal, v []byte) int {
	if len(v) == 0 {
		r.ContentLength = -1
		return setBuiltinIn(r, hv, v)
	}
	n, ok := httpparse.Atoof(v)
	if !ok {
		return http.Error
	}
	r.ContentLength = n
	return setBuiltinIn(r, hv, v)
}
