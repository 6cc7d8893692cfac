package memc

import (
	"io"
	"strconv"

	"gresty/errlog"
	"gresty/http"
	"gresty/httpparse"
)

// command is a memcached command the module speaks.
type command uint8

const (
	cmdUnknown command = iota
	cmdSet
	cmdAdd
	cmdReplace
	cmdAppend
	cmdPrepend
	cmdGet
	cmdDelete
	cmdIncr
	cmdDecr
	cmdStats
	cmdFlushAll
	cmdVersion
)

var commands = map[string]command{
	"set": cmdSet, "add": cmdAdd, "replace": cmdReplace, "append": cmdAppend, "prepend": cmdPrepend,
	"get": cmdGet, "delete": cmdDelete, "incr": cmdIncr, "decr": cmdDecr,
	"stats": cmdStats, "flush_all": cmdFlushAll, "version": cmdVersion,
}

// parseCommand recognizes a command name, in lower case only.
func parseCommand(b []byte) command {
	return commands[string(b)]
}

func (c command) storage() bool { return c >= cmdSet && c <= cmdPrepend }

// query is one request's exchange with memcached, its protocol value and
// its module context.
type query struct {
	m        *mainConf
	lc       *LocConf
	cmd      command
	cmdName  []byte
	key      []byte // escaped, as sent
	hasFlags bool   // $memc_flags belongs to the exchange (storage, get)
	hasExp   bool
	value    []byte
	hasValue bool
	// parsed is how much of the reply an earlier look saw, for the
	// position in "invalid response" messages.
	parsed int
	// get is the reply of a get
	get GetReply
}

const trailer = "\r\nEND\r\n"

// handler is the content handler of memc_pass (ngx_http_memc_handler).
func handler(r *http.Request) int {
	c := r.Loc.LocConfOf(Module).(*LocConf)
	m := c.main
	q := &query{m: m, lc: c}
	key, keyOK := r.IndexedVar(m.keyIdx)
	name, ok := r.IndexedVar(m.cmdIdx)
	if !ok || len(name) == 0 {
		switch r.MethodName {
		case "GET", "HEAD":
			q.cmd, name = cmdGet, []byte("get")
		case "POST":
			q.cmd, name = cmdAdd, []byte("add")
		case "PUT":
			q.cmd, name = cmdSet, []byte("set")
		case "DELETE":
			q.cmd, name = cmdDelete, []byte("delete")
		default:
			r.Logf(errlog.Error, "ngx_memc: $memc_cmd variable not found for HTTP %s requests", r.MethodName)
			return 400
		}
		r.SetIndexedVar(m.cmdIdx, name)
	} else {
		q.cmd = parseCommand(name)
		if q.cmd == cmdUnknown {
			r.Logf(errlog.Error, "ngx_memc: unknown $memc_cmd \"%s\"", name)
			return 400
		}
	}
	q.cmdName = name
	if !c.allowed(q.cmd) {
		r.Logf(errlog.Error, "ngx_memc: memcached command \"%s\" not allowed", name)
		return 403
	}
	r.SetContentType()
	u := r.NewUpstream(c.u, q)
	u.Schema = "memcached://"
	if c.target != nil {
		target := c.target.EvalString(r)
		if target == "" {
			r.Logf(errlog.Error, "memc: handler: empty \"memc_pass\" target")
			return 500
		}
		us := c.upsMain.Find(target, 0, true)
		if us == nil {
			r.Logf(errlog.Error, "memc: upstream \"%s\" not found", target)
			return 500
		}
		u.Srv = us
	}
	r.SetCtx(Module.TypeIndex, q)
	if keyOK {
		q.key = httpparse.AppendEscape(nil, key, httpparse.EscapeMemcached)
	}
	storage := q.cmd.storage()
	if storage || q.cmd == cmdFlushAll || q.cmd == cmdDelete {
		q.hasExp = true
		if v, ok := r.IndexedVar(m.expIdx); ok && len(v) > 0 && !validUint(v, 10) {
			r.Logf(errlog.Error, "variable \"$memc_exptime\" takes invalid value: %s", v)
			return 400
		}
	}
	if storage || q.cmd == cmdGet {
		q.hasFlags = true
		if v, ok := r.IndexedVar(m.flagsIdx); storage && ok && len(v) > 0 && !validUint(v, 10) {
			r.Logf(errlog.Error, "variable \"$memc_flags\" takes invalid value: %s", v)
			return 400
		}
	}
	if storage || q.cmd == cmdIncr || q.cmd == cmdDecr {
		v, ok := r.IndexedVar(m.valueIdx)
		if !storage {
			if !ok || len(v) == 0 {
				r.Logf(errlog.Error, "the \"$memc_value\" variable is required for command \"%s\"", name)
				return 400
			}
			if !validUint(v, 20) {
				r.Logf(errlog.Error, "variable \"$memc_value\" is invalid for incr/decr: %s", v)
				return 400
			}
		}
		q.value, q.hasValue = v, ok
	}
	return u.Start(false)
}

