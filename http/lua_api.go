package http

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"gresty/core"
	"gresty/httpparse"
)

// This file is what ngx_http_lua_module needs of a request beyond the
// public fields: the raw request head, variables looked up and assigned
// by name with nginx's rules, the request body replaced by Lua code, and
// the special request headers nginx keeps in dedicated fields. Every
// method here runs on the request's loop.

// RawHeader returns the request head as ngx_lua's ngx.req.raw_header
// does: the request line and the header lines as the client sent them, up
// to and including the empty line that ends the head; without the
// request line when noRequestLine is set. nginx writes NULs after header
// names and values while parsing and turns them back into ':', CR or LF,
// so a value's trailing blanks come back as a line break; that is kept.
// The result is a copy.
func (r *Request) RawHeader(noRequestLine bool) []byte {
	mr := r.Main
	c := mr.Conn
	h := mr.Head
	if h == nil || len(h.RequestLine()) == 0 {
		return []byte{}
	}
	var head []byte
	if h == &c.head && c.headStart >= 0 && c.headStart+h.HeadLen() <= len(c.data) {
		head = c.data[c.headStart+h.RequestStart() : c.headStart+h.HeadLen()]
		if !bytes.HasPrefix(head, h.RequestLine()) {
			head = nil
		}
	}
	if head == nil {
		head = rebuildHead(h)
	}
	d := append([]byte(nil), head...)
	base := uintptr(unsafe.Pointer(unsafe.SliceData(head)))
	for i := 0; i < h.NumHeaders(); i++ {
		v := h.Header(i).Value
		if v == nil {
			continue
		}
		end := int(uintptr(unsafe.Pointer(unsafe.SliceData(v)))-base) + len(v)
		if end < 0 || end+1 >= len(d) {
			continue
		}
		if d[end+1] == '\n' {
			d[end] = '\r'
		} else {
			d[end] = '\n'
		}
	}
	if noRequestLine {
		i := bytes.IndexByte(d, '\n')
		if i < 0 {
			return []byte{}
		}
		d = d[i+1:]
	}
	switch {
	case bytes.Contains(d, []byte("\r\n\r\n")):
		d = d[:bytes.Index(d, []byte("\r\n\r\n"))+4]
	case bytes.Contains(d, []byte("\r\n\n")):
		d = d[:bytes.Index(d, []byte("\r\n\n"))+3]
	case bytes.Contains(d, []byte("\n\r\n")):
		d = d[:bytes.Index(d, []byte("\n\r\n"))+3]
	default:
		for p := len(d) - 1; p >= 2; p-- {
			if d[p] == '\n' && d[p-1] == '\r' {
				d[p-1] = '\n'
				d = d[:p+1]
				break
			}
			if d[p] == '\n' && d[p-1] == '\n' {
				d = d[:p+1]
				break
			}
		}
	}
	return d
}

// rebuildHead writes a head out of its parsed lines, for a request whose
// input buffer no longer holds it.
func rebuildHead(h *httpparse.Request) []byte {
	b := append([]byte(nil), h.RequestLine()...)
	b = append(b, '\r', '\n')
	for i := 0; i < h.NumHeaders(); i++ {
		f := h.Header(i)
		b = append(b, f.Name...)
		b = append(b, ':', ' ')
		b = append(b, f.Value...)
		b = append(b, '\r', '\n')
	}
	return append(b, '\r', '\n')
}

// LookupVariable returns the value of the variable named name (in lower
// case) as ngx_http_get_variable finds it: a variable the configuration
// refers to comes from the request's cache (non-cacheable ones are
// evaluated again), another defined variable is evaluated, a name that
// starts with a prefix family's prefix (the longest matching one) is
// evaluated by the family; anything else is not found. The value may
// alias request memory.
func (r *Request) LookupVariable(name string) ([]byte, bool) {
	return r.VariableValue(r.ResolveVariable(name))
}

// VarRef is a variable name as LookupVariable resolves it in one
// configuration: code that reads the same name request after request
// resolves it once (while Resolved holds).
type VarRef struct {
	reg  *varRegistry
	idx  int       // the variable's index, or -1
	v    *Variable // else the variable or prefix family, or nil
	data any       // what v.Get takes
}

