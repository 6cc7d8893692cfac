package headersmore_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/internal/difftest"
)

// headLines returns a response's header lines in order, with the Date
// value blanked (it differs between any two responses).
func headLines(raw []byte) []string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(raw[:end]), "\r\n")[1:] {
		if strings.HasPrefix(strings.ToLower(l), "date:") {
			l = "Date: *"
		}
		out = append(out, l)
	}
	return out
}

// check compares the status, every header line in order and the body.
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	ng, gr := p.Do(t, raw)
	var diffs []string
	if ng.Status != gr.Status {
		diffs = append(diffs, fmt.Sprintf("status: nginx %d, gresty %d", ng.Status, gr.Status))
	}
	if a, b := strings.Join(headLines(ng.Raw), "\n"), strings.Join(headLines(gr.Raw), "\n"); a != b {
		diffs = append(diffs, fmt.Sprintf("headers:\nnginx:\n%s\ngresty:\n%s", a, b))
	}
	if !bytes.Equal(ng.Body, gr.Body) {
		diffs = append(diffs, fmt.Sprintf("body: nginx %q, gresty %q", ng.Body, gr.Body))
	}
	if len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n%s", name, strings.Join(diffs, "\n"))
	}
}

func get(uri string, hdrs ...string) string {
	return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + strings.Join(hdrs, "") + "\r\n"
}

const outputConf = `
http {
    default_type text/plain;
    port_in_redirect off;
    more_set_headers "X-Http: http";

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root %%DOCROOT%%;
        more_set_headers "X-Srv: srv";

        location = /plain { return 200 "plain\n"; }
        location = /many { more_set_headers "X-A: a" "X-B: b" 'X-C:c' "X-D  :  d  "; return 200 "many\n"; }
        location = /server { more_set_headers "Server: mine"; return 200 "server\n"; }
        location = /server-clear { more_clear_headers Server Date; return 200 "clear\n"; }
        location = /server-clear-set { more_clear_headers Server; more_set_headers "server: again"; return 200 "x\n"; }
        location = /status {
            more_set_headers -s 404 "X-NF: yes";
            more_set_headers -s "200 301" "X-Ok: yes";
            more_set_headers -s 500 -s 404 "X-Two: yes";
            return 200 "ok\n";
        }
        location = /status404 {
            more_set_headers -s 404 "X-NF: yes";
            more_set_headers -s "200 301" "X-Ok: yes";
            return 404;
        }
        location = /types {
            more_set_headers -t "text/plain text/css" "X-Plain: yes";
            more_set_headers -t text/html "X-Html: yes";
            more_set_headers -t 'text/html;text/plain' -s 200 "X-Both: yes";
            return 200 "types\n";
        }
        location = /types404 {
            more_set_headers -t text/html "X-Html: yes";
            more_set_headers -t text/plain "X-Plain: yes";
            return 404;
        }
        location = /wild {
            add_header X-Foo-A a;
            add_header X-Foo-B b;
            add_header X-Bar c;
            more_clear_headers "X-Foo-*";
            return 200 "wild\n";
        }
        location = /wild-set {
            add_header X-Foo-A a;
            add_header X-Foo-B b;
            more_set_headers "X-Foo-*: new";
            more_set_headers "X-None-*: made";
            return 200 "wild\n";
        }
        location = /case {
            add_header x-lower v;
            add_header X-Dup one;
            add_header X-Dup two;
            more_set_headers "X-Lower: new" "X-DUP: single";
            return 200 "case\n";
        }
        location = /empty {
            add_header X-Gone v;
            more_set_headers "X-Gone:" "X-Never:";
            return 200 "empty\n";
        }
        location = /ctype {
            more_set_headers "Content-Type: text/foo; charset=abc";
            return 200 "ctype\n";
        }
        location = /ctype-plain {
            more_set_headers "Content-Type: application/x-thing";
            return 200 "ctype\n";
        }
        location = /ctype-clear {
            more_clear_headers Content-Type;
            return 200 "ctype\n";
        }
        location = /clen {
            more_set_headers "Content-Length: 3";
            return 200 "hello";
        }
        location = /clen-clear {
            more_clear_headers Content-Length;
            return 200 "hello";
        }
        location = /redirect {
            more_set_headers "Location: /moved";
            return 301 /elsewhere;
        }
        location = /redirect-new {
            more_set_headers "Location: /made";
            return 200 "made\n";
        }
        location = /redirect-abs {
            more_set_headers "Location: http://example.com/x";
            return 302 /elsewhere;
        }
        location = /cc-clear {
            more_clear_headers Cache-Control;
            return 200 "cc\n";
        }
        location = /cc-set {
            expires 1h;
            more_set_headers "Cache-Control: no-store";
            return 200 "cc\n";
        }
        location = /cc-two {
            add_header Cache-Control a;
            add_header Cache-Control b;
            more_clear_headers Cache-Control;
            return 200 "cc\n";
        }
        location = /vars {
            more_set_headers "X-Uri: $uri" "X-Arg: $arg_a" "X-Status: $status";
            return 200 "vars\n";
        }
        location = /leading-space {
            more_set_headers " X-Odd: v";
            return 200 "odd\n";
        }
        location = /if {
            more_set_headers "X-Loc: loc";
            if ($arg_a) {
                more_set_headers "X-If: if";
            }
            return 200 "if\n";
        }
        location = /replace-expires {
            expires 1h;
            more_set_headers "Expires: never" "Refresh: 5";
            return 200 "exp\n";
        }
        location /static/ {
            more_set_headers "X-Static: yes";
        }
        location /static-nolm/ {
            alias %%DOCROOT%%/static/;
            more_clear_headers Last-Modified ETag Accept-Ranges;
        }
        location /static-etag/ {
            alias %%DOCROOT%%/static/;
            more_set_headers "E-Tag: custom" "Last-Modified: yesterday";
        }
        location /static-len/ {
            alias %%DOCROOT%%/static/;
            more_clear_headers Content-Length;
        }
        location /nested {
            more_set_headers "X-Nested-Outer: o";
            location /nested/in { more_set_headers "X-Nested-Inner: i"; return 200 "n\n"; }
        }
        location /gz/ {
            alias %%DOCROOT%%/static/;
            gzip on;
            gzip_types text/plain;
            gzip_min_length 1;
            more_set_headers -s 200 "Content-Encoding: custom";
        }
        location /gz-clear/ {
            alias %%DOCROOT%%/static/;
            gzip on;
            gzip_types text/plain;
            gzip_min_length 1;
            more_clear_headers Content-Encoding Vary;
        }
        location = /up-src {
            add_header X-Up up;
            add_header X-Powered-By php;
            add_header x-case lower;
            return 200 "up\n";
        }
        # the test client half-closes its side at once, which nginx's
        # proxy takes for an abort unless told otherwise.
        location = /px {
            proxy_ignore_client_abort on;
            proxy_pass http://127.0.0.1:$server_port/up-src;
            more_clear_headers X-Powered-By;
            more_set_headers "X-Up: changed" "X-Case: upper";
        }
        location = /px-server {
            proxy_ignore_client_abort on;
            proxy_pass_header Server;
            proxy_pass_header Date;
            proxy_pass http://127.0.0.1:$server_port/up-src;
            more_set_headers "Server: from-more";
            more_clear_headers Date;
        }
        location = /px-down {
            proxy_ignore_client_abort on;
            proxy_pass http://127.0.0.1:1/;
            more_set_headers -s 502 "X-Down: yes";
        }
        location = /error-page {
            error_page 404 /plain;
            more_set_headers "X-Err: e";
            return 404;
        }
    }
}
`

