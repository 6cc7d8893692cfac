package http

import (
	"os"
	"strconv"
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/httpparse"
)

// VarFlags are a variable's properties, as nginx's NGX_HTTP_VAR_*.
type VarFlags uint8

// Variable flags.
const (
	// VarChangeable may be redefined by set.
	VarChangeable VarFlags = 1 << iota
	// VarNoCacheable is evaluated on every use.
	VarNoCacheable
	// VarPrefix is a family of variables named by a prefix ($http_...).
	VarPrefix
	// VarWeak may be redefined by another module.
	VarWeak
)

// Variable is a variable definition. Get returns the value and whether the
// variable is found; the value may alias request memory. data is the
// variable's Data (for prefix variables, the rest of the name).
type Variable struct {
	Name  string
	Get   func(r *Request, data any) ([]byte, bool)
	Set   func(r *Request, v []byte, data any)
	Data  any
	Flags VarFlags
}

type varValue struct {
	v        []byte
	valid    bool
	notFound bool
	// pinned marks a value a script stored: it stays, even for a
	// non-cacheable variable, as nginx's stored values are cacheable.
	pinned bool
}

type varRegistry struct {
	defs     map[string]*Variable
	prefixes []*Variable
	// indexed are the variables configurations refer to, by index.
	indexed []*Variable
	names   []string
	byName  map[string]int
	// where each index was first asked for, for "unknown variable" errors.
	dirs []*conf.Directive
}

func newVarRegistry() *varRegistry {
	return &varRegistry{defs: map[string]*Variable{}, byName: map[string]int{}}
}

// AddVariable defines a variable (ngx_http_add_variable). Defining an
// existing name is "the duplicate "NAME" variable" unless both
// definitions are changeable; a weak definition is then replaced.
func (cf *Conf) AddVariable(v *Variable) (*Variable, error) {
	reg := cf.Main.vars
	if v.Flags&VarPrefix != 0 {
		for _, p := range reg.prefixes {
			if p.Name == v.Name {
				if p.Flags&VarChangeable == 0 || v.Flags&VarChangeable == 0 {
					return nil, cf.Errorf(cf.curDir(), "the duplicate \"%s\" variable", v.Name)
				}
				if v.Flags&VarWeak == 0 {
					p.Flags &^= VarWeak
				}
				return p, nil
			}
		}
		reg.prefixes = append(reg.prefixes, v)
		return v, nil
	}
	name := strings.ToLower(v.Name)
	if old := reg.defs[name]; old != nil {
		if old.Flags&VarChangeable == 0 || v.Flags&VarChangeable == 0 {
			return nil, cf.Errorf(cf.curDir(), "the duplicate \"%s\" variable", v.Name)
		}
		if v.Flags&VarWeak == 0 {
			old.Flags &^= VarWeak
		}
		return old, nil
	}
	reg.defs[name] = v
	return v, nil
}

// LookupVariable returns a defined variable, or nil.
func (cf *Conf) LookupVariable(name string) *Variable {
	return cf.Main.vars.defs[strings.ToLower(name)]
}

func (cf *Conf) curDir() *conf.Directive {
	if d := cf.Parser.Current(); d != nil {
		return d
	}
	return cf.Dir
}

// VariableIndex returns the index of a variable for fast access from
// requests (ngx_http_get_variable_index). Names unknown at the end of the
// http block are "unknown "NAME" variable".
func (cf *Conf) VariableIndex(name string) (int, error) {
	if name == "" {
		return 0, cf.Errorf(cf.curDir(), "invalid variable name \"$\"")
	}
	reg := cf.Main.vars
	low := strings.ToLower(name)
	if i, ok := reg.byName[low]; ok {
		return i, nil
	}
	i := len(reg.names)
	reg.names = append(reg.names, low)
	reg.byName[low] = i
	reg.dirs = append(reg.dirs, cf.curDir())
	return i, nil
}

