package http

// Configuration helpers for the upstream modules: walking the location
// tree after the http block is merged, where inheritance rules that need
// the enclosing location (if and limit_except blocks) are applied.

// WalkLocations calls fn for every location of every server, parents
// before their nested locations, if blocks and limit_except blocks, with
// the enclosing location (the server level for the outermost ones).
// Configuration goroutine only.
func (cf *Conf) WalkLocations(fn func(l, parent *LocConf)) {
	var walk func(l *LocConf)
	walk = func(l *LocConf) {
		for _, c := range l.locations {
			fn(c, l)
			walk(c)
		}
	}
	for _, s := range cf.Main.Servers {
		walk(s.Loc())
	}
}

// IsLimitExcept tells whether l is parent's limit_except block.
func (l *LocConf) IsLimitExcept(parent *LocConf) bool {
	return parent != nil && parent.LimitExcept == l
}

// LiteralTemplate returns a template that evaluates to s, for values
// built by configuration code rather than written with variables.
func LiteralTemplate(s string) *Template {
	t := &Template{raw: s, ArgsAt: -1}
	if s != "" {
		t.parts = []tplPart{{lit: s, varIdx: -1, capture: -1}}
	}
	return t
}

// LocationValid tells whether the URI still belongs to the location that
// was selected for it (nginx's r->valid_location): a "rewrite ... break"
// changed it.
func (r *Request) LocationValid() bool { return !r.locationInvalid }

// ValidUnparsedURI tells whether the request target as the client sent it
// may stand for the current URI and arguments (r->valid_unparsed_uri):
// neither an internal redirect, a rewrite nor "set $args" changed them.
func (r *Request) ValidUnparsedURI() bool {
	if r != r.Main || r.Internal || r.Head == nil || !r.Head.ValidRawURI() {
		return false
	}
	orig := r.Head.Args()
	if len(orig) != len(r.Args) {
		return false
	}
	return len(orig) == 0 || &orig[0] == &r.Args[0]
}

// dropConsumedInput forgets the input a request has consumed past its
// head (body bytes already stored, forwarded or discarded), so that a
// long body streamed through the connection does not pile up in its
// buffer. The head stays: the request's fields point into it.
func (c *Conn) dropConsumedInput() {
	if !c.dataOwned || c.r == nil {
		return
	}
	end := c.headStart + c.head.HeadLen()
	if end > len(c.data) || c.pos <= end {
		return
	}
	n := copy(c.data[end:], c.data[c.pos:])
	c.data = c.data[:end+n]
	c.pos = end
}
