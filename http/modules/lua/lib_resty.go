package lua

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"math"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/luavm"
)

// This file registers the lua-resty-* libraries OpenResty code requires,
// written in Go and preloaded so that they win over any FFI-based copy on
// lua_package_path: resty.core and its submodules (the API they install
// is built in, so they only load), resty.string, the digest objects of
// lua-resty-string and resty.random. resty.aes is in lib_aes.go and
// resty.lrucache in lib_lrucache.go.

func init() { registerAPI(installResty) }

// restyCoreVersion is the lua-resty-core release ngx_lua 0.10.23 ships
// with; its modules report it.
const restyCoreVersion = "0.1.25"

// restyStringVersion is lua-resty-string's _VERSION.
const restyStringVersion = "0.17"

// restyCoreModules are lua-resty-core's submodules.
var restyCoreModules = []string{
	"base64", "coroutine", "ctx", "exit", "hash", "misc", "ndk", "param",
	"phase", "regex", "request", "response", "shdict", "socket", "uri",
	"utils", "var", "worker",
}

// monotonicBase anchors resty.core.time's monotonic clock; it is set once
// when the package loads.
var monotonicBase = time.Now()

func installResty(st *loopState) {
	vm := st.vm
	module := func(name string, build func(L *glua.LState, m *glua.LTable)) {
		vm.Preload(name, func(L *glua.LState) int {
			m := L.NewTable()
			build(L, m)
			L.Push(m)
			return 1
		})
	}
	versionOnly := func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("version", glua.LString(restyCoreVersion))
	}

	module("resty.core", versionOnly)
	for _, name := range restyCoreModules {
		module("resty.core."+name, versionOnly)
	}
	module("resty.core.base", func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("version", glua.LString(restyCoreVersion))
		tbl := L.GetGlobal("table")
		m.RawSetString("new_tab", L.GetField(tbl, "new"))
		m.RawSetString("clear_tab", L.GetField(tbl, "clear"))
		for name, v := range map[string]int{
			"FFI_OK": 0, "FFI_NO_REQ_CTX": -100, "FFI_BAD_CONTEXT": -101, "FFI_ERROR": -1,
			"FFI_AGAIN": -2, "FFI_BUSY": -3, "FFI_DONE": -4, "FFI_DECLINED": -5,
		} {
			m.RawSetString(name, glua.LNumber(v))
		}
		m.RawSetString("allows_subsystem", L.NewFunction(func(L *glua.LState) int {
			for i := 1; i <= L.GetTop(); i++ {
				if s, ok := L.Get(i).(glua.LString); ok && s == "http" {
					return 0
				}
			}
			luavm.Raise(L, "unsupported subsystem: http")
			return 0
		}))
	})
	module("resty.core.time", func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("version", glua.LString(restyCoreVersion))
		// ngx_current_msec: the cached clock, monotonic.
		msec := func() int64 { return st.now().Sub(monotonicBase).Milliseconds() }
		m.RawSetString("monotonic_msec", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LNumber(msec()))
			return 1
		}))
		m.RawSetString("monotonic_time", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LNumber(float64(msec()) / 1000))
			return 1
		}))
	})
	module("resty.core.utils", func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("version", glua.LString(restyCoreVersion))
		m.RawSetString("str_replace_char", L.NewFunction(func(L *glua.LState) int {
			s := checkLString(L, 1)
			find := checkLString(L, 2)
			repl := checkLString(L, 3)
			if find == "" || repl == "" {
				L.Push(glua.LString(s))
				return 1
			}
			b := []byte(s)
			for i := range b {
				if b[i] == find[0] {
					b[i] = repl[0]
				}
			}
			L.Push(glua.LString(b))
			return 1
		}))
	})

	module("resty.string", func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("_VERSION", glua.LString(restyStringVersion))
		m.RawSetString("to_hex", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LString(hex.EncodeToString([]byte(checkLString(L, 1)))))
			return 1
		}))
		m.RawSetString("atoi", L.NewFunction(func(L *glua.LState) int {
			L.Push(glua.LNumber(ngxAtoi(checkLString(L, 1))))
			return 1
		}))
	})
	module("resty.sha", func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("_VERSION", glua.LString(restyStringVersion))
	})
	digests := []struct {
		name   string
		newFn  func() hash.Hash
		maxLen bool // update takes an optional length (resty.md5 only)
	}{
		{"resty.md5", md5.New, true},
		{"resty.sha1", sha1.New, false},
		{"resty.sha224", sha256.New224, false},
		{"resty.sha256", sha256.New, false},
		{"resty.sha384", sha512.New384, false},
		{"resty.sha512", sha512.New, false},
	}
	for _, d := range digests {
		d := d
		module(d.name, func(L *glua.LState, m *glua.LTable) {
			buildDigest(L, m, d.newFn, d.maxLen)
		})
	}

	module("resty.random", func(L *glua.LState, m *glua.LTable) {
		m.RawSetString("_VERSION", glua.LString(restyStringVersion))
		m.RawSetString("bytes", L.NewFunction(func(L *glua.LState) int {
			n, ok := L.Get(1).(glua.LNumber)
			if !ok || n < 0 || math.IsNaN(float64(n)) {
				raise(L, "bad argument #2 to 'new' (cannot convert '"+L.Get(1).Type().String()+"' to 'int')")
			}
			// RAND_bytes and RAND_pseudo_bytes both draw from a CSPRNG
			// in current OpenSSL; so does this, whatever "strong" says.
			b := make([]byte, int(n))
			if _, err := rand.Read(b); err != nil {
				L.Push(glua.LNil)
				return 1
			}
			L.Push(glua.LString(b))
			return 1
		}))
	})
}

