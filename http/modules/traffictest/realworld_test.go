package traffictest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
)

// backend answers with what it was asked: the method, the URI and the
// headers a proxy sets, one per line.
func backend(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var lines []string
		for _, h := range []string{"Upgrade", "Connection", "X-Real-IP", "X-Forwarded-For", "X-Variant", "X-Limit", "X-Pool"} {
			if v := r.Header.Values(h); len(v) > 0 {
				lines = append(lines, h+": "+strings.Join(v, " | "))
			}
		}
		sort.Strings(lines)
		fmt.Fprintf(w, "%s %s host=%s\n%s\n", r.Method, r.RequestURI, r.Host, strings.Join(lines, "\n"))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// files lays out what the configurations serve.
func files(t *testing.T) string {
	root := t.TempDir()
	for name, body := range map[string]string{
		"index.html":               "home\n",
		"a/static/app.js":          "variant a\n",
		"b/static/app.js":          "variant b\n",
		"control/static/app.js":    "control\n",
		"control/static/only.css":  "control only\n",
		"downloads/file.bin":       strings.Repeat("x", 4096),
		"downloads/other/more.bin": "more\n",
	} {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

type req struct {
	name    string
	method  string
	path    string
	headers []string
}

func (q req) raw() string {
	m := q.method
	if m == "" {
		m = "GET"
	}
	var b strings.Builder
	b.WriteString(m + " " + q.path + " HTTP/1.1\r\nConnection: close\r\n")
	host := false
	for _, h := range q.headers {
		if strings.HasPrefix(strings.ToLower(h), "host:") {
			host = true
		}
		b.WriteString(h + "\r\n")
	}
	if !host {
		b.WriteString("Host: localhost\r\n")
	}
	b.WriteString("\r\n")
	return b.String()
}

var compared = append([]string{"X-Variant", "Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
	"X-Limit", "X-Conn"}, difftest.CompareHeaders...)

// realWorld are configurations taken from common production setups, with
// the requests that show what each one does.
var realWorld = []struct {
	file string
	reqs []req
	// logs are log files (in the prefix's logs directory) whose lines
	// must be the same.
	logs []string
}{
	{"websocket-proxy.conf", []req{
		{name: "plain", path: "/chat"},
		{name: "upgrade", path: "/chat", headers: []string{"Upgrade: websocket", "Connection: Upgrade"}},
		{name: "host", path: "/x?y=1", headers: []string{"Host: app.example.com"}},
	}, nil},
	{"realip-balancer.conf", []req{
		{name: "direct", path: "/"},
		{name: "through the balancer", path: "/", headers: []string{"X-Forwarded-For: 198.51.100.20"}},
		{name: "chain", path: "/", headers: []string{"X-Forwarded-For: 203.0.113.5, 10.1.1.1"}},
		{name: "spoofed chain", path: "/", headers: []string{"X-Forwarded-For: 192.0.2.9, 198.51.100.20, 10.1.1.1"}},
		{name: "admin allowed", path: "/admin/", headers: []string{"X-Forwarded-For: 192.0.2.9"}},
		{name: "admin denied", path: "/admin/", headers: []string{"X-Forwarded-For: 198.51.100.20"}},
		{name: "admin direct", path: "/admin/"},
	}, nil},
	{"rate-limited-api.conf", []req{
		{name: "1", path: "/api/items"},
		{name: "2", path: "/api/items"},
		{name: "3", path: "/api/items"},
		{name: "4", path: "/api/items"},
		{name: "5", path: "/api/items"},
		{name: "6 over the burst", path: "/api/items"},
		{name: "7 over the burst", path: "/api/items"},
		{name: "health is not limited", path: "/health"},
		{name: "other client", path: "/api/items?x", headers: []string{"X-Forwarded-For: 1.2.3.4"}},
	}, nil},
	{"ab-split.conf", []req{
		{name: "agent 1", path: "/page", headers: []string{"User-Agent: agent-1"}},
		{name: "agent 2", path: "/page", headers: []string{"User-Agent: agent-2"}},
		{name: "agent 3", path: "/page", headers: []string{"User-Agent: agent-3"}},
		{name: "agent 4", path: "/page", headers: []string{"User-Agent: agent-4"}},
		{name: "agent 5", path: "/page", headers: []string{"User-Agent: agent-5"}},
		{name: "forced", path: "/page", headers: []string{"User-Agent: agent-1", "Cookie: ab=b"}},
		{name: "static forced a", path: "/static/app.js", headers: []string{"Cookie: ab=a"}},
		{name: "static fallback", path: "/static/only.css", headers: []string{"Cookie: ab=b"}},
		{name: "static by variant", path: "/static/app.js", headers: []string{"User-Agent: agent-2"}},
	}, nil},
	{"geo-blocklist.conf", []req{
		{name: "direct", path: "/"},
		{name: "blocked network", path: "/", headers: []string{"X-Real-IP: 203.0.113.9"}},
		{name: "blocked host", path: "/", headers: []string{"X-Real-IP: 198.51.100.7"}},
		{name: "neighbour", path: "/", headers: []string{"X-Real-IP: 198.51.100.8"}},
		{name: "blocked v6", path: "/", headers: []string{"X-Real-IP: 2001:db8:bad::1"}},
		{name: "other v6", path: "/", headers: []string{"X-Real-IP: 2001:db8:900d::1"}},
	}, nil},
	{"maintenance.conf", []req{
		{name: "office", path: "/"},
		{name: "outside", path: "/", headers: []string{"X-Real-IP: 198.51.100.1"}},
		{name: "outside preview", path: "/?preview=yes", headers: []string{"X-Real-IP: 198.51.100.1"}},
		{name: "office network", path: "/", headers: []string{"X-Real-IP: 192.0.2.44"}},
	}, nil},
	{"canonical-host.conf", []req{
		{name: "canonical", path: "/a?b=c", headers: []string{"Host: www.example.com"}},
		{name: "old name", path: "/a?b=c", headers: []string{"Host: old.example.com"}},
		{name: "legacy subdomain", path: "/", headers: []string{"Host: shop.legacy.example"}},
		{name: "legacy itself", path: "/", headers: []string{"Host: legacy.example"}},
		{name: "other tld", path: "/x", headers: []string{"Host: www.example.org"}},
		{name: "shop", path: "/cart", headers: []string{"Host: berlin.shop.example"}},
		{name: "upper case", path: "/", headers: []string{"Host: OLD.Example.COM"}},
		{name: "unknown", path: "/", headers: []string{"Host: elsewhere.test"}},
	}, nil},
	{"cors-allowlist.conf", []req{
		{name: "no origin", path: "/api/data"},
		{name: "allowed", path: "/api/data", headers: []string{"Origin: https://example.com"}},
		{name: "allowed sub", path: "/api/data", headers: []string{"Origin: https://app.example.com"}},
		{name: "partner", path: "/api/data", headers: []string{"Origin: https://partner.example.net"}},
		{name: "refused", path: "/api/data", headers: []string{"Origin: https://evil.example.org"}},
		{name: "http refused", path: "/api/data", headers: []string{"Origin: http://example.com"}},
		{name: "preflight", method: "OPTIONS", path: "/api/data", headers: []string{"Origin: https://example.com"}},
	}, nil},
	{"bot-limits.conf", []req{
		{name: "person 1", path: "/", headers: []string{"User-Agent: Mozilla/5.0"}},
		{name: "person 2", path: "/", headers: []string{"User-Agent: Mozilla/5.0"}},
		{name: "bot 1", path: "/", headers: []string{"User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1)"}},
		{name: "bot 2", path: "/", headers: []string{"User-Agent: Mozilla/5.0 (compatible; Googlebot/2.1)"}},
		{name: "other bot", path: "/", headers: []string{"User-Agent: bingbot/2.0"}},
		{name: "person 3", path: "/", headers: []string{"User-Agent: curl/8"}},
	}, nil},
	{"upstream-by-region.conf", []req{
		{name: "default", path: "/"},
		{name: "eu network", path: "/?ip=10.1.2.3"},
		{name: "us network", path: "/?ip=10.2.2.3"},
		{name: "eu host", path: "/?ip=10.2.2.3", headers: []string{"Host: shop.eu.example"}},
	}, nil},
	{"download-limits.conf", []req{
		{name: "file", path: "/downloads/file.bin"},
		{name: "gold", path: "/downloads/file.bin?tier=gold"},
		{name: "missing", path: "/downloads/none.bin"},
		{name: "directory", path: "/downloads/other"},
	}, nil},
	{"logging-filters.conf", []req{
		{name: "ok", path: "/"},
		{name: "missing", path: "/missing"},
		{name: "missing behind proxy", path: "/missing", headers: []string{"X-Real-IP: 192.0.2.7"}},
		{name: "ok behind proxy", path: "/", headers: []string{"X-Real-IP: 192.0.2.8"}},
	}, []string{"filtered.log"}},
}

// TestRealWorldConfigs runs each configuration with nginx and gresty:
// "-t" must say the same, and every request must get the same answer.
func TestRealWorldConfigs(t *testing.T) {
	be := backend(t)
	root := files(t)
	for _, rw := range realWorld {
		t.Run(rw.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "realworld", rw.file))
			if err != nil {
				t.Fatal(err)
			}
			conf := strings.NewReplacer("%%BACKEND%%", be, "%%ROOT%%", root).Replace(string(b))

			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
			traffictest.ConfigTestIn(t, dir, strings.NewReplacer("%%PORT%%", "8080", "%%PREFIX%%", dir).Replace(conf))

			p := difftest.Start(t, conf)
			for _, q := range rw.reqs {
				ng, _, err1 := traffictest.SendRaw(p.Nginx.Addr, q.raw(), 10*time.Second)
				gr, _, err2 := traffictest.SendRaw(p.Gresty.Addr, q.raw(), 10*time.Second)
				if len(ng) == 0 || len(gr) == 0 {
					t.Errorf("%s: no answer: nginx %v, gresty %v", q.name, err1, err2)
					continue
				}
				t.Logf("%s: %s", q.name, strings.SplitN(string(ng), "\r\n", 2)[0])
				head := q.method == "HEAD"
				if d := difftest.Diff(difftest.Parse(ng, head), difftest.Parse(gr, head), compared...); len(d) > 0 {
					t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", q.name, strings.Join(d, "\n  "), ng, gr)
				}
			}
			for _, name := range rw.logs {
				time.Sleep(100 * time.Millisecond)
				a, _ := os.ReadFile(filepath.Join(p.Nginx.Prefix, "logs", name))
				b, _ := os.ReadFile(filepath.Join(p.Gresty.Prefix, "logs", name))
				if string(a) != string(b) || len(a) == 0 {
					t.Errorf("%s differs:\nnginx:\n%s\ngresty:\n%s", name, a, b)
				}
			}
		})
	}
}
