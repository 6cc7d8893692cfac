package lua

import (
	"encoding/binary"
	"math"

	glua "github.com/yuin/gopher-lua"

	"gresty/http/modules/lua/shdict"
	"gresty/luavm"
)

// This file is lua-resty-limit-traffic 0.08 in Go: resty.limit.req (the
// leaky bucket of ngx_limit_req), resty.limit.conn, resty.limit.count and
// resty.limit.traffic. Their state is in shared dicts exactly as the
// originals keep it (limit.req's 16-byte record, counters for the
// others), so every loop sees the same limits and the Lua originals, if
// loaded under other names, interoperate.

func init() { registerAPI(installLimit) }

const restyLimitVersion = "0.08"

// limitReqRecSize is sizeof(struct lua_resty_limit_req_rec): the excess
// (unsigned long, thousandths of a request) and the last time (uint64,
// milliseconds), little-endian.
const limitReqRecSize = 16

// limitTrafficSrc is combine(): it calls each limiter's incoming method,
// which may be any object's, so it is Lua.
const limitTrafficSrc = `
local max = math.max
local _M = { _VERSION = "` + restyLimitVersion + `" }
function _M.combine(limiters, keys, states)
    local n = #limiters
    local max_delay = 0
    for i = 1, n do
        local lim = limiters[i]
        local delay, err = lim:incoming(keys[i], i == n)
        if not delay then
            return nil, err
        end
        if i == n then
            if states then
                states[i] = err
            end
            max_delay = delay
        end
    end
    for i = 1, n - 1 do
        local lim = limiters[i]
        local delay, err = lim:incoming(keys[i], true)
        if not delay then
            for j = 1, i - 1 do
                limiters[j]:uncommit(keys[j])
            end
            limiters[n]:uncommit(keys[n])
            return nil, err
        end
        if states then
            states[i] = err
        end
        max_delay = max(max_delay, delay)
    end
    return max_delay
end
return _M
`

func installLimit(st *loopState) {
	vm := st.vm
	module := func(name string, build func(L *glua.LState, m, mt *glua.LTable)) {
		vm.Preload(name, func(L *glua.LState) int {
			m := L.CreateTable(0, 8)
			m.RawSetString("_VERSION", glua.LString(restyLimitVersion))
			mt := L.CreateTable(0, 1)
			mt.RawSetString("__index", m)
			build(L, m, mt)
			L.Push(m)
			return 1
		})
	}
	fn := func(L *glua.LState, m *glua.LTable, name string, f glua.LGFunction) {
		m.RawSetString(name, L.NewFunction(f))
	}
	module("resty.limit.req", func(L *glua.LState, m, mt *glua.LTable) {
		fn(L, m, "new", func(L *glua.LState) int {
			dict, ok := st.limitDict(L)
			if !ok {
				return 2
			}
			rate, burst := L.Get(2), L.Get(3)
			limitAssert(L, limitCompare(L, rate, 0, false) && limitCompare(L, burst, 0, true))
			self := L.CreateTable(0, 3)
			self.RawSetString("dict", dict)
			self.RawSetString("rate", glua.LNumber(limitNum(L, rate)*1000))
			self.RawSetString("burst", glua.LNumber(limitNum(L, burst)*1000))
			L.SetMetatable(self, mt)
			L.Push(self)
			return 1
		})
		fn(L, m, "incoming", st.limitReqIncoming)
		fn(L, m, "uncommit", st.limitReqUncommit)
		fn(L, m, "set_rate", func(L *glua.LState) int {
			L.SetField(L.Get(1), "rate", glua.LNumber(limitNum(L, L.Get(2))*1000))
			return 0
		})
		fn(L, m, "set_burst", func(L *glua.LState) int {
			L.SetField(L.Get(1), "burst", glua.LNumber(limitNum(L, L.Get(2))*1000))
			return 0
		})
	})
	module("resty.limit.conn", func(L *glua.LState, m, mt *glua.LTable) {
		fn(L, m, "new", func(L *glua.LState) int {
			dict, ok := st.limitDict(L)
			if !ok {
				return 2
			}
			max, burst, delay := L.Get(2), L.Get(3), L.Get(4)
			limitAssert(L, limitCompare(L, max, 0, false) && limitCompare(L, burst, 0, true) && limitCompare(L, delay, 0, false))
			self := L.CreateTable(0, 5)
			self.RawSetString("dict", dict)
			self.RawSetString("max", glua.LNumber(limitNum(L, max)))
			self.RawSetString("burst", burst)
			self.RawSetString("unit_delay", delay)
			L.SetMetatable(self, mt)
			L.Push(self)
			return 1
		})
		fn(L, m, "incoming", st.limitConnIncoming)
		fn(L, m, "is_committed", func(L *glua.LState) int {
			L.Push(L.GetField(L.Get(1), "committed"))
			return 1
		})
		fn(L, m, "leaving", st.limitConnLeaving)
		fn(L, m, "uncommit", func(L *glua.LState) int {
			limitAssert(L, glua.LVAsBool(L.Get(2)))
			return st.limitIncr(L, shdZoneOf(L, L.GetField(L.Get(1), "dict")), L.Get(2), -1, false, 0, 0)
		})
		fn(L, m, "set_conn", func(L *glua.LState) int {
			L.SetField(L.Get(1), "max", L.Get(2))
			return 0
		})
		fn(L, m, "set_burst", func(L *glua.LState) int {
			L.SetField(L.Get(1), "burst", L.Get(2))
			return 0
		})
	})
	module("resty.limit.count", func(L *glua.LState, m, mt *glua.LTable) {
		fn(L, m, "new", func(L *glua.LState) int {
			dict, ok := st.limitDict(L)
			if !ok {
				return 2
			}
			limit, window := L.Get(2), L.Get(3)
			limitAssert(L, limitCompare(L, limit, 0, false) && limitCompare(L, window, 0, false))
			self := L.CreateTable(0, 3)
			self.RawSetString("dict", dict)
			self.RawSetString("limit", limit)
			self.RawSetString("window", window)
			L.SetMetatable(self, mt)
			L.Push(self)
			return 1
		})
		fn(L, m, "incoming", st.limitCountIncoming)
		fn(L, m, "uncommit", st.limitCountUncommit)
	})
	vm.Preload("resty.limit.traffic", func(L *glua.LState) int {
		f, err := vm.Load(limitTrafficSrc, "=resty.limit.traffic")
		if err != nil {
			luavm.Raise(L, "%s", err.Error())
		}
		L.Push(f)
		L.Call(0, 1)
		return 1
	})
}

