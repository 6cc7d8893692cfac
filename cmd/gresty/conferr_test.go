package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

// brokenConfigs are configurations nginx rejects; gresty must print the
// same message for the same place. Only directives gresty knows are used
// before the error, so both servers meet the same first error.
var brokenConfigs = []struct {
	name  string
	conf  string
	files map[string]string
}{
	{"unknown main", "foo;\nevents {}\n", nil},
	{"unknown http", "events {}\nhttp {\n    foo bar;\n}\n", nil},
	{"unknown server", "events {}\nhttp {\n  server {\n    bar;\n  }\n}\n", nil},
	{"unknown location", "events {}\nhttp { server { location / {\n baz 1 2 3;\n } } }\n", nil},
	{"unknown in events", "events {\n  foo;\n}\n", nil},
	{"unknown block", "events {}\nhttp {\n  foo {\n  }\n}\n", nil},
	{"listen not allowed in http", "events {}\nhttp {\n  listen 80;\n}\n", nil},
	{"server in location", "events {}\nhttp { server { location / {\n server { }\n } } }\n", nil},
	{"root in events", "events {\n  root /x;\n}\n", nil},
	{"worker_processes in http", "events {}\nhttp {\n worker_processes 2;\n}\n", nil},
	{"location in http", "events {}\nhttp {\n location / { }\n}\n", nil},
	{"events in http", "events {}\nhttp {\n events { }\n}\n", nil},
	{"root no args", "events {}\nhttp {\n root;\n}\n", nil},
	{"root two args", "events {}\nhttp {\n root /a /b;\n}\n", nil},
	{"listen no args", "events {}\nhttp { server {\n listen;\n} }\n", nil},
	{"sendfile two args", "events {}\nhttp {\n sendfile on off;\n}\n", nil},
	{"location three args", "events {}\nhttp { server {\n location = / x { }\n} }\n", nil},
	{"daemon no args", "daemon;\nevents {}\n", nil},
	{"root duplicate", "events {}\nhttp {\n root /a;\n root /b;\n}\n", nil},
	{"http duplicate", "events {}\nhttp {\n}\nhttp {\n}\n", nil},
	{"events duplicate", "events {}\nevents {}\n", nil},
	{"daemon duplicate", "daemon on;\ndaemon off;\nevents {}\n", nil},
	{"sendfile invalid", "events {}\nhttp {\n sendfile maybe;\n}\n", nil},
	{"daemon invalid", "daemon yes;\nevents {}\n", nil},
	{"unexpected close", "events {}\n}\n", nil},
	{"unexpected eof", "events {}\nhttp {\n server {\n", nil},
	{"unexpected eof in events", "events {\n", nil},
	{"not terminated", "events {}\nhttp {\n root /x {\n }\n}\n", nil},
	{"no opening brace", "events;\n", nil},
	{"http without block", "events {}\nhttp;\n", nil},
	{"missing semicolon eof", "events {}\ndaemon off", nil},
	{"worker_connections invalid", "events {\n worker_connections many;\n}\n", nil},
	{"worker_processes invalid", "worker_processes lots;\nevents {}\n", nil},
	{"keepalive_timeout invalid", "events {}\nhttp {\n keepalive_timeout 5x;\n}\n", nil},
	{"client_max_body_size invalid", "events {}\nhttp {\n client_max_body_size 1q;\n}\n", nil},
	{"send_timeout invalid", "events {}\nhttp {\n send_timeout forever;\n}\n", nil},
	{"timer_resolution invalid", "timer_resolution abc;\nevents {}\n", nil},
	{"no events", "http {\n}\n", nil},
	{"location outside parent", "events {}\nhttp { server {\n location /a {\n  location /b { }\n }\n} }\n", nil},
	{"location inside exact", "events {}\nhttp { server {\n location = /a {\n  location /a/b { }\n }\n} }\n", nil},
	{"named location nested", "events {}\nhttp { server {\n location /a {\n  location @n { }\n }\n} }\n", nil},
	{"location inside named", "events {}\nhttp { server {\n location @n {\n  location /a { }\n }\n} }\n", nil},
	{"invalid location modifier", "events {}\nhttp { server {\n location ~~ /a { }\n} }\n", nil},
	{"duplicate location", "events {}\nhttp { server {\n location /a { }\n location /a { }\n} }\n", nil},
	{"duplicate exact location", "events {}\nhttp { server {\n location = /a { }\n location = /a { }\n} }\n", nil},
	{"listen invalid port", "events {}\nhttp { server {\n listen 127.0.0.1:99999;\n} }\n", nil},
	{"listen invalid parameter", "events {}\nhttp { server {\n listen 127.0.0.1:8081 fast;\n} }\n", nil},
	{"listen invalid backlog", "events {}\nhttp { server {\n listen 127.0.0.1:8081 backlog=x;\n} }\n", nil},
	{"duplicate listen", "events {}\nhttp { server {\n listen 127.0.0.1:8081;\n listen 127.0.0.1:8081;\n} }\n", nil},
	{"duplicate default server", "events {}\nhttp {\n server { listen 127.0.0.1:8081 default_server; }\n server { listen 127.0.0.1:8081 default_server; }\n}\n", nil},
	{"duplicate listen options", "events {}\nhttp {\n server { listen 127.0.0.1:8081 backlog=10; }\n server { listen 127.0.0.1:8081 backlog=20; }\n}\n", nil},
	{"server_name invalid", "events {}\nhttp { server {\n server_name *example.com;\n} }\n", nil},
	{"error_page range", "events {}\nhttp {\n error_page 200 /x;\n}\n", nil},
	{"error_page invalid", "events {}\nhttp {\n error_page abc /x;\n}\n", nil},
	{"error_page equals only", "events {}\nhttp {\n error_page =404 /x;\n}\n", nil},
	{"regex location bad", "events {}\nhttp { server {\n location ~ (abc { }\n} }\n", nil},
	{"unknown variable", "events {}\nhttp { server {\n root /srv/$nosuchvar;\n} }\n", nil},
	{"bad variable name", "events {}\nhttp { server {\n root /srv/$;\n} }\n", nil},
	{"unclosed variable bracket", "events {}\nhttp { server {\n root /srv/${abc;\n} }\n", nil},
	{"include missing", "events {}\ninclude missing.conf;\n", nil},
	{"error in include", "events {}\nhttp {\n include inc.conf;\n}\n", map[string]string{"inc.conf": "server {\n  unknown_thing;\n}\n"}},
	{"include glob then error", "events {}\nhttp {\n include conf.d/*.conf;\n}\n", map[string]string{"conf.d/a.conf": "server { listen 127.0.0.1:8081; }\n", "conf.d/b.conf": "server {\n listen 127.0.0.1:8082;\n bogus;\n}\n"}},
	{"unknown then eof", "events {}\nhttp {\n bogus;\n server {\n", nil},
	{"quoted string then junk", "events {}\nhttp {\n root \"/a\"x;\n}\n", nil},
	{"error_log bad level", "error_log stderr chatty;\nevents {}\n", nil},
	{"error_log duplicate level", "error_log stderr warn error;\nevents {}\n", nil},
	{"types nested block", "events {}\nhttp {\n types {\n  text/html html { }\n }\n}\n", nil},
	{"limit_except bad method", "events {}\nhttp { server { location / {\n limit_except FETCH { }\n} } }\n", nil},
	{"internal with args", "events {}\nhttp { server { location / {\n internal on;\n} } }\n", nil},
	{"alias in server", "events {}\nhttp { server {\n alias /x;\n} }\n", nil},
	{"root then alias", "events {}\nhttp { server { location / {\n root /a;\n alias /b;\n} } }\n", nil},
	{"use invalid", "events {\n use kqueue;\n}\n", nil},
	{"lingering_close invalid", "events {}\nhttp {\n lingering_close sometimes;\n}\n", nil},
	{"large buffers invalid", "events {}\nhttp {\n large_client_header_buffers 0 8k;\n}\n", nil},
}

var emergLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error)\] \d+#\d+: (.*)$|^\S+: \[(emerg|alert|crit|error)\] (.*)$`)

// firstError returns the first error message a -t run printed.
func firstError(out string) string {
	m := emergLine.FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	if m[2] != "" {
		return m[2]
	}
	return m[4]
}

func TestConfigErrorsMatchNginx(t *testing.T) {
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	for _, tc := range brokenConfigs {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tc.files {
				p := filepath.Join(dir, name)
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cf := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(cf, []byte(tc.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(bin string) (string, int) {
				cmd := exec.Command(bin, "-t", "-p", dir+"/", "-c", cf, "-e", "stderr")
				out, _ := cmd.CombinedOutput()
				return string(out), cmd.ProcessState.ExitCode()
			}
			nOut, nCode := run(ngx)
			gOut, gCode := run(gr)
			if nCode == 0 {
				t.Fatalf("nginx accepted the configuration:\n%s", nOut)
			}
			if gCode != nCode {
				t.Errorf("exit code: nginx %d, gresty %d\ngresty said:\n%s", nCode, gCode, gOut)
			}
			ne, ge := firstError(nOut), firstError(gOut)
			if ne == "" {
				t.Fatalf("no error in nginx's output:\n%s", nOut)
			}
			if ne != ge {
				t.Errorf("message differs\nnginx:  %s\ngresty: %s", ne, ge)
			}
			if !strings.Contains(gOut, "test failed") {
				t.Errorf("gresty did not say the test failed:\n%s", gOut)
			}
		})
	}
}
