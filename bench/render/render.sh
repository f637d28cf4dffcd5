#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `flamed render` speed, memory and output size on the reference folded inputs of
# ../shared/bench/gen_folded.py: 20k and 200k stacks (--names 5000 --seed 1, realistic prefix
# sharing) and a bushy 200k (--share 0: no shared prefixes). For each: median wall time of RUNS
# runs, peak RSS (/usr/bin/time -v), SVG size; also the 20k file without pruning
# (--min-width 0). flamegraph.pl runs beside it when installed (Debian 12 has no package).
# Inputs are generated once into $CACHE (default /tmp/flamed-bench-render).
# Usage: bench/render/render.sh [RUNS]   (FLAMED=path overrides the binary)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=${FLAMED:-$BUILD/flamed}
RUNS=${1:-5}
GEN=${GEN:-../shared/bench/gen_folded.py}
CACHE=${CACHE:-/tmp/flamed-bench-render}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p "$CACHE"

gen() {
	local out=$CACHE/$1
	shift
	if [ ! -s "$out" ]; then
		echo "generating $out ..." >&2
		python3 "$GEN" "$@" -o "$out.tmp" 2>/dev/null
		mv "$out.tmp" "$out"
	fi
}
gen big20k.folded --stacks 20000 --names 5000 --seed 1
gen big200k.folded --stacks 200000 --names 5000 --seed 1
gen bushy200k.folded --stacks 200000 --names 5000 --seed 1 --share 0

# run NAME CMD...: median wall and CPU (user + system) seconds, max RSS MiB over RUNS runs of
# CMD (output to $T/out). CPU time is the steadier figure on a busy machine.
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
	printf "%-28s %8.2f s %8.2f s %6d MiB %9.2f MB\n" "$name" \
		"$(printf '%s\n' "${walls[@]}" | median)" "$(printf '%s\n' "${cpus[@]}" | median)" \
		"$rss" "$(stat -c %s "$T/out" | awk '{ print $1 / 1e6 }')"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
printf "%-28s %10s %10s %10s %12s\n" "case ($RUNS runs)" "wall" "cpu" "peak RSS" "output"
for f in big20k big200k bushy200k; do
	printf "%-28s %10s %10s %10s %9.1f MB\n" "$f.folded (input)" "" "" "" \
		"$(stat -L -c %s "$CACHE/$f.folded" | awk '{ print $1 / 1e6 }')"
	run "flamed render $f" "$FLAMED" render "$CACHE/$f.folded"
done
run "flamed render big20k min0" "$FLAMED" render --min-width 0 "$CACHE/big20k.folded"

FG=$(command -v flamegraph.pl || command -v flamegraph || true)
if [ -n "$FG" ]; then
	for f in big20k big200k bushy200k; do
		run "flamegraph.pl $f" "$FG" "$CACHE/$f.folded"
	done
else
	echo "flamegraph.pl: not installed ($(apt-cache policy flamegraph 2>/dev/null |
		awk '/Candidate/ { print "apt candidate: " $2 }' | grep . || echo "no Debian package"))"
fi