// limitDict is the dict lookup of the limiters' new(): the dict, or
// (false, with nil and the message pushed) when there is none.
func (st *loopState) limitDict(L *glua.LState) (glua.LValue, bool) {
	if shared, ok := st.ngx.RawGetString("shared").(*glua.LTable); ok && L.Get(1) != glua.LNil {
		if d := shared.RawGet(L.Get(1)); d != glua.LNil {
			return d, true
		}
	}
	L.Push(glua.LNil)
	L.Push(glua.LString("shared dict not found"))
	return nil, false
}

// limitAssert is the originals' assert() of their arguments.
func limitAssert(L *glua.LState, ok bool) {
	if !ok {
		L.Error(glua.LString("assertion failed!"), 0)
	}
}

// limitCompare is "v > 0" (or "v >= 0" with orEqual) as Lua evaluates
// it in the originals' asserts.
func limitCompare(L *glua.LState, v glua.LValue, than float64, orEqual bool) bool {
	n, ok := v.(glua.LNumber)
	if !ok {
		L.Error(glua.LString("attempt to compare number with "+v.Type().String()), 0)
	}
	if orEqual {
		return float64(n) >= than
	}
	return float64(n) > than
}

// limitNum is a number operand of the originals' arithmetic.
func limitNum(L *glua.LState, v glua.LValue) float64 {
	f, ok := shdToNumber(v)
	if !ok {
		L.Error(glua.LString("attempt to perform arithmetic on a "+v.Type().String()+" value"), 0)
	}
	return f
}

// limitGet is dict:get(key) as the limiters read it: nil for anything
// get returns no value for.
func (st *loopState) limitGet(L *glua.LState, z *shdict.Zone, k glua.LValue) glua.LValue {
	if k == glua.LNil {
		return glua.LNil
	}
	key := st.vm.ToString(L, k).String()
	if shdKeyLen(key) != "" {
		return glua.LNil
	}
	v, _, _, err := z.Get(key, false, st.shdNow())
	if err != nil {
		return glua.LNil
	}
	switch v.Type {
	case shdict.String:
		return glua.LString(v.Str)
	case shdict.Number:
		return glua.LNumber(v.Num)
	case shdict.Boolean:
		return glua.LBool(v.Num != 0)
	}
	return glua.LNil
}

