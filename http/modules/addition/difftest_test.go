package addition_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// backend answers every request with text/html. /stream/N sends N
// chunks, each written on its own after a pause, so that an unbuffered
// proxy passes the body on in pieces; any other path gets
// "[METHOD PATH BODY]", the request's body read by its Content-Length.
func backend(t *testing.T) string {
	t.Helper()
	return nginxtest.Serve(t, serve)
}

func serve(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	length := 0
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
		name, value, _ := strings.Cut(l, ":")
		if strings.EqualFold(name, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(value))
		}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(br, body); err != nil {
		return
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return
	}
	if n, ok := strings.CutPrefix(f[1], "/stream/"); ok {
		pieces, _ := strconv.Atoi(n)
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
		for i := 0; i < pieces; i++ {
			fmt.Fprintf(c, "6\r\npiece%d\r\n", i%10)
			time.Sleep(3 * time.Millisecond)
		}
		fmt.Fprintf(c, "0\r\n\r\n")
		return
	}
	out := fmt.Sprintf("[%s %s %s]", f[0], f[1], body)
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\nETag: \"up\"\r\n\r\n%s", len(out), out)
}

const conf = `
http {
    types { text/html html; text/plain txt; text/css css; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        add_before_body /add/server;

        location /add/ {
            return 200 "($uri:$args)";
        }
        location /files/ {
            alias DIR/;
            add_before_body /add/before;
            add_after_body /add/after;
        }
        location /sendfile/ {
            alias DIR/;
            sendfile on;
            add_before_body /add/before;
            add_after_body /add/after;
        }
        location /small-buffers/ {
            alias DIR/;
            output_buffers 1 1k;
            add_after_body /add/after;
        }
        location /after-only/ {
            alias DIR/;
            add_before_body "";
            add_after_body /add/after;
        }
        location /inherited/ {
            alias DIR/;
        }
        location /with-args {
            default_type text/html;
            add_before_body "/add/x?a=1";
            add_after_body /add/$uri;
            return 200 "body";
        }
        location /file-parts {
            default_type text/html;
            add_before_body /files/plain.txt;
            add_after_body /files/page.html;
            return 200 "body";
        }
        location /missing-part {
            default_type text/html;
            add_before_body /files/nosuch.html;
            add_after_body /add/after;
            return 200 "body";
        }
        location /any-type/ {
            alias DIR/;
            addition_types *;
            add_after_body /add/after;
        }
        location /css/ {
            alias DIR/;
            addition_types text/css;
            add_after_body /add/after;
        }
        location /error-page/ {
            alias DIR/;
            error_page 404 /files/page.html;
        }
        location /not-found/ {
            alias DIR/;
            add_after_body /add/after;
        }
        location /proxy/ {
            proxy_pass http://BACKEND/;
            add_after_body /upstream/after;
        }
        location /stream/ {
            proxy_pass http://BACKEND;
            proxy_buffering off;
            add_after_body /add/after;
        }
        location /upstream/ {
            proxy_pass http://BACKEND;
        }
        location /no-type {
            default_type "";
            add_after_body /add/after;
            return 200 "body";
        }
        location /nested {
            default_type text/html;
            add_before_body /file-parts;
            return 200 "body";
        }
        location /off {
            add_before_body "";
            return 200 "body";
        }
    }
}
`

// modTime is the files' modification time, for conditional requests.
var modTime = time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)

// startPair serves a directory of files and the backend with both servers.
func startPair(t *testing.T) *difftest.Pair {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"page.html":  "<p>page</p>",
		"empty.html": "",
		"plain.txt":  "plain",
		"style.css":  "p{}",
		// a body the copy filter reads in several pieces.
		"big.html": strings.Repeat("0123456789abcdef", 4096) + "end",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, modTime, modTime); err != nil {
			t.Fatal(err)
		}
	}
	c := strings.NewReplacer("BACKEND", backend(t), "DIR", dir).Replace(conf)
	return difftest.Start(t, c)
}

func get(path string, headers ...string) string { return traffictest.Get(path, headers...) }

// check is difftest's Check with a client that keeps its side of the
// connection open until the answer is complete: nginx takes a
// half-closed connection for an abort while it waits for an upstream.
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	fetch := func(server, addr string) *difftest.Response {
		b, _, err := traffictest.SendRaw(addr, raw, 5*time.Second)
		if err != nil && len(b) == 0 {
			t.Fatalf("%s: %s: %v", name, server, err)
		}
		return difftest.Parse(b, strings.HasPrefix(raw, "HEAD "))
	}
	ng, gr := fetch("nginx", p.Nginx.Addr), fetch("gresty", p.Gresty.Addr)
	if diffs := difftest.Diff(ng, gr); len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", name, strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
	}
}

