package bench

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
)

// Scenario is one benchmark case. Adding one is one file that calls
// register from init.
//
// The configuration text may use these placeholders:
//
//	%%PORT%%     the port the server under test listens on
//	%%ROOT%%     the absolute document root holding Files
//	%%PREFIX%%   the absolute prefix directory (-p)
//	%%BACKEND%%  the backend's port, when Backend is set
type Scenario struct {
	// Name is the scenario's name on the command line and in the report.
	Name string
	// About says in a few words what is measured.
	About string
	// Default puts the scenario in the set make bench runs; Quick also in
	// the one make bench-quick runs.
	Default, Quick bool

	// Lua says the configuration needs ngx_lua: nginx gets load_module
	// lines for NDK and ngx_lua, and the scenario is skipped where Debian's
	// libnginx-mod-http-lua is not installed.
	Lua bool
	// Requires, when set, says why the scenario cannot run on this
	// machine (a program or library it needs is missing), or "" when it
	// can; the scenario is then skipped with that message.
	Requires func() string
	// Backend, when set, is started once for the scenario on the load
	// generator's CPU, before the servers under test.
	Backend *Backend

	// Files are written under the document root before the servers start,
	// with a modification time an hour back, as a deployed site's files.
	Files map[string][]byte
	// HTTP is the content of the http block; the harness adds the lines
	// every scenario needs (access_log off, temporary paths).
	HTTP string

	// Path is the request URI; Headers are extra request header lines
	// ("Name: value") sent by wrk and by the check.
	Path    string
	Headers []string
	// Pipeline is the number of requests written at once (0 or 1: one
	// request at a time).
	Pipeline int
	// Conns overrides the number of wrk connections.
	Conns int
	// Peers says that the Go peer servers answer this scenario too; they
	// serve PeerBody to any request.
	Peers    bool
	PeerBody string

	// Check judges one response to the request; with Pipeline it is called
	// for each response of the pipelined batch.
	Check func(r *Response) error

	// Target is the ratio gresty/nginx of requests per server-CPU-second
	// the project aims at (0: none).
	Target float64
}

// Backend is a server a scenario talks to (an upstream, a database). It
// runs on the load generator's CPU so that the server under test keeps its
// own CPU alone.
type Backend struct {
	// HTTP, when set, is the content of an http block that nginx serves as
	// the backend; %%PORT%% is the backend's port.
	HTTP string
	// Command, when HTTP is empty, is the backend's argv; %%PORT%% and
	// %%DIR%% (a scratch directory) are replaced.
	Command []string
}

// Response is what Check sees of one response.
type Response struct {
	Status int
	Header http.Header
	// Body is the body as sent (not decompressed), chunked framing removed.
	Body []byte
	// Close says the response ends the connection.
	Close bool
}

// scenarios is the registry, filled by init functions only.
var scenarios = map[string]*Scenario{}

// register adds a scenario; a duplicate name or a missing Check is a
// programming error.
func register(s *Scenario) {
	if _, dup := scenarios[s.Name]; dup {
		panic("bench: duplicate scenario " + s.Name)
	}
	if s.Check == nil || s.Path == "" || s.HTTP == "" {
		panic("bench: scenario " + s.Name + " needs Path, HTTP and Check")
	}
	scenarios[s.Name] = s
}

// Scenarios returns every registered scenario by name.
func Scenarios() []*Scenario {
	out := make([]*Scenario, 0, len(scenarios))
	for _, s := range scenarios {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// order is the order of the report: the cheapest request first, so the
// table reads from the server's fixed cost towards content work. Scenarios
// not listed follow by name.
var order = []string{"return", "pipeline", "conn-close", "static-1k", "static-64k", "gzip", "gzip-dynamic", "proxy", "lua-hello", "lua-json", "lua-headers", "lua-shdict", "lua-redis"}

// Select returns the scenarios named (in the report's order), or the
// default set (quick: the quick set) when names is empty.
func Select(names []string, quick bool) ([]*Scenario, error) {
	var picked []*Scenario
	if len(names) == 0 {
		for _, s := range scenarios {
			if (quick && s.Quick) || (!quick && s.Default) {
				picked = append(picked, s)
			}
		}
	} else {
		for _, n := range names {
			s, ok := scenarios[n]
			if !ok {
				return nil, fmt.Errorf("unknown scenario %q", n)
			}
			picked = append(picked, s)
		}
	}
	rank := func(s *Scenario) int {
		for i, n := range order {
			if n == s.Name {
				return i
			}
		}
		return len(order)
	}
	sort.SliceStable(picked, func(i, j int) bool {
		ri, rj := rank(picked[i]), rank(picked[j])
		if ri != rj {
			return ri < rj
		}
		return picked[i].Name < picked[j].Name
	})
	return picked, nil
}

// wantBody is the usual check: this status and exactly this body.
func wantBody(status int, body []byte) func(*Response) error {
	return func(r *Response) error {
		if r.Status != status {
			return fmt.Errorf("status %d, want %d", r.Status, status)
		}
		if !bytes.Equal(r.Body, body) {
			return fmt.Errorf("body %s, want %s", clip(r.Body), clip(body))
		}
		return nil
	}
}

// clip shortens a body for an error message.
func clip(b []byte) string {
	if len(b) > 64 {
		return fmt.Sprintf("%q... (%d bytes)", b[:64], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// text returns n bytes of readable text that compresses about as well as
// an HTML page does: words drawn from a small vocabulary by a fixed
// sequence, so that every run serves the same bytes.
func text(n int) []byte {
	words := []string{"gresty", "serves", "the", "same", "configuration", "as", "nginx", "with",
		"event", "loops", "per", "CPU", "and", "Lua", "handlers", "in", "every", "phase", "request",
		"response", "header", "body", "filter", "location", "server", "upstream", "keepalive"}
	var b bytes.Buffer
	x := uint32(2463534242)
	for b.Len() < n {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b.WriteString(words[x%uint32(len(words))])
		if x%11 == 0 {
			b.WriteString(".\n")
		} else {
			b.WriteByte(' ')
		}
	}
	return b.Bytes()[:n]
}
