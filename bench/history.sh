#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Merge time and peak memory of `flamed render DIR` over a day of 60 s windows: 1,440 synthetic
# folded windows named as the daemon names them (a busy 2-CPU host at 99 Hz: ~11,900 samples in
# ~2,000 distinct stacks per window, drawn from 20,000 stacks of depth 10-40), then (PPROF=1)
# the same windows as pprof. Usage: bash bench/history.sh [BUILD] [WINDOWS]
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-1440}
W=$(mktemp -d /tmp/flamed-history-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
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
