// Package rewrite is nginx's ngx_http_rewrite_module: the rewrite,
// return, break, if and set directives, compiled per server and location
// into a small script that runs in the server-rewrite phase (server-level
// directives) and the rewrite phase (the selected location's directives),
// as nginx's script engine runs its code arrays. rewrite_log and
// uninitialized_variable_warn tune its logging.
//
// Directive setters run on the goroutine that builds the configuration;
// the phase handler and the variables it defines run on the request's
// loop.
package rewrite

import (
	"strings"
	"sync"

	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/http"
)

// LocConf is the module's configuration of a server, location or if
// block (ngx_http_rewrite_loc_conf_t).
type LocConf struct {
	// script holds the block's codes; nil when it has none. Scripts are
	// not inherited: a location runs only its own.
	script *script
	// Log is rewrite_log.
	Log core.Value[bool]
	// UninitializedVariableWarn is uninitialized_variable_warn.
	UninitializedVariableWarn core.Value[bool]
}

const scriptCtx = core.HTTPSrv | core.HTTPSif | core.HTTPLoc | core.HTTPLif

// Module is ngx_http_rewrite_module.
var Module = &core.Module{
	Name: "ngx_http_rewrite_module",
	Type: core.HTTPType,
}

func init() {
	Module.Directives = []core.Directive{
		{Name: "rewrite", Ctx: scriptCtx, Args: core.Take23, Level: core.LocLevel, Set: setRewrite},
		{Name: "return", Ctx: scriptCtx, Args: core.Take12, Level: core.LocLevel, Set: setReturn},
		{Name: "break", Ctx: scriptCtx, Args: core.NoArgs, Level: core.LocLevel, Set: setBreak},
		{Name: "if", Ctx: core.HTTPSrv | core.HTTPLoc, Args: core.Block | core.OneMore, Level: core.LocLevel, Set: setIf},
		{Name: "set", Ctx: scriptCtx, Args: core.Take2, Level: core.LocLevel, Set: setSet},
		core.FlagSlot("rewrite_log", core.HTTPMain|scriptCtx, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.Log }, false),
		core.FlagSlot("uninitialized_variable_warn", core.HTTPMain|scriptCtx, core.LocLevel,
			func(c *LocConf) *core.Value[bool] { return &c.UninitializedVariableWarn }, true),
	}
	Module.HTTP = &http.Hooks{
		CreateLocConf: func(*http.Conf) any { return &LocConf{} },
		Postconfiguration: func(cf *http.Conf) error {
			active := func(l *http.LocConf) bool { return l.LocConfOf(Module).(*LocConf).script != nil }
			cf.AddPhaseHandlerIf(http.ServerRewritePhase, active, handler)
			cf.AddPhaseHandlerIf(http.RewritePhase, active, handler)
			return nil
		},
	}
}

// handler runs the script of the request's location configuration
// (ngx_http_rewrite_handler). In the rewrite phase of a request that
// matched no location it declines: the server's script already ran.
func handler(r *http.Request) int {
	if r.InServerLocationRewrite() {
		return http.Declined
	}
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if lc.script == nil {
		return http.Declined
	}
	// the codes run through an interface, so the engine escapes: keep
	// engines in a pool rather than allocating one per request.
	e := enginePool.Get().(*engine)
	*e = engine{
		r:      r,
		codes:  lc.script.codes,
		stack:  e.stack[:0],
		status: http.Declined,
		quote:  true,
		log:    lc.Log.V,
	}
	for e.ip < len(e.codes) {
		e.codes[e.ip].run(e)
	}
	status := e.status
	clear(e.stack[:cap(e.stack)])
	e.r, e.codes = nil, nil
	enginePool.Put(e)
	return status
}

var enginePool = sync.Pool{New: func() any { return &engine{stack: make([][]byte, 0, 10)} }}

func (lc *LocConf) code() *script {
	if lc.script == nil {
		lc.script = &script{}
	}
	return lc.script
}

