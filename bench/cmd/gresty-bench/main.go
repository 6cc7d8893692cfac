// Command gresty-bench measures gresty beside the nginx installed on the
// machine (and Go HTTP servers) on the same configurations, and writes a
// Markdown table. make bench runs it; see bench/README.md.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"gresty/bench"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		binary    = flag.String("binary", "bin/gresty", "the gresty binary")
		nginxBin  = flag.String("nginx", "", "the nginx binary (default: nginx on PATH, else /usr/sbin/nginx)")
		wrkBin    = flag.String("wrk", "", "the wrk binary (default: wrk on PATH)")
		quick     = flag.Bool("quick", false, "the quick set: fewer scenarios, one poller, no peers, no micro-benchmarks")
		aa        = flag.Bool("aa", false, "A/A mode: nginx against itself, to show the harness is fair")
		names     = flag.String("scenarios", "", "comma-separated scenarios to run (default: the default or quick set)")
		list      = flag.Bool("list", false, "list the scenarios and exit")
		rounds    = flag.Int("rounds", 0, "rounds of A B alternation (default 3; 6 with -aa, whose ratios must be tight)")
		duration  = flag.Duration("duration", 3*time.Second, "load per sample")
		warmup    = flag.Duration("warmup", time.Second/2, "warm-up load before each sample")
		budget    = flag.Duration("budget", 0, "time for the load runs, retries included (default 8m, quick 100s; negative: no limit)")
		conns     = flag.Int("conns", 32, "wrk connections")
		serverCPU = flag.Int("server-cpu", 0, "CPU the servers under test run on")
		loadCPU   = flag.Int("load-cpu", 1, "CPU wrk and backends run on")
		pollers   = flag.String("pollers", "", "gresty poller backends, the first held to the targets (default epoll,netpoll; quick epoll)")
		peers     = flag.Bool("peers", true, "measure the Go peers (net/http, fasthttp) where a scenario has them (not with -quick)")
		micro     = flag.Bool("micro", true, "run the Go micro-benchmarks (not with -quick)")
		benchtime = flag.String("benchtime", "1s", "go test -benchtime for the micro-benchmarks")
		nice      = flag.Int("nice", -10, "nice value of the servers, wrk and backends (negative needs root; ignored otherwise)")
		rt        = flag.Bool("rt", false, "run servers, wrk and backends as SCHED_FIFO 1 (root): for machines shared with other work")
		retries   = flag.Int("retries", 1, "measure a disturbed sample again this many times")
		disturbed = flag.Float64("disturbed", 0.10, "share of the server CPU taken by other tasks that makes a sample disturbed")
		out       = flag.String("out", "", "the Markdown report (default bench/results/latest.md; quick.md with -quick, aa.md with -aa)")
		profile   = flag.String("profile", "", "directory for gresty CPU profiles, one per sample")
		keep      = flag.Bool("keep", false, "keep the scratch directory (configurations, logs)")
	)
	flag.Parse()

	if *list {
		for _, s := range bench.Scenarios() {
			set := ""
			switch {
			case s.Quick:
				set = " [default, quick]"
			case s.Default:
				set = " [default]"
			}
			fmt.Printf("%-12s %s%s\n", s.Name, s.About, set)
		}
		return 0
	}

	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "gresty-bench: %v\n", err)
		return 2
	}
	o := &bench.Options{
		Rounds: *rounds, Duration: *duration, Warmup: *warmup, Conns: *conns,
		ServerCPU: *serverCPU, LoadCPU: *loadCPU, Retries: *retries, DisturbedAt: *disturbed,
		AA: *aa, LuaModules: bench.DefaultLuaModules, Progress: os.Stderr, Nice: *nice,
	}
	if o.Rounds <= 0 {
		o.Rounds = 3
		if o.AA {
			o.Rounds = 6
		}
	}
	o.RT = *rt
	if (o.Nice < 0 || o.RT) && os.Geteuid() != 0 {
		fmt.Fprintf(os.Stderr, "gresty-bench: not root: running at the normal priority (-nice 0, no -rt)\n")
		o.Nice, o.RT = 0, false
	}
	switch o.Budget = *budget; {
	case o.Budget == 0 && *quick:
		o.Budget = 100 * time.Second
	case o.Budget == 0:
		o.Budget = 8 * time.Minute
	case o.Budget < 0:
		o.Budget = 0
	}
	pl := *pollers
	if pl == "" {
		pl = "epoll,netpoll"
		if *quick {
			pl = "epoll"
		}
	}
	o.Pollers = strings.Split(pl, ",")

	var missing []string
	if _, err := exec.LookPath("taskset"); err != nil {
		missing = append(missing, "taskset (Debian package util-linux)")
	}
	if o.Nginx = findNginx(*nginxBin); o.Nginx == "" {
		missing = append(missing, "nginx (Debian package nginx)")
	}
	if o.Wrk = *wrkBin; o.Wrk == "" {
		o.Wrk, _ = exec.LookPath("wrk")
	}
	if o.Wrk == "" {
		missing = append(missing, "wrk (Debian package wrk)")
	}
	if !o.AA {
		abs, err := filepath.Abs(*binary)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			missing = append(missing, "the gresty binary "+*binary+" (make build)")
		}
		o.Gresty = abs
	}
	if len(missing) > 0 {
		fmt.Fprintf(os.Stderr, "gresty-bench: missing: %s\n", strings.Join(missing, ", "))
		return 2
	}
	if n := runtime.NumCPU(); o.ServerCPU == o.LoadCPU || o.ServerCPU >= n || o.LoadCPU >= n {
		fmt.Fprintf(os.Stderr, "gresty-bench: needs two distinct CPUs for the server (-server-cpu %d) and the load (-load-cpu %d); this machine has %d\n",
			o.ServerCPU, o.LoadCPU, n)
		return 2
	}

	var sel []string
	if *names != "" {
		sel = strings.Split(*names, ",")
	}
	scenarios, err := bench.Select(sel, *quick)
	if err != nil {
		fmt.Fprintf(os.Stderr, "gresty-bench: %v (see -list)\n", err)
		return 2
	}

	work, err := os.MkdirTemp("", "gresty-bench-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "gresty-bench: %v\n", err)
		return 2
	}
	if *keep {
		fmt.Fprintf(os.Stderr, "gresty-bench: scratch directory %s\n", work)
	} else {
		defer os.RemoveAll(work)
	}
	o.Work = work
	if *profile != "" {
		if o.ProfileDir, err = filepath.Abs(*profile); err == nil {
			err = os.MkdirAll(o.ProfileDir, 0o755)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "gresty-bench: %v\n", err)
			return 2
		}
	}
	if *peers && !*quick && !o.AA {
		for _, name := range []string{"nethttp", "fasthttp"} {
			bin := filepath.Join(work, name)
			cmd := exec.Command("go", "build", "-o", bin, "./bench/peers/"+name)
			cmd.Dir = root
			if b, err := cmd.CombinedOutput(); err != nil {
				fmt.Fprintf(os.Stderr, "gresty-bench: building the %s peer: %v\n%s", name, err, b)
				return 2
			}
			label := map[string]string{"nethttp": "net/http", "fasthttp": "fasthttp"}[name]
			o.Peers = append(o.Peers, bench.Peer{Name: label, Bin: bin})
		}
	}

	start := time.Now()
	rep := &bench.Report{Machine: bench.Describe(o), Options: o}
	rep.Results = bench.Run(o, scenarios)
	if *micro && !o.AA && !*quick {
		fmt.Fprintf(os.Stderr, "micro-benchmarks...\n")
		rep.Micro = bench.RunMicro(root, work, o, *benchtime, bench.Micros)
	}

	var md bytes.Buffer
	rep.WriteMarkdown(&md)
	os.Stdout.Write(md.Bytes())
	path := *out
	if path == "" {
		name := "latest.md"
		switch {
		case o.AA:
			name = "aa.md"
		case *quick:
			name = "quick.md"
		}
		path = filepath.Join(root, "bench", "results", name)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		err = os.WriteFile(path, md.Bytes(), 0o644)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "gresty-bench: writing the report: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "gresty-bench: wrote %s in %v\n", path, time.Since(start).Round(time.Second))
	if rep.Failed() {
		return 1
	}
	return 0
}

// moduleRoot is the directory of the go.mod the command runs in; the peers
// and micro-benchmarks are built from there.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the gresty module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

// findNginx returns the nginx to compare with: the flag's, else nginx on
// PATH, else Debian's /usr/sbin/nginx; "" if there is none.
func findNginx(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	return ""
}
