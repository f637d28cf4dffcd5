#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Load: the daemon (--interval 2, svg and folded) while the machine is stormed for SECS seconds:
#  - process storm: two loops starting short processes back to back, half of them fresh copies
#    of a binary (a new file to map, unwind and symbolize each time), thousands a minute;
#  - deep recursion: 3000 frames without frame pointers (unwinder depth limit);
#  - many threads: 400 Python threads waking and spinning;
#  - distinct stacks: 2^14 of them (tests/workloads/manystacks.c), against --max-stacks 128.
# Pass: flamed alive throughout and exits 0 on SIGTERM, every window well-formed, its peak RSS
# under RSS_MAX_MB (default 1024: the systemd unit's MemoryMax), losses counted by reason.
# Usage: bench/service/storm.sh [SECS]   (root; needs $BUILD/flamed and make workloads)
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$PWD/$BUILD/flamed
WL=$PWD/$BUILD/workloads
SECS=${1:-60}
RSS_MAX_MB=${RSS_MAX_MB:-1024}
T=$(mktemp -d /tmp/flamed-storm.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "storm: needs root" >&2; exit 1; }

mkdir "$T/out" "$T/bin"
for i in $(seq 0 49); do cp "$WL/chain" "$T/bin/c$i"; done

# shellcheck disable=SC2086 # FLAMED_ARGS: extra options, split on spaces
"$FLAMED" --output-dir "$T/out" --interval 2 --formats svg,folded --max-stacks 128 \
	--keep 0 -v ${FLAMED_ARGS:-} 2>"$T/flamed.log" &
fp=$!
sleep 1
kill -0 $fp 2>/dev/null || { echo "storm: flamed did not start"; cat "$T/flamed.log"; exit 1; }

storm() {
	local end=$((SECONDS + SECS)) n=0
	while [ $SECONDS -lt "$end" ]; do
		/bin/true
		"$T/bin/c$((RANDOM % 50))" -n 1 >/dev/null 2>&1
		n=$((n + 2))
	done
	echo "$n" >"$T/storm.$1"
}
storm 1 &
PIDS+=($!)
storm 2 &
PIDS+=($!)
"$WL/deep" "$SECS" 3000 &
PIDS+=($!)
"$WL/manystacks" "$SECS" 14 &
PIDS+=($!)
python3 "$PWD/tests/workloads/threads.py" "$SECS" 400 &
PIDS+=($!)

# flamed's memory and threads, once a second.
peak=0
next_log=0
start=$SECONDS
while [ $((SECONDS - start)) -lt "$SECS" ]; do
	if ! kill -0 $fp 2>/dev/null; then
		echo "FAIL flamed died during the storm"
		tail -n 5 "$T/flamed.log"
		exit 1
	fi
	rss=$(awk '$1 == "VmRSS:" { print int($2 / 1024) }' /proc/$fp/status)
	[ "${rss:-0}" -gt "$peak" ] && peak=$rss
	# RSS_LOG=FILE: "seconds RSS-MiB" every 10 s, to show a plateau (or its absence).
	if [ -n "${RSS_LOG:-}" ] && [ $((SECONDS - start)) -ge "$next_log" ]; then
		echo "$((SECONDS - start)) $rss" >>"$RSS_LOG"
		next_log=$((next_log + 10))
	fi
	sleep 1
done
wait "${PIDS[@]}" 2>/dev/null
PIDS=()
cpu=$(awk '{ print ($14 + $15) / 100 }' /proc/$fp/stat)
hwm=$(awk '$1 == "VmHWM:" { print int($2 / 1024) }' /proc/$fp/status)
kill -TERM $fp
wait $fp
rc=$?

procs=$(($(cat "$T/storm.1" 2>/dev/null || echo 0) + $(cat "$T/storm.2" 2>/dev/null || echo 0)))
windows=$(ls "$T/out"/flamed-*.svg 2>/dev/null | wc -l)
bad=0
for f in "$T/out"/flamed-*.svg; do xmllint --noout "$f" 2>/dev/null || bad=$((bad + 1)); done
samples=$(sed -nE 's/.*: ([0-9]+) samples, wrote.*/\1/p' "$T/flamed.log" | awk '{ s += $1 } END { print s + 0 }')
echo "storm: $SECS s, $procs short processes ($((procs * 60 / SECS)) a minute), 400 threads," \
	"3000-deep recursion, 2^14 distinct stacks"
echo "flamed: exit $rc, $windows windows ($bad malformed), $samples samples, CPU ${cpu} s," \
	"peak RSS ${hwm} MiB (sampled ${peak} MiB; bound ${RSS_MAX_MB} MiB)"
# Losses as the windows' subtitles give them, summed by reason.
cat "$T/out"/flamed-*.folded >/dev/null 2>&1
# "lost: counts_map_full 34, user_stack 5" (aggregate/describe.c)
grep -hoE 'lost: [a-z_]+ [0-9]+(, [a-z_]+ [0-9]+)*' "$T/out"/flamed-*.svg 2>/dev/null |
	sed 's/^lost: //; s/, /\n/g' |
	awk '{ n[$1] += $2 } END { for (r in n) printf "lost %s: %d\n", r, n[r] }' | sort
grep -m 3 -i 'error\|warning' "$T/flamed.log"
grep 'caches:' "$T/flamed.log" | tail -n 1
fail=0
[ "$rc" = 0 ] || { echo "FAIL flamed exit $rc"; fail=1; }
[ "$bad" = 0 ] || { echo "FAIL $bad malformed windows"; fail=1; }
[ "$windows" -ge $((SECS / 2 - 2)) ] || { echo "FAIL only $windows windows"; fail=1; }
[ "${hwm:-0}" -le "$RSS_MAX_MB" ] || { echo "FAIL peak RSS ${hwm} MiB over ${RSS_MAX_MB} MiB"; fail=1; }
[ "$fail" = 0 ] && echo "storm: ok"
exit $fail
