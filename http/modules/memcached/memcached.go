// Package memcached is nginx's ngx_http_memcached_module: memcached_pass
// answers GET and HEAD requests with the value a memcached server holds
// for $memcached_key, 404 when it holds none.
//
// Connecting, retries, timeouts, keepalive pools and the relay to the
// client are the upstream machinery of package http; the reply is read
// as memc's get (memc.GetReply).
//
// Configuration runs on the goroutine that builds the configuration;
// the handler on the request's loop.
package memcached

import (
	"bytes"
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/http/modules/memc"
	"gresty/http/modules/proxy"
	"gresty/http/modules/upstream"
	"gresty/httpparse"
)

// Module is ngx_http_memcached_module.
var Module = &core.Module{
	Name: "ngx_http_memcached_module",
	Type: core.HTTPType,
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	Bind                core.Value[*http.UpstreamLocal]
	SocketKeepalive     core.Value[bool]
	ConnectTimeout      core.Value[time.Duration]
	SendTimeout         core.Value[time.Duration]
	ReadTimeout         core.Value[time.Duration]
	BufferSize          core.Value[int64]
	NextUpstream        core.Value[uint32]
	NextUpstreamTries   core.Value[int]
	NextUpstreamTimeout core.Value[time.Duration]
	GzipFlag            core.Value[int]

	upstream *http.UpstreamSrvConf
	// keyIdx is $memcached_key's index, -1 without a memcached_pass.
	keyIdx int
	u      *http.UpstreamConf
}

type lc = LocConf

func init() {
	const msl = core.HTTPMainSrvLoc
	msec := func(name string, f func(*lc) *core.Value[time.Duration], def time.Duration) core.Directive {
		return core.MsecSlot(name, msl, core.LocLevel, f, def)
	}
	Module.Directives = []core.Directive{
		core.Custom("memcached_pass", core.HTTPLoc|core.HTTPLif, core.Take1, core.LocLevel, setPass, nil),
		core.Custom("memcached_bind", msl, core.Take12, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			if c.Bind.Set {
				return p.Invalid(d, "is duplicate")
			}
			l, err := proxy.ParseBind(p, d)
			if err != nil {
				return err
			}
			c.Bind = core.Of(l)
			return nil
		}, nil),
		core.FlagSlot("memcached_socket_keepalive", msl, core.LocLevel, func(c *lc) *core.Value[bool] { return &c.SocketKeepalive }, false),
		msec("memcached_connect_timeout", func(c *lc) *core.Value[time.Duration] { return &c.ConnectTimeout }, 60*time.Second),
		msec("memcached_send_timeout", func(c *lc) *core.Value[time.Duration] { return &c.SendTimeout }, 60*time.Second),
		// the default is the page size, as nginx's ngx_pagesize
		core.SizeSlot("memcached_buffer_size", msl, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.BufferSize }, 4096),
		msec("memcached_read_timeout", func(c *lc) *core.Value[time.Duration] { return &c.ReadTimeout }, 60*time.Second),
		core.BitmaskSlot("memcached_next_upstream", msl, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.NextUpstream },
			http.UpstreamFTError|http.UpstreamFTTimeout, []core.Enum[uint32]{
				{Name: "error", V: http.UpstreamFTError}, {Name: "timeout", V: http.UpstreamFTTimeout},
				{Name: "invalid_response", V: http.UpstreamFTInvalidHeader}, {Name: "not_found", V: http.UpstreamFTHTTP404},
				{Name: "off", V: http.UpstreamFTOff},
			}),
		core.NumSlot("memcached_next_upstream_tries", msl, core.LocLevel, func(c *lc) *core.Value[int] { return &c.NextUpstreamTries }, 0),
		msec("memcached_next_upstream_timeout", func(c *lc) *core.Value[time.Duration] { return &c.NextUpstreamTimeout }, 0),
		core.NumSlot("memcached_gzip_flag", msl, core.LocLevel, func(c *lc) *core.Value[int] { return &c.GzipFlag }, 0),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(cf *http.Conf) any { return &LocConf{keyIdx: -1} },
		MergeLocConf:  mergeLocConf,
	}
}