// rewrite regex replacement [flag];
func setRewrite(p *core.Parser, d *conf.Directive, c any) error {
	lc := c.(*LocConf)
	s := lc.code()
	cf := p.Ext.(*http.Conf)
	repl := d.Args[1]
	if repl == "" {
		return p.Errorf(d, "empty replacement")
	}
	re, err := cf.CompileRegex(d, d.Args[0], false)
	if err != nil {
		return err
	}
	rc := &regexCode{re: re, name: d.Args[0], uri: true}
	if strings.HasSuffix(repl, "?") {
		// the last "?" drops the client's arguments.
		repl = repl[:len(repl)-1]
	} else {
		rc.addArgs = true
	}
	last := false
	if strings.HasPrefix(repl, "http://") || strings.HasPrefix(repl, "https://") || strings.HasPrefix(repl, "$scheme") {
		rc.status, rc.redirect, last = 302, true, true
	}
	if len(d.Args) == 3 {
		switch d.Args[2] {
		case "last":
			last = true
		case "break":
			rc.breakCycle, last = true, true
		case "redirect":
			rc.status, rc.redirect, last = 302, true, true
		case "permanent":
			rc.status, rc.redirect, last = 301, true, true
		default:
			return p.Errorf(d, "invalid parameter \"%s\"", d.Args[2])
		}
	}
	rc.repl, err = compileValue(p, d, repl, !rc.redirect)
	if err != nil {
		return err
	}
	s.emit(rc)
	if last {
		s.emit(stopCode{})
	}
	rc.next = len(s.codes)
	return nil
}

// return code [text]; return code URL; return URL;
func setReturn(p *core.Parser, d *conf.Directive, c any) error {
	lc := c.(*LocConf)
	s := lc.code()
	a := d.Args[0]
	ret := &returnCode{}
	s.emit(ret)
	text := ""
	status, ok := core.Atoi(a)
	switch {
	case !ok:
		if len(d.Args) == 1 && (strings.HasPrefix(a, "http://") || strings.HasPrefix(a, "https://") || strings.HasPrefix(a, "$scheme")) {
			status, text = 302, a
		} else {
			return p.Errorf(d, "invalid return code \"%s\"", a)
		}
	case status > 999:
		return p.Errorf(d, "invalid return code \"%s\"", a)
	case len(d.Args) == 1:
		ret.status = status
		return nil
	default:
		text = d.Args[1]
	}
	ret.status = status
	v, err := compileValue(p, d, text, false)
	if err != nil {
		return err
	}
	// an empty literal is no text: a status of 400 or more then gets
	// the special response, as nginx's return does.
	if !(v.static() && len(v.text()) == 0) {
		ret.text = v
	}
	return nil
}

// break;
func setBreak(p *core.Parser, d *conf.Directive, c any) error {
	c.(*LocConf).code().emit(breakCode{})
	return nil
}

// set $variable value;
func setSet(p *core.Parser, d *conf.Directive, c any) error {
	lc := c.(*LocConf)
	s := lc.code()
	cf := p.Ext.(*http.Conf)
	name := d.Args[0]
	if !strings.HasPrefix(name, "$") {
		return p.Errorf(d, "invalid variable name \"%s\"", name)
	}
	name = name[1:]
	if name == "" {
		// ngx_http_add_variable's words.
		return p.Errorf(d, "invalid variable name \"$\"")
	}
	v, err := cf.AddVariable(&http.Variable{Name: name, Flags: http.VarChangeable | http.VarWeak})
	if err != nil {
		return err
	}
	idx, err := cf.VariableIndex(name)
	if err != nil {
		return err
	}
	if v.Get == nil {
		v.Get = uninitialized(strings.ToLower(name))
	}
	if err := emitValue(p, d, s, d.Args[1]); err != nil {
		return err
	}
	s.emit(setCode{idx: idx})
	return nil
}

// uninitialized is the getter of a set variable the request has not set
// yet: its value is empty, with a warning unless
// uninitialized_variable_warn is off where the request is.
func uninitialized(name string) func(r *http.Request, _ any) ([]byte, bool) {
	return func(r *http.Request, _ any) ([]byte, bool) {
		if r.Loc != nil {
			if lc, ok := r.Loc.LocConfOf(Module).(*LocConf); ok && lc.UninitializedVariableWarn.V {
				r.Logf(errlog.Warn, "using uninitialized \"%s\" variable", name)
			}
		}
		return []byte{}, true
	}
}

