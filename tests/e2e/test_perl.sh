#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: Perl subs unwound in BPF among native frames (src/runtime/perl.c), on Debian's
# perl 5.36 (threaded, libperl built into /usr/bin/perl). tests/workloads/plchain.pl spins in
# main::RUNTIME -> main::main -> Outer::mid -> main::leaf; with "digest" ... Outer::mid ->
# main::digest -> Digest::MD5::md5 (C); with "sort" ... Outer::mid -> main::sorter -> pp_sort
# (native) -> main::leaf (a sort block: a second runops loop on a stackinfo of its own); with
# "first" ... Outer::mid -> main::finder -> main::__ANON__ -> main::leaf (List::Util::first's
# MULTICALL block, above its XS frames). Each
# must show exactly that chain of _[l] frames in place of Perl_runops_standard's activations,
# under the native frames from _start through perl_run. Lines (--lines, pprof) are read from
# the workload by their marks.
. "$(dirname "$0")/lib.sh"

SCRIPT="$ROOT/tests/workloads/plchain.pl"
PERL=/usr/bin/perl
P="(plchain.pl)"
CHAIN="main::RUNTIME $P;main::main $P;Outer::mid $P;main::leaf $P"
DCHAIN="main::RUNTIME $P;main::main $P;Outer::mid $P;main::digest $P"
SCHAIN="main::RUNTIME $P;main::main $P;Outer::mid $P;main::sorter $P;main::leaf $P"
FCHAIN="main::RUNTIME $P;main::main $P;Outer::mid $P;main::finder $P;main::__ANON__ $P;main::leaf $P"
line_of() { grep -n -- "$1" "$SCRIPT" | head -1 | cut -d: -f1; }
LL=$(line_of 'L-LEAF')
LMID=$(line_of 'L-MID$')
LMAIN=$(line_of 'L-MAIN')
LTOP=$(line_of 'L-TOP')

# pl_stats FILE WANT [NATIVE]: "chain running": of the samples running the script (under
# perl_run; with NATIVE, only those with a frame matching the regex NATIVE), those whose _[l]
# frames are exactly WANT, under native frames _start..perl_run, with NATIVE (if given) below
# the last _[l] frame.
pl_stats() {
	python3 - "$1" "$2" "${3:-}" <<'EOF'
import re, sys
path, want, nat = sys.argv[1], sys.argv[2], sys.argv[3]
chain = running = 0
for line in open(path, errors="surrogateescape"):
    stack, _, n = line.rstrip("\n").rpartition(" ")
    f = stack.split(";")[1:]
    if "perl_run" not in f:
        continue
    if nat and not any(re.search(nat, x) for x in f):
        continue
    running += int(n)
    idx = [i for i, x in enumerate(f) if x.endswith("_[l]")]
    if not idx:
        continue
    pl = ";".join(f[i][:-4] for i in idx)
    native = ";".join(f[: idx[0]])
    below = f[idx[-1] + 1 :]
    if pl == want and re.match(r"^_start;.*;perl_run$", native) and \
       (not nat or any(re.search(nat, x) for x in below)):
        chain += int(n)
print(chain, running)
EOF
}

# check_chain LABEL FILE WANT [MIN] [NATIVE]: >= 90% of the samples running the script have the
# chain WANT; at least MIN (100) of them.
check_chain() {
	local label=$1 file=$2 want=$3 min=${4:-100} nat=${5:-} chain running
	read -r chain running < <(pl_stats "$file" "$want" "$nat")
	echo "     $label: $chain of $running samples"
	check "$label: >= 90% of samples are _start..perl_run;$want ($chain/$running)" \
		test "$running" -ge "$min" -a $((chain * 100)) -ge $((running * 90))
	[ $((chain * 100)) -ge $((running * 90)) ] || heaviest_misses "$file" "${want//;/_[l];}_[l]"
}

