package echo

import (
	"strconv"

	"gresty/http"
)

// addVariables defines the $echo_* variables. Their values are request
// memory, or the request's own fields, never written to.
func addVariables(cf *http.Conf) error {
	nc := http.VarNoCacheable
	for _, v := range []*http.Variable{
		{Name: "echo_timer_elapsed", Get: timerElapsed, Flags: nc},
		{Name: "echo_request_method", Get: func(r *http.Request, _ any) ([]byte, bool) {
			return []byte(r.MethodName), r.MethodName != ""
		}, Flags: nc},
		{Name: "echo_cacheable_request_uri", Get: requestURI},
		{Name: "echo_request_uri", Get: requestURI, Flags: nc},
		{Name: "echo_client_request_method", Get: func(r *http.Request, _ any) ([]byte, bool) {
			return []byte(r.Main.MethodName), r.Main.MethodName != ""
		}, Flags: nc},
		{Name: "echo_request_body", Get: requestBody, Flags: nc},
		{Name: "echo_client_request_headers", Get: func(r *http.Request, _ any) ([]byte, bool) {
			h := r.ClientHead()
			return h, h != nil
		}, Flags: nc},
		{Name: "echo_it", Get: it, Flags: nc},
		{Name: "echo_incr", Get: incr, Flags: nc},
		{Name: "echo_response_status", Get: func(r *http.Request, _ any) ([]byte, bool) {
			if r.Out.Status == 0 {
				return nil, false
			}
			return strconv.AppendInt(r.Alloc(4)[:0], int64(r.Out.Status), 10), true
		}, Flags: nc},
	} {
		if _, err := cf.AddVariable(v); err != nil {
			return err
		}
	}
	return nil
}

// timerElapsed is the time since the request started or the last
// echo_reset_timer, on a refreshed clock, as "seconds.milliseconds".
func timerElapsed(r *http.Request, _ any) ([]byte, bool) {
	ctx := ensureCtx(r)
	begin := ctx.timerBegin
	if begin.IsZero() {
		begin = r.StartTime
		ctx.timerBegin = begin
	}
	l := r.Conn.Loop()
	l.UpdateTime()
	return formatElapsed(r.Alloc(24)[:0], l.Now().Sub(begin).Milliseconds()), true
}

func requestURI(r *http.Request, _ any) ([]byte, bool) {
	return r.URI, len(r.URI) > 0
}

// requestBody is the request body when it is all in memory.
func requestBody(r *http.Request, _ any) ([]byte, bool) {
	b := r.Body
	if b == nil || b.File != nil {
		return nil, false
	}
	data := b.Bytes()
	if len(data) == 0 {
		return nil, false
	}
	return data, true
}

// it is the current piece of echo_foreach_split.
func it(r *http.Request, _ any) ([]byte, bool) {
	ctx := getCtx(r)
	if ctx == nil || ctx.foreach == nil || ctx.foreach.next >= len(ctx.foreach.choices) {
		return nil, false
	}
	return ctx.foreach.choices[ctx.foreach.next], true
}

// incr counts up per main request, from 1.
func incr(r *http.Request, _ any) ([]byte, bool) {
	ctx := getCtx(r.Main)
	if ctx == nil {
		return nil, false
	}
	ctx.counter++
	return strconv.AppendInt(r.Alloc(20)[:0], int64(ctx.counter), 10), true
}
