// Package proxy is ngx_http_proxy_module: proxy_pass and the directives
// that shape the request sent to an HTTP upstream and the response passed
// back. The connection handling, buffering, retries and keepalive are the
// upstream machinery of package http; the upstream{} block and balancers
// are package upstream. This package builds the upstream request
// (request line, proxy_set_header, the client's headers, the body),
// rewrites Location, Refresh and Set-Cookie (proxy_redirect,
// proxy_cookie_domain, proxy_cookie_path), and provides $proxy_host,
// $proxy_port and $proxy_add_x_forwarded_for.
//
// Configuration runs on the goroutine that builds the configuration;
// handlers on the request's loop.
package proxy

import (
	"os"
	"strings"
	"time"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/http/modules/upstream"
)

// keyval is one proxy_set_header.
type keyval struct {
	key, value string
}

// header is a compiled request header: a name and its value template;
// an empty value drops the header.
type header struct {
	name  string
	value *http.Template
	empty bool
}

// vars are what proxy_pass's URL gives the request (ngx_http_proxy_vars_t).
type vars struct {
	schema     string
	hostHeader []byte
	port       []byte
	uri        string
}

// LocConf is the proxy module's location configuration.
type LocConf struct {
	Buffering           core.Value[bool]
	RequestBuffering    core.Value[bool]
	IgnoreClientAbort   core.Value[bool]
	SocketKeepalive     core.Value[bool]
	InterceptErrors     core.Value[bool]
	PassRequestHeaders  core.Value[bool]
	PassRequestBody     core.Value[bool]
	ForceRanges         core.Value[bool]
	ConnectTimeout      core.Value[time.Duration]
	SendTimeout         core.Value[time.Duration]
	ReadTimeout         core.Value[time.Duration]
	NextUpstreamTimeout core.Value[time.Duration]
	NextUpstreamTries   core.Value[int]
	BufferSize          core.Value[int64]
	BusyBuffersSize     core.Value[int64]
	MaxTempFileSize     core.Value[int64]
	TempFileWriteSize   core.Value[int64]
	SendLowat           core.Value[int64]
	LimitRate           core.Value[int64]
	Bufs                core.Value[core.Bufs]
	NextUpstream        core.Value[uint32]
	IgnoreHeaders       core.Value[uint32]
	HTTPVersion         core.Value[int]
	HeadersHashMaxSize  core.Value[int]
	HeadersHashBucket   core.Value[int]
	TempPath            core.Value[*http.TempPath]
	// Store is proxy_store: on (a nil path: root and URI), a path, or
	// off; StoreAccess is proxy_store_access.
	Store       core.Value[bool]
	StorePath   *http.Template
	StoreAccess core.Value[os.FileMode]
	Method      core.Value[*http.Template]
	Bind        core.Value[*http.UpstreamLocal]

	setBody    string
	setBodySet bool

	hideHeaders []string
	passHeaders []string
	hideSet     bool
	passSet     bool
	setHeaders  []keyval
	headersSet  bool

	// proxy_pass
	upstream *http.UpstreamSrvConf
	urlTpl   *http.Template
	url      string
	location string
	vars     vars
	upsMain  *upstream.MainConf

	// redirect is 0 after "proxy_redirect off", 1 when on, -1 unset.
	redirect      int
	redirects     []*rewriter
	cookieDomains []*rewriter
	cookiePaths   []*rewriter
	cookieFlags   []*cookieFlags
	domainsSet    bool
	pathsSet      bool
	flagsSet      bool

	// built by merge
	u          *http.UpstreamConf
	headers    []header
	headerSkip map[string]bool
	body       *http.Template
}

// Module is ngx_http_proxy_module.
var Module = &core.Module{Name: "ngx_http_proxy_module", Type: core.HTTPType}

