#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: off-CPU and wall-clock profiles (--mode offcpu|wall) of workloads that wait in
# known places (tests/workloads/offcpu.c, built without frame pointers: DWARF unwinding at
# the scheduler switch).
. "$(dirname "$0")/lib.sh"

OC="$WL/offcpu"

# usec PATTERN FILE: microseconds of the folded lines of process offcpu matching PATTERN.
usec() {
	awk -v pat="$1" 'index($0, "offcpu;") == 1 && $0 ~ pat { t += $NF } END { print t + 0 }' "$2"
}
# pct A B: A as a whole percentage of B (0 when B is 0).
pct() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%d\n", 100 * a / b; else print 0 }'
}

# Bad input: a clear error and a non-zero exit, before anything is loaded.
"$FLAMED" --mode bogus -d 1 -o "$T/x.folded" 2>"$T/bad.err"
check "--mode bogus: refused" test $? != 0
check "--mode bogus: names the choices" grep -q "expected cpu, offcpu or wall" "$T/bad.err"
"$FLAMED" --mode offcpu --offcpu-sample 0 -d 1 -o "$T/x.folded" 2>"$T/bad.err"
check "--offcpu-sample 0: refused" test $? != 0
"$FLAMED" --mode offcpu --offcpu-min-us -5 -d 1 -o "$T/x.folded" 2>"$T/bad.err"
check "--offcpu-min-us -5: refused" test $? != 0
# -C limits the sampling events, not the scheduler's switches: refused rather than ignored.
for m in offcpu wall; do
	"$FLAMED" --mode "$m" -C 0 -d 1 -o "$T/x.folded" 2>"$T/bad.err"
	check "--mode $m -C 0: refused ($?), saying -C limits on-CPU sampling only" \
		grep -q "limits on-CPU sampling only; mode $m records the switches of every CPU" "$T/bad.err"
done
check "--mode offcpu -C 0: no output written" test ! -e "$T/x.folded"

