//go:build linux

package resolver

import (
	"math/rand/v2"
	"net/netip"
	"strings"
	"time"

	"gresty/eventloop"
)

// maxRecursion bounds how many CNAMEs one resolution follows
// (NGX_RESOLVER_MAX_RECURSION).
const maxRecursion = 50

// Options configures a Set.
type Options struct {
	// Cache is shared with the other loops' sets; nil gives the set a
	// cache of its own.
	Cache *Cache
	// Logf receives the resolver's log lines with nginx's levels
	// (eventloop.LogErr, ...). It is called on the loop goroutine. nil
	// discards them.
	Logf func(level int, format string, args ...any)
	// Debug tells whether debug lines are wanted, so that a resolution
	// formats none otherwise; nil: never.
	Debug func() bool
}

// Set holds one loop's resolvers: for each distinct resolver
// configuration, the sockets to its name servers and the queries in
// flight. Requests for the same name through equal configurations share
// one query. Create one Set per loop (in the loop's start-up hook) and
// close it when the loop stops serving the configuration. All methods
// run on the loop goroutine.
type Set struct {
	l      *eventloop.Loop
	cache  *Cache
	logf   func(level int, format string, args ...any)
	debug  func() bool
	cores  map[string]*instance
	views  map[*Config]*Resolver
	closed bool
}

// NewSet creates the resolver set of loop l. Loop goroutine (or before
// the loop runs).
func NewSet(l *eventloop.Loop, o Options) *Set {
	s := &Set{l: l, cache: o.Cache, logf: o.Logf, debug: o.Debug,
		cores: make(map[string]*instance), views: make(map[*Config]*Resolver)}
	if s.cache == nil {
		s.cache = NewCache(nil)
	}
	if s.logf == nil {
		s.logf = func(int, string, ...any) {}
	}
	if s.debug == nil {
		s.debug = func() bool { return false }
	}
	return s
}

// Resolver returns the loop's resolver for cfg, creating it on first
// use; sockets are opened when the first query is sent. Names other than
// literal addresses fail with ErrNoResolver when cfg has no server. Loop
// goroutine only.
func (s *Set) Resolver(cfg *Config) *Resolver {
	if r := s.views[cfg]; r != nil {
		return r
	}
	k := cfg.key()
	if cfg.resend > 0 {
		k += " resend=" + cfg.resend.String()
	}
	c := s.cores[k]
	if c == nil {
		c = &instance{set: s, cfg: cfg, key: k, nodes: make(map[string]*node)}
		for _, srv := range cfg.Servers {
			c.srv = append(c.srv, &nameServer{c: c, s: srv, dial: srv.Addr.String()})
		}
		s.cores[k] = c
	}
	r := &Resolver{c: c, cfg: cfg}
	s.views[cfg] = r
	return r
}

// Close closes the set's sockets and drops the queries in flight; their
// requesters are not called back (nginx frees them silently too). Later
// requests fail with ErrClosed. Loop goroutine only.
func (s *Set) Close() {
	if s.closed {
		return
	}
	s.closed = true
	for _, c := range s.cores {
		c.close()
	}
}

// Resolver resolves names for one configuration on one loop. All methods
// run on the loop goroutine.
type Resolver struct {
	c   *instance
	cfg *Config
}

// Config returns the configuration the resolver was made for. Loop
// goroutine only.
func (r *Resolver) Config() *Config { return r.cfg }

// Answer is the outcome of a resolution.
type Answer struct {
	// Addrs are the addresses, IPv4 ones first for a fresh answer and
	// rotated at random for a cached one, as nginx hands them out. The
	// slice may be shared between the requesters of one query: read it,
	// keep it, do not modify it.
	Addrs []netip.Addr
	// Valid is when the answer stops being valid: the TTL (or valid=)
	// from the moment it arrived, or for a failure 10 seconds (or valid=)
	// from now. Zero for a literal address and for a timeout.
	Valid time.Time
	// Err is nil, an *Error, ErrNoResolver or ErrClosed.
	Err error
}

// Resolve resolves name with the configuration's resolver_timeout and
// calls cb with the addresses or an *Error, once. A literal IP address, a
// cached answer and a name nginx refuses to ask for are answered before
// Resolve returns (then the result is nil); otherwise cb runs later on
// the loop and the returned Request can cancel it. The hosts file is not
// consulted, as in nginx. Loop goroutine only.
func (r *Resolver) Resolve(name string, cb func(addrs []netip.Addr, err error)) *Request {
	return r.lookup(name, r.cfg.Timeout, nil, cb)
}

