#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `flamed render` reading `perf script` output, as stackcollapse-perf.pl and inferno do: a real
# `perf record -g` of the chain workload (main -> a -> b -> c) through `perf script`, rendered to
# SVG and folded stacks; the same bytes from a file, stdin and a pipe; the input kind told by the
# first bytes (perf script, folded, pprof) or named by --input; bad input refused with a message
# that names the line, a non-zero exit and no output file.
# Needs: root (perf events), linux-perf (perf), libxml2-utils (xmllint); make test installs them.
. "$(dirname "$0")/lib.sh"

need_root "perf record of the chain workload" || { finish; exit; }
need_tool "perf script input" perf xmllint || { finish; exit; }

# --- a real perf.data ------------------------------------------------------------------------
# cpu-clock: a software event, present on every machine (a VM may have no cycles counter).
if perf record -e cpu-clock -g -F 499 -o "$T/chain.data" -- "$WL/chain" 3 \
	>"$T/record.log" 2>&1 && perf script -i "$T/chain.data" >"$T/chain.txt" 2>"$T/script.err"; then
	ok "perf record -g + perf script of the chain workload"
else
	fail "perf record -g + perf script of the chain workload"
	sed 's/^/     | /' "$T/record.log" "$T/script.err" | tail -20
fi
# Samples perf recorded: its header lines ("chain PID ... cpu-clock:...:").
nr_perf=$(grep -cE '^chain +[0-9]+' "$T/chain.txt")
check "perf script has chain samples ($nr_perf)" test "$nr_perf" -ge 50

# --- rendering -------------------------------------------------------------------------------
check "render perf script to SVG" "$FLAMED" render "$T/chain.txt" -o "$T/chain.svg"
check "the SVG is well-formed (xmllint)" xmllint --noout "$T/chain.svg"
check "the SVG draws the chain's frames" \
	grep -q '<title>c (' "$T/chain.svg"
check "render perf script to folded" \
	"$FLAMED" render "$T/chain.txt" --format folded -o "$T/chain.folded"
nr=$(samples chain "$T/chain.folded")
check "folded: every perf sample counted once, comm first ($nr of $nr_perf)" \
	test "$nr" = "$nr_perf"
pct=$(fraction chain ';main;a;b;c$' "$T/chain.folded")
check "folded: main;a;b;c in $pct% of the samples (>= 90)" test "$pct" -ge 90
# Kernel frames keep their kind: samples with a [kernel.kallsyms] frame in perf script are the
# samples with a _[k] frame in the folded stacks.
k_perf=$(awk '/^[^ \t]/ { k = 0 } /^[ \t].*\(\[kernel\./ && !k { n++; k = 1 } END { print n + 0 }' \
	"$T/chain.txt")
k_folded=$(awk '/_\[k\]/ { n += $NF } END { print n + 0 }' "$T/chain.folded")
check "kernel frames marked _[k] ($k_folded samples, perf: $k_perf)" test "$k_folded" = "$k_perf"
check "no +0x offsets left in frame names" bash -c "! grep -q '+0x' '$T/chain.folded'"

# Without -g perf prints one line a sample (comm padded, the frame after the event).
if perf record -e cpu-clock -F 499 -o "$T/flat.data" -- "$WL/chain" 1 >"$T/record.log" 2>&1 &&
	perf script -i "$T/flat.data" >"$T/flat.txt" 2>/dev/null; then
	"$FLAMED" render "$T/flat.txt" --format folded >"$T/flat.folded" 2>"$T/err"
	nr_flat=$(grep -cE '^ *chain +[0-9]+ ' "$T/flat.txt")
	check "perf record without -g: every sample counted ($(samples chain "$T/flat.folded") of $nr_flat)" \
		test "$(samples chain "$T/flat.folded")" = "$nr_flat" -a "$nr_flat" -ge 25
	pct=$(fraction chain '^chain;c$' "$T/flat.folded")
	check "perf record without -g: the leaf c in $pct% of the samples (>= 90)" test "$pct" -ge 90
else
	fail "perf record without -g + perf script"
fi

# Two events recorded: only the first one's samples count (stackcollapse-perf.pl's default),
# with a warning naming both.
if perf record -e cpu-clock,task-clock -g -F 499 -o "$T/two.data" -- "$WL/chain" 1 \
	>"$T/record.log" 2>&1 && perf script -i "$T/two.data" >"$T/two.txt" 2>/dev/null; then
	"$FLAMED" render "$T/two.txt" --format folded >"$T/two.folded" 2>"$T/err"
	first=$(grep -m1 -oE ' (cpu|task)-clock' "$T/two.txt" | tr -d ' ')
	other=$([ "$first" = cpu-clock ] && echo task-clock || echo cpu-clock)
	nr_first=$(grep -cE "^chain .* $first(:[a-z]*)?: *\$" "$T/two.txt")
	nr_other=$(grep -cE "^chain .* $other(:[a-z]*)?: *\$" "$T/two.txt")
	check "two events: only the first's samples ($(samples chain "$T/two.folded") = $first's $nr_first; $other: $nr_other)" \
		test "$(samples chain "$T/two.folded")" = "$nr_first" -a "$nr_other" -gt 0
	check "two events: warned, naming both" \
		grep -q "samples of $first, the first event; $nr_other samples\? of other events ($other" "$T/err"
else
	fail "perf record -e cpu-clock,task-clock + perf script"
fi

