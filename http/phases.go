package http

import (
	"gresty/errlog"
	"gresty/httpparse"
)

// Phase is a request processing phase, as nginx's NGX_HTTP_*_PHASE.
type Phase int

// The phases, in order.
const (
	PostReadPhase Phase = iota
	ServerRewritePhase
	FindConfigPhase
	RewritePhase
	PostRewritePhase
	PreAccessPhase
	AccessPhase
	PostAccessPhase
	PreContentPhase
	ContentPhase
	LogPhase
	numPhases
)

// PhaseHandler is a module's handler for a phase. Its result is read as
// nginx reads it for that phase (see the checkers below).
type PhaseHandler = Handler

// AddPhaseHandler registers h for a phase. Modules call it from
// Postconfiguration; handlers of one phase run in registration order
// reversed, as nginx's (the last module registered runs first).
func (cf *Conf) AddPhaseHandler(p Phase, h PhaseHandler) {
	cf.AddPhaseHandlerIf(p, nil, h)
}

// AddPhaseHandlerIf registers h for a phase where only a location for
// which active reports true gives it something to do: in any other location
// h must decline every request without touching it, and the request skips
// it (nginx calls every handler, each testing its own configuration). A nil
// active means every location. The content phase takes no active test: its
// last handler answers 404 when all decline.
func (cf *Conf) AddPhaseHandlerIf(p Phase, active func(*LocConf) bool, h PhaseHandler) {
	if p == ContentPhase {
		active = nil
	}
	cf.Main.phases[p] = append(cf.Main.phases[p], phaseReg{h: h, active: active})
}

// phaseReg is a registered phase handler and its active test.
type phaseReg struct {
	h      PhaseHandler
	active func(*LocConf) bool
}

type phaseEntry struct {
	checker func(r *Request, ph *phaseEntry) bool
	handler Handler
	next    int
	active  func(*LocConf) bool
}

// phaseSkip marks the phase engine's entries a location's requests pass
// over: their handlers have nothing to do there.
type phaseSkip []uint64

func (s phaseSkip) has(i int) bool { return i>>6 < len(s) && s[i>>6]&(1<<(i&63)) != 0 }

// buildPhaseSkips gives every location the entries its requests skip.
func (cf *Conf) buildPhaseSkips() {
	e := &cf.Main.engine
	for _, lc := range cf.locs {
		var skip phaseSkip
		for i := range e.handlers {
			if a := e.handlers[i].active; a != nil && !a(lc) {
				if skip == nil {
					skip = make(phaseSkip, (len(e.handlers)+63)>>6)
				}
				skip[i>>6] |= 1 << (i & 63)
			}
		}
		lc.phaseSkip = skip
	}
}

type phaseEngine struct {
	handlers             []phaseEntry
	serverRewriteIndex   int
	locationRewriteIndex int
	logHandlers          []Handler
}

// buildPhases flattens the phase handlers into the engine, as
// ngx_http_init_phase_handlers: each entry knows the index of the next
// phase, and post-rewrite knows where find-config is.
func (m *MainConf) buildPhases() {
	e := &m.engine
	e.handlers = e.handlers[:0]
	e.logHandlers = e.logHandlers[:0]
	add := func(checker func(*Request, *phaseEntry) bool, h phaseReg, next int) {
		e.handlers = append(e.handlers, phaseEntry{checker: checker, handler: h.h, next: next, active: h.active})
	}
	findConfig := 0
	for p := PostReadPhase; p < numPhases; p++ {
		hs := m.phases[p]
		switch p {
		case FindConfigPhase:
			findConfig = len(e.handlers)
			add(findConfigChecker, phaseReg{}, 0)
			continue
		case PostRewritePhase:
			add(postRewriteChecker, phaseReg{}, findConfig)
			continue
		case PostAccessPhase:
			add(postAccessChecker, phaseReg{}, 0)
			continue
		case LogPhase:
			for i := len(hs) - 1; i >= 0; i-- {
				e.logHandlers = append(e.logHandlers, hs[i].h)
			}
			continue
		case ServerRewritePhase:
			e.serverRewriteIndex = len(e.handlers)
		case RewritePhase:
			e.locationRewriteIndex = len(e.handlers)
		}
		checker := genericChecker
		switch p {
		case ServerRewritePhase, RewritePhase:
			checker = rewriteChecker
		case AccessPhase:
			checker = accessChecker
		case ContentPhase:
			checker = contentChecker
		}
		if p == ContentPhase && len(hs) == 0 {
			add(contentChecker, phaseReg{}, len(e.handlers)+1)
			continue
		}
		next := len(e.handlers) + len(hs)
		for i := len(hs) - 1; i >= 0; i-- {
			add(checker, hs[i], next)
		}
	}
}

