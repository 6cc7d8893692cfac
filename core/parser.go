package core

import (
	"errors"
	"fmt"

	"gresty/conf"
	"gresty/errlog"
)

// Error is a configuration error as nginx prints it after "[emerg]":
// the message, then " in FILE:LINE" when it belongs to a place in a file,
// or " in command line" for a -g directive.
type Error struct {
	Msg     string
	File    string
	Line    int
	CmdLine bool
	// Level is the level nginx logs it at; zero means emerg.
	Level errlog.Level
}

func (e *Error) Error() string {
	switch {
	case e.CmdLine:
		return e.Msg + " in command line"
	case e.File == "":
		return e.Msg
	}
	return fmt.Sprintf("%s in %s:%d", e.Msg, e.File, e.Line)
}

// LevelOf returns the level a configuration error is logged at.
func LevelOf(err error) errlog.Level {
	var ce *Error
	if errors.As(err, &ce) && ce.Level != 0 {
		return ce.Level
	}
	return errlog.Emerg
}

// Context is the configuration being filled while a block is parsed: it
// maps a module and a level to the module's configuration structure, as
// nginx's ctx arrays and conf offsets do.
type Context interface {
	ConfFor(m *Module, level Level) any
}

// Parser hands the directives of a parsed configuration to their modules.
// One Parser builds one Cycle; it is not safe for concurrent use.
type Parser struct {
	Cycle *Cycle
	reg   *Registry

	modType ModuleType
	ctxBits Ctx
	ctx     Context

	// Ext is the builder of the enclosing block that is not core's own,
	// such as the http package's configuration under construction; it lets
	// directive setters reach it.
	Ext any

	cur *conf.Directive

	// synErr is the syntax error the configuration tree ended with; it is
	// reported when the walk reaches the point where the text broke off,
	// so that earlier semantic errors come first, as in nginx.
	synErr error
}

// Errorf returns an error located at directive d (at the line of its ";"
// or "{", where nginx reports it).
func (p *Parser) Errorf(d *conf.Directive, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if len(msg) > maxErrStr {
		msg = msg[:maxErrStr]
	}
	return &Error{Msg: msg, File: d.File, Line: line(d), CmdLine: d.File == ""}
}

// Dup returns nginx's `"NAME" directive is duplicate`.
func (p *Parser) Dup(d *conf.Directive) error {
	return p.Errorf(d, "\"%s\" directive is duplicate", d.Name)
}

// Invalid returns nginx's `"NAME" directive MSG`, the form a setter's
// returned string takes in nginx ("invalid value", "invalid number", ...).
func (p *Parser) Invalid(d *conf.Directive, msg string) error {
	return p.Errorf(d, "\"%s\" directive %s", d.Name, msg)
}

// InvalidValue returns nginx's `invalid value "ARG" in "NAME" directive`.
func (p *Parser) InvalidValue(d *conf.Directive, arg string) error {
	return p.Errorf(d, "invalid value \"%s\" in \"%s\" directive", arg, d.Name)
}

// Warnf logs a warning located at d, as ngx_conf_log_error(NGX_LOG_WARN).
func (p *Parser) Warnf(d *conf.Directive, format string, args ...any) {
	p.Logf(errlog.Warn, d, format, args...)
}

// Logf logs a message located at d at the given level.
func (p *Parser) Logf(level errlog.Level, d *conf.Directive, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if d != nil {
		if d.File == "" {
			msg += " in command line"
		} else {
			msg = fmt.Sprintf("%s in %s:%d", msg, d.File, line(d))
		}
	}
	p.Cycle.StartLog.Logf(level, "%s", msg)
}

// Current returns the directive being handled.
func (p *Parser) Current() *conf.Directive { return p.cur }

// Ctx returns the context of the block being parsed.
func (p *Parser) Ctx() Context { return p.ctx }

// CtxBits returns the context bits of the block being parsed.
func (p *Parser) CtxBits() Ctx { return p.ctxBits }

// maxErrStr is nginx's NGX_MAX_CONF_ERRSTR: longer messages are cut.
const maxErrStr = 1024

func line(d *conf.Directive) int {
	if d.EndLine != 0 {
		return d.EndLine
	}
	return d.Line
}

// Block parses the block of directive d with the given module type,
// context bits and context: nginx's "save cf, set ctx/module_type/cmd_type,
// ngx_conf_parse, restore cf".
func (p *Parser) Block(d *conf.Directive, t ModuleType, bits Ctx, ctx Context) error {
	saveT, saveBits, saveCtx := p.modType, p.ctxBits, p.ctx
	p.modType, p.ctxBits, p.ctx = t, bits, ctx
	err := p.list(d.Block, d.Unclosed)
	p.modType, p.ctxBits, p.ctx = saveT, saveBits, saveCtx
	return err
}

// Lines hands each statement of d's block to fn without looking the names
// up, for blocks whose lines are data (types, map, geo, split_clients...),
// as nginx's cf->handler. A nested block is "unexpected "{"".
func (p *Parser) Lines(d *conf.Directive, fn func(line *conf.Directive) error) error {
	for _, l := range d.Block {
		if l.HasBlock {
			return p.Errorf(l, "unexpected \"{\"")
		}
		if err := fn(l); err != nil {
			return err
		}
	}
	if d.Unclosed {
		return p.synErr
	}
	return nil
}

func (p *Parser) list(ds []*conf.Directive, unclosed bool) error {
	for _, d := range ds {
		if err := p.handle(d); err != nil {
			return err
		}
	}
	if unclosed {
		return p.synErr
	}
	return nil
}

// handle dispatches one directive as ngx_conf_handler does, with its checks
// in the same order and its messages.
func (p *Parser) handle(d *conf.Directive) error {
	p.cur = d
	refs := p.reg.byName[d.Name]
	found := false
	for _, r := range refs {
		found = true
		if r.m.Type != ConfType && r.m.Type != p.modType {
			continue
		}
		if r.d.Ctx&p.ctxBits == 0 {
			continue
		}
		if r.d.Args&Block == 0 && d.HasBlock {
			return p.Errorf(d, "directive \"%s\" is not terminated by \";\"", d.Name)
		}
		if r.d.Args&Block != 0 && !d.HasBlock {
			return p.Errorf(d, "directive \"%s\" has no opening \"{\"", d.Name)
		}
		if !r.d.Args.countOK(len(d.HeadArgs())) {
			return p.Errorf(d, "invalid number of arguments in \"%s\" directive", d.Name)
		}
		if d.RawBlock && d.Unclosed {
			// a raw block's handler reads the block first (ngx_lua's
			// *_by_lua_block), and reading it failed.
			return p.synErr
		}
		var c any
		if p.ctx != nil {
			c = p.ctx.ConfFor(r.m, r.d.Level)
		}
		return r.d.Set(p, d, c)
	}
	if found {
		return p.Errorf(d, "\"%s\" directive is not allowed here", d.Name)
	}
	return p.Errorf(d, "unknown directive \"%s\"", d.Name)
}
