package http_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	stdhttp "net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/core"
	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// serveConf runs an http block in this process on one loop with every
// module, and returns the runtime, the address of its first listener and
// the prefix directory (which PREFIX in the block names).
func serveConf(t *testing.T, httpBlock string) (rt *http.Runtime, addr, prefix string) {
	t.Helper()
	prefix = t.TempDir()
	if err := os.Mkdir(filepath.Join(prefix, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := core.Build(core.BuildOptions{
		Registry:        modules.Registry(),
		Prefix:          prefix,
		ConfFile:        "nginx.conf",
		Text:            []byte("events { worker_connections 64; }\n" + strings.ReplaceAll(httpBlock, "PREFIX", prefix)),
		DefaultErrorLog: filepath.Join(prefix, "logs", "error.log"),
		StartLog:        errlog.New(nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := eventloop.NewGroup(eventloop.GroupConfig{Loops: 1, Loop: eventloop.Config{WorkerConnections: 64}})
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Stop() })
	rt = http.NewRuntime(g)
	hc := http.ConfigOf(c)
	if err := rt.Apply(hc, c.Log); err != nil {
		t.Fatal(err)
	}
	return rt, rt.Addr(hc.Addrs[0].Key()), prefix
}

// A request whose upstream is done waits for the client to take the rest
// of the response under send_timeout (here the whole response fits the
// proxy's buffers, so the upstream is read to its end while the client
// reads nothing). When the client goes away meanwhile,
// the request is over, and so must be its timer: the upstream state is
// pooled with the request for the next one, which a late timer would
// time out.
func TestUpstreamTimerStopsWithRequest(t *testing.T) {
	const size = 512 << 10
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	sent := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			sent <- err
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				sent <- err
				return
			}
			if line == "\r\n" {
				break
			}
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)
		_, err = c.Write(make([]byte, size))
		sent <- err
		io.Copy(io.Discard, c)
	}()
	rt, addr, prefix := serveConf(t, fmt.Sprintf(`
http {
    access_log off;
    server {
        listen 127.0.0.1:%d sndbuf=16k;
        location / { proxy_pass http://%s; proxy_buffers 8 256k; }
    }
}
`, nginxtest.FreePort(t), ln.Addr()))
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		// a small window, so that most of the response waits in the
		// server for a client that reads nothing
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sent:
		if err != nil {
			t.Fatalf("backend: %v", err)
		}
	case <-time.After(10 * time.Second):
		b, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
		t.Fatalf("the proxy did not read the upstream's response\n%s", b)
	}
	// the upstream connection is read to its end at once; give the loop
	// a moment to finish the upstream (the request then waits for the
	// client, with the small buffers on both sides holding little), then
	// reset the client connection.
	time.Sleep(200 * time.Millisecond)
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		kept, armed := http.PooledUpstreams(rt)
		if kept == 1 {
			if armed != 0 {
				t.Fatalf("%d timers of a finished request's upstream are armed", armed)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the request was not released (%d pooled upstream states)", kept)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The pooled upstream state serves requests of different shapes one after
// the other: what one request's tries recorded (a failed peer, a backup
// list, an error) never shows in the next one's.
func TestUpstreamStateReused(t *testing.T) {
	be := &stdhttp.Server{Handler: stdhttp.HandlerFunc(func(w stdhttp.ResponseWriter, r *stdhttp.Request) {
		io.WriteString(w, "ok "+r.URL.Path)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go be.Serve(ln)
	defer be.Close()
	live := ln.Addr().String()
	dead := fmt.Sprintf("127.0.0.1:%d", nginxtest.FreePort(t))
	_, addr, _ := serveConf(t, fmt.Sprintf(`
http {
    access_log off;
    upstream failover { server %[2]s max_fails=0; server %[1]s backup; keepalive 4; }
    upstream single { server %[1]s; keepalive 4; }
    upstream down { server %[2]s max_fails=0; }
    server {
        listen 127.0.0.1:%[3]d;
        add_header X-Addr $upstream_addr always;
        add_header X-Status $upstream_status always;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        location /failover { proxy_pass http://failover; }
        location /single { proxy_pass http://single; }
        location /down { proxy_pass http://down; }
    }
}
`, live, dead, nginxtest.FreePort(t)))
	type want struct {
		status     int
		addr, ups  string
		bodyPrefix string
	}
	routes := map[string]want{
		"/failover": {200, dead + ", " + live, "502, 200", "ok /failover"},
		"/single":   {200, live, "200", "ok /single"},
		"/down":     {502, dead, "502", "<html>"},
	}
	order := []string{"/failover", "/single", "/down", "/single", "/failover", "/failover", "/down", "/down", "/single"}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	for i, path := range order {
		if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := stdhttp.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("#%d %s: %v", i, path, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		w := routes[path]
		got := want{resp.StatusCode, resp.Header.Get("X-Addr"), resp.Header.Get("X-Status"), string(body)}
		if got.status != w.status || got.addr != w.addr || got.ups != w.ups || !strings.HasPrefix(got.bodyPrefix, w.bodyPrefix) {
			t.Errorf("#%d %s: %d %q %q %.20q, want %d %q %q %q", i, path, got.status, got.addr, got.ups, got.bodyPrefix,
				w.status, w.addr, w.ups, w.bodyPrefix)
		}
	}
}
