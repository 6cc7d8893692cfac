package lua_test

import (
	"io"
	"net"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// A body filter that fails fails the connection (nginx's c->error): a
// subrequest whose body_filter_by_lua returns ngx.ERROR ends its main
// request too, and the client gets no response at all.
func TestSubrequestFilterErrorEndsConnection(t *testing.T) {
	p := difftest.Start(t, `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location /sub {
            echo hello world;
            body_filter_by_lua_block { return ngx.ERROR }
        }
        location /main {
            content_by_lua_block {
                local res = ngx.location.capture("/sub")
                ngx.say("status: ", res.status)
            }
        }
    }
}
`, "lua", "echo")
	for name, addr := range map[string]string{"nginx": p.Nginx.Addr, "gresty": p.Gresty.Addr} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET /main HTTP/1.1\r\nHost: localhost\r\n\r\n")
		b, err := io.ReadAll(c)
		c.Close()
		if err != nil || len(b) != 0 {
			t.Errorf("%s: %q, %v; want the connection closed without a response", name, b, err)
		}
	}
}
