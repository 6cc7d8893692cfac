// Package authrequest is nginx's ngx_http_auth_request_module: access to a
// location is decided by a subrequest. In the access phase the request
// waits for a GET-like subrequest to the configured URI (with the
// request's headers, no body, and its response body discarded): a 2xx
// answer lets the request through, 401 and 403 are returned to the client
// (401 with the subrequest's WWW-Authenticate), anything else is a 500
// with "auth request unexpected status" in the error log. It takes part
// in satisfy all/any as the access and auth_basic modules do.
// auth_request_set copies values computed in the subrequest's context
// ($upstream_http_*, $sent_http_*) into variables of the request.
//
// Configuration runs on the goroutine that builds the cycle; the handler
// and the subrequest run on the request's loop.
package authrequest

import (
	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Module is ngx_http_auth_request_module.
var Module = &core.Module{
	Name:      "ngx_http_auth_request_module",
	Type:      core.HTTPType,
	Configure: "--with-http_auth_request_module",
}

func init() {
	ctx := core.HTTPMainSrvLoc
	Module.Directives = []core.Directive{
		core.Custom("auth_request", ctx, core.Take1, core.LocLevel, setURI, nil),
		core.Custom("auth_request_set", ctx, core.Take2, core.LocLevel, setVariable, nil),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf:     func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:      mergeLocConf,
		Postconfiguration: postconfiguration,
	}
}

// LocConf is the module's configuration of one level.
type LocConf struct {
	// URI is the subrequest's URI; empty for auth_request off.
	URI core.Value[string]
	// Vars are the auth_request_set assignments, nil when the level has
	// none (it then inherits its parent's).
	Vars []Assignment
}

// Assignment is one auth_request_set: the variable (by index) and the
// value, evaluated in the subrequest's context.
type Assignment struct {
	Index int
	Value *http.Template
}

// reqCtx is the state of a request's authorization subrequest.
type reqCtx struct {
	sr     *http.Request
	done   bool
	status int
}

func setURI(p *core.Parser, d *conf.Directive, c *LocConf) error {
	if c.URI.Set {
		return p.Invalid(d, "is duplicate")
	}
	uri := d.Args[0]
	if uri == "off" {
		uri = ""
	}
	c.URI = core.Of(uri)
	return nil
}

func setVariable(p *core.Parser, d *conf.Directive, c *LocConf) error {
	name := d.Args[0]
	if name == "" || name[0] != '$' {
		return p.Errorf(d, "invalid variable name \"%s\"", name)
	}
	name = name[1:]
	cf := p.Ext.(*http.Conf)
	v, err := cf.AddVariable(&http.Variable{Name: name, Flags: http.VarChangeable})
	if err != nil {
		return err
	}
	idx, err := cf.VariableIndex(name)
	if err != nil {
		return err
	}
	if v.Get == nil {
		// until a subrequest sets it, the variable is not found
		v.Get = notFound
	}
	t, err := http.CompileTemplateP(p, d.Args[1])
	if err != nil {
		return err
	}
	c.Vars = append(c.Vars, Assignment{Index: idx, Value: t})
	return nil
}

func notFound(*http.Request, any) ([]byte, bool) { return nil, false }

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	core.MergeValue(&p.URI, &c.URI, "")
	if c.Vars == nil {
		c.Vars = p.Vars
	}
	return nil
}

func postconfiguration(cf *http.Conf) error {
	cf.AddPhaseHandlerIf(http.AccessPhase, func(l *http.LocConf) bool {
		return l.LocConfOf(Module).(*LocConf).URI.V != ""
	}, handler)
	return nil
}

// handler is ngx_http_auth_request_handler. The first call starts the
// subrequest and suspends the request; when the subrequest is done the
// request's phases run again and the second call decides.
func handler(r *http.Request) int {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if c.URI.V == "" {
		return http.Declined
	}
	if ctx, ok := r.Ctx(Module.TypeIndex).(*reqCtx); ok {
		if !ctx.done {
			return http.Again
		}
		// the variables are stored now, so that they survive internal
		// redirects.
		for _, a := range c.Vars {
			r.SetIndexedVar(a.Index, a.Value.EvalBytes(ctx.sr))
		}
		switch st := ctx.status; {
		case st == 403:
			return st
		case st == 401:
			if h := ctx.sr.Out.Known(httpparse.HdrWWWAuthenticate); h != nil {
				r.Out.Headers = append(r.Out.Headers, http.Header{Name: h.Name, Value: h.Value, Known: httpparse.HdrWWWAuthenticate})
			}
			return st
		case st >= 200 && st < 300:
			return http.OK
		default:
			r.Logf(errlog.Error, "auth request unexpected status: %d", st)
			return 500
		}
	}
	ctx := &reqCtx{}
	mr := r.Main
	bodyUnread := mr.Body == nil
	sr, err := r.Subrequest([]byte(c.URI.V), nil, http.SubrequestOptions{
		Waited: true,
		Post: func(sr *http.Request, rc int) int {
			ctx.done = true
			ctx.status = sr.Out.Status
			if bodyUnread {
				// a module of the subrequest asking for the body (a
				// proxy) leaves the client's marked as read, though the
				// subrequest reads none (http.Request.ReadBody): it is
				// still the request's to read once access is granted.
				mr.Body = nil
			}
			return rc
		},
	})
	if err != nil {
		return http.Error
	}
	// an empty body of its own keeps the subrequest from reading the
	// client's, and a body already read from being released by it.
	sr.Body = http.NewMemoryBody(nil)
	sr.HeaderOnly = true
	ctx.sr = sr
	r.SetCtx(Module.TypeIndex, ctx)
	return http.Again
}
