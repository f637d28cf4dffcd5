#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: continuous mode (rolling windows, retention, signals, reload, full disks,
# sd_notify), the systemd unit (verify, security score, the privileges it grants), make install
# and the man page against --help.
. "$(dirname "$0")/lib.sh"

# The unit's exposure score must stay at or below this (systemd-analyze's 0-10 scale).
SCORE_MAX=4.0

# count_windows DIR: window stems on disk.
count_windows() {
	ls "$1" 2>/dev/null | grep -E '^flamed-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.' | sed 's/Z\..*/Z/' |
		sort -u | wc -l
}
# The chain workload under a name of its own: other tests may run chain at the same time, and
# continuous mode profiles the whole system.
CHAIN="$T/dchain$$"
cp "$WL/chain" "$CHAIN"
CNAME=$(basename "$CHAIN" | cut -c1-15)
# chain_samples FILE...: samples of our chain workload in folded files.
chain_samples() {
	cat "$@" | awk -v p="$CNAME;" 'index($0, p) == 1 { t += $NF } END { print t + 0 }'
}
# show_misses NAME FILE...: NAME's stacks without the chain, most samples first (diagnosis).
show_misses() {
	local name=$1
	shift
	cat "$@" | awk -v p="$name;" 'index($0, p) == 1 && $0 !~ /;main;a;b;c[; ]/' |
		sort -t' ' -k2 -rn | head -n 5 | cut -c1-300 | sed 's/^/       /'
}
# chain_pct NAME FILE...: percentage of NAME's samples with the whole chain main;a;b;c (kernel
# frames may follow: an interrupt taken in c).
chain_pct() {
	local name=$1
	shift
	cat "$@" | awk -v p="$name;" 'index($0, p) == 1 { t += $NF; if ($0 ~ /;main;a;b;c[; ]/) h += $NF }
		END { print t ? int(100 * h / t) : 0 }'
}
# windows_written LOG: windows the daemon logged as written.
windows_written() {
	grep -c ': [0-9]* samples\?, wrote' "$1"
}
# at_least N CMD...: CMD's output (a number) is at least N.
at_least() {
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ] 2>/dev/null
}
# stop PID: SIGTERM, then its exit status.
stop() {
	kill -TERM "$1" 2>/dev/null
	wait "$1"
}

# --- Without root: the man page, install, the unit file, config errors -------------------

# Every option of each --help is in its section of the man page, and nothing else (same
# short/long pairs): flamed --help in OPTIONS, render's and diff's in RENDER AND DIFF.
help_opts() {
	"$FLAMED" "$@" --help | grep -oE -- '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' | sed -E 's/^ +//'
}
# man_opts SECTION: the options of the .TP items of that .SH section.
man_opts() {
	awk -v sec=".SH $1" '/^\.SH/ { in_sec = ($0 == sec) } in_sec && /^\.TP/ { getline; print }' \
		"$ROOT/docs/flamed.8" |
		sed -E -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/"//g' -e 's/ +/ /g' -e 's/ ,/,/g' |
		grep -oE -- '^\.[A-Z]+ (-[a-zA-Z], )?--[a-z][a-z0-9-]*' | sed -E 's/^\.[A-Z]+ //' | sort
}
help_opts | sort >"$T/help.opts"
man_opts OPTIONS >"$T/man.opts"
if diff -u "$T/help.opts" "$T/man.opts" >"$T/opts.diff"; then
	ok "man page OPTIONS lists exactly the options of --help ($(wc -l <"$T/help.opts"))"
else
	fail "man page OPTIONS and --help differ:"
	cat "$T/opts.diff"
fi
{ help_opts render; help_opts diff; } | sort -u >"$T/help.render"
man_opts "RENDER AND DIFF" >"$T/man.render"
if [ -s "$T/help.render" ] && diff -u "$T/help.render" "$T/man.render" >"$T/opts.diff"; then
	ok "man page RENDER AND DIFF lists exactly the options of render/diff --help ($(wc -l <"$T/help.render"))"
