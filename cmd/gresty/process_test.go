package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

func runGresty(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(nginxtest.Gresty(t), args...)
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}

func TestVersionAndHelp(t *testing.T) {
	out, code := runGresty(t, "-v")
	if code != 0 || !strings.HasPrefix(out, "nginx version: nginx/1.22.1 (gresty/") {
		t.Errorf("-v: %d %q", code, out)
	}
	out, code = runGresty(t, "-V")
	if code != 0 || !strings.Contains(out, "\nconfigure arguments: --prefix=") || strings.Contains(out, "=dynamic") {
		t.Errorf("-V: %d %q", code, out)
	}
	for _, f := range []string{"-h", "-?"} {
		out, code = runGresty(t, f)
		if code != 0 || !strings.Contains(out, "Usage: gresty [-?hvVtTq] [-s signal] [-p prefix]") {
			t.Errorf("%s: %d %q", f, code, out)
		}
	}
}

func TestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-x"}, `gresty: invalid option: "x"`},
		{[]string{"foo"}, `gresty: invalid option: "foo"`},
		{[]string{"-p"}, `gresty: option "-p" requires directory name`},
		{[]string{"-c"}, `gresty: option "-c" requires file name`},
		{[]string{"-e"}, `gresty: option "-e" requires file name`},
		{[]string{"-g"}, `gresty: option "-g" requires parameter`},
		{[]string{"-s"}, `gresty: option "-s" requires parameter`},
		{[]string{"-s", "restart"}, `gresty: invalid option: "-s restart"`},
	} {
		out, code := runGresty(t, tc.args...)
		if code != 1 || strings.TrimSpace(out) != tc.want {
			t.Errorf("%v: exit %d, %q; want 1, %q", tc.args, code, out, tc.want)
		}
	}
}

// sameOptionsAsNginx checks the flag parser against nginx's for the error
// cases, program name aside.
func TestOptionErrorsMatchNginx(t *testing.T) {
	ngx := nginxtest.Binary(t)
	for _, args := range [][]string{{"-x"}, {"-p"}, {"-s", "restart"}, {"-tz"}, {"bare"}} {
		n, _ := exec.Command(ngx, args...).CombinedOutput()
		g, _ := exec.Command(nginxtest.Gresty(t), args...).CombinedOutput()
		want := strings.Replace(string(n), "nginx:", "gresty:", 1)
		if string(g) != want {
			t.Errorf("%v: nginx %q, gresty %q", args, n, g)
		}
	}
}

func writeConf(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func waitGone(pid int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	if !bytes.HasSuffix(b, []byte("\n")) {
		t.Errorf("pid file %q does not end with a newline", b)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("pid file %q: %v", b, err)
	}
	return pid
}

func get(addr, path string) (string, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", path)
	var buf bytes.Buffer
	b := make([]byte, 4096)
	for {
		n, err := c.Read(b)
		buf.Write(b[:n])
		if err != nil {
			break
		}
	}
	return buf.String(), nil
}

// TestDaemonLifecycle runs gresty as Test::Nginx does: daemon on, the
// start command returns once the server listens and the pid file exists;
// then -s reopen, -s reload (bad and good), -s quit.
func TestDaemonLifecycle(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "logs"), 0o755)
	port := nginxtest.FreePort(t)
	conf := func(extra string) string {
		return fmt.Sprintf("daemon on;\nmaster_process off;\nerror_log logs/error.log debug;\npid logs/nginx.pid;\n"+
			"events { worker_connections 64; }\nhttp {\n server {\n listen 127.0.0.1:%d;\n %s\n }\n}\n", port, extra)
	}
	cf := writeConf(t, dir, conf(""))
	addr := "127.0.0.1:" + strconv.Itoa(port)
	start := time.Now()
	out, code := runGresty(t, "-e", filepath.Join(dir, "logs/error.log"), "-p", dir+"/", "-c", cf)
	if code != 0 {
		t.Fatalf("start: exit %d: %s\n%s", code, out, readFile(dir, "logs/error.log"))
	}
	t.Logf("daemon start took %v", time.Since(start))
	pid := readPid(t, filepath.Join(dir, "logs/nginx.pid"))
	t.Cleanup(func() {
		if syscall.Kill(pid, 0) == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if pgid, _ := syscall.Getpgid(pid); pgid != pid {
		t.Errorf("daemon is not a process group leader: pid %d pgid %d", pid, pgid)
	}
	// the harness connects at once: the server must already listen.
	if resp, err := get(addr, "/x"); err != nil || !strings.HasPrefix(resp, "HTTP/1.1 404") {
		t.Fatalf("first request: %v %q", err, resp)
	}

	// reopen: the harness deletes error.log, then USR1 must recreate it.
	os.Remove(filepath.Join(dir, "logs/error.log"))
	if out, code := runGresty(t, "-p", dir+"/", "-c", cf, "-s", "reopen"); code != 0 {
		t.Fatalf("-s reopen: %d %s", code, out)
	}
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "logs/error.log")); return err == nil })

	// a broken configuration is refused and the server keeps serving.
	// ("-s reload" itself reads the configuration first and refuses to
	// signal, as nginx's does, so the harness's way is SIGHUP.)
	writeConf(t, dir, conf("bogus_directive;"))
	if _, code := runGresty(t, "-p", dir+"/", "-c", cf, "-s", "reload"); code != 1 {
		t.Fatalf("-s reload with a broken configuration: exit %d, want 1", code)
	}
	syscall.Kill(pid, syscall.SIGHUP)
	waitFor(t, func() bool {
		return strings.Contains(readFile(dir, "logs/error.log"), `unknown directive "bogus_directive"`)
	}, dir)
	if resp, err := get(addr, "/x"); err != nil || !strings.HasPrefix(resp, "HTTP/1.1 404") {
		t.Fatalf("after a bad reload: %v %q", err, resp)
	}

	// a good one takes effect for new connections.
	writeConf(t, dir, conf("server_tokens off;"))
	if out, code := runGresty(t, "-p", dir+"/", "-c", cf, "-s", "reload"); code != 0 {
		t.Fatalf("-s reload: %d %s", code, out)
	}
	waitFor(t, func() bool {
		resp, err := get(addr, "/y")
		return err == nil && strings.Contains(resp, "\r\nServer: nginx\r\n")
	})

	if out, code := runGresty(t, "-p", dir+"/", "-c", cf, "-s", "quit"); code != 0 {
		t.Fatalf("-s quit: %d %s", code, out)
	}
	if !waitGone(pid, 3*time.Second) {
		t.Fatal("gresty did not exit within 3s of SIGQUIT")
	}
	if _, err := os.Stat(filepath.Join(dir, "logs/nginx.pid")); err == nil {
		t.Error("pid file left behind")
	}
	if log := readFile(dir, "logs/error.log"); strings.Contains(log, "[alert]") {
		t.Errorf("alerts in the error log:\n%s", log)
	}
}

