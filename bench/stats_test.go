package bench

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestMedianSpreadGeomean(t *testing.T) {
	tests := []struct {
		xs             []float64
		median, spread float64
		geomean        float64
	}{
		{nil, 0, 0, 0},
		{[]float64{4}, 4, 0, 4},
		{[]float64{3, 1, 2}, 2, 1, math.Cbrt(6)},
		{[]float64{10, 40, 20, 30}, 25, 1.2, math.Pow(240000, 0.25)},
	}
	for _, tc := range tests {
		if got := median(tc.xs); !near(got, tc.median) {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.median)
		}
		if got := spread(tc.xs); !near(got, tc.spread) {
			t.Errorf("spread(%v) = %v, want %v", tc.xs, got, tc.spread)
		}
		if got := geomean(tc.xs); !near(got, tc.geomean) {
			t.Errorf("geomean(%v) = %v, want %v", tc.xs, got, tc.geomean)
		}
	}
	xs := []float64{3, 1, 2}
	median(xs)
	if xs[0] != 3 {
		t.Error("median must not reorder its argument")
	}
}

// sample makes a sample of n requests in one second of wall time that
// took cpu milliseconds of server time.
func sample(round int, n int64, cpuMs int, waitMs int) Sample {
	return Sample{Round: round, Requests: n, Wall: time.Second, ReqPerSec: float64(n),
		CPU: time.Duration(cpuMs) * time.Millisecond, Wait: time.Duration(waitMs) * time.Millisecond,
		P99: time.Duration(round) * time.Millisecond}
}

func TestSampleFigures(t *testing.T) {
	s := sample(1, 50000, 500, 100)
	s.Steal = 50 * time.Millisecond
	s.WrkCPU = 900 * time.Millisecond
	if got := s.PerCPU(); !near(got, 100000) {
		t.Errorf("PerCPU = %v", got)
	}
	if got := s.Disturbance(); !near(got, 0.15) {
		t.Errorf("Disturbance = %v", got)
	}
	if got := s.CPUShare(); !near(got, 0.5) {
		t.Errorf("CPUShare = %v", got)
	}
	if got := s.WrkShare(); !near(got, 0.9) {
		t.Errorf("WrkShare = %v", got)
	}
	var zero Sample
	if zero.PerCPU() != 0 || zero.Disturbance() != 0 || zero.CPUShare() != 0 {
		t.Error("a zero sample must give zeros, not NaN or Inf")
	}
}

func TestSummarizePairsRounds(t *testing.T) {
	// the machine slows down over the rounds; each round's ratio is 1.2,
	// which a ratio of the medians would not show (120/110).
	ref := []Sample{sample(1, 100000, 1000, 0), sample(2, 110000, 1000, 0), sample(3, 90000, 1000, 300)}
	got := []Sample{sample(1, 120000, 1000, 0), sample(2, 108000, 1000, 0), sample(3, 132000, 1000, 0)}
	sum := summarize(got, ref, 0.10)
	if !near(sum.Ratio, 1.2) || !near(sum.RatioMin, 108.0/110) || !near(sum.RatioMax, 132.0/90) {
		t.Errorf("ratio %v (%v-%v)", sum.Ratio, sum.RatioMin, sum.RatioMax)
	}
	if !near(sum.PerCPU, 120000) || !near(sum.ReqPerSec, 120000) || sum.P99 != 2*time.Millisecond {
		t.Errorf("medians: %+v", sum)
	}
	if !near(sum.Spread, (132000.0-108000)/120000) {
		t.Errorf("spread %v", sum.Spread)
	}
	if sum.Disturbed != 0 {
		t.Errorf("disturbed %d, want 0", sum.Disturbed)
	}
	refSum := summarize(ref, ref, 0.10)
	if refSum.Ratio != 1 || refSum.Disturbed != 1 {
		t.Errorf("reference: ratio %v disturbed %d, want 1 and 1", refSum.Ratio, refSum.Disturbed)
	}
	// a round the reference lacks has no ratio.
	if rs := pairedRatios([]Sample{sample(4, 1, 1, 0)}, ref, Sample.PerCPU); len(rs) != 0 {
		t.Errorf("unpaired round gave %v", rs)
	}
}

