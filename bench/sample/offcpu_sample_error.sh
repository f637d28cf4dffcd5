#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The error of --offcpu-sample N (1 switch in N recorded, weighed N times), measured on the same
# run: two flamed instances profile the whole system at once, one recording every switch and one
# sampling 1 in N, while a workload runs; the sampled profile's off-CPU time of the workload is
# compared with the complete one's, in total and per stack (stacks with >= 5% of the workload's
# off-CPU time in the complete profile). Workloads:
#  - pingpong: a pipe ping-pong of TRIPS round trips (about 200,000 switches: the storm the
#    option is for);
#  - mixed: 4 threads of 20 ms burn_cpu / 60 ms sleep_wait for 4 s (about 200 long waits: few
#    events, the worst case for sampling).
# Prints per round the relative error of the total (signed) and the largest per-stack relative
# error, then their medians. Expect about 1/sqrt(recorded waits) for the total when the waits
# are alike; heavy-tailed waits (a busy machine's preemptions) make it larger.
# Usage: bench/sample/offcpu_sample_error.sh [ROUNDS [N]]   (root; needs $BUILD/flamed, make workloads)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$PWD/$BUILD/flamed
OC=$PWD/$BUILD/workloads/offcpu
ROUNDS=${1:-5}
N=${2:-10}
TRIPS=${TRIPS:-50000}
T=$(mktemp -d /tmp/flamed-offcpu-err.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill -INT "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "offcpu_sample_error: needs root" >&2; exit 1; }

median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
# attached FILE: the instance logging to FILE is profiling.
attached() { grep -q "profiling the whole system" "$1" 2>/dev/null; }
start() {
	local name=$1 end
	shift
	# shellcheck disable=SC2068 # the options, split on purpose
	"$FLAMED" --mode offcpu $@ -v -o "$T/$name.folded" 2>"$T/$name.err" &
	PIDS+=($!)
	end=$((SECONDS + 60))
	until attached "$T/$name.err"; do
		[ $SECONDS -lt $end ] || { echo "flamed did not start:"; cat "$T/$name.err"; exit 1; }
		sleep 0.1
	done
}
stop_all() {
	local p
	for p in "${PIDS[@]}"; do kill -INT "$p"; done
	for p in "${PIDS[@]}"; do wait "$p" || true; done
	PIDS=()
}
# compare FULL SAMPLED: "total-error max-stack-error" of the offcpu process's stacks, in %: the
# total's signed (a bias shows as one sign in every round), the stacks' absolute.
compare() {
	awk '
		FNR == 1 { f++ }
		index($0, "offcpu;") == 1 {
			n = $NF
			s = substr($0, 1, length($0) - length(n) - 1)
			v[f, s] += n
			t[f] += n
			keys[s] = 1
		}
		END {
			if (t[1] == 0) { print "nan nan"; exit }
			worst = 0
			for (s in keys)
				if (v[1, s] >= 0.05 * t[1]) {
					e = v[2, s] / v[1, s] - 1
					if (e < 0) e = -e
					if (e > worst) worst = e
				}
			e = t[2] / t[1] - 1
			printf "%.2f %.2f\n", 100 * e, 100 * worst
		}' "$1" "$2"
}

for wl in pingpong mixed; do
	: >"$T/$wl.tot"
	: >"$T/$wl.max"
	for r in $(seq 1 "$ROUNDS"); do
		start full
		start sampled --offcpu-sample "$N"
		if [ "$wl" = pingpong ]; then "$OC" pingpong "$TRIPS" >/dev/null; else "$OC" mixed 4 4 >/dev/null; fi
		stop_all
		read -r tot worst < <(compare "$T/full.folded" "$T/sampled.folded")
		echo "$wl round $r: sampled total off-CPU time $tot% off the complete one, largest stack off by $worst%"
		echo "$tot" >>"$T/$wl.tot"
		echo "$worst" >>"$T/$wl.max"
	done
	echo "$wl, --offcpu-sample $N, medians of $ROUNDS: total $(median <"$T/$wl.tot")% (signed)," \
		"largest per-stack error $(median <"$T/$wl.max")%"
done
