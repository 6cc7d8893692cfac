package ssi

import (
	"bytes"
	"errors"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
	"gresty/regex"
)

// ssiError is what a command returns when it failed in a way that puts
// the errmsg text in its place (NGX_HTTP_SSI_ERROR); the other results
// are the http package's.
const ssiError = 1

// args are a command's parameters by their index in the command's table,
// nil when absent.
type args [maxParams + 1]*param

// paramSpec is a parameter a command takes.
type paramSpec struct {
	name      string
	index     int
	mandatory bool
}

// command is an SSI command (ngx_http_ssi_command_t): its parameters, the
// conditional context it needs (condIf for elif and else, condElse for
// endif), whether it is carried out even inside a block being collected
// (endblock), and whether the output so far is passed on before it runs
// (include).
type command struct {
	handler     func(r *http.Request, c *ctx, a *args) int
	params      []paramSpec
	conditional int
	block       bool
	flush       bool
}

// The parameter indexes of each command.
const (
	incVirtual = iota
	incFile
	incWait
	incSet
	incStub
)

const (
	echoVar = iota
	echoDefault
	echoEncoding
)

const (
	configErrmsg = iota
	configTimefmt
)

const (
	setVar = iota
	setValue
)

// commands is the command table, a registry filled once.
var commands = map[string]*command{
	"include": {handler: cmdInclude, flush: true, params: []paramSpec{
		{"virtual", incVirtual, false}, {"file", incFile, false}, {"wait", incWait, false},
		{"set", incSet, false}, {"stub", incStub, false},
	}},
	"echo": {handler: cmdEcho, params: []paramSpec{
		{"var", echoVar, true}, {"default", echoDefault, false}, {"encoding", echoEncoding, false},
	}},
	"config": {handler: cmdConfig, params: []paramSpec{
		{"errmsg", configErrmsg, false}, {"timefmt", configTimefmt, false},
	}},
	"set": {handler: cmdSet, params: []paramSpec{
		{"var", setVar, true}, {"value", setValue, true},
	}},
	"if":       {handler: cmdIf, params: []paramSpec{{"expr", 0, true}}},
	"elif":     {handler: cmdIf, params: []paramSpec{{"expr", 0, true}}, conditional: condIf},
	"else":     {handler: cmdElse, conditional: condIf},
	"endif":    {handler: cmdEndif, conditional: condElse},
	"block":    {handler: cmdBlock, params: []paramSpec{{"name", 0, true}}},
	"endblock": {handler: cmdEndblock, block: true},
}

// runCommand carries out the command the parser found. done reports that
// the body filter must return rc at once (a subrequest is waited for, or
// a fatal error); otherwise rc is OK or ssiError.
func (c *ctx) runCommand(r *http.Request, next http.BodyFilterFunc) (done bool, rc int) {
	name := c.commandName()
	cmd := commands[string(name)]
	if cmd == nil {
		if c.output {
			r.Logf(errlog.Error, "invalid SSI command: \"%s\"", name)
			return false, ssiError
		}
		return false, http.OK
	}
	if !c.output && !cmd.block {
		if c.block {
			// inside a block a command is kept as text, to be
			// parsed where the block is used.
			c.addToBlock(r, c.commandText())
			return false, http.OK
		}
		if cmd.conditional == 0 {
			return false, http.OK
		}
	}
	if cmd.conditional != 0 && (c.conditional == 0 || c.conditional > cmd.conditional) {
		r.Logf(errlog.Error, "invalid context of SSI command: \"%s\"", name)
		return false, ssiError
	}
	if len(c.params) > maxParams {
		r.Logf(errlog.Error, "too many SSI command parameters: \"%s\"", name)
		return false, ssiError
	}
	var a args
	for i := range c.params {
		pm := &c.params[i]
		found := false
		for _, spec := range cmd.params {
			if string(pm.name()) != spec.name {
				continue
			}
			if a[spec.index] != nil {
				r.Logf(errlog.Error, "duplicate \"%s\" parameter in \"%s\" SSI command", pm.name(), name)
				return false, ssiError
			}
			a[spec.index] = pm
			found = true
			break
		}
		if !found {
			r.Logf(errlog.Error, "invalid parameter name: \"%s\" in \"%s\" SSI command", pm.name(), name)
			return false, ssiError
		}
	}
	for _, spec := range cmd.params {
		if spec.mandatory && a[spec.index] == nil {
			r.Logf(errlog.Error, "mandatory \"%s\" parameter is absent in \"%s\" SSI command", spec.name, name)
			return false, ssiError
		}
	}
	if cmd.flush && len(c.out) > 0 {
		if c.flush(r, next) == http.Error {
			return true, http.Error
		}
	}
	switch rc := cmd.handler(r, c, &a); rc {
	case http.OK:
		return false, http.OK
	case http.Done, http.Again, http.Error:
		return true, rc
	}
	return false, ssiError
}

