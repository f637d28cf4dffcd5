// SPDX-License-Identifier: GPL-2.0-only
// cgo both ways, built stripped by tests/e2e/test_gostripped.sh: main.callC calls the C
// function c_work, which spins in c_spin and calls back into Go (main.goLeaf, exported).
// Usage: gocgo [SECS]: SECS of the process's CPU time, not wall time, so a busy machine that
// gives it a small share of a CPU still gets a profile of SECS x rate samples.
package main

/*
#include <stdint.h>
extern uint64_t goLeaf(uint64_t);
static __attribute__((noinline)) uint64_t c_spin(uint64_t x)
{
	for (int i = 0; i < 20000000; i++)
		x = x * 6364136223846793005ULL + 1;
	return x;
}
static __attribute__((noinline)) uint64_t c_work(uint64_t x)
{
	return c_spin(x) + goLeaf(x);
}
*/
import "C"

import (
	"os"
	"strconv"
	"syscall"
)

//export goLeaf
func goLeaf(x C.uint64_t) C.uint64_t {
	v := uint64(x)
	for i := 0; i < 20000000; i++ {
		v = v*2862933555777941757 + 3037000493
	}
	return C.uint64_t(v)
}

//go:noinline
func callC(n uint64) uint64 {
	return uint64(C.c_work(C.uint64_t(n)))
}

var sink uint64

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 1e9
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func main() {
	secs := 5.0
	if len(os.Args) > 1 {
		secs, _ = strconv.ParseFloat(os.Args[1], 64)
	}
	for cpuSeconds() < secs {
		sink += callC(sink)
	}
}
