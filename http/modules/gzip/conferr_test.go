package gzip_test

import (
	"testing"

	"gresty/internal/nginxtest"
)

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"gzip invalid", "http {\n gzip maybe;\n}\n"},
		{"gzip duplicate", "http {\n gzip on;\n gzip off;\n}\n"},
		{"gzip in server if", "http { server {\n if ($uri) {\n  gzip on;\n }\n} }\n"},
		{"gzip_comp_level zero", "http {\n gzip_comp_level 0;\n}\n"},
		{"gzip_comp_level ten", "http {\n gzip_comp_level 10;\n}\n"},
		{"gzip_comp_level word", "http {\n gzip_comp_level fast;\n}\n"},
		{"gzip_comp_level duplicate", "http {\n gzip_comp_level 1;\n gzip_comp_level 2;\n}\n"},
		{"gzip_comp_level in if", "http { server { location / {\n if ($uri) {\n  gzip_comp_level 2;\n }\n} } }\n"},
		{"gzip_window odd", "http {\n gzip_window 1000;\n}\n"},
		{"gzip_window too big", "http {\n gzip_window 64k;\n}\n"},
		{"gzip_window too small", "http {\n gzip_window 256;\n}\n"},
		{"gzip_window word", "http {\n gzip_window big;\n}\n"},
		{"gzip_hash odd", "http {\n gzip_hash 3k;\n}\n"},
		{"gzip_hash too big", "http {\n gzip_hash 256k;\n}\n"},
		{"gzip_buffers zero", "http {\n gzip_buffers 0 4k;\n}\n"},
		{"gzip_buffers one argument", "http {\n gzip_buffers 4;\n}\n"},
		{"gzip_buffers bad size", "http {\n gzip_buffers 4 4x;\n}\n"},
		{"gzip_min_length bad", "http {\n gzip_min_length 1q;\n}\n"},
		{"gzip_types no argument", "http {\n gzip_types;\n}\n"},
		{"gzip_types duplicates warn", "http {\n gzip_types text/css text/CSS text/html;\n}\n"},
		{"gzip_types star then more", "http {\n gzip_types * text/css;\n gzip_types text/css text/css;\n}\n"},
		{"gzip_no_buffer bad", "http {\n gzip_no_buffer yes;\n}\n"},
		{"postpone_gzipping bad", "http {\n postpone_gzipping 1x;\n}\n"},
		{"gzip_static invalid", "http {\n gzip_static maybe;\n}\n"},
		{"gzip_static in if", "http { server { location / {\n if ($uri) {\n  gzip_static on;\n }\n} } }\n"},
		{"gzip_static duplicate", "http {\n gzip_static on;\n gzip_static always;\n}\n"},
		{"gzip_http_version invalid", "http {\n gzip_http_version 2.0;\n}\n"},
		{"gzip_proxied invalid", "http {\n gzip_proxied sometimes;\n}\n"},
		{"gzip_proxied duplicate value", "http {\n gzip_proxied expired expired;\n}\n"},
		{"gzip_disable bad regex", "http {\n gzip_disable \"(unclosed\";\n}\n"},
		{"gzip_vary duplicate", "http {\n gzip_vary on;\n gzip_vary on;\n}\n"},
		{"valid configuration", "http {\n gzip on; gzip_comp_level 9; gzip_window 16k; gzip_hash 512; gzip_buffers 16 8k;\n gzip_types *; gzip_min_length 1k; gzip_no_buffer on; postpone_gzipping 0;\n gzip_static always; gzip_vary on; gzip_proxied any; gzip_disable msie6 degradation \"^X\";\n server { location / { if ($uri) { gzip off; } } }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { nginxtest.CheckConfig(t, tt.conf) })
	}
}
