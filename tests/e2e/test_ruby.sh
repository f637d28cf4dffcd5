#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: Ruby methods and blocks unwound in BPF among native frames (src/runtime/ruby.c),
# on Debian's ruby 3.1 (libruby-3.1, stripped). tests/workloads/rbchain.rb spins in
# <main> -> main -> Outer#mid -> leaf; with "digest" ... mid -> digest -> block in digest ->
# Digest::SHA256.digest (C); with "block" ... mid -> Integer#times (C) -> block in mid -> leaf;
# with "classes" ... mid -> Shapes::Box.build -> Shapes::Util.twice -> Shapes::Fill#fill ->
# matchy -> leaf. Methods are named with their owner as Ruby 3.4's backtraces do: "Outer#mid",
# "Object#leaf" (top-level methods are Object's), "Shapes::Box.build", "block in Outer#mid".
# Each must show exactly that chain of _[r] frames in place of rb_vm_exec's activations, under
# the native frames from _start through ruby_run_node. Lines (--lines, pprof) are read from the
# workload by their marks.
. "$(dirname "$0")/lib.sh"

SCRIPT="$ROOT/tests/workloads/rbchain.rb"
RUBY=/usr/bin/ruby
R="(rbchain.rb)"
CHAIN="<main> $R;Object#main $R;Outer#mid $R;Object#leaf $R"
DCHAIN="<main> $R;Object#main $R;Outer#mid $R;Object#digest $R;block in Object#digest $R"
BCHAIN="<main> $R;Object#main $R;Outer#mid $R;block in Outer#mid $R;Object#leaf $R"
CCHAIN="<main> $R;Object#main $R;Outer#mid $R;Shapes::Box.build $R;Shapes::Util.twice $R;Shapes::Fill#fill $R;Object#matchy $R;Object#leaf $R"
line_of() { grep -n -- "$1" "$SCRIPT" | head -1 | cut -d: -f1; }
LL=$(line_of 'L-LEAF')
LMID=$(line_of 'L-MID$')
LMAIN=$(line_of 'L-MAIN')
LTOP=$(line_of 'L-TOP')
LDEF=$(line_of '^def leaf(')

# rb_stats FILE WANT [NATIVE]: "chain running": of the samples running the script (under
# ruby_run_node; with NATIVE, only those with a frame matching the regex NATIVE), those whose
# _[r] frames are exactly WANT, under native frames _start..ruby_run_node (and one frame of
# libruby's, unnamed: it is stripped), with NATIVE (if given) below the last _[r] frame.
rb_stats() {
	python3 - "$1" "$2" "${3:-}" <<'EOF'
import re, sys
path, want, nat = sys.argv[1], sys.argv[2], sys.argv[3]
chain = running = 0
for line in open(path):
    stack, _, n = line.rstrip("\n").rpartition(" ")
    f = stack.split(";")[1:]
    if "ruby_run_node" not in f:
        continue
    if nat and not any(re.search(nat, x) for x in f):
        continue
    running += int(n)
    idx = [i for i, x in enumerate(f) if x.endswith("_[r]")]
    if not idx:
        continue
    rb = ";".join(f[i][:-4] for i in idx)
    native = ";".join(f[: idx[0]])
    below = f[idx[-1] + 1 :]
    if rb == want and re.match(r"^_start;.*;ruby_run_node(;[^;]*)?$", native) and \
       (not nat or any(re.search(nat, x) for x in below)):
        chain += int(n)
print(chain, running)
EOF
}

# check_chain LABEL FILE WANT [MIN] [NATIVE]: >= 90% of the samples running the script have the
# chain WANT; at least MIN (100) of them.
check_chain() {
	local label=$1 file=$2 want=$3 min=${4:-100} nat=${5:-} chain running
	read -r chain running < <(rb_stats "$file" "$want" "$nat")
	echo "     $label: $chain of $running samples"
	check "$label: >= 90% of samples are _start..ruby_run_node;$want ($chain/$running)" \
		test "$running" -ge "$min" -a $((chain * 100)) -ge $((running * 90))
	[ $((chain * 100)) -ge $((running * 90)) ] || heaviest_misses "$file" "${want//;/_[r];}_[r]"
}

