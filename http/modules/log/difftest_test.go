package log_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// masks hide what legitimately differs between two servers answering the
// same requests: times, and the client port.
var masks = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`\[\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]`), "[TIME]"},
	{regexp.MustCompile(`\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}`), "TIME"},
	{regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d`), "ISO"},
	{regexp.MustCompile(`msec=\d+\.\d{3}`), "msec=M"},
	{regexp.MustCompile(`rt=\d+\.\d{3}`), "rt=R"},
	{regexp.MustCompile(`port=\d+`), "port=P"},
}

func mask(s string) string {
	for _, m := range masks {
		s = m.re.ReplaceAllString(s, m.with)
	}
	return s
}

// readLog returns a server's log file, masked.
func readLog(t *testing.T, s *nginxtest.Server, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(s.Prefix, "logs", name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return mask(string(b))
}

func compareLogs(t *testing.T, p *difftest.Pair, names ...string) {
	t.Helper()
	for _, name := range names {
		// the servers log after the response is out: give the last
		// lines a moment before calling the files different.
		a, b := readLog(t, p.Nginx, name), readLog(t, p.Gresty, name)
		for deadline := time.Now().Add(2 * time.Second); a != b && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
			a, b = readLog(t, p.Nginx, name), readLog(t, p.Gresty, name)
		}
		if a != b {
			t.Errorf("%s differs\nnginx:\n%s\ngresty:\n%s", name, a, b)
		}
	}
}

const logConf = `
http {
    log_format builtins '$pipe $status $bytes_sent $body_bytes_sent $request_length msec=$msec rt=$request_time';
    log_format js escape=json '{"uri":"$request_uri","ua":"$http_user_agent","ref":"$http_referer","user":"$remote_user","none":"$http_x_none","st":$status}';
    log_format raw escape=none '$request|$http_user_agent|$http_x_none|';
    log_format vars '$request_method $uri $args $host $server_protocol $remote_addr $remote_user $http_x_a port=$remote_port';
    log_format brackets '${status}x${request_method}y';
    log_format times '$time_local $time_iso8601';

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root %%ROOT%%;
        access_log %%PREFIX%%/logs/combined.log;
        access_log %%PREFIX%%/logs/builtins.log builtins;
        access_log %%PREFIX%%/logs/js.log js;
        access_log %%PREFIX%%/logs/raw.log raw;
        access_log %%PREFIX%%/logs/vars.log vars;
        access_log %%PREFIX%%/logs/brackets.log brackets;
        access_log %%PREFIX%%/logs/times.log times;

        location /off { access_log off; }
        location /own { access_log %%PREFIX%%/logs/own.log combined; }
        location /cond { access_log %%PREFIX%%/logs/cond.log combined if=$arg_log; }
        location /var { access_log %%PREFIX%%/logs/var_$arg_n.log builtins; }
        location /nested {
            access_log %%PREFIX%%/logs/nested.log combined;
            location /nested/inner { }
            location /nested/quiet { access_log off; }
        }
        location /ret { return 302 /elsewhere; }
    }
}
`

func TestAccessLogsMatchNginx(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "index.html"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"own", "cond", "var", "nested", "nested/inner", "nested/quiet"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
		os.WriteFile(filepath.Join(root, d, "index.html"), []byte(d+"\n"), 0o644)
	}
	p := difftest.Start(t, strings.ReplaceAll(logConf, "%%ROOT%%", root))
	requests := []string{
		"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /missing HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /index.html?a=1&b=%22x HTTP/1.0\r\nHost: localhost\r\n\r\n",
		"GET /q\"u\\o HTTP/1.1\r\nHost: localhost\r\nUser-Agent: a\"b\\c\td\x7fé\r\nReferer: http://x/\"r\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic dXNlcjpwYXNz\r\nX-A: 1\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\nAuthorization: Basic bWU6\r\nConnection: close\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\nX-A: one\r\nX-A: two\r\nUser-Agent: \x01\x1f\r\nConnection: close\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello",
		"GET /off/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /own/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /cond/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /cond/?log=0 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /cond/?log=yes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /var/?n=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /var/?n=2 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /var/?n=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /nested/inner/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /nested/quiet/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /ret HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /? HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
		"GET /nohost HTTP/1.0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: localhost\r\n\r\nGET /index.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
	}
	for _, raw := range requests {
		p.Do(t, raw)
	}
	compareLogs(t, p, "combined.log", "builtins.log", "js.log", "raw.log", "vars.log", "brackets.log", "times.log",
		"own.log", "cond.log", "var_1.log", "var_2.log", "nested.log", "access.log")
}

// TestBufferedLogFlushes checks that buffered lines reach the file when
// flush= expires and when the server shuts down gracefully.
func TestBufferedLogFlushes(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            access_log %%PREFIX%%/logs/timed.log combined buffer=32k flush=300ms;
            access_log %%PREFIX%%/logs/held.log combined buffer=32k;
            return 204;
        }
    }
}
`)
	for i := 0; i < 3; i++ {
		p.Do(t, "GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
	}
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		if got := readLog(t, s, "held.log"); got != "" {
			t.Errorf("%s: held.log written before shutdown: %q", s.Prefix, got)
		}
	}
	waitFor(t, func() bool {
		return strings.Count(readLog(t, p.Gresty, "timed.log"), "\n") == 3 && strings.Count(readLog(t, p.Nginx, "timed.log"), "\n") == 3
	})
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		quit(t, s)
	}
	compareLogs(t, p, "timed.log", "held.log")
	if n := strings.Count(readLog(t, p.Gresty, "held.log"), "\n"); n != 3 {
		t.Errorf("held.log has %d lines after shutdown, want 3", n)
	}
}

