package splitclients_test

import (
	"testing"

	"gresty/http/modules/traffictest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n split_clients $arg_k $v {\n  50% a;\n  * b;\n }\n}\n"},
		{"over 100", "http {\n split_clients $arg_k $v {\n  50% a;\n  60% b;\n }\n}\n"},
		{"star then more", "http {\n split_clients $arg_k $v {\n  * a;\n  1% b;\n }\n}\n"},
		{"zero percent", "http {\n split_clients $arg_k $v {\n  0% a;\n }\n}\n"},
		{"three decimals", "http {\n split_clients $arg_k $v {\n  0.125% a;\n }\n}\n"},
		{"no percent sign", "http {\n split_clients $arg_k $v {\n  50 a;\n }\n}\n"},
		{"include is a line", "http {\n split_clients $arg_k $v {\n  include x;\n }\n}\n"},
		{"extra word", "http {\n split_clients $arg_k $v {\n  50% a b;\n }\n}\n"},
		{"bad variable", "http {\n split_clients $arg_k v {\n  50% a;\n }\n}\n"},
		{"bad key", "http {\n split_clients ${arg_k $v {\n  50% a;\n }\n}\n"},
		{"in server", "http {\n server {\n  split_clients $arg_k $v { 50% a; }\n }\n}\n"},
		{"one argument", "http {\n split_clients $arg_k { 50% a; }\n}\n"},
		{"nested block", "http {\n split_clients $arg_k $v {\n  50% { }\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}
