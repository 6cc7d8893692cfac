package limitreq_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/http/modules/shmzone"
	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// Each scenario uses its own key ($arg_k), so scenarios run side by side
// without touching each other's buckets.
const limitConf = `
http {
    limit_req_zone $arg_k zone=one:1m rate=1r/s;
    limit_req_zone $arg_k zone=two:1m rate=60r/m;
    limit_req_zone $arg_k zone=slow:1m rate=30r/m;
    limit_req_zone $arg_k zone=fast:1m rate=4r/s;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%ROOT%%;
        add_header X-S $limit_req_status always;
        location /delay/ { limit_req zone=one burst=2; }
        location /nodelay/ { limit_req zone=one burst=3 nodelay; }
        location /twostage/ { limit_req zone=one burst=5 delay=3; }
        location /status/ { limit_req zone=one; limit_req_status 429; }
        location /dry/ { limit_req zone=one burst=2; limit_req_dry_run on; }
        location /multi/ { limit_req zone=one burst=5 nodelay; limit_req zone=two burst=1; }
        location /rpm/ { limit_req zone=slow nodelay; limit_req_log_level warn; }
        location /info/ { limit_req zone=one burst=1; limit_req_log_level info; }
        location /none/ { }
        location /pipe/ { limit_req zone=fast burst=2; }
    }
}
`

// step is one request of a scenario, sent at offset at from the start.
type step struct {
	at   time.Duration
	path string
}

// outcome is what a request got: the status, $limit_req_status, and
// whether the answer was held back (a delay of nginx's is 400ms or more
// in these scenarios; an answer without one takes milliseconds).
type outcome struct {
	status  int
	state   string
	delayed bool
}

func (o outcome) String() string {
	d := ""
	if o.delayed {
		d = " delayed"
	}
	return fmt.Sprintf("%d %s%s", o.status, o.state, d)
}

const delayedAfter = 250 * time.Millisecond

func burst(path string, n int, from time.Duration) []step {
	var s []step
	for i := 0; i < n; i++ {
		// 100ms apart, at 1r/s: every answer below is at least 100ms
		// (a tenth of a request) away from the next boundary, most of
		// them several hundred.
		s = append(s, step{from + time.Duration(i)*100*time.Millisecond, path})
	}
	return s
}

func run(addr, key string, steps []step) []outcome {
	out := make([]outcome, len(steps))
	var wg sync.WaitGroup
	start := time.Now()
	for i, st := range steps {
		wg.Add(1)
		go func(i int, st step) {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(st.at)))
			sep := "?"
			if strings.Contains(st.path, "?") {
				sep = "&"
			}
			res := traffictest.Send(addr, traffictest.Get(st.path+sep+"k="+key), 10*time.Second)
			if res.Err != nil {
				out[i] = outcome{state: "error: " + res.Err.Error()}
				return
			}
			out[i] = outcome{status: res.Status, state: res.Header.Get("X-S"), delayed: res.Latency > delayedAfter}
		}(i, st)
	}
	wg.Wait()
	return out
}

