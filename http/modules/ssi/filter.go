package ssi

import (
	"errors"
	"io"

	"gresty/errlog"
	"gresty/http"
)

// ctx is a response's SSI state, the module's request context. A request
// whose body is parsed has an enabled ctx; the main request may also hold
// a disabled one only to keep the document's shared state for its
// subrequests.
type ctx struct {
	enabled bool

	// in is the input not looked at yet. Buffers are kept as the caller
	// passed them during a call and copied (made Owned) before the filter
	// returns with any of them left.
	in []http.Buf
	// cur is the buffer being parsed (its bytes; a file buffer is read
	// into memory a piece at a time), pos the parser's position in it.
	cur      []byte
	hasCur   bool
	curOwned bool
	// curLast, curLastInChain and curFlush are the markers of cur, passed
	// on once it is parsed to its end.
	curLast, curLastInChain, curFlush bool
	pos                               int

	// copyStart and copyEnd delimit the text of cur that the parser found
	// to be plain (-1 when none), to be passed on or kept in a block.
	copyStart, copyEnd int

	// The parser's state. looked counts the bytes of "<!--" matched so
	// far; saved those matched at the end of the previous buffer and not
	// passed on yet (they are passed on from the "<!--" string).
	state, savedState int
	looked, saved     int
	command           [commandLen]byte
	commandLen        int
	params            []param
	valueScratch      []byte
	valueLen          int

	out []http.Buf

	// The conditional and output state of the document.
	conditional  int
	encoding     int
	block        bool
	output       bool
	outputChosen bool

	// wait is the subrequest the parsing waits for (wait="yes", file=
	// and set= includes).
	wait *http.Request

	timefmt []byte
	errmsg  []byte

	// shared is the state of the whole document, kept by the main
	// request's ctx: variables, blocks and the last regex captures.
	shared *shared
	// subs are the includes of this request whose outcome depends on
	// whether the subrequest produced output (stub=, set=).
	subs []*subState
}

// param is one parameter of the command being parsed.
type param struct {
	key    [paramLen]byte
	keyLen int
	value  []byte
}

func (p *param) name() []byte { return p.key[:p.keyLen] }

// nginx's limits on a command.
const (
	maxParams  = 16
	commandLen = 32
	paramLen   = 32
)

// The conditional states (NGX_HTTP_SSI_COND_*).
const (
	condIf   = 1
	condElse = 2
)

// The echo encodings.
const (
	encNone = iota
	encURL
	encEntity
)

// shared is the document-wide state nginx keeps in the main request's
// context.
type shared struct {
	vars   []*variable
	blocks []*block
	// captures of the last matching regex of an "if": ncaptures is one
	// more than the highest group that was set.
	ncaptures int
	captures  []int
	subject   []byte
}

// variable is a variable set by the document ("set", include's set=, a
// named capture).
type variable struct {
	name  []byte
	value []byte
}

// block is a named block: the text between "block" and "endblock", with
// the commands in it written out again.
type block struct {
	name  []byte
	parts [][]byte
	// used counts the includes that took the block as their stub.
	used int
}

// subState follows one include whose subrequest is still to finish:
// whether its output has started (nginx's r->request_output, decided by
// the first call of its body filters) and what to do at its end.
type subState struct {
	sr     *http.Request
	seen   bool
	output bool
}

func ctxOf(r *http.Request) *ctx {
	c, _ := r.Ctx(Module.TypeIndex).(*ctx)
	return c
}

// sharedOf returns the document state of r's main request, creating it
// (and a disabled context to hold it) when needed.
func sharedOf(r *http.Request) *shared {
	mr := r.Main
	c := ctxOf(mr)
	if c == nil {
		c = &ctx{copyStart: -1, copyEnd: -1}
		mr.SetCtx(Module.TypeIndex, c)
	}
	if c.shared == nil {
		c.shared = &shared{}
	}
	return c.shared
}

// noteOutput records, for a subrequest an include follows, whether the
// first call of its body filters carried data.
func noteOutput(r *http.Request, in []http.Buf) {
	pc := ctxOf(r.Parent)
	if pc == nil {
		return
	}
	for _, s := range pc.subs {
		if s.sr == r && !s.seen {
			s.seen = true
			s.output = len(in) > 0 && in[0].Size() > 0
		}
	}
}

// fileChunk is how much of a file buffer is read into memory at a time.
const fileChunk = 32768

