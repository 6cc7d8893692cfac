package lua_test

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// Clients that go away while the code waits, compared with OpenResty:
// lua_check_client_abort, ngx.on_abort's handler, and what the error log
// and the access log say.
func TestClientAbortMatchesOpenResty(t *testing.T) {
	cases := []struct {
		name, conf string
		// body is sent after the head, with its Content-Length.
		body string
		// plain cases send a request and read the whole answer.
		plain bool
	}{
		{name: "stop", conf: `
			lua_check_client_abort on;
			content_by_lua_block { ngx.sleep(0.5) ngx.log(ngx.WARN, "not reached") }
			log_by_lua_block { ngx.log(ngx.WARN, "log phase, status ", ngx.status) }`},
		{name: "ignore", conf: `
			content_by_lua_block { ngx.sleep(0.2) ngx.log(ngx.WARN, "main handler done") }`},
		{name: "handler_returns", conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				local ok, err = ngx.on_abort(function() ngx.log(ngx.WARN, "on abort called") end)
				ngx.log(ngx.WARN, "on_abort: ", ok, " ", err)
				ngx.sleep(0.3)
				ngx.log(ngx.WARN, "main handler done")
			}`},
		{name: "handler_exits", conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				ngx.on_abort(function() ngx.log(ngx.WARN, "on abort called") ngx.exit(499) end)
				ngx.sleep(0.3)
				ngx.log(ngx.WARN, "not reached")
			}`},
		{name: "handler_444", conf: `
			lua_check_client_abort on;
			rewrite_by_lua_block {
				ngx.on_abort(function() ngx.log(ngx.WARN, "on abort in rewrite") ngx.exit(444) end)
				ngx.sleep(0.3)
			}
			content_by_lua_block { ngx.log(ngx.WARN, "not reached") }`},
		{name: "handler_threads", conf: `
			lua_check_client_abort on;
			access_by_lua_block {
				ngx.on_abort(function() ngx.log(ngx.WARN, "on abort with threads") ngx.exit(408) end)
				ngx.thread.spawn(function() ngx.sleep(0.3) ngx.log(ngx.WARN, "not reached") end)
				ngx.sleep(0.3)
			}`},
		{name: "pending_capture", conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				ngx.on_abort(function() ngx.log(ngx.WARN, "on abort, capture pending") ngx.exit(499) end)
				ngx.location.capture("/slow")
				ngx.log(ngx.WARN, "not reached")
			}`},
		{name: "req_socket", body: "hello", conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				local sock = ngx.req.socket()
				ngx.log(ngx.WARN, "got ", sock:receive(5))
				ngx.sleep(0.3)
				ngx.log(ngx.WARN, "not reached")
			}`},
		// a raw request socket: the client's close, between reads or
		// during one, is an abort too.
		{name: "raw_sleep", body: "hello", conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				ngx.on_abort(function() ngx.log(ngx.WARN, "raw handler aborted") end)
				ngx.req.read_body()
				local sock = ngx.req.socket(true)
				ngx.sleep(0.3)
				ngx.log(ngx.WARN, "after the sleep")
			}`},
		{name: "raw_receive", body: "hello", conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				ngx.req.read_body()
				local sock = ngx.req.socket(true)
				ngx.log(ngx.WARN, "line: ", sock:receive())
			}`},
		// output after the client left: a write that goes out at once
		// (postpone_output 1) fails in the call, logged at info first;
		// held output fails only when the request ends.
		{name: "say_gone", conf: `
			postpone_output 1;
			content_by_lua_block {
				ngx.sleep(0.2)
				local ok, err = ngx.say("hello")
				ngx.log(ngx.WARN, "say: ", ok, " ", err)
			}`},
		{name: "print_gone", conf: `
			postpone_output 1;
			content_by_lua_block {
				ngx.sleep(0.2)
				ngx.log(ngx.WARN, "print: ", ngx.print("hello"))
				ngx.log(ngx.WARN, "print again: ", ngx.print("hello"))
			}`},
		{name: "eof_gone", conf: `
			postpone_output 1;
			content_by_lua_block {
				ngx.sleep(0.2)
				ngx.log(ngx.WARN, "eof: ", ngx.eof())
			}`},
		{name: "say_held_gone", conf: `
			content_by_lua_block {
				ngx.sleep(0.2)
				ngx.log(ngx.WARN, "held say: ", ngx.say("hello"))
			}
			log_by_lua_block { ngx.log(ngx.WARN, "held: log phase, status ", ngx.status) }`},
		{name: "api", plain: true, conf: `
			content_by_lua_block {
				ngx.say(ngx.on_abort(function() end))
				ngx.say(pcall(ngx.on_abort))
			}`},
		{name: "duplicate", plain: true, conf: `
			lua_check_client_abort on;
			content_by_lua_block {
				ngx.say(ngx.on_abort(function() end))
				ngx.say(ngx.on_abort(function() end))
				ngx.say(pcall(ngx.on_abort, print))
			}`},
	}
	var b strings.Builder
	b.WriteString(`http {
    default_type text/plain;
    log_format st '$request $status';
    access_log %%PREFIX%%/logs/st.log st;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        location = /slow { content_by_lua_block { ngx.sleep(0.5) ngx.say("slow") } }
`)
	for _, c := range cases {
		fmt.Fprintf(&b, "        location = /%s {\n%s\n        }\n", c.name, c.conf)
	}
	// the temp paths go last: the servers may get different sets of
	// them, and chunk names carry line numbers.
	b.WriteString("    }\n%%HTTP_GLOBALS%%\n}\n")
	p := difftest.Start(t, b.String(), "lua")
	for _, c := range cases {
		raw := "GET /" + c.name + " HTTP/1.1\r\nHost: localhost\r\n\r\n"
		if c.body != "" {
			raw = fmt.Sprintf("POST /%s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %d\r\n\r\n%s", c.name, len(c.body), c.body)
		}
		if c.plain {
			raw = get("")
			raw = strings.ReplaceAll(raw, "%P", "/"+c.name)
			ng, gr := fetch(t, p.Nginx.Addr, raw), fetch(t, p.Gresty.Addr, raw)
			if ng != gr {
				t.Errorf("%s: gresty differs from nginx\nnginx:\n%s\ngresty:\n%s", c.name, ng, gr)
			}
			continue
		}
		done := make(chan struct{}, 2)
		for _, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
			go func(addr string) {
				defer func() { done <- struct{}{} }()
				conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					t.Error(err)
					return
				}
				conn.Write([]byte(raw))
				time.Sleep(100 * time.Millisecond)
				conn.Close()
			}(addr)
		}
		<-done
		<-done
	}
	// the handlers sleep up to 0.5 s after the clients left.
	time.Sleep(700 * time.Millisecond)
	ngLog, grLog := p.Nginx.ErrorLog(), p.Gresty.ErrorLog()
	ngSt := readLog(t, p.Nginx.Prefix)
	grSt := readLog(t, p.Gresty.Prefix)
	for _, c := range cases {
		a := abortLogEntries(ngLog, "/"+c.name)
		g := abortLogEntries(grLog, "/"+c.name)
		if strings.Join(a, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: error log differs\nnginx:\n%s\ngresty:\n%s", c.name, strings.Join(a, "\n"), strings.Join(g, "\n"))
		}
		if ng, gr := statusLines(ngSt, "/"+c.name), statusLines(grSt, "/"+c.name); ng != gr {
			t.Errorf("%s: access log differs\nnginx:  %s\ngresty: %s", c.name, ng, gr)
		}
	}
}

