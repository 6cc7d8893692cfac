package httpparse

import (
	"io"
	"strings"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric: on a shared machine wall time per
// operation swings with the load, CPU time much less.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// A request as a desktop browser sends it: ten-odd headers and cookies,
// just over 1k, so it also moves through one large header buffer.
const chromeRequest = "GET /search?q=gresty&oq=gresty&aqs=chrome..69i57j0l5.1234j0j7&sourceid=chrome&ie=UTF-8 HTTP/1.1\r\n" +
	"Host: www.example.com\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: max-age=0\r\n" +
	"sec-ch-ua: \"Chromium\";v=\"118\", \"Google Chrome\";v=\"118\", \"Not=A?Brand\";v=\"99\"\r\n" +
	"sec-ch-ua-mobile: ?0\r\n" +
	"sec-ch-ua-platform: \"Linux\"\r\n" +
	"Upgrade-Insecure-Requests: 1\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7\r\n" +
	"Sec-Fetch-Site: none\r\n" +
	"Sec-Fetch-Mode: navigate\r\n" +
	"Sec-Fetch-User: ?1\r\n" +
	"Sec-Fetch-Dest: document\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Accept-Language: en-US,en;q=0.9\r\n" +
	"Cookie: _ga=GA1.2.1234567890.1697000000; _gid=GA1.2.987654321.1697000000; " +
	"session=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc; prefs=dark\r\n" +
	"\r\n"

// A typical API call.
const apiRequest = "POST /api/v1/orders HTTP/1.1\r\n" +
	"Host: api.example.com\r\n" +
	"User-Agent: curl/8.4.0\r\n" +
	"Accept: application/json\r\n" +
	"Content-Type: application/json\r\n" +
	"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcGkifQ.c2lnbmF0dXJl\r\n" +
	"X-Request-Id: 7f3c2a10-5b7e-4c1d-9a8e-2f6b1c0d9e8a\r\n" +
	"Content-Length: 42\r\n" +
	"\r\n"

const minimalRequest = "GET / HTTP/1.1\r\nHost: a\r\n\r\n"

const complexRequest = "GET /static/./css/../img//logo%20big.png?v=3 HTTP/1.1\r\nHost: cdn.example.com\r\n\r\n"

func benchParse(b *testing.B, raw string) {
	buf := []byte(raw)
	var r Request
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	start := cpuTime()
	for b.Loop() {
		r.Reset(nil)
		if r.Parse(buf) != Done {
			b.Fatal(r.Reason())
		}
	}
	reportCPU(b, start)
}

func BenchmarkParseChrome(b *testing.B)  { benchParse(b, chromeRequest) }
func BenchmarkParseAPI(b *testing.B)     { benchParse(b, apiRequest) }
func BenchmarkParseMinimal(b *testing.B) { benchParse(b, minimalRequest) }
func BenchmarkParseComplex(b *testing.B) { benchParse(b, complexRequest) }

// BenchmarkParseChromeSplit feeds the browser request in 100-byte reads, the
// incremental path a slow client takes.
func BenchmarkParseChromeSplit(b *testing.B) {
	buf := []byte(chromeRequest)
	var r Request
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(nil)
		for n := 100; ; n += 100 {
			if r.Parse(buf[:min(n, len(buf))]) != NeedMore {
				break
			}
		}
	}
}

func BenchmarkLookupHeader(b *testing.B) {
	names := [][]byte{[]byte("Host"), []byte("user-agent"), []byte("Sec-Fetch-Mode"), []byte("Accept-Encoding"), []byte("X-Custom")}
	for b.Loop() {
		for _, n := range names {
			LookupHeader(n)
		}
	}
}

const upstreamResponse = "HTTP/1.1 200 OK\r\n" +
	"Server: nginx\r\n" +
	"Date: Sat, 21 Oct 2023 10:00:00 GMT\r\n" +
	"Content-Type: application/json; charset=utf-8\r\n" +
	"Content-Length: 1234\r\n" +
	"Connection: keep-alive\r\n" +
	"Cache-Control: no-cache\r\n" +
	"ETag: \"5f1a-abc\"\r\n" +
	"\r\n"

func BenchmarkParseResponse(b *testing.B) {
	buf := []byte(upstreamResponse)
	var r Response
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset()
		if r.Parse(buf) != Done {
			b.Fatal(r.Failure())
		}
	}
}

func chunkedBody(chunks, size int) []byte {
	var out []byte
	data := strings.Repeat("x", size)
	for range chunks {
		out = AppendChunkHeader(out, int64(size))
		out = append(out, data...)
		out = append(out, ChunkEnd...)
	}
	return AppendLastChunk(out, false, nil)
}

func BenchmarkChunkedDecode(b *testing.B) {
	body := chunkedBody(16, 4096)
	var d ChunkedDecoder
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset()
		in := body
		for {
			n, _, err := d.Decode(in)
			in = in[n:]
			if err == io.EOF {
				break
			}
		}
	}
}

func BenchmarkParseComplexURI(b *testing.B) {
	raw := []byte("/static/./css/../img//logo%20big.png")
	dst := make([]byte, 0, 64)
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		ParseComplexURI(dst, raw, true, false)
	}
}
