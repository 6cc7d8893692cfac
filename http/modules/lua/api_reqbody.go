package lua

import (
	"os"

	glua "github.com/yuin/gopher-lua"

	"gresty/errlog"
	"gresty/http"
	"gresty/luavm"
)

// The request body side of ngx.req: reading it (the thread waits while it
// arrives), discarding it, looking at it, and replacing it from Lua, in
// memory, from a file, or piece by piece (init_body, append_body,
// finish_body), as ngx_http_lua_req_body.c.

func init() { registerAPI(installReqBody) }

// bodyBuilder is the body ngx.req.init_body started: bytes gather in buf
// up to limit, then go to a temporary file.
type bodyBuilder struct {
	limit  int
	buf    []byte
	file   *os.File
	total  int64
	inFile bool
}

const bodyPhases = PhaseRewrite | PhaseServerRewrite | PhaseAccess | PhaseContent

func installReqBody(st *loopState) {
	L := st.vm.L
	req := st.ngx.RawGetString("req").(*glua.LTable)
	fn := func(name string, f glua.LGFunction) { req.RawSetString(name, L.NewFunction(f)) }
	argc := func(L *glua.LState, want int) {
		if n := L.GetTop(); n != want {
			luavm.Raise(L, "expecting %d arguments but seen %d", want, n)
		}
	}

	st.vm.RegisterYielding(req, "read_body", func(L *glua.LState) int { return st.readBody(L) })
	fn("discard_body", func(L *glua.LState) int {
		argc(L, 0)
		c := st.bodyReq(L)
		if rc := c.r.DiscardBody(); rc == http.Error || rc >= 300 {
			luavm.Raise(L, "failed to discard request body")
		}
		return 0
	})
	fn("get_body_data", func(L *glua.LState) int {
		argc(L, 0)
		c := st.bodyReq(L)
		b := bodyOf(c.r)
		if b == nil {
			L.Push(glua.LNil)
			return 1
		}
		data := b.BodyBuffer()
		if data == nil {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LString(data))
		return 1
	})
	fn("get_body_file", func(L *glua.LState) int {
		argc(L, 0)
		c := st.bodyReq(L)
		b := bodyOf(c.r)
		if b == nil || b.File == nil {
			L.Push(glua.LNil)
			return 1
		}
		L.Push(glua.LString(b.File.Name()))
		return 1
	})
	fn("set_body_data", func(L *glua.LState) int {
		if n := L.GetTop(); n != 1 {
			luavm.Raise(L, "expecting 1 arguments but seen %d", n)
		}
		data := []byte(checkLuaString(L, 1))
		c := st.bodyReq(L)
		b := st.bodyForWrite(L, c)
		c.rq.body = nil
		b.Replace(data)
		c.r.SetInputContentLength(int64(len(data)))
		return 0
	})
	fn("set_body_file", func(L *glua.LState) int {
		n := L.GetTop()
		if n != 1 && n != 2 {
			luavm.Raise(L, "expecting 1 or 2 arguments but seen %d", n)
		}
		name := checkLuaString(L, 1)
		c := st.bodyReq(L)
		b := st.bodyForWrite(L, c)
		clean := false
		if n == 2 {
			L.CheckTypes(2, glua.LTBool)
			clean = glua.LVAsBool(L.Get(2))
		}
		// ngx_http_lua_open_and_stat_file looks at the file before it
		// opens it.
		if _, err := os.Stat(name); err != nil {
			luavm.Raise(L, "stat() \"%s\" failed", name)
		}
		f, err := os.Open(name)
		if err != nil {
			luavm.Raise(L, "open() \"%s\" failed", name)
		}
		fi, err := f.Stat()
		if err != nil {
			f.Close()
			luavm.Raise(L, "fstat() \"%s\" failed", name)
		}
		size := fi.Size()
		if size == 0 && clean {
			if err := os.Remove(name); err != nil && !os.IsNotExist(err) {
				c.r.Logf(errlog.Crit, "unlink() \"%s\" failed %s", name, errlog.Errno(err))
			}
			clean = false
		}
		c.rq.body = nil
		b.ReplaceFile(f, size, clean)
		c.r.SetInputContentLength(size)
		return 0
	})
	fn("init_body", func(L *glua.LState) int {
		n := L.GetTop()
		if n != 0 && n != 1 {
			luavm.Raise(L, "expecting 0 or 1 argument but seen %d", n)
		}
		c := st.bodyReq(L)
		b := st.bodyForWrite(L, c)
		var size int
		if n == 1 {
			size = checkInteger(L, 1)
			if size < 0 {
				luavm.Raise(L, "bad size argument: %d", size)
			}
		} else {
			size = int(c.r.Loc.ClientBodyBufferSize.V)
		}
		b.Replace(nil)
		c.rq.body = &bodyBuilder{limit: size, inFile: size == 0, buf: make([]byte, 0, size)}
		c.r.ContentLength = 0
		return 0
	})
	fn("append_body", func(L *glua.LState) int {
		if n := L.GetTop(); n != 1 {
			luavm.Raise(L, "expecting 1 arguments but seen %d", n)
		}
		data := checkLuaString(L, 1)
		c := st.bodyReq(L)
		bb := c.rq.body
		if bb == nil || bodyOf(c.r) == nil {
			luavm.Raise(L, "request_body not initialized")
		}
		if bb.inFile {
			if !c.writeBodyFile([]byte(data)) {
				luavm.Raise(L, "fail to write file")
			}
			bb.total += int64(len(data))
			return 0
		}
		for len(data) > 0 {
			if len(bb.buf) == bb.limit {
				if !c.writeBodyFile(bb.buf) {
					luavm.Raise(L, "fail to write file")
				}
				bb.buf = bb.buf[:0]
			}
			n := min(bb.limit-len(bb.buf), len(data))
			bb.buf = append(bb.buf, data[:n]...)
			data = data[n:]
			bb.total += int64(n)
		}
		return 0
	})
	fn("finish_body", func(L *glua.LState) int {
		if n := L.GetTop(); n != 0 {
			luavm.Raise(L, "expecting 0 argument but seen %d", n)
		}
		c := st.bodyReq(L)
		bb := c.rq.body
		b := bodyOf(c.r)
		if bb == nil || b == nil {
			luavm.Raise(L, "request_body not initialized")
		}
		if bb.file != nil {
			if len(bb.buf) > 0 && !c.writeBodyFile(bb.buf) {
				luavm.Raise(L, "fail to write file")
			}
			bb.buf = bb.buf[:0]
			if _, err := bb.file.Seek(0, 0); err != nil {
				luavm.Raise(L, "fail to write file")
			}
			b.ReplaceFile(bb.file, bb.total, true)
		} else {
			b.Replace(append([]byte(nil), bb.buf...))
		}
		c.r.SetInputContentLength(bb.total)
		return 0
	})
	fn("get_post_args", func(L *glua.LState) int {
		n := L.GetTop()
		if n != 0 && n != 1 {
			luavm.Raise(L, "expecting 0 or 1 arguments but seen %d", n)
		}
		max := maxArgsDefault
		if n == 1 {
			max = checkInteger(L, 1)
		}
		c := st.bodyReq(L)
		r := c.r
		if r.DiscardingBody() {
			L.Push(L.NewTable())
			return 1
		}
		b := bodyOf(r)
		if b == nil {
			luavm.Raise(L, "no request body found; maybe you should turn on lua_need_request_body?")
		}
		if b.File != nil {
			L.Push(glua.LNil)
			L.Push(glua.LString("request body in temp file not supported"))
			return 2
		}
		t := L.NewTable()
		if parseArgs(L, t, b.BodyBuffer(), max) {
			st.logf(errlog.Debug, "lua hit query args limit %d", max)
			L.Push(t)
			L.Push(glua.LString("truncated"))
			return 2
		}
		L.Push(t)
		return 1
	})
}

