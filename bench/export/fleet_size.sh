#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Bytes pushed per window and per host-hour, for the README's fleet on paper. Runs flamed in
# continuous mode at each frequency at once, pushing to a local stand-in for Pyroscope
# (tests/e2e/pyroscope_receiver.py), and reports the request bodies of the full windows.
#
#   bash bench/export/fleet_size.sh [WINDOWS [INTERVAL [FLAMED ARGS...]]]
#
# defaults: 5 windows of 60 s, system-wide. Extra arguments go to flamed, such as
# "-p PID -p PID" for a steady set of services or "--sample-labels process,pid,thread".
# Run as root after `make`.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
WINDOWS=${1:-5}
INTERVAL=${2:-60}
shift $(($# > 2 ? 2 : $#))
T=$(mktemp -d /tmp/flamed-fleet-size.XXXXXX)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; rm -rf "$T"' EXIT

port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
for hz in 99 19; do
	p=$(port)
	python3 tests/e2e/pyroscope_receiver.py --port "$p" --dir "$T/recv-$hz" >/dev/null 2>&1 &
	pids+=($!)
	sleep 0.5
	"$BUILD/flamed" --output-dir "$T/out-$hz" --interval "$INTERVAL" --formats pprof -F "$hz" \
		--push-url "http://127.0.0.1:$p" -d "$((WINDOWS * INTERVAL + 1))" "$@" \
		>"$T/flamed-$hz.log" 2>&1 &
	pids+=($!)
done
echo "fleet_size: $WINDOWS windows of $INTERVAL s at 99 and 19 Hz, flamed ${*:-(system-wide)}"
wait "${pids[1]}" "${pids[3]}"
for hz in 99 19; do
	python3 - "$T/recv-$hz/requests.jsonl" "$hz" "$INTERVAL" <<'EOF'
import json, sys
path, hz, interval = sys.argv[1], sys.argv[2], float(sys.argv[3])
rs = [json.loads(l) for l in open(path)]
full = [r["bytes"] for r in rs if r["duration_nanos"] > (interval - 1) * 1e9]
avg = sum(full) / len(full)
per_h = avg * 3600 / interval
print(f"{hz:>3} Hz: {len(full)} windows, {min(full)/1e3:.1f} to {max(full)/1e3:.1f} kB, "
      f"mean {avg/1e3:.1f} kB per window; {per_h/1e6:.2f} MB per host-hour; "
      f"1000 hosts: {per_h*1000/1e9:.2f} GB/h, {per_h*1000*8/3600/1e6:.1f} Mbit/s")
EOF
done
