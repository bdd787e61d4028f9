package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// Profiles for the benchmarks (bench/peers.sh PROFILE=dir): with
// OSSIMPORT_CPUPROFILE set, the whole process's CPU profile is written to
// that file; with OSSIMPORT_MEMPROFILE, the allocation profile at exit.
// Both work for every verb (run, service), without a flag in the verbs'
// help.
const (
	cpuProfileEnv = "OSSIMPORT_CPUPROFILE"
	memProfileEnv = "OSSIMPORT_MEMPROFILE"
)

// profile starts what the environment asks for and returns the function
// that finishes it; problems go to stderr and do not stop the command.
func profile(stderr io.Writer) func() {
	var stops []func()
	if path := os.Getenv(cpuProfileEnv); path != "" {
		if f, err := os.Create(path); err != nil {
			_, _ = fmt.Fprintf(stderr, "ossimport: cpu profile: %v\n", err)
		} else if err := pprof.StartCPUProfile(f); err != nil {
			_, _ = fmt.Fprintf(stderr, "ossimport: cpu profile: %v\n", err)
			_ = f.Close()
		} else {
			stops = append(stops, func() { pprof.StopCPUProfile(); _ = f.Close() })
		}
	}
	if path := os.Getenv(memProfileEnv); path != "" {
		runtime.MemProfileRate = 64 << 10
		stops = append(stops, func() {
			f, err := os.Create(path)
			if err == nil {
				err = pprof.Lookup("allocs").WriteTo(f, 0)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				_, _ = fmt.Fprintf(stderr, "ossimport: memory profile: %v\n", err)
			}
		})
	}
	return func() {
		for _, stop := range stops {
			stop()
		}
	}
}
