package bench

import (
	"os"
	"os/exec"
)

// redisLib is where Debian's lua-nginx-redis installs lua-resty-redis;
// both servers find it as nginx.redis through the same lua_package_path.
const redisLib = "/usr/share/lua/5.1/nginx/redis.lua"

// redisValue is what every request reads from redis.
const redisValue = "gresty reads this from redis"

func init() {
	register(&Scenario{
		Name:    "lua-redis",
		About:   "lua-resty-redis `GET` of one key from a redis-server over keepalive cosockets, keepalive",
		Default: true,
		Lua:     true,
		Requires: func() string {
			if _, err := exec.LookPath("redis-server"); err != nil {
				return "redis-server is missing: install redis-server"
			}
			if _, err := os.Stat(redisLib); err != nil {
				return "lua-resty-redis is missing (" + redisLib + "): install lua-nginx-redis"
			}
			return ""
		},
		// no persistence: the key is written by the first request of the
		// check, and nothing else touches the disk.
		Backend: &Backend{Command: []string{"redis-server", "--port", "%%PORT%%", "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", "%%DIR%%"}},
		HTTP: `
    lua_package_path "/usr/share/lua/5.1/?.lua;;";
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            default_type text/plain;
            content_by_lua_block {
                local redis = require "nginx.redis"
                local red = redis:new()
                red:set_timeout(1000) -- Debian's lua-resty-redis 0.27 has no set_timeouts
                local ok, err = red:connect("127.0.0.1", %%BACKEND%%)
                if not ok then
                    ngx.log(ngx.ERR, "connect: ", err)
                    return ngx.exit(502)
                end
                local v, err = red:get("gresty:bench")
                if v == ngx.null then
                    v = "` + redisValue + `"
                    ok, err = red:set("gresty:bench", v)
                end
                if not v or not ok then
                    ngx.log(ngx.ERR, "redis: ", err)
                    return ngx.exit(502)
                end
                red:set_keepalive(10000, 100)
                ngx.say(v)
            }
        }
    }
`,
		Path:   "/",
		Check:  wantBody(200, []byte(redisValue+"\n")),
		Target: 1.0,
	})
}
