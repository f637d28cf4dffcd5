#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: Java methods of a HotSpot JVM run with no flag and no agent, named and unwound from
# the JVM's own VMStructs (src/runtime/hotspot.c, bpf/hotspot_unwind.h), on OpenJDK 17.
# tests/workloads/Hot.java spins in main -> mid -> hot, each a compiled frame of its own
# (too big for C2 to inline); its samples must show Hot.main_[j];Hot.mid_[j];Hot.hot_[j] under
# the native frames of the thread that runs main (JavaMain ... JavaCalls::call_helper, the
# call stub), compiled frames being unwound by their blob's frame size, interpreted ones by
# frame pointers and named by the Method* the interpreter keeps in them (-Xint: all three).
. "$(dirname "$0")/lib.sh"

SRC="$ROOT/tests/workloads/Hot.java"
# hot's helper mix: inlined into compiled hot (_[i]), a frame of its own interpreted (_[j]).
MIX='(;Hot[.]mix_[[][ij][]])?'
CHAIN="Hot[.]main_[[]j[]];Hot[.]mid_[[]j[]];Hot[.]hot_[[]j[]]$MIX"
# A frame whose Method* could not be read shows as the interpreter's blob.
UCHAIN="(Hot[.]main|Interpreter)_[[]j[]];Hot[.]mid_[[]j[]];Hot[.]hot_[[]j[]]$MIX"
# Shares of the main thread's Java samples (under jni_CallStaticVoidMethod), measured in five
# 5 s runs alone and five beside two CPU hogs (bench/busy.sh) on a busy 2-CPU machine (command
# mode, as below): unwound whole (UCHAIN) and named whole (CHAIN) 98.7-99.3% alone,
# 98.3-99.3% beside the hogs. (Before interpreted frames were named, main interpreted until
# its loop was compiled was 1-18% of the samples.)
UBAR=90
BAR=85

# java_stats FILE CHAIN: "chain java": samples of the main thread running Java (under
# jni_CallStaticVoidMethod), and those whose frames from the thread's root are
# __clone3;start_thread;ThreadJavaMain;JavaMain;...;call_helper;<call stub>;CHAIN.
java_stats() {
	awk -v chain="$2" '
		{ n = $NF; s = substr($0, 1, length($0) - length(n) - 1); gsub(/;[^;]*_\[k\]/, "", s) }
		s ~ /;JavaMain;jni_CallStaticVoidMethod;/ {
			java += n
			if (s ~ ("^java;__clone3;start_thread;ThreadJavaMain;JavaMain;jni_CallStaticVoidMethod;.*;JavaCalls::call_helper[^;]*;StubRoutines[^;]*_[[]j[]];" chain "$"))
				c += n
		}
		END { print c + 0, java + 0 }' "$1"
}

# check_chain LABEL FILE [MIN [UBAR BAR]]: >= UBAR% of the main thread's Java samples unwound
# whole, >= BAR% named whole; at least MIN (200) samples.
check_chain() {
	local label=$1 file=$2 min=${3:-200} UBAR=${4:-$UBAR} BAR=${5:-$BAR} c java u
	read -r u java < <(java_stats "$file" "$UCHAIN")
	read -r c java < <(java_stats "$file" "$CHAIN")
	echo "     $label: of $java samples of main's thread running Java, $u unwound whole, $c named main;mid;hot"
	check "$label: >= $UBAR% of the main thread's Java samples are ...;call stub;(main or the interpreter);Hot.mid;Hot.hot ($u/$java)" \
		test "$java" -ge "$min" -a $((u * 100)) -ge $((java * UBAR))
	check "$label: >= $BAR% of them are ...;call stub;Hot.main;Hot.mid;Hot.hot ($c/$java)" \
		test "$java" -ge "$min" -a $((c * 100)) -ge $((java * BAR))
	[ $((c * 100)) -ge $((java * BAR)) ] || heaviest_misses "$file"
}