func init() {
	Module.Directives = directives()
	Module.HTTP = &http.Hooks{
		Preconfiguration: func(cf *http.Conf) error {
			for _, v := range variables() {
				if _, err := cf.AddVariable(v); err != nil {
					return err
				}
			}
			return nil
		},
		CreateLocConf:     func(cf *http.Conf) any { return &LocConf{redirect: -1} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

type lc = LocConf

const mainSrvLoc = core.HTTPMainSrvLoc

// nextUpstreamMasks are proxy_next_upstream's words.
var nextUpstreamMasks = []core.Enum[uint32]{
	{Name: "error", V: http.UpstreamFTError}, {Name: "timeout", V: http.UpstreamFTTimeout},
	{Name: "invalid_header", V: http.UpstreamFTInvalidHeader}, {Name: "non_idempotent", V: http.UpstreamFTNonIdempotent},
	{Name: "http_500", V: http.UpstreamFTHTTP500}, {Name: "http_502", V: http.UpstreamFTHTTP502},
	{Name: "http_503", V: http.UpstreamFTHTTP503}, {Name: "http_504", V: http.UpstreamFTHTTP504},
	{Name: "http_403", V: http.UpstreamFTHTTP403}, {Name: "http_404", V: http.UpstreamFTHTTP404},
	{Name: "http_429", V: http.UpstreamFTHTTP429}, {Name: "updating", V: http.UpstreamFTUpdating},
	{Name: "off", V: http.UpstreamFTOff},
}

// ignoreHeadersMasks are proxy_ignore_headers' words.
var ignoreHeadersMasks = []core.Enum[uint32]{
	{Name: "X-Accel-Redirect", V: http.UpstreamIgnXAccelRedirect}, {Name: "X-Accel-Expires", V: http.UpstreamIgnXAccelExpires},
	{Name: "X-Accel-Limit-Rate", V: http.UpstreamIgnXAccelLimitRate}, {Name: "X-Accel-Buffering", V: http.UpstreamIgnXAccelBuffering},
	{Name: "X-Accel-Charset", V: http.UpstreamIgnXAccelCharset}, {Name: "Expires", V: http.UpstreamIgnExpires},
	{Name: "Cache-Control", V: http.UpstreamIgnCacheControl}, {Name: "Set-Cookie", V: http.UpstreamIgnSetCookie},
	{Name: "Vary", V: http.UpstreamIgnVary},
}

func directives() []core.Directive {
	flag := func(name string, f func(*lc) *core.Value[bool], def bool) core.Directive {
		return core.FlagSlot(name, mainSrvLoc, core.LocLevel, f, def)
	}
	msec := func(name string, f func(*lc) *core.Value[time.Duration], def time.Duration) core.Directive {
		return core.MsecSlot(name, mainSrvLoc, core.LocLevel, f, def)
	}
	return []core.Directive{
		core.Custom("proxy_pass", core.HTTPLoc|core.HTTPLif|core.HTTPLmt, core.Take1, core.LocLevel, setProxyPass, nil),
		core.Custom("proxy_redirect", mainSrvLoc, core.Take12, core.LocLevel, setRedirect, nil),
		core.Custom("proxy_cookie_domain", mainSrvLoc, core.Take12, core.LocLevel, setCookieDomain, nil),
		core.Custom("proxy_cookie_path", mainSrvLoc, core.Take12, core.LocLevel, setCookiePath, nil),
		core.Custom("proxy_cookie_flags", mainSrvLoc, core.Take1234, core.LocLevel, setCookieFlags, nil),
		flag("proxy_buffering", func(c *lc) *core.Value[bool] { return &c.Buffering }, true),
		flag("proxy_request_buffering", func(c *lc) *core.Value[bool] { return &c.RequestBuffering }, true),
		flag("proxy_ignore_client_abort", func(c *lc) *core.Value[bool] { return &c.IgnoreClientAbort }, false),
		core.Custom("proxy_bind", mainSrvLoc, core.Take12, core.LocLevel, setBind, nil),
		flag("proxy_socket_keepalive", func(c *lc) *core.Value[bool] { return &c.SocketKeepalive }, false),
		msec("proxy_connect_timeout", func(c *lc) *core.Value[time.Duration] { return &c.ConnectTimeout }, 60*time.Second),
		msec("proxy_send_timeout", func(c *lc) *core.Value[time.Duration] { return &c.SendTimeout }, 60*time.Second),
		core.LowatSlot("proxy_send_lowat", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.SendLowat }, "proxy_send_lowat"),
		flag("proxy_intercept_errors", func(c *lc) *core.Value[bool] { return &c.InterceptErrors }, false),
		core.Custom("proxy_set_header", mainSrvLoc, core.Take2, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			c.setHeaders = append(c.setHeaders, keyval{d.Args[0], d.Args[1]})
			c.headersSet = true
			return nil
		}, nil),
		core.NumSlot("proxy_headers_hash_max_size", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.HeadersHashMaxSize }, 512),
		core.NumSlot("proxy_headers_hash_bucket_size", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.HeadersHashBucket }, 64),
		core.Custom("proxy_set_body", mainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			if c.setBodySet {
				return p.Invalid(d, "is duplicate")
			}
			c.setBody, c.setBodySet = d.Args[0], true
			return nil
		}, nil),
		core.Custom("proxy_method", mainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			if c.Method.Set {
				return p.Invalid(d, "is duplicate")
			}
			t, err := http.CompileTemplateP(p, d.Args[0])
			if err != nil {
				return err
			}
			c.Method = core.Of(t)
			return nil
		}, nil),
		flag("proxy_pass_request_headers", func(c *lc) *core.Value[bool] { return &c.PassRequestHeaders }, true),
		flag("proxy_pass_request_body", func(c *lc) *core.Value[bool] { return &c.PassRequestBody }, true),
		core.SizeSlot("proxy_buffer_size", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.BufferSize }, 4096),
		msec("proxy_read_timeout", func(c *lc) *core.Value[time.Duration] { return &c.ReadTimeout }, 60*time.Second),
		core.BufsSlot("proxy_buffers", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[core.Bufs] { return &c.Bufs }, core.Bufs{Num: 8, Size: 4096}),
		sizeNoMerge("proxy_busy_buffers_size", func(c *lc) *core.Value[int64] { return &c.BusyBuffersSize }),
		flag("proxy_force_ranges", func(c *lc) *core.Value[bool] { return &c.ForceRanges }, false),
		core.SizeSlot("proxy_limit_rate", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int64] { return &c.LimitRate }, 0),
		core.Custom("proxy_temp_path", mainSrvLoc, core.Take1234, core.LocLevel, setTempPath, nil),
		core.Custom("proxy_store", mainSrvLoc, core.Take1, core.LocLevel, setStore, nil),
		core.AccessSlot("proxy_store_access", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[os.FileMode] { return &c.StoreAccess }),
		sizeNoMerge("proxy_max_temp_file_size", func(c *lc) *core.Value[int64] { return &c.MaxTempFileSize }),
		sizeNoMerge("proxy_temp_file_write_size", func(c *lc) *core.Value[int64] { return &c.TempFileWriteSize }),
		core.BitmaskSlot("proxy_next_upstream", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.NextUpstream },
			http.UpstreamFTError|http.UpstreamFTTimeout, nextUpstreamMasks),
		core.NumSlot("proxy_next_upstream_tries", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.NextUpstreamTries }, 0),
		msec("proxy_next_upstream_timeout", func(c *lc) *core.Value[time.Duration] { return &c.NextUpstreamTimeout }, 0),
		core.Custom("proxy_pass_header", mainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			c.passHeaders = append(c.passHeaders, d.Args[0])
			c.passSet = true
			return nil
		}, nil),
		core.Custom("proxy_hide_header", mainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
			c.hideHeaders = append(c.hideHeaders, d.Args[0])
			c.hideSet = true
			return nil
		}, nil),
		core.BitmaskSlot("proxy_ignore_headers", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[uint32] { return &c.IgnoreHeaders }, 0,
			ignoreHeadersMasks),
		core.EnumSlot("proxy_http_version", mainSrvLoc, core.LocLevel, func(c *lc) *core.Value[int] { return &c.HTTPVersion }, 1000,
			[]core.Enum[int]{{Name: "1.0", V: 1000}, {Name: "1.1", V: 1001}}),
	}
}

