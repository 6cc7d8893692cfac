package http

import (
	"strconv"

	"gresty/core"
)

// Template is a string with variables, compiled once per configuration
// (nginx's complex value): literal text, $name / ${name} variables and
// regex captures $1..$9.
type Template struct {
	raw   string
	parts []tplPart
	// Args is set when the template was compiled with args splitting and
	// holds a "?" outside variables: what follows it is the query string
	// (rewrite's replacement).
	Args bool
	// ArgsAt is the index of the first part after "?", when Args.
	ArgsAt int
	// CaptureMask has bit n set for each $n used.
	CaptureMask uint32
	dupCapture  bool
	// dupVar is set when a variable appears more than once: nginx
	// evaluates a non-cacheable one once per value, so the repeats see
	// the same bytes.
	dupVar bool
}

type tplPart struct {
	lit     string
	varIdx  int // -1 unless a variable
	capture int // -1 unless a capture
}

// Raw returns the template's source text.
func (t *Template) Raw() string { return t.raw }

// Static tells whether the template has no variables or captures.
func (t *Template) Static() bool {
	for _, p := range t.parts {
		if p.varIdx >= 0 || p.capture >= 0 {
			return false
		}
	}
	return true
}

// HasVariables tells whether the template refers to any variable (not
// counting captures).
func (t *Template) HasVariables() bool {
	for _, p := range t.parts {
		if p.varIdx >= 0 {
			return true
		}
	}
	return false
}

// CompileTemplate compiles s for the http block being configured.
func (cf *Conf) CompileTemplate(s string) (*Template, error) {
	return compileTemplate(cf, s, false)
}

// CompileTemplateArgs compiles s splitting at the first "?" outside
// variables, as rewrite's replacement.
func (cf *Conf) CompileTemplateArgs(s string) (*Template, error) {
	return compileTemplate(cf, s, true)
}

// CompileTemplateP is CompileTemplate for directive setters, which have
// only the parser.
func CompileTemplateP(p *core.Parser, s string) (*Template, error) {
	return compileTemplate(confOf(p), s, false)
}

func compileTemplate(cf *Conf, s string, splitArgs bool) (*Template, error) {
	t := &Template{raw: s, ArgsAt: -1}
	lit := func(x string) {
		if x == "" {
			return
		}
		if n := len(t.parts); n > 0 && t.parts[n-1].varIdx < 0 && t.parts[n-1].capture < 0 && !(t.Args && t.ArgsAt == n) {
			t.parts[n-1].lit += x
			return
		}
		t.parts = append(t.parts, tplPart{lit: x, varIdx: -1, capture: -1})
	}
	i := 0
	for i < len(s) {
		if s[i] == '$' {
			i++
			if i == len(s) {
				return nil, cf.Errorf(cf.curDir(), "invalid variable name")
			}
			if s[i] >= '1' && s[i] <= '9' {
				n := int(s[i] - '0')
				if t.CaptureMask&(1<<n) != 0 {
					t.dupCapture = true
				}
				t.CaptureMask |= 1 << n
				t.parts = append(t.parts, tplPart{varIdx: -1, capture: n})
				i++
				continue
			}
			bracket := false
			if s[i] == '{' {
				bracket = true
				i++
				if i == len(s) {
					return nil, cf.Errorf(cf.curDir(), "invalid variable name")
				}
			}
			start := i
			for i < len(s) {
				ch := s[i]
				if ch == '}' && bracket {
					bracket = false
					break
				}
				if ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '_' {
					i++
					continue
				}
				break
			}
			name := s[start:i]
			if bracket {
				return nil, cf.Errorf(cf.curDir(), "the closing bracket in \"%s\" variable is missing", name)
			}
			if i < len(s) && s[i] == '}' && start > 0 && s[start-1] == '{' {
				i++
			}
			if name == "" {
				return nil, cf.Errorf(cf.curDir(), "invalid variable name")
			}
			idx, err := cf.VariableIndex(name)
			if err != nil {
				return nil, err
			}
			t.parts = append(t.parts, tplPart{varIdx: idx, capture: -1})
			continue
		}
		if splitArgs && s[i] == '?' && !t.Args {
			t.Args = true
			t.ArgsAt = len(t.parts)
			i++
			continue
		}
		start := i
		for i < len(s) && s[i] != '$' && !(splitArgs && !t.Args && s[i] == '?') {
			i++
		}
		lit(s[start:i])
	}
	seen := map[int]bool{}
	for _, p := range t.parts {
		if p.varIdx >= 0 {
			t.dupVar = t.dupVar || seen[p.varIdx]
			seen[p.varIdx] = true
		}
	}
	return t, nil
}

