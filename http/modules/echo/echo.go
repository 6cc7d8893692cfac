// Package echo is OpenResty's echo module (ngx_http_echo_module): a
// content handler made of commands run in order (echo, echo_duplicate,
// echo_flush, echo_sleep, echo_location, echo_subrequest, echo_foreach_split,
// echo_exec, ...), the echo_before_body and echo_after_body filters, and
// the $echo_* variables. Subrequests go through the http package's
// subrequest machinery, so their output reaches the client in order
// through the postpone filter, as in nginx.
//
// Configuration runs on the goroutine that builds the cycle; handlers,
// filters, timers and variables run on the request's loop.
package echo

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// Module is ngx_http_echo_module.
var Module = &core.Module{
	Name:      "ngx_http_echo_module",
	Type:      core.HTTPType,
	Configure: "--add-module=echo-nginx-module",
}

// opcode is a command of the handler or the filters.
type opcode int

// The opcodes, in the original's order (echo_abort_parent's number shows
// in its log line).
const (
	opSync opcode = iota
	opEcho
	opRequestBody
	opSleep
	opFlush
	opBlockingSleep
	opResetTimer
	opBeforeBody
	opAfterBody
	opLocationAsync
	opLocation
	opSubrequestAsync
	opSubrequest
	opDuplicate
	opReadRequestBody
	opForeachSplit
	opEnd
	opAbortParent
	opExec
)

// command is one directive: its opcode and argument templates.
type command struct {
	op   opcode
	args []arg
}

// arg is an argument as written, compiled when it has variables.
type arg struct {
	raw []byte
	tpl *http.Template
}

// LocConf is the module's configuration at one level.
type LocConf struct {
	handler    []*command
	beforeBody []*command
	afterBody  []*command
	// leading is set once an output command was seen, so that the
	// first subrequest command needs no header-flushing sync step
	// before it.
	leading bool
	// Status is echo_status: the status the handler answers with.
	Status core.Value[int]
}

type mainConf struct {
	requiresFilter bool
}

// category tells whether a directive feeds the content handler or the
// filters.
type category int

const (
	handlerCmd category = iota
	filterCmd
)

func init() {
	lc := core.HTTPLoc | core.HTTPLif
	d := func(name string, args core.Args, set func(p *core.Parser, d *conf.Directive, c *LocConf) error) core.Directive {
		return core.Custom(name, lc, args, core.LocLevel, set, nil)
	}
	Module.Directives = []core.Directive{
		d("echo", core.AnyArgs, leading(opEcho)),
		d("echo_request_body", core.NoArgs, leading(opRequestBody)),
		d("echo_sleep", core.Take1, plain(opSleep, handlerCmd)),
		d("echo_flush", core.NoArgs, leading(opFlush)),
		d("echo_blocking_sleep", core.Take1, plain(opBlockingSleep, handlerCmd)),
		d("echo_reset_timer", core.NoArgs, plain(opResetTimer, handlerCmd)),
		d("echo_before_body", core.AnyArgs, plain(opBeforeBody, filterCmd)),
		d("echo_after_body", core.AnyArgs, plain(opAfterBody, filterCmd)),
		d("echo_location_async", core.Take12, synced(opLocationAsync)),
		d("echo_location", core.Take12, synced(opLocation)),
		d("echo_subrequest_async", core.TwoMore, synced(opSubrequestAsync)),
		d("echo_subrequest", core.TwoMore, synced(opSubrequest)),
		d("echo_duplicate", core.TwoMore, leading(opDuplicate)),
		d("echo_read_request_body", core.NoArgs, plain(opReadRequestBody, handlerCmd)),
		d("echo_foreach_split", core.TwoMore, plain(opForeachSplit, handlerCmd)),
		d("echo_end", core.NoArgs, plain(opEnd, handlerCmd)),
		d("echo_abort_parent", core.NoArgs, plain(opAbortParent, handlerCmd)),
		d("echo_exec", core.Take12, plain(opExec, handlerCmd)),
		core.NumSlot("echo_status", lc, core.LocLevel, func(c *LocConf) *core.Value[int] { return &c.Status }, 200),
	}
	Module.HTTP = &http.Hooks{
		Preconfiguration: addVariables,
		CreateMainConf:   func(*http.Conf) any { return &mainConf{} },
		CreateLocConf:    func(*http.Conf) any { return &LocConf{} },
		MergeLocConf:     mergeLocConf,
		Postconfiguration: func(cf *http.Conf) error {
			if cf.MainConfOf(Module).(*mainConf).requiresFilter {
				installFilters(cf)
			}
			return nil
		},
	}
}

func mergeLocConf(_ *http.Conf, parent, child any) error {
	p, c := parent.(*LocConf), child.(*LocConf)
	if c.handler == nil {
		c.handler = p.handler
		c.leading = p.leading
	}
	if c.beforeBody == nil {
		c.beforeBody = p.beforeBody
	}
	if c.afterBody == nil {
		c.afterBody = p.afterBody
	}
	return nil
}

// plain adds the directive's command.
func plain(op opcode, cat category) func(p *core.Parser, d *conf.Directive, c *LocConf) error {
	return func(p *core.Parser, d *conf.Directive, c *LocConf) error {
		return addCommand(p, d, c, op, cat)
	}
}

// leading adds an output command, which makes later subrequest commands
// need no sync step.
func leading(op opcode) func(p *core.Parser, d *conf.Directive, c *LocConf) error {
	return func(p *core.Parser, d *conf.Directive, c *LocConf) error {
		c.leading = true
		return addCommand(p, d, c, op, handlerCmd)
	}
}

// synced adds a subrequest command, preceded by a sync step (which sends
// the response header) when no output command came before it.
func synced(op opcode) func(p *core.Parser, d *conf.Directive, c *LocConf) error {
	return func(p *core.Parser, d *conf.Directive, c *LocConf) error {
		if !c.leading {
			c.leading = true
			if err := addCommand(p, d, c, opSync, handlerCmd); err != nil {
				return err
			}
		}
		return addCommand(p, d, c, op, handlerCmd)
	}
}

func addCommand(p *core.Parser, d *conf.Directive, c *LocConf, op opcode, cat category) error {
	list := &c.handler
	switch op {
	case opBeforeBody:
		list = &c.beforeBody
	case opAfterBody:
		list = &c.afterBody
	}
	if *list == nil {
		*list = []*command{}
		if cat == handlerCmd {
			p.Ctx().ConfFor(http.CoreModule, core.LocLevel).(*http.LocConf).Handler = handler
		} else {
			p.Ext.(*http.Conf).MainConfOf(Module).(*mainConf).requiresFilter = true
		}
	}
	cmd := &command{op: op, args: make([]arg, 0, len(d.Args))}
	for _, a := range d.Args {
		ar := arg{raw: []byte(a)}
		if hasVariables(a) {
			t, err := http.CompileTemplateP(p, a)
			if err != nil {
				return err
			}
			ar.tpl = t
		}
		cmd.args = append(cmd.args, ar)
	}
	*list = append(*list, cmd)
	return nil
}

// hasVariables is ngx_http_script_variables_count != 0: a '$' anywhere.
func hasVariables(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '$' {
			return true
		}
	}
	return false
}

func locConf(r *http.Request) *LocConf { return r.Loc.LocConfOf(Module).(*LocConf) }
