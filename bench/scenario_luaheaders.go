package bench

import "fmt"

func init() {
	register(&Scenario{
		Name:  "lua-headers",
		About: "`ngx.req.get_headers()`, `ngx.var.http_*` and three `ngx.header` assignments per request, keepalive",
		Lua:   true,
		HTTP: `
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type text/plain;
            content_by_lua_block {
                local h = ngx.req.get_headers()
                ngx.header["X-Api-Key-Seen"] = h["x-api-key"]
                ngx.header["X-Client"] = ngx.var.http_x_forwarded_for
                ngx.header.cache_control = "no-store"
                ngx.say(h["x-tenant"] or "none")
            }
        }
    }
`,
		Path:    "/",
		Headers: []string{"X-Api-Key: k-1234", "X-Forwarded-For: 10.1.2.3", "X-Tenant: acme"},
		Default: true,
		Check: func(r *Response) error {
			if err := wantBody(200, []byte("acme\n"))(r); err != nil {
				return err
			}
			for name, want := range map[string]string{"X-Api-Key-Seen": "k-1234", "X-Client": "10.1.2.3", "Cache-Control": "no-store"} {
				if got := r.Header.Get(name); got != want {
					return fmt.Errorf("%s: %q, want %q", name, got, want)
				}
			}
			return nil
		},
		Target: 0.9,
	})
}
