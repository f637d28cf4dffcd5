#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `flamed render` reading `perf script` text: median wall and CPU time, peak RSS, for SAMPLES
# samples (default 100k) of a generated perf script file shaped like perf 6.1's output (stacks
# drawn from 5,000 distinct paths over 2,000 names, 8-40 frames deep, a third with 3-8 kernel
# frames on top; seed 1), to SVG and to folded; and the same profile given as folded stacks, to
# show what the perf script parsing costs over the folded path.
# Inputs are generated once into $CACHE (default /tmp/flamed-bench-perfscript).
# Usage: bench/render/perfscript.sh [RUNS [SAMPLES]]   (FLAMED=path overrides the binary)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=${FLAMED:-$BUILD/flamed}
RUNS=${1:-5}
SAMPLES=${2:-100000}
CACHE=${CACHE:-/tmp/flamed-bench-perfscript}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$CACHE"
IN=$CACHE/perf$SAMPLES.txt

if [ ! -s "$IN" ]; then
	echo "generating $IN ..." >&2
	python3 - "$SAMPLES" >"$IN.tmp" <<'PY'
import random, sys
random.seed(1)
n = int(sys.argv[1])
names = ["fn_%d_%s" % (i, random.choice(["parse", "alloc", "hash", "run", "std::vector<int>::push_back(int const&)"])) for i in range(2000)]
knames = ["do_syscall_64", "entry_SYSCALL_64_after_hwframe", "__x64_sys_read", "vfs_read", "ksys_read", "schedule", "__schedule", "asm_exc_page_fault", "exc_page_fault", "handle_mm_fault"]
paths = []
for _ in range(5000):
    d = random.randint(8, 40)
    base = paths[random.randrange(len(paths))][:random.randint(1, 8)] if paths and random.random() < 0.7 else []
    paths.append((base + [random.choice(names) for _ in range(d)])[:d])
out = sys.stdout
t = 1000.0
for i in range(n):
    p = paths[int(random.paretovariate(1.2)) % len(paths)]
    t += 0.002
    out.write("app %d/%d [%03d] %.6f:    2004008 cpu-clock:ppp: \n" % (4242, 4242 + i % 4, i % 2, t))
    if random.random() < 0.33:
        for k in random.sample(knames, random.randint(3, 8)):
            out.write("\tffffffff81%06x %s+0x%x ([kernel.kallsyms])\n" % (random.randrange(1 << 24), k, random.randrange(4096)))
    for f in reversed(p):
        out.write("\t%16x %s+0x%x (/usr/bin/app)\n" % (0x400000 + hash(f) % 100000, f, random.randrange(512)))
    out.write("\n")
PY
	mv "$IN.tmp" "$IN"
fi
"$FLAMED" render --format folded "$IN" >"$CACHE/perf$SAMPLES.folded"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run() {
	local name=$1 walls=() cpus=() rss=0 r m
	shift
	for r in $(seq "$RUNS"); do
		/usr/bin/time -v -o "$T/time" "$@" >"$T/out" 2>/dev/null
		walls+=("$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$T/time")")
		cpus+=("$(awk -F': ' '/(User|System) time/ { s += $2 } END { print s }' "$T/time")")
		m=$(awk -F': ' '/Maximum resident set size/ { print int($2 / 1024) }' "$T/time")
		[ "$m" -gt "$rss" ] && rss=$m
	done
	printf "%-34s %8.2f s %8.2f s %6d MiB\n" "$name" \
		"$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" "$rss"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
echo "input: $SAMPLES samples, $(stat -c %s "$IN" | awk '{ printf "%.1f MB", $1 / 1e6 }') of perf script," \
	"$(wc -l <"$CACHE/perf$SAMPLES.folded") distinct stacks"
printf "%-34s %10s %10s %10s\n" "case ($RUNS runs)" "wall" "cpu" "peak RSS"
run "perf script -> svg" "$FLAMED" render "$IN"
run "perf script -> folded" "$FLAMED" render --format folded "$IN"
run "perf script on stdin -> svg" sh -c "'$FLAMED' render < '$IN'"
run "same profile as folded -> svg" "$FLAMED" render "$CACHE/perf$SAMPLES.folded"
if command -v stackcollapse-perf.pl >/dev/null; then
	run "stackcollapse-perf.pl (folding only)" stackcollapse-perf.pl "$IN"
fi
