#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The daemon through a process storm (bench/service/storm.sh, short): continuous mode, system-wide,
# 2 s windows, while short processes (fresh binaries each), 300 threads, 1000-deep recursion
# and more distinct stacks than --max-stacks (64) run. Checks: flamed never dies and exits 0, its
# RSS stays within its bound and levels off, losses are counted in the windows and /metrics,
# and windows keep coming on time. With BUILD=build-san the daemon runs under ASan+UBSan.
source "$(dirname "$0")/lib.sh"

STORM_SECS=${STORM_SECS:-45}
# Default settings keep the daemon within 512 MiB (docs/ARCHITECTURE.md, "Memory");
# ASan's shadow memory and quarantine come on top.
RSS_MAX_MB=512
ldd "$FLAMED" 2>/dev/null | grep -q libasan && RSS_MAX_MB=1536
# A small quarantine: RSS then shows flamed's own growth, not ASan's 256 MiB filling up.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:quarantine_size_mb=32}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# stems_gaps DIR: the longest time between the starts of consecutive windows (their names).
stems_gaps() {
	ls "$1" | sed -nE 's/^flamed-([0-9]{8}T[0-9]{6}\.[0-9]{3})Z\.svg$/\1/p' | sort |
		python3 -c '
import sys, datetime
t = [datetime.datetime.strptime(l.strip(), "%Y%m%dT%H%M%S.%f").timestamp() for l in sys.stdin]
print(max([b - a for a, b in zip(t, t[1:])] or [0]))'
}

run() {
	local out="$T/out" port pids=() fp rc i n ts=() rss=() peak=0 alive=1 deadline
	mkdir -p "$out" "$T/bin"
	for i in $(seq 0 19); do cp "$WL/chain" "$T/bin/c$i"; done
	port=$(free_port)
	"$FLAMED" --output-dir "$out" --interval 2 --formats svg,folded --max-stacks 64 --keep 0 \
		--listen "127.0.0.1:$port" -v 2>"$T/flamed.log" &
	fp=$!
	if ! wait_for "$T/flamed.log" "serving /debug/pprof" 30; then
		fail "storm: flamed started"
		cat "$T/flamed.log"
		kill "$fp" 2>/dev/null
		return
	fi
	# Short processes: fresh copies of a binary, each a new file to map, unwind and name.
	for i in 1 2; do
		(
			end=$((SECONDS + STORM_SECS))
			n=0
			while [ $SECONDS -lt $end ]; do
				/bin/true
				"$T/bin/c$((RANDOM % 20))" -n 1 >/dev/null 2>&1
				n=$((n + 2))
			done
			echo "$n" >"$T/storm.$i"
		) &
		pids+=($!)
	done
	"$WL/deep" "$STORM_SECS" 1000 >/dev/null &
	pids+=($!)
	"$WL/manystacks" "$STORM_SECS" 14 >/dev/null &
	pids+=($!)
	python3 "$ROOT/tests/workloads/threads.py" "$STORM_SECS" 300 &
	pids+=($!)

	# flamed's RSS once a second, for as long as the storm lasts.
	deadline=$((SECONDS + STORM_SECS))
	while [ $SECONDS -lt $deadline ]; do
		if ! kill -0 "$fp" 2>/dev/null; then
			alive=0
			break
		fi
		n=$(awk '$1 == "VmRSS:" { print int($2 / 1024) }' "/proc/$fp/status" 2>/dev/null)
		rss+=("${n:-0}")
		[ "${n:-0}" -gt "$peak" ] && peak=$n
		sleep 1
	done
	curl -s "http://127.0.0.1:$port/metrics" >"$T/metrics"
	wait "${pids[@]}" 2>/dev/null
	kill -0 "$fp" 2>/dev/null || alive=0
	check "storm: flamed alive through the storm" [ "$alive" = 1 ]
	kill -TERM "$fp" 2>/dev/null
	wait "$fp"
	rc=$?
	n=$(($(cat "$T/storm.1" 2>/dev/null || echo 0) + $(cat "$T/storm.2" 2>/dev/null || echo 0)))
	echo "     storm: $n short processes in $STORM_SECS s; flamed RSS (MiB, 1/s): ${rss[*]}"
	check "storm: flamed exits 0 on SIGTERM (exit $rc)" [ "$rc" = 0 ]
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/flamed.log"; then
		fail "storm: no sanitizer report"
		grep -m 20 -A 10 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$T/flamed.log"
	else
		ok "storm: no sanitizer report"
	fi
	check "storm: ${n} short processes started (>= 2 a second)" [ "$n" -ge $((STORM_SECS * 2)) ]

	# Memory: within the bound, and level in the last third (not still growing).
	check "storm: peak RSS ${peak} MiB <= ${RSS_MAX_MB} MiB" [ "$peak" -le "$RSS_MAX_MB" ]
	local third=$((${#rss[@]} / 3)) mid last
	mid=$(printf '%s\n' "${rss[@]:$third:$third}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }')
	last=$(printf '%s\n' "${rss[@]:$((2 * third))}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] + 0 }')
	check "storm: RSS levels off (median ${mid} MiB in the middle third, ${last} MiB in the last)" \
		test "$third" -ge 3 -a "$last" -le $((mid * 5 / 4 + 32))

	# Losses: 2^14 distinct stacks against --max-stacks 64 fill the counts map or the stack
	# map (which one first depends on timing). Every window names its losses, and /metrics sums
	# those of the windows closed when it was read.
	local met svgsum
	met=$(awk '$1 ~ /^flamed_lost_samples_total\{/ { s += $2 } END { print s + 0 }' "$T/metrics")
	# The subtitle's losses: "lost: counts_map_full 34, user_stack 5" (aggregate/describe.c).
	svgsum=$(cat "$out"/flamed-*.svg 2>/dev/null |
		grep -oE 'lost: [a-z_]+ [0-9]+(, [a-z_]+ [0-9]+)*' |
		grep -oE '[0-9]+' | awk '{ s += $1 } END { print s + 0 }')
	check "storm: lost samples counted in /metrics ($met)" [ "$met" -gt 0 ]
	check "storm: windows name their losses ($svgsum, /metrics $met before the last)" \
		test "$svgsum" -gt 0 -a "$svgsum" -ge "$met"
	check "storm: /metrics reports lost mapping events" \
		grep -q '^flamed_mapping_events_lost_total [0-9]' "$T/metrics"
	check "storm: /metrics reports the aggregate bound's refusals" \
		grep -q '^flamed_lost_samples_total{reason="aggregate_full"} [0-9]' "$T/metrics"

	# Windows on time: 2 s each; on a busy machine one may run late, none by much.
	local nwin gap bad=0 f
	nwin=$(ls "$out"/flamed-*.svg 2>/dev/null | wc -l)
	gap=$(stems_gaps "$out")
	check "storm: windows keep coming ($nwin in ${STORM_SECS} s at 2 s)" \
		[ "$nwin" -ge $((STORM_SECS / 4)) ]
	check "storm: no window starts more than 8 s after the one before (${gap} s)" \
		awk -v g="$gap" 'BEGIN { exit !(g > 0 && g <= 8) }'
	for f in "$out"/flamed-*.svg; do
		tail -c 16 "$f" | grep -q '</svg>' || bad=$((bad + 1))
	done
	check "storm: every window complete ($bad of $nwin cut short)" [ "$bad" = 0 ]
}

if need_root "storm" && need_tool "storm" python3 curl; then
	run
fi
finish
