package lua

import (
	"strconv"
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/http/modules/lua/shdict"
	"gresty/luavm"
	"gresty/luavm/ltable"
)

// This file is ngx.shared: one table per lua_shared_dict, {[1] = zone}
// with a metatable shared by all of them whose __index is itself and
// holds the methods. get, set and their kin follow lua-resty-core's
// shdict.lua (argument checks, multiple returns), the list methods,
// get_keys and flush_expired ngx_lua's C functions; the zones themselves
// are in package shdict.

func init() { registerAPI(installShdict) }

// restyShdictFile is where Debian installs lua-resty-core's shdict.lua:
// errors LuaJIT raises inside that file carry its position.
const restyShdictFile = "/usr/share/lua/5.1/resty/core/shdict.lua:"

func installShdict(st *loopState) {
	L := st.vm.L
	shared := L.CreateTable(0, len(st.main.SharedDicts))
	mt := L.CreateTable(0, 24)
	mt.RawSetString("__index", mt)
	method := func(name string, f func(L *glua.LState) int) {
		mt.RawSetString(name, L.NewFunction(f))
	}
	// writer is a method that changes the dict: while init_by_lua runs
	// again in another loop's VM it reports success without writing (see
	// initLoop).
	writer := func(name string, f func(L *glua.LState) int, replayed func(L *glua.LState) int) {
		method(name, func(L *glua.LState) int {
			if st.initReplay {
				return replayed(L)
			}
			return f(L)
		})
	}
	stored := func(L *glua.LState) int {
		L.Push(glua.LTrue)
		L.Push(glua.LNil)
		L.Push(glua.LFalse)
		return 3
	}
	store := func(op int) func(L *glua.LState) int {
		return func(L *glua.LState) int { return st.shdStore(L, op) }
	}
	method("get", func(L *glua.LState) int { return st.shdGet(L, false) })
	method("get_stale", func(L *glua.LState) int { return st.shdGet(L, true) })
	writer("set", store(shdict.OpSet), stored)
	writer("safe_set", store(shdict.OpSet|shdict.OpSafe), stored)
	writer("add", store(shdict.OpAdd), stored)
	writer("safe_add", store(shdict.OpAdd|shdict.OpSafe), stored)
	writer("replace", store(shdict.OpReplace), stored)
	writer("delete", func(L *glua.LState) int {
		// delete(key) is set(key, nil): whatever else is passed goes.
		L.SetTop(2)
		return st.shdStore(L, shdict.OpSet)
	}, stored)
	// a replayed incr reads the value the first run left.
	writer("incr", st.shdIncr, func(L *glua.LState) int { return st.shdGet(L, false) })
	writer("flush_all", func(L *glua.LState) int {
		shdZone(L).FlushAll(st.shdNow())
		return 0
	}, func(*glua.LState) int { return 0 })
	method("ttl", st.shdTTL)
	method("expire", st.shdExpire)
	method("capacity", func(L *glua.LState) int {
		L.Push(glua.LNumber(shdZone(L).Capacity()))
		return 1
	})
	method("free_space", func(L *glua.LState) int {
		L.Push(glua.LNumber(shdZone(L).FreeSpace()))
		return 1
	})
	writer("lpush", func(L *glua.LState) int { return st.shdPush(L, true) }, st.shdLen)
	writer("rpush", func(L *glua.LState) int { return st.shdPush(L, false) }, st.shdLen)
	method("lpop", func(L *glua.LState) int { return st.shdPop(L, true) })
	method("rpop", func(L *glua.LState) int { return st.shdPop(L, false) })
	method("llen", st.shdLen)
	method("flush_expired", func(L *glua.LState) int {
		z, max := shdListArgs(L, 0)
		L.Push(glua.LNumber(z.FlushExpired(max, st.shdNow())))
		return 1
	})
	method("get_keys", func(L *glua.LState) int {
		z, max := shdListArgs(L, 1024)
		keys := z.Keys(max, st.shdNow())
		t := L.CreateTable(len(keys), 0)
		for i, k := range keys {
			t.RawSetInt(i+1, glua.LString(k))
		}
		L.Push(t)
		return 1
	})

	// dict:get(...) finds its method through mt's field cache
	ltable.Compact(mt)
	st.vm.CacheFields(mt)

	zones := make([]*shdict.Zone, 0, len(st.main.SharedDicts))
	for _, sd := range st.main.SharedDicts {
		ud := L.NewUserData()
		ud.Value = sd.Zone
		t := L.CreateTable(1, 0)
		t.RawSetInt(1, ud)
		L.SetMetatable(t, mt)
		shared.RawSetString(sd.Name, t)
		zones = append(zones, sd.Zone)
	}
	st.ngx.RawSetString("shared", shared)
	if st.ls != nil {
		// a loop serves this configuration: a reload reuses its zones.
		shdict.Publish(zones)
	}
	st.api["shdict.zones"] = zones
}