else
	fail "man page RENDER AND DIFF and render/diff --help differ:"
	cat "$T/opts.diff"
fi
if need_tool "man page rendering" man; then
	check "man page renders without warnings" \
		bash -c "! MANWIDTH=80 man --warnings -l '$ROOT/docs/flamed.8' 2>&1 >/dev/null | grep ."
fi

# make install into a prefix: the installed unit points at the installed binary and config.
make -s -C "$ROOT" install BUILD="$BUILD" PREFIX="$T/prefix" SYSCONFDIR="$T/etc" \
	>"$T/install.out" 2>&1
check "make install PREFIX: exits 0" test $? = 0
for f in "$T/prefix/bin/flamed" "$T/prefix/lib/systemd/system/flamed.service" \
	"$T/prefix/share/man/man8/flamed.8" "$T/etc/flamed/flamed.conf"; do
	check "make install PREFIX: ${f#"$T"/}" test -s "$f"
done
UNIT="$T/prefix/lib/systemd/system/flamed.service"
check "installed unit runs the installed binary with the installed config" \
	grep -qx "ExecStart=$T/prefix/bin/flamed --config $T/etc/flamed/flamed.conf" "$UNIT"
echo "# changed by the admin" >>"$T/etc/flamed/flamed.conf"
make -s -C "$ROOT" install BUILD="$BUILD" PREFIX="$T/prefix" SYSCONFDIR="$T/etc" >/dev/null 2>&1
check "make install keeps an existing config" grep -q "changed by the admin" \
	"$T/etc/flamed/flamed.conf"
make -s -C "$ROOT" install BUILD="$BUILD" DESTDIR="$T/dest" PREFIX=/usr >/dev/null 2>&1
check "make install DESTDIR PREFIX=/usr: staged tree" test -x "$T/dest/usr/bin/flamed" \
	-a -s "$T/dest/usr/lib/systemd/system/flamed.service" \
	-a -s "$T/dest/usr/share/man/man8/flamed.8" -a -s "$T/dest/etc/flamed/flamed.conf"
check "make install DESTDIR: unit names /usr/bin/flamed" \
	grep -q "^ExecStart=/usr/bin/flamed --config /etc/flamed/flamed.conf" \
	"$T/dest/usr/lib/systemd/system/flamed.service"

if command -v systemd-analyze >/dev/null; then
	# verify exits 0 even on unknown keys: it must print nothing at all.
	systemd-analyze verify --man=no "$UNIT" >"$T/verify.out" 2>&1
	if [ ! -s "$T/verify.out" ]; then ok "systemd-analyze verify: no complaints"; else
		fail "systemd-analyze verify:"
		cat "$T/verify.out"
	fi
	score=$(systemd-analyze security --offline=yes "$UNIT" 2>/dev/null |
		sed -nE 's/.*Overall exposure level for [^:]*: ([0-9.]+).*/\1/p')
	echo "     systemd-analyze security --offline=yes: $score"
	threshold=$(echo "$SCORE_MAX" | awk '{ printf "%d", $1 * 10 }')
	check "unit exposure score $score <= $SCORE_MAX (--threshold=$threshold)" \
		systemd-analyze security --offline=yes --threshold="$threshold" "$UNIT" \
		>/dev/null 2>&1
	for k in "Type=notify" "WatchdogSec=" "Restart=on-failure" "StateDirectory=flamed" \
		"NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=read-only" \
		"PrivateTmp=yes" "ReadOnlyPaths=/proc /sys" "MemoryDenyWriteExecute=yes" \
		"RestrictAddressFamilies=" "SystemCallFilter=@system-service bpf perf_event_open"; do
		check "unit has $k" grep -q "^$k" "$UNIT"
	done
else
	fail "systemd-analyze missing (.ci/install-deps installs systemd)"
fi

