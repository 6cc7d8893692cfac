package lua_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// Many requests sleeping at once on one loop all finish together: their
// waits are timers, not blocked goroutines or a queue.
func TestConcurrentSleeps(t *testing.T) {
	s := startGrestyConf(t, `worker_processes 1;
events { worker_connections 4096; }
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t { content_by_lua_block { ngx.sleep(0.05) ngx.say("ok") } }
    }
}
`)
	const n = 1000
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := nginxtest.Exchange(s.Addr, []byte("GET /t HTTP/1.0\r\n\r\n"), 10*time.Second)
			if err != nil || nginxtest.Status(resp) != 200 || !bytes.HasSuffix(resp, []byte("\r\n\r\nok\n")) {
				mu.Lock()
				bad++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// one after another they would take 50 s; together, well under a
	// second on a quiet machine: the bound only tells the two apart, and
	// leaves room for a loaded one.
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Errorf("%d requests sleeping 50 ms took %v", n, elapsed)
	}
	if bad > 0 {
		t.Errorf("%d of %d requests failed", bad, n)
	}
}

// A timer created by init_worker_by_lua with ngx.timer.every runs again
// and again, with the http block's configuration and without a request.
func TestInitWorkerTimerEvery(t *testing.T) {
	s := nginxtest.StartGresty(t, `http {
    lua_shared_dict d 1m;
    init_worker_by_lua_block {
        local ok, err = ngx.timer.every(0.01, function(premature)
            local n = ngx.shared.d:incr("runs", 1, 0)
            if n == 3 then
                ngx.log(ngx.WARN, "every ran 3 times, phase ", ngx.get_phase())
            end
        end)
        if not ok then ngx.log(ngx.ERR, "every: ", err) end
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t { content_by_lua_block { ngx.say(ngx.shared.d:get("runs") or 0) } }
    }
}
`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := nginxtest.Exchange(s.Addr, []byte("GET /t HTTP/1.0\r\n\r\n"), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := bytes.Cut(resp, []byte("\r\n\r\n"))
		n, _ := strconv.Atoi(strings.TrimSpace(string(body)))
		if n >= 5 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the timer ran %d times in 5 s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	log := s.ErrorLog()
	if !strings.Contains(log, "every ran 3 times, phase timer, context: ngx.timer\n") {
		t.Errorf("no log line of the third run in the timer's context:\n%s", log)
	}
	if strings.Contains(log, "[error]") || strings.Contains(log, "[alert]") {
		t.Errorf("errors logged:\n%s", log)
	}
}

// On a graceful stop, pending timers run at once with premature = true
// (every timer once, not re-armed), a timer's code that then waits is
// waited for, new timers with a delay are refused, and the process exits
// within seconds although the timers were due much later.
func TestPrematureTimersOnQuit(t *testing.T) {
	s := nginxtest.StartGresty(t, `http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /t {
            content_by_lua_block {
                local function f(premature, name)
                    ngx.log(ngx.WARN, name, " premature: ", premature)
                    if premature then
                        local ok, err = ngx.timer.at(1, f, "late")
                        ngx.log(ngx.WARN, name, " new timer: ", ok, " ", err)
                        ngx.sleep(0.2)
                        ngx.log(ngx.WARN, name, " slept after quit")
                    end
                end
                assert(ngx.timer.at(100, f, "at"))
                assert(ngx.timer.every(50, f, "every"))
                ngx.say(ngx.timer.pending_count())
            }
        }
    }
}
`)
	resp, err := nginxtest.Exchange(s.Addr, []byte("GET /t HTTP/1.0\r\n\r\n"), 5*time.Second)
	if err != nil || !bytes.HasSuffix(resp, []byte("\r\n\r\n2\n")) {
		t.Fatalf("response %q, %v", resp, err)
	}
	pid := readPid(t, s.Prefix)
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	for syscall.Kill(pid, 0) == nil {
		if time.Since(start) > 4*time.Second {
			t.Fatalf("still running 4 s after SIGQUIT:\n%s", s.ErrorLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
	log := s.ErrorLog()
	for _, want := range []string{
		"at premature: true, context: ngx.timer",
		"every premature: true, context: ngx.timer",
		"at new timer: nil process exiting, context: ngx.timer",
		"at slept after quit, context: ngx.timer",
		"every slept after quit, context: ngx.timer",
	} {
		if c := strings.Count(log, want); c != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", want, c, log)
		}
	}
	if strings.Contains(log, "premature: false") {
		t.Errorf("a timer ran normally:\n%s", log)
	}
}

// grestyServer is a gresty process started by startGrestyConf.
type grestyServer struct {
	Addr, Prefix string
}

// startGrestyConf runs gresty in the foreground on a whole configuration
// of its own (events block included), with %%PORT%% replaced by a free
// port and %%LOG%% by the path of logs/debug.log, and stops it with
// SIGQUIT when the test ends.
func startGrestyConf(t *testing.T, conf string) *grestyServer {
	t.Helper()
	prefix := t.TempDir()
	for _, d := range []string{"conf", "logs"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := nginxtest.FreePort(t)
	conf = fmt.Sprintf("daemon off;\nmaster_process off;\npid %[1]s/logs/nginx.pid;\nerror_log %[1]s/logs/error.log warn;\n", prefix) +
		strings.NewReplacer("%%PORT%%", strconv.Itoa(port), "%%LOG%%", filepath.Join(prefix, "logs", "debug.log")).Replace(conf)
	path := filepath.Join(prefix, "conf", "nginx.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginxtest.Gresty(t), "-p", prefix+"/", "-c", path, "-e", filepath.Join(prefix, "logs", "error.log"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for deadline := time.Now().Add(10 * time.Second); ; {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return &grestyServer{Addr: addr, Prefix: prefix}
		}
		if time.Now().After(deadline) {
			t.Fatalf("gresty did not listen on %s", addr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func readPid(t *testing.T, prefix string) int {
	t.Helper()
	// the pid file is written once the configuration is applied, which
	// may be just after the first requests are served.
	var b []byte
	var err error
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if b, err = os.ReadFile(filepath.Join(prefix, "logs", "nginx.pid")); err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// dialRaw sends raw on a new connection and returns it, for tests that
// control the connection's end themselves.
func dialRaw(t *testing.T, addr, raw string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprint(c, raw); err != nil {
		t.Fatal(err)
	}
	return c
}

// With lua_code_cache off, ngx_lua gives each request a VM of its own that
// the request and its timers hold; the last to end closes it. gresty logs
// the same reference counting.
func TestCodeCacheOffTimerVMRefs(t *testing.T) {
	s := startGrestyConf(t, `error_log %%LOG%% debug;
events {}
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        lua_code_cache off;
        location /t {
            content_by_lua_block {
                local function f() ngx.sleep(0.01) end
                ngx.timer.at(0, f)
                ngx.timer.at(0, f)
                ngx.say("ok")
            }
        }
    }
}
`)
	resp, err := nginxtest.Exchange(s.Addr, []byte("GET /t HTTP/1.0\r\n\r\n"), 5*time.Second)
	if err != nil || !bytes.HasSuffix(resp, []byte("\r\n\r\nok\n")) {
		t.Fatalf("response %q, %v", resp, err)
	}
	time.Sleep(100 * time.Millisecond)
	b, err := os.ReadFile(filepath.Join(s.Prefix, "logs", "debug.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{
		"lua decrementing the reference count for Lua VM: 3",
		"lua decrementing the reference count for Lua VM: 2",
		"lua decrementing the reference count for Lua VM: 1",
		"lua close the global Lua VM",
	} {
		if c := strings.Count(log, want); c != 1 {
			t.Errorf("%q logged %d times, want once", want, c)
		}
	}
}
