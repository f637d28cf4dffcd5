#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: runs the benchmarks of bench/ one after another with short settings, each
# printing its own figures, and ends with which ran and which failed. Benchmarks measure; the
# test suite (make test) is what proves behaviour.
#
#   bash bench/run.sh              all of them, short settings (about 15 minutes, root)
#   bash bench/run.sh NAME...      only those (render, perfscript, unwind_tables, overhead,
#                                  event_floor, unwind_cost, symbolize, storm, soak, fleet_size,
#                                  scale, duration)
#
# Longer runs: call a script itself (each documents its arguments).
set -u
cd "$(dirname "$0")/.."
export BUILD=${BUILD:-build}

# name: arguments for a short run
declare -A ARGS=(
	[render]="3"
	[perfscript]="3"
	[unwind_tables]=""
	[overhead]="1"
	[event_floor]="3"
	[unwind_cost]="3"
	[symbolize]="16 100"
	[storm]="30"
	[soak]="2"
	[fleet_size]="3 5"
	[scale]="200 10"
	[duration]="3 3"
)
ORDER="render perfscript unwind_tables overhead event_floor unwind_cost symbolize storm soak"
ORDER+=" fleet_size scale duration"
NEEDS_ROOT="overhead event_floor unwind_cost storm soak fleet_size scale duration"

names=("$@")
[ ${#names[@]} = 0 ] && read -r -a names <<<"$ORDER"
ran=()
failed=()
skipped=()
for n in "${names[@]}"; do
	f=$(ls bench/*/"$n.sh" 2>/dev/null)
	if [ ! -f "$f" ] || [ -z "${ARGS[$n]+set}" ]; then
		echo "bench: unknown benchmark '$n' (one of: $ORDER)" >&2
		exit 2
	fi
	if [ "$(id -u)" != 0 ] && [[ " $NEEDS_ROOT " == *" $n "* ]]; then
		echo "=== $n: skipped, needs root"
		skipped+=("$n")
		continue
	fi
	echo "=== $n: bash $f ${ARGS[$n]}"
	# shellcheck disable=SC2086 # the arguments are words
	if bash "$f" ${ARGS[$n]}; then
		ran+=("$n")
	else
		echo "=== $n: FAILED (exit $?)"
		failed+=("$n")
	fi
done
echo "=== bench: ${#ran[@]} ran (${ran[*]:-}), ${#failed[@]} failed (${failed[*]:-})," \
	"${#skipped[@]} skipped (${skipped[*]:-})"
[ ${#failed[@]} = 0 ]