if need_root "perl frames" && need_tool "perl frames" perl; then
	# Command mode: the whole run, compilation included (not under perl_run: not counted).
	"$FLAMED" -F 499 -o "$T/cmd.folded" -- "$PERL" "$SCRIPT" chain 2 2>"$T/cmd.err"
	check "command mode: exit 0" test $? = 0
	check_chain "command" "$T/cmd.folded" "$CHAIN"

	# A script shorter than a drain (0.4 s of wall time): its subs are named while it runs, as
	# each new stack with Perl frames is announced, not at the next drain, when the process is
	# gone. The stacks of its last instants may still go unnamed: 5% allowed.
	"$FLAMED" -F 999 -o "$T/short.folded" -- "$PERL" "$SCRIPT" chain 0.4 wall 2>"$T/short.err"
	check "script shorter than a drain: exit 0" test $? = 0
	# Its compilation (use lines under main::BEGIN, constant folding under main::RUNTIME, both
	# below perl_parse) is a fixed CPU cost that on a loaded machine was a fifth of the 0.4 s:
	# the script's running is what perl_run holds.
	short_script_checks "$T/short.folded" plchain.pl \
		'main::RUNTIME (plchain.pl)_[l];main::main (plchain.pl)_[l];Outer::mid (plchain.pl)_[l];main::leaf (plchain.pl)_[l]' \
		'[perl sub 0x' Perl sub 90 'perl_run;'

	# -p PID: a process found running; its layout is checked on its interpreter at attach.
	"$PERL" "$SCRIPT" chain 30 &
	pid=$!
	wait_until 30 ticks_at_least "$pid" 10
	"$FLAMED" -F 499 -d 3 -p "$pid" -o "$T/pid.folded" 2>"$T/pid.err"
	check "-p PID: exit 0" test $? = 0
	check_chain "-p PID" "$T/pid.folded" "$CHAIN" 50
	check "the 5.36 layout fits perl 5.36: no process refused in either run" \
		bash -c "! grep -h 'do not read as the' '$T/cmd.err' '$T/pid.err'"

	# The same process with the layout made wrong (FLAMED_PERL_LAYOUT_SKEW moves the
	# Icurcop/Icurstackinfo and xcv_gv offsets): refused at attach with one warning, native
	# frames kept.
	FLAMED_PERL_LAYOUT_SKEW=8 "$FLAMED" -F 499 -d 1 -p "$pid" -o "$T/skew.folded" 2>"$T/skew.err"
	check "wrong layout: exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check "wrong layout: refused with one warning" \
		test "$(grep -c "process $pid (Perl 5.36): .* do not read as the 5.36 layout says" "$T/skew.err")" = 1
	check "wrong layout: native frames only (perl_run kept, no _[l])" \
		bash -c "! grep -q '_\[l\]' '$T/skew.folded' && grep -q ';perl_run;' '$T/skew.folded'"

	# A version without a layout: a copy of perl whose PL_version says 99, run twice: reported
	# once (per file), native frames kept, no _[l] frame.
	mkdir -p "$T/bin"
	cp "$PERL" "$T/bin/perl"
	check "Perl 5.99: PL_version patched" patch_symbol "$T/bin/perl" PL_version 63
	"$FLAMED" -F 499 -o "$T/v99.folded" -- sh -c \
		"'$T/bin/perl' '$SCRIPT' chain 0.5 && '$T/bin/perl' '$SCRIPT' chain 0.5" 2>"$T/v99.err"
	check "Perl 5.99: exit 0, both runs of the script too" \
		bash -c "test $? = 0 && ! grep -q 'exited with status' '$T/v99.err'"
	check "Perl 5.99: reported once as without a known layout" \
		test "$(grep -c 'Perl 5\.99\.[0-9]* .*has no known layout' "$T/v99.err")" = 1
	check "Perl 5.99: native frames only (perl_run, Perl_runops_standard kept, no _[l])" \
		bash -c "! grep -q '_\[l\]' '$T/v99.folded' && grep -q ';perl_run;.*Perl_runops_standard' '$T/v99.folded'"

	# Native code under Perl: Digest::MD5::md5 keeps its Perl callers above it.
	"$FLAMED" -F 499 -o "$T/digest.folded" -- "$PERL" "$SCRIPT" digest 2 2>/dev/null
	check_chain "Digest::MD5" "$T/digest.folded" "$DCHAIN" 100 'MD5'

	# A sort block: pp_sort's native frames between main::sorter and the leaf the block calls,
	# whose runops activation (on the PERLSI_SORT stackinfo) emits the leaf only.
	"$FLAMED" -F 499 -o "$T/sort.folded" -- "$PERL" "$SCRIPT" sort 2 2>/dev/null
	check_chain "sort" "$T/sort.folded" "$SCHAIN"
	pct=$(fraction perl 'main::sorter [(]plchain[.]pl[)]_[[]l[]];Perl_pp_sort;([^;]*;)*main::leaf [(]plchain[.]pl[)]_[[]l[]]' "$T/sort.folded")
	echo "     sort: $pct% of perl's samples (start-up included)"
	check "sort: >= 85% of samples are ...;main::sorter;Perl_pp_sort;(native);main::leaf ($pct%)" \
		test "$pct" -ge 85

	# A block run by MULTICALL (List::Util::first): a runops activation of its own above
	# List::Util's XS frames, on a stackinfo pushed for it, its first context the block's
	# (retop NULL); the callers from main::finder down at perl_run's activation.
	"$FLAMED" -F 499 -o "$T/first.folded" -- "$PERL" "$SCRIPT" first 2 2>/dev/null
	check_chain "MULTICALL" "$T/first.folded" "$FCHAIN"
	pct=$(fraction perl 'main::finder [(]plchain[.]pl[)]_[[]l[]];Perl_pp_entersub;[^;]*Util[^;]*;main::__ANON__ [(]plchain[.]pl[)]_[[]l[]];main::leaf' "$T/first.folded")
	echo "     MULTICALL: $pct% of perl's samples (start-up included)"
	check "MULTICALL: >= 85% of samples are ...;main::finder;(List::Util, native);main::__ANON__;main::leaf ($pct%)" \
		test "$pct" -ge 85

	# ithreads: the main interpreter's frames in the main thread only; the ithread (its own
	# interpreter) keeps its native frames, never the main thread's; said once. 4 s of wall
	# time: loading threads.pm and cloning the interpreter, a fixed cost under main::RUNTIME,
	# took 8% of a 2 s run's main thread on a loaded machine.
	"$FLAMED" -F 499 -o "$T/thr.folded" -- "$PERL" "$SCRIPT" threads 4 2>"$T/thr.err"
	check "ithreads: exit 0, said once" \
		test $? = 0 -a "$(grep -c 'uses ithreads: only its main interpreter' "$T/thr.err")" = 1
	check_chain "ithreads, main thread" "$T/thr.folded" "$CHAIN" 50
	n=$(fraction perl 'start_thread;' "$T/thr.folded")
	check "ithreads: the ithread sampled ($n% of samples), no Perl frame in its stacks" \
		bash -c "[ '$n' -ge 20 ] && ! grep 'start_thread;' '$T/thr.folded' | grep -q '_\[l\]'"

	# --lines: the line of each frame: PL_curcop's for the leaf, its callee's blk_oldcop's for
	# the others.
	want="main::RUNTIME (plchain.pl:$LTOP);main::main (plchain.pl:$LMAIN);Outer::mid (plchain.pl:$LMID);main::leaf (plchain.pl:$LL)"
	"$FLAMED" -F 499 --lines -o "$T/lines.folded" -- "$PERL" "$SCRIPT" chain 1.5 2>/dev/null
	check_chain "--lines" "$T/lines.folded" "$want"

	# SVG: well-formed, Perl frames in their own colour, named in the legend.
	"$FLAMED" -F 499 -o "$T/pl.svg" -- "$PERL" "$SCRIPT" chain 1.5 2>/dev/null
	check "SVG: well-formed (xmllint)" xmllint --noout "$T/pl.svg"
	check "SVG: main::leaf (plchain.pl) drawn, Perl in the legend" \
		bash -c "grep -q '<title>main::leaf (plchain.pl) (' '$T/pl.svg' && grep -q '>Perl</text>' '$T/pl.svg'"
	# Every Perl frame in the Perl hue (src/render/svg.c HUE_PLFRAME: r 30-70, g 120-165,
	# b 140-190).
	svg_hue_check "$T/pl.svg" plchain.pl Perl 4 30 70 120 165 140 190

	# pprof: Function.name, filename and Line.line, read by go tool pprof; read back.
	if need_tool "perl frames in pprof" go; then
		"$FLAMED" -F 499 -o "$T/pl.pb.gz" -- "$PERL" "$SCRIPT" chain 1 2>/dev/null
		go tool pprof -raw "$T/pl.pb.gz" >"$T/pl.raw" 2>&1
		check "pprof: main::leaf at $SCRIPT:$LL" \
			grep -qF " main::leaf $SCRIPT:$LL s=" "$T/pl.raw"
		check "pprof: Outer::mid at plchain.pl:$LMID" \
			grep -qF " Outer::mid $SCRIPT:$LMID s=" "$T/pl.raw"
		check "pprof: the [perl] mapping" grep -qF '[perl]' "$T/pl.raw"
		"$FLAMED" render "$T/pl.pb.gz" -o "$T/rt.folded" 2>/dev/null
		check "pprof read back: main::main;Outer::mid;main::leaf (plchain.pl)_[l]" \
			grep -q 'main::main (plchain.pl)_\[l\];Outer::mid (plchain.pl)_\[l\];main::leaf (plchain.pl)_\[l\]' "$T/rt.folded"
	fi

	# --perl off: no Perl frame, the native ones kept.
	"$FLAMED" -F 499 --perl off -o "$T/off.folded" -- "$PERL" "$SCRIPT" chain 0.5 2>/dev/null
	check "--perl off: no _[l] frame, perl_run kept" \
		bash -c "! grep -q '_\[l\]' '$T/off.folded' && grep -q ';perl_run;' '$T/off.folded'"
fi
finish