// Lookup is Resolve with an explicit timeout (zero: none) and the whole
// Answer, for callers that need its validity (periodic re-resolution).
// Loop goroutine only.
func (r *Resolver) Lookup(name string, timeout time.Duration, cb func(Answer)) *Request {
	return r.lookup(name, timeout, cb, nil)
}

func (r *Resolver) lookup(name string, timeout time.Duration, cb func(Answer), cbe func([]netip.Addr, error)) *Request {
	if a, ok := literal(name); ok {
		deliver(cb, cbe, Answer{Addrs: []netip.Addr{a}})
		return nil
	}
	// nginx drops one trailing dot, and its lowercasing happens in place,
	// so the name in messages is the lowercased one.
	if n := len(name); n > 0 && name[n-1] == '.' {
		name = name[:n-1]
	}
	name = lower(name)
	c := r.c
	if !c.set.closed {
		// The common case first, without allocating a Request.
		if e, ok := c.set.cache.get(c.key, name, c.set.cache.sec()); ok && len(e.v4)+len(e.v6) > 0 {
			deliver(cb, cbe, Answer{Addrs: export(e.v4, e.v6, true), Valid: time.Unix(e.valid, 0)})
			c.nameDone(0)
			return nil
		}
	}
	q := &Request{c: c, name: name, cb: cb, cbe: cbe, timeout: timeout}
	if c.set.closed {
		q.finish(Answer{Err: ErrClosed})
		return nil
	}
	if len(c.srv) == 0 {
		q.finish(Answer{Err: ErrNoResolver})
		return nil
	}
	c.resolve(q, name)
	if q.done {
		return nil
	}
	return q
}

func deliver(cb func(Answer), cbe func([]netip.Addr, error), a Answer) {
	if cb != nil {
		cb(a)
		return
	}
	cbe(a.Addrs, a.Err)
}

// literal recognises the names that need no query: an IPv4 address as
// nginx reads one, or an IPv6 address with or without brackets.
func literal(name string) (netip.Addr, bool) {
	if a, ok := inetAddr(name); ok {
		return a, true
	}
	if strings.IndexByte(name, ':') < 0 {
		// Not IPv6; and ParseAddr's error would cost an allocation.
		return netip.Addr{}, false
	}
	s := name
	if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
		s = s[1 : len(s)-1]
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Is6() && a.Zone() == "" {
		return a, true
	}
	return netip.Addr{}, false
}

// lower is ngx_strlow: ASCII letters only, without allocating when the
// name is lowercase already.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// Request is a resolution in progress. Loop goroutine only.
type Request struct {
	c         *instance
	name      string
	cb        func(Answer)
	cbe       func([]netip.Addr, error)
	node      *node
	timer     *eventloop.Timer
	timeout   time.Duration
	recursion int
	done      bool
}

// Cancel gives up the request: its callback will not run. The query
// itself goes on for any other requester and still fills the cache.
// Safe on a nil or finished Request. Loop goroutine only.
func (q *Request) Cancel() {
	if q == nil || q.done {
		return
	}
	q.done = true
	if q.timer != nil {
		q.timer.Stop()
	}
	q.detach()
	q.c.nameDone(-2) // NGX_AGAIN: still pending
}

// detach removes q from the waiters of its query.
func (q *Request) detach() {
	n := q.node
	if n == nil {
		return
	}
	q.node = nil
	for i, w := range n.waiting {
		if w == q {
			copy(n.waiting[i:], n.waiting[i+1:])
			n.waiting[len(n.waiting)-1] = nil
			n.waiting = n.waiting[:len(n.waiting)-1]
			break
		}
	}
	q.c.syncIdle()
}

// arm starts the request's resolver_timeout the first time it has to
// wait; following a CNAME keeps the original deadline.
func (q *Request) arm() {
	if q.timer != nil || q.timeout <= 0 {
		return
	}
	q.timer = q.c.set.l.AfterFunc(q.timeout, q.timedOut)
}

func (q *Request) timedOut() {
	if q.done {
		return
	}
	q.detach()
	q.finish(Answer{Err: &Error{Name: q.name, Code: TimedOut}})
}

