package luavm

import (
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

type schedCase struct {
	name string
	src  string
	out  string // expected output lines, joined by "|"
	st   Status
	err  string // substring of the entry thread's error
}

func runSchedCases(t *testing.T, cases []schedCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSched(t, Options{})
			defer s.vm.Close()
			out, st, msg := s.run(c.src)
			got := strings.ReplaceAll(strings.TrimSuffix(out, "\n"), "\n", "|")
			if got != c.out {
				t.Errorf("output\n got %q\nwant %q", got, c.out)
			}
			if st != c.st {
				t.Errorf("status %v, want %v (error %q)", st, c.st, msg)
			}
			if c.err != "" && !strings.Contains(msg, c.err) || c.err == "" && msg != "" {
				t.Errorf("error %q, want it to contain %q", msg, c.err)
			}
			if len(s.waiting) != 0 {
				t.Errorf("%d waits left over", len(s.waiting))
			}
		})
	}
}

// Each gopher-lua trap the runtime works around, pinned.
func TestTraps(t *testing.T) {
	runSchedCases(t, []schedCase{
		// L1: a yield from a tail-called Go function used to be lost.
		{name: "L1 return sleep", src: `say("a") return sleep(1)`, out: "a", st: Done},
		{name: "L1 tail call chain", src: `local function f() return sleep(2) end local v = f() say(v) return f()`,
			out: "slept:2", st: Done},
		{name: "L1 result values", src: `local function f() return sleep("x") end say(f(), "after")`,
			out: "slept:xafter", st: Done},
		{name: "L1 method tail call", src: `local o = {s = sleep} function o:go() return self.s(3) end say(o:go())`,
			out: "slept:3", st: Done},
		// L2: pcall and xpcall are yieldable.
		{name: "L2 pcall", src: `say(pcall(sleep, 1))`, out: "trueslept:1", st: Done},
		{name: "L2 xpcall", src: `say(xpcall(sleep, print, 2))`, out: "trueslept:2", st: Done},
		// L3: yields from places that cannot yield fail cleanly.
		{name: "L3 gsub", src: `string.gsub("ab", "%w", function(c) sleep(c) end)`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 sort", src: `table.sort({3, 1, 2}, function(a, b) sleep(1) return a < b end)`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 __index", src: `local t = setmetatable({}, {__index = function(_, k) return sleep(k) end}) say(t.x)`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 __add", src: `local t = setmetatable({}, {__add = function() return sleep(1) end}) say(t + 1)`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 __concat", src: `local t = setmetatable({}, {__concat = function() return sleep(1) end}) say(t .. "x")`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 iterator", src: `for x in function() return sleep(1) end do break end`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 gmatch iterator body", src: `for w in string.gmatch("a b", "%a") do say(sleep(w)) end`,
			out: "slept:a|slept:b", st: Done},
		{name: "L3 tostring", src: `local t = setmetatable({}, {__tostring = function() return sleep(1) end}) say(tostring(t))`,
			st: Failed, err: "attempt to yield across C-call boundary"},
		{name: "L3 caught by pcall", src: `say(pcall(string.gsub, "a", "%w", function() sleep(1) end)) say("still running")`,
			out: "falseattempt to yield across C-call boundary|still running", st: Done},
		{name: "L3 __call is fine", src: `local c = setmetatable({}, {__call = function(_, x) return sleep(x) end}) say(c(5))`,
			out: "slept:5", st: Done},
		// L4 is pinned by TestPanicRestoresState, L6 by TestThreadReuse.
		// L5: I/O yields inside user coroutines reach the scheduler.
		{name: "L5 coroutine io", src: `local co = coroutine.create(function(a) local v = sleep(a) coroutine.yield(v) return "done" end)
say(coroutine.resume(co, "x")) say(coroutine.resume(co)) say(coroutine.status(co))`,
			out: "trueslept:x|truedone|dead", st: Done},
	})
}

