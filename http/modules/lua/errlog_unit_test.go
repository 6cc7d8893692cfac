package lua

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"gresty/errlog"
)

// The capture ring keeps the newest lines that fit, oldest first, and
// reads remove them: whatever the line lengths, what comes back is a run
// of the last lines written, in order, the newest always among them,
// and no more than the buffer holds.
func TestLogRingKeepsTheNewestLines(t *testing.T) {
	for seed := uint64(1); seed <= 200; seed++ {
		rnd := rand.New(rand.NewPCG(seed, 7))
		size := 64 + rnd.IntN(512)
		rb := newLogRing(size)
		var written []string
		for round := 0; round < 3; round++ {
			for i := rnd.IntN(40); i > 0; i-- {
				n := rnd.IntN(size - ringHeader + 1)
				line := strconv.Itoa(len(written)) + ":"
				for len(line) < n {
					line += "x"
				}
				line = line[:max(n, 0)]
				if len(line)+ringHeader > size || len(line) < 2 {
					continue
				}
				rb.write(errlog.Error, []byte(line))
				written = append(written, line)
			}
			var got []string
			total := 0
			for {
				level, _, msg, ok := rb.read()
				if !ok {
					break
				}
				if level != errlog.Error {
					t.Fatalf("seed %d: level %d", seed, level)
				}
				got = append(got, msg)
				total += len(msg) + ringHeader
			}
			if total > size {
				t.Fatalf("seed %d: %d bytes read from a %d-byte ring", seed, total, size)
			}
			if len(written) > 0 && (len(got) == 0 || got[len(got)-1] != written[len(written)-1]) {
				t.Fatalf("seed %d: the newest line is missing: got %q", seed, got)
			}
			tail := written[len(written)-len(got):]
			for i := range got {
				if got[i] != tail[i] {
					t.Fatalf("seed %d: read %q, want the last lines written %q", seed, got, tail)
				}
			}
			written = written[:0]
		}
	}
}

// Lines above the filter level are not kept; equal-sized lines fill the
// ring as far as it goes.
func TestLogRingFilterAndCapacity(t *testing.T) {
	rb := newLogRing(4096)
	rb.filterLevel = errlog.Warn
	line := make([]byte, 84) // 100 bytes with the header
	for i := 0; i < 100; i++ {
		rb.write(errlog.Info, line)
		rb.write(errlog.Warn, line)
	}
	n := 0
	for {
		level, _, _, ok := rb.read()
		if !ok {
			break
		}
		if level != errlog.Warn {
			t.Fatalf("kept a line at level %d", level)
		}
		n++
	}
	if n < 39 || n > 40 {
		t.Errorf("a 4096-byte ring kept %d lines of 100 bytes", n)
	}
}
