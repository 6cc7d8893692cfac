package stubstatus_test

import (
	"bytes"
	"io"
	"net"
	"regexp"
	"strconv"
	"testing"
	"time"

	"gresty/internal/difftest"
)

var shape = regexp.MustCompile(`^Active connections: (\d+) \nserver accepts handled requests\n (\d+) (\d+) (\d+) \nReading: (\d+) Writing: (\d+) Waiting: (\d+) \n$`)

type counters struct{ active, accepted, handled, requests, reading, writing, waiting int }

func parse(t *testing.T, who string, body []byte) counters {
	t.Helper()
	m := shape.FindSubmatch(body)
	if m == nil {
		t.Fatalf("%s: stub_status output %q does not have nginx's shape", who, body)
	}
	n := make([]int, 7)
	for i := range n {
		n[i], _ = strconv.Atoi(string(m[i+1]))
	}
	return counters{n[0], n[1], n[2], n[3], n[4], n[5], n[6]}
}

const statusConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /status { stub_status; }
        location = /old { stub_status on; }
        location = /vars { return 200 "$connections_reading $connections_writing\n"; }
    }
}
`

func TestStubStatusMatchesNginx(t *testing.T) {
	p := difftest.Start(t, statusConf)
	get := "GET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	for _, tt := range []struct{ name, raw string }{
		{"POST", "POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"},
		{"HEAD", "HEAD /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
		{"variables", "GET /vars HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"},
	} {
		p.Check(t, tt.name, tt.raw)
	}
	ng1, gr1 := p.Do(t, get)
	ng2, gr2 := p.Do(t, get)
	// two requests on one connection: the second sees one more request
	// and no more accepted connections.
	two := "GET /old HTTP/1.1\r\nHost: localhost\r\n\r\nGET /status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	ng3, gr3 := p.Do(t, two)
	for _, s := range []struct {
		who        string
		r1, r2, r3 []byte
		headerType string
	}{
		{"nginx", ng1.Body, ng2.Body, lastBody(ng3.Raw), ng1.Header.Get("Content-Type")},
		{"gresty", gr1.Body, gr2.Body, lastBody(gr3.Raw), gr1.Header.Get("Content-Type")},
	} {
		c1, c2 := parse(t, s.who, s.r1), parse(t, s.who, s.r2)
		if c2.accepted != c1.accepted+1 || c2.handled != c1.handled+1 || c2.requests != c1.requests+1 {
			t.Errorf("%s: counters went from %+v to %+v, want one more accepted, handled and request", s.who, c1, c2)
		}
		if c2.writing != 1 || c2.reading != 0 || c2.active < 1 {
			t.Errorf("%s: %+v, want the reporting request alone writing", s.who, c2)
		}
		if s.headerType != "text/plain" {
			t.Errorf("%s: Content-Type %q", s.who, s.headerType)
		}
		c3 := parse(t, s.who, s.r3)
		if c3.accepted != c2.accepted+1 || c3.requests != c2.requests+2 {
			t.Errorf("%s: after two requests on one connection counters went from %+v to %+v", s.who, c2, c3)
		}
	}
}

// lastBody returns the body of the last response in raw.
func lastBody(raw []byte) []byte {
	i := bytes.LastIndex(raw, []byte("\r\n\r\n"))
	if i < 0 {
		return raw
	}
	return raw[i+4:]
}

const slowConf = `
http {
    server {
        listen 127.0.0.1:%%PORT%%;
        location = /status { stub_status; }
        location /slow { limit_rate 15; return 200 "a response that takes seconds to send at fifteen bytes a second\n"; }
    }
}
`

// TestStubStatusStates walks a connection through waiting, reading and a
// slow response written after its request ended (HTTP/1.0, limit_rate):
// the counts must follow nginx's at each step.
func TestStubStatusStates(t *testing.T) {
	p := difftest.Start(t, slowConf)
	for _, srv := range []struct {
		who  string
		addr string
	}{{"nginx", p.Nginx.Addr}, {"gresty", p.Gresty.Addr}} {
		c, err := net.Dial("tcp", srv.addr)
		if err != nil {
			t.Fatal(err)
		}
		status := func() counters {
			time.Sleep(100 * time.Millisecond)
			r := difftest.Fetch(t, srv.addr, "GET /status HTTP/1.0\r\n\r\n")
			return parse(t, srv.who, r.Body)
		}
		steps := []struct {
			name                      string
			send                      string
			reading, writing, waiting int
		}{
			{"connected", "", 0, 1, 1},
			{"head begun", "GET /slow HTTP/1.0\r\n", 1, 1, 0},
			{"response being sent", "Host: localhost\r\n\r\n", 0, 2, 0},
		}
		for _, st := range steps {
			if st.send != "" {
				io.WriteString(c, st.send)
			}
			got := status()
			if got.reading != st.reading || got.writing != st.writing || got.waiting != st.waiting {
				t.Errorf("%s, %s: reading %d writing %d waiting %d, want %d %d %d", srv.who, st.name,
					got.reading, got.writing, got.waiting, st.reading, st.writing, st.waiting)
			}
		}
		c.Close()
	}
}