func waitFor(t *testing.T, cond func() bool, logDir ...string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			if len(logDir) > 0 {
				t.Fatalf("condition not met within 15s; error log:\n%s", readFile(logDir[0], "logs/error.log"))
			}
			t.Fatal("condition not met within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readFile(dir, name string) string {
	b, _ := os.ReadFile(filepath.Join(dir, name))
	return string(b)
}

// TestForegroundAsNginxTests runs gresty as nginx-tests does: daemon off,
// in the foreground as the harness's child, the pid file holding its own
// pid once it listens; SIGQUIT ends it; SIGTERM too.
func TestForegroundAsNginxTests(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGTERM} {
		dir := t.TempDir()
		port := nginxtest.FreePort(t)
		cf := writeConf(t, dir, fmt.Sprintf("daemon off;\nerror_log %s/error.log debug;\npid %s/nginx.pid;\nevents {}\nhttp { access_log off; server { listen 127.0.0.1:%d; } }\n", dir, dir, port))
		cmd := exec.Command(nginxtest.Gresty(t), "-p", dir+"/", "-c", "nginx.conf", "-e", "error.log")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "nginx.pid")); return err == nil })
		if pid := readPid(t, filepath.Join(dir, "nginx.pid")); pid != cmd.Process.Pid {
			t.Fatalf("pid file says %d, process is %d", pid, cmd.Process.Pid)
		}
		if _, err := get("127.0.0.1:"+strconv.Itoa(port), "/"); err != nil {
			t.Fatalf("not listening when the pid file appeared: %v", err)
		}
		_ = cf
		cmd.Process.Signal(sig)
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("%v: exit: %v", sig, err)
			}
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("%v: no exit within 5s", sig)
		}
		if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
			t.Errorf("%v: pid file left behind", sig)
		}
	}
}

// TestSignalErrors checks -s against a missing, garbled and stale pid file
// with nginx's messages.
func TestSignalErrors(t *testing.T) {
	dir := t.TempDir()
	pidPath := filepath.Join(dir, "x.pid")
	cf := writeConf(t, dir, "pid "+pidPath+";\nevents {}\n")
	out, code := runGresty(t, "-p", dir+"/", "-c", cf, "-s", "reload")
	if code != 1 || !strings.Contains(out, `[error]`) || !strings.Contains(out, `open() "`+pidPath+`" failed (2: No such file or directory)`) {
		t.Errorf("missing pid file: %d %q", code, out)
	}
	os.WriteFile(pidPath, []byte("abc\n"), 0o644)
	out, code = runGresty(t, "-p", dir+"/", "-c", cf, "-s", "stop")
	if code != 1 || !strings.Contains(out, `invalid PID number "abc" in "`+pidPath+`"`) {
		t.Errorf("garbled pid file: %d %q", code, out)
	}
	// a pid that surely does not exist: beyond the kernel's pid_max.
	os.WriteFile(pidPath, []byte("4194305\n"), 0o644)
	out, code = runGresty(t, "-p", dir+"/", "-c", cf, "-s", "quit")
	if code != 1 || !strings.Contains(out, `kill(4194305, 3) failed (3: No such process)`) {
		t.Errorf("stale pid: %d %q", code, out)
	}
}