// setPass is memcached_pass: an address or an upstream block's name.
func setPass(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.upstream != nil {
		return p.Invalid(d, "is duplicate")
	}
	arg := d.Args[0]
	u, err := http.ParseURL(arg, 0, false, false)
	if err != nil {
		return p.Errorf(d, "%s in upstream \"%s\"", err, arg)
	}
	us, err := upstream.MainConfOf(p).Add(p, d, u, 0)
	if err != nil {
		return err
	}
	c.upstream = us
	clcf := p.Ctx().(*http.ConfCtx).Loc[http.CoreModule.TypeIndex].(*http.LocConf)
	clcf.Handler = handler
	if strings.HasSuffix(clcf.Name, "/") {
		clcf.AutoRedirect = true
	}
	i, err := p.Ext.(*http.Conf).VariableIndex("memcached_key")
	if err != nil {
		return err
	}
	c.keyIdx = i
	return nil
}

func mergeLocConf(cf *http.Conf, parent, child any) error {
	prev, c := parent.(*LocConf), child.(*LocConf)
	next := http.NextUpstreamMask(c.NextUpstream.V)
	if c.upstream == nil {
		c.upstream = prev.upstream
	}
	if c.keyIdx < 0 {
		c.keyIdx = prev.keyIdx
	}
	core.MergeValue(&prev.Bind, &c.Bind, nil)
	c.u = &http.UpstreamConf{
		Upstream:            c.upstream,
		ConnectTimeout:      c.ConnectTimeout.V,
		SendTimeout:         c.SendTimeout.V,
		ReadTimeout:         c.ReadTimeout.V,
		NextUpstreamTimeout: c.NextUpstreamTimeout.V,
		NextUpstreamTries:   c.NextUpstreamTries.V,
		NextUpstream:        next,
		BufferSize:          c.BufferSize.V,
		SocketKeepalive:     c.SocketKeepalive.V,
		Local:               c.Bind.V,
		// the module hard-codes these: error pages answer for
		// memcached's errors and its 404, and ranges are served.
		InterceptErrors: true,
		ForceRanges:     true,
	}
	return nil
}

// query is one request's exchange.
type query struct {
	lc  *LocConf
	get memc.GetReply
}

// handler is ngx_http_memcached_handler.
func handler(r *http.Request) int {
	if r.Method != httpparse.MethodGET && r.Method != httpparse.MethodHEAD {
		return 405
	}
	if rc := r.DiscardBody(); rc != http.OK {
		return rc
	}
	r.SetContentType()
	c := r.Loc.LocConfOf(Module).(*LocConf)
	q := &query{lc: c}
	u := r.NewUpstream(c.u, q)
	u.Schema = "memcached://"
	return u.Start(false)
}

// CreateRequest implements http.UpstreamProtocol: "get KEY".
func (q *query) CreateRequest(u *http.UpstreamRequest) (head, body []byte, err error) {
	r := u.Request()
	v, ok := r.IndexedVar(q.lc.keyIdx)
	if !ok || len(v) == 0 {
		r.Logf(errlog.Error, "the \"$memcached_key\" variable is not set")
		return nil, nil, errNoKey
	}
	b := append(make([]byte, 0, len(v)+8), "get "...)
	start := len(b)
	b = httpparse.AppendEscape(b, v, httpparse.EscapeMemcached)
	q.get.Key = b[start:]
	if r.Log().Enabled(errlog.Debug) {
		r.Logf(errlog.Debug, "http memcached request: \"%s\"", q.get.Key)
	}
	return append(b, '\r', '\n'), nil, nil
}

type queryError string

func (e queryError) Error() string { return string(e) }

const errNoKey = queryError("no key")

// ProcessHeader implements http.UpstreamRawProtocol.
func (q *query) ProcessHeader(u *http.UpstreamRequest, buf []byte) http.RawHead {
	// nginx wants CR before the line's LF, and names the whole line
	// when it is missing
	if lf := bytes.IndexByte(buf, '\n'); lf == 0 || lf > 0 && buf[lf-1] != '\r' {
		u.Logf(errlog.Error, "memcached sent invalid response: \"%s\"", buf[:lf])
		return http.RawHead{Result: http.RawInvalid}
	}
	gzipFlag := q.lc.GzipFlag.V
	return q.get.Head(u, buf, func(flags, line []byte) bool {
		if gzipFlag == 0 {
			return true
		}
		n, ok := core.Atoi(string(flags))
		if !ok {
			u.Logf(errlog.Error, "memcached sent invalid flags in response \"%s\" for key \"%s\"", line, q.get.Key)
			return false
		}
		if n&gzipFlag != 0 {
			u.Request().Out.AddString("Content-Encoding", "gzip")
		}
		return true
	})
}

// FilterBody implements http.UpstreamRawProtocol.
func (q *query) FilterBody(u *http.UpstreamRequest, b []byte) (data []byte, done, keepalive bool) {
	return q.get.Filter(u, b)
}
