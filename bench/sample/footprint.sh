#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What flamed costs around its samples (issue 17), medians of short paired rounds (root):
#  - start-up: `flamed -v -o x.folded -- /bin/true` to its "profiling" line and to its exit,
#    with the BPF load time and verified instructions it logs at -v
#  - the one-shot wall ratio `flamed -F HZ -o x.svg -- W` / `W` alone at 99 and 999 Hz, W a
#    fixed amount of CPU-bound work without frame pointers (nofp -n, about 2 s alone), each
#    profiled run paired with an unprofiled one; and the peak RSS of the profiled run
#  - kernel memory of the BPF maps (memlock of each map fd in /proc/PID/fdinfo, as bpftool's
#    bytes_memlock) and RSS, once profiling, for -p of one process and for the whole system
#  - continuous mode, whole host, 40 s of short processes: the peak of RSS + map memory
# Usage: bench/sample/footprint.sh [ROUNDS]   (needs build/flamed and build/workloads: make workloads)
#        CONT_ONLY=1 [CONT_SECS=40] bench/sample/footprint.sh   the continuous-mode figure alone
#        FLAMED=path/to/flamed bench/sample/footprint.sh   compares another build on the same workload
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=${FLAMED:-$BUILD/flamed}
NOFP=$BUILD/workloads/nofp
ROUNDS=${1:-5}
T=$(mktemp -d)
bg=
trap '[ -n "$bg" ] && kill $bg 2>/dev/null; rm -rf "$T"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
secs() { local s=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $s" | bc -l; }

# Seconds from start to the "profiling" line and to the exit, and the load line.
startup() {
	python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stderr=subprocess.PIPE, text=True)
prof, load = None, ""
for line in p.stderr:
    if prof is None and ": profiling " in line:
        prof = time.monotonic() - t0
    if "BPF programs loaded in" in line:
        load = line.split("loaded in ")[1].split(" ms")[0]
p.wait()
print(f"{prof or 0:.3f} {time.monotonic() - t0:.3f} {load or 0}")
PY
}

# Sum of the memlock of flamed's map fds, in KiB, its RSS in KiB, and the part of that RSS that
# is BPF maps mapped into flamed (the unwind rows and their page index): kernel pages that the
# memlock sum already counts, so the continuous figure takes them once.
map_kib() {
	local pid=$1 tot=0 fd m
	for fd in /proc/"$pid"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "anon_inode:bpf-map" ] || continue
		m=$(awk '/^memlock:/ {print $2}' /proc/"$pid"/fdinfo/"${fd##*/}" 2>/dev/null || echo 0)
		tot=$((tot + ${m:-0}))
	done
	echo "$((tot / 1024)) $(awk '/^VmRSS:/ {print $2}' /proc/"$pid"/status)" \
		"$(awk '/^[0-9a-f]+-/ { m = ($6 == "anon_inode:bpf-map") } m && /^Rss:/ { r += $2 }
			END { print r + 0 }' /proc/"$pid"/smaps 2>/dev/null || echo 0)"
}

# CONT_ONLY=1: only the continuous-mode figure (the last section).
if [ -z "${CONT_ONLY:-}" ]; then
echo "== start-up: $FLAMED -v -o x.folded -- /bin/true, $ROUNDS rounds"
for i in $(seq "$ROUNDS"); do
	startup "$FLAMED" -v -o "$T/t.folded" -- /bin/true >>"$T/start"
done
"$FLAMED" -v -o "$T/t.folded" -- /bin/true 2>&1 | grep -o 'verified instructions: .*' || true
printf "to 'profiling' %.3f s, to exit %.3f s, BPF load %.0f ms (medians)\n" \
	"$(cut -d' ' -f1 "$T/start" | median)" "$(cut -d' ' -f2 "$T/start" | median)" \
	"$(cut -d' ' -f3 "$T/start" | median)"

