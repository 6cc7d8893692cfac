package httpparse

import (
	"io"
	"testing"
)

// TestZeroAllocs pins the hot paths at zero allocations once their reusable
// objects have warmed up.
func TestZeroAllocs(t *testing.T) {
	var r Request
	var resp Response
	var d ChunkedDecoder
	body := chunkedBody(4, 100)
	var requests [][]byte
	for _, s := range []string{chromeRequest, apiRequest, minimalRequest, complexRequest} {
		requests = append(requests, []byte(s))
	}
	chrome, upstream, secFetch := []byte(chromeRequest), []byte(upstreamResponse), []byte("sec-fetch-mode")
	tests := []struct {
		name string
		fn   func()
	}{
		{"requests", func() {
			for _, raw := range requests {
				r.Reset(nil)
				if r.Parse(raw) != Done {
					t.Fatal(r.Reason())
				}
				_ = r.Path()
				_ = r.Get(HdrUserAgent)
				_, _ = r.Lookup(secFetch)
			}
		}},
		{"incremental", func() {
			r.Reset(nil)
			for n := 50; r.Parse(chrome[:min(n, len(chrome))]) == NeedMore; n += 50 {
			}
		}},
		{"response", func() {
			resp.Reset()
			if resp.Parse(upstream) != Done {
				t.Fatal(resp.Failure())
			}
		}},
		{"chunked", func() {
			d.Reset()
			in := body
			for {
				n, _, err := d.Decode(in)
				in = in[n:]
				if err == io.EOF {
					return
				}
				if err != nil {
					t.Fatal(err)
				}
			}
		}},
	}
	for _, tt := range tests {
		tt.fn() // warm up reusable storage
		if n := testing.AllocsPerRun(50, tt.fn); n != 0 {
			t.Errorf("%s: %v allocs per run", tt.name, n)
		}
	}
}
