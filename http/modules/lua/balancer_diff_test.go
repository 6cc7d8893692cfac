package lua_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// balancer_by_lua and ngx.balancer compared with OpenResty: the code
// names the peer of each try (address and port, or "addr:port"), adds
// tries, reads why the last one failed, changes the request's timeouts,
// falls back to the block's servers when it names none, and fails the
// request as ngx_lua does on errors, ngx.exit and bad addresses. Outside
// the balancer, ngx.balancer answers "no upstream found" or "API
// disabled in the current context".
func TestBalancerByLuaMatchesOpenResty(t *testing.T) {
	p := difftest.Start(t, `
http {
    upstream backend {
        server 127.0.0.1:%%PORT%%;
        balancer_by_lua_block {
            local b = require "ngx.balancer"
            local port = tonumber(ngx.var.server_port)
            local mode = ngx.var.arg_mode
            ngx.log(ngx.WARN, "balancer phase ", ngx.get_phase(), " mode ", mode)
            if mode == "direct" then
                assert(b.set_current_peer("127.0.0.1", port))
            elseif mode == "portstr" then
                assert(b.set_current_peer("127.0.0.1:" .. port))
            elseif mode == "retry" then
                local state, status = b.get_last_failure()
                ngx.log(ngx.WARN, "last failure: ", state, " ", status)
                if not state then
                    assert(b.set_more_tries(1))
                    assert(b.set_current_peer("127.0.0.1", 1))
                else
                    assert(b.set_current_peer("127.0.0.1", port))
                end
            elseif mode == "tries" then
                ngx.log(ngx.WARN, "more tries: ", table.concat({tostring(b.set_more_tries(10))}, " "))
                assert(b.set_current_peer("127.0.0.1", port))
            elseif mode == "name" then
                local ok, err = b.set_current_peer("localhost", port)
                ngx.log(ngx.WARN, "name: ", ok, " ", err)
            elseif mode == "badport" then
                local ok, err = b.set_current_peer("127.0.0.1:0")
                ngx.log(ngx.WARN, "bad port: ", ok, " ", err)
            elseif mode == "error" then
                error("boom")
            elseif mode == "exit" then
                ngx.exit(ngx.ERROR)
            elseif mode == "exit502" then
                ngx.exit(502)
            elseif mode == "busy" then
                ngx.exit(-3) -- NGX_BUSY, which ngx has no name for
            elseif mode == "declined" then
                ngx.exit(ngx.DECLINED)
            elseif mode == "timeout" then
                assert(b.set_timeouts(nil, nil, 0.1))
                assert(b.set_current_peer("127.0.0.1", port))
            elseif mode == "badtimeout" then
                b.set_timeouts(-1)
            elseif mode == "apis" then
                for _, f in ipairs{
                    function() ngx.sleep(0.001) end,
                    function() ngx.say("x") end,
                    function() return ngx.socket.tcp() end,
                    function() return ngx.location.capture("/back") end,
                    function() return ngx.req.get_headers()["host"] end,
                    function() return ngx.req.get_method(), ngx.var.uri, ngx.ctx.x end,
                    function() return ngx.timer.at(0, function() end) end,
                    function() return ngx.redirect("/x") end,
                    function() return ngx.exec("/x") end,
                    function() return ngx.req.read_body() end,
                    function() return ngx.on_abort(function() end) end,
                    function() return ngx.thread.spawn(function() end) end,
                } do
                    ngx.log(ngx.WARN, "api: ", select(2, pcall(f)))
                end
                assert(b.set_current_peer("127.0.0.1", port))
            elseif mode == "recreate" then
                local state = b.get_last_failure()
                ngx.req.set_header("X-Try", state and "second" or "first")
                ngx.log(ngx.WARN, "recreate: ", b.recreate_request())
                if not state then
                    assert(b.set_more_tries(1))
                    assert(b.set_current_peer("127.0.0.1", 1))
                else
                    assert(b.set_current_peer("127.0.0.1", port))
                end
            end
        }
    }
    upstream backend_ka {
        server 127.0.0.1:1;
        balancer_by_lua_block {
            assert(require("ngx.balancer").set_current_peer("127.0.0.1", tonumber(ngx.var.server_port)))
        }
        keepalive 4;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location /ka {
            proxy_pass http://backend_ka/conn;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_ignore_client_abort on;
        }
        location /conn { return 200 "$connection"; }
        location /t {
            proxy_pass http://backend/back;
            proxy_ignore_client_abort on; # the test client half-closes
            log_by_lua_block {
                local ok, err = require("ngx.balancer").set_current_peer("127.0.0.1", 80)
                ngx.log(ngx.WARN, "in log: ", ok, " ", err, " upstream ", ngx.var.upstream_addr)
            }
        }
        location /back {
            content_by_lua_block {
                if ngx.var.arg_mode == "timeout" then ngx.sleep(0.5) end
                ngx.say("back ", ngx.var.arg_mode, " ", ngx.var.http_x_try)
            }
        }
        location /content {
            content_by_lua_block {
                ngx.say(require("ngx.balancer").set_current_peer("127.0.0.1", 80))
            }
        }
    }
%%HTTP_GLOBALS%%
}
`, "lua")
	warn := regexp.MustCompile(`\[(?:warn|error)\] \d+#\d+: \*\d+ (.*?)(?:, client: |\n)`)
	// the log phase runs after the response left: wait for its line.
	lines := func(s *nginxtest.Server, from int) string {
		var out []string
		log := s.ErrorLog()
		for i := 0; i < 100 && !strings.Contains(log[from:], "in log: "); i++ {
			time.Sleep(10 * time.Millisecond)
			log = s.ErrorLog()
		}
		port := s.Addr[strings.LastIndexByte(s.Addr, ':'):]
		for _, m := range warn.FindAllStringSubmatch(log[from:], -1) {
			out = append(out, strings.ReplaceAll(m[1], port, ":PORT"))
		}
		return strings.Join(out, "\n")
	}
	for _, mode := range []string{"direct", "portstr", "retry", "tries", "name", "badport", "error", "exit",
		"exit502", "busy", "timeout", "fallback", "badtimeout", "recreate", "apis"} {
		ngFrom, grFrom := len(p.Nginx.ErrorLog()), len(p.Gresty.ErrorLog())
		ng, gr := p.Do(t, "GET /t?mode="+mode+" HTTP/1.0\r\nHost: localhost\r\n\r\n")
		if ng.Status != gr.Status || string(ng.Body) != string(gr.Body) {
			t.Errorf("%s: nginx %d %q, gresty %d %q", mode, ng.Status, ng.Body, gr.Status, gr.Body)
		}
		if mode == "recreate" && string(gr.Body) != "back recreate second\n" {
			t.Errorf("recreate: the retry sent %q", gr.Body)
		}
		a, b := lines(p.Nginx, ngFrom), lines(p.Gresty, grFrom)
		if a != b {
			t.Errorf("%s: log lines differ\nnginx:\n%s\ngresty:\n%s", mode, a, b)
		}
	}
	// ngx.exit(ngx.DECLINED) sends nginx round in circles (the declined
	// try is not counted, so it tries again at once, for ever); gresty
	// counts it and answers 502 when the tries are spent.
	from := len(p.Gresty.ErrorLog())
	if r := difftest.Fetch(t, p.Gresty.Addr, "GET /t?mode=declined HTTP/1.0\r\nHost: localhost\r\n\r\n"); r.Status != 502 {
		t.Errorf("declined: gresty answered %d", r.Status)
	}
	if n := strings.Count(lines(p.Gresty, from), "mode declined"); n != 1 {
		t.Errorf("declined: the balancer ran %d times:\n%s", n, lines(p.Gresty, from))
	}
	// the keepalive cache keeps the connections to the peers Lua names.
	reused := func(s *nginxtest.Server) bool {
		a := difftest.Fetch(t, s.Addr, "GET /ka HTTP/1.0\r\nHost: localhost\r\n\r\n")
		b := difftest.Fetch(t, s.Addr, "GET /ka HTTP/1.0\r\nHost: localhost\r\n\r\n")
		return a.Status == 200 && string(a.Body) == string(b.Body)
	}
	if !reused(p.Nginx) || !reused(p.Gresty) {
		t.Errorf("keepalive: nginx reused %v, gresty reused %v", reused(p.Nginx), reused(p.Gresty))
	}
	ng, gr := p.Do(t, "GET /content HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if string(ng.Body) != "nilno upstream found\n" || string(gr.Body) != string(ng.Body) {
		t.Errorf("content: nginx %q, gresty %q", ng.Body, gr.Body)
	}
}

