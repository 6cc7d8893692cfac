package echo

import (
	"strconv"
	"time"

	"gresty/errlog"
	"gresty/eventloop"
	"gresty/http"
	"gresty/httpparse"
)

// reqCtx is the state of the command evaluator for one request
// (ngx_http_echo_ctx_t).
type reqCtx struct {
	// next is the index of the handler command running or next to run;
	// nextBefore and nextAfter those of the filter commands.
	next, nextBefore, nextAfter int

	foreach *foreachCtx

	// timerBegin is where $echo_timer_elapsed counts from; zero for the
	// request's start.
	timerBegin time.Time
	sleep      *eventloop.Timer
	counter    int

	beforeBodySent bool
	skipFilter     bool

	// waitReadBody is set while the handler waits for the request body;
	// bodyRead once the body reader called back.
	waitReadBody bool
	bodyRead     bool

	// waiting and done track a suspended command: waiting until its
	// event (a subrequest, a timer, the body) happened, done after.
	waiting, done bool

	// ranPostSubrequest guards the post-subrequest handler of the
	// subrequest this context was made for: nginx may finalize a
	// subrequest more than once.
	ranPostSubrequest bool
	// headerSent is set once the handler sent its header: a header
	// filter may keep r.HeaderSent unset.
	headerSent bool
}

// foreachCtx is the state of an echo_foreach_split loop.
type foreachCtx struct {
	choices  [][]byte
	next     int
	cmdIndex int
}

func getCtx(r *http.Request) *reqCtx {
	c, _ := r.Ctx(Module.TypeIndex).(*reqCtx)
	return c
}

// ensureCtx returns r's context, creating it.
func ensureCtx(r *http.Request) *reqCtx {
	if c := getCtx(r); c != nil {
		return c
	}
	c := &reqCtx{}
	r.SetCtx(Module.TypeIndex, c)
	return c
}

// handler is the content handler of a location with echo commands
// (ngx_http_echo_handler).
func handler(r *http.Request) int {
	rc := runCommands(r)
	switch rc {
	case http.Error, http.OK, http.Done, http.Declined:
		return rc
	}
	ctx := getCtx(r)
	if rc >= 300 {
		if ctx != nil && r.HeaderSent {
			return http.Error
		}
		return rc
	}
	// a command waits for an event: the request stays alive until the
	// write handler finishes it.
	r.Hold()
	if ctx != nil {
		ctx.waiting, ctx.done = true, false
	}
	return http.Done
}

// resume is the request's write handler while commands wait
// (ngx_http_echo_wev_handler): it goes on with the next command once the
// awaited event happened; before that, it only lets postponed output or
// subrequests of the request proceed.
func resume(r *http.Request) {
	ctx := getCtx(r)
	if ctx == nil {
		r.Finalize(http.Error)
		return
	}
	if ctx.waiting && !ctx.done {
		r.FlushPostponed()
		return
	}
	ctx.done = false
	ctx.next++
	rc := runCommands(r)
	switch rc {
	case http.Error, http.Done:
		r.Finalize(rc)
		return
	case http.Again:
		ctx.waiting, ctx.done = true, false
		return
	}
	ctx.waiting, ctx.done = false, true
	r.Finalize(rc)
}

