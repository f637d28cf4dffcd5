#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# One run loop (src/base/evloop.c) for one-shot and continuous mode (root). Checks: a one-shot
# profile stopped by SIGINT, SIGTERM or SIGHUP exits 0 and writes the chain workload's stack
# (main;a;b;c); the daemon reloads on SIGHUP and keeps running, and on SIGTERM writes its last
# window and exits 0; in both modes the process holds one signalfd, one timerfd and three
# epoll instances (the loop's, and the ones libbpf's perf buffer and ring buffer make for the
# mapping events and the new runtime stacks, each one fd of the loop), where the one-shot loop
# used to hold two timerfds and the daemon five timerfds; with push and the HTTP server the
# daemon holds one more epoll (libmicrohttpd's), no timerfd.
# One description of a profile (src/aggregate/describe.c): a one-shot SVG and a continuous-mode
# window SVG of the same workload carry the same kinds of facts in the same order (span, rate,
# CPUs, samples, host, target, unwind summary, symbol statistics; the window's span names its
# start and end), and the one-shot summary on stderr is the SVG subtitle's words but the host.
. "$(dirname "$0")/lib.sh"

need_root "one run loop" || { finish; exit $?; }

CNAME=corechain$$
CHAIN="$T/$CNAME"
cp "$WL/chain" "$CHAIN"
"$CHAIN" 600 >/dev/null &
cpid=$!
trap 'kill $cpid 2>/dev/null; rm -rf "$T"' EXIT

# kinds PID: "epoll timerfd signalfd" counts of the process's anonymous-inode fds.
kinds() {
	local e=0 t=0 s=0 f l
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case "$l" in
		"anon_inode:[eventpoll]") e=$((e + 1)) ;;
		"anon_inode:[timerfd]") t=$((t + 1)) ;;
		"anon_inode:[signalfd]") s=$((s + 1)) ;;
		esac
	done
	echo "$e $t $s"
}
has_chain() {
	grep -q "^$CNAME;.*main;a;b;c [0-9]*$" "$1"
}

# --- one-shot: each stopping signal ends the one loop and writes the profile ---------------
for sig in INT TERM HUP; do
	out="$T/oneshot-$sig.folded"
	"$FLAMED" -v -o "$out" 2>"$T/oneshot-$sig.err" &
	fp=$!
	if ! wait_for "$T/oneshot-$sig.err" "profiling"; then
		fail "one-shot SIG$sig: flamed did not start"
		kill -KILL $fp 2>/dev/null
		continue
	fi
	if [ "$sig" = INT ]; then	# no else: the descriptors are counted once, not per signal
		k=$(kinds $fp)
		check "one-shot: one signalfd, one timerfd, three epolls (epoll timerfd signalfd: $k)" \
			test "$k" = "3 1 1"
	fi
	sleep 1	# a second of samples, so the profile written has some: not a verdict
	kill -"$sig" $fp
	wait $fp
	rc=$?
	check "one-shot SIG$sig: exits 0 ($rc)" test "$rc" = 0
	check "one-shot SIG$sig: the loop saw it" grep -q "stopping" "$T/oneshot-$sig.err"
	check "one-shot SIG$sig: the profile holds $CNAME;main;a;b;c" has_chain "$out"
done

# --- continuous: SIGHUP reloads on the loop, SIGTERM writes the last window ------------------
D="$T/windows"
"$FLAMED" --interval 600 --formats folded --output-dir "$D" 2>"$T/daemon.err" &
dp=$!
if wait_for "$T/daemon.err" "profiling the whole system"; then
	k=$(kinds $dp)
	check "daemon: one signalfd, one timerfd, three epolls (epoll timerfd signalfd: $k)" \
		test "$k" = "3 1 1"
	kill -HUP $dp
	check "daemon SIGHUP: reloaded" wait_for "$T/daemon.err" "reloaded"
	check "daemon SIGHUP: still running" kill -0 $dp
	sleep 1	# the reloaded daemon samples a while before it stops: not a verdict
	kill -TERM $dp
	wait $dp
	rc=$?
	check "daemon SIGTERM: exits 0 ($rc)" test "$rc" = 0
	check "daemon SIGTERM: writing the last window" grep -q "writing the last window" \
		"$T/daemon.err"
	check "daemon SIGTERM: the last window holds $CNAME;main;a;b;c" has_chain "$D/latest.folded"
else
	fail "daemon: did not start"
	kill -KILL $dp 2>/dev/null
fi

# --- a SIGTERM that arrives once the loop has stopped on its own ---------------------------
# The daemon's only target exits, so the daemon stops and writes its last window; a SIGTERM
# sent then (as systemd or a test sends it) used to stay pending until the loop's mask was
# restored at exit and end the process by the signal, status 143 (CI, stop 29).
"$CHAIN" 60 &
cp=$!
"$FLAMED" -v -p "$cp" --interval 3600 --formats folded,svg --output-dir "$T/late" \
	2>"$T/late.err" &
dp=$!
if wait_for "$T/late.err" "profiling the given processes"; then
	# Half a second of the target's CPU time profiled: a window with samples to write.
	t=$(cpu_ticks "$cp")
	wait_until 60 ticks_at_least "$cp" $((t + 50))
	kill "$cp"
	wait "$cp" 2>/dev/null
	wait_for "$T/late.err" "every profiled process has exited" 30
	kill -TERM "$dp"
	wait "$dp"
	rc=$?
	check "daemon stopped by its target's exit, then SIGTERM: exits 0 ($rc)" test "$rc" = 0
	check "daemon stopped by its target's exit: its last window written" \
		grep -q "samples, wrote" "$T/late.err"