if need_root "java frames" && need_tool "java frames" java javac; then
	javac -d "$T/cls" "$SRC"
	check "Hot.java compiles" test -s "$T/cls/Hot.class"

	# Command mode: the JVM found as it starts (libjvm mapped, its tables and code cache set
	# up a little later: attached once they are).
	"$FLAMED" -F 499 -o "$T/cmd.folded" -- java -cp "$T/cls" Hot 5 >/dev/null 2>"$T/cmd.err"
	check "command mode: exit 0" test $? = 0
	check_chain "command" "$T/cmd.folded"
	check "command mode: no warning about the JVM" bash -c "! grep -q 'hotspot:' '$T/cmd.err'"

	# A run shorter than a drain (0.6 s of Java): its code cache addresses and Method*s are named
	# as each new stack with Java frames is announced, not at the next drain, when the JVM is
	# gone. Measured 96.9-97.2% named alone, 92.7-99.4% beside bench/busy.sh (137-425 samples
	# there: the JVM's start-up is a larger part of them); 80% asked, of at least 50.
	"$FLAMED" -F 999 -o "$T/short.folded" -- java -cp "$T/cls" Hot 0.6 >/dev/null 2>>"$T/runs.err"
	check "shorter than a drain: exit 0" test $? = 0
	check_chain "shorter than a drain" "$T/short.folded" 50 80 80

	# -p PID: a JVM found running, main long compiled.
	java -cp "$T/cls" Hot 30 >/dev/null &
	pid=$!
	wait_until 60 ticks_at_least "$pid" 200
	"$FLAMED" -F 499 -d 3 -p "$pid" -o "$T/pid.folded" 2>"$T/pid.err"
	check "-p PID: exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check_chain "-p PID" "$T/pid.folded" 200

	# --lines, compiled steady state: each compiled frame's line from its scope's bci and
	# its method's line table, mix an inline frame (_[i]) of hot at the line that calls it.
	# The lines are the source's: hot's loop, its call of mix, mix's loop (one line).
	java -cp "$T/cls" Hot 30 >/dev/null &
	pid=$!
	wait_until 60 ticks_at_least "$pid" 200
	"$FLAMED" -F 499 -d 3 --lines -p "$pid" -o "$T/lines.folded" 2>>"$T/runs.err"
	check "--lines -p PID: exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	loop=$(grep -n 'for (int i = 0; i < 40; i++)' "$SRC" | cut -d: -f1)
	call=$(grep -n 'h = mix(h);' "$SRC" | cut -d: -f1)
	mixl=$(grep -n '^		do h = ' "$SRC" | cut -d: -f1)
	# "hot inl ok loop": samples in compiled hot (its frame the last but an inlined one),
	# those with mix inlined, those whose lines are hot's loop (loop..call) and mix's line.
	read -r hot inl ok inloop < <(awk -v loop="$loop" -v call="$call" -v mixl="$mixl" '
		{ n = $NF; s = substr($0, 1, length($0) - length(n) - 1); gsub(/;[^;]*_\[k\]/, "", s) }
		s ~ /;Hot[.]hot \(Hot[.]java:[0-9]+\)_\[j\](;Hot[.]mix [^;]*_\[i\])?$/ {
			hot += n
			h = s; sub(/.*;Hot[.]hot \(Hot[.]java:/, "", h); hl = h + 0
			if (hl >= loop && hl <= call)
				inloop += n
			if (s ~ /;Hot[.]mix [^;]*_\[i\]$/) {
				inl += n
				if (hl == call && s ~ ("Hot[.]mix \\(Hot[.]java:" mixl "\\)_\\[i\\]$"))
					ok += n
			}
		}
		END { print hot + 0, inl + 0, ok + 0, inloop + 0 }' "$T/lines.folded")
	echo "     --lines: of $hot samples in compiled Hot.hot, $inloop at a line of its loop ($loop-$call), $inl with Hot.mix inlined, $ok of them at Hot.java:$call;Hot.java:$mixl"
	check "--lines: >= 200 samples in compiled Hot.hot, >= 95% at a line of its loop ($inloop/$hot)" \
		test "$hot" -ge 200 -a $((inloop * 100)) -ge $((hot * 95))
	check "--lines: >= 10% of them with Hot.mix inlined (_[i]) ($inl/$hot)" \
		test $((inl * 100)) -ge $((hot * 10))
	check "--lines: >= 95% of those at hot's call of mix (Hot.java:$call) and mix's loop (Hot.java:$mixl) ($ok/$inl)" \
		test "$inl" -gt 0 -a $((ok * 100)) -ge $((inl * 95))
	check "--lines: no Hot.mix frame of its own in the compiled steady state" \
		bash -c "! grep -q 'Hot[.]mix [^;]*_\[j\]' '$T/lines.folded'"

	# Interpreted frames only (-Xint): each named by its Method*, unwound by frame pointers.
	"$FLAMED" -F 499 -o "$T/xint.folded" -- java -Xint -cp "$T/cls" Hot 3 >/dev/null 2>>"$T/runs.err"
	check "-Xint: exit 0" test $? = 0
	check_chain "-Xint" "$T/xint.folded" 100

	# --lines, interpreted frames: each frame's line from the bci of its bytecode pointer (a
	# caller's saved in its frame at the call, the leaf's the interpreter's register), so the
	# callers sit at their call lines and the leaf moves over hot's loop.
	"$FLAMED" -F 499 --lines -o "$T/xlines.folded" -- java -Xint -cp "$T/cls" Hot 3 \
		>/dev/null 2>>"$T/runs.err"
	check "-Xint --lines: exit 0" test $? = 0
	mainl=$(grep -n 'acc += mid(acc, round++);' "$SRC" | cut -d: -f1)
	mid0=$(grep -n 'case 0: acc += hot(' "$SRC" | cut -d: -f1)
	mid15=$(grep -n 'case 15: acc += hot(' "$SRC" | cut -d: -f1)
	# "all ok distinct": samples in interpreted hot (mix the leaf or not), those whose every
	# Hot frame is at its line, and how many of hot's lines the leaf samples fall on.
	read -r all ok distinct < <(awk -v mainl="$mainl" -v mid0="$mid0" -v mid15="$mid15" \
		-v loop="$loop" -v call="$call" -v mixl="$mixl" '
		function line_of(s, fn,   t) {
			t = s; if (!sub(".*;Hot[.]" fn " [(]Hot[.]java:", "", t)) return -1
			return t + 0
		}
		{ n = $NF; s = substr($0, 1, length($0) - length(n) - 1); gsub(/;[^;]*_\[k\]/, "", s) }
		s ~ /;Hot[.]hot \(Hot[.]java:[0-9]+\)_\[j\](;Hot[.]mix \(Hot[.]java:[0-9]+\)_\[j\])?$/ {
			all += n
			m = line_of(s, "main"); d = line_of(s, "mid"); h = line_of(s, "hot")
			x = s ~ /;Hot[.]mix / ? line_of(s, "mix") : 0
			good = m == mainl && d >= mid0 && d <= mid15 && h >= loop && h <= call
			if (x)
				good = good && h == call && x >= mixl && x <= mixl + 1
			else
				seen[h] = 1
			if (good)
				ok += n
		}
		END { for (l in seen) k++; print all + 0, ok + 0, k + 0 }' "$T/xlines.folded")
	echo "     -Xint --lines: of $all samples in interpreted Hot.hot, $ok with main at $mainl, mid at $mid0-$mid15, hot at $loop-$call (mix at $mixl); leaf hot on $distinct lines"
	check "-Xint --lines: >= 200 samples in Hot.hot, >= 90% with every Hot frame at its line ($ok/$all)" \
		test "$all" -ge 200 -a $((ok * 100)) -ge $((all * 90))
	check "-Xint --lines: the leaf's line moves over hot's loop (on $distinct lines, >= 10)" \
		test "$distinct" -ge 10

	# The JVM's own threads keep their native names beside the Java frames: the JIT
	# compilers (compiling Hot's methods) and, with Hot's "gc" thread asking for full
	# collections, the collector's workers.
	"$FLAMED" -F 999 -o "$T/gc.folded" -- java -cp "$T/cls" Hot 3 gc >/dev/null 2>>"$T/runs.err"
	check "gc: exit 0" test $? = 0
	read -r jit gc < <(awk '
		/;CompileBroker::compiler_thread_loop\(\);.*(C2Compiler|Compilation)::compile_method/ { j += $NF }
		/;thread_native_entry.*;(G1|Serial|Parallel|PS|GenCollected|DefNew|Tenured)[A-Za-z]*::/ { g += $NF }
		END { print j + 0, g + 0 }' "$T/gc.folded")
	check "JIT compiler threads named: >= 3 samples in a compiler's compile_method ($jit)" \
		test "$jit" -ge 3
	check "GC threads named: >= 20 samples in the collector's functions ($gc)" test "$gc" -ge 20

	# --hotspot off: no Java name, the native frames kept.
	"$FLAMED" -F 499 --hotspot off -o "$T/off.folded" -- java -cp "$T/cls" Hot 1 >/dev/null 2>>"$T/runs.err"
	check "--hotspot off: no Hot.* frame, JavaMain kept" \
		bash -c "! grep -q 'Hot[.]' '$T/off.folded' && grep -q ';JavaMain;' '$T/off.folded'"
fi
finish
