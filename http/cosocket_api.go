package http

// This file is what ngx_lua's request sockets (ngx.req.socket) need of the
// client connection: the bytes read past the request head that no body
// reader took, handlers for more input and for the client's FIN, and a
// way to take the connection over for raw I/O. Every method runs on the
// request's loop.

// PendingInput returns the client's bytes read and not consumed yet: the
// rest of the request body, or anything a raw reader is to get. The slice
// aliases the connection's input buffer and is valid until the next read
// or ConsumeInput; copy what must outlive that.
func (r *Request) PendingInput() []byte {
	c := r.Main.Conn
	if c.pos >= len(c.data) {
		return nil
	}
	return c.data[c.pos:]
}

// ConsumeInput marks n bytes of PendingInput as consumed; they count in
// $request_length as body bytes do.
func (r *Request) ConsumeInput(n int) {
	mr := r.Main
	c := mr.Conn
	if n > len(c.data)-c.pos {
		n = len(c.data) - c.pos
	}
	c.pos += n
	mr.RequestLength += int64(n)
}

// ClientEOF reports whether the client closed its side of the connection.
func (r *Request) ClientEOF() bool { return r.Main.Conn.eof }

// SetReadHandler makes f run whenever the client sends more bytes while
// the request is active (PendingInput has them); nil stops that.
func (r *Request) SetReadHandler(f func(r *Request)) { r.Main.readHandler = f }

// SetEOFHandler makes f run when the client closes its side of the
// connection; nil stops that.
func (r *Request) SetEOFHandler(f func(r *Request)) { r.Main.eofHandler = f }

// NoKeepalive ends the connection after this request with a lingering
// close: its input is no longer a sequence of requests (a raw socket took
// it over, or a body was left half read).
func (r *Request) NoKeepalive() {
	mr := r.Main
	mr.KeepAlive = false
	mr.Conn.lingering = true
}

// BodyReading reports whether a body reader is still reading the request
// body.
func (r *Request) BodyReading() bool {
	b := r.Main.Body
	return b != nil && b.reading
}

// Discarding reports whether the request body is being discarded.
func (r *Request) Discarding() bool { return r.Main.discarding || r.Main.discardBody }

// TestExpect answers "Expect: 100-continue" before a body is read, once
// (ngx_http_test_expect). It returns OK or Error.
func (r *Request) TestExpect() int { return r.Main.testExpect() }
