#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Continuous mode over time (root; needs build/flamed and build/workloads: make workloads).
#
#   bench/service/soak.sh [MINUTES]      --interval 1 for MINUTES (default 10) while processes start and
#                                exit all the time (short CPU bursts, shells, python, and fresh
#                                copies of a binary so every run is a new file to symbolize).
#                                Reports flamed's RSS and its CPU time per window, minute by
#                                minute: both must stay flat after the warm-up. Every fresh
#                                binary is a file the symbol cache keeps until its cap, so the
#                                cap is lowered (SOAK_OPTS, default --symbol-cache-mb 64) to
#                                reach the plateau within the run.
#   bench/service/soak.sh cost [SECS]    steady-state cost (default 60 s each, --interval 10):
#                                flamed's own CPU time as a fraction of one CPU, idle-ish and with
#                                every CPU busy, plus the BPF program's time per sample; at each
#                                rate of RATES (default "19 99 999" Hz), one daemon per rate.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$PWD/$BUILD/flamed
CHAIN=$PWD/$BUILD/workloads/chain
T=$(mktemp -d /tmp/flamed-soak.XXXXXX)
CLK=$(getconf CLK_TCK)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	sysctl -q kernel.bpf_stats_enabled=0 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

# cpu_ticks PID: utime + stime of the process, in clock ticks.
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# VmRSS, and its anonymous part: the rest is mostly the BPF unwind-row map, mapped into flamed
# (--unwind-max-mb, 256 MiB by default) and fixed in size.
rss_kb() { awk '/^VmRSS/ { r = $2 } /^RssAnon/ { a = $2 } END { print r, a }' "/proc/$1/status"; }
# Processes created on the whole machine since boot.
forks() { awk '/^processes/ { print $2 }' /proc/stat; }

start_flamed() {
	"$FLAMED" "$@" 2>"$T/flamed.err" &
	FP=$!
	PIDS+=("$FP")
	for _ in $(seq 100); do
		grep -q "profiling the whole system" "$T/flamed.err" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "flamed did not start:" >&2
	cat "$T/flamed.err" >&2
	exit 1
}

# Processes that start and exit all the time, about 30 a second.
churn() {
	local i=0
	mkdir -p "$T/bin"
	while :; do
		i=$((i + 1))
		"$CHAIN" 0.05 &
		/bin/true
		sh -c 'x=0; while [ $x -lt 200 ]; do x=$((x+1)); done'
		if [ $((i % 5)) = 0 ]; then
			python3 -c 'sum(i * i for i in range(200000))' &
		fi
		# A new file every time: the symbolizer meets binaries it has never seen.
		cp "$CHAIN" "$T/bin/chain-$i"
		"$T/bin/chain-$i" 0.03
		rm -f "$T/bin/chain-$i"
		wait
	done
}

