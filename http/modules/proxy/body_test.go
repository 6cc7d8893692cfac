package proxy_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
)

// TestBodiesAndGroups compares large bodies both ways (request bodies
// spooled to a file or streamed, responses buffered, unbuffered, in
// every framing), the filters on proxied responses (gzip, add_header),
// a unix-socket upstream, proxy_send_timeout, and the $upstream_*
// variables across tries and across two upstream groups.
func TestBodiesAndGroups(t *testing.T) {
	b := proxytest.Start(t, "b1")
	u := proxytest.StartUnix(t, "u1")
	text := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 30000)
	b.Handle("/text", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{"Content-Type: text/plain"}, text)
	})
	b.Handle("/textchunked", func(req *proxytest.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n")
		for i := 0; i < len(text); i += 70000 {
			part := text[i:min(i+70000, len(text))]
			fmt.Fprintf(c, "%x\r\n%s\r\n", len(part), part)
		}
		io.WriteString(c, "0\r\n\r\n")
		return false
	})
	b.Handle("/textclose", func(req *proxytest.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"+text)
		return false
	})
	b.Handle("/sink", func(req *proxytest.Request, c net.Conn) bool {
		// never reads the body it is sent
		io.Copy(io.Discard, io.LimitReader(c, 0))
		select {}
	})
	dead := proxytest.DeadAddr(t)
	conf := fmt.Sprintf(`
http {
  upstream failing { server %[3]s; server %[1]s; }
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    client_max_body_size 64m;
    client_body_buffer_size 16k;
    location / { proxy_pass http://%[1]s; }
    location /small/ { proxy_buffers 4 1k; proxy_buffer_size 1k; proxy_busy_buffers_size 2k; proxy_pass http://%[1]s/; }
    location /nofile/ { proxy_max_temp_file_size 0; proxy_pass http://%[1]s/; }
    location /unbuf/ { proxy_buffering off; proxy_pass http://%[1]s/; }
    location /stream/ { proxy_request_buffering off; proxy_pass http://%[1]s/; }
    location /gz/ { gzip on; gzip_proxied any; gzip_min_length 1; proxy_pass http://%[1]s/; }
    location /hdr/ { add_header X-Added yes; proxy_pass http://%[1]s/; }
    location /unix/ { proxy_pass http://%[2]s:/; }
    location /sendto/ { proxy_send_timeout 200ms; proxy_read_timeout 200ms; proxy_pass http://%[1]s/; }
    location /failing/ {
      proxy_pass http://failing/;
      add_header X-Addr $upstream_addr always;
      add_header X-Status $upstream_status always;
    }
    location /group/ {
      proxy_intercept_errors on;
      error_page 404 = /second/id;
      proxy_pass http://failing/;
    }
    location /second/ {
      proxy_pass http://%[1]s/;
      add_header X-Addr $upstream_addr always;
      add_header X-Status $upstream_status always;
    }
  }
}
`, b.Addr, u.Addr, dead)
	p := difftest.Start(t, conf)
	hdrs := append([]string{"X-Added", "X-Addr", "X-Status"}, difftest.CompareHeaders...)
	big := strings.Repeat("0123456789abcdef", 1<<16)
	for _, tc := range []struct{ name, req string }{
		{"large response", proxytest.Get("/text")},
		{"large chunked response", proxytest.Get("/textchunked")},
		{"large close-delimited response", proxytest.Get("/textclose")},
		{"small buffers", proxytest.Get("/small/text")},
		{"small buffers chunked", proxytest.Get("/small/textchunked")},
		{"no temp file", proxytest.Get("/nofile/text")},
		{"unbuffered large", proxytest.Get("/unbuf/textchunked")},
		{"gzip", proxytest.Get("/gz/text", "Accept-Encoding: gzip")},
		{"gzip chunked", proxytest.Get("/gz/textchunked", "Accept-Encoding: gzip")},
		{"add_header", proxytest.Get("/hdr/id")},
		{"large request body", proxytest.Req("POST", "/echo/big", big)},
		{"large request body streamed", proxytest.Req("POST", "/stream/echo/big", big)},
		{"unix socket", proxytest.Get("/unix/echo/x")},
		{"unix socket id", proxytest.Get("/unix/id")},
		{"send timeout", proxytest.Req("POST", "/sendto/sink", strings.Repeat(big, 24))},
		{"tries in variables", proxytest.Get("/failing/id")},
		{"groups in variables", proxytest.Get("/group/status/404")},
	} {
		proxytest.Check(t, p, tc.name, tc.req, hdrs...)
	}
}