// sizeNoMerge is a size directive whose default depends on other values,
// merged by hand in mergeLocConf.
func sizeNoMerge(name string, f func(*lc) *core.Value[int64]) core.Directive {
	return core.Custom(name, mainSrvLoc, core.Take1, core.LocLevel, func(p *core.Parser, d *conf.Directive, c *lc) error {
		v := f(c)
		if v.Set {
			return p.Invalid(d, "is duplicate")
		}
		n, ok := core.ParseSize(d.Args[0])
		if !ok {
			return p.Invalid(d, "invalid value")
		}
		*v = core.Of(n)
		return nil
	}, nil)
}

// setBind checks proxy_bind: "off", or a local address (with variables
// evaluated per request) and "transparent".
func setBind(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.Bind.Set {
		return p.Invalid(d, "is duplicate")
	}
	l, err := ParseBind(p, d)
	if err != nil {
		return err
	}
	c.Bind = core.Of(l)
	return nil
}

// ParseBind reads the arguments of proxy_bind and its kin
// (ngx_http_upstream_bind_set_slot): nil for "off".
func ParseBind(p *core.Parser, d *conf.Directive) (*http.UpstreamLocal, error) {
	a := d.Args[0]
	if len(d.Args) == 1 && a == "off" {
		return nil, nil
	}
	t, err := http.CompileTemplateP(p, a)
	if err != nil {
		return nil, err
	}
	if t.Static() && !validBindAddr(a) {
		return nil, p.Errorf(d, "invalid address \"%s\"", a)
	}
	if len(d.Args) > 1 && d.Args[1] != "transparent" {
		return nil, p.Errorf(d, "invalid parameter \"%s\"", d.Args[1])
	}
	return &http.UpstreamLocal{Value: t, Transparent: len(d.Args) > 1}, nil
}