# Config errors are found before any privilege is needed, and name the file and line.
printf 'interval = 5\n# ok\nintervall = 3\n' >"$T/bad.conf"
"$FLAMED" --config "$T/bad.conf" --output-dir "$T/never" 2>"$T/bad.err"
check "unknown key: exit 1" test $? = 1
check "unknown key: file:line in the message" grep -q "bad.conf:3: unknown key (did you mean 'interval'?)" \
	"$T/bad.err"
printf 'keep = lots\n' >"$T/bad2.conf"
"$FLAMED" --config "$T/bad2.conf" --output-dir "$T/never" 2>"$T/bad2.err"
check "bad value: says what is expected" \
	grep -q "bad2.conf:1: invalid value for keep: expected a number" "$T/bad2.err"
"$FLAMED" --interval 0 --output-dir "$T/never" 2>"$T/bad3.err"
check "bad --interval: rejected as an option" grep -q "invalid --interval '0'" "$T/bad3.err"
"$FLAMED" --interval 5 2>"$T/bad4.err"
check "continuous mode without an output directory: told how to give one" \
	grep -q "no output directory: give --output-dir" "$T/bad4.err"
"$FLAMED" --interval 5 --output-dir "$T/never" -o x.svg 2>"$T/bad5.err"
check "continuous mode refuses -o" grep -q "takes neither -o" "$T/bad5.err"
"$FLAMED" --config "$T/missing.conf" 2>"$T/bad6.err"
check "missing config file: named" grep -q "cannot read $T/missing.conf" "$T/bad6.err"

if ! need_root "continuous mode"; then
	finish
	exit
fi

# --- Rolling windows: --interval 2 --keep 3, stopped in the fifth window -----------------
D="$T/roll"
mkdir -p "$D"
touch "$D/.flamed-20200101T000000.000Z.svg.AbC123" "$D/unrelated.svg"
"$FLAMED" --interval 2 --keep 3 --output-dir "$D" 2>"$T/roll.err" &
fp=$!
check "rolling: daemon started" wait_for "$T/roll.err" "profiling the whole system" 30
check "stale temp file of a killed run removed at start" \
	test ! -e "$D/.flamed-20200101T000000.000Z.svg.AbC123"
# Four full windows written (8 s idle, longer busy), then SIGTERM writes the partial fifth.
check "rolling: 4 windows written" wait_until 60 at_least 4 windows_written "$T/roll.err"
sent=$(date +%s.%N)
stop $fp
check "rolling: SIGTERM exits 0" test $? = 0
n=$(count_windows "$D")
nw=$(windows_written "$T/roll.err")
check "rolling: 3 windows kept of $nw ($n)" test "$n" = 3
check "rolling: 4 full windows, then the one in progress at SIGTERM ($nw written)" test "$nw" -ge 5
bad=0
for f in "$D"/flamed-*.svg; do xmllint --noout "$f" 2>/dev/null || bad=$((bad + 1)); done
check "rolling: every SVG well-formed (xmllint)" test $bad = 0
check "rolling: latest.svg valid" xmllint --noout "$D/latest.svg"
newest=$(ls "$D" | grep -E '^flamed-.*\.svg$' | sort | tail -n 1)
check "rolling: latest.svg -> the newest window" test "$(readlink "$D/latest.svg")" = "$newest"
check "rolling: no temp files left" test -z "$(ls -A "$D" | grep '^\.')"
check "rolling: other files untouched" test -e "$D/unrelated.svg"
# The window in progress at SIGTERM is written, once: the last window ends after the signal
# was sent, the ones before it before (one may end as the signal comes, its timer and the
# signal in one wake-up). How long the last one lasted says nothing: on a loaded machine the
# test may send the signal late in a window.
ends=$(grep 'wrote flamed-' "$T/roll.err" | sed -nE 's/.* to ([0-9T:.-]+)Z \(.*/\1/p' |
	while read -r e; do date -u -d "$e" +%s.%N; done | tr '\n' ' ')
