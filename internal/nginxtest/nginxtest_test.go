package nginxtest

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStatuses(t *testing.T) {
	tests := []struct {
		name string
		resp string
		want []int
	}{
		{"empty", "", nil},
		{"http09 body", "ok\n", nil},
		{"one", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", []int{200}},
		{"continue then final", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 X\r\nContent-Length: 0\r\n\r\n", []int{413}},
		{"pipelined", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", []int{200, 404}},
		{"chunked then next", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\nHTTP/1.1 400 Bad\r\n\r\n", []int{200, 400}},
		{"close-delimited ends list", "HTTP/1.0 200 OK\r\n\r\nHTTP/1.1 404 x\r\n\r\n", []int{200}},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nok", []int{200}},
		{"204 has no body", "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", []int{204, 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Statuses([]byte(tt.resp)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Statuses = %v, want %v", got, tt.want)
			}
			want := 0
			if len(tt.want) > 0 {
				want = tt.want[0]
			}
			if got := Status([]byte(tt.resp)); got != want {
				t.Errorf("Status = %d, want %d", got, want)
			}
		})
	}
}

func TestLoadModule(t *testing.T) {
	tests := []struct {
		name string
		want []string
	}{
		{"echo", []string{"ngx_http_echo_module.so"}},
		{"lua", []string{"ndk_http_module.so", "ngx_http_lua_module.so"}},
		{"set-misc", []string{"ndk_http_module.so", "ngx_http_set_misc_module.so"}},
		{"headers-more", []string{"ngx_http_headers_more_filter_module.so"}},
		{"ngx_stream_module", []string{"ngx_stream_module.so"}},
	}
	for _, tt := range tests {
		got := LoadModule(tt.name)
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != len(tt.want) {
			t.Fatalf("LoadModule(%q) = %q, want %d lines", tt.name, got, len(tt.want))
		}
		for i, l := range lines {
			want := "load_module " + filepath.Join(ModulesDir, tt.want[i]) + ";"
			if l != want {
				t.Errorf("LoadModule(%q) line %d = %q, want %q", tt.name, i, l, want)
			}
		}
	}
}

func TestStartAndExchange(t *testing.T) {
	s := Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { return 200 "hello\n"; }
        location /echo { echo "from echo"; }
    }
}
`, "echo")
	tests := []struct {
		req    string
		status int
		body   string
	}{
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", 200, "hello\n"},
		{"GET /echo HTTP/1.0\r\n\r\n", 200, "from echo\n"},
		{"BAD\r\n\r\n", 400, "400 Bad Request"},
		{"GET /\r\n", 0, "hello\n"},
	}
	for _, tt := range tests {
		resp, err := Exchange(s.Addr, []byte(tt.req), 5*time.Second)
		if err != nil {
			t.Fatalf("%q: %v", tt.req, err)
		}
		if got := Status(resp); got != tt.status {
			t.Errorf("%q: status %d, want %d\n%s", tt.req, got, tt.status, resp)
		}
		if !strings.Contains(string(resp), tt.body) {
			t.Errorf("%q: reply lacks %q:\n%s", tt.req, tt.body, resp)
		}
	}
	// nothing may be written outside the prefix: the access log is in it
	if _, err := os.Stat(filepath.Join(s.Prefix, "logs", "access.log")); err != nil {
		t.Errorf("access log not in prefix: %v", err)
	}
	if !strings.Contains(s.ErrorLog(), "client sent invalid method") {
		t.Errorf("error log lacks the invalid-method line:\n%s", s.ErrorLog())
	}
}

func TestFreePort(t *testing.T) {
	if p := FreePort(t); p <= 0 || p > 65535 {
		t.Fatalf("FreePort = %d", p)
	}
}

func TestClosing(t *testing.T) {
	tests := []struct {
		resp string
		want bool
	}{
		{"HTTP/1.1 413 X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nab", true},
		{"HTTP/1.1 413 X\r\nContent-Length: 2\r\nConnection: close\r\n\r\na", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nab", false},
		{"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 400 X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", true},
		{"HTTP/1.1 100 Continue\r\nConnection: close\r\n\r\n", false},
		{"HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nrest", false},
		{"garbage", false},
	}
	for _, tt := range tests {
		if got := closing([]byte(tt.resp)); got != tt.want {
			t.Errorf("closing(%q) = %v, want %v", tt.resp, got, tt.want)
		}
	}
}
