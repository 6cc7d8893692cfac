package lua_test

import "testing"

// require "ngx.semaphore" and "ngx.process" compared with OpenResty.
func TestSemaphoreMatchesOpenResty(t *testing.T) {
	content := func(code string) string {
		return "content_by_lua_block {\nlocal semaphore = require \"ngx.semaphore\"\n" +
			"local function E(m) return (tostring(m):gsub(\"^[^:]*ngx/semaphore%.lua:%d+: \", \"\")) end\n" +
			code + "\n}"
	}
	runLuaCases(t, "", "", []luaCase{
		{name: "post_wakes", conf: content(`
			local sema = semaphore.new()
			ngx.say("count ", sema:count())
			local function waiter(name)
				ngx.say(name, " waits")
				local ok, err = sema:wait(1)
				ngx.say(name, " woke: ", ok, " ", err, " count ", sema:count())
			end
			ngx.thread.spawn(waiter, "a")
			ngx.thread.spawn(waiter, "b")
			ngx.say("count ", sema:count())
			ngx.say("post: ", sema:post(2))
			ngx.say("posted, count ", sema:count())
			ngx.sleep(0.01)
			ngx.say("end, count ", sema:count())`)},
		{name: "resources", conf: content(`
			local sema = semaphore.new(2)
			ngx.say(sema:wait(0), " ", sema:count())
			ngx.say(sema:wait(1), " ", sema:count())
			ngx.say(sema:wait(0))
			ngx.say(sema:wait(0.01))
			ngx.say(sema:post(), " ", sema:count())
			ngx.say(sema:wait(0.5))`)},
		{name: "fifo", conf: content(`
			local sema = semaphore.new(0)
			for i = 1, 3 do
				ngx.thread.spawn(function() sema:wait(1) ngx.say("waiter ", i) end)
			end
			sema:post(1)
			ngx.sleep(0.01)
			sema:post(2)
			ngx.sleep(0.01)
			ngx.say("done ", sema:count())`)},
		{name: "timeout_in_thread", conf: content(`
			local sema = semaphore.new()
			local t = ngx.thread.spawn(function() return sema:wait(0.01) end)
			ngx.say(ngx.thread.wait(t))
			ngx.say(sema:count())`)},
		{name: "kill_waiter", conf: content(`
			local sema = semaphore.new()
			local t = ngx.thread.spawn(function() sema:wait(1) ngx.say("not reached") end)
			ngx.say("count ", sema:count())
			ngx.thread.kill(t)
			ngx.say("count ", sema:count())
			sema:post()
			ngx.say("count ", sema:count())`)},
		{name: "errors", conf: content(`
			ngx.say(pcall(semaphore.new, -1))
			local ok, err = pcall(semaphore.new, -1) ngx.say(E(err))
			local sema = semaphore.new("3")
			ngx.say(sema:count())
			ok, err = pcall(sema.post, sema, 0) ngx.say(ok, " ", E(err))
			ok, err = pcall(sema.post, sema, -2) ngx.say(ok, " ", E(err))
			ngx.say(sema:post("x"), " ", sema:count())
			ok, err = pcall(sema.wait, sema, -1) ngx.say(ok, " ", E(err))
			ok, err = pcall(sema.wait, {}, 1) ngx.say(ok, " ", E(err))
			ok, err = pcall(sema.count, {sem = 1}) ngx.say(ok, " ", E(err))
			ok, err = pcall(sema.post, nil) ngx.say(ok, " ", E(err))`)},
		{name: "filter_phase", conf: `
			content_by_lua_block { ngx.say("body") }
			header_filter_by_lua_block {
				local sema = require("ngx.semaphore").new(1)
				local ok, err = sema:wait(0)
				local ok2, err2 = sema:wait(0.1)
				ngx.header["X-Sema"] = tostring(ok) .. " " .. tostring(err) .. " / " .. tostring(ok2) .. " " .. tostring(err2)
			}`},
		{name: "process", conf: `content_by_lua_block {
			local process = require "ngx.process"
			ngx.say(process.type(), " ", process.get_master_pid() == ngx.worker.pid())
			ngx.say(process.enable_privileged_agent())
		}`},
	})
}
