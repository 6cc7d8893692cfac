package http

import (
	"gresty/core"
	"gresty/httpparse"
)

// WriteFilterModule is ngx_http_write_filter_module: the last body filter.
var WriteFilterModule = &core.Module{
	Name: "ngx_http_write_filter_module",
	Type: core.HTTPType,
	HTTP: &Hooks{Postconfiguration: func(cf *Conf) error {
		cf.Main.BodyFilter = writeFilter
		return nil
	}},
}

// HeaderFilterModule is ngx_http_header_filter_module: the last header
// filter, which serialises the response head.
var HeaderFilterModule = &core.Module{
	Name: "ngx_http_header_filter_module",
	Type: core.HTTPType,
	HTTP: &Hooks{Postconfiguration: func(cf *Conf) error {
		cf.Main.HeaderFilter = headerWriter
		return nil
	}},
}

// ChunkedFilterModule is ngx_http_chunked_filter_module: HTTP/1.1
// responses of unknown length are sent chunked; HTTP/1.0 ones close the
// connection.
var ChunkedFilterModule = &core.Module{
	Name: "ngx_http_chunked_filter_module",
	Type: core.HTTPType,
	HTTP: &Hooks{Postconfiguration: func(cf *Conf) error {
		cf.AddHeaderFilter(func(next HeaderFilterFunc) HeaderFilterFunc {
			return func(r *Request) int {
				chunkedHeader(r)
				return next(r)
			}
		})
		cf.AddBodyFilter(func(next BodyFilterFunc) BodyFilterFunc {
			return func(r *Request, in []Buf) int {
				if !r.Out.Chunked || r.HeaderOnly {
					return next(r, in)
				}
				return chunkedBody(r, in, next)
			}
		})
		return nil
	}},
}

func chunkedHeader(r *Request) {
	st := r.Out.Status
	if st == 304 || st == 204 || st < 200 || r != r.Main || r.Method == httpparse.MethodHEAD {
		return
	}
	unknown := r.Out.ContentLength == -1 && r.Out.Known(httpparse.HdrContentLength) == nil
	if !unknown && !r.ExpectTrailers {
		return
	}
	if r.HTTPVersion >= 1001 && r.Loc.ChunkedTransferEncoding.V {
		if r.ExpectTrailers {
			// trailers need chunked framing: the length goes.
			r.Out.ContentLength = -1
			r.Out.DelKnown(httpparse.HdrContentLength)
		}
		r.Out.Chunked = true
		return
	}
	if unknown {
		r.KeepAlive = false
	}
}

// chunkedBody frames a body chain as chunks: one chunk per call with data,
// and the last chunk (with trailers) when the chain carries the end.
func chunkedBody(r *Request, in []Buf, next BodyFilterFunc) int {
	var size int64
	last := false
	for i := range in {
		size += in[i].Size()
		if in[i].Last {
			last = true
		}
	}
	if size == 0 && !last {
		return next(r, in)
	}
	out := r.Conn.srv.chunkScratch[:0]
	var hdr []byte
	if size > 0 {
		hdr = httpparse.AppendChunkHeader(r.Alloc(18)[:0], size)
		out = append(out, Buf{Data: hdr})
	}
	for i := range in {
		b := in[i]
		b.Last = false
		out = append(out, b)
	}
	if last {
		out = append(out, Buf{Data: r.lastChunk(size > 0), Last: true, LastInChain: true})
	} else if size > 0 {
		out = append(out, Buf{Data: crlfBytes, Owned: true})
	}
	r.Conn.srv.chunkScratch = out[:0]
	return next(r, out)
}

var crlfBytes = []byte("\r\n")
var lastChunkAfterData = []byte("\r\n0\r\n\r\n")
var lastChunkOnly = []byte("0\r\n\r\n")

func (r *Request) lastChunk(afterData bool) []byte {
	if len(r.Out.Trailers) == 0 {
		if afterData {
			return lastChunkAfterData
		}
		return lastChunkOnly
	}
	var tr []byte
	for _, h := range r.Out.Trailers {
		if h.Name == nil || len(h.Value) == 0 {
			continue
		}
		tr = append(tr, h.Name...)
		tr = append(tr, ": "...)
		tr = append(tr, h.Value...)
		tr = append(tr, "\r\n"...)
	}
	return httpparse.AppendLastChunk(nil, afterData, tr)
}