// TestStartFailureReported: a daemon that cannot bind fails the start
// command with the error, as nginx does.
func TestStartFailureReported(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	cf := writeConf(t, dir, fmt.Sprintf("error_log %s/error.log;\npid %s/nginx.pid;\nevents {}\nhttp { access_log off; server { listen %s; } }\n", dir, dir, ln.Addr()))
	out, code := runGresty(t, "-p", dir+"/", "-c", cf)
	if code == 0 {
		t.Fatalf("start succeeded on a busy port: %s", out)
	}
	log := readFile(dir, "error.log")
	if !strings.Contains(log, "bind() to "+ln.Addr().String()+" failed (98: Address already in use)") {
		t.Errorf("error log lacks the bind error:\n%s\nstderr:\n%s", log, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "nginx.pid")); err == nil {
		t.Error("pid file written by a failed start")
	}
}

// TestDumpMatchesNginx compares -T's stdout with nginx's on a
// configuration made of several files.
func TestDumpMatchesNginx(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "conf.d"), 0o755)
	os.WriteFile(filepath.Join(dir, "conf.d", "a.conf"), []byte("server {\n    listen 127.0.0.1:8081;\n}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "conf.d", "b.conf"), []byte("server { listen 127.0.0.1:8082; } # no newline"), 0o644)
	os.WriteFile(filepath.Join(dir, "mime.types"), []byte("types {\n    text/html html;\n}\n"), 0o644)
	cf := writeConf(t, dir, "events {}\n\nhttp {\n    include mime.types;\n    include conf.d/*.conf;\n}\n")
	dump := func(bin string) (string, string) {
		cmd := exec.Command(bin, "-T", "-p", dir+"/", "-c", cf, "-e", "stderr")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%s -T: %v\n%s", bin, err, stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	nOut, nErr := dump(nginxtest.Binary(t))
	gOut, gErr := dump(nginxtest.Gresty(t))
	if nOut != gOut {
		t.Errorf("-T output differs\nnginx:\n%s\ngresty:\n%s", nOut, gOut)
	}
	if strings.ReplaceAll(nErr, "nginx:", "gresty:") != gErr {
		t.Errorf("-T messages differ\nnginx:\n%s\ngresty:\n%s", nErr, gErr)
	}
}

// Standard error is pointed at the error log file once the server runs,
// unless some error_log, at any level, writes to stderr: then lines of a
// location's "error_log stderr" reach the process's standard error, as
// nginx-tests' error_log.t checks.
func TestStderrKeptForErrorLogStderr(t *testing.T) {
	for _, tc := range []struct {
		name, loc  string
		wantStderr bool
	}{
		{"location logs to stderr", "error_log stderr;", true},
		{"no stderr log", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			port := nginxtest.FreePort(t)
			writeConf(t, dir, fmt.Sprintf("daemon off;\nerror_log %s/error.log;\npid %s/nginx.pid;\nevents {}\nhttp { access_log off; server { listen 127.0.0.1:%d; location / { %s } } }\n", dir, dir, port, tc.loc))
			var stderr bytes.Buffer
			cmd := exec.Command(nginxtest.Gresty(t), "-p", dir+"/", "-c", "nginx.conf", "-e", "error.log")
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Signal(syscall.SIGTERM)
			waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "nginx.pid")); return err == nil })
			// the document root does not exist: an [error] line for /x.
			if _, err := get("127.0.0.1:"+strconv.Itoa(port), "/x"); err != nil {
				t.Fatal(err)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			got := strings.Contains(stderr.String(), "[error]")
			if got != tc.wantStderr {
				t.Errorf("an [error] line on stderr: %v, want %v\nstderr:\n%s", got, tc.wantStderr, stderr.String())
			}
		})
	}
}

