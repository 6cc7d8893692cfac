package bench

import (
	"math"
	"sort"
	"time"
)

// Sample is one measurement of one server: one load run of wrk.
type Sample struct {
	Round     int
	Requests  int64
	Wall      time.Duration // the load run's length, as wrk measured it
	ReqPerSec float64
	P99       time.Duration
	// CPU is the server process's CPU time during the load run.
	CPU time.Duration
	// Wait is the time the server's event loop thread was runnable but
	// waited for its CPU (other tasks ran on it); Steal is the time the hypervisor
	// took from that CPU.
	Wait, Steal time.Duration
	// User and Sys divide CPU into the server's own code and the kernel's
	// work for it (system calls, the loopback's TCP stack, wake-ups); both
	// are zero when the run was too short to tell.
	User, Sys time.Duration
	// WrkCPU is the load generator's CPU time: near Wall, wrk was the
	// bottleneck.
	WrkCPU time.Duration
	// Errors adds wrk's socket errors and non-2xx/3xx responses.
	Errors int64
	// Dropped counts connections the server accepted while starting but
	// closed without an answer (nginx answers as soon as it accepts).
	Dropped int
	// Tries is how many load runs it took to get a sample that was not
	// disturbed (or the least disturbed one, when none was quiet).
	Tries int
}

// PerCPU is requests per second of server CPU time, the figure compared
// between servers.
func (s Sample) PerCPU() float64 {
	if s.CPU <= 0 {
		return 0
	}
	return float64(s.Requests) / s.CPU.Seconds()
}

// UserPerReq and SysPerReq are the server's own and the kernel's CPU
// time per request, in nanoseconds.
func (s Sample) UserPerReq() float64 { return perReq(s.User, s.Requests) }
func (s Sample) SysPerReq() float64  { return perReq(s.Sys, s.Requests) }

func perReq(d time.Duration, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return float64(d) / float64(n)
}

// Disturbance is the share of the run's time the server could have run
// but did not: its loop thread waited for the CPU behind other tasks, or the
// hypervisor took the CPU. Other tasks that only use the CPU while the
// server is idle do not count.
func (s Sample) Disturbance() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return (s.Wait + s.Steal).Seconds() / s.Wall.Seconds()
}

// WrkShare is the share of the run's time wrk spent on its CPU.
func (s Sample) WrkShare() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return s.WrkCPU.Seconds() / s.Wall.Seconds()
}

// CPUShare is the share of the run's time the server spent on its CPU:
// near 1, the server was the bottleneck; lower, the load generator was.
func (s Sample) CPUShare() float64 {
	if s.Wall <= 0 {
		return 0
	}
	return s.CPU.Seconds() / s.Wall.Seconds()
}

// Summary condenses one server's samples in one scenario.
type Summary struct {
	// ReqPerSec, PerCPU, P99 and CPUShare are medians over the rounds.
	ReqPerSec float64
	PerCPU    float64
	P99       time.Duration
	CPUShare  float64
	// Spread is (max-min)/median of PerCPU over the rounds.
	Spread float64
	// Ratio is the median over the rounds of this server's PerCPU divided
	// by the reference server's in the same round; RatioMin and RatioMax
	// bound the rounds' ratios.
	Ratio, RatioMin, RatioMax float64
	// UserPerReq and SysPerReq are medians over the rounds, in
	// nanoseconds per request; UserRatio and SysRatio are the medians of
	// the reference's figure divided by this server's in the same round
	// (above 1: less time than the reference), 0 when not measured.
	UserPerReq, SysPerReq float64
	UserRatio, SysRatio   float64
	// Disturbed counts samples whose Disturbance stayed above the limit.
	Disturbed int
	Errors    int64
	// Dropped adds the samples' Dropped.
	Dropped int
}

// summarize computes a server's summary; ref are the reference server's
// samples of the same rounds (the server's own for the reference).
func summarize(samples, ref []Sample, disturbedAt float64) Summary {
	var sum Summary
	if len(samples) == 0 {
		return sum
	}
	var rps, per, p99, share, user, sys []float64
	for _, s := range samples {
		if s.User > 0 || s.Sys > 0 {
			user = append(user, s.UserPerReq())
			sys = append(sys, s.SysPerReq())
		}
		rps = append(rps, s.ReqPerSec)
		per = append(per, s.PerCPU())
		p99 = append(p99, float64(s.P99))
		share = append(share, s.CPUShare())
		if s.Disturbance() > disturbedAt {
			sum.Disturbed++
		}
		sum.Errors += s.Errors
		sum.Dropped += s.Dropped
	}
	sum.ReqPerSec = median(rps)
	sum.PerCPU = median(per)
	sum.P99 = time.Duration(median(p99))
	sum.CPUShare = median(share)
	sum.Spread = spread(per)
	sum.UserPerReq = median(user)
	sum.SysPerReq = median(sys)
	ratios := pairedRatios(samples, ref, Sample.PerCPU)
	if len(ratios) > 0 {
		sum.Ratio = median(ratios)
		sum.RatioMin, sum.RatioMax = minMax(ratios)
	}
	// times: the reference's over this server's.
	inverse := func(f func(Sample) float64) func(Sample) float64 {
		return func(s Sample) float64 {
			if v := f(s); v > 0 {
				return 1 / v
			}
			return 0
		}
	}
	sum.UserRatio = median(pairedRatios(samples, ref, inverse(Sample.UserPerReq)))
	sum.SysRatio = median(pairedRatios(samples, ref, inverse(Sample.SysPerReq)))
	return sum
}

// userForTarget is the server's own CPU time per request (ns) that would
// have met target in each round, given the kernel's time for the server and
// the reference's whole time in that round; the median over the rounds
// where all three are measured. ok is false when none is.
func userForTarget(samples, ref []Sample, target float64) (need float64, ok bool) {
	whole := map[int]float64{}
	for _, r := range ref {
		if r.User > 0 || r.Sys > 0 {
			whole[r.Round] = r.UserPerReq() + r.SysPerReq()
		}
	}
	var needs []float64
	for _, s := range samples {
		if w, found := whole[s.Round]; found && (s.User > 0 || s.Sys > 0) && target > 0 {
			needs = append(needs, w/target-s.SysPerReq())
		}
	}
	if len(needs) == 0 {
		return 0, false
	}
	return median(needs), true
}

// pairedRatios divides each round's figure f by the reference's of the
// same round, for the rounds where both are measured. Pairing rounds
// cancels a drift of the machine that a ratio of medians would keep.
func pairedRatios(samples, ref []Sample, f func(Sample) float64) []float64 {
	byRound := map[int]float64{}
	for _, r := range ref {
		byRound[r.Round] = f(r)
	}
	var out []float64
	for _, s := range samples {
		if r, ok := byRound[s.Round]; ok && r > 0 && f(s) > 0 {
			out = append(out, f(s)/r)
		}
	}
	return out
}

// median of xs (the mean of the middle two for an even count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo = math.Min(lo, x)
		hi = math.Max(hi, x)
	}
	return lo, hi
}

// spread is (max-min)/median: how far the rounds disagree.
func spread(xs []float64) float64 {
	m := median(xs)
	if len(xs) < 2 || m == 0 {
		return 0
	}
	lo, hi := minMax(xs)
	return (hi - lo) / m
}

// geomean is the geometric mean of positive xs; 0 if there are none.
func geomean(xs []float64) float64 {
	var s float64
	n := 0
	for _, x := range xs {
		if x > 0 {
			s += math.Log(x)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return math.Exp(s / float64(n))
}
