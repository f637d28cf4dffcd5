#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# How long a scrape waits for its answer while hostile local clients attack the --listen server
# (root; tests/e2e/hostile_http.py plays the attackers).
#
#   bench/export/hostile_http.sh [FLAMED] [RUNS]   (default build/flamed, 5 runs)
#
# Each run starts a fresh flamed (-p of a sleeping process: the server is measured, not the
# profiler) and reports, per attack, the time from the first attempt until a 200 arrives,
# retrying a refused request every 0.1 s, given up at 60 s (reported as ">60"):
#   hangup: 4 clients start /debug/pprof/profile?seconds=300 and hang up; then a seconds=1
#           profile (its 1 s included);
#   slow:   20 connections from 127.0.0.1 trickle a request line a byte a second (for 90 s);
#           then /metrics.
# Medians over the runs at the end.
set -u
cd "$(dirname "$0")/../.."
FLAMED=${1:-build/flamed}
RUNS=${2:-5}
HOSTILE=tests/e2e/hostile_http.py
T=$(mktemp -d /tmp/flamed-hostile.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# until_200 URL: seconds from now until URL answers 200 (">60" past 60 s).
until_200() {
	python3 - "$1" <<'EOF'
import sys, time, urllib.request
t0 = time.monotonic()
while time.monotonic() - t0 < 60:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=60 - (time.monotonic() - t0)) as r:
            if r.status == 200:
                r.read()
                print(f"{time.monotonic() - t0:.3f}")
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
print(">60")
EOF
}
wait_line() {
	for _ in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

sleep 100000 &
TARGET=$!
PIDS+=("$TARGET")
for run in $(seq "$RUNS"); do
	p=$(port)
	"$FLAMED" -p "$TARGET" --output-dir "$T/out" --interval 60 --listen "$p" >"$T/f.log" 2>&1 &
	f=$!
	wait_line "$T/f.log" "profiling the given" || { echo "flamed did not start"; exit 1; }

	python3 "$HOSTILE" captures "$p" 4 300 >"$T/c.log" 2>&1 &
	h=$!
	wait_line "$T/c.log" "^sent 4"
	# Until the four are running (their requests are in flight a moment after "sent").
	for _ in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' \
			"http://127.0.0.1:$p/debug/pprof/profile?seconds=1")" = 429 ] && break
		sleep 0.1
	done
	kill "$h"
	wait "$h" 2>/dev/null
	hangup=$(until_200 "http://127.0.0.1:$p/debug/pprof/profile?seconds=1")

	python3 "$HOSTILE" slow "$p" 20 90 >"$T/s.log" 2>&1 &
	s=$!
	wait_line "$T/s.log" "^open 20"
	slow=$(until_200 "http://127.0.0.1:$p/metrics")
	kill "$s" 2>/dev/null
	wait "$s" 2>/dev/null

	echo "run $run: hangup ${hangup} s, slow ${slow} s"
	echo "$hangup $slow" >>"$T/results"
	kill "$f"
	wait "$f" 2>/dev/null
done
# Medians; ">60" sorts last.
for col in 1 2; do
	awk -v c="$col" '{ print ($c == ">60" ? 1e9 : $c) }' "$T/results" | sort -g |
		awk '{ v[NR] = $1 } END { m = v[int((NR + 1) / 2)]; print (m == 1e9 ? ">60" : m) }'
done | paste -sd' ' | awk -v n="$RUNS" '{ printf "median of %d runs: hangup %s s, slow %s s\n", n, $1, $2 }'
