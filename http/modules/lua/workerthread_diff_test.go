package lua_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// ngx.run_worker_thread compared with OpenResty: a module's function runs
// in a VM of its own with ngx's codecs, ngx.re, ngx.config and shared
// dicts, gets its arguments and gives its results as copies (nested
// tables, nil, ngx.null), and every refusal (pool, module, function,
// argument and result types, missing arguments, the VM pool's size, the
// phase) answers false and ngx_lua's message.
func TestRunWorkerThreadMatchesOpenResty(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"wt.lua": `
local function echo(...) return ... end
local function api(s)
    local m = ngx.re.match(s, [[(\d+)]])
    ngx.shared.d:set("k", s)
    return ngx.encode_base64(s), ngx.md5(s), ngx.crc32_long(s), m and m[1], ngx.config.subsystem,
        ngx.shared.d:get("k"), ngx.encode_args({a = 1}), ngx.quote_sql_str(s), type(ngx.say), type(ngx.var)
end
local function nested(t) return t.a.b[2] .. t.list[3] end
local function bad() return function() end end
local function boom() error("boom") end
local function slow() os.execute("sleep 0.2") return "slow" end
return {echo = echo, api = api, nested = nested, bad = bad, boom = boom, slow = slow, notfn = 1}
`,
		"notable.lua": `return "x"`,
		"broken.lua":  `return {`,
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := difftest.Start(t, fmt.Sprintf(`
thread_pool tp threads=4;
thread_pool one threads=1 max_queue=1;
thread_pool none threads=1 max_queue=0;
http {
    lua_package_path "%s/?.lua;;";
    lua_shared_dict d 1m;
    lua_worker_thread_vm_pool_size 2;
    server {
        listen 127.0.0.1:%%%%PORT%%%%;
        location /t {
            content_by_lua_block {
                local function show(...)
                    local out = {}
                    for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end
                    ngx.say(table.concat(out, " "))
                end
                show(ngx.run_worker_thread("tp", "wt", "echo", 1, "two", true, nil, ngx.null))
                show(ngx.run_worker_thread("tp", "wt", "api", "abc123"))
                show(ngx.run_worker_thread("tp", "wt", "nested", {a = {b = {"x", "y"}}, list = {1, 2, "z"}}))
                show(type(select(2, ngx.run_worker_thread("tp", "wt", "echo", {t = {}}))))
                show(ngx.run_worker_thread("tp", "wt", "bad"))
                show(ngx.run_worker_thread("tp", "wt", "boom"))
                show(ngx.run_worker_thread("tp", "wt", "echo", print))
                show(ngx.run_worker_thread("tp", "wt", "echo", {f = print}))
                show(ngx.run_worker_thread("tp", "wt", "notfn"))
                show(ngx.run_worker_thread("tp", "wt", "missing"))
                show(ngx.run_worker_thread("tp", "notable", "x"))
                show(ngx.run_worker_thread("nope", "wt", "echo"))
                show(ngx.run_worker_thread("tp", "wt"))
                show(ngx.run_worker_thread({}, "wt", "echo"))
                show(ngx.run_worker_thread("tp", {}, "echo"))
                show(ngx.run_worker_thread("tp", "wt", {}))
                show(ngx.shared.d:get("k"))
                -- two VMs at most: the third concurrent call finds none
                local ths = {}
                for i = 1, 3 do
                    ths[i] = ngx.thread.spawn(function() return ngx.run_worker_thread("tp", "wt", "slow") end)
                end
                for i = 1, 3 do show(ngx.thread.wait(ths[i])) end
                -- a pool of one thread queues one task more
                for i = 1, 2 do
                    ths[i] = ngx.thread.spawn(function() return ngx.run_worker_thread("one", "wt", "slow") end)
                end
                for i = 1, 2 do show(ngx.thread.wait(ths[i])) end
                -- with max_queue=0 the idle thread still takes one
                show(ngx.run_worker_thread("none", "wt", "echo", "q"))
            }
        }
        location /noyield {
            content_by_lua_block {
                for i = 1, 3 do
                    ngx.say(pcall(table.sort, {1, 2, 3}, function(a, b)
                        ngx.run_worker_thread("tp", "wt", "echo", 1)
                        return a < b
                    end))
                end
                ngx.say(ngx.run_worker_thread("tp", "wt", "echo", "after"))
            }
        }
        location /phase {
            content_by_lua_block { ngx.say("content") }
            header_filter_by_lua_block {
                ngx.header["X-R"] = select(2, pcall(ngx.run_worker_thread, "tp", "wt", "echo", 1))
            }
        }
    }
}
`, dir), "lua")
	ng, gr := p.Do(t, "GET /t HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if ng.Status != 200 || string(ng.Body) != string(gr.Body) {
		t.Errorf("nginx %d:\n%s\ngresty %d:\n%s\n%s", ng.Status, ng.Body, gr.Status, gr.Body, p.Gresty.ErrorLog())
	}
	// A caller that cannot wait fails before it takes a VM. ngx_lua
	// loses the VM (it answers "no available Lua vm" once the pool's
	// VMs are gone); gresty keeps it.
	r := difftest.Fetch(t, p.Gresty.Addr, "GET /noyield HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if body := string(r.Body); strings.Count(body, "false") != 3 || !strings.HasSuffix(body, "trueafter\n") {
		t.Errorf("a non-yieldable caller: %q", body)
	}
	ng, gr = p.Do(t, "GET /phase HTTP/1.0\r\nHost: localhost\r\n\r\n")
	if nv, gv := ng.Header.Get("X-R"), gr.Header.Get("X-R"); nv != gv || nv == "" {
		t.Errorf("header filter: nginx %q, gresty %q", nv, gv)
	}
}

// thread_pool's checks are nginx's.
func TestThreadPoolConfigMatchesNginx(t *testing.T) {
	for _, conf := range []string{
		"thread_pool a threads=2 max_queue=3 other=1;\nhttp {}",
		"thread_pool a;\nhttp {}",
		"thread_pool a threads=0;\nhttp {}",
		"thread_pool a threads=x;\nhttp {}",
		"thread_pool a threads=1 max_queue=x;\nhttp {}",
		"thread_pool a threads=1;\nthread_pool a threads=2;\nhttp {}",
	} {
		nginxtest.CheckConfig(t, conf)
	}
}
