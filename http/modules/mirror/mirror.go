// Package mirror is nginx's ngx_http_mirror_module: each request of a
// location with mirror directives also starts a background subrequest to
// every mirror URI (with the request's method, headers and arguments),
// whose response is discarded. The client's response does not wait for
// the mirrors; the connection's next request does.
//
// With mirror_request_body on (the default) the client's body is read
// before the mirrors start and before the request goes on, so that the
// mirrors and the request's own handler see it.
//
// Configuration runs on the goroutine that builds the cycle; the handler
// and the subrequests run on the request's loop.
package mirror

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_mirror_module.
var Module = &core.Module{
	Name: "ngx_http_mirror_module",
	Type: core.HTTPType,
}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.Custom("mirror", ctx, core.Take1, core.LocLevel, setMirror, nil),
		core.FlagSlot("mirror_request_body", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.RequestBody }, true),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	// URIs are the mirrors; nil with mirror off. Set tells that the level
	// has a mirror directive (off included).
	URIs []string
	Set  bool
	// RequestBody is mirror_request_body.
	RequestBody core.Value[bool]
}

// reqCtx remembers, while the body is read and afterwards, what the
// handler answers when the phases run it again.
type reqCtx struct {
	rc int
}

func setMirror(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if d.Args[0] == "off" {
		if c.Set {
			return p.Invalid(d, "is duplicate")
		}
		c.Set = true
		return nil
	}
	if c.Set && c.URIs == nil {
		return p.Invalid(d, "is duplicate")
	}
	c.Set = true
	c.URIs = append(c.URIs, d.Args[0])
	return nil
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if !c.Set {
		c.URIs, c.Set = p.URIs, p.Set
	}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	cf.AddPhaseHandlerIf(http.PreContentPhase, func(l *http.LocConf) bool {
		return len(l.LocConfOf(Module).(*LocConf).URIs) > 0
	}, handler)
	return nil
}

// handler is ngx_http_mirror_handler, in the pre-content phase of main
// requests.
func handler(r *http.Request) int {
	if r.IsSubrequest() {
		return http.Declined
	}
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if len(c.URIs) == 0 {
		return http.Declined
	}
	if !c.RequestBody.V {
		return startMirrors(r, c)
	}
	if ctx, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok {
		return ctx.rc
	}
	r.SetCtx(Module.TypeIndex, &reqCtx{rc: http.Done})
	if rc := r.ReadBody(bodyRead); rc >= 300 {
		return rc
	}
	// the reference reading took is the body's; the request waits.
	r.Finalize(http.Done)
	return http.Done
}

// bodyRead starts the mirrors once the body is in, then goes on with the
// request's phases, where the handler answers what the start gave.
func bodyRead(r *http.Request) {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	ctx := r.Ctx(Module.TypeIndex).(*reqCtx)
	ctx.rc = startMirrors(r, c)
	r.SetWriteHandler((*http.Request).RunPhases)
	r.RunPhases()
}

// startMirrors starts a background, header-only subrequest for each
// mirror, with the request's method and arguments.
func startMirrors(r *http.Request, c *LocConf) int {
	for _, uri := range c.URIs {
		sr, err := r.Subrequest([]byte(uri), r.Args, http.SubrequestOptions{
			Background: true, Method: r.Method, MethodName: r.MethodName,
		})
		if err != nil {
			return 500
		}
		sr.HeaderOnly = true
	}
	return http.Declined
}