// validBindAddr is ngx_parse_addr_port's test: an IP address with an
// optional port.
func validBindAddr(s string) bool {
	u, err := http.ParseURL(s, 0, false, false)
	return err == nil && len(u.Addrs) == 1 && !u.Unix
}

// setStore is ngx_http_proxy_store: on, off or a path with variables.
func setStore(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.Store.Set {
		return p.Invalid(d, "is duplicate")
	}
	switch a := d.Args[0]; a {
	case "off":
		c.Store = core.Of(false)
	case "on":
		c.Store = core.Of(true)
	default:
		t, err := http.CompileTemplateP(p, a)
		if err != nil {
			return err
		}
		c.Store, c.StorePath = core.Of(true), t
	}
	return nil
}

// setTempPath is ngx_conf_set_path_slot: a directory and up to three
// levels of 1 or 2 characters.
func setTempPath(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.TempPath.Set {
		return p.Invalid(d, "is duplicate")
	}
	tp := &http.TempPath{Dir: p.Cycle.FullName(d.Args[0], false)}
	total := 0
	for _, a := range d.Args[1:] {
		n, ok := core.Atoi(a)
		if !ok || n == 0 {
			return p.Invalid(d, "invalid value")
		}
		tp.Levels = append(tp.Levels, n)
		total += n + 1
	}
	if total > 10+len(tp.Levels) {
		return p.Invalid(d, "invalid value")
	}
	tp.Dir = strings.TrimSuffix(tp.Dir, "/")
	c.TempPath = core.Of(tp)
	return nil
}

// clcfOf returns the core location configuration of the context being
// parsed.
func clcfOf(p *core.Parser) *http.LocConf {
	return p.Ctx().(*http.ConfCtx).Loc[http.CoreModule.TypeIndex].(*http.LocConf)
}

