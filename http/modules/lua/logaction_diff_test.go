package lua_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// nginx ends a request's error-log lines with " while <action>", an
// action that belongs to the connection: a subrequest's upstream leaves
// "sending to client" for the lines its parent logs next, a subrequest
// that starts clears it, and the log phase says "logging request".
func TestLogActionMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /main {
            content_by_lua_block {
                local res = ngx.location.capture("/up")
                ngx.log(ngx.WARN, "after up: ", res.status)
                res = ngx.location.capture("/lua")
                ngx.log(ngx.WARN, "after lua: ", res.body)
                ngx.say("done")
            }
            log_by_lua_block { ngx.log(ngx.WARN, "in the log phase") }
        }
        location /up { proxy_pass http://127.0.0.1:%%PORT%%/b; }
        location /b { return 200 "b"; }
        location /lua { content_by_lua_block { ngx.print("l") } }
    }
}
`, "lua")
	ng, gr := p.Do(t, "GET /main HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if string(gr.Body) != "done\n" || string(ng.Body) != string(gr.Body) {
		t.Fatalf("nginx %q, gresty %q", ng.Body, gr.Body)
	}
	time.Sleep(50 * time.Millisecond)
	warn := regexp.MustCompile(`\[warn\] \d+#\d+: \*\d+ \[lua\] [^ ]+ (.*?), client: `)
	lines := func(log string) string {
		var out []string
		for _, m := range warn.FindAllStringSubmatch(log, -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, "\n")
	}
	want := "after up: 200 while sending to client\nafter lua: l\nin the log phase while logging request"
	if a, b := lines(p.Nginx.ErrorLog()), lines(p.Gresty.ErrorLog()); a != want || b != want {
		t.Errorf("lines differ:\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

// ngx_lua frees a request's ngx.ctx with the request's pool, after the
// log phase: a table the log phase makes is released too, and the debug
// line comes after the log phase's own lines.
func TestCtxReleaseAfterLogPhase(t *testing.T) {
	p := difftest.Start(t, `
error_log %%PREFIX%%/logs/debug.log debug;
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /echo {
            echo hello;
            log_by_lua_block { ngx.ctx.n = 1 ngx.log(ngx.WARN, "log phase of /echo") }
        }
        location /lua {
            content_by_lua_block { ngx.ctx.n = 1 ngx.say("hello") }
            log_by_lua_block { ngx.log(ngx.WARN, "log phase of /lua") }
        }
    }
}
`, "lua", "echo")
	line := regexp.MustCompile(`log phase of /\w+|lua release ngx\.ctx at ref`)
	for _, uri := range []string{"/echo", "/lua"} {
		ng, gr := p.Do(t, "GET "+uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if string(gr.Body) != "hello\n" || string(ng.Body) != string(gr.Body) {
			t.Fatalf("%s: nginx %q, gresty %q", uri, ng.Body, gr.Body)
		}
	}
	time.Sleep(50 * time.Millisecond)
	read := func(s *nginxtest.Server) string {
		b, _ := os.ReadFile(s.Prefix + "/logs/debug.log")
		return strings.Join(line.FindAllString(string(b), -1), "\n")
	}
	want := "log phase of /echo\nlua release ngx.ctx at ref\nlog phase of /lua\nlua release ngx.ctx at ref"
	if a, b := read(p.Nginx), read(p.Gresty); a != want || b != want {
		t.Errorf("debug lines differ:\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}
