package subfilter_test

import (
	"bufio"
	"fmt"
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

// splitBody has matches of overlapping strings, in both cases, next to
// each other and cut short at the end.
const splitBody = "<p>abcabcab yy ABCAB zz bcabca abcabd cAb</p> abca"

// backend serves GET /cut/N,M,... with splitBody sent chunked in pieces
// cut at those offsets, each piece written on its own after a pause, so
// that a proxy with buffering off gets a match split at every point.
func backend(t *testing.T) string {
	t.Helper()
	return nginxtest.Serve(t, serveCut)
}

func serveCut(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	for {
		l, err := br.ReadString('\n')
		if err != nil || l == "\r\n" {
			break
		}
	}
	f := strings.Fields(line)
	if len(f) < 2 {
		return
	}
	path, _, _ := strings.Cut(f[1], "?")
	var cuts []int
	for _, s := range strings.Split(strings.TrimPrefix(path, "/cut/"), ",") {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n < len(splitBody) {
			cuts = append(cuts, n)
		}
	}
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
	prev := 0
	for _, cut := range append(cuts, len(splitBody)) {
		if cut <= prev {
			continue
		}
		fmt.Fprintf(c, "%x\r\n%s\r\n", cut-prev, splitBody[prev:cut])
		prev = cut
		time.Sleep(3 * time.Millisecond)
	}
	fmt.Fprintf(c, "0\r\n\r\n")
}

const conf = `
http {
    types { text/html html; text/plain txt; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        sub_filter foo bar;
        error_page 404 /404.html;

        location /cut/ {
            proxy_pass http://BACKEND;
            proxy_buffering off;
            sub_filter_once off;
            sub_filter abcab "[1]";
            sub_filter bca "[2]";
            sub_filter CAB "[3 $arg_v]";
            sub_filter ab "";
        }
        location /once/cut/ {
            proxy_pass http://BACKEND/cut/;
            proxy_buffering off;
            sub_filter abcab "[1]";
            sub_filter bca "[2]";
            sub_filter cab "[3]";
        }
        location /buffered/cut/ {
            proxy_pass http://BACKEND/cut/;
            sub_filter_once off;
            sub_filter abcab "[1]";
            sub_filter bca "[2]";
        }
        location /files/ {
            alias DIR/;
            sub_filter_once off;
            sub_filter needle "<$uri>";
            sub_filter_types text/plain;
        }
        location /sendfile/ {
            alias DIR/files/;
            sendfile on;
            sub_filter_once off;
            sub_filter needle "<$uri>";
        }
        location /lm/ {
            alias DIR/;
            sub_filter_last_modified on;
        }
        location /var/ {
            alias DIR/;
            sub_filter $arg_s "[$arg_s]";
            sub_filter $arg_t "[$arg_t]";
        }
        location /any/ {
            alias DIR/;
            sub_filter_types *;
        }
        location /notype {
            default_type "";
            sub_filter_types *;
            return 200 "foo foo";
        }
        location /ret {
            sub_filter_types text/plain;
            default_type text/plain;
            return 200 "foo foo";
        }
    }
}
`

// startPair serves dir's files and the backend with both servers.
func startPair(t *testing.T) *difftest.Pair {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"foo.html":     "a foo and a FOO",
		"empty.html":   "",
		"404.html":     "not foo found",
		"plain.txt":    "foo",
		"data.bin":     "foo",
		"files/a.html": "needle",
		// needles across the copy filter's 32k reads, and in the first
		// and last bytes.
		"files/big.html": "needle" + strings.Repeat("x", 32768-9) + "needle" + strings.Repeat("y", 32768-3) + "needle",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := strings.NewReplacer("BACKEND", backend(t), "DIR", dir).Replace(conf)
	return difftest.Start(t, c)
}

func get(path string) string {
	return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
}

// check is difftest's Check with a client that keeps its side of the
// connection open until the answer is complete: nginx takes a
// half-closed connection for an abort while it waits for a streaming
// upstream.
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	fetch := func(addr string) *difftest.Response {
		b, _, err := traffictest.SendRaw(addr, raw, 5*time.Second)
		if err != nil && len(b) == 0 {
			t.Fatalf("%s: %s: %v", name, addr, err)
		}
		return difftest.Parse(b, strings.HasPrefix(raw, "HEAD "))
	}
	ng, gr := fetch(p.Nginx.Addr), fetch(p.Gresty.Addr)
	if diffs := difftest.Diff(ng, gr); len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", name, strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
	}
}

