package lua_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// A luaCase is one location of a differential test: its configuration,
// the requests sent to it, and whether the error-log entries the
// requests cause must be the same.
type luaCase struct {
	name string
	// conf is the body of "location = /NAME { ... }".
	conf string
	// reqs are raw requests; "%P" stands for "/NAME". Without any, a
	// plain GET of /NAME is sent.
	reqs []string
	// log compares the warn-and-above error-log entries of the case's
	// requests (level and message, context and traceback included).
	log bool
	// logOnly skips the responses: only the log is compared.
	logOnly bool
}

// get is a raw HTTP/1.1 GET of path+suffix that closes the connection.
func get(suffix string, headers ...string) string {
	return "GET %P" + suffix + " HTTP/1.1\r\nHost: localhost\r\n" + strings.Join(headers, "") + "Connection: close\r\n\r\n"
}

// post is a raw POST with a body.
func post(suffix, body string, headers ...string) string {
	return fmt.Sprintf("POST %%P%s HTTP/1.1\r\nHost: localhost\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		suffix, strings.Join(headers, ""), len(body), body)
}

// runLuaCases serves cases (plus extra http-level and srvExtra server-level
// configuration) from
// nginx with ngx_lua and from gresty, sends each case's requests to both
// and compares the responses: status line, every header but Date in
// order, and the body; and, for cases that ask, the error-log entries.
func runLuaCases(t *testing.T, extra, srvExtra string, cases []luaCase) *difftest.Pair {
	t.Helper()
	return runLuaCasesWith(t, []string{"lua", "echo"}, extra, srvExtra, cases)
}

// runLuaCasesWith is runLuaCases with nginx loading the given modules.
func runLuaCasesWith(t *testing.T, modules []string, extra, srvExtra string, cases []luaCase) *difftest.Pair {
	t.Helper()
	var b strings.Builder
	b.WriteString("http {\n    default_type text/plain;\n" + extra + "\n    server {\n        listen 127.0.0.1:%%PORT%%;\n        server_name localhost;\n" + srvExtra + "\n")
	for _, c := range cases {
		fmt.Fprintf(&b, "        location = /%s {\n%s\n        }\n", c.name, c.conf)
	}
	// the temp paths go last: the two servers may get different sets of
	// them, and the Lua chunk names carry line numbers.
	b.WriteString("    }\n%%HTTP_GLOBALS%%\n}\n")
	p := difftest.Start(t, b.String(), modules...)
	for _, c := range cases {
		reqs := c.reqs
		if len(reqs) == 0 {
			reqs = []string{get("")}
		}
		for i, raw := range reqs {
			raw = strings.ReplaceAll(raw, "%P", "/"+c.name)
			ng := fetch(t, p.Nginx.Addr, raw)
			gr := fetch(t, p.Gresty.Addr, raw)
			if ng != gr && !c.logOnly {
				t.Errorf("%s #%d: gresty differs from nginx\nrequest:\n%s\nnginx:\n%s\ngresty:\n%s", c.name, i, raw, ng, gr)
			}
		}
	}
	time.Sleep(50 * time.Millisecond)
	ngLog, grLog := p.Nginx.ErrorLog(), p.Gresty.ErrorLog()
	for _, c := range cases {
		if !c.log && !c.logOnly {
			continue
		}
		a := logEntries(strings.ReplaceAll(ngLog, p.Nginx.Prefix, "PREFIX"), "/"+c.name)
		g := logEntries(strings.ReplaceAll(grLog, p.Gresty.Prefix, "PREFIX"), "/"+c.name)
		if strings.Join(a, "\n") != strings.Join(g, "\n") {
			t.Errorf("%s: error log differs\nnginx:\n%s\ngresty:\n%s", c.name, strings.Join(a, "\n"), strings.Join(g, "\n"))
		}
	}
	return p
}

// startupAlerts returns the [alert] lines a server logged while reading
// its configuration, with its prefix replaced by "PREFIX".
func startupAlerts(s *nginxtest.Server) []string {
	var out []string
	for _, l := range strings.Split(s.ErrorLog(), "\n") {
		if m := entryStart.FindStringSubmatch(l); m != nil && m[1] == "alert" && !strings.Contains(l, "*") {
			out = append(out, strings.ReplaceAll(l[len(m[0]):], s.Prefix, "PREFIX"))
		}
	}
	return out
}

// fetch returns a response with its Date header dropped and its chunked
// framing removed, so that two servers' answers compare as text.
func fetch(t *testing.T, addr, raw string) string {
	t.Helper()
	b, err := nginxtest.Exchange(addr, []byte(raw), 5*time.Second)
	if err != nil && len(b) == 0 {
		t.Fatalf("%s: %v", addr, err)
	}
	head, body, ok := bytes.Cut(b, []byte("\r\n\r\n"))
	if !ok {
		return string(b)
	}
	var out []string
	chunked := false
	for _, l := range strings.Split(string(head), "\r\n") {
		if strings.HasPrefix(l, "Date: ") {
			continue
		}
		if l == "Transfer-Encoding: chunked" {
			chunked = true
		}
		out = append(out, l)
	}
	r := difftest.Parse(b, strings.HasPrefix(raw, "HEAD "))
	if chunked && r.Body != nil {
		body = r.Body
	}
	return strings.Join(out, "\n") + "\n\n" + string(body)
}

var (
	entryStart = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: (?:\*\d+ )?`)
	logContext = regexp.MustCompile(`(?m), client: .*$`)
)

// logEntries returns the warn-and-above entries of an error log that
// belong to requests for path, as "[level] message" with the message's
// continuation lines and without the request context.
func logEntries(log, path string) []string {
	var out []string
	var cur []string
	level := ""
	flush := func() {
		if len(cur) == 0 {
			return
		}
		text := strings.Join(cur, "\n")
		cur = nil
		switch level {
		case "warn", "error", "crit", "alert", "emerg":
		default:
			return
		}
		if !strings.Contains(text, `request: "GET `+path+` `) && !strings.Contains(text, `request: "GET `+path+`?`) &&
			!strings.Contains(text, `request: "POST `+path+` `) && !strings.Contains(text, `request: "POST `+path+`?`) {
			return
		}
		out = append(out, "["+level+"] "+logContext.ReplaceAllString(text, ""))
	}
	for _, l := range strings.Split(log, "\n") {
		if m := entryStart.FindStringSubmatch(l); m != nil {
			flush()
			level = m[1]
			cur = []string{l[len(m[0]):]}
			continue
		}
		if cur != nil {
			cur = append(cur, l)
		}
	}
	flush()
	return out
}