func (q *Request) finish(a Answer) {
	q.done = true
	q.node = nil
	if q.timer != nil {
		q.timer.Stop()
	}
	deliver(q.cb, q.cbe, a)
	if a.Err == ErrNoResolver || a.Err == ErrClosed {
		return // nothing was resolved
	}
	state := 0
	if e, ok := a.Err.(*Error); ok {
		state = e.Code
	}
	q.c.nameDone(state)
}

func (q *Request) fail(code int, now int64) {
	q.finish(Answer{Err: &Error{Name: q.name, Code: code}, Valid: time.Unix(now+q.c.errorValid(), 0)})
}

// node is a query in flight on one loop: the A query and, with ipv6=on,
// the AAAA query for one name, sent together and answered separately.
type node struct {
	name         string
	q4, q6       []byte // q6 is nil with ipv6=off
	pend4, pend6 bool   // no answer of that type yet
	tcp4, tcp6   bool   // that query went over TCP after a truncated answer
	v4, v6       []netip.Addr
	code         int    // the error of the type answered first
	ttl          uint32 // smallest TTL of both answers
	conn         int    // the server the queries go to
	waiting      []*Request
	timer        *eventloop.Timer // resend
}

// instance is what equal configurations share on one loop.
type instance struct {
	set   *Set
	cfg   *Config
	key   string
	srv   []*nameServer
	last  int // the server the next new query goes to
	nodes map[string]*node
	idle  bool
}

func (c *instance) logf(level int, format string, args ...any) { c.set.logf(level, format, args...) }

// nameDone is the debug line of ngx_resolve_name_done, which nginx's
// requesters call once they have their answer or give up waiting (state
// is then NGX_AGAIN).
func (c *instance) nameDone(state int) {
	if c.set.debug() {
		c.logf(eventloop.LogDebug, "resolve name done: %d", state)
	}
}

func (c *instance) validFor(ttl uint32) int64 {
	if v := int64(c.cfg.Valid / time.Second); v != 0 {
		return v
	}
	return int64(ttl)
}

func (c *instance) errorValid() int64 {
	if v := int64(c.cfg.Valid / time.Second); v != 0 {
		return v
	}
	return errorValid
}

// resolve answers q from the cache, joins the query in flight for name,
// or starts one (ngx_resolve_name_locked).
func (c *instance) resolve(q *Request, name string) {
	if c.set.closed {
		// A callback closed the set while aliases were being followed.
		q.finish(Answer{Err: ErrClosed})
		return
	}
	cache := c.set.cache
	now := cache.sec()
	for {
		e, ok := cache.get(c.key, name, now)
		if !ok {
			break
		}
		if len(e.v4)+len(e.v6) > 0 {
			q.finish(Answer{Addrs: export(e.v4, e.v6, true), Valid: time.Unix(e.valid, 0)})
			return
		}
		if q.recursion >= maxRecursion {
			q.fail(NXDomain, now)
			return
		}
		q.recursion++
		name = e.cname
	}
	if n := c.nodes[name]; n != nil {
		if len(n.waiting) > 0 {
			q.arm()
			q.node = n
			n.waiting = append(n.waiting, q)
			return
		}
		// Nobody waits for that query any more; nginx starts over with
		// fresh ids rather than trust its late answer.
		c.remove(n)
	}
	n := c.newNode(name)
	if n == nil {
		q.fail(NXDomain, now)
		return
	}
	c.nodes[name] = n
	n.conn = c.last
	if c.last++; c.last == len(c.srv) {
		c.last = 0
	}
	if !c.send(n) {
		// One immediate retry on the next server, as nginx.
		if n.conn++; n.conn == len(c.srv) {
			n.conn = 0
		}
		c.send(n)
	}
	q.arm()
	n.timer = c.set.l.AfterFunc(c.cfg.resendTimeout(), func() { c.resend(n) })
	q.node = n
	n.waiting = append(n.waiting, q)
	c.syncIdle()
}

func (c *instance) newNode(name string) *node {
	q4, ok := buildQuery(name, uint16(rand.Uint32()), typeA)
	if !ok {
		return nil
	}
	n := &node{name: name, q4: q4, pend4: true, ttl: ^uint32(0)}
	if c.cfg.IPv6 {
		n.q6 = append([]byte(nil), q4...)
		setQueryID(n.q6, uint16(rand.Uint32()))
		n.q6[len(n.q6)-3] = typeAAAA
		n.pend6 = true
	}
	return n
}