// init resolves every indexed variable to its definition, as
// ngx_http_variables_init_vars.
func (reg *varRegistry) init(cf *Conf) error {
	reg.indexed = make([]*Variable, len(reg.names))
	for i, name := range reg.names {
		def := reg.defs[name]
		if def != nil && def.Get != nil && def.Flags&VarWeak == 0 {
			reg.indexed[i] = def
			continue
		}
		// a weak definition (set's) or one without a getter yields to
		// the longest prefix variable it matches, as in nginx: "set
		// $arg_x" reads the argument until the script stores a value.
		found := def
		plen := 0
		for _, p := range reg.prefixes {
			if len(p.Name) > plen && strings.HasPrefix(name, p.Name) {
				found = &Variable{Name: name, Get: p.Get, Set: p.Set, Data: name[len(p.Name):], Flags: p.Flags &^ VarPrefix}
				plen = len(p.Name)
			}
		}
		if found == nil {
			// nginx reports this after the http block, without a place.
			return &core.Error{Msg: "unknown \"" + name + "\" variable"}
		}
		reg.indexed[i] = found
	}
	return nil
}

// IndexedVar returns the value of indexed variable i for r.
func (r *Request) IndexedVar(i int) ([]byte, bool) {
	reg := r.Conn.cfg.Main.vars
	r.varSlots(len(reg.indexed))
	vv := &r.vars[i]
	if vv.valid || vv.notFound {
		v := reg.indexed[i]
		if vv.pinned || v.Flags&VarNoCacheable == 0 {
			return vv.v, vv.valid
		}
	}
	v := reg.indexed[i]
	if v.Get == nil {
		vv.notFound = true
		return nil, false
	}
	b, ok := v.Get(r, v.Data)
	vv.v, vv.valid, vv.notFound = b, ok, !ok
	return b, ok
}

// SetIndexedVar stores a value for indexed variable i (the set directive,
// named captures).
func (r *Request) SetIndexedVar(i int, b []byte) {
	reg := r.Conn.cfg.Main.vars
	r.varSlots(len(reg.indexed))
	v := reg.indexed[i]
	if v.Set != nil {
		v.Set(r, b, v.Data)
		return
	}
	r.vars[i] = varValue{v: b, valid: true, pinned: true}
}

func (r *Request) varSlots(n int) {
	if len(r.vars) >= n {
		return
	}
	if cap(r.vars) >= n {
		r.vars = r.vars[:n]
		clear(r.vars)
		return
	}
	r.vars = make([]varValue, n)
}

// flushVar forgets a cached value so that it is evaluated again.
func (r *Request) flushVars() {
	for i := range r.vars {
		r.vars[i] = varValue{}
	}
}

// Var returns a variable's value by name, for code without an index
// (ngx.var, subrequest variables). It is slower than an index.
func (r *Request) Var(name string) ([]byte, bool) {
	reg := r.Conn.cfg.Main.vars
	low := strings.ToLower(name)
	if i, ok := reg.byName[low]; ok {
		return r.IndexedVar(i)
	}
	if v := reg.defs[low]; v != nil {
		if v.Get == nil {
			return nil, false
		}
		return v.Get(r, v.Data)
	}
	for _, p := range reg.prefixes {
		if strings.HasPrefix(low, p.Name) {
			return p.Get(r, low[len(p.Name):])
		}
	}
	if n, err := strconv.Atoi(name); err == nil && n >= 0 {
		return r.Capture(n)
	}
	return nil, false
}

// VarIndex returns the index of a variable named name, or -1.
func (r *Request) VarIndex(name string) int {
	reg := r.Conn.cfg.Main.vars
	if i, ok := reg.byName[strings.ToLower(name)]; ok {
		return i
	}
	return -1
}

// VarDefined tells whether a variable exists, and whether it is
// changeable.
func (r *Request) VarDefined(name string) (exists, changeable bool) {
	reg := r.Conn.cfg.Main.vars
	low := strings.ToLower(name)
	if v := reg.defs[low]; v != nil {
		return true, v.Flags&VarChangeable != 0
	}
	for _, p := range reg.prefixes {
		if strings.HasPrefix(low, p.Name) {
			return true, p.Flags&VarChangeable != 0
		}
	}
	return false, false
}

