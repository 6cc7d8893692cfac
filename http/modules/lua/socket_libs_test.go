package lua_test

import (
	"os"
	"strconv"
	"testing"

	"gresty/internal/nginxtest"
)

// The Lua libraries Debian ships for ngx_lua, unmodified, on the
// cosockets: lua-resty-redis against a real redis-server and
// lua-resty-memcached against a real memcached, both started here on free
// ports. Each request runs on nginx first and then on gresty against the
// same server, so every case writes the keys it reads.

// restyLibDir is where Debian installs the libraries (as nginx.redis,
// nginx.memcached, ...).
const restyLibDir = "/usr/share/lua/5.1"

// needRestyLib skips the test when one of Debian's lua-nginx-* libraries
// is missing, unless GRESTY_REQUIRE_NGINX=1 asks for everything.
func needRestyLib(t *testing.T, file string) {
	t.Helper()
	if _, err := os.Stat(restyLibDir + "/" + file); err != nil {
		if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
			t.Fatalf("%s not installed: %v", file, err)
		}
		t.Skipf("Debian's %s is not installed", file)
	}
}

func TestRestyRedisOnCosockets(t *testing.T) {
	needRestyLib(t, "nginx/redis.lua")
	port := nginxtest.StartBackend(t, "redis-server", func(port int) []string {
		return []string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	})
	lua := func(code string) string {
		return "content_by_lua_block {\n" + `local redis = require "nginx.redis"
local red = redis:new()
red:set_timeout(1000)
local ok, err = red:connect("127.0.0.1", ` + strconv.Itoa(port) + `)
if not ok then ngx.say("connect: ", err) return end
` + code + "\n}"
	}
	cases := []luaCase{
		{name: "commands", conf: lua(`
ngx.say(red:set("gresty:k", "v1"))
ngx.say(red:get("gresty:k"))
ngx.say(red:get("gresty:missing") == ngx.null)
ngx.say(red:del("gresty:h") >= 0)
ngx.say(red:hmset("gresty:h", "a", "1", "b", "2"))
local t = red:hgetall("gresty:h")
ngx.say(table.concat(t, ","))
ngx.say(red:incrby("gresty:h:n", 0) ~= nil)
local res, err = red:hget("gresty:k", "x")
ngx.say(tostring(res), " ", err)
ngx.say(red:set_keepalive(10000, 10))`)},
		{name: "pipeline", conf: lua(`
red:init_pipeline()
red:set("gresty:p", 10)
red:incr("gresty:p")
red:get("gresty:p")
red:lpush("gresty:p", "x")
local res, err = red:commit_pipeline()
if not res then ngx.say("commit: ", err) return end
for i, v in ipairs(res) do
    if type(v) == "table" then v = "err:" .. tostring(v[2]) end
    ngx.say(i, " ", v)
end
ngx.say(red:set_keepalive(10000, 10))`)},
		{name: "reuse", conf: lua(`
ngx.say("reused: ", red:get_reused_times())
ngx.say(red:ping())
ngx.say(red:set_keepalive(10000, 10))`), reqs: []string{get(""), get(""), get("")}},
		{name: "timeout", conf: lua(`
red:set_timeout(100)
ngx.say(red:blpop("gresty:empty-list", 1))
-- the read timeout closed the connection: the library connects again
ngx.say(red:connect("127.0.0.1", ` + strconv.Itoa(port) + `))
ngx.say(red:get("gresty:k"))`), log: true},
	}
	runLuaCases(t, `lua_package_path "`+restyLibDir+`/?.lua;;";`, "", cases)
}

func TestRestyMemcachedOnCosockets(t *testing.T) {
	needRestyLib(t, "nginx/memcached.lua")
	port := nginxtest.StartMemcached(t)
	lua := func(code string) string {
		return "content_by_lua_block {\n" + `local memcached = require "nginx.memcached"
local memc = memcached:new()
memc:set_timeout(1000)
local ok, err = memc:connect("127.0.0.1", ` + strconv.Itoa(port) + `)
if not ok then ngx.say("connect: ", err) return end
` + code + "\n}"
	}
	cases := []luaCase{
		{name: "memc", conf: lua(`
ngx.say(memc:set("gresty-k", "hello", 0, 7))
ngx.say(memc:get("gresty-k"))
ngx.say(memc:get("gresty-none"))
ngx.say(memc:add("gresty-k", "again"))
ngx.say(memc:set("gresty-n", 5))
ngx.say(memc:incr("gresty-n", 3))
ngx.say(memc:delete("gresty-n"))
local res = memc:get({"gresty-k", "gresty-n"})
ngx.say(res["gresty-k"] and res["gresty-k"][1], " ", tostring(res["gresty-n"]))
ngx.say(memc:version() ~= nil)
ngx.say("reused: ", memc:get_reused_times())
ngx.say(memc:set_keepalive(10000, 5))`), reqs: []string{get(""), get("")}},
		{name: "memc-big", conf: lua(`
local v = string.rep("0123456789", 20000)
ngx.say(memc:set("gresty-big", v))
local got = memc:get("gresty-big")
ngx.say(#got, " ", got == v)
ngx.say(memc:close())`)},
	}
	runLuaCases(t, `lua_package_path "`+restyLibDir+`/?.lua;;";`, "", cases)
}

// lua-resty-websocket's server and client, unmodified, talking to each
// other through the cosockets (the client in one location, the server on
// a raw request socket in another); nginx.websocket.protocol is gresty's
// Go-native replacement of the FFI-based original.
func TestRestyWebsocketOnCosockets(t *testing.T) {
	needRestyLib(t, "nginx/websocket/server.lua")
	cases := []luaCase{
		{name: "ws", conf: `content_by_lua_block {
    local server = require "nginx.websocket.server"
    local wb, err = server:new{timeout = 2000, max_payload_len = 65535}
    if not wb then ngx.log(ngx.ERR, "server: ", err) return ngx.exit(400) end
    while true do
        local data, typ, err = wb:recv_frame()
        if not data then ngx.log(ngx.ERR, "recv: ", err) return end
        if typ == "close" then wb:send_close(1000, "bye") return end
        if typ == "ping" then wb:send_pong(data) else wb:send_text(typ .. ": " .. data) end
    end
}`, log: true},
		{name: "wsclient", conf: `content_by_lua_block {
    local client = require "nginx.websocket.client"
    local wb = client:new{timeout = 2000}
    local ok, err = wb:connect("ws://127.0.0.1:" .. ngx.var.server_port .. "/ws")
    if not ok then ngx.say("connect: ", err) return end
    ngx.say(wb:send_text("hello"))
    ngx.say(wb:recv_frame())
    ngx.say(wb:send_binary(string.rep("x", 3000)))
    local d, typ = wb:recv_frame() ngx.say(#d, " ", typ)
    ngx.say(wb:send_ping("p"))
    ngx.say(wb:recv_frame())
    ngx.say(wb:send_close(1000, "done"))
    ngx.say(wb:recv_frame())
}`},
	}
	runLuaCases(t, `lua_package_path "`+restyLibDir+`/?.lua;;";`, "", cases)
}
