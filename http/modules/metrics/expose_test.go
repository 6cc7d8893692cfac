package metrics_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"gresty/http/modules/traffictest"
	"gresty/internal/nginxtest"
)

const metricsConf = `
http {
    limit_req_zone $arg_k zone=api:1m rate=1r/m;
    limit_conn_zone $arg_c zone=conns:1m;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name one.example;
        location /metrics { gresty_metrics; }
        location /ok { return 200 "ok\n"; }
        location /gone { return 410; }
        location /limited/ { limit_req zone=api nodelay; limit_conn conns 5; return 204; }
        location /static/ { limit_req zone=api nodelay; limit_conn conns 5; root %%PREFIX%%; }
    }
    server {
        listen 127.0.0.1:%%PORT%% default_server;
        server_name "two\"\\example" two.example;
        location / { return 404; }
    }
}
`

// TestExpositionParses scrapes a server after known traffic and reads the
// answer with Prometheus's own text parser: the counters must be the
// requests sent.
func TestExpositionParses(t *testing.T) {
	s := nginxtest.StartGresty(t, metricsConf)
	send := func(path, host string, n int) {
		for i := 0; i < n; i++ {
			r := traffictest.Send(s.Addr, "GET "+path+" HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n", 5*time.Second)
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		}
	}
	send("/ok", "one.example", 3)
	send("/gone", "one.example", 2)
	send("/nothing", "two.example", 3)
	send("/nothing", "unknown.example", 1)
	// the first request of a key passes, the next ones are rejected.
	send("/static/?k=x", "one.example", 3)
	first := scrape(t, s.Addr)
	send("/ok", "one.example", 1)
	second := scrape(t, s.Addr)

	tests := []struct {
		name   string
		fams   map[string][]sample
		family string
		labels map[string]string
		want   float64
	}{
		{"ok", first, "gresty_http_requests_total", map[string]string{"server": "one.example", "status": "200"}, 3},
		{"gone", first, "gresty_http_requests_total", map[string]string{"server": "one.example", "status": "410"}, 2},
		{"escaped server name", first, "gresty_http_requests_total", map[string]string{"server": `two"\example`, "status": "404"}, 4},
		{"rejected", first, "gresty_http_requests_total", map[string]string{"server": "one.example", "status": "503"}, 2},
		{"limit_req passed", first, "gresty_limit_req_requests_total", map[string]string{"zone": "api", "outcome": "passed"}, 1},
		{"limit_req rejected", first, "gresty_limit_req_requests_total", map[string]string{"zone": "api", "outcome": "rejected"}, 2},
		{"limit_req keys", first, "gresty_limit_req_zone_keys", map[string]string{"zone": "api"}, 1},
		{"limit_conn passed", first, "gresty_limit_conn_requests_total", map[string]string{"zone": "conns", "outcome": "passed"}, 0},
		{"scrape counted", second, "gresty_http_requests_total", map[string]string{"server": "one.example", "status": "200"}, 5},
		{"writing now", first, "gresty_http_connections", map[string]string{"state": "writing"}, 1},
	}
	for _, tt := range tests {
		if got, ok := value(tt.fams, tt.family, tt.labels); !ok || got != tt.want {
			t.Errorf("%s: %s%v = %v (found %v), want %v", tt.name, tt.family, tt.labels, got, ok, tt.want)
		}
	}
	for _, m := range []struct {
		raw    string
		status int
	}{
		{"HEAD /metrics HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n", 200},
		{"POST /metrics HTTP/1.1\r\nHost: one.example\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx", 405},
	} {
		if r := traffictest.Send(s.Addr, m.raw, 5*time.Second); r.Status != m.status || (m.status == 200 && len(r.Body) != 0) {
			t.Errorf("%q: %d with %d bytes", m.raw[:5], r.Status, len(r.Body))
		}
	}
	// connection counters only grow, by at least the requests between.
	a1, _ := value(first, "gresty_http_connections_accepted_total", nil)
	a2, _ := value(second, "gresty_http_connections_accepted_total", nil)
	if a1 < 13 || a2 < a1+2 {
		t.Errorf("accepted connections %v then %v", a1, a2)
	}
}

// sample is one series of a scrape.
type sample struct {
	labels map[string]string
	v      float64
}

