package conf

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// nginxBinary finds the nginx to compare with, or skips the test (fails it
// when GRESTY_REQUIRE_NGINX=1).
func nginxBinary(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("nginx")
	if err != nil {
		path = "/usr/sbin/nginx"
		if _, err := os.Stat(path); err != nil {
			if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
				t.Fatal("nginx not found in PATH nor at /usr/sbin/nginx, and GRESTY_REQUIRE_NGINX=1")
			}
			t.Skip("nginx not found in PATH nor at /usr/sbin/nginx; set GRESTY_REQUIRE_NGINX=1 to make this fatal")
		}
	}
	return path
}

// nginxModulesDir returns nginx's --modules-path, where the Lua module is
// looked for.
func nginxModulesDir(t *testing.T, nginx string) string {
	t.Helper()
	out, _ := exec.Command(nginx, "-V").CombinedOutput()
	m := regexp.MustCompile(`--modules-path=(\S+)`).FindSubmatch(out)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// requireLuaModule skips (or fails under GRESTY_REQUIRE_NGINX=1) when nginx
// has no loadable ngx_lua.
func requireLuaModule(t *testing.T, modules string) {
	t.Helper()
	for _, m := range []string{"ndk_http_module.so", "ngx_http_lua_module.so"} {
		if _, err := os.Stat(filepath.Join(modules, m)); err != nil {
			if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
				t.Fatalf("nginx module %s not found in %q", m, modules)
			}
			t.Skipf("nginx module %s not found in %q", m, modules)
		}
	}
}

// nginxErrLine finds nginx's first error; a message may hold newlines (a
// quoted word in "too long parameter"), so it runs up to the next log line
// or nginx's closing "configuration file ... test failed".
var nginxErrLine = regexp.MustCompile(`\[(emerg|crit|alert|error)\] (?:\d+#\d+: )?((?s:.*?))\n(?:\d{4}/\d\d/\d\d \d\d:\d\d:\d\d \[|nginx: )`)

// nginxTest runs "nginx -t" on the configuration at conf and returns its
// first error as "[LEVEL] MESSAGE", or "" when the test passes.
func nginxTest(t *testing.T, nginx, prefix, conf, params string) string {
	t.Helper()
	args := []string{"-t", "-q", "-p", prefix, "-e", "stderr", "-c", conf}
	if params != "" {
		args = append(args, "-g", params)
	}
	cmd := exec.Command(nginx, args...)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("running nginx: %v", err)
	}
	if m := nginxErrLine.FindSubmatch(out); m != nil {
		return "[" + string(m[1]) + "] " + string(m[2])
	}
	if err != nil {
		t.Fatalf("nginx -t failed without an error line:\n%s", out)
	}
	return ""
}

// ourTest parses the configuration as "nginx -t" would read it and returns
// the first syntax error in the same form as nginxTest.
func ourTest(conf, params, prefix string) string {
	if params != "" {
		if _, err := ParseCommandLine(params, Options{ConfPrefix: prefix}); err != nil {
			return formatErr(err)
		}
	}
	_, err := ParseFile(conf, Options{})
	return formatErr(err)
}

func formatErr(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) {
		return "[?] " + err.Error()
	}
	return "[" + e.Level + "] " + e.Error()
}

// copyCase copies a test case directory into a fresh directory, putting
// the nginx modules directory in place of @MODULES@.
func copyCase(t *testing.T, src, modules string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		data = bytes.ReplaceAll(data, []byte("@MODULES@"), []byte(modules))
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestBrokenConfigs parses configurations with syntax errors and checks the
// message, file and line against the recorded "want" of each case; when
// nginx is installed, it checks the recording against nginx itself (and
// -update rewrites it from nginx's answer). GRESTY_SKIP_NGINX=1 checks the
// recordings only.
func TestBrokenConfigs(t *testing.T) {
	cases, err := os.ReadDir("testdata/broken")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 25 {
		t.Fatalf("only %d broken cases", len(cases))
	}
	nginx := ""
	modules := "/usr/lib/nginx/modules"
	if os.Getenv("GRESTY_SKIP_NGINX") != "1" {
		nginx = nginxBinaryOrEmpty(t)
		if nginx != "" {
			if m := nginxModulesDir(t, nginx); m != "" {
				modules = m
			}
		}
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			src := filepath.Join("testdata/broken", c.Name())
			raw, _ := os.ReadFile(filepath.Join(src, "nginx.conf"))
			needsLua := bytes.Contains(raw, []byte("@MODULES@"))
			dir := copyCase(t, src, modules)
			conf := filepath.Join(dir, "nginx.conf")
			params := ""
			if b, err := os.ReadFile(filepath.Join(dir, "cmdline")); err == nil {
				params = string(b)
			}
			strip := func(s string) string { return strings.ReplaceAll(s, dir+"/", "") }

			got := strip(ourTest(conf, params, dir+"/"))
			wantFile := filepath.Join(src, "want")
			if nginx != "" && (!needsLua || luaModuleAvailable(modules)) {
				live := strip(nginxTest(t, nginx, dir+"/", conf, params))
				if *update {
					if err := os.WriteFile(wantFile, []byte(live+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if got != live {
					t.Errorf("nginx says\n\t%s\nwe say\n\t%s", live, got)
				}
			} else if needsLua && nginx != "" && os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
				t.Fatalf("ngx_lua not found in %q", modules)
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("no recorded answer: %v (run with nginx and -update)", err)
			}
			if w := strings.TrimSuffix(string(want), "\n"); got != w {
				t.Errorf("recorded\n\t%s\nwe say\n\t%s", w, got)
			}
			if got == "" {
				t.Errorf("case parses without error")
			}
		})
	}
}

func luaModuleAvailable(modules string) bool {
	for _, m := range []string{"ndk_http_module.so", "ngx_http_lua_module.so"} {
		if _, err := os.Stat(filepath.Join(modules, m)); err != nil {
			return false
		}
	}
	return true
}

// nginxBinaryOrEmpty is nginxBinary for tests that still have work to do
// without nginx: it returns "" instead of skipping.
func nginxBinaryOrEmpty(t *testing.T) string {
	t.Helper()
	if path, err := exec.LookPath("nginx"); err == nil {
		return path
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("GRESTY_REQUIRE_NGINX") == "1" {
		t.Fatal("nginx not found in PATH nor at /usr/sbin/nginx, and GRESTY_REQUIRE_NGINX=1")
	}
	return ""
}
