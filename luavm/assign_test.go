package luavm

import "testing"

// assignCases are multiple assignments whose right-hand sides read the
// variables being assigned; Lua evaluates every expression before it
// assigns any target. The wants are LuaJIT's results.
var assignCases = []struct{ src, want string }{
	{"local a, b = 1, 2; a, b = b, a; return a .. ',' .. b", "2,1"},
	{"local a, b = 1, 1; for i = 1, 4 do a, b = b, a + b end; return a .. ',' .. b", "5,8"},
	{"local a, b = 0, 0; a, b = a + 1, a + b; return a .. ',' .. b", "1,0"},
	{"local a, b, c = 1, 2, 3; a, b, c = c, a, b; return a .. b .. c", "312"},
	{"local a, b = 1, 2; a, b = b; return tostring(a) .. ',' .. tostring(b)", "2,nil"},
	{"local n = 0; local function f() n = n + 1; return 7, 8 end; local a, b = 1, 2; a, b = f(); return a .. b .. n", "781"},
	{"local n = 0; local function f() n = n + 1 end; local a, b = 1, 2; a, b = b, a, f(); return a .. b .. n", "211"},
	{"local t = {}; local i = 1; i, t[i] = i + 1, 20; return i .. ',' .. tostring(t[1]) .. ',' .. tostring(t[2])", "2,20,nil"},
	{"local t = {1, 2}; local x = 5; x, t[1] = t[1], x; return x .. ',' .. t[1]", "1,5"},
	{"g1, g2 = 1, 2; g1, g2 = g2, g1; return g1 .. ',' .. g2", "2,1"},
	{"local a, b = 1, 2; local function sw() a, b = b, a end; sw(); return a .. ',' .. b", "2,1"},
	{"local f = function() local p, q = 'p', 'q'; p, q = q, p; return p .. q end; return f()", "qp"},
	{"local co = coroutine.wrap(function() local a, b = 1, 1; while true do coroutine.yield(a); a, b = b, a + b end end); local s = ''; for i = 1, 7 do s = s .. co() .. ' ' end; return s", "1 1 2 3 5 8 13 "},
}

func TestMultipleAssignment(t *testing.T) {
	vm, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer vm.Close()
	for _, c := range assignCases {
		if got := evalSnippet(vm, c.src); got != c.want {
			t.Errorf("%s\n got %q\nwant %q", c.src, got, c.want)
		}
	}
}

// TestMultipleAssignmentNginx checks the wants against LuaJIT in a real
// nginx when one is installed.
func TestMultipleAssignmentNginx(t *testing.T) {
	n := startNginx(t)
	for _, c := range assignCases {
		got, err := n.eval(c.src)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s\n nginx %q\n want %q", c.src, got, c.want)
		}
	}
}
