//go:build linux

package resolver

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"gresty/eventloop"
)

// testServer is a name server on 127.0.0.1 speaking UDP and TCP on one
// port. It answers from a small zone and counts the questions it got.
type testServer struct {
	t    testing.TB
	addr netip.AddrPort

	mu      sync.Mutex
	rrs     map[string][]dns.RR // key: "name./TYPE", owner names lowercase
	rcode   map[string]int      // name. -> response code for every type
	trunc   map[string]bool     // name. -> UDP answers are truncated
	silent  bool                // never answer
	mute    map[string]bool     // name. -> never answer
	raw     func(req *dns.Msg, tcp bool) []byte
	hits    map[string]int // "name./TYPE/udp" -> questions
	queries []*dns.Msg
}

// startServer starts a test name server, stopped at cleanup.
func startServer(t testing.TB) *testServer {
	t.Helper()
	s := &testServer{t: t, rrs: map[string][]dns.RR{}, rcode: map[string]int{},
		trunc: map[string]bool{}, mute: map[string]bool{}, hits: map[string]int{}}
	var pc net.PacketConn
	var ln net.Listener
	for try := 0; ; try++ {
		var err error
		pc, err = net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ln, err = net.Listen("tcp4", pc.LocalAddr().String())
		if err == nil {
			break
		}
		pc.Close()
		if try == 10 {
			t.Fatal(err)
		}
	}
	s.addr = pc.LocalAddr().(*net.UDPAddr).AddrPort()
	us := &dns.Server{PacketConn: pc, Handler: s}
	ts := &dns.Server{Listener: ln, Handler: s}
	started := make(chan struct{}, 2)
	us.NotifyStartedFunc = func() { started <- struct{}{} }
	ts.NotifyStartedFunc = func() { started <- struct{}{} }
	go us.ActivateAndServe()
	go ts.ActivateAndServe()
	<-started
	<-started
	t.Cleanup(func() {
		us.Shutdown()
		ts.Shutdown()
	})
	return s
}

// add adds records in zone-file syntax, e.g. "a.test. 60 IN A 192.0.2.1".
func (s *testServer) add(lines ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			s.t.Fatalf("bad record %q: %v", l, err)
		}
		h := rr.Header()
		k := strings.ToLower(h.Name) + "/" + dns.TypeToString[h.Rrtype]
		s.rrs[k] = append(s.rrs[k], rr)
	}
}

func (s *testServer) set(f func(s *testServer)) {
	s.mu.Lock()
	f(s)
	s.mu.Unlock()
}

// count returns how many questions for name ("a.test.") of type
// ("A", "AAAA") came over proto ("udp", "tcp", "" for both).
func (s *testServer) count(name, typ, proto string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if proto == "" {
		return s.hits[name+"/"+typ+"/udp"] + s.hits[name+"/"+typ+"/tcp"]
	}
	return s.hits[name+"/"+typ+"/"+proto]
}

// ServeDNS answers one question.
func (s *testServer) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	tcp := w.RemoteAddr().Network() == "tcp"
	proto := "udp"
	if tcp {
		proto = "tcp"
	}
	s.mu.Lock()
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.hits[name+"/"+dns.TypeToString[q.Qtype]+"/"+proto]++
	s.queries = append(s.queries, req.Copy())
	silent, raw := s.silent || s.mute[name], s.raw
	m := new(dns.Msg)
	m.SetReply(req)
	m.RecursionAvailable = true
	if rc, ok := s.rcode[name]; ok {
		m.Rcode = rc
	} else if s.trunc[name] && !tcp {
		m.Truncated = true
	} else {
		for _, rr := range s.rrs[name+"/CNAME"] {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
		for _, rr := range s.rrs[name+"/"+dns.TypeToString[q.Qtype]] {
			m.Answer = append(m.Answer, dns.Copy(rr))
		}
	}
	s.mu.Unlock()
	if silent {
		return
	}
	if raw != nil {
		if b := raw(req, tcp); b != nil {
			w.Write(b)
		}
		return
	}
	w.WriteMsg(m)
}

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// logLines collects log lines from any goroutine.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (r *logLines) logf(level int, format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf("%d %s", level, fmt.Sprintf(format, args...)))
	r.mu.Unlock()
}

func (r *logLines) has(s string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func (r *logLines) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// env is a running loop with a resolver set on it.
type env struct {
	t     testing.TB
	l     *eventloop.Loop
	set   *Set
	cache *Cache
	clock *fakeClock
	log   *logLines
}

// newEnv starts a loop with a Set using cache (nil: a new one on a fake
// clock), stopped at cleanup.
func newEnv(t testing.TB, cache *Cache) *env {
	t.Helper()
	e := &env{t: t, log: &logLines{}}
	if cache == nil {
		e.clock = newClock()
		cache = NewCache(e.clock.now)
	}
	e.cache = cache
	l, err := eventloop.New(eventloop.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e.l = l
	go l.Run()
	e.set = NewSet(l, Options{Cache: cache, Logf: e.log.logf})
	t.Cleanup(func() {
		e.do(func() { e.set.Close() })
		l.Stop()
		<-l.Done()
	})
	return e
}

// do runs f on the loop and waits for it.
func (e *env) do(f func()) {
	done := make(chan struct{})
	if !e.l.Post(func() { f(); close(done) }) {
		return
	}
	<-done
}

// config returns a Config for servers with short attempts, so that
// retries happen within a test's time budget.
func config(servers ...*testServer) *Config {
	c := &Config{IPv6: true, Timeout: 2 * time.Second, resend: 100 * time.Millisecond}
	for _, s := range servers {
		c.Servers = append(c.Servers, Server{Addr: s.addr, Name: s.addr.String()})
	}
	return c
}

// result is one callback's arguments.
type result struct {
	Answer
	sync bool // called before Lookup returned
}

// lookup starts a resolution on the loop and returns a channel that
// receives its result.
func (e *env) lookup(cfg *Config, name string) <-chan result {
	ch := make(chan result, 1)
	e.do(func() {
		returned := false
		e.set.Resolver(cfg).Lookup(name, cfg.Timeout, func(a Answer) {
			ch <- result{Answer: a, sync: !returned}
		})
		returned = true
	})
	return ch
}

// resolve resolves name and waits for the result.
func (e *env) resolve(cfg *Config, name string) result {
	e.t.Helper()
	return e.wait(e.lookup(cfg, name))
}

func (e *env) wait(ch <-chan result) result {
	e.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(10 * time.Second):
		e.t.Fatalf("no answer; log:\n%s", e.log)
	}
	return result{}
}
