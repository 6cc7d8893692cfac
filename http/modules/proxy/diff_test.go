package proxy_test

import (
	"fmt"
	"net"
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
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    server_name inherit;
    proxy_set_header X-Srv server-level;
    proxy_set_header X-Both server;
    location /inh/ { proxy_pass http://%[1]s/echo/; }
    location /own/ { proxy_set_header X-Loc loc-level; proxy_pass http://%[1]s/echo/; }
    location /nohost/ { proxy_set_header Host ""; proxy_pass http://%[1]s/echo/; }
    location /conn/ { proxy_set_header Connection keep-alive; proxy_set_header Host $http_host; proxy_pass http://%[1]s/echo/; }
    location /le/ {
      proxy_pass http://%[1]s/echo/;
      limit_except GET { allow 127.0.0.1; }
    }
    location /ifs/ {
      proxy_pass http://%[1]s/echo/;
      if ($arg_if) { set $x 1; }
      if ($arg_other) { proxy_pass http://%[1]s; }
    }
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
		{"headers inherited from server", proxytest.Get("/inh/x", "Host: inherit")},
		{"own headers replace inherited", proxytest.Get("/own/x", "Host: inherit")},
		{"host dropped", proxytest.Get("/nohost/x", "Host: inherit")},
		{"connection and host set", proxytest.Get("/conn/x", "Host: inherit")},
		{"limit_except passes GET", proxytest.Get("/le/x", "Host: inherit")},
		{"limit_except block proxies too", proxytest.Req("POST", "/le/x", "b", "Host: inherit")},
		{"if block inherits proxy_pass", proxytest.Get("/ifs/x?if=1", "Host: inherit")},
		{"if block own proxy_pass", proxytest.Get("/ifs/echo/y?other=1", "Host: inherit")},
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
	// each server dates its own responses, so Date is compared only where
	// the backend's passes through: two fetches may straddle a second.
	hdrs := append([]string{"X-Pad", "X-Accel-Expires", "X-Powered-By", "X-A", "X-Backend", "Status"}, difftest.CompareHeaders...)
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
	proxytest.Check(t, p, "pass server and date", proxytest.Get("/pass/custom"), append(hdrs, "Date")...)
}

// TestRewrites compares proxy_redirect (default, off, literal, regex,
// variables, Refresh), proxy_cookie_domain and proxy_cookie_path,
// X-Accel-Redirect, proxy_intercept_errors with error_page, and the
// $upstream_* variables.
func TestRewrites(t *testing.T) {
	b := proxytest.Start(t, "b1")
	loc := func(v string) proxytest.Handler {
		return func(req *proxytest.Request, c net.Conn) bool {
			return proxytest.Respond(c, req, 302, []string{"Location: " + strings.ReplaceAll(v, "BACKEND", b.Addr)}, "")
		}
	}
	b.Handle("/loc/abs", loc("http://BACKEND/app/page?x=1"))
	b.Handle("/loc/root", loc("http://BACKEND/other"))
	b.Handle("/loc/rel", loc("/relative/path"))
	b.Handle("/loc/foreign", loc("http://example.com/x"))
	b.Handle("/refresh", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{"Refresh: 5; url=http://" + b.Addr + "/app/r"}, "r")
	})
	b.Handle("/cookie", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{
			"Set-Cookie: a=1; Domain=.backend.test; Path=/app/x",
			"Set-Cookie: b=2;path=/other;  domain=OTHER.test ; HttpOnly",
			"Set-Cookie: c=3; Path=/app; Secure; SameSite=Lax",
			"Set-Cookie: d=4; samesite=None; secure",
			"Set-Cookie: noval; Path=/app",
		}, "c")
	})
	b.Handle("/xaccel", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{"X-Accel-Redirect: /internal/file?q=1", "Content-Type: image/png", "Set-Cookie: x=y", "X-Other: z"}, "ignored")
	})
	b.Handle("/xnamed", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{"X-Accel-Redirect: @named"}, "ignored")
	})
	b.Handle("/xunsafe", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{"X-Accel-Redirect: /a/../b"}, "ignored")
	})
	b.Handle("/auth", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 401, []string{"WWW-Authenticate: Basic realm=\"x\""}, "denied")
	})
	b.Handle("/cookies", func(req *proxytest.Request, c net.Conn) bool {
		return proxytest.Respond(c, req, 200, []string{"Set-Cookie: sid=abc; Path=/", "Set-Cookie: lang = en ; Path=/", "X-Up: one", "X-Up: two"}, "c")
	})
	conf := fmt.Sprintf(`
http {
  port_in_redirect off;
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    server_name localhost;
    location /app/ { proxy_pass http://%[1]s/loc/; }
    location /nouri/ { proxy_pass http://%[1]s; }
    location /off/ { proxy_redirect off; proxy_pass http://%[1]s/loc/; }
    location /lit/ { proxy_redirect http://%[1]s/app/ /new/; proxy_redirect http://%[1]s/ /root/; proxy_pass http://%[1]s/loc/; }
    location /regex/ { proxy_redirect ~^http://[^/]+/(\w+)/(.*)$ /re/$2/$1; proxy_pass http://%[1]s/loc/; }
    location /var/ { proxy_redirect http://$proxy_host/ http://$host/v/; proxy_pass http://%[1]s/loc/; }
    location /abs/ { absolute_redirect off; proxy_pass http://%[1]s/loc/; }
    location /ref/ { proxy_redirect http://%[1]s/app/ /x/; proxy_pass http://%[1]s/; }
    location /ck/ {
      proxy_cookie_domain backend.test front.test;
      proxy_cookie_domain ~(?i)other\.test$ changed.test;
      proxy_cookie_path /app/ /;
      proxy_cookie_path ~^/other$ /o;
      proxy_pass http://%[1]s/;
    }
    location /ckoff/ { proxy_cookie_path off; proxy_pass http://%[1]s/; }
    location /ckflags/ {
      proxy_cookie_flags a secure samesite=strict;
      proxy_cookie_flags ~^[bc]$ nohttponly secure samesite=lax;
      proxy_pass http://%[1]s/;
    }
    location /ckflags2/ { proxy_cookie_flags b nosecure nosamesite httponly; proxy_cookie_path /app /z; proxy_pass http://%[1]s/; }
    location /xa/ { proxy_pass http://%[1]s/; }
    location /xaign/ { proxy_ignore_headers X-Accel-Redirect; proxy_pass http://%[1]s/; }
    location /internal/ { internal; return 200 "internal $uri $args $request_method\n"; }
    location @named { return 200 "named $uri\n"; }
    location /ie/ {
      proxy_intercept_errors on;
      error_page 404 = /errpage;
      error_page 401 /errpage;
      proxy_pass http://%[1]s/;
    }
    location /errpage { return 200 "error page $uri\n"; }
    location /vars/ {
      proxy_pass http://%[1]s/;
      add_header X-Addr $upstream_addr always;
      add_header X-Status $upstream_status always;
      add_header X-Len $upstream_response_length always;
      add_header X-Recv $upstream_bytes_received always;
      add_header X-Sent $upstream_bytes_sent always;
      add_header X-Hdr $upstream_http_x_up always;
      add_header X-Server "$upstream_http_server" always;
      add_header X-Ck $upstream_cookie_sid always;
      add_header X-Ck2 $upstream_cookie_lang always;
      add_header X-Host $proxy_host always;
      add_header X-Port $proxy_port always;
    }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	hdrs := append([]string{"Refresh", "Set-Cookie", "X-Other", "X-Addr", "X-Status", "X-Len", "X-Recv", "X-Sent",
		"X-Hdr", "X-Server", "X-Ck", "X-Ck2", "X-Host", "X-Port", "X-Up"}, difftest.CompareHeaders...)
	for _, tc := range []struct{ name, req string }{
		{"default redirect", proxytest.Get("/app/abs")},
		{"default redirect other path", proxytest.Get("/app/root")},
		{"relative location", proxytest.Get("/app/rel")},
		{"foreign location", proxytest.Get("/app/foreign")},
		{"default without uri", proxytest.Get("/nouri/loc/abs")},
		{"redirect off", proxytest.Get("/off/abs")},
		{"literal", proxytest.Get("/lit/abs")},
		{"literal second rule", proxytest.Get("/lit/root")},
		{"regex", proxytest.Get("/regex/abs")},
		{"variables", proxytest.Get("/var/abs")},
		{"absolute_redirect off", proxytest.Get("/abs/abs")},
		{"refresh", proxytest.Get("/ref/refresh")},
		{"cookies", proxytest.Get("/ck/cookie")},
		{"cookies off", proxytest.Get("/ckoff/cookie")},
		{"cookie flags", proxytest.Get("/ckflags/cookie")},
		{"cookie flags off and on", proxytest.Get("/ckflags2/cookie")},
		{"x-accel-redirect", proxytest.Get("/xa/xaccel")},
		{"x-accel-redirect head", proxytest.Req("HEAD", "/xa/xaccel", "")},
		{"x-accel-redirect post", proxytest.Req("POST", "/xa/xaccel", "body")},
		{"x-accel-redirect named", proxytest.Get("/xa/xnamed")},
		{"x-accel-redirect unsafe", proxytest.Get("/xa/xunsafe")},
		{"x-accel-redirect ignored", proxytest.Get("/xaign/xaccel")},
		{"intercept 404", proxytest.Get("/ie/status/404")},
		{"intercept 401", proxytest.Get("/ie/auth")},
		{"not intercepted 500", proxytest.Get("/ie/status/500")},
		{"variables", proxytest.Get("/vars/cookies")},
	} {
		proxytest.Check(t, p, tc.name, tc.req, hdrs...)
	}
}

// TestBindMatchesNginx checks proxy_bind: the upstream sees the bound
// address; a value from variables is taken per request, an empty one
// binds nothing, an invalid one is logged and ignored, an address that
// is not local fails the request.
func TestBindMatchesNginx(t *testing.T) {
	conf := `
http {
  server {
    listen 127.0.0.1:%%PORT%%;
    location = /peer { return 200 "$remote_addr\n"; }
    location = /fixed { proxy_bind 127.0.0.2; proxy_pass http://127.0.0.1:%%PORT%%/peer; }
    location = /var { proxy_bind $arg_a; proxy_pass http://127.0.0.1:%%PORT%%/peer; }
    location /off/ { proxy_bind 127.0.0.2; location /off/x { proxy_bind off; proxy_pass http://127.0.0.1:%%PORT%%/peer; } }
  }
}
`
	p := difftest.Start(t, conf)
	n0, g0 := len(p.Nginx.ErrorLog()), len(p.Gresty.ErrorLog())
	for _, tc := range []struct{ name, req string }{
		{"fixed", proxytest.Get("/fixed")},
		{"variable", proxytest.Get("/var?a=127.0.0.3")},
		{"variable with port", proxytest.Get("/var?a=127.0.0.4:0")},
		{"empty", proxytest.Get("/var")},
		{"invalid", proxytest.Get("/var?a=nonsense")},
		{"not local", proxytest.Get("/var?a=192.0.2.1")},
		{"off", proxytest.Get("/off/x")},
	} {
		proxytest.Check(t, p, tc.name, tc.req)
	}
	for _, want := range []string{`invalid local address "nonsense"`, `[crit]`, `bind(192.0.2.1) failed (99: Cannot assign requested address)`} {
		for _, s := range []struct {
			name, log string
		}{{"nginx", p.Nginx.ErrorLog()[n0:]}, {"gresty", p.Gresty.ErrorLog()[g0:]}} {
			if !strings.Contains(s.log, want) {
				t.Errorf("%s's error log lacks %q:\n%s", s.name, want, s.log)
			}
		}
	}
}
