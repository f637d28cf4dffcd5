#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The end of a one-shot run (issue 17): how long `flamed -F 999 -o x.svg -- W` runs after W
# exits (the last drain, symbolization, rendering, teardown), and where flamed's own CPU goes,
# measured by a second flamed profiling the first at 2,999 Hz: samples under write_profile
# (after W's exit) against those under on_drain and on_warm (while W runs). W = nofp -n N,
# about S seconds of CPU-bound work without frame pointers. Medians of ROUNDS; with OLD=path/to/flamed each
# round runs the old build too, alternating, on the same W.
# Usage: bench/sample/tail.sh [ROUNDS] [S]   (root; needs build/flamed and make workloads)
set -eu
cd "$(dirname "$0")/../.."
FLAMED=${FLAMED:-${BUILD:-build}/flamed}
PROFILER=${PROFILER:-$FLAMED}
NOFP=$(pwd)/${BUILD:-build}/workloads/nofp
ROUNDS=${1:-5}
S=${2:-2}
T=$(mktemp -d /tmp/flamed-tail.XXXXXX)
trap 'rm -rf "$T"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

t0=$(date +%s%N)
"$NOFP" -n 200 >/dev/null
N=$((200 * S * 1000000000 / ($(date +%s%N) - t0)))
builds=(new)
[ -n "${OLD:-}" ] && builds=(old new)
for i in $(seq "$ROUNDS"); do
	for b in "${builds[@]}"; do
		bin=$FLAMED
		[ "$b" = old ] && bin=$OLD
		# The wall time from W's exit to flamed's.
		"$bin" -F 999 -o "$T/x.svg" -- sh -c "'$NOFP' -n $N >/dev/null; date +%s%N >'$T/end'" \
			2>/dev/null
		echo "$(($(date +%s%N) - $(cat "$T/end")))" >>"$T/tail.$b"
		# flamed's CPU by phase, from a profile of it (the process named after its binary).
		"$PROFILER" -F 2999 -o "$T/self.folded" -- "$bin" -F 999 -o "$T/y.svg" -- "$NOFP" -n "$N" \
			>/dev/null 2>&1
		comm=$(basename "$bin" | cut -c1-15)
		awk -v c="$comm;" 'index($0, c) == 1 {
			n = $NF; all += n
			if ($0 ~ /;write_profile(_\[i\])?;/) end += n
			if ($0 ~ /;on_(drain|warm)(_\[i\])?;/) run += n
		} END { printf "%d %d %d\n", all, end, run }' "$T/self.folded" >>"$T/cpu.$b"
	done
done
for b in "${builds[@]}"; do
	printf "%s: after W's exit %.0f ms (median of %d); flamed's CPU samples at 2999 Hz: all %s, after W's exit %s, in the drains while W ran %s\n" \
		"$b" "$(median <"$T/tail.$b" | awk '{print $1 / 1e6}')" "$ROUNDS" \
		"$(cut -d' ' -f1 "$T/cpu.$b" | median)" "$(cut -d' ' -f2 "$T/cpu.$b" | median)" \
		"$(cut -d' ' -f3 "$T/cpu.$b" | median)"
done
