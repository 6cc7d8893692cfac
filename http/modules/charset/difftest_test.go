package charset_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/url"
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

// The maps Debian ships with nginx.
const mapsDir = "/etc/nginx"

func needMaps(t *testing.T) {
	t.Helper()
	for _, f := range []string{"koi-win", "koi-utf", "win-utf"} {
		if _, err := os.Stat(filepath.Join(mapsDir, f)); err != nil {
			t.Skipf("nginx's charset maps are not installed: %v", err)
		}
	}
}

// utf8Body has characters koi8-r has (Cyrillic, the euro, the numero
// sign), characters it lacks (an em dash, a CJK one, one outside the
// basic plane), and broken sequences: a bad lead byte, an overlong form,
// a sequence cut by ASCII. It ends in ASCII so that no piece of it
// forms a lone byte after a cut sequence.
const utf8Body = "<p>Привет, мир € № — 模 😀 ё Ё\xff\xc0\x80 \xe2\x82x \xd0 end</p>\n"

// backend answers GET /cut/N,M... with utf8Body in chunks cut at those
// offsets, written apart so that a proxy without buffering gets a
// character cut at every point; and GET /ct?t=TYPE&x=ACCEL&e=ENC&b=BODY
// with those headers and body.
func backend(t *testing.T) string {
	t.Helper()
	return nginxtest.Serve(t, serve)
}

func serve(c net.Conn) {
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
	path, query, _ := strings.Cut(f[1], "?")
	if path == "/ct" {
		q, _ := url.ParseQuery(query)
		h := "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		if v := q.Get("t"); v != "" {
			h += "Content-Type: " + v + "\r\n"
		}
		if v := q.Get("x"); v != "" {
			h += "X-Accel-Charset: " + v + "\r\n"
		}
		if v := q.Get("e"); v != "" {
			h += "Content-Encoding: " + v + "\r\n"
		}
		b := q.Get("b")
		fmt.Fprintf(c, "%sContent-Length: %d\r\n\r\n%s", h, len(b), b)
		return
	}
	var cuts []int
	for _, s := range strings.Split(strings.TrimPrefix(path, "/cut/"), ",") {
		if n, err := strconv.Atoi(s); err == nil && n > 0 && n < len(utf8Body) {
			cuts = append(cuts, n)
		}
	}
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
	prev := 0
	for _, cut := range append(cuts, len(utf8Body)) {
		if cut <= prev {
			continue
		}
		fmt.Fprintf(c, "%x\r\n%s\r\n", cut-prev, utf8Body[prev:cut])
		prev = cut
		time.Sleep(3 * time.Millisecond)
	}
	fmt.Fprintf(c, "0\r\n\r\n")
}

const conf = `
http {
    include MAPS/koi-win;
    include MAPS/koi-utf;
    include MAPS/win-utf;
    charset_map B A {
        58 59;
    }
    types {
        text/html html;
        text/plain txt;
        text/css css;
        application/javascript js;
        application/octet-stream bin;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        absolute_redirect off;

        location / {
            root DIR;
            charset utf-8;
        }
        location /off/ {
            alias DIR/;
            charset off;
        }
        location /types/ {
            alias DIR/;
            charset koi8-r;
            charset_types text/css;
        }
        location /any/ {
            alias DIR/;
            charset koi8-r;
            charset_types *;
        }
        location /var/ {
            alias DIR/;
            charset $arg_c;
            source_charset $arg_s;
        }
        location /k2w/ {
            alias DIR/;
            charset windows-1251;
            source_charset koi8-r;
        }
        location /k2u/ {
            alias DIR/;
            charset utf-8;
            source_charset koi8-r;
        }
        location /k2u/gzip/ {
            alias DIR/;
            charset utf-8;
            source_charset koi8-r;
            gzip on;
            gzip_min_length 1;
        }
        location /k2u/sendfile/ {
            alias DIR/;
            sendfile on;
            charset utf-8;
            source_charset koi8-r;
        }
        location /u2k/ {
            alias DIR/;
            charset koi8-r;
            source_charset utf-8;
        }
        location /u2w/ {
            alias DIR/;
            charset windows-1251;
            source_charset utf-8;
        }
        location /nomap/ {
            alias DIR/;
            charset koi8-r;
            source_charset $arg_s;
        }
        location /redirect {
            charset utf-8;
            return 302 /elsewhere;
        }
        location /moved {
            charset utf-8;
            return 301 /elsewhere;
        }
        location /sub/ {
            alias DIR/;
            charset utf-8;
            source_charset koi8-r;
            sub_filter_types text/plain;
            sub_filter SUBPAT "[a]";
        }
        location /cut/ {
            proxy_pass http://BACKEND;
            proxy_buffering off;
            charset koi8-r;
            override_charset on;
        }
        location /cut-w/ {
            proxy_pass http://BACKEND/cut/;
            charset windows-1251;
            override_charset on;
        }
        location /ct {
            proxy_pass http://BACKEND;
            charset windows-1251;
            source_charset koi8-r;
        }
        location /ct-override {
            proxy_pass http://BACKEND/ct;
            charset windows-1251;
            override_charset on;
        }
        location /ct-ignore {
            proxy_pass http://BACKEND/ct;
            proxy_ignore_headers X-Accel-Charset;
            charset windows-1251;
            source_charset koi8-r;
        }
    }
}
`

