package httpparse

import (
	"fmt"
	"strings"
	"testing"
)

func respSummary(r *Response, st State) string {
	var b strings.Builder
	fmt.Fprintf(&b, "state=%d failure=%q", st, r.Failure())
	if st != Done {
		return b.String()
	}
	fmt.Fprintf(&b, " code=%d version=%d line=%q head=%d cl=%d chunked=%v close=%v",
		r.StatusCode, r.Version, r.StatusLine(), r.HeadLen(), r.ContentLength, r.Chunked, r.ConnectionClose)
	for i := 0; i < r.NumHeaders(); i++ {
		h := r.Header(i)
		fmt.Fprintf(&b, " [%q:%q]", h.Name, h.Value)
	}
	return b.String()
}

func TestResponse(t *testing.T) {
	tests := []struct {
		raw     string
		max     int
		state   State
		code    int
		version int
		line    string
		head    int // -1: the whole input
		cl      int64
		chunked bool
		close   bool
		framing BodyFraming
		headers int
	}{
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, Done, 200, 1001, "200 OK", 38, 5, false, false, BodyLength, 1},
		{"HTTP/1.0 404 Not Found\r\nServer: x\r\n\r\n", 0, Done, 404, 1000, "404 Not Found", -1, -1, false, true, BodyClose, 1},
		{"HTTP/1.1 200\r\n\r\n", 0, Done, 200, 1001, "200", -1, -1, false, false, BodyClose, 0},
		{"HTTP/1.1 403.1 Forbidden\n\n", 0, Done, 403, 1001, "403.1 Forbidden", -1, -1, false, false, BodyClose, 0},
		// nginx skips spaces among the digits and keeps the status text
		// from two bytes before the third digit
		{"HTTP/1.1  2 0 4 x\r\n\r\n", 0, Done, 204, 1001, "0 4 x", -1, -1, false, false, BodyNone, 0},
		{"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 0, Done, 304, 1001, "304 Not Modified", -1, 10, false, false, BodyNone, 1},
		{"HTTP/1.1 101 Switching\r\nUpgrade: x\r\n\r\n", 0, Done, 101, 1001, "101 Switching", -1, -1, false, false, BodyNone, 1},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, CHUNKED\r\nContent-Length: 5\r\n\r\n", 0, Done, 200, 1001, "200 OK", -1, -1, true, false, BodyChunked, 2},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n", 0, Done, 200, 1001, "200 OK", -1, 0, false, false, BodyNone, 2},
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: x\r\n\r\n", 0, Done, 200, 1001, "200 OK", -1, -1, false, false, BodyClose, 2},
		{"HTTP/1.1 200 OK\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", 0, Done, 200, 1001, "200 OK", -1, -1, false, true, BodyClose, 1},
		{"HTTP/1.1 200 OK\r\nHTTP/1.1 200 OK\r\nX_Y: 1\r\nA@B: 2\r\n\r\n", 0, Done, 200, 1001, "200 OK", -1, -1, false, false, BodyClose, 2},
		{"HTTP/2.0 200 OK\r\n\r\n", 0, Done, 200, 2000, "200 OK", -1, -1, false, false, BodyClose, 0},
		// no valid status line: HTTP/0.9, all of it is the body
		{"<html>hello", 0, Done, 200, 9, "", 0, -1, false, true, BodyClose, 0},
		{"HTTP/1.1 20x OK\r\n\r\n", 0, Done, 200, 9, "", 0, -1, false, true, BodyClose, 0},
		{"HTTP/1.1 2000 OK\r\n\r\n", 0, Done, 200, 9, "", 0, -1, false, true, BodyClose, 0},
		{"HTTP/0.9 200 OK\r\n\r\n", 0, Done, 200, 9, "", 0, -1, false, true, BodyClose, 0},
		{"HTTP/1.1 200 OK\rX\n\n", 0, Done, 200, 9, "", 0, -1, false, true, BodyClose, 0},
		// errors
		{"HTTP/1.1 200 OK\r\nA B: c\r\n\r\n", 0, Failed, 0, 0, "", 0, 0, false, false, 0, 0},
		{"HTTP/1.1 200 OK\r\nA: b\x00\r\n\r\n", 0, Failed, 0, 0, "", 0, 0, false, false, 0, 0},
		{"HTTP/1.1 200 OK\r\nA: " + long('b', 100) + "\r\n\r\n", 64, Failed, 0, 0, "", 0, 0, false, false, 0, 0},
		{"HTTP/1.1 200 OK\r\nA: " + long('b', 41) + "\r\n\r\n", 64, Failed, 0, 0, "", 0, 0, false, false, 0, 0},
		{"HTTP/1.1 200 OK\r\nA: " + long('b', 40) + "\r\n\r\n", 64, Done, 200, 1001, "200 OK", -1, -1, false, false, BodyClose, 1},
		// incomplete
		{"HTTP/1.1 200 OK\r\nA: b\r\n", 0, NeedMore, 0, 0, "", 0, 0, false, false, 0, 0},
		{"HTT", 0, NeedMore, 0, 0, "", 0, 0, false, false, 0, 0},
	}
	var r Response
	for _, tt := range tests {
		r.MaxHeadSize = tt.max
		r.Reset()
		st := r.Parse([]byte(tt.raw))
		if st != tt.state {
			t.Errorf("%q: %s, want state %d", tt.raw, respSummary(&r, st), tt.state)
			continue
		}
		if st != Done {
			if st == Failed && r.Failure() == "" {
				t.Errorf("%q: failed without a reason", tt.raw)
			}
			continue
		}
		head := tt.head
		if head < 0 {
			head = len(tt.raw)
		}
		if r.StatusCode != tt.code || r.Version != tt.version || string(r.StatusLine()) != tt.line ||
			r.HeadLen() != head || r.ContentLength != tt.cl || r.Chunked != tt.chunked ||
			r.ConnectionClose != tt.close || r.Framing(false) != tt.framing || r.NumHeaders() != tt.headers {
			t.Errorf("%q: %s framing=%d", tt.raw, respSummary(&r, st), r.Framing(false))
		}
		if r.Version != 9 && r.Framing(true) != BodyNone {
			t.Errorf("%q: a reply to HEAD has a body", tt.raw)
		}
	}
}

