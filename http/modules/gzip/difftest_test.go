package gzip_test

import (
	"bytes"
	stdgzip "compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
	"gresty/modules"
)

// startPair is difftest.Start, except that while gresty does not know the
// temp-path and access_log directives nginxtest writes into every http
// block, gresty gets them inside a string of a server no request reaches.
func startPair(t *testing.T, conf string) *difftest.Pair {
	t.Helper()
	reg := modules.Registry()
	known := true
	for _, d := range []string{"client_body_temp_path", "proxy_temp_path", "fastcgi_temp_path", "uwsgi_temp_path", "scgi_temp_path", "access_log"} {
		known = known && reg.Known(d)
	}
	if known {
		return difftest.Start(t, conf)
	}
	end := strings.LastIndex(conf, "}")
	grConf := conf[:end] + "    server {\n        listen 127.0.0.1:%%PORT%%;\n        server_name globals.invalid;\n" +
		"        location / { add_header X-Unused \"%%HTTP_GLOBALS%%\"; }\n    }\n" + conf[end:]
	return &difftest.Pair{Nginx: nginxtest.Start(t, conf), Gresty: nginxtest.StartGresty(t, grConf)}
}

// headLines returns a response's header lines in order, without Date.
func headLines(raw []byte) []string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(raw[:end]), "\r\n")[1:] {
		if strings.HasPrefix(strings.ToLower(l), "date:") {
			continue
		}
		out = append(out, l)
	}
	return out
}

// trailerBlock returns the trailer section of a chunked response (the
// lines after the last chunk), "" for other responses.
func trailerBlock(raw []byte) string {
	end := bytes.Index(raw, []byte("\r\n\r\n"))
	if end < 0 || !bytes.Contains(bytes.ToLower(raw[:end]), []byte("transfer-encoding: chunked")) {
		return ""
	}
	b := raw[end+4:]
	for {
		nl := bytes.Index(b, []byte("\r\n"))
		if nl < 0 {
			return "(truncated)"
		}
		size, err := strconv.ParseInt(string(b[:nl]), 16, 64)
		if err != nil {
			return "(bad chunk)"
		}
		b = b[nl+2:]
		if size == 0 {
			return string(b)
		}
		if int64(len(b)) < size+2 {
			return "(truncated)"
		}
		b = b[size+2:]
	}
}

// decoded returns the body with its content encoding removed; gzip is
// checked strictly (CRC and length).
func decoded(r *difftest.Response) ([]byte, error) {
	if r.Header == nil || len(r.Body) == 0 {
		return r.Body, nil
	}
	// the last coding is the outermost (add_header may add another).
	ce := r.Header.Values("Content-Encoding")
	if len(ce) == 0 || ce[len(ce)-1] != "gzip" {
		return r.Body, nil
	}
	br := bytes.NewReader(r.Body)
	zr, err := stdgzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	if br.Len() != 0 {
		return nil, fmt.Errorf("%d bytes after the gzip stream", br.Len())
	}
	return b, nil
}

