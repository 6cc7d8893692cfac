package proxy_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
)

// wsEcho answers an upgrade with 101 and then echoes what it reads, each
// read prefixed with "echo:", until the peer closes; "bye" makes it close
// first.
func wsEcho(req *proxytest.Request, c net.Conn) bool {
	io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Up: 1\r\n\r\n")
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return false
		}
		if string(buf[:n]) == "bye" {
			io.WriteString(c, "closing")
			return false
		}
		if _, err := c.Write(append([]byte("echo:"), buf[:n]...)); err != nil {
			return false
		}
	}
}

// upgradeExchange opens an upgraded connection through addr, sends msgs
// one by one reading the answer to each, and returns the 101 head and the
// answers; then the client closes its side and reads what follows.
func upgradeExchange(t *testing.T, addr, target string, msgs []string) (*difftest.Response, []string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n", target)
	br := bufio.NewReader(c)
	var head bytes.Buffer
	for {
		l, err := br.ReadString('\n')
		head.WriteString(l)
		if err != nil || l == "\r\n" {
			break
		}
	}
	resp := difftest.Parse(head.Bytes(), false)
	var got []string
	buf := make([]byte, 4096)
	for _, m := range msgs {
		io.WriteString(c, m)
		n, err := br.Read(buf)
		if err != nil {
			got = append(got, "error: "+err.Error())
			break
		}
		got = append(got, string(buf[:n]))
	}
	// the client's close of its side ends the upgraded connection
	c.(*net.TCPConn).CloseWrite()
	rest, _ := io.ReadAll(br)
	got = append(got, "rest:"+string(rest))
	return resp, got
}

// TestUpgrade compares WebSocket-style upgrades: the 101 head, bytes both
// ways, the upstream closing, and proxy_read_timeout on the upgraded
// connection.
func TestUpgrade(t *testing.T) {
	b := proxytest.Start(t, "b1")
	b.Handle("/ws", wsEcho)
	conf := fmt.Sprintf(`
http {
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    location / {
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection upgrade;
      proxy_pass http://%[1]s;
    }
    location /short/ {
      proxy_read_timeout 200ms;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection upgrade;
      proxy_pass http://%[1]s/;
    }
    location /noup/ { proxy_http_version 1.1; proxy_pass http://%[1]s/; }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	hdrs := append([]string{"Upgrade", "X-Up"}, difftest.CompareHeaders...)
	for _, tc := range []struct {
		name, target string
		msgs         []string
	}{
		{"echo", "/ws", []string{"hello", "world"}},
		{"upstream closes", "/ws", []string{"one", "bye"}},
		{"read timeout", "/short/ws", []string{"x"}},
		{"no upgrade header sent", "/noup/ws", []string{"x"}},
	} {
		ngHead, ngMsgs := upgradeExchange(t, p.Nginx.Addr, tc.target, tc.msgs)
		grHead, grMsgs := upgradeExchange(t, p.Gresty.Addr, tc.target, tc.msgs)
		if d := difftest.Diff(ngHead, grHead, hdrs...); len(d) > 0 {
			t.Errorf("%s: head differs: %s", tc.name, strings.Join(d, "; "))
		}
		if strings.Join(ngMsgs, "|") != strings.Join(grMsgs, "|") {
			t.Errorf("%s: nginx got %q, gresty %q", tc.name, ngMsgs, grMsgs)
		}
	}
}
