package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wrkResult is what one wrk run reports.
type wrkResult struct {
	Requests  int64
	Duration  time.Duration
	ReqPerSec float64
	P50, P99  time.Duration
	// SocketErrors adds connect, read, write and timeout errors;
	// Non2xx counts responses with another status.
	SocketErrors int64
	Non2xx       int64
}

var (
	wrkTotal   = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+[a-z]+),`)
	wrkRate    = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	wrkPct     = regexp.MustCompile(`(?m)^\s+(50|75|90|99)%\s+([0-9.]+[a-z]+)`)
	wrkErrors  = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkNon2xx  = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkUnitNum = regexp.MustCompile(`^([0-9.]+)([a-z]+)$`)
)

// parseWrk reads wrk's report (run with --latency).
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	m := wrkTotal.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk: no request count in its output:\n%s", out)
	}
	r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	d, err := parseWrkTime(m[2])
	if err != nil {
		return r, err
	}
	r.Duration = d
	m = wrkRate.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk: no Requests/sec in its output:\n%s", out)
	}
	r.ReqPerSec, _ = strconv.ParseFloat(m[1], 64)
	for _, m := range wrkPct.FindAllStringSubmatch(out, -1) {
		d, err := parseWrkTime(m[2])
		if err != nil {
			return r, err
		}
		switch m[1] {
		case "50":
			r.P50 = d
		case "99":
			r.P99 = d
		}
	}
	// wrk prints a 99th percentile of 0 when a pipelined run's responses
	// all landed in its histogram's first bucket; only a missing
	// distribution is an error.
	if !strings.Contains(out, "Latency Distribution") {
		return r, fmt.Errorf("wrk: no latency distribution (--latency) in its output:\n%s", out)
	}
	if m := wrkErrors.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.SocketErrors += n
		}
	}
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.Non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	return r, nil
}

// parseWrkTime reads a time as wrk prints it: "658.62ms", "12.00us",
// "1.02s", "2.00m", "1.00h".
func parseWrkTime(s string) (time.Duration, error) {
	m := wrkUnitNum.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("wrk: bad time %q", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("wrk: bad time %q", s)
	}
	var unit time.Duration
	switch m[2] {
	case "us":
		unit = time.Microsecond
	case "ms":
		unit = time.Millisecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	default:
		return 0, fmt.Errorf("wrk: bad time unit in %q", s)
	}
	return time.Duration(v * float64(unit)), nil
}

// wrkArgs returns wrk's arguments for a scenario: one thread, as the load
// generator has one CPU; script is the pipelining script's path or "".
func wrkArgs(s *Scenario, url string, conns int, d time.Duration, script string) []string {
	args := []string{"-t1", "-c" + strconv.Itoa(conns), "-d" + wrkSeconds(d), "--latency", "--timeout", "5s"}
	for _, h := range s.Headers {
		args = append(args, "-H", h)
	}
	if script != "" {
		args = append(args, "-s", script)
	}
	return append(args, url)
}

// wrkSeconds writes a duration in whole seconds (at least one), as wrk's
// -d takes it.
func wrkSeconds(d time.Duration) string {
	return strconv.Itoa(max(1, int((d+time.Second/2)/time.Second))) + "s"
}

// pipelineScript is the wrk script that writes n copies of the request
// at once; wrk counts the requests in the string and waits for as many
// responses.
func pipelineScript(path string, n int) string {
	return fmt.Sprintf(`-- written by gresty-bench: %[2]d requests per write
init = function(args)
  local r = {}
  for i = 1, %[2]d do
    r[i] = wrk.format(nil, %[1]q)
  end
  req = table.concat(r)
end

request = function()
  return req
end
`, path, n)
}

// writePipelineScript writes the scenario's wrk script into dir and
// returns its path; "" when the scenario does not pipeline.
func writePipelineScript(dir string, s *Scenario) (string, error) {
	if s.Pipeline <= 1 {
		return "", nil
	}
	p := filepath.Join(dir, "pipeline.lua")
	if strings.ContainsAny(s.Path, "\"\\\n") {
		return "", fmt.Errorf("scenario %s: path %q cannot go into a Lua string", s.Name, s.Path)
	}
	return p, os.WriteFile(p, []byte(pipelineScript(s.Path, s.Pipeline)), 0o644)
}
