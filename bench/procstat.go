package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of the tick counts in /proc/*/stat and /proc/stat:
// the kernel reports them in USER_HZ, which is 100 on every architecture
// Go runs Linux on.
const userHZ = 100

func ticks(n int64) time.Duration { return time.Duration(n) * time.Second / userHZ }

// procSnap is one reading of a process's CPU time.
type procSnap struct {
	// utime and stime are the whole process's user and system ticks, dead
	// threads included.
	utime, stime int64
	// threads are each live thread's schedstat counters, a finer reading
	// than ticks.
	threads map[int]schedTimes
}

// schedTimes are a thread's time on a CPU and time spent runnable but
// waiting for one, in nanoseconds.
type schedTimes struct {
	run, wait int64
}

// readProc reads the CPU time of process pid.
func readProc(pid int) (procSnap, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procSnap{}, err
	}
	u, st, err := parseProcStat(stat)
	if err != nil {
		return procSnap{}, fmt.Errorf("/proc/%d/stat: %v", pid, err)
	}
	snap := procSnap{utime: u, stime: st, threads: map[int]schedTimes{}}
	dirs, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, d := range dirs {
		tid, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err != nil {
			continue
		}
		b, err := os.ReadFile(d)
		if err != nil {
			continue // the thread exited meanwhile
		}
		if st, err := parseSchedstat(b); err == nil {
			snap.threads[tid] = st
		}
	}
	return snap, nil
}

// parseProcStat returns utime and stime from the text of /proc/PID/stat.
// The command name in parentheses may hold spaces, so fields are counted
// after its closing parenthesis.
func parseProcStat(b []byte) (utime, stime int64, err error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("no command field")
	}
	f := strings.Fields(string(b[i+1:]))
	// after the command: state is field 3, utime 14 and stime 15.
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("%d fields", len(f)+2)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad utime or stime %q %q", f[11], f[12])
	}
	return u, s, nil
}

// parseSchedstat reads a schedstat file: time on the CPU, time waiting on
// a run queue (both in nanoseconds), and the number of time slices.
func parseSchedstat(b []byte) (schedTimes, error) {
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return schedTimes{}, fmt.Errorf("short schedstat %q", b)
	}
	run, err1 := strconv.ParseInt(f[0], 10, 64)
	wait, err2 := strconv.ParseInt(f[1], 10, 64)
	if err1 != nil || err2 != nil {
		return schedTimes{}, fmt.Errorf("bad schedstat %q", b)
	}
	return schedTimes{run: run, wait: wait}, nil
}

// between returns the CPU time the process used between two readings,
// and how long its busiest thread (the event loop) waited for the CPU
// while runnable. The CPU time adds up the threads' nanosecond counters
// when every thread of the first reading is still there (a thread born in
// between counts whole); if one exited, its time is only in the tick
// counts, which are used then. The wait is the busiest thread's only: a
// Go runtime's helper threads queue behind the loop thread on the one CPU,
// which is the server's own doing, not a disturbance.
func between(a, b procSnap) (cpu, wait time.Duration) {
	var run, busiest int64
	complete := len(a.threads) > 0
	for tid, x := range b.threads {
		// a thread born in between has a zero first reading.
		y := a.threads[tid]
		d := x.run - y.run
		run += d
		if d > busiest {
			busiest = d
			wait = time.Duration(x.wait - y.wait)
		}
	}
	for tid := range a.threads {
		if _, live := b.threads[tid]; !live {
			complete = false
		}
	}
	if complete {
		return time.Duration(run), wait
	}
	return ticks(b.utime + b.stime - a.utime - a.stime), wait
}

// splitUser divides cpu, the process's CPU time between two readings, into
// the time it ran its own code and the time the kernel ran for it, in the
// proportion of the tick counts (the per-thread counters do not split).
// With no tick in between, both are zero: the run was too short to tell.
func splitUser(a, b procSnap, cpu time.Duration) (user, sys time.Duration) {
	u, s := b.utime-a.utime, b.stime-a.stime
	if u < 0 || s < 0 || u+s == 0 {
		return 0, 0
	}
	user = time.Duration(float64(cpu) * float64(u) / float64(u+s))
	return user, cpu - user
}

// cpuTimes is one CPU's line of /proc/stat.
type cpuTimes struct {
	busy  int64 // user, nice and system: time some task ran
	irq   int64 // irq and softirq
	idle  int64 // idle and iowait
	steal int64 // taken by the hypervisor
}

// readCPU reads CPU n's counters from /proc/stat.
func readCPU(n int) (cpuTimes, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTimes{}, err
	}
	return parseCPUStat(b, n)
}

// parseCPUStat finds the "cpuN" line of /proc/stat's text.
func parseCPUStat(b []byte, n int) (cpuTimes, error) {
	name := "cpu" + strconv.Itoa(n)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != name {
			continue
		}
		if len(f) < 9 {
			return cpuTimes{}, fmt.Errorf("/proc/stat: short %s line", name)
		}
		v := make([]int64, 8)
		for i := range v {
			x, err := strconv.ParseInt(f[i+1], 10, 64)
			if err != nil {
				return cpuTimes{}, fmt.Errorf("/proc/stat: %s: %v", name, err)
			}
			v[i] = x
		}
		// user nice system idle iowait irq softirq steal
		return cpuTimes{busy: v[0] + v[1] + v[2], idle: v[3] + v[4], irq: v[5] + v[6], steal: v[7]}, nil
	}
	return cpuTimes{}, fmt.Errorf("/proc/stat: no %s line", name)
}

// sub returns the counters' growth from a to c.
func (c cpuTimes) sub(a cpuTimes) cpuTimes {
	return cpuTimes{busy: c.busy - a.busy, irq: c.irq - a.irq, idle: c.idle - a.idle, steal: c.steal - a.steal}
}
