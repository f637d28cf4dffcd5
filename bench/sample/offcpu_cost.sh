#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Cost of off-CPU profiling, in one run (root):
#  - slowdown of a switch storm, a pipe ping-pong between two processes (offcpu pingpong N: a
#    fixed number of round trips, 4 switches each), and of fixed CPU-bound work (chain -n WORK),
#    under flamed system-wide (-v, every switch of every thread recorded) with --mode offcpu,
#    --mode wall (99 Hz) and --mode offcpu --offcpu-sample 10, against no profiler: each round
#    runs the workload unprofiled and then under each mode, so the ratios are of paired runs;
#    medians of the rounds;
#  - BPF ns per switch event: the kernel's own bpf_stats (run_time_ns / run_cnt of on_switch,
#    kernel.bpf_stats_enabled=1) over the ping-pong runs of each mode.
# Usage: bench/sample/offcpu_cost.sh [ROUNDS]   (needs $BUILD/flamed and make workloads)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$PWD/$BUILD/flamed
OC=$PWD/$BUILD/workloads/offcpu
CHAIN=$PWD/$BUILD/workloads/chain
ROUNDS=${1:-5}
TRIPS=${TRIPS:-100000}
WORK=${WORK:-8000}
T=$(mktemp -d /tmp/flamed-offcpu-cost.XXXXXX)
FP=
cleanup() {
	[ -n "$FP" ] && kill -INT "$FP" 2>/dev/null && wait "$FP" 2>/dev/null
	sysctl -q kernel.bpf_stats_enabled=0
	rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "offcpu_cost: needs root" >&2; exit 1; }

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# secs CMD...: wall seconds CMD took.
secs() {
	local s e
	s=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	e=$(date +%s.%N)
	echo "$e - $s" | bc -l
}
# start MODE-ARGS...: flamed system-wide in the background, once it is attached.
start() {
	# shellcheck disable=SC2068 # the mode's options, split on purpose
	"$FLAMED" $@ -v -o "$T/p.folded" 2>"$T/flamed.err" &
	FP=$!
	local end=$((SECONDS + 60))
	until grep -q 'profiling the whole system' "$T/flamed.err"; do
		if ! kill -0 "$FP" 2>/dev/null || [ $SECONDS -ge $end ]; then
			echo "offcpu_cost: flamed did not start:"
			cat "$T/flamed.err"
			exit 1
		fi
		sleep 0.1
	done
}
stop() {
	kill -INT "$FP"
	wait "$FP" || true
	FP=
}
# on_switch_stats: "run_time_ns run_cnt" of the on_switch program now.
on_switch_stats() {
	bpftool prog show name on_switch -j 2>/dev/null | python3 -c '
import json, sys
d = json.load(sys.stdin)
d = d if isinstance(d, list) else [d]
print(sum(p.get("run_time_ns", 0) for p in d), sum(p.get("run_cnt", 0) for p in d))'
}

MODES=("offcpu" "wall" "offcpu-s10")
args() {
	case $1 in
	offcpu) echo "--mode offcpu" ;;
	wall) echo "--mode wall -F 99" ;;
	offcpu-s10) echo "--mode offcpu --offcpu-sample 10" ;;
	esac
}
sysctl -q kernel.bpf_stats_enabled=1
echo "== $ROUNDS rounds: 'offcpu pingpong $TRIPS' and 'chain -n $WORK', unprofiled then under" \
	"each mode (system-wide), interleaved; load $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq "$ROUNDS"); do
	pb=$(secs "$OC" pingpong "$TRIPS")
	cb=$(secs "$CHAIN" -n "$WORK")
	for m in "${MODES[@]}"; do
		# shellcheck disable=SC2046 # the mode's options
		start $(args "$m")
		read -r ns0 cnt0 < <(on_switch_stats)
		pp=$(secs "$OC" pingpong "$TRIPS")
		read -r ns1 cnt1 < <(on_switch_stats)
		cp=$(secs "$CHAIN" -n "$WORK")
		stop
		echo "$pp $pb" | awk '{ print $1 / $2 }' >>"$T/ping.$m"
		echo "$cp $cb" | awk '{ print $1 / $2 }' >>"$T/chain.$m"
		echo "$ns0 $cnt0 $ns1 $cnt1" | awk '$4 > $2 { print ($3 - $1) / ($4 - $2) }' >>"$T/ns.$m"
		echo "$ns0 $cnt0 $ns1 $cnt1 $pp" | awk '{ print ($4 - $2) / $5 }' >>"$T/rate.$m"
	done
	echo "$pb" >>"$T/ping.base"
	echo "$cb" >>"$T/chain.base"
	echo "   round $r: ping-pong ${pb}s unprofiled, chain ${cb}s unprofiled"
done
printf "unprofiled medians: ping-pong %.3f s (%.0f round trips/s), chain %.3f s\n" \
	"$(median <"$T/ping.base")" "$(echo "$TRIPS / $(median <"$T/ping.base")" | bc -l)" \
	"$(median <"$T/chain.base")"
printf "%-12s %18s %16s %16s %20s\n" mode "ping-pong slowdown" "chain slowdown" "BPF ns/switch" \
	"switches/s (ping)"
for m in "${MODES[@]}"; do
	printf "%-12s %17.1f%% %15.1f%% %16.0f %20.0f\n" "$m" \
		"$(echo "($(median <"$T/ping.$m") - 1) * 100" | bc -l)" \
		"$(echo "($(median <"$T/chain.$m") - 1) * 100" | bc -l)" \
		"$(median <"$T/ns.$m")" "$(median <"$T/rate.$m")"
done
