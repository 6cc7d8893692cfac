package memc_test

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// totalConnections reads memcached's count of the connections it has
// accepted (this one included).
func totalConnections(t *testing.T, addr string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("stats\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	n := -1
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("memcached: %v", err)
		}
		if v, ok := strings.CutPrefix(line, "STAT total_connections "); ok {
			n, _ = strconv.Atoi(strings.TrimSpace(v))
		}
		if line == "END\r\n" {
			return n
		}
	}
}

// TestMemcKeepalive checks that the connections of an upstream block with
// keepalive are reused after every kind of reply: a value, a miss (404,
// answered by an error page), a stored reply, an error reply (502).
func TestMemcKeepalive(t *testing.T) {
	mc := nginxtest.StartMemcached(t)
	mcAddr := "127.0.0.1:" + strconv.Itoa(mc)
	p := difftest.Start(t, strings.ReplaceAll(conf, "%%MC%%", strconv.Itoa(mc)), "echo", "memc")
	nginxtest.Memcached(t, mcAddr, "set foo 0 0 5\r\nhello\r\n")
	uris := []string{"/ka?cmd=get&key=foo", "/ka?cmd=get&key=none", "/ka?cmd=set&key=k&val=v",
		"/ka?cmd=incr&key=foo&val=1", "/ka?cmd=delete&key=none", "/ka?cmd=version"}
	for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
		before := totalConnections(t, mcAddr)
		for i := 0; i < 5; i++ {
			for _, u := range uris {
				difftest.FetchOpen(t, s.Addr, "GET "+u+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			}
		}
		// one connection per worker loop at most, and the one counting
		if n := totalConnections(t, mcAddr) - before; n > 3 {
			t.Errorf("%s: %d connections to memcached for %d requests", s.Addr, n-1, 5*len(uris))
		}
	}
}

const conf = `
http {
    default_type text/plain;
    upstream backend {
        server 127.0.0.1:%%MC%%;
        keepalive 8;
    }
    upstream dead {
        server 127.0.0.1:1;
    }
    server {
        listen %%PORT%%;
        location /memc {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            set $memc_value $arg_val;
            set $memc_flags $arg_flags;
            set $memc_exptime $arg_exptime;
            memc_pass 127.0.0.1:%%MC%%;
            add_header X-Flags $memc_flags;
            add_header X-Cmd $memc_cmd;
            add_header X-Exptime $memc_exptime;
        }
        location /ka {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            set $memc_value $arg_val;
            memc_pass backend;
        }
        location /def {
            set $memc_key $arg_key;
            memc_pass 127.0.0.1:%%MC%%;
            add_header X-Cmd $memc_cmd;
            add_header X-Flags $memc_flags;
        }
        location /var {
            set $memc_key $arg_key;
            memc_pass $arg_up;
        }
        location /allowed {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            set $memc_value $arg_val;
            memc_cmds_allowed get version;
            memc_pass backend;
        }
        location /lm {
            set $memc_key $arg_key;
            memc_flags_to_last_modified on;
            memc_pass backend;
            add_header X-Time $memc_flags_as_http_time;
        }
        location /ep {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            memc_pass backend;
            error_page 404 = /fallback;
            error_page 502 =503 /fallback;
        }
        location /fallback {
            return 200 "fallback $uri\n";
        }
        location /if {
            set $memc_key $arg_key;
            if ($arg_cmd) {
                set $memc_cmd $arg_cmd;
                memc_pass backend;
            }
            memc_pass 127.0.0.1:%%MC%%;
        }
        location /small {
            set $memc_cmd $arg_cmd;
            set $memc_key $arg_key;
            memc_buffer_size 32;
            memc_pass backend;
        }
        location /down {
            set $memc_key foo;
            memc_pass dead;
        }
        location /dir/ {
            set $memc_key foo;
            memc_pass backend;
        }
        location /nobody {
            set $memc_cmd set;
            set $memc_key k;
            memc_pass backend;
        }
        location /nokey {
            memc_pass backend;
        }
    }
}
`

