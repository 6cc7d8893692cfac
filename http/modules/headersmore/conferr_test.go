package headersmore_test

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
// without the pid prefix and with the temporary directory blanked.
func messages(out, dir string) []string {
	var m []string
	for _, s := range logLine.FindAllStringSubmatch(out, -1) {
		m = append(m, s[1]+": "+strings.ReplaceAll(s[2], dir, "DIR"))
	}
	return m
}

// configTest runs "-t" on conf with both servers (nginx with the module
// loaded) and compares their exit codes and messages.
func configTest(t *testing.T, conf string) {
	t.Helper()
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	dir := t.TempDir()
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(nginxtest.LoadModule("headers-more")+"events {}\n"+conf), 0o644); err != nil {
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
	if a, b := strings.Join(messages(nOut, dir), "\n"), strings.Join(messages(gOut, dir), "\n"); a != b {
		t.Errorf("messages differ\nnginx:\n%s\ngresty:\n%s", a, b)
	}
}

func TestConfigMessagesMatchNginx(t *testing.T) {
	tests := []struct{ name, conf string }{
		{"no arguments", "http {\n more_set_headers;\n}\n"},
		{"bad option", "http {\n more_set_headers -x \"A: b\";\n}\n"},
		{"long option", "http {\n more_set_headers -ss 200 \"A: b\";\n}\n"},
		{"-s without argument", "http {\n more_set_headers \"A: b\" -s;\n}\n"},
		{"-t without argument", "http {\n more_clear_headers A -t;\n}\n"},
		{"bad status digit", "http {\n more_set_headers -s \"200,404\" \"A: b\";\n}\n"},
		{"bad first status digit", "http {\n more_set_headers -s \" x1\" \"A: b\";\n}\n"},
		{"blank header", "http {\n more_set_headers \" \";\n}\n"},
		{"short wildcard", "http {\n more_clear_headers \"*\";\n}\n"},
		{"input -s", "http {\n more_set_input_headers -s 200 \"A: b\";\n}\n"},
		{"input -t without argument", "http {\n more_set_input_headers \"A: b\" -t;\n}\n"},
		{"unknown variable", "http {\n more_set_headers \"A: $no_such_var\";\n}\n"},
		{"bad variable", "http {\n more_set_input_headers \"A: a$\";\n}\n"},
		{"in limit_except", "http { server { location / {\n limit_except GET {\n  more_set_headers \"A: b\";\n }\n} } }\n"},
		{"in server if", "http { server {\n if ($uri) {\n  more_set_headers \"A: b\";\n }\n} }\n"},
		{"at main level", "more_set_headers \"A: b\";\nhttp {}\n"},
		{"colon only", "http {\n more_set_headers \":\";\n}\n"},
		{"valid", "http {\n more_set_headers -s '200 404' -t 'text/html; text/plain' 'X-A: $uri' X-B:;\n more_clear_input_headers -r X-*;\n server { location / { if ($uri) { more_clear_headers Server; } } }\n}\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { configTest(t, tc.conf) })
	}
}
