#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A host with many processes (issue 17): the kernel memory of flamed's BPF maps (memlock of
# each map fd, as bpftool's bytes_memlock) and its RSS, in continuous mode on the whole system,
# with the machine as it is and then with N more processes (default 1000). Each extra process
# is a fresh small program that spins 40 ms, so that it is sampled and indexed, and then
# sleeps: what a host of idle services costs flamed once it has seen them all. The N processes
# run DISTINCT different binaries (default 100, each built with its own constant: its own
# build id, tables and symbols to index), process i the binary i % DISTINCT.
# Usage: [DISTINCT=100] bench/service/scale.sh [N] [SECS]   (root; needs $BUILD/flamed; SECS of
#        each phase, 20)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$PWD/$BUILD/flamed
N=${1:-1000}
SECS=${2:-20}
DISTINCT=${DISTINCT:-100}
T=$(mktemp -d /tmp/flamed-scale.XXXXXX)
FP=
cleanup() {
	[ -n "$FP" ] && kill "$FP" 2>/dev/null
	pkill -P $$ -f "$T/idler" 2>/dev/null || true
	[ -f "$T/pids" ] && xargs -r kill <"$T/pids" 2>/dev/null
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

cat >"$T/idler.c" <<'C'
#include <time.h>
#include <unistd.h>
static volatile unsigned long sink;
/* Distinct per binary: its code, and so its build id. */
__attribute__((noinline)) static unsigned long step(unsigned long v)
{
	return v * 6364136223846793005UL + SEED;
}
int main(void)
{
	struct timespec a, b;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	do {
		for (int i = 0; i < 100000; i++)
			sink = step(sink);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	} while ((b.tv_sec - a.tv_sec) * 1000000000L + b.tv_nsec - a.tv_nsec < 40000000L);
	pause();
	return 0;
}
C
for b in $(seq 0 $((DISTINCT - 1))); do
	cc -O2 -DSEED="$((b * 2 + 1))UL" -o "$T/idler$b" "$T/idler.c"
done

# map_kib PID: memlock of its map fds, in KiB; and its RSS in KiB.
map_kib() {
	local tot=0 fd m
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:bpf-map" ] || continue
		m=$(awk '/^memlock:/ {print $2}' /proc/"$1"/fdinfo/"${fd##*/}" 2>/dev/null || echo 0)
		tot=$((tot + ${m:-0}))
	done
	echo "$((tot / 1024)) $(awk '/^VmRSS:/ {print $2}' /proc/"$1"/status)"
}

"$FLAMED" -v --interval 5 --formats folded --output-dir "$T/out" 2>"$T/flamed.err" &
FP=$!
for _ in $(seq 200); do
	grep -q "profiling the whole system" "$T/flamed.err" 2>/dev/null && break
	sleep 0.1
done
sleep "$SECS"
read -r m0 r0 < <(map_kib "$FP")
p0=$(ls -d /proc/[0-9]* 2>/dev/null | wc -l)
echo "machine as it is ($p0 processes): maps ${m0} KiB, RSS ${r0} KiB"
for i in $(seq "$N"); do
	"$T/idler$((i % DISTINCT))" &
	echo $! >>"$T/pids"
	# A few at a time: every one gets CPU, and samples, before it sleeps.
	[ $((i % 20)) = 0 ] && sleep 0.5
done
sleep "$SECS"
read -r m1 r1 < <(map_kib "$FP")
p1=$(ls -d /proc/[0-9]* 2>/dev/null | wc -l)
echo "with $N more ($p1 processes, $DISTINCT distinct binaries): maps ${m1} KiB, RSS ${r1} KiB"
echo "per extra process: maps $(((m1 - m0) * 1024 / N)) bytes, RSS $(((r1 - r0) * 1024 / N)) bytes"