// balancer_by_lua's configuration checks match ngx_lua's: a second one in
// a block is a duplicate, one after another balancing method (or before
// it) redefines it with a warning, it is allowed in upstream blocks only,
// and it wants code.
func TestBalancerByLuaConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		`http { upstream u { server 127.0.0.1:1; balancer_by_lua_block { return } balancer_by_lua_block { return } } }`,
		`http { upstream u { server 127.0.0.1:1; balancer_by_lua_block { return } balancer_by_lua_file a.lua; } }`,
		`http { upstream u { server 127.0.0.1:1; least_conn; balancer_by_lua_block { return } } }`,
		`http { upstream u { server 127.0.0.1:1; balancer_by_lua_block { return } ip_hash; } }`,
		`http { upstream u { server 127.0.0.1:1 backup; balancer_by_lua_block { return } } }`,
		`http { upstream u { server 127.0.0.1:1; balancer_by_lua_block { return } keepalive 8; } }`,
		`http { server { location / { balancer_by_lua_block { return } } } }`,
		`http { upstream u { server 127.0.0.1:1; balancer_by_lua_block { } } }`,
		`http { upstream u { server 127.0.0.1:1; balancer_by_lua_file a.lua b; } }`,
	} {
		nginxtest.CheckConfig(t, conf, "lua")
	}
}
