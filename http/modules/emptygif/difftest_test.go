package emptygif_test

import (
	"testing"

	"gresty/internal/difftest"
)

const emptyGIFConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { empty_gif; }
        location /typed/ {
            default_type text/plain;
            empty_gif;
        }
        location /err/ {
            empty_gif;
            error_page 405 = /;
        }
    }
}
`

func TestEmptyGIFMatchesNginx(t *testing.T) {
	p := difftest.Start(t, emptyGIFConf)
	hdrs := append([]string{"Content-Type"}, difftest.CompareHeaders...)
	for _, tt := range []struct{ name, raw string }{
		{"GET", "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"HTTP/1.0", "GET /x.png HTTP/1.0\r\n\r\n"},
		{"HEAD", "HEAD / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"PUT", "PUT / HTTP/1.0\r\n\r\n"},
		{"POST with body", "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"},
		{"not modified", "GET / HTTP/1.1\r\nHost: localhost\r\nIf-Modified-Since: Mon, 28 Sep 1970 06:00:00 GMT\r\nConnection: close\r\n\r\n"},
		{"modified since", "GET / HTTP/1.1\r\nHost: localhost\r\nIf-Modified-Since: Mon, 28 Sep 1970 05:59:59 GMT\r\nConnection: close\r\n\r\n"},
		{"unmodified since", "GET / HTTP/1.1\r\nHost: localhost\r\nIf-Unmodified-Since: Mon, 28 Sep 1970 05:00:00 GMT\r\nConnection: close\r\n\r\n"},
		{"range", "GET / HTTP/1.1\r\nHost: localhost\r\nRange: bytes=0-5\r\nConnection: close\r\n\r\n"},
		{"default_type ignored", "GET /typed/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"405 redirected", "DELETE /err/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
	} {
		p.Check(t, tt.name, tt.raw, hdrs...)
	}
}

func TestEmptyGIFBytes(t *testing.T) {
	p := difftest.Start(t, emptyGIFConf)
	want := "GIF89a\x01\x00\x01\x00\x80\x01\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x01\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02L\x01\x00;"
	for _, s := range []struct {
		who  string
		addr string
	}{{"nginx", p.Nginx.Addr}, {"gresty", p.Gresty.Addr}} {
		r := difftest.Fetch(t, s.addr, "GET / HTTP/1.0\r\n\r\n")
		if string(r.Body) != want || len(r.Body) != 43 {
			t.Errorf("%s: body %q, want the 43-byte GIF", s.who, r.Body)
		}
	}
}
