#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every libFuzzer target (make fuzz) for SECS seconds each, JOBS at a time, starting from
# the saved corpus. New inputs go to a scratch corpus ($OUT/<target>/), never into git; a crash
# leaves its input in $OUT/<target>/crash-* and is listed at the end. Prints per target the
# executions, executions per second and coverage (libFuzzer's cov: and ft: figures).
# Usage: bash tests/fuzz/run.sh [SECS [TARGET...]]   (env: BUILD, JOBS=2, OUT=$BUILD/fuzz-out)
# To keep what the fuzzer found (small): merge into the saved corpus by hand:
#   $BUILD/fuzz/fuzz_X -merge=1 tests/fuzz/corpus/fuzz_X $OUT/fuzz_X
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECS=${1:-60}
shift || true
JOBS=${JOBS:-2}
OUT=${OUT:-$BUILD/fuzz-out}
targets=("$@")
if [ ${#targets[@]} = 0 ]; then
	for f in tests/fuzz/*/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
make -s BUILD="$BUILD" ${LIB_SRCS:+LIB_SRCS="$LIB_SRCS"} fuzz || exit 1

run_one() {
	local t=$1 dir="$OUT/$1"
	mkdir -p "$dir/new"
	# -rss_limit_mb and -malloc_limit_mb: a parser that lets a small input take gigabytes is a
	# finding too (flamed runs on production hosts). -timeout: a hang is one.
	"$BUILD/fuzz/$t" "$dir/new" "tests/fuzz/corpus/$t" -max_total_time="$SECS" \
		-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=10 -max_len=65536 \
		-artifact_prefix="$dir/" -print_final_stats=1 >"$dir/log" 2>&1
	echo "$?" >"$dir/rc"
}

running=0
for t in "${targets[@]}"; do
	run_one "$t" &
	running=$((running + 1))
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait

printf '%-14s %12s %9s %7s %7s %6s  %s\n' target execs exec/s cov ft corpus result
fail=0
for t in "${targets[@]}"; do
	log="$OUT/$t/log"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(echo "$last" | sed -nE 's/.*cov: ([0-9]+).*/\1/p')
	ft=$(echo "$last" | sed -nE 's/.*ft: ([0-9]+).*/\1/p')
	corp=$(echo "$last" | sed -nE 's/.*corp: ([0-9]+).*/\1/p')
	res=ok
	if [ "$(cat "$OUT/$t/rc")" != 0 ]; then
		res="CRASH: $(ls "$OUT/$t"/crash-* "$OUT/$t"/leak-* "$OUT/$t"/timeout-* \
			"$OUT/$t"/oom-* 2>/dev/null | tr '\n' ' ')"
		fail=1
	fi
	printf '%-14s %12s %9s %7s %7s %6s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
		"${ft:-?}" "${corp:-?}" "$res"
done
exit $fail
