package http

// An upgraded connection (WebSocket and other "101 Switching Protocols"
// answers to a request with Upgrade): once the 101 head is out, bytes are
// copied both ways between the client and the upstream, each direction
// stopping its source while the destination holds more than
// proxy_buffer_size unsent (ngx_http_upstream_process_upgraded). The
// upstream must send within proxy_read_timeout and take what is written
// to it within proxy_send_timeout; the client must take its bytes within
// send_timeout. Either side closing ends both once the other got what was
// pending for it.

import (
	"syscall"

	"gresty/errlog"
	"gresty/eventloop"
)

func (u *UpstreamRequest) startUpgrade(pre, rest []byte) {
	r := u.r
	if r != r.Main {
		u.r.Logf(errlog.Error, "connection upgrade in subrequest")
		u.finalize(Error)
		return
	}
	r.KeepAlive = false
	u.setAction("proxying upgraded connection")
	u.upgraded = true
	u.stopTimer()
	client := r.Conn.ec
	if r.Loc.TCPNodelay.V {
		client.SetNoDelay(true)
		u.ec.SetNoDelay(true)
	}
	u.armTimer(utRead, u.Conf.ReadTimeout)
	if len(pre) > 0 {
		u.upgradedFromUpstream(pre)
	}
	if len(rest) > 0 && !u.finished {
		u.upgradedFromUpstream(rest)
	}
	if u.finished {
		return
	}
	u.upgradedFromClient()
	if !u.finished && !r.Conn.eof {
		client.ResumeRead()
	}
	if !u.finished && r.Conn.eof {
		u.upgradedClientEOF()
	}
}

// upgradedFromUpstream copies upstream bytes to the client.
func (u *UpstreamRequest) upgradedFromUpstream(b []byte) {
	r := u.r
	client := r.Conn.ec
	if _, err := client.Write(b); err != nil {
		u.finalize(Error)
		return
	}
	r.BytesSent += int64(len(b))
	r.BodyBytesSent += int64(len(b))
	u.armTimer(utRead, u.Conf.ReadTimeout)
	if client.Throttle(u.ec, int(u.Conf.BufferSize), 0) {
		u.watchClient()
	}
}

// upgradedFromClient copies what the client sent to the upstream.
func (u *UpstreamRequest) upgradedFromClient() {
	c := u.r.Conn
	if u.finished || u.ec == nil || c.pos >= len(c.data) {
		return
	}
	data := c.data[c.pos:]
	c.pos = len(c.data)
	if _, err := u.ec.Write(data); err != nil {
		u.finalize(Error)
		return
	}
	u.queuedSent += int64(len(data))
	u.ec.Throttle(c.ec, int(u.Conf.BufferSize), 0)
	u.armSend()
}

// armSend starts proxy_send_timeout for bytes waiting to reach the
// upstream.
func (u *UpstreamRequest) armSend() {
	st := &u.store
	if st.wtimer == nil {
		st.wtimer = st.loop.NewTimer(u.sendTimedOut)
	}
	if !st.wtimer.Active() {
		st.wtimer.Reset(u.Conf.SendTimeout)
	}
}

func (u *UpstreamRequest) sendTimedOut() {
	if u.finished || u.ec == nil || u.ec.Buffered() == 0 {
		return
	}
	u.r.Logf(errlog.Error, "upstream timed out %s", eventloop.ErrnoText(syscall.ETIMEDOUT))
	u.finalize(504)
}

// upgradedUpstreamDrained: the upstream took everything written to it.
func (u *UpstreamRequest) upgradedUpstreamDrained() {
	if t := u.store.wtimer; t != nil {
		t.Stop()
	}
	if u.clientEOF {
		u.finalize(0)
	}
}

// upgradedClientEOF: the client closed its side.
func (u *UpstreamRequest) upgradedClientEOF() {
	if u.finished {
		return
	}
	u.clientEOF = true
	if u.ec == nil || u.ec.Buffered() == 0 || u.upstreamEOF {
		u.finalize(0)
	}
}

// upgradedUpstreamEOF: the upstream closed its side.
func (u *UpstreamRequest) upgradedUpstreamEOF() {
	r := u.r
	u.upstreamEOF = true
	if r.Conn.closed() || r.Conn.ec.Buffered() == 0 || u.clientEOF {
		u.finalize(0)
		return
	}
	r.drainHandler = upstreamUpgradedDrained
	u.watchClient()
}

// upstreamUpgradedDrained ends an upgraded connection whose upstream
// closed once the client took what was pending for it.
func upstreamUpgradedDrained(r *Request) {
	r.drainHandler = nil
	if u := r.UpstreamRequest(); u != nil {
		u.finalize(0)
	}
}
