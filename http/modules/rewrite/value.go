package rewrite

import (
	"gresty/conf"
	"gresty/core"
	"gresty/http"
	"gresty/httpparse"
)

// value is a script operand or replacement: literal text, variables
// ($name, ${name}) and regex captures ($1 to $9), compiled once per
// configuration as ngx_http_script_compile compiles them.
type value struct {
	parts []part
	// argsAt is the index of the first part after the "?" that starts the
	// arguments of a rewrite replacement; -1 when there is none.
	argsAt int
	// hasQuery is nginx's sc.args: the source holds a "?" anywhere.
	hasQuery bool
}

type part struct {
	lit     []byte
	varIdx  int // variable index, -1 for a literal or a capture
	capture int // capture number, 0 for a literal or a variable
}

func (p *part) literal() bool { return p.varIdx < 0 && p.capture == 0 }

// static tells whether the value is plain text; its text is then the
// only part (or nothing).
func (v *value) static() bool {
	for i := range v.parts {
		if !v.parts[i].literal() {
			return false
		}
	}
	return v.argsAt < 0
}

// text returns the literal text of a static value.
func (v *value) text() []byte {
	if len(v.parts) == 0 {
		return nil
	}
	return v.parts[0].lit
}

func isNameChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// compileValue compiles s as nginx's script compiler does. With splitArgs
// (a rewrite replacement that is not a redirect) the first "?" ends the
// URI and starts the arguments. Errors carry nginx's messages, located at
// d.
func compileValue(p *core.Parser, d *conf.Directive, s string, splitArgs bool) (*value, error) {
	cf := p.Ext.(*http.Conf)
	v := &value{argsAt: -1}
	addLit := func(x string) {
		if n := len(v.parts); n > 0 && v.parts[n-1].literal() && v.argsAt != n {
			v.parts[n-1].lit = append(v.parts[n-1].lit, x...)
			return
		}
		v.parts = append(v.parts, part{lit: []byte(x), varIdx: -1})
	}
	for i := 0; i < len(s); {
		if s[i] == '$' {
			i++
			if i == len(s) {
				return nil, p.Errorf(d, "invalid variable name")
			}
			if s[i] >= '1' && s[i] <= '9' {
				v.parts = append(v.parts, part{varIdx: -1, capture: int(s[i] - '0')})
				i++
				continue
			}
			bracket := false
			if s[i] == '{' {
				bracket = true
				i++
				if i == len(s) {
					return nil, p.Errorf(d, "invalid variable name")
				}
			}
			start, end := i, i
			for ; i < len(s); i++ {
				if s[i] == '}' && bracket {
					end = i
					i++
					bracket = false
					break
				}
				if !isNameChar(s[i]) {
					break
				}
				end = i + 1
			}
			if bracket {
				return nil, p.Errorf(d, "the closing bracket in \"%s\" variable is missing", s[start:end])
			}
			if end == start {
				return nil, p.Errorf(d, "invalid variable name")
			}
			idx, err := cf.VariableIndex(s[start:end])
			if err != nil {
				return nil, err
			}
			v.parts = append(v.parts, part{varIdx: idx})
			continue
		}
		if s[i] == '?' {
			v.hasQuery = true
			if splitArgs && v.argsAt < 0 {
				v.argsAt = len(v.parts)
				i++
				continue
			}
		}
		start := i
		for i < len(s) && s[i] != '$' {
			if s[i] == '?' {
				v.hasQuery = true
				if splitArgs && v.argsAt < 0 {
					break
				}
			}
			i++
		}
		addLit(s[start:i])
	}
	return v, nil
}

// eval appends the value for e's request to dst. It also returns where
// the arguments start in dst (-1 without a "?"), and from there on the
// engine copies captures as arguments (nginx's e->is_args). Captures are
// escaped as arguments when the engine quotes or copies arguments and
// the client's URI was escaped, as ngx_http_script_copy_capture_code.
func (v *value) eval(e *engine, dst []byte) ([]byte, int) {
	r := e.r
	argsAt := -1
	for i := range v.parts {
		if i == v.argsAt {
			e.isArgs = true
			argsAt = len(dst)
		}
		p := &v.parts[i]
		switch {
		case p.varIdx >= 0:
			if b, ok := r.IndexedVar(p.varIdx); ok {
				dst = append(dst, b...)
			}
		case p.capture > 0:
			c, _ := r.Capture(p.capture)
			if (e.isArgs || e.quote) && r.QuotedURI() {
				dst = httpparse.AppendEscape(dst, c, httpparse.EscapeArgs)
			} else {
				dst = append(dst, c...)
			}
		default:
			dst = append(dst, p.lit...)
		}
	}
	if v.argsAt == len(v.parts) {
		e.isArgs = true
		argsAt = len(dst)
	}
	return dst, argsAt
}
