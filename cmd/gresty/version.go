package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"gresty/core"
	"gresty/http"
)

// versionLine is nginx's first -v/-V line with gresty's own version after
// it: tools that parse "nginx -V" take the first nginx/X.Y.Z.
func versionLine() string {
	return "nginx version: nginx/" + http.NginxVersion + " (gresty/" + http.Version + ")"
}

func showVersion(w io.Writer, o *options, reg *core.Registry) {
	fmt.Fprintln(w, versionLine())
	if o.help {
		fmt.Fprint(w, `Usage: gresty [-?hvVtTq] [-s signal] [-p prefix]
             [-e filename] [-c filename] [-g directives]

Options:
  -?,-h         : this help
  -v            : show version and exit
  -V            : show version and configure options then exit
  -t            : test configuration and exit
  -T            : test configuration, dump it and exit
  -q            : suppress non-error messages during configuration testing
  -s signal     : send signal to a master process: stop, quit, reopen, reload
  -p prefix     : set prefix path (default: `+core.DefaultPrefix+`)
  -e filename   : set error log file (default: `+core.DefaultErrorLog+`)
  -c filename   : set configuration file (default: `+core.DefaultConfPath+`)
  -g directives : set global directives out of configuration file

`)
	}
	if o.configure {
		fmt.Fprintf(w, "built by %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		fmt.Fprintln(w, "configure arguments:"+configureArgs(reg))
	}
}

// configureArgs lists the built-in paths and the modules in the words of
// nginx's configure script, so that tools that detect modules from -V see
// them. No module is "=dynamic": everything is compiled in.
func configureArgs(reg *core.Registry) string {
	var b strings.Builder
	for _, a := range []string{
		"--prefix=" + strings.TrimSuffix(core.DefaultPrefix, "/"),
		"--conf-path=" + core.DefaultConfPath,
		"--error-log-path=" + core.DefaultErrorLog,
		"--pid-path=" + core.DefaultPidPath,
		"--http-log-path=logs/access.log",
		"--http-client-body-temp-path=" + http.DefaultBodyTempPath,
	} {
		b.WriteString(" ")
		b.WriteString(a)
	}
	// nginx builds these HTTP modules unless told not to: say which
	// ones gresty lacks, so that test harnesses skip what needs them
	// instead of failing (Test::Nginx then leaves out fastcgi_temp_path &
	// co., nginx-tests skips the files).
	for _, name := range defaultHTTPModules {
		if reg.Find("ngx_http_"+name+"_module") == nil {
			b.WriteString(" --without-http_" + name + "_module")
		}
	}
	seen := map[string]bool{}
	for _, m := range reg.Modules {
		if m.Configure == "" || seen[m.Configure] {
			continue
		}
		seen[m.Configure] = true
		b.WriteString(" ")
		b.WriteString(m.Configure)
	}
	return b.String()
}

// defaultHTTPModules are the HTTP modules nginx's configure enables by
// default, by the name their --without- flag uses.
var defaultHTTPModules = []string{
	"charset", "gzip", "ssi", "userid", "access", "auth_basic", "mirror", "autoindex",
	"geo", "map", "split_clients", "referer", "rewrite", "proxy", "fastcgi", "uwsgi", "scgi",
	"grpc", "memcached", "limit_conn", "limit_req", "empty_gif", "browser",
	"upstream_hash", "upstream_ip_hash", "upstream_least_conn", "upstream_random",
	"upstream_keepalive", "upstream_zone",
}