func init() {
	adoptHooks = append(adoptHooks, func(st *loopState) {
		if zones, ok := st.api["shdict.zones"].([]*shdict.Zone); ok {
			shdict.Publish(zones)
		}
	})
}

// shdNow is nginx's cached time in milliseconds, which expiry uses.
func (st *loopState) shdNow() uint64 {
	if st.ls != nil {
		return uint64(st.ls.Loop().NowMs())
	}
	return uint64(time.Now().UnixMilli())
}

// shdZone is resty.core's check_zone: the zone of the dict table passed
// as self.
func shdZone(L *glua.LState) *shdict.Zone {
	if t, ok := L.Get(1).(*glua.LTable); ok {
		if ud, ok := t.RawGetInt(1).(*glua.LUserData); ok {
			if z, ok := ud.Value.(*shdict.Zone); ok {
				return z
			}
		}
	}
	luavm.Raise(L, `bad "zone" argument`)
	return nil
}

// shdKey reads a key as resty.core does: nil is refused, anything else
// goes through tostring; msg is the error returned with nil.
func (st *loopState) shdKey(L *glua.LState, n int) (key, msg string) {
	switch v := L.Get(n).(type) {
	case *glua.LNilType:
		return "", "nil key"
	case glua.LString:
		key = string(v)
	default:
		key = st.vm.ToString(L, v).String()
	}
	return key, shdKeyLen(key)
}

func shdKeyLen(key string) string {
	switch {
	case key == "":
		return "empty key"
	case len(key) > 65535:
		return "key too long"
	}
	return ""
}

// shdFail returns nil and msg to Lua.
func shdFail(L *glua.LState, msg string) int {
	L.Push(glua.LNil)
	L.Push(glua.LString(msg))
	return 2
}

// shdRaiseIn raises an error LuaJIT reports from inside lua-resty-core's
// shdict.lua, at line.
func shdRaiseIn(L *glua.LState, line int, msg string) {
	L.Error(glua.LString(restyShdictFile+strconv.Itoa(line)+": "+msg), 0)
}

func (st *loopState) shdStore(L *glua.LState, op int) int {
	z := shdZone(L)
	var ttl int64
	switch e := L.Get(4).(type) {
	case *glua.LNilType:
	case glua.LBool:
		if e {
			shdRaiseIn(L, 490, "attempt to compare boolean with number")
		}
	case glua.LNumber:
		if e < 0 {
			luavm.Raise(L, `bad "exptime" argument`)
		}
		ttl = shdict.ToLong(float64(e) * 1000)
	default:
		shdRaiseIn(L, 490, "attempt to compare "+e.Type().String()+" with number")
	}
	flagsArg := L.Get(5)
	key, msg := st.shdKey(L, 2)
	if msg != "" {
		return shdFail(L, msg)
	}
	var v shdict.Value
	switch x := L.Get(3).(type) {
	case glua.LString:
		v = shdict.Value{Type: shdict.String, Str: string(x)}
	case glua.LNumber:
		v = shdict.Value{Type: shdict.Number, Num: float64(x)}
	case *glua.LNilType:
	case glua.LBool:
		v = shdict.Value{Type: shdict.Boolean}
		if x {
			v.Num = 1
		}
	default:
		return shdFail(L, "bad value type")
	}
	var flags int32
	switch f := flagsArg.(type) {
	case *glua.LNilType:
	case glua.LNumber:
		flags = shdict.ToInt32(float64(f))
	case glua.LBool:
		// LuaJIT's FFI converts true to 1.
		if f {
			flags = 1
		}
	default:
		shdRaiseIn(L, 542, "bad argument #10 to 'ngx_lua_ffi_shdict_store' (cannot convert '"+f.Type().String()+"' to 'int')")
	}
	forcible, err := z.Store(op, key, v, ttl, uint32(flags), st.shdNow())
	if err != nil {
		L.Push(glua.LFalse)
		L.Push(glua.LString(err.Error()))
	} else {
		L.Push(glua.LTrue)
		L.Push(glua.LNil)
	}
	L.Push(glua.LBool(forcible))
	return 3
}

