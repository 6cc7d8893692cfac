package http_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// The connection layer compared with nginx byte for byte (the Date header
// masked): keepalive, pipelining, HTTP/1.0, request bodies read or
// discarded, Expect, limits and errors.

const connConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        client_max_body_size 100;
        keepalive_requests 3;
        location / { return 200 "ok $request_method $uri $args\n"; }
        location = /empty { return 204; }
        location = /small { client_max_body_size 10; return 200 "small\n"; }
        location = /nolength { chunked_transfer_encoding off; return 200 "x\n"; }
        location = /ka0 { keepalive_timeout 0; return 200 "no keepalive\n"; }
        location = /r302 { return 302 /elsewhere; }
    }
}
`

var dateHeader = regexp.MustCompile(`(?m)^Date: [^\r]*\r\n`)

// stream sends raw to both servers and compares the whole byte streams
// they answer with, Date lines removed.
func stream(t *testing.T, p *difftest.Pair, name, raw string) {
	t.Helper()
	get := func(addr string) string {
		b, err := nginxtest.Exchange(addr, []byte(raw), 5*time.Second)
		if err != nil && len(b) == 0 {
			t.Fatalf("%s: %s: %v", name, addr, err)
		}
		out := dateHeader.ReplaceAllString(string(b), "")
		// the servers listen on different ports.
		_, port, _ := strings.Cut(addr, ":")
		return strings.ReplaceAll(out, ":"+port, ":PORT")
	}
	ng, gr := get(p.Nginx.Addr), get(p.Gresty.Addr)
	if ng != gr {
		t.Errorf("%s: responses differ\n--- nginx:\n%s\n--- gresty:\n%s", name, ng, gr)
	}
}

func TestConnectionMatchesNginx(t *testing.T) {
	p := difftest.Start(t, connConf)
	h := "Host: localhost\r\n"
	for _, tc := range []struct{ name, raw string }{
		{"simple close", "GET /a?b=1 HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"keepalive then close", "GET /1 HTTP/1.1\r\n" + h + "\r\nGET /2 HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"pipelined three", "GET /1 HTTP/1.1\r\n" + h + "\r\nHEAD /2 HTTP/1.1\r\n" + h + "\r\nGET /3 HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"keepalive_requests limit", strings.Repeat("GET /k HTTP/1.1\r\n"+h+"\r\n", 4)},
		{"http10 default close", "GET /ten HTTP/1.0\r\n\r\n"},
		{"http10 keep-alive", "GET /ten HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /again HTTP/1.0\r\n\r\n"},
		{"http09", "GET /nine\r\n"},
		{"head", "HEAD /h HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"204", "GET /empty HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"no chunking http10", "GET /nolength HTTP/1.0\r\n\r\n"},
		{"keepalive_timeout 0", "GET /ka0 HTTP/1.1\r\n" + h + "\r\nGET /next HTTP/1.1\r\n" + h + "\r\n"},
		{"redirect", "GET /r302 HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"body discarded then pipelined", "POST /p HTTP/1.1\r\n" + h + "Content-Length: 5\r\n\r\nhelloGET /after HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"malformed chunked body discarded", "POST /c HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n4\r\nSEE-THIS\r\n0\r\n\r\nGET /after HTTP/1.1\r\n" + h + "\r\n"},
		{"chunked body discarded then pipelined", "POST /c HTTP/1.1\r\n" + h + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /after HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"body too large", "POST /small HTTP/1.1\r\n" + h + "Content-Length: 11\r\n\r\nhello world"},
		{"body too large, big limit", "POST /x HTTP/1.1\r\n" + h + "Content-Length: 101\r\n\r\n"},
		{"expect continue discarded", "POST /e HTTP/1.1\r\n" + h + "Expect: 100-continue\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"},
		{"expect on http10 ignored", "POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"},
		{"bad request line", "BAD\r\n\r\n"},
		{"missing host 1.1", "GET / HTTP/1.1\r\n\r\n"},
		{"bad then more", "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: x\r\n\r\nGET / HTTP/1.1\r\n" + h + "\r\n"},
		{"unsupported version", "GET / HTTP/2.0\r\n" + h + "\r\n"},
		{"leading empty lines", "\r\n\r\nGET /lead HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"absolute uri", "GET http://localhost/abs?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n"},
		{"encoded uri", "GET /a%20b/./c/../d HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"unknown method", "FOO /m HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"post with args", "POST /form?x=1 HTTP/1.1\r\n" + h + "Content-Length: 0\r\nConnection: close\r\n\r\n"},
	} {
		stream(t, p, tc.name, tc.raw)
	}
}

// TestHeaderBufferLimits compares 414 and the "Request Header Or Cookie
// Too Large" page with small buffers.
func TestHeaderBufferLimits(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        client_header_buffer_size 64;
        large_client_header_buffers 2 512;
        location / { return 200 "ok\n"; }
    }
}
`)
	h := "Host: localhost\r\n"
	long := strings.Repeat("a", 600)
	for _, tc := range []struct{ name, raw string }{
		{"fits", "GET /" + strings.Repeat("b", 40) + " HTTP/1.1\r\n" + h + "Connection: close\r\n\r\n"},
		{"long uri", "GET /" + long + " HTTP/1.1\r\n" + h + "\r\n"},
		{"long header", "GET / HTTP/1.1\r\n" + h + "X-Long: " + long + "\r\n\r\n"},
		{"many headers", "GET / HTTP/1.1\r\n" + h + strings.Repeat("X-A: "+strings.Repeat("c", 300)+"\r\n", 4) + "\r\n"},
		{"headers fit in two buffers", "GET / HTTP/1.1\r\n" + h + strings.Repeat("X-A: "+strings.Repeat("c", 100)+"\r\n", 4) + "Connection: close\r\n\r\n"},
	} {
		stream(t, p, tc.name, tc.raw)
	}
}