# --- the same bytes from a file, stdin and a pipe ----------------------------------------------
"$FLAMED" render --format folded <"$T/chain.txt" >"$T/stdin.folded" 2>"$T/err"
check "stdin gives the same folded output as the file" cmp -s "$T/stdin.folded" "$T/chain.folded"
perf script -i "$T/chain.data" 2>/dev/null | "$FLAMED" render --format folded >"$T/pipe.folded"
check "perf script | flamed render: the same folded output" cmp -s "$T/pipe.folded" "$T/chain.folded"
"$FLAMED" render --input perf-script --format folded "$T/chain.txt" >"$T/named.folded"
check "--input perf-script: the same as detected" cmp -s "$T/named.folded" "$T/chain.folded"
"$FLAMED" render -o "$T/stdin.svg" <"$T/chain.txt"
check "stdin gives the same SVG as the file" cmp -s "$T/stdin.svg" "$T/chain.svg"

# --- the kind from the first bytes ------------------------------------------------------------
"$FLAMED" render "$T/chain.folded" --format folded >"$T/again.folded"
check "folded input detected: renders back to itself" cmp -s "$T/again.folded" "$T/chain.folded"
"$FLAMED" render "$T/chain.txt" --format pprof -o "$T/chain.pb.gz"
"$FLAMED" render --format folded <"$T/chain.pb.gz" >"$T/pprof.folded"
check "pprof input detected on stdin (gzip magic): the same stacks" \
	cmp -s "$T/pprof.folded" "$T/chain.folded"
gzip -dc "$T/chain.pb.gz" >"$T/chain.pb.raw"
"$FLAMED" render --format folded "$T/chain.pb.raw" >"$T/raw.folded"
check "uncompressed pprof detected (protobuf bytes, no telling name): the same stacks" \
	cmp -s "$T/raw.folded" "$T/chain.folded"
"$FLAMED" diff "$T/chain.txt" "$T/chain.folded" --format folded >"$T/diff.folded"
check "diff: perf script BEFORE, folded AFTER" \
	test "$(awk '$(NF-1) != $NF' "$T/diff.folded" | wc -l)" = 0 -a -s "$T/diff.folded"
if "$FLAMED" render --input folded "$T/chain.txt" -o "$T/forced.svg" 2>"$T/err"; then
	fail "--input folded on perf script: refused (no folded stacks in it)"
else
	ok "--input folded on perf script: refused (no folded stacks in it)"
fi

# --- bad input --------------------------------------------------------------------------------
# bad_input NAME FILE MESSAGE-REGEX [ARGS...]: non-zero exit, the message, no output file.
bad_input() {
	local name=$1 file=$2 re=$3
	shift 3
	rm -f "$T/bad.svg"
	if "$FLAMED" render "$@" "$file" -o "$T/bad.svg" 2>"$T/err"; then
		fail "$name: non-zero exit"
	else
		ok "$name: non-zero exit"
	fi
	if grep -qE -- "$re" "$T/err"; then
		ok "$name: message matches /$re/"
	else
		fail "$name: message matches /$re/: $(cat "$T/err")"
	fi
	check "$name: no output file" test ! -e "$T/bad.svg"
	check "$name: no temporary file left" \
		test -z "$(find "$T" -maxdepth 1 -name '*bad.svg*' -print)"
}
head -c 4096 "$WL/chain" >"$T/binary"
bad_input "binary as perf script" "$T/binary" 'binary:1: a NUL byte' --input perf-script
{ head -n 20 "$T/chain.txt"; printf '\tffff f (/x)\0\n'; } >"$T/nul.txt"
bad_input "NUL byte in perf script" "$T/nul.txt" 'nul.txt:21: a NUL byte.*perf script'
{ head -n 3 "$T/chain.txt"; printf '\t%070000d\n' 0; } >"$T/long.txt"
bad_input "over-long line" "$T/long.txt" 'long.txt:4: a line longer than 64 KiB'
printf 'this is not\nperf script output\n' >"$T/text.txt"
bad_input "text as perf script" "$T/text.txt" 'no samples found in .*text.txt' --input perf-script
bad_input "text, detected" "$T/text.txt" 'no stacks found in .*text.txt: expected folded.*perf script'
bad_input "perf.data itself" "$T/chain.data" 'chain.data is a perf.data file.*perf script -i'
bad_input "perf script as pprof" "$T/chain.txt" 'not a valid pprof profile' --input pprof
bad_input "unknown --input" "$T/chain.txt" "--input: expected auto, folded, perf-script or pprof" \
	--input stackcollapse
bad_input "--diff with perf script" "$T/chain.txt" 'differential input is folded' \
	--diff --input perf-script

# A junk line between two samples is skipped with a warning naming it; no sample is lost.
blank=$(grep -n -m1 '^$' "$T/chain.txt" | cut -d: -f1)
{ head -n "$blank" "$T/chain.txt"; echo 'garbage line'; tail -n +$((blank + 1)) "$T/chain.txt"; } \
	>"$T/junk.txt"
"$FLAMED" render "$T/junk.txt" --format folded >"$T/junk.folded" 2>"$T/err"
check "junk line: warned with its line number ($((blank + 1)))" grep -q \
	"junk.txt: 1 line not part of a perf script sample (first: line $((blank + 1))), ignoring" \
	"$T/err"
check "junk line: every sample still counted" cmp -s "$T/junk.folded" "$T/chain.folded"

finish
