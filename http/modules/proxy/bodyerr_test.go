package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// errorLines returns the error log's lines of level warn and above after
// the first skip bytes, without time and ids.
func errorLines(log string, skip int) []string {
	var out []string
	for _, m := range logLine.FindAllStringSubmatch(log[min(skip, len(log)):], -1) {
		out = append(out, m[1]+": "+m[2])
	}
	return out
}

// TestRequestBodyErrors sends bodies that fail while a proxied location
// reads them (too large, malformed chunks, with and without a pipelined
// request after them) and compares the answers and the error log lines
// with nginx's: one error response, its one log line, and nothing parsed
// after it.
func TestRequestBodyErrors(t *testing.T) {
	b := proxytest.Start(t, "b1")
	conf := fmt.Sprintf(`
http {
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    client_body_buffer_size 2k;
    location / { proxy_pass http://%[1]s; }
    location /large { client_max_body_size 1k; proxy_pass http://%[1]s; }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	big := strings.Repeat("0123456789", 128)
	chunked := "Transfer-Encoding: chunked\r\n\r\n"
	tests := []struct{ name, raw string }{
		{"too large chunk", "GET /large HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + chunked +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big)},
		{"too large in the second chunk", "GET /large HTTP/1.1\r\nHost: localhost\r\n" + chunked +
			fmt.Sprintf("5\r\nhello\r\n%x\r\n%s\r\n0\r\n\r\n", len(big), big) + "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"runaway chunk", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + chunked + "4\r\nSEE-THIS\r\n0\r\n\r\n"},
		{"runaway chunk, pipelined", "GET / HTTP/1.1\r\nHost: localhost\r\n" + chunked +
			"4\r\nSEE-THIS\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"bad chunk size", "POST / HTTP/1.1\r\nHost: localhost\r\n" + chunked + "zz\r\nabc\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		nSkip, gSkip := len(p.Nginx.ErrorLog()), len(p.Gresty.ErrorLog())
		ng, err1 := nginxtest.Exchange(p.Nginx.Addr, []byte(tt.raw), 5*time.Second)
		gr, err2 := nginxtest.Exchange(p.Gresty.Addr, []byte(tt.raw), 5*time.Second)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", tt.name, err1, err2)
		}
		if a, b := nginxtest.Statuses(ng), nginxtest.Statuses(gr); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: statuses: nginx %v, gresty %v", tt.name, a, b)
		}
		// the log lines are written before the response goes out.
		nl, gl := errorLines(p.Nginx.ErrorLog(), nSkip), errorLines(p.Gresty.ErrorLog(), gSkip)
		if strings.Join(nl, "\n") != strings.Join(gl, "\n") {
			t.Errorf("%s: error log:\nnginx:\n  %s\ngresty:\n  %s", tt.name, strings.Join(nl, "\n  "), strings.Join(gl, "\n  "))
		}
	}
}

// rawBodyBackend answers every request with the body bytes it received,
// framing included (chunk sizes, the last chunk), so that a test sees
// how the proxy framed a streamed body; the status is 404 for a path
// starting with /404, else 200.
func rawBodyBackend(t *testing.T) string {
	return nginxtest.Serve(t, func(c net.Conn) {
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		chunked, length, status := false, 0, 200
		for first := true; ; first = false {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			if first && strings.Contains(l, " /404") {
				status = 404
			}
			name, v, _ := strings.Cut(l, ":")
			switch strings.ToLower(name) {
			case "transfer-encoding":
				chunked = strings.TrimSpace(v) == "chunked"
			case "content-length":
				length, _ = strconv.Atoi(strings.TrimSpace(v))
			}
		}
		var raw []byte
		if chunked {
			for !bytes.HasSuffix(raw, []byte("\r\n0\r\n\r\n")) && !bytes.Equal(raw, []byte("0\r\n\r\n")) {
				b, err := br.ReadByte()
				if err != nil {
					return
				}
				raw = append(raw, b)
			}
		} else {
			raw = make([]byte, length)
			if _, err := io.ReadFull(br, raw); err != nil {
				return
			}
		}
		fmt.Fprintf(c, "HTTP/1.1 %d X\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", status, len(raw), raw)
	})
}

// TestUnbufferedRequestBody compares proxy_request_buffering off with
// nginx: what one read of the client brought goes to the upstream as one
// chunk, a body the client sent with its head goes with a Content-Length,
// $request_body holds a body that came whole with the request and fit in
// client_body_buffer_size (also in an error page), and
// client_body_in_file_only changes nothing.
func TestUnbufferedRequestBody(t *testing.T) {
	backend := rawBodyBackend(t)
	conf := fmt.Sprintf(`
http {
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    proxy_request_buffering off;
    proxy_http_version 1.1;
    client_body_buffer_size 2k;
    location / { add_header X-Body "$request_body"; proxy_pass http://%[1]s; }
    location /file { client_body_in_file_only on; add_header X-Body "$request_body"; proxy_pass http://%[1]s; }
    location /error_page {
      proxy_pass http://%[1]s/404;
      proxy_intercept_errors on;
      error_page 404 = /show;
    }
    location /show { return 200 "[$request_body]\n"; }
  }
}
`, backend)
	p := difftest.Start(t, conf)
	head := func(uri string) string {
		return "POST " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
	}
	tests := []struct {
		name  string
		parts []string
	}{
		{"chunks of two reads", []string{head("/") + "5\r\n01234\r\n4\r\nmany\r\n", "5\r\n56789\r\n4\r\nmany\r\n0\r\n\r\n"}},
		{"head first", []string{head("/"), "5\r\n01234\r\n", "0\r\n\r\n"}},
		{"whole body with the head", []string{head("/") + "5\r\n01234\r\n4\r\nmany\r\n0\r\n\r\n"}},
		{"content-length in parts", []string{"POST / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 10\r\n\r\n01234", "56789"}},
		{"body in two buffers", []string{head("/") + fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", 1500, strings.Repeat("y", 1500))}},
		{"in file only", []string{head("/file") + "5\r\n01234\r\n", "0\r\n\r\n"}},
		{"in an error page", []string{head("/error_page") + "5\r\n01234\r\n", "0\r\n\r\n"}},
		{"in an error page, whole", []string{head("/error_page") + "5\r\n01234\r\n0\r\n\r\n"}},
	}
	send := func(addr string, parts []string) string {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		for i, part := range parts {
			if i > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			io.WriteString(c, part)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		out, _ := io.ReadAll(c)
		return string(out)
	}
	for _, tt := range tests {
		ng := difftest.Parse([]byte(send(p.Nginx.Addr, tt.parts)), false)
		gr := difftest.Parse([]byte(send(p.Gresty.Addr, tt.parts)), false)
		if diffs := difftest.Diff(ng, gr, "X-Body", "Content-Length"); len(diffs) > 0 {
			t.Errorf("%s:\n  %s", tt.name, strings.Join(diffs, "\n  "))
		}
	}
}

// TestBufferedBodyCutByTimeout: with proxy_buffering on, a chunked body
// whose first chunk came but not its end: nginx relays that chunk, then
// the read times out and it closes the connection without the last
// chunk. Both servers must send the same bytes after the head.
func TestBufferedBodyCutByTimeout(t *testing.T) {
	stall := nginxtest.Serve(t, func(c net.Conn) {
		defer c.Close()
		br := bufio.NewReader(c)
		for {
			line, err := br.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r")
		time.Sleep(time.Second)
	})
	p := difftest.Start(t, fmt.Sprintf(`
http {
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location / {
      proxy_read_timeout 100ms;
      proxy_http_version 1.1;
      proxy_pass http://%s;
    }
  }
}
`, stall))
	// the client keeps its side open (a half-close would be an abort)
	fetch := func(addr string) []byte {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		return b
	}
	ng, gr := fetch(p.Nginx.Addr), fetch(p.Gresty.Addr)
	// the response stops after its head: what follows it is compared
	after := func(raw []byte) string {
		_, rest, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		return string(rest)
	}
	if !bytes.HasPrefix(ng, []byte("HTTP/1.1 200 ")) || !bytes.HasPrefix(gr, []byte("HTTP/1.1 200 ")) ||
		after(ng) != "b\r\nhello world\r\n" || after(gr) != after(ng) {
		t.Errorf("nginx %q, gresty %q", ng, gr)
	}
}
