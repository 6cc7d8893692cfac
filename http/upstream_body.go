package http

// The response body relay. The upstream's body is decoded (length,
// chunked or close-delimited, as the proxy module's input filters) and
// passed to the body filters piece by piece, with flow control both ways:
//
//   - unbuffered (proxy_buffering off): pieces go out as they come; when the
//     client holds more than proxy_buffer_size unsent, reading from the
//     upstream stops until the client has taken it all.
//   - buffered: up to proxy_buffers bytes wait in memory for the client;
//     beyond that the body is spooled to a temporary file under
//     proxy_temp_path (up to proxy_max_temp_file_size written) and queued
//     from there with sendfile, so the upstream is read at its own pace
//     and released early; past the limit reading stops until the client
//     caught up, as nginx's event pipe does when its buffers are busy.

import (
	"errors"
	"io"
	"os"
	"path/filepath"

	"gresty/errlog"
	"gresty/httpparse"
)

// startBody begins the relay with the bytes that came with the head: pre
// (inside the head buffer) and rest (what did not fit in it).
func (u *UpstreamRequest) startBody(pre, rest []byte) {
	resp := &u.resp
	status := u.status()
	switch {
	case status == 204 || status == 304 || u.HeadRequest:
		u.framing = httpparse.BodyNone
		u.length = 0
		u.keepalive = !u.connClose
	case resp.Chunked && !u.http09:
		u.framing = httpparse.BodyChunked
		u.length = -1
	case resp.ContentLength == 0 && !u.http09:
		u.framing = httpparse.BodyNone
		u.length = 0
		u.keepalive = !u.connClose
	case resp.ContentLength > 0 && !u.http09:
		u.framing = httpparse.BodyLength
		u.length = resp.ContentLength
	default:
		u.framing = httpparse.BodyClose
		u.length = -1
	}
	u.setAction("reading upstream")
	u.storeStart()
	if !u.buffering {
		u.r.LimitRate, u.r.limitRateSet = 0, true
		if u.r.Loc.TCPNodelay.V {
			u.r.Conn.ec.SetNoDelay(true)
		}
	}
	if u.framing == httpparse.BodyNone {
		u.finalize(0)
		return
	}
	u.armTimer(utRead, u.Conf.ReadTimeout)
	if u.buffering && cap(u.pend) < int(u.Conf.Bufs.Size) {
		// X-Accel-Buffering turned buffering on
		u.pend = u.r.Alloc(int(u.Conf.Bufs.Size))[:0]
	}
	u.pend = u.pend[:0]
	if len(pre) > 0 {
		u.states[u.state].ResponseLength += int64(len(pre))
		if !u.body(pre) {
			return
		}
	}
	if len(rest) > 0 {
		u.states[u.state].ResponseLength += int64(len(rest))
		if !u.body(rest) {
			return
		}
	}
	// Unbuffered, nginx relays the bytes that came with the head and
	// goes on reading the upstream in the same call, while "sending to
	// client": a FIN already reported is met there and named so.
	u.eofWhileSending = !u.buffering && len(pre)+len(rest) > 0 && u.ec != nil && u.ec.PeerClosed()
	if u.Conf.LimitRate > 0 && u.buffering {
		u.paceRead(int64(len(pre) + len(rest)))
	} else if u.Conf.LimitRate > 0 && u.ec != nil {
		u.ec.SetReadMax(0)
	}
}

// body takes raw body bytes read from the upstream. Unbuffered, they are
// relayed at once. Buffered, they are gathered into buffers of the
// proxy_buffers size, each relayed when full, when it holds the rest of
// the body, or at the upstream's close, as nginx's event pipe hands its
// buffers to the input filter; a buffer not relayed when the upstream
// fails is lost, as in nginx. It reports false once the relay ended.
func (u *UpstreamRequest) body(b []byte) bool {
	if u.finished {
		return false
	}
	if u.timerKind == utRead || u.timerKind == utNone {
		u.armTimer(utRead, u.Conf.ReadTimeout)
	}
	if !u.buffering {
		return u.decode(b)
	}
	for len(b) > 0 {
		n := cap(u.pend) - len(u.pend)
		if n > len(b) {
			n = len(b)
		}
		u.pend = append(u.pend, b[:n]...)
		b = b[n:]
		if len(u.pend) == cap(u.pend) && !u.flushPending() {
			return false
		}
	}
	if len(u.pend) == 0 {
		return true
	}
	var want int64 = -1
	switch u.framing {
	case httpparse.BodyLength:
		want = u.length
	case httpparse.BodyChunked:
		want = u.chunked.MinRemaining()
	}
	if want >= 0 && int64(len(u.pend)) >= want {
		return u.flushPending()
	}
	return true
}