func writeDocroot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "static", "f.txt"), []byte("0123456789abcdef\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return root
}

func TestOutputHeadersMatchNginx(t *testing.T) {
	root := writeDocroot(t)
	p := difftest.Start(t, strings.ReplaceAll(outputConf, "%%DOCROOT%%", root), "headers-more")
	tests := []struct{ name, raw string }{
		{"inherited from http and server", get("/plain")},
		{"several in one directive", get("/many")},
		{"Server replaced", get("/server")},
		{"Server and Date cleared", get("/server-clear")},
		{"Server cleared then set", get("/server-clear-set")},
		{"status filter on 200", get("/status")},
		{"status filter on 404 page", get("/status404")},
		{"type filter", get("/types")},
		{"type filter on error page", get("/types404")},
		{"wildcard clear", get("/wild")},
		{"wildcard set", get("/wild-set")},
		{"existing name keeps its case", get("/case")},
		{"empty value clears", get("/empty")},
		{"Content-Type with charset", get("/ctype")},
		{"Content-Type plain", get("/ctype-plain")},
		{"Content-Type cleared", get("/ctype-clear")},
		{"Content-Length set", get("/clen")},
		{"Content-Length cleared", get("/clen-clear")},
		{"Content-Length cleared HTTP/1.0", "GET /clen-clear HTTP/1.0\r\n\r\n"},
		{"Location replaced", get("/redirect")},
		{"Location added", get("/redirect-new")},
		{"Location absolute", get("/redirect-abs")},
		{"Cache-Control cleared when absent", get("/cc-clear")},
		{"Cache-Control over expires", get("/cc-set")},
		{"Cache-Control lines cleared", get("/cc-two")},
		{"variables", get("/vars?a=1")},
		{"leading space in argument", get("/leading-space")},
		{"if block without match", get("/if")},
		{"if block with match", get("/if?a=1")},
		{"Expires and Refresh", get("/replace-expires")},
		{"static file", get("/static/f.txt")},
		{"static file HEAD", "HEAD /static/f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"static 404", get("/static/none.txt")},
		{"static without validators", get("/static-nolm/f.txt")},
		{"static range without Accept-Ranges", get("/static-nolm/f.txt", "Range: bytes=0-3\r\n")},
		{"static E-Tag", get("/static-etag/f.txt")},
		{"static without length", get("/static-len/f.txt")},
		{"static conditional", get("/static/f.txt", "If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n")},
		{"nested location", get("/nested/in")},
		{"gzip skipped for Content-Encoding", get("/gz/f.txt", "Accept-Encoding: gzip\r\n")},
		{"gzip adds after the filter", "HEAD /gz-clear/f.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n"},
		{"304 with status filter", get("/gz/f.txt", "If-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n")},
		{"error_page redirect", get("/error-page")},
		{"unknown location", get("/nowhere")},
		{"proxied response", get("/px")},
		{"proxied Server and Date", get("/px-server")},
		{"proxy error page", get("/px-down")},
	}
	for _, tc := range tests {
		check(t, p, tc.name, tc.raw)
	}
}

const inputConf = `
http {
    default_type text/plain;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location = /set {
            more_set_input_headers "X-In: set" "User-Agent: agent/1";
            return 200 "in=$http_x_in ua=$http_user_agent\n";
        }
        location = /clear {
            more_clear_input_headers X-In "X-Wild-*";
            return 200 "in=$http_x_in w1=$http_x_wild_a w2=$http_x_wild_b other=$http_x_other\n";
        }
        location = /replace {
            more_set_input_headers -r "X-In: replaced" "X-New: new";
            return 200 "in=$http_x_in new=$http_x_new\n";
        }
        location = /type {
            more_set_input_headers -t "text/plain application/json" "X-Typed: yes";
            return 200 "typed=$http_x_typed\n";
        }
        location = /host {
            more_set_input_headers "Host: Example.COM.:8080";
            return 200 "host=$host hh=$http_host\n";
        }
        location = /cookie {
            more_set_input_headers "Cookie: a=1";
            return 200 "cookie=$http_cookie a=$cookie_a b=$cookie_b\n";
        }
        location = /dup {
            more_set_input_headers "X-Dup: one";
            return 200 "dup=$http_x_dup\n";
        }
        location = /order {
            set $before $http_x_in;
            more_set_input_headers "X-In: after";
            return 200 "before=$before after=$http_x_in\n";
        }
        location = /vars {
            more_set_input_headers "X-Uri: $uri?$args";
            return 200 "uri=$http_x_uri\n";
        }
        location = /inherit {
            more_set_input_headers "X-Loc: loc";
            if ($arg_a) {
                more_set_input_headers "X-If: if";
            }
            return 200 "loc=$http_x_loc if=$http_x_if\n";
        }
        location = /clen {
            more_clear_input_headers Content-Length;
            return 200 "cl=$http_content_length\n";
        }
    }
}
`

func TestInputHeadersMatchNginx(t *testing.T) {
	p := difftest.Start(t, inputConf, "headers-more")
	tests := []struct{ name, raw string }{
		{"set new and builtin", get("/set", "User-Agent: curl\r\n")},
		{"set existing", get("/set", "X-In: old\r\n")},
		{"clear and wildcard clear", get("/clear", "X-In: a\r\nX-Wild-A: 1\r\nX-Wild-B: 2\r\nX-Other: 3\r\n")},
		{"replace only existing", get("/replace", "X-In: old\r\n")},
		{"replace missing", get("/replace")},
		{"type matches", get("/type", "Content-Type: text/plain\r\n")},
		{"type differs", get("/type", "Content-Type: text/plain; charset=utf-8\r\n")},
		{"type absent", get("/type")},
		{"host", get("/host")},
		{"cookie", get("/cookie", "Cookie: b=2\r\nCookie: c=3\r\n")},
		{"duplicates collapse", get("/dup", "X-Dup: a\r\nX-Dup: b\r\n")},
		{"after rewrite set", get("/order", "X-In: before\r\n")},
		{"variables", get("/vars?q=1")},
		{"inherit into if", get("/inherit?a=1")},
		{"inherit no if", get("/inherit")},
		{"content length cleared", "POST /clen HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"},
		{"HTTP/1.0", "GET /set HTTP/1.0\r\n\r\n"},
	}
	for _, tc := range tests {
		check(t, p, tc.name, tc.raw)
	}
}

const luaConf = `
http {
    default_type text/plain;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location = /order {
            set $seen "";
            more_set_input_headers "X-In: hm";
            rewrite_by_lua_block { ngx.var.seen = ngx.var.http_x_in }
            more_set_headers "X-Out: hm";
            header_filter_by_lua_block { ngx.header["X-Seen"] = ngx.header["X-Out"] }
            echo "seen=$seen";
        }
    }
}
`

// TestPhaseOrderWithLua checks where the input handler and the output
// filter sit next to ngx_lua's: input headers are set before
// rewrite_by_lua runs, output headers before header_filter_by_lua.
func TestPhaseOrderWithLua(t *testing.T) {
	p := difftest.Start(t, luaConf, "lua", "echo", "headers-more")
	check(t, p, "rewrite and header filter order", get("/order", "X-In: client\r\n"))
}