// runPhases runs the phase engine from r.phase until a handler suspends
// or finalizes the request (ngx_http_core_run_phases).
func (r *Request) runPhases() {
	e := &r.Conn.cfg.Main.engine
	for r.phase < len(e.handlers) {
		if lc := r.Loc; lc != nil && lc.phaseSkip.has(r.phase) {
			r.phase++
			continue
		}
		ph := &e.handlers[r.phase]
		if !ph.checker(r, ph) {
			return
		}
	}
}

// RunPhases continues a suspended request's phases, as a module does when
// the event it waited for happened (r->write_event_handler =
// ngx_http_core_run_phases).
func (r *Request) RunPhases() {
	r.runPhases()
}

// The checkers return true to go on with r.phase, false when the request
// was suspended or finalized.

func genericChecker(r *Request, ph *phaseEntry) bool {
	rc := ph.handler(r)
	switch rc {
	case OK:
		r.phase = ph.next
		return true
	case Declined:
		r.phase++
		return true
	case Again, Done:
		return false
	}
	r.Finalize(rc)
	return false
}

func rewriteChecker(r *Request, ph *phaseEntry) bool {
	rc := ph.handler(r)
	switch rc {
	case Declined:
		r.phase++
		return true
	case Done:
		return false
	}
	r.Finalize(rc)
	return false
}

func findConfigChecker(r *Request, ph *phaseEntry) bool {
	r.contentHandler = nil
	r.uriChanged = false
	loc, rc, err := r.findLocation(r.Srv.Loc())
	if err != nil {
		r.Finalize(500)
		return false
	}
	r.Loc = loc
	if !r.Internal && loc.Internal.V {
		r.Finalize(404)
		return false
	}
	r.updateLocationConfig()
	if r.ContentLength != -1 && !r.discardBody && r.Loc.ClientMaxBodySize.V != 0 && r.Loc.ClientMaxBodySize.V < r.ContentLength {
		r.Logf(errlog.Error, "client intended to send too large body: %d bytes", r.ContentLength)
		r.expectTested = true
		r.DiscardBody()
		r.Finalize(413)
		return false
	}
	if rc == locRedirect {
		r.Out.DelKnown(httpparse.HdrLocation)
		v := escapedName(loc.Name)
		if len(r.Args) > 0 {
			v = v + "?" + string(r.Args)
		}
		r.Out.Set(httpparse.HdrLocation, "Location", []byte(v))
		r.Finalize(301)
		return false
	}
	r.phase++
	return true
}

func postRewriteChecker(r *Request, ph *phaseEntry) bool {
	if !r.uriChanged {
		r.phase++
		return true
	}
	r.uriChanges--
	if r.uriChanges == 0 {
		r.Logf(errlog.Error, "rewrite or internal redirection cycle while processing \"%s\"", r.URI)
		r.Finalize(500)
		return false
	}
	r.phase = ph.next
	r.Loc = r.Srv.Loc()
	return true
}