check "rolling: the last window is the one in progress at SIGTERM (ends $(echo "$ends" | awk '{ print $NF }') >= $sent)" \
	awk -v ends="$ends" -v sent="$sent" 'BEGIN {
		n = split(ends, e, " ")
		for (i = 1; i < n; i++)
			if (e[i] > sent + 0.25)
				exit 1
		exit !(n >= 5 && e[n] >= sent - 0.002) # the span is cut to the millisecond
	}'
check "rolling: SVG subtitle gives start, end and samples" \
	grep -qE 'id="subtitle"[^>]*>[0-9-]{10} [0-9:.]{12} to [0-9:.]{12} UTC \([0-9.]+ s\), [0-9]+ Hz, [0-9]+ CPUs?, [0-9,]+ samples?' \
	"$D/$newest"

# --- Windows add up: their sum equals one long profile over the same period ---------------
D="$T/sum"
"$FLAMED" --interval 1 --formats folded,svg --output-dir "$D" 2>"$T/sum.err" &
fp=$!
"$FLAMED" -v -o "$T/long.folded" 2>"$T/long.err" &
lp=$!
wait_for "$T/sum.err" "profiling the whole system"
wait_for "$T/long.err" "profiling"
sleep 1	# both profile a second before the workload: not a verdict
# CPU time, not wall time: CI machines are shared, the workload may not get a whole CPU.
cpu=$(python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f" % (r.ru_utime + r.ru_stime))' "$CHAIN" 8)
sleep 0.5	# and a little after it, so its last samples are drained
stop $fp
check "sum: daemon exits 0" test $? = 0
kill -INT $lp
wait $lp
sum=$(chain_samples "$D"/flamed-*.folded)
long=$(chain_samples "$T/long.folded")
nw=$(count_windows "$D")
exp=$(awk -v c="$cpu" 'BEGIN { printf "%d", 99 * c }')
echo "     windows add up: $nw windows hold $sum chain samples; one long profile over the same" \
	"period: $long; 99 Hz x $cpu s of CPU = $exp"
# Two profilers sample the same thread independently: each count is noisy by ~sqrt(n), their
# difference by ~sqrt(a + b); 3 of those is the margin (at ~150 samples each: 52, so a window
# of the eight lost or counted twice is not always seen here; losing a third is).
check "sum: the windows' total is the long profile's within noise ($sum vs $long)" \
	awk -v a="$sum" -v b="$long" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= 3 * sqrt(a + b) + 3) }'
# A process that shares its CPU with many others gets fewer samples than 99 Hz x its CPU time:
# the kernel's cpu-clock sampler itself falls short on this shared VM under load (perf record
# -e cpu-clock -F 99 -a at load 7: 154 samples vs 184 = 99 Hz x 1.86 s), and every profiler
# instance alike (three flamed at once: 135, 159, 166 vs 188; in CI at load 9: 79 and 114 vs
# 130). The exact accounting is the windows-vs-long check above; this one only catches a
# daemon off by a factor (half its samples lost, or windows counted twice).
check "sum: and 99 Hz x CPU time, at most half below, 10% above ($sum vs $exp)" \
	awk -v a="$sum" -v e="$exp" 'BEGIN { exit !(e > 0 && a >= 0.5 * e && a <= 1.1 * e) }'
# Each window starts where the previous one ended (same instant, logged to the ms).
grep -oE 'window [0-9T:.Z-]+ to [0-9T:.Z-]+' "$T/sum.err" | awk '{ print $2, $4 }' >"$T/spans"
check "sum: windows are contiguous, none overlaps ($(wc -l <"$T/spans") spans)" \
	awk 'NR > 1 && $1 != prev { bad = 1 } { prev = $2 } END { exit bad || NR < 7 }' "$T/spans"
pct=$(chain_pct "$CNAME" "$D"/flamed-*.folded)
check "sum: a process started after the daemon is symbolized ($pct% main;a;b;c)" \
	test "$pct" -ge 90
[ "$pct" -ge 90 ] || show_misses "$CNAME" "$D"/flamed-*.folded

