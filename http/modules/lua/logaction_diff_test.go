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

// Unbuffered, nginx relays the body bytes that came with the upstream's
// head and reads on in the same call, "sending to client": an upstream
// whose FIN was already there when the head was read is reported as
// closed "while sending to client"; one that closes later, on its own
// read event, "while reading upstream".
func TestUnbufferedPrematureCloseActionMatchesNginx(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /short {
            content_by_lua_block {
                ngx.header["Content-Length"] = 100
                ngx.say("hi")
            }
        }
        location = /late {
            content_by_lua_block {
                ngx.header["Content-Length"] = 100
                ngx.say("hi")
                ngx.flush(true)
                ngx.sleep(0.1)
            }
        }
        location /t/ {
            proxy_pass http://127.0.0.1:%%PORT%%/;
            proxy_buffering off;
            proxy_ignore_client_abort on; # the test's client half-closes
        }
    }
}
`, "lua")
	closed := regexp.MustCompile(`upstream prematurely closed connection while [a-z ]+`)
	for _, c := range []struct{ uri, action string }{
		{"/t/short", "sending to client"},
		{"/t/late", "reading upstream"},
	} {
		ng, gr := p.Do(t, "GET "+c.uri+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if string(ng.Body) != "hi\n" || string(gr.Body) != string(ng.Body) {
			t.Errorf("%s: nginx %d %q, gresty %d %q", c.uri, ng.Status, ng.Body, gr.Status, gr.Body)
		}
		want := "upstream prematurely closed connection while " + c.action
		ngLine := closed.FindAllString(p.Nginx.Log("error.log", 1), -1)
		grLine := closed.FindAllString(p.Gresty.Log("error.log", 1), -1)
		if len(ngLine) == 0 || ngLine[len(ngLine)-1] != want || len(grLine) == 0 || grLine[len(grLine)-1] != want {
			t.Errorf("%s: want %q\nnginx: %q\ngresty: %q", c.uri, want, ngLine, grLine)
		}
	}
}