// buildDigest fills a lua-resty-string digest module: new() returns an
// object { _ctx = <state> } whose methods update, final and reset work
// as the OpenSSL-backed originals.
func buildDigest(L *glua.LState, m *glua.LTable, newFn func() hash.Hash, withLen bool) {
	m.RawSetString("_VERSION", glua.LString(restyStringVersion))
	mt := L.CreateTable(0, 1)
	mt.RawSetString("__index", m)
	state := func(L *glua.LState) hash.Hash {
		self, ok := L.Get(1).(*glua.LTable)
		if !ok {
			raise(L, "attempt to index local 'self' (a "+L.Get(1).Type().String()+" value)")
		}
		ud, ok := self.RawGetString("_ctx").(*glua.LUserData)
		if ok {
			if h, ok := ud.Value.(hash.Hash); ok {
				return h
			}
		}
		raise(L, "bad argument #1 (cannot convert '"+self.RawGetString("_ctx").Type().String()+"' to digest context)")
		return nil
	}
	m.RawSetString("new", L.NewFunction(func(L *glua.LState) int {
		ud := L.NewUserData()
		ud.Value = newFn()
		obj := L.CreateTable(0, 1)
		obj.RawSetString("_ctx", ud)
		L.SetMetatable(obj, mt)
		L.Push(obj)
		return 1
	}))
	m.RawSetString("update", L.NewFunction(func(L *glua.LState) int {
		h := state(L)
		s := checkLString(L, 2)
		if withLen {
			if n, ok := L.Get(3).(glua.LNumber); ok && int(n) >= 0 && int(n) < len(s) {
				s = s[:int(n)]
			}
		}
		h.Write([]byte(s))
		L.Push(glua.LTrue)
		return 1
	}))
	m.RawSetString("final", L.NewFunction(func(L *glua.LState) int {
		h := state(L)
		L.Push(glua.LString(h.Sum(nil)))
		// OpenSSL's Final leaves the context spent; starting over is the
		// only defined continuation.
		h.Reset()
		return 1
	}))
	m.RawSetString("reset", L.NewFunction(func(L *glua.LState) int {
		state(L).Reset()
		L.Push(glua.LTrue)
		return 1
	}))
}

// ngxAtoi is nginx's ngx_atoi: a non-empty string of decimal digits that
// fits in a signed machine word, else -1.
func ngxAtoi(s string) int64 {
	if s == "" {
		return -1
	}
	const max = math.MaxInt64
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		d := int64(c - '0')
		if v >= max/10 && (v > max/10 || d > max%10) {
			return -1
		}
		v = v*10 + d
	}
	return v
}
