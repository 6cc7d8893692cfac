package echo

import (
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// installFilters adds echo_before_body and echo_after_body's filters,
// when some location uses them.
func installFilters(cf *http.Conf) {
	cf.AddHeaderFilter(func(next http.HeaderFilterFunc) http.HeaderFilterFunc {
		return func(r *http.Request) int { return headerFilter(r, next) }
	})
	cf.AddBodyFilter(func(next http.BodyFilterFunc) http.BodyFilterFunc {
		return func(r *http.Request, in []http.Buf) int { return bodyFilter(r, in, next) }
	})
}

// headerFilter drops the length and ranges of responses the body filter
// will add to.
func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	r.Logf(errlog.Debug, "echo header filter, uri \"%s?%s\"", r.URI, r.Args)
	ctx := getCtx(r)
	lc := locConf(r)
	if lc.beforeBody == nil && lc.afterBody == nil {
		if ctx != nil {
			ctx.skipFilter = true
		}
		return next(r)
	}
	ensureCtx(r)
	r.Out.ContentLength = -1
	r.Out.DelKnown(httpparse.HdrContentLength)
	r.Out.AllowRanges = false
	r.Out.DelKnown(httpparse.HdrAcceptRanges)
	return next(r)
}

// bodyFilter puts echo_before_body's output before the first body
// buffer and echo_after_body's after the last one.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	r.Logf(errlog.Debug, "echo body filter, uri \"%s?%s\"", r.URI, r.Args)
	if len(in) == 0 || r.HeaderOnly {
		return next(r, in)
	}
	ctx := getCtx(r)
	if ctx == nil || ctx.skipFilter {
		return next(r, in)
	}
	lc := locConf(r)
	if !ctx.beforeBodySent {
		ctx.beforeBodySent = true
		if lc.beforeBody != nil {
			if rc := runFilterCommands(r, ctx, lc.beforeBody, &ctx.nextBefore, next); rc != http.OK {
				return http.Error
			}
		}
	}
	if lc.afterBody == nil {
		ctx.skipFilter = true
		return next(r, in)
	}
	// the end of the body moves after echo_after_body's output.
	last := false
	var own []http.Buf
	for i := range in {
		if in[i].Last || in[i].LastInChain {
			if own == nil {
				own = append([]http.Buf(nil), in...)
			}
			own[i].Last, own[i].LastInChain = false, false
			last = true
		}
	}
	if own != nil {
		in = own
	}
	rc := next(r, in)
	if rc == http.Error || rc > http.OK || !last {
		return rc
	}
	rc = runFilterCommands(r, ctx, lc.afterBody, &ctx.nextAfter, next)
	if rc == http.Error || rc > http.OK {
		return http.Error
	}
	ctx.skipFilter = true
	end := []http.Buf{{Last: r == r.Main, LastInChain: true}}
	return next(r, end)
}

// runFilterCommands runs echo_before_body or echo_after_body commands,
// resuming at *i.
func runFilterCommands(r *http.Request, ctx *reqCtx, cmds []*command, i *int, next http.BodyFilterFunc) int {
	for ; *i < len(cmds); *i++ {
		args, opts := evalArgs(r, cmds[*i])
		if rc := execEcho(r, ctx, args, opts, next); rc == http.Error || rc > http.OK {
			return rc
		}
	}
	return http.OK
}