// runCommands runs the handler commands from the context's position until
// one waits (Again), redirects (Done) or fails, then ends the response
// (ngx_http_echo_run_cmds).
func runCommands(r *http.Request) int {
	cmds := locConf(r).handler
	if cmds == nil {
		return http.Declined
	}
	ctx := ensureCtx(r)
	for ; ctx.next < len(cmds); ctx.next++ {
		cmd := cmds[ctx.next]
		args, opts := evalArgs(r, cmd)
		var rc int
		switch cmd.op {
		case opSync:
			rc = sendChainLink(r, ctx, []http.Buf{{}})
		case opEcho:
			rc = execEcho(r, ctx, args, opts, nil)
		case opRequestBody:
			rc = execRequestBody(r, ctx)
		case opLocationAsync, opLocation, opSubrequestAsync, opSubrequest:
			if r.Body == nil {
				// subrequests need the request body read first.
				ctx.next--
				rc, ok := readBody(r, ctx)
				if !ok {
					return rc
				}
				continue
			}
			switch cmd.op {
			case opLocationAsync:
				rc = execLocation(r, ctx, args, false)
			case opLocation:
				return execLocation(r, ctx, args, true)
			case opSubrequestAsync:
				rc = execSubrequest(r, ctx, args, false)
			default:
				return execSubrequest(r, ctx, args, true)
			}
		case opSleep, opBlockingSleep:
			// echo_blocking_sleep blocks the whole worker there; here it
			// waits like echo_sleep, so the loop serves others meanwhile.
			return execSleep(r, ctx, args)
		case opFlush:
			rc = r.SendFlush()
		case opResetTimer:
			r.Conn.Loop().UpdateTime()
			ctx.timerBegin = r.Conn.Loop().Now()
			rc = http.OK
		case opDuplicate:
			rc = execDuplicate(r, ctx, args)
		case opReadRequestBody:
			rc, ok := readBody(r, ctx)
			if !ok {
				return rc
			}
			continue
		case opForeachSplit:
			rc = execForeachSplit(r, ctx, args)
		case opEnd:
			rc = execEnd(r, ctx)
		case opExec:
			return execExec(r, args)
		default:
			r.Logf(errlog.Error, "unknown opcode: %d", int(cmd.op))
			return 500
		}
		if rc == http.Error || rc >= 300 {
			return rc
		}
	}
	rc := sendChainLink(r, ctx, nil)
	if rc == http.Error || rc >= 300 {
		return rc
	}
	if r.Body == nil && r.DiscardBody() != http.OK {
		return http.Error
	}
	return http.OK
}

// evalArgs evaluates a command's arguments. Leading literal arguments
// starting with '-' are options (without the '-'); "--" ends them and is
// dropped; an argument with variables or an empty one ends them too. The
// values are request or configuration memory, never written to.
func evalArgs(r *http.Request, cmd *command) (args, opts [][]byte) {
	args = make([][]byte, 0, len(cmd.args))
	expecting := true
	for i := range cmd.args {
		a := &cmd.args[i]
		if a.tpl == nil && len(a.raw) > 0 {
			if expecting {
				switch {
				case len(a.raw) == 1 || a.raw[0] != '-':
					expecting = false
				case a.raw[1] == '-':
					expecting = false
					continue
				default:
					opts = append(opts, a.raw[1:])
					continue
				}
			}
		} else {
			expecting = false
		}
		if a.tpl == nil {
			args = append(args, a.raw)
		} else {
			args = append(args, a.tpl.EvalBytes(r))
		}
	}
	return args, opts
}

// sendHeaderIfNeeded sends the handler's response header once: echo_status,
// the type of the URI's extension, no length, no ranges.
func sendHeaderIfNeeded(r *http.Request, ctx *reqCtx) int {
	if r.HeaderSent || ctx.headerSent {
		return http.OK
	}
	r.Out.Status = locConf(r).Status.V
	r.SetContentType()
	r.Out.ContentLength = -1
	r.Out.DelKnown(httpparse.HdrContentLength)
	r.Out.AllowRanges = false
	r.Out.DelKnown(httpparse.HdrAcceptRanges)
	rc := r.SendHeader()
	ctx.headerSent = true
	return rc
}

// sendChainLink sends bufs after the header; nil bufs end the response.
func sendChainLink(r *http.Request, ctx *reqCtx, bufs []http.Buf) int {
	rc := sendHeaderIfNeeded(r, ctx)
	if rc == http.Error || rc > http.OK || r.HeaderOnly {
		return rc
	}
	if bufs == nil {
		rc = r.SendLast()
		if rc >= 300 {
			return rc
		}
		return http.OK
	}
	return r.Output(bufs)
}

