package bench

import (
	"fmt"
	"strconv"
	"strings"
)

func init() {
	register(&Scenario{
		Name:    "lua-shdict",
		About:   "`ngx.shared.DICT:incr()` of one key on every request, keepalive",
		Default: true,
		Lua:     true,
		HTTP: `
    lua_shared_dict hits 1m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type text/plain;
            content_by_lua_block {
                ngx.say((ngx.shared.hits:incr("hits", 1, 0)))
            }
        }
    }
`,
		Path: "/",
		Check: func(r *Response) error {
			if r.Status != 200 {
				return fmt.Errorf("status %d, want 200", r.Status)
			}
			n, err := strconv.Atoi(strings.TrimSuffix(string(r.Body), "\n"))
			if err != nil || n < 1 || !strings.HasSuffix(string(r.Body), "\n") {
				return fmt.Errorf("body %q, want the request count", r.Body)
			}
			return nil
		},
		Target: 1.0,
	})
}
