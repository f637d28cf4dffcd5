#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Source lines in pprof (root, go): a profile of the chain workload (built with -g) has
# Function.filename and Line.line from DWARF, so `go tool pprof -list c` shows chain.c with the
# hot loop's line, and -raw shows every frame of main;a;b;c at its file:line; an inlined callee
# (sym_inline: inner_mix inlined into outer_loop) is an extra Line of the same location, at its
# own line; with --lines, pprof names stay plain while folded names keep " (file:line)".
. "$(dirname "$0")/lib.sh"

need_root "pprof source lines" || { finish; exit $?; }
need_tool "pprof source lines" go gcc || { finish; exit $?; }
SRC="$ROOT/tests/workloads"
# The line of each function's hot statement, read from the source, not written down here.
line_of() { grep -n -- "$2" "$SRC/$1" | head -1 | cut -d: -f1; }
LC=$(line_of chain.c 'x = x \* 6364136223846793005UL')
LB=$(line_of chain.c '^	c();')
LA=$(line_of chain.c '^	b();')

"$FLAMED" -o "$T/chain.pb.gz" -- "$WL/chain" 2 2>"$T/chain.err"
go tool pprof -raw "$T/chain.pb.gz" >"$T/raw" 2>"$T/raw.err"
check "-raw: c at chain.c:$LC" grep -qE " c [^ ]*/tests/workloads/chain\.c:$LC s=" "$T/raw"
check "-raw: b at chain.c:$LB (its call of c)" grep -qE " b [^ ]*/chain\.c:$LB s=" "$T/raw"
check "-raw: a at chain.c:$LA (its call of b)" grep -qE " a [^ ]*/chain\.c:$LA s=" "$T/raw"
# Function.start_line: each function's declaration line (DW_AT_decl_line).
SC=$(line_of chain.c '^__attribute__((noinline)) void c(void)')
SM=$(line_of chain.c '^int main(')
check "-raw: c starts at line $SC, main at $SM (Function.start_line)" \
	bash -c "grep -qE ' c [^ ]*/chain\.c:$LC s=$SC\$' '$T/raw' && grep -qE ' main [^ ]*/chain\.c:[0-9]+ s=$SM\$' '$T/raw'"
go tool pprof -list '^c$' "$T/chain.pb.gz" >"$T/list" 2>&1
if grep -q "ROUTINE .* c in .*chain.c" "$T/list" && ! grep -q "no source information" "$T/list" &&
	grep -qE "^ +[0-9.]+m?s +[0-9.]+m?s +$LC:" "$T/list"; then
	ok "go tool pprof -list c: chain.c, time on line $LC"
else
	fail "go tool pprof -list c: chain.c, time on line $LC"
	head -20 "$T/list"
fi

# Inlined frames: extra Lines of the location, each at its own line.
gcc -O2 -g -fno-omit-frame-pointer "$SRC/sym_inline.c" -o "$T/inl"
LI=$(line_of sym_inline.c 'x = (x ^ (x >> 7))')
LO=$(line_of sym_inline.c 'return inner_mix(x, 100000)')
"$FLAMED" -o "$T/inl.pb.gz" -- "$T/inl" 2 >/dev/null 2>"$T/inl.err"
go tool pprof -raw "$T/inl.pb.gz" >"$T/inl.raw" 2>&1
# A location line "N: 0xADDR M=1 inner_mix FILE:LI s=SI" continued by "outer_loop FILE:LO s=SO",
# each function's start line its declaration's (the inlined one's through its abstract origin).
SI=$(line_of sym_inline.c 'unsigned inner_mix(unsigned x')
SO=$(line_of sym_inline.c 'unsigned outer_loop(unsigned x)')
check "inlined inner_mix (line $LI, from $SI) and outer_loop (line $LO, from $SO) are Lines of one location" \
	awk -v li="$LI" -v lo="$LO" -v si="$SI" -v so="$SO" '
		/ inner_mix .*sym_inline\.c:/ { if ($0 ~ ("sym_inline\\.c:" li " s=" si "$")) want = 1; next }
		want && /outer_loop .*sym_inline\.c:/ && $0 ~ ("sym_inline\\.c:" lo " s=" so "$") && $1 !~ /:$/ { found = 1 }
		{ want = 0 }
		END { exit !found }' "$T/inl.raw"

# --lines: folded names carry (file:line); pprof names are the plain function names.
"$FLAMED" --lines -o "$T/l.pb.gz" -- "$WL/chain" 2 2>/dev/null
go tool pprof -top "$T/l.pb.gz" >"$T/top" 2>&1
check "--lines: pprof names are plain (c, no '(chain.c:')" \
	bash -c "grep -qE ' c\$' '$T/top' && ! grep -q '(chain.c:' '$T/top'"
"$FLAMED" --lines -o "$T/l.folded" -- "$WL/chain" 1 2>/dev/null
check "--lines: folded names keep ' (chain.c:$LC)'" grep -q "c (chain.c:$LC)" "$T/l.folded"
finish
