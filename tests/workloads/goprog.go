// SPDX-License-Identifier: GPL-2.0-only
// A Go program with a known call chain, built stripped by tests/e2e/test_gostripped.sh:
// main.main -> main.midWork -> main.leafWork, whose hot loop runs main.mix inlined. leafWork is
// a frameless leaf: frame pointers alone would skip midWork, the unwind rows flamed makes from
// the binary's .gopclntab (its stack-pointer deltas) find it. With a
// second argument N > 1, N-1 goroutines run main.worker -> main.midWork -> main.leafWork too, on
// as many threads (GOMAXPROCS N).
// Usage: goprog [SECS [N]]: until the process has used SECS x N seconds of CPU time (not wall
// time: a busy machine that gives it a small share still gets SECS x rate samples per thread).
package main

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

var sink uint64

// cpuSeconds is the process's user and system time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 1e9
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// mix is small enough for the compiler to inline into leafWork's loop.
func mix(x uint64) uint64 {
	return x*6364136223846793005 + 1442695040888963407
}

//go:noinline
func leafWork(n int) uint64 {
	x := uint64(n) + 1
	for i := 0; i < 2000000; i++ {
		x = mix(x)
		x ^= x >> 17
	}
	return x
}

//go:noinline
func midWork(n int) uint64 {
	return leafWork(n) + 1
}

//go:noinline
func worker(n int, budget float64, wg *sync.WaitGroup) {
	defer wg.Done()
	var s uint64
	for cpuSeconds() < budget {
		s += midWork(n)
	}
	sink += s
}

func main() {
	secs := 5.0
	n := 1
	if len(os.Args) > 1 {
		secs, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	if len(os.Args) > 2 {
		n, _ = strconv.Atoi(os.Args[2])
	}
	if n < 1 {
		n = 1
	}
	runtime.GOMAXPROCS(n)
	budget := secs * float64(n)
	var wg sync.WaitGroup
	for w := 1; w < n; w++ {
		wg.Add(1)
		go worker(w, budget, &wg)
	}
	var s uint64
	for cpuSeconds() < budget {
		s += midWork(0)
	}
	wg.Wait()
	sink += s
}
