package httpparse

import (
	"errors"
	"io"
)

// Errors from ChunkedDecoder.Decode. nginx answers an invalid request body
// with 400 ("client sent invalid chunked body"), an oversized one with 413
// ("client intended to send too large chunked body"), and an invalid
// upstream body with 502 ("upstream sent invalid chunked response").
var (
	ErrChunkedInvalid  = errors.New("invalid chunked body")
	ErrChunkedTooLarge = errors.New("too large chunked body")
)

// chunked decoder states
const (
	ckStart = iota
	ckSize
	ckExtension
	ckExtensionAlmostDone
	ckData
	ckAfterData
	ckAfterDataAlmostDone
	ckLastExtension
	ckLastExtensionAlmostDone
	ckTrailer
	ckTrailerAlmostDone
	ckTrailerHeader
	ckTrailerHeaderAlmostDone
	ckDone
	ckInvalid
	ckTooLarge
)

// maxOff is nginx's NGX_MAX_OFF_T_VALUE.
const maxOff = 1<<63 - 1

// ChunkedDecoder decodes the chunked transfer coding incrementally, as
// nginx 1.22's ngx_http_parse_chunked: hex sizes of any length with leading
// zeros but no larger than 2^59-1 (nginx's overflow guard), chunk
// extensions after ';', space or tab skipped unread, CR optional before LF,
// and trailer lines skipped without being parsed. The zero value is ready to
// use; a decoder belongs to the goroutine that owns the connection.
type ChunkedDecoder struct {
	// MaxSize is client_max_body_size: a chunk that would take the
	// decoded size past it fails with ErrChunkedTooLarge before any of
	// its data is returned. 0 means no limit.
	MaxSize int64

	state uint8
	size  int64 // the size being read, then the bytes left in the chunk
	total int64
}

// Reset prepares d for a new body, keeping MaxSize.
func (d *ChunkedDecoder) Reset() { *d = ChunkedDecoder{MaxSize: d.MaxSize} }

// Size returns the number of data bytes decoded so far.
func (d *ChunkedDecoder) Size() int64 { return d.total }

// ChunkSize returns the size of the chunk being read: after
// ErrChunkedTooLarge, the one that did not fit (nginx's ctx->size, which
// its "too large chunked body" message reports).
func (d *ChunkedDecoder) ChunkSize() int64 { return d.size }

