package bench

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// plumbing are the http-level lines the harness adds to every scenario:
// nothing is logged per request, and nothing is written outside the
// prefix. A binary that does not know one of them (a gresty built without
// the module that owns it) runs without that line, and the report says
// so; the rest of the file is the same for every server.
var plumbing = []string{
	"access_log off;",
	"client_body_temp_path %%PREFIX%%/client_body_temp;",
	"proxy_temp_path %%PREFIX%%/proxy_temp;",
	"fastcgi_temp_path %%PREFIX%%/fastcgi_temp;",
	"uwsgi_temp_path %%PREFIX%%/uwsgi_temp;",
	"scgi_temp_path %%PREFIX%%/scgi_temp;",
}

// confVars are the values of a configuration's placeholders.
type confVars struct {
	Port, BackendPort int
	Root, Prefix      string
}

func (v confVars) replace(s string) string {
	return strings.NewReplacer(
		"%%PORT%%", strconv.Itoa(v.Port),
		"%%BACKEND%%", strconv.Itoa(v.BackendPort),
		"%%ROOT%%", v.Root,
		"%%PREFIX%%", v.Prefix,
	).Replace(s)
}

// renderConf writes a scenario's whole nginx.conf: the process lines every
// run needs (foreground, one worker, the error log in the prefix), the
// load_module lines of luaModules when the scenario needs Lua, and the
// http block with the plumbing lines given.
func renderConf(s *Scenario, v confVars, plumb []string, luaModules []string) string {
	var b strings.Builder
	if s.Lua {
		for _, m := range luaModules {
			b.WriteString("load_module " + m + ";\n")
		}
	}
	b.WriteString("daemon off;\nmaster_process off;\nworker_processes 1;\n" +
		"pid logs/nginx.pid;\nerror_log logs/error.log warn;\n\n" +
		"events {\n    worker_connections 1024;\n}\n\nhttp {\n")
	for _, l := range plumb {
		b.WriteString("    " + l + "\n")
	}
	b.WriteString(strings.TrimLeft(s.HTTP, "\n"))
	b.WriteString("}\n")
	return v.replace(b.String())
}

// renderBackendConf is the configuration of an nginx backend.
func renderBackendConf(be *Backend, v confVars) string {
	return v.replace("daemon off;\nmaster_process off;\nworker_processes 1;\n" +
		"pid logs/nginx.pid;\nerror_log logs/error.log warn;\n\n" +
		"events {\n    worker_connections 1024;\n}\n\nhttp {\n" +
		"    access_log off;\n" + strings.TrimLeft(be.HTTP, "\n") + "}\n")
}

// knownLines returns the plumbing lines bin accepts, by testing each in a
// throwaway configuration (bin -t), and those it refuses.
func knownLines(bin, dir string, lines []string) (known, refused []string) {
	for i, l := range lines {
		d := filepath.Join(dir, "probe-"+strconv.Itoa(i))
		os.MkdirAll(filepath.Join(d, "logs"), 0o755)
		conf := filepath.Join(d, "probe.conf")
		text := confVars{Prefix: d}.replace("events {}\nhttp {\n    " + l + "\n}\n")
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			refused = append(refused, l)
			continue
		}
		cmd := exec.Command(bin, "-t", "-q", "-p", d+"/", "-c", conf, "-e", filepath.Join(d, "logs", "error.log"))
		if cmd.Run() == nil {
			known = append(known, l)
		} else {
			refused = append(refused, l)
		}
	}
	return known, refused
}