else
	fail "daemon -p: did not start"
	kill "$cp" 2>/dev/null
	kill -KILL "$dp" 2>/dev/null
fi

# --- continuous with push and the HTTP server: their sockets and timers are the loop's too ----
# Four epolls: the loop's, libbpf's perf buffer's and ring buffer's, and libmicrohttpd's own
# (MHD_USE_EPOLL, one fd of the loop); push and the server used to add an epoll and a timerfd
# each, push another.
if need_tool "continuous with push and the HTTP server" curl; then
	"$FLAMED" --interval 600 --formats folded --output-dir "$T/fleet" --listen 127.0.0.1:0 \
		--push-url http://127.0.0.1:9/ 2>"$T/fleet.err" &
	dp=$!
	if wait_for "$T/fleet.err" "serving /debug/pprof"; then
		port=$(sed -nE 's|.*serving .* on http://127\.0\.0\.1:([0-9]+)/.*|\1|p' "$T/fleet.err")
		k=$(kinds $dp)
		check "daemon with push and --listen: one signalfd, one timerfd, four epolls ($k)" \
			test "$k" = "4 1 1"
		check "daemon with push and --listen: /metrics served from the loop" \
			bash -c "curl -sf --max-time 20 http://127.0.0.1:$port/metrics | grep -q '^flamed_'"
		kill -TERM $dp
		wait $dp
		rc=$?
		check "daemon with push and --listen: SIGTERM exits 0 ($rc)" test "$rc" = 0
	else
		fail "daemon with push and --listen: did not start ($(tail -n 2 "$T/fleet.err"))"
		kill -KILL $dp 2>/dev/null
	fi
fi

# --- one description: one-shot and continuous SVGs say the same things ----------------------
# subtitle SVG: the subtitle's text, XML entities back to characters.
subtitle() {
	sed -nE 's/.*<text id="subtitle"[^>]*>([^<]*)<.*/\1/p' "$1" | head -n 1 |
		sed 's/&lt;/</g; s/&gt;/>/g; s/&quot;/"/g; s/&apos;/'"'"'/g; s/&amp;/\&/g'
}
# kinds TEXT: the facts it carries, in order (losses left out: a loaded machine may lose some).
fact_kinds() {
	local t="$1" k=""
	local -a re=('^[0-9.]+ s, |^[0-9-]{10} [0-9:.]{12} to ([0-9-]{10} )?[0-9:.]{12} UTC \([0-9.]+ s\), '
		', [0-9]+ Hz, ' ', [0-9]+ CPUs?, ' ', [0-9,]+ samples?(, |$)' ", host $(hostname), "
		', system-wide(, |$)' ', unwind: dwarf, [0-9]+ stacks by tables \([0-9]+ partly by frame pointers, [0-9]+ truncated\), [0-9]+ tables in [0-9.]+ MiB'
		', symbols: [0-9]+ frames, [0-9]+ unnamed, [0-9]+ unknown')
	local -a name=(span rate cpus samples host target unwind symbols)
	local i
	for i in "${!re[@]}"; do
		echo "$t" | grep -qE -- "${re[$i]}" && k="$k ${name[$i]}"
	done
	echo "${k# }"
}
all="span rate cpus samples host target unwind symbols"
"$FLAMED" -d 3 -o "$T/one.svg" 2>"$T/one.err"
check "describe: one-shot SVG written" test -s "$T/one.svg"
D="$T/cont"
"$FLAMED" --interval 2 --formats svg --output-dir "$D" 2>"$T/cont.err" &
dp=$!
check "describe: continuous mode wrote a window" wait_until 60 test -e "$D/latest.svg"
kill -TERM $dp
wait $dp
# The first window is a whole one (the last, written at SIGTERM, may be a short rest).
first=$(ls "$D"/flamed-*.svg 2>/dev/null | head -n 1)
one=$(subtitle "$T/one.svg")
win=$(subtitle "${first:-/dev/null}")
echo "     one-shot:   $one"
echo "     continuous: $win"
check "describe: one-shot subtitle has every fact ($(fact_kinds "$one"))" \
	test "$(fact_kinds "$one")" = "$all"
check "describe: window subtitle has the same facts ($(fact_kinds "$win"))" \
	test "$(fact_kinds "$win")" = "$all"
check "describe: the window's span names start and end" \
	grep -qE '^[0-9-]{10} [0-9:.]{12} to ([0-9-]{10} )?[0-9:.]{12} UTC \([0-9.]+ s\), ' <<<"$win"
sum=$(sed -nE "s|.*wrote $T/one.svg: (.*); lost or incomplete: [0-9]+\$|\1|p" "$T/one.err")
check "describe: stderr summary is the subtitle's words but the host ($sum)" \
	test -n "$sum" -a "$sum" = "$(sed "s/, host $(hostname)//" <<<"$one")"

kill $cpid 2>/dev/null
wait $cpid 2>/dev/null

# Code only tests and bench use is not linked into flamed (the link drops unused functions);
# the unit tests do carry it, so the symbol's absence is not a misspelt name.
check "flamed carries no test-only code (the libdw reference unwind-table builder)" \
	bash -c "nm '$BUILD/unit-tests' | grep -q ' unwind_table__from_elf_libdw\$' &&
		! nm '$FLAMED' | grep -q unwind_table__from_elf_libdw"
finish
