package luavm

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// refNginx is a running reference nginx with the Lua module, started by a
// test in its own prefix directory.
type refNginx struct {
	cmd  *exec.Cmd
	addr string
}

// nginxBinary finds nginx as the differential tests must: on PATH, then
// /usr/sbin/nginx; absent, the test is skipped unless
// GRESTY_REQUIRE_NGINX=1.
func nginxBinary(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
		if _, err := os.Stat(bin); err != nil {
			bin = ""
		}
	}
	if bin == "" {
		if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
			t.Fatal("nginx not found and GRESTY_REQUIRE_NGINX=1")
		}
		t.Skip("nginx not found; skipping the comparison with the reference")
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// luaModules returns the load_module lines for the Lua module, or "" when
// nginx has it built in.
func luaModules(t *testing.T, bin string) string {
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
		t.Skip("nginx has no Lua module")
	}
	s := ""
	if ndk := filepath.Join(dir, "ndk_http_module.so"); fileExists(ndk) {
		s += "load_module " + ndk + ";\n"
	}
	return s + "load_module " + lua + ";\n"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// startNginx runs nginx with a server whose location /run evaluates the
// Lua snippet in the request body like evalSnippet does.
func startNginx(t *testing.T) *refNginx {
	t.Helper()
	bin := nginxBinary(t)
	prefix := t.TempDir()
	for _, d := range []string{"conf", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	addr := freePort(t)
	conf := luaModules(t, bin) + `
daemon off;
master_process off;
worker_processes 1;
error_log logs/error.log;
pid logs/nginx.pid;
events { worker_connections 64; }
http {
    access_log off;
    client_body_buffer_size 1m;
    client_body_temp_path logs;
    server {
        listen ` + addr + `;
        location /run {
            content_by_lua_block {
                ngx.req.read_body()
                local f, err = loadstring(ngx.req.get_body_data(), "=snip")
                if not f then ngx.print("ERR:", err) return end
                local ok, res = pcall(f)
                if not ok then ngx.print("ERR:", tostring(res)) return end
                ngx.print(type(res) == "string" and res or "<non-string>")
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
	n := &refNginx{cmd: cmd, addr: addr}
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
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return n
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(prefix, "logs", "error.log"))
			t.Fatalf("nginx did not start: %s %s", stderr.String(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (n *refNginx) eval(src string) (string, error) {
	resp, err := http.Post("http://"+n.addr+"/run", "text/plain", strings.NewReader(src))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), err
}

// TestCompatNginx checks every compatCases expectation against the
// reference nginx, so the table keeps describing OpenResty's LuaJIT.
func TestCompatNginx(t *testing.T) {
	n := startNginx(t)
	for _, c := range compatCases {
		if strings.Contains(c.src, "collectgarbage") {
			continue // the reference's heap size is not ours to compare
		}
		got, err := n.eval(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if got != c.want {
			t.Errorf("reference disagrees with the table for %s\n nginx %q\n table %q", c.src, got, c.want)
		}
	}
}