func accessChecker(r *Request, ph *phaseEntry) bool {
	if r != r.Main {
		r.phase = ph.next
		return true
	}
	rc := ph.handler(r)
	switch rc {
	case Declined:
		r.phase++
		return true
	case Again, Done:
		return false
	}
	if r.Loc.Satisfy.V == SatisfyAll {
		if rc == OK {
			r.phase++
			return true
		}
	} else {
		if rc == OK {
			r.accessCode = 0
			r.Out.DelKnown(httpparse.HdrWWWAuthenticate)
			r.phase = ph.next
			return true
		}
		if rc == 403 || rc == 401 {
			if r.accessCode != 401 {
				r.accessCode = rc
			}
			r.phase++
			return true
		}
	}
	if rc == 401 {
		r.authDelay()
		return false
	}
	r.Finalize(rc)
	return false
}

func postAccessChecker(r *Request, ph *phaseEntry) bool {
	if code := r.accessCode; code != 0 {
		r.accessCode = 0
		if code == 403 {
			r.Logf(errlog.Error, "access forbidden by rule")
		}
		if code == 401 {
			r.authDelay()
			return false
		}
		r.Finalize(code)
		return false
	}
	r.phase++
	return true
}

func contentChecker(r *Request, ph *phaseEntry) bool {
	r.writeHandler = nil
	if r.contentHandler != nil {
		r.Finalize(r.contentHandler(r))
		return false
	}
	rc := Declined
	if ph.handler != nil {
		rc = ph.handler(r)
	}
	if rc != Declined {
		r.Finalize(rc)
		return false
	}
	e := &r.Conn.cfg.Main.engine
	if ph.handler != nil && r.phase+1 < len(e.handlers) {
		r.phase++
		return true
	}
	if len(r.URI) > 0 && r.URI[len(r.URI)-1] == '/' {
		if path, _, ok := r.MapURIToPath(0); ok {
			r.Logf(errlog.Error, "directory index of \"%s\" is forbidden", path)
		}
		r.Finalize(403)
		return false
	}
	r.Logf(errlog.Error, "no handler found")
	r.Finalize(404)
	return false
}

// updateLocationConfig applies the selected location to the request
// (ngx_http_update_location_config).
func (r *Request) updateLocationConfig() {
	loc := r.Loc
	if loc.LimitExcept != nil && r.LimitExceptApplies() {
		r.Loc = loc.LimitExcept
		loc = r.Loc
	}
	if r.KeepAlive {
		switch {
		case loc.KeepaliveTimeout.V == 0:
			r.KeepAlive = false
		case r.Conn.requests >= loc.KeepaliveRequests.V:
			r.KeepAlive = false
		case r.Conn.loopNow().Sub(r.Conn.start) > loc.KeepaliveTime.V:
			r.KeepAlive = false
		case r.msie6() && r.Method == httpparse.MethodPOST && loc.KeepaliveDisable.V&KeepaliveDisableMsie6 != 0:
			r.KeepAlive = false
		case r.safari() && loc.KeepaliveDisable.V&KeepaliveDisableSafari != 0:
			r.KeepAlive = false
		}
	}
	if !loc.TCPNopush.V {
		r.Conn.nopush = nopushDisabled
	}
	if loc.Handler != nil {
		r.contentHandler = loc.Handler
	}
}

// LimitExceptApplies tells whether r's method is outside the location's
// limit_except list, so that the limit_except block governs it.
func (r *Request) LimitExceptApplies() bool {
	m := r.Method
	if m == httpparse.MethodUnknown || m >= 32 {
		return true
	}
	return r.Loc.LimitExceptMask&(1<<uint(m)) == 0
}

// InternalRedirect restarts r's processing at uri (and args), as
// ngx_http_internal_redirect; the caller returns Done.
func (r *Request) InternalRedirect(uri, args []byte) int {
	r.uriChanges--
	if r.uriChanges == 0 {
		r.Logf(errlog.Error, "rewrite or internal redirection cycle while internally redirecting to \"%s\"", uri)
		r.Main.count++
		r.Finalize(500)
		return Done
	}
	r.URI = uri
	r.Args = args
	r.Exten = extenOf(uri)
	r.Loc = r.Srv.Loc()
	r.clearModuleCtx()
	r.Internal = true
	r.locationInvalid = false
	r.addURIToAlias = false
	r.Main.count++
	r.Conn.action = ""
	r.phase = r.Conn.cfg.Main.engine.serverRewriteIndex
	// a phase handler of the new location that waits (auth_request)
	// is resumed through the phases, as ngx_http_handler sets it.
	r.writeHandler = (*Request).runPhases
	r.runPhases()
	return Done
}