func TestResponseFailureTexts(t *testing.T) {
	r := Response{MaxHeadSize: 20}
	r.Reset()
	if r.Parse([]byte("HTTP/1.1 200 OK\r\nA B\r\n\r\n")); r.Failure() != UpstreamInvalidHeader {
		t.Errorf("failure %q", r.Failure())
	}
	r.Reset()
	if r.Parse([]byte("HTTP/1.1 200 OK\r\nAB: 123456789\r\n\r\n")); r.Failure() != UpstreamTooBigHeader {
		t.Errorf("failure %q", r.Failure())
	}
}

// TestResponseSplits checks that any split of the input gives the one-shot
// result, except where nginx itself depends on the split: a response
// without a valid status line starts its body where the failing read began.
func TestResponseSplits(t *testing.T) {
	inputs := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y  \r\n\r\nhello",
		"HTTP/1.0 404 Not Found\nServer: x\n\n",
		"HTTP/1.1 200 OK\r\nHTTP/1.1 200 OK\r\nA: b\r\n\r\n",
		"HTTP/1.1 200 OK\r\nA B: c\r\n\r\n",
	}
	for _, in := range inputs {
		var one Response
		one.Reset()
		want := respSummary(&one, one.Parse([]byte(in)))
		for cut := 0; cut <= len(in); cut++ {
			var r Response
			r.Reset()
			r.Parse([]byte(in[:cut]))
			if got := respSummary(&r, r.Parse([]byte(in))); got != want {
				t.Errorf("%q cut %d:\n got %s\nwant %s", in, cut, got, want)
			}
		}
	}
	// the HTTP/0.9 quirk
	var r Response
	r.Reset()
	if st := r.Parse([]byte("HT")); st != NeedMore {
		t.Fatalf("state %d", st)
	}
	if st := r.Parse([]byte("HTML")); st != Done || r.Version != 9 || r.HeadLen() != 2 {
		t.Errorf("split HTTP/0.9: %s", respSummary(&r, st))
	}
}