func TestLimitReqMatchesNginx(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"delay", "nodelay", "twostage", "status", "dry", "multi", "rpm", "info", "none"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.WriteFile(filepath.Join(root, d, "index.html"), []byte(d+"\n"), 0o644)
	}
	p := difftest.Start(t, strings.ReplaceAll(limitConf, "%%ROOT%%", root))
	scenarios := []struct {
		name  string
		steps []step
	}{
		// excess 0, 0.9, 1.8 (delayed 0.9s, 1.8s), then 2.7 and 2.6
		// over the burst; later 1.0 again (delayed 1s).
		{"delay", append(burst("/delay/", 5, 0), step{2000 * time.Millisecond, "/delay/"})},
		// up to 2.7 passes at once, 3.6 and 3.5 are rejected; later 2.5
		// passes.
		{"nodelay", append(burst("/nodelay/", 6, 0), step{1500 * time.Millisecond, "/nodelay/"})},
		// up to 2.7 passes at once (delay=3), 3.6 and 4.5 are delayed by
		// 0.6s and 1.5s, 5.4 is over the burst.
		{"two-stage", burst("/twostage/", 7, 0)},
		{"status 429", burst("/status/", 3, 0)},
		{"dry run", burst("/dry/", 4, 0)},
		// the second zone (1r/s, burst 1) decides: a delay, then a
		// rejection that releases the first zone's count; later a delay.
		{"two zones", append(burst("/multi/", 3, 0), step{1500 * time.Millisecond, "/multi/"})},
		// 30r/m is one request per 2s.
		{"per minute", append(burst("/rpm/", 3, 0), step{2600 * time.Millisecond, "/rpm/"})},
		{"log level info", burst("/info/", 3, 0)},
		{"no key", burst("/none/?none", 3, 0)},
	}
	// a server's first requests can take a while (a fresh process, a
	// busy machine); they are not the ones whose timing is compared.
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		for i := 0; i < 20; i++ {
			traffictest.Send(s.Addr, traffictest.Get("/none/"), 5*time.Second)
		}
	}
	type result struct{ ng, gr []outcome }
	results := make([]result, len(scenarios))
	var wg sync.WaitGroup
	for i, sc := range scenarios {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * 15 * time.Millisecond)
			// A sequence decided by timing can come out differently when
			// the machine stalls the client by more than the margins
			// above; then both servers are asked again with a new key.
			// Equal answers on any attempt show the same arithmetic.
			for attempt := 0; attempt < 3; attempt++ {
				key := fmt.Sprintf("%s-%d-%d", strings.ReplaceAll(sc.name, " ", "-"), attempt, time.Now().UnixNano())
				var ng, gr []outcome
				var inner sync.WaitGroup
				inner.Add(2)
				go func() { defer inner.Done(); ng = run(p.Nginx.Addr, key, sc.steps) }()
				go func() { defer inner.Done(); gr = run(p.Gresty.Addr, key, sc.steps) }()
				inner.Wait()
				results[i] = result{ng, gr}
				if fmt.Sprint(ng) == fmt.Sprint(gr) {
					return
				}
				t.Logf("%s: attempt %d differs (nginx %v, gresty %v); retrying", sc.name, attempt, ng, gr)
			}
		}(i)
	}
	wg.Wait()
	for i, sc := range scenarios {
		if a, b := fmt.Sprint(results[i].ng), fmt.Sprint(results[i].gr); a != b {
			t.Errorf("%s:\nnginx:  %s\ngresty: %s", sc.name, a, b)
		}
	}
	// every scenario must have shown what it is about on nginx
	for i := range scenarios {
		t.Logf("%s: %v", scenarios[i].name, results[i].ng)
	}
	for i, want := range []string{"DELAYED delayed", "REJECTED", "DELAYED delayed", "429 REJECTED", "REJECTED_DRY_RUN", "REJECTED", "REJECTED", "DELAYED", ""} {
		if got := fmt.Sprint(results[i].ng); !strings.Contains(got, want) {
			t.Errorf("%s: nginx answered %s, expected a %q", scenarios[i].name, got, want)
		}
	}

	// a client that leaves while delayed: nginx notices and ends the
	// request with 499.
	key := fmt.Sprintf("abort-%d", time.Now().UnixNano())
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		traffictest.Send(s.Addr, traffictest.Get("/delay/?k="+key), 5*time.Second)
		b, _ := nginxtest.Exchange(s.Addr, []byte(traffictest.Get("/delay/?k="+key)), 5*time.Second)
		if len(b) != 0 {
			t.Errorf("%s answered a client gone during the delay: %q", s.Addr, b)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if a, b := logLines(p.Nginx.ErrorLog()), logLines(p.Gresty.ErrorLog()); a != b || a == "" {
		t.Errorf("log lines differ:\nnginx:\n%s\ngresty:\n%s", a, b)
	}
	if a, b := statuses(p.Nginx.Prefix, "abort"), statuses(p.Gresty.Prefix, "abort"); a != b || a != "200 499" {
		t.Errorf("access log of the aborted sequence: nginx %q, gresty %q", a, b)
	}
}

var excessRe = regexp.MustCompile(`excess: \d+\.\d{3}`)
var lineRe = regexp.MustCompile(`\[(\w+)\] \d+#\d+: \*\d+ (.*?), client: .*$`)

// logLines returns the module's lines of an error log, sorted, with the
// excess masked (it depends on the exact milliseconds) and the
// connection numbers dropped.
func logLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "limiting requests") && !strings.Contains(l, "delaying request") &&
			!strings.Contains(l, "client prematurely closed") {
			continue
		}
		m := lineRe.FindStringSubmatch(l)
		if m == nil {
			out = append(out, "unparsed: "+l)
			continue
		}
		out = append(out, m[1]+" "+excessRe.ReplaceAllString(m[2], "excess: N"))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// statuses returns the statuses the access log gave requests whose line
// contains word.
func statuses(prefix, word string) string {
	b, _ := os.ReadFile(filepath.Join(prefix, "logs", "access.log"))
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, word) {
			continue
		}
		// combined: ... "GET /x HTTP/1.1" STATUS BYTES ...
		if i := strings.Index(l, "\" "); i >= 0 {
			if f := strings.Fields(l[i+2:]); len(f) > 0 {
				out = append(out, f[0])
			}
		}
	}
	return strings.Join(out, " ")
}