func TestMemcDiff(t *testing.T) {
	mc := nginxtest.StartMemcached(t)
	mcAddr := "127.0.0.1:" + strconv.Itoa(mc)
	p := difftest.Start(t, strings.ReplaceAll(conf, "%%MC%%", strconv.Itoa(mc)), "echo", "memc")
	get := func(uri string) string { return "GET " + uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" }
	withBody := func(method, uri, body string) string {
		return method + " " + uri + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
			strconv.Itoa(len(body)) + "\r\n\r\n" + body
	}
	const foo = "flush_all\r\nset foo 1264680563 0 5\r\nhello\r\nset n 0 0 2\r\n32\r\n"
	cases := []struct {
		name, setup, req string
		headers          []string
	}{
		{"get", foo, get("/memc?cmd=get&key=foo"), nil},
		{"get big", "set big 0 0 200000\r\n" + strings.Repeat("0123456789", 20000) + "\r\n", get("/ka?cmd=get&key=big"), nil},
		{"set big", foo, withBody("PUT", "/ka?cmd=set&key=big", strings.Repeat("abcdefghij", 20000)), nil},
		{"get miss", foo, get("/memc?cmd=get&key=none"), nil},
		{"get head", foo, "HEAD /memc?cmd=get&key=foo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", nil},
		{"set", foo, get("/memc?cmd=set&key=k&val=v&flags=7&exptime=100"), nil},
		{"set empty value", foo, get("/memc?cmd=set&key=k&val="), nil},
		{"add exists", foo, get("/memc?cmd=add&key=foo&val=x"), nil},
		{"replace missing", foo, get("/memc?cmd=replace&key=zz&val=x"), nil},
		{"append", foo, get("/memc?cmd=append&key=foo&val=zz"), nil},
		{"prepend missing", foo, get("/memc?cmd=prepend&key=zz&val=x"), nil},
		{"set bad flags", foo, get("/memc?cmd=set&key=k&val=v&flags=x1"), nil},
		{"set bad exptime", foo, get("/memc?cmd=set&key=k&val=v&exptime=12345678901"), nil},
		{"set no value", foo, get("/memc?cmd=set&key=k"), nil},
		{"set no body", foo, get("/nobody"), nil},
		{"set empty body", foo, withBody("POST", "/nobody", ""), nil},
		{"set chunked body", foo, "POST /nobody HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
			"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n", nil},
		{"set body", foo, withBody("POST", "/memc?cmd=set&key=k", "from the body"), nil},
		{"escaped key", foo, get("/memc?cmd=set&key=a%20b%25c&val=1"), nil},
		{"incr", foo, get("/memc?cmd=incr&key=n&val=51"), nil},
		{"decr", foo, get("/memc?cmd=decr&key=n&val=100"), nil},
		{"incr missing", foo, get("/memc?cmd=incr&key=zz&val=1"), nil},
		{"incr non-number", foo, get("/memc?cmd=incr&key=foo&val=1"), nil},
		{"incr no value", foo, get("/memc?cmd=incr&key=n"), nil},
		{"incr bad value", foo, get("/memc?cmd=incr&key=n&val=-5"), nil},
		{"delete", foo, get("/memc?cmd=delete&key=foo"), nil},
		{"delete missing", foo, get("/memc?cmd=delete&key=zz"), nil},
		{"delete exptime", foo, get("/memc?cmd=delete&key=foo&exptime=5"), nil},
		{"flush_all", foo, get("/memc?cmd=flush_all"), nil},
		{"flush_all delay", foo, get("/memc?cmd=flush_all&exptime=100"), nil},
		{"version", "", get("/memc?cmd=version"), nil},
		{"unknown", "", get("/memc?cmd=gets&key=foo"), nil},
		{"upper case", "", get("/memc?cmd=GET&key=foo"), nil},
		{"no key", "", get("/memc?cmd=get"), nil},
		{"no key delete", "", get("/nokey"), nil},
		{"default get", foo, get("/def?key=foo"), nil},
		{"default post", foo, withBody("POST", "/def?key=foo", "new"), nil},
		{"default post new", foo, withBody("POST", "/def?key=p", "new"), nil},
		{"default put", foo, withBody("PUT", "/def?key=foo", "put value"), nil},
		{"default put empty", foo, withBody("PUT", "/def?key=foo", ""), nil},
		{"default delete", foo, "DELETE /def?key=foo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", nil},
		{"default options", foo, "OPTIONS /def?key=foo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", nil},
		{"keepalive get", foo, get("/ka?cmd=get&key=foo"), nil},
		{"keepalive set", foo, get("/ka?cmd=set&key=foo&val=again"), nil},
		{"variable upstream", foo, get("/var?up=backend&key=foo"), nil},
		{"variable address", foo, get("/var?up=127.0.0.1:" + strconv.Itoa(mc) + "&key=foo"), nil},
		{"variable empty", foo, get("/var?key=foo"), nil},
		{"allowed", foo, get("/allowed?cmd=get&key=foo"), nil},
		{"not allowed", foo, get("/allowed?cmd=set&key=foo&val=1"), nil},
		{"last modified", foo, get("/lm?key=foo"), []string{"Last-Modified", "X-Time", "Content-Length"}},
		{"if modified since", foo, "GET /lm?key=foo HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
			"If-Modified-Since: Thu, 28 Jan 2010 12:09:23 GMT\r\n\r\n", []string{"Last-Modified", "Content-Length"}},
		{"last modified bad flags", "flush_all\r\nset foo 0 0 1\r\nx\r\n", get("/lm?key=foo"), []string{"Last-Modified", "X-Time"}},
		{"error page 404", foo, get("/ep?cmd=get&key=zz"), nil},
		{"error page delete 404", foo, get("/ep?cmd=delete&key=zz"), nil},
		{"error page 502", foo, get("/ep?cmd=incr&key=foo&val=1"), nil},
		{"if block", foo, get("/if?cmd=delete&key=foo"), nil},
		{"outside if", foo, get("/if?key=foo"), nil},
		{"too big", "", get("/small?cmd=stats"), nil},
		{"small get", foo, get("/small?cmd=get&key=foo"), nil},
		{"down", "", get("/down"), nil},
		{"auto redirect", "", get("/dir"), []string{"Content-Length"}},
	}
	headers := append([]string{"X-Flags", "X-Cmd", "X-Exptime"}, difftest.CompareHeaders...)
	for _, c := range cases {
		h := headers
		if c.headers != nil {
			h = c.headers
		}
		nginxtest.Memcached(t, mcAddr, c.setup)
		ng := difftest.FetchOpen(t, p.Nginx.Addr, c.req)
		nginxtest.Memcached(t, mcAddr, c.setup)
		gr := difftest.FetchOpen(t, p.Gresty.Addr, c.req)
		if diffs := difftest.Diff(ng, gr, h...); len(diffs) > 0 {
			t.Errorf("%s: gresty differs from nginx:\n  %s\nnginx:\n%s\ngresty:\n%s", c.name,
				strings.Join(diffs, "\n  "), ng.Raw, gr.Raw)
		}
	}

	// stats: the counters change between the two requests; the form
	// does not.
	ng := difftest.FetchOpen(t, p.Nginx.Addr, get("/memc?cmd=stats"))
	gr := difftest.FetchOpen(t, p.Gresty.Addr, get("/memc?cmd=stats"))
	for _, r := range []*difftest.Response{ng, gr} {
		if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("STAT pid ")) || !bytes.HasSuffix(r.Body, []byte("END\r\n")) {
			t.Errorf("stats: %d %q", r.Status, r.Body)
		}
	}

	// what the error log says
	for _, want := range []string{
		`ngx_memc: unknown $memc_cmd "gets"`,
		`variable "$memc_flags" takes invalid value: x1,`,
		`variable "$memc_exptime" takes invalid value: 12345678901,`,
		`neither the "$memc_value" variable nor the request body is available`,
		`the "$memc_value" variable is required for command "incr"`,
		`variable "$memc_value" is invalid for incr/decr: -5`,
		`ngx_memc: $memc_cmd variable not found for HTTP OPTIONS requests`,
		`ngx_memc: memcached command "set" not allowed`,
		`memc: upstream "127.0.0.1:` + strconv.Itoa(mc) + `" not found`,
		`memc: handler: empty "memc_pass" target`,
		`the "$memc_key" variable is not set`,
		`key: "zz" was not found by memcached while reading response header from upstream`,
		`upstream sent too big header while reading response header from upstream`,
	} {
		for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
			if !strings.Contains(s.ErrorLog(), want) {
				t.Errorf("%s error log lacks %q", map[bool]string{true: "nginx", false: "gresty"}[s == p.Nginx], want)
			}
		}
	}
}