// SetVar sets a changeable variable by name.
func (r *Request) SetVar(name string, b []byte) bool {
	reg := r.Conn.cfg.Main.vars
	low := strings.ToLower(name)
	if i, ok := reg.byName[low]; ok {
		r.SetIndexedVar(i, b)
		return true
	}
	if v := reg.defs[low]; v != nil && v.Set != nil {
		v.Set(r, b, v.Data)
		return true
	}
	return false
}

// errorAt is a configuration error located at a directive, made outside a
// directive's own setter.
type errorAt struct {
	msg string
	d   *conf.Directive
}

func (e *errorAt) Error() string {
	if e.d == nil {
		return e.msg
	}
	l := e.d.EndLine
	if l == 0 {
		l = e.d.Line
	}
	return e.msg + " in " + e.d.File + ":" + strconv.Itoa(l)
}

func str(s string) []byte { return []byte(s) }

func addCoreVariables(cf *Conf) error {
	for _, v := range coreVariables() {
		if _, err := cf.AddVariable(v); err != nil {
			return err
		}
	}
	return nil
}

func hdrVar(k httpparse.KnownHeader) func(r *Request, _ any) ([]byte, bool) {
	return func(r *Request, _ any) ([]byte, bool) { return r.KnownIn(k) }
}

// multiHdrVar joins repeated headers with sep, as nginx's
// ngx_http_variable_headers_internal.
func multiHdrVar(k httpparse.KnownHeader, sep string) func(r *Request, _ any) ([]byte, bool) {
	return func(r *Request, _ any) ([]byte, bool) {
		var out []byte
		n := 0
		for i := range r.In {
			if r.In[i].Known != k {
				continue
			}
			if n == 0 {
				out = r.In[i].Value
			} else {
				if n == 1 {
					out = append(r.Alloc(0)[:0:0], out...)
				}
				out = append(out, sep...)
				out = append(out, r.In[i].Value...)
			}
			n++
		}
		return out, n > 0
	}
}

