package upstream_test

import (
	"fmt"
	"strings"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
)

// sequence sends n requests for target to a server and returns which
// backend answered each (the X-Backend header; "status" for others).
func sequence(t *testing.T, addr, target string, n int, headers ...string) []string {
	t.Helper()
	var seq []string
	for i := 0; i < n; i++ {
		r := proxytest.Do(t, addr, proxytest.Get(target, headers...))
		id := r.Header.Get("X-Backend")
		if id == "" {
			id = fmt.Sprint(r.Status)
		}
		seq = append(seq, id)
	}
	return seq
}

// TestBalancingOrder compares the peers nginx and gresty choose, request
// after request: weighted round robin, backup and down servers, failures,
// hash (plain and consistent), ip_hash and least_conn.
func TestBalancingOrder(t *testing.T) {
	b := map[string]*proxytest.Backend{}
	for _, n := range []string{"a", "b", "c", "d"} {
		b[n] = proxytest.Start(t, n)
	}
	dead := proxytest.DeadAddr(t)
	conf := fmt.Sprintf(`
http {
  upstream rr { server %[1]s; server %[2]s; server %[3]s; }
  upstream weighted { server %[1]s weight=5; server %[2]s weight=1; server %[3]s weight=2; }
  upstream withdown { server %[1]s; server %[2]s down; server %[3]s weight=3; }
  upstream withdead { server %[5]s weight=2; server %[1]s; server %[2]s; }
  upstream withbackup { server %[5]s; server %[3]s backup; server %[4]s backup; }
  upstream hashed { hash $arg_k; server %[1]s; server %[2]s weight=2; server %[3]s; server %[4]s; }
  upstream chashed { hash $arg_k consistent; server %[1]s; server %[2]s weight=2; server %[3]s; server %[4]s; }
  upstream iphash { ip_hash; server %[1]s; server %[2]s; server %[3]s; }
  upstream leastconn { least_conn; server %[1]s; server %[2]s weight=2; server %[3]s; }
  upstream rrkeep { server %[1]s; server %[2]s; keepalive 4; }
  upstream byname { server localhost:%[6]d; server %[2]s; }
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location /rr/ { proxy_pass http://rr/; }
    location /weighted/ { proxy_pass http://weighted/; }
    location /withdown/ { proxy_pass http://withdown/; }
    location /withdead/ { proxy_pass http://withdead/; }
    location /withbackup/ { proxy_pass http://withbackup/; }
    location /hashed/ { proxy_pass http://hashed/; }
    location /chashed/ { proxy_pass http://chashed/; }
    location /iphash/ { proxy_pass http://iphash/; }
    location /leastconn/ { proxy_pass http://leastconn/; }
    location /byname/ { proxy_pass http://byname/; }
    location /implicit/ { proxy_pass http://localhost:%[6]d/; }
    location /rrkeep/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://rrkeep/; }
  }
}
`, b["a"].Addr, b["b"].Addr, b["c"].Addr, b["d"].Addr, dead, b["c"].Port)
	p := difftest.Start(t, conf)
	for _, tc := range []struct {
		name, target string
		n            int
	}{
		{"round robin", "/rr/id", 7},
		{"weighted", "/weighted/id", 16},
		{"down", "/withdown/id", 8},
		{"dead peer", "/withdead/id", 8},
		{"backup", "/withbackup/id", 6},
		{"ip_hash", "/iphash/id", 5},
		{"least_conn", "/leastconn/id", 8},
		{"keepalive round robin", "/rrkeep/id", 6},
		{"server by name", "/byname/id", 6},
		{"implicit upstream by name", "/implicit/id", 4},
	} {
		ng := sequence(t, p.Nginx.Addr, tc.target, tc.n)
		gr := sequence(t, p.Gresty.Addr, tc.target, tc.n)
		if strings.Join(ng, ",") != strings.Join(gr, ",") {
			t.Errorf("%s: nginx chose %v, gresty %v", tc.name, ng, gr)
		}
	}
	for _, loc := range []string{"/hashed/", "/chashed/"} {
		var ng, gr []string
		for i := 0; i < 40; i++ {
			target := fmt.Sprintf("%sid?k=key%d", loc, i*7919)
			ng = append(ng, sequence(t, p.Nginx.Addr, target, 1)...)
			gr = append(gr, sequence(t, p.Gresty.Addr, target, 1)...)
		}
		if strings.Join(ng, ",") != strings.Join(gr, ",") {
			t.Errorf("%s: nginx chose %v, gresty %v", loc, ng, gr)
		}
	}
}

// TestRandom checks random and random two: every pick is a live peer,
// weights are respected in the large, and several peers are used. Random
// choices are not compared with nginx's.
func TestRandom(t *testing.T) {
	b := map[string]*proxytest.Backend{}
	for _, n := range []string{"a", "b", "c"} {
		b[n] = proxytest.Start(t, n)
	}
	dead := proxytest.DeadAddr(t)
	conf := fmt.Sprintf(`
http {
  upstream rnd { random; server %[1]s weight=8; server %[2]s; server %[3]s down; }
  upstream rnd2 { random two least_conn; server %[1]s; server %[2]s; server %[3]s; server %[4]s; }
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location /rnd/ { proxy_pass http://rnd/; }
    location /rnd2/ { proxy_pass http://rnd2/; }
  }
}
`, b["a"].Addr, b["b"].Addr, b["c"].Addr, dead)
	p := difftest.Start(t, conf)
	for _, tc := range []struct {
		target string
		check  func(count map[string]int) bool
	}{
		// c is down; a has eight times b's weight
		{"/rnd/id", func(n map[string]int) bool { return n["c"] == 0 && n["a"] > n["b"] && n["b"] > 0 && n["502"] == 0 }},
		// the dead peer fails over to a live one
		{"/rnd2/id", func(n map[string]int) bool { return n["502"] == 0 && len(n) >= 2 }},
	} {
		for _, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
			count := map[string]int{}
			for _, id := range sequence(t, addr, tc.target, 60) {
				count[id]++
			}
			if !tc.check(count) {
				t.Errorf("%s via %s: picks %v", tc.target, addr, count)
			}
		}
	}
}
