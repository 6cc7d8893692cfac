package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// heapFloorEnv sets the heap floor: a size in bytes with an optional k, m
// or g suffix, 0 for none.
const heapFloorEnv = "GRESTY_HEAP_FLOOR"

// defaultHeapFloor is the floor when neither heapFloorEnv nor GOGC is set.
//
// A loop's live heap is small (about 1 MiB for a Lua server), and Go's
// collector then aims at a 4 MiB heap: a handler that allocates a few
// hundred bytes per request starts a cycle every few milliseconds, and a
// loop spends a third of its time with write barriers on, marking. The
// floor is an untouched, pointer-free allocation the collector counts but
// never scans, so the heap goal becomes about twice live plus the floor:
// cycles become rare while little memory is held, since the floor's pages
// are never written and so never resident. A large live heap keeps the
// usual doubling (GOGC=100) on top of it.
const defaultHeapFloor = 16 << 20

// heapFloor allocates the floor and returns it; the caller keeps it alive
// for the life of the process. An explicit GOGC means the user tunes the
// collector and gets exactly what they asked for.
func heapFloor() ([]byte, error) {
	size := int64(defaultHeapFloor)
	if v, ok := os.LookupEnv(heapFloorEnv); ok {
		n, err := parseByteSize(v)
		if err != nil {
			return nil, fmt.Errorf("%s: invalid size %q", heapFloorEnv, v)
		}
		size = n
	} else if os.Getenv("GOGC") != "" {
		return nil, nil
	}
	if size <= 0 {
		return nil, nil
	}
	return make([]byte, size), nil
}

// parseByteSize reads "16m", "512k", "1g" or a plain number of bytes.
func parseByteSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToLower(s[len(s)-min(len(s), 1):]) {
	case "k":
		mult = 1 << 10
	case "m":
		mult = 1 << 20
	case "g":
		mult = 1 << 30
	}
	if mult != 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("invalid size")
	}
	return n * mult, nil
}
