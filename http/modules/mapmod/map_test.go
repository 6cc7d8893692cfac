package mapmod

import (
	"strconv"
	"strings"
	"testing"
)

func TestWildcardLookup(t *testing.T) {
	b := &block{m: &Map{hostnames: true, exact: map[string]*value{}}, values: map[string]*value{},
		taken: map[string]bool{}, headTaken: map[string]bool{}, tailTaken: map[string]bool{}}
	for _, k := range []string{".example.com", "*.a.example.com", "*.org", "www.example.*", "www.*", "mail.*"} {
		if res := b.add(k, &value{lit: []byte(k)}); res != addOK {
			t.Fatalf("add(%q) = %d", k, res)
		}
	}
	tests := []struct{ name, head, tail string }{
		{"example.com", ".example.com", ""},
		{"x.example.com", ".example.com", ""},
		{"a.example.com", ".example.com", ""},
		{"b.a.example.com", "*.a.example.com", ""},
		{"org", "", ""},
		{"x.org", "*.org", ""},
		{".org", "*.org", ""},
		{"com", "", ""},
		{"www.example.com", ".example.com", "www.example.*"},
		{"www.example", "", "www.*"},
		{"www.example.", "", "www.example.*"},
		{"www", "", ""},
		{"mail.x", "", "mail.*"},
		{"email.x", "", ""},
	}
	for _, tt := range tests {
		got := func(v *value) string {
			if v == nil {
				return ""
			}
			return string(v.lit)
		}
		if h := got(b.m.head.findHead([]byte(tt.name))); h != tt.head {
			t.Errorf("head %q: got %q, want %q", tt.name, h, tt.head)
		}
		if tl := got(b.m.tail.findTail([]byte(tt.name))); tl != tt.tail {
			t.Errorf("tail %q: got %q, want %q", tt.name, tl, tt.tail)
		}
	}
}

func TestAddConflicts(t *testing.T) {
	tests := []struct {
		hostnames bool
		keys      []string
		want      addResult
	}{
		{false, []string{"a", "A"}, addBusy},
		{false, []string{"*.a", "*.A"}, addBusy},
		{false, []string{"*.a.*"}, addOK},
		{true, []string{"*.a.*"}, addInvalid},
		{true, []string{"a.*.b"}, addInvalid},
		{true, []string{"a..b"}, addInvalid},
		{true, []string{"*"}, addInvalid},
		{true, []string{"example.com", ".example.com"}, addBusy},
		{true, []string{".example.com", "example.com"}, addBusy},
		{true, []string{"*.example.com", ".EXAMPLE.com"}, addBusy},
		{true, []string{"*.example.com", "example.com"}, addOK},
		{true, []string{"www.*", "WWW.*"}, addBusy},
		{true, []string{"www.*", "*.www"}, addOK},
	}
	for _, tt := range tests {
		b := &block{m: &Map{hostnames: tt.hostnames, exact: map[string]*value{}}, taken: map[string]bool{},
			headTaken: map[string]bool{}, tailTaken: map[string]bool{}}
		var res addResult
		for _, k := range tt.keys {
			if res = b.add(k, nullValue); res != addOK {
				break
			}
		}
		if res != tt.want {
			t.Errorf("hostnames %v, keys %q: got %d, want %d", tt.hostnames, tt.keys, res, tt.want)
		}
	}
}

func TestHashCheck(t *testing.T) {
	many := make([]string, 500)
	for i := range many {
		many[i] = "/key/" + strconv.Itoa(i)
	}
	tests := []struct {
		name            string
		max, bucket     int
		keys            []string
		wantWarn, wantE string
	}{
		{"fits", 2048, 64, []string{"a", "b", "c"}, "", ""},
		{"46 bytes fit in 64", 2048, 64, []string{strings.Repeat("k", 46)}, "", ""},
		{"47 bytes do not", 2048, 64, []string{strings.Repeat("k", 47)}, "",
			"could not build map_hash, you should increase map_hash_bucket_size: 64"},
		{"zero max", 0, 64, []string{"a"}, "", "could not build map_hash, you should increase map_hash_max_size: 0"},
		{"too large bucket", 2048, 65536, []string{"a"}, "", "could not build map_hash, too large map_hash_bucket_size: 65536"},
		{"not optimal", 1, 64, []string{"a", "b", "c", "d", "e"},
			"could not build optimal map_hash, you should increase either map_hash_max_size: 1 or map_hash_bucket_size: 64; ignoring map_hash_bucket_size", ""},
		{"many keys", 2048, 64, many, "", ""},
	}
	for _, tt := range tests {
		warn, err := hashCheck("map_hash", tt.max, tt.bucket, tt.keys)
		e := ""
		if err != nil {
			e = err.Error()
		}
		if warn != tt.wantWarn || e != tt.wantE {
			t.Errorf("%s: got warn %q err %q, want %q %q", tt.name, warn, e, tt.wantWarn, tt.wantE)
		}
	}
}

// BenchmarkFind looks a lowercase host up among exact keys and
// wildcards, as a hostnames map does for every request.
func BenchmarkFind(b *testing.B) {
	bl := &block{m: &Map{hostnames: true, exact: map[string]*value{}}, values: map[string]*value{},
		taken: map[string]bool{}, headTaken: map[string]bool{}, tailTaken: map[string]bool{}}
	for i := 0; i < 200; i++ {
		bl.add("host"+strconv.Itoa(i)+".example.com", nullValue)
		bl.add(".zone"+strconv.Itoa(i)+".example.org", nullValue)
	}
	for _, name := range []string{"host7.example.com", "a.b.zone7.example.org"} {
		b.Run(name, func(b *testing.B) {
			key := []byte(name)
			b.ReportAllocs()
			for b.Loop() {
				if bl.m.find(nil, key) == nil {
					b.Fatal("not found")
				}
			}
		})
	}
}
