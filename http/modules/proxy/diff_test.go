package proxy_test

import (
	"fmt"
	"strings"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
)

// TestRequestToUpstream compares the request nginx and gresty send to an
// upstream (the echo backend returns it): request line and URI mapping,
// default and configured headers, the client's headers, bodies.
func TestRequestToUpstream(t *testing.T) {
	b := proxytest.Start(t, "b1")
	conf := fmt.Sprintf(`
http {
  port_in_redirect off;
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location / { proxy_pass http://%[1]s; }
    location /uri/ { proxy_pass http://%[1]s/echo/; }
    location /exact { proxy_pass http://%[1]s/echo; }
    location ~ ^/re/(.*)$ { proxy_pass http://%[1]s; }
    location /brk/ { rewrite ^/brk/(.*)$ /echo/$1 break; proxy_pass http://%[1]s/ignored/; }
    location /last/ { rewrite ^/last/(.*)$ /echo/$1?x=1 last; }
    location /hdr/ {
      proxy_set_header Host $host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-FF $proxy_add_x_forwarded_for;
      proxy_set_header User-Agent "";
      proxy_set_header X-Port $proxy_port;
      proxy_pass http://%[1]s/echo/;
    }
    location /nohdr/ { proxy_pass_request_headers off; proxy_pass http://%[1]s/echo/; }
    location /nobody/ { proxy_pass_request_body off; proxy_set_header Content-Length ""; proxy_pass http://%[1]s/echo/; }
    location /setbody/ { proxy_set_body "name=$arg_n"; proxy_pass http://%[1]s/echo/; }
    location /method/ { proxy_method PUT; proxy_pass http://%[1]s/echo/; }
    location /v11/ { proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://%[1]s/echo/; }
    location /var/ { set $t echo; proxy_pass http://%[1]s/$t/v$is_args$args; }
    location /varhost/ { set $h %[1]s; proxy_pass http://$h; }
    location /unbuf/ { proxy_request_buffering off; proxy_pass http://%[1]s/echo/; }
    location /unbuf11/ { proxy_request_buffering off; proxy_http_version 1.1; proxy_pass http://%[1]s/echo/; }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	tests := []struct{ name, req string }{
		{"no uri part", proxytest.Get("/echo/a?b=c")},
		{"no uri part escaped", proxytest.Get("/echo/a%20b/%2F?q=%20")},
		{"no uri part dots", proxytest.Get("/echo/x/../y//z")},
		{"uri part replaced", proxytest.Get("/uri/x/y?z=1")},
		{"uri part escaped", proxytest.Get("/uri/a%20b")},
		{"exact prefix", proxytest.Get("/exact/more")},
		{"regex location", proxytest.Get("/re/x")},
		{"rewrite break", proxytest.Get("/brk/p?a=b")},
		{"rewrite last", proxytest.Get("/last/p?a=b")},
		{"headers", proxytest.Get("/hdr/x", "User-Agent: test/1", "X-Forwarded-For: 10.0.0.1", "Accept: */*")},
		{"headers no xff", proxytest.Get("/hdr/x", "Cookie: a=b", "Cookie: c=d")},
		{"client headers off", proxytest.Get("/nohdr/x", "X-Client: 1")},
		{"post body", proxytest.Req("POST", "/echo/post", "hello=world", "Content-Type: application/x-www-form-urlencoded")},
		{"post body off", proxytest.Req("POST", "/nobody/x", "hello=world")},
		{"set body", proxytest.Get("/setbody/x?n=v")},
		{"method", proxytest.Get("/method/x")},
		{"head", proxytest.Req("HEAD", "/echo/h", "")},
		{"http 1.1", proxytest.Get("/v11/x")},
		{"variables uri", proxytest.Get("/var/x?k=v")},
		{"variables host", proxytest.Get("/varhost/echo/x?k=v")},
		{"te keepalive upgrade dropped", proxytest.Get("/echo/t", "TE: trailers", "Keep-Alive: 300", "Upgrade: foo")},
		{"unbuffered body", proxytest.Req("POST", "/unbuf/x", "streamed body")},
		{"unbuffered http 1.1", proxytest.Req("POST", "/unbuf11/x", "streamed body")},
		{"chunked body buffered", "POST /echo/c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
		{"chunked body streamed 1.1", "POST /unbuf11/c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"},
		{"chunked body not streamed 1.0", "POST /unbuf/c HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"},
		{"http 1.0 client", "GET /echo/old HTTP/1.0\r\nHost: localhost\r\n\r\n"},
		{"auto redirect", proxytest.Get("/uri?a=1")},
	}
	for _, tc := range tests {
		proxytest.Check(t, p, tc.name, tc.req)
	}
}

// TestResponseFromUpstream compares what reaches the client: framing,
// status lines, hidden and passed headers, HEAD, 204 and 304.
func TestResponseFromUpstream(t *testing.T) {
	b := proxytest.Start(t, "b1")
	b.Handle("/close", proxytest.Raw("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited body"))
	b.Handle("/http10", proxytest.Raw("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc"))
	b.Handle("/custom", proxytest.Raw("HTTP/1.1 299 Fine Thanks\r\nContent-Length: 2\r\nX-Pad: x\r\nX-Accel-Expires: 10\r\nX-Powered-By: go\r\nServer: up\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\nok"))
	b.Handle("/nocontent", proxytest.Raw("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"))
	b.Handle("/notmod", proxytest.Raw("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"))
	b.Handle("/http09", proxytest.Raw("just bytes"))
	b.Handle("/lm", proxytest.Raw("HTTP/1.1 200 OK\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nETag: \"abc\"\r\nContent-Length: 2\r\n\r\nok"))
	b.Handle("/ctype", proxytest.Raw("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=koi8-r\r\nContent-Length: 2\r\n\r\nok"))
	b.Handle("/multi", proxytest.Raw("HTTP/1.1 200 OK\r\nCache-Control: a\r\nCache-Control: b\r\nVary: X\r\nLink: <a>\r\nContent-Length: 2\r\n\r\nok"))
	b.Handle("/short", proxytest.Raw("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
	b.Handle("/long", proxytest.Raw("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcdef"))
	b.Handle("/badchunk", proxytest.Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"))
	conf := fmt.Sprintf(`
http {
  port_in_redirect off;
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location / { proxy_pass http://%[1]s; }
    location /pass/ { proxy_pass_header Server; proxy_pass_header Date; proxy_hide_header X-Powered-By; proxy_pass http://%[1]s/; }
    location /unbuf/ { proxy_buffering off; proxy_pass http://%[1]s/; }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	hdrs := append([]string{"X-Pad", "X-Accel-Expires", "X-Powered-By", "X-A", "X-Backend", "Date", "Status"}, difftest.CompareHeaders...)
	for _, prefix := range []string{"", "/unbuf"} {
		for _, tc := range []struct{ name, req string }{
			{"chunked", proxytest.Get(prefix + "/chunked")},
			{"chunked 1.0 client", "GET " + prefix + "/chunked HTTP/1.0\r\n\r\n"},
			{"close delimited", proxytest.Get(prefix + "/close")},
			{"http 1.0 upstream", proxytest.Get(prefix + "/http10")},
			{"custom status line", proxytest.Get(prefix + "/custom")},
			{"204", proxytest.Get(prefix + "/nocontent")},
			{"304", proxytest.Get(prefix + "/notmod")},
			{"http 0.9", proxytest.Get(prefix + "/http09")},
			{"last modified etag", proxytest.Get(prefix + "/lm")},
			{"content type charset", proxytest.Get(prefix + "/ctype")},
			{"multiple headers", proxytest.Get(prefix + "/multi")},
			{"status 404", proxytest.Get(prefix + "/status/404")},
			{"status 500", proxytest.Get(prefix + "/status/500")},
			{"head", proxytest.Req("HEAD", prefix+"/echo/x", "")},
			{"more than content-length", proxytest.Get(prefix + "/long")},
		} {
			proxytest.Check(t, p, strings.TrimPrefix(prefix+" "+tc.name, " "), tc.req, hdrs...)
		}
	}
	proxytest.Check(t, p, "pass server and date", proxytest.Get("/pass/custom"), hdrs...)
}
