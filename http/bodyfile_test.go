package http_test

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

// client_body_in_file_only: "on" keeps the body's file after the request
// (nginx's persistent file), "clean" removes it; both log the file at
// notice level, where a body that merely overflowed the buffer is a warn.
func TestBodyInFileOnly(t *testing.T) {
	s := nginxtest.StartGresty(t, `
error_log %%PREFIX%%/logs/body.log notice;
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT%%;
        client_body_buffer_size 1k;
        location /on { client_body_in_file_only on; add_header X-File $request_body_file; proxy_pass http://127.0.0.1:%%PORT%%/back; }
        location /clean { client_body_in_file_only clean; add_header X-File $request_body_file; proxy_pass http://127.0.0.1:%%PORT%%/back; }
        location /over { add_header X-File $request_body_file; proxy_pass http://127.0.0.1:%%PORT%%/back; }
        location /back { return 200 "back\n"; }
    }
}
`)
	body := strings.Repeat("0123456789", 300)
	post := func(path string) string {
		t.Helper()
		c := dial(t, s.Addr)
		io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3000\r\n\r\n"+body)
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.ReadAll(resp.Body)
		// the connection closes once the request is freed, its body
		// file removed.
		io.ReadAll(br)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", path, resp.StatusCode)
		}
		f := resp.Header.Get("X-File")
		if f == "" {
			t.Fatalf("%s: no $request_body_file", path)
		}
		return f
	}
	on := post("/on")
	if b, err := os.ReadFile(on); err != nil || string(b) != body {
		t.Errorf("client_body_in_file_only on: file %s: %v, %d bytes", on, err, len(b))
	}
	clean := post("/clean")
	over := post("/over")
	for _, f := range []string{clean, over} {
		if _, err := os.Stat(f); !os.IsNotExist(err) {
			t.Errorf("%s still exists after the request (%v)", f, err)
		}
	}
	logText, _ := os.ReadFile(filepath.Join(s.Prefix, "logs/body.log"))
	for f, level := range map[string]string{on: "[notice]", clean: "[notice]", over: "[warn]"} {
		found := false
		for _, l := range strings.Split(string(logText), "\n") {
			if strings.Contains(l, "a client request body is buffered to a temporary file "+f+",") {
				found = strings.Contains(l, level)
			}
		}
		if !found {
			t.Errorf("no %s line for %s in\n%s", level, f, logText)
		}
	}
}

// client_body_temp_path with levels: the file lands in the hashed
// directories nginx derives from its ten-digit number (dir/3/12/...0123
// for levels 1 2), the same shape nginx gives.
func TestBodyTempPathLevels(t *testing.T) {
	conf := `
http {
    access_log off;
    server {
        listen 127.0.0.1:%%PORT%%;
        client_body_buffer_size 1k;
        client_body_temp_path %%PREFIX%%/bodies 1 2;
        location /on { client_body_in_file_only on; add_header X-File $request_body_file; proxy_pass http://127.0.0.1:%%PORT%%/back; }
        location /back { return 200 "back\n"; }
    }
}
`
	shape := regexp.MustCompile(`/bodies/(\d)/(\d\d)/\d{7}(\d\d)(\d)$`)
	for _, s := range []*nginxtest.Server{nginxtest.Start(t, conf), nginxtest.StartGresty(t, conf)} {
		c := dial(t, s.Addr)
		io.WriteString(c, "POST /on HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 3000\r\n\r\n"+strings.Repeat("x", 3000))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := resp.Header.Get("X-File")
		m := shape.FindStringSubmatch(f)
		if m == nil || m[1] != m[4] || m[2] != m[3] {
			t.Errorf("%s: body file %q is not in the levels' directories (status %d)", s.Prefix, f, resp.StatusCode)
		} else if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: %v", s.Prefix, err)
		}
	}
}
