package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AABand is the range every A/A ratio must fall in for the harness to be
// called fair.
const AABand = 0.05

// Report is everything a run found.
type Report struct {
	Machine Machine
	Options *Options
	Results []*ScenarioResult
	Micro   []MicroRun
}

// Failed reports whether a scenario or a micro-benchmark failed.
func (r *Report) Failed() bool {
	for _, s := range r.Results {
		if s.Err != nil {
			return true
		}
	}
	for _, m := range r.Micro {
		if m.Err != nil {
			return true
		}
	}
	return false
}

// AAFair reports whether every A/A ratio is within AABand of 1, and the
// scenarios where it is not.
func (r *Report) AAFair() (bool, []string) {
	var off []string
	for _, s := range r.Results {
		for _, sv := range s.Servers {
			if !sv.Ref && math.Abs(sv.Summary.Ratio-1) > AABand {
				off = append(off, fmt.Sprintf("%s %.3f", s.Scenario.Name, sv.Summary.Ratio))
			}
		}
	}
	return len(off) == 0, off
}

// WriteMarkdown writes the report as Markdown.
func (r *Report) WriteMarkdown(w io.Writer) {
	o := r.Options
	m := r.Machine
	if o.AA {
		fmt.Fprintf(w, "# nginx against itself (A/A)\n\n")
	} else {
		fmt.Fprintf(w, "# gresty beside nginx\n\n")
	}
	fmt.Fprintf(w, "Written by `make bench` (bench/cmd/gresty-bench).\n\n")
	fmt.Fprintf(w, "- Machine: %s, %d CPUs, %s, load average at start %s\n", m.CPU, m.CPUs, m.Kernel, m.LoadAvg)
	fmt.Fprintf(w, "- Software: %s; nginx %s", m.Go, m.Nginx)
	if !o.AA {
		fmt.Fprintf(w, "; gresty %s", m.Gresty)
	}
	fmt.Fprintf(w, "; %s\n", m.Wrk)
	fmt.Fprintf(w, "- Run: %s; %d rounds of %v load after %v of warm-up per server, %d connections, wrk with one thread; "+
		"servers on CPU %d, wrk and backends on CPU %d, %s\n\n",
		m.Date.Format("2006-01-02 15:04 UTC"), o.Rounds, o.Duration, o.Warmup, o.Conns, o.ServerCPU, o.LoadCPU, o.priority())
	fmt.Fprintf(w, "**req/CPU-s** is requests per second of the server process's CPU time (user+system), the figure to compare: "+
		"on a small machine wrk saturates before the server, so req/s measures wrk as much as the server. "+
		"**vs nginx** is the median over the rounds of that figure divided by nginx's in the same round (lowest and highest round in brackets). "+
		"**CPU** is the share of the run the server spent on its CPU. "+
		"A sample is **disturbed** when the server's loop thread waited for its CPU behind other tasks (or the hypervisor) more than %.0f%% of the time; it is measured again up to %d times and the least disturbed try counts. "+
		"**spread** is how far the rounds' req/CPU-s disagree ((max-min)/median).\n\n",
		100*o.DisturbedAt, o.Retries)

	fmt.Fprintf(w, "| scenario | server | req/s | p99 | req/CPU-s | vs nginx | CPU | target | notes |\n")
	fmt.Fprintf(w, "|---|---|--:|--:|--:|--:|--:|---|---|\n")
	for _, res := range r.Results {
		name := res.Scenario.Name
		if res.Skipped != "" {
			fmt.Fprintf(w, "| %s | | | | | | | | skipped: %s |\n", name, mdCell(res.Skipped))
			continue
		}
		if res.Err != nil {
			fmt.Fprintf(w, "| %s | | | | | | | | **FAILED**: %s |\n", name, mdCell(firstLine(res.Err.Error(), "")))
			continue
		}
		for i, sv := range res.Servers {
			su := sv.Summary
			cell := ""
			if i == 0 {
				cell = name
			}
			ratio := "1.00"
			if !sv.Ref {
				ratio = fmt.Sprintf("%.2f (%.2f–%.2f)", su.Ratio, su.RatioMin, su.RatioMax)
			}
			target := ""
			if sv.Judged && !o.AA && res.Scenario.Target > 0 {
				verdict := "met"
				if su.Ratio < res.Scenario.Target {
					verdict = "**missed**"
				}
				target = fmt.Sprintf("≥ %.2f %s", res.Scenario.Target, verdict)
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %.0f%% | %s | %s |\n",
				cell, sv.Name, thousands(su.ReqPerSec), fmtLatency(su.P99), thousands(su.PerCPU), ratio,
				100*su.CPUShare, target, strings.Join(sampleNotes(su, len(sv.Samples)), "; "))
		}
	}
	fmt.Fprintln(w)

	if !o.AA {
		r.writeSplit(w)
	}

	if o.AA {
		fair, off := r.AAFair()
		if fair {
			fmt.Fprintf(w, "**Fair**: every ratio of nginx to itself is within %.2f–%.2f.\n\n", 1-AABand, 1+AABand)
		} else {
			fmt.Fprintf(w, "**Not fair on this run**: ratios outside %.2f–%.2f: %s.\n\n", 1-AABand, 1+AABand, strings.Join(off, ", "))
		}
	} else if len(o.Pollers) > 1 {
		r.writePollers(w)
	}

	if len(r.Micro) > 0 {
		fmt.Fprintf(w, "## Go micro-benchmarks\n\n")
		fmt.Fprintf(w, "Run pinned to CPU %d with one P (`go test -bench -benchmem -cpu 1`).\n\n", o.ServerCPU)
		fmt.Fprintf(w, "| benchmark | ns/op | B/op | allocs/op | other | what |\n|---|--:|--:|--:|--:|---|\n")
		for _, mr := range r.Micro {
			if mr.Err != nil {
				fmt.Fprintf(w, "| %s | | | | | **FAILED**: %s |\n", mr.Micro.Pkg, mdCell(firstLine(mr.Err.Error(), "")))
				continue
			}
			for i, b := range mr.Results {
				ns, _ := b.Get("ns/op")
				bop, _ := b.Get("B/op")
				aop, _ := b.Get("allocs/op")
				about := ""
				if i == 0 {
					about = mr.Micro.About
				}
				// a benchmark's own metrics (B/idle-conn, cpu-ns/op...)
				var other []string
				for _, m := range b.Metrics {
					switch m.Unit {
					case "ns/op", "B/op", "allocs/op", "MB/s":
					default:
						other = append(other, strconv.FormatFloat(m.Value, 'f', -1, 64)+" "+m.Unit)
					}
				}
				fmt.Fprintf(w, "| %s `%s` | %s | %s | %s | %s | %s |\n", strings.TrimPrefix(mr.Micro.Pkg, "./"),
					strings.TrimPrefix(b.Name, "Benchmark"), strconv.FormatFloat(ns, 'f', -1, 64),
					strconv.FormatFloat(bop, 'f', -1, 64), strconv.FormatFloat(aop, 'f', -1, 64), strings.Join(other, ", "), about)
			}
		}
		fmt.Fprintln(w)
	}

	common := commonNotes(r.Results)
	fmt.Fprintf(w, "## Scenarios\n\n")
	if len(common) > 0 {
		fmt.Fprintf(w, "Every scenario's nginx.conf has `access_log off;` and temporary paths inside the prefix; "+
			"a server that does not know one of these lines runs without it: %s\n\n", strings.Join(common, " "))
	}
	for _, res := range r.Results {
		s := res.Scenario
		fmt.Fprintf(w, "- **%s**: %s.", s.Name, s.About)
		if s.Pipeline > 1 {
			fmt.Fprintf(w, " wrk writes %d requests at once (a pipelining script).", s.Pipeline)
		}
		if len(s.Headers) > 0 {
			fmt.Fprintf(w, " Request headers: `%s`.", strings.Join(s.Headers, "`, `"))
		}
		for _, n := range res.Notes {
			if !slices.Contains(common, n) {
				fmt.Fprintf(w, " %s", n)
			}
		}
		if res.Err != nil {
			fmt.Fprintf(w, "\n\n  ```\n  %s\n  ```", strings.ReplaceAll(res.Err.Error(), "\n", "\n  "))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

// writeSplit shows where each server's CPU time per request goes: its
// own code or the kernel's work for it. With the same system calls per
// request, the kernel's part is much the same for every server, and a
// target can only be reached through the server's own part: the table says
// how small that part has to be.
func (r *Report) writeSplit(w io.Writer) {
	var rows []string
	for _, res := range r.Results {
		if res.Skipped != "" || res.Err != nil {
			continue
		}
		ref := res.Ref()
		for _, sv := range res.Servers {
			su := sv.Summary
			if su.UserPerReq <= 0 && su.SysPerReq <= 0 {
				continue
			}
			name := res.Scenario.Name
			vsUser, vsSys, need := "", "", ""
			if !sv.Ref {
				vsUser, vsSys = fmt.Sprintf("%.2f", su.UserRatio), fmt.Sprintf("%.2f", su.SysRatio)
			}
			if !sv.Judged || res.Scenario.Target <= 0 || ref == nil {
				// no target to meet
			} else if n, ok := userForTarget(sv.Samples, ref.Samples, res.Scenario.Target); ok {
				if n <= 0 {
					need = "out of reach: the kernel's part alone is more"
				} else {
					need = fmt.Sprintf("≤ %s µs", usFmt(n))
				}
			}
			rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s |", name, sv.Name,
				usFmt(su.UserPerReq), usFmt(su.SysPerReq), vsUser, vsSys, need))
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(w, "## Where the CPU time goes\n\n")
	fmt.Fprintf(w, "Each server's CPU time per request, split into its own code (**user**) and the kernel's work for it "+
		"(**kernel**: system calls, the TCP stack of the loopback, wake-ups), in the proportion of the process's "+
		"user and system ticks; medians over the rounds. **vs nginx** is nginx's time divided by the server's in the "+
		"same round (above 1: less time than nginx). The kernel's part depends little on how a server is written "+
		"once it makes the same system calls (it moves with the machine from round to round, for every server), so the last column gives "+
		"the user time per request that would have met the target in each round, with that round's kernel time and nginx's, "+
		"as the median over the rounds.\n\n")
	fmt.Fprintf(w, "| scenario | server | user µs/req | kernel µs/req | user vs nginx | kernel vs nginx | user time for the target |\n")
	fmt.Fprintf(w, "|---|---|--:|--:|--:|--:|---|\n")
	for _, row := range rows {
		fmt.Fprintln(w, row)
	}
	fmt.Fprintln(w)
}

// usFmt prints nanoseconds as microseconds with two decimals.
func usFmt(ns float64) string { return strconv.FormatFloat(ns/1000, 'f', 2, 64) }

// writePollers compares gresty's poller backends scenario by scenario.
func (r *Report) writePollers(w io.Writer) {
	o := r.Options
	base := "gresty/" + o.Pollers[0]
	fmt.Fprintf(w, "## Event loop pollers\n\n")
	fmt.Fprintf(w, "req/CPU-s of each backend divided by %s's, median over the rounds (each round's ratio is of the same round).\n\n", base)
	fmt.Fprintf(w, "| scenario |")
	for _, p := range o.Pollers[1:] {
		fmt.Fprintf(w, " %s |", p)
	}
	fmt.Fprintf(w, "\n|---|")
	for range o.Pollers[1:] {
		fmt.Fprintf(w, "--:|")
	}
	fmt.Fprintln(w)
	all := make([][]float64, len(o.Pollers))
	for _, res := range r.Results {
		b := res.Server(base)
		if res.Err != nil || b == nil {
			continue
		}
		fmt.Fprintf(w, "| %s |", res.Scenario.Name)
		for i, p := range o.Pollers[1:] {
			sv := res.Server("gresty/" + p)
			x := median(pairedRatios(sv.Samples, b.Samples, Sample.PerCPU))
			all[i+1] = append(all[i+1], x)
			fmt.Fprintf(w, " %.3f |", x)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "| geometric mean |")
	for i := range o.Pollers[1:] {
		fmt.Fprintf(w, " **%.3f** |", geomean(all[i+1]))
	}
	fmt.Fprintf(w, "\n\n")
	for i, p := range o.Pollers[1:] {
		g := geomean(all[i+1])
		switch {
		case g == 0:
		case g > 1:
			fmt.Fprintf(w, "%s serves %.1f%% more requests per CPU-second than %s.\n", p, 100*(g-1), o.Pollers[0])
		default:
			fmt.Fprintf(w, "%s serves %.1f%% more requests per CPU-second than %s.\n", o.Pollers[0], 100*(1/g-1), p)
		}
	}
	fmt.Fprintln(w)
}

// priority says how the measured processes were scheduled.
func (o *Options) priority() string {
	switch {
	case o.RT:
		return "in the real-time class (SCHED_FIFO 1)"
	case o.Nice != 0:
		return fmt.Sprintf("at nice %d", o.Nice)
	}
	return "at the normal priority"
}

// commonNotes are the notes every scenario that ran has, told once.
func commonNotes(results []*ScenarioResult) []string {
	var common []string
	first := true
	for _, res := range results {
		if res.Skipped != "" {
			continue
		}
		if first {
			common = append(common, res.Notes...)
			first = false
			continue
		}
		common = slices.DeleteFunc(common, func(n string) bool { return !slices.Contains(res.Notes, n) })
	}
	return common
}

// sampleNotes flags what makes a row less trustworthy.
func sampleNotes(su Summary, n int) []string {
	var notes []string
	if su.Disturbed > 0 {
		notes = append(notes, fmt.Sprintf("disturbed %d/%d", su.Disturbed, n))
	}
	if su.Spread > 0.10 {
		notes = append(notes, fmt.Sprintf("spread %.0f%%", 100*su.Spread))
	}
	if su.Errors > 0 {
		notes = append(notes, fmt.Sprintf("%d errors", su.Errors))
	}
	if su.Dropped > 0 {
		notes = append(notes, fmt.Sprintf("dropped %d connections while starting", su.Dropped))
	}
	return notes
}

// thousands writes a rate rounded to an integer with thin separators.
func thousands(x float64) string {
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// fmtLatency writes a latency with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d == 0:
		return "n/a"
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	default:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 0, 64) + "µs"
	}
}

// mdCell makes text safe for a table cell.
func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}
