package lua

import (
	"time"

	glua "github.com/yuin/gopher-lua"

	"gresty/http"
	"gresty/luavm"
)

// This file holds ngx.time, ngx.now, ngx.today, ngx.localtime,
// ngx.utctime, ngx.update_time, ngx.http_time, ngx.cookie_time and
// ngx.parse_http_time. nginx reads the clock once per event-loop
// iteration; these read the loop's cached clock the same way, so two
// calls without a wait in between see the same time.

func init() { registerAPI(installTime) }

// now returns the loop's cached time. The configuration-time VM (init_by
// lua for -t) has no loop and reads the system clock.
func (st *loopState) now() time.Time {
	if st.ls != nil {
		return st.ls.Loop().Now()
	}
	return time.Now()
}

func installTime(st *loopState) {
	L := st.vm.L
	fn := func(name string, f glua.LGFunction) { st.ngx.RawSetString(name, L.NewFunction(f)) }

	fn("time", func(L *glua.LState) int {
		L.Push(glua.LNumber(st.now().Unix()))
		return 1
	})
	fn("now", func(L *glua.LState) int {
		L.Push(glua.LNumber(st.nowSeconds()))
		return 1
	})
	fn("update_time", func(L *glua.LState) int {
		if st.ls != nil {
			st.ls.Loop().UpdateTime()
		}
		return 0
	})
	fn("today", func(L *glua.LState) int {
		L.Push(glua.LString(st.now().Local().Format("2006-01-02")))
		return 1
	})
	fn("localtime", func(L *glua.LState) int {
		L.Push(glua.LString(st.now().Local().Format("2006-01-02 15:04:05")))
		return 1
	})
	fn("utctime", func(L *glua.LState) int {
		L.Push(glua.LString(st.now().UTC().Format("2006-01-02 15:04:05")))
		return 1
	})
	fn("http_time", func(L *glua.LState) int {
		t := checkTimeArg(L)
		L.Push(glua.LString(gmtime(t).Format("Mon, 02 Jan 2006 15:04:05 GMT")))
		return 1
	})
	fn("cookie_time", func(L *glua.LState) int {
		L.Push(glua.LString(cookieTime(checkTimeArg(L))))
		return 1
	})
	fn("parse_http_time", func(L *glua.LState) int {
		s, ok := L.Get(1).(glua.LString)
		if !ok {
			luavm.Raise(L, "string argument only")
		}
		t := http.ParseHTTPTime([]byte(s))
		if t < 0 {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LNumber(t))
		return 1
	})
}

// checkTimeArg reads the seconds argument of http_time and cookie_time:
// a number, truncated toward zero as a C long.
func checkTimeArg(L *glua.LState) int64 {
	n, ok := L.Get(1).(glua.LNumber)
	if !ok {
		luavm.Raise(L, "number argument only")
	}
	return int64(n)
}

// gmtime converts t as ngx_gmtime does: negative times are the epoch and
// times past 9999-12-31 23:59:59 are that moment.
func gmtime(t int64) time.Time {
	const maxTime = 2932896*86400 + 86399
	if t < 0 {
		t = 0
	}
	if t > maxTime {
		t = maxTime
	}
	return time.Unix(t, 0).UTC()
}

// cookieTime formats t as ngx_http_cookie_time: a two-digit year up to
// 2037, four digits after (old browsers misread the two-digit years past
// "37").
func cookieTime(t int64) string {
	tm := gmtime(t)
	if tm.Year() > 2037 {
		return tm.Format("Mon, 02-Jan-2006 15:04:05 GMT")
	}
	return tm.Format("Mon, 02-Jan-06 15:04:05 GMT")
}
