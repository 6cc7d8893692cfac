package rewrite

import (
	"errors"
	"os"
	"syscall"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// script is the code of one server or location level: its rewrite, if,
// set, return and break directives in order, with the directives of its
// if blocks inline (nginx's rlcf->codes). Jumps are indexes into codes.
type script struct {
	codes []code
}

func (s *script) emit(c code) int {
	s.codes = append(s.codes, c)
	return len(s.codes) - 1
}

// code is one instruction of a script (an ngx_http_script_*_code). run
// moves e.ip.
type code interface {
	run(e *engine)
}

// engine runs a script for a request (ngx_http_script_engine_t). It lives
// on the loop goroutine's stack for the duration of one phase handler.
type engine struct {
	r     *http.Request
	codes []code
	ip    int
	stack [][]byte
	// status is the handler's result: Declined unless a code decides.
	status int
	// quote is set while captures are copied into a redirect, and at the
	// start of a script (nginx's e->quote); isArgs once a replacement
	// reached its arguments.
	quote  bool
	isArgs bool
	// log is rewrite_log of the location the script started in.
	log bool
}

func (e *engine) exit() { e.ip = len(e.codes) }

func (e *engine) push(b []byte) { e.stack = append(e.stack, b) }

func (e *engine) pop() []byte {
	n := len(e.stack) - 1
	b := e.stack[n]
	e.stack = e.stack[:n]
	return b
}

// truth is nginx's test of a condition's value: empty and "0" are false.
func truth(b []byte) bool {
	return len(b) > 0 && !(len(b) == 1 && b[0] == '0')
}

var trueValue = []byte("1")

// regexCode is a rewrite (uri set) or the test of an if condition with
// ~, ~*, !~ or !~* (ngx_http_script_regex_code_t and its end code). For a
// rewrite it also evaluates the replacement and installs the new URI,
// arguments or redirect.
type regexCode struct {
	re   *http.Regex
	name string
	// test codes pop their subject and push the result.
	test, negative bool
	uri            bool
	status         int
	redirect       bool
	breakCycle     bool
	addArgs        bool
	repl           *value
	// next is where a rewrite that does not match goes on.
	next int
}

func (c *regexCode) run(e *engine) {
	r := e.r
	var line []byte
	if c.uri {
		line = r.URI
	} else {
		line = e.pop()
	}
	ok, err := r.RegexExec(c.re, line)
	if err != nil {
		e.exit()
		e.status = 500
		return
	}
	if !ok {
		if e.log {
			r.Logf(errlog.Notice, "\"%s\" does not match \"%s\"", c.name, line)
		}
		r.ClearCaptures()
		if c.test {
			if c.negative {
				e.push(trueValue)
			} else {
				e.push(nil)
			}
			e.ip++
			return
		}
		e.ip = c.next
		return
	}
	if e.log {
		r.Logf(errlog.Notice, "\"%s\" matches \"%s\"", c.name, line)
	}
	if c.test {
		if c.negative {
			e.push(nil)
		} else {
			e.push(trueValue)
		}
		e.ip++
		return
	}
	if c.status != 0 {
		e.status = c.status
		if !c.redirect {
			e.exit()
			return
		}
	}
	if c.uri {
		r.Internal = true
		if c.breakCycle {
			r.InvalidateLocation()
			r.SetURIChanged(false)
		} else {
			r.SetURIChanged(true)
		}
	}
	e.quote = c.redirect
	buf, argsAt := c.repl.eval(e, nil)
	e.quote = false
	if c.redirect {
		c.endRedirect(e, buf)
	} else if !c.endURI(e, buf, argsAt) {
		return
	}
	e.ip++
}

// endRedirect finishes a redirecting rewrite: the replacement is unescaped
// up to its "?" as NGX_UNESCAPE_REDIRECT does, the client's arguments are
// appended unless the replacement ended with "?", and the result becomes
// the Location.
func (c *regexCode) endRedirect(e *engine, buf []byte) {
	r := e.r
	loc, n := httpparse.AppendUnescape(nil, buf, httpparse.UnescapeRedirect)
	loc = append(loc, buf[n:]...)
	if c.addArgs && len(r.Args) > 0 {
		if c.repl.hasQuery {
			loc = append(loc, '&')
		} else {
			loc = append(loc, '?')
		}
		loc = append(loc, r.Args...)
	}
	if e.log {
		r.Logf(errlog.Notice, "rewritten redirect: \"%s\"", loc)
	}
	r.Out.DelKnown(httpparse.HdrLocation)
	r.Out.Set(httpparse.HdrLocation, "Location", loc)
}

// endURI installs the rewritten URI and arguments. It returns false when
// the script must stop with an error.
func (c *regexCode) endURI(e *engine, buf []byte, argsAt int) bool {
	r := e.r
	uri := buf
	if argsAt >= 0 {
		uri = buf[:argsAt:argsAt]
		args := buf[argsAt:]
		if c.addArgs && len(r.Args) > 0 {
			args = append(args, '&')
			args = append(args, r.Args...)
		}
		r.Args = args
	} else if !c.addArgs {
		r.Args = nil
	}
	if e.log {
		r.Logf(errlog.Notice, "rewritten data: \"%s\", args: \"%s\"", uri, r.Args)
	}
	if c.uri {
		if len(uri) == 0 {
			r.Logf(errlog.Error, "the rewritten URI has a zero length")
			e.exit()
			e.status = 500
			return false
		}
		r.SetURI(uri)
	}
	return true
}

// stopCode ends the script (the NULL code after "last", "break" and
// redirecting rewrites).
type stopCode struct{}

func (stopCode) run(e *engine) { e.exit() }

// returnCode is the return directive (ngx_http_script_return_code).
type returnCode struct {
	status int
	// text is the body or URL; nil when the directive has none or it is
	// an empty literal.
	text *value
}

func (c *returnCode) run(e *engine) {
	r := e.r
	if c.status < 400 || c.text != nil {
		var body []byte
		switch {
		case c.text != nil && c.text.static():
			// plain text: the configuration's own bytes, never copied.
			body = c.text.text()
		case c.text != nil:
			// a complex value of its own: captures are copied as they are.
			te := engine{r: r}
			body, _ = c.text.eval(&te, nil)
		}
		e.status = r.SendResponse(c.status, "", body)
	} else {
		e.status = c.status
	}
	e.exit()
}

// breakCode is the break directive.
type breakCode struct{}

func (breakCode) run(e *engine) {
	if e.r.URIChanged() {
		e.r.InvalidateLocation()
		e.r.SetURIChanged(false)
	}
	e.exit()
}

// ifCode tests the condition on the stack: when it holds, a location's if
// block becomes the request's location configuration and its codes run;
// otherwise they are skipped.
type ifCode struct {
	loc  *http.LocConf // nil for an if in a server block
	next int
}

func (c *ifCode) run(e *engine) {
	if truth(e.pop()) {
		if c.loc != nil {
			e.r.SetLocConf(c.loc)
		}
		e.ip++
		return
	}
	e.ip = c.next
}

// compareCode is "=" (equal) or "!=" on the two values on the stack.
type compareCode struct{ equal bool }

func (c compareCode) run(e *engine) {
	val := e.pop()
	n := len(e.stack) - 1
	same := string(val) == string(e.stack[n])
	if same == c.equal {
		e.stack[n] = trueValue
	} else {
		e.stack[n] = nil
	}
	e.ip++
}

// File test operators.
const (
	opFile = iota
	opDir
	opExists
	opExec
)

// fileCode is -f, -d, -e, -x and their negations: it replaces the path
// on top of the stack with the result.
type fileCode struct {
	op     int
	negate bool
}

func (c fileCode) run(e *engine) {
	e.ip++
	n := len(e.stack) - 1
	path := e.stack[n]
	res := false
	fi, err := os.Stat(string(path))
	if err != nil {
		if !quietStatError(err) {
			e.r.Logf(errlog.Crit, "stat() \"%s\" failed %s", path, errlog.Errno(err))
		}
	} else {
		switch c.op {
		case opFile:
			res = fi.Mode().IsRegular()
		case opDir:
			res = fi.IsDir()
		case opExists:
			res = fi.Mode().IsRegular() || fi.IsDir()
		case opExec:
			res = fi.Mode().Perm()&0o100 != 0
		}
	}
	if res != c.negate {
		e.stack[n] = trueValue
	} else {
		e.stack[n] = nil
	}
}

// quietStatError tells the errors nginx does not log when it tests a
// file: the path or one of its directories is missing, or too long.
func quietStatError(err error) bool {
	var en syscall.Errno
	if !errors.As(err, &en) {
		return false
	}
	return en == syscall.ENOENT || en == syscall.ENOTDIR || en == syscall.ENAMETOOLONG
}

// valueCode pushes a literal.
type valueCode struct{ text []byte }

func (c valueCode) run(e *engine) {
	e.push(c.text)
	e.ip++
}

// complexCode pushes a value with variables or captures, evaluated in
// request memory that stays valid for the request (a set variable keeps
// it).
type complexCode struct{ v *value }

func (c complexCode) run(e *engine) {
	b, _ := c.v.eval(e, nil)
	if b == nil {
		b = []byte{}
	}
	e.push(b)
	e.ip++
}

// varCode pushes a variable's value, empty when it is not found.
type varCode struct{ idx int }

func (c varCode) run(e *engine) {
	b, ok := e.r.IndexedVar(c.idx)
	if !ok {
		b = nil
	}
	e.push(b)
	e.ip++
}

// setCode stores the value on the stack into a variable.
type setCode struct{ idx int }

func (c setCode) run(e *engine) {
	e.r.SetIndexedVar(c.idx, e.pop())
	e.ip++
}
