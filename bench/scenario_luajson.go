package bench

func init() {
	register(&Scenario{
		Name:  "lua-json",
		About: "`cjson.decode` of a 300-byte document and `cjson.encode` of an answer built from it, keepalive",
		Lua:   true,
		HTTP: `
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type application/json;
            content_by_lua_block {
                local cjson = require "cjson"
                local doc = cjson.decode('{"id":42,"user":{"name":"gresty","email":"ops@example.com","roles":["admin","ops","dev"]},"active":true,"score":9.5,"tags":["a","b","c","d"],"limits":{"rps":100,"burst":20},"created":"2026-11-27T00:00:00Z","note":"a document of about three hundred bytes, as an API gateway parses on every request"}')
                ngx.say(cjson.encode({doc.id + 1, doc.user.name, #doc.user.roles, doc.active, doc.limits.rps * 2}))
            }
        }
    }
`,
		Path:    "/",
		Default: true,
		Check:   wantBody(200, []byte(`[43,"gresty",3,true,200]`+"\n")),
		Target:  0.8,
	})
}
