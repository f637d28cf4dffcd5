#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Symbolization speed, side by side in one run:
#  1. DWARF with inline frames: a generated C binary (UNITS x FUNCS functions, each inlining
#     chains of helpers 4 deep, -g -O2, over 50 MB), 10,000 distinct random code addresses.
#     flamed's symfile (bench/symbolize/symq.c on build/libflamed.a): cold (open + first lookup of each),
#     warm lookups per second, peak RSS; the same addresses through `addr2line -i -f` and
#     `eu-addr2line -i -f`; and a check that flamed and addr2line name the same frames.
#  2. Symbol table only: the largest .symtab found (or SYMTAB_FILE), 10,000 addresses.
# Times are wall and CPU (user + system): on a shared machine CPU time is the comparable one.
# Usage: bench/symbolize/symbolize.sh [UNITS [FUNCS]]   (default 64 x 200; the binary is cached in
#        $BUILD/bench-sym; SKIP_EU=1 skips eu-addr2line, which is slow)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
UNITS=${1:-64}
FUNCS=${2:-200}
OUT=$BUILD/bench-sym
mkdir -p "$OUT"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

make -s "$BUILD/libflamed.a"
LDLIBS=$(make -s --no-print-directory -f Makefile -f - BUILD="$BUILD" print-ldlibs \
	<<<'print-ldlibs: ; @echo $(LDFLAGS) $(LDLIBS)')
cc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc -I"$BUILD" bench/symbolize/symq.c "$BUILD/libflamed.a" $LDLIBS \
	-o "$OUT/symq"
SYMQ=$OUT/symq

