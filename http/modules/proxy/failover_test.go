package proxy_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
)

// stall reads the request and answers nothing until the peer closes.
func stall(req *proxytest.Request, c net.Conn) bool {
	io.Copy(io.Discard, c)
	return false
}

// TestFailures compares errors, failover and the error log lines nginx
// writes for them: refused connections, dead peers, timeouts, invalid and
// too big heads, premature closes, next-upstream on statuses, tries and
// timeouts.
func TestFailures(t *testing.T) {
	b1 := proxytest.Start(t, "b1")
	b2 := proxytest.Start(t, "b2")
	bad := proxytest.Start(t, "bad")
	bad.Handle("/stall", stall)
	bad.Handle("/invalid", proxytest.Raw("HTTP/1.1 200 OK\r\nGood: yes\r\nBad Header: x\r\n\r\n"))
	bad.Handle("/nul", proxytest.Raw("HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n"))
	bad.Handle("/big", proxytest.Raw("HTTP/1.1 200 OK\r\nX-Big: "+strings.Repeat("a", 5000)+"\r\n\r\n"))
	bad.Handle("/closehead", func(req *proxytest.Request, c net.Conn) bool { return false })
	bad.Handle("/halfhead", proxytest.Raw("HTTP/1.1 200 OK\r\nContent-Le"))
	bad.Handle("/closebody", func(req *proxytest.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
		// the close comes as an event of its own, as it does when an
		// upstream dies in the middle of a response
		time.Sleep(50 * time.Millisecond)
		return false
	})
	bad.Handle("/chunkclose", proxytest.Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"))
	bad.Handle("/badchunk", proxytest.Raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n"))
	bad.Handle("/slowbody", func(req *proxytest.Request, c net.Conn) bool {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
		io.Copy(io.Discard, c)
		return false
	})
	d1, d2 := proxytest.DeadAddr(t), proxytest.DeadAddr(t)
	conf := fmt.Sprintf(`
http {
  upstream two_dead { server %[1]s; server %[2]s; }
  upstream dead_live { server %[1]s; server %[3]s; }
  upstream pair { server %[3]s; server %[4]s; }
  upstream pair2 { server %[3]s; server %[4]s; }
  upstream backup { server %[1]s; server %[4]s backup; }
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    proxy_read_timeout 300ms;
    location /refused/ { proxy_pass http://%[1]s; }
    location /failover/ { proxy_pass http://dead_live/; }
    location /alldead/ { proxy_pass http://two_dead/; }
    location /nextoff/ { proxy_next_upstream off; proxy_pass http://two_dead/; }
    location /bad/ { proxy_pass http://%[5]s/; }
    location /badnext/ { proxy_next_upstream invalid_header timeout; proxy_pass http://pair2/; }
    location /next500/ { proxy_next_upstream http_500 http_404; proxy_pass http://pair/; }
    location /tries/ { proxy_next_upstream error http_500; proxy_next_upstream_tries 1; proxy_pass http://pair/; }
    location /post/ { proxy_next_upstream http_500; proxy_pass http://pair/; }
    location /postni/ { proxy_next_upstream http_500 non_idempotent; proxy_pass http://pair/; }
    location /backup/ { proxy_pass http://backup/; }
    location /unbuf/ { proxy_buffering off; proxy_pass http://%[5]s/; }
    location /named/ { proxy_pass http://$arg_h; }
    location /nosock/ { proxy_pass http://unix:%[6]s/missing.sock:/; }
  }
}
`, d1, d2, b1.Addr, b2.Addr, bad.Addr, t.TempDir())
	p := difftest.Start(t, conf)
	ngOff, grOff := 0, 0
	for _, tc := range []struct{ name, req string }{
		{"refused", proxytest.Get("/refused/x")},
		{"failover to live", proxytest.Get("/failover/id")},
		{"failover remembered", proxytest.Get("/failover/id")},
		{"all dead", proxytest.Get("/alldead/x")},
		{"no live upstreams", proxytest.Get("/alldead/x")},
		{"next upstream off", proxytest.Get("/nextoff/x")},
		{"read timeout", proxytest.Get("/bad/stall")},
		{"invalid header", proxytest.Get("/bad/invalid")},
		{"nul in header", proxytest.Get("/bad/nul")},
		{"too big header", proxytest.Get("/bad/big")},
		{"closed before head", proxytest.Get("/bad/closehead")},
		{"closed inside head", proxytest.Get("/bad/halfhead")},
		{"closed inside body", proxytest.Get("/bad/closebody")},
		{"chunked cut", proxytest.Get("/bad/chunkclose")},
		{"invalid chunk", proxytest.Get("/bad/badchunk")},
		{"body read timeout", proxytest.Get("/bad/slowbody")},
		{"unbuffered closed inside body", proxytest.Get("/unbuf/closebody")},
		{"unbuffered body read timeout", proxytest.Get("/unbuf/slowbody")},
		{"next on 500", proxytest.Get("/next500/status/500")},
		{"next on 404", proxytest.Get("/next500/status/404")},
		{"no next on 503", proxytest.Get("/next500/status/503")},
		{"tries 1", proxytest.Get("/tries/status/500")},
		{"post not retried", proxytest.Req("POST", "/post/status/500", "x")},
		{"post retried non_idempotent", proxytest.Req("POST", "/postni/status/500", "x")},
		{"backup", proxytest.Get("/backup/id")},
		{"backup again", proxytest.Get("/backup/id")},
		{"next on invalid header", proxytest.Get("/badnext/id")},
		{"no resolver", proxytest.Get("/named/id?h=no-such-host.invalid")},
		{"missing unix socket", proxytest.Get("/nosock/x")},
		{"variable naming an upstream", proxytest.Get("/named/id?h=pair")},
		{"variable with a bad port", proxytest.Get("/named/id?h=127.0.0.1:99999")},
	} {
		proxytest.Check(t, p, tc.name, tc.req, append([]string{"X-Backend"}, difftest.CompareHeaders...)...)
		var ngLog, grLog []string
		// the log line of a failure may follow the response by a moment
		deadline := time.Now().Add(time.Second)
		for {
			ngLog, _ = proxytest.LogTail(p.Nginx.ErrorLog(), ngOff)
			grLog, _ = proxytest.LogTail(p.Gresty.ErrorLog(), grOff)
			if len(ngLog) == len(grLog) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		_, ngOff = proxytest.LogTail(p.Nginx.ErrorLog(), ngOff)
		_, grOff = proxytest.LogTail(p.Gresty.ErrorLog(), grOff)
		if strings.Join(ngLog, "\n") != strings.Join(grLog, "\n") {
			t.Errorf("%s: error log differs\nnginx:\n%s\ngresty:\n%s", tc.name, strings.Join(ngLog, "\n"), strings.Join(grLog, "\n"))
		}
	}
}