// Decode consumes framing bytes from in until it reaches chunk data, the end
// of in, or the end of the body. It returns how many bytes of in it
// consumed and the data it found: a sub-slice of in, at most one chunk's
// worth, whose bytes are counted in n. The caller passes in[n:] on the next
// call (or new bytes once n == len(in)).
//
// err is io.EOF once the last chunk and the trailer have been consumed (in[n:]
// then holds whatever follows the body), ErrChunkedInvalid or
// ErrChunkedTooLarge on failure (sticky), and nil otherwise.
func (d *ChunkedDecoder) Decode(in []byte) (n int, data []byte, err error) {
	st := int(d.state)
	switch st {
	case ckDone:
		return 0, nil, io.EOF
	case ckInvalid:
		return 0, nil, ErrChunkedInvalid
	case ckTooLarge:
		return 0, nil, ErrChunkedTooLarge
	case ckData:
		if d.size == 0 {
			st = ckAfterData
		}
	}
	for p := 0; p < len(in); p++ {
		ch := in[p]
		switch st {
		case ckStart:
			v := hexVal[ch]
			if v == 0xff {
				return d.invalid(p)
			}
			d.size = int64(v)
			st = ckSize

		case ckSize:
			if d.size > maxOff/16 {
				return d.invalid(p)
			}
			if v := hexVal[ch]; v != 0xff {
				d.size = d.size*16 + int64(v)
				continue
			}
			if d.size == 0 {
				// the last chunk: its line leads to the trailer
				switch ch {
				case '\r':
					st = ckLastExtensionAlmostDone
				case '\n':
					st = ckTrailer
				case ';', ' ', '\t':
					st = ckLastExtension
				default:
					return d.invalid(p)
				}
				continue
			}
			switch ch {
			case '\r':
				st = ckExtensionAlmostDone
			case '\n':
				st = ckData
			case ';', ' ', '\t':
				st = ckExtension
			default:
				return d.invalid(p)
			}

		case ckExtension, ckLastExtension:
			switch ch {
			case '\r':
				st++
			case '\n':
				if st == ckExtension {
					st = ckData
				} else {
					st = ckTrailer
				}
			}

		case ckExtensionAlmostDone, ckLastExtensionAlmostDone:
			if ch != '\n' {
				return d.invalid(p)
			}
			if st == ckExtensionAlmostDone {
				st = ckData
			} else {
				st = ckTrailer
			}

		case ckData:
			if d.MaxSize > 0 && d.MaxSize-d.total < d.size {
				d.state = ckTooLarge
				return p, nil, ErrChunkedTooLarge
			}
			take := min(int64(len(in)-p), d.size)
			d.size -= take
			d.total += take
			d.state = ckData
			end := p + int(take)
			return end, in[p:end:end], nil

		case ckAfterData:
			switch ch {
			case '\r':
				st = ckAfterDataAlmostDone
			case '\n':
				st = ckStart
			default:
				return d.invalid(p)
			}

		case ckAfterDataAlmostDone:
			if ch != '\n' {
				return d.invalid(p)
			}
			st = ckStart

		case ckTrailer:
			switch ch {
			case '\r':
				st = ckTrailerAlmostDone
			case '\n':
				d.state = ckDone
				return p + 1, nil, io.EOF
			default:
				st = ckTrailerHeader
			}

		case ckTrailerAlmostDone:
			if ch != '\n' {
				return d.invalid(p)
			}
			d.state = ckDone
			return p + 1, nil, io.EOF

		case ckTrailerHeader:
			switch ch {
			case '\r':
				st = ckTrailerHeaderAlmostDone
			case '\n':
				st = ckTrailer
			}

		case ckTrailerHeaderAlmostDone:
			if ch != '\n' {
				return d.invalid(p)
			}
			st = ckTrailer
		}
	}
	d.state = uint8(st)
	return len(in), nil, nil
}

func (d *ChunkedDecoder) invalid(p int) (int, []byte, error) {
	d.state = ckInvalid
	return p, nil, ErrChunkedInvalid
}

// MinRemaining returns the fewest bytes that could still complete the body
// (nginx's ctx->length), so a reader can size its next read.
func (d *ChunkedDecoder) MinRemaining() int64 {
	switch d.state {
	case ckStart:
		return 3 // "0" LF LF
	case ckSize:
		if d.size > 0 {
			return 1 + d.size + 4 // LF data LF "0" LF LF
		}
		return 2
	case ckExtension, ckExtensionAlmostDone:
		return 1 + d.size + 4
	case ckData:
		return d.size + 4
	case ckAfterData, ckAfterDataAlmostDone:
		return 4
	case ckLastExtension, ckLastExtensionAlmostDone, ckTrailerHeader, ckTrailerHeaderAlmostDone:
		return 2
	case ckTrailer, ckTrailerAlmostDone:
		return 1
	}
	return 0
}

// AppendChunkHeader appends the line that opens a chunk of size bytes
// (lower-case hex and CRLF, as nginx's chunked filter writes it). size must
// be positive: a zero-size chunk ends the body (see AppendLastChunk).
func AppendChunkHeader(dst []byte, size int64) []byte {
	const hex = "0123456789abcdef"
	var b [16]byte
	i := len(b)
	for {
		i--
		b[i] = hex[size&0xf]
		size >>= 4
		if size == 0 {
			break
		}
	}
	dst = append(dst, b[i:]...)
	return append(dst, '\r', '\n')
}

// ChunkEnd is the CRLF that closes each chunk's data.
const ChunkEnd = "\r\n"

// AppendLastChunk appends the end of a chunked body: the last chunk, the
// trailer lines (each "Name: value\r\n", already formatted; may be empty)
// and the final CRLF. afterData says a chunk's data was just written
// without its closing CRLF, which nginx then writes in the same buffer.
func AppendLastChunk(dst []byte, afterData bool, trailers []byte) []byte {
	if afterData {
		dst = append(dst, ChunkEnd...)
	}
	dst = append(dst, '0', '\r', '\n')
	dst = append(dst, trailers...)
	return append(dst, '\r', '\n')
}
