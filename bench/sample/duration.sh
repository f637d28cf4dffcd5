#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The duration promise (issue 17): `flamed -d D -p PID` of a process whose binaries are huge
# (clang compiling a generated 30,000-function file: libLLVM, libclang-cpp) ends how long after
# D seconds? Prints the wall time of each round and the median lateness; also the peak RSS.
# Usage: bench/sample/duration.sh [ROUNDS] [D]   (root; needs clang and build/flamed)
set -eu
cd "$(dirname "$0")/../.."
FLAMED=${FLAMED:-${BUILD:-build}/flamed}
ROUNDS=${1:-3}
D=${2:-3}
T=$(mktemp -d /tmp/flamed-duration.XXXXXX)
cp=
trap '[ -n "$cp" ] && kill $cp 2>/dev/null; rm -rf "$T"' EXIT
python3 -c "
print('\n'.join('int f%d(int x){int s=0; for(int i=0;i<x;i++) s+=i*%d; return s;}' % (i, i)
                for i in range(30000)))" >"$T/big.c"
for i in $(seq "$ROUNDS"); do
	clang -O2 -c "$T/big.c" -o "$T/big.o" &
	cp=$!
	sleep 2	# clang is past its start-up, deep in LLVM: not a verdict, a workload
	/usr/bin/time -f "%e %M" -o "$T/time" "$FLAMED" -d "$D" -p "$cp" -o "$T/p.folded" 2>"$T/err"
	kill $cp 2>/dev/null || true
	wait $cp 2>/dev/null || true
	cp=
	read -r wall rss <"$T/time"
	echo "round $i: -d $D took $wall s, peak RSS $((rss / 1024)) MiB; $(grep -o '[0-9]* samples' "$T/err" | head -1)"
	echo "$wall" >>"$T/walls"
done
sort -n "$T/walls" | awk -v d="$D" '{a[NR]=$1} END {m = (NR % 2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2
	printf "median: %.2f s, %.2f s after the %d s asked for\n", m, m - d, d}'