func (st *loopState) shdGet(L *glua.LState, stale bool) int {
	z := shdZone(L)
	key, msg := st.shdKey(L, 2)
	if msg != "" {
		return shdFail(L, msg)
	}
	v, flags, isStale, err := z.Get(key, stale, st.shdNow())
	if err != nil {
		return shdFail(L, err.Error())
	}
	switch v.Type {
	case shdict.Nil:
		L.Push(glua.LNil)
		return 1
	case shdict.String:
		L.Push(glua.LString(v.Str))
	case shdict.Number:
		L.Push(st.nums.Box(v.Num))
	case shdict.Boolean:
		L.Push(glua.LBool(v.Num != 0))
	}
	if flags != 0 {
		L.Push(glua.LNumber(int32(flags)))
	} else if !stale {
		return 1
	} else {
		L.Push(glua.LNil)
	}
	if stale {
		L.Push(glua.LBool(isStale))
		return 3
	}
	return 2
}

// shdToNumber is Lua's tonumber for resty.core's conversions.
func shdToNumber(v glua.LValue) (float64, bool) {
	switch x := v.(type) {
	case glua.LNumber:
		return float64(x), true
	case glua.LString:
		return luavm.ParseNumber(string(x))
	}
	return 0, false
}

func (st *loopState) shdIncr(L *glua.LState) int {
	z := shdZone(L)
	key, msg := st.shdKey(L, 2)
	if msg != "" {
		return shdFail(L, msg)
	}
	delta, ok := shdToNumber(L.Get(3))
	if !ok {
		shdRaiseIn(L, 760, "cannot convert 'nil' to 'double'")
	}
	var init float64
	hasInit := glua.LVAsBool(L.Get(4))
	if hasInit {
		if init, ok = shdToNumber(L.Get(4)); !ok {
			luavm.Raise(L, "bad init arg: number expected, got %s", L.Get(4).Type().String())
		}
	}
	var initTTL float64
	if v := L.Get(5); v != glua.LNil {
		if initTTL, ok = shdToNumber(v); !ok {
			luavm.Raise(L, "bad init_ttl arg: number expected, got %s", v.Type().String())
		}
		if initTTL < 0 {
			luavm.Raise(L, `bad "init_ttl" argument`)
		}
		if !hasInit {
			luavm.Raise(L, `must provide "init" when providing "init_ttl"`)
		}
	}
	n, forcible, err := z.Incr(key, delta, hasInit, init, shdict.ToLong(initTTL*1000), st.shdNow())
	if err != nil {
		return shdFail(L, err.Error())
	}
	L.Push(st.nums.Box(n))
	if !hasInit {
		return 1
	}
	L.Push(glua.LNil)
	L.Push(glua.LBool(forcible))
	return 3
}

// ngx_lua's FFI functions answer NGX_DECLINED (-5) for a missing key.
const ffiDeclined = -5

func (st *loopState) shdTTL(L *glua.LState) int {
	z := shdZone(L)
	key, msg := st.shdKey(L, 2)
	if msg != "" {
		return shdFail(L, msg)
	}
	ms, ok := z.TTL(key, st.shdNow())
	if !ok || ms == ffiDeclined {
		return shdFail(L, "not found")
	}
	L.Push(glua.LNumber(float64(ms) / 1000))
	return 1
}

