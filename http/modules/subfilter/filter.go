package subfilter

import (
	"gresty/http"
)

// stream is a response's substitution state, the module's request
// context.
type stream struct {
	t    *tables
	once bool
	// subs are the replacements, evaluated at their first use and kept
	// for the rest of the response; used tells which were.
	subs [][]byte
	used []bool
	// applied counts replacements; with sub_filter_once, once every
	// string was replaced the rest of the body passes untouched (done).
	applied int
	done    bool
	// held is the tail of the body seen so far that may begin a match.
	held []byte
	// out collects the buffers of one call; scratch holds the copies of
	// held bytes they refer to. Both are reused after the call.
	out     []http.Buf
	scratch []byte
}

// headerFilter is ngx_http_sub_header_filter: a response of a listed
// type that may have a body gets a stream; the main request's response
// loses its length and either its Last-Modified and ETag, or, with
// sub_filter_last_modified, only the strength of its ETag. The status
// does not matter, as in nginx.
func headerFilter(r *http.Request, next http.HeaderFilterFunc) int {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	if c.pairs == nil || r.Out.ContentLength == 0 || !c.Types.Match(r) {
		return next(r)
	}
	t := c.tables
	if c.dynamic {
		t = requestTables(r, c)
		if t == nil {
			return next(r)
		}
	}
	r.SetCtx(Module.TypeIndex, &stream{t: t, once: c.Once.V, subs: make([][]byte, len(t.pats)), used: make([]bool, len(t.pats))})
	r.NeedInMemory()
	if !r.IsSubrequest() {
		r.Out.ClearContentLength()
		if c.LastModified.V {
			r.WeakETag()
		} else {
			r.Out.ClearLastModified()
			r.Out.ClearETag()
		}
	}
	return next(r)
}

// requestTables evaluates search strings with variables; the ones that
// come out empty are left out, and with none left there is nothing to
// do.
func requestTables(r *http.Request, c *LocConf) *tables {
	pats := make([][]byte, 0, len(c.pairs))
	pairs := make([]*pair, 0, len(c.pairs))
	for _, pr := range c.pairs {
		s := pr.search
		if pr.searchTpl != nil {
			s = lowerBytes(pr.searchTpl.Eval(r, nil))
			if len(s) == 0 {
				continue
			}
		}
		pats = append(pats, s)
		pairs = append(pairs, pr)
	}
	if len(pats) == 0 {
		return nil
	}
	return newTables(pats, pairs)
}

// bodyFilter is ngx_http_sub_body_filter. Each call passes on at once
// what can no longer be part of a match, the replacements in place of the
// matches, and keeps back only a tail that may begin one; the end of the
// response (or of a subrequest's part) sends the tail as it is.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	s, _ := r.Ctx(Module.TypeIndex).(*stream)
	if s == nil || len(in) == 0 || (s.done && len(s.held) == 0) {
		return next(r, in)
	}
	for i := range in {
		b := &in[i]
		n0 := len(s.out)
		switch {
		case b.File != nil && b.FileLen > 0:
			data, ok := r.ReadBufFile(b)
			if !ok {
				s.reset()
				return http.Error
			}
			s.feed(r, data, true)
		case len(b.Data) > 0:
			s.feed(r, b.Data, b.Owned)
		}
		if b.Last || b.LastInChain {
			s.emitHeld(0, len(s.held))
			s.held = s.held[:0]
		}
		if !b.Last && !b.LastInChain && !b.Flush {
			continue
		}
		if len(s.out) == n0 {
			s.out = append(s.out, http.Buf{})
		}
		o := &s.out[len(s.out)-1]
		o.Last, o.LastInChain, o.Flush = b.Last, b.LastInChain, b.Flush
	}
	if len(s.out) == 0 {
		return http.OK
	}
	rc := next(r, s.out)
	s.reset()
	return rc
}

// reset forgets the buffers of a call once the next filter has had them.
func (s *stream) reset() {
	clear(s.out)
	s.out = s.out[:0]
	s.scratch = s.scratch[:0]
}

// feed runs the next body bytes through the matcher. Bytes of data are
// passed on as slices of it (owned tells whether they outlive the call);
// held bytes are copied, since held is rewritten.
func (s *stream) feed(r *http.Request, data []byte, owned bool) {
	if s.done {
		s.emitHeld(0, len(s.held))
		s.held = s.held[:0]
		s.emitData(data, owned)
		return
	}
	t := s.t
	x := text{held: s.held, data: data}
	n := x.len()
	skip := func(i int) bool { return s.once && s.used[i] }
	emitted, p := 0, 0
	for {
		at, i := t.scan(&x, p, skip)
		s.emit(&x, emitted, at, owned)
		if i < 0 {
			s.keep(&x, at)
			return
		}
		s.replace(r, i)
		p = at + len(t.pats[i])
		emitted = p
		s.applied++
		if s.once && s.applied == len(t.pats) {
			s.done = true
			s.emit(&x, p, n, owned)
			s.held = s.held[:0]
			return
		}
	}
}

// emit passes on the text from a to b.
func (s *stream) emit(x *text, a, b int, owned bool) {
	if a >= b {
		return
	}
	h := len(x.held)
	if a < h {
		s.emitHeld(a, min(b, h))
		a = h
	}
	if a < b {
		s.emitData(x.data[a-h:b-h], owned)
	}
}

// emitHeld passes on held[a:b], copied.
func (s *stream) emitHeld(a, b int) {
	if a >= b {
		return
	}
	start := len(s.scratch)
	s.scratch = append(s.scratch, s.held[a:b]...)
	s.out = append(s.out, http.Buf{Data: s.scratch[start:len(s.scratch):len(s.scratch)]})
}

func (s *stream) emitData(d []byte, owned bool) {
	if len(d) > 0 {
		s.out = append(s.out, http.Buf{Data: d, Owned: owned})
	}
}

// keep makes the text from p on the new held tail.
func (s *stream) keep(x *text, p int) {
	h := len(x.held)
	if p >= h {
		s.held = append(s.held[:0], x.data[p-h:]...)
		return
	}
	k := copy(s.held, s.held[p:])
	s.held = append(s.held[:k], x.data...)
}

// replace passes on the replacement of string i, evaluated at its first
// use (request memory, so it outlives the call).
func (s *stream) replace(r *http.Request, i int) {
	if !s.used[i] {
		pr := s.t.pairs[i]
		v := pr.value
		if pr.valueTpl != nil {
			v = pr.valueTpl.EvalBytes(r)
		}
		s.subs[i], s.used[i] = v, true
	}
	if v := s.subs[i]; len(v) > 0 {
		s.out = append(s.out, http.Buf{Data: v, Owned: true})
	}
}
