package geo_test

import (
	"testing"

	"gresty/http/modules/traffictest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n geo $g {\n  default 0;\n  10.0.0.0/8 1;\n  ::1 2;\n  proxy 127.0.0.1;\n }\n}\n"},
		{"source variable", "http {\n geo $arg_x $g {\n  10.0.0.0/8 1;\n }\n}\n"},
		{"unknown source variable", "http {\n geo $nosuch $g {\n  10.0.0.0/8 1;\n }\n}\n"},
		{"duplicate network", "http {\n geo $g {\n  10.0.0.0/8 1;\n  10.0.0.0/8 2;\n }\n}\n"},
		{"duplicate network deeper value", "http {\n geo $g {\n  10.0.0.0/16 a;\n  10.0.0.0/8 b;\n  10.0.0.0/8 c;\n }\n}\n"},
		{"duplicate default", "http {\n geo $g {\n  default 1;\n  default 2;\n }\n}\n"},
		{"duplicate v6", "http {\n geo $g {\n  ::1 1;\n  ::1/128 2;\n }\n}\n"},
		{"low bits", "http {\n geo $g {\n  10.1.2.3/8 1;\n  2001:db8::1/32 2;\n }\n}\n"},
		{"delete missing", "http {\n geo $g {\n  delete 10.0.0.0/8;\n  delete ::1;\n }\n}\n"},
		{"delete preallocated", "http {\n geo $g {\n  delete 0.0.0.0/6;\n  delete 0.0.0.0/3;\n  delete 0.0.0.0/0;\n }\n}\n"},
		{"delete default", "http {\n geo $g {\n  default 1;\n  delete 0.0.0.0/0;\n }\n}\n"},
		{"invalid network", "http {\n geo $g {\n  10.0.0.300/8 1;\n }\n}\n"},
		{"invalid mask", "http {\n geo $g {\n  10.0.0.0/33 1;\n }\n}\n"},
		{"broadcast host", "http {\n geo $g {\n  255.255.255.255 1;\n  255.255.255.255/32 2;\n }\n}\n"},
		{"invalid proxy", "http {\n geo $g {\n  proxy x;\n }\n}\n"},
		{"three words", "http {\n geo $g {\n  10.0.0.0/8 1 2;\n }\n}\n"},
		{"one word", "http {\n geo $g {\n  10.0.0.0/8;\n }\n}\n"},
		{"ranges not first", "http {\n geo $g {\n  default 1;\n  ranges;\n }\n}\n"},
		{"ranges after proxy", "http {\n geo $g {\n  proxy 10.0.0.1;\n  ranges;\n  10.0.0.0-10.0.0.9 a;\n }\n}\n"},
		{"invalid range", "http {\n geo $g {\n  ranges;\n  10.0.0.0 a;\n }\n}\n"},
		{"reversed range", "http {\n geo $g {\n  ranges;\n  10.0.0.9-10.0.0.1 a;\n }\n}\n"},
		{"range with broadcast", "http {\n geo $g {\n  ranges;\n  10.0.0.0-255.255.255.255 a;\n }\n}\n"},
		{"range with cidr", "http {\n geo $g {\n  ranges;\n  10.0.0.0/8 a;\n }\n}\n"},
		{"overlapping ranges", "http {\n geo $g {\n  ranges;\n  10.0.0.0-10.0.0.20 a;\n  10.0.0.10-10.0.0.30 b;\n }\n}\n"},
		{"overlapping across /16", "http {\n geo $g {\n  ranges;\n  10.0.0.0-10.1.0.20 a;\n  10.0.255.0-10.1.0.10 b;\n }\n}\n"},
		{"duplicate range", "http {\n geo $g {\n  ranges;\n  10.0.0.0-10.2.255.255 a;\n  10.0.0.0-10.2.255.255 b;\n }\n}\n"},
		{"duplicate range default", "http {\n geo $g {\n  ranges;\n  default a;\n  default b;\n }\n}\n"},
		{"delete range missing", "http {\n geo $g {\n  ranges;\n  10.0.0.0-10.0.0.20 a;\n  delete 10.0.0.0-10.0.0.10;\n  delete 10.0.0.0-10.1.0.20;\n }\n}\n"},
		{"bad variable", "http {\n geo g {\n  default 1;\n }\n}\n"},
		{"bad second variable", "http {\n geo $arg_a g {\n  default 1;\n }\n}\n"},
		{"three arguments", "http {\n geo $a $b $c {\n  default 1;\n }\n}\n"},
		{"in server", "http {\n server {\n  geo $g { default 1; }\n }\n}\n"},
		{"nested block", "http {\n geo $g {\n  x { }\n }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { traffictest.ConfigTest(t, tt.conf) })
	}
}
