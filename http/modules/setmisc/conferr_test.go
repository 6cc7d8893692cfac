package setmisc_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"variable without dollar", "http {\n set_md5 x y;\n}\n"},
		{"multi variable without dollar", "http {\n set_hmac_sha1 x y z;\n}\n"},
		{"too many arguments", "http {\n set_md5 $x y z;\n}\n"},
		{"too few arguments", "http {\n set_random $x 1;\n}\n"},
		{"unknown variable", "http {\n set_md5 $x $nope;\n}\n"},
		{"set a builtin", "http {\n set_md5 $uri a;\n}\n"},
		{"alphabet length", "http {\n set_base32_alphabet abc;\n}\n"},
		{"alphabet duplicate", "http {\n set_base32_alphabet 0123456789abcdefghijklmnopqrstuv;\n set_base32_alphabet 0123456789abcdefghijklmnopqrstuv;\n}\n"},
		{"padding bad value", "http {\n set_base32_padding maybe;\n}\n"},
		{"deprecated padding", "http {\n set_misc_base32_padding on;\n}\n"},
		{"deprecated padding duplicate", "http {\n set_base32_padding on;\n set_misc_base32_padding off;\n}\n"},
		{"missing upstream list", "http {\n set_hashed_upstream $x foo $arg_a;\n}\n"},
		{"missing list before bad name", "http {\n set_hashed_upstream x foo $arg_a;\n}\n"},
		{"list with variables", "http {\n set_hashed_upstream $x $arg_l $arg_a;\n}\n"},
		{"duplicate upstream list", "http {\n upstream_list a x;\n upstream_list A y;\n}\n"},
		{"upstream list number only", "http {\n upstream_list a 12;\n}\n"},
		{"upstream list bad weight", "http {\n upstream_list a 12x;\n}\n"},
		{"upstream list in location", "http { server { location / {\n upstream_list a b;\n} } }\n"},
		{"in limit_except", "http { server { location / {\n limit_except GET {\n  set_md5 $x y;\n }\n} } }\n"},
		{"valid", "http {\n upstream_list ul 2:a b;\n set_misc_base32_padding off;\n server { set_md5 $a b; if ($a) { set_sha1 $b; } location / { set_hashed_upstream $u ul $arg_k; if ($u) { set_rotate $r 1 2; } } }\n}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { nginxtest.CheckConfig(t, tc.conf, "set-misc") })
	}
}