func TestPcall(t *testing.T) {
	runSchedCases(t, []schedCase{
		{name: "results", src: `say(pcall(function(a, b) return a, b, nil end, 1, 2))`, out: "true12nil", st: Done},
		{name: "result count", src: `say(select('#', pcall(function() end)), select('#', pcall(function() return nil end)))`,
			out: "12", st: Done},
		{name: "error", src: `say(pcall(error, "e", 0))`, out: "falsee", st: Done},
		{name: "error position", src: `say(pcall(function() error("e") end))`, out: "falsetest:1: e", st: Done},
		{name: "error table", src: `local ok, e = pcall(error, {code = 7}) say(ok, e.code)`, out: "false7", st: Done},
		{name: "error after yield", src: `local ok, e = pcall(function() sleep(1) error("late") end) say(ok, e)`,
			out: "falsetest:1: late", st: Done},
		{name: "nested", src: `say(pcall(function()
  local ok, v = pcall(function() return sleep("in") end)
  say("inner", ok, v)
  return sleep("out")
end))`, out: "innertrueslept:in|trueslept:out", st: Done},
		{name: "nested error crosses levels", src: `say(pcall(function() pcall(sleep, 1) sleep(2) error("x", 0) end))`,
			out: "falsex", st: Done},
		{name: "not callable", src: `say(pcall(nil)) say(pcall({}))`,
			out: "falseattempt to call a nil value|falseattempt to call a table value", st: Done},
		{name: "__call", src: `say(pcall(setmetatable({}, {__call = function(_, a) return "c", a end}), 5))`,
			out: "truec5", st: Done},
		{name: "no argument", src: `pcall()`, st: Failed, err: "bad argument #1 to 'pcall' (value expected)"},
		{name: "many yields", src: `local n = 0 for i = 1, 50 do local ok = pcall(sleep0) if ok then n = n + 1 end end say(n)`,
			out: "50", st: Done},
		{name: "xpcall handler", src: `say(xpcall(function() error("e1") end, function(m) return "handled: " .. m end))`,
			out: "falsehandled: test:1: e1", st: Done},
		{name: "xpcall args", src: `say(xpcall(function(a, b) return a + b end, print, 1, 2))`, out: "true3", st: Done},
		{name: "xpcall handler after yield", src: `say(xpcall(function(a, b) sleep(a) error({b}) end,
  function(e) return "h:" .. type(e) .. e[1] end, "A", "B"))`, out: "falseh:tableB", st: Done},
		{name: "xpcall handler error", src: `say(xpcall(error, function() error("again") end))`,
			out: "falseerror in error handling", st: Done},
		{name: "xpcall first value only", src: `say(xpcall(error, function() return 1, 2 end))`, out: "false1", st: Done},
		{name: "xpcall bad handler", src: `xpcall(print, 42)`, st: Failed,
			err: "bad argument #2 to 'xpcall' (function expected, got number)"},
		{name: "xpcall traceback", src: `local ok, tb = xpcall(function() error("deep") end, debug.traceback)
say(ok, tb:match("^test:1: deep\nstack traceback:") ~= nil)`, out: "falsetrue", st: Done},
	})
}

