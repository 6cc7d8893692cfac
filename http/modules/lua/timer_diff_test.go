package lua_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// ngx.timer.* compared with OpenResty: arguments, premature, the timer's
// phase and what its code may do, the counts, the limits, and the log
// lines written in a timer's context.
func TestTimersMatchOpenResty(t *testing.T) {
	content := func(code string) string {
		return "content_by_lua_block {\n" + code + "\n}"
	}
	p := runLuaCases(t, "lua_max_pending_timers 3;\nlua_max_running_timers 2;", "", []luaCase{
		{name: "args", conf: content(`
			local res = {}
			local ok, err = ngx.timer.at(0.01, function(premature, a, b, ...)
				res[#res + 1] = table.concat({tostring(premature), a, tostring(b), select("#", ...), ngx.get_phase()}, " ")
			end, "x", nil, 3, nil)
			ngx.say(ok, " ", err)
			ngx.sleep(0.05)
			ngx.say(table.concat(res, ","))`)},
		{name: "zero", conf: content(`
			local order = {}
			ngx.timer.at(0, function() order[#order + 1] = "timer" end)
			order[#order + 1] = "entry"
			ngx.sleep(0.01)
			ngx.say(table.concat(order, " "))`)},
		{name: "counts", conf: content(`
			local seen = {}
			local function f()
				seen[#seen + 1] = ngx.timer.running_count() .. "/" .. ngx.timer.pending_count()
				ngx.sleep(0.02)
			end
			ngx.say(ngx.timer.running_count(), " ", ngx.timer.pending_count())
			ngx.timer.at(0.01, f)
			ngx.timer.at(0.01, f)
			ngx.say(ngx.timer.running_count(), " ", ngx.timer.pending_count())
			ngx.sleep(0.015)
			ngx.say(ngx.timer.running_count(), " ", ngx.timer.pending_count(), " ", table.concat(seen, " "))
			ngx.sleep(0.03)
			ngx.say(ngx.timer.running_count(), " ", ngx.timer.pending_count())`)},
		{name: "too_many", conf: content(`
			local f = function() end
			for i = 1, 4 do ngx.say(ngx.timer.at(0.01, f)) end
			ngx.sleep(0.02)`)},
		{name: "bad_args", conf: content(`
			ngx.say(pcall(ngx.timer.at))
			ngx.say(pcall(ngx.timer.at, 1))
			ngx.say(pcall(ngx.timer.at, "x", function() end))
			ngx.say(pcall(ngx.timer.at, 1, "f"))
			ngx.say(pcall(ngx.timer.at, 1, print))
			ngx.say(pcall(ngx.timer.every, 0, function() end))
			ngx.say(pcall(ngx.timer.every, 0.0001, function() end))`)},
		{name: "in_timer", conf: content(`
			local res = {}
			local function try(name, f)
				local ok, err = pcall(f)
				res[#res + 1] = name .. ": " .. tostring(ok) .. " " .. tostring(err):gsub("^.-:%d+: ", "")
			end
			ngx.timer.at(0, function()
				try("say", function() ngx.say("x") end)
				try("exit", function() ngx.exit(200) end)
				try("exec", function() ngx.exec("/x") end)
				try("redirect", function() ngx.redirect("/x") end)
				try("flush", function() ngx.flush() end)
				try("eof", function() ngx.eof() end)
				try("on_abort", function() ngx.on_abort(function() end) end)
				try("req.socket", function() ngx.req.socket() end)
				try("var", function() return ngx.var.uri end)
				try("var set", function() ngx.var.foo = 1 end)
				try("status", function() return ngx.status end)
				try("header", function() return ngx.header.foo end)
				try("req headers", function() return ngx.req.get_headers() end)
				try("req method", function() return ngx.req.get_method() end)
				try("uri args", function() return ngx.req.get_uri_args() end)
				try("is_subrequest", function() return ngx.is_subrequest end)
				try("worker", function() return type(ngx.worker.pid()) end)
				try("capture", function() ngx.location.capture("/args") end)
				try("ctx", function() ngx.ctx.a = 1 return ngx.ctx.a end)
				try("sleep", function() ngx.sleep(0) end)
				try("timer", function() return ngx.timer.at(0, function() end) end)
				local t = ngx.thread.spawn(function() return "thread in timer" end)
				res[#res + 1] = select(2, ngx.thread.wait(t))
			end)
			ngx.sleep(0.02)
			ngx.say(table.concat(res, "\n"))`)},
		{name: "nested", conf: content(`
			local res = {}
			ngx.timer.at(0, function()
				ngx.timer.at(0.01, function(p, v) res[#res + 1] = v end, "inner")
				res[#res + 1] = "outer"
			end)
			ngx.sleep(0.03)
			ngx.say(table.concat(res, " "))`)},
		{name: "timer_log", conf: content(`
			ngx.timer.at(0, function(premature)
				ngx.log(ngx.WARN, "timer log, premature: ", premature)
				local t = ngx.thread.spawn(function() error("thread fails in timer") end)
				error("timer fails")
			end)
			ngx.sleep(0.02)
			ngx.say("ok")`)},
		{name: "running_limit", conf: content(`
			local function f() ngx.sleep(0.02) end
			ngx.timer.at(0, f)
			ngx.timer.at(0, f)
			ngx.timer.at(0, f)
			ngx.sleep(0.05)
			ngx.say("ok")`)},
		// every's timer goes on running: it comes last.
		{name: "every", conf: content(`
			local n = 0
			local ok, err = ngx.timer.every(0.01, function(premature, step) n = n + step end, 1)
			ngx.say(ok, " ", err)
			ngx.sleep(0.055)
			ngx.say(n >= 3 and n <= 6)`)},
	})
	time.Sleep(100 * time.Millisecond)
	ng := timerLogLines(p.Nginx.ErrorLog())
	gr := timerLogLines(p.Gresty.ErrorLog())
	if len(ng) < 3 {
		t.Errorf("nginx logged %d timer lines, want at least 3:\n%s", len(ng), strings.Join(ng, "\n"))
	}
	t.Logf("%d timer log lines", len(ng))
	if strings.Join(ng, "\n") != strings.Join(gr, "\n") {
		t.Errorf("timer log lines differ\nnginx:\n%s\ngresty:\n%s", strings.Join(ng, "\n"), strings.Join(gr, "\n"))
	}
}

var (
	logHead   = regexp.MustCompile(`^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: (?:\*\d+ )?`)
	serverTxt = regexp.MustCompile(`, server: [0-9.]+:\d+`)
)

// timerLogLines returns the warn-and-above entries of a log that belong
// to no request (timers, and alerts about them), with their continuation
// lines, sorted, and with the listening address blanked.
func timerLogLines(log string) []string {
	var out []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			out = append(out, serverTxt.ReplaceAllString(strings.Join(cur, "\n"), ", server: ADDR"))
		}
		cur = nil
	}
	for _, l := range strings.Split(log, "\n") {
		if m := logHead.FindStringSubmatch(l); m != nil {
			flush()
			text := l[len(m[0]):]
			switch m[1] {
			case "[warn]", "[error]", "[alert]", "[crit]":
			default:
				continue
			}
			if strings.Contains(text, "request: ") || strings.Contains(text, "load_module") {
				continue
			}
			cur = []string{m[1] + " " + text}
			continue
		}
		if cur != nil {
			cur = append(cur, l)
		}
	}
	flush()
	sort.Strings(out)
	return out
}
