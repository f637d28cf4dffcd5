#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Go binaries built without symbols or DWARF (-ldflags='-s -w'), named from their .gopclntab:
# tests/workloads/goprog.go (main.main -> main.midWork -> main.leafWork, main.mix inlined in
# leafWork's loop) built here with the machine's Go toolchain as a static executable, as a PIE
# (.data.rel.ro.gopclntab), and as a PIE whose section headers are gone (the table found by its
# magic). Checks every main.* function named as the unstripped build's DWARF names it, lines,
# inlined frames, and profiles: the chain in order through a frameless leaf (unwind rows from
# the table's stack-pointer deltas), goroutines on two threads; and cgo both ways
# (tests/workloads/gocgo.go, linked by gcc: an externally linked PIE folds the table into
# .data.rel.ro, where only its magic finds it).
. "$(dirname "$0")/lib.sh"

need_tool "Go stripped binaries" go python3 || finish || exit 1

W="$T/w"
mkdir -p "$W"
# A fresh machine has no Go cache or GOPATH of its own: both in the suite's scratch directory.
export GOCACHE="$T/gocache" GOPATH="$T/gopath" GO111MODULE=off GOFLAGS=
SRC="$ROOT/tests/workloads/goprog.go"
gobuild() {
	local out=$1
	shift
	(cd "$W" && go build "$@" -o "$out" "$SRC") >"$T/gobuild.log" 2>&1 || {
		cat "$T/gobuild.log"
		return 1
	}
}
# Each stripped build beside the same build unstripped: the same code at the same addresses,
# whose symbol table and DWARF say what the stripped one must be named.
check "go builds goprog unstripped and stripped, as an executable and as a PIE" bash -c "
	$(declare -f gobuild); W='$W' T='$T' SRC='$SRC'
	gobuild '$W/gofull' && gobuild '$W/gostrip' -ldflags='-s -w' &&
	gobuild '$W/gopiefull' -buildmode=pie && gobuild '$W/gopie' -buildmode=pie -ldflags='-s -w'"
# The section headers cut off: e_shoff, e_shentsize, e_shnum, e_shstrndx zeroed.
python3 - "$W/gopie" "$W/gonoshdr" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<Q", b, 0x28, 0)
struct.pack_into("<HHH", b, 0x3a, 0, 0, 0)
open(sys.argv[2], "wb").write(b)
PY
chmod +x "$W/gonoshdr"
check "the stripped builds have no .symtab and no DWARF" bash -c "
	! readelf -SW '$W/gostrip' '$W/gopie' | grep -qE '\.symtab|\.debug_info' &&
	readelf -SW '$W/gofull' | grep -q '\.symtab'"
check "the header-less PIE has no section headers and still runs" bash -c "
	readelf -hW '$W/gonoshdr' | grep -q 'Number of section headers: *0' &&
	'$W/gonoshdr' 0.1"

# symq: names of addresses of one file, as the profiler gives them.
LDLIBS=$(make -s --no-print-directory -C "$ROOT" -f Makefile -f - BUILD="$BUILD" print-ldlibs \
	<<<'print-ldlibs: ; @echo $(LDFLAGS) $(LDLIBS)' 2>/dev/null)
SYMQ="$W/symq"
check "symq builds against libflamed.a" \
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/src" -I"$BUILD" "$ROOT/bench/symbolize/symq.c" \
	"$BUILD/libflamed.a" $LDLIBS -o "$SYMQ"

full_of() { case $1 in gostrip) echo gofull ;; *) echo gopiefull ;; esac; }

# Every main.* function of the unstripped build at its entry: the stripped table must name each
# one as the symbol table does.
for full in gofull gopiefull; do
	go tool nm "$W/$full" | awk '$2 == "T" && $3 ~ /^main\./ { print $1, $3 }' >"$W/$full.funcs"
done
nfuncs=$(wc -l <"$W/gofull.funcs")
check "the unstripped builds have main.main, main.midWork, main.leafWork ($nfuncs main.* functions)" \
	bash -c "grep -q ' main.main$' '$W/gofull.funcs' && grep -q ' main.midWork$' '$W/gofull.funcs' &&
		 grep -q ' main.leafWork$' '$W/gopiefull.funcs'"
