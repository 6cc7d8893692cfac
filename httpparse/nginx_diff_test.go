package httpparse

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"gresty/internal/nginxtest"
)

// diffCase is one raw request stream whose outcome in nginx is recorded in
// want, so the table can be checked against both this package and a live
// nginx (and cannot drift from either).
//
// want is nginx's reply as the test reads it: the status codes of the
// responses in order ("200", "400", "200 200"), "09:NNN" for a reply
// without status line (HTTP/0.9), or "-" for a connection closed without
// any reply.
type diffCase struct {
	name   string
	server string // "" (defaults), "lax" or "tiny"; see diffServers
	raw    string
	want   string
}

// diffServers are the server{} blocks the table runs against, with the
// Config that mirrors each.
var diffServers = map[string]struct {
	directives string
	cfg        *Config
}{
	"": {"", nil},
	"lax": {"ignore_invalid_headers off; underscores_in_headers on; merge_slashes off;",
		&Config{KeepInvalidHeaders: true, UnderscoresInHeaders: true, NoMergeSlashes: true}},
	"tiny": {fmt.Sprintf("client_header_buffer_size %d; large_client_header_buffers 2 %d; connection_pool_size 256;", tinyFirst, tinyLarge),
		&Config{ClientHeaderBufferSize: tinyFirst, LargeHeaderBuffers: 2, LargeHeaderBufferSize: tinyLarge}},
}

// The locations every server has: "/" answers 200 without reading a body;
// "/body" and "/small" proxy to a backend, so nginx reads (and checks) the
// whole body first; "/small" allows 10 bytes of body. The proxy locations
// ignore client aborts because the test half-closes its side after sending.
const (
	defaultMaxBody = 1 << 20
	smallMaxBody   = 10
)

const h11 = "Host: example.com\r\n"

// The "tiny" server's buffers; nginx wants large buffers of at least
// connection_pool_size (256).
const (
	tinyFirst = 64
	tinyLarge = 256
)

func long(c byte, n int) string { return strings.Repeat(string(c), n) }

