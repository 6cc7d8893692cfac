//go:build linux

package resolver

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"gresty/eventloop"
)

func TestResolveAddresses(t *testing.T) {
	srv := startServer(t)
	srv.add(
		"both.test. 60 IN A 192.0.2.1",
		"both.test. 60 IN A 192.0.2.2",
		"both.test. 60 IN AAAA 2001:db8::1",
		"v4.test. 60 IN A 192.0.2.4",
		"v6.test. 60 IN AAAA 2001:db8::6",
	)
	tests := []struct {
		name  string
		ipv6  bool
		want  []netip.Addr
		err   string
		aaaaQ int // AAAA questions the server should see
	}{
		{"both.test", true, addrs("192.0.2.1", "192.0.2.2", "2001:db8::1"), "", 1},
		{"v4.test", true, addrs("192.0.2.4"), "", 1},
		{"v6.test", true, addrs("2001:db8::6"), "", 1},
		// ipv6=off asks only for A records.
		{"both.test", false, addrs("192.0.2.1", "192.0.2.2"), "", 0},
		{"v6.test", false, nil, "v6.test could not be resolved (3: Host not found)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name+map[bool]string{true: "/ipv6", false: "/ipv4"}[tt.ipv6], func(t *testing.T) {
			e := newEnv(t, nil)
			cfg := config(srv)
			cfg.IPv6 = tt.ipv6
			before := srv.count(tt.name+".", "AAAA", "")
			r := e.resolve(cfg, tt.name)
			if errText(r.Err) != tt.err || !slices.Equal(r.Addrs, tt.want) {
				t.Fatalf("got %v %v, want %v %q", r.Addrs, r.Err, tt.want, tt.err)
			}
			if r.sync {
				t.Error("a query's answer was delivered synchronously")
			}
			if got := srv.count(tt.name+".", "AAAA", "") - before; got != tt.aaaaQ {
				t.Errorf("AAAA questions: %d, want %d", got, tt.aaaaQ)
			}
		})
	}
}

func TestQueryBytes(t *testing.T) {
	srv := startServer(t)
	srv.add("q.test. 60 IN A 192.0.2.1")
	e := newEnv(t, nil)
	e.resolve(config(srv), "Q.Test.")
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.queries) != 2 {
		t.Fatalf("%d queries", len(srv.queries))
	}
	ids := map[uint16]bool{}
	for _, q := range srv.queries {
		if !q.RecursionDesired || len(q.Question) != 1 || q.Question[0].Name != "q.test." ||
			len(q.Extra) != 0 || q.Question[0].Qclass != dns.ClassINET {
			t.Errorf("query %v", q)
		}
		ids[q.Id] = true
	}
	if len(ids) != 2 {
		t.Errorf("A and AAAA queries share an id")
	}
}

func TestLiteralsAndNames(t *testing.T) {
	srv := startServer(t)
	e := newEnv(t, nil)
	cfg := config(srv)
	tests := []struct {
		name string
		want []netip.Addr
		err  string
	}{
		{"127.0.0.1", addrs("127.0.0.1"), ""},
		{"010.0.0.1", addrs("10.0.0.1"), ""}, // leading zeros are decimal, as ngx_inet_addr
		{"::1", addrs("::1"), ""},
		{"[2001:db8::1]", addrs("2001:db8::1"), ""},
		// nginx declines to ask for these and reports "Host not found".
		{"", nil, " could not be resolved (3: Host not found)"},
		{".", nil, " could not be resolved (3: Host not found)"},
		{"a..test", nil, "a..test could not be resolved (3: Host not found)"},
		{"Bad..Name.", nil, "bad..name could not be resolved (3: Host not found)"},
	}
	for _, tt := range tests {
		r := e.resolve(cfg, tt.name)
		if errText(r.Err) != tt.err || !slices.Equal(r.Addrs, tt.want) {
			t.Errorf("%q: got %v %q, want %v %q", tt.name, r.Addrs, errText(r.Err), tt.want, tt.err)
		}
		if !r.sync {
			t.Errorf("%q: not answered synchronously", tt.name)
		}
	}
	srv.mu.Lock()
	n := len(srv.queries)
	srv.mu.Unlock()
	if n != 0 {
		t.Errorf("%d queries sent for literals", n)
	}
}