# --- SIGHUP: interval change applied, bad configs refused with the old settings kept -------
D="$T/hup"
C="$T/hup.conf"
printf 'output-dir = %s\ninterval = 30\nformats = folded\n' "$D" >"$C"
"$FLAMED" --config "$C" 2>"$T/hup.err" &
fp=$!
check "hup: daemon started" wait_for "$T/hup.err" "profiling the whole system" 30
sleep 1	# an absence is checked after a while; the window is 30 s, so 1 s cannot race
check "hup: nothing written yet at interval 30" test "$(count_windows "$D")" = 0
printf 'output-dir = %s\ninterval = 1\nformats = folded\nfrequency = 49\n' "$D" >"$C"
kill -HUP $fp
check "hup: reloaded" wait_for "$T/hup.err" "reloaded $C" 30
# 3 windows at interval 1: 3 s idle, a few more busy; at interval 30 they would take 90 s.
t0=$SECONDS
wait_until 60 at_least 3 count_windows "$D"
n=$(count_windows "$D")
check "hup: interval 30 -> 1 applied ($n windows in $((SECONDS - t0)) s)" \
	test "$n" -ge 3 -a $((SECONDS - t0)) -le 15
check "hup: the change is logged" grep -q "interval: 30 -> 1" "$T/hup.err"
check "hup: a sampling change waits for a restart" \
	grep -q "frequency changed (99 -> 49) but takes effect only after a restart" "$T/hup.err"
cp "$C" "$T/good.conf"
printf 'interval = 20\nkeep = 5\nintervall = 3\n' >>"$C"
kill -HUP $fp
wait_for "$T/hup.err" "reload refused"
check "hup: bad config refused with file:line" \
	grep -q "reload refused: $C:7: unknown key (did you mean 'interval'?); keeping the previous settings" \
	"$T/hup.err"
cp "$T/good.conf" "$C"
printf 'interval = 0.01\n' >>"$C"
kill -HUP $fp
check "hup: bad value refused" \
	wait_for "$T/hup.err" "reload refused: $C:5: invalid value for interval" 30
# Interval 1 kept: 2 more windows in 2 s idle, within 15 s busy (the refused 20 would take 40).
n0=$(count_windows "$D")
t0=$SECONDS
wait_until 60 at_least $((n0 + 2)) count_windows "$D"
n1=$(count_windows "$D")
check "hup: old settings kept after the refusals ($((n1 - n0)) windows in $((SECONDS - t0)) s)" \
	test $((n1 - n0)) -ge 2 -a $((SECONDS - t0)) -le 15
kill -0 $fp 2>/dev/null
check "hup: daemon still running" test $? = 0
stop $fp
check "hup: exits 0" test $? = 0

# --- SIGUSR1 closes the window now ------------------------------------------------------
D="$T/usr1"
"$FLAMED" --interval 60 --formats folded --output-dir "$D" 2>"$T/usr1.err" &
fp=$!
check "usr1: daemon started" wait_for "$T/usr1.err" "profiling the whole system" 30
kill -USR1 $fp
# At once: the interval is 60 s, so a window within 30 s can only be SIGUSR1's.
wait_until 30 at_least 1 count_windows "$D"
check "usr1: a window written at once" test "$(count_windows "$D")" = 1
stop $fp
n=$(count_windows "$D")
check "usr1: then the partial one at SIGTERM ($n windows)" test "$n" = 2

# --- sd_notify and watchdog without systemd ---------------------------------------------
D="$T/notify"
python3 - "$T/notify.sock" "$T/notify.log" <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(0.5)
end = time.time() + 20
with open(sys.argv[2], "w") as log, open(sys.argv[2] + ".times", "w") as times:
    while time.time() < end:
        try:
            msg = s.recv(4096).decode()
        except socket.timeout:
            continue
        log.write(msg.replace("\n", "|") + "\n")
        for part in msg.split("\n"):
            if part == "WATCHDOG=1":
                times.write("%.3f\n" % time.monotonic())
                times.flush()
        log.flush()
        if "STOPPING=1" in msg:
            break
