#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# perf's -t TID (issue 21): only the threads given are profiled, filtered in BPF (on-CPU and
# off-CPU), a thread that is not running is refused by name, the profile ends when the threads
# are gone, and -t with -p, -a, a command or continuous mode is refused.
. "$(dirname "$0")/lib.sh"

WPIDS=
cleanup() {
	[ -n "$WPIDS" ] && kill $WPIDS 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

# start_tids OUT SECS_A SECS_B: runs the workload (two threads, in spin_a and spin_b) and sets
# W (its pid), A and B (the threads' ids) once it has printed them.
start_tids() {
	"$WL/tids" "$2" "$3" >"$1" &
	W=$!
	WPIDS="$WPIDS $W"
	wait_for "$1" '^B ' 30
	A=$(awk '$1 == "A" { print $2 }' "$1")
	B=$(awk '$1 == "B" { print $2 }' "$1")
}
# hits PATTERN FILE: samples (folded FILE) of the workload whose stack matches the awk regex.
hits() {
	awk -v pat="$1" '{ n = $NF; stack = substr($0, 1, length($0) - length(n) - 1) }
		index(stack, "tids;") == 1 && stack ~ pat { t += n } END { print t + 0 }' "$2"
}

# --- Refused before any profiling ------------------------------------------------------------
# A thread id nobody has: the highest free one below the kernel's limit.
gone=$(cat /proc/sys/kernel/pid_max)
while [ -e "/proc/$gone" ] && [ "$gone" -gt 2 ]; do gone=$((gone - 1)); done
"$FLAMED" -t "$gone" -o "$T/gone.svg" 2>"$T/gone.err"
rc=$?
check "-t $gone (no such thread): refused, non-zero ($rc: $(head -c 150 "$T/gone.err"))" \
	test $rc != 0 -a ! -e "$T/gone.svg"
check "and the message names it" grep -qF "invalid --tid '$gone': no such thread" "$T/gone.err"
"$FLAMED" --tid "$$,$gone" -o "$T/gone2.svg" 2>"$T/gone2.err"
rc=$?
check "--tid $$,$gone: refused as a whole ($rc)" \
	test $rc != 0 -a -n "$(grep -F "invalid --tid '$$,$gone': no such thread" "$T/gone2.err")"
"$FLAMED" -t 12x -o "$T/bad.svg" 2>"$T/bad.err"
check "-t 12x: refused, what is expected said" \
	grep -qF "invalid --tid '12x': expected running thread ids" "$T/bad.err"
"$FLAMED" --print-config -t "$$,1" -t "$$" >"$T/pc" 2>"$T/pc.err"
check "-t repeats and takes lists: $$,1 and $$ resolve to $$,1 ($(grep tid "$T/pc"))" \
	grep -qx "# tid = \"$$,1\"" "$T/pc"
"$FLAMED" -t $$ -p $$ -o "$T/tp.svg" 2>"$T/tp.err"
check "-t with -p: refused (perf would drop -t unsaid)" \
	grep -q -- "--tid profiles the threads given: it takes no --pid" "$T/tp.err"
"$FLAMED" -t $$ -a -o "$T/ta.svg" 2>"$T/ta.err"
check "-t with -a: refused" grep -q -- "it takes no -a" "$T/ta.err"
"$FLAMED" -t $$ -o "$T/tc.svg" -- true 2>"$T/tc.err"
check "-t with a command: refused" grep -q -- "it takes no command" "$T/tc.err"
"$FLAMED" -t $$ --output-dir "$T" 2>"$T/tcont.err"
check "-t in continuous mode: refused" grep -q -- "(--tid given)" "$T/tcont.err"

# --- Profiled --------------------------------------------------------------------------------
if need_root "profiling"; then
	start_tids "$T/w1" 300 300
	check "the workload prints its threads' ids ($A, $B)" test -n "$A" -a -n "$B"

	"$FLAMED" -t "$A" -d 4 -o "$T/a.folded" 2>"$T/a.err"
	check "-t A: exits 0 ($(head -c 200 "$T/a.err"))" test $? = 0
	all=$(samples tids "$T/a.folded")
	sa=$(hits ';spin_a(;|$)' "$T/a.folded")
	sb=$(hits ';spin_b(;|$)' "$T/a.folded")
	echo "     -t A: $sa of $all samples in spin_a, $sb in spin_b"
	check "-t A: samples ($all)" test "$all" -ge 20
	check "-t A: >= 95% in spin_a ($sa of $all)" test $((sa * 100)) -ge $((all * 95))
	check "-t A: none in spin_b ($sb)" test "$sb" = 0

	"$FLAMED" --tid "$B" -d 3 -o "$T/b.folded" 2>"$T/b.err"
	all=$(samples tids "$T/b.folded")
	sa=$(hits ';spin_a(;|$)' "$T/b.folded")
	sb=$(hits ';spin_b(;|$)' "$T/b.folded")
	check "--tid B: the other way round ($sb of $all in spin_b, $sa in spin_a)" \
		test "$all" -ge 20 -a $((sb * 100)) -ge $((all * 95)) -a "$sa" = 0

	"$FLAMED" -t "$A" -t "$B" -d 3 -o "$T/ab.folded" 2>"$T/ab.err"
	all=$(samples tids "$T/ab.folded")
	sa=$(hits ';spin_a(;|$)' "$T/ab.folded")
	sb=$(hits ';spin_b(;|$)' "$T/ab.folded")
	echo "     -t A -t B: $sa in spin_a, $sb in spin_b, of $all"
	check "-t A -t B: both threads ($sa, $sb)" test "$sa" -ge 10 -a "$sb" -ge 10
	check "-t A -t B: >= 95% in the two ($((sa + sb)) of $all)" \
		test $(((sa + sb) * 100)) -ge $((all * 95))

	# The contrast: -p is every thread of the process, so both functions.
	"$FLAMED" -p "$W" -d 2 -o "$T/p.folded" 2>"$T/p.err"
	sa=$(hits ';spin_a(;|$)' "$T/p.folded")
	sb=$(hits ';spin_b(;|$)' "$T/p.folded")
	check "-p of the process: both threads, unlike -t ($sa, $sb)" test "$sa" -ge 10 -a "$sb" -ge 10

	# A thread's id given to -p: /proc has it, but it is no process; said with both ways.
	"$FLAMED" -p "$B" -d 1 -o "$T/pb.folded" 2>"$T/pb.err"
	rc=$?
	check "-p with a thread's id: refused ($rc), -p $W and -t $B offered" test $rc != 0 -a \
		-n "$(grep -F -- "--pid $B is a thread of process $W: -p $W profiles the process, -t $B the thread" "$T/pb.err")"

	# The main thread only waits in pthread_join: none of its threads' samples are its own.
	"$FLAMED" -t "$W" -d 2 -o "$T/main.folded" 2>"$T/main.err"
	check "-t of the waiting main thread: exits 0, no sample of spin_a or spin_b" \
		test $? = 0 -a "$(hits ';spin_[ab](;|$)' "$T/main.folded")" = 0

	# Wall mode: on-CPU samples and off-CPU time, both through the same thread filter.
	"$FLAMED" --mode wall -t "$A" -d 2 -o "$T/wall.folded" 2>"$T/wall.err"
	check "--mode wall -t A: exits 0 ($(head -c 200 "$T/wall.err"))" test $? = 0
	wa=$(hits ';spin_a(;|$)' "$T/wall.folded")
	wb=$(hits ';spin_b(;|$)' "$T/wall.folded")
	wall=$(samples tids "$T/wall.folded")
	echo "     --mode wall -t A: $wa us in spin_a, $wb us in spin_b, of $wall us"
	check "--mode wall -t A: A's time ($wa us of $wall)" \
		test "$wa" -ge 500000 -a $((wa * 100)) -ge $((wall * 95))
	check "--mode wall -t A: none of B's ($wb)" test "$wb" = 0

	# The end: thread A spins 10 s, B 300 s. flamed stops once A has gone, B still running.
	start_tids "$T/w2" 10 300
	s0=$SECONDS
	timeout 120 "$FLAMED" -t "$A" -o "$T/end.folded" 2>"$T/end.err"
	rc=$?
	took=$((SECONDS - s0))
	check "-t A until it exits: exits 0 ($rc, $(head -c 200 "$T/end.err"))" test $rc = 0
	check "-t A: stops once the thread has exited (after $took s; it ran 10 s)" \
		test "$took" -lt 60 -a -n "$(grep "every profiled thread has exited" "$T/end.err")"
	check "while its process and thread B still run" test -d "/proc/$W/task/$B"
	check "-t A until it exits: A's samples ($(hits ';spin_a(;|$)' "$T/end.folded"))" \
		test "$(hits ';spin_a(;|$)' "$T/end.folded")" -ge 20
fi

finish
