package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// cpuProfileEnv names a file that receives a CPU profile of the serving
// process from start to exit. It is for benchmarking gresty under load
// (the benchmark driver sets it), off unless set.
const cpuProfileEnv = "GRESTY_CPUPROFILE"

// startCPUProfile starts the profile cpuProfileEnv asks for and returns
// the function that writes it out; without the variable it does nothing.
func startCPUProfile() (stop func(), err error) {
	path := os.Getenv(cpuProfileEnv)
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", cpuProfileEnv, err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", cpuProfileEnv, err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