# W: about 2 s of work alone (calibrated on this machine, now).
t=$(secs "$NOFP" -n 200)
N=$(echo "200 * 2 / $t" | bc)
echo "== one-shot ratio: W = nofp -n $N (no frame pointers), $ROUNDS paired rounds"
for hz in 99 999; do
	: >"$T/ratio$hz"
	: >"$T/rss$hz"
	for i in $(seq "$ROUNDS"); do
		a=$(secs "$NOFP" -n "$N")
		s=$(date +%s.%N)
		/usr/bin/time -f "%M" -o "$T/time" "$FLAMED" -F "$hz" -o "$T/x.svg" -- "$NOFP" -n "$N" \
			>/dev/null 2>&1
		p=$(echo "$(date +%s.%N) - $s" | bc -l)
		echo "$p / $a" | bc -l >>"$T/ratio$hz"
		tail -n 1 "$T/time" >>"$T/rss$hz"
	done
	printf "%4d Hz: wall ratio x%.3f, peak RSS %.1f MiB (medians)\n" "$hz" \
		"$(median <"$T/ratio$hz")" "$(echo "$(median <"$T/rss$hz") / 1024" | bc -l)"
done

# Kernel memory of the maps and RSS once profiling; -p of one process and the whole system.
once_profiling() {
	local log=$T/log
	"$FLAMED" -v "$@" -o "$T/m.folded" 2>"$log" &
	bg=$!
	for _ in $(seq 300); do
		grep -q ': profiling ' "$log" && break
		sleep 0.1
	done
	sleep 1	# the first tables and samples
	kill -0 "$bg" 2>/dev/null || { echo "flamed $* exited:" >&2; cat "$log" >&2; return 1; }
	map_kib "$bg"
	kill -INT "$bg"
	wait "$bg" || true
	bg=
}
echo "== BPF map memory (memlock KiB) and RSS (KiB) once profiling, 99 Hz"
"$NOFP" 60 &
w=$!
for i in $(seq "$ROUNDS"); do
	once_profiling -p "$w" >>"$T/mem_p"
	once_profiling >>"$T/mem_all"
done
kill $w
printf "%-12s maps %6d KiB  RSS %6d KiB (medians)\n" \
	"-p PID" "$(cut -d' ' -f1 "$T/mem_p" | median)" "$(cut -d' ' -f2 "$T/mem_p" | median)" \
	"system-wide" "$(cut -d' ' -f1 "$T/mem_all" | median)" "$(cut -d' ' -f2 "$T/mem_all" | median)"
fi

# Continuous mode, whole host, 40 s of short processes (the issue's case): the daemon's RSS plus
# its maps' kernel memory, sampled every second, mapped map pages counted once; the peak of the
# sum and the daemon's VmHWM.
# CONT_SECS shortens it.
CONT_SECS=${CONT_SECS:-40}
echo "== continuous mode, system-wide, ${CONT_SECS} s with short processes (99 Hz, 10 s windows)"
"$FLAMED" --output-dir "$T/cont" --interval 10 -F 99 2>/dev/null &
dp=$!
bg=$dp
sleep 2
end=$((SECONDS + CONT_SECS))
# Short processes of several binaries: each a new process to index and tables to load once.
(while [ $SECONDS -lt $end ]; do
	/bin/true; sh -c :; python3 -c 'pass'; "$NOFP" -n 1 >/dev/null; awk 'BEGIN {}'
done) &
storm=$!
peak=0 n=0
while [ $SECONDS -lt $end ]; do
	read -r m r mm < <(map_kib $dp)
	[ $((m + r - mm)) -gt "$peak" ] && peak=$((m + r - mm)) pm=$m pr=$r pmm=$mm
	n=$((n + 1))
	sleep 1
done
wait $storm
hwm=$(awk '/^VmHWM:/ {print $2}' /proc/$dp/status)
kill -TERM $dp
wait $dp || true
bg=
printf "peak of RSS + maps %.1f MiB (RSS %.1f, of which %.1f mapped maps, + maps %.1f, of %d samples); VmHWM %.1f MiB\n" \
	"$(echo "$peak / 1024" | bc -l)" "$(echo "$pr / 1024" | bc -l)" "$(echo "$pmm / 1024" | bc -l)" \
	"$(echo "$pm / 1024" | bc -l)" "$n" "$(echo "$hwm / 1024" | bc -l)"
