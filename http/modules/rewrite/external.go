package rewrite

import (
	"strings"

	"gresty/conf"
	"gresty/core"
	"gresty/http"
)

// SetFunc computes the value of a set-style directive of another module
// (set_by_lua, the set-misc directives): nginx's NDK set_var. It returns
// the value, or a non-zero HTTP status that ends the script with it.
type SetFunc func(r *http.Request) (value []byte, status int)

// AddSet appends "set $name <value computed by fn>" to the script of the
// block being configured, in order with the rewrite directives around it,
// as NDK's set_var does for other modules' directives. The variable is
// created as set creates it. Call it from a directive setter.
func AddSet(p *core.Parser, d *conf.Directive, name string, fn SetFunc) error {
	cf := p.Ext.(*http.Conf)
	ctx, ok := p.Ctx().(*http.ConfCtx)
	if !ok {
		return p.Errorf(d, "\"%s\" directive is not allowed here", d.Name)
	}
	lc := ctx.Loc[Module.TypeIndex].(*LocConf)
	if name == "" {
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
	lc.code().emit(&externalSetCode{fn: fn, idx: idx})
	return nil
}

// externalSetCode runs another module's set function and stores its value.
type externalSetCode struct {
	fn  SetFunc
	idx int
}

func (c *externalSetCode) run(e *engine) {
	v, status := c.fn(e.r)
	if status != 0 {
		e.status = status
		e.exit()
		return
	}
	if v == nil {
		v = []byte{}
	}
	e.r.SetIndexedVar(c.idx, v)
	e.ip++
}
