// Package httpparse parses and checks HTTP/1.x message heads and bodies the
// way nginx 1.22 does: the request line and header lines, the buffer limits
// of client_header_buffer_size and large_client_header_buffers, the checks
// nginx makes once a request head is complete, URI normalisation and
// escaping, upstream response heads and the chunked transfer coding.
//
// Everything here works on byte slices supplied by the caller and allocates
// nothing on the hot path. Results are sub-slices of the caller's input (or of
// a dst buffer the caller passes in); they stay valid only while that memory
// is unchanged, so a request that outlives its read buffer must copy its head
// first.
//
// The package holds no goroutines and no shared state: a Request, Response or
// ChunkedDecoder belongs to whichever goroutine (event loop) owns the
// connection, and may be used by one goroutine at a time.
//
// Status codes and reasons are nginx's: a verdict of 494 is nginx's internal
// "request header too large" code, sent to the client as 400 with the
// "Request Header Or Cookie Too Large" page (see WireStatus).
package httpparse
