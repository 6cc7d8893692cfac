package metrics

import (
	"sync/atomic"
	"testing"

	"gresty/http"
)

func TestAppendLabel(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain.example", "plain.example"},
		{`a"b`, `a\"b`},
		{`a\b`, `a\\b`},
		{"a\nb", `a\nb`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(appendLabel(nil, tt.in)); got != tt.want {
			t.Errorf("appendLabel(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestExposeCounters checks the text of a configuration's exposition
// with counters set by hand: per-loop counts are summed, zero series
// are left out, names are escaped.
func TestExposeCounters(t *testing.T) {
	mc := &MainConf{names: []string{"a.example", `q"`}}
	l0 := &loopCounters{counts: make([][maxStatus]atomic.Uint64, 2)}
	l1 := &loopCounters{counts: make([][maxStatus]atomic.Uint64, 2)}
	l0.counts[0][200].Add(2)
	l1.counts[0][200].Add(3)
	l1.counts[1][499].Add(1)
	loops := []*loopCounters{l0, nil, l1}
	mc.loops.Store(&loops)
	got := string(mc.expose(nil, http.ConnStats{Accepted: 7, Handled: 7, Requests: 9, Active: 2, Reading: 0, Writing: 1, Waiting: 1}))
	want := `# HELP gresty_http_requests_total Requests answered, by virtual server (its first server_name) and status.
# TYPE gresty_http_requests_total counter
gresty_http_requests_total{server="a.example",status="200"} 5
gresty_http_requests_total{server="q\"",status="499"} 1
# HELP gresty_http_connections_accepted_total Client connections accepted.
# TYPE gresty_http_connections_accepted_total counter
gresty_http_connections_accepted_total 7
# HELP gresty_http_connections_handled_total Client connections handled.
# TYPE gresty_http_connections_handled_total counter
gresty_http_connections_handled_total 7
# HELP gresty_http_client_requests_total Client requests read (stub_status's requests).
# TYPE gresty_http_client_requests_total counter
gresty_http_client_requests_total 9
# HELP gresty_http_connections Client connections open now, by state (stub_status's).
# TYPE gresty_http_connections gauge
gresty_http_connections{state="active"} 2
gresty_http_connections{state="reading"} 0
gresty_http_connections{state="writing"} 1
gresty_http_connections{state="waiting"} 1
`
	if got != want {
		t.Errorf("exposition:\n%s\nwant:\n%s", got, want)
	}
}
