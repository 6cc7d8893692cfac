package lua_test

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
)

// The light-thread API and ngx.sleep compared with OpenResty: the order
// in which threads run and print, what wait and kill return, how
// coroutine.status sees threads, and the error-log lines of failures.
func TestThreadsMatchOpenResty(t *testing.T) {
	content := func(code string) string {
		return "content_by_lua_block {\n" + code + "\n}"
	}
	runLuaCases(t, "", "", []luaCase{
		{name: "nested", conf: content(`
			local g
			local function f()
				ngx.say("before g")
				ngx.thread.spawn(g)
				ngx.say("after g")
			end
			function g() ngx.say("hello in g()") end
			ngx.say("before f")
			ngx.thread.spawn(f)
			ngx.say("after f")`)},
		{name: "nested_io", conf: content(`
			local function g() ngx.sleep(0.01) ngx.say("g done") end
			local function f()
				ngx.say("f start")
				ngx.thread.spawn(g)
				ngx.sleep(0.02)
				ngx.say("f done")
			end
			ngx.thread.spawn(f)
			ngx.say("entry done")`)},
		{name: "slicing", conf: content(`
			local function f(n)
				local self = coroutine.running()
				for i = 1, 3 do ngx.say(n, " ", i) coroutine.yield(self) end
			end
			ngx.thread.spawn(f, "f")
			ngx.thread.spawn(f, "g")
			ngx.say("done")`)},
		{name: "entry_yield", conf: content(`
			ngx.thread.spawn(function() for i = 1, 2 do ngx.say("t ", i) coroutine.yield() end end)
			for i = 1, 3 do ngx.say("main ", i) coroutine.yield() end`)},
		{name: "wait_values", conf: content(`
			local t = ngx.thread.spawn(function(a, b) return a, b, nil, 4 end, "x", 2)
			ngx.say(coroutine.status(t))
			ngx.say(select("#", ngx.thread.wait(t)))
			ngx.say(ngx.thread.wait(t))`)},
		{name: "wait_io_values", conf: content(`
			local t = ngx.thread.spawn(function(a) ngx.sleep(0.01) return a, "y" end, "x")
			ngx.say(coroutine.status(t))
			local ok, a, b = ngx.thread.wait(t)
			ngx.say(ok, " ", a, " ", b, " ", coroutine.status(t))`)},
		{name: "wait_first", conf: content(`
			local function f(d, n) ngx.sleep(d) ngx.say(n, " woke") return n end
			local a = ngx.thread.spawn(f, 0.03, "a")
			local b = ngx.thread.spawn(f, 0.01, "b")
			ngx.say(ngx.thread.wait(a, b))
			ngx.say(coroutine.status(a), " ", coroutine.status(b))
			ngx.say(ngx.thread.wait(a, b))`)},
		{name: "wait_error", log: true, conf: content(`
			local t = ngx.thread.spawn(function() ngx.say("in thread") error("bad bad!") end)
			ngx.say(coroutine.status(t))
			local ok, res = ngx.thread.wait(t)
			ngx.say(ok, " ", res)
			local t2 = ngx.thread.spawn(function() ngx.sleep(0.01) error({}) end)
			local ok2, res2 = ngx.thread.wait(t2)
			ngx.say(ok2, " ", type(res2))
			local t3 = ngx.thread.spawn(function() error("lvl0", 0) end)
			ngx.say(select("#", ngx.thread.wait(t3)))`)},
		{name: "kill", conf: content(`
			local t = ngx.thread.spawn(function() ngx.sleep(0.05) ngx.say("not reached") end)
			ngx.say(ngx.thread.kill(t))
			ngx.say(ngx.thread.kill(t))
			ngx.say(ngx.thread.wait(t))
			local z = ngx.thread.spawn(function() return 1 end)
			ngx.say(ngx.thread.kill(z))
			ngx.say(ngx.thread.kill(coroutine.running()))
			local c = ngx.thread.spawn(function()
				ngx.say(ngx.thread.kill(coroutine.running()))
			end)
			ngx.sleep(0.06)
			ngx.say("end")`)},
		{name: "status", conf: content(`
			local co
			ngx.thread.spawn(function() co = coroutine.running() ngx.sleep(0.01) end)
			ngx.say("running: ", coroutine.status(co))
			local t = ngx.thread.spawn(function() end)
			ngx.say("zombie: ", coroutine.status(t))
			ngx.thread.wait(t)
			ngx.say("dead: ", coroutine.status(t))
			ngx.say("entry: ", coroutine.status(coroutine.running()))`)},
		{name: "status_normal", conf: content(`
			local co, g
			local function f()
				co = coroutine.running()
				local co2 = coroutine.create(g)
				coroutine.resume(co2)
			end
			function g() ngx.sleep(0.01) end
			ngx.thread.spawn(f)
			ngx.say("waiting in a coroutine: ", coroutine.status(co))
			ngx.sleep(0.02)
			ngx.say("after: ", coroutine.status(co))`)},
		{name: "exit_in_thread", conf: content(`
			ngx.thread.spawn(function() ngx.sleep(0.01) ngx.say("thread exits") ngx.exit(200) end)
			ngx.thread.spawn(function() ngx.sleep(0.5) ngx.say("not reached") end)
			ngx.say("entry sleeps")
			ngx.sleep(1)
			ngx.say("not reached")`)},
		{name: "exit_at_spawn", conf: content(`
			ngx.say("before")
			ngx.thread.spawn(function() ngx.say("in thread") ngx.exit(ngx.HTTP_OK) end)
			ngx.say("not reached")`)},
		{name: "exit_status", conf: content(`
			ngx.thread.spawn(function() ngx.sleep(0.01) ngx.exit(403) end)
			ngx.sleep(1)`)},
		{name: "outlive_entry", conf: content(`
			ngx.thread.spawn(function() ngx.sleep(0.02) ngx.say("thread still writes") end)
			ngx.say("entry returns")`)},
		{name: "spawn_in_pcall", conf: content(`
			local ok, t = pcall(ngx.thread.spawn, function() ngx.sleep(0.01) return "v" end)
			ngx.say(ok, " ", type(t))
			ngx.say(pcall(ngx.thread.wait, t))`)},
		{name: "spawn_in_coroutine", conf: content(`
			local co = coroutine.create(function()
				local t = ngx.thread.spawn(function() ngx.sleep(0.01) return "from thread" end)
				coroutine.yield("yielded")
				return ngx.thread.wait(t)
			end)
			ngx.say(coroutine.resume(co))
			ngx.say(coroutine.resume(co))
			ngx.say(coroutine.status(co))`)},
		{name: "wait_foreign", log: true, conf: content(`
			local t
			local co = coroutine.create(function() t = ngx.thread.spawn(function() ngx.sleep(0.01) end) end)
			coroutine.resume(co)
			ngx.say(pcall(ngx.thread.wait, t))
			ngx.say(pcall(ngx.thread.wait, coroutine.create(function() end)))
			ngx.say(pcall(ngx.thread.wait))
			ngx.say(pcall(ngx.thread.wait, 1))
			ngx.say(pcall(ngx.thread.spawn, print))`)},
		{name: "abort_log", log: true, conf: content(`
			ngx.thread.spawn(function() local x = nil; return x.y end)
			ngx.say("ok")`)},
		{name: "entry_abort", log: true, conf: content(`
			ngx.thread.spawn(function() ngx.sleep(0.01) ngx.log(ngx.WARN, "thread after entry error") end)
			error("entry fails")`)},
		{name: "rewrite_threads", conf: `
			rewrite_by_lua_block {
				local t = ngx.thread.spawn(function() ngx.sleep(0.01) return "r" end)
				ngx.ctx.r = select(2, ngx.thread.wait(t))
			}
			access_by_lua_block {
				ngx.thread.spawn(function() ngx.sleep(0.01) ngx.ctx.a = "a" end)
			}
			content_by_lua_block { ngx.say(ngx.ctx.r, " ", ngx.ctx.a) }`},
		{name: "flush_threads", conf: content(`
			ngx.thread.spawn(function() ngx.say("from f") ngx.flush(true) ngx.say("f flushed") end)
			ngx.thread.spawn(function() ngx.say("from g") ngx.flush(true) ngx.say("g flushed") end)
			ngx.say("entry")
			ngx.flush(true)
			ngx.say("entry flushed")`)},
	})
}