// bytesFile is every byte value from 0x20 on, and the ASCII controls
// HTML keeps.
func bytesFile() string {
	var b strings.Builder
	b.WriteString("\t\r\n")
	for c := 0x20; c < 256; c++ {
		b.WriteByte(byte(c))
	}
	return b.String()
}

func startPair(t *testing.T) *difftest.Pair {
	t.Helper()
	needMaps(t)
	dir := t.TempDir()
	files := map[string]string{
		"a.html":    "<p>hello</p>",
		"a.txt":     "plain",
		"a.css":     "p{}",
		"a.js":      "x()",
		"a.bin":     "bin",
		"koi.html":  "Привет, мир" + bytesFile(),
		"koi.txt":   "X" + bytesFile(),
		"utf.html":  utf8Body,
		"ab.html":   strings.Repeat("X", 99),
		"empty.txt": "",
		// 600 bytes before the first byte that grows: nginx leaves
		// them as they are, "?"-bound bytes included.
		"long.html": strings.Repeat("a\x81", 300) + "\xc1\x81",
		// only bytes that stay one byte: the buffer passes untouched.
		"unmapped.html": "abc\x81\x82\x83",
		// two of the copy filter's reads: the first passes untouched,
		// the second is recoded whole.
		"big.html": strings.Repeat("\x81", 32768) + "\x81\xc1" + strings.Repeat("z", 100),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// the search string is two koi8-r bytes: found only if sub_filter
	// sees the body before it is recoded.
	c := strings.NewReplacer("MAPS", mapsDir, "BACKEND", backend(t), "DIR", dir, "SUBPAT", "\xe1\xe2").Replace(conf)
	return difftest.Start(t, c)
}

func get(path string, headers ...string) string {
	return traffictest.Get(path, headers...)
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
		resp := difftest.Parse(b, strings.HasPrefix(raw, "HEAD "))
		// zlib's and gresty's compressed bytes differ; their content
		// must not.
		if resp.Header != nil && resp.Header.Get("Content-Encoding") == "gzip" && len(resp.Body) > 0 {
			zr, err := gzip.NewReader(bytes.NewReader(resp.Body))
			if err != nil {
				t.Fatalf("%s: %s: %v", name, addr, err)
			}
			if resp.Body, err = io.ReadAll(zr); err != nil {
				t.Fatalf("%s: %s: %v", name, addr, err)
			}
		}
		return resp
	}
	ng, gr := fetch(p.Nginx.Addr), fetch(p.Gresty.Addr)
	if diffs := difftest.Diff(ng, gr); len(diffs) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%q\ngresty:\n%q", name, strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
	}
}