// execEcho outputs the arguments joined by blanks and a newline (none with
// -n): through the response, or in a filter to next.
func execEcho(r *http.Request, ctx *reqCtx, args, opts [][]byte, next http.BodyFilterFunc) int {
	n := 0
	for _, a := range args {
		n += len(a) + 1
	}
	out := r.Alloc(n)[:0]
	for i, a := range args {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, a...)
	}
	if len(opts) == 0 || string(opts[0]) != "n" {
		out = append(out, '\n')
	}
	if len(out) == 0 {
		return http.OK
	}
	bufs := []http.Buf{{Data: out}}
	if next != nil {
		return next(r, bufs)
	}
	return sendChainLink(r, ctx, bufs)
}

// execRequestBody outputs the request body read so far.
func execRequestBody(r *http.Request, ctx *reqCtx) int {
	b := r.Body
	if b == nil {
		return http.OK
	}
	data := b.Bytes()
	if b.File != nil {
		data = make([]byte, b.Received)
		n, err := b.File.ReadAt(data, 0)
		if err != nil && n < len(data) {
			r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
			return http.Error
		}
	}
	if len(data) == 0 {
		return http.OK
	}
	return sendChainLink(r, ctx, []http.Buf{{Data: data}})
}

// execDuplicate outputs the second argument repeated.
func execDuplicate(r *http.Request, ctx *reqCtx, args [][]byte) int {
	count, ok := atosz(args[0])
	if !ok {
		r.Logf(errlog.Error, "invalid size specified: \"%s\"", args[0])
		return 500
	}
	s := args[1]
	if count == 0 || len(s) == 0 {
		rc := sendHeaderIfNeeded(r, ctx)
		if rc == http.Error || rc > http.OK || r.HeaderOnly {
			return rc
		}
		return http.OK
	}
	out := r.Alloc(count * len(s))[:0]
	for i := 0; i < count; i++ {
		out = append(out, s...)
	}
	return sendChainLink(r, ctx, []http.Buf{{Data: out}})
}

// atosz reads a count: decimal digits, underscores ignored.
func atosz(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c == '_' {
			continue
		}
		if c < '0' || c > '9' || n > (1<<62)/10 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// readBody reads the request body for the handler. ok means it is there:
// the commands go on. Otherwise rc is Again (the body reader resumes the
// handler) or the failure.
func readBody(r *http.Request, ctx *reqCtx) (rc int, ok bool) {
	ctx.waitReadBody = false
	ctx.bodyRead = false
	rc = r.ReadBody(bodyRead)
	if rc == http.Error || rc >= 300 {
		return rc, false
	}
	// the reader's reference: the handler keeps its own while it waits.
	r.Release()
	if ctx.bodyRead {
		if r.Body == nil {
			// a subrequest reads its parent's body.
			r.Body = r.Main.Body
		}
		return http.OK, true
	}
	ctx.waitReadBody = true
	return http.Again, false
}

// bodyRead is the body reader's callback.
func bodyRead(r *http.Request) {
	ctx := getCtx(r)
	if ctx == nil {
		return
	}
	ctx.bodyRead = true
	if ctx.waitReadBody {
		ctx.waiting, ctx.done = false, true
		r.SetWriteHandler(resume)
		resume(r)
	}
}

// execSleep suspends the commands for a number of seconds (three
// decimals).
func execSleep(r *http.Request, ctx *reqCtx, args [][]byte) int {
	ms, ok := atofp(args[0], 3)
	if !ok {
		r.Logf(errlog.Error, "invalid sleep duration \"%s\"", args[0])
		return 400
	}
	t := r.Conn.Loop().AfterFunc(time.Duration(ms)*time.Millisecond, func() { sleepDone(r) })
	ctx.sleep = t
	r.AddCleanup(func() { t.Stop() })
	return http.Again
}

// sleepDone resumes the commands after a sleep.
func sleepDone(r *http.Request) {
	if r.Conn.EventConn().Closed() {
		return
	}
	r.Logf(errlog.Debug, "echo sleep event handler: \"%s?%s\"", r.URI, r.Args)
	ctx := getCtx(r)
	if ctx == nil {
		return
	}
	ctx.sleep = nil
	ctx.waiting, ctx.done = false, true
	resume(r)
}

// atofp is ngx_atofp: a decimal number with up to point fractional
// digits (more are ignored), scaled by 10^point.
func atofp(b []byte, point int) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var v int64
	dot := false
	for _, c := range b {
		if c == '.' {
			if dot {
				return 0, false
			}
			dot = true
			continue
		}
		if c < '0' || c > '9' {
			return 0, false
		}
		if point == 0 {
			continue
		}
		if v > (1<<63-1-int64(c-'0'))/10 {
			return 0, false
		}
		v = v*10 + int64(c-'0')
		if dot {
			point--
		}
	}
	for ; point > 0; point-- {
		if v > (1<<63-1)/10 {
			return 0, false
		}
		v *= 10
	}
	return v, true
}