// commandText writes the current command out again, for a block.
func (c *ctx) commandText() []byte {
	name := c.commandName()
	n := 5 + len(name) + 4
	for i := range c.params {
		n += 1 + c.params[i].keyLen + 2 + len(c.params[i].value) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, "<!--#"...)
	b = append(b, name...)
	for i := range c.params {
		b = append(b, ' ')
		b = append(b, c.params[i].name()...)
		b = append(b, '=', '"')
		b = append(b, c.params[i].value...)
		b = append(b, '"')
	}
	return append(b, " -->"...)
}

// lowerInPlace lowercases ASCII letters of b, as nginx does to the names
// it hashes.
func lowerInPlace(b []byte) {
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			b[i] = ch | 0x20
		}
	}
}

func cmdInclude(r *http.Request, c *ctx, a *args) int {
	uri, file, wait, set, stub := a[incVirtual], a[incFile], a[incWait], a[incSet], a[incStub]
	if uri != nil && file != nil {
		r.Logf(errlog.Error, "inclusion may be either virtual=\"%s\" or file=\"%s\"", uri.value, file.value)
		return ssiError
	}
	if uri == nil && file == nil {
		r.Logf(errlog.Error, "no parameter in \"include\" SSI command")
		return ssiError
	}
	if set != nil && stub != nil {
		r.Logf(errlog.Error, "\"set\" and \"stub\" cannot be used together in \"include\" SSI command")
		return ssiError
	}
	waited := false
	if wait != nil {
		if uri == nil {
			r.Logf(errlog.Error, "\"wait\" cannot be used with file=\"%s\"", file.value)
			return ssiError
		}
		switch {
		case len(wait.value) == 2 && bytes.EqualFold(wait.value, []byte("no")):
		case len(wait.value) == 3 && bytes.EqualFold(wait.value, []byte("yes")):
			waited = true
		default:
			r.Logf(errlog.Error, "invalid value \"%s\" in the \"wait\" parameter", wait.value)
			return ssiError
		}
	}
	target := uri
	if uri == nil {
		// a file= include is always waited for.
		target = file
		waited = true
	}
	text, rc := c.evaluate(r, target.value, addPrefix)
	if rc != http.OK {
		return rc
	}
	path, query, ok := r.ParseUnsafeURI(text)
	if !ok {
		r.Logf(errlog.Error, "unsafe URI \"%s\" was detected", unsafeShown(text))
		return ssiError
	}
	sh := sharedOf(r)
	var opts http.SubrequestOptions
	var st *subState
	if stub != nil {
		var bl *block
		for _, b := range sh.blocks {
			if bytes.Equal(b.name, stub.value) {
				bl = b
				break
			}
		}
		if bl == nil {
			r.Logf(errlog.Error, "\"stub\"=\"%s\" for \"include\" not found", stub.value)
			return ssiError
		}
		bl.used++
		parts := bl.parts[:len(bl.parts):len(bl.parts)]
		st = &subState{}
		opts.Post = func(sr *http.Request, rc int) int { return stubOutput(sr, rc, st, parts) }
	}
	opts.Waited = waited
	if set != nil {
		lowerInPlace(set.value)
		v := c.findVariable(r, set.value)
		if v == nil {
			v = &variable{name: set.value, value: []byte{}}
			sh.vars = append(sh.vars, v)
		}
		st = &subState{}
		opts.Post = func(sr *http.Request, rc int) int {
			// the body captured in memory becomes the value once the
			// subrequest has given a body and has not failed.
			if sr.Out.Status < 300 && st.seen {
				v.value = sr.SubBody
				if v.value == nil {
					v.value = []byte{}
				}
			}
			return rc
		}
		opts.InMemory, opts.Waited = true, true
	}
	sr, err := r.Subrequest(path, query, opts)
	if err != nil {
		return ssiError
	}
	if st != nil {
		st.sr = sr
		c.subs = append(c.subs, st)
	}
	if !opts.Waited {
		return http.OK
	}
	if c.wait == nil {
		c.wait = sr
		return http.Again
	}
	r.Logf(errlog.Error, "can only wait for one subrequest at a time")
	return http.OK
}

