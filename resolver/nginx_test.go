//go:build linux

package resolver

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// luaModules returns the load_module lines nginx needs for the Lua
// module, "" when it is built in; it skips the test when nginx has none.
func luaModules(t *testing.T, bin string) string {
	t.Helper()
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	if bytes.Contains(out, []byte("lua-nginx-module")) && !bytes.Contains(out, []byte("=dynamic")) {
		return ""
	}
	dir := filepath.Join(filepath.Dir(filepath.Dir(bin)), "lib", "nginx", "modules")
	lua := filepath.Join(dir, "ngx_http_lua_module.so")
	if _, err := os.Stat(lua); err != nil {
		if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
			t.Fatalf("nginx has no Lua module (%v)", err)
		}
		t.Skip("nginx has no Lua module; differential test skipped")
	}
	s := ""
	if ndk := filepath.Join(dir, "ndk_http_module.so"); fileExists(ndk) {
		s += "load_module " + ndk + ";\n"
	}
	return s + "load_module " + lua + ";\n"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startLuaNginx runs nginx with resolver conf and a location /c that
// connects a cosocket to ?h=NAME on nginx's own port and prints the
// resolution error, or "ok". It returns the base URL.
func startLuaNginx(t *testing.T, resolver string) string {
	t.Helper()
	bin := nginxBinary(t)
	prefix := t.TempDir()
	for _, d := range []string{"conf", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	conf := luaModules(t, bin) + `
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    ` + resolver + `
    server {
        listen ` + addr.String() + `;
        location /c {
            content_by_lua_block {
                local sock = ngx.socket.tcp()
                local ok, err = sock:connect(ngx.var.arg_h, ` + itoa(addr.Port) + `)
                -- Connecting to an address other than nginx's own fails;
                -- only the resolution matters here.
                if not ok and err:find("could not be resolved", 1, true) then
                    ngx.print(err)
                else
                    ngx.print("ok")
                end
            }
        }
    }
}
`
	if err := os.WriteFile(filepath.Join(prefix, "conf", "nginx.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", prefix, "-c", "conf/nginx.conf")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", addr.String())
		if err == nil {
			c.Close()
			return "http://" + addr.String()
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
			t.Fatalf("nginx did not start: %s %s", stderr.String(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// zoneForComparison sets up the same zone on a server for nginx and for
// us.
func zoneForComparison(s *testServer) {
	var big []string
	for i := 1; i <= 60; i++ {
		big = append(big, "big.test. 60 IN A 127.0.0."+itoa(i))
	}
	s.add(big...)
	s.add(
		"ok.test. 60 IN A 127.0.0.1",
		"short.test. 1 IN A 127.0.0.1",
		"alias.test. 60 IN CNAME ok2.test.",
		"ok2.test. 60 IN A 127.0.0.1",
		"loop1.test. 60 IN CNAME loop2.test.",
		"loop2.test. 60 IN CNAME loop1.test.",
		"nodata.test. 60 IN TXT \"x\"",
	)
	s.set(func(s *testServer) {
		s.rcode["nx.test."] = dns.RcodeNameError
		s.rcode["sf.test."] = dns.RcodeServerFailure
		s.rcode["ref.test."] = dns.RcodeRefused
		s.trunc["big.test."] = true
		s.mute["mute.test."] = true
	})
}

// TestAgainstNginx resolves the same names in the same order through a
// Lua cosocket in nginx and through a Resolver, each against its own
// copy of one zone, and compares the errors and the questions each name
// server received after every step (what is cached, what is asked again,
// over which protocol).
func TestAgainstNginx(t *testing.T) {
	nsNginx, nsOurs := startServer(t), startServer(t)
	zoneForComparison(nsNginx)
	zoneForComparison(nsOurs)
	base := startLuaNginx(t, "resolver "+nsNginx.addr.String()+";\n    resolver_timeout 300ms;")

	e := newEnv(t, NewCache(nil))
	cfg, err := FromConf([]string{nsOurs.addr.String()}, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		watch string // the name whose questions are compared
	}{
		{"ok.test", "ok.test."},
		{"ok.test", "ok.test."},
		{"OK.Test.", "ok.test."},
		{"nx.test", "nx.test."},
		{"nx.test", "nx.test."},
		{"NX.Test.", "nx.test."},
		{"sf.test", "sf.test."},
		{"ref.test", "ref.test."},
		{"nodata.test", "nodata.test."},
		{"missing.test", "missing.test."},
		{"alias.test", "ok2.test."},
		{"alias.test", "alias.test."},
		{"loop1.test", "loop2.test."},
		{"big.test", "big.test."},
		{"big.test", "big.test."},
		{"mute.test", "mute.test."},
		{"a..b", "a..b."},
		{"127.0.0.1", "127.0.0.1."},
		{"localhost", "localhost."},
	}
	for i, st := range steps {
		resp, err := http.Get(base + "/c?h=" + url.QueryEscape(st.name))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := string(body)

		r := e.resolve(cfg, st.name)
		got := "ok"
		if r.Err != nil {
			got = r.Err.Error()
		}
		if got != want {
			t.Errorf("step %d %s: we say %q, nginx %q", i, st.name, got, want)
		}
		for _, typ := range []string{"A", "AAAA"} {
			for _, proto := range []string{"udp", "tcp"} {
				if g, w := nsOurs.count(st.watch, typ, proto), nsNginx.count(st.watch, typ, proto); g != w {
					t.Errorf("step %d %s: %s %s %s questions: ours %d, nginx %d", i, st.name, st.watch, typ, proto, g, w)
				}
			}
		}
	}
}