func TestRoundOrder(t *testing.T) {
	tests := []struct {
		n, round int
		want     []int
	}{
		{2, 1, []int{0, 1}},
		{2, 2, []int{1, 0}},
		{3, 3, []int{0, 1, 2}},
		{3, 4, []int{2, 1, 0}},
	}
	for _, tc := range tests {
		if got := roundOrder(tc.n, tc.round); !slices.Equal(got, tc.want) {
			t.Errorf("roundOrder(%d, %d) = %v, want %v", tc.n, tc.round, got, tc.want)
		}
	}
}

func TestReportTargetsAndAA(t *testing.T) {
	sc := &Scenario{Name: "return", About: "x", Target: 1.05, Path: "/"}
	mk := func(name string, ref, judged bool, ratio float64) *ServerResult {
		return &ServerResult{Name: name, Ref: ref, Judged: judged,
			Summary: Summary{Ratio: ratio, RatioMin: ratio, RatioMax: ratio, PerCPU: 1000 * ratio, ReqPerSec: 5}}
	}
	tests := []struct {
		name  string
		aa    bool
		ratio float64
		want  []string
		fair  bool
	}{
		{"met", false, 1.10, []string{"≥ 1.05 met", "| return | nginx |", "| 1.10 (1.10–1.10) |"}, false},
		{"missed", false, 0.80, []string{"≥ 1.05 **missed**"}, false},
		{"aa fair", true, 1.04, []string{"**Fair**", "# nginx against itself"}, true},
		{"aa unfair", true, 0.94, []string{"**Not fair on this run**", "return 0.940"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := &Options{AA: tc.aa, Rounds: 3, Duration: time.Second, Pollers: []string{"epoll"}, DisturbedAt: 0.1}
			names := [2]string{"nginx", "gresty/epoll"}
			if tc.aa {
				names = [2]string{"nginx (A)", "nginx (B)"}
			}
			res := &ScenarioResult{Scenario: sc, Servers: []*ServerResult{mk(names[0], true, false, 1), mk(names[1], false, true, tc.ratio)}}
			rep := &Report{Options: o, Results: []*ScenarioResult{res}}
			var b bytes.Buffer
			rep.WriteMarkdown(&b)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
			if tc.aa {
				if fair, _ := rep.AAFair(); fair != tc.fair {
					t.Errorf("AAFair = %v, want %v", fair, tc.fair)
				}
			}
			if rep.Failed() {
				t.Error("nothing failed")
			}
		})
	}
}

