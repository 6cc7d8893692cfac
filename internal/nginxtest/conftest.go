package nginxtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// ConfigTest compares how nginx and gresty judge one configuration with
// "-t": the same exit code and the same messages, in the same order.
//
// The configuration file is written to nginx.conf in a fresh temporary
// prefix, after the load_module lines of Modules and an empty events
// block, so a test writes only what it is about (normally one http
// block). Every "DIR" in the configuration becomes the prefix directory,
// and the prefix is written back as "DIR" in the messages, so that paths
// compare equal between runs.
type ConfigTest struct {
	// Modules names Debian dynamic modules to load (see LoadModule).
	// gresty reads the same load_module lines, as it does in production.
	Modules []string
	// LogsDir creates logs/ in the prefix, for configurations whose log
	// files must open. It is off by default because an absent logs/ is
	// part of what some tests check.
	LogsDir bool
}

// logLevel finds the messages of a -t run. The program name, time and
// "pid#tid: " in front of the text depend on the binary and the moment,
// not on the configuration, so they are left out.
var logLevel = regexp.MustCompile(`(?m)\[(emerg|alert|crit|error|warn)\] (?:\d+#\d+: )?(.*)$`)

// ConfigMessages returns the messages of warn level and above that
// "nginx -t -e stderr" (or gresty) printed in out, one a line as
// "level: text", with every occurrence of prefix replaced by "DIR" (an
// empty prefix is left alone). Lines below warn, such as the "syntax is
// ok" notice that -q silences anyway, are not part of the result.
func ConfigMessages(out, prefix string) string {
	var b strings.Builder
	for i, m := range logLevel.FindAllStringSubmatch(out, -1) {
		if i > 0 {
			b.WriteByte('\n')
		}
		text := m[2]
		if prefix != "" {
			text = strings.ReplaceAll(text, prefix, "DIR")
		}
		b.WriteString(m[1] + ": " + text)
	}
	return b.String()
}

// Check runs "nginx -t" and "gresty -t" on conf and fails the test (it
// goes on) when their exit codes or messages differ. Without nginx it
// skips the test, or fails it under GRESTY_REQUIRE_NGINX=1 (see Binary).
func (c ConfigTest) Check(t testing.TB, conf string) {
	t.Helper()
	ngx := Binary(t)
	gr := Gresty(t)
	dir := t.TempDir()
	if c.LogsDir {
		if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
			t.Fatalf("nginxtest: %v", err)
		}
	}
	var full strings.Builder
	for _, m := range c.Modules {
		full.WriteString(LoadModule(m))
	}
	full.WriteString("events {}\n")
	full.WriteString(strings.ReplaceAll(conf, "DIR", dir))
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte(full.String()), 0o644); err != nil {
		t.Fatalf("nginxtest: %v", err)
	}
	run := func(bin string) (raw, msgs string, code int) {
		cmd := exec.Command(bin, "-t", "-q", "-p", dir+"/", "-c", cf, "-e", "stderr")
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil {
			t.Fatalf("nginxtest: running %s: %v", bin, err)
		}
		return string(out), ConfigMessages(string(out), dir), cmd.ProcessState.ExitCode()
	}
	nRaw, nMsgs, nCode := run(ngx)
	gRaw, gMsgs, gCode := run(gr)
	switch {
	case nCode != gCode:
		t.Errorf("exit code: nginx %d, gresty %d\nnginx output:\n%s\ngresty output:\n%s", nCode, gCode, nRaw, gRaw)
	case nMsgs != gMsgs:
		t.Errorf("messages differ (both exit %d)\nnginx:\n%s\ngresty:\n%s", nCode, nMsgs, gMsgs)
	}
}

// CheckConfig is ConfigTest{Modules: modules}.Check(t, conf): the common
// case of a configuration that needs no logs directory.
func CheckConfig(t testing.TB, conf string, modules ...string) {
	t.Helper()
	ConfigTest{Modules: modules}.Check(t, conf)
}