// remove forgets a query in flight.
func (c *instance) remove(n *node) {
	if c.nodes[n.name] == n {
		delete(c.nodes, n.name)
	}
	if n.timer != nil {
		n.timer.Stop()
	}
	n.waiting = nil
	c.syncIdle()
}

// send sends the unanswered queries of n to its current server.
func (c *instance) send(n *node) bool {
	ns := c.srv[n.conn]
	if n.pend4 && !ns.send(n.q4, n.tcp4) {
		return false
	}
	if n.q6 != nil && n.pend6 && !ns.send(n.q6, n.tcp6) {
		return false
	}
	return true
}

// resend runs when an attempt timed out: the queries go to the next
// server, or are dropped when nobody waits any more.
func (c *instance) resend(n *node) {
	if len(n.waiting) == 0 {
		c.remove(n)
		return
	}
	if n.conn++; n.conn == len(c.srv) {
		n.conn = 0
	}
	c.send(n)
	n.timer.Reset(c.cfg.resendTimeout())
}

// syncIdle marks the sockets idle while no query is awaited, so that a
// gracefully stopping loop does not wait for them (nginx's resolver
// connections do not hold a worker either).
func (c *instance) syncIdle() {
	idle := true
	for _, n := range c.nodes {
		if len(n.waiting) > 0 {
			idle = false
			break
		}
	}
	if idle == c.idle {
		return
	}
	c.idle = idle
	for _, ns := range c.srv {
		ns.setIdle(idle)
	}
}

func (c *instance) close() {
	for _, n := range c.nodes {
		if n.timer != nil {
			n.timer.Stop()
		}
		for _, q := range n.waiting {
			q.done = true
			q.node = nil
			if q.timer != nil {
				q.timer.Stop()
			}
		}
		n.waiting = nil
	}
	clear(c.nodes)
	for _, ns := range c.srv {
		ns.close()
	}
}

// export lays out an answer's addresses as ngx_resolver_export: IPv4
// then IPv6 for a fresh answer; for a cached one, both lists start at a
// random element and are placed from a random position, wrapping, so
// that successive requesters spread over the addresses.
func export(v4, v6 []netip.Addr, rotate bool) []netip.Addr {
	n := len(v4) + len(v6)
	out := make([]netip.Addr, n)
	if !rotate || n == 1 {
		copy(out, v4)
		copy(out[len(v4):], v6)
		return out
	}
	d := rand.IntN(n)
	place := func(src []netip.Addr) {
		if len(src) == 0 {
			return
		}
		j := rand.IntN(len(src))
		for range src {
			out[d] = src[j]
			if d++; d == n {
				d = 0
			}
			if j++; j == len(src) {
				j = 0
			}
		}
	}
	place(v4)
	place(v6)
	return out
}

