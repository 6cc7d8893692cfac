package splitclients_test

import (
	"strconv"
	"testing"

	"gresty/http/modules/splitclients"
	"gresty/http/modules/traffictest"
	"gresty/internal/difftest"
)

const splitConf = `
http {
    split_clients "${arg_k}salt" $variant {
        0.5%  tiny;
        20%   b;
        33.33% c;
        *     rest;
    }
    split_clients $arg_k $partial {
        10% ten;
        15% fifteen;
    }
    split_clients $arg_k $all {
        100% everything;
    }
    server {
        listen 127.0.0.1:%%PORT%%;
        location / {
            return 200 "variant=$variant partial=$partial all=$all\n";
        }
    }
}
`

// TestSplitClientsMatchesNginx sends keys chosen to land in every bucket
// of the first block (and near its edges): the same key must get the
// same variant as on nginx.
func TestSplitClientsMatchesNginx(t *testing.T) {
	p := difftest.Start(t, splitConf)
	// the cumulative shares of the first block's buckets.
	edges := []float64{0.005, 0.205, 0.5383, 1}
	perBucket := make([]int, len(edges))
	var keys []string
	for i := 0; len(keys) < 40 && i < 100000; i++ {
		k := strconv.Itoa(i)
		h := float64(splitclients.MurmurHash2([]byte(k+"salt"))) / (1 << 32)
		b := 0
		for h >= edges[b] {
			b++
		}
		if perBucket[b] < 10 {
			perBucket[b]++
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		p.Check(t, "key "+k, traffictest.Get("/?k="+k))
	}
	p.Check(t, "empty key", traffictest.Get("/"))
	p.Check(t, "escaped key", traffictest.Get("/?k=%E2%82%AC"))
}
