#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Overhead of profiling, measured side by side in one run (root):
#  - BPF cost per sample, from the kernel's own bpf_stats (run_time_ns / run_cnt of do_sample)
#  - flamed's own CPU time per second of profiling, and its peak RSS, at 99 and 999 Hz
#  - slowdown of a fixed amount of CPU-bound work, unprofiled vs profiled at 999 Hz
# Usage: bench/sample/overhead.sh [ROUNDS]   (needs build/flamed and build/workloads: make workloads)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$BUILD/flamed
CHAIN=$BUILD/workloads/chain
ROUNDS=${1:-5}
WORK=${WORK:-15000}
T=$(mktemp -d)
trap 'rm -rf "$T"; sysctl -q kernel.bpf_stats_enabled=0' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; }

echo "== slowdown of 'chain -n $WORK' (fixed work), $ROUNDS rounds, interleaved"
for i in $(seq "$ROUNDS"); do
	secs "$CHAIN" -n "$WORK" >>"$T/base"
	"$FLAMED" -F 999 -o "$T/p.folded" 2>/dev/null &
	fp=$!
	sleep 0.5
	secs "$CHAIN" -n "$WORK" >>"$T/prof"
	kill -INT $fp
	wait $fp
done
b=$(median <"$T/base")
p=$(median <"$T/prof")
printf "unprofiled median %.3f s, profiled (999 Hz, system-wide) median %.3f s, slowdown %.2f%%\n" \
	"$b" "$p" "$(echo "($p / $b - 1) * 100" | bc -l)"

sysctl -q kernel.bpf_stats_enabled=1
for hz in 99 999; do
	echo "== $hz Hz, system-wide, 2 busy CPUs, 10 s"
	"$CHAIN" 12 & w1=$!
	"$CHAIN" 12 & w2=$!
	/usr/bin/time -f "%U %S %M" -o "$T/time" "$FLAMED" -F "$hz" -d 10 -o "$T/o.folded" 2>"$T/err" &
	fp=$!
	sleep 9.5
	bpftool prog show name do_sample -j >"$T/prog.json" 2>/dev/null || true
	wait $fp
	kill $w1 $w2 2>/dev/null; wait $w1 $w2 2>/dev/null || true
	read -r u s rss <"$T/time"
	python3 - "$T/prog.json" "$u" "$s" "$rss" <<'PY'
import json, sys
progs = json.load(open(sys.argv[1]))
if isinstance(progs, dict):
    progs = [progs]
ns = sum(p.get("run_time_ns", 0) for p in progs)
cnt = sum(p.get("run_cnt", 0) for p in progs)
u, s, rss = float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"BPF: {cnt} runs, {ns / cnt if cnt else 0:.0f} ns per sample")
print(f"flamed CPU: {u + s:.3f} s over 10 s = {(u + s) / 10 * 100:.2f}% of one CPU; peak RSS {rss / 1024:.1f} MiB")
PY
	tail -n 1 "$T/err"
done
