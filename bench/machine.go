package bench

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// Machine describes where a run happened, for the report.
type Machine struct {
	CPU     string
	CPUs    int
	Kernel  string
	Go      string
	Nginx   string
	Gresty  string
	Wrk     string
	LoadAvg string
	Date    time.Time
}

// Describe reads the machine's description and the binaries' versions.
func Describe(o *Options) Machine {
	m := Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), Date: time.Now().UTC()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	m.Nginx = firstLine(versionOf(o.Nginx, "-v"), "nginx version: ")
	if o.Gresty != "" {
		m.Gresty = firstLine(versionOf(o.Gresty, "-v"), "nginx version: ")
	}
	m.Wrk = firstLine(versionOf(o.Wrk, "-v"), "")
	if i := strings.Index(m.Wrk, " Copyright"); i > 0 {
		m.Wrk = m.Wrk[:i]
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo's text.
func cpuModel(cpuinfo string) string {
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// versionOf runs bin with flag and returns what it printed; version
// flags print to stderr and some exit non-zero (wrk -v).
func versionOf(bin, flag string) string {
	out, _ := exec.Command(bin, flag).CombinedOutput()
	return string(out)
}

func firstLine(s, trim string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(strings.TrimPrefix(s, trim))
}
