#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# bench/busy.sh [SECONDS]: the load generator that the test suite must pass under. One spinning
# process per online CPU at the caller's priority (pure user time, so every CPU stays runnable)
# for SECONDS (default: until this script is killed). Example, as the closing notes quote it:
#   bash bench/busy.sh 3600 & busy=$!; make test; kill $busy
set -u
secs=${1:-0}
n=$(getconf _NPROCESSORS_ONLN)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; exit 0' INT TERM EXIT
for ((i = 0; i < n; i++)); do
	bash -c 'while :; do :; done' &
	pids+=($!)
done
if ((secs > 0)); then
	sleep "$secs"
else
	wait
fi