func (c *LocConf) allowed(cmd command) bool {
	if len(c.cmdsAllowed) == 0 {
		return true
	}
	for _, a := range c.cmdsAllowed {
		if a == cmd {
			return true
		}
	}
	return false
}

// validUint tells whether b is at most max decimal digits (the original's
// test of 32- and 64-bit numbers: their lengths, not their values).
func validUint(b []byte, max int) bool {
	if len(b) > max {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// queryError fails the request with 500 before anything is sent, as the
// original's create_request errors do; the reason is logged already.
type queryError string

func (e queryError) Error() string { return string(e) }

// CreateRequest implements http.UpstreamProtocol: the query line, and for
// the storage commands the data block.
func (q *query) CreateRequest(u *http.UpstreamRequest) (head, body []byte, err error) {
	r := u.Request()
	m := q.m
	if q.cmd != cmdStats && q.cmd != cmdVersion && q.cmd != cmdFlushAll && len(q.key) == 0 {
		r.Logf(errlog.Error, "the \"$memc_key\" variable is not set")
		return nil, nil, queryError("no key")
	}
	b := append([]byte(nil), q.cmdName...)
	switch {
	case q.cmd.storage():
		var data []byte
		if q.hasValue {
			data = q.value
		} else {
			var ok bool
			data, ok = requestBody(r)
			if !ok {
				r.Logf(errlog.Error, "neither the \"$memc_value\" variable nor the request body is available")
				return nil, nil, queryError("no value")
			}
		}
		flags, ok := r.IndexedVar(m.flagsIdx)
		if !ok || len(flags) == 0 {
			flags = []byte("0")
			r.SetIndexedVar(m.flagsIdx, flags)
		}
		exp, ok := r.IndexedVar(m.expIdx)
		if !ok || len(exp) == 0 {
			exp = []byte("0")
			r.SetIndexedVar(m.expIdx, exp)
		}
		b = append(b, ' ')
		b = append(b, q.key...)
		b = append(b, ' ')
		b = append(b, flags...)
		b = append(b, ' ')
		b = append(b, exp...)
		b = append(b, ' ')
		b = strconv.AppendInt(b, int64(len(data)), 10)
		b = append(b, '\r', '\n')
		body = make([]byte, 0, len(data)+2)
		body = append(body, data...)
		body = append(body, '\r', '\n')
	case q.cmd == cmdGet:
		b = append(b[:0], "get "...)
		b = append(b, q.key...)
		b = append(b, '\r', '\n')
	case q.cmd == cmdDelete || q.cmd == cmdFlushAll:
		if q.cmd == cmdDelete {
			b = append(b, ' ')
			b = append(b, q.key...)
		}
		if exp, ok := r.IndexedVar(m.expIdx); ok && len(exp) > 0 {
			b = append(b, ' ')
			b = append(b, exp...)
		}
		b = append(b, '\r', '\n')
	case q.cmd == cmdIncr || q.cmd == cmdDecr:
		b = append(b, ' ')
		b = append(b, q.key...)
		b = append(b, ' ')
		b = append(b, q.value...)
		b = append(b, '\r', '\n')
	default:
		b = append(b, '\r', '\n')
	}
	return b, body, nil
}

// requestBody returns the request's body, read from its temporary file
// when it was stored there, and whether there is one: a request that
// announced an empty body (Content-Length: 0, or chunked) has one, as
// nginx then keeps an empty last buffer; a request without any has not.
func requestBody(r *http.Request) ([]byte, bool) {
	rb := r.Body
	if rb == nil {
		return nil, false
	}
	if rb.File != nil {
		if _, err := rb.File.Seek(0, io.SeekStart); err != nil {
			return nil, false
		}
		data, err := io.ReadAll(rb.File)
		return data, err == nil
	}
	if data := rb.Bytes(); len(data) > 0 {
		return data, true
	}
	if mr := r.Main; rb == mr.Body {
		return nil, mr.ContentLength >= 0 || mr.Chunked
	}
	// a subrequest's own body, given empty
	return nil, true
}