var diffCases = []diffCase{
	// well-formed requests
	{"get", "", "GET / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"get 1.0 without host", "", "GET / HTTP/1.0\r\n\r\n", "200"},
	{"head", "", "HEAD /x HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"bare LF line ends", "", "GET / HTTP/1.1\n" + "Host: x\n\n", "200"},
	{"mixed line ends", "", "GET / HTTP/1.1\r\nHost: x\n\r\n", "200"},
	{"several CRs end a header line", "", "GET / HTTP/1.1\r\nHost: x\r\r\r\n\r\n", "200"},
	{"leading empty lines", "", "\r\n\n\r\nGET / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"spaces around URI", "", "GET   /   HTTP/1.1  \r\n" + h11 + "\r\n", "200"},
	{"unknown method", "", "FOO / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"long unknown method", "", long('X', 300) + " / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"method with underscore and dash", "", "A_B-C / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"query and fragment", "", "GET /a?b=c#frag HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"dot segments", "", "GET /a/./b/../c HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"8-bit URI", "", "GET /\xd0\xb6\xff HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"header without colon", "", "GET / HTTP/1.1\r\n" + h11 + "Foo\r\n\r\n", "200"},
	{"host without space", "", "GET / HTTP/1.1\r\nHost:x\r\n\r\n", "200"},
	{"host with port", "", "GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", "200"},
	{"host ipv6 literal", "", "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "200"},
	{"host unclosed literal", "", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "200"},
	{"host trailing dot", "", "GET / HTTP/1.1\r\nHost: example.com.\r\n\r\n", "200"},
	{"host 8-bit", "", "GET / HTTP/1.1\r\nHost: \xc3\xa9t\xc3\xa9\r\n\r\n", "200"},
	{"host upper case", "", "GET / HTTP/1.1\r\nHost: EXAMPLE.com\r\n\r\n", "200"},
	{"8-bit header value", "", "GET / HTTP/1.1\r\n" + h11 + "X-A: \x80\xff\t\x01 v \r\n\r\n", "200"},
	{"duplicate cookie", "", "GET / HTTP/1.1\r\n" + h11 + "Cookie: a=1\r\nCookie: b=2\r\n\r\n", "200"},
	{"duplicate x-forwarded-for", "", "GET / HTTP/1.1\r\n" + h11 + "X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n", "200"},
	{"duplicate user-agent", "", "GET / HTTP/1.1\r\n" + h11 + "User-Agent: a\r\nUser-Agent: b\r\n\r\n", "200"},
	{"expect 100-continue without body", "", "GET / HTTP/1.1\r\n" + h11 + "Expect: 100-continue\r\n\r\n", "200"},
	{"connection close", "", "GET / HTTP/1.1\r\n" + h11 + "Connection: close\r\n\r\n", "200"},
	{"upgrade h2c", "", "GET / HTTP/1.1\r\n" + h11 + "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n", "200"},
	{"HTTP/1.10 counts as 1.1", "", "GET / HTTP/1.10\r\n" + h11 + "\r\n", "200"},
	{"HTTP/1.10 needs host", "", "GET / HTTP/1.10\r\n\r\n", "400"},
	{"HTTP/1.999", "", "GET / HTTP/1.999\r\n" + h11 + "\r\n", "200"},
	{"HTTP/1.1000", "", "GET / HTTP/1.1000\r\n" + h11 + "\r\n", "400"},

	// absolute URIs
	{"absolute URI", "", "GET http://example.com/a?b HTTP/1.1\r\nHost: other\r\n\r\n", "200"},
	{"absolute URI with port", "", "GET http://example.com:81/a HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"absolute URI empty port", "", "GET http://example.com:/a HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"absolute URI without path", "", "GET http://example.com HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"absolute URI args without path", "", "GET http://example.com?a=1 HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"absolute URI ipv6", "", "GET http://[::1]:80/ HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"absolute URI odd scheme", "", "GET foo+bar://x/ HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"absolute URI still needs host header", "", "GET http://example.com/ HTTP/1.1\r\n\r\n", "400"},
	{"absolute URI underscore host", "", "GET http://exa_mple.com/ HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"absolute URI double dot host", "", "GET http://a..b/ HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"absolute URI bad port", "", "GET http://x:8a/ HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"absolute URI single slash", "", "GET http:/x/ HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"absolute URI bad host header", "", "GET http://example.com/ HTTP/1.1\r\nHost: a/b\r\n\r\n", "400"},
	{"CONNECT authority form", "", "CONNECT example.com:443 HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"asterisk form", "", "OPTIONS * HTTP/1.1\r\n" + h11 + "\r\n", "400"},

	// request line errors
	{"lower-case method", "", "get / HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"digit in method", "", "GE7 / HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"tab after method", "", "GET\t/ HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"tab before version", "", "GET /\tHTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"space inside URI", "", "GET /a b HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"NUL in URI", "", "GET /a\x00b HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"escaped NUL in URI", "", "GET /a%00b HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"DEL in URI", "", "GET /a\x7f HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"control byte in args", "", "GET /?a=\x01 HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"bad escape", "", "GET /a%zz HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"truncated escape", "", "GET /a%2 HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"dot-dot above root", "", "GET /.. HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"dot-dot above root deeper", "", "GET /a/../../b HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"escaped dot-dot above root", "", "GET /%2e%2E/x HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"escaped slash dot-dot", "", "GET /a%2f..%2f..%2fetc HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"dot-dot within root", "", "GET /a/b/%2e%2e/c HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"bare CR in request line", "", "GET / HTTP/1.1\rX\r\n" + h11 + "\r\n", "400"},
	{"double CR after request line", "", "GET / HTTP/1.1\r\r\n" + h11 + "\r\n", "400"},
	{"HTTP/2.0", "", "GET / HTTP/2.0\r\n" + h11 + "\r\n", "505"},
	{"HTTP/10.1", "", "GET / HTTP/10.1\r\n" + h11 + "\r\n", "505"},
	{"HTTP/0.9 spelled out", "", "GET / HTTP/0.9\r\n" + h11 + "\r\n", "400"},
	{"HTTP/1 without minor", "", "GET / HTTP/1\r\n" + h11 + "\r\n", "400"},
	{"lower-case protocol", "", "GET / http/1.1\r\n" + h11 + "\r\n", "400"},
	{"HTTP/1.1 without host", "", "GET / HTTP/1.1\r\n\r\n", "400"},
	{"TRACE", "", "TRACE / HTTP/1.1\r\n" + h11 + "\r\n", "405"},
	{"CONNECT with path", "", "CONNECT / HTTP/1.1\r\n" + h11 + "\r\n", "405"},

	// HTTP/0.9
	{"HTTP/0.9 GET", "", "GET /\r\n", "09:200"},
	{"HTTP/0.9 GET bare LF", "", "GET /index?x\n", "09:200"},
	{"HTTP/0.9 POST", "", "POST /\r\n", "09:400"},
	{"HTTP/0.9 bad URI", "", "GET /%00\r\n", "09:400"},
	{"HTTP/0.9 trailing spaces", "", "GET /   \r\n", "09:200"},

	// header lines
	{"space before colon", "", "GET / HTTP/1.1\r\n" + h11 + "X-A : b\r\n\r\n", "400"},
	{"empty header name", "", "GET / HTTP/1.1\r\n" + h11 + ": b\r\n\r\n", "400"},
	{"obs-fold", "", "GET / HTTP/1.1\r\n" + h11 + "X-A: b\r\n c\r\n\r\n", "400"},
	{"tab fold", "", "GET / HTTP/1.1\r\n" + h11 + "X-A: b\r\n\tc\r\n\r\n", "400"},
	{"control byte in name", "", "GET / HTTP/1.1\r\n" + h11 + "X\x01A: b\r\n\r\n", "400"},
	{"NUL in name", "", "GET / HTTP/1.1\r\n" + h11 + "X\x00A: b\r\n\r\n", "400"},
	{"NUL in value", "", "GET / HTTP/1.1\r\n" + h11 + "X-A: b\x00c\r\n\r\n", "400"},
	{"bare CR in value", "", "GET / HTTP/1.1\r\n" + h11 + "X-A: b\rc\r\n\r\n", "400"},
	{"bare CR ends head", "", "GET / HTTP/1.1\r\n" + h11 + "\rX", "400"},
	{"8-bit name ignored", "", "GET / HTTP/1.1\r\n" + h11 + "X-\xe9: b\r\n\r\n", "200"},
	{"punctuation in name ignored", "", "GET / HTTP/1.1\r\n" + h11 + "X@Y: b\r\n\r\n", "200"},
	{"punctuation in name kept", "lax", "GET / HTTP/1.1\r\n" + h11 + "X@Y: b\r\n\r\n", "200"},
	{"underscore name ignored", "", "GET / HTTP/1.1\r\n" + h11 + "X_A: b\r\n\r\n", "200"},
	{"underscore host is not a host", "", "GET / HTTP/1.1\r\nHo_st: example.com\r\n\r\n", "400"},
	{"underscore host kept but not host", "lax", "GET / HTTP/1.1\r\nHo_st: example.com\r\n\r\n", "400"},
	{"invalid name does not shadow host", "", "GET / HTTP/1.1\r\nHost@: x\r\n" + h11 + "\r\n", "200"},

	// Host
	{"duplicate host", "", "GET / HTTP/1.1\r\n" + h11 + h11 + "\r\n", "400"},
	{"duplicate host 1.0", "", "GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n", "400"},
	{"host with slash", "", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "400"},
	{"host with space", "", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400"},
	{"host with double dot", "", "GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", "400"},
	{"host empty", "", "GET / HTTP/1.1\r\nHost: \r\n\r\n", "400"},
	{"host only port", "", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", "400"},
	{"host dot", "", "GET / HTTP/1.1\r\nHost: .\r\n\r\n", "400"},
	{"host with DEL", "", "GET / HTTP/1.1\r\nHost: a\x7fb\r\n\r\n", "400"},
	{"host with tab", "", "GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", "400"},
	{"host without colon", "", "GET / HTTP/1.1\r\nHost\r\n\r\n", "400"},

	// unique headers
	{"duplicate content-length equal", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 1\r\nContent-Length: 1\r\n\r\nx", "400"},
	{"duplicate content-length different", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 1\r\nContent-Length: 2\r\n\r\nxy", "400"},
	{"duplicate if-modified-since", "", "GET / HTTP/1.1\r\n" + h11 + "If-Modified-Since: a\r\nIf-Modified-Since: b\r\n\r\n", "400"},
	{"duplicate authorization", "", "GET / HTTP/1.1\r\n" + h11 + "Authorization: a\r\nauthorization: b\r\n\r\n", "400"},
	{"duplicate expect", "", "GET / HTTP/1.1\r\n" + h11 + "Expect: a\r\nExpect: b\r\n\r\n", "400"},
	{"duplicate content-range", "", "GET / HTTP/1.1\r\n" + h11 + "Content-Range: a\r\nContent-Range: b\r\n\r\n", "400"},
	{"duplicate if-range", "", "GET / HTTP/1.1\r\n" + h11 + "If-Range: a\r\nIf-Range: b\r\n\r\n", "400"},
	{"duplicate error before bad line", "", "GET / HTTP/1.1\r\n" + h11 + h11 + "X A: b\r\n\r\n", "400"},

	// Content-Length
	{"content-length body", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 5\r\n\r\nhello", "200"},
	{"content-length leading zeros", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 0005\r\n\r\nhello", "200"},
	{"content-length padded", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length:    5   \r\n\r\nhello", "200"},
	{"content-length negative", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: -1\r\n\r\n", "400"},
	{"content-length plus", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: +5\r\n\r\nhello", "400"},
	{"content-length hex", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 0x5\r\n\r\nhello", "400"},
	{"content-length list", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 5, 5\r\n\r\nhello", "400"},
	{"content-length empty", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length:\r\n\r\n", "400"},
	{"content-length tab", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: \t5\r\n\r\nhello", "400"},
	{"content-length overflow", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 9223372036854775808\r\n\r\n", "400"},
	{"content-length max", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 9223372036854775807\r\n\r\n", "413"},
	{"content-length over max body", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 1048577\r\n\r\n", "413"},
	{"content-length body short", "", "POST /body HTTP/1.1\r\n" + h11 + "Content-Length: 10\r\n\r\nhello", "-"},
	{"content-length proxied", "", "POST /body HTTP/1.1\r\n" + h11 + "Content-Length: 5\r\n\r\nhello", "200"},
	{"content-length over small limit", "", "POST /small HTTP/1.1\r\n" + h11 + "Content-Length: 11\r\n\r\nhello world", "413"},

	// Transfer-Encoding and smuggling vectors
	{"chunked discarded", "", "POST / HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "200"},
	{"chunked proxied", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", "200"},
	{"chunked upper case", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", "200"},
	{"chunked padded", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding:   chunked  \r\n\r\n0\r\n\r\n", "200"},
	{"chunked with tab", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: \tchunked\r\n\r\n0\r\n\r\n", "501"},
	{"CL.TE", "", "POST /body HTTP/1.1\r\n" + h11 + "Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", "400"},
	{"TE.CL", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", "400"},
	{"TE with space before colon", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", "400"},
	{"TE with underscore ignored", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello", "200"},
	{"TE folded", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", "400"},
	{"TE gzip, chunked", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", "501"},
	{"TE chunked, identity", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "501"},
	{"TE ,chunked", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", "501"},
	{"TE identity", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: identity\r\n\r\n", "501"},
	{"TE xchunked", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", "501"},
	{"TE twice", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
	{"TE in HTTP/1.0", "", "POST /body HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "400"},
	{"TE unknown in HTTP/1.0", "", "POST /body HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", "400"},
	{"TE empty", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding:\r\n\r\n", "501"},

	// chunked bodies, read by the proxy location
	{"chunk extension", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0;x\r\n\r\n", "200"},
	{"chunk size then space", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\t\r\n\r\n", "200"},
	{"chunk size leading zeros", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n" + long('0', 40) + "5\r\nhello\r\n0\r\n\r\n", "200"},
	{"chunk bare LF", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\nhello\n0\n\n", "200"},
	{"chunk trailers", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\nbad trailer line\r\n\r\n", "200"},
	{"chunk size not hex", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", "400"},
	{"chunk size negative", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", "400"},
	{"chunk size 0x", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n", "400"},
	{"chunk size overlong", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n10000000000000001\r\nhello\r\n0\r\n\r\n", "400"},
	{"chunk size 2^59", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n800000000000000\r\nhello\r\n0\r\n\r\n", "400"},
	{"chunk data too long", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n", "400"},
	{"chunk bare CR", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\rhello\r\n0\r\n\r\n", "400"},
	{"chunk missing last chunk", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", "-"},
	{"chunked over small limit", "", "POST /small HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "413"},
	{"chunked at small limit", "", "POST /small HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", "200"},
	{"chunked huge declared chunk", "", "POST /small HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\nffffff\r\nabc", "413"},
	{"expect 100-continue with body", "", "POST /body HTTP/1.1\r\n" + h11 + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello", "200"},

	// pipelining
	{"pipelined", "", "GET /a HTTP/1.1\r\n" + h11 + "\r\nGET /b HTTP/1.1\r\n" + h11 + "\r\n", "200 200"},
	{"pipelined after body", "", "POST / HTTP/1.1\r\n" + h11 + "Content-Length: 5\r\n\r\nhelloGET /b HTTP/1.1\r\n" + h11 + "\r\n", "200 200"},
	{"pipelined after chunked", "", "POST /body HTTP/1.1\r\n" + h11 + "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /b HTTP/1.1\r\n" + h11 + "\r\n", "200 200"},
	{"pipelined bad second", "", "GET /a HTTP/1.1\r\n" + h11 + "\r\nget /b HTTP/1.1\r\n\r\n", "200 400"},
	{"HTTP/1.0 is not pipelined", "", "GET /a HTTP/1.0\r\n\r\nGET /b HTTP/1.0\r\n\r\n", "200"},

	// incomplete heads: nginx closes without a reply
	{"no final empty line", "", "GET / HTTP/1.1\r\n" + h11, "-"},
	{"half a request line", "", "GET /ab", "-"},

	// buffer limits with the defaults (1k, then 4 x 8k)
	{"URI fills large buffer", "", "GET /" + long('a', 8192-len("GET / HTTP/1.1\r\n")) + " HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"URI one byte too long", "", "GET /" + long('a', 8192-len("GET / HTTP/1.1\r\n")+1) + " HTTP/1.1\r\n" + h11 + "\r\n", "414"},
	{"URI far too long", "", "GET /" + long('a', 20000) + " HTTP/1.1\r\n" + h11 + "\r\n", "414"},
	{"bad byte beats long URI", "", "GET /\x01" + long('a', 20000) + " HTTP/1.1\r\n" + h11 + "\r\n", "400"},
	{"header fills large buffer", "", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', 8192-len("X: \r\n")) + "\r\n\r\n", "200"},
	{"header one byte too long", "", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', 8192-len("X: \r\n")+1) + "\r\n\r\n", "400"},
	{"long cookie", "", "GET / HTTP/1.1\r\n" + h11 + "Cookie: " + long('c', 10000) + "\r\n\r\n", "400"},
	{"many headers", "", "GET / HTTP/1.1\r\n" + h11 + strings.Repeat("X-Some-Header: "+long('v', 985)+"\r\n", 34) + "\r\n", "400"},
	{"many headers fit", "", "GET / HTTP/1.1\r\n" + h11 + strings.Repeat("X-Some-Header: "+long('v', 985)+"\r\n", 30) + "\r\n", "200"},
	{"only line ends", "", long('\n', 3000) + "GET / HTTP/1.1\r\n" + h11 + "\r\n", "200"},

	// buffer limits with tiny buffers (64, then 2 x 256)
	{"tiny fits", "tiny", "GET / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"tiny request line in large buffer", "tiny", "GET /" + long('a', 100) + " HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"tiny request line fills large buffer", "tiny", "GET /" + long('a', tinyLarge-16) + " HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"tiny request line too long", "tiny", "GET /" + long('a', tinyLarge-15) + " HTTP/1.1\r\n" + h11 + "\r\n", "414"},
	{"tiny header too long", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', tinyLarge-4) + "\r\n\r\n", "400"},
	{"tiny header fits", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', tinyLarge-5) + "\r\n\r\n", "200"},
	{"tiny out of buffers", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', 200) + "\r\nY: " + long('v', 200) + "\r\nZ: " + long('v', 200) + "\r\n\r\n", "400"},
	{"tiny two large buffers", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', 200) + "\r\nY: " + long('v', 200) + "\r\n\r\n", "200"},
	{"tiny request line ends at buffer end", "tiny", "GET /" + long('a', tinyFirst-16) + " HTTP/1.1\r\n" + h11 + "X: " + long('v', 200) + "\r\nY: " + long('v', 200) + "\r\n\r\n", "200"},
	{"tiny header ends at buffer end", "tiny", "GET /" + long('a', tinyFirst-16-len(h11)) + " HTTP/1.1\r\n" + h11 + "X: " + long('v', 200) + "\r\n\r\n", "200"},
	{"tiny header ends at buffer end, out of buffers", "tiny", "GET /" + long('a', tinyFirst-16-len(h11)) + " HTTP/1.1\r\n" + h11 + "X: " + long('v', tinyLarge-5) + "\r\nY: " + long('v', 200) + "\r\nZ: 1\r\n\r\n", "200"},
	{"tiny head ends at last buffer end", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', tinyLarge-5) + "\r\nY: " + long('v', tinyLarge-7) + "\r\n\r\n", "200"},
	{"tiny line ends at last buffer end", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', tinyLarge-5) + "\r\nY: " + long('v', tinyLarge-5) + "\r\n\r\n", "400"},
	{"tiny CRLFs fill buffer", "tiny", long('\n', 3*tinyFirst) + "GET / HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"tiny CR split at buffer end", "tiny", "GET /" + long('a', tinyFirst-17) + " HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"tiny error inside long line", "tiny", "GET / HTTP/1.1\r\n" + h11 + "X: " + long('v', 50) + "\x00" + long('v', 400) + "\r\n\r\n", "400"},
	{"tiny duplicate host before overflow", "tiny", "GET / HTTP/1.1\r\n" + h11 + h11 + "X: " + long('v', 600) + "\r\n\r\n", "400"},
	{"tiny pipelined", "tiny", "GET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n", "200 200"},

	// lax server: merge_slashes off keeps "//"
	{"lax double slash dot-dot", "lax", "GET //.. HTTP/1.1\r\n" + h11 + "\r\n", "200"},
	{"merged double slash dot-dot", "", "GET //.. HTTP/1.1\r\n" + h11 + "\r\n", "400"},
}

// verdict runs the raw stream through this package the way nginx would
// handle it on a server whose settings cfg mirrors, and renders the result
// in diffCase.want's notation.
func verdict(raw []byte, cfg *Config) string {
	var out []string
	var r Request
	r.Reset(cfg)
	buf := raw
	for {
		st := r.Parse(buf)
		status := 0
		switch st {
		case NeedMore:
			if len(out) == 0 {
				return "-"
			}
			return strings.Join(out, " ")
		case Failed:
			status = WireStatus(r.Status())
		case Done:
			status = afterHead(&r, buf)
		}
		if r.Version == 9 {
			out = append(out, "09:"+strconv.Itoa(status))
			return strings.Join(out, " ")
		}
		if status == 0 {
			if len(out) == 0 {
				return "-"
			}
			return strings.Join(out, " ")
		}
		out = append(out, strconv.Itoa(status))
		if status != 200 || !r.KeepAlive() {
			return strings.Join(out, " ")
		}
		next := r.HeadLen() + bodyLen(&r, buf)
		if next >= len(buf) {
			return strings.Join(out, " ")
		}
		window, large := r.BufferEnd()-next, min(r.LargeBuffers(), 1)
		buf = buf[next:]
		r.ResetPipelined(cfg, window, large)
	}
}

// afterHead plays the parts of nginx that follow a parsed head in the
// table's locations: the client_max_body_size check on Content-Length (in
// every location) and reading the body (in the proxy locations).
func afterHead(r *Request, buf []byte) int {
	path := string(r.Path())
	limit := int64(defaultMaxBody)
	proxy := strings.HasPrefix(path, "/body") || strings.HasPrefix(path, "/small")
	if strings.HasPrefix(path, "/small") {
		limit = smallMaxBody
	}
	if r.ContentLength > limit {
		return 413
	}
	if !proxy {
		return 200
	}
	body := buf[r.HeadLen():]
	if !r.Chunked {
		if int64(len(body)) < max(r.ContentLength, 0) {
			return 0 // nginx sees the end of the stream first
		}
		return 200
	}
	d := ChunkedDecoder{MaxSize: limit}
	for {
		n, _, err := d.Decode(body)
		body = body[n:]
		switch {
		case errors.Is(err, io.EOF):
			return 200
		case errors.Is(err, ErrChunkedTooLarge):
			return 413
		case err != nil:
			return 400
		case len(body) == 0:
			return 0
		}
	}
}

// bodyLen returns the length of the body after the head in buf.
func bodyLen(r *Request, buf []byte) int {
	if r.Chunked {
		var d ChunkedDecoder
		body := buf[r.HeadLen():]
		total := 0
		for {
			n, _, err := d.Decode(body[total:])
			total += n
			if err != nil || total == len(body) {
				return total
			}
		}
	}
	if r.ContentLength > 0 {
		return int(r.ContentLength)
	}
	return 0
}

var titleRE = regexp.MustCompile(`<title>(\d{3}) `)

// nginxVerdict renders nginx's reply in diffCase.want's notation.
func nginxVerdict(resp []byte) string {
	if len(resp) == 0 {
		return "-"
	}
	if !strings.HasPrefix(string(resp), "HTTP/") {
		if string(resp) == "ok\n" {
			return "09:200"
		}
		if m := titleRE.FindSubmatch(resp); m != nil {
			return "09:" + string(m[1])
		}
		return "09:?"
	}
	var s []string
	for _, c := range nginxtest.Statuses(resp) {
		s = append(s, strconv.Itoa(c))
	}
	return strings.Join(s, " ")
}

// TestDiffTableAgainstParser checks the recorded nginx verdicts against this
// package alone, so it runs even where nginx is not installed.
func TestDiffTableAgainstParser(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range diffCases {
		if seen[c.name] {
			t.Errorf("duplicate case name %q", c.name)
		}
		seen[c.name] = true
		if got := verdict([]byte(c.raw), diffServers[c.server].cfg); got != c.want {
			t.Errorf("%s: parser says %s, nginx says %s\n%q", c.name, got, c.want, c.raw)
		}
	}
	if len(diffCases) < 60 {
		t.Errorf("only %d cases", len(diffCases))
	}
}

// TestDiffTableAgainstNginx sends every case to a live nginx and checks the
// recorded verdict.
func TestDiffTableAgainstNginx(t *testing.T) {
	nginxtest.Binary(t)
	backend := startBackend(t)
	ports := map[string]int{}
	var servers strings.Builder
	for _, name := range []string{"", "lax", "tiny"} {
		listen := "%%PORT%%"
		if name != "" {
			ports[name] = nginxtest.FreePort(t)
			listen = strconv.Itoa(ports[name])
		}
		fmt.Fprintf(&servers, `
    server {
        listen 127.0.0.1:%s;
        %s
        location / { return 200 "ok\n"; }
        location /body { proxy_pass http://%s; proxy_ignore_client_abort on; }
        location /small {
            client_max_body_size %d;
            proxy_pass http://%s;
            proxy_ignore_client_abort on;
        }
    }`, listen, diffServers[name].directives, backend, smallMaxBody, backend)
	}
	s := nginxtest.Start(t, "http {\n"+servers.String()+"\n}\n")
	ports[""] = s.Port

	for _, c := range diffCases {
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[c.server]))
		resp, err := nginxtest.Exchange(addr, []byte(c.raw), 5*time.Second)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got := nginxVerdict(resp); got != c.want {
			t.Errorf("%s: nginx says %s, table says %s\n%q\nreply: %q", c.name, got, c.want, c.raw, resp)
		}
	}
	if t.Failed() {
		t.Logf("error log:\n%s", s.ErrorLog())
	}
}

// startBackend runs the upstream the proxy locations use: it reads the
// whole body and answers 200.
func startBackend(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok\n")
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}