// ngx.sleep's argument checks, its phases, and waits inside pcall,
// xpcall and user coroutines.
func TestSleepMatchesOpenResty(t *testing.T) {
	content := func(code string) string {
		return "content_by_lua_block {\n" + code + "\n}"
	}
	runLuaCases(t, "", "", []luaCase{
		{name: "string_arg", conf: content(`ngx.sleep("0.01") ngx.say("ok")`)},
		{name: "bad_arg", log: true, conf: content(`ngx.sleep("a")`)},
		{name: "negative", log: true, conf: content(`ngx.say(pcall(ngx.sleep, -1)) ngx.say(pcall(ngx.sleep, -0.0001))`)},
		{name: "nargs", conf: content(`ngx.say(pcall(ngx.sleep)) ngx.say(pcall(ngx.sleep, 1, 2))`)},
		{name: "zero", log: true, conf: content(`ngx.sleep(0) ngx.say("slept 0")`)},
		{name: "in_pcall", conf: content(`
			ngx.say(pcall(function() ngx.sleep(0.01) return "after sleep" end))
			ngx.say(xpcall(function() ngx.sleep(0.01) error("e") end, function(e) return "handled" end))`)},
		{name: "in_coroutine", conf: content(`
			local co = coroutine.create(function(a)
				ngx.sleep(0.01)
				local b = coroutine.yield(a + 1)
				ngx.sleep(0.01)
				return b * 2
			end)
			ngx.say(coroutine.resume(co, 1))
			ngx.say(coroutine.resume(co, 5))
			ngx.say(coroutine.status(co))
			local w = coroutine.wrap(function() ngx.sleep(0.01) coroutine.yield("w1") return "w2" end)
			ngx.say(w(), " ", w())`)},
		{name: "nested_pcall_coroutine", conf: content(`
			local co = coroutine.wrap(function()
				return pcall(function()
					local inner = coroutine.wrap(function() ngx.sleep(0.01) return "deep" end)
					return inner()
				end)
			end)
			ngx.say(co())`)},
		{name: "xpcall_handler", log: true, conf: content(`
			ngx.say(xpcall(function() error(1) end, function() ngx.sleep(0.001) end))
			ngx.say("ok")`)},
		{name: "in_log", log: true, conf: `
			content_by_lua_block { ngx.say("hello") }
			log_by_lua_block { ngx.sleep(0.01) }`},
		{name: "in_header_filter", log: true, conf: `
			content_by_lua_block { ngx.say("hello") }
			header_filter_by_lua_block { local ok, err = pcall(ngx.sleep, 0.01) ngx.header["X-Err"] = err }`},
		{name: "exec_after_sleep", conf: `
			content_by_lua_block { ngx.sleep(0.01) ngx.exec("/string_arg") }`},
		{name: "exit_after_sleep", conf: content(`ngx.sleep(0.01) ngx.exit(404)`)},
		{name: "flush_before_head", conf: content(`
			local ok, err = ngx.flush()
			ngx.status = 404
			ngx.say("flush: ", ok, " ", err)`)},
		{name: "flush_results", reqs: []string{get(""), "GET %P HTTP/1.0\r\n\r\n"}, conf: content(`
			ngx.print("")
			local a, ae = ngx.flush()
			ngx.say("one")
			local b, be = ngx.flush(false)
			local c, ce = ngx.flush(true)
			ngx.say(a, " ", ae, " ", b, " ", be, " ", c, " ", ce)
			ngx.say(pcall(ngx.flush, 1))
			ngx.say(pcall(ngx.flush, true, 2))
			ngx.eof()
			ngx.log(ngx.WARN, "after eof: ", ngx.flush())`)},
		{name: "flush_head_sent", conf: content(`
			ngx.send_headers()
			ngx.say(ngx.flush(), " ", ngx.flush(true))`)},
		{name: "rewrite_access", conf: `
			rewrite_by_lua_block { ngx.sleep(0.01) ngx.ctx.r = 1 }
			access_by_lua_block { ngx.sleep(0.01) ngx.ctx.a = 2 }
			content_by_lua_block { ngx.sleep(0.01) ngx.say(ngx.ctx.r, ngx.ctx.a) }`},
	})
}