// limitIncr is dict:incr(key, delta[, init[, init_ttl]]) pushing what it
// returns; ok tells whether a number came back.
func (st *loopState) limitIncr(L *glua.LState, z *shdict.Zone, k glua.LValue, delta float64, hasInit bool, init, ttl float64) int {
	if k == glua.LNil {
		return shdFail(L, "nil key")
	}
	key := st.vm.ToString(L, k).String()
	if msg := shdKeyLen(key); msg != "" {
		return shdFail(L, msg)
	}
	n, forcible, err := z.Incr(key, delta, hasInit, init, shdict.ToLong(ttl*1000), st.shdNow())
	if err != nil {
		return shdFail(L, err.Error())
	}
	L.Push(glua.LNumber(n))
	if !hasInit {
		return 1
	}
	L.Push(glua.LNil)
	L.Push(glua.LBool(forcible))
	return 3
}

// limitNowMs is ngx.now() * 1000 computed as the originals compute it.
func (st *loopState) limitNowMs() float64 {
	ms := int64(st.shdNow())
	now := float64(ms/1000) + float64(ms%1000)/1000.0
	return now * 1000
}

// limitReqIncoming is limit.req's incoming(key, commit): the delay in
// seconds and the excess, or nil and "rejected".
func (st *loopState) limitReqIncoming(L *glua.LState) int {
	self := L.Get(1)
	z := shdZoneOf(L, L.GetField(self, "dict"))
	rate := limitNum(L, L.GetField(self, "rate"))
	now := st.limitNowMs()
	key := L.Get(2)
	excess := 0.0
	if v := st.limitGet(L, z, key); v != glua.LNil {
		s, ok := v.(glua.LString)
		if !ok || len(s) != limitReqRecSize {
			return shdFail(L, "shdict abused by other users")
		}
		last := float64(binary.LittleEndian.Uint64([]byte(s[8:])))
		elapsed := now - last
		excess = math.Max(float64(binary.LittleEndian.Uint64([]byte(s[:8])))-rate*math.Abs(elapsed)/1000+1000, 0)
		if excess > limitNum(L, L.GetField(self, "burst")) {
			return shdFail(L, "rejected")
		}
	}
	if glua.LVAsBool(L.Get(3)) {
		st.limitReqStore(L, z, key, limitToU64(excess), limitToU64(now))
	}
	L.Push(glua.LNumber(excess / rate))
	L.Push(glua.LNumber(excess / 1000))
	return 2
}

// limitToU64 is the FFI's conversion of a double to an integer field.
func limitToU64(f float64) uint64 {
	if f >= 9223372036854775808.0 {
		return uint64(f)
	}
	return uint64(shdict.ToLong(f))
}

// limitReqStore writes limit.req's record with dict:set.
func (st *loopState) limitReqStore(L *glua.LState, z *shdict.Zone, k glua.LValue, excess, last uint64) {
	if k == glua.LNil {
		return
	}
	key := st.vm.ToString(L, k).String()
	if shdKeyLen(key) != "" {
		return
	}
	var rec [limitReqRecSize]byte
	binary.LittleEndian.PutUint64(rec[:8], excess)
	binary.LittleEndian.PutUint64(rec[8:], last)
	z.Store(shdict.OpSet, key, shdict.Value{Type: shdict.String, Str: string(rec[:])}, 0, 0, st.shdNow())
}

// limitReqUncommit is limit.req's uncommit(key): one request less in the
// excess.
func (st *loopState) limitReqUncommit(L *glua.LState) int {
	limitAssert(L, glua.LVAsBool(L.Get(2)))
	z := shdZoneOf(L, L.GetField(L.Get(1), "dict"))
	v := st.limitGet(L, z, L.Get(2))
	if v == glua.LNil {
		return shdFail(L, "not found")
	}
	s, ok := v.(glua.LString)
	if !ok || len(s) != limitReqRecSize {
		return shdFail(L, "shdict abused by other users")
	}
	excess := math.Max(float64(binary.LittleEndian.Uint64([]byte(s[:8])))-1000, 0)
	st.limitReqStore(L, z, L.Get(2), limitToU64(excess), binary.LittleEndian.Uint64([]byte(s[8:])))
	L.Push(glua.LTrue)
	return 1
}