// With no -c and nothing at the default path, gresty runs its embedded
// configuration, as "make run" does on a fresh machine: it passes -t and
// serves the welcome page and the Lua demo on 127.0.0.1:8080 (when that
// port is free).
func TestEmbeddedConfig(t *testing.T) {
	if _, err := os.Stat("/etc/gresty/nginx.conf"); err == nil {
		t.Skip("a configuration exists at the default path")
	}
	run := t.TempDir()
	env := append(os.Environ(), "XDG_RUNTIME_DIR="+run)
	cmd := exec.Command(nginxtest.Gresty(t), "-t")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "test is successful") {
		t.Fatalf("-t: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:8080")
	if err != nil {
		t.Skipf("127.0.0.1:8080 is taken: %v", err)
	}
	l.Close()
	var stdout, stderr bytes.Buffer
	cmd = exec.Command(nginxtest.Gresty(t))
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	var page string
	waitFor(t, func() bool { page, err = get("127.0.0.1:8080", "/"); return err == nil && page != "" })
	if !strings.Contains(page, "Welcome to gresty!") {
		t.Errorf("/: %q\nstderr:\n%s", page, stderr.String())
	}
	lua, _ := get("127.0.0.1:8080", "/lua")
	if !strings.Contains(lua, "Hello from Lua on gresty!") || !strings.Contains(lua, "hits since start: 1") {
		t.Errorf("/lua: %q\nstderr:\n%s", lua, stderr.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	if !strings.Contains(stderr.String(), "using the embedded default configuration") {
		t.Errorf("no notice about the embedded configuration:\n%s", stderr.String())
	}
	if !strings.Contains(stdout.String(), `"GET /lua HTTP/1.0" 200`) {
		t.Errorf("access log on stdout: %q", stdout.String())
	}
}

// SIGQUIT lets a request in flight finish (its response arrives whole)
// while the listening socket closes at once; SIGHUP with a changed
// configuration also lets it finish, on the configuration it started
// with, and serves new requests with the new one.
func TestGracefulSignalsFinishRequests(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGQUIT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			port := nginxtest.FreePort(t)
			addr := "127.0.0.1:" + strconv.Itoa(port)
			conf := func(word string) {
				writeConf(t, dir, fmt.Sprintf("daemon off;\nerror_log %s/error.log info;\npid %s/nginx.pid;\nevents {}\nhttp { access_log off; server { listen %s; location /slow { echo_sleep 1; echo %s; } location /fast { echo %s; } } }\n", dir, dir, addr, word, word))
			}
			conf("old")
			cmd := exec.Command(nginxtest.Gresty(t), "-p", dir+"/", "-c", "nginx.conf", "-e", "error.log")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			defer func() {
				cmd.Process.Signal(syscall.SIGTERM)
				<-done
			}()
			waitFor(t, func() bool { _, err := get(addr, "/fast"); return err == nil }, dir)
			slow := make(chan string, 1)
			go func() {
				b, _ := get(addr, "/slow")
				slow <- b
			}()
			time.Sleep(300 * time.Millisecond) // the request is in echo_sleep
			if sig == syscall.SIGHUP {
				conf("new")
			}
			cmd.Process.Signal(sig)
			if sig == syscall.SIGHUP {
				waitFor(t, func() bool { b, _ := get(addr, "/fast"); return strings.HasSuffix(b, "\r\n\r\nnew\n") }, dir)
			} else {
				// the listener closes at once, before the request ends.
				waitFor(t, func() bool { _, err := get(addr, "/fast"); return err != nil }, dir)
			}
			select {
			case b := <-slow:
				if !strings.HasPrefix(b, "HTTP/1.1 200 OK") || !strings.HasSuffix(b, "\r\n\r\nold\n") {
					t.Errorf("the request in flight got %q", b)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the request in flight did not finish")
			}
			if sig == syscall.SIGQUIT {
				select {
				case err := <-done:
					done <- err
					if err != nil {
						t.Errorf("exit: %v", err)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no exit after the last request")
				}
			}
		})
	}
}

// TestWorkerPriorityAndCoreLimit starts gresty with worker_priority and
// worker_rlimit_core: the loop threads run at that nice value and the
// process has that core size limit, as nginx's workers.
func TestWorkerPriorityAndCoreLimit(t *testing.T) {
	dir := t.TempDir()
	port := nginxtest.FreePort(t)
	writeConf(t, dir, fmt.Sprintf("daemon off;\nworker_processes 2;\nworker_priority 7;\nworker_rlimit_core 1m;\n"+
		"error_log %s/error.log;\npid %s/nginx.pid;\nevents {}\nhttp { access_log off; server { listen 127.0.0.1:%d; } }\n", dir, dir, port))
	cmd := exec.Command(nginxtest.Gresty(t), "-p", dir+"/", "-c", "nginx.conf", "-e", "error.log")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "nginx.pid")); return err == nil })
	pid := cmd.Process.Pid
	limits, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`Max core file size\s+1048576\s+1048576`).Match(limits) {
		t.Errorf("core limit not set:\n%s", limits)
	}
	// the nice value is field 19 of a thread's stat, after the
	// parenthesised name.
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	niced := 0
	for _, f := range tasks {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 16 && fields[16] == "7" {
			niced++
		}
	}
	if niced != 2 {
		t.Errorf("%d threads at nice 7, want the 2 loops'", niced)
	}
}