soak() {
	local minutes=${1:-10} t0 c0 prev_c prev_w prev_f
	# shellcheck disable=SC2086
	start_flamed -v --interval 1 --keep 30 --formats svg,folded --output-dir "$T/out" \
		${SOAK_OPTS---symbol-cache-mb 64}
	churn &
	PIDS+=($!)
	echo "soak: flamed --interval 1 ${SOAK_OPTS---symbol-cache-mb 64} for $minutes min," \
		"processes churning (pid $FP)"
	echo "minute  rss_kb  anon_kb  cpu_ms_per_window  windows  forks_per_s"
	t0=$(date +%s)
	c0=$(cpu_ticks "$FP")
	prev_c=$c0
	prev_w=0
	prev_f=$(forks)
	for m in $(seq "$minutes"); do
		sleep $((t0 + m * 60 - $(date +%s)))
		local c w rss anon f
		c=$(cpu_ticks "$FP")
		read -r rss anon < <(rss_kb "$FP")
		w=$(grep -c ' samples\?, wrote ' "$T/flamed.err" || true)
		f=$(forks)
		printf "%6d  %6d  %7d  %17.1f  %7d  %11d\n" "$m" "$rss" "$anon" \
			"$(echo "($c - $prev_c) * 1000 / $CLK / ($w - $prev_w)" | bc -l)" \
			"$w" "$(((f - prev_f) / 60))" | tee -a "$T/soak.tsv"
		grep 'caches:' "$T/flamed.err" | tail -n 1 | sed 's/^flamed: /        /' 
		prev_c=$c
		prev_w=$w
		prev_f=$f
	done
	kill -TERM "$FP"
	wait "$FP" || echo "flamed exited with $?"
	awk 'NR >= 2 { if (!min || $2 < min) min = $2; if ($2 > max) max = $2
			if (!amin || $3 < amin) amin = $3; if ($3 > amax) amax = $3 }
		NR == 2 { c2 = $4 } { cl = $4 }
		END { printf "RSS after warm-up (minutes 2-%d): %d to %d KiB (%+d KiB), anonymous %d to %d KiB; CPU per window: minute 2 %.1f ms, minute %d %.1f ms\n",
			NR, min, max, max - min, amin, amax, c2, NR, cl }' "$T/soak.tsv"
	echo "warnings/errors in the log: $(grep -c 'warning\|error' "$T/flamed.err" || true)"
	grep 'warning\|error' "$T/flamed.err" | sort | uniq -c | sort -rn | head -5 || true
}

# measure SECS: flamed's CPU over SECS as a fraction of one CPU, and BPF ns per sample.
measure() {
	local secs=$1 c0 c1 r0 r1 n0 n1
	c0=$(cpu_ticks "$FP")
	read -r r0 n0 < <(bpf_stats "$FP")
	sleep "$secs"
	c1=$(cpu_ticks "$FP")
	read -r r1 n1 < <(bpf_stats "$FP")
	python3 - "$c0" "$c1" "$CLK" "$secs" "$r0" "$r1" "$n0" "$n1" <<'PY'
import sys
c0, c1, clk, secs, r0, r1, n0, n1 = map(float, sys.argv[1:])
cpu = (c1 - c0) / clk
runs = n1 - n0
print(f"  flamed: {cpu:.2f} s CPU in {secs:.0f} s = {100 * cpu / secs:.2f}% of one CPU;"
      f" BPF: {runs / secs:.0f} samples/s, {(r1 - r0) / runs if runs else 0:.0f} ns each"
      f" = {100 * (r1 - r0) / 1e9 / secs:.3f}% of one CPU")
PY
}
# bpf_stats PID: run time and count of that flamed's sampling program (others may run), read
# from the fdinfo of its BPF program fds (perf_event programs are type 7).
bpf_stats() {
	python3 - "$1" <<'PY'
import glob, sys
r = c = 0
for f in glob.glob(f"/proc/{sys.argv[1]}/fdinfo/*"):
    try:
        kv = dict(l.split(":", 1) for l in open(f) if ":" in l)
    except OSError:
        continue
    if kv.get("prog_type", "").strip() == "7":
        r += int(kv.get("run_time_ns", 0))
        c += int(kv.get("run_cnt", 0))
print(r, c)
PY
}

cost() {
	local secs=${1:-60} n i hz busy
	n=$(nproc)
	sysctl -q kernel.bpf_stats_enabled=1
	for hz in ${RATES:-19 99 999}; do
		start_flamed -F "$hz" --interval 10 --formats svg --output-dir "$T/cost-$hz"
		sleep 12
		echo "== $hz Hz, idle-ish (this machine's background only), $secs s, --interval 10"
		measure "$secs"
		echo "== $hz Hz, $n CPU-bound processes (every CPU busy), $secs s, --interval 10"
		busy=()
		for i in $(seq "$n"); do
			"$CHAIN" $((secs + 5)) &
			busy+=($!)
			PIDS+=($!)
		done
		sleep 2
		measure "$secs"
		kill "${busy[@]}" 2>/dev/null || true
		kill -TERM "$FP"
		wait "$FP" || true
	done
}

case "${1:-}" in
cost) cost "${2:-60}" ;;
*) soak "${1:-10}" ;;
esac