// bodyOf returns the request body r reads: a subrequest shares its
// parent's unless it was given one.
func bodyOf(r *http.Request) *http.RequestBody {
	if r.Body != nil || r.IsSubrequest() {
		// a subrequest has the body its parent had when it was made,
		// or none (ngx.location.capture may leave it out).
		return r.Body
	}
	return r.Main.Body
}

// bodyReq is the request check of the body functions: ngx_lua's
// "request object not found", then the fake request's refusal.
func (st *loopState) bodyReq(L *glua.LState) *reqCtx {
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "request object not found")
	}
	if c.r == nil {
		luavm.Raise(L, "API disabled in the current context")
	}
	return c
}

// bodyForWrite returns the body Lua code is about to replace, raising
// ngx_lua's errors when it was discarded or never read.
func (st *loopState) bodyForWrite(L *glua.LState, c *reqCtx) *http.RequestBody {
	if c.r.DiscardingBody() {
		luavm.Raise(L, "request body already discarded asynchronously")
	}
	b := bodyOf(c.r)
	if b == nil {
		luavm.Raise(L, "request body not read yet")
	}
	return b
}

// writeBodyFile appends data to the temporary file of the body being
// built, creating it on first use.
func (c *reqCtx) writeBodyFile(data []byte) bool {
	bb := c.rq.body
	r := c.r
	if bb.file == nil {
		f, err := r.NewBodyFile()
		if err != nil {
			return false
		}
		bb.file = f
		if !bb.inFile {
			r.Logf(errlog.Warn, "a client request body is buffered to a temporary file %s", f.Name())
		}
		name := f.Name()
		c.onCleanup(func() {
			if bb.file != nil && bodyOf(r) != nil && bodyOf(r).File != bb.file {
				bb.file.Close()
				os.Remove(name)
			}
		})
	}
	if _, err := bb.file.Write(data); err != nil {
		r.Logf(errlog.Crit, "write() \"%s\" failed %s", bb.file.Name(), errlog.Errno(err))
		return false
	}
	return true
}

