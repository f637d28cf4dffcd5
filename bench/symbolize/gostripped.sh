#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Symbolization of a Go binary built without symbols (-ldflags='-s -w', named from .gopclntab)
# against the same binary unstripped (.symtab, and DWARF for inline frames and lines): cmd/go of
# the machine's Go toolchain, built both ways, 10,000 random addresses inside its functions,
# looked up by flamed's symfile (bench/symbolize/symq.c on build/libflamed.a). Each configuration runs
# RUNS times (default 5); medians of the cold time (open + first lookup of every address; wall
# and CPU), warm lookups per second and peak RSS. Also checks that both name the same functions.
# Usage: bench/symbolize/gostripped.sh [RUNS] [PACKAGE]   (PACKAGE default cmd/go; cmd/compile is larger)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
RUNS=${1:-5}
PKG=${2:-cmd/go}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export GOCACHE="$T/gocache" GOPATH="$T/gopath" GO111MODULE=auto

make -s "$BUILD/libflamed.a"
LDLIBS=$(make -s --no-print-directory -f Makefile -f - BUILD="$BUILD" print-ldlibs \
	<<<'print-ldlibs: ; @echo $(LDFLAGS) $(LDLIBS)')
cc -O2 -std=gnu11 -D_GNU_SOURCE -Isrc -I"$BUILD" bench/symbolize/symq.c "$BUILD/libflamed.a" $LDLIBS \
	-o "$T/symq"
SYMQ=$T/symq

go build -o "$T/full" "$PKG"
go build -ldflags='-s -w' -o "$T/stripped" "$PKG"
pcln=$(readelf -SW "$T/stripped" | sed 's/^ *\[ *[0-9]*\]//' | awk '$1 == ".gopclntab" { print $5 }')
echo "== $PKG ($(go version | cut -d' ' -f3)): unstripped $(($(stat -c %s "$T/full") / 1048576)) MB," \
	"stripped $(($(stat -c %s "$T/stripped") / 1048576)) MB, .gopclntab $((0x$pcln / 1024)) KB," \
	"$(go tool nm "$T/full" | grep -c ' T ') functions"

# 10,000 distinct random addresses inside sized functions of the unstripped build.
go tool nm -size "$T/full" | awk '$3 == "T" && $2 > 0 { print $1, $2 }' | python3 -c "
import random, sys
r = random.Random(7)
fs = [(int(a, 16), int(n)) for a, n in (l.split() for l in sys.stdin)]
s = set()
while len(s) < 10000:
    a, n = r.choice(fs)
    s.add(a + r.randrange(n))
print('\n'.join('%x' % a for a in sorted(s, key=lambda _: r.random())))" >"$T/addrs"

get() { awk -v k="$1" '$1 == k { print $2 }' "$2"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# run NAME FILE OPTIONS...: RUNS benches, one line of medians.
run() {
	local name=$1 file=$2 i
	shift 2
	for i in $(seq "$RUNS"); do
		"$SYMQ" --bench "$@" "$T/$file" "$T/addrs" >"$T/r.$i" 2>/dev/null
	done
	printf '  %-36s cold %7.1f ms wall %7.1f ms CPU  warm %9.0f lookups/s  %6.1f MB RSS  %s frames\n' \
		"$name" \
		"$(for i in $(seq "$RUNS"); do get cold_s "$T/r.$i"; done | median | awk '{ print $1 * 1000 }')" \
		"$(for i in $(seq "$RUNS"); do get cold_cpu_s "$T/r.$i"; done | median | awk '{ print $1 * 1000 }')" \
		"$(for i in $(seq "$RUNS"); do get warm_lookups_per_s "$T/r.$i"; done | median)" \
		"$(for i in $(seq "$RUNS"); do get peak_rss_mb "$T/r.$i"; done | median)" \
		"$(get frames "$T/r.1")"
}
echo "  medians of $RUNS runs, 10,000 addresses:"
run "unstripped, .symtab only" full --no-inline
run "unstripped, DWARF inline" full
run "unstripped, DWARF inline + lines" full --lines
run "stripped, .gopclntab names" stripped --no-inline
run "stripped, .gopclntab inline" stripped
run "stripped, .gopclntab inline + lines" stripped --lines

# The same functions? (.abi0: the symbol table's suffix for assembly functions.) The table
# writes generic instantiations' type arguments and array lengths as "[...]" and some
# compiler-made names with "·" where the symbol table has ".": the runtime's tracebacks print
# them so; "normalized" counts them as the same.
xargs "$SYMQ" --no-inline "$T/full" <"$T/addrs" 2>/dev/null | cut -f2 | sed 's/\.abi0$//' >"$T/n.full"
xargs "$SYMQ" --no-inline "$T/stripped" <"$T/addrs" 2>/dev/null | cut -f2 >"$T/n.strip"
xargs "$SYMQ" "$T/full" <"$T/addrs" 2>/dev/null | cut -f2 | sed 's/\.abi0//g' >"$T/i.full"
xargs "$SYMQ" "$T/stripped" <"$T/addrs" 2>/dev/null | cut -f2 >"$T/i.strip"
python3 - "$T" <<'PY'
import sys
t = sys.argv[1]
def norm(s):
    out, depth = [], 0
    for c in s.replace("\u00b7", "."):
        if c == "[":
            if depth == 0:
                out.append("[...]")
            depth += 1
        elif c == "]" and depth:
            depth -= 1
        elif depth == 0:
            out.append(c)
    return "".join(out)
for kind, what in (("n", "functions"), ("i", "inline chains")):
    a = open(f"{t}/{kind}.full").read().split("\n")
    b = open(f"{t}/{kind}.strip").read().split("\n")
    same = sum(x == y for x, y in zip(a, b))
    nsame = sum(norm(x) == norm(y) for x, y in zip(a, b))
    print(f"  {what}: {same} of {len(a) - 1} named exactly as from .symtab/DWARF, {nsame} normalized")
PY
