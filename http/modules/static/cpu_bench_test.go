package static_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/http/modules/static/statictest"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// cpuConf is the static-1k setup: one worker, a 1 KiB file, keepalive,
// no access log.
const cpuConf = `
http {
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        ACCESS_LOG
    }
}
`

// BenchmarkStatic1kCPU serves a 1 KiB file from gresty and from nginx with
// the same keepalive load and reports requests per CPU-second of each
// server process (user and system time from /proc), and their ratio.
func BenchmarkStatic1kCPU(b *testing.B) {
	root := b.TempDir()
	p := filepath.Join(root, "1k.html")
	if err := os.WriteFile(p, bytes.Repeat([]byte("x"), 1024), 0o644); err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	conf := strings.ReplaceAll(cpuConf, "ROOT", root)
	ng := nginxtest.Start(b, strings.ReplaceAll(conf, "ACCESS_LOG", "access_log off;"))
	grLog := ""
	if modules.Registry().Known("access_log") {
		grLog = "access_log off;"
	}
	grConf := strings.ReplaceAll(conf, "ACCESS_LOG", grLog)
	end := strings.LastIndex(grConf, "}")
	grConf = grConf[:end] + "    server {\n        listen 127.0.0.1:%%PORT%%;\n        server_name globals.invalid;\n" +
		"        location / { add_header X-Unused \"%%HTTP_GLOBALS%%\"; }\n    }\n" + grConf[end:]
	gr := nginxtest.StartGresty(b, grConf)
	n := b.N
	if n < 20000 {
		n = 20000
	}
	ngRate := reqPerCPU(b, ng, n)
	grRate := reqPerCPU(b, gr, n)
	b.ReportMetric(grRate, "gresty-req/cpu-s")
	b.ReportMetric(ngRate, "nginx-req/cpu-s")
	b.ReportMetric(grRate/ngRate, "ratio")
}

// reqPerCPU sends n requests over four keepalive connections and divides
// them by the CPU time the server process used meanwhile.
func reqPerCPU(b *testing.B, s *nginxtest.Server, n int) float64 {
	b.Helper()
	pidText, err := os.ReadFile(filepath.Join(s.Prefix, "logs", "nginx.pid"))
	if err != nil {
		b.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidText))
	const conns = 4
	clients := make([]*statictest.Client, conns)
	for i := range clients {
		clients[i] = statictest.Dial(b, s.Addr, "GET /1k.html HTTP/1.1\r\nHost: bench\r\n\r\n")
		for k := 0; k < 100; k++ {
			clients[i].Do()
		}
	}
	before := cpuTicks(b, pid)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Add(1)
		go func(cl *statictest.Client) {
			defer wg.Done()
			for k := 0; k < n/conns; k++ {
				resp, err := cl.Do()
				if err != nil || !bytes.HasPrefix(resp, []byte("HTTP/1.1 200 ")) {
					b.Errorf("%v: %.40q", err, resp)
					return
				}
			}
		}(cl)
	}
	wg.Wait()
	ticks := cpuTicks(b, pid) - before
	if ticks <= 0 {
		ticks = 1
	}
	// /proc counts in USER_HZ, 100 on Linux.
	return float64(n) / (float64(ticks) / 100)
}

// cpuTicks returns utime+stime of a process.
func cpuTicks(b *testing.B, pid string) int64 {
	st, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+2:]))
	u, _ := strconv.ParseInt(f[11], 10, 64)
	s, _ := strconv.ParseInt(f[12], 10, 64)
	return u + s
}