func TestCacheTTL(t *testing.T) {
	srv := startServer(t)
	srv.add(
		"ttl.test. 2 IN A 192.0.2.1",
		"ttl.test. 5 IN AAAA 2001:db8::1",
		"zero.test. 0 IN A 192.0.2.9",
	)
	tests := []struct {
		name  string
		valid time.Duration
		steps []struct {
			after   time.Duration
			queried bool
		}
	}{
		// The smallest TTL of both answers counts, in whole seconds and
		// inclusive: TTL 2 is still good two seconds later.
		{"ttl.test", 0, []struct {
			after   time.Duration
			queried bool
		}{{0, true}, {0, false}, {2 * time.Second, false}, {time.Second, true}, {0, false}}},
		// valid= overrides the TTL.
		{"ttl.test", 10 * time.Second, []struct {
			after   time.Duration
			queried bool
		}{{0, true}, {5 * time.Second, false}, {5 * time.Second, false}, {time.Second, true}}},
		// TTL 0 is cached for the rest of the second, as in nginx.
		{"zero.test", 0, []struct {
			after   time.Duration
			queried bool
		}{{0, true}, {0, false}, {time.Second, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.valid.String(), func(t *testing.T) {
			e := newEnv(t, nil)
			cfg := config(srv)
			cfg.Valid = tt.valid
			for i, st := range tt.steps {
				e.clock.advance(st.after)
				before := srv.count(tt.name+".", "A", "")
				r := e.resolve(cfg, tt.name)
				if r.Err != nil || len(r.Addrs) == 0 {
					t.Fatalf("step %d: %v %v", i, r.Addrs, r.Err)
				}
				if got := srv.count(tt.name+".", "A", "") > before; got != st.queried {
					t.Fatalf("step %d: queried %v, want %v", i, got, st.queried)
				}
				if r.sync == st.queried {
					t.Errorf("step %d: sync %v for queried %v", i, r.sync, st.queried)
				}
			}
		})
	}
}

func TestValidReported(t *testing.T) {
	srv := startServer(t)
	srv.add("v.test. 300 IN A 192.0.2.1", "v.test. 100 IN AAAA 2001:db8::1")
	srv.set(func(s *testServer) { s.rcode["nx.test."] = dns.RcodeNameError })
	e := newEnv(t, nil)
	now := e.clock.now()
	cfg := config(srv)
	if r := e.resolve(cfg, "v.test"); !r.Valid.Equal(now.Add(100 * time.Second)) {
		t.Errorf("valid %v, want TTL 100 from %v", r.Valid, now)
	}
	if r := e.resolve(cfg, "nx.test"); !r.Valid.Equal(now.Add(10 * time.Second)) {
		t.Errorf("failure valid %v, want 10s from %v", r.Valid, now)
	}
	cfg2 := config(srv)
	cfg2.Valid = 42 * time.Second
	if r := e.resolve(cfg2, "nx.test"); !r.Valid.Equal(now.Add(42 * time.Second)) {
		t.Errorf("failure valid %v with valid=42s", r.Valid)
	}
	if r := e.resolve(cfg, "127.0.0.1"); !r.Valid.IsZero() {
		t.Errorf("literal valid %v", r.Valid)
	}
}

func TestErrors(t *testing.T) {
	srv := startServer(t)
	srv.add("partial.test. 60 IN A 192.0.2.1", "nodata.test. 60 IN TXT \"x\"")
	srv.set(func(s *testServer) {
		s.rcode["nx.test."] = dns.RcodeNameError
		s.rcode["servfail.test."] = dns.RcodeServerFailure
		s.rcode["refused.test."] = dns.RcodeRefused
		s.rcode["notimp.test."] = dns.RcodeNotImplemented
	})
	tests := []struct {
		name string
		ipv6 bool
		err  string
	}{
		{"nx.test", true, "nx.test could not be resolved (3: Host not found)"},
		{"NX.Test.", true, "nx.test could not be resolved (3: Host not found)"},
		{"servfail.test", true, "servfail.test could not be resolved (2: Server failure)"},
		{"refused.test", false, "refused.test could not be resolved (5: Operation refused)"},
		{"notimp.test", false, "notimp.test could not be resolved (4: Unimplemented)"},
		// Neither type has records: nginx calls that "Host not found".
		{"empty.test", true, "empty.test could not be resolved (3: Host not found)"},
		{"partial.test", true, ""},
		// The hosts file is not consulted at request time.
		{"localhost", true, "localhost could not be resolved (3: Host not found)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			cfg := config(srv)
			cfg.IPv6 = tt.ipv6
			r := e.resolve(cfg, tt.name)
			if errText(r.Err) != tt.err {
				t.Fatalf("got %v %q, want %q", r.Addrs, errText(r.Err), tt.err)
			}
			if r.Err != nil {
				var re *Error
				if re, _ = r.Err.(*Error); re == nil || re.Timeout() {
					t.Errorf("error %T %v", r.Err, r.Err)
				}
			}
		})
	}
}

// A failed answer is not cached: nginx 1.22 asks again every time.
func TestFailureNotCached(t *testing.T) {
	srv := startServer(t)
	srv.set(func(s *testServer) { s.rcode["nx.test."] = dns.RcodeNameError })
	e := newEnv(t, nil)
	cfg := config(srv)
	cfg.IPv6 = false
	for i := 1; i <= 3; i++ {
		r := e.resolve(cfg, "nx.test")
		if r.Err == nil || r.sync {
			t.Fatalf("try %d: %v sync=%v", i, r.Err, r.sync)
		}
		if got := srv.count("nx.test.", "A", ""); got != i {
			t.Fatalf("try %d: %d questions", i, got)
		}
	}
}

// A SERVFAIL for one type fails the name even when the other type has
// addresses, in either order of arrival, as in nginx.
func TestOneTypeFails(t *testing.T) {
	srv := startServer(t)
	srv.set(func(s *testServer) {
		s.raw = func(req *dns.Msg, tcp bool) []byte {
			m := new(dns.Msg)
			m.SetReply(req)
			if req.Question[0].Qtype == dns.TypeAAAA {
				m.Rcode = dns.RcodeServerFailure
			} else {
				rr, _ := dns.NewRR(req.Question[0].Name + " 60 IN A 192.0.2.1")
				m.Answer = append(m.Answer, rr)
			}
			b, _ := m.Pack()
			return b
		}
	})
	e := newEnv(t, nil)
	r := e.resolve(config(srv), "mixed.test")
	if want := "mixed.test could not be resolved (2: Server failure)"; errText(r.Err) != want {
		t.Fatalf("got %v %v", r.Addrs, r.Err)
	}
}

func TestTimeoutAndRotation(t *testing.T) {
	dead1, dead2, live := startServer(t), startServer(t), startServer(t)
	dead1.set(func(s *testServer) { s.silent = true })
	dead2.set(func(s *testServer) { s.silent = true })
	live.add("r.test. 60 IN A 192.0.2.1")

	t.Run("rotate", func(t *testing.T) {
		e := newEnv(t, nil)
		cfg := config(dead1, live)
		cfg.IPv6 = false
		start := time.Now()
		r := e.resolve(cfg, "r.test")
		if r.Err != nil || !slices.Equal(r.Addrs, addrs("192.0.2.1")) {
			t.Fatalf("got %v %v", r.Addrs, r.Err)
		}
		if d := time.Since(start); d < cfg.resend {
			t.Errorf("answered after %v, before the first attempt timed out", d)
		}
		if dead1.count("r.test.", "A", "") != 1 || live.count("r.test.", "A", "") != 1 {
			t.Errorf("questions: dead %d, live %d", dead1.count("r.test.", "A", ""), live.count("r.test.", "A", ""))
		}
		// The next new query starts at the next server: the live one.
		r = e.resolve(cfg, "r2.test")
		if errText(r.Err) != "r2.test could not be resolved (3: Host not found)" {
			t.Fatalf("r2: %v %v", r.Addrs, r.Err)
		}
		if dead1.count("r2.test.", "A", "") != 0 {
			t.Errorf("second query went to the first server first")
		}
	})

	t.Run("refused", func(t *testing.T) {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		closed := pc.LocalAddr().(*net.UDPAddr).AddrPort()
		pc.Close()
		e := newEnv(t, nil)
		cfg := config(live)
		cfg.Servers = append([]Server{{Addr: closed, Name: closed.String()}}, cfg.Servers...)
		r := e.resolve(cfg, "r.test")
		if r.Err != nil || !slices.Equal(r.Addrs, addrs("192.0.2.1")) {
			t.Fatalf("got %v %v", r.Addrs, r.Err)
		}
		ctx := " failed (111: Connection refused) while resolving, resolver: " + closed.String()
		if !e.log.has("recv()"+ctx) && !e.log.has("send()"+ctx) {
			t.Errorf("log:\n%s", e.log)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		e := newEnv(t, nil)
		cfg := config(dead1, dead2)
		cfg.Timeout = 450 * time.Millisecond
		start := time.Now()
		r := e.resolve(cfg, "slow.test")
		d := time.Since(start)
		if want := "slow.test could not be resolved (110: Operation timed out)"; errText(r.Err) != want {
			t.Fatalf("got %v", r.Err)
		}
		if re := r.Err.(*Error); !re.Timeout() {
			t.Error("Timeout() false")
		}
		if d < cfg.Timeout || d > cfg.Timeout+time.Second {
			t.Errorf("timed out after %v, resolver_timeout %v", d, cfg.Timeout)
		}
		// Attempts at 0, 100, 200, 300, 400 ms alternate between the
		// servers, both types each time.
		n1, n2 := dead1.count("slow.test.", "A", ""), dead2.count("slow.test.", "A", "")
		if n1 < 2 || n2 < 2 || n1-n2 > 1 || n2-n1 > 1 {
			t.Errorf("attempts: %d and %d", n1, n2)
		}
		if a1, a2 := dead1.count("slow.test.", "AAAA", ""), dead2.count("slow.test.", "AAAA", ""); a1 != n1 || a2 != n2 {
			t.Errorf("AAAA attempts %d, %d; A attempts %d, %d", a1, a2, n1, n2)
		}
		// With nobody waiting the query stops at its next attempt.
		time.Sleep(3 * cfg.resend)
		m1, m2 := dead1.count("slow.test.", "A", ""), dead2.count("slow.test.", "A", "")
		time.Sleep(3 * cfg.resend)
		if dead1.count("slow.test.", "A", "") != m1 || dead2.count("slow.test.", "A", "") != m2 {
			t.Errorf("attempts go on without requesters")
		}
	})
}

func TestTruncatedToTCP(t *testing.T) {
	srv := startServer(t)
	var lines []string
	for i := 1; i <= 60; i++ {
		lines = append(lines, "big.test. 60 IN A 10.0.0."+strconv.Itoa(i))
	}
	srv.add(lines...)
	srv.add("big.test. 60 IN AAAA 2001:db8::1")
	srv.set(func(s *testServer) { s.trunc["big.test."] = true })
	e := newEnv(t, nil)
	r := e.resolve(config(srv), "big.test")
	if r.Err != nil || len(r.Addrs) != 61 || r.Addrs[0] != netip.MustParseAddr("10.0.0.1") ||
		r.Addrs[60] != netip.MustParseAddr("2001:db8::1") {
		t.Fatalf("got %d addrs %v", len(r.Addrs), r.Err)
	}
	for _, typ := range []string{"A", "AAAA"} {
		if u, c := srv.count("big.test.", typ, "udp"), srv.count("big.test.", typ, "tcp"); u != 1 || c != 1 {
			t.Errorf("%s: udp %d tcp %d", typ, u, c)
		}
	}
	// The TCP connection is reused for the next truncated answer.
	srv.add("big2.test. 60 IN A 10.0.1.1")
	srv.set(func(s *testServer) { s.trunc["big2.test."] = true })
	r = e.resolve(config(srv), "big2.test")
	if r.Err != nil || len(r.Addrs) != 1 {
		t.Fatalf("big2: %v %v", r.Addrs, r.Err)
	}
}

func TestCNAME(t *testing.T) {
	srv := startServer(t)
	srv.add(
		// Answers that carry only the alias, followed by the resolver.
		"a.test. 60 IN CNAME b.test.",
		"b.test. 30 IN CNAME C.test.",
		"c.test. 60 IN A 192.0.2.3",
		"c.test. 60 IN AAAA 2001:db8::3",
		// An answer that carries the alias and the target's addresses.
		"flat.test. 20 IN CNAME target.test.",
		"flat.test. 60 IN A 192.0.2.7",
		// A loop.
		"loop1.test. 60 IN CNAME loop2.test.",
		"loop2.test. 60 IN CNAME loop1.test.",
		"dangling.test. 60 IN CNAME nx.test.",
	)
	srv.set(func(s *testServer) { s.rcode["nx.test."] = dns.RcodeNameError })
	tests := []struct {
		name string
		want []netip.Addr
		err  string
		// questions the server sees for these names
		asked []string
	}{
		{"a.test", addrs("192.0.2.3", "2001:db8::3"), "", []string{"a.test.", "b.test.", "c.test."}},
		{"flat.test", addrs("192.0.2.7"), "", []string{"flat.test."}},
		{"loop1.test", nil, "loop1.test could not be resolved (3: Host not found)", []string{"loop1.test.", "loop2.test."}},
		{"dangling.test", nil, "dangling.test could not be resolved (3: Host not found)", []string{"dangling.test.", "nx.test."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			cfg := config(srv)
			before := map[string]int{}
			for _, n := range tt.asked {
				before[n] = srv.count(n, "A", "")
			}
			r := e.resolve(cfg, tt.name)
			if errText(r.Err) != tt.err || !slices.Equal(r.Addrs, tt.want) {
				t.Fatalf("got %v %q", r.Addrs, errText(r.Err))
			}
			for _, n := range tt.asked {
				if srv.count(n, "A", "") == before[n] {
					t.Errorf("%s was not asked", n)
				}
			}
			if tt.err != "" {
				return
			}
			// The aliases are cached with the chain's TTLs: all of it is
			// answered without a query now.
			r = e.resolve(cfg, tt.name)
			if !r.sync || !slices.Equal(sorted(r.Addrs), sorted(tt.want)) {
				t.Errorf("cached: %v sync=%v", r.Addrs, r.sync)
			}
		})
	}
}

func TestCoalesce(t *testing.T) {
	srv := startServer(t)
	srv.add("c.test. 60 IN A 192.0.2.1")
	e := newEnv(t, nil)
	cfg := config(srv)
	const n = 20
	chans := make([]chan result, n)
	e.do(func() {
		r := e.set.Resolver(cfg)
		for i := range chans {
			ch := make(chan result, 1)
			chans[i] = ch
			// Mixed spelling: one query for the name all the same.
			name := "c.test"
			if i%2 == 1 {
				name = "C.TEST."
			}
			r.Lookup(name, cfg.Timeout, func(a Answer) { ch <- result{Answer: a} })
		}
	})
	for i, ch := range chans {
		if r := e.wait(ch); r.Err != nil || !slices.Equal(r.Addrs, addrs("192.0.2.1")) {
			t.Fatalf("%d: %v %v", i, r.Addrs, r.Err)
		}
	}
	if a, q := srv.count("c.test.", "A", ""), srv.count("c.test.", "AAAA", ""); a != 1 || q != 1 {
		t.Errorf("questions A %d AAAA %d, want 1 each", a, q)
	}
}

func TestCancel(t *testing.T) {
	srv := startServer(t)
	srv.add("x.test. 60 IN A 192.0.2.1")
	hold := make(chan struct{})
	srv.set(func(s *testServer) {
		// Hold the answers until the test has cancelled.
		s.raw = func(req *dns.Msg, tcp bool) []byte {
			<-hold
			return nil
		}
	})
	e := newEnv(t, nil)
	cfg := config(srv)
	cfg.IPv6 = false
	called := make(chan string, 4)
	var keep *Request
	e.do(func() {
		r := e.set.Resolver(cfg)
		q1 := r.Resolve("x.test", func([]netip.Addr, error) { called <- "cancelled" })
		keep = r.Resolve("x.test", func(a []netip.Addr, err error) { called <- "kept " + errText(err) })
		q1.Cancel()
		q1.Cancel() // twice is harmless
		var nilReq *Request
		nilReq.Cancel()
	})
	srv.set(func(s *testServer) { s.raw = nil })
	close(hold)
	// The held questions got no answer; the next attempt gets one.
	select {
	case got := <-called:
		if got != "kept " {
			t.Fatalf("callback %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
	e.do(func() { keep.Cancel() }) // after the answer: no effect
	select {
	case got := <-called:
		t.Fatalf("extra callback %q", got)
	case <-time.After(2 * cfg.resend):
	}

	// With every requester gone, a late answer still fills the cache.
	srv2 := startServer(t)
	srv2.add("late.test. 60 IN A 192.0.2.2")
	cfg2 := config(srv2)
	cfg2.IPv6 = false
	e.do(func() {
		q := e.set.Resolver(cfg2).Resolve("late.test", func([]netip.Addr, error) { called <- "late" })
		q.Cancel()
	})
	deadline := time.Now().Add(5 * time.Second)
	for e.cache.Len() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	r := e.resolve(cfg2, "late.test")
	if !r.sync || r.Err != nil || srv2.count("late.test.", "A", "") != 1 {
		t.Errorf("late answer not cached: sync=%v %v questions=%d", r.sync, r.Err, srv2.count("late.test.", "A", ""))
	}
	select {
	case got := <-called:
		t.Fatalf("cancelled request called back: %q", got)
	default:
	}
}

func TestSharedCacheAcrossLoops(t *testing.T) {
	srv := startServer(t)
	srv.add("s.test. 60 IN A 192.0.2.1", "s.test. 60 IN A 192.0.2.2")
	clock := newClock()
	cache := NewCache(clock.now)
	envs := []*env{newEnv(t, cache), newEnv(t, cache), newEnv(t, cache)}
	cfg := config(srv)
	// The same settings in another location's Config share the entries.
	cfgOther := config(srv)
	cfgOther.Timeout = time.Second
	r := envs[0].resolve(cfg, "s.test")
	if r.Err != nil || r.sync {
		t.Fatalf("first: %v sync=%v", r.Err, r.sync)
	}
	// Loops resolve at the same time from their own goroutines.
	chans := make([]<-chan result, 0, 2*len(envs))
	for _, e := range envs {
		chans = append(chans, e.lookup(cfg, "s.test"), e.lookup(cfgOther, "S.test"))
	}
	for i, ch := range chans {
		r := envs[0].wait(ch)
		if r.Err != nil || !r.sync || !slices.Equal(sorted(r.Addrs), addrs("192.0.2.1", "192.0.2.2")) {
			t.Errorf("%d: %v %v sync=%v", i, r.Addrs, r.Err, r.sync)
		}
	}
	if n := srv.count("s.test.", "A", ""); n != 1 {
		t.Errorf("%d A questions, want 1", n)
	}
	// A resolver with other settings has entries of its own.
	cfgV := config(srv)
	cfgV.Valid = time.Minute
	if r := envs[1].resolve(cfgV, "s.test"); r.sync {
		t.Error("valid= resolver answered from another resolver's entry")
	}
}

// Cached answers are handed out rotated, as ngx_resolver_export does:
// each list starts at a random element and is placed at a random
// position, wrapping.
func TestRotation(t *testing.T) {
	srv := startServer(t)
	srv.add("rr.test. 60 IN A 192.0.2.1", "rr.test. 60 IN A 192.0.2.2", "rr.test. 60 IN A 192.0.2.3",
		"rr.test. 60 IN AAAA 2001:db8::1", "rr.test. 60 IN AAAA 2001:db8::2")
	e := newEnv(t, nil)
	cfg := config(srv)
	fresh := e.resolve(cfg, "rr.test")
	want := addrs("192.0.2.1", "192.0.2.2", "192.0.2.3", "2001:db8::1", "2001:db8::2")
	if !slices.Equal(fresh.Addrs, want) {
		t.Fatalf("fresh %v", fresh.Addrs)
	}
	firsts := map[netip.Addr]bool{}
	for range 200 {
		r := e.resolve(cfg, "rr.test")
		if !isRotation(r.Addrs, want[:3], want[3:]) {
			t.Fatalf("not an nginx layout: %v", r.Addrs)
		}
		firsts[r.Addrs[0]] = true
	}
	if len(firsts) != len(want) {
		t.Errorf("first addresses seen: %v", firsts)
	}
}

// isRotation checks got is v4 then v6 rotated as one ring whose start
// moves, each family rotated on its own.
func isRotation(got, v4, v6 []netip.Addr) bool {
	n := len(got)
	for d := 0; d < n; d++ {
		ring := append(slices.Clone(got[d:]), got[:d]...)
		if isCycle(ring[:len(v4)], v4) && isCycle(ring[len(v4):], v6) {
			return true
		}
	}
	return false
}

func isCycle(got, list []netip.Addr) bool {
	for j := range list {
		if slices.Equal(got, append(slices.Clone(list[j:]), list[:j]...)) {
			return true
		}
	}
	return false
}

func sorted(a []netip.Addr) []netip.Addr {
	b := slices.Clone(a)
	slices.SortFunc(b, func(x, y netip.Addr) int { return x.Compare(y) })
	return b
}

func TestResponseChecks(t *testing.T) {
	srv := startServer(t)
	e := newEnv(t, nil)
	pack := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	reply := func(req *dns.Msg, rrs ...string) *dns.Msg {
		m := new(dns.Msg)
		m.SetReply(req)
		for _, s := range rrs {
			rr, err := dns.NewRR(s)
			if err != nil {
				t.Fatal(err)
			}
			m.Answer = append(m.Answer, rr)
		}
		return m
	}
	tests := []struct {
		name string
		raw  func(req *dns.Msg) []byte
		log  func(id int) string
	}{
		{"wrongid", func(req *dns.Msg) []byte {
			m := reply(req, req.Question[0].Name+" 60 IN A 192.0.2.1")
			m.Id = req.Id + 1
			return pack(m)
		}, func(id int) string {
			return fmt.Sprintf("wrong ident %d in DNS response for wrongid.test, expect %d", uint16(id+1), id)
		}},
		{"other", func(req *dns.Msg) []byte {
			m := reply(req)
			m.Question[0].Name = "unasked.test."
			return pack(m)
		}, func(int) string { return "unexpected DNS response for unasked.test" }},
		{"short", func(req *dns.Msg) []byte { return pack(reply(req))[:10] }, func(int) string { return "short DNS response" }},
		{"notresponse", func(req *dns.Msg) []byte {
			m := reply(req)
			m.Response = false
			return pack(m)
		}, func(id int) string { return fmt.Sprintf("invalid UDP DNS response %d fl:0100", id) }},
		{"formerr", func(req *dns.Msg) []byte {
			m := reply(req)
			m.Rcode = dns.RcodeFormatError
			return pack(m)
		}, func(id int) string {
			return fmt.Sprintf("DNS error (1: Format error), query id:%d, name:\"formerr.test\"", id)
		}},
		{"badrcode", func(req *dns.Msg) []byte {
			m := reply(req)
			m.Rcode = dns.RcodeYXDomain
			return pack(m)
		}, func(id int) string { return fmt.Sprintf("DNS error (6: Unknown error), query id:%d", id) }},
		{"class", func(req *dns.Msg) []byte {
			return pack(reply(req, req.Question[0].Name+" 60 CH A 192.0.2.1"))
		}, func(int) string { return "unexpected RR class 3 in DNS response" }},
		{"mx", func(req *dns.Msg) []byte {
			return pack(reply(req, req.Question[0].Name+" 60 IN MX 10 mail.test."))
		}, func(int) string { return "unexpected RR type 15 in DNS response" }},
		{"twoq", func(req *dns.Msg) []byte {
			m := reply(req)
			m.Question = append(m.Question, m.Question[0])
			return pack(m)
		}, func(int) string { return "invalid number of questions in DNS response" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id atomic.Uint32
			srv.set(func(s *testServer) {
				s.raw = func(req *dns.Msg, tcp bool) []byte {
					if req.Question[0].Qtype != dns.TypeA {
						return nil
					}
					id.Store(uint32(req.Id))
					return tt.raw(req)
				}
			})
			cfg := config(srv)
			cfg.Timeout = 150 * time.Millisecond
			r := e.resolve(cfg, tt.name+".test")
			if r.Err == nil {
				t.Fatalf("resolved: %v", r.Addrs)
			}
			want := strconv.Itoa(eventloop.LogErr) + " " + tt.log(int(id.Load()))
			if !e.log.has(want) {
				t.Errorf("log lacks %q:\n%s", want, e.log)
			}
		})
	}
}

// The sockets of an idle resolver do not hold a gracefully stopping loop.
func TestGracefulShutdown(t *testing.T) {
	srv := startServer(t)
	srv.add("g.test. 60 IN A 192.0.2.1")
	l, err := eventloop.New(eventloop.Config{})
	if err != nil {
		t.Fatal(err)
	}
	go l.Run()
	defer func() { l.Stop(); <-l.Done() }()
	set := NewSet(l, Options{})
	got := make(chan error, 1)
	cfg := config(srv)
	l.Post(func() {
		set.Resolver(cfg).Resolve("g.test", func(a []netip.Addr, err error) { got <- err })
	})
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	l.Shutdown(10 * time.Second)
	select {
	case <-l.Done():
	case <-time.After(3 * time.Second):
		t.Fatal("the loop waits for the resolver's sockets")
	}
}

func TestSetLifecycle(t *testing.T) {
	srv := startServer(t)
	srv.add("w.test. 60 IN A 192.0.2.1")
	srv.set(func(s *testServer) { s.mute["hang.test."] = true })
	e := newEnv(t, nil)
	cfg := config(srv)
	cfg.IPv6 = false
	short := cfg.WithTimeout(50 * time.Millisecond)
	if short.Timeout != 50*time.Millisecond || cfg.Timeout == short.Timeout || &short.Servers[0] != &cfg.Servers[0] {
		t.Fatalf("WithTimeout: %+v", short)
	}

	// Locations that differ only in resolver_timeout share the query.
	longCfg := cfg.WithTimeout(400 * time.Millisecond)
	start := time.Now()
	long := e.lookup(longCfg, "hang.test")
	r := e.resolve(short, "hang.test")
	if errText(r.Err) != "hang.test could not be resolved (110: Operation timed out)" {
		t.Fatalf("short timeout: %v", r.Err)
	}
	select {
	case r := <-long:
		t.Fatalf("the longer timeout ended with the shorter one: %v", r.Err)
	default:
	}
	if n := srv.count("hang.test.", "A", ""); n != 1 {
		t.Errorf("%d questions for two requesters", n)
	}

	if r := e.resolve(&Config{Timeout: time.Second}, "w.test"); r.Err != ErrNoResolver || !r.sync {
		t.Errorf("no servers: %v", r.Err)
	}
	if r := e.resolve(&Config{}, "192.0.2.7"); r.Err != nil {
		t.Errorf("literal without servers: %v", r.Err)
	}

	// Closing drops the waiting requester without calling it back, even
	// when its timeout passes.
	e.do(func() { e.set.Close() })
	closedAt := time.Since(start)
	if r := e.resolve(cfg, "w.test"); r.Err != ErrClosed || !r.sync {
		t.Errorf("after Close: %v", r.Err)
	}
	if closedAt >= longCfg.Timeout {
		t.Logf("closed after %v, past the timeout: the machine is too slow to check the drop", closedAt)
		return
	}
	select {
	case r := <-long:
		t.Fatalf("called back after Close: %v", r.Err)
	case <-time.After(longCfg.Timeout + 200*time.Millisecond):
	}
}
