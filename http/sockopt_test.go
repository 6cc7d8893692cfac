package http_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

// TCP_CORK and TCP_NODELAY follow nginx's connection states, told by the
// debug lines nginx writes for them: a file that follows the response head
// is corked (tcp_nopush on), the cork is removed when the connection goes
// keepalive and TCP_NODELAY then stays off (Linux); a response without a
// file sets TCP_NODELAY once at keepalive (tcp_nodelay on), which a later
// file response clears before corking. Without tcp_nopush nothing corks.
func TestCorkAndNodelay(t *testing.T) {
	s := nginxtest.StartGresty(t, `
error_log %%PREFIX%%/logs/sockopt.log debug;
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    server {
        listen 127.0.0.1:%%PORT%%;
        root %%PREFIX%%/html;
        location /plain/ { tcp_nopush off; }
        location = /r { return 200 "ok\n"; }
    }
}
`)
	big := strings.Repeat("0123456789abcdef", 4<<10)
	for _, p := range []string{"html/big.txt", "html/plain/big.txt"} {
		os.MkdirAll(filepath.Join(s.Prefix, filepath.Dir(p)), 0o755)
		if err := os.WriteFile(filepath.Join(s.Prefix, p), []byte(big), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := dial(t, s.Addr)
	br := bufio.NewReader(c)
	for _, path := range []string{"/big.txt", "/big.txt", "/r", "/r", "/big.txt", "/r", "/plain/big.txt", "/big.txt", "/r"} {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		if strings.HasSuffix(path, "big.txt") && string(body) != big {
			t.Fatalf("%s: %d bytes, want %d", path, len(body), len(big))
		}
	}
	// the last request's keepalive step was logged before it was read.
	b, err := os.ReadFile(filepath.Join(s.Prefix, "logs/sockopt.log"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, "[debug]") {
			continue
		}
		msg := strings.SplitN(l, ", client", 2)[0]
		for _, w := range []string{"no tcp_nodelay", "tcp_nodelay", "tcp_nopush"} {
			if strings.HasSuffix(msg, ": "+w) || strings.HasSuffix(msg, " "+w) {
				got = append(got, w)
				break
			}
		}
	}
	want := "tcp_nopush,tcp_nopush,tcp_nodelay,no tcp_nodelay,tcp_nopush,tcp_nodelay"
	if g := strings.Join(got, ","); g != want {
		t.Fatalf("socket option steps\n got %s\nwant %s\nlog:\n%s", g, want, b)
	}
}
