package proxy

// The request sent upstream: the handler that starts the upstream, the
// URL of proxy_pass with variables, the request line and headers
// (ngx_http_proxy_create_request), and the proxy variables.

import (
	"strconv"
	"strings"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// reqCtx is the proxy module's per-request state (ngx_http_proxy_ctx_t).
type reqCtx struct {
	vars               vars
	head               bool
	internalBodyLength int64
	internalChunked    bool
}

// proto implements http.UpstreamProtocol for one request, with the
// request's state. The upstream state keeps it for the next request it
// serves, with the memory of the request it built.
type proto struct {
	c   *LocConf
	ctx *reqCtx
	rc  reqCtx
	// buf holds the request line and headers, which u.head and u.URI
	// refer to until the request is over.
	buf []byte
}

// handler is ngx_http_proxy_handler, the content handler of a location
// with proxy_pass.
func handler(r *http.Request) int {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	u := r.NewUpstream(c.u, nil)
	pr, _ := u.RecycledProto().(*proto)
	if pr == nil {
		pr = &proto{}
	}
	*pr = proto{c: c, buf: pr.buf[:0]}
	ctx := &pr.rc
	pr.ctx = ctx
	u.Proto = pr
	r.SetCtx(Module.TypeIndex, ctx)
	if c.urlTpl == nil {
		ctx.vars = c.vars
		u.Schema = c.vars.schema
	} else if !eval(r, u, c, ctx) {
		return 500
	}
	if c.redirects != nil {
		u.RewriteRedirect = rewriteRedirect
	}
	if c.cookieDomains != nil || c.cookiePaths != nil || c.cookieFlags != nil {
		u.RewriteCookie = rewriteCookie
	}
	streamable := c.body == nil && c.u.PassRequestBody && (!r.Chunked || c.HTTPVersion.V == 1001)
	return u.Start(streamable)
}

// eval is ngx_http_proxy_eval: proxy_pass with variables, evaluated for
// the request; the host names an upstream block, an address, or a name
// to resolve.
func eval(r *http.Request, u *http.UpstreamRequest, c *LocConf, ctx *reqCtx) bool {
	proxy := c.urlTpl.EvalString(r)
	var add, port int
	switch {
	case len(proxy) > 7 && strings.EqualFold(proxy[:7], "http://"):
		add, port = 7, 80
	default:
		r.Logf(errlog.Error, "invalid URL prefix in \"%s\"", proxy)
		return false
	}
	u.Schema = proxy[:add]
	url, err := http.ParseURL(proxy[add:], port, true, false)
	if err != nil {
		r.Logf(errlog.Error, "%s in upstream \"%s\"", err, proxy[add:])
		return false
	}
	if strings.HasPrefix(url.URI, "?") {
		url.URI = "/" + url.URI
	}
	ctx.vars = varsOf(u.Schema, url, port)
	resPort := url.Port
	if url.NoPort {
		resPort = port
	}
	if us := c.upsMain.Find(url.Host, resPort, url.NoPort); us != nil {
		u.Srv = us
		return true
	}
	u.Resolved = &http.UpstreamResolved{Host: url.Host, Port: resPort, NoPort: url.NoPort, Addrs: url.Addrs}
	return true
}

// CreateRequest implements http.UpstreamProtocol
// (ngx_http_proxy_create_request).
func (p *proto) CreateRequest(u *http.UpstreamRequest) (head, body []byte, err error) {
	r := u.Request()
	c, ctx := p.c, p.ctx
	method := r.MethodName
	if c.Method.V != nil {
		method = c.Method.V.EvalString(r)
	}
	if len(method) == 4 && strings.EqualFold(method, "HEAD") {
		ctx.head = true
	}
	u.HeadRequest = ctx.head

	b := p.buf[:0]
	if cap(b) == 0 {
		b = make([]byte, 0, 512)
	}
	b = append(b, method...)
	b = append(b, ' ')
	uriStart := len(b)
	switch {
	case c.urlTpl != nil && ctx.vars.uri != "":
		b = append(b, ctx.vars.uri...)
	case ctx.vars.uri == "" && r.ValidUnparsedURI():
		b = append(b, r.Head.RawURI()...)
	default:
		locLen := 0
		if r.LocationValid() && ctx.vars.uri != "" {
			locLen = len(c.location)
		}
		if r.LocationValid() {
			b = append(b, ctx.vars.uri...)
		}
		rest := r.URI
		if locLen <= len(rest) {
			rest = rest[locLen:]
		} else {
			rest = nil
		}
		if (r == r.Main && r.Head != nil && r.Head.QuotedURI) || r.Internal {
			b = httpparse.AppendEscape(b, rest, httpparse.EscapeURI)
		} else {
			b = append(b, rest...)
		}
		if len(r.Args) > 0 {
			b = append(b, '?')
			b = append(b, r.Args...)
		}
	}
	if len(b) == uriStart {
		r.Logf(errlog.Error, "zero length URI to proxy")
		return nil, nil, errZeroURI
	}
	u.URI = b[uriStart:len(b):len(b)]
	if c.HTTPVersion.V == 1001 {
		b = append(b, " HTTP/1.1\r\n"...)
	} else {
		b = append(b, " HTTP/1.0\r\n"...)
	}

	switch {
	case c.body != nil:
		body = c.body.Eval(r, nil)
		ctx.internalBodyLength = int64(len(body))
	case r.Chunked && u.NoBuffering() && u.BodyReading():
		ctx.internalBodyLength = -1
		ctx.internalChunked = true
		u.StreamChunked()
	case r.Chunked && r.Main.Body != nil && r.Main.Body.Done:
		ctx.internalBodyLength = r.Main.Body.Received
	default:
		ctx.internalBodyLength = r.ContentLength
	}

	for _, h := range c.headers {
		start := len(b)
		b = append(b, h.name...)
		b = append(b, ':', ' ')
		vstart := len(b)
		b = h.value.Eval(r, b)
		if len(b) == vstart {
			b = b[:start]
			continue
		}
		b = append(b, '\r', '\n')
	}
	if c.u.PassRequestHeaders {
		for i := range r.In {
			h := &r.In[i]
			if http.InSet(c.headerSkip, h.Name) {
				continue
			}
			b = append(b, h.Name...)
			b = append(b, ':', ' ')
			b = append(b, h.Value...)
			b = append(b, '\r', '\n')
		}
	}
	b = append(b, '\r', '\n')
	p.buf = b
	return b, body, nil
}

type protoError string

func (e protoError) Error() string { return string(e) }

const errZeroURI = protoError("zero length URI to proxy")

// variables are the proxy module's: $proxy_host, $proxy_port,
// $proxy_add_x_forwarded_for and the two the default headers use.
func variables() []*http.Variable {
	ctxOf := func(r *http.Request) *reqCtx {
		ctx, _ := r.Ctx(Module.TypeIndex).(*reqCtx)
		return ctx
	}
	return []*http.Variable{
		{Name: "proxy_host", Flags: http.VarChangeable | http.VarNoCacheable, Get: func(r *http.Request, _ any) ([]byte, bool) {
			ctx := ctxOf(r)
			if ctx == nil {
				return nil, false
			}
			return ctx.vars.hostHeader, true
		}},
		{Name: "proxy_port", Flags: http.VarChangeable | http.VarNoCacheable, Get: func(r *http.Request, _ any) ([]byte, bool) {
			ctx := ctxOf(r)
			if ctx == nil {
				return nil, false
			}
			return ctx.vars.port, true
		}},
		{Name: "proxy_add_x_forwarded_for", Get: func(r *http.Request, _ any) ([]byte, bool) {
			ip := r.Conn.RemoteIP()
			n := len(ip)
			for i := range r.In {
				if r.In[i].Known == httpparse.HdrXForwardedFor {
					n += len(r.In[i].Value) + 2
				}
			}
			b := r.Alloc(n)[:0]
			for i := range r.In {
				if r.In[i].Known == httpparse.HdrXForwardedFor {
					b = append(b, r.In[i].Value...)
					b = append(b, ',', ' ')
				}
			}
			return append(b, ip...), true
		}},
		{Name: "proxy_internal_body_length", Flags: http.VarNoCacheable, Get: func(r *http.Request, _ any) ([]byte, bool) {
			ctx := ctxOf(r)
			if ctx == nil || ctx.internalBodyLength < 0 {
				return nil, false
			}
			return strconv.AppendInt(r.Alloc(20)[:0], ctx.internalBodyLength, 10), true
		}},
		{Name: "proxy_internal_chunked", Flags: http.VarNoCacheable, Get: func(r *http.Request, _ any) ([]byte, bool) {
			ctx := ctxOf(r)
			if ctx == nil || !ctx.internalChunked {
				return nil, false
			}
			return append(r.Alloc(len("chunked"))[:0], "chunked"...), true
		}},
	}
}
