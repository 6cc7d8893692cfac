package bench

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// Micro is a set of Go benchmarks of one package that the report shows.
type Micro struct {
	// Pkg is the package path relative to the module root ("./httpparse").
	Pkg string
	// Bench is the -bench pattern.
	Bench string
	// About says what they measure.
	About string
}

// Micros are the Go benchmarks make bench reports.
var Micros = []Micro{
	{Pkg: "./httpparse", Bench: "^Benchmark(ParseMinimal|ParseAPI|ParseChrome)$",
		About: "request head parser, per request"},
	{Pkg: "./http", Bench: "^BenchmarkRequest$",
		About: "one request through parse, location, handler, filters and serialisation on one loop, loopback client included; an op is a request"},
	{Pkg: "./http", Bench: "^BenchmarkIdleConn$",
		About: "live heap per idle keepalive connection (B/idle-conn; target ≤ 4096), 2000 connections after one request each"},
	{Pkg: "./luavm", Bench: "^BenchmarkHello$",
		About: "a content_by_lua hello handler's call in the VM, no I/O"},
	{Pkg: "./http/modules/lua", Bench: "^BenchmarkLuaRequest$",
		About: "one request through a content_by_lua location (hello, shared dict incr) beside return, on one loop, loopback client included"},
}

// MicroResult is one benchmark line.
type MicroResult struct {
	Name    string
	N       int64
	Metrics []Metric
}

// Metric is one value of a benchmark line with its unit ("ns/op").
type Metric struct {
	Value float64
	Unit  string
}

// Get returns the value of the metric with this unit.
func (m MicroResult) Get(unit string) (float64, bool) {
	for _, x := range m.Metrics {
		if x.Unit == unit {
			return x.Value, true
		}
	}
	return 0, false
}

// MicroRun is the outcome of one package's benchmarks.
type MicroRun struct {
	Micro   Micro
	Results []MicroResult
	Err     error
}

// RunMicro compiles each package's test binary (unpinned) and runs its
// benchmarks on the server CPU with one P, in the package's directory.
func RunMicro(root, work string, o *Options, benchtime string, list []Micro) []MicroRun {
	var out []MicroRun
	for i, m := range list {
		run := MicroRun{Micro: m}
		bin := filepath.Join(work, fmt.Sprintf("micro-%d.test", i))
		build := exec.Command("go", "test", "-c", "-o", bin, m.Pkg)
		build.Dir = root
		if b, err := build.CombinedOutput(); err != nil {
			run.Err = fmt.Errorf("go test -c %s: %v: %s", m.Pkg, err, strings.TrimSpace(string(b)))
			out = append(out, run)
			continue
		}
		p, err := startPinned(m.Pkg, placement{CPU: o.ServerCPU, Nice: o.Nice, RT: o.RT}, filepath.Join(root, m.Pkg), nil, bin, "-test.run", "^$", "-test.bench", m.Bench,
			"-test.benchmem", "-test.benchtime", benchtime, "-test.cpu", "1", "-test.count", "1")
		if err != nil {
			run.Err = err
			out = append(out, run)
			continue
		}
		werr := p.wait()
		text := p.out.String()
		run.Results = parseBench(text)
		if werr != nil || len(run.Results) == 0 {
			run.Err = fmt.Errorf("%s benchmarks failed (%v): %s", m.Pkg, werr, text)
		}
		os.Remove(bin)
		out = append(out, run)
	}
	return out
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.+)$`)

// parseBench reads the result lines of go test -bench output.
func parseBench(text string) []MicroResult {
	var out []MicroResult
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		r := MicroResult{Name: m[1]}
		r.N, _ = strconv.ParseInt(m[2], 10, 64)
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			r.Metrics = append(r.Metrics, Metric{Value: v, Unit: f[i+1]})
		}
		out = append(out, r)
	}
	return out
}