BIN=$OUT/inline-$UNITS-$FUNCS
if [ ! -x "$BIN" ] || [ bench/symbolize/gen_inline.py -nt "$BIN" ]; then
	echo "== generating $UNITS x $FUNCS functions and building with -g -O2 ($(nproc) jobs)"
	rm -rf "$OUT/src"
	python3 bench/symbolize/gen_inline.py "$OUT/src" "$UNITS" "$FUNCS"
	start=$(date +%s)
	ls "$OUT"/src/*.c | xargs -P "$(nproc)" -I{} sh -c 'gcc -g -O2 -c "$1" -o "${1%.c}.o"' _ {}
	gcc -o "$BIN.tmp" "$OUT"/src/*.o
	mv "$BIN.tmp" "$BIN"
	rm -rf "$OUT/src"
	echo "   built in $(($(date +%s) - start)) s"
fi

# addrs BINARY N SEED OUT: N distinct random addresses inside sized function symbols.
addrs() {
	nm -S --defined-only "$1" | awk '$3 ~ /^[tTwW]$/ && $2 != "" { print $1, $2 }' |
		python3 -c "
import random, sys
r = random.Random($3)
fs = [(int(a, 16), int(n, 16)) for a, n in (l.split() for l in sys.stdin) if int(n, 16)]
s = set()
while len(s) < min($2, sum(n for _, n in fs)):
    a, n = r.choice(fs)
    s.add(a + r.randrange(n))
print('\n'.join('%x' % a for a in sorted(s, key=lambda _: r.random())))" >"$4"
}
# tool NAME CMD...: wall time and peak RSS of CMD (stdin: the addresses).
tool() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o "$T/time" "$@" >"$T/$name.out" 2>/dev/null <"$T/addrs"
	read -r secs user sys kb <"$T/time"
	printf '  %-28s %8.2f s wall %8.2f s CPU  %7.1f MB peak RSS\n' "$name" "$secs" \
		"$(echo "$user + $sys" | bc -l)" "$(echo "$kb / 1024" | bc -l)"
}
# section_size FILE NAME: hex size of a section ("[ 1]" and "[12]" shift readelf's columns).
section_size() {
	readelf -SW "$1" 2>/dev/null | sed 's/^ *\[ *[0-9]*\]//' | awk -v n="$2" '$1 == n { print $5 }'
}
get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }

size=$(stat -c %s "$BIN")
dinfo=$(section_size "$BIN" .debug_info)
echo "== DWARF: $BIN, $((size / 1048576)) MB ($(( 0x$dinfo / 1048576 )) MB .debug_info)," \
	"$(nm "$BIN" | grep -c ' T f') functions"
addrs "$BIN" 10000 7 "$T/addrs"
"$SYMQ" --bench "$BIN" "$T/addrs" >"$T/warm"
"$SYMQ" --bench --lines "$BIN" "$T/addrs" >"$T/lines"
echo "  flamed (in process):"
printf '    cold, inline frames        %8.3f s wall %.3f s CPU (open %.3f s), %s frames for %s addresses\n' \
	"$(get cold_s "$T/warm")" "$(get cold_cpu_s "$T/warm")" "$(get open_s "$T/warm")" \
	"$(get frames "$T/warm")" "$(get addresses "$T/warm")"
printf '    cold, inline + file:line   %8.3f s wall %.3f s CPU\n' "$(get cold_s "$T/lines")" \
	"$(get cold_cpu_s "$T/lines")"
printf '    warm lookups               %8.0f /s (inline), %.0f /s (with lines)\n' \
	"$(get warm_lookups_per_s "$T/warm")" "$(get warm_lookups_per_s "$T/lines")"
printf '    peak RSS                   %8.1f MB (inline), %.1f MB (with lines)\n' \
	"$(get peak_rss_mb "$T/warm")" "$(get peak_rss_mb "$T/lines")"
echo "  whole processes, cold, same 10,000 addresses:"
tool "flamed symq (inline)" "$SYMQ" --bench --cold-only "$BIN" "$T/addrs"
tool "flamed symq (inline+lines)" "$SYMQ" --bench --cold-only --lines "$BIN" "$T/addrs"
tool "addr2line -i -f" addr2line -i -f -e "$BIN"
if [ "${SKIP_EU:-0}" != 1 ] && command -v eu-addr2line >/dev/null; then
	tool "eu-addr2line -i -f" eu-addr2line -i -f -e "$BIN"
fi
# Same frames? addr2line -a marks each address; flamed prints them innermost first too.
xargs "$SYMQ" "$BIN" <"$T/addrs" 2>/dev/null | cut -f2 | sed 's/_\[i\]//g' >"$T/mine"
addr2line -a -i -f -e "$BIN" <"$T/addrs" | python3 -c "
import sys
res, cur, lines = [], None, sys.stdin.read().split('\n')
i = 0
while i < len(lines):
    l = lines[i]
    if l.startswith('0x'):
        if cur is not None: res.append(' <- '.join(cur))
        cur = []; i += 1
    elif l: cur.append(l); i += 2
    else: i += 1
res.append(' <- '.join(cur))
mine = open('$T/mine').read().rstrip('\n').split('\n')
same = sum(a == b for a, b in zip(res, mine))
print('  agreement with addr2line -i -f: %d of %d addresses name the same frames' % (same, len(res)))"

if [ -n "${SYMTAB_FILE:-}" ]; then
	big=$SYMTAB_FILE
else
	big=$(find /usr/lib /usr/local/lib /opt "$HOME/.rustup" -xdev -type f -size +20M \
		\( -name '*.so*' -o -perm -u+x \) 2>/dev/null | while read -r f; do
		s=$(section_size "$f" .symtab)
		[ -n "$s" ] && echo "$((0x$s)) $f"
	done | sort -n | tail -1 | cut -d' ' -f2-)
fi
if [ -n "$big" ]; then
	echo "== symbol table only: $big ($(( $(stat -c %s "$big") / 1048576 )) MB)"
	addrs "$big" 10000 3 "$T/addrs"
	"$SYMQ" --bench --no-inline "$big" "$T/addrs" >"$T/sym"
	printf '  flamed: %s function symbols loaded in %.3f s, 10,000 cold lookups in %.3f s in all' \
		"$(get symbols "$T/sym")" "$(get open_s "$T/sym")" "$(get cold_s "$T/sym")"
	printf ' (%.3f s CPU),' "$(get cold_cpu_s "$T/sym")"
	printf ' %.0f warm lookups/s, %.1f MB peak RSS\n' "$(get warm_lookups_per_s "$T/sym")" \
		"$(get peak_rss_mb "$T/sym")"
	head -1000 "$T/addrs" >"$T/addrs1k"
	mv "$T/addrs1k" "$T/addrs"
	echo "  the first 1,000 of them through the binutils/elfutils tools:"
	tool "flamed symq" "$SYMQ" --bench --cold-only --no-inline "$big" "$T/addrs"
	tool "addr2line -f" addr2line -f -e "$big"
else
	echo "== symbol table only: no large .symtab found (set SYMTAB_FILE)"
fi