// emitValue compiles an operand (ngx_http_rewrite_value): a literal
// without "$" is pushed as it is, anything else is evaluated.
func emitValue(p *core.Parser, d *conf.Directive, s *script, text string) error {
	if !strings.Contains(text, "$") {
		s.emit(valueCode{text: []byte(text)})
		return nil
	}
	v, err := compileValue(p, d, text, false)
	if err != nil {
		return err
	}
	s.emit(complexCode{v: v})
	return nil
}

// if (condition) { ... }
func setIf(p *core.Parser, d *conf.Directive, c any) error {
	lc := c.(*LocConf)
	cf := p.Ext.(*http.Conf)
	ctx, clcf := cf.AddNonameLocation(p, d)
	s := lc.code()
	if err := compileCondition(p, d, s); err != nil {
		return err
	}
	ic := &ifCode{}
	s.emit(ic)
	// the block's directives compile into this level's script.
	nlc := ctx.Loc[Module.TypeIndex].(*LocConf)
	nlc.script = s
	bits := core.HTTPLif
	if p.CtxBits() == core.HTTPSrv {
		bits = core.HTTPSif
	} else {
		ic.loc = clcf
	}
	if err := p.Block(d, core.HTTPType, bits, ctx); err != nil {
		return err
	}
	ic.next = len(s.codes)
	nlc.script = nil
	return nil
}

// compileCondition compiles an if condition as
// ngx_http_rewrite_if_condition, with its checks in its order and its
// messages (which quote the arguments as trimmed so far).
func compileCondition(p *core.Parser, d *conf.Directive, s *script) error {
	cf := p.Ext.(*http.Conf)
	args := append([]string(nil), d.Args...)
	invalid := func(a string) error { return p.Errorf(d, "invalid condition \"%s\"", a) }

	if len(args[0]) < 1 || args[0][0] != '(' {
		return invalid(args[0])
	}
	cur := 0
	if len(args[0]) == 1 {
		cur = 1
	} else {
		args[0] = args[0][1:]
	}
	last := len(args) - 1
	if a := args[last]; len(a) < 1 || a[len(a)-1] != ')' {
		return invalid(a)
	}
	if len(args[last]) == 1 {
		last--
	} else {
		args[last] = args[last][:len(args[last])-1]
	}

	tok := args[cur]
	switch {
	case len(tok) > 1 && tok[0] == '$':
		if cur != last && cur+2 != last {
			return invalid(tok)
		}
		idx, err := cf.VariableIndex(tok[1:])
		if err != nil {
			return err
		}
		s.emit(varCode{idx: idx})
		if cur == last {
			return nil
		}
		cur++
		switch op := args[cur]; op {
		case "=", "!=":
			if err := emitValue(p, d, s, args[last]); err != nil {
				return err
			}
			s.emit(compareCode{equal: op == "="})
			return nil
		case "~", "~*", "!~", "!~*":
			re, err := cf.CompileRegex(d, args[last], strings.HasSuffix(op, "*"))
			if err != nil {
				return err
			}
			s.emit(&regexCode{re: re, name: args[last], test: true, negative: op[0] == '!'})
			return nil
		default:
			return p.Errorf(d, "unexpected \"%s\" in condition", op)
		}

	case len(tok) == 2 && tok[0] == '-', len(tok) == 3 && tok[0] == '!' && tok[1] == '-':
		if cur+1 != last {
			return invalid(tok)
		}
		if err := emitValue(p, d, s, args[last]); err != nil {
			return err
		}
		op := map[byte]int{'f': opFile, 'd': opDir, 'e': opExists, 'x': opExec}
		if o, ok := op[tok[len(tok)-1]]; ok {
			s.emit(fileCode{op: o, negate: tok[0] == '!'})
			return nil
		}
		return invalid(tok)
	}
	return invalid(tok)
}
