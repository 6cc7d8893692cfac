package mapmod_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gresty/http/modules/traffictest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	long := strings.Repeat("k", 60)
	var many, wild strings.Builder
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&many, "  /key/%d %d;\n", i, i)
		fmt.Fprintf(&wild, "  *.h%d.example.com %d;\n", i, i)
	}
	tests := []struct{ name, conf string }{
		{"valid", "http {\n map $uri $a {\n  default 1;\n  /x 2;\n  ~^/y 3;\n }\n}\n"},
		{"three words", "http {\n map $uri $a {\n  /x 2 3;\n }\n}\n"},
		{"one word", "http {\n map $uri $a {\n  /x;\n }\n}\n"},
		{"duplicate default", "http {\n map $uri $a {\n  default 1;\n  default 2;\n }\n}\n"},
		{"conflicting key", "http {\n map $uri $a {\n  /x 1;\n  /X 2;\n }\n}\n"},
		{"conflicting dot wildcard", "http {\n map $host $a {\n  hostnames;\n  example.com 1;\n  .example.com 2;\n }\n}\n"},
		{"conflicting exact after dot", "http {\n map $host $a {\n  hostnames;\n  .example.com 2;\n  example.com 1;\n }\n}\n"},
		{"conflicting star and dot", "http {\n map $host $a {\n  hostnames;\n  *.example.com 1;\n  .example.com 2;\n }\n}\n"},
		{"two stars", "http {\n map $host $a {\n  hostnames;\n  *.example.* 1;\n }\n}\n"},
		{"star inside", "http {\n map $host $a {\n  hostnames;\n  www.*.com 1;\n }\n}\n"},
		{"double dot", "http {\n map $host $a {\n  hostnames;\n  www..com 1;\n }\n}\n"},
		{"star without hostnames", "http {\n map $host $a {\n  www.*.com 1;\n  *.x 2;\n }\n}\n"},
		{"bad variable name", "http {\n map $uri a {\n  default 1;\n }\n}\n"},
		{"dollar alone", "http {\n map $uri $ {\n  default 1;\n }\n}\n"},
		{"bad source", "http {\n map $ $a {\n  default 1;\n }\n}\n"},
		{"bad value variable", "http {\n map $uri $a {\n  default 1;\n\n  /x \"$\";\n }\n}\n"},
		{"unknown value variable", "http {\n map $uri $a {\n  /x $nosuchvar;\n }\n}\n"},
		{"bad regex", "http {\n map $uri $a {\n  ~^(x 1;\n }\n}\n"},
		{"in server", "http {\n server {\n  map $uri $a { default 1; }\n }\n}\n"},
		{"no block", "http {\n map $uri $a;\n}\n"},
		{"one argument", "http {\n map $uri { default 1; }\n}\n"},
		{"nested block", "http {\n map $uri $a {\n  x { }\n }\n}\n"},
		{"long key", "http {\n map $uri $a {\n  " + long + " 1;\n }\n}\n"},
		{"long key bigger bucket", "http {\n map_hash_bucket_size 100;\n map $uri $a {\n  " + long + " 1;\n }\n}\n"},
		{"long wildcard label", "http {\n map $host $a {\n  hostnames;\n  *." + long + ".com 1;\n }\n}\n"},
		{"bucket size after map", "http {\n map $uri $a { default 1; }\n map_hash_bucket_size 128;\n}\n"},
		{"max size after map", "http {\n map $uri $a { default 1; }\n map_hash_max_size 128;\n}\n"},
		{"zero max size", "http {\n map_hash_max_size 0;\n map $uri $a { /x 1; }\n}\n"},
		{"small max size", "http {\n map_hash_max_size 1;\n map_hash_bucket_size 32;\n map $uri $a { /a 1; /b 2; /c 3; /d 4; /e 5; }\n}\n"},
		{"bad max size", "http {\n map_hash_max_size x;\n}\n"},
		{"duplicate variable with set", "http {\n map $uri $a { default 1; }\n map $uri $a { default 2; }\n server { set $a 3; }\n}\n"},
		{"over builtin variable", "http {\n map $uri $uri2 { default 1; }\n map $uri $host { default 1; }\n}\n"},
		{"many keys", "http {\n map $uri $a {\n" + many.String() + " }\n}\n"},
		{"many keys bigger hash", "http {\n map_hash_max_size 4096;\n map $uri $a {\n" + many.String() + " }\n}\n"},
		{"many wildcards", "http {\n map $host $a {\n  hostnames;\n" + wild.String() + " }\n}\n"},
		{"include missing", "http {\n map $uri $a {\n  include %%DIR%%/none.map;\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}

func TestConfigIncludeMatchesNginx(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.map"), []byte("/a 1;\n/b 2 3;\n"), 0o644)
	traffictest.ConfigTestIn(t, dir, "http {\n map $uri $a {\n  default 0;\n  include %%DIR%%/bad.map;\n }\n}\n")
}
