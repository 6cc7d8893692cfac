package proxy_test

import (
	"fmt"
	"strings"
	"testing"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/nginxtest"
)

// After warm-up a keepalive proxied request allocates nothing: the
// upstream state, its timers, buffers, peer data and the proxy's request
// memory are kept with the pooled request and reused.
func TestProxyKeepaliveAllocs(t *testing.T) {
	body := strings.Repeat("x", 1024)
	cases := []struct {
		name string
		resp string
		loc  string
		ups  string
		tail string
		// want is the allocations left per request
		want float64
	}{
		{name: "length", resp: "HTTP/1.1 200 OK\r\nServer: backend\r\nContent-Length: 5\r\n\r\nbench", tail: "\r\n\r\nbench"},
		{name: "1k", resp: "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1024\r\n\r\n" + body, tail: "\r\n\r\n" + body},
		{name: "chunked", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nbench\r\n0\r\n\r\n",
			tail: "\r\n\r\n5\r\nbench\r\n0\r\n\r\n"},
		{name: "unbuffered", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench", loc: "proxy_buffering off;", tail: "\r\n\r\nbench"},
		{name: "forwarded", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench",
			loc: "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Real-IP $remote_addr;", tail: "\r\n\r\nbench"},
		{name: "status line", resp: "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nbench", tail: "\r\n\r\nbench"},
		// the client address as bytes (Conn.RemoteAddrIP) is made anew
		{name: "ip_hash", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench", ups: "ip_hash; server 127.0.0.2:1 down;",
			tail: "\r\n\r\nbench", want: 1},
		{name: "hash", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench", ups: "hash $request_uri; server 127.0.0.2:1 down;", tail: "\r\n\r\nbench"},
		{name: "consistent hash", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench",
			ups: "hash $request_uri consistent; server 127.0.0.2:1 down;", tail: "\r\n\r\nbench"},
		{name: "least_conn", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench", ups: "least_conn; server 127.0.0.2:1 down;", tail: "\r\n\r\nbench"},
		{name: "random", resp: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nbench", ups: "random two; server 127.0.0.2:1 down;", tail: "\r\n\r\nbench"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			be := quietBackend(t, []byte(tc.resp))
			addr, _ := proxytest.Serve(t, fmt.Sprintf(keepaliveConf, be, nginxtest.FreePort(t), tc.loc, tc.ups), 1)
			head := tc.resp[:strings.Index(tc.resp, "\r\n")+2]
			fc := dialFixed(t, addr, benchReq, head, tc.tail)
			for i := 0; i < 50; i++ {
				if err := fc.do(); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(300, func() {
				if err := fc.do(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != tc.want {
				t.Errorf("%v allocations per request, want %v", allocs, tc.want)
			}
		})
	}
}