func TestSubFilterMatchesNginx(t *testing.T) {
	p := startPair(t)
	tests := []struct{ name, raw string }{
		{"static file", get("/foo.html")},
		{"http/1.0", "GET /foo.html HTTP/1.0\r\n\r\n"},
		{"head", "HEAD /foo.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"empty file keeps its length", get("/empty.html")},
		{"other type", get("/data.bin")},
		{"type not listed", get("/plain.txt")},
		{"error page", get("/missing.html")},
		{"conditional", "GET /foo.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nIf-Modified-Since: Thu, 01 Jan 2099 00:00:00 GMT\r\n\r\n"},
		{"last modified kept, etag weak", get("/lm/foo.html")},
		{"range ignored", "GET /foo.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nRange: bytes=0-3\r\n\r\n"},
		{"files across reads", get("/files/files/big.html")},
		{"sendfile across reads", get("/sendfile/big.html")},
		{"small file", get("/files/files/a.html")},
		{"variables in search", get("/var/foo.html?s=AND&t=foo")},
		{"variable search empty", get("/var/foo.html?t=a%20")},
		{"all variable searches empty", get("/var/foo.html")},
		{"any type", get("/any/data.bin")},
		{"no content type", get("/notype")},
		{"return", get("/ret")},
		{"buffered proxy", get("/buffered/cut/20,30")},
	}
	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
	// every split point, and pairs of them, of a streamed body.
	for cut := 1; cut < len(splitBody); cut++ {
		check(t, p, fmt.Sprintf("split at %d", cut), get(fmt.Sprintf("/cut/%d?v=%d", cut, cut)))
		check(t, p, fmt.Sprintf("once, split at %d", cut), get(fmt.Sprintf("/once/cut/%d", cut)))
	}
	for cut := 1; cut+2 < len(splitBody); cut += 3 {
		check(t, p, fmt.Sprintf("split at %d and %d", cut, cut+2), get(fmt.Sprintf("/cut/%d,%d", cut, cut+2)))
	}
}

func TestConfigMessagesMatchNginx(t *testing.T) {
	many := ""
	for i := 0; i < 256; i++ {
		many += fmt.Sprintf(" sub_filter s%d r;\n", i)
	}
	tests := []struct{ name, conf string }{
		{"valid", "http {\n sub_filter a b;\n sub_filter_once off;\n sub_filter_last_modified on;\n sub_filter_types text/css;\n server { location / { sub_filter $host x$uri; } }\n}\n"},
		{"empty search", "http {\n sub_filter \"\" b;\n}\n"},
		{"one argument", "http {\n sub_filter a;\n}\n"},
		{"three arguments", "http {\n sub_filter a b c;\n}\n"},
		{"in if", "http { server { location / {\n if ($uri) {\n  sub_filter a b;\n }\n} } }\n"},
		{"256 strings", "http {\n" + many + "}\n"},
		{"bad variable", "http {\n sub_filter $ b;\n}\n"},
		{"unknown variable", "http {\n sub_filter a $nosuch;\n}\n"},
		{"once invalid", "http {\n sub_filter_once maybe;\n}\n"},
		{"once duplicate", "http {\n sub_filter_once on;\n sub_filter_once off;\n}\n"},
		{"last_modified duplicate", "http {\n sub_filter_last_modified on;\n sub_filter_last_modified on;\n}\n"},
		{"types duplicate warns", "http {\n sub_filter_types text/css TEXT/CSS text/html;\n}\n"},
		{"types star then more", "http {\n sub_filter_types * text/css;\n sub_filter_types text/css text/css;\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}