// check compares status, every header line but Date in order, and the
// decoded bodies (zlib's and klauspost's compressed bytes differ).
func check(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	var diffs []string
	for attempt := 0; attempt < 2; attempt++ {
		diffs = diffs[:0]
		ng, gr := p.Do(t, raw)
		if ng.Status != gr.Status {
			diffs = append(diffs, fmt.Sprintf("status: nginx %d, gresty %d", ng.Status, gr.Status))
		}
		if a, b := strings.Join(headLines(ng.Raw), "\n"), strings.Join(headLines(gr.Raw), "\n"); a != b {
			diffs = append(diffs, fmt.Sprintf("headers:\nnginx:\n%s\ngresty:\n%s", a, b))
		}
		nb, err := decoded(ng)
		if err != nil {
			diffs = append(diffs, "nginx body: "+err.Error())
		}
		gb, err := decoded(gr)
		if err != nil {
			diffs = append(diffs, "gresty body does not decode: "+err.Error())
		}
		if !bytes.Equal(nb, gb) {
			diffs = append(diffs, fmt.Sprintf("decoded body: nginx %d bytes %q, gresty %d bytes %q", len(nb), clip(nb), len(gb), clip(gb)))
		}
		if a, b := trailerBlock(ng.Raw), trailerBlock(gr.Raw); a != b {
			diffs = append(diffs, fmt.Sprintf("trailers: nginx %q, gresty %q", a, b))
		}
		if len(diffs) == 0 {
			return
		}
	}
	t.Errorf("%s: gresty differs from nginx:\n%s", name, strings.Join(diffs, "\n"))
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

// text returns n bytes of text that compresses like a web page.
func text(n int, seed string) []byte {
	var b bytes.Buffer
	words := strings.Fields("the quick brown fox jumps over the lazy dog lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua " + seed)
	for i := 0; b.Len() < n; i++ {
		b.WriteString(words[(i*7+i/3)%len(words)])
		if i%13 == 12 {
			b.WriteString("\n")
		} else {
			b.WriteString(" ")
		}
	}
	return b.Bytes()[:n]
}

func gz(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	w := stdgzip.NewWriter(&out)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// fileTime is the modification time of every served file.
var fileTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// etag is the ETag nginx gives a file of size bytes.
func etag(size int) string { return fmt.Sprintf("\"%x-%x\"", fileTime.Unix(), size) }

// writeFiles creates the served files with fixed modification times, so
// that Last-Modified and ETag are the same for both servers.
func writeFiles(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	mtime := fileTime
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
}

const gzipConf = `
http {
    types {
        text/html html;
        text/plain txt;
        text/css css;
        application/json json;
        image/png png;
    }
    default_type application/octet-stream;
    absolute_redirect off;
    root DIR;

    gzip on;
    gzip_types text/plain text/css application/json;
    gzip_vary on;

    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;

        location / { }
        location /sendfile/ { alias DIR/; sendfile on; }
        location /off/ { alias DIR/; gzip off; }
        location /novary/ { alias DIR/; gzip_vary off; }
        location /min/ { alias DIR/; gzip_min_length 5000; }
        location /all/ { alias DIR/; gzip_types *; }
        location /html-only/ { alias DIR/; gzip_types text/html; }
        location /level9/ { alias DIR/; gzip_comp_level 9; }
        location /buffers/ { alias DIR/; gzip_buffers 2 1k; }
        location /v10/ { alias DIR/; gzip_http_version 1.0; }
        location /px/ { alias DIR/; gzip_proxied expired no-cache no-store private auth; }
        location /pxany/ { alias DIR/; gzip_proxied any; }
        location /pxlm/ { alias DIR/; gzip_proxied no_last_modified; }
        location /pxetag/ { alias DIR/; gzip_proxied no_etag; }
        location /pxetagoff/ { alias DIR/; gzip_proxied no_etag; etag off; }
        location /pxexp/ { alias DIR/; gzip_proxied expired; expires -1h; }
        location /pxexpfuture/ { alias DIR/; gzip_proxied expired; expires 1h; }
        location /pxcc/ { alias DIR/; gzip_proxied no-cache; add_header Cache-Control "public, no-cache"; }
        location /pxccmiss/ { alias DIR/; gzip_proxied no-store; add_header Cache-Control "no-cache"; }
        location /dis/ { alias DIR/; gzip_disable msie6 "^Bot/[0-9]" degradation; }
        location /etag-off/ { alias DIR/; etag off; }
        location /weak/ { alias DIR/; add_header ETag "W/\"already\""; }
        location /unquoted/ { alias DIR/; add_header ETag "unquoted"; }
        location /encoded/ { alias DIR/; add_header Content-Encoding identity; }
        location /trailer/ { alias DIR/; add_trailer X-Trailer "t $uri"; }
        location /ret {
            default_type text/plain;
            return 200 "a text that is long enough to be compressed, a text that is long enough\n";
        }
        location /ret-short {
            default_type text/plain;
            return 200 "short\n";
        }
        location /ret-403 {
            default_type text/plain;
            return 403 "forbidden text that is long enough to be compressed\n";
        }
        location /ret-500 {
            default_type text/plain;
            return 500 "error text that is long enough to be compressed, but status 500\n";
        }
        location /missing/ { }
        location /if {
            alias DIR/text.txt;
            gzip off;
            if ($arg_z) {
                gzip on;
            }
        }

        location /static/ { alias DIR/; gzip_static on; }
        location /static-always/ { alias DIR/; gzip_static always; }
        location /static-novary/ { alias DIR/; gzip_static on; gzip_vary off; }
        location /static-off/ { alias DIR/; gzip_static off; }
        location /static-v10/ { alias DIR/; gzip_static on; gzip_http_version 1.0; }
        location /static-etag-off/ { alias DIR/; gzip_static on; etag off; }
    }
}
`

func TestGzipAgainstNginx(t *testing.T) {
	dir := t.TempDir()
	preGz := gz(t, text(3000, "precompressed"))
	writeFiles(t, dir, map[string][]byte{
		"page.html":    text(10240, "html"),
		"text.txt":     text(10240, "plain"),
		"tiny.txt":     []byte("0123456789"),
		"edge.txt":     text(20, "edge"),
		"edge19.txt":   text(19, "edge"),
		"empty.txt":    nil,
		"big.txt":      text(300<<10, "big"),
		"style.css":    text(4000, "css"),
		"data.json":    []byte(`{"a": [` + strings.Repeat(`"value", `, 200) + `"end"]}`),
		"image.png":    text(3000, "png"),
		"mid.txt":      text(6000, "mid"),
		"pre.txt":      text(4000, "uncompressed"),
		"pre.txt.gz":   preGz,
		"only.txt.gz":  gz(t, text(2000, "only-gz")),
		"dir.txt.gz/x": []byte("a directory named like a .gz file"),
		"dir.txt":      text(500, "dirtxt"),
	})
	p := startPair(t, strings.ReplaceAll(gzipConf, "DIR", dir))

	type req struct{ name, raw string }
	var tests []req
	add := func(name, method, uri, version string, hdrs ...string) {
		raw := method + " " + uri + " " + version + "\r\nHost: localhost\r\nConnection: close\r\n" + strings.Join(hdrs, "") + "\r\n"
		tests = append(tests, req{name, raw})
	}
	ae := func(v string) string { return "Accept-Encoding: " + v + "\r\n" }
	for _, f := range []string{"/page.html", "/text.txt", "/style.css", "/data.json", "/image.png", "/tiny.txt", "/edge.txt", "/edge19.txt", "/empty.txt", "/big.txt"} {
		add("gzip "+f, "GET", f, "HTTP/1.1", ae("gzip, deflate"))
	}
	add("no accept-encoding", "GET", "/text.txt", "HTTP/1.1")
	for _, v := range []string{"gzip", "GZIP", "deflate", "br, gzip", "gzip;q=0", "gzip; q=0.000", "gzip;q=0.5", "gzip;q=1.5", "x-gzip", "identity", "*", "gzip;q=0, identity"} {
		add("accept-encoding "+v, "GET", "/text.txt", "HTTP/1.1", ae(v))
	}
	add("head", "HEAD", "/text.txt", "HTTP/1.1", ae("gzip"))
	add("http/1.0", "GET", "/text.txt", "HTTP/1.0", ae("gzip"))
	add("http/1.0 gzip_http_version 1.0", "GET", "/v10/text.txt", "HTTP/1.0", ae("gzip"))
	add("http/1.1 gzip_http_version 1.0", "GET", "/v10/text.txt", "HTTP/1.1", ae("gzip"))
	add("range dropped", "GET", "/text.txt", "HTTP/1.1", ae("gzip"), "Range: bytes=0-99\r\n")
	add("range without gzip", "GET", "/text.txt", "HTTP/1.1", "Range: bytes=0-99\r\n")
	add("if-none-match weak", "GET", "/text.txt", "HTTP/1.1", ae("gzip"), "If-None-Match: W/"+etag(10240)+"\r\n")
	add("if-modified-since", "GET", "/text.txt", "HTTP/1.1", ae("gzip"), "If-Modified-Since: Mon, 06 May 2024 07:08:09 GMT\r\n")
	add("sendfile on", "GET", "/sendfile/text.txt", "HTTP/1.1", ae("gzip"))
	add("sendfile on big", "GET", "/sendfile/big.txt", "HTTP/1.1", ae("gzip"))
	add("gzip off", "GET", "/off/text.txt", "HTTP/1.1", ae("gzip"))
	add("gzip_vary off", "GET", "/novary/text.txt", "HTTP/1.1", ae("gzip"))
	add("gzip_vary without accept", "GET", "/text.txt", "HTTP/1.1", ae("br"))
	add("min length above", "GET", "/min/text.txt", "HTTP/1.1", ae("gzip"))
	add("min length below", "GET", "/min/style.css", "HTTP/1.1", ae("gzip"))
	add("types *", "GET", "/all/image.png", "HTTP/1.1", ae("gzip"))
	add("types * tiny", "GET", "/all/tiny.txt", "HTTP/1.1", ae("gzip"))
	add("types html only, text", "GET", "/html-only/text.txt", "HTTP/1.1", ae("gzip"))
	add("types html only, html", "GET", "/html-only/page.html", "HTTP/1.1", ae("gzip"))
	add("level 9", "GET", "/level9/text.txt", "HTTP/1.1", ae("gzip"))
	add("small buffers", "GET", "/buffers/big.txt", "HTTP/1.1", ae("gzip"))
	via := "Via: 1.1 proxy\r\n"
	add("via default off", "GET", "/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via any", "GET", "/pxany/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via auth", "GET", "/px/text.txt", "HTTP/1.1", ae("gzip"), via, "Authorization: Basic eDp5\r\n")
	add("via no auth", "GET", "/px/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via no_last_modified", "GET", "/pxlm/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via no_etag", "GET", "/pxetag/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via no_etag etag off", "GET", "/pxetagoff/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via expired past", "GET", "/pxexp/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via expired future", "GET", "/pxexpfuture/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via no-cache", "GET", "/pxcc/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("via no-store missing", "GET", "/pxccmiss/text.txt", "HTTP/1.1", ae("gzip"), via)
	add("msie6 disabled", "GET", "/dis/text.txt", "HTTP/1.1", ae("gzip"), "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.0)\r\n")
	add("msie6 sv1 allowed", "GET", "/dis/text.txt", "HTTP/1.1", ae("gzip"), "User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1; SV1)\r\n")
	add("msie7 allowed", "GET", "/dis/text.txt", "HTTP/1.1", ae("gzip"), "User-Agent: Mozilla/4.0 (compatible; MSIE 7.0; Windows NT 5.1)\r\n")
	add("disable regex", "GET", "/dis/text.txt", "HTTP/1.1", ae("gzip"), "User-Agent: bot/2.1\r\n")
	add("disable regex miss", "GET", "/dis/text.txt", "HTTP/1.1", ae("gzip"), "User-Agent: NotBot/2.1\r\n")
	// without the degradation module "degradation" is one more regex.
	add("degradation is a regex", "GET", "/dis/text.txt", "HTTP/1.1", ae("gzip"), "User-Agent: Graceful-Degradation/1\r\n")
	add("etag off", "GET", "/etag-off/text.txt", "HTTP/1.1", ae("gzip"))
	add("already weak etag", "GET", "/weak/text.txt", "HTTP/1.1", ae("gzip"))
	add("unquoted etag dropped", "GET", "/unquoted/text.txt", "HTTP/1.1", ae("gzip"))
	add("content-encoding from add_header", "GET", "/encoded/text.txt", "HTTP/1.1", ae("gzip"))
	add("trailers after compressed body", "GET", "/trailer/text.txt", "HTTP/1.1", ae("gzip"))
	add("trailers uncompressed", "GET", "/trailer/text.txt", "HTTP/1.1")
	add("trailers compressed big", "GET", "/trailer/big.txt", "HTTP/1.1", ae("gzip"))
	add("return text", "GET", "/ret", "HTTP/1.1", ae("gzip"))
	add("return short", "GET", "/ret-short", "HTTP/1.1", ae("gzip"))
	add("return 403", "GET", "/ret-403", "HTTP/1.1", ae("gzip"))
	add("return 500", "GET", "/ret-500", "HTTP/1.1", ae("gzip"))
	add("error page 404", "GET", "/missing/nothing.html", "HTTP/1.1", ae("gzip"))
	add("directory redirect", "GET", "/missing", "HTTP/1.1", ae("gzip"))
	add("gzip in if taken", "GET", "/if?z=1", "HTTP/1.1", ae("gzip"))
	add("gzip in if not taken", "GET", "/if", "HTTP/1.1", ae("gzip"))
	// gzip_static
	add("static on accepted", "GET", "/static/pre.txt", "HTTP/1.1", ae("gzip"))
	add("static on head", "HEAD", "/static/pre.txt", "HTTP/1.1", ae("gzip"))
	add("static on not accepted", "GET", "/static/pre.txt", "HTTP/1.1")
	add("static on without gz file", "GET", "/static/text.txt", "HTTP/1.1", ae("gzip"))
	add("static on without gz file, no accept", "GET", "/static/text.txt", "HTTP/1.1")
	add("static on only gz", "GET", "/static/only.txt", "HTTP/1.1", ae("gzip"))
	add("static on only gz, no accept", "GET", "/static/only.txt", "HTTP/1.1")
	add("static on gz is a directory", "GET", "/static/dir.txt", "HTTP/1.1", ae("gzip"))
	add("static on post", "POST", "/static/pre.txt", "HTTP/1.1", ae("gzip"), "Content-Length: 0\r\n")
	add("static on uri with slash", "GET", "/static/", "HTTP/1.1", ae("gzip"))
	add("static on via", "GET", "/static/pre.txt", "HTTP/1.1", ae("gzip"), via)
	add("static on http/1.0", "GET", "/static/pre.txt", "HTTP/1.0", ae("gzip"))
	add("static on http/1.0 allowed", "GET", "/static-v10/pre.txt", "HTTP/1.0", ae("gzip"))
	add("static always", "GET", "/static-always/pre.txt", "HTTP/1.1")
	add("static always only gz", "GET", "/static-always/only.txt", "HTTP/1.1")
	add("static novary accepted", "GET", "/static-novary/pre.txt", "HTTP/1.1", ae("gzip"))
	add("static novary not accepted", "GET", "/static-novary/pre.txt", "HTTP/1.1")
	add("static off", "GET", "/static-off/pre.txt", "HTTP/1.1", ae("gzip"))
	add("static etag off", "GET", "/static-etag-off/pre.txt", "HTTP/1.1", ae("gzip"))
	add("static range", "GET", "/static/pre.txt", "HTTP/1.1", ae("gzip"), "Range: bytes=0-9\r\n")
	add("static if-none-match", "GET", "/static/pre.txt", "HTTP/1.1", ae("gzip"), "If-None-Match: "+etag(len(preGz))+"\r\n")

	for _, tt := range tests {
		check(t, p, tt.name, tt.raw)
	}
	if len(tests) < 60 {
		t.Fatalf("only %d requests", len(tests))
	}

	// repeated bodies come from the loop's body cache from the second
	// time on; a changed file must be served changed at once.
	get := "GET /mid.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n"
	for i := 0; i < 4; i++ {
		check(t, p, fmt.Sprintf("repeated body %d", i), get)
	}
	for i := 0; i < 3; i++ {
		if err := os.WriteFile(filepath.Join(dir, "mid.txt"), text(6000, fmt.Sprint("changed", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, p, fmt.Sprintf("changed body %d", i), get)
		check(t, p, fmt.Sprintf("changed body %d again", i), get)
	}
	for i := 0; i < 3; i++ {
		check(t, p, fmt.Sprintf("repeated return %d", i), "GET /ret HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAccept-Encoding: gzip\r\n\r\n")
	}
}