// ResolveVariable resolves name (in lower case) for VariableValue.
func (r *Request) ResolveVariable(name string) VarRef {
	reg := r.Conn.cfg.Main.vars
	ref := VarRef{reg: reg, idx: -1}
	if i, ok := reg.byName[name]; ok {
		ref.idx = i
		return ref
	}
	if v := reg.defs[name]; v != nil {
		if v.Get != nil {
			ref.v, ref.data = v, v.Data
		}
		return ref
	}
	var best *Variable
	for _, p := range reg.prefixes {
		if strings.HasPrefix(name, p.Name) && (best == nil || len(p.Name) > len(best.Name)) {
			best = p
		}
	}
	if best != nil {
		ref.v, ref.data = best, name[len(best.Name):]
	}
	return ref
}

// Resolved reports whether ref was resolved in r's configuration.
func (r *Request) Resolved(ref VarRef) bool { return ref.reg == r.Conn.cfg.Main.vars }

// VariableValue is LookupVariable of the name ref was resolved from.
func (r *Request) VariableValue(ref VarRef) ([]byte, bool) {
	switch {
	case ref.idx >= 0:
		return r.IndexedVar(ref.idx)
	case ref.v != nil:
		return ref.v.Get(r, ref.data)
	}
	return nil, false
}

// Errors of AssignVariable, in the words of ngx_http_lua_ffi_var_set.
var (
	// ErrVarNotFound: no such variable (prefix families cannot be
	// assigned either).
	ErrVarNotFound = errors.New("not found for writing")
	// ErrVarNotChangeable: a built-in variable without the changeable
	// flag.
	ErrVarNotChangeable = errors.New("not changeable")
	// ErrVarNotAssignable: a changeable variable that has neither a
	// setter nor a per-request slot.
	ErrVarNotAssignable = errors.New("cannot be assigned a value")
)

// AssignVariable stores value in the variable named name (in lower
// case), as "set" would; with notFound the variable becomes not found
// instead (ngx.var.x = nil). value must stay unchanged for the request's
// life.
func (r *Request) AssignVariable(name string, value []byte, notFound bool) error {
	reg := r.Conn.cfg.Main.vars
	v := reg.defs[name]
	if v == nil {
		return ErrVarNotFound
	}
	if v.Flags&VarChangeable == 0 {
		return ErrVarNotChangeable
	}
	if v.Set != nil {
		if notFound {
			value = nil
		}
		v.Set(r, value, v.Data)
		return nil
	}
	i, ok := reg.byName[name]
	if !ok {
		return ErrVarNotAssignable
	}
	r.varSlots(len(reg.indexed))
	if notFound {
		r.vars[i] = varValue{notFound: true}
		return nil
	}
	r.vars[i] = varValue{v: value, valid: true}
	return nil
}

// InvalidateVariable drops the cached value of the variable named name
// (in lower case) so that its next use evaluates it again, as ngx_lua
// does for $host after the Host header changed.
func (r *Request) InvalidateVariable(name string) {
	reg := r.Conn.cfg.Main.vars
	if i, ok := reg.byName[name]; ok && i < len(r.vars) {
		r.vars[i] = varValue{}
	}
}

// DetachLocation stops the header writer from treating the response's
// Location header as nginx's r->headers_out.location: the header then goes
// out as it is, a relative URI staying relative (ngx_lua sets Location
// this way).
func (h *ResponseHeaders) DetachLocation() {
	if h.location >= 0 && h.location < len(h.Headers) {
		h.Headers[h.location].Known = httpparse.HdrOther
	}
	h.location = -1
}

// BodyBuffer is the request body's in-memory data as a client body
// buffer holds it: nil when the body is in a file or empty.
func (b *RequestBody) BodyBuffer() []byte {
	if b.File != nil || len(b.mem) == 0 {
		return nil
	}
	return b.mem
}

// Replace makes data the request body (ngx.req.set_body_data): a
// temporary file is closed and removed, the body is complete. data must
// stay unchanged for the request's life.
func (b *RequestBody) Replace(data []byte) {
	b.dropFile()
	b.mem = data
	b.Done = true
	b.Received = int64(len(data))
}

// ReplaceFile makes the open file f the request body
// (ngx.req.set_body_file); with clean set the file is removed when the
// request ends, else only closed.
func (b *RequestBody) ReplaceFile(f *os.File, size int64, clean bool) {
	b.dropFile()
	b.mem = nil
	b.File = f
	b.keepFile = !clean
	b.Done = true
	b.Received = size
}

func (b *RequestBody) dropFile() {
	if b.File != nil {
		b.release()
	}
	b.keepFile = false
}

