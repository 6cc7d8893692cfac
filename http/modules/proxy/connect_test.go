package proxy_test

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
)

// fullListener returns "127.0.0.1:port" of a socket whose accept queue is
// full and never drained: the kernel drops further connection attempts, so
// connecting to it times out without leaving the machine.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	// fill the queue until a connection attempt hangs
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("the kernel kept accepting connections into a full queue")
	return ""
}

// TestConnectTimeout compares proxy_connect_timeout: a peer that does not
// answer the connection attempt gives 504, or the next peer.
func TestConnectTimeout(t *testing.T) {
	b := proxytest.Start(t, "live")
	hole := fullListener(t)
	conf := fmt.Sprintf(`
http {
  upstream fallback { server %[1]s; server %[2]s; }
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    proxy_connect_timeout 200ms;
    location /only/ { proxy_pass http://%[1]s/; }
    location /next/ { proxy_pass http://fallback/; }
  }
}
`, hole, b.Addr)
	p := difftest.Start(t, conf)
	ngOff, grOff := 0, 0
	for _, tc := range []struct{ name, req string }{
		{"connect timeout", proxytest.Get("/only/id")},
		{"connect timeout then next", proxytest.Get("/next/id")},
	} {
		proxytest.Check(t, p, tc.name, tc.req, append([]string{"X-Backend"}, difftest.CompareHeaders...)...)
		time.Sleep(50 * time.Millisecond)
		var ngLog, grLog []string
		ngLog, ngOff = proxytest.LogTail(p.Nginx.ErrorLog(), ngOff)
		grLog, grOff = proxytest.LogTail(p.Gresty.ErrorLog(), grOff)
		if strings.Join(ngLog, "\n") != strings.Join(grLog, "\n") {
			t.Errorf("%s: error log differs\nnginx:\n%s\ngresty:\n%s", tc.name, strings.Join(ngLog, "\n"), strings.Join(grLog, "\n"))
		}
	}
}