func TestSummarizeUserSys(t *testing.T) {
	// 1000 requests: nginx spends 2 µs of its own and 6 µs of kernel time
	// on each, the other server 3 µs and 6 µs; a round without ticks
	// (zero split) is left out of the medians and ratios.
	mk := func(round int, user, sys time.Duration) Sample {
		s := sample(round, 1000, int((user+sys)/time.Millisecond), 0)
		s.User, s.Sys = user, sys
		return s
	}
	ref := []Sample{mk(1, 2*time.Millisecond, 6*time.Millisecond), mk(2, 2*time.Millisecond, 6*time.Millisecond)}
	got := []Sample{mk(1, 3*time.Millisecond, 6*time.Millisecond), mk(2, 0, 0)}
	sum := summarize(got, ref, 0.10)
	if !near(sum.UserPerReq, 3000) || !near(sum.SysPerReq, 6000) || !near(sum.UserRatio, 2.0/3) || !near(sum.SysRatio, 1) {
		t.Errorf("split: %+v", sum)
	}

	sc := &Scenario{Name: "lua-x", About: "x", Target: 1.0, Path: "/"}
	refRes := &ServerResult{Name: "nginx", Ref: true, Samples: ref, Summary: summarize(ref, ref, 0.10)}
	for _, tc := range []struct {
		sys  time.Duration
		want string
	}{
		// (2+6)/1.0 - 6: 2 µs of its own would have met the target.
		{6 * time.Millisecond, "| lua-x | gresty/epoll | 3.00 | 6.00 | 0.67 | 1.00 | ≤ 2.00 µs |"},
		{9 * time.Millisecond, "out of reach: the kernel's part alone is more"},
	} {
		samples := []Sample{mk(1, 3*time.Millisecond, tc.sys), mk(2, 3*time.Millisecond, tc.sys)}
		sv := &ServerResult{Name: "gresty/epoll", Judged: true, Samples: samples, Summary: summarize(samples, ref, 0.10)}
		rep := &Report{Options: &Options{Rounds: 2, Pollers: []string{"epoll"}},
			Results: []*ScenarioResult{{Scenario: sc, Servers: []*ServerResult{refRes, sv}}}}
		var b bytes.Buffer
		rep.WriteMarkdown(&b)
		if !strings.Contains(b.String(), "## Where the CPU time goes") || !strings.Contains(b.String(), tc.want) {
			t.Errorf("report lacks %q:\n%s", tc.want, b.String())
		}
	}
	// each round's need comes from that round: the kernel's time moves
	// with the machine for both servers. Per round 8-6, 12-10 and 8-9 µs
	// give 2; the medians of the separate figures would give 8-9, -1.
	ms := time.Millisecond
	ref3 := []Sample{mk(1, 2*ms, 6*ms), mk(2, 2*ms, 10*ms), mk(3, 2*ms, 6*ms)}
	odd := []Sample{mk(1, 3*ms, 6*ms), mk(2, 3*ms, 10*ms), mk(3, 3*ms, 9*ms)}
	if n, ok := userForTarget(odd, ref3, 1.0); !ok || !near(n, 2000) {
		t.Errorf("userForTarget = %v, %v; want 2000", n, ok)
	}
	if _, ok := userForTarget(odd, nil, 1.0); ok {
		t.Error("no reference rounds: nothing to say")
	}
}

func TestReportFailuresAndNotes(t *testing.T) {
	a := &ScenarioResult{Scenario: &Scenario{Name: "a", About: "a"}, Err: errFake("server said no\nmore"),
		Notes: []string{"common", "only a"}}
	b := &ScenarioResult{Scenario: &Scenario{Name: "b", About: "b"}, Notes: []string{"common"}}
	c := &ScenarioResult{Scenario: &Scenario{Name: "c", About: "c"}, Skipped: "no Lua"}
	rep := &Report{Options: &Options{}, Results: []*ScenarioResult{a, b, c}}
	if !rep.Failed() {
		t.Error("a failed scenario must fail the run")
	}
	var buf bytes.Buffer
	rep.WriteMarkdown(&buf)
	out := buf.String()
	for _, w := range []string{"**FAILED**: server said no |", "skipped: no Lua", "runs without it: common", "- **a**: a. only a"} {
		if !strings.Contains(out, w) {
			t.Errorf("report lacks %q:\n%s", w, out)
		}
	}
	if strings.Count(out, "common") != 1 {
		t.Errorf("a note every scenario has must be told once:\n%s", out)
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }

func TestFormatting(t *testing.T) {
	for x, want := range map[float64]string{0: "0", 999.4: "999", 1000: "1,000", 134906.5: "134,907", 1234567: "1,234,567"} {
		if got := thousands(x); got != want {
			t.Errorf("thousands(%v) = %q, want %q", x, got, want)
		}
	}
	for d, want := range map[time.Duration]string{450 * time.Microsecond: "450µs", 1190 * time.Microsecond: "1.19ms", 1500 * time.Millisecond: "1.50s", 0: "n/a"} {
		if got := fmtLatency(d); got != want {
			t.Errorf("fmtLatency(%v) = %q, want %q", d, got, want)
		}
	}
	if got := mdCell("a|b\nc"); got != `a\|b c` {
		t.Errorf("mdCell = %q", got)
	}
}
