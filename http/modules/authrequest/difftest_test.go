package authrequest_test

import (
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// The backend is a second server on the same port, chosen by its name,
// so that each of the two servers under test proxies to itself.
const authConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name localhost;
        root %%ROOT%%;

        location /open { auth_request /auth-204; }
        location /static { auth_request /auth-static.txt; }
        location /unauthorized { auth_request /auth-401; }
        location /forbidden { auth_request /auth-403; }
        location /error { auth_request /auth-404; }
        location /redirect { auth_request /auth-302; }
        location /off { auth_request off; }
        location /inherit {
            auth_request /auth-403;
            location /inherit/off { auth_request off; }
            location /inherit/on { }
        }
        location /proxy {
            auth_request /auth-proxy;
            auth_request_set $user $upstream_http_x_user;
            auth_request_set $st $upstream_status;
            add_header X-User "[$user][$st]" always;
        }
        location /proxy-body {
            auth_request /auth-proxy;
            proxy_pass http://127.0.0.1:%%PORT%%/echo-body;
            proxy_set_header Host backend;
        }
        location /sent {
            auth_request /auth-sent;
            auth_request_set $v $sent_http_x_sent;
            add_header X-V "[$v]" always;
        }
        location /fallback {
            auth_request /auth-proxy;
            auth_request_set $user $upstream_http_x_user;
            error_page 404 = /after-redirect;
        }
        location = /after-redirect {
            add_header X-User "[$user]";
            return 200 "redirected\n";
        }
        location /unset {
            add_header X-User "[$user]";
            return 200 "unset\n";
        }
        location /any/ {
            satisfy any;
            deny all;
            auth_request /auth-by-uri;
        }
        location /all/ {
            satisfy all;
            allow all;
            auth_request /auth-by-uri;
        }
        location /error-page {
            auth_request /auth-403;
            error_page 403 /denied.txt;
        }

        location = /auth-204 { return 204; }
        location = /auth-401 { return 401; }
        location = /auth-403 { return 403; }
        location = /auth-404 { return 404; }
        location = /auth-302 { return 302 /elsewhere; }
        location = /auth-sent { add_header X-Sent sent-value; return 200 "body\n"; }
        location = /auth-by-uri {
            if ($request_uri ~ "open$") { return 204; }
            if ($request_uri ~ "unauthorized$") { return 401; }
            if ($request_uri ~ "forbidden$") { return 403; }
            return 500;
        }
        location = /auth-proxy {
            proxy_pass http://127.0.0.1:%%PORT%%/check$is_args$args;
            proxy_set_header Host backend;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name backend;
        location = /check {
            if ($http_x_original_uri ~ "deny") {
                add_header WWW-Authenticate "Basic realm=\"r\"" always;
                return 401;
            }
            add_header X-User "alice";
            return 204;
        }
        location = /echo-body {
            return 200 "body: [$request_body]\n";
        }
    }
}
`

// exchange sends raw without closing the write side (nginx ends a proxied
// subrequest with 499 when the client half-closes) and reads until the
// server closes.
func exchange(t *testing.T, addr, raw string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(c)
	return b
}

// check compares the answers of both servers to raw.
func check(t *testing.T, p *difftest.Pair, name, raw string, headers ...string) {
	t.Helper()
	head := strings.HasPrefix(raw, "HEAD ")
	ng := difftest.Parse(exchange(t, p.Nginx.Addr, raw), head)
	gr := difftest.Parse(exchange(t, p.Gresty.Addr, raw), head)
	if d := difftest.Diff(ng, gr, headers...); len(d) > 0 {
		t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", name, strings.Join(d, "\n  "), ng.Raw, gr.Raw)
	}
}

func TestAuthRequestMatchesNginx(t *testing.T) {
	root := t.TempDir()
	for name, body := range map[string]string{
		"auth-static.txt": "INVISIBLE\n", "open": "open file\n", "static": "static file\n",
		"denied.txt": "denied page\n",
	} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := difftest.Start(t, strings.ReplaceAll(authConf, "%%ROOT%%", root))
	hdrs := append([]string{"X-User", "X-V"}, difftest.CompareHeaders...)
	get := func(uri string) string {
		return "GET " + uri + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	}
	for _, uri := range []string{
		"/open", "/static", "/unauthorized", "/forbidden", "/error", "/redirect", "/off",
		"/inherit", "/inherit/off", "/inherit/on",
		"/proxy", "/proxy/deny", "/sent", "/fallback", "/fallback/deny", "/unset", "/error-page",
		"/any/open", "/any/unauthorized", "/any/forbidden",
		"/all/open", "/all/unauthorized", "/all/forbidden",
	} {
		check(t, p, uri, get(uri), hdrs...)
	}
	check(t, p, "HEAD", "HEAD /open HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", hdrs...)
	check(t, p, "POST open", "POST /open HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n1234567890", hdrs...)
	check(t, p, "POST denied", "POST /proxy/deny HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n1234567890", hdrs...)
	// the body is still the request's after a proxied authorization
	check(t, p, "POST proxied body", "POST /proxy-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\nConnection: close\r\n\r\n1234567890", hdrs...)

	log := func(s *nginxtest.Server) int {
		return strings.Count(s.ErrorLog(), "auth request unexpected status: 404")
	}
	deadline := time.Now().Add(2 * time.Second)
	for log(p.Nginx) != log(p.Gresty) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if a, b := log(p.Nginx), log(p.Gresty); a != b || a == 0 {
		t.Errorf("\"auth request unexpected status: 404\" logged %d times by nginx, %d by gresty", a, b)
	}
}

// TestAuthRequestKeepalive sends requests with bodies on one connection:
// the body of a request that passed or failed authorization is read or
// discarded, and the next request is answered.
func TestAuthRequestKeepalive(t *testing.T) {
	root := t.TempDir()
	p := difftest.Start(t, strings.ReplaceAll(authConf, "%%ROOT%%", root))
	raw := "POST /proxy-body HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello" +
		"POST /proxy/deny HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nworld" +
		"POST /forbidden HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\n\r\nabc" +
		"GET /proxy-body HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	ng, gr := exchange(t, p.Nginx.Addr, raw), exchange(t, p.Gresty.Addr, raw)
	if a, b := nginxtest.Statuses(ng), nginxtest.Statuses(gr); !reflect.DeepEqual(a, b) || len(a) != 4 {
		t.Errorf("statuses: nginx %v, gresty %v\nnginx:\n%s\ngresty:\n%s", a, b, ng, gr)
	}
	for _, want := range []string{"body: [hello]", "body: []"} {
		if strings.Contains(string(ng), want) != strings.Contains(string(gr), want) {
			t.Errorf("%q: nginx %v, gresty %v", want, strings.Contains(string(ng), want), strings.Contains(string(gr), want))
		}
	}
}