// flushPending relays the gathered buffer.
func (u *UpstreamRequest) flushPending() bool {
	p := u.pend
	u.pend = u.pend[:0]
	return u.decode(p)
}

// decode relays body bytes through the body's framing. It reports false
// once the relay ended.
func (u *UpstreamRequest) decode(b []byte) bool {
	if u.raw != nil {
		return u.rawDecode(b)
	}
	switch u.framing {
	case httpparse.BodyClose:
		return u.output(b)
	case httpparse.BodyLength:
		if u.length == 0 {
			u.r.Logf(errlog.Warn, "upstream sent more data than specified in \"Content-Length\" header")
			u.keepalive = false
			u.finalize(0)
			return false
		}
		if int64(len(b)) > u.length {
			u.r.Logf(errlog.Warn, "upstream sent more data than specified in \"Content-Length\" header")
			b = b[:u.length]
			u.length = 0
			u.keepalive = false
			if !u.output(b) {
				return false
			}
			u.finalize(0)
			return false
		}
		u.length -= int64(len(b))
		if u.length == 0 {
			u.keepalive = !u.connClose
			if !u.output(b) {
				return false
			}
			u.finalize(0)
			return false
		}
		return u.output(b)
	case httpparse.BodyChunked:
		for len(b) > 0 {
			n, data, err := u.chunked.Decode(b)
			b = b[n:]
			if len(data) > 0 && !u.output(data) {
				return false
			}
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) {
				u.keepalive = !u.connClose
				if len(b) > 0 {
					u.r.Logf(errlog.Warn, "upstream sent data after final chunk")
					u.keepalive = false
				}
				u.finalize(0)
				return false
			}
			u.r.Logf(errlog.Error, "upstream sent invalid chunked response")
			u.finalize(Error)
			return false
		}
		return true
	}
	return true
}

// bodyEOF: the upstream closed while the body was relayed.
func (u *UpstreamRequest) bodyEOF() {
	if u.finished {
		return
	}
	if u.eofWhileSending {
		u.setAction("sending to client")
	} else {
		u.setAction("reading upstream")
	}
	if u.buffering && len(u.pend) > 0 && !u.flushPending() {
		return
	}
	if u.framing == httpparse.BodyClose {
		u.finalize(0)
		return
	}
	if len(u.held) > 0 && !u.outputHeld() {
		return
	}
	u.r.Logf(errlog.Error, "upstream prematurely closed connection")
	u.finalize(502)
}

// output passes one piece of the body to the filters and applies flow
// control. It reports false when the relay ended.
func (u *UpstreamRequest) output(b []byte) bool {
	r := u.r
	u.storeWrite(b)
	if u.buffering && !u.fileMode && r != r.Conn.active {
		// nginx's event pipe writes to a request that is not the
		// connection's active one (a Lua capture) only once the
		// upstream is done, closed or failed: held until then, and
		// lost if the upstream fails (timeout, error).
		u.held = append(u.held, b...)
		return true
	}
	if len(u.held) > 0 && !u.outputHeld() {
		return false
	}
	bufs := u.obuf[:]
	if u.buffering && u.fileMode {
		off, ok := u.spool(b)
		if !ok {
			u.finalize(Error)
			return false
		}
		bufs[0] = Buf{File: u.tfBuf, FilePos: off, FileLen: int64(len(b))}
	} else {
		bufs[0] = Buf{Data: b, Flush: !u.buffering}
	}
	if u.buffering {
		// nginx's event pipe writes to the client "sending to client",
		// and reads on "reading upstream".
		u.setAction("sending to client")
	}
	rc := r.Output(bufs)
	if u.buffering && !u.finished {
		u.setAction("reading upstream")
	}
	if rc == Error {
		u.finalize(Error)
		return false
	}
	if u.finished {
		return false
	}
	u.flowControl()
	return true
}

// outputHeld passes what output held back to the filters. It reports
// false when the relay ended.
func (u *UpstreamRequest) outputHeld() bool {
	bufs := u.obuf[:]
	bufs[0] = Buf{Data: u.held}
	u.held = nil
	if rc := u.r.Output(bufs); rc == Error {
		u.finalize(Error)
		return false
	}
	return !u.finished
}

