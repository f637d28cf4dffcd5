#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Merge time and peak memory of `flamed render DIR` over a day of 60 s windows: 1,440 synthetic
# folded windows named as the daemon names them (a busy 2-CPU host at 99 Hz: ~11,900 samples in
# ~2,000 distinct stacks per window, drawn from 20,000 stacks of depth 10-40), then (PPROF=1)
# the same windows as pprof; LISTEN=1 (root): the --listen page over them, time to first byte
# of /, of the window list and of the whole day merged, cold and then from the cache.
# Usage: bash bench/render/history.sh [BUILD] [WINDOWS]
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
N=${2:-1440}
W=$(mktemp -d /tmp/flamed-history-bench.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$W"' EXIT
python3 - "$W" "$N" <<'PY'
import random, sys, time
d, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
names = ["fn%d" % i for i in range(3000)]
procs = ["app%d" % i for i in range(40)]
pool = []
for i in range(20000):
    depth = random.randint(10, 40)
    pool.append(random.choice(procs) + ";" + ";".join(random.choice(names) for _ in range(depth)))
t0 = 1796353200  # 2026-12-04T00:00:00Z... any fixed day
for w in range(n):
    stem = time.strftime("%Y%m%dT%H%M%S", time.gmtime(t0 + 60 * w))
    counts = {}
    for _ in range(2000):
        s = pool[min(int(random.expovariate(1 / 3000)), 19999)]
        counts[s] = counts.get(s, 0) + random.randint(1, 11)
    with open("%s/flamed-%s.000Z.folded" % (d, stem), "w") as f:
        for s, c in counts.items():
            f.write("%s %d\n" % (s, c))
PY
echo "windows: $(ls "$W" | wc -l), $(du -sh "$W" | cut -f1), $(cat "$W"/*.folded | awk '{ t += $NF } END { print t }') samples"
/usr/bin/time -v "$BUILD/flamed" render "$W" -o "$W/out.folded" 2>"$W/time.txt"
grep -E "Elapsed|Maximum resident" "$W/time.txt"
/usr/bin/time -v "$BUILD/flamed" render "$W" -o "$W/out.svg" 2>"$W/time2.txt"
echo "svg:"; grep -E "Elapsed|Maximum resident" "$W/time2.txt"
if [ "${PPROF:-0}" = 1 ]; then
	for f in "$W"/flamed-*.folded; do
		"$BUILD/flamed" render "$f" -o "${f%.folded}.pb.gz"
	done
	/usr/bin/time -v "$BUILD/flamed" render "$W" -o "$W/out2.folded" 2>"$W/time3.txt"
	echo "pprof windows:"; grep -E "Elapsed|Maximum resident" "$W/time3.txt"
	cmp "$W/out.folded" "$W/out2.folded" && echo "pprof and folded windows merge to the same stacks"
fi
if [ "${LISTEN:-0}" = 1 ]; then
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$BUILD/flamed" --output-dir "$W" --interval 3600 --formats folded --listen "127.0.0.1:$port" \
		-F 19 2>"$W/daemon.log" &
	dp=$!
	until curl -sf -o /dev/null "http://127.0.0.1:$port/metrics"; do sleep 0.2; done
	ttfb() { curl -s -o /dev/null -w "%{http_code} %{time_starttransfer} s, %{size_download} bytes" "http://127.0.0.1:$port$1"; }
	echo "listen: / $(ttfb /)"
	echo "listen: windows.json cold $(ttfb /history/windows.json), cached $(ttfb /history/windows.json)"
	q="/history/graph.svg?from=2026-12-01&to=2027-01-01"
	echo "listen: the day merged cold $(ttfb "$q"), cached $(ttfb "$q")"
	kill -TERM "$dp"
	wait "$dp"
fi
