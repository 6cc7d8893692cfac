package rewrite_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gresty/internal/nginxtest"
)

// misuse holds server blocks (or whole http blocks, when they start with
// "http") that nginx -t rejects; gresty -t must print the same first
// error for the same line.
var misuse = []struct{ name, conf string }{
	{"empty replacement", `rewrite ^ "";`},
	{"invalid flag", `rewrite ^ /x foo;`},
	{"rewrite bad regex", `rewrite ( /x;`},
	{"rewrite too many args", `rewrite ^ /x last more;`},
	{"rewrite bad variable", `rewrite ^ /$;`},
	{"rewrite unclosed bracket", `rewrite ^ /${a;`},
	{"return not a code", `return abc;`},
	{"return code too big", `return 1000;`},
	{"return url with text", `return http://x y;`},
	{"return too many args", `return 200 a b;`},
	{"set without dollar", `set a b;`},
	{"set empty name", `set $ b;`},
	{"set builtin", `set $uri b;`},
	{"set one arg", `set $a;`},
	{"if without parenthesis", `if $a { }`},
	{"if unclosed parenthesis", `if ($a { }`},
	{"if not a variable", `if (x) { }`},
	{"if empty", `if () { }`},
	{"if spaced empty", `if ( ) { }`},
	{"if too many operands", `if ($a = b c) { }`},
	{"if bad operator", `if ($host == b) { }`},
	{"if file test without path", `if (-f) { }`},
	{"if unknown file test", `if (-z /a) { }`},
	{"if unknown negated file test", `if (!-q /a) { }`},
	{"if bad regex", `if ($host ~ "(") { }`},
	{"if unknown variable", `if ($nosuchvariable) { }`},
	{"if nested", `if ($host) { if ($host) { } }`},
	{"if with location", `location / { if ($host) { location /x { } } }`},
	{"if without block", `if ($host) return 200;`},
	{"if in http", "http if ($host) { }"},
	{"unexpected brace after if", `location / { if ($host) { } } } }`},
	{"rewrite in http", "http rewrite ^ /x;"},
	{"break with argument", `break 1;`},
	{"rewrite_log invalid", `rewrite_log maybe;`},
	{"uninitialized_variable_warn duplicate", "uninitialized_variable_warn on;\nuninitialized_variable_warn off;"},
	{"try_files invalid code", `location / { try_files $uri =abc; }`},
	{"try_files code too big", `location / { try_files $uri =1000; }`},
	{"try_files one argument", `location / { try_files $uri; }`},
	{"try_files duplicate", `location / { try_files a b; try_files c d; }`},
	{"try_files in if", `location / { if ($host) { try_files a b; } }`},
	{"try_files in http", "http try_files a b;"},
}

var firstErrorLine = regexp.MustCompile(`(?m)\[(emerg|alert|crit)\] \d+#\d+: (.*)$`)

func TestConfigErrorsMatchNginx(t *testing.T) {
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	for _, tc := range misuse {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			var text string
			if rest, ok := strings.CutPrefix(tc.conf, "http "); ok {
				text = "events {}\nhttp {\n" + rest + "\n}\n"
			} else {
				text = "events {}\nhttp {\nserver {\nlisten 127.0.0.1:1;\n" + tc.conf + "\n}\n}\n"
			}
			cf := filepath.Join(dir, "nginx.conf")
			if err := os.WriteFile(cf, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			run := func(bin string) (string, int) {
				cmd := exec.Command(bin, "-t", "-p", dir+"/", "-c", cf, "-e", "stderr")
				out, _ := cmd.CombinedOutput()
				return string(out), cmd.ProcessState.ExitCode()
			}
			nOut, nCode := run(ngx)
			gOut, gCode := run(gr)
			if nCode == 0 {
				t.Fatalf("nginx accepted the configuration:\n%s", nOut)
			}
			if gCode != nCode {
				t.Errorf("exit code: nginx %d, gresty %d\ngresty said:\n%s", nCode, gCode, gOut)
			}
			nm, gm := firstErrorLine.FindStringSubmatch(nOut), firstErrorLine.FindStringSubmatch(gOut)
			if nm == nil {
				t.Fatalf("no error in nginx's output:\n%s", nOut)
			}
			if gm == nil || nm[1] != gm[1] || nm[2] != gm[2] {
				t.Errorf("message differs\nnginx:  %s\ngresty: %s", nOut, gOut)
			}
		})
	}
}

// TestReadmeExample checks that the README's example is a configuration
// both nginx -t and gresty -t accept.
func TestReadmeExample(t *testing.T) {
	ngx := nginxtest.Binary(t)
	gr := nginxtest.Gresty(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "## Example\n\n")
	if !ok {
		t.Fatal("README has no example")
	}
	var example []string
	for _, l := range strings.Split(after, "\n") {
		if l != "" && !strings.HasPrefix(l, "    ") {
			break
		}
		example = append(example, strings.TrimPrefix(l, "    "))
	}
	server := strings.Replace(strings.Join(example, "\n"), "server {", "server {\n    listen 127.0.0.1:1;", 1)
	if !strings.Contains(server, "listen") || !strings.Contains(server, "rewrite") {
		t.Fatalf("README example not found:\n%s", server)
	}
	dir := t.TempDir()
	cf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cf, []byte("events {}\nhttp {\n"+server+"\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, bin := range []string{ngx, gr} {
		out, err := exec.Command(bin, "-t", "-p", dir+"/", "-c", cf, "-e", "stderr").CombinedOutput()
		if err != nil {
			t.Errorf("%s -t: %v\n%s", bin, err, out)
		}
	}
}
