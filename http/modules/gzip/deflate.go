package gzip

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/klauspost/compress/flate"
)

// sink collects a compressor's output.
type sink struct{ b []byte }

func (s *sink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

// deflater is the gzip Encoder: raw deflate from klauspost/compress in
// the gzip envelope zlib writes for nginx (no name, no mtime, OS "Unix",
// the extra flags zlib derives from the level).
type deflater struct {
	fw    *flate.Writer
	out   sink
	level int
	crc   uint32
	size  uint32
}

func newDeflater(level int) Encoder {
	d := &deflater{level: level}
	// NewWriter fails only for a level outside -2..9, which the
	// configuration refuses.
	d.fw, _ = flate.NewWriter(&d.out, level)
	return d
}

func (d *deflater) Start(int64) {
	d.fw.Reset(&d.out)
	d.crc, d.size = 0, 0
	xfl := byte(0)
	switch {
	case d.level == 9:
		xfl = 2
	case d.level < 2:
		xfl = 4
	}
	d.out.b = append(d.out.b, 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3)
}

func (d *deflater) Write(p []byte) error {
	d.crc = crc32.Update(d.crc, crc32.IEEETable, p)
	d.size += uint32(len(p))
	_, err := d.fw.Write(p)
	return err
}

func (d *deflater) Flush() error { return d.fw.Flush() }

func (d *deflater) Finish() error {
	if err := d.fw.Close(); err != nil {
		return err
	}
	d.out.b = binary.LittleEndian.AppendUint32(d.out.b, d.crc)
	d.out.b = binary.LittleEndian.AppendUint32(d.out.b, d.size)
	return nil
}

func (d *deflater) Bytes() []byte { return d.out.b }

func (d *deflater) Reset() {
	if cap(d.out.b) > maxKeptOutput {
		d.out.b = nil
		return
	}
	d.out.b = d.out.b[:0]
}