func TestCoroutines(t *testing.T) {
	runSchedCases(t, []schedCase{
		{name: "resume yield", src: `local co = coroutine.create(function(...)
  say("in", ...) local a, b = coroutine.yield(1, 2) say("got", a, b) return "done" end)
say(coroutine.resume(co, "x", "y")) say(coroutine.status(co))
say(coroutine.resume(co, "p", "q")) say(coroutine.status(co)) say(coroutine.resume(co))`,
			out: "inxy|true12|suspended|gotpq|truedone|dead|falsecannot resume dead coroutine", st: Done},
		{name: "yield count", src: `local co = coroutine.create(function() coroutine.yield() end)
say(select('#', coroutine.resume(co)), select('#', coroutine.resume(co)))`, out: "11", st: Done},
		{name: "status running and normal", src: `local outer
outer = coroutine.create(function()
  say(coroutine.status(outer))
  local inner = coroutine.create(function() say(coroutine.status(outer)) end)
  coroutine.resume(inner)
  say(coroutine.resume(outer))
end)
coroutine.resume(outer)`, out: "running|normal|falsecannot resume running coroutine", st: Done},
		{name: "yield inside pcall", src: `local co = coroutine.create(function()
  local ok, v = pcall(function() return coroutine.yield("inpcall") end)
  say("after", ok, v) return "fin" end)
say(coroutine.resume(co)) say(coroutine.resume(co, "resumed"))`,
			out: "trueinpcall|aftertrueresumed|truefin", st: Done},
		{name: "running inside pcall", src: `local co co = coroutine.create(function()
  pcall(function() say(coroutine.running() == co) end) end)
coroutine.resume(co)`, out: "true", st: Done},
		{name: "error", src: `local co = coroutine.create(function() error("x") end)
say(coroutine.resume(co)) say(coroutine.status(co))`, out: "falsetest:1: x|dead", st: Done},
		{name: "wrap", src: `local f = coroutine.wrap(function(a) local b = coroutine.yield(a + 1) return b * 2 end)
say(f(1), f(10))`, out: "220", st: Done},
		{name: "wrap with io", src: `local f = coroutine.wrap(function() for i = 1, 3 do sleep(i) coroutine.yield(i) end end)
say(f(), f(), f())`, out: "123", st: Done},
		// ngx_lua aborts the caller of a failing wrapper, pcall or not.
		{name: "wrap error passes pcall", src: `local f = coroutine.wrap(function() error("boom") end) say(pcall(f))`,
			st: Failed, err: "test:1: boom"},
		{name: "wrap error stops at a coroutine", src: `local co = coroutine.create(function()
  local f = coroutine.wrap(function() error({code = 1}) end)
  pcall(f) say("not reached") end)
local ok, e = coroutine.resume(co) say(ok, e.code, coroutine.status(co))`, out: "false1dead", st: Done},
		{name: "wrap dead returns false", src: `local f = coroutine.wrap(function() end) f() say(pcall(f))`,
			out: "truefalsecannot resume dead coroutine", st: Done},
		{name: "wrap generator in for", src: `for v in coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) do say(v) end`,
			out: "1|2|3", st: Done},
		{name: "io in nested coroutines", src: `local a = coroutine.wrap(function()
  local b = coroutine.wrap(function() return sleep("deep") end)
  return b() end)
say(a())`, out: "slept:deep", st: Done},
		{name: "isyieldable", src: `say(isyieldable())
coroutine.wrap(function() say(isyieldable()) end)()
table.sort({2, 1}, function(a, b) say(isyieldable()) return a < b end)
say(coroutine.isyieldable)`,
			out: "true|true|false|nil", st: Done},
		{name: "create checks", src: `coroutine.create(print)`, st: Failed,
			err: "test:1: bad argument #1 to 'create' (Lua function expected)"},
		{name: "arg errors through pcall have no name", src: `say(pcall(coroutine.create, print))`,
			out: "falsebad argument #1 to '?' (Lua function expected)", st: Done},
		{name: "resume checks", src: `coroutine.resume(1)`, st: Failed,
			err: "bad argument #1 to 'resume' (coroutine expected)"},
		{name: "resume the running thread", src: `say(coroutine.resume(coroutine.running()))`,
			out: "falsecannot resume running coroutine", st: Done},
		{name: "yield at top level", src: `coroutine.yield() say("never")`, st: Yielded},
		{name: "coroutine waiting for io is running", src: `local co = coroutine.create(function() sleep(1) end)
coroutine.resume(co)`, st: Done},
	})
}

// Yields of both kinds crossing several levels of pcall and coroutines.
func TestNestedYields(t *testing.T) {
	runSchedCases(t, []schedCase{
		{name: "mixed", src: `local outer = coroutine.wrap(function()
  local ok, v = pcall(function()
    local inner = coroutine.create(function(a)
      local r = sleep(a)
      local b = coroutine.yield(r)
      local ok2, e = pcall(function() sleep("x") error("E", 0) end)
      return b, e
    end)
    local _, r = coroutine.resume(inner, "A")
    say("inner yielded", r)
    local _, b, e = coroutine.resume(inner, "B")
    say("inner returned", b, e)
    local back = coroutine.yield("outer-y")
    return "pv" .. back
  end)
  say("pcall", ok, v)
  return "done"
end)
say(outer())
say(outer("!"))`, out: "inner yieldedslept:A|inner returnedBE|outer-y|pcalltruepv!|done", st: Done},
		{name: "spawn from a coroutine", src: `local co = coroutine.wrap(function()
  say(spawn(function() say("child", sleep(1)) end))
  return "co done"
end)
say(co())`, out: "suspended|co done|childslept:1", st: Done},
		{name: "deep pcall chain", src: `local function dig(n) if n == 0 then return sleep("bottom") end
  local ok, v = pcall(dig, n - 1) return v end
say(dig(30))`, out: "slept:bottom", st: Done},
		{name: "many coroutines waiting", src: `local cos = {}
for i = 1, 20 do cos[i] = coroutine.wrap(function() return sleep(i) end) end
local n = 0 for i = 1, 20 do if cos[i]() == "slept:" .. i then n = n + 1 end end say(n)`, out: "20", st: Done},
	})
}

func TestLightThreads(t *testing.T) {
	runSchedCases(t, []schedCase{
		{name: "spawn runs until it suspends", src: `say(spawn(function(a) say("child", a) sleep("c") say("child done") end, "arg"))
say("parent")`, out: "childarg|suspended|parent|child done", st: Done},
		{name: "spawn finishing at once", src: `say(spawn(function() say("quick") end)) say("parent")`,
			out: "quick|done|parent", st: Done},
		{name: "spawn failing", src: `say(spawn(function() error("bad") end)) say("parent")`,
			out: "failed|parent", st: Done},
		{name: "parent and child interleave", src: `spawn(function() for i = 1, 2 do sleep("c" .. i) say("c", i) end end)
for i = 1, 2 do sleep("p" .. i) say("p", i) end`, out: "c1|p1|c2|p2", st: Done},
	})
}