// Eval appends the template's value for r to dst.
func (t *Template) Eval(r *Request, dst []byte) []byte {
	if t.dupVar {
		t.flushVars(r)
	}
	for i := range t.parts {
		p := &t.parts[i]
		switch {
		case p.varIdx >= 0:
			get := r.IndexedVar
			if t.dupVar {
				get = r.cachedVar
			}
			if v, ok := get(p.varIdx); ok {
				dst = append(dst, v...)
			}
		case p.capture >= 0:
			dst = r.appendCapture(dst, p.capture, false)
		default:
			dst = append(dst, p.lit...)
		}
	}
	return dst
}

// flushVars forgets the values of the template's non-cacheable
// variables, as ngx_http_script_flush_complex_value.
func (t *Template) flushVars(r *Request) {
	reg := r.Conn.cfg.Main.vars
	r.varSlots(len(reg.indexed))
	for _, p := range t.parts {
		if p.varIdx >= 0 && reg.indexed[p.varIdx].Flags&VarNoCacheable != 0 && !r.vars[p.varIdx].pinned {
			r.vars[p.varIdx] = varValue{}
		}
	}
}

// cachedVar is IndexedVar returning a value already computed even for a
// non-cacheable variable (ngx_http_get_indexed_variable).
func (r *Request) cachedVar(i int) ([]byte, bool) {
	reg := r.Conn.cfg.Main.vars
	r.varSlots(len(reg.indexed))
	if vv := &r.vars[i]; vv.valid || vv.notFound {
		return vv.v, vv.valid
	}
	return r.IndexedVar(i)
}

// EvalString returns the template's value for r. A static template costs
// nothing.
func (t *Template) EvalString(r *Request) string {
	if len(t.parts) == 1 && t.parts[0].varIdx < 0 && t.parts[0].capture < 0 {
		return t.parts[0].lit
	}
	if len(t.parts) == 0 {
		return ""
	}
	return string(t.Eval(r, nil))
}

// EvalBytes returns the template's value in request memory.
func (t *Template) EvalBytes(r *Request) []byte {
	if len(t.parts) == 1 && t.parts[0].varIdx < 0 && t.parts[0].capture < 0 {
		return []byte(t.parts[0].lit)
	}
	// the arena's free bytes are the value's room while it is built; a
	// variable that allocates request memory meanwhile must get other
	// bytes, so the room counts as used until the value is known.
	base := r.arena
	start := len(base)
	r.arena = base[:cap(base)]
	b := t.Eval(r, base[start:start])
	if sameChunk(r.arena, base) {
		if cap(b) <= cap(base)-start {
			r.arena = base[:start+len(b)]
		} else {
			r.arena = base[:start]
		}
	}
	return b
}

// sameChunk tells whether two slices share their first byte.
func sameChunk(a, b []byte) bool {
	if cap(a) == 0 || cap(b) == 0 {
		return cap(a) == cap(b)
	}
	return &a[:1][0] == &b[:1][0]
}

// EvalParts evaluates the template, escaping captures in the query part as
// rewrite does (NGX_ESCAPE_ARGS when the replacement has args).
func (t *Template) EvalRewrite(r *Request, dst []byte) (uri []byte, args []byte) {
	start := len(dst)
	argsStart := -1
	for i := range t.parts {
		if t.Args && i == t.ArgsAt {
			argsStart = len(dst)
		}
		p := &t.parts[i]
		switch {
		case p.varIdx >= 0:
			if v, ok := r.IndexedVar(p.varIdx); ok {
				dst = append(dst, v...)
			}
		case p.capture >= 0:
			dst = r.appendCapture(dst, p.capture, t.Args)
		default:
			dst = append(dst, p.lit...)
		}
	}
	if t.Args && argsStart < 0 {
		argsStart = len(dst)
	}
	if argsStart < 0 {
		return dst[start:], nil
	}
	return dst[start:argsStart], dst[argsStart:]
}

// SizeValue evaluates a template holding a size (limit_rate $x).
func (t *Template) SizeValue(r *Request) (int64, bool) {
	return core.ParseSize(t.EvalString(r))
}

// IntValue evaluates a template holding a decimal number.
func (t *Template) IntValue(r *Request) (int, bool) {
	n, err := strconv.Atoi(t.EvalString(r))
	return n, err == nil && n >= 0
}