// quit asks a server to stop gracefully (SIGQUIT to the pid in its pid
// file) and waits until the pid file is gone.
func quit(t *testing.T, s *nginxtest.Server) {
	t.Helper()
	pidFile := filepath.Join(s.Prefix, "logs", "nginx.pid")
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	for _, c := range strings.TrimSpace(string(b)) {
		pid = pid*10 + int(c-'0')
	}
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { _, err := os.Stat(pidFile); return os.IsNotExist(err) })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A "syslog:" access log sends each line as one datagram with nginx's
// syslog header: the priority from facility= and severity=, the host name
// unless nohostname, and the tag; the line itself is whole, without its
// newline.
func TestSyslogAccessLogMatchesNginx(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	port := pc.LocalAddr().(*net.UDPAddr).Port
	p := difftest.Start(t, fmt.Sprintf(`
http {
    log_format f '$request $status $arg_n';
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /a { access_log syslog:server=127.0.0.1:%[1]d f; return 200; }
        location /b {
            access_log syslog:server=127.0.0.1:%[1]d,facility=user,severity=alert,tag=SEE_THIS,nohostname f if=$arg_n;
            return 204;
        }
    }
}
`, port))
	recv := func() string {
		pc.SetReadDeadline(time.Now().Add(2 * time.Second))
		b := make([]byte, 65536)
		n, _, err := pc.ReadFrom(b)
		if err != nil {
			return "none: " + err.Error()
		}
		// the time stamp differs: "Nov 27 16:04:05"
		return regexp.MustCompile(`^(<\d+>)\w{3} [ \d]\d \d\d:\d\d:\d\d `).ReplaceAllString(string(b[:n]), "${1}TIME ")
	}
	for name, s := range map[string]*nginxtest.Server{"nginx": p.Nginx, "gresty": p.Gresty} {
		var got []string
		for _, uri := range []string{"/a?n=1", "/b?n=", "/b?n=" + strings.Repeat("x", 3000)} {
			difftest.Fetch(t, s.Addr, "GET "+uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
			if uri != "/b?n=" {
				got = append(got, recv())
			}
		}
		host, _ := os.Hostname()
		want := []string{
			"<190>TIME " + strings.ToLower(host) + " nginx: GET /a?n=1 HTTP/1.0 200 1",
			"<9>TIME SEE_THIS: GET /b?n=" + strings.Repeat("x", 3000) + " HTTP/1.0 204 " + strings.Repeat("x", 3000),
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s sent:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}
