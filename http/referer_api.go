package http

import (
	"fmt"

	"gresty/errlog"
	"gresty/regex"
)

// This file is what the referer module needs of the http package beyond
// the public fields: a server's names as server_name configured them,
// regex matching that leaves the request's captures alone, and nginx's
// hash sizing rules (for the *_hash_max_size and *_hash_bucket_size
// directives of modules that keep their keys in Go maps).

// ServerName is one name of a server's server_name directive.
type ServerName struct {
	// Name is the name lowercased, wildcards as written ("*.example.com",
	// ".example.com", "www.example.*"); empty for a regex name.
	Name string
	// Regex is set for a "~" name.
	Regex *Regex
}

// ServerNames returns s's names in configuration order, nginx's default
// "" included when the server has no server_name. It is valid once the
// servers are merged (in Postconfiguration). Configuration goroutine only.
func (s *SrvConf) ServerNames() []ServerName {
	out := make([]ServerName, 0, len(s.Names))
	for _, n := range s.Names {
		if n.regex != nil {
			out = append(out, ServerName{Regex: n.regex})
			continue
		}
		out = append(out, ServerName{Name: n.name})
	}
	return out
}

// RegexMatches runs re on subject and tells whether it matched, without
// touching the request's captures or variables (as ngx_regex_exec_array
// does). A failing execution is logged at alert level and returned. Loop
// goroutine only.
func (r *Request) RegexMatches(re *regex.Regexp, subject []byte) (bool, error) {
	var small [30]int
	ovec := small[:]
	if n := re.OvectorLen(); n > len(small) {
		ovec = make([]int, n)
	} else {
		ovec = small[:n]
	}
	n, err := re.Match(r.Conn.srv.matcher, subject, 0, ovec)
	if err != nil {
		r.Logf(errlog.Alert, "regex match failed: %s on \"%s\" using \"%s\"", err.Error(), subject, re.String())
		return false, err
	}
	return n > 0, nil
}

// hashCacheLine is ngx_cacheline_size on the 64-bit machines nginx
// targets: hash bucket sizes are rounded up to it.
const hashCacheLine = 64

// AlignHashBucketSize rounds a *_hash_bucket_size up to the cache line, as
// nginx does before building a hash (the rounded value is what its
// messages print).
func AlignHashBucketSize(n int) int {
	return (n + hashCacheLine - 1) &^ (hashCacheLine - 1)
}

// HashSizeCheck decides, as ngx_hash_init does, whether nginx could build
// a hash of keys with maxSize buckets of bucketSize bytes (already
// aligned). name is the hash's name in messages ("referer_hash"). It
// returns the warning nginx logs when it has to ignore the bucket size,
// and the error that fails the configuration. Keys are hashed lowercased.
func HashSizeCheck(name string, maxSize, bucketSize int, keys []string) (warn string, err error) {
	if maxSize == 0 {
		return "", fmt.Errorf("could not build %s, you should increase %s_max_size: %d", name, name, maxSize)
	}
	if bucketSize > 65536-hashCacheLine {
		return "", fmt.Errorf("could not build %s, too large %s_bucket_size: %d", name, name, bucketSize)
	}
	// an element is a value pointer, a length and the name, aligned to a
	// pointer; every bucket ends with a pointer-sized terminator.
	elt := func(k string) int { return 8 + (len(k)+2+7)&^7 }
	for _, k := range keys {
		if bucketSize < elt(k)+8 {
			return "", fmt.Errorf("could not build %s, you should increase %s_bucket_size: %d", name, name, bucketSize)
		}
	}
	sums := make([]uint64, len(keys))
	for i, k := range keys {
		var h uint64
		for j := 0; j < len(k); j++ {
			c := k[j]
			if c >= 'A' && c <= 'Z' {
				c |= 0x20
			}
			h = h*31 + uint64(c)
		}
		sums[i] = h
	}
	room := bucketSize - 8
	start := len(keys) / (room / 16)
	if start == 0 {
		start = 1
	}
	if maxSize > 10000 && len(keys) > 0 && maxSize/len(keys) < 100 {
		start = maxSize - 1000
	}
	fill := make([]int, maxSize)
	size := -1
	for s := start; s <= maxSize && size < 0; s++ {
		clear(fill[:s])
		fits := true
		for i, k := range keys {
			b := int(sums[i] % uint64(s))
			if fill[b]+elt(k) > room {
				fits = false
				break
			}
			fill[b] += elt(k)
		}
		if fits {
			size = s
		}
	}
	if size < 0 {
		size = maxSize
		warn = fmt.Sprintf("could not build optimal %s, you should increase either %s_max_size: %d or %s_bucket_size: %d; ignoring %s_bucket_size",
			name, name, maxSize, name, bucketSize, name)
	}
	for i := range fill[:size] {
		fill[i] = 8
	}
	for i, k := range keys {
		b := int(sums[i] % uint64(size))
		fill[b] += elt(k)
		if fill[b] > 65536-hashCacheLine {
			return warn, fmt.Errorf("could not build %s, you should increase %s_max_size: %d", name, name, maxSize)
		}
	}
	return warn, nil
}
