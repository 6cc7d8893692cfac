package proxy_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"gresty/http/modules/proxy/proxytest"
	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// errorLines returns the error log's lines of level warn and above after
// the first skip bytes, without time and ids.
func errorLines(log string, skip int) []string {
	var out []string
	for _, m := range logLine.FindAllStringSubmatch(log[min(skip, len(log)):], -1) {
		out = append(out, m[1]+": "+m[2])
	}
	return out
}

// TestRequestBodyErrors sends bodies that fail while a proxied location
// reads them (too large, malformed chunks, with and without a pipelined
// request after them) and compares the answers and the error log lines
// with nginx's: one error response, its one log line, and nothing parsed
// after it.
func TestRequestBodyErrors(t *testing.T) {
	b := proxytest.Start(t, "b1")
	conf := fmt.Sprintf(`
http {
  server {
    listen 127.0.0.1:%%%%PORT%%%%;
    client_body_buffer_size 2k;
    location / { proxy_pass http://%[1]s; }
    location /large { client_max_body_size 1k; proxy_pass http://%[1]s; }
  }
}
`, b.Addr)
	p := difftest.Start(t, conf)
	big := strings.Repeat("0123456789", 128)
	chunked := "Transfer-Encoding: chunked\r\n\r\n"
	tests := []struct{ name, raw string }{
		{"too large chunk", "GET /large HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + chunked +
			fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(big), big)},
		{"too large in the second chunk", "GET /large HTTP/1.1\r\nHost: localhost\r\n" + chunked +
			fmt.Sprintf("5\r\nhello\r\n%x\r\n%s\r\n0\r\n\r\n", len(big), big) + "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"runaway chunk", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n" + chunked + "4\r\nSEE-THIS\r\n0\r\n\r\n"},
		{"runaway chunk, pipelined", "GET / HTTP/1.1\r\nHost: localhost\r\n" + chunked +
			"4\r\nSEE-THIS\r\n0\r\n\r\nGET / HTTP/1.1\r\nHost: localhost\r\n\r\n"},
		{"bad chunk size", "POST / HTTP/1.1\r\nHost: localhost\r\n" + chunked + "zz\r\nabc\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		nSkip, gSkip := len(p.Nginx.ErrorLog()), len(p.Gresty.ErrorLog())
		ng, err1 := nginxtest.Exchange(p.Nginx.Addr, []byte(tt.raw), 5*time.Second)
		gr, err2 := nginxtest.Exchange(p.Gresty.Addr, []byte(tt.raw), 5*time.Second)
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v / %v", tt.name, err1, err2)
		}
		if a, b := nginxtest.Statuses(ng), nginxtest.Statuses(gr); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("%s: statuses: nginx %v, gresty %v", tt.name, a, b)
		}
		// the log lines are written before the response goes out.
		nl, gl := errorLines(p.Nginx.ErrorLog(), nSkip), errorLines(p.Gresty.ErrorLog(), gSkip)
		if strings.Join(nl, "\n") != strings.Join(gl, "\n") {
			t.Errorf("%s: error log:\nnginx:\n  %s\ngresty:\n  %s", tt.name, strings.Join(nl, "\n  "), strings.Join(gl, "\n  "))
		}
	}
}
