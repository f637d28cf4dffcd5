#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# User-space cost of naming Python frames: one process calling N distinct functions in turn
# (tests/workloads/pymany.py, 10,000 by default) profiled at a high rate until nearly every
# function was sampled; flamed's own account at exit (-v: code objects read from the process,
# microseconds each, and the bytes its name cache holds) and its peak RSS against the same run
# of a process with one function. Medians over ROUNDS.
# Usage: [ROUNDS=3] [N=10000] [PYTHON=/usr/bin/python3] [RATE=4999] bench/runtime/python_names.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$BUILD/flamed
SECS=${1:-20}
ROUNDS=${ROUNDS:-3}
N=${N:-10000}
RATE=${RATE:-4999}
PYTHON=${PYTHON:-/usr/bin/python3}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# run FUNCS: "read us_each held_kib names rss_kib" of one profiled run.
run() {
	"$PYTHON" tests/workloads/pymany.py "$1" "$SECS" &
	local p=$! line
	/usr/bin/time -f '%M' -o "$T/rss" "$FLAMED" -v -F "$RATE" -p "$p" -o "$T/out.folded" \
		2>"$T/err" || { cat "$T/err" >&2; exit 1; }
	wait "$p" || true
	line=$(grep 'code objects read from processes' "$T/err") ||
		{ echo "no -v account from flamed" >&2; exit 1; }
	echo "$line" | sed -E 's/.* ([0-9]+) code objects read[^,]*, ([0-9.]+) us each; at most ([0-9]+) names held in ([0-9]+) KiB.*/\1 \2 \4 \3/' |
		tr '\n' ' '
	cat "$T/rss"
}

printf "%-5s %-6s %8s %8s %9s %9s %9s\n" round funcs read us/each names cache_KiB rss_KiB
for round in $(seq "$ROUNDS"); do
	for funcs in 1 "$N"; do
		read -r nread us kib names rss < <(run "$funcs")
		printf "%-5s %-6s %8s %8s %9s %9s %9s\n" "$round" "$funcs" "$nread" "$us" "$names" \
			"$kib" "$rss" | tee -a "$T/results"
	done
done
echo
python3 - "$T/results" "$N" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    f = line.split()
    r.setdefault(f[1], []).append([float(x) for x in f[2:]])
med = lambda k, i: statistics.median(v[i] for v in r[k])
n = sys.argv[2]
print(f"{n} functions: {med(n, 0):.0f} code objects read, {med(n, 1):.1f} us each "
      f"(1 function: {med('1', 1):.1f} us); cache {med(n, 3):.0f} KiB for {med(n, 2):.0f} names "
      f"({med(n, 3) * 1024 / max(med(n, 2), 1):.0f} B each); peak RSS {med(n, 4) / 1024:.1f} MiB "
      f"vs {med('1', 4) / 1024:.1f} MiB with one function (+{(med(n, 4) - med('1', 4)) / 1024:.1f} MiB)")
PY