// flowControl decides after each piece whether the upstream may be read
// on, and whether the buffered relay goes to the temporary file.
func (u *UpstreamRequest) flowControl() {
	r := u.r
	c := r.Conn
	// a subrequest's output is gathered for its parent, not queued for
	// the client: the client's pace does not govern it.
	if c.closed() || u.ec == nil || r != r.Main {
		return
	}
	queued := c.ec.Buffered()
	if !u.buffering {
		if queued > int(u.Conf.BufferSize) {
			u.pause()
		}
		return
	}
	mem := int(int64(u.Conf.Bufs.Num) * u.Conf.Bufs.Size)
	if u.fileMode {
		// everything read from now on goes to the file, whatever the
		// client's pace, until the file reaches its limit (nginx's
		// event pipe reads ahead the same way).
		if u.Conf.MaxTempFileSize > 0 && u.tfOff >= u.Conf.MaxTempFileSize {
			u.pause()
		}
		return
	}
	if queued <= mem && !r.copyHeld() {
		return
	}
	if u.Conf.MaxTempFileSize > 0 && u.tfOff < u.Conf.MaxTempFileSize && u.Conf.TempPath != nil {
		u.fileMode = true
		u.fileSince = u.tfOff
		u.drainHook = dhResume
		return
	}
	u.pause()
}

// pause stops reading the upstream until the client has taken what is
// queued for it.
func (u *UpstreamRequest) pause() {
	if u.paused {
		return
	}
	u.paused = true
	u.ec.PauseRead()
	u.drainHook = dhResume
	u.watchClient()
}

// Drain hooks: what an upstream waits for when the client's queue drains.
// They are the upstream's own, not the request's drain handler, which
// the filters (the copy filter) use meanwhile.
const (
	dhNone   uint8 = iota
	dhResume       // read the upstream again (clientDrained)
	dhFinish       // finish the request (upstreamOutputSent)
)

// onClientDrain runs the upstream's drain hook; the connection calls it
// after the request's drain handler.
func (u *UpstreamRequest) onClientDrain() {
	switch u.drainHook {
	case dhResume:
		u.drainHook = dhNone
		u.clientDrained()
	case dhFinish:
		if u.r.Conn.ec.Buffered() == 0 {
			u.drainHook = dhNone
			upstreamOutputSent(u.r)
		}
	}
}

func (u *UpstreamRequest) clientDrained() {
	if u.finished {
		return
	}
	// back to memory, unless the copy filter still holds earlier file
	// ranges: bytes in memory would pile up behind them.
	if !u.r.copyHeld() {
		u.fileMode = false
	}
	if t := u.store.ctimer; t != nil {
		t.Stop()
	}
	if u.paused {
		u.paused = false
		if u.rateDelayed {
			// proxy_limit_rate's timer resumes reading.
			return
		}
		if u.ec != nil {
			u.ec.ResumeRead()
		}
		u.armTimer(utRead, u.Conf.ReadTimeout)
	}
}

// spool appends b to the response's temporary file, creating it on first
// use, and returns the offset it was written at.
func (u *UpstreamRequest) spool(b []byte) (int64, bool) {
	r := u.r
	if u.tf == nil {
		f, name, err := createTempFile(u.Conf.TempPath)
		if err != nil {
			r.Logf(errlog.Crit, "open() \"%s\" failed %s", name, errlog.Errno(err))
			return 0, false
		}
		u.tf, u.tfBuf = f, NewFile(f)
		u.r.Logf(errlog.Warn, "an upstream response is buffered to a temporary file %s", name)
	}
	off := u.tfOff
	if _, err := u.tf.WriteAt(b, off); err != nil {
		r.Logf(errlog.Crit, "pwrite() \"%s\" failed %s", u.tf.Name(), errlog.Errno(err))
		return 0, false
	}
	u.tfOff += int64(len(b))
	return off, true
}

// createTempFile opens a new temporary file in p, creating the hashed
// directories as needed, and unlinks it at once as nginx does with
// temporary files nobody keeps.
func createTempFile(p *TempPath) (*os.File, string, error) {
	f, name, err := p.openTempFile()
	if err == nil {
		os.Remove(name)
	}
	return f, name, err
}

// openTempFile creates a new file in p with the next free number,
// creating the hashed directories as needed (ngx_create_temp_file).
func (p *TempPath) openTempFile() (*os.File, string, error) {
	var name string
	var err error
	for i := 0; i < 16; i++ {
		name = p.TempFileName(NextTempNumber())
		var f *os.File
		f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil && os.IsNotExist(err) {
			if os.MkdirAll(filepath.Dir(name), 0o700) == nil {
				f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			}
		}
		if err == nil {
			return f, name, nil
		}
		if !os.IsExist(err) {
			return nil, name, err
		}
		tempSeq.Add(tempJump)
	}
	return nil, name, err
}