// setProxyPass is ngx_http_proxy_pass.
func setProxyPass(p *core.Parser, d *conf.Directive, c *lc) error {
	if c.upstream != nil || c.urlTpl != nil {
		return p.Invalid(d, "is duplicate")
	}
	clcf := clcfOf(p)
	clcf.Handler = handler
	if strings.HasSuffix(clcf.Name, "/") {
		clcf.AutoRedirect = true
	}
	c.upsMain = upstream.MainConfOf(p)
	url := d.Args[0]
	if strings.Contains(url, "$") {
		t, err := http.CompileTemplateP(p, url)
		if err != nil {
			return err
		}
		c.urlTpl = t
		return nil
	}
	var add, port int
	switch {
	case len(url) >= 7 && strings.EqualFold(url[:7], "http://"):
		add, port = 7, 80
	case len(url) >= 8 && strings.EqualFold(url[:8], "https://"):
		return p.Errorf(d, "https protocol requires SSL support")
	default:
		return p.Errorf(d, "invalid URL prefix")
	}
	u, err := http.ParseURL(url[add:], port, true, false)
	if err != nil {
		return p.Errorf(d, "%s in upstream \"%s\"", err, url[add:])
	}
	us, err := c.upsMain.Add(p, d, u, 0)
	if err != nil {
		return err
	}
	c.upstream = us
	c.vars = varsOf(url[:add], u, port)
	c.location = clcf.Name
	if clcf.Named || clcf.Regex != nil || clcf.Noname {
		if c.vars.uri != "" {
			return p.Errorf(d, "\"proxy_pass\" cannot have URI part in location given by regular expression, "+
				"or inside named location, or inside \"if\" statement, or inside \"limit_except\" block")
		}
		c.location = ""
	}
	c.url = url
	return nil
}

// varsOf is ngx_http_proxy_set_vars: the Host header and $proxy_port a
// URL gives.
func varsOf(schema string, u *http.URL, defaultPort int) vars {
	v := vars{schema: schema, uri: u.URI}
	switch {
	case u.Unix:
		v.hostHeader = []byte("localhost")
	case u.NoPort || u.Port == defaultPort:
		v.hostHeader = []byte(u.Host)
		v.port = []byte("80")
		if defaultPort != 80 {
			v.port = []byte("443")
		}
	default:
		v.hostHeader = []byte(u.Host + ":" + u.PortText)
		v.port = []byte(u.PortText)
	}
	return v
}

// defaultHeaders are what nginx sends unless proxy_set_header says
// otherwise; an empty value keeps the client's header from going out.
var defaultHeaders = []keyval{
	{"Host", "$proxy_host"},
	{"Connection", "close"},
	{"Content-Length", "$proxy_internal_body_length"},
	{"Transfer-Encoding", "$proxy_internal_chunked"},
	{"TE", ""},
	{"Keep-Alive", ""},
	{"Expect", ""},
	{"Upgrade", ""},
}

// defaultHide are the response headers nginx hides by default.
var defaultHide = []string{"Date", "Server", "X-Pad", "X-Accel-Expires", "X-Accel-Redirect",
	"X-Accel-Limit-Rate", "X-Accel-Buffering", "X-Accel-Charset"}

