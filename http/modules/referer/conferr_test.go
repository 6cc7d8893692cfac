package referer_test

import (
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	srv := func(body string) string {
		return "http {\n server {\n  server_name localhost;\n  location / {\n" + body + "\n  }\n }\n}\n"
	}
	long := strings.Repeat("a", 50) + ".example.com"
	many := ""
	for i := 0; i < 40; i++ {
		many += " h" + strings.Repeat("x", i) + ".org"
	}
	tests := []struct{ name, conf string }{
		{"valid", srv("valid_referers none blocked server_names *.a.org .b.org c.* d.org/uri ~e;")},
		{"empty argument", srv(`valid_referers "";`)},
		{"empty regex", srv("valid_referers ~;")},
		{"bad regex", srv("valid_referers ~(;")},
		{"inner star", srv("valid_referers ww*.example.com;")},
		{"two stars", srv("valid_referers *.example.*;")},
		{"double dot", srv("valid_referers a..b;")},
		{"lone star", srv("valid_referers *;")},
		{"star dot", srv("valid_referers *.;")},
		{"duplicate", srv("valid_referers a.org A.ORG;")},
		{"dot then exact", srv("valid_referers .a.org a.org;")},
		{"exact then dot", srv("valid_referers a.org .a.org;")},
		{"star then dot", srv("valid_referers *.a.org .a.org;")},
		{"tail twice", srv("valid_referers a.* a.*/x;")},
		{"across directives", srv("valid_referers a.org;\n valid_referers b.org a.org;")},
		{"server name conflict", srv("valid_referers localhost server_names;")},
		{"none alone", srv("valid_referers none;")},
		{"blocked with regex only", srv("valid_referers blocked ~x;")},
		{"none with regex server names", "http {\n server {\n  server_name ~x;\n  valid_referers none server_names;\n }\n}\n"},
		{"none with default server name", "http {\n server {\n  valid_referers none server_names;\n }\n}\n"},
		{"long name", srv("valid_referers " + long + ";")},
		{"long name bigger buckets", srv("referer_hash_bucket_size 128;\n valid_referers " + long + ";")},
		{"long wildcard", srv("valid_referers *." + long + ";")},
		{"bucket size aligned in message", srv("referer_hash_bucket_size 65;\n valid_referers " + strings.Repeat("b", 130) + ";")},
		{"zero max size", srv("referer_hash_max_size 0;\n valid_referers a.org;")},
		{"small max size", srv("referer_hash_max_size 1;\n valid_referers" + many + ";")},
		{"max size not a number", srv("referer_hash_max_size big;")},
		{"max size duplicate", srv("referer_hash_max_size 10;\n referer_hash_max_size 10;")},
		{"bucket size negative", srv("referer_hash_bucket_size -1;")},
		{"in http", "http {\n valid_referers a.org;\n}\n"},
		{"in if", srv("if ($uri) {\n valid_referers a.org;\n }")},
		{"no argument", srv("valid_referers;")},
		{"set variable", srv("set $invalid_referer 1;")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
