package memc

import (
	"bytes"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// Outcomes of parsing a one-part reply.
const (
	replyMore = iota
	replyDone
	replyInvalid
)

// alt is one reply a command may get: its status and length when b
// starts with all of it (replyDone), replyMore when b is a beginning of
// it, replyInvalid with how far it matched otherwise.
type alt func(b []byte) (status, n, res int)

func fixed(text string, status int) alt {
	return func(b []byte) (int, int, int) {
		n := commonPrefix(b, text)
		switch {
		case n == len(text):
			return status, n, replyDone
		case n == len(b):
			return 0, n, replyMore
		}
		return 0, n, replyInvalid
	}
}

// errorLine is CLIENT_ERROR and SERVER_ERROR: a message up to CRLF.
func errorLine(prefix string) alt {
	return func(b []byte) (int, int, int) {
		k := commonPrefix(b, prefix)
		if k < len(prefix) {
			if k == len(b) {
				return 0, k, replyMore
			}
			return 0, k, replyInvalid
		}
		end := bytes.Index(b[k:], []byte("\r\n"))
		if end < 0 {
			return 0, len(b), replyMore
		}
		return 502, k + end + 2, replyDone
	}
}

func prefixed(prefix string) alt {
	return func(b []byte) (int, int, int) { return parsePrefixed(b, prefix, 0) }
}

var (
	errorAlts   = []alt{fixed("ERROR\r\n", 502), errorLine("CLIENT_ERROR "), errorLine("SERVER_ERROR ")}
	storageAlts = append([]alt{fixed("STORED\r\n", 201), fixed("NOT_STORED\r\n", 200), fixed("EXISTS\r\n", 200),
		fixed("NOT_FOUND\r\n", 404)}, errorAlts...)
	deleteAlts  = append([]alt{fixed("DELETED\r\n", 200), fixed("NOT_FOUND\r\n", 404)}, errorAlts...)
	flushAlts   = append([]alt{fixed("OK\r\n", 200)}, errorAlts...)
	numberAlts  = append([]alt{parseNumber, fixed("NOT_FOUND\r\n", 404)}, errorAlts...)
	versionAlts = append([]alt{prefixed("VERSION ")}, errorAlts...)
	statsAlts   = append([]alt{parseStats}, errorAlts...)
)

// parseReply reads the reply to a command other than get from the start
// of b: its status and length, or replyMore, or replyInvalid with the
// offset of the first byte that cannot belong to a reply.
func parseReply(cmd command, b []byte) (status, n, res int) {
	var alts []alt
	switch {
	case cmd.storage():
		alts = storageAlts
	case cmd == cmdDelete:
		alts = deleteAlts
	case cmd == cmdFlushAll:
		alts = flushAlts
	case cmd == cmdIncr || cmd == cmdDecr:
		alts = numberAlts
	case cmd == cmdVersion:
		alts = versionAlts
	default:
		alts = statsAlts
	}
	more, bad := false, 0
	for _, a := range alts {
		st, n, res := a(b)
		switch res {
		case replyDone:
			return st, n, res
		case replyMore:
			more = true
		default:
			bad = max(bad, n)
		}
	}
	if more {
		return 0, len(b), replyMore
	}
	return 0, bad, replyInvalid
}

func commonPrefix(b []byte, s string) int {
	n := 0
	for n < len(b) && n < len(s) && b[n] == s[n] {
		n++
	}
	return n
}

// parseNumber reads incr's and decr's reply: digits, maybe spaces, CRLF.
func parseNumber(b []byte) (status, n, res int) {
	i := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i == 0 {
		if len(b) == 0 {
			return 0, 0, replyMore
		}
		return 0, 0, replyInvalid
	}
	for i < len(b) && b[i] == ' ' {
		i++
	}
	switch {
	case i == len(b):
		return 0, i, replyMore
	case b[i] != '\r':
		return 0, i, replyInvalid
	case i+1 == len(b):
		return 0, i + 1, replyMore
	case b[i+1] != '\n':
		return 0, i + 1, replyInvalid
	}
	return 201, i + 2, replyDone
}

// parsePrefixed reads a one-line reply made of prefix and at least one
// more byte (version's "VERSION 1.6.9").
func parsePrefixed(b []byte, prefix string, from int) (status, n, res int) {
	k := commonPrefix(b[from:], prefix)
	if k < len(prefix) {
		if from+k == len(b) {
			return 0, from + k, replyMore
		}
		return 0, from + k, replyInvalid
	}
	start := from + len(prefix)
	end := bytes.Index(b[start:], []byte("\r\n"))
	switch {
	case end < 0:
		return 0, len(b), replyMore
	case end == 0:
		// an empty text: the CRLF is taken as its first bytes
		next := bytes.Index(b[start+2:], []byte("\r\n"))
		if next < 0 {
			return 0, len(b), replyMore
		}
		return 200, start + 2 + next + 2, replyDone
	}
	return 200, start + end + 2, replyDone
}

// parseStats reads stats' reply: STAT lines up to END.
func parseStats(b []byte) (status, n, res int) {
	i := 0
	for {
		rest := b[i:]
		if k := commonPrefix(rest, "END\r\n"); k == len("END\r\n") {
			return 200, i + k, replyDone
		} else if k == len(rest) {
			return 0, len(b), replyMore
		}
		st, n, res := parsePrefixed(b, "STAT ", i)
		if res != replyDone {
			return st, n, res
		}
		i = n
	}
}

// ProcessHeader implements http.UpstreamRawProtocol.
func (q *query) ProcessHeader(u *http.UpstreamRequest, buf []byte) http.RawHead {
	if q.cmd == cmdGet {
		return q.getHeader(u, buf)
	}
	status, n, res := parseReply(q.cmd, buf)
	switch res {
	case replyMore:
		q.parsed = len(buf)
		return http.RawHead{Result: http.RawAgain}
	case replyInvalid:
		u.Logf(errlog.Error, "memcached sent invalid response for command \"%s\" at pos %d: %s",
			q.cmdName, n-q.parsed, buf[:n])
		// a 502 answered with what was read before the bad byte left
		// out; the connection is not kept.
		return http.RawHead{Result: http.RawOK, Status: 502, HeadLen: n, ContentLength: -1}
	}
	return http.RawHead{Result: http.RawOK, Status: status, HeadLen: n, Body: buf[:n:n],
		ContentLength: int64(n), Keepalive: true, Intercept: status == 404}
}

// getHeader reads the first line of get's reply.
func (q *query) getHeader(u *http.UpstreamRequest, buf []byte) http.RawHead {
	r := u.Request()
	q.get.Key = q.key
	return q.get.Head(u, buf, func(flags, _ []byte) bool {
		r.SetIndexedVar(q.m.flagsIdx, r.Keep(flags))
		if q.lc.FlagsToLastModified.V {
			if t, ok := httpparse.Atoof(flags); ok {
				r.Out.LastModified = t
			} else {
				r.Out.LastModified = -1
			}
		}
		return true
	})
}

// GetReply reads the reply to a memcached get of Key (the key as sent,
// escaped): "VALUE key flags bytes", the value and "END", or "END" alone
// (ngx_http_memcached_process_header and ngx_http_memcached_filter, which
// memc and the stock memcached module share).
type GetReply struct {
	Key []byte
	// the value's bytes and the trailer still expected
	length, rest int64
}

// Head reads the reply's first line: a 200 whose value FilterBody
// relays, a 404 (intercepted, as the modules hard-code intercept_404)
// for END, or an invalid response. flags sees the flags of a value (and
// the line); it refuses them by returning false (the reply is then
// invalid, and flags logged why).
func (g *GetReply) Head(u *http.UpstreamRequest, buf []byte, flags func(flags, line []byte) bool) http.RawHead {
	lf := bytes.IndexByte(buf, '\n')
	if lf < 0 {
		return http.RawHead{Result: http.RawAgain}
	}
	line := buf[:max(lf-1, 0)]
	p := buf[:lf]
	invalid := http.RawHead{Result: http.RawInvalid}
	if v, ok := bytes.CutPrefix(p, []byte("VALUE ")); ok {
		if !bytes.HasPrefix(v, g.Key) {
			u.Logf(errlog.Error, "memcached sent invalid key in response \"%s\" for key \"%s\"", line, g.Key)
			return invalid
		}
		v = v[len(g.Key):]
		if len(v) == 0 || v[0] != ' ' {
			u.Logf(errlog.Error, "memcached sent invalid response: \"%s\"", line)
			return invalid
		}
		v = v[1:]
		sp := bytes.IndexByte(v, ' ')
		if sp < 0 {
			u.Logf(errlog.Error, "memcached sent invalid response: \"%s\"", line)
			return invalid
		}
		if !flags(v[:sp], line) {
			return invalid
		}
		num := v[sp+1:]
		if cr := bytes.IndexByte(num, '\r'); cr >= 0 {
			num = num[:cr]
		} else if len(num) > 0 {
			num = num[:len(num)-1]
		}
		length, ok := httpparse.Atoof(num)
		if !ok {
			u.Logf(errlog.Error, "memcached sent invalid length in response \"%s\" for key \"%s\"", line, g.Key)
			return invalid
		}
		g.length, g.rest = length+int64(len(trailer)), int64(len(trailer))
		return http.RawHead{Result: http.RawOK, Status: 200, HeadLen: lf + 1, ContentLength: length,
			Length: g.length}
	}
	if string(p) == "END\r" {
		u.Logf(errlog.Info, "key: \"%s\" was not found by memcached", g.Key)
		return http.RawHead{Result: http.RawOK, Status: 404, HeadLen: lf + 1, ContentLength: -1,
			Keepalive: true, Intercept: true}
	}
	u.Logf(errlog.Error, "memcached sent invalid response: \"%s\"", line)
	return invalid
}

// FilterBody implements http.UpstreamRawProtocol: get's value goes to the
// client, the trailer that ends it is checked.
func (q *query) FilterBody(u *http.UpstreamRequest, b []byte) (data []byte, done, keepalive bool) {
	return q.get.Filter(u, b)
}

// Filter takes the bytes after the first line: the value, which it
// returns, and the trailer, which it checks ("memcached sent invalid
// trailer"); done once both are read, with whether the connection may
// be kept.
func (g *GetReply) Filter(u *http.UpstreamRequest, b []byte) (data []byte, done, keepalive bool) {
	end := int64(len(trailer))
	if g.length == g.rest {
		if int64(len(b)) > g.rest || string(b) != trailer[end-g.rest:end-g.rest+int64(len(b))] {
			u.Logf(errlog.Error, "memcached sent invalid trailer")
			return nil, true, false
		}
		g.length -= int64(len(b))
		g.rest -= int64(len(b))
		return nil, g.length == 0, g.length == 0
	}
	if int64(len(b)) <= g.length-end {
		g.length -= int64(len(b))
		return b, false, false
	}
	valueEnd := g.length - end
	tail := b[valueEnd:]
	if int64(len(tail)) > end || string(tail) != trailer[:len(tail)] {
		u.Logf(errlog.Error, "memcached sent invalid trailer")
		return b[:valueEnd], true, false
	}
	g.rest -= int64(len(tail))
	g.length = g.rest
	return b[:valueEnd], g.length == 0, g.length == 0
}
