#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every suite (unit tests, then each end-to-end script) and sums their
# "N passed, N failed[, N skipped]" lines into one final line of the same form. A suite without
# a result line, one that ran no check, or one whose exit status disagrees with it, has failed.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
total_p=0
total_f=0
total_s=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_suite() {
	local name=$1
	shift
	echo "=== $name"
	"$@" 2>&1 | tee "$log"
	local rc=${PIPESTATUS[0]}
	local last
	last=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	if [ -z "$last" ]; then
		echo "FAIL $name: no result line (exit $rc)"
		total_f=$((total_f + 1))
		return
	fi
	local p f s
	p=$(echo "$last" | sed -E 's/^([0-9]+) passed.*/\1/')
	f=$(echo "$last" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
	s=$(echo "$last" | sed -nE 's/.*, ([0-9]+) skipped.*/\1/p')
	total_p=$((total_p + p))
	total_f=$((total_f + f))
	total_s=$((total_s + ${s:-0}))
	if [ $((p + f)) = 0 ]; then
		echo "FAIL $name: ran no check"
		total_f=$((total_f + 1))
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "FAIL $name: exit $rc"
		total_f=$((total_f + 1))
	fi
}

run_suite unit "$BUILD/unit-tests"
for t in tests/e2e/test_*.sh; do
	run_suite "$(basename "$t" .sh)" bash "$t"
done
echo "=== all suites"
echo "$total_p passed, $total_f failed, $total_s skipped"
[ "$total_f" = 0 ]