func coreVariables() []*Variable {
	nc := VarNoCacheable
	return []*Variable{
		{Name: "http_host", Get: hdrVar(httpparse.HdrHost)},
		{Name: "http_user_agent", Get: hdrVar(httpparse.HdrUserAgent)},
		{Name: "http_referer", Get: hdrVar(httpparse.HdrReferer)},
		{Name: "http_via", Get: hdrVar(httpparse.HdrVia)},
		{Name: "http_x_forwarded_for", Get: multiHdrVar(httpparse.HdrXForwardedFor, ", ")},
		{Name: "http_cookie", Get: multiHdrVar(httpparse.HdrCookie, "; ")},
		{Name: "content_length", Get: func(r *Request, _ any) ([]byte, bool) {
			if v, ok := r.KnownIn(httpparse.HdrContentLength); ok {
				return v, true
			}
			if r.Body != nil && r.Body.Received >= 0 && r.Chunked && r.Body.Done {
				return strconv.AppendInt(r.Alloc(0)[:0:0], r.Body.Received, 10), true
			}
			return nil, false
		}},
		{Name: "content_type", Get: hdrVar(httpparse.HdrContentType)},
		{Name: "host", Get: func(r *Request, _ any) ([]byte, bool) {
			if len(r.Host) > 0 {
				return r.Host, true
			}
			if r.Srv != nil {
				return str(r.Srv.Name), true
			}
			return nil, true
		}},
		{Name: "binary_remote_addr", Get: func(r *Request, _ any) ([]byte, bool) {
			return r.Conn.RemoteAddrIP(), true
		}},
		{Name: "remote_addr", Get: func(r *Request, _ any) ([]byte, bool) {
			ip := r.Conn.RemoteIP()
			return append(r.Alloc(len(ip))[:0], ip...), true
		}},
		{Name: "remote_port", Get: func(r *Request, _ any) ([]byte, bool) {
			p := r.Conn.RemotePort()
			if p == 0 {
				return nil, true
			}
			return strconv.AppendInt(nil, int64(p), 10), true
		}},
		{Name: "proxy_protocol_addr", Get: func(r *Request, _ any) ([]byte, bool) { return ppAddr(r, false) }},
		{Name: "proxy_protocol_port", Get: func(r *Request, _ any) ([]byte, bool) { return ppPort(r, false) }},
		{Name: "proxy_protocol_server_addr", Get: func(r *Request, _ any) ([]byte, bool) { return ppAddr(r, true) }},
		{Name: "proxy_protocol_server_port", Get: func(r *Request, _ any) ([]byte, bool) { return ppPort(r, true) }},
		{Name: "server_addr", Get: func(r *Request, _ any) ([]byte, bool) { return str(r.Conn.LocalIP()), true }},
		{Name: "server_port", Get: func(r *Request, _ any) ([]byte, bool) {
			p := r.Conn.LocalPort()
			if p == 0 {
				return nil, true
			}
			return strconv.AppendInt(nil, int64(p), 10), true
		}},
		{Name: "server_protocol", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Main.Head == nil {
				return nil, false
			}
			return r.Main.Head.Protocol(), true
		}},
		{Name: "scheme", Get: func(r *Request, _ any) ([]byte, bool) { return str(r.Conn.Scheme()), true }},
		{Name: "https", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Conn.Scheme() == "https" {
				return str("on"), true
			}
			return nil, true
		}},
		{Name: "request_uri", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Main.Head == nil {
				return nil, false
			}
			return r.Main.Head.RawURI(), true
		}},
		{Name: "uri", Get: func(r *Request, _ any) ([]byte, bool) { return r.URI, true }, Flags: nc},
		{Name: "document_uri", Get: func(r *Request, _ any) ([]byte, bool) { return r.URI, true }, Flags: nc},
		{Name: "request", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Main.Head == nil {
				return nil, false
			}
			return r.Main.Head.RequestLine(), true
		}},
		{Name: "document_root", Get: varDocumentRoot, Flags: nc},
		{Name: "realpath_root", Get: varRealpathRoot, Flags: nc},
		// as nginx, $args is not found when the URI had no "?".
		{Name: "query_string", Get: func(r *Request, _ any) ([]byte, bool) { return r.Args, r.Args != nil }, Flags: nc},
		{Name: "args", Get: func(r *Request, _ any) ([]byte, bool) { return r.Args, r.Args != nil },
			Set: func(r *Request, v []byte, _ any) { r.Args = v }, Flags: nc | VarChangeable},
		{Name: "is_args", Get: func(r *Request, _ any) ([]byte, bool) {
			if len(r.Args) > 0 {
				return str("?"), true
			}
			return nil, true
		}, Flags: nc},
		{Name: "request_filename", Get: func(r *Request, _ any) ([]byte, bool) {
			p, _, ok := r.MapURIToPath(0)
			if !ok {
				return nil, false
			}
			return str(p), true
		}, Flags: nc},
		{Name: "server_name", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Srv == nil {
				return nil, true
			}
			return str(r.Srv.Name), true
		}},
		{Name: "request_method", Get: func(r *Request, _ any) ([]byte, bool) {
			return str(r.Main.MethodName), true
		}, Flags: nc},
		{Name: "remote_user", Get: varRemoteUser},
		{Name: "bytes_sent", Get: func(r *Request, _ any) ([]byte, bool) {
			return strconv.AppendInt(nil, r.Main.BytesSent, 10), true
		}, Flags: nc},
		{Name: "body_bytes_sent", Get: func(r *Request, _ any) ([]byte, bool) {
			return strconv.AppendInt(nil, r.Main.BodyBytesSent, 10), true
		}, Flags: nc},
		{Name: "pipe", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Conn.pipelined {
				return str("p"), true
			}
			return str("."), true
		}},
		{Name: "request_completion", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Main.done && r.Main.lastSent {
				return str("OK"), true
			}
			return nil, true
		}},
		{Name: "request_body", Get: varRequestBody, Flags: nc},
		{Name: "request_body_file", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Body == nil || r.Body.File == nil {
				return nil, false
			}
			return str(r.Body.File.Name()), true
		}, Flags: nc},
		{Name: "request_length", Get: func(r *Request, _ any) ([]byte, bool) {
			return strconv.AppendInt(nil, r.Main.RequestLength, 10), true
		}, Flags: nc},
		{Name: "request_time", Get: func(r *Request, _ any) ([]byte, bool) {
			d := r.Conn.loopNow().Sub(r.Main.StartTime)
			if d < 0 {
				d = 0
			}
			ms := d.Milliseconds()
			return fmtMsec(nil, ms), true
		}, Flags: nc},
		{Name: "request_id", Get: varRequestID},
		{Name: "status", Get: func(r *Request, _ any) ([]byte, bool) {
			st := r.Main.LogStatus()
			b := make([]byte, 0, 3)
			// nginx prints "%03ui": 000 when no response was made.
			if st < 100 {
				b = append(b, '0')
				if st < 10 {
					b = append(b, '0')
				}
			}
			return strconv.AppendInt(b, int64(st), 10), true
		}, Flags: nc},
		{Name: "sent_http_content_type", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Out.ContentType == "" {
				return nil, false
			}
			return str(r.contentTypeHeader()), true
		}},
		{Name: "sent_http_content_length", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Out.ContentLength < 0 {
				if v, ok := r.Out.Get("Content-Length"); ok {
					return v, true
				}
				return nil, false
			}
			return strconv.AppendInt(nil, r.Out.ContentLength, 10), true
		}},
		{Name: "sent_http_location", Get: func(r *Request, _ any) ([]byte, bool) {
			if h := r.Out.Known(httpparse.HdrLocation); h != nil {
				return h.Value, true
			}
			return nil, false
		}},
		{Name: "sent_http_last_modified", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Out.LastModified < 0 {
				if v, ok := r.Out.Get("Last-Modified"); ok {
					return v, true
				}
				return nil, false
			}
			return appendHTTPTime(nil, time.Unix(r.Out.LastModified, 0)), true
		}},
		{Name: "sent_http_connection", Get: func(r *Request, _ any) ([]byte, bool) {
			switch {
			case r.upgraded():
				return str("upgrade"), true
			case r.KeepAlive:
				return str("keep-alive"), true
			}
			return str("close"), true
		}},
		{Name: "sent_http_keep_alive", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.KeepAlive && r.Loc != nil && r.Loc.KeepaliveHeader > 0 {
				return append(str("timeout="), strconv.Itoa(int(r.Loc.KeepaliveHeader/time.Second))...), true
			}
			return nil, false
		}},
		{Name: "sent_http_transfer_encoding", Get: func(r *Request, _ any) ([]byte, bool) {
			if r.Out.Chunked {
				return str("chunked"), true
			}
			return nil, false
		}},
		{Name: "sent_http_cache_control", Get: func(r *Request, _ any) ([]byte, bool) { return r.outMulti("Cache-Control", ", ") }},
		{Name: "sent_http_link", Get: func(r *Request, _ any) ([]byte, bool) { return r.outMulti("Link", ", ") }},
		{Name: "limit_rate", Get: func(r *Request, _ any) ([]byte, bool) {
			return strconv.AppendInt(nil, r.LimitRate, 10), true
		}, Set: func(r *Request, v []byte, _ any) {
			n, ok := parseSizeBytes(v)
			if !ok {
				r.Logf(errlog.Error, "invalid $limit_rate \"%s\"", v)
				return
			}
			r.LimitRate, r.limitRateSet = n, true
		}, Flags: VarChangeable | nc},
		{Name: "connection", Get: func(r *Request, _ any) ([]byte, bool) {
			return strconv.AppendUint(nil, r.Conn.ID(), 10), true
		}},
		{Name: "connection_requests", Get: func(r *Request, _ any) ([]byte, bool) {
			return strconv.AppendInt(nil, int64(r.Conn.requests), 10), true
		}},
		{Name: "connection_time", Get: func(r *Request, _ any) ([]byte, bool) {
			return fmtMsec(nil, r.Conn.loopNow().Sub(r.Conn.start).Milliseconds()), true
		}, Flags: nc},
		{Name: "nginx_version", Get: func(r *Request, _ any) ([]byte, bool) { return str(NginxVersion), true }},
		{Name: "hostname", Get: func(r *Request, _ any) ([]byte, bool) { return str(hostname), true }},
		{Name: "pid", Get: func(r *Request, _ any) ([]byte, bool) { return strconv.AppendInt(nil, int64(os.Getpid()), 10), true }},
		{Name: "msec", Get: func(r *Request, _ any) ([]byte, bool) {
			now := r.Conn.loopNow()
			return fmtMsec(nil, now.UnixMilli()), true
		}, Flags: nc},
		{Name: "time_iso8601", Get: func(r *Request, _ any) ([]byte, bool) {
			return r.Conn.loopNow().AppendFormat(nil, "2006-01-02T15:04:05-07:00"), true
		}, Flags: nc},
		{Name: "time_local", Get: func(r *Request, _ any) ([]byte, bool) {
			return r.Conn.loopNow().AppendFormat(nil, "02/Jan/2006:15:04:05 -0700"), true
		}, Flags: nc},
		{Name: "tcpinfo_rtt", Get: tcpinfoVar(0)},
		{Name: "tcpinfo_rttvar", Get: tcpinfoVar(1)},
		{Name: "tcpinfo_snd_cwnd", Get: tcpinfoVar(2)},
		{Name: "tcpinfo_rcv_space", Get: tcpinfoVar(3)},
		{Name: "http_", Flags: VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			return r.headerVar(data.(string))
		}},
		{Name: "sent_http_", Flags: VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			return r.outMulti(underscoreName(data.(string)), ", ")
		}},
		{Name: "sent_trailer_", Flags: VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			name := underscoreName(data.(string))
			for i := range r.Out.Trailers {
				h := &r.Out.Trailers[i]
				if h.Name != nil && len(h.Name) == len(name) && equalFoldBS(h.Name, name) {
					return h.Value, true
				}
			}
			return nil, false
		}},
		{Name: "cookie_", Flags: VarPrefix, Get: func(r *Request, data any) ([]byte, bool) {
			return r.Cookie(data.(string))
		}},
		{Name: "arg_", Flags: VarPrefix | nc, Get: func(r *Request, data any) ([]byte, bool) {
			return ArgValue(r.Args, data.(string))
		}},
	}
}