func TestCharsetMatchesNginx(t *testing.T) {
	p := startPair(t)
	ct := func(typ, accel, enc, body string) string {
		q := url.Values{"t": {typ}, "x": {accel}, "e": {enc}, "b": {body}}
		return "?" + q.Encode()
	}
	tests := []struct{ name, raw string }{
		{"html", get("/a.html")},
		{"plain", get("/a.txt")},
		{"css not listed", get("/a.css")},
		{"javascript listed", get("/a.js")},
		{"binary", get("/a.bin")},
		{"head", "HEAD /a.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"not found page", get("/missing.html")},
		{"directory redirect", get("/off")},
		{"off", get("/off/a.html")},
		{"charset_types", get("/types/a.css")},
		{"charset_types keeps text/html", get("/types/a.html")},
		{"charset_types drops the others", get("/types/a.txt")},
		{"charset_types any", get("/any/a.bin")},
		{"variable", get("/var/a.html?c=windows-1251")},
		{"variable unknown name", get("/var/a.html?c=latin1")},
		{"variables recode", get("/var/koi.html?c=windows-1251&s=koi8-r")},
		{"variables same name", get("/var/koi.html?c=KOI8-R&s=koi8-r")},
		{"variables unknown names", get("/var/koi.html?c=x-one&s=x-two")},
		{"variables unknown same names", get("/var/koi.html?c=x-one&s=X-ONE")},
		{"variable not found", get("/var/a.html")},
		{"source variable not found", get("/var/a.html?c=utf-8")},
		{"koi8-r to windows-1251", get("/k2w/koi.html")},
		{"koi8-r to windows-1251 length kept", get("/k2w/koi.txt")},
		{"koi8-r to windows-1251 range", get("/k2w/koi.txt", "Range: bytes=1-40")},
		{"koi8-r to windows-1251 ranges", get("/k2w/koi.txt", "Range: bytes=1-4,200-210")},
		{"koi8-r to utf-8", get("/k2u/koi.html")},
		{"koi8-r to utf-8 long prefix", get("/k2u/long.html")},
		{"koi8-r to utf-8 one-byte buffer", get("/k2u/unmapped.html")},
		{"koi8-r to utf-8 two reads", get("/k2u/big.html")},
		{"koi8-r to utf-8 with sendfile", get("/k2u/sendfile/big.html")},
		{"koi8-r to utf-8 gzip", get("/k2u/gzip/koi.html", "Accept-Encoding: gzip")},
		{"koi8-r to utf-8 head", "HEAD /k2u/koi.html HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"empty file", get("/k2u/empty.txt")},
		{"utf-8 to koi8-r", get("/u2k/utf.html")},
		{"utf-8 to windows-1251", get("/u2w/utf.html")},
		{"no map", get("/nomap/a.html?s=B")},
		{"map the other way", get("/nomap/ab.html?s=A")},
		{"302", get("/redirect")},
		{"301", get("/moved")},
		{"sub before recoding", get("/sub/koi.txt")},
		{"proxied utf-8 to windows-1251", get("/cut-w/0")},
		{"upstream charset kept", get("/ct" + ct("text/html; charset=utf-8", "", "", "abc"))},
		{"upstream charset quoted", get("/ct" + ct("text/html; charset=\"koi8-r\"", "", "", "\xf0\xf2"))},
		{"upstream other parameter", get("/ct" + ct("text/html; q=1", "", "", "\xf0\xf2"))},
		{"upstream other type", get("/ct" + ct("image/png", "", "", "\xf0\xf2"))},
		{"upstream no type", get("/ct" + ct("", "", "", "\xf0\xf2"))},
		{"upstream encoded", get("/ct" + ct("text/html", "", "br", "\xf0\xf2"))},
		{"upstream charset overridden", get("/ct-override" + ct("text/html; charset=koi8-r", "", "", "\xf0\xf2"))},
		{"upstream charset same", get("/ct-override" + ct("text/html;charset=windows-1251", "", "", "\xf0\xf2"))},
		{"upstream charset unknown", get("/ct-override" + ct("text/html; charset=x-unknown", "", "", "\xf0\xf2"))},
		{"x-accel-charset", get("/ct" + ct("text/html", "utf-8", "", "\xf0\xf2"))},
		{"x-accel-charset unknown", get("/ct" + ct("text/html", "x-unknown", "", "\xf0\xf2"))},
		{"x-accel-charset ignored", get("/ct-ignore" + ct("text/html", "utf-8", "", "\xf0\xf2"))},
	}
	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
	for cut := 1; cut < len(utf8Body); cut++ {
		check(t, p, fmt.Sprintf("utf-8 cut at %d", cut), get(fmt.Sprintf("/cut/%d", cut)))
	}
	for cut := 1; cut+3 < len(utf8Body); cut += 2 {
		check(t, p, fmt.Sprintf("utf-8 cut at %d and %d", cut, cut+3), get(fmt.Sprintf("/cut/%d,%d", cut, cut+3)))
	}
	for _, want := range []string{
		`no "charset_map" between the charsets "B" and "koi8-r"`,
		`unknown charset "x-unknown" to override`,
	} {
		for _, s := range []struct{ name, log string }{{"nginx", p.Nginx.ErrorLog()}, {"gresty", p.Gresty.ErrorLog()}} {
			if !strings.Contains(s.log, want) {
				t.Errorf("%s's error log lacks %q", s.name, want)
			}
		}
	}
}

func TestConfigMessagesMatchNginx(t *testing.T) {
	needMaps(t)
	tests := []struct{ name, conf string }{
		{"valid", "http {\n include " + mapsDir + "/koi-utf;\n charset utf-8;\n source_charset koi8-r;\n override_charset on;\n charset_types text/css;\n server { location / { if ($uri) { charset off; } } }\n}\n"},
		{"maps twice", "http {\n include " + mapsDir + "/koi-win;\n include " + mapsDir + "/koi-win;\n}\n"},
		{"map backwards after another", "http {\n include " + mapsDir + "/koi-win;\n charset_map windows-1251 koi8-r { }\n}\n"},
		{"duplicate of a later map", "http {\n charset_map a b { }\n charset_map c d { }\n charset_map d c { }\n}\n"},
		{"same charsets", "http {\n charset_map koi8-r KOI8-R { }\n}\n"},
		{"map one argument", "http {\n charset_map koi8-r { }\n}\n"},
		{"map without block", "http {\n charset_map a b;\n}\n"},
		{"map in server", "http { server {\n charset_map a b { }\n} }\n"},
		{"line one value", "http {\n charset_map a b {\n  41;\n }\n}\n"},
		{"line three values", "http {\n charset_map a b {\n  41 42 43;\n }\n}\n"},
		{"line bad byte", "http {\n charset_map a b {\n  4G 42;\n }\n}\n"},
		{"line byte too big", "http {\n charset_map a b {\n  100 42;\n }\n}\n"},
		{"line target too big", "http {\n charset_map a b {\n  41 142;\n }\n}\n"},
		{"line leading zeros", "http {\n charset_map a b {\n  0041 000042;\n }\n}\n"},
		{"utf-8 odd digits", "http {\n charset_map a utf-8 {\n  C1 D0B;\n }\n}\n"},
		{"utf-8 ascii", "http {\n charset_map a utf-8 {\n  C1 41;\n }\n}\n"},
		{"utf-8 bad digit", "http {\n charset_map a utf-8 {\n  C1 D0XB;\n }\n}\n"},
		{"utf-8 four bytes", "http {\n charset_map a UTF-8 {\n  C1 F09F9880;\n }\n}\n"},
		{"utf-8 cut sequence", "http {\n charset_map a utf-8 {\n  C1 E282;\n }\n}\n"},
		{"nested block", "http {\n charset_map a b {\n  41 { }\n }\n}\n"},
		{"charset duplicate", "http {\n charset a;\n charset b;\n}\n"},
		{"charset no argument", "http {\n charset;\n}\n"},
		{"charset empty variable name", "http {\n charset $;\n}\n"},
		{"charset unknown variable", "http {\n charset $nosuch;\n}\n"},
		{"source_charset duplicate", "http {\n source_charset a;\n source_charset a;\n}\n"},
		{"source_charset off is a name", "http {\n charset_map off b { }\n source_charset off;\n charset b;\n server { }\n}\n"},
		{"override_charset invalid", "http {\n override_charset yes;\n}\n"},
		{"charset_types in if", "http { server { location / {\n if ($uri) {\n  charset_types text/css;\n }\n} } }\n"},
		{"charset_types duplicate warns", "http {\n charset_types text/html text/css TEXT/CSS;\n}\n"},
		{"no map for a location", "http {\n server {\n  location / { charset windows-1251; source_charset koi8-r; }\n }\n}\n"},
		{"no map, first of two", "http {\n charset_map a b { }\n server {\n  location /x { charset c; source_charset d; }\n  location /y { charset e; source_charset f; }\n }\n}\n"},
		{"map the other way serves", "http {\n include " + mapsDir + "/koi-win;\n server {\n  location / { charset koi8-r; source_charset windows-1251; }\n }\n}\n"},
		{"no servers no check", "http {\n charset windows-1251;\n source_charset koi8-r;\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}

// TestSubrequestCharsetMatchesNginx: a subrequest's output is recoded to
// the charset of the main response it goes into.
func TestSubrequestCharsetMatchesNginx(t *testing.T) {
	needMaps(t)
	dir := t.TempDir()
	for name, body := range map[string]string{"koi.html": "Привет " + bytesFile(), "utf.html": utf8Body} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := strings.NewReplacer("MAPS", mapsDir, "DIR", dir).Replace(`
http {
    include MAPS/koi-utf;
    include MAPS/koi-win;
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        default_type text/html;

        location /utf8 {
            charset utf-8;
            echo "main";
            echo_location /part/koi.html;
            echo_location /part/plain.html;
        }
        location /koi {
            charset koi8-r;
            echo_location /part/utf.html;
            echo_location /part/koi.html;
        }
        location /none {
            echo_location /part/koi.html;
        }
        location /unknown {
            charset x-unknown;
            echo_location /part/koi.html;
        }
        location /part/ {
            alias DIR/;
            source_charset koi8-r;
            location = /part/utf.html { alias DIR/utf.html; source_charset utf-8; }
            location = /part/plain.html { alias DIR/koi.html; source_charset off; }
        }
    }
}
`)
	p := difftest.Start(t, c, "echo")
	for _, path := range []string{"/utf8", "/koi", "/none", "/unknown"} {
		check(t, p, path, get(path))
	}
}
