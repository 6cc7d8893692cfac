package memcached_test

import (
	"bufio"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// memcached_pass compared with nginx against a real memcached: values
// (with the gzip flag's Content-Encoding, ranges, HEAD), missing keys
// (404 through error_page), escaped keys, a key variable left unset, a
// method other than GET and HEAD, a memcached that is down and one
// whose lines lack CR; the error-log lines too.
func TestMemcachedPassMatchesNginx(t *testing.T) {
	mc := nginxtest.StartMemcached(t)
	mcAddr := "127.0.0.1:" + strconv.Itoa(mc)
	nginxtest.Memcached(t, mcAddr, "set foo 0 0 5\r\nhello\r\nset gz 3 0 4\r\nGZIP\r\nset a%20b 0 0 3\r\nsp!\r\n")
	down := nginxtest.FreePort(t)
	// a server whose lines end without CR
	bad, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	go func() {
		for {
			c, err := bad.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				line, _ := bufio.NewReader(c).ReadString('\n')
				if strings.Contains(line, "value") {
					c.Write([]byte("VALUE value 0 2\nhi\r\nEND\r\n"))
				} else {
					c.Write([]byte("END\n"))
				}
			}()
		}
	}()
	conf := strings.NewReplacer("%%MC%%", strconv.Itoa(mc), "%%DOWN%%", strconv.Itoa(down),
		"%%BAD%%", bad.Addr().String()).Replace(`
http {
    upstream mcs { server 127.0.0.1:%%MC%%; keepalive 4; }
    server {
        listen 127.0.0.1:%%PORT%%;
        default_type text/x-test;
        location /mc {
            set $memcached_key $arg_k;
            memcached_pass 127.0.0.1:%%MC%%;
        }
        location /gz {
            set $memcached_key $arg_k;
            memcached_gzip_flag 2;
            memcached_pass mcs;
        }
        location /page {
            set $memcached_key $arg_k;
            memcached_pass mcs;
            error_page 404 = /fallback;
        }
        location /fallback { return 200 "fallback $arg_k\n"; }
        location /nokey {
            memcached_pass mcs;
        }
        location /nocr {
            set $memcached_key $arg_k;
            memcached_pass %%BAD%%;
        }
        location /down {
            set $memcached_key foo;
            memcached_pass 127.0.0.1:%%DOWN%%;
        }
        location /timeouts {
            set $memcached_key foo;
            memcached_connect_timeout 1s;
            memcached_read_timeout 2s;
            memcached_send_timeout 2s;
            memcached_buffer_size 8k;
            memcached_next_upstream error timeout not_found;
            memcached_next_upstream_tries 2;
            memcached_socket_keepalive on;
            memcached_pass mcs;
        }
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        server_name bound;
        # a server-level bind reaches the location: binding to the port
        # the server listens on fails
        memcached_bind 127.0.0.1:%%PORT%%;
        location /bound {
            set $memcached_key foo;
            memcached_pass 127.0.0.1:%%MC%%;
        }
    }
}
`)
	p := difftest.Start(t, conf)
	for _, req := range []string{
		"GET /mc?k=foo HTTP/1.1",
		"HEAD /mc?k=foo HTTP/1.1",
		"GET /mc?k=none HTTP/1.1",
		"GET /mc?k=a+b HTTP/1.1",
		"GET /mc?k=a%20b HTTP/1.1",
		"GET /gz?k=gz HTTP/1.1",
		"GET /gz?k=foo HTTP/1.1",
		"GET /mc?k=gz HTTP/1.1",
		"GET /page?k=none HTTP/1.1",
		"GET /page?k=foo HTTP/1.1",
		"GET /nokey HTTP/1.1",
		"POST /mc?k=foo HTTP/1.1",
		"GET /down HTTP/1.1",
		"GET /timeouts HTTP/1.1",
		"GET /bound HTTP/1.1",
		"GET /nocr?k=end HTTP/1.1",
		"GET /nocr?k=value HTTP/1.1",
	} {
		extra := ""
		if strings.Contains(req, "k=foo") && strings.HasPrefix(req, "GET /mc") {
			extra = "Range: bytes=1-2\r\n"
		}
		host := "x"
		if strings.HasPrefix(req, "GET /bound") {
			host = "bound"
		}
		raw := req + "\r\nHost: " + host + "\r\nConnection: close\r\n" + extra + "\r\n"
		ng, gr := difftest.FetchOpen(t, p.Nginx.Addr, raw), difftest.FetchOpen(t, p.Gresty.Addr, raw)
		if diffs := difftest.Diff(ng, gr, "Content-Type", "Content-Encoding", "Content-Length", "Content-Range"); len(diffs) > 0 {
			t.Errorf("%s: %s", req, strings.Join(diffs, "; "))
		}
	}
	line := regexp.MustCompile(`\[(error|info)\] \d+#\d+: \*\d+ (.*?), client: `)
	lines := func(s *nginxtest.Server) string {
		var out []string
		for _, m := range line.FindAllStringSubmatch(s.Log("error.log", 1), -1) {
			if strings.HasPrefix(m[2], "client closed connection") {
				continue // the harness's probe of the port
			}
			msg := strings.ReplaceAll(m[2], strconv.Itoa(down), "DOWN")
			out = append(out, m[1]+" "+strings.ReplaceAll(msg, s.Addr, "ADDR"))
		}
		return strings.Join(out, "\n")
	}
	if a, b := lines(p.Nginx), lines(p.Gresty); a != b {
		t.Errorf("log lines differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

// The directives' checks are nginx's.
func TestMemcachedConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"http { server { location / { memcached_pass 127.0.0.1:11211; memcached_pass 127.0.0.1:11212; } } }",
		"http { server { location / { memcached_pass 127.0.0.1:x; } } }",
		"http { server { memcached_pass 127.0.0.1:11211; } }",
		"http { memcached_next_upstream error bogus; }",
		"http { memcached_gzip_flag x; }",
		"http { memcached_bind 127.0.0.1 transparent; memcached_connect_timeout 5s; memcached_buffer_size 16k; }",
		"http { server { location / { memcached_pass 127.0.0.1:11211; } } }",
		"http { server { location / { set $memcached_key $uri; memcached_pass 127.0.0.1:11211; } } }",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