// TestPanicRestoresState pins trap L4: a Go panic inside a thread fails
// that thread only, and the VM keeps working.
func TestPanicRestoresState(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	g := s.vm.L.Get(lua.GlobalsIndex).(*lua.LTable)
	g.RawSetString("gopanic", s.vm.L.NewFunction(func(*lua.LState) int { panic("go panic") }))
	for i := 0; i < 3; i++ {
		_, st, msg := s.run(`sleep(1) gopanic()`)
		if st != Failed || !strings.Contains(msg, "go panic") {
			t.Fatalf("run %d: status %v error %q", i, st, msg)
		}
		if s.vm.L.G.CurrentThread != s.vm.L || s.vm.L.GetTop() != 0 {
			t.Fatalf("run %d: main state not restored: current %p top %d", i, s.vm.L.G.CurrentThread, s.vm.L.GetTop())
		}
		s.out.Reset()
		out, st, _ := s.run(`say(pcall(function() return sleep(1) end))`)
		if st != Done || out != "trueslept:1\n" {
			t.Fatalf("run %d: after a panic got %q %v", i, out, st)
		}
		s.out.Reset()
	}
}

// TestThreadReuse pins trap L6: only cleanly finished states are reused,
// and a reused state runs like a fresh one.
func TestThreadReuse(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	fn, err := s.vm.CompileInline(`local a, b = ... return pcall(function() return 1 end)`, "t")
	if err != nil {
		t.Fatal(err)
	}
	bad, err := s.vm.CompileInline(`local t = {} pcall(sleep0) t.x.y = 1`, "t")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*lua.LState]bool{}
	for i := 0; i < 20; i++ {
		th, st := s.vm.Start(fn)
		if st != Done || len(th.Results()) != 2 || th.Results()[0] != lua.LTrue {
			t.Fatalf("clean run %d: %v %v", i, st, th.Results())
		}
		s.vm.Release(th)
		th, st = s.vm.Start(bad)
		for st == Suspended {
			s.waiting = s.waiting[:0]
			st = s.vm.Resume(th)
		}
		if st != Failed {
			t.Fatalf("failing run %d: %v", i, st)
		}
		s.vm.Release(th)
	}
	for _, co := range s.vm.threads {
		if seen[co] {
			t.Fatal("a state is twice in the pool")
		}
		seen[co] = true
		if co.Dead {
			t.Fatal("a dead state is in the pool")
		}
	}
	if len(s.vm.threads) > 2 {
		t.Fatalf("%d idle threads after sequential runs; failed states must not be pooled and clean ones must be reused", len(s.vm.threads))
	}
}

func TestSuspendRequiresTrampoline(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	g := s.vm.L.Get(lua.GlobalsIndex).(*lua.LTable)
	g.RawSetString("rawsleep", s.vm.L.NewFunction(func(L *lua.LState) int { return s.vm.Suspend(L) }))
	_, st, msg := s.run(`return rawsleep()`)
	if st != Failed || !strings.Contains(msg, "RegisterYielding") {
		t.Fatalf("got %v %q", st, msg)
	}
}

func TestStartOutsideLuaOnly(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	g := s.vm.L.Get(lua.GlobalsIndex).(*lua.LTable)
	fn, _ := s.vm.CompileInline(`return 1`, "t")
	g.RawSetString("nested", s.vm.L.NewFunction(func(L *lua.LState) int {
		defer func() {
			if recover() == nil {
				t.Error("Start inside Lua did not panic")
			}
		}()
		s.vm.Start(fn)
		return 0
	}))
	if _, st, msg := s.run(`nested()`); st != Done {
		t.Fatalf("%v %s", st, msg)
	}
}

func TestKill(t *testing.T) {
	s := newSched(t, Options{})
	defer s.vm.Close()
	fn, _ := s.vm.CompileInline(`sleep(1) say("never")`, "t")
	th, st := s.vm.Start(fn)
	if st != Suspended {
		t.Fatal(st)
	}
	if !s.vm.Kill(th) || th.Alive() {
		t.Fatal("kill failed")
	}
	if st := s.vm.Resume(th); st != Failed {
		t.Fatalf("resuming a killed thread: %v", st)
	}
	if s.out.Len() != 0 {
		t.Fatal("killed thread ran")
	}
	s.vm.Release(th)
}