func (st *loopState) shdExpire(L *glua.LState) int {
	z := shdZone(L)
	exptime := L.Get(3)
	if !glua.LVAsBool(exptime) {
		luavm.Raise(L, `bad "exptime" argument`)
	}
	key, msg := st.shdKey(L, 2)
	if msg != "" {
		return shdFail(L, msg)
	}
	secs, ok := shdToNumber(exptime)
	if !ok {
		shdRaiseIn(L, 873, "attempt to perform arithmetic on local 'exptime' (a "+exptime.Type().String()+" value)")
	}
	if !z.SetExpire(key, shdict.ToLong(secs*1000), st.shdNow()) {
		return shdFail(L, "not found")
	}
	L.Push(glua.LTrue)
	return 1
}

// shdCZone is the zone check of ngx_lua's C methods (the list ones).
func shdCZone(L *glua.LState) *shdict.Zone {
	if _, ok := L.Get(1).(*glua.LTable); !ok {
		luavm.Raise(L, `bad "zone" argument`)
	}
	return shdZone(L)
}

// shdCKey is the key check of ngx_lua's C methods: luaL_checklstring,
// after nil is answered with "nil key".
func shdCKey(L *glua.LState) (key, msg string) {
	switch v := L.Get(2).(type) {
	case *glua.LNilType:
		return "", "nil key"
	case glua.LString:
		key = string(v)
	case glua.LNumber:
		key = luavm.FormatNumber(float64(v))
	default:
		luavm.TypeError(L, 2, "string")
	}
	return key, shdKeyLen(key)
}

func shdArgCount(L *glua.LState, want int) {
	if n := L.GetTop(); n != want {
		luavm.Raise(L, "expecting %d arguments, but only seen %d", want, n)
	}
}

func (st *loopState) shdPush(L *glua.LState, left bool) int {
	shdArgCount(L, 3)
	z := shdCZone(L)
	key, msg := shdCKey(L)
	if msg != "" {
		return shdFail(L, msg)
	}
	var v shdict.Value
	switch x := L.Get(3).(type) {
	case glua.LString:
		v = shdict.Value{Type: shdict.String, Str: string(x)}
	case glua.LNumber:
		v = shdict.Value{Type: shdict.Number, Num: float64(x)}
	default:
		return shdFail(L, "bad value type")
	}
	n, headless, err := z.Push(key, v, left, st.shdNow())
	if err != nil {
		if headless {
			L.Push(glua.LFalse)
			L.Push(glua.LString(err.Error()))
			return 2
		}
		return shdFail(L, err.Error())
	}
	L.Push(glua.LNumber(n))
	return 1
}

func (st *loopState) shdPop(L *glua.LState, left bool) int {
	shdArgCount(L, 2)
	z := shdCZone(L)
	key, msg := shdCKey(L)
	if msg != "" {
		return shdFail(L, msg)
	}
	v, ok, err := z.Pop(key, left, st.shdNow())
	switch {
	case err != nil:
		return shdFail(L, err.Error())
	case !ok:
		L.Push(glua.LNil)
	case v.Type == shdict.String:
		L.Push(glua.LString(v.Str))
	default:
		L.Push(glua.LNumber(v.Num))
	}
	return 1
}

func (st *loopState) shdLen(L *glua.LState) int {
	shdArgCount(L, 2)
	z := shdCZone(L)
	key, msg := shdCKey(L)
	if msg != "" {
		return shdFail(L, msg)
	}
	n, err := z.Len(key, st.shdNow())
	if err != nil {
		return shdFail(L, err.Error())
	}
	L.Push(glua.LNumber(n))
	return 1
}

// shdListArgs reads flush_expired's and get_keys's (zone [, max]).
func shdListArgs(L *glua.LState, def int) (*shdict.Zone, int) {
	n := L.GetTop()
	if n != 1 && n != 2 {
		luavm.Raise(L, "expecting 1 or 2 argument(s), but saw %d", n)
	}
	t, ok := L.Get(1).(*glua.LTable)
	if !ok {
		luavm.TypeError(L, 1, "table")
	}
	var z *shdict.Zone
	if ud, ok := t.RawGetInt(1).(*glua.LUserData); ok {
		z, _ = ud.Value.(*shdict.Zone)
	}
	if z == nil {
		luavm.Raise(L, "bad user data for the ngx_shm_zone_t pointer")
	}
	max := def
	if n == 2 {
		f, ok := shdToNumber(L.Get(2))
		if !ok {
			luavm.TypeError(L, 2, "number")
		}
		max = int(f)
	}
	return z, max
}