// scrape fetches /metrics and parses it with Prometheus's parser: the
// samples by family name.
func scrape(t *testing.T, addr string) map[string][]sample {
	t.Helper()
	r := traffictest.Send(addr, "GET /metrics HTTP/1.1\r\nHost: one.example\r\nConnection: close\r\n\r\n", 5*time.Second)
	if r.Err != nil || r.Status != 200 {
		t.Fatalf("scrape: %d %v", r.Status, r.Err)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(r.Body)))
	if err != nil {
		t.Fatalf("the exposition does not parse: %v\n%s", err, r.Body)
	}
	out := map[string][]sample{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			var v float64
			switch {
			case m.GetCounter() != nil:
				v = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v = m.GetGauge().GetValue()
			}
			out[name] = append(out[name], sample{labels, v})
		}
	}
	return out
}

// value returns the sample of family whose labels include want.
func value(fams map[string][]sample, family string, want map[string]string) (float64, bool) {
next:
	for _, s := range fams[family] {
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		return s.v, true
	}
	return 0, false
}

const upstreamLuaConf = `
http {
    lua_shared_dict cache 1m;
    upstream backend {
        server 127.0.0.1:%[1]d;
        server 127.0.0.1:%[2]d max_fails=1 fail_timeout=60s;
        server 127.0.0.1:%[1]d backup;
    }
    server {
        listen 127.0.0.1:%[1]d;
        return 200 "back\n";
    }
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /metrics { gresty_metrics; }
        location /p { proxy_pass http://backend; }
        location /fill {
            content_by_lua_block {
                ngx.shared.cache:set("k", string.rep("x", 100000))
                ngx.say("ok")
            }
        }
    }
}
`

// TestUpstreamAndLuaMetrics checks the peers' health and counts after
// requests of which one meets a refused peer, and the Lua VMs and shared
// dict figures.
func TestUpstreamAndLuaMetrics(t *testing.T) {
	back, dead := nginxtest.FreePort(t), nginxtest.FreePort(t)
	s := nginxtest.StartGresty(t, fmt.Sprintf(upstreamLuaConf, back, dead))
	for i := 0; i < 4; i++ {
		r := traffictest.Send(s.Addr, "GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second)
		if r.Err != nil || r.Status != 200 {
			t.Fatalf("proxied request %d: %d %v", i, r.Status, r.Err)
		}
	}
	before := scrape(t, s.Addr)
	if r := traffictest.Send(s.Addr, "GET /fill HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 5*time.Second); r.Status != 200 {
		t.Fatalf("/fill: %d %v", r.Status, r.Err)
	}
	after := scrape(t, s.Addr)

	live := fmt.Sprintf("127.0.0.1:%d", back)
	refused := fmt.Sprintf("127.0.0.1:%d", dead)
	peer := func(addr, backup string) map[string]string {
		return map[string]string{"upstream": "backend", "peer": addr, "backup": backup}
	}
	tests := []struct {
		family string
		labels map[string]string
		want   float64
	}{
		{"gresty_upstream_peer_requests_total", peer(live, "0"), 4},
		{"gresty_upstream_peer_failures_total", peer(live, "0"), 0},
		{"gresty_upstream_peer_up", peer(live, "0"), 1},
		{"gresty_upstream_peer_requests_total", peer(refused, "0"), 1},
		{"gresty_upstream_peer_failures_total", peer(refused, "0"), 1},
		{"gresty_upstream_peer_up", peer(refused, "0"), 0},
		{"gresty_upstream_peer_connections", peer(refused, "0"), 0},
		{"gresty_upstream_peer_requests_total", peer(live, "1"), 0},
		{"gresty_upstream_peer_up", peer(live, "1"), 1},
		{"gresty_lua_shared_dict_capacity_bytes", map[string]string{"dict": "cache"}, 1 << 20},
	}
	for _, tt := range tests {
		if got, ok := value(before, tt.family, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v = %v (found %v), want %v", tt.family, tt.labels, got, ok, tt.want)
		}
	}
	if n, _ := value(before, "gresty_lua_vms", nil); n < 1 {
		t.Errorf("gresty_lua_vms = %v", n)
	}
	if n, _ := value(before, "gresty_lua_memory_bytes", nil); n <= 0 {
		t.Errorf("gresty_lua_memory_bytes = %v", n)
	}
	f1, _ := value(before, "gresty_lua_shared_dict_free_bytes", map[string]string{"dict": "cache"})
	f2, _ := value(after, "gresty_lua_shared_dict_free_bytes", map[string]string{"dict": "cache"})
	if f1 <= 0 || f2 > f1-100000 {
		t.Errorf("free space %v before and %v after storing 100000 bytes", f1, f2)
	}
}