// mergeLocConf is ngx_http_proxy_merge_loc_conf for what the typed slots
// do not merge, and builds the location's upstream settings and headers.
func mergeLocConf(cf *http.Conf, parent, child any) error {
	prev, c := parent.(*LocConf), child.(*LocConf)
	if !c.Store.Set {
		c.Store, c.StorePath = prev.Store, prev.StorePath
	}
	core.MergeValue(&prev.StoreAccess, &c.StoreAccess, 0o600)
	size := c.BufferSize.V
	if size < c.Bufs.V.Size {
		size = c.Bufs.V.Size
	}
	if c.Bufs.V.Num < 2 {
		return mergeError(cf, "there must be at least 2 \"proxy_buffers\"")
	}
	core.MergeValue(&prev.BusyBuffersSize, &c.BusyBuffersSize, -1)
	busy := c.BusyBuffersSize.V
	if busy == -1 {
		busy = 2 * size
	}
	if busy < size {
		return mergeError(cf, "\"proxy_busy_buffers_size\" must be equal to or greater than the maximum of the value of \"proxy_buffer_size\" and one of the \"proxy_buffers\"")
	}
	if busy > int64(c.Bufs.V.Num-1)*c.Bufs.V.Size {
		return mergeError(cf, "\"proxy_busy_buffers_size\" must be less than the size of all \"proxy_buffers\" minus one buffer")
	}
	core.MergeValue(&prev.TempFileWriteSize, &c.TempFileWriteSize, -1)
	tfws := c.TempFileWriteSize.V
	if tfws == -1 {
		tfws = 2 * size
	}
	if tfws < size {
		return mergeError(cf, "\"proxy_temp_file_write_size\" must be equal to or greater than the maximum of the value of \"proxy_buffer_size\" and one of the \"proxy_buffers\"")
	}
	core.MergeValue(&prev.MaxTempFileSize, &c.MaxTempFileSize, -1)
	maxTemp := c.MaxTempFileSize.V
	if maxTemp == -1 {
		maxTemp = 1024 * 1024 * 1024
	}
	if maxTemp != 0 && maxTemp < size {
		return mergeError(cf, "\"proxy_max_temp_file_size\" must be equal to zero to disable temporary files usage or must be equal to or greater than the maximum of the value of \"proxy_buffer_size\" and one of the \"proxy_buffers\"")
	}
	next := http.NextUpstreamMask(c.NextUpstream.V)
	core.MergeValue(&prev.TempPath, &c.TempPath, &http.TempPath{Dir: cf.Cycle.FullName("proxy_temp", false), Levels: []int{1, 2}})
	core.MergeValue(&prev.Method, &c.Method, nil)
	core.MergeValue(&prev.Bind, &c.Bind, nil)
	core.MergeValue(&prev.SendLowat, &c.SendLowat, 0)

	if !c.hideSet && !c.passSet {
		c.hideHeaders, c.passHeaders = prev.hideHeaders, prev.passHeaders
		c.hideSet, c.passSet = prev.hideSet, prev.passSet
	} else {
		if !c.hideSet {
			c.hideHeaders, c.hideSet = prev.hideHeaders, prev.hideSet
		}
		if !c.passSet {
			c.passHeaders, c.passSet = prev.passHeaders, prev.passSet
		}
	}

	if c.redirect == -1 {
		c.redirect = prev.redirect
		if c.redirect == -1 {
			c.redirect = 1
		}
	}
	if c.redirect == 1 {
		if c.redirects == nil {
			c.redirects = prev.redirects
		}
		if c.redirects == nil && c.url != "" {
			c.redirects = []*rewriter{defaultRedirect(c)}
		}
	} else {
		c.redirects = nil
	}
	if !c.domainsSet {
		c.cookieDomains, c.domainsSet = prev.cookieDomains, prev.domainsSet
	}
	if !c.pathsSet {
		c.cookiePaths, c.pathsSet = prev.cookiePaths, prev.pathsSet
	}
	if !c.flagsSet {
		c.cookieFlags, c.flagsSet = prev.cookieFlags, prev.flagsSet
	}

	if !c.setBodySet {
		c.setBody, c.setBodySet, c.body = prev.setBody, prev.setBodySet, prev.body
	}
	if c.setBodySet && c.body == nil {
		t, err := cf.CompileTemplate(c.setBody)
		if err != nil {
			return err
		}
		c.body = t
	}

	inherited := !c.headersSet
	if inherited {
		c.setHeaders, c.headersSet = prev.setHeaders, prev.headersSet
		c.headers, c.headerSkip = prev.headers, prev.headerSkip
	}
	if c.headers == nil {
		if err := c.buildHeaders(cf); err != nil {
			return err
		}
		if inherited && prev.headers == nil {
			// compiled once for every location that inherits them
			prev.headers, prev.headerSkip = c.headers, c.headerSkip
		}
	}

	c.u = &http.UpstreamConf{
		Upstream:            c.upstream,
		ConnectTimeout:      c.ConnectTimeout.V,
		SendTimeout:         c.SendTimeout.V,
		ReadTimeout:         c.ReadTimeout.V,
		NextUpstreamTimeout: c.NextUpstreamTimeout.V,
		NextUpstreamTries:   c.NextUpstreamTries.V,
		NextUpstream:        next,
		BufferSize:          c.BufferSize.V,
		Bufs:                c.Bufs.V,
		LimitRate:           c.LimitRate.V,
		BusyBuffersSize:     busy,
		MaxTempFileSize:     maxTemp,
		TempFileWriteSize:   tfws,
		TempPath:            c.TempPath.V,
		Buffering:           c.Buffering.V,
		RequestBuffering:    c.RequestBuffering.V,
		IgnoreClientAbort:   c.IgnoreClientAbort.V,
		InterceptErrors:     c.InterceptErrors.V,
		PassRequestHeaders:  c.PassRequestHeaders.V,
		PassRequestBody:     c.PassRequestBody.V,
		SocketKeepalive:     c.SocketKeepalive.V,
		ForceRanges:         c.ForceRanges.V,
		ChangeBuffering:     true,
		IgnoreHeaders:       c.IgnoreHeaders.V,
		HideHeaders:         http.HideHeaders(defaultHide, c.hideHeaders, c.passHeaders),
		Local:               c.Bind.V,
	}
	if c.Store.V {
		c.u.Store = &http.StoreConf{Path: c.StorePath, Access: c.StoreAccess.V}
	}
	return nil
}

