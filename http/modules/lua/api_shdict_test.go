package lua_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"gresty/internal/difftest"
	"gresty/internal/nginxtest"
)

// shdPrelude is prepended to every snippet: show prints how many values
// came back and each of them.
const shdPrelude = `
local function show(...)
    local out = {select("#", ...)}
    for i = 1, select("#", ...) do out[#out + 1] = tostring((select(i, ...))) end
    ngx.say(table.concat(out, " "))
end
local function try(f, ...) show(pcall(f, ...)) end
`

// shdDicts are the dicts the snippets share; each snippet whose outcome
// depends on memory has one of its own.
const shdDicts = `
lua_shared_dict dogs 1m;
lua_shared_dict cats 1m;
lua_shared_dict small 16k;
lua_shared_dict evict 100k;
lua_shared_dict lists 32k;
lua_shared_dict s100k 100k;
lua_shared_dict s64k 64k;
lua_shared_dict s32k 32k;
lua_shared_dict s200k 200k;
`

// shdConf serves each snippet at /s<i> and each scenario file of
// shdict/testdata at /scen/<name>. The temp-path globals go last so the
// snippets' chunk names (which carry configuration lines) are the same on
// both servers.
func shdConf(t *testing.T, snippets []string, scenarios []string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("http {\n" + shdDicts + "server {\nlisten 127.0.0.1:%%PORT%%;\n")
	for i, s := range snippets {
		fmt.Fprintf(&b, "location = /s%d {\ncontent_by_lua_block {\n%s\n%s\n}\n}\n", i, shdPrelude, s)
	}
	for _, name := range scenarios {
		path, err := filepath.Abs(filepath.Join("shdict", "testdata", name+".lua"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "location = /scen/%s {\ncontent_by_lua_file %s;\n}\n", name, path)
	}
	b.WriteString("}\n%%HTTP_GLOBALS%%\n}\n")
	return b.String()
}

// TestSharedDictMatchesNginx runs the shdict API against Debian's
// OpenResty: return values and errors, expiry, flags, lists, eviction
// and the memory accounting behind "no memory", forcible and
// free_space().
func TestSharedDictMatchesNginx(t *testing.T) {
	snippets := []string{
		// values, flags and how many results each call returns
		`local d = ngx.shared.dogs
		show(d:set("int", 32)) show(d:get("int"))
		show(d:set("float", 3.25, 0, 7)) show(d:get("float"))
		show(d:set("t", true)) show(d:get("t")) show(d:set("f", false)) show(d:get("f"))
		show(d:set("s", "hello", 0, -1)) show(d:get("s"))
		show(d:set("empty", "")) show(d:get("empty"))
		show(d:get("missing")) show(d:get_stale("missing"))
		show(d:set(12, "twelve")) show(d:get(12.0)) show(d:get("12"))
		show(d:set(true, "bool key")) show(d:get("true"))
		show(d:set("big flags", 1, 0, 2^32 + 3)) show(d:get("big flags"))
		show(d:set("frac flags", 1, 0, 1.7)) show(d:get("frac flags"))
		show(d:set("true flags", 1, 0, true)) show(d:get("true flags"))
		show(d:set("nan ttl", 1, 0/0)) show(d:ttl("nan ttl"))`,
		// argument errors returned
		`local d = ngx.shared.dogs
		show(d:set(nil, 1)) show(d:set("", 1)) show(d:set(string.rep("k", 65536), 1))
		show(d:set(string.rep("k", 65535), 1)) show(d:get(string.rep("k", 65535)))
		show(d:get(nil)) show(d:get("")) show(d:get_stale(nil)) show(d:incr(nil, 1))
		show(d:ttl("")) show(d:expire(nil, 1)) show(d:set("k", {})) show(d:set("k", print))
		show(d:add("k", nil)) show(d:replace("k", nil)) show(d:safe_add("k", nil))
		show(d:delete(nil)) show(d:delete("never"))`,
		// argument errors raised
		`local d = ngx.shared.dogs
		try(d.set, d, "k", 1, -1) try(d.set, d, "k", 1, "5") try(d.set, d, "k", 1, true)
		try(d.set, d, "k", 1, {}) try(d.set, d, nil, 1, -1) try(d.set, d, "k", 1, 0, "x")
		try(d.set, d, "k", 1, 0, {}) try(d.set, d, nil, 1, 0, "x")
		try(d.get) try(d.get, nil, "k") try(d.get, {}, "k") try(d.get, {1}, "k") try(d.get, "dogs", "k")
		try(d.incr, d, "k", nil) try(d.incr, d, "k", "abc") try(d.incr, d, "k", 1, true)
		try(d.incr, d, "k", 1, nil, 5) try(d.incr, d, "k", 1, 0, -1) try(d.incr, d, "k", 1, 0, "x")
		try(d.incr, d, "k", 1, 0, false) try(d.expire, d, "k") try(d.expire, d, "k", false)
		try(d.expire, d, "k", "x") try(d.expire, d, "k", {}) try(d.expire, d, nil, 1)
		try(d.flush_all) try(d.capacity, {}) try(d.free_space, nil) try(d.ttl, {}, "k")
		try(function() d:set("k", 1, -1) end)
		try(function() return d.get({}, "k") end)
		try(function() local x = d.get({}, "k") return x end)`,
		// add, replace, safe_* and incr
		`local d = ngx.shared.dogs
		show(d:add("a", 1)) show(d:add("a", 2)) show(d:safe_add("a", 3)) show(d:get("a"))
		show(d:replace("a", "one")) show(d:replace("nope", 1)) show(d:get("a"))
		show(d:safe_set("a", 10)) show(d:incr("a", 5)) show(d:incr("a", -2.5)) show(d:incr("a", "4"))
		show(d:incr("a", 1, 100)) show(d:incr("nope", 1)) show(d:incr("c", 2, 10)) show(d:incr("c", 2, "10"))
		show(d:incr("c2", 1, 0, 3)) show(d:ttl("c2")) show(d:incr("c2", 1, 0, 100)) show(d:ttl("c2"))
		show(d:incr("c3", 1, 0, "2")) show(d:ttl("c3")) show(d:incr("c4", 1, false, nil))
		show(d:incr("s", 1)) show(d:set("s", "x")) show(d:incr("s", 1)) show(d:incr("s", 1, 0))
		show(d:incr("t", 1)) show(d:incr("f", 1))`,
		// ttl, expire and stale values
		`local d = ngx.shared.dogs
		show(d:set("e1", "v", 10)) show(d:ttl("e1")) show(d:expire("e1", 2.5)) show(d:ttl("e1"))
		show(d:expire("e1", 0)) show(d:ttl("e1")) show(d:expire("e1", -3)) show(d:ttl("e1"))
		show(d:expire("nope", 1)) show(d:ttl("nope")) show(d:expire("e1", "7")) show(d:ttl("e1"))
		show(d:set("e2", 42, 0.001, 9))
		ngx.sleep(0.01)
		show(d:get_stale("e2")) show(d:get("e2")) show(d:get_stale("e2"))
		show(d:set("e3", 1, 0.001)) show(d:set("e4", 2))
		ngx.sleep(0.01)
		show(d:add("e3", "x")) show(d:get("e3")) show(d:replace("e4", 5)) show(d:get("e4"))
		show(d:set("e5", 1, 0.001)) ngx.sleep(0.01) show(d:replace("e5", 2))`,
		// flush_all, flush_expired and get_keys
		`local d = ngx.shared.cats
		for i = 1, 10 do d:set("k" .. i, i) end
		show(table.concat(d:get_keys(), ",")) show(table.concat(d:get_keys(3), ","))
		show(table.concat(d:get_keys(0), ",")) show(#d:get_keys(-1))
		d:get("k2")
		show(table.concat(d:get_keys(), ","))
		d:flush_all()
		show(#d:get_keys(), d:get("k5"), d:get_stale("k5"), d:get_stale("k1"))
		show(d:flush_expired(2)) show(d:flush_expired()) show(d:flush_expired())
		for i = 1, 5 do d:set("x" .. i, i, 0.001) end
		d:set("keep", 1)
		ngx.sleep(0.01)
		show(#d:get_keys()) show(d:flush_expired(0))
		try(d.get_keys) try(d.get_keys, d, 1, 2) try(d.get_keys, d, "a") try(d.get_keys, 1)
		try(d.flush_expired, d, "x") try(d.get_keys, {})
		show(#d:get_keys("2"))`,
		// lists
		`local d = ngx.shared.lists
		show(d:lpush("l", 1)) show(d:rpush("l", "two")) show(d:lpush("l", 0.5)) show(d:llen("l"))
		show(d:get("l")) show(d:incr("l", 1)) show(d:set("l2", 1)) show(d:lpush("l2", 1))
		show(d:lpop("l2")) show(d:llen("l2"))
		show(d:lpop("l")) show(d:rpop("l")) show(d:rpop("l")) show(d:rpop("l")) show(d:llen("l"))
		show(d:lpush("l", true)) show(d:lpush("l", nil)) show(d:lpush(nil, 1)) show(d:lpush("", 1))
		show(d:lpush(5, "x")) show(d:lpop(5)) show(d:lpop("nope")) show(d:llen("nope"))
		try(d.lpush, d, "l") try(d.lpush, d, "l", 1, 2) try(d.lpop, d) try(d.llen, d, "a", "b")
		try(d.lpush, nil, "l", 1) try(d.lpush, {}, "l", 1) try(d.lpush, d, {}, 1) try(d.rpop, d, true)
		show(d:rpush("tl", 1)) show(d:expire("tl", 0.001)) ngx.sleep(0.01)
		show(d:llen("tl")) show(d:rpush("tl", 2)) show(d:ttl("tl")) show(d:lpop("tl"))
		show(d:set("ts", "str", 0.001)) ngx.sleep(0.01) show(d:rpush("ts", 3)) show(d:rpop("ts"))
		show(d:lpush("big", string.rep("x", 40000)))
		show(d:free_space())`,
		// forcible eviction, LRU order and safe_set under pressure
		`local d = ngx.shared.evict
		local i = 0
		repeat
			i = i + 1
			if i == 10 then d:get("key_1") end
			local ok, err, forcible = d:set("key_" .. i, string.rep(" hello", 10) .. i)
		until not ok or forcible
		show(i, d:get("key_1") ~= nil, d:get("key_2") ~= nil, d:free_space())
		show(d:safe_set("new", string.rep("z", 200))) show(d:safe_add("new2", string.rep("z", 200)))
		show(d:set("huge", string.rep("h", 200000))) show(d:get("huge"))
		show(d:set("key_3", string.rep("h", 200000))) show(d:get("key_3"))
		show(d:incr("fresh", 1, 0)) show(d:capacity())`,
		// small zone: one free page
		`local d = ngx.shared.small
		show(d:free_space(), d:capacity())
		show(d:set("a", string.rep("x", 3000))) show(d:free_space())
		show(d:set("b", string.rep("x", 3000))) show(d:get("a") ~= nil) show(d:free_space())
		show(d:safe_set("c", string.rep("x", 5000))) show(d:set("c", string.rep("x", 5000)))
		show(d:get("b") ~= nil)`,
		// the shared tables themselves
		`local d = ngx.shared.dogs
		show(type(d), type(ngx.shared), ngx.shared.nonexistent, rawget(d, 1) ~= nil, type(rawget(d, 1)))
		local mt = getmetatable(d)
		show(mt == getmetatable(ngx.shared.cats), mt.__index == mt, type(mt.get), type(mt.lpush))
		show(d.get == ngx.shared.cats.get)
		local n = 0 for k in pairs(ngx.shared) do n = n + 1 end show(n)
		show(ngx.shared.cats:get("int"), ngx.shared.dogs:get("int"))`,
	}
	scenarios := []string{"fill-100k", "mixed-64k", "lists-32k", "pages-200k"}
	p := difftest.Start(t, shdConf(t, snippets, scenarios), "lua")
	var paths []string
	for i := range snippets {
		paths = append(paths, "/s"+strconv.Itoa(i))
	}
	for _, name := range scenarios {
		paths = append(paths, "/scen/"+name)
	}
	for _, path := range paths {
		ng, gr := p.Do(t, "GET "+path+" HTTP/1.0\r\n\r\n")
		if ng.Status != 200 {
			t.Fatalf("%s: nginx answers %d:\n%s", path, ng.Status, p.Nginx.ErrorLog())
		}
		if diffs := difftest.Diff(ng, gr); len(diffs) > 0 {
			t.Errorf("%s: gresty differs from nginx:\n  %s", path, strings.Join(diffs, "\n  "))
		}
	}
}

// TestSharedDictErrorsAbortTheHandler checks that the errors raised out
// of the handler end it with a 500 and the message in the error log.
func TestSharedDictErrorsAbortTheHandler(t *testing.T) {
	cases := []struct{ code, log string }{
		{`ngx.shared.dogs:set("k", 1, -1)`, `bad "exptime" argument`},
		{`ngx.shared.dogs.get({1}, "k")`, `bad "zone" argument`},
		{`ngx.shared.dogs.incr({1}, "k", 1)`, `bad "zone" argument`},
		{`ngx.shared.dogs:incr("k", 1, "x")`, `bad init arg: number expected, got string`},
		{`local n = ngx.null n:set("k", 1)`, `attempt to index local 'n' (a userdata value)`},
	}
	var snippets []string
	for _, c := range cases {
		snippets = append(snippets, c.code)
	}
	p := difftest.Start(t, shdConf(t, snippets, nil), "lua")
	for i, c := range cases {
		p.Check(t, c.code, "GET /s"+strconv.Itoa(i)+" HTTP/1.0\r\n\r\n")
		for _, s := range []*nginxtest.Server{p.Nginx, p.Gresty} {
			if !strings.Contains(s.ErrorLog(), c.log) {
				t.Errorf("%s: %s's error log lacks %q", c.code, filepath.Base(s.Prefix), c.log)
			}
		}
	}
}

var shdLogLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*)$`)

// TestSharedDictConfigMatchesNginx compares "-t" on lua_shared_dict
// mistakes, including a zone too small for nginx to set up.
func TestSharedDictConfigMatchesNginx(t *testing.T) {
	cases := []struct{ name, conf string }{
		{"fine", "lua_shared_dict dogs 12k;\n"},
		{"too small to set up", "lua_shared_dict dogs 8k;\n"},
		{"too small", "lua_shared_dict dogs 8191;\n"},
		{"bad size", "lua_shared_dict dogs 1q;\n"},
		{"empty name", "lua_shared_dict \"\" 1m;\n"},
		{"duplicate", "lua_shared_dict dogs 1m;\nlua_shared_dict dogs 2m;\n"},
		{"one argument", "lua_shared_dict dogs;\n"},
		{"in server", "server {\nlua_shared_dict dogs 1m;\n}\n"},
		{"too small after another error", "lua_shared_dict dogs 8k;\nlua_shared_dict cats 1q;\n"},
	}
	checkConfigsMatchNginx(t, cases)
}

// checkConfigsMatchNginx runs "-t" with each http block on nginx with
// ngx_lua and on gresty and compares the messages and exit codes.
func checkConfigsMatchNginx(t *testing.T, cases []struct{ name, conf string }) {
	checkStartsMatchNginx(t, cases, "-t", "-q")
}

// checkStartsMatchNginx runs each http block with args on nginx with
// ngx_lua and on gresty and compares the messages and exit codes.
func checkStartsMatchNginx(t *testing.T, cases []struct{ name, conf string }, args ...string) {
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			cf := filepath.Join(dir, "nginx.conf")
			text := nginxtest.LoadModule("lua") + "events {}\nhttp {\n" + c.conf + "}\n"
			if err := os.WriteFile(cf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(bin string) (string, int) {
				cmd := exec.Command(bin, append(args, "-p", dir+"/", "-c", cf, "-e", "stderr")...)
				out, _ := cmd.CombinedOutput()
				var m []string
				for _, s := range shdLogLine.FindAllStringSubmatch(string(out), -1) {
					m = append(m, s[1]+": "+strings.ReplaceAll(s[2], dir, "DIR"))
				}
				// the lines that follow a message (a traceback)
				for _, l := range strings.Split(string(out), "\n") {
					if strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "stack traceback:") {
						m = append(m, l)
					}
				}
				return strings.Join(m, "\n"), cmd.ProcessState.ExitCode()
			}
			nOut, nCode := run(ngx)
			gOut, gCode := run(gr)
			if nCode != gCode || nOut != gOut {
				t.Errorf("nginx (exit %d):\n%s\ngresty (exit %d):\n%s", nCode, nOut, gCode, gOut)
			}
		})
	}
}

// TestLuaBlockConfigMatchesNginx compares "-t" on *_by_lua_block blocks
// the block reader rejects, where the directive itself may also be wrong.
func TestLuaBlockConfigMatchesNginx(t *testing.T) {
	checkConfigsMatchNginx(t, []struct{ name, conf string }{
		{"long string", "server {\nlocation /t {\ncontent_by_lua_block {\nngx.say([[hello\n}\n}\n}\n"},
		{"long comment", "server {\nlocation /t {\naccess_by_lua_block {\n--[==[ x ]]\n}\n}\n}\n"},
		{"not allowed here", "content_by_lua_block {\nngx.say([[x)\n}\n"},
		{"duplicate", "server {\nlocation /t {\ncontent_by_lua_block { ngx.say(1) }\ncontent_by_lua_block {\nx = [[\n}\n}\n}\n"},
		{"end of file", "server {\nlocation /t {\ncontent_by_lua_block {\nngx.say(1)\n"},
	})
}

// TestLowatMatchesNginx compares the low-water-mark directives, which
// Linux cannot honour: each is checked and ignored with a warning.
func TestLowatMatchesNginx(t *testing.T) {
	checkConfigsMatchNginx(t, []struct{ name, conf string }{
		{"all three", "send_lowat 1k;\nproxy_send_lowat 2k;\nlua_socket_send_lowat 3k;\n"},
		{"invalid", "server {\nsend_lowat big;\n}\n"},
	})
}

// TestInitByLuaFailureMatchesNginx starts servers whose init_by_lua
// fails: the message (at level error, a runtime error's with its
// traceback) and the exit; "-t" does not run the code at all.
func TestInitByLuaFailureMatchesNginx(t *testing.T) {
	cases := []struct{ name, conf string }{
		{"runtime error", "init_by_lua_block {\nerror(\"failed to init\")\n}\n"},
		{"syntax error", "init_by_lua_block {\nngx.log(ngx.debug, \"pass\")\nerror(\"x\"\nngx.log(ngx.debug, \"y\")\n}\n"},
		{"error object", "init_by_lua 'error({})';\n"},
		{"missing file", "init_by_lua_file html/none.lua;\n"},
	}
	checkStartsMatchNginx(t, cases, "-g", "daemon off; master_process off;")
	checkConfigsMatchNginx(t, cases)
}

// TestSharedDictSurvivesReload reloads gresty with SIGHUP onto a
// configuration that keeps one dict's size and changes another's: the
// first keeps its contents, the second starts empty. The expected answers
// are Debian's nginx's in the same steps (master_process on, which
// nginxtest's single-process servers cannot do: nginx reloads properly
// only with a master process).
func TestSharedDictSurvivesReload(t *testing.T) {
	conf := func(cats string) string {
		return "http {\nlua_shared_dict dogs 1m;\nlua_shared_dict cats " + cats + ";\n" +
			"lua_shared_dict fresh 1m;\n" +
			"server {\nlisten 127.0.0.1:%%PORT%%;\n" +
			"location = /set {\ncontent_by_lua_block {\n" +
			"ngx.shared.dogs:set(\"foo\", 32) ngx.shared.cats:set(\"foo\", 33) ngx.shared.dogs:lpush(\"l\", \"x\")\n" +
			"ngx.say(\"set\")\n}\n}\n" +
			"location = /get {\ncontent_by_lua_block {\n" +
			"ngx.say(ngx.shared.dogs:get(\"foo\"), \" \", ngx.shared.cats:get(\"foo\"), \" \", ngx.shared.dogs:llen(\"l\"), \" \", ngx.shared.fresh:get(\"foo\"))\n" +
			"ngx.shared.fresh:set(\"foo\", 1)\n}\n}\n}\n}\n"
	}
	s := nginxtest.StartGresty(t, conf("1m"), "lua")
	get := func() string {
		return string(difftest.Fetch(t, s.Addr, "GET /get HTTP/1.0\r\n\r\n").Body)
	}
	difftest.Fetch(t, s.Addr, "GET /set HTTP/1.0\r\n\r\n")
	if got := get(); got != "32 33 1 nil\n" {
		t.Fatalf("before reload: %q", got)
	}
	shdReload(t, s, conf("2m"))
	for i := 0; i < 2; i++ {
		if got := get(); got != "32 nil 1 1\n" {
			t.Fatalf("after reload: %q", got)
		}
	}
}

// shdReload rewrites a running server's configuration with the new http
// block (as nginxtest wrote the first) and sends it SIGHUP, then waits
// for the reload to be done.
func shdReload(t *testing.T, s *nginxtest.Server, httpBlock string) {
	t.Helper()
	cf := filepath.Join(s.Prefix, "conf", "nginx.conf")
	old, err := os.ReadFile(cf)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(old), "http {")
	globals := regexp.MustCompile(`(?m)^(client_body_temp_path|\w+_temp_path|access_log) .*$`).FindAllString(string(old), -1)
	body := strings.Replace(httpBlock, "%%PORT%%", strconv.Itoa(s.Port), 1)
	body = strings.Replace(body, "http {\n", "http {\n"+strings.Join(globals, "\n")+"\n", 1)
	if err := os.WriteFile(cf, []byte(string(old[:i])+body), 0o644); err != nil {
		t.Fatal(err)
	}
	pidText, err := os.ReadFile(filepath.Join(s.Prefix, "logs", "nginx.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(pidText)))
	if err != nil {
		t.Fatal(err)
	}
	before := strings.Count(s.ErrorLog(), "reconfiguring")
	// gresty starts listening a moment before it handles signals; a
	// SIGHUP in between would end it.
	time.Sleep(300 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(s.ErrorLog(), "reconfiguring") == before {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reload:\n%s", filepath.Base(s.Prefix), s.ErrorLog())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// the new configuration takes over once the reload is logged.
	time.Sleep(200 * time.Millisecond)
}

// TestSharedDictReadmeExample serves the README's example and checks the
// cached page stays the same across requests.
func TestSharedDictReadmeExample(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("shdict", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("no nginx example in the README")
	}
	conf := strings.Replace(string(m[1]), "server {", "server {\nlisten 127.0.0.1:%%PORT%%;", 1)
	s := nginxtest.StartGresty(t, conf, "lua")
	first := difftest.Fetch(t, s.Addr, "GET / HTTP/1.0\r\n\r\n")
	if first.Status != 200 || string(first.Body) != "build 1\n" {
		t.Fatalf("first answer: %d %q\n%s", first.Status, first.Body, s.ErrorLog())
	}
	if again := difftest.Fetch(t, s.Addr, "GET / HTTP/1.0\r\n\r\n"); string(again.Body) != string(first.Body) {
		t.Fatalf("second answer %q, want the cached %q", again.Body, first.Body)
	}
}
