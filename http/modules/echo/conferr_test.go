package echo_test

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
	if err := os.WriteFile(cf, []byte(nginxtest.LoadModule("echo")+"events {}\n"+conf), 0o644); err != nil {
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
		{"echo at server level", "http { server {\n echo a;\n} }\n"},
		{"echo at http level", "http {\n echo a;\n}\n"},
		{"echo in server if", "http { server {\n if ($uri) {\n  echo a;\n }\n} }\n"},
		{"echo_status bad", "http { server { location / {\n echo_status abc;\n} } }\n"},
		{"echo_status duplicate", "http { server { location / {\n echo_status 200;\n echo_status 201;\n} } }\n"},
		{"echo_sleep two arguments", "http { server { location / {\n echo_sleep 1 2;\n} } }\n"},
		{"echo_flush argument", "http { server { location / {\n echo_flush now;\n} } }\n"},
		{"echo_location three arguments", "http { server { location / {\n echo_location /a b c;\n} } }\n"},
		{"echo_subrequest one argument", "http { server { location / {\n echo_subrequest GET;\n} } }\n"},
		{"echo_duplicate one argument", "http { server { location / {\n echo_duplicate 1;\n} } }\n"},
		{"echo_foreach_split one argument", "http { server { location / {\n echo_foreach_split ,;\n} } }\n"},
		{"echo unknown variable", "http { server { location / {\n echo $nope;\n} } }\n"},
		{"echo bad variable", "http { server { location / {\n echo \"a${\";\n} } }\n"},
		{"echo_exec three arguments", "http { server { location / {\n echo_exec /a b c;\n} } }\n"},
		{"valid", "http { server { location / {\n echo_before_body a; echo_after_body; echo_status 404; echo -n $echo_incr; if ($arg_a) { echo b; } echo_location /x; echo_end;\n} } }\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { configTest(t, tc.conf) })
	}
}
