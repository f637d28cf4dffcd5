#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The floor under any sampling profiler on this machine: how much a fixed CPU-bound workload
# (nofp -n N, about 2 s alone, no frame pointers) slows down when every CPU has a sampling
# perf event at HZ and nothing attached to it, against the same event with flamed's program
# (flamed -o x.folded -- W). Without a hardware PMU (a VM), the event is the cpu-clock software
# one, as flamed then uses. Interleaved rounds, medians of the wall time (root).
# Usage: bench/sample/event_floor.sh [ROUNDS [HZ]]   (needs build/flamed and make workloads)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=${FLAMED:-$BUILD/flamed}
ROUNDS=${1:-5}
HZ=${2:-999}
N=${N:-1539}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# bare HZ CMD...: CMD's wall seconds with a sampling event per CPU at HZ (0: none), no program.
cat >"$T/bare.c" <<'C'
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int hz = atoi(argv[1]), ncpu = sysconf(_SC_NPROCESSORS_ONLN), cpu, hw = 1;
	struct timespec t0, t1;

	for (cpu = 0; hz && cpu < ncpu; cpu++) {
		struct perf_event_attr a;
		int fd;

		memset(&a, 0, sizeof(a));
		a.size = sizeof(a);
		a.freq = 1;
		a.sample_freq = hz;
		a.type = hw ? PERF_TYPE_HARDWARE : PERF_TYPE_SOFTWARE;
		a.config = hw ? PERF_COUNT_HW_CPU_CYCLES : PERF_COUNT_SW_CPU_CLOCK;
		fd = syscall(SYS_perf_event_open, &a, -1, cpu, -1, 0);
		if (fd < 0 && hw) {
			hw = 0;
			cpu--;
			continue;
		}
		if (fd < 0) {
			perror("perf_event_open");
			return 1;
		}
	}
	if (hz)
		fprintf(stderr, "event: %s\n", hw ? "cycles" : "cpu-clock");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!fork()) {
		execv(argv[2], argv + 2);
		_exit(127);
	}
	wait(NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%.4f\n", t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return 0;
}
C
cc -O2 "$T/bare.c" -o "$T/bare"
W="$BUILD/workloads/nofp -n $N"
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
for i in $(seq "$ROUNDS"); do
	"$T/bare" 0 $W >>"$T/alone"
	"$T/bare" "$HZ" $W >>"$T/event" 2>"$T/event.err"
	s=$(date +%s.%N)
	"$FLAMED" -F "$HZ" -o "$T/x.folded" -- $W 2>/dev/null
	echo "$(date +%s.%N) - $s" | bc -l >>"$T/flamed"
done
a=$(median <"$T/alone")
e=$(median <"$T/event")
f=$(median <"$T/flamed")
echo "== W = nofp -n $N, $HZ Hz, $ROUNDS interleaved rounds, $(cat "$T/event.err")"
printf 'alone %.3f s, bare event %.3f s (x%.3f), flamed %.3f s (x%.3f) (medians)\n' \
	"$a" "$e" "$(echo "$e / $a" | bc -l)" "$f" "$(echo "$f / $a" | bc -l)"