// NginxVersion is the nginx version gresty is compatible with.
const NginxVersion = "1.22.1"

var hostname = func() string { h, _ := os.Hostname(); return h }()

func underscoreName(s string) string { return strings.ReplaceAll(s, "_", "-") }

// headerVar is $http_NAME: the first header whose name matches with "_"
// for "-" (nginx 1.22 joins repeated headers only for the variables it
// names, such as $http_cookie and $http_x_forwarded_for).
func (r *Request) headerVar(name string) ([]byte, bool) {
	for i := range r.In {
		h := &r.In[i]
		if nameMatchesUnderscored(h.Name, name) {
			return h.Value, true
		}
	}
	return nil, false
}

func nameMatchesUnderscored(h []byte, name string) bool {
	if len(h) != len(name) {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		} else if c == '-' {
			c = '_'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}

func (r *Request) outMulti(name, sep string) ([]byte, bool) {
	if strings.EqualFold(name, "content-type") && r.Out.ContentType != "" {
		return str(r.contentTypeHeader()), true
	}
	var out []byte
	n := 0
	for i := range r.Out.Headers {
		h := &r.Out.Headers[i]
		if h.Name == nil || len(h.Name) != len(name) || !equalFoldBS(h.Name, name) {
			continue
		}
		if n == 0 {
			out = h.Value
		} else {
			if n == 1 {
				out = append([]byte(nil), out...)
			}
			out = append(out, sep...)
			out = append(out, h.Value...)
		}
		n++
	}
	return out, n > 0
}

// Cookie returns the value of cookie name from the Cookie headers, as
// nginx 1.22's ngx_http_parse_multi_header_lines: the name without case,
// spaces around "=" allowed, the value up to ";" (a "," does not end
// it, though it separates names).
func (r *Request) Cookie(name string) ([]byte, bool) {
	for i := range r.In {
		h := &r.In[i]
		if h.Known != httpparse.HdrCookie {
			continue
		}
		if v, ok := findCookie(h.Value, name); ok {
			return v, true
		}
	}
	return nil, false
}

// FindCookie finds cookie name in the value of one Cookie header, as
// ngx_http_parse_multi_header_lines: names compared without case.
func FindCookie(v []byte, name string) ([]byte, bool) { return findCookie(v, name) }

func findCookie(v []byte, name string) ([]byte, bool) {
	if len(name) > len(v) {
		return nil, false
	}
	p := 0
	for p < len(v) {
		if len(v)-p >= len(name) && equalFoldBS(v[p:p+len(name)], name) {
			// the name, spaces, "=", spaces, and the value up to ";"
			p += len(name)
			for p < len(v) && v[p] == ' ' {
				p++
			}
			if p < len(v) && v[p] == '=' {
				p++
				for p < len(v) && v[p] == ' ' {
					p++
				}
				end := p
				for end < len(v) && v[end] != ';' {
					end++
				}
				return v[p:end], true
			}
			if p < len(v) {
				p++ // nginx steps over the character that is not "="
			}
		}
		for p < len(v) {
			c := v[p]
			p++
			if c == ';' || c == ',' {
				break
			}
		}
		for p < len(v) && v[p] == ' ' {
			p++
		}
	}
	return nil, false
}

// ArgValue returns the value of argument name in args, as ngx_http_arg
// (name compared without case, the first "name=" match).
func ArgValue(args []byte, name string) ([]byte, bool) {
	p := 0
	for p < len(args) {
		i := indexByte(args[p:], '=')
		amp := indexByte(args[p:], '&')
		var key, val []byte
		next := len(args)
		if amp >= 0 {
			next = p + amp + 1
		}
		end := next
		if amp >= 0 {
			end = p + amp
		}
		if i >= 0 && p+i < end {
			key, val = args[p:p+i], args[p+i+1:end]
		} else {
			// a name without "=" is not the argument
			p = next
			continue
		}
		if len(key) == len(name) && equalFoldBS(key, name) {
			return val, true
		}
		p = next
	}
	return nil, false
}

func varRequestBody(r *Request, _ any) ([]byte, bool) {
	b := r.Body
	if b == nil || b.File != nil || !b.Done || len(b.Bytes()) == 0 {
		// nginx finds no $request_body without buffers.
		return nil, false
	}
	return b.Bytes(), true
}

func varRemoteUser(r *Request, _ any) ([]byte, bool) {
	user, _, ok := r.BasicAuth()
	if !ok {
		return nil, false
	}
	return user, true
}

func varRequestID(r *Request, _ any) ([]byte, bool) {
	b := make([]byte, 32)
	var raw [16]byte
	fillRandom(raw[:])
	const hex = "0123456789abcdef"
	for i, c := range raw {
		b[2*i], b[2*i+1] = hex[c>>4], hex[c&15]
	}
	return b, true
}

func varDocumentRoot(r *Request, _ any) ([]byte, bool) {
	root := r.Loc.Root.V
	if root == nil {
		return nil, false
	}
	v := root.EvalString(r)
	if r.Loc.Alias {
		// nginx gives the alias path minus the location part.
		return str(v), true
	}
	return str(v), true
}

func varRealpathRoot(r *Request, _ any) ([]byte, bool) {
	b, ok := varDocumentRoot(r, nil)
	if !ok {
		return nil, false
	}
	real, err := realpath(string(b))
	if err != nil {
		r.Logf(errlog.Crit, "realpath() \"%s\" failed %s", b, errlog.Errno(err))
		return nil, false
	}
	return str(real), true
}

// fmtMsec formats milliseconds as seconds with three decimals ("0.001").
func fmtMsec(dst []byte, ms int64) []byte {
	dst = strconv.AppendInt(dst, ms/1000, 10)
	dst = append(dst, '.')
	f := ms % 1000
	dst = append(dst, byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
	return dst
}

func parseSizeBytes(b []byte) (int64, bool) {
	s := string(b)
	if s == "" {
		return 0, false
	}
	return parseSize(s)
}

func tcpinfoVar(which int) func(r *Request, _ any) ([]byte, bool) {
	return func(r *Request, _ any) ([]byte, bool) {
		v, ok := r.Conn.tcpInfo(which)
		if !ok {
			return str("0"), true
		}
		return strconv.AppendUint(nil, uint64(v), 10), true
	}
}