// The README's scheduling example runs the same on both servers.
func TestSchedulingReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	sec := string(readme)
	i := strings.Index(sec, "## Scheduling")
	if i < 0 {
		t.Fatal("no scheduling section in the README")
	}
	sec = sec[i:]
	start := strings.Index(sec, "Example:\n\n")
	end := strings.Index(sec, "\nWhat is there")
	if start < 0 || end < start {
		t.Fatal("no example in the scheduling section")
	}
	var conf strings.Builder
	for _, l := range strings.Split(sec[start+len("Example:\n\n"):end], "\n") {
		conf.WriteString(strings.TrimPrefix(l, "    ") + "\n")
	}
	text := strings.Replace(conf.String(), "listen 127.0.0.1:8080;", "listen 127.0.0.1:%%PORT%%;", 1)
	p := difftest.Start(t, text, "lua")
	// the example watches for the client's FIN: the request is sent
	// without one.
	for _, addr := range []string{p.Nginx.Addr, p.Gresty.Addr} {
		c := dialRaw(t, addr, "GET /fan-out HTTP/1.0\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		b, _ := io.ReadAll(c)
		c.Close()
		if !bytes.HasSuffix(b, []byte("\r\n\r\nfrom the backend true\n")) {
			t.Errorf("%s answered %q", addr, b)
		}
	}
}
