package limitconn_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
)

// The backend holds every request for a while, so that the requests of a
// wave are in progress together.
const connConf = `
http {
    limit_conn_zone $arg_k zone=perkey:1m;
    limit_conn_zone $arg_s zone=second:1m;
    server {
        listen 127.0.0.1:%%PORT%%;
        add_header X-C $limit_conn_status always;
        location /one/ { limit_conn perkey 1; proxy_pass http://%%BACKEND%%; }
        location /two/ { limit_conn perkey 2; proxy_pass http://%%BACKEND%%; }
        location /dry/ { limit_conn perkey 1; limit_conn_dry_run on; proxy_pass http://%%BACKEND%%; }
        location /status/ { limit_conn perkey 1; limit_conn_status 429; limit_conn_log_level warn; proxy_pass http://%%BACKEND%%; }
        location /both/ { limit_conn perkey 3; limit_conn second 1; proxy_pass http://%%BACKEND%%; }
        location /fast/ { limit_conn perkey 1; return 200 "fast $limit_conn_status\n"; }
        location /page/ { limit_conn perkey 1; error_page 503 = /fallback/; proxy_pass http://%%BACKEND%%; }
        location /fallback/ { limit_conn perkey 1; return 200 "fallback\n"; }
    }
}
`

type outcome struct {
	status int
	state  string
	body   string
}

func (o outcome) String() string { return fmt.Sprintf("%d %s %s", o.status, o.state, o.body) }

// wave sends the paths 60ms apart and waits for every answer; the
// backend holds each request for hold.
func wave(addr, key string, paths []string) []outcome {
	out := make([]outcome, len(paths))
	var wg sync.WaitGroup
	for i, p := range paths {
		wg.Add(1)
		go func(i int, p string) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 60 * time.Millisecond)
			r := traffictest.Send(addr, traffictest.Get(strings.ReplaceAll(p, "KEY", key)), 10*time.Second)
			if r.Err != nil {
				out[i] = outcome{state: r.Err.Error()}
				return
			}
			body, _, _ := strings.Cut(strings.TrimSpace(string(r.Body)), "\n")
			out[i] = outcome{r.Status, r.Header.Get("X-C"), body}
		}(i, p)
	}
	wg.Wait()
	return out
}

func TestLimitConnMatchesNginx(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(700 * time.Millisecond)
		fmt.Fprintln(w, "slow")
	}))
	defer backend.Close()
	p := difftest.Start(t, strings.ReplaceAll(connConf, "%%BACKEND%%", backend.Listener.Addr().String()))
	scenarios := []struct {
		name  string
		waves [][]string
	}{
		{"one", [][]string{{"/one/?k=KEY", "/one/?k=KEY", "/one/?k=KEY-other", "/one/?k=KEY"}, {"/one/?k=KEY"}}},
		{"two", [][]string{{"/two/?k=KEY", "/two/?k=KEY", "/two/?k=KEY"}}},
		{"dry run", [][]string{{"/dry/?k=KEY", "/dry/?k=KEY"}}},
		{"status", [][]string{{"/status/?k=KEY", "/status/?k=KEY"}}},
		{"two zones", [][]string{{"/both/?k=KEY&s=KEY", "/both/?k=KEY&s=KEY", "/both/?k=KEY&s=KEY-b", "/both/?k=KEY&s=KEY-c"}}},
		{"no key", [][]string{{"/one/", "/one/"}}},
		{"return does not count", [][]string{{"/fast/?k=KEY", "/fast/?k=KEY"}}},
		{"error page", [][]string{{"/page/?k=KEY", "/page/?k=KEY"}}},
	}
	type result struct{ ng, gr string }
	results := make([]result, len(scenarios))
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 10 * time.Millisecond)
			key := fmt.Sprintf("%s-%d", strings.ReplaceAll(sc.name, " ", "-"), time.Now().UnixNano())
			var ng, gr []string
			for _, w := range sc.waves {
				var a, b []outcome
				var inner sync.WaitGroup
				inner.Add(2)
				go func() { defer inner.Done(); a = wave(p.Nginx.Addr, key, w) }()
				go func() { defer inner.Done(); b = wave(p.Gresty.Addr, key, w) }()
				inner.Wait()
				ng, gr = append(ng, fmt.Sprint(a)), append(gr, fmt.Sprint(b))
			}
			results[i] = result{strings.Join(ng, " / "), strings.Join(gr, " / ")}
		}(i)
	}
	wg.Wait()
	for i, sc := range scenarios {
		t.Logf("%s: %s", sc.name, results[i].ng)
		if results[i].ng != results[i].gr {
			t.Errorf("%s:\nnginx:  %s\ngresty: %s", sc.name, results[i].ng, results[i].gr)
		}
	}
	if !strings.Contains(results[0].ng, "503 REJECTED") {
		t.Errorf("nginx did not limit: %s", results[0].ng)
	}
	time.Sleep(100 * time.Millisecond)
	if a, b := logLines(p.Nginx.ErrorLog()), logLines(p.Gresty.ErrorLog()); a != b || a == "" {
		t.Errorf("log lines differ:\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

var lineRe = regexp.MustCompile(`\[(\w+)\] \d+#\d+: \*\d+ (limiting connections.*?), client: .*$`)

func logLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := lineRe.FindStringSubmatch(l); m != nil {
			out = append(out, m[1]+" "+m[2])
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}
