// Package headersmore is OpenResty's headers-more module
// (ngx_http_headers_more_filter_module): more_set_headers and
// more_clear_headers change or remove any response header, Server, Date,
// Content-Type and Content-Length included, optionally only for some
// statuses (-s) or content types (-t); more_set_input_headers and
// more_clear_input_headers do the same to the request headers (with -t
// and -r) before the request is handled.
//
// The output directives run in a header filter that sits where a dynamic
// filter module loaded after ngx_lua sits in nginx (just before the copy
// filter), so they see every response, error pages and proxied ones
// included, before gzip, the range filter, chunked framing and the header
// writer add their own lines. The input directives run in the rewrite
// phase, after the rewrite module's directives and before rewrite_by_lua,
// as the original postpones its handler to the end of that phase.
//
// Configuration runs on the goroutine that builds the cycle; the filter
// and the phase handler run on the request's loop.
package headersmore

import (
	"fmt"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// Module is ngx_http_headers_more_filter_module.
var Module = &core.Module{
	Name:      "ngx_http_headers_more_filter_module",
	Type:      core.HTTPType,
	Configure: "--add-module=headers-more-nginx-module",
}

// The directive table refers back to Module (TypeIndex), so it is filled
// in init.
func init() {
	ctx := core.HTTPMainSrvLoc | core.HTTPLif
	Module.Directives = []core.Directive{
		{Name: "more_set_headers", Ctx: ctx, Args: core.OneMore, Level: core.LocLevel,
			Set: func(p *core.Parser, d *conf.Directive, c any) error { return parseOutput(p, d, c.(*LocConf), false) }},
		{Name: "more_clear_headers", Ctx: ctx, Args: core.OneMore, Level: core.LocLevel,
			Set: func(p *core.Parser, d *conf.Directive, c any) error { return parseOutput(p, d, c.(*LocConf), true) }},
		{Name: "more_set_input_headers", Ctx: ctx, Args: core.OneMore, Level: core.LocLevel,
			Set: func(p *core.Parser, d *conf.Directive, c any) error { return parseInput(p, d, c.(*LocConf), false) }},
		{Name: "more_clear_input_headers", Ctx: ctx, Args: core.OneMore, Level: core.LocLevel,
			Set: func(p *core.Parser, d *conf.Directive, c any) error { return parseInput(p, d, c.(*LocConf), true) }},
	}
	Module.HTTP = &http.Hooks{
		CreateMainConf:    func(*http.Conf) any { return &mainConf{} },
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// mainConf records which halves of the module the configuration uses, so
// that an unused filter or handler costs nothing.
type mainConf struct {
	requiresFilter  bool
	requiresHandler bool
}

// LocConf is the module's configuration at one level: its directives in
// order, the enclosing levels' first.
type LocConf struct {
	cmds []*command
}

// command is one more_*_headers directive.
type command struct {
	headers []*headerVal
	// types are the -t content types, statuses the -s codes; nil means
	// any.
	types    [][]byte
	statuses []int
	input    bool
}

// headerVal is one "Name: value" argument.
type headerVal struct {
	key []byte
	// value is nil for an empty value (a clear); static holds its
	// bytes when it has no variables.
	value    *http.Template
	static   []byte
	isStatic bool
	wildcard bool
	replace  bool
	set      setFunc
}

// setFunc applies one header with its evaluated value (empty to clear).
type setFunc func(r *http.Request, hv *headerVal, v []byte) int

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	switch {
	case len(c.cmds) == 0:
		c.cmds = p.cmds
	case len(p.cmds) > 0:
		cmds := make([]*command, 0, len(p.cmds)+len(c.cmds))
		cmds = append(cmds, p.cmds...)
		c.cmds = append(cmds, c.cmds...)
	}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	mc := cf.MainConfOf(Module).(*mainConf)
	if mc.requiresFilter {
		cf.AddHeaderFilter(func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
			return func(r *http.Request) int {
				if rc := outputFilter(r); rc != http.OK {
					return rc
				}
				return next(r)
			}
		})
	}
	if mc.requiresHandler {
		cf.AddPostponedPhaseHandler(http.RewritePhase, inputHandler)
	}
	return nil
}

func locConf(r *http.Request) *LocConf { return r.Loc.Confs[Module.TypeIndex].(*LocConf) }

// eval returns hv's value for r: request memory or configuration bytes,
// never written to.
func (hv *headerVal) eval(r *http.Request) []byte {
	if hv.value == nil {
		return nil
	}
	if hv.isStatic {
		return hv.static
	}
	return hv.value.EvalBytes(r)
}

// confError is a configuration error the original logs with the cycle's
// log at level error, without a place in the file.
func confError(format string, args ...any) error {
	return &core.Error{Msg: fmt.Sprintf(format, args...), Level: errlog.Error}
}
