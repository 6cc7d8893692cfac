package gzip_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

var logLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*)$`)

// messages returns the log lines a -t run printed, with their level,
// without nginx's pid prefix.
func messages(out string) []string {
	var m []string
	for _, s := range logLine.FindAllStringSubmatch(out, -1) {
		m = append(m, s[1]+": "+s[2])
	}
	return m
}

// configTest runs "-t" on conf with both servers and compares their exit
// codes and messages.
func configTest(t *testing.T, conf string) {
	t.Helper()
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	dir := t.TempDir()
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte("events {}\n"+conf), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(bin string) (string, int) {
		cmd := exec.Command(bin, "-t", "-q", "-p", dir+"/", "-c", cf, "-e", "stderr")
		out, _ := cmd.CombinedOutput()
		return string(out), cmd.ProcessState.ExitCode()
	}
	nOut, nCode := run(ngx)
	gOut, gCode := run(gr)
	if nCode != gCode {
		t.Errorf("exit code: nginx %d, gresty %d\nnginx:\n%s\ngresty:\n%s", nCode, gCode, nOut, gOut)
	}
	if a, b := strings.Join(messages(nOut), "\n"), strings.Join(messages(gOut), "\n"); a != b {
		t.Errorf("messages differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

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
		t.Run(tt.name, func(t *testing.T) { configTest(t, tt.conf) })
	}
}