// bodyFilter parses the body as it passes: text goes on at once, commands
// are carried out as soon as they are complete. It returns Again while it
// holds input for a subrequest it waits for.
func bodyFilter(r *http.Request, in []http.Buf, next http.BodyFilterFunc) int {
	if r != r.Main {
		noteOutput(r, in)
	}
	c := ctxOf(r)
	if c == nil || !c.enabled || (len(in) == 0 && !c.hasCur && len(c.in) == 0) {
		return next(r, in)
	}
	c.in = append(c.in, in...)
	if c.wait != nil {
		if !r.Active() {
			c.retain()
			return http.Again
		}
		if !c.wait.Done() {
			c.retain()
			return next(r, nil)
		}
		c.wait = nil
	}
	lc := locConf(r)
	for c.hasCur || len(c.in) > 0 {
		if !c.hasCur {
			if !c.take(r) {
				return http.Error
			}
		}
		if c.state == stStart {
			c.copyStart, c.copyEnd = c.pos, c.pos
		}
		// lastOut is the piece the last parse step added to the output
		// (nginx's b): the end markers of cur go on it.
		lastOut := -1
		for c.pos < len(c.cur) {
			rc := c.parse(r)
			if c.copyStart != c.copyEnd {
				if c.output {
					if c.saved > 0 {
						c.out = append(c.out, http.Buf{Data: commentStart[:c.saved], Owned: true})
						c.saved = 0
					}
					c.out = append(c.out, http.Buf{Data: c.cur[c.copyStart:c.copyEnd], Owned: c.curOwned})
					lastOut = len(c.out) - 1
				} else {
					if c.block && c.saved+(c.copyEnd-c.copyStart) > 0 {
						part := make([]byte, 0, c.saved+c.copyEnd-c.copyStart)
						part = append(part, commentStart[:c.saved]...)
						part = append(part, c.cur[c.copyStart:c.copyEnd]...)
						c.addToBlock(r, part)
						lastOut = -1
					}
					c.saved = 0
				}
			}
			if c.state == stStart {
				c.copyStart, c.copyEnd = c.pos, c.pos
			} else {
				c.copyStart, c.copyEnd = -1, -1
			}
			if rc == parseAgain {
				continue
			}
			lastOut = -1
			if rc == parseCommand {
				done, hrc := c.runCommand(r, next)
				if done {
					c.setBuffered(r)
					c.retain()
					return hrc
				}
				if hrc != ssiError {
					continue
				}
			}
			if lc.SilentErrors.V {
				continue
			}
			if len(c.errmsg) == 0 {
				// nginx passes an empty errmsg on as a buffer of
				// zero size, which its write filter refuses: the
				// request fails.
				r.Logf(errlog.Alert, "zero size buf in writer t:0 r:0 f:0 0000000000000000 %016X-%016X 0000000000000000 0-0", 0, 0)
				c.setBuffered(r)
				c.retain()
				return http.Error
			}
			c.out = append(c.out, http.Buf{Data: c.errmsg, Owned: true})
			lastOut = len(c.out) - 1
		}
		if c.curLast || c.curLastInChain || c.curFlush || len(c.cur) > 0 {
			if lastOut < 0 {
				c.out = append(c.out, http.Buf{})
				lastOut = len(c.out) - 1
			}
			b := &c.out[lastOut]
			b.Last, b.LastInChain, b.Flush = c.curLast, c.curLastInChain, c.curFlush
		}
		c.hasCur = false
		c.cur = nil
		c.saved = c.looked
	}
	if len(c.out) == 0 {
		c.setBuffered(r)
		return http.OK
	}
	return c.flush(r, next)
}

// commentStart is where the bytes of a possible command start that were
// held back at the end of a buffer come from.
var commentStart = []byte("<!--")

// take makes the next input buffer the current one. A file buffer is read
// a piece at a time, the rest staying first in line.
func (c *ctx) take(r *http.Request) bool {
	b := &c.in[0]
	if b.File != nil && b.FileLen > 0 {
		n := min(int64(fileChunk), b.FileLen)
		data := make([]byte, n)
		for got := 0; got < len(data); {
			k, err := b.File.ReadAt(data[got:], b.FilePos+int64(got))
			got += k
			if got < len(data) && err != nil {
				if errors.Is(err, io.EOF) {
					r.Logf(errlog.Alert, "pread() read only %d of %d from \"%s\"", got, n, b.File.Name())
				} else {
					r.Logf(errlog.Crit, "pread() \"%s\" failed %s", b.File.Name(), errlog.Errno(err))
				}
				return false
			}
		}
		c.cur, c.curOwned, c.hasCur, c.pos = data, true, true, 0
		b.FilePos += n
		b.FileLen -= n
		c.curLast, c.curLastInChain, c.curFlush = false, false, false
		if b.FileLen > 0 {
			return true
		}
		c.curLast, c.curLastInChain, c.curFlush = b.Last, b.LastInChain, b.Flush
	} else {
		c.cur, c.curOwned, c.hasCur, c.pos = b.Data, b.Owned, true, 0
		c.curLast, c.curLastInChain, c.curFlush = b.Last, b.LastInChain, b.Flush
		if len(b.Data) == 0 && !b.Last {
			// a buffer with no data and no end is nginx's special
			// buffer that is not in memory: its markers stop here.
			c.curLastInChain, c.curFlush = false, false
		}
	}
	c.in[0] = http.Buf{}
	c.in = c.in[1:]
	if len(c.in) == 0 {
		c.in = c.in[:0]
	}
	return true
}

// retain copies the input the filter keeps past the current call and
// that the caller does not guarantee.
func (c *ctx) retain() {
	if c.hasCur && !c.curOwned {
		c.cur = append([]byte(nil), c.cur...)
		c.curOwned = true
	}
	for i := range c.in {
		b := &c.in[i]
		if !b.Owned && len(b.Data) > 0 {
			b.Data = append([]byte(nil), b.Data...)
			b.Owned = true
		}
	}
}

// setBuffered tells the request whether the filter still holds input.
func (c *ctx) setBuffered(r *http.Request) {
	r.SetBuffered(http.BufferedSSI, c.hasCur || len(c.in) > 0)
}

// flush passes the output collected so far on (ngx_http_ssi_output).
func (c *ctx) flush(r *http.Request, next http.BodyFilterFunc) int {
	rc := next(r, c.out)
	clear(c.out)
	c.out = c.out[:0]
	c.setBuffered(r)
	return rc
}

// addToBlock appends text to the block being collected (the last one the
// document opened).
func (c *ctx) addToBlock(r *http.Request, part []byte) {
	sh := sharedOf(r)
	if len(sh.blocks) == 0 {
		return
	}
	bl := sh.blocks[len(sh.blocks)-1]
	bl.parts = append(bl.parts, part)
}