if need_root "off-CPU profiling"; then
	# nanosleep in main -> a -> b -> sleeper, 50 ms at a time for 2 s.
	"$FLAMED" --mode offcpu -o "$T/sleep.folded" -- "$OC" sleep 2 2>"$T/sleep.err"
	check "sleep: exits 0" test $? = 0
	# Shares of the blocked time: waiting for a CPU ([preempted], from start-up on) is
	# the machine's load, not the workload's.
	total=$(usec '' "$T/sleep.folded")
	blocked=$(usec ';\[blocked\] [0-9]+$' "$T/sleep.folded")
	chain=$(usec ';main;a;b;sleeper;.*;\[blocked\] [0-9]+$' "$T/sleep.folded")
	p=$(pct "$chain" "$blocked")
	echo "     sleep: $total us off-CPU, $blocked us blocked, $p% of it under main;a;b;sleeper"
	check "sleep: >= 90% of the blocked time under main;a;b;sleeper, [blocked] ($p%)" \
		test "$p" -ge 90
	check "sleep: 1.6 to 3 s blocked in sleeper ($chain us of 2 s)" \
		test "$chain" -ge 1600000 -a "$chain" -le 3000000
	check "sleep: the nanosleep path in the kernel ends in __schedule, then the state" \
		grep -qE ';sleeper;.*nanosleep.*_\[k\];__schedule_\[k\];\[blocked\] [0-9]+$' \
		"$T/sleep.folded"
	check "sleep: flamed's own BPF frames are not in the stacks" \
		bash -c "! grep -qE 'bpf_prog_|bpf_trace_run' '$T/sleep.folded'"
	check "folded lines are 'stack COUNT'" \
		bash -c "! grep -vqE '^[^ ].* [0-9]+\$' '$T/sleep.folded'"
	check "sleep: the summary says off-CPU time" grep -q "s of off-CPU time" "$T/sleep.err"
	# Stacks are stored at switch-in with interrupts off: none may fail for want of memory.
	check "sleep: no stack lost" grep -q "lost or incomplete: 0\$" "$T/sleep.err"

	# A reader blocked in read() on a pipe for the whole run: counted although it never
	# comes back in before flamed stops (the end-of-window flush).
	"$FLAMED" --mode offcpu -o "$T/pipe.folded" -- "$OC" pipe 2 2>/dev/null
	blocked=$(usec ';\[blocked\] [0-9]+$' "$T/pipe.folded")
	chain=$(usec ';main;pipe_reader;read;.*pipe_read_\[k\];.*\[blocked\] [0-9]+$' "$T/pipe.folded")
	p=$(pct "$chain" "$blocked")
	echo "     pipe: $chain us in pipe_reader;read ... pipe_read [blocked] ($p%)"
	check "pipe: >= 90% of the blocked time under pipe_reader;read, [blocked] ($p%)" \
		test "$p" -ge 90
	check "pipe: 2 to 4 s blocked in the read ($chain us)" \
		test "$chain" -ge 2000000 -a "$chain" -le 4000000

	# fdatasync on a disk file system (the build directory; /tmp may be tmpfs): disk waits
	# are uninterruptible.
	mkdir -p "$BUILD/offcpu-fsync"
	(cd "$BUILD/offcpu-fsync" && "$FLAMED" --mode offcpu -o "$T/fsync.folded" -- \
		"$OC" fsync 2 2>/dev/null)
	rm -rf "$BUILD/offcpu-fsync"
	fs=$(stat -f -c %T "$BUILD")
	total=$(usec '' "$T/fsync.folded")
	chain=$(usec ';main;syncer;fdatasync;.*;\[uninterruptible\] [0-9]+$' "$T/fsync.folded")
	p=$(pct "$chain" "$total")
	echo "     fsync ($fs): $chain us under syncer;fdatasync ... [uninterruptible] ($p%)"
	if [ "$fs" = tmpfs ]; then
		skip "fsync: $BUILD is on tmpfs, no disk to wait for"
	else
		check "fsync: >= 50% of the off-CPU time under syncer;fdatasync, [uninterruptible] ($p%)" \
			test "$p" -ge 50
	fi

	# Two threads and a mutex: the waiter's time in pthread_mutex_lock is the holder's hold
	# (50 ms at a time, of every 51 ms).
	"$FLAMED" --mode offcpu -o "$T/mutex.folded" -- "$OC" mutex 2 2>/dev/null
	chain=$(usec ';main;waiter;pthread_mutex_lock;.*futex.*;\[blocked\] [0-9]+$' "$T/mutex.folded")
	echo "     mutex: $chain us under waiter;pthread_mutex_lock ... futex [blocked]"
	check "mutex: the waiter waits in pthread_mutex_lock for >= 1.2 s of 2 ($chain us)" \
		test "$chain" -ge 1200000 -a "$chain" -le 2600000

	# A process preempted by a busier one on the same CPU: [preempted] under its spin.
	taskset -c 0 "$WL/chain" 4 &
	busy=$!
	"$FLAMED" --mode offcpu -o "$T/preempt.folded" -- taskset -c 0 "$WL/chain" 2 2>/dev/null
	kill "$busy" 2>/dev/null
	wait "$busy" 2>/dev/null
	pre=$(awk 'index($0, "chain;") == 1 && /;main;a;b;c;.*;\[preempted\] [0-9]+$/ { t += $NF }
		END { print t + 0 }' "$T/preempt.folded")
	echo "     preempted: $pre us of chain waiting for CPU 0 under main;a;b;c"
	check "preempted: >= 0.5 s under main;a;b;c ... [preempted] ($pre us)" test "$pre" -ge 500000

	# 20 ms burn_cpu then 60 ms sleep_wait, for 4 s. offcpu: the blocked time is the sleep
	# (the spin's off-CPU time is preemption, large only on a busy machine).
	"$FLAMED" --mode offcpu -o "$T/mixoff.folded" -- "$OC" mixed 4 >/dev/null 2>&1
	blocked=$(usec ';\[blocked\] [0-9]+$' "$T/mixoff.folded")
	sw=$(usec ';main;mixed;sleep_wait;.*;\[blocked\] [0-9]+$' "$T/mixoff.folded")
	p=$(pct "$sw" "$blocked")
	echo "     mixed offcpu: $sw us of $blocked us blocked under sleep_wait ($p%)"
	check "mixed offcpu: >= 90% of the blocked time under sleep_wait ($p%)" test "$p" -ge 90

	# wall: samples weigh 1/F s, off-CPU time its length: burn_cpu ~25%, sleep_wait ~75%,
	# about 4 s in all for the one thread. A busy machine stretches the spin (preempted
	# inside it), so the shares are compared with the phases' real times the workload
	# measured itself, within 5 points.
	"$FLAMED" --mode wall -F 199 -o "$T/wall.folded" -- "$OC" mixed 4 >"$T/wall.real" \
		2>/dev/null
	check "wall: exits 0" test $? = 0
	total=$(usec ';main;' "$T/wall.folded")
	burn=$(usec ';main;mixed;burn_cpu[; ]' "$T/wall.folded")
	sw=$(usec ';main;mixed;sleep_wait[; ]' "$T/wall.folded")
	pb=$(pct "$burn" "$total")
	ps=$(pct "$sw" "$total")
	rb=$(awk '{ printf "%d", 100 * $2 / ($2 + $4) }' "$T/wall.real")
	rs=$(awk '{ printf "%d", 100 * $4 / ($2 + $4) }' "$T/wall.real")
	echo "     wall: $total us under main: burn_cpu $pb%, sleep_wait $ps% (real: $rb%, $rs%)"
	check "wall: burn_cpu $pb% within 5 points of its real $rb% (25% when idle)" \
		test "$rb" -gt 0 -a "$pb" -ge $((rb - 5)) -a "$pb" -le $((rb + 5))
	check "wall: sleep_wait $ps% within 5 points of its real $rs% (75% when idle)" \
		test "$rs" -gt 0 -a "$ps" -ge $((rs - 5)) -a "$ps" -le $((rs + 5))
	check "wall: the thread's total is 3.6 to 4.6 s ($total us)" \
		test "$total" -ge 3600000 -a "$total" -le 4600000
	check "wall: on-CPU frames have no state frame" \
		grep -qE ';main;mixed;burn_cpu [0-9]+$' "$T/wall.folded"

	# --offcpu-min-us above the 50 ms sleeps: none counted by stack, all summed at exit. An
	# interval lasts until the task runs again: on a loaded machine a 50 ms sleep and its wait
	# for a CPU made 268 ms, over a 200 ms threshold; 1 s is over the whole run's sleeping.
	"$FLAMED" --mode offcpu --offcpu-min-us 1000000 -o "$T/min.folded" -- "$OC" sleep 1 \
		2>"$T/min.err"
	chain=$(usec ';sleeper;' "$T/min.folded")
	check "--offcpu-min-us 1000000: no 50 ms sleep counted by stack ($chain us)" test "$chain" = 0
	short=$(sed -nE 's/.*intervals \(([0-9.]+) s\) under --offcpu-min-us.*/\1/p' "$T/min.err")
	echo "     --offcpu-min-us 1000000: ${short:-?} s summed under the threshold"
	check "--offcpu-min-us: the short time is reported (${short:-none} s >= 0.8)" \
		awk -v s="${short:-0}" 'BEGIN { exit !(s >= 0.8) }'

	# SVG: time in the subtitle and the counts' name. 2 s of sleeping: 1 s was on the edge of
	# the seconds a frame needs to be told in s (a loaded CI run showed none in seconds).
	"$FLAMED" --mode offcpu -o "$T/sleep.svg" -- "$OC" sleep 2 2>/dev/null
	check "svg: well-formed XML (xmllint)" xmllint --noout "$T/sleep.svg"
	check "svg: subtitle says off-CPU time" grep -q 's of off-CPU time' "$T/sleep.svg"
	check "svg: counts named us" grep -q 'data-count-name="us"' "$T/sleep.svg"
	check "svg: the state frame" grep -q '>\[blocked\]' "$T/sleep.svg"
	# Tooltips tell the time (ms/s) after the microseconds and share, each the count's own.
	check "svg: every tooltip tells its time, the 2 s sleep's frames in seconds" python3 -c '
import re, sys
titles = re.findall(r"<title>([^<]*)</title>", open(sys.argv[1]).read())
frames = [t for t in titles if re.search(r"\(([0-9,]+) us, ", t)]
secs = 0
for t in frames:
    m = re.search(r"\(([0-9,]+) us, [0-9.]+%, ([0-9.]+) (s|ms|us)\)$", t)
    if not m:
        sys.exit("no time in: " + t)
    us, v, unit = int(m.group(1).replace(",", "")), float(m.group(2)), m.group(3)
    want = {"s": us / 1e6, "ms": us / 1e3, "us": us}[unit]
    if abs(want - v) > {"s": 0.005, "ms": 0.05, "us": 0}[unit] + 1e-9:
        sys.exit("wrong time in: " + t)
    secs += unit == "s" and v >= 1.8
longest = max(frames, key=lambda t: int(re.search(r"\(([0-9,]+) us", t).group(1).replace(",", "")), default="none")
sys.exit(0 if frames and secs else "no frame of the sleep in seconds; the longest: " + longest)' "$T/sleep.svg"

	# wall SVG: frames whose time is all off-CPU are slate grey (one shade: green = red + 10,
	# blue = red + 30), the rest keep their palette; the legend names the colour. The SVG
	# and the folded stacks are rendered from one recorded profile, so each frame's colour is
	# judged by its own stacks (the sleep's path has a few microseconds on-CPU that a sample
	# hits in some runs: then it is partly on-CPU and keeps its colour).
	"$FLAMED" --mode wall -F 199 -o "$T/wallsvg.pb.gz" -- "$OC" mixed 2 >/dev/null 2>&1
	"$FLAMED" render "$T/wallsvg.pb.gz" -o "$T/wall.svg" 2>/dev/null
	"$FLAMED" render "$T/wallsvg.pb.gz" -o "$T/wallsvg.folded" 2>/dev/null
	# fills SVG: "name fill" of each frame, from its <title> and <rect>.
	fills() {
		python3 - "$1" <<'PY'
import re, sys
import xml.etree.ElementTree as ET
ns = {"s": "http://www.w3.org/2000/svg"}
root = ET.parse(sys.argv[1]).getroot()
for g in root.iterfind(".//s:g[@id='frames']/s:g", ns):
    t, r = g.find("s:title", ns), g.find("s:rect", ns)
    print(re.sub(r" \(.*", "", t.text), r.get("fill"))
PY
	}
	# slate FILL: the off-CPU colour.
	slate() {
		python3 -c 'import sys; c = sys.argv[1]; r, g, b = (int(c[i:i + 2], 16) for i in (1, 3, 5))
sys.exit(not (105 <= r <= 180 and g == r + 10 and b == r + 30))' "$1"
	}
	not_slate() {
		[ -n "$1" ] && ! slate "$1"
	}
	# oncpu NAME: microseconds of the folded stacks through frame NAME without a state leaf.
	oncpu() {
		awk -v f="$1" '{ n = split($1, a, ";"); hit = 0
			for (i = 1; i <= n; i++) if (a[i] == f) hit = 1
			if (hit && a[n] !~ /^\[[a-z-]+\]$/) t += $2 } END { print t + 0 }' \
			"$T/wallsvg.folded"
	}
	fills "$T/wall.svg" >"$T/wall.fills"
	# SVG names lose the folded kind suffix (do_nanosleep_[k] is drawn as do_nanosleep).
	for f in sleep_wait do_nanosleep_[k] '[blocked]' burn_cpu mixed; do
		name=${f%_\[k\]}
		fill=$(awk -v n="$name" '$1 == n { print $2; exit }' "$T/wall.fills")
		on=$(oncpu "$f")
		if [ "$on" = 0 ]; then
			check "wall svg: $name, all off-CPU, is slate grey (${fill:-none})" \
				slate "${fill:-#000000}"
		else
			check "wall svg: $name, $on us on-CPU, keeps its palette colour (${fill:-none})" \
				not_slate "$fill"
		fi
	done
	check "wall svg: burn_cpu has on-CPU time (the comparison above is not vacuous)" \
		test "$(oncpu burn_cpu)" -gt 0
	check "wall svg: the legend names the off-CPU colour" grep -q '>off-CPU (waiting)<' "$T/wall.svg"
	check "wall svg: well-formed XML (xmllint)" xmllint --noout "$T/wall.svg"
	check "offcpu svg: no off-CPU legend entry (all of it is)" \
		bash -c "! grep -q 'off-CPU (waiting)' '$T/sleep.svg'"

	# pprof: sample types pprof and Pyroscope users know, values in nanoseconds.
	"$FLAMED" --mode offcpu -o "$T/sleep.pb.gz" -- "$OC" sleep 1 2>/dev/null
	"$FLAMED" --mode wall -o "$T/wall.pb.gz" -- "$OC" mixed 1 >/dev/null 2>&1
	if need_tool "pprof decoding" go; then
		go tool pprof -raw "$T/sleep.pb.gz" >"$T/sleep.raw" 2>&1
		check "pprof offcpu: sample type off_cpu/nanoseconds" \
			grep -qx 'off_cpu/nanoseconds' "$T/sleep.raw"
		go tool pprof -top -nodecount=200 "$T/sleep.pb.gz" >"$T/sleep.top" 2>&1
		cum=$(awk '$NF == "sleeper" { v = $4; sub(/s$/, "", v); if ($4 ~ /ms$/) { sub(/ms$/, "", v); v /= 1000 } print v }' "$T/sleep.top")
		echo "     pprof offcpu: sleeper cumulative ${cum:-?} s"
		check "pprof offcpu: sleeper holds 0.8 to 1.5 s (${cum:-none})" \
			awk -v c="${cum:-0}" 'BEGIN { exit !(c >= 0.8 && c <= 1.5) }'
		go tool pprof -raw "$T/wall.pb.gz" >"$T/wall.raw" 2>&1
		check "pprof wall: sample type wall/nanoseconds" grep -qx 'wall/nanoseconds' "$T/wall.raw"
	fi
	# Read back by flamed: counts return to microseconds.
	"$FLAMED" render "$T/sleep.pb.gz" -o "$T/back.folded" 2>/dev/null
	back=$(usec ';sleeper;' "$T/back.folded")
	check "pprof read back: sleeper in microseconds, 0.8 to 1.5 s ($back)" \
		test "$back" -ge 800000 -a "$back" -le 1500000

	# --- Continuous mode ---------------------------------------------------------------------
	# wall: 3 threads of the mixed loop (one process, -p). Every thread is accounted for all
	# the time, on-CPU (1/F s a sample) or off (its intervals, cut at each drain), so each
	# window holds its span x 3 threads. Below: the on-CPU samples a loaded machine's
	# cpu-clock misses (up to 40% of the ~25% on-CPU part); above: the drain's timing.
	"$OC" mixed 60 3 >/dev/null &
	wl=$!
	"$FLAMED" --mode wall -F 199 -p "$wl" --output-dir "$T/cwall" --interval 2 --keep 0 \
		--formats folded,svg -d 6.5 >"$T/cwall.log" 2>&1
	check "continuous wall: exits 0" test $? = 0
	kill "$wl" 2>/dev/null
	wait "$wl" 2>/dev/null
	# window lines: "window A to B (2.000 s): 5.984 s of wall-clock time, wrote STEM.folded".
	sed -nE 's/.*\(([0-9.]+) s\): ([0-9.]+) s of wall-clock time, wrote .*(flamed-[^ ,]*Z)\.folded.*/\1 \2 \3/p' \
		"$T/cwall.log" >"$T/cwall.windows"
	nw=$(wc -l <"$T/cwall.windows")
	check "continuous wall: 3 or more windows logged in wall-clock time ($nw)" test "$nw" -ge 3
	bad=0
	while read -r dur logged stem; do
		got=$(usec '' "$T/cwall/$stem.folded")
		r=$(awk -v g="$got" -v d="$dur" 'BEGIN { printf "%.2f", g / 1e6 / (d * 3) }')
		echo "     wall window $stem: $got us over $dur s x 3 threads = $r (logged $logged s)"
		awk -v r="$r" 'BEGIN { exit !(r >= 0.80 && r <= 1.10) }' || bad=$((bad + 1))
	done <"$T/cwall.windows"
	check "continuous wall: every window holds 0.80 to 1.10 x its span x 3 threads ($bad off)" \
		test "$nw" -ge 3 -a "$bad" = 0
	stem=$(head -n 1 "$T/cwall.windows" | cut -d' ' -f3)
	check "continuous wall: the window's SVG says wall-clock time" \
		grep -q 's of wall-clock time' "$T/cwall/$stem.svg"
	check "continuous wall: a thread's burn_cpu and main's sleep_wait in a window" \
		bash -c "grep -q ';mixed_thread;mixed;burn_cpu ' '$T/cwall/$stem.folded' &&
			grep -q ';main;mixed;sleep_wait;.*\[blocked\] ' '$T/cwall/$stem.folded'"

	# offcpu: the sleeping workload's stack in every window, blocked almost all of it.
	"$OC" sleep 60 &
	wl=$!
	"$FLAMED" --mode offcpu -p "$wl" --output-dir "$T/coff" --interval 2 --keep 0 \
		--formats folded,pprof -d 4.5 >"$T/coff.log" 2>&1
	check "continuous offcpu: exits 0" test $? = 0
	kill "$wl" 2>/dev/null
	wait "$wl" 2>/dev/null
	sed -nE 's/.*\(([0-9.]+) s\): [0-9.]+ s of off-CPU time, wrote .*(flamed-[^ ,]*Z)\.folded.*/\1 \2/p' \
		"$T/coff.log" >"$T/coff.windows"
	nw=$(wc -l <"$T/coff.windows")
	check "continuous offcpu: 2 or more windows logged in off-CPU time ($nw)" test "$nw" -ge 2
	bad=0
	while read -r dur stem; do
		chain=$(usec ';main;a;b;sleeper;.*;\[blocked\] [0-9]+$' "$T/coff/$stem.folded")
		r=$(awk -v g="$chain" -v d="$dur" 'BEGIN { printf "%.2f", g / 1e6 / d }')
		echo "     offcpu window $stem: $chain us under main;a;b;sleeper [blocked] over $dur s = $r"
		awk -v r="$r" 'BEGIN { exit !(r >= 0.80 && r <= 1.05) }' || bad=$((bad + 1))
	done <"$T/coff.windows"
	check "continuous offcpu: every window holds the sleeper blocked 0.80 to 1.05 of its span ($bad off)" \
		test "$nw" -ge 2 -a "$bad" = 0
	if need_tool "pprof decoding" go; then
		stem=$(head -n 1 "$T/coff.windows" | cut -d' ' -f2)
		go tool pprof -raw "$T/coff/$stem.pb.gz" >"$T/coff.raw" 2>&1
		check "continuous offcpu: the window's pprof is off_cpu/nanoseconds" \
			grep -qx 'off_cpu/nanoseconds' "$T/coff.raw"
	fi

	# Push: the window's profile type reaches the backend. Connect: __name__ off_cpu and the
	# pprof's off_cpu/nanoseconds; /ingest: a wall pprof, which Pyroscope names wall.
	RECV="$ROOT/tests/e2e/pyroscope_receiver.py"
	"$OC" sleep 60 &
	wl=$!
	for api in connect ingest; do
		mode=offcpu
		[ "$api" = ingest ] && mode=wall
		port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
		recv="$T/recv-$api"
		python3 "$RECV" --port "$port" --dir "$recv" >"$recv.log" 2>&1 &
		rpid=$!
		wait_for "$recv.log" '^ready' 30
		"$FLAMED" --mode "$mode" -p "$wl" --output-dir "$T/cpush-$api" --interval 1 --keep 0 \
			--formats folded --push-url "http://127.0.0.1:$port" --push-api "$api" \
			--service-name offcpu-e2e -d 2.5 >"$T/cpush-$api.log" 2>&1
		check "push $api --mode $mode: flamed exits 0" test $? = 0
		kill "$rpid" 2>/dev/null
		wait "$rpid" 2>/dev/null
		n=$(wc -l <"$recv/requests.jsonl" 2>/dev/null || echo 0)
		check "push $api --mode $mode: 2 or more windows received ($n)" test "$n" -ge 2
		if [ "$api" = connect ]; then
			check "push connect --mode offcpu: every request's __name__ is off_cpu" \
				python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(not rs or any(r["labels"].get("__name__") != "off_cpu" or r.get("error") for r in rs))' \
				"$recv/requests.jsonl"
		else
			check "push ingest --mode wall: format=pprof, service offcpu-e2e" \
				python3 -c 'import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(not rs or any(r["query"].get("format") != "pprof" or r["service"] != "offcpu-e2e" or r.get("error") for r in rs))' \
				"$recv/requests.jsonl"
		fi
		if need_tool "pprof decoding" go; then
			want=off_cpu/nanoseconds
			[ "$mode" = wall ] && want=wall/nanoseconds
			go tool pprof -symbolize=none -raw "$recv/0002.pb.gz" >"$T/push-$api.raw" 2>&1
			check "push $api --mode $mode: the pushed pprof decodes as $want" \
				grep -qx "$want" "$T/push-$api.raw"
			go tool pprof -symbolize=none -traces "$recv/0002.pb.gz" >"$T/push-$api.traces" 2>&1
			check "push $api --mode $mode: the sleeper's stack is in it" \
				grep -qE '^ +[0-9.]+m?s +sleeper$|^ +sleeper$' "$T/push-$api.traces"
		fi
	done
	kill "$wl" 2>/dev/null
	wait "$wl" 2>/dev/null
fi
finish
