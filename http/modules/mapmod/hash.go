package mapmod

import "fmt"

// This file decides, as ngx_hash_init does, whether nginx could build the
// hash of a map's keys with map_hash_max_size and map_hash_bucket_size,
// so that gresty fails (or warns about) the same configurations. Lookups
// themselves use Go maps.

// cacheLine is ngx_cacheline_size on the 64-bit machines nginx targets;
// bucket sizes are rounded up to it.
const cacheLine = 64

// hashKey is ngx_hash_key_lc: the hash nginx buckets a key by.
func hashKey(s string) uint64 {
	var k uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c |= 0x20
		}
		k = k*31 + uint64(c)
	}
	return k
}

// eltSize is NGX_HASH_ELT_SIZE: a value pointer, then the length and the
// name, aligned to a pointer.
func eltSize(n int) int { return 8 + (n+2+7)&^7 }

// hashCheck runs ngx_hash_init's sizing for keys. It returns a warning to
// log ("could not build optimal ...") or the error that fails the
// configuration.
func hashCheck(name string, maxSize, bucketSize int, keys []string) (warn string, err error) {
	if maxSize == 0 {
		return "", fmt.Errorf("could not build %s, you should increase %s_max_size: %d", name, name, maxSize)
	}
	if bucketSize > 65536-cacheLine {
		return "", fmt.Errorf("could not build %s, too large %s_bucket_size: %d", name, name, bucketSize)
	}
	for _, k := range keys {
		if bucketSize < eltSize(len(k))+8 {
			return "", fmt.Errorf("could not build %s, you should increase %s_bucket_size: %d", name, name, bucketSize)
		}
	}
	hashes := make([]uint64, len(keys))
	for i, k := range keys {
		hashes[i] = hashKey(k)
	}
	bucket := bucketSize - 8
	start := len(keys) / (bucket / 16)
	if start == 0 {
		start = 1
	}
	if maxSize > 10000 && len(keys) > 0 && maxSize/len(keys) < 100 {
		start = maxSize - 1000
	}
	test := make([]int, maxSize)
	size := -1
sizes:
	for s := start; s <= maxSize; s++ {
		clear(test[:s])
		for i, k := range keys {
			b := int(hashes[i] % uint64(s))
			l := test[b] + eltSize(len(k))
			if l > bucket {
				continue sizes
			}
			test[b] = l
		}
		size = s
		break
	}
	if size < 0 {
		size = maxSize
		warn = fmt.Sprintf("could not build optimal %s, you should increase either %s_max_size: %d or %s_bucket_size: %d; ignoring %s_bucket_size",
			name, name, maxSize, name, bucketSize, name)
	}
	for i := range test[:size] {
		test[i] = 8
	}
	for i, k := range keys {
		b := int(hashes[i] % uint64(size))
		test[b] += eltSize(len(k))
		if test[b] > 65536-cacheLine {
			return warn, fmt.Errorf("could not build %s, you should increase %s_max_size: %d", name, name, maxSize)
		}
	}
	return warn, nil
}