for bin in gostrip gopie gonoshdr; do
	bad=0
	while read -r addr name; do
		got=$("$SYMQ" --no-inline "$W/$bin" "0x$addr" 2>/dev/null | cut -f2)
		if [ "$got" != "$name" ]; then
			echo "     $bin 0x$addr: '$got', expected '$name'"
			bad=$((bad + 1))
		fi
	done <"$W/$(full_of $bin).funcs"
	check "$bin: all $nfuncs main.* functions named from .gopclntab at their entry" [ "$bad" = 0 ]
done

# Inside leafWork's loop: the multiply of mix (inlined) and the xor after it, with lines.
LINE_MIX=$(grep -n 'return x\*6364136223846793005' "$SRC" | cut -d: -f1)
LINE_CALL=$(grep -n 'x = mix(x)' "$SRC" | cut -d: -f1)
LINE_XOR=$(grep -n 'x ^= x >> 17' "$SRC" | cut -d: -f1)
for bin in gostrip gopie gonoshdr; do
	full=$(full_of "$bin")
	go tool objdump -s '^main.leafWork$' "$W/$full" >"$W/$full.asm"
	# By instruction (objdump has no lines for a PIE): mix's multiply, the xor after the shift.
	mul=$(awk '/IMULQ/ { print $2; exit }' "$W/$full.asm")
	xor=$(awk '/SHRQ/ { s = 1; next } s && /XORQ/ { print $2; exit }' "$W/$full.asm")
	if [ -z "$mul" ] || [ -z "$xor" ]; then
		fail "$bin: objdump finds no multiply of mix or xor in leafWork"
		continue
	fi
	got=$("$SYMQ" --lines "$W/$bin" "$mul" 2>/dev/null | cut -f2)
	check "$bin: $mul is main.mix_[i] ($SRC:$LINE_MIX) inlined in main.leafWork (:$LINE_CALL) ('$got')" \
		[ "$got" = "main.mix_[i] ($SRC:$LINE_MIX) <- main.leafWork ($SRC:$LINE_CALL)" ]
	got=$("$SYMQ" --lines "$W/$bin" "$xor" 2>/dev/null | cut -f2)
	check "$bin: $xor is main.leafWork ($SRC:$LINE_XOR) ('$got')" \
		[ "$got" = "main.leafWork ($SRC:$LINE_XOR)" ]
done