func readLog(t *testing.T, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(prefix, "logs", "st.log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// statusLines returns the access-log lines of requests for path.
func statusLines(log, path string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, " "+path+" ") {
			out = append(out, l)
		}
	}
	return strings.Join(out, " | ")
}

var abortEntry = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: (?:\*\d+ )?(.*)$`)

// abortLogEntries returns the entries of requests for path from warn up,
// and the info entry of the client's going away, with their request
// context and positions dropped. nginx now and then logs the client's
// going away twice for one request (its abort check sees the FIN again
// after the on_abort handler ran): a repeat is left out.
func abortLogEntries(log, path string) []string {
	var out []string
	gone := false
	for _, l := range strings.Split(log, "\n") {
		m := abortEntry.FindStringSubmatch(l)
		if m == nil || !strings.Contains(l, `request: "GET `+path+` `) && !strings.Contains(l, `request: "POST `+path+` `) {
			continue
		}
		text := logContext.ReplaceAllString(m[2], "")
		switch {
		case m[1] == "info" && text == "client prematurely closed connection":
			if gone {
				continue
			}
			gone = true
		case m[1] == "info" && strings.Contains(text, "() failed ("):
		case m[1] == "warn" || m[1] == "error" || m[1] == "alert" || m[1] == "crit":
		default:
			continue
		}
		out = append(out, "["+m[1]+"] "+text)
	}
	return out
}