PY
lsn=$!
check "notify: listener ready" wait_until 30 test -S "$T/notify.sock"
NOTIFY_SOCKET="$T/notify.sock" WATCHDOG_USEC=400000 JOURNAL_STREAM=8:1234 \
	"$FLAMED" --interval 1 --formats folded --output-dir "$D" 2>"$T/notify.err" &
fp=$!
wait_for "$T/notify.log" "STATUS=.*windows" 30
# Some pings to judge the period by (2 s of them idle), then a reload, answered before SIGTERM.
pings() { cat "$T/notify.log.times" 2>/dev/null | wc -l; }
wait_until 30 at_least 10 pings
kill -HUP $fp
reloaded() { grep -A3 '^RELOADING=1' "$T/notify.log" | grep -q '^READY=1'; }
wait_until 30 reloaded
stop $fp
check "notify: exits 0" test $? = 0
wait $lsn
check "notify: READY=1" grep -q '^READY=1' "$T/notify.log"
check "notify: STATUS= with samples/s and processes" \
	grep -qE '^STATUS=[0-9.]+ samples/s on [0-9]+ CPUs, [0-9]+ processes' "$T/notify.log"
# WATCHDOG_USEC=400000: flamed pings at half that. Judged on the gaps between pings: the
# median is the period. The longest gap is shown: on a machine at load 20 it reached 1.5 s
# (the shipped unit's WatchdogSec is 2 min), so it is not a verdict here.
read -r wd med max < <(awk 'NR > 1 { printf "%.3f\n", $1 - prev } { prev = $1 }' \
	"$T/notify.log.times" | sort -n |
	awk '{ g[NR] = $1 } END { if (NR) print NR + 1, g[int((NR + 1) / 2)], g[NR]; else print 0, 9, 9 }')
check "notify: WATCHDOG=1 every 0.2 s ($wd pings, median gap $med s)" \
	awk -v n="$wd" -v m="$med" 'BEGIN { exit !(n >= 5 && m >= 0.15 && m <= 0.25) }'
echo "     notify: longest gap between WATCHDOG=1 pings: $max s"

check "notify: RELOADING=1 on SIGHUP, READY=1 after" \
	bash -c "grep -A3 '^RELOADING=1' '$T/notify.log' | grep -q '^READY=1'"
check "notify: STOPPING=1 at the end" grep -q '^STOPPING=1' "$T/notify.log"
check "journal: lines carry syslog priorities (<5> notice)" \
	grep -q '^<5>window .* wrote flamed-' "$T/notify.err"
check "journal: no terminal prefix" bash -c "! grep -q '^flamed:' '$T/notify.err'"

# --- A full, then read-only file system: logged once per window, writing resumes ---------
M="$T/small"
mkdir -p "$M"
if mount -t tmpfs -o size=1m tmpfs "$M" 2>/dev/null; then
	mkdir "$M/out"
	dd if=/dev/zero of="$M/fill" bs=64k 2>/dev/null
	"$FLAMED" --interval 1 --formats svg,folded --output-dir "$M/out" 2>"$T/full.err" &
	fp=$!
	check "full disk: daemon started" wait_for "$T/full.err" "profiling the whole system" 30
	nospace() { grep -c "cannot write .* No space left on device" "$T/full.err"; }
	wait_until 60 at_least 3 nospace
	# Two formats per window: a warning per file would name a window twice.
	nfail=$(nospace)
	nspans=$(grep "cannot write .* No space left on device" "$T/full.err" |
		sed -nE 's/.*window ([^ ]+) to .*cannot write.*/\1/p' | sort -u | wc -l)
	check "full disk: one warning per window, not per file or sample ($nfail for $nspans windows)" \
		test "$nfail" -ge 3 -a "$nspans" = "$nfail"
	check "full disk: the warning says profiling goes on" \
		grep -q "profiling goes on, and writing resumes when it can" "$T/full.err"
	rm -f "$M/fill"
	check "full disk: writing resumed when space came back" \
		wait_for "$T/full.err" "writing to $M/out resumed after [0-9]* windows could not be written" 30
	check "full disk: windows on disk again" test "$(count_windows "$M/out")" -ge 1
	mount -o remount,ro "$M"
	check "read-only: logged" wait_for "$T/full.err" "cannot write .* Read-only file system" 30
	mount -o remount,rw "$M"
	n0=$(count_windows "$M/out")
	check "read-only: writing resumed after remount rw" \
		wait_until 30 at_least $((n0 + 1)) count_windows "$M/out"
	kill -0 $fp 2>/dev/null
	check "full disk: the daemon never stopped" test $? = 0
	stop $fp
	check "full disk: exits 0" test $? = 0
	check "full disk: no temp files left" test -z "$(ls -A "$M/out" | grep '^\.')"
	umount "$M"
