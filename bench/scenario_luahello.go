package bench

func init() {
	register(&Scenario{
		Name:    "lua-hello",
		About:   "`content_by_lua_block { ngx.say(\"hello\") }`, keepalive",
		Default: true,
		Quick:   true,
		Lua:     true,
		HTTP: `
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type text/plain;
            content_by_lua_block {
                ngx.say("hello")
            }
        }
    }
`,
		Path:   "/",
		Check:  wantBody(200, []byte("hello\n")),
		Target: 0.95,
	})
}