// NamedLocation continues r's processing in a named location, as
// ngx_http_named_location; the caller returns Done.
func (r *Request) NamedLocation(name string) int {
	r.Main.count++
	r.uriChanges--
	if r.uriChanges == 0 {
		r.Logf(errlog.Error, "rewrite or internal redirection cycle while redirect to named location \"%s\"", name)
		r.Finalize(500)
		return Done
	}
	loc := r.Srv.named[name]
	if loc == nil {
		r.Logf(errlog.Crit, "could not find named location \"%s\"", name)
		r.Finalize(500)
		return Done
	}
	r.Loc = loc
	r.contentHandler = nil
	r.updateLocationConfig()
	r.clearModuleCtx()
	r.phase = r.Conn.cfg.Main.engine.locationRewriteIndex
	r.writeHandler = (*Request).runPhases
	r.runPhases()
	return Done
}

func (r *Request) clearModuleCtx() {
	for i := range r.ctx {
		if i != preservedCtx {
			r.ctx[i] = nil
		}
	}
}

// preservedCtx is the context slot kept across internal redirects (the
// Lua module keeps ngx.ctx there, as ngx_lua does); -1 for none.
var preservedCtx = -1

// PreserveCtxAcrossRedirects makes one module's request context survive
// internal redirects. It is called once, at init.
func PreserveCtxAcrossRedirects(typeIndex int) { preservedCtx = typeIndex }

func extenOf(uri []byte) []byte {
	for i := len(uri) - 1; i >= 0; i-- {
		switch uri[i] {
		case '.':
			return uri[i+1:]
		case '/':
			return nil
		}
	}
	return nil
}

// msieFlags reads the User-Agent as ngx_http_process_user_agent does:
// MSIE when "MSIE " comes 8 or more bytes before its end, MSIE 6 or
// older (msie6) for versions 4 and 5, and 6 without "SV1"; Opera, which
// may name MSIE, is neither.
func (r *Request) msieFlags() (msie, msie6 bool) {
	ua, ok := r.KnownIn(httpparse.HdrUserAgent)
	if !ok || containsBytes(ua, "Opera") {
		return false, false
	}
	i := indexBytes(ua, "MSIE ")
	if i < 0 || i+7 >= len(ua) {
		return false, false
	}
	if ua[i+6] == '.' {
		switch ua[i+5] {
		case '4', '5':
			msie6 = true
		case '6':
			msie6 = !containsBytes(ua[i+8:], "SV1")
		}
	}
	return true, msie6
}

// MSIE tells whether the client is MSIE (nginx's r->headers_in.msie, and
// the browser module's $msie).
func (r *Request) MSIE() bool {
	m, _ := r.msieFlags()
	return m
}

func (r *Request) msie6() bool {
	_, m := r.msieFlags()
	return m
}

func (r *Request) safari() bool {
	ua, ok := r.KnownIn(httpparse.HdrUserAgent)
	if !ok {
		return false
	}
	return containsBytes(ua, "Safari/") && containsBytes(ua, "Mac OS X") && !containsBytes(ua, "Chrome/")
}

// AddPostponedPhaseHandler registers h to run after every other handler of
// the phase, whatever the module order: ngx_lua and headers-more move
// their rewrite (and access) handlers to the end of their phases so that
// the rewrite and access modules' directives run first. Postponed
// handlers keep nginx's order among themselves: each moves itself to the
// end when it first runs, so the one a later module registered (which
// runs first) ends up first.
func (cf *Conf) AddPostponedPhaseHandler(p Phase, h PhaseHandler) {
	hs := cf.Main.phases[p]
	n := cf.Main.postponed[p]
	hs = append(hs, phaseReg{})
	copy(hs[n+1:], hs[n:])
	hs[n] = phaseReg{h: h}
	cf.Main.phases[p] = hs
	cf.Main.postponed[p]++
}