// execForeachSplit starts a loop over the pieces of the second argument
// split by the first; with no piece the loop body is skipped.
func execForeachSplit(r *http.Request, ctx *reqCtx, args [][]byte) int {
	if ctx.foreach != nil {
		r.Logf(errlog.Error, "Nested echo_foreach not supported yet.")
		return 500
	}
	if len(args) < 2 {
		r.Logf(errlog.Error, "echo_foreach should take at least two arguments. (if your delimiter starts with \"-\", preceding it with a \"--\".)")
		return 500
	}
	delim, s := args[0], args[1]
	fe := &foreachCtx{cmdIndex: ctx.next}
	ctx.foreach = fe
	for len(delim) > 0 {
		i := indexBytes(s, delim)
		if i < 0 {
			break
		}
		if i > 0 {
			fe.choices = append(fe.choices, s[:i])
		}
		s = s[i+len(delim):]
	}
	if len(s) > 0 {
		fe.choices = append(fe.choices, s)
	}
	if len(fe.choices) == 0 {
		cmds := locConf(r).handler
		for ; ctx.next+1 < len(cmds); ctx.next++ {
			if cmds[ctx.next+1].op == opEnd {
				return http.OK
			}
		}
	}
	return http.OK
}

func indexBytes(s, sep []byte) int {
	for i := 0; i+len(sep) <= len(s); i++ {
		if string(s[i:i+len(sep)]) == string(sep) {
			return i
		}
	}
	return -1
}

// execEnd ends an iteration of the loop: back to its first command, or
// past the loop after the last piece.
func execEnd(r *http.Request, ctx *reqCtx) int {
	fe := ctx.foreach
	if fe == nil {
		r.Logf(errlog.Error, "Found a echo_end that has no corresponding echo_foreach before it.")
		return http.Error
	}
	fe.next++
	if fe.next >= len(fe.choices) {
		ctx.foreach = nil
		return http.OK
	}
	ctx.next = fe.cmdIndex
	return http.OK
}

// execExec redirects internally to a URI or a named location.
func execExec(r *http.Request, args [][]byte) int {
	uri := args[0]
	if len(uri) == 0 {
		return 400
	}
	var userArgs []byte
	hasArgs := len(args) > 1
	if hasArgs {
		userArgs = args[1]
	}
	path, qargs, ok := r.ParseUnsafeURI(uri)
	if !ok {
		r.Logf(errlog.Debug, "echo_exec sees unsafe uri: \"%s\"", uri)
		return http.Error
	}
	if len(qargs) > 0 && !hasArgs {
		userArgs, hasArgs = qargs, true
	}
	r.SetWriteHandler(nil)
	if path[0] == '@' {
		if hasArgs && len(userArgs) > 0 {
			r.Logf(errlog.Warn, "querystring %s ignored when exec'ing named location %s", userArgs, path)
		}
		return r.NamedLocation(string(path))
	}
	return r.InternalRedirect(path, userArgs)
}

// formatElapsed formats milliseconds as seconds with three decimals.
func formatElapsed(dst []byte, ms int64) []byte {
	if ms < 0 {
		ms = 0
	}
	dst = strconv.AppendInt(dst, ms/1000, 10)
	f := ms % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}
