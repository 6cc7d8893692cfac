// Package addition is nginx's ngx_http_addition_filter_module: the output
// of a subrequest is inserted before and/or after the body of responses
// (200 responses of main requests whose type is listed).
//
// The header filter marks the response (dropping its length, its
// Accept-Ranges and the strength of its ETag, since the body changes);
// the body filter starts the "before" subrequest ahead of the first body
// bytes and the "after" one once the last bytes have passed, and the
// postpone filter puts the three parts in order.
//
// Configuration runs on the goroutine that builds the cycle; the filters
// run on the request's loop.
package addition

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_addition_filter_module.
var Module = &core.Module{
	Name:      "ngx_http_addition_filter_module",
	Type:      core.HTTPType,
	Configure: "--with-http_addition_module",
}

// defaultTypes is ngx_http_html_default_types.
var defaultTypes = []string{"text/html"}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.StrSlot("add_before_body", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[string] { return &c.Before }, ""),
		core.StrSlot("add_after_body", ctx, core.LocLevel,
			func(c *LocConf) *core.Value[string] { return &c.After }, ""),
		core.Custom("addition_types", ctx, core.OneMore, core.LocLevel,
			func(p *core.Parser, d *conf.Directive, c *LocConf) error {
				c.Types.Set(p, d, defaultTypes[0])
				return nil
			}, nil),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		MergeLocConf: func(_ *http.Conf, parent, child any) error {
			child.(*LocConf).Types.Merge(&parent.(*LocConf).Types, defaultTypes)
			return nil
		},
		Postconfiguration: postconfiguration,
	}
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	// Before and After are the subrequests' URIs, taken as written;
	// empty for none.
	Before core.Value[string]
	After  core.Value[string]
	// Types are the response types that get the additions.
	Types http.MIMETypes
}

// reqCtx marks a response that gets additions.
type reqCtx struct {
	beforeSent bool
}

func postconfiguration(cf *http.Conf) error {
	on := func(lc *http.LocConf) bool {
		c := lc.LocConfOf(Module).(*LocConf)
		return c.Before.V != "" || c.After.V != ""
	}
	cf.AddHeaderFilterIf(on, func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return headerFilter(r, next) }
	})
	cf.AddBodyFilterIf(on, func(next http.BodyFilterFunc) http.BodyFilterFunc {
		return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
	})
	return nil
}

// headerFilter is ngx_http_addition_header_filter.
func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	if r.Out.Status != 200 || r.IsSubrequest() {
		return next(r)
	}
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if c.Before.V == "" && c.After.V == "" {
		return next(r)
	}
	if !c.Types.Match(r) {
		return next(r)
	}
	r.SetCtx(Module.TypeIndex, &reqCtx{})
	r.Out.ClearContentLength()
	r.Out.ClearAcceptRanges()
	r.WeakETag()
	return next(r)
}

// bodyFilter is ngx_http_addition_body_filter.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	if len(in) == 0 || r.HeaderOnly {
		return next(r, in)
	}
	ctx, ok := r.Ctx(Module.TypeIndex).(*reqCtx)
	if !ok || ctx == nil {
		return next(r, in)
	}
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if !ctx.beforeSent {
		ctx.beforeSent = true
		if c.Before.V != "" {
			if _, err := r.Subrequest([]byte(c.Before.V), nil, http.SubrequestOptions{}); err != nil {
				return http.Error
			}
			wakeForParts(r)
		}
	}
	if c.After.V == "" {
		r.SetCtx(Module.TypeIndex, nil)
		return next(r, in)
	}
	// the response's end is held back: it goes out after the "after"
	// part. The caller's buffers are left as they are.
	last := false
	for i := range in {
		if in[i].Last {
			last = true
			break
		}
	}
	if last {
		out := append([]http.Buf(nil), in...)
		for i := range out {
			if out[i].Last {
				out[i].Last = false
				out[i].LastInChain = true
			}
		}
		in = out
	}
	rc := next(r, in)
	if rc == http.Error || !last {
		return rc
	}
	if _, err := r.Subrequest([]byte(c.After.V), nil, http.SubrequestOptions{}); err != nil {
		return http.Error
	}
	wakeForParts(r)
	r.SetCtx(Module.TypeIndex, nil)
	// a buffer of its own, not the connection's scratch one that the
	// caller's output may be in.
	return r.Output([]http.Buf{{Last: true, LastInChain: true}})
}

// wakeForParts gives the response's request a write handler when it has
// none, so that its postponed output goes on once the subrequest hands
// the turn back. A handler that produces the body without finalizing the
// request at once (an upstream waiting for the client to take the head
// before it finishes) leaves the handler unset; nginx finalizes such a
// request as soon as its last buffer is passed, and its writer then
// sends what waits.
func wakeForParts(r *http.Request) {
	if r.WriteHandler() == nil {
		r.SetWriteHandler(flushParts)
	}
}

// flushParts sends the request's postponed output when its turn has
// come.
func flushParts(r *http.Request) {
	if r.FlushPostponed() == http.Error {
		r.Finalize(http.Error)
	}
}
