// Package core is gresty's module and directive registry: nginx's module
// tables as Go values, the dispatcher that hands each directive of a parsed
// configuration to its module with nginx's checks and error messages, the
// typed setters that store values and merge them down the http → server →
// location → if hierarchy, and the Cycle that holds one configuration.
//
// Everything here runs while a configuration is being built, on the
// goroutine that builds it (start-up, -t, reload); the finished Cycle is
// immutable and read from every loop.
package core

import (
	"gresty/conf"
)

// Ctx is a set of contexts a directive may appear in, as nginx's
// NGX_*_CONF bits.
type Ctx uint32

// The contexts.
const (
	MainCtx   Ctx = 1 << iota // the top level of nginx.conf
	EventsCtx                 // events { }
	HTTPMain                  // http { }
	HTTPSrv                   // server { }
	HTTPLoc                   // location { }
	HTTPUps                   // upstream { }
	HTTPSif                   // if { } in server
	HTTPLif                   // if { } in location
	HTTPLmt                   // limit_except { }
	BlockCtx                  // inside a module's own block (types, map, geo, ...)

	AnyCtx = MainCtx | EventsCtx | HTTPMain | HTTPSrv | HTTPLoc | HTTPUps | HTTPSif | HTTPLif | HTTPLmt | BlockCtx
	// HTTPMainSrvLoc is the most common set: http, server and location.
	HTTPMainSrvLoc = HTTPMain | HTTPSrv | HTTPLoc
)

// Args is a directive's argument specification, as nginx's
// NGX_CONF_TAKE*/FLAG/1MORE/... bits, plus whether it takes a block.
type Args uint32

// Argument counts and shapes.
const (
	NoArgs Args = 1 << iota
	Take1
	Take2
	Take3
	Take4
	Take5
	Take6
	Take7
	Flag    // exactly one argument: on or off
	OneMore // one or more
	TwoMore // two or more
	AnyArgs // any number, unchecked
	Block   // the directive opens a { } block

	Take12   = Take1 | Take2
	Take13   = Take1 | Take3
	Take23   = Take2 | Take3
	Take123  = Take1 | Take2 | Take3
	Take1234 = Take1 | Take2 | Take3 | Take4
)

const maxArgs = 8

var argBits = [maxArgs]Args{NoArgs, Take1, Take2, Take3, Take4, Take5, Take6, Take7}

// countOK tells whether n arguments (not counting the name) fit a.
func (a Args) countOK(n int) bool {
	switch {
	case a&AnyArgs != 0:
		return true
	case a&Flag != 0:
		return n == 1
	case a&OneMore != 0:
		return n >= 1
	case a&TwoMore != 0:
		return n >= 2
	case n >= maxArgs:
		return false
	default:
		return a&argBits[n] != 0
	}
}

// Level names which of a context's configuration structures a directive
// writes into, as nginx's NGX_HTTP_MAIN/SRV/LOC_CONF_OFFSET.
type Level uint8

// The levels. MainLevel is also the level of core and events directives.
const (
	MainLevel Level = iota
	SrvLevel
	LocLevel
)

// ModuleType groups modules as nginx does: a directive is looked up only
// among modules of the type of the block being parsed (and ConfType
// modules, which are valid everywhere).
type ModuleType uint8

// The module types.
const (
	CoreType ModuleType = iota
	ConfType
	EventType
	HTTPType
)

// Directive is one row of a module's directive table.
type Directive struct {
	Name  string
	Ctx   Ctx
	Args  Args
	Level Level
	// Set stores the directive's value into c, the module's configuration
	// structure at Level in the current context. Errors are returned as
	// made by Parser.Errorf/Dup/Invalid so that they carry nginx's text and
	// position.
	Set func(p *Parser, d *conf.Directive, c any) error
	// merge and hasMerge are filled by the typed setters: merge copies an
	// unset value from the parent level and applies the default.
	merge func(parent, child any)
}

// Module is one nginx module: its name (as nginx names it, for -V and log
// messages), its type, its directives and its hooks. HTTP modules keep
// their HTTP-specific hooks in HTTP, which the http package defines.
type Module struct {
	Name string
	Type ModuleType
	// Configure is the word "nginx -V" prints for this module in its
	// configure arguments ("--with-http_realip_module",
	// "--add-module=echo-nginx-module"); empty for modules nginx builds by
	// default.
	Configure  string
	Directives []Directive

	// CreateConf and InitConf manage a core module's main-level
	// configuration (nginx's create_conf/init_conf).
	CreateConf func(c *Cycle) any
	InitConf   func(c *Cycle, conf any) error

	// HTTP holds the http package's hooks for HTTP modules.
	HTTP any

	// Index is the module's position in the module list; TypeIndex its
	// position among modules of the same type. Both are set by NewRegistry.
	Index     int
	TypeIndex int
}

// Merge runs the automatic merge of every directive at level that was
// declared with a typed setter: a value the child did not set is taken
// from the parent, or from the directive's default when the parent did not
// set it either. Modules call it from their merge hooks and then merge
// what needs hand-written rules.
func (m *Module) Merge(level Level, parent, child any) {
	for i := range m.Directives {
		d := &m.Directives[i]
		if d.Level == level && d.merge != nil {
			d.merge(parent, child)
		}
	}
}

// Registry is the ordered module list of one build of gresty. Order
// matters: it is the order of directive lookup and, for HTTP modules, the
// order of phase handlers and filters, as nginx's module order is.
type Registry struct {
	Modules []*Module
	byName  map[string][]dirRef
	counts  map[ModuleType]int
}

type dirRef struct {
	m *Module
	d *Directive
}

// NewRegistry indexes the modules in the given order. It panics on a
// module listed twice, which is a programming error.
func NewRegistry(mods ...*Module) *Registry {
	r := &Registry{byName: map[string][]dirRef{}, counts: map[ModuleType]int{}}
	seen := map[*Module]bool{}
	for i, m := range mods {
		if seen[m] {
			panic("core: module " + m.Name + " listed twice")
		}
		seen[m] = true
		m.Index = i
		m.TypeIndex = r.counts[m.Type]
		r.counts[m.Type]++
		for j := range m.Directives {
			d := &m.Directives[j]
			r.byName[d.Name] = append(r.byName[d.Name], dirRef{m, d})
		}
		r.Modules = append(r.Modules, m)
	}
	return r
}

// Count returns how many modules of type t are registered.
func (r *Registry) Count(t ModuleType) int { return r.counts[t] }

// Known tells whether any module declares a directive called name.
func (r *Registry) Known(name string) bool { return len(r.byName[name]) > 0 }

// Find returns the module named name, or nil.
func (r *Registry) Find(name string) *Module {
	for _, m := range r.Modules {
		if m.Name == name {
			return m
		}
	}
	return nil
}