// readBody is ngx.req.read_body(): the thread waits until the whole body
// has arrived.
func (st *loopState) readBody(L *glua.LState) int {
	if n := L.GetTop(); n != 0 {
		luavm.Raise(L, "expecting 0 arguments but seen %d", n)
	}
	c := st.cur()
	if c == nil || c.phase == PhaseInit {
		luavm.Raise(L, "request object not found")
	}
	if c.phase&bodyPhases == 0 {
		luavm.Raise(L, "API disabled in the context of %s", c.phase.contextName())
	}
	r := c.r
	inCall := true
	waiting, released := false, false
	var co *coCtx
	c.pin()
	rc := r.ReadBody(func(r *http.Request) {
		// the reference ReadBody took is not kept: the thread (or the
		// phase that waits for it) holds the request.
		if !released {
			r.Finalize(http.Done)
		}
		if inCall {
			return
		}
		if waiting {
			waiting = false
			co.wake()
		}
	})
	inCall = false
	if rc != http.OK {
		c.exited = true
		c.exitCode = rc
		return st.vm.Suspend(L)
	}
	if b := bodyOf(r); b == nil && r.IsSubrequest() || b != nil && (b.Done || r.DiscardingBody()) {
		// nginx reads no body for a subrequest.
		return 0
	}
	st.vm.CheckYieldable(L)
	// ngx_lua drops the read's reference at once: a thread killed while
	// it waits (ngx.exit in another one) leaves the request free to end,
	// and its connection is not kept alive.
	r.Release()
	released = true
	waiting = true
	co = st.curCo()
	co.cancel = func() {
		waiting = false
		r.NoKeepalive()
	}
	return st.vm.Suspend(L)
}

// checkLuaString is luaL_checklstring: a string or a number.
func checkLuaString(L *glua.LState, n int) string {
	switch v := L.Get(n).(type) {
	case glua.LString:
		return string(v)
	case glua.LNumber:
		return luavm.FormatNumber(float64(v))
	}
	luavm.TypeError(L, n, "string")
	return ""
}

// readBodyFirst reads the request body before rewrite_by_lua or
// access_by_lua code runs when lua_need_request_body is on, as ngx_lua's
// phase handlers do: it returns OK once the body is there, Done while it
// arrives (the phases run again afterwards), or an error status.
func readBodyFirst(st *loopState, r *http.Request) int {
	lc := r.Loc.LocConfOf(Module).(*LocConf)
	if !lc.NeedRequestBody.V {
		return http.OK
	}
	c := ctxOf(st, r)
	if c.rq.bodyRead {
		return http.OK
	}
	if c.rq.bodyWait {
		return http.Done
	}
	inCall := true
	c.pin()
	rc := r.ReadBody(func(r *http.Request) {
		c.rq.bodyRead = true
		// ngx_lua keeps no reference for the read.
		r.Finalize(http.Done)
		if !inCall && c.rq.bodyWait {
			c.rq.bodyWait = false
			r.RunPhases()
		}
	})
	inCall = false
	if rc != http.OK {
		return rc
	}
	if !c.rq.bodyRead {
		c.rq.bodyWait = true
		return http.Done
	}
	return http.OK
}
