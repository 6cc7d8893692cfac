package static_test

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

// TestConfigMessagesMatchNginx runs "-t" with both servers on the misuses
// of the static file directives and compares exit codes and messages.
func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"valid", "http {\n index a.html /b.html;\n autoindex on;\n autoindex_format jsonp;\n autoindex_localtime on;\n autoindex_exact_size off;\n" +
			" open_file_cache max=10 inactive=1m;\n open_file_cache_valid 2m;\n open_file_cache_min_uses 3;\n open_file_cache_errors on;\n open_file_cache_events on;\n" +
			" disable_symlinks if_not_owner from=$document_root;\n output_buffers 4 16k;\n etag off;\n max_ranges 3;\n if_modified_since before;\n}\n"},
		{"index empty", "http {\n index a \"\";\n}\n"},
		{"index absolute not last", "http {\n index /a.html b.html;\n}\n"},
		{"index bad variable", "http {\n index $;\n}\n"},
		{"index unknown variable", "http {\n index $nope;\n}\n"},
		{"index no argument", "http {\n index;\n}\n"},
		{"index in if", "http { server { location / { if ($uri) { index a; } } } }\n"},
		{"autoindex bad flag", "http {\n autoindex yes;\n}\n"},
		{"autoindex duplicate", "http {\n autoindex on;\n autoindex off;\n}\n"},
		{"autoindex_format unknown", "http {\n autoindex_format yaml;\n}\n"},
		{"autoindex_format duplicate", "http {\n autoindex_format xml;\n autoindex_format json;\n}\n"},
		{"autoindex_localtime bad", "http {\n autoindex_localtime 1;\n}\n"},
		{"autoindex_exact_size two", "http {\n autoindex_exact_size on off;\n}\n"},
		{"disable_symlinks bad", "http {\n disable_symlinks maybe;\n}\n"},
		{"disable_symlinks from only", "http {\n disable_symlinks from=/x;\n}\n"},
		{"disable_symlinks off from", "http {\n disable_symlinks off from=/x;\n}\n"},
		{"disable_symlinks from first", "http {\n disable_symlinks from=/x on;\n}\n"},
		{"disable_symlinks two modes", "http {\n disable_symlinks on off;\n}\n"},
		{"disable_symlinks duplicate", "http {\n disable_symlinks on;\n disable_symlinks off;\n}\n"},
		{"disable_symlinks three", "http {\n disable_symlinks on from=/a from=/b;\n}\n"},
		{"open_file_cache no max", "http {\n open_file_cache inactive=10s;\n}\n"},
		{"open_file_cache zero max", "http {\n open_file_cache max=0;\n}\n"},
		{"open_file_cache bad inactive", "http {\n open_file_cache max=1 inactive=x;\n}\n"},
		{"open_file_cache unknown", "http {\n open_file_cache max=1 size=2;\n}\n"},
		{"open_file_cache off then max", "http {\n open_file_cache off max=10;\n}\n"},
		{"open_file_cache duplicate", "http {\n open_file_cache off;\n open_file_cache max=1;\n}\n"},
		{"open_file_cache_valid bad", "http {\n open_file_cache_valid forever;\n}\n"},
		{"open_file_cache_min_uses bad", "http {\n open_file_cache_min_uses x;\n}\n"},
		{"open_file_cache_errors bad", "http {\n open_file_cache_errors 1;\n}\n"},
		{"output_buffers one", "http {\n output_buffers 2;\n}\n"},
		{"output_buffers bad", "http {\n output_buffers two 32k;\n}\n"},
		{"output_buffers zero size", "http {\n output_buffers 2 0;\n}\n"},
		{"max_ranges bad", "http {\n max_ranges -1;\n}\n"},
		{"etag bad", "http {\n etag weak;\n}\n"},
		{"if_modified_since bad", "http {\n if_modified_since after;\n}\n"},
	}
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cf := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(cf, []byte("pid nginx.pid;\nevents {}\n"+tt.conf), 0o644); err != nil {
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
		})
	}
}