const capacityConf = `
http {
    limit_req_zone $arg_k zone=small:32k rate=1r/m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { limit_req zone=small nodelay; return 204; }
        location /c/ { limit_req zone=small nodelay; root %%ROOT%%; }
    }
}
`

// TestZoneCapacityMatchesNginx fills the smallest zone with more keys than
// it holds, then asks for keys around the oldest one it should still
// hold, from the newer to the older: a key still held is rejected (one
// request a minute), a key dropped to make room passes. The answers show
// where nginx's slab ran out of room; the window is centred where the
// slab model says it did.
func TestZoneCapacityMatchesNginx(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "c"), 0o755)
	os.WriteFile(filepath.Join(root, "c", "index.html"), []byte("c\n"), 0o644)
	p := difftest.Start(t, strings.ReplaceAll(capacityConf, "%%ROOT%%", root))
	// 32k is 7 pages; the zone's head shares a page of 128-byte chunks
	// with the nodes (80 bytes and a 7-byte key), its log context takes
	// a page of 32-byte chunks.
	held := (shmzone.Pages(32<<10)-1)*shmzone.ChunksPerPage(87) - 1
	const keys = 220
	first := keys - held
	var req strings.Builder
	for i := 0; i < keys; i++ {
		fmt.Fprintf(&req, "GET /c/?k=key-%03d HTTP/1.1\r\nHost: localhost\r\n\r\n", i)
	}
	for i := first + 6; i >= first-6; i-- {
		fmt.Fprintf(&req, "GET /c/?k=key-%03d HTTP/1.1\r\nHost: localhost\r\n\r\n", i)
	}
	req.WriteString("GET /c/?k=last HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	seq := func(addr string) string {
		b, err := nginxtest.Exchange(addr, []byte(req.String()), 10*time.Second)
		if err != nil {
			return err.Error()
		}
		st := nginxtest.Statuses(b)
		if len(st) != keys+14 {
			return fmt.Sprintf("%d answers", len(st))
		}
		for i, s := range st[:keys] {
			if s != 200 {
				return fmt.Sprintf("key %d: %d", i, s)
			}
		}
		return fmt.Sprint(st[keys:])
	}
	var ng, gr string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ng = seq(p.Nginx.Addr) }()
	go func() { defer wg.Done(); gr = seq(p.Gresty.Addr) }()
	wg.Wait()
	if ng != gr {
		t.Errorf("answers differ:\nnginx:  %s\ngresty: %s", ng, gr)
	}
	t.Logf("around key %d: %s", first, ng)
	if !strings.Contains(ng, "503") || !strings.Contains(ng, "200") {
		t.Errorf("nginx's answers %s do not show the zone's limit near %d keys", ng, held)
	}
}

// TestPipelinedDelaysMatchNginx sends three requests of one key on one
// connection at once: nginx answers them one after the other, each
// delayed request holding back the next.
func TestPipelinedDelaysMatchNginx(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "pipe"), 0o755)
	os.WriteFile(filepath.Join(root, "pipe", "index.html"), []byte("pipe\n"), 0o644)
	p := difftest.Start(t, strings.ReplaceAll(limitConf, "%%ROOT%%", root))
	one := "GET /pipe/?k=pipe HTTP/1.1\r\nHost: localhost\r\n\r\n"
	raw := one + one + strings.Replace(one, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1)
	var ng, gr string
	var wg sync.WaitGroup
	wg.Add(2)
	answers := func(addr string) string {
		b, lat, err := traffictest.SendRaw(addr, raw, 10*time.Second)
		if err != nil {
			return err.Error()
		}
		states := regexp.MustCompile(`X-S: (\w+)`).FindAllStringSubmatch(string(b), -1)
		out := fmt.Sprint(nginxtest.Statuses(b))
		for _, s := range states {
			out += " " + s[1]
		}
		// two delays of a quarter second, one after the other.
		return fmt.Sprintf("%s, held back: %v", out, lat > 400*time.Millisecond)
	}
	go func() { defer wg.Done(); ng = answers(p.Nginx.Addr) }()
	go func() { defer wg.Done(); gr = answers(p.Gresty.Addr) }()
	wg.Wait()
	if ng != gr || !strings.Contains(ng, "DELAYED DELAYED, held back: true") {
		t.Errorf("nginx: %s\ngresty: %s", ng, gr)
	}
}