# The runtime's functions too: 300 addresses spread over the unstripped build's text, named by
# the stripped table as by the symbol table and DWARF (names of the table drop the .abi0 of
# assembly functions' symbols).
go tool nm "$W/gofull" | awk '$2 == "T" || $2 == "t" { print $1 }' | sort -u |
	awk 'NR % 3 == 1' | head -n 300 | while read -r a; do printf '0x%x\n' $((16#$a + 1)); done \
	>"$W/addrs"
"$SYMQ" --lines "$W/gofull" $(cat "$W/addrs") 2>/dev/null | sed 's/\.abi0//g' >"$W/named.full"
"$SYMQ" --lines "$W/gostrip" $(cat "$W/addrs") 2>/dev/null | sed 's/\.abi0//g' >"$W/named.strip"
same=$(paste "$W/named.full" "$W/named.strip" | awk -F'\t' '$2 == $4 { n++ } END { print n + 0 }')
total=$(wc -l <"$W/addrs")
check "$same of $total runtime and main addresses named as the unstripped build names them (>= 99%)" \
	[ "$total" -ge 200 ] && [ $((100 * same)) -ge $((99 * total)) ]

need_root "Go profiles" || finish || exit 1
CHAIN='main\.main;main\.midWork;main\.leafWork'
for bin in gostrip gopie gonoshdr; do
	out="$T/$bin.folded"
	"$FLAMED" -o "$out" -- "$W/$bin" 4 1 >"$T/$bin.log" 2>&1
	n=$(samples "$bin" "$out")
	pct=$(fraction "$bin" "$CHAIN" "$out")
	check "$bin profiled: $pct% of its $n samples show main.main;main.midWork;main.leafWork (>= 95%)" \
		[ "$n" -ge 100 ] && [ "$pct" -ge 95 ]
	pct=$(fraction "$bin" "${CHAIN};main\.mix_\[i\]" "$out")
	check "$bin profiled: main.mix_[i] inlined in main.leafWork in $pct% of them (>= 10%)" \
		[ "$pct" -ge 10 ]
	check "$bin profiled: no unnamed frame of the binary" \
		bash -c "! grep -q '\[$bin+0x' '$out'"
done

# main.leafWork is a frameless leaf: frame pointers alone skip main.midWork (as perf does); the
# rows made from the table's stack-pointer deltas are what found it above.
out="$T/fp.folded"
"$FLAMED" --unwind fp -o "$out" -- "$W/gostrip" 3 1 >"$T/fp.log" 2>&1
skipped=$(fraction gostrip 'main\.main;main\.leafWork' "$out")
check "--unwind fp: $skipped% of samples skip main.midWork (>= 50%): the table's rows are needed" \
	[ "$skipped" -ge 50 ]

# Two goroutines on two threads (GOMAXPROCS 2): the worker's chain is named too.
out="$T/two.folded"
"$FLAMED" -o "$out" -- "$W/gostrip" 4 2 >"$T/two.log" 2>&1
# The runtime's monitor thread (runtime.sysmon) signals the two busy threads to preempt them:
# 2-4% of the samples, named, but neither goroutine's; judged apart from them.
sysmon=$(fraction gostrip 'runtime\.mstart1;runtime\.sysmon' "$out")
grep -v ';runtime\.sysmon;' "$out" >"$T/two-g.folded"
out="$T/two-g.folded"
n=$(samples gostrip "$out")
both=$(fraction gostrip 'main\.(main|worker);main\.midWork;main\.leafWork' "$out")
worker=$(fraction gostrip 'main\.worker;main\.midWork;main\.leafWork' "$out")
mainpct=$(fraction gostrip "$CHAIN" "$out")
check "two goroutines: $both% of $n samples in either chain (>= 95%), worker $worker%, main $mainpct% (each >= 20%); $sysmon% more in runtime.sysmon (<= 10%)" \
	[ "$sysmon" -le 10 ] && [ "$both" -ge 95 ] && [ "$worker" -ge 20 ] && [ "$mainpct" -ge 20 ]

# pprof, decoded by Go's own pprof: the functions named, with their files, and the binary's
# mapping carrying its Go build id (it has no GNU one).
out="$T/go.pb.gz"
"$FLAMED" -o "$out" -- "$W/gostrip" 2 1 >"$T/pprof.log" 2>&1
HOME="$T" go tool pprof -raw "$out" >"$T/go.raw" 2>&1
gobid=$(go tool buildid "$W/gostrip")
check "pprof of the stripped binary: main.leafWork in $SRC" \
	bash -c "grep -q 'main.leafWork $SRC' '$T/go.raw'"
check "pprof of the stripped binary: its mapping has the Go build id ($gobid)" \
	bash -c "sed -n '/^Mappings/,\$p' '$T/go.raw' | grep -qF ' $W/gostrip $gobid '"
# cgo: Go -> C -> Go, stripped, as an executable and as a PIE (external linking, gcc). The C
# functions are static in a stripped file (unnamed, as in any stripped C program); the Go frames
# on both sides of them are named: the cgo call and the callback's chain.
if need_tool "cgo" gcc; then
	CGO="$ROOT/tests/workloads/gocgo.go"
	check "go builds the cgo workload stripped, as an executable and as a PIE" bash -c "
		cd '$W' && CGO_ENABLED=1 go build -ldflags='-s -w' -o '$W/cgos' '$CGO' &&
		CGO_ENABLED=1 go build -buildmode=pie -ldflags='-s -w' -o '$W/cgopie' '$CGO'" \
		>"$T/cgo.log" 2>&1
	for bin in cgos cgopie; do
		out="$T/$bin.folded"
		"$FLAMED" -o "$out" -- "$W/$bin" 4 >"$T/$bin.log" 2>&1
		n=$(samples "$bin" "$out")
		call=$(fraction "$bin" 'runtime\.asmcgocall;_cgo_[0-9a-f]+_Cfunc_c_work;' "$out")
		back=$(fraction "$bin" '_Cfunc_c_work;.*;crosscall2;runtime\.cgocallback;.*_cgoexp_[0-9a-f]+_goLeaf;main\.goLeaf_\[i\]' "$out")
		check "$bin: $call% of $n samples under the named cgo call (>= 90%), $back% back in Go under it (>= 25%)" \
			[ "$n" -ge 100 ] && [ "$call" -ge 90 ] && [ "$back" -ge 25 ]
	done
fi
finish
