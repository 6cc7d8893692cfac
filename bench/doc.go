// Package bench measures gresty beside the nginx installed on the machine,
// and beside Go HTTP servers, on the same configurations.
//
// Each scenario (one file, scenario_*.go) writes one nginx.conf that both
// servers run unchanged. Every measurement starts a server pinned to one
// CPU, checks one real response, warms it up, loads it with wrk pinned to
// the other CPU, records the server process's CPU time from /proc and
// stops the server with a signal. Servers alternate A B A B over several
// rounds so that a slow drift of the machine falls on all of them alike;
// ratios are taken round by round, then their median.
//
// The figure to compare is requests per server-CPU-second: on a small
// machine the load generator saturates before the server, so requests per
// second says more about wrk than about the server.
//
// Everything here runs on the goroutine that calls Run; the package keeps
// no state besides the scenario registry built at init.
package bench