if need_root "ruby frames" && need_tool "ruby frames" ruby; then
	# Command mode: the whole run, Ruby start-up included (not under ruby_run_node: not
	# counted).
	"$FLAMED" -F 499 -o "$T/cmd.folded" -- "$RUBY" "$SCRIPT" chain 2 2>"$T/cmd.err"
	check "command mode: exit 0" test $? = 0
	check_chain "command" "$T/cmd.folded" "$CHAIN"

	# A script shorter than a drain (0.4 s of wall time): its iseqs are named while it runs,
	# as each new stack with Ruby frames is announced, not at the next drain, when the process
	# is gone. The stacks of its last instants may still go unnamed: 5% allowed.
	"$FLAMED" -F 999 -o "$T/short.folded" -- "$RUBY" "$SCRIPT" chain 0.4 wall 2>"$T/short.err"
	check "script shorter than a drain: exit 0" test $? = 0
	short_script_checks "$T/short.folded" rbchain.rb \
		'<main> (rbchain.rb)_[r];Object#main (rbchain.rb)_[r];Outer#mid (rbchain.rb)_[r];Object#leaf (rbchain.rb)_[r]' \
		'[ruby iseq 0x' Ruby iseq

	# -p PID: a process found running; its layout is checked on its running frames at attach.
	"$RUBY" "$SCRIPT" chain 30 &
	pid=$!
	wait_until 30 ticks_at_least "$pid" 10
	"$FLAMED" -F 499 -d 3 -p "$pid" -o "$T/pid.folded" 2>"$T/pid.err"
	check "-p PID: exit 0" test $? = 0
	check_chain "-p PID" "$T/pid.folded" "$CHAIN" 50
	check "the 3.1 layout fits ruby 3.1: no process refused in either run" \
		bash -c "! grep -h 'do not read as the' '$T/cmd.err' '$T/pid.err'"

	# The same process with the layout made wrong (FLAMED_RUBY_LAYOUT_SKEW moves the
	# running_ec and label offsets): refused at attach with one warning, native frames kept.
	FLAMED_RUBY_LAYOUT_SKEW=8 "$FLAMED" -F 499 -d 1 -p "$pid" -o "$T/skew.folded" 2>"$T/skew.err"
	check "wrong layout: exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check "wrong layout: refused with one warning" \
		test "$(grep -c "process $pid (Ruby 3.1): .* do not read as the 3.1 layout says" "$T/skew.err")" = 1
	check "wrong layout: native frames only (ruby_run_node kept, no _[r])" \
		bash -c "! grep -q '_\[r\]' '$T/skew.folded' && grep -q ';ruby_run_node;' '$T/skew.folded'"

	# A version without a layout: the same libruby saying it is 3.9.2 (ruby_version patched),
	# loaded by two processes: reported once (per file), native frames kept, no _[r] frame.
	# --disable-gems: rubygems loads rbconfig.rb, which refuses a version not its own.
	mkdir -p "$T/lib"
	LIBRUBY=$(ldd "$RUBY" | awk '/libruby/ { print $3 }')
	cp "$LIBRUBY" "$T/lib/"
	check "Ruby 3.9: ruby_version patched" \
		patch_symbol "$T/lib/$(basename "$LIBRUBY")" ruby_version "332e39"
	LD_LIBRARY_PATH="$T/lib" "$FLAMED" -F 499 -o "$T/v39.folded" -- sh -c \
		"'$RUBY' --disable-gems '$SCRIPT' chain 0.5 && '$RUBY' --disable-gems '$SCRIPT' chain 0.5" \
		2>"$T/v39.err"
	check "Ruby 3.9: exit 0, both runs of the script too" \
		bash -c "test $? = 0 && ! grep -q 'exited with status' '$T/v39.err'"
	check "Ruby 3.9: reported once as without a known layout" \
		test "$(grep -c 'Ruby 3\.9\.2 .*has no known layout' "$T/v39.err")" = 1
	check "Ruby 3.9: native frames only (rb_vm_exec, ruby_run_node kept, no _[r])" \
		bash -c "! grep -q '_\[r\]' '$T/v39.folded' && grep -q ';ruby_run_node;.*;rb_vm_exec' '$T/v39.folded'"

	# Native code under Ruby: Digest::SHA256.digest keeps its Ruby callers above it (the
	# block's activation of rb_vm_exec, then the method's).
	"$FLAMED" -F 499 -o "$T/digest.folded" -- "$RUBY" "$SCRIPT" digest 2 2>>"$T/runs.err"
	check_chain "Digest::SHA256" "$T/digest.folded" "$DCHAIN" 100 '^rb_Digest_SHA256_'

	# A block yielded from C: Integer#times's native frames between mid and the block, whose
	# activation of rb_vm_exec ends at its FINISH frame.
	"$FLAMED" -F 499 -o "$T/block.folded" -- "$RUBY" "$SCRIPT" block 2 2>>"$T/runs.err"
	check_chain "block" "$T/block.folded" "$BCHAIN"
	pct=$(fraction ruby 'Outer#mid [(]rbchain[.]rb[)]_[[]r[]];[^_;][^;]*;([^;]*;)*block in Outer#mid [(]rbchain[.]rb[)]_[[]r[]];Object#leaf' "$T/block.folded")
	echo "     block: $pct% of ruby's samples (start-up included)"
	check "block: >= 85% of samples are ...;mid;(Integer#times, native);block in mid;leaf ($pct%)" \
		test "$pct" -ge 85

	# Class names: singleton methods (def self., class << self), a module's method called on
	# an including class (its owner is the module), a frame whose method entry is behind an
	# svar (matchy's =~ sets $~).
	"$FLAMED" -F 499 -o "$T/classes.folded" -- "$RUBY" "$SCRIPT" classes 2 2>>"$T/runs.err"
	check_chain "classes" "$T/classes.folded" "$CCHAIN"

	# More methods than BPF keeps the method entries of (16,384): 64-deep chains through 20,000
	# methods of Many. The entries not kept are counted (-v), and their methods named without
	# a class, never with a wrong one.
	"$FLAMED" -v -F 999 -o "$T/many.folded" -- "$RUBY" "$SCRIPT" many 2 2>"$T/many.err"
	check "many methods: exit 0" test $? = 0
	lost=$(sed -nE 's/.* ([0-9]+) method entries not kept.*/\1/p' "$T/many.err")
	check "many methods: -v counts the method entries not kept (${lost:-none})" \
		test "${lost:-0}" -gt 0
	read -r qual bare other < <(grep -oE ';[^;]*m[0-9]+ \(rbchain\.rb\)_\[r\]' "$T/many.folded" |
		awk '/^;Many#m/ { q++; next } /^;m[0-9]/ { b++; next } { o++ }
			END { print q + 0, b + 0, o + 0 }')
	check "many methods: named Many#mK ($qual frames) or mK when not kept ($bare), never another owner ($other)" \
		test "$qual" -gt 0 -a "$bare" -gt 0 -a "$other" = 0

	# --lines: the line of each frame, from the iseqs' line tables.
	want="<main> (rbchain.rb:$LTOP);Object#main (rbchain.rb:$LMAIN);Outer#mid (rbchain.rb:$LMID);Object#leaf (rbchain.rb:$LL)"
	"$FLAMED" -F 499 --lines -o "$T/lines.folded" -- "$RUBY" "$SCRIPT" chain 1.5 2>>"$T/runs.err"
	check_chain "--lines" "$T/lines.folded" "$want"

	# Threads: Ruby frames only for the thread holding the GVL, each its own. The worker
	# thread alone (-t): its samples show worker, never the main thread's mid.
	"$RUBY" "$SCRIPT" threads 3 >"$T/threads.out" &
	pid=$!
	wait_for "$T/threads.out" '^[0-9]'
	tid=$(head -1 "$T/threads.out")
	"$FLAMED" -F 499 -d 2 -t "$tid" -o "$T/thr.folded" 2>>"$T/runs.err"
	wait "$pid" 2>/dev/null
	wk=$(fraction ruby "Object#worker [(]rbchain[.]rb[)]_[[]r[]];Object#leaf [(]rbchain[.]rb[)]_[[]r[]]" "$T/thr.folded")
	echo "     threads: $wk% of the worker's $(samples ruby "$T/thr.folded") samples in worker;leaf"
	check "threads: >= 80% of the worker thread's samples are worker;leaf ($wk%)" \
		test "$(samples ruby "$T/thr.folded")" -ge 50 -a "$wk" -ge 80
	check "threads: no sample of the worker thread has the main thread's frames" \
		bash -c "! grep -q 'Outer#mid (rbchain.rb)_\[r\]' '$T/thr.folded'"

	# A thread running C code with the GVL released (zlib's deflate, under rb_nogvl) while the
	# main thread runs Ruby: the running ec is the main thread's; the worker keeps its own
	# frames (the ec it last ran holding the GVL), never the main thread's.
	"$RUBY" "$SCRIPT" nogvl 3 >"$T/nogvl.out" &
	pid=$!
	wait_for "$T/nogvl.out" '^[0-9]'
	tid=$(head -1 "$T/nogvl.out")
	"$FLAMED" -F 499 -d 2 -t "$tid" -o "$T/nogvl.folded" 2>>"$T/runs.err"
	wait "$pid" 2>/dev/null
	n=$(samples ruby "$T/nogvl.folded")
	dn=$(fraction ruby ';rb_nogvl;.*;deflate' "$T/nogvl.folded")
	own=$(fraction_within ruby ';rb_nogvl;.*;deflate' ';block in <main> [(]rbchain[.]rb[)]_[[]r[]];Object#compress [(]rbchain[.]rb[)]_[[]r[]];' "$T/nogvl.folded")
	echo "     nogvl: $dn% of the worker's $n samples in deflate under rb_nogvl, $own% of those under block in <main>;compress"
	check "nogvl: the worker's samples in deflate ($dn%) have its own Ruby callers ($own%)" \
		test "$n" -ge 50 -a "$dn" -ge 50 -a "$own" -ge 90
	check "nogvl: no sample of the worker has the main thread's frames" \
		bash -c "! grep -qE '(mid|main|leaf) \(rbchain.rb\)_\[r\]' '$T/nogvl.folded'"

	# SVG: well-formed, Ruby frames in their own colour, named in the legend.
	"$FLAMED" -F 499 -o "$T/rb.svg" -- "$RUBY" "$SCRIPT" chain 1.5 2>>"$T/runs.err"
	check "SVG: well-formed (xmllint)" xmllint --noout "$T/rb.svg"
	check "SVG: Object#leaf (rbchain.rb) drawn, Ruby in the legend" \
		bash -c "grep -q '<title>Object#leaf (rbchain.rb) (' '$T/rb.svg' && grep -q '>Ruby</text>' '$T/rb.svg'"
	# Every Ruby frame in the Ruby hue (src/render/svg.c HUE_RBFRAME: r 200-250, g 30-70, b 40-80).
	svg_hue_check "$T/rb.svg" rbchain.rb Ruby 4 200 250 30 70 40 80

	# pprof: Function.name, filename, start_line and Line.line, read by go tool pprof; read back.
	if need_tool "ruby frames in pprof" go; then
		"$FLAMED" -F 499 -o "$T/rb.pb.gz" -- "$RUBY" "$SCRIPT" chain 1 2>>"$T/runs.err"
		go tool pprof -raw "$T/rb.pb.gz" >"$T/rb.raw" 2>&1
		check "pprof: Object#leaf at $SCRIPT:$LL, start line $LDEF" \
			grep -qF " Object#leaf $SCRIPT:$LL s=$LDEF" "$T/rb.raw"
		check "pprof: Outer#mid at rbchain.rb:$LMID" \
			grep -qF " Outer#mid $SCRIPT:$LMID s=" "$T/rb.raw"
		"$FLAMED" render "$T/rb.pb.gz" -o "$T/rt.folded" 2>/dev/null
		check "pprof read back: Object#main;Outer#mid;Object#leaf (rbchain.rb)_[r]" \
			grep -q 'Object#main (rbchain.rb)_\[r\];Outer#mid (rbchain.rb)_\[r\];Object#leaf (rbchain.rb)_\[r\]' "$T/rt.folded"
	fi

	# --ruby off: no Ruby frame, the native ones kept.
	"$FLAMED" -F 499 --ruby off -o "$T/off.folded" -- "$RUBY" "$SCRIPT" chain 0.5 2>>"$T/runs.err"
	check "--ruby off: no _[r] frame, ruby_run_node kept" \
		bash -c "! grep -q '_\[r\]' '$T/off.folded' && grep -q ';ruby_run_node;' '$T/off.folded'"
	# No run refused its process, start-up included (a refusal drops every Ruby frame of a
	# run: the check of the live interpreter must wait while Ruby starts, never refuse).
	check "no process refused in any run with the right layout" \
		bash -c "test -s '$T/runs.err' && ! grep -h 'do not read as the' '$T/runs.err' '$T/short.err'"
fi
finish
