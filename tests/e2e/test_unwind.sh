#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: user stacks without frame pointers, unwound in BPF from DWARF CFI tables.
. "$(dirname "$0")/lib.sh"

# profile NAME CMD...: profiles CMD into $T/NAME.folded at 499 Hz, prints the unwind summary.
profile() {
	local name=$1
	shift
	"$FLAMED" -v -F 499 ${FLAMED_OPTS:-} -o "$T/$name.folded" -- "$@" 2>"$T/$name.err"
	local rc=$?
	grep -h "unwind tables" "$T/$name.err" | sed 's/^/     /'
	return $rc
}

if need_root "dwarf unwinding"; then
	profile nofp "$WL/nofp" 3
	check "gcc -O2 without frame pointers: exit 0" test $? = 0
	pct=$(fraction_within nofp ';leaf$' '^nofp;_start;__libc_start_main;.*;main;top;mid;leaf$' "$T/nofp.folded")
	echo "     nofp: $pct% of $(samples nofp "$T/nofp.folded") samples _start..main;top;mid;leaf"
	check "nofp: >= 99% of the samples in leaf have the full chain from _start ($pct%)" test "$pct" -ge 99

	profile fpgcc "$WL/fpgcc" 3
	pct=$(fraction_within fpgcc ';leaf$' '^fpgcc;_start;__libc_start_main;.*;main;top;mid;leaf$' "$T/fpgcc.folded")
	check "gcc -fno-omit-frame-pointer (leaf frames omitted): >= 99% of the samples in leaf full ($pct%)" \
		test "$pct" -ge 99

	"$FLAMED" --unwind fp -F 499 -o "$T/fp.folded" -- "$WL/nofp" 1 2>/dev/null
	check "--unwind fp: exit 0" test $? = 0
	pct=$(fraction nofp ';main;top;mid;leaf$' "$T/fp.folded")
	n=$(samples nofp "$T/fp.folded")
	leaf=$(fraction nofp ';leaf$' "$T/fp.folded")
	echo "     the same binary with --unwind fp: $pct% full chains of $n samples, $leaf% in leaf"
	# Profiled for real (samples, in leaf), yet without the chain: 0% of nothing proves nothing.
	check "--unwind fp really uses frame pointers only ($pct% < 50% of $n, $leaf% in leaf)" \
		test "$n" -ge 50 -a "$leaf" -ge 90 -a "$pct" -lt 50

	# Frame pointers into garbage that carries a runtime frame's tag (tests/workloads/fakeframe.c):
	# the stack is cut there, no interpreter frame is made up from it.
	"$FLAMED" --unwind fp -F 499 -o "$T/ff.folded" -- "$WL/fakeframe" 1 2>/dev/null
	rc=$?
	n=$(samples fakeframe "$T/ff.folded")
	pct=$(fraction fakeframe '^fakeframe;spin_fake$' "$T/ff.folded")
	check "garbage frame pointers: profiled (exit $rc, $n samples)" test "$rc" = 0 -a "$n" -ge 50
	check "garbage frame pointers: no runtime frame made of them" \
		bash -c "! grep -qE 'runtime frame|_\\[(z|p|v|j|r|l)\\]' '$T/ff.folded'"
	check "garbage frame pointers: >= 90% of samples cut to fakeframe;spin_fake ($pct%)" \
		test "$pct" -ge 90

	# Native frames only (--python off): the eval loop's frames, not the Python functions
	# that replace them (tests/e2e/test_python.sh).
	FLAMED_OPTS="--python off" profile python /usr/bin/python3 -c 'sum(i * i for i in range(30000000))'
	pct=$(fraction python3 '^python3;_start;__libc_start_main;.*Py_BytesMain;.*_PyEval_EvalFrameDefault' "$T/python.folded")
	echo "     python3: $pct% through Py_BytesMain to _start"
	check "Debian python3: >= 95% unwind to _start/main ($pct%)" test "$pct" -ge 95

	profile rust "$WL/rustprog" 2
	pct=$(fraction rustprog '^rustprog;_start;.*;rustprog::main;rustprog::outer;rustprog::inner' "$T/rust.folded")
	check "rustc -O: >= 95% reach main ($pct%)" test "$pct" -ge 95

	profile cpp "$WL/cppprog" 3
	pct=$(fraction cppprog '^cppprog;_start;.*;main;run\(double\);Worker<long>::work\(int\)' "$T/cpp.folded")
	check "C++ with libstdc++: >= 95% reach main ($pct%)" test "$pct" -ge 95

	profile vdso "$WL/vdso" 2
	pct=$(fraction vdso '^vdso;_start;.*;main;g;f' "$T/vdso.folded")
	check "through the vDSO (clock_gettime): >= 95% reach main ($pct%)" test "$pct" -ge 95

	profile signal "$WL/signal" 2
	pct=$(fraction signal '^signal;_start;.*;main;wait_loop;.*hot$' "$T/signal.folded")
	n=$(awk '/;hot [0-9]+$/ { t += $NF } END { print t + 0 }' "$T/signal.folded")
	all=$(samples signal "$T/signal.folded")
	hot=$((all ? 100 * n / all : 0))
	echo "     signal: $hot% of samples in the handler's hot(), $pct% of all through main;wait_loop"
	check "signal frames: handler stacks continue into the interrupted code" \
		test "$hot" -ge 20 -a "$pct" -ge $((hot * 95 / 100))

	profile deep "$WL/deep" 3 100
	rec=$(printf ';recurse%.0s' $(seq 101))
	pct=$(fraction deep "^deep;_start;__libc_start_main;.*;main$rec;spin\$" "$T/deep.folded")
	check "100 frames deep: >= 95% complete ($pct%)" test "$pct" -ge 95

	# A stack ending at a mapping's end (a guard page above): the stack reads near the top
	# must stop at the page end, and makecontext's outermost frame (no end-of-stack mark) must
	# not be followed into garbage.
	profile ctxstack "$WL/ctxstack" 2
	pct=$(fraction ctxstack '^ctxstack;[^;]+;fiber_entry;fiber_mid;fiber_leaf$' "$T/ctxstack.folded")
	check "stack at a mapping's end (makecontext): >= 95% exactly [libc];entry;mid;leaf ($pct%)" \
		test "$pct" -ge 95

	# Mappings and processes that appear while profiling get their tables then: a library
	# loaded by dlopen() 0.3 s in, a program exec'd by the profiled shell, and (system-wide) a
	# process started after flamed.
	profile dlopen "$WL/dlopener" 2 "$WL/plugin.so"
	pct=$(fraction dlopener '^dlopener;_start;__libc_start_main;.*;main;run_plugin;plugin_outer;plugin_mid;plugin_leaf$' "$T/dlopen.folded")
	check "library loaded by dlopen() while profiled: >= 95% full chains ($pct%)" \
		test "$pct" -ge 95
	# /usr/bin/time reports the CPU time sh and the program it execs (one process) really got.
	profile exec /usr/bin/time -f "%U %S" -o "$T/exec.cpu" sh -c "sleep 0.3; exec '$WL/nofp' 2"
	pct=$(fraction nofp '^nofp;_start;__libc_start_main;.*;main;top;mid;leaf$' "$T/exec.folded")
	n=$(samples nofp "$T/exec.folded")
	want=$(awk '{ printf "%d", ($1 + $2) * 499 }' "$T/exec.cpu")
	check "program exec'd by the profiled command: >= 95% full chains ($pct% of $n samples)" \
		test "$pct" -ge 95
	check "program exec'd: sampled from its exec on ($n samples, 499 Hz x its CPU time: $want)" \
		test "$n" -ge $((want * 3 / 4)) -a "$want" -ge 100
	"$FLAMED" -v -F 499 -o "$T/late.folded" 2>"$T/late.err" &
	fl=$!
	check "system-wide: profiling started" wait_for "$T/late.err" "profiling" 30
	# clang's libraries first (about 16 MiB of tables): the late process's rows then lie in a
	# later 1 MiB chunk, made after flamed dropped CAP_BPF (by the chunk maker).
	# clang waits on a pipe until flamed has settled: a process gone before flamed reached it
	# (clang --version, under ASan with both CPUs busy) has no tables loaded.
	mkfifo "$T/clang.in"
	clang -fsyntax-only -x c - <"$T/clang.in" &
	cl=$!
	exec 9>"$T/clang.in"
	# System-wide, nothing holds a new process until its tables are indexed (command mode holds
	# the exec), so its first samples fall back to frame pointers; and flamed indexes in order,
	# clang's 16 MiB of tables first. Under ASan with both CPUs busy that was 20% of a 1 s run.
	# So the late process starts once flamed is done with clang, and runs 3 s.
	check "system-wide: flamed done with clang's tables (under 10% of a CPU)" \
		wait_until 120 settled "$fl"
	exec 9>&-
	wait $cl
	"$WL/nofp" 3
	kill -INT $fl
	wait $fl
	mib=$(sed -nE 's/.*unwind tables: [0-9]+ loaded \(([0-9.]+) MiB.*/\1/p' "$T/late.err")
	check "system-wide: tables grew past 8 chunks after the drop, none over the cap (${mib:-?} MiB)" \
		bash -c "awk -v m='${mib:-0}' 'BEGIN { exit !(m > 8) }' && grep -q ' 0 over the cap' '$T/late.err' &&
			! grep -q 'cannot grow' '$T/late.err'"
	check "system-wide: the late process was sampled ($(samples nofp "$T/late.folded"))" \
		test "$(samples nofp "$T/late.folded")" -ge 50
	pct=$(fraction nofp '^nofp;_start;__libc_start_main;.*;main;top;mid;leaf$' "$T/late.folded")
	check "system-wide, a process started after flamed: >= 90% full chains ($pct%)" \
		test "$pct" -ge 90

	# The memory cap: tables that do not fit are named, the rest falls back to frame pointers.
	"$FLAMED" -v --unwind-max-mb 2 -F 499 -o "$T/cap.folded" -- clang --version \
		>/dev/null 2>"$T/cap.err"
	check "unwind memory cap: still profiles (exit 0)" test $? = 0
	check "unwind memory cap: reached with a clear message naming the binary" \
		grep -q "unwind table memory cap reached.*libLLVM\|libclang.*falls back to frame pointers" "$T/cap.err"
	check "unwind memory cap: statistics report binaries over the cap" \
		grep -qE "[1-9][0-9]* over the cap" "$T/cap.err"

	# Unwinding statistics travel with the profile.
	"$FLAMED" -o "$T/u.svg" -- "$WL/nofp" 0.5 2>/dev/null
	check "SVG subtitle reports the unwinding" grep -q "unwind: dwarf, [0-9,]* stacks by tables" "$T/u.svg"
	if need_tool "pprof comment" go; then
		"$FLAMED" -o "$T/u.pb.gz" -- "$WL/nofp" 0.5 2>/dev/null
		go tool pprof -symbolize=none -raw "$T/u.pb.gz" >"$T/u.raw" 2>&1
		check "pprof comment reports the unwinding" grep -q "Comment: unwind: dwarf" "$T/u.raw"
	fi

	check "--unwind dwarf accepted" "$FLAMED" --unwind dwarf -d 0.3 -o "$T/x.folded"
	"$FLAMED" --unwind bogus -o "$T/x.folded" 2>"$T/bad.err"
	check "--unwind bogus refused" grep -q "invalid --unwind" "$T/bad.err"
fi
finish
