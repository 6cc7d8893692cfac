package gzip_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// cpuConf is the gzip scenario: one worker, a 10 KiB text compressed on
// the fly at the default level, keepalive. /file.txt is a static file
// (gresty answers repeated bodies from its body cache); /dynamic returns
// about the same text with a per-request id, so every body is compressed.
const cpuConf = `
http {
    types { text/plain txt; }
    default_type text/plain;
    keepalive_requests 100000000;
    gzip on;
    gzip_types text/plain;
    ACCESS_LOG
    server {
        listen 127.0.0.1:%%PORT%%;
        root ROOT;
        location = /dynamic {
            set $a "PART1";
            set $b "PART2";
            set $c "PART3";
            return 200 "$a$b$c$request_id";
        }
    }
}
`

// BenchmarkGzip10kCPU serves the gzip scenario from gresty and from nginx
// with the same keepalive load and reports requests per CPU-second of
// each server process (user and system time from /proc) and their ratio.
func BenchmarkGzip10kCPU(b *testing.B) {
	root := b.TempDir()
	body := text(10240, "bench")
	p := filepath.Join(root, "file.txt")
	if err := os.WriteFile(p, body, 0o644); err != nil {
		b.Fatal(err)
	}
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	// the dynamic body is the file's text minus room for the id, in three
	// variables (nginx limits a parameter to 4 KiB); the text has no
	// quotes, backslashes or dollars to escape.
	conf := strings.NewReplacer("ROOT", root, "PART1", string(body[:4000]), "PART2", string(body[4000:8000]),
		"PART3", string(body[8000:10240-32])).Replace(cpuConf)
	ng := nginxtest.Start(b, strings.ReplaceAll(conf, "ACCESS_LOG", "access_log off;"))
	gr := nginxtest.StartGresty(b, strings.Replace(strings.ReplaceAll(conf, "ACCESS_LOG", ""), "    server {",
		"    server {\n        listen 127.0.0.1:%%PORT%%;\n        server_name globals.invalid;\n"+
			"        location / { add_header X-Unused \"%%HTTP_GLOBALS%%\"; }\n    }\n    server {", 1))
	n := max(b.N, 20000)
	for _, path := range []string{"/file.txt", "/dynamic"} {
		b.Run(strings.TrimPrefix(path, "/"), func(b *testing.B) {
			ngRate := reqPerCPU(b, ng, path, n)
			grRate := reqPerCPU(b, gr, path, n)
			b.ReportMetric(grRate, "gresty-req/cpu-s")
			b.ReportMetric(ngRate, "nginx-req/cpu-s")
			b.ReportMetric(grRate/ngRate, "ratio")
		})
	}
}

// reqPerCPU sends n gzip requests for path over four keepalive
// connections and divides them by the CPU time the server process used
// meanwhile.
func reqPerCPU(b *testing.B, s *nginxtest.Server, path string, n int) float64 {
	b.Helper()
	pidText, err := os.ReadFile(filepath.Join(s.Prefix, "logs", "nginx.pid"))
	if err != nil {
		b.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidText))
	const conns = 4
	req := []byte("GET " + path + " HTTP/1.1\r\nHost: bench\r\nAccept-Encoding: gzip, deflate\r\n\r\n")
	type client struct {
		c  net.Conn
		br *bufio.Reader
	}
	do := func(cl *client) error {
		if _, err := cl.c.Write(req); err != nil {
			return err
		}
		resp, err := http.ReadResponse(cl.br, nil)
		if err != nil {
			return err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "gzip" {
			b.Fatalf("%s: not compressed: %v", path, resp.Header)
		}
		return err
	}
	clients := make([]*client, conns)
	for i := range clients {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = &client{c: c, br: bufio.NewReaderSize(c, 64<<10)}
		for k := 0; k < 100; k++ {
			if err := do(clients[i]); err != nil {
				b.Fatal(err)
			}
		}
	}
	before := cpuTicks(b, pid)
	var wg sync.WaitGroup
	for _, cl := range clients {
		wg.Add(1)
		go func(cl *client) {
			defer wg.Done()
			for k := 0; k < n/conns; k++ {
				if err := do(cl); err != nil {
					b.Error(err)
					return
				}
			}
		}(cl)
	}
	wg.Wait()
	ticks := max(cpuTicks(b, pid)-before, 1)
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