else
	fail "full disk: cannot mount a tmpfs"
fi

# --- The unit's privileges are enough: an unprivileged user with only its capabilities ----
caps=$(sed -nE 's/^CapabilityBoundingSet=//p' "$ROOT/systemd/flamed.service" | tr ' ' '\n' |
	sed 's/^CAP_//' | tr 'A-Z' 'a-z')
have=$(capsh --decode="$(awk '/^CapBnd/ { print $2 }' /proc/self/status)" 2>/dev/null)
set_caps=""
for c in $caps; do
	# Sandboxed CI may lack some in its own bounding set (CAP_SYS_RESOURCE: old kernels only).
	case ",${have#*=}," in *",cap_$c,"*) set_caps="$set_caps,+$c" ;; esac
done
D="$T/unpriv"
mkdir -p "$D"
chown nobody "$D"
chmod 0711 "$T"
# A binary deleted after it started (an upgrade) is read through /proc/PID/map_files.
cp "$CHAIN" "$T/gone$$"
"$T/gone$$" 60 &
gp=$!
# Deleted once it runs, however long a busy machine takes to exec it.
wait_until 30 bash -c "[ \"\$(readlink /proc/$gp/exe)\" = '$T/gone$$' ]"
rm -f "$T/gone$$"
# Both outlive the profile whatever the load (killed after it).
"$CHAIN" 60 &
cp=$!
# A syscall-heavy process (read() of /dev/zero): kernel frames to name, however busy the
# machine is with user-mode work. Without it, 2 s of a loaded machine once had no kernel
# sample at all (stop 28's CI).
"$WL/sys" 60 &
sp=$!
setpriv --reuid=nobody --regid=nogroup --clear-groups --no-new-privs \
	--inh-caps=-all"$set_caps" --ambient-caps=-all"$set_caps" --bounding-set=-all"$set_caps" \
	"$FLAMED" --interval 1 --formats folded --output-dir "$D" -d 2 2>"$T/unpriv.err"
check "unit privileges ($set_caps as nobody, no_new_privs): exits 0" test $? = 0
kill $cp $gp $sp
wait $cp 2>/dev/null
wait $gp 2>/dev/null
wait $sp 2>/dev/null
pct=$(chain_pct "$CNAME" "$D"/flamed-*.folded)
check "unit privileges: another user's process symbolized ($pct% main;a;b;c)" test "$pct" -ge 90
# Named from /proc/kallsyms, which needs CAP_SYSLOG: a read of /dev/zero is ksys_read.
check "unit privileges: kernel frames named (ksys_read under sys)" \
	grep -qE '^sys;.*;ksys_read_\[k\]' "$D"/flamed-*.folded
gname=$(echo "gone$$" | cut -c1-15)
gpct=$(chain_pct "$gname" "$D"/flamed-*.folded)
check "unit privileges: a deleted binary symbolized ($gpct% main;a;b;c)" test "$gpct" -ge 90

# The shipped config works as it is, its output-dir overridden by the command line.
"$FLAMED" --config "$ROOT/systemd/flamed.conf" --output-dir "$T/shipped" -d 1 2>"$T/shipped.err"
check "shipped flamed.conf: accepted, one window" test $? = 0 -a "$(count_windows "$T/shipped")" = 1

finish
