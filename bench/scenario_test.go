package bench

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

func TestRenderConf(t *testing.T) {
	s := &Scenario{Name: "x", Lua: true, HTTP: "\n    server {\n        listen 127.0.0.1:%%PORT%%;\n        root %%ROOT%%;\n" +
		"        location /b { proxy_pass http://127.0.0.1:%%BACKEND%%; }\n    }\n"}
	v := confVars{Port: 8081, BackendPort: 9091, Root: "/srv/html", Prefix: "/srv"}
	got := renderConf(s, v, []string{"access_log off;", "client_body_temp_path %%PREFIX%%/cb;"}, []string{"/m/ndk.so", "/m/lua.so"})
	want := `load_module /m/ndk.so;
load_module /m/lua.so;
daemon off;
master_process off;
worker_processes 1;
pid logs/nginx.pid;
error_log logs/error.log warn;

events {
    worker_connections 1024;
}

http {
    access_log off;
    client_body_temp_path /srv/cb;
    server {
        listen 127.0.0.1:8081;
        root /srv/html;
        location /b { proxy_pass http://127.0.0.1:9091; }
    }
}
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	s.Lua = false
	if got := renderConf(s, v, nil, []string{"/m/ndk.so"}); strings.Contains(got, "load_module") {
		t.Errorf("no Lua, no load_module:\n%s", got)
	}
	be := renderBackendConf(&Backend{HTTP: "server { listen 127.0.0.1:%%PORT%%; }\n"}, confVars{Port: 7})
	if !strings.Contains(be, "access_log off;\nserver { listen 127.0.0.1:7; }\n}\n") {
		t.Errorf("backend conf:\n%s", be)
	}
}

func TestRequestBytes(t *testing.T) {
	s := &Scenario{Path: "/a?b", Headers: []string{"Connection: close"}}
	got := string(requestBytes(s, "127.0.0.1:80"))
	if want := "GET /a?b HTTP/1.1\r\nHost: 127.0.0.1:80\r\nConnection: close\r\n\r\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestSelect(t *testing.T) {
	names := func(list []*Scenario) string {
		var out []string
		for _, s := range list {
			out = append(out, s.Name)
		}
		return strings.Join(out, ",")
	}
	tests := []struct {
		names []string
		quick bool
		want  string
		err   bool
	}{
		{nil, true, "return,static-1k,lua-hello", false},
		{nil, false, "return,pipeline,conn-close,static-1k,static-64k,gzip,gzip-dynamic,proxy,lua-hello,lua-json,lua-headers,lua-shdict,lua-redis", false},
		{[]string{"gzip", "return"}, false, "return,gzip", false},
		{[]string{"nope"}, false, "", true},
	}
	for _, tc := range tests {
		got, err := Select(tc.names, tc.quick)
		if (err != nil) != tc.err || names(got) != tc.want {
			t.Errorf("Select(%v, %v) = %s, %v; want %s", tc.names, tc.quick, names(got), err, tc.want)
		}
	}
}

// TestChecksJudge shows each scenario's check accepts the answer it
// describes and refuses a wrong one, so a broken server fails loudly.
func TestChecksJudge(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(scenarios["gzip"].Files["10k.html"])
	zw.Close()
	hdr := func(kv ...string) map[string][]string {
		h := map[string][]string{}
		for i := 0; i < len(kv); i += 2 {
			h[kv[i]] = []string{kv[i+1]}
		}
		return h
	}
	tests := []struct {
		scenario string
		r        Response
		ok       bool
	}{
		{"return", Response{Status: 200, Body: []byte("hello\n")}, true},
		{"return", Response{Status: 200, Body: []byte("hello")}, false},
		{"return", Response{Status: 404, Body: []byte("hello\n")}, false},
		{"pipeline", Response{Status: 200, Body: []byte("hello\n")}, true},
		{"conn-close", Response{Status: 200, Body: []byte("hello\n"), Close: true}, true},
		{"conn-close", Response{Status: 200, Body: []byte("hello\n")}, false},
		{"static-1k", Response{Status: 200, Body: scenarios["static-1k"].Files["1k.html"]}, true},
		{"static-1k", Response{Status: 200, Body: scenarios["static-1k"].Files["1k.html"][:1023]}, false},
		{"static-64k", Response{Status: 200, Body: scenarios["static-64k"].Files["64k.html"]}, true},
		{"static-64k", Response{Status: 200, Body: scenarios["static-64k"].Files["64k.html"][:32<<10]}, false},
		{"gzip", Response{Status: 200, Header: hdr("Content-Encoding", "gzip"), Body: gz.Bytes()}, true},
		{"gzip", Response{Status: 200, Body: gz.Bytes()}, false},
		{"gzip", Response{Status: 200, Header: hdr("Content-Encoding", "gzip"), Body: scenarios["gzip"].Files["10k.html"]}, false},
		{"gzip-dynamic", Response{Status: 200, Header: hdr("Content-Encoding", "gzip"), Body: gzipped(append(append([]byte{}, gzipDynamicText...), "0123456789abcdef0123456789abcdef"...))}, true},
		{"gzip-dynamic", Response{Status: 200, Header: hdr("Content-Encoding", "gzip"), Body: gzipped(append(append([]byte{}, gzipDynamicText...), "$request_id"...))}, false},
		{"gzip-dynamic", Response{Status: 200, Header: hdr("Content-Encoding", "gzip"), Body: gzipped(gzipDynamicText)}, false},
		{"lua-hello", Response{Status: 200, Body: []byte("hello\n")}, true},
		{"lua-hello", Response{Status: 500, Body: []byte("hello\n")}, false},
		{"lua-json", Response{Status: 200, Body: []byte(`[43,"gresty",3,true,200]` + "\n")}, true},
		{"lua-json", Response{Status: 200, Body: []byte(`[42,"gresty",3,true,200]` + "\n")}, false},
		{"lua-headers", Response{Status: 200, Header: hdr("X-Api-Key-Seen", "k-1234", "X-Client", "10.1.2.3", "Cache-Control", "no-store"), Body: []byte("acme\n")}, true},
		{"lua-headers", Response{Status: 200, Header: hdr("X-Api-Key-Seen", "k-1234", "Cache-Control", "no-store"), Body: []byte("acme\n")}, false},
		{"lua-headers", Response{Status: 200, Header: hdr("X-Api-Key-Seen", "k-1234", "X-Client", "10.1.2.3", "Cache-Control", "no-store"), Body: []byte("none\n")}, false},
		{"lua-shdict", Response{Status: 200, Body: []byte("17\n")}, true},
		{"lua-shdict", Response{Status: 200, Body: []byte("hello\n")}, false},
		{"lua-shdict", Response{Status: 500, Body: []byte("17\n")}, false},
		{"lua-redis", Response{Status: 200, Body: []byte(redisValue + "\n")}, true},
		{"lua-redis", Response{Status: 200, Body: []byte("\n")}, false},
		{"lua-redis", Response{Status: 502, Body: []byte(redisValue + "\n")}, false},
	}
	for _, tc := range tests {
		r := tc.r
		if r.Header == nil {
			r.Header = hdr()
		}
		if err := scenarios[tc.scenario].Check(&r); (err == nil) != tc.ok {
			t.Errorf("%s: check of status %d, %d bytes = %v, want ok %v", tc.scenario, r.Status, len(r.Body), err, tc.ok)
		}
	}
}

func gzipped(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// TestScenariosAgainstServers starts nginx and gresty on every scenario's
// configuration, as the benchmark does, and checks one response from each:
// a scenario that a server cannot run is found here, not at benchmark
// time. No load is generated.
func TestScenariosAgainstServers(t *testing.T) {
	ngx := nginxtest.Binary(t)
	servers := []struct{ name, bin string }{{"nginx", ngx}, {"gresty", nginxtest.Gresty(t)}}
	for _, s := range Scenarios() {
		if s.Lua {
			if _, err := os.Stat(DefaultLuaModules[1]); err != nil {
				continue
			}
		}
		if s.Backend != nil {
			continue // backends need their own setup; covered when such a scenario lands
		}
		t.Run(s.Name, func(t *testing.T) {
			dir := t.TempDir()
			root := filepath.Join(dir, "html")
			if err := prepareDir(dir, root, s.Files); err != nil {
				t.Fatal(err)
			}
			port := nginxtest.FreePort(t)
			v := confVars{Port: port, Root: root, Prefix: dir}
			addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			for i, sv := range servers {
				known, _ := knownLines(sv.bin, filepath.Join(dir, "probe"+strconv.Itoa(i)), plumbing)
				conf := filepath.Join(dir, "conf", sv.name+".conf")
				if err := os.WriteFile(conf, []byte(renderConf(s, v, known, DefaultLuaModules)), 0o644); err != nil {
					t.Fatal(err)
				}
				if err := checkOnce(s, sv.bin, dir, conf, addr); err != nil {
					t.Errorf("%s: %v", sv.name, err)
				}
			}
		})
	}
}

// TestWaitReady counts the connections a starting server accepts and
// drops before it answers.
func TestWaitReady(t *testing.T) {
	tests := []struct {
		name  string
		drops int
		reply string
		ok    bool
	}{
		{"ready at once", 0, "HTTP/1.1 200 OK\r\n\r\n", true},
		{"drops two first", 2, "HTTP/1.1 200 OK\r\n\r\n", true},
		{"not HTTP", 0, "SSH-2.0-x\r\n", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			go func() {
				for n := 0; ; n++ {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					if n < tc.drops {
						// unread request bytes make close send a reset, as
						// a server without a handler for the connection.
						time.Sleep(20 * time.Millisecond)
						c.Close()
						continue
					}
					buf := make([]byte, 512)
					c.Read(buf)
					c.Write([]byte(tc.reply))
					c.Close()
				}
			}()
			p := &proc{name: "fake", out: &capWriter{}, done: make(chan struct{})}
			dropped, err := p.waitReady(ln.Addr().String(), 500*time.Millisecond)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok %v", err, tc.ok)
			}
			if tc.ok && dropped != tc.drops {
				t.Errorf("dropped %d, want %d", dropped, tc.drops)
			}
		})
	}
}

// checkOnce runs bin on conf, checks one answer and stops it.
func checkOnce(s *Scenario, bin, dir, conf, addr string) error {
	cmd := exec.Command(bin, "-p", dir+"/", "-c", conf, "-e", filepath.Join(dir, "logs", "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	p := &proc{name: filepath.Base(bin), cmd: cmd, out: &capWriter{max: 4096}, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	defer p.stop(syscall.SIGTERM)
	if _, err := p.waitReady(addr, 10*time.Second); err != nil {
		return fmt.Errorf("%v: %s%s", err, out.String(), errorLogTail(dir))
	}
	if err := checkServer(s, addr); err != nil {
		return fmt.Errorf("%v%s", err, errorLogTail(dir))
	}
	return nil
}
