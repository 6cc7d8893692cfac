// Package nginxtest runs the system's nginx (Debian's 1.22 build with its
// dynamic modules) inside Go tests, so that gresty's behaviour can be
// compared with the real thing byte for byte.
//
// A test calls Start with a configuration; the server runs in the
// foreground as a single process in a temporary prefix and is stopped when
// the test ends. Exchange sends raw bytes and returns the raw reply; Status
// and Statuses read status codes out of it.
//
// When nginx is not installed, tests that need it are skipped, unless the
// environment sets GRESTY_REQUIRE_NGINX=1 (as CI does), which makes them
// fail instead.
//
// Everything here may be called from any test goroutine.
package nginxtest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
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
)

// ModulesDir is where Debian installs nginx's dynamic modules.
const ModulesDir = "/usr/lib/nginx/modules"

// fallbackBinary is Debian's nginx path, used when nginx is not on PATH
// (it lives in sbin, which a test's PATH often lacks).
const fallbackBinary = "/usr/sbin/nginx"

// Binary returns the path of the nginx executable: "nginx" from PATH, else
// /usr/sbin/nginx. Without one it skips the test, or fails it when
// GRESTY_REQUIRE_NGINX=1.
func Binary(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if fi, err := os.Stat(fallbackBinary); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return fallbackBinary
	}
	if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
		t.Fatal("nginx not found on PATH or at " + fallbackBinary + " and GRESTY_REQUIRE_NGINX=1")
	}
	t.Skip("nginx not found on PATH or at " + fallbackBinary + "; install Debian's nginx to run this test")
	return ""
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("nginxtest: finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// LoadModule returns the load_module line(s) for one of Debian's dynamic
// modules, by its short name: "echo" gives
// "load_module /usr/lib/nginx/modules/ngx_http_echo_module.so;\n". Known
// short names are echo, lua, ndk, headers-more, set-misc, memc; "lua" and
// "set-misc" are preceded by the ndk module they depend on. Any other name
// is taken as the file's base name without ".so".
func LoadModule(name string) string {
	line := func(file string) string {
		return "load_module " + filepath.Join(ModulesDir, file+".so") + ";\n"
	}
	switch name {
	case "ndk":
		return line("ndk_http_module")
	case "echo":
		return line("ngx_http_echo_module")
	case "headers-more":
		return line("ngx_http_headers_more_filter_module")
	case "lua":
		return line("ndk_http_module") + line("ngx_http_lua_module")
	case "set-misc":
		return line("ndk_http_module") + line("ngx_http_set_misc_module")
	case "memc":
		return line("ngx_http_memc_module")
	}
	return line(name)
}

// Server is a running nginx started by Start.
type Server struct {
	// Addr is "127.0.0.1:port" for the %%PORT%% listener.
	Addr string
	// Port is that port.
	Port int
	// Prefix is the temporary prefix directory (nginx -p).
	Prefix string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // set when the process exits, before done closes
}

var httpBlock = regexp.MustCompile(`(?m)^\s*http\s*\{`)

// Start runs nginx with conf and stops it when the test ends.
//
// conf is the main-context configuration after the lines Start writes
// itself (daemon off, master_process off, pid, error_log at info level in
// the prefix, and an events block); it normally holds one http block.
// These placeholders are replaced:
//
//	%%PORT%%     a free port, which Start waits on before returning
//	%%PREFIX%%   the prefix directory
//	%%HTTP_GLOBALS%%  temp paths and access_log inside the prefix
//
// If conf has no %%HTTP_GLOBALS%%, it is inserted at the top of the first
// http block, so nothing is written outside the prefix. modules names
// Debian dynamic modules to load (see LoadModule).
//
// A configuration error, or a server that does not listen within ten
// seconds, fails the test with nginx's error log.
func Start(t testing.TB, conf string, modules ...string) *Server {
	t.Helper()
	return StartBinary(t, Binary(t), conf, modules...)
}

// StartBinary is Start for another nginx-compatible binary, such as
// gresty (see Gresty): the same configuration, prefix layout and command
// line.
func StartBinary(t testing.TB, bin, conf string, modules ...string) *Server {
	t.Helper()
	prefix := t.TempDir()
	for _, d := range []string{"conf", "logs", "html"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatalf("nginxtest: %v", err)
		}
	}
	port := FreePort(t)
	// As Test::Nginx does, leave out the temp paths of modules the
	// binary's -V says it was built without.
	without := builtWithout(bin)
	globals := fmt.Sprintf("client_body_temp_path %s/client_body_temp;\n", prefix)
	for _, m := range []string{"proxy", "fastcgi", "uwsgi", "scgi"} {
		if !without[m] {
			globals += fmt.Sprintf("%[1]s_temp_path %[2]s/%[1]s_temp;\n", m, prefix)
		}
	}
	if !without["log"] {
		globals += fmt.Sprintf("access_log %s/logs/access.log;\n", prefix)
	}
	if !strings.Contains(conf, "%%HTTP_GLOBALS%%") {
		if loc := httpBlock.FindStringIndex(conf); loc != nil {
			conf = conf[:loc[1]] + "\n%%HTTP_GLOBALS%%\n" + conf[loc[1]:]
		}
	}
	conf = strings.NewReplacer(
		"%%PORT%%", strconv.Itoa(port),
		"%%PREFIX%%", prefix,
		"%%HTTP_GLOBALS%%", globals,
	).Replace(conf)

	var full strings.Builder
	for _, m := range modules {
		full.WriteString(LoadModule(m))
	}
	fmt.Fprintf(&full, "daemon off;\nmaster_process off;\nworker_processes 1;\n"+
		"pid %[1]s/logs/nginx.pid;\nerror_log %[1]s/logs/error.log info;\n"+
		"events { worker_connections 256; }\n", prefix)
	full.WriteString(conf)

	confPath := filepath.Join(prefix, "conf", "nginx.conf")
	if err := os.WriteFile(confPath, []byte(full.String()), 0o644); err != nil {
		t.Fatalf("nginxtest: %v", err)
	}
	s := &Server{
		Addr:   net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		Port:   port,
		Prefix: prefix,
		done:   make(chan struct{}),
	}
	var stderr bytes.Buffer
	s.cmd = exec.Command(bin, "-p", prefix+"/", "-c", confPath, "-e", filepath.Join(prefix, "logs", "error.log"))
	s.cmd.Stdout = &stderr
	s.cmd.Stderr = &stderr
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("nginxtest: starting %s: %v", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(s.stop)

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.done:
			t.Fatalf("nginxtest: nginx exited (%v): %s\n%s", s.err, stderr.String(), s.ErrorLog())
		default:
		}
		c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			s.waitPid(t, deadline)
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginxtest: nginx did not listen on %s within 10s: %v\n%s", s.Addr, err, s.ErrorLog())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitPid waits for the pid file, as Test::Nginx does before its first
// request: gresty's loops may accept a moment before it is written. It
// does not connect again, so the connection numbers in the logs stay
// those of the test's own requests.
func (s *Server) waitPid(t testing.TB, deadline time.Time) {
	t.Helper()
	for {
		if fi, err := os.Stat(filepath.Join(s.Prefix, "logs", "nginx.pid")); err == nil && fi.Size() > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginxtest: no pid file within 10s\n%s", s.ErrorLog())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// stop asks nginx to quit gracefully and kills that one process if it has
// not exited after five seconds.
func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// ErrorLog returns the contents of the server's error log.
func (s *Server) ErrorLog() string {
	b, err := os.ReadFile(filepath.Join(s.Prefix, "logs", "error.log"))
	if err != nil {
		return "(no error log: " + err.Error() + ")"
	}
	return string(b)
}

// Log returns the log file logs/name once it holds at least lines
// lines, or as it is after 5 s. A server writes the access log after the
// response has gone out, so a client that has its answer may read the
// file before the line is there.
func (s *Server) Log(name string, lines int) string {
	path := filepath.Join(s.Prefix, "logs", name)
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if bytes.Count(b, []byte("\n")) >= lines || time.Now().After(deadline) {
			return string(b)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Exchange connects to addr, writes raw, half-closes the connection so the
// server sees the end of the request stream, and returns everything it
// sends back until it closes the connection, or has sent a complete
// response marked "Connection: close" (nginx may linger before closing
// after an error), or timeout passes. A reset after some reply is returned
// with the bytes read and no error.
func Exchange(addr string, raw []byte, timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	_ = c.SetDeadline(deadline)
	if _, err := c.Write(raw); err != nil && !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
	var out bytes.Buffer
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		out.Write(buf[:n])
		if n > 0 && closing(out.Bytes()) {
			return out.Bytes(), nil
		}
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, syscall.ECONNRESET) && out.Len() > 0:
				return out.Bytes(), nil
			case errors.As(err, &ne) && ne.Timeout():
				return out.Bytes(), fmt.Errorf("nginxtest: no close within %v: %w", timeout, err)
			case errors.Is(err, io.EOF):
				return out.Bytes(), nil
			}
			return out.Bytes(), err
		}
	}
}

// Status returns the status code of the first final response in resp,
// skipping interim "100 Continue" responses; 0 if resp does not start with
// a status line (an empty reply, or an HTTP/0.9 one).
func Status(resp []byte) int {
	s := Statuses(resp)
	if len(s) == 0 {
		return 0
	}
	return s[0]
}

// Statuses returns the status codes of the consecutive responses in resp,
// framed by Content-Length or chunked coding, skipping interim 1xx
// responses. It stops at the first bytes that are not a response head; a
// response with neither framing ends the list.
func Statuses(resp []byte) []int {
	var out []int
	for len(resp) > 0 {
		code, body, rest, ok := splitResponse(resp)
		if !ok {
			break
		}
		if code >= 100 && code < 200 {
			resp = rest
			continue
		}
		out = append(out, code)
		if body < 0 {
			break
		}
		resp = rest
	}
	return out
}

// closing reports whether resp ends with a complete response that carries
// "Connection: close".
func closing(resp []byte) bool {
	for len(resp) > 0 {
		code, body, rest, ok := splitResponse(resp)
		if !ok || body < 0 {
			return false
		}
		if len(rest) == 0 {
			if code >= 100 && code < 200 {
				return false
			}
			end := bytes.Index(resp, []byte("\r\n\r\n"))
			for _, l := range strings.Split(string(resp[:end]), "\r\n")[1:] {
				name, value, _ := strings.Cut(l, ":")
				if strings.EqualFold(name, "connection") && strings.EqualFold(strings.TrimSpace(value), "close") {
					return true
				}
			}
			return false
		}
		resp = rest
	}
	return false
}

// splitResponse reads one response head from resp and returns its status,
// its body length (-1 when it runs to the close or is incomplete), and what
// follows it.
func splitResponse(resp []byte) (code, body int, rest []byte, ok bool) {
	end := bytes.Index(resp, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(resp, []byte("HTTP/")) || end < 0 {
		return 0, 0, nil, false
	}
	head := string(resp[:end])
	rest = resp[end+4:]
	lines := strings.Split(head, "\r\n")
	f := strings.Fields(lines[0])
	if len(f) < 2 {
		return 0, 0, nil, false
	}
	code, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, nil, false
	}
	if code >= 100 && code < 200 || code == 204 || code == 304 {
		return code, 0, rest, true
	}
	body = -1
	for _, l := range lines[1:] {
		name, value, _ := strings.Cut(l, ":")
		value = strings.TrimSpace(value)
		switch strings.ToLower(name) {
		case "content-length":
			if n, err := strconv.Atoi(value); err == nil {
				body = n
			}
		case "transfer-encoding":
			if strings.EqualFold(value, "chunked") {
				n, ok := chunkedLen(rest)
				if !ok {
					return code, -1, nil, true
				}
				return code, n, rest[n:], true
			}
		}
	}
	if body > len(rest) {
		return code, -1, nil, true
	}
	if body < 0 {
		return code, -1, nil, true
	}
	return code, body, rest[body:], true
}

// chunkedLen returns the length of the chunked body at the start of b.
func chunkedLen(b []byte) (int, bool) {
	p := 0
	for {
		nl := bytes.Index(b[p:], []byte("\r\n"))
		if nl < 0 {
			return 0, false
		}
		sizeText, _, _ := strings.Cut(string(b[p:p+nl]), ";")
		size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
		if err != nil {
			return 0, false
		}
		p += nl + 2
		if size == 0 {
			// trailer lines until an empty one
			for {
				nl := bytes.Index(b[p:], []byte("\r\n"))
				if nl < 0 {
					return 0, false
				}
				p += nl + 2
				if nl == 0 {
					return p, true
				}
			}
		}
		p += int(size) + 2
		if p > len(b) {
			return 0, false
		}
	}
}

var withoutFlag = regexp.MustCompile(`--without-http_(\w+)_module`)

// builtWithout returns the HTTP modules "BIN -V" lists as left out.
func builtWithout(bin string) map[string]bool {
	out, _ := exec.Command(bin, "-V").CombinedOutput()
	m := map[string]bool{}
	for _, sm := range withoutFlag.FindAllStringSubmatch(string(out), -1) {
		m[sm[1]] = true
	}
	return m
}