func TestAdditionMatchesNginx(t *testing.T) {
	p := startPair(t)
	post := "POST /proxy/echo HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"
	tests := []struct{ name, raw string }{
		{"file, both parts", get("/files/page.html")},
		{"file, etag weakened, last-modified kept", get("/files/page.html", "If-None-Match: \"x\"")},
		{"if-none-match", get("/files/page.html", fmt.Sprintf("If-None-Match: \"%x-b\"", modTime.Unix()))},
		{"empty file", get("/files/empty.html")},
		{"large file", get("/files/big.html")},
		{"sendfile", get("/sendfile/page.html")},
		{"sendfile, large file", get("/sendfile/big.html")},
		{"small output buffers", get("/small-buffers/big.html")},
		{"http/1.0", "GET /files/page.html HTTP/1.0\r\n\r\n"},
		{"head", "HEAD /files/page.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"range ignored", get("/files/page.html", "Range: bytes=0-3")},
		{"not modified", get("/files/page.html", "If-Modified-Since: Thu, 02 Jan 2020 03:04:05 GMT")},
		{"modified since", get("/files/page.html", "If-Modified-Since: Wed, 01 Jan 2020 03:04:05 GMT")},
		{"type not listed", get("/files/plain.txt")},
		{"type listed", get("/css/style.css")},
		{"html always listed", get("/css/page.html")},
		{"any type", get("/any-type/plain.txt")},
		{"after only", get("/after-only/page.html")},
		{"server level inherited", get("/inherited/page.html")},
		{"uri taken as written", get("/with-args?z=2")},
		{"parts from files", get("/file-parts")},
		{"missing part", get("/missing-part")},
		{"not found main", get("/not-found/nosuch.html")},
		{"error page of the main request", get("/error-page/nosuch.html")},
		{"proxied", get("/proxy/x")},
		{"proxied post, body seen by the part", post},
		{"streamed", get("/stream/5")},
		{"no content type", get("/no-type")},
		{"parts of a part are not added to", get("/nested")},
		{"disabled", get("/off")},
	}
	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
}

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n add_before_body /a;\n add_after_body /b;\n addition_types text/css;\n server { location / { add_before_body \"\"; } }\n}\n"},
		{"before duplicate", "http {\n add_before_body /a;\n add_before_body /b;\n}\n"},
		{"after duplicate", "http {\n server {\n add_after_body /a;\n add_after_body /a;\n }\n}\n"},
		{"no argument", "http {\n add_before_body;\n}\n"},
		{"two arguments", "http {\n add_after_body /a /b;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  add_after_body /a;\n }\n} } }\n"},
		{"types no argument", "http {\n addition_types;\n}\n"},
		{"types duplicate warns", "http {\n addition_types text/css TEXT/CSS text/html;\n}\n"},
		{"types star then more", "http {\n addition_types * text/css;\n addition_types text/css;\n}\n"},
		{"outside http", "add_before_body /a;\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}

const luaConf = `
http {
    default_type text/html;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location /add/ {
            return 200 "($uri)";
        }
        location /lua/ {
            content_by_lua_block { ngx.sleep(0.01) ngx.print("[lua part]") }
        }
        location /flushed {
            add_before_body /add/before;
            add_after_body /add/after;
            content_by_lua_block {
                ngx.say("one")
                ngx.flush(true)
                ngx.sleep(0.01)
                ngx.say("two")
            }
        }
        location /capture {
            add_before_body /add/before;
            content_by_lua_block {
                local res = ngx.location.capture("/add/captured")
                ngx.print(res.body)
            }
        }
        location /lua-part {
            add_before_body /lua/before;
            add_after_body /lua/after;
            return 200 "body";
        }
        location /exit {
            add_after_body /add/after;
            content_by_lua_block { ngx.print("body") ngx.exit(200) }
        }
    }
}
`

// TestLuaMatchesNginx covers additions to Lua responses that flush, sleep
// and capture, and parts made by Lua.
func TestLuaMatchesNginx(t *testing.T) {
	p := difftest.Start(t, luaConf, "lua")
	for _, path := range []string{"/flushed", "/capture", "/lua-part", "/exit"} {
		check(t, p, path, get(path))
	}
}
