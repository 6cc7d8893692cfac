package http

import "gresty/core"

// This file holds what the log, access, auth_basic and stub_status modules
// need from the core: a hook after the http block and the request details
// the access log reports.

// AfterParse registers f to run once the whole http block has been built
// (variables resolved, servers and listen addresses checked), for work
// nginx does only after parsing, such as opening log files: errors found
// while parsing are then reported first, as nginx reports them.
func (cf *Conf) AfterParse(f func() error) { cf.afterParse = append(cf.afterParse, f) }

// LogStatus returns the status nginx's $status reports for r: the status
// of the error page being sent, else the response status, else 9 for an
// HTTP/0.9 request and 0 when no response was made. A request whose
// client went away before anything was sent reports 499. Loop goroutine
// only.
func (r *Request) LogStatus() int {
	if r.errStatus != 0 {
		return r.errStatus
	}
	st := r.Out.Status
	if r.logStatus != 0 && (st == 0 || r.BytesSent == 0) {
		return r.logStatus
	}
	if st != 0 {
		return st
	}
	if r.HTTPVersion == 9 {
		return 9
	}
	return 0
}

// Pipelined tells whether r was read from input that followed the previous
// request on its connection before that one was done (nginx's
// r->pipeline, $pipe).
func (r *Request) Pipelined() bool { return r.pipeline }

// MainConfOf returns module m's http-level configuration, from any
// configuration hook or directive of the http block.
func (cf *Conf) MainConfOf(m *core.Module) any { return cf.ctx.Main[m.TypeIndex] }

// HTTPLocConfOf returns module m's location configuration at the http
// level, where a directive of its location configuration allowed only in
// the http block is kept.
func (cf *Conf) HTTPLocConfOf(m *core.Module) any { return cf.ctx.Loc[m.TypeIndex] }