// mergeError reports a merge-time error as nginx does: at the line where
// the http block ends.
func mergeError(cf *http.Conf, msg string) error {
	d := cf.Dir
	line := d.CloseLine
	if line == 0 {
		line = d.EndLine
	}
	return &core.Error{Msg: msg, File: d.File, Line: line}
}

// buildHeaders compiles proxy_set_header with the defaults the location
// did not override (ngx_http_proxy_init_headers).
func (c *LocConf) buildHeaders(cf *http.Conf) error {
	merged := append([]keyval(nil), c.setHeaders...)
	for _, h := range defaultHeaders {
		found := false
		for _, s := range c.setHeaders {
			if strings.EqualFold(s.key, h.key) {
				found = true
				break
			}
		}
		if !found {
			merged = append(merged, h)
		}
	}
	c.headerSkip = make(map[string]bool, len(merged))
	c.headers = make([]header, 0, len(merged))
	for _, h := range merged {
		c.headerSkip[strings.ToLower(h.key)] = true
		if h.value == "" {
			continue
		}
		t, err := cf.CompileTemplate(h.value)
		if err != nil {
			return err
		}
		c.headers = append(c.headers, header{name: h.key, value: t})
	}
	return nil
}

// postconfiguration applies the rules that need the enclosing location:
// if and limit_except blocks inherit proxy_pass, and a limit_except block
// inside a proxied location proxies too.
func postconfiguration(cf *http.Conf) error {
	cf.WalkLocations(func(l, parent *http.LocConf) {
		if !l.Noname {
			return
		}
		c := l.LocConfOf(Module).(*LocConf)
		pc := parent.LocConfOf(Module).(*LocConf)
		if c.upstream == nil && c.urlTpl == nil {
			c.upstream, c.urlTpl = pc.upstream, pc.urlTpl
			c.location, c.vars, c.upsMain = pc.location, pc.vars, pc.upsMain
			if c.u != nil {
				c.u.Upstream = c.upstream
			}
		}
		if l.IsLimitExcept(parent) && l.Handler == nil && (c.upstream != nil || c.urlTpl != nil) {
			l.Handler = handler
		}
	})
	return nil
}
