package main

import (
	"fmt"
	"io"
	"runtime"

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

// configureArgs is the "configure arguments:" text (http.ConfigureArguments).
func configureArgs(reg *core.Registry) string { return http.ConfigureArguments(reg) }