// stubOutput sends a stub block as the response of an include whose
// subrequest finished without having given any output (an error it did
// not answer itself, an empty body); the text is parsed again by the
// subrequest's own filters.
func stubOutput(sr *http.Request, rc int, st *subState, parts [][]byte) int {
	if rc == http.Error || st.output {
		return rc
	}
	if !sr.HeaderSent {
		sr.Out.ContentType = sr.Parent.Out.ContentType
		if sr.SendHeader() == http.Error {
			return http.Error
		}
	}
	if len(parts) == 0 {
		return sr.Output(nil)
	}
	bufs := make([]http.Buf, len(parts))
	for i, p := range parts {
		bufs[i] = http.Buf{Data: p, Owned: true}
	}
	return sr.Output(bufs)
}

var noneValue = []byte("(none)")

func cmdEcho(r *http.Request, c *ctx, a *args) int {
	name := a[echoVar].value
	lowerInPlace(name)
	value, found, failed := c.variable(r, name)
	if failed {
		return ssiError
	}
	if !found {
		switch def := a[echoDefault]; {
		case def == nil:
			value = noneValue
		case len(def.value) == 0:
			return http.OK
		default:
			value = def.value
		}
	} else if len(value) == 0 {
		return http.OK
	}
	if enc := a[echoEncoding]; enc != nil {
		switch string(enc.value) {
		case "none":
			c.encoding = encNone
		case "url":
			c.encoding = encURL
		case "entity":
			c.encoding = encEntity
		default:
			r.Logf(errlog.Error, "unknown encoding \"%s\" in the \"echo\" command", enc.value)
		}
	}
	owned := false
	switch c.encoding {
	case encURL:
		if httpparse.EscapeCount(value, httpparse.EscapeHTML) > 0 {
			value = httpparse.AppendEscape(nil, value, httpparse.EscapeHTML)
			owned = true
		}
	case encEntity:
		if httpparse.EscapeHTMLCount(value) > 0 {
			value = httpparse.AppendEscapeHTML(nil, value)
			owned = true
		}
	}
	c.out = append(c.out, http.Buf{Data: value, Owned: owned})
	return http.OK
}

func cmdConfig(r *http.Request, c *ctx, a *args) int {
	if v := a[configTimefmt]; v != nil {
		// the format is a C string to strftime: it ends at a NUL.
		f := v.value
		if i := bytes.IndexByte(f, 0); i >= 0 {
			f = f[:i]
		}
		c.timefmt = f
	}
	if v := a[configErrmsg]; v != nil {
		c.errmsg = v.value
	}
	return http.OK
}

func cmdSet(r *http.Request, c *ctx, a *args) int {
	name := a[setVar].value
	value, rc := c.evaluate(r, a[setValue].value, 0)
	if rc != http.OK {
		return rc
	}
	lowerInPlace(name)
	if v := c.findVariable(r, name); v != nil {
		v.value = value
		return http.OK
	}
	sh := sharedOf(r)
	sh.vars = append(sh.vars, &variable{name: name, value: value})
	return http.OK
}

// exprByte tells whether a byte belongs to the left operand of an "if"
// expression (after upper-case letters were lowered).
func exprByte(ch byte) bool {
	return ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' ||
		ch == '$' || ch == '{' || ch == '}' || ch == '_' || ch == '"' || ch == '\''
}

func cmdIf(r *http.Request, c *ctx, a *args) int {
	if c.commandLen == 2 && c.conditional != 0 {
		r.Logf(errlog.Error, "the \"if\" command inside the \"if\" command")
		return ssiError
	}
	if c.outputChosen {
		c.output = false
		return http.OK
	}
	expr := a[0].value
	p := 0
	for ; p < len(expr); p++ {
		if ch := expr[p]; ch >= 'A' && ch <= 'Z' {
			expr[p] = ch | 0x20
			continue
		}
		if !exprByte(expr[p]) {
			break
		}
	}
	left := expr[:p]
	for p < len(expr) && expr[p] == ' ' {
		p++
	}
	left, rc := c.evaluate(r, left, 0)
	if rc != http.OK {
		return rc
	}
	if p == len(expr) {
		if len(left) > 0 {
			c.output = true
			c.outputChosen = true
		} else {
			c.output = false
		}
		c.conditional = condIf
		return http.OK
	}
	negative := false
	switch {
	case expr[p] == '=':
		p++
	case p+1 < len(expr) && expr[p] == '!' && expr[p+1] == '=':
		negative = true
		p += 2
	default:
		r.Logf(errlog.Error, "invalid expression in \"%s\"", expr)
		return ssiError
	}
	for p < len(expr) && expr[p] == ' ' {
		p++
	}
	last := len(expr)
	isRegex := false
	if p < last-1 && expr[p] == '/' {
		if expr[last-1] != '/' {
			r.Logf(errlog.Error, "invalid expression in \"%s\"", expr)
			return ssiError
		}
		isRegex = true
		last--
		p++
	} else if p < last-1 && expr[p] == '\\' && expr[p+1] == '/' {
		p++
	}
	right, rc := c.evaluate(r, expr[p:last], 0)
	if rc != http.OK {
		return rc
	}
	var equal bool
	if isRegex {
		switch rc := c.regexMatch(r, right, left); rc {
		case http.OK:
			equal = true
		case http.Declined:
		default:
			return rc
		}
	} else {
		equal = bytes.Equal(left, right)
	}
	if equal != negative {
		c.output = true
		c.outputChosen = true
	} else {
		c.output = false
	}
	c.conditional = condIf
	return http.OK
}

