package zstd

import (
	"github.com/klauspost/compress/zstd"

	"gresty/http/modules/gzip"
)

// windowSize bounds the back-reference window: 1 MiB keeps each pooled
// encoder small and is far below the 8 MiB browsers must accept for
// "Content-Encoding: zstd" (RFC 9659).
const windowSize = 1 << 20

// maxKeptOutput is the largest output buffer an idle encoder keeps.
const maxKeptOutput = 256 << 10

type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// encoder is the zstd gzip.Encoder: one synchronous klauspost encoder
// (no goroutines: concurrency 1) reused across responses.
type encoder struct {
	z   *zstd.Encoder
	out sink
}

func newZstdEncoder(level int) gzip.Encoder {
	e := &encoder{}
	// the options are constants and valid, so NewWriter cannot fail.
	e.z, _ = zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(level)),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(windowSize),
		zstd.WithZeroFrames(true))
	return e
}

func (e *encoder) Start(size int64) {
	if size > 0 {
		// the frame then carries the content size.
		e.z.ResetContentSize(&e.out, size)
		return
	}
	e.z.Reset(&e.out)
}

func (e *encoder) Write(p []byte) error {
	_, err := e.z.Write(p)
	return err
}

func (e *encoder) Flush() error  { return e.z.Flush() }
func (e *encoder) Finish() error { return e.z.Close() }
func (e *encoder) Bytes() []byte { return e.out.b }

func (e *encoder) Reset() {
	if cap(e.out.b) > maxKeptOutput {
		e.out.b = nil
		return
	}
	e.out.b = e.out.b[:0]
}