// NewBodyFile creates a temporary file in client_body_temp_path for a
// body Lua code builds (ngx.req.init_body): it is removed when the
// request ends.
func (r *Request) NewBodyFile() (*os.File, error) {
	return r.tempFile()
}

// SetInputContentLength records the request body length after Lua code
// replaced the body (headers_in.content_length_n): the Content-Length
// request header is set to it, added when absent.
func (r *Request) SetInputContentLength(n int64) {
	r.ContentLength = n
	v := strconv.AppendInt(nil, n, 10)
	for i := range r.In {
		if r.In[i].Known == httpparse.HdrContentLength {
			r.In[i].Value = v
			return
		}
	}
	r.In = append(r.In, Header{Name: []byte("Content-Length"), Value: v, Known: httpparse.HdrContentLength})
}

// DiscardingBody tells whether the request body is being (or was)
// discarded, so that it can no longer be read (r->discard_body).
func (r *Request) DiscardingBody() bool { return r.Main.discardBody }

// ConfigureArguments lists the built-in paths and the modules in the words of
// nginx's configure script (nginx -V's "configure arguments:" text, which
// ngx.config.nginx_configure() returns too), so that tools that detect modules from -V see
// them. No module is "=dynamic": everything is compiled in.
func ConfigureArguments(reg *core.Registry) string {
	var b strings.Builder
	for _, a := range []string{
		"--prefix=" + strings.TrimSuffix(core.DefaultPrefix, "/"),
		"--conf-path=" + core.DefaultConfPath,
		"--error-log-path=" + core.DefaultErrorLog,
		"--pid-path=" + core.DefaultPidPath,
		"--http-log-path=logs/access.log",
		"--http-client-body-temp-path=" + DefaultBodyTempPath,
	} {
		b.WriteString(" ")
		b.WriteString(a)
	}
	// nginx builds these HTTP modules unless told not to: say which
	// ones gresty lacks, so that test harnesses skip what needs them
	// instead of failing (Test::Nginx then leaves out fastcgi_temp_path &
	// co., nginx-tests skips the files).
	for _, name := range defaultHTTPModules {
		mod := "ngx_http_" + name + "_module"
		if filterModules[name] {
			mod = "ngx_http_" + name + "_filter_module"
		}
		if reg.Find(mod) == nil {
			b.WriteString(" --without-http_" + name + "_module")
		}
	}
	seen := map[string]bool{}
	for _, m := range reg.Modules {
		if m.Configure == "" || seen[m.Configure] {
			continue
		}
		seen[m.Configure] = true
		b.WriteString(" ")
		b.WriteString(m.Configure)
	}
	return b.String()
}

// defaultHTTPModules are the HTTP modules nginx's configure enables by
// default, by the name their --without- flag uses.
var defaultHTTPModules = []string{
	"charset", "gzip", "ssi", "userid", "access", "auth_basic", "mirror", "autoindex",
	"geo", "map", "split_clients", "referer", "rewrite", "proxy", "fastcgi", "uwsgi", "scgi",
	"grpc", "memcached", "limit_conn", "limit_req", "empty_gif", "browser",
	"upstream_hash", "upstream_ip_hash", "upstream_least_conn", "upstream_random",
	"upstream_keepalive", "upstream_zone",
}

// filterModules are the default modules whose nginx name is
// ngx_http_NAME_filter_module.
var filterModules = map[string]bool{"charset": true, "gzip": true, "ssi": true, "userid": true}

// ClearErrStatus forgets the status of an error being answered
// (r->err_status = 0), as assigning ngx.status does: the status set then
// wins.
func (r *Request) ClearErrStatus() { r.errStatus = 0 }

// FilterFinalizeKeeping is FilterFinalize that keeps module m's request
// context, as ngx_http_filter_finalize_request(r, m, status) does: the
// filter that answered sees its own state again when the special
// response passes through it.
func (r *Request) FilterFinalizeKeeping(m *core.Module, status int) int {
	keep := r.Ctx(m.TypeIndex)
	r.Out.reset()
	r.clearModuleCtx()
	if keep != nil {
		r.SetCtx(m.TypeIndex, keep)
	}
	r.filterFinalize = true
	rc := r.specialResponse(status)
	if rc == OK || rc == Done {
		return Error
	}
	return rc
}

// Reset empties h as for a new response (no headers, no length, no
// Last-Modified), keeping its slices' memory.
func (h *ResponseHeaders) Reset() { h.reset() }