// limitConnIncoming is limit.conn's incoming(key, commit): the delay and
// the connection count, or nil and "rejected".
func (st *loopState) limitConnIncoming(L *glua.LState) int {
	self := L.Get(1)
	z := shdZoneOf(L, L.GetField(self, "dict"))
	max := limitNum(L, L.GetField(self, "max"))
	L.SetField(self, "committed", glua.LFalse)
	key := L.Get(2)
	var conn float64
	if glua.LVAsBool(L.Get(3)) {
		top := L.GetTop()
		if st.limitIncr(L, z, key, 1, true, 0, 0) == 2 {
			return 2
		}
		conn = float64(L.Get(top + 1).(glua.LNumber))
		L.SetTop(top)
		if conn > max+limitNum(L, L.GetField(self, "burst")) {
			if st.limitIncr(L, z, key, -1, false, 0, 0) == 2 {
				return 2
			}
			L.SetTop(top)
			return shdFail(L, "rejected")
		}
		L.SetField(self, "committed", glua.LTrue)
	} else {
		cur := st.limitGet(L, z, key)
		if cur == glua.LNil || cur == glua.LFalse {
			cur = glua.LNumber(0)
		}
		conn = limitNum(L, cur) + 1
		if conn > max+limitNum(L, L.GetField(self, "burst")) {
			return shdFail(L, "rejected")
		}
	}
	if conn > max {
		L.Push(glua.LNumber(limitNum(L, L.GetField(self, "unit_delay")) * math.Floor((conn-1)/max)))
	} else {
		L.Push(glua.LNumber(0))
	}
	L.Push(glua.LNumber(conn))
	return 2
}

// limitConnLeaving is limit.conn's leaving(key, req_latency): the count
// after this connection left.
func (st *loopState) limitConnLeaving(L *glua.LState) int {
	self := L.Get(1)
	limitAssert(L, glua.LVAsBool(L.Get(2)))
	z := shdZoneOf(L, L.GetField(self, "dict"))
	top := L.GetTop()
	if st.limitIncr(L, z, L.Get(2), -1, false, 0, 0) == 2 {
		return 2
	}
	conn := L.Get(top + 1)
	L.SetTop(top)
	if lat := L.Get(3); glua.LVAsBool(lat) {
		unit := limitNum(L, L.GetField(self, "unit_delay"))
		L.SetField(self, "unit_delay", glua.LNumber((limitNum(L, lat)+unit)/2))
	}
	L.Push(conn)
	return 1
}

// limitCountIncoming is limit.count's incoming(key, commit): 0 and the
// requests left in the window, or nil and "rejected".
func (st *loopState) limitCountIncoming(L *glua.LState) int {
	self := L.Get(1)
	z := shdZoneOf(L, L.GetField(self, "dict"))
	limit := limitNum(L, L.GetField(self, "limit"))
	key := L.Get(2)
	var remaining float64
	if glua.LVAsBool(L.Get(3)) {
		window := limitNum(L, L.GetField(self, "window"))
		top := L.GetTop()
		if window < 0 {
			luavm.Raise(L, `bad "init_ttl" argument`)
		}
		if st.limitIncr(L, z, key, -1, true, limit, window) == 2 {
			return 2
		}
		remaining = float64(L.Get(top + 1).(glua.LNumber))
		L.SetTop(top)
	} else {
		cur := st.limitGet(L, z, key)
		if cur == glua.LNil || cur == glua.LFalse {
			cur = glua.LNumber(limit)
		}
		remaining = limitNum(L, cur) - 1
	}
	if remaining < 0 {
		return shdFail(L, "rejected")
	}
	L.Push(glua.LNumber(0))
	L.Push(glua.LNumber(remaining))
	return 2
}

// limitCountUncommit is limit.count's uncommit(key): the requests left
// after giving one back.
func (st *loopState) limitCountUncommit(L *glua.LState) int {
	self := L.Get(1)
	limitAssert(L, glua.LVAsBool(L.Get(2)))
	z := shdZoneOf(L, L.GetField(self, "dict"))
	top := L.GetTop()
	if st.limitIncr(L, z, L.Get(2), 1, false, 0, 0) == 2 {
		if L.Get(top+2).String() != shdict.ErrNotFound.Error() {
			return 2
		}
		L.SetTop(top)
		L.Push(L.GetField(self, "limit"))
		return 1
	}
	return 1
}