// onResponse handles one DNS message from a name server
// (ngx_resolver_process_response and ngx_resolver_process_a). b is only
// read during the call.
func (c *instance) onResponse(b []byte, tcp bool) {
	h, st, msg := parseHead(b, tcp)
	switch st {
	case headLog:
		c.logf(eventloop.LogErr, "%s", msg)
		return
	case headDNSErr:
		if h.code == FormErr {
			// Name the query the server could not parse, if it is ours.
			i := 0
			for _, n := range c.nodes {
				if i++; i > 100 {
					break
				}
				if queryID(n.q4) == h.ident || (n.q6 != nil && queryID(n.q6) == h.ident) {
					c.logf(eventloop.LogErr, "DNS error (%d: %s), query id:%d, name:\"%s\"", h.code, Strerror(h.code), h.ident, n.name)
					return
				}
			}
		}
		c.logf(eventloop.LogErr, "DNS error (%d: %s), query id:%d", h.code, Strerror(h.code), h.ident)
		return
	case headUnknown:
		c.logf(eventloop.LogErr, "unexpected DNS response for %s", h.name)
		return
	}
	n := c.nodes[h.name]
	if n == nil {
		c.logf(eventloop.LogErr, "unexpected DNS response for %s", h.name)
		return
	}
	six := h.qtype == typeAAAA
	var q []byte
	if six {
		if n.q6 == nil || !n.pend6 {
			c.logf(eventloop.LogErr, "unexpected DNS response for %s", h.name)
			return
		}
		if h.trunc && n.tcp6 {
			return
		}
		q = n.q6
	} else {
		if !n.pend4 {
			c.logf(eventloop.LogErr, "unexpected DNS response for %s", h.name)
			return
		}
		if h.trunc && n.tcp4 {
			return
		}
		q = n.q4
	}
	if id := queryID(q); h.ident != id {
		c.logf(eventloop.LogErr, "wrong ident %d in DNS response for %s, expect %d", h.ident, h.name, id)
		return
	}
	if h.trunc {
		// Ask the same server again over TCP.
		if len(n.waiting) == 0 {
			c.remove(n)
			return
		}
		if six {
			n.tcp6 = true
		} else {
			n.tcp4 = true
		}
		c.srv[n.conn].send(q, true)
		n.timer.Reset(c.cfg.resendTimeout())
		return
	}
	now := c.set.cache.sec()
	code := h.code
	if code == 0 && n.code != 0 {
		code = n.code
	}
	if code == 0 && h.nan == 0 {
		// No records of this type: wait for the other type, or answer
		// with what it brought, or fail as nginx does with "Host not
		// found".
		n.setAnswered(six, nil)
		if n.pend4 || n.pend6 {
			return
		}
		if len(n.v4)+len(n.v6) > 0 {
			c.succeed(n, now)
			return
		}
		code = NXDomain
	}
	if code != 0 {
		n.setAnswered(six, nil)
		if n.pend4 || n.pend6 {
			n.code = code
			return
		}
		c.failAll(n, code, now)
		return
	}
	a := parseAnswers(b, h.ansOff, h.nan, h.qtype)
	if a.sawTTL {
		n.ttl = min(n.ttl, a.ttl)
	}
	for _, note := range a.notes {
		c.logf(eventloop.LogErr, "%s", note)
	}
	if a.msg != "" {
		c.logf(eventloop.LogErr, "%s", a.msg)
		return
	}
	n.setAnswered(six, a.addrs)
	if len(a.addrs) > 0 && (n.pend4 || n.pend6) {
		return
	}
	if !n.pend4 && !n.pend6 && len(n.v4)+len(n.v6) > 0 {
		c.succeed(n, now)
		return
	}
	if a.cnameOff >= 0 {
		if n.pend4 || n.pend6 {
			return
		}
		target, msg := readName(b, a.cnameOff)
		if msg != "" {
			c.logf(eventloop.LogErr, "%s", msg)
			return
		}
		c.followCNAME(n, target, now)
		return
	}
	c.logf(eventloop.LogErr, "no A or CNAME types in DNS response")
}

func (n *node) setAnswered(six bool, addrs []netip.Addr) {
	if six {
		n.pend6 = false
		n.v6 = addrs
	} else {
		n.pend4 = false
		n.v4 = addrs
	}
}

// succeed caches n's addresses and hands them to its waiters.
func (c *instance) succeed(n *node, now int64) {
	valid := now + c.validFor(n.ttl)
	c.set.cache.put(c.key, n.name, entry{v4: n.v4, v6: n.v6, valid: valid}, now)
	waiting := n.waiting
	c.remove(n)
	if len(waiting) == 0 {
		return
	}
	a := Answer{Addrs: export(n.v4, n.v6, false), Valid: time.Unix(valid, 0)}
	for _, q := range waiting {
		if !q.done {
			q.finish(a)
		}
	}
}

// failAll reports an error to n's waiters; nginx caches no failure.
func (c *instance) failAll(n *node, code int, now int64) {
	waiting := n.waiting
	c.remove(n)
	for _, q := range waiting {
		if !q.done {
			q.fail(code, now)
		}
	}
}

// followCNAME caches that n's name is an alias and resolves the target
// for its waiters.
func (c *instance) followCNAME(n *node, target string, now int64) {
	c.set.cache.put(c.key, n.name, entry{cname: target, valid: now + c.validFor(n.ttl)}, now)
	waiting := n.waiting
	c.remove(n)
	for _, q := range waiting {
		if q.done {
			continue
		}
		q.node = nil
		if q.recursion >= maxRecursion {
			q.fail(NXDomain, now)
			continue
		}
		q.recursion++
		c.resolve(q, target)
	}
}
