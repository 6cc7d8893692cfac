package gzip

import (
	"bytes"
	"fmt"
	"testing"

	"gresty/http"
)

func bufs(parts ...string) []http.Buf {
	var in []http.Buf
	for _, p := range parts {
		in = append(in, http.Buf{Data: []byte(p)})
	}
	in[len(in)-1].Last = true
	return in
}

func TestCacheable(t *testing.T) {
	big := string(make([]byte, cacheMaxBody+1))
	tests := []struct {
		name string
		in   []http.Buf
		want bool
	}{
		{"whole", bufs("abc"), true},
		{"pieces", bufs("a", "b", "c"), true},
		{"empty body", bufs(""), true},
		{"not last", []http.Buf{{Data: []byte("x")}}, false},
		{"flush", []http.Buf{{Data: []byte("x"), Flush: true}, {Last: true}}, false},
		{"too big", bufs(big), false},
		{"at limit", bufs(big[1:]), true},
	}
	for _, tt := range tests {
		if _, got := cacheable(tt.in); got != tt.want {
			t.Errorf("%s: cacheable = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestBodyCacheAdmitLookupEvict(t *testing.T) {
	c := newBodyCache()
	in := bufs("hello ", "world")
	k := c.key(in, 11, 1)
	if k != c.key(bufs("hello world"), 11, 1) {
		t.Fatal("the key depends on how the body is split")
	}
	if c.key(in, 11, 2) == k {
		t.Fatal("the level is not part of the key")
	}
	if c.admit(k) {
		t.Fatal("admitted at first sight")
	}
	if !c.admit(k) {
		t.Fatal("not admitted at second sight")
	}
	e := c.store(k, in, []byte("compressed"))
	if got := c.lookup(k, bufs("hello world")); got != e {
		t.Fatal("stored body not found")
	}
	// a different body under the same key (a forged collision) must miss.
	if got := c.lookup(k, bufs("hello worlD")); got != nil {
		t.Fatal("a hit was not confirmed byte for byte")
	}
	// fill past the byte limit: the oldest entries go first.
	body := bytes.Repeat([]byte("x"), 60<<10)
	var keys []cacheKey
	for i := 0; i < 80; i++ {
		b := append([]byte(fmt.Sprint(i)), body...)
		in := []http.Buf{{Data: b, Last: true}}
		k := c.key(in, len(b), 1)
		c.store(k, in, b[:1000])
		keys = append(keys, k)
	}
	if c.bytes > cacheMaxBytes {
		t.Errorf("cache holds %d bytes, limit %d", c.bytes, cacheMaxBytes)
	}
	if c.entries[keys[0]] != nil || c.entries[k] != nil {
		t.Error("the oldest entries were not evicted")
	}
	if c.entries[keys[len(keys)-1]] == nil {
		t.Error("the newest entry was evicted")
	}
	total := 0
	for _, e := range c.fifo[c.head:] {
		total += len(e.in) + len(e.out)
	}
	if total != c.bytes || len(c.fifo)-c.head != len(c.entries) {
		t.Errorf("accounting: fifo %d entries %d bytes, map %d entries, counted %d bytes", len(c.fifo)-c.head, total, len(c.entries), c.bytes)
	}
}

func TestCachedOutputEqualsCompression(t *testing.T) {
	// a cached answer must be the bytes a fresh compression produces.
	for _, level := range []int{1, 6, 9} {
		in := sample(12 << 10)
		fresh := newDeflater(level)
		fresh.Start(-1)
		fresh.Write(in)
		fresh.Finish()
		want := append([]byte(nil), fresh.Bytes()...)

		used := newDeflater(level)
		for i := 0; i < 3; i++ { // an encoder with history from other bodies
			used.Start(-1)
			used.Write(sample(5000 + i*999))
			used.Finish()
			used.Reset()
		}
		used.Start(-1)
		used.Write(in)
		used.Finish()
		if !bytes.Equal(used.Bytes(), want) {
			t.Errorf("level %d: a reused encoder's output differs from a fresh one's", level)
		}
	}
}
