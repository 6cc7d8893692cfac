package http

import (
	"gresty/conf"
	"gresty/core"
	"gresty/errlog"
	"gresty/regex"
)

// Regex is a compiled configuration regex (location ~, server_name ~, if,
// rewrite, map ...) with its named captures bound to variables, as
// ngx_http_regex_t.
type Regex struct {
	Re *regex.Regexp
	// Source is the pattern as written.
	Source string
	// names[i] is the variable index for capture group i, -1 when the
	// group is unnamed.
	names []int
	ncap  int
}

// NumCaptures returns the number of capture groups.
func (re *Regex) NumCaptures() int { return re.ncap }

// CompileRegex compiles a configuration regex; named captures become
// variables. Errors read as nginx's (the pcre2_compile() text).
func (cf *Conf) CompileRegex(d *conf.Directive, pattern string, caseless bool) (*Regex, error) {
	return compileRegex(cf.Parser, d, pattern, caseless)
}

func compileRegex(p *core.Parser, d *conf.Directive, pattern string, caseless bool) (*Regex, error) {
	fl := regex.PCRE2
	if caseless {
		fl |= regex.Caseless
	}
	re, err := regex.Compile(pattern, fl)
	if err != nil {
		return nil, p.Errorf(d, "%s", err.Error())
	}
	rx := &Regex{Re: re, Source: pattern, ncap: re.NumCaptures()}
	rx.names = make([]int, rx.ncap+1)
	for i := range rx.names {
		rx.names[i] = -1
	}
	cf, _ := p.Ext.(*Conf)
	for _, n := range re.Names() {
		if cf == nil {
			break
		}
		if _, err := cf.AddVariable(&Variable{Name: n.Name, Flags: VarChangeable}); err != nil {
			return nil, err
		}
		idx, err := cf.VariableIndex(n.Name)
		if err != nil {
			return nil, err
		}
		rx.names[n.Group] = idx
	}
	return rx, nil
}

// regexMatch runs re on subject as ngx_http_regex_exec: on a match the
// captures become r's current captures ($1...) when keep is set, and named
// captures are stored in their variables.
func (r *Request) regexMatch(re *Regex, subject []byte, keep bool) (bool, error) {
	need := 2 * (re.ncap + 1)
	ovec := r.captureBuf(need)
	n, err := re.Re.Match(r.Conn.srv.matcher, subject, 0, ovec)
	if err != nil {
		r.Logf(errlog.Alert, "regex match failed: %s on \"%s\" using \"%s\"", err.Error(), subject, re.Source)
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	for i, idx := range re.names {
		if idx < 0 {
			continue
		}
		s, e := ovec[2*i], ovec[2*i+1]
		if s < 0 {
			r.SetIndexedVar(idx, nil)
			continue
		}
		r.SetIndexedVar(idx, subject[s:e])
	}
	if keep || re.ncap > 0 {
		r.captures = ovec
		r.capSubj = subject
	}
	return true, nil
}

func (r *Request) captureBuf(n int) []int {
	if cap(r.captures) >= n {
		return r.captures[:n]
	}
	return make([]int, n, max(n, 20))
}

// Capture returns regex capture n of the last match ($n), found only
// when the group exists.
func (r *Request) Capture(n int) ([]byte, bool) {
	if 2*n+1 >= len(r.captures) {
		return nil, false
	}
	s, e := r.captures[2*n], r.captures[2*n+1]
	if s < 0 {
		return nil, true
	}
	return r.capSubj[s:e], true
}

// appendCapture appends capture n, escaped for a query string when
// escapeArgs is set (rewrite's replacement with arguments).
func (r *Request) appendCapture(dst []byte, n int, escapeArgs bool) []byte {
	if 2*n+1 >= len(r.captures) {
		return dst
	}
	s, e := r.captures[2*n], r.captures[2*n+1]
	if s < 0 {
		return dst
	}
	v := r.capSubj[s:e]
	if escapeArgs {
		return escapeInto(dst, v, escapeArgsTable)
	}
	return append(dst, v...)
}