func cmdElse(r *http.Request, c *ctx, a *args) int {
	c.output = !c.outputChosen
	c.conditional = condElse
	return http.OK
}

func cmdEndif(r *http.Request, c *ctx, a *args) int {
	c.output = true
	c.outputChosen = false
	c.conditional = 0
	return http.OK
}

func cmdBlock(r *http.Request, c *ctx, a *args) int {
	sh := sharedOf(r)
	sh.blocks = append(sh.blocks, &block{name: a[0].value})
	c.output = false
	c.block = true
	return http.OK
}

func cmdEndblock(r *http.Request, c *ctx, a *args) int {
	c.output = true
	c.block = false
	return http.OK
}

// regexMatch matches subject against the pattern of an "if" expression;
// on a match its captures become $0..$9 of the document and its named
// captures document variables. It returns OK, Declined or ssiError.
func (c *ctx) regexMatch(r *http.Request, pattern, subject []byte) int {
	ls, _ := r.LoopState(Module).(*loopState)
	if ls == nil {
		ls = &loopState{regexes: regex.NewCache(-1, regex.Options{}), matcher: regex.NewMatcher()}
	}
	re, err := ls.regexes.Get(string(pattern), regex.PCRE2)
	if err != nil {
		r.Logf(errlog.Error, "%s", err.Error())
		return ssiError
	}
	ovec := make([]int, re.OvectorLen())
	n, err := re.Match(ls.matcher, subject, 0, ovec)
	if err != nil {
		code := -1
		var ee *regex.ExecError
		switch {
		case errors.Is(err, regex.ErrMatchLimit):
			code = -47
		case errors.As(err, &ee):
			code = ee.Code
		}
		r.Logf(errlog.Alert, "pcre2_match() failed: %d on \"%s\" using \"%s\"", code, subject, pattern)
		return ssiError
	}
	if n == 0 {
		return http.Declined
	}
	sh := sharedOf(r)
	sh.ncaptures, sh.captures, sh.subject = n, ovec, subject
	for _, nm := range re.Names() {
		name := []byte(nm.Name)
		lowerInPlace(name)
		var value []byte
		if s, e := ovec[2*nm.Group], ovec[2*nm.Group+1]; s >= 0 && e >= s {
			value = subject[s:e]
		}
		if v := c.findVariable(r, name); v != nil {
			v.value = value
			continue
		}
		sh.vars = append(sh.vars, &variable{name: name, value: value})
	}
	return http.OK
}

// unsafeShown is the URI nginx names when it refuses an include: the
// text as written when its path is unsafe as it stands, else the path
// once %XX-decoded, where the unsafe part appeared.
func unsafeShown(uri []byte) []byte {
	if len(uri) == 0 || uri[0] == '?' || dotDot(uri, 0) {
		return uri
	}
	path := uri
	if i := bytes.IndexByte(uri, '?'); i >= 0 {
		path = uri[:i]
	}
	for i, ch := range path {
		if ch == 0 || ch == '/' && dotDot(path, i+1) {
			return uri
		}
	}
	dec, _ := httpparse.AppendUnescape(nil, path, httpparse.UnescapePlain)
	return dec
}

// dotDot tells whether b has a ".." segment at i.
func dotDot(b []byte, i int) bool {
	return len(b)-i >= 2 && b[i] == '.' && b[i+1] == '.' && (len(b)-i == 2 || b[i+2] == '/')
}
