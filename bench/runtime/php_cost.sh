#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# BPF cost per sample of a language runtime's frames: the same processes spinning DEPTH frames
# deep (one per CPU) profiled at once by two flamed instances, --RUNTIME on and --RUNTIME off
# (both DWARF), from the kernel's bpf_stats of each one's do_sample over the same seconds
# (the first reading waits for both instances' do_sample to have run, not a fixed time).
# Prints ns per profiled sample for each and the difference, medians over ROUNDS.
# RUNTIME: php (default, tests/workloads/phpdeep.php), ruby (rbdeep.rb), perl (pldeep.pl),
# python (pydeep.py; bench/runtime/python_cost.sh), hotspot (Hot.java, main -> mid -> hot ->
# mix whatever DEPTHS says).
# Usage: [ROUNDS=5] [DEPTHS="20"] [RUNTIME=php|ruby|perl|python|hotspot] [PHP=/usr/bin/php8.2]
#        [RUBY=/usr/bin/ruby] [PERL=/usr/bin/perl] [PYTHON=/usr/bin/python3] [JAVA_OPTS=...]
#        bench/runtime/php_cost.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=$BUILD/flamed
SECS=${1:-6}	# at least 4
ROUNDS=${ROUNDS:-5}
DEPTHS=${DEPTHS:-20}
PHP=${PHP:-/usr/bin/php8.2}
NCPU=$(nproc)
T=$(mktemp -d)
case ${RUNTIME:=php} in
php) RUN=("$PHP" tests/workloads/phpdeep.php) SUF='_[z]' ;;
ruby) RUN=("${RUBY:-/usr/bin/ruby}" tests/workloads/rbdeep.rb) SUF='_[r]' ;;
perl) RUN=("${PERL:-/usr/bin/perl}" tests/workloads/pldeep.pl) SUF='_[l]' ;;
python) RUN=("${PYTHON:-/usr/bin/python3}" tests/workloads/pydeep.py) SUF='_[p]' ;;
hotspot)
	javac -d "$T/cls" tests/workloads/Hot.java
	# shellcheck disable=SC2086 # JAVA_OPTS are words (-XX:+PreserveFramePointer: "off"
	# then walks the same stacks by frame pointers)
	RUN=(java ${JAVA_OPTS:-} -cp "$T/cls" Hot) SUF='_[j]' ;;
*) echo "RUNTIME: php, ruby, perl, python or hotspot" >&2; exit 1 ;;
esac
# bpf_stats held on by a BPF_ENABLE_STATS fd for the whole run, not by the sysctl: another
# bench's exit (its `sysctl kernel.bpf_stats_enabled=0`) stopped the counters mid-round, so an
# instance's run_time_ns did not move and it printed a bogus 0 ns per sample.
python3 -c '
import ctypes, os, signal, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
attr = ctypes.create_string_buffer(struct.pack("I", 0), 128)	# BPF_STATS_RUN_TIME
fd = libc.syscall(321, 32, attr, 128)				# bpf(BPF_ENABLE_STATS)
if fd < 0:
    sys.exit("BPF_ENABLE_STATS: " + os.strerror(ctypes.get_errno()))
print("held", flush=True)
signal.pause()' >"$T/stats.held" &
STATS_PID=$!
trap 'kill "$STATS_PID" 2>/dev/null; rm -rf "$T"' EXIT
until grep -q held "$T/stats.held" 2>/dev/null; do
	kill -0 "$STATS_PID" 2>/dev/null || { echo "cannot enable bpf_stats" >&2; exit 1; }
	sleep 0.1
done

# prog_stats PID: "runs ns samples" of that flamed: its do_sample's bpf_stats and the samples
# it counted (STAT_SAMPLES), read at the same moment (as bench/unwind/unwind_cost.sh does).
prog_stats() {
	local fdinfo
	fdinfo=$(cat /proc/"$1"/fdinfo/* 2>/dev/null)
	{
		for id in $(echo "$fdinfo" | awk '/^prog_id:/ {print $2}' | sort -u); do
			bpftool prog show id "$id" -j
		done
		for id in $(echo "$fdinfo" | awk '/^map_id:/ {print $2}' | sort -u); do
			bpftool map show id "$id" -j | grep -q '"name":"stats"' &&
				bpftool map dump id "$id" -j
		done
	} | python3 -c '
import json, sys
dec = json.JSONDecoder()
text = sys.stdin.read()
runs = ns = samples = 0
i = 0
while i < len(text):
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    o, i = dec.raw_decode(text, i)
    if isinstance(o, dict) and o.get("name") == "do_sample":
        runs += o.get("run_cnt", 0)
        ns += o.get("run_time_ns", 0)
    elif isinstance(o, list):
        for e in o:
            if e.get("formatted", {}).get("key") == 0:
                samples = sum(v["value"] for v in e["formatted"]["values"])
print(runs, ns, samples)'
}

printf "%-5s %-6s %-7s %9s %12s %14s\n" round depth "$RUNTIME" profiled ns/profiled frames/stack
for round in $(seq "$ROUNDS"); do
for depth in $DEPTHS; do
	pids=()
	args=()
	for _ in $(seq "$NCPU"); do
		"${RUN[@]}" $((SECS + 40)) "$depth" &
		pids+=($!)
		args+=(-p $!)
	done
	sleep 0.5
	fl=()
	for mode in on off; do
		"$FLAMED" --unwind dwarf --"$RUNTIME" $mode -F 999 -d $((SECS + 30)) "${args[@]}" \
			-o "$T/$mode.folded" 2>"$T/$mode.err" &
		fl+=($!)
	done
	# Both instances sampling (their do_sample has run) before the first reading.
	start=$SECONDS
	until prog_stats "${fl[0]}" >"$T/on.stats0" && prog_stats "${fl[1]}" >"$T/off.stats0" &&
		[ "$(cut -d' ' -f1 "$T/on.stats0")" -gt 0 ] && [ "$(cut -d' ' -f1 "$T/off.stats0")" -gt 0 ]; do
		[ $((SECONDS - start)) -lt 30 ] || { echo "instances did not start" >&2; exit 1; }
		sleep 0.2
	done
	# SECS seconds between the readings, then the instances are stopped (SIGINT: they write
	# their profiles, used for the frames per stack).
	sleep "$SECS"
	prog_stats "${fl[0]}" | paste -d' ' - "$T/on.stats0" |
		awk '{ print $1 - $4, $2 - $5, $3 - $6 }' >"$T/on.stats"
	prog_stats "${fl[1]}" | paste -d' ' - "$T/off.stats0" |
		awk '{ print $1 - $4, $2 - $5, $3 - $6 }' >"$T/off.stats"
	kill -INT "${fl[@]}" 2>/dev/null || true
	wait "${fl[@]}" || true
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	for mode in on off; do
		read -r runs ns profiled <"$T/$mode.stats"
		python3 - "$T/$mode.folded" "$round" "$depth" "$mode" "$runs" "$ns" "$profiled" "$SUF" \
			<<'PY' | tee -a "$T/results"
import sys
frames = n_all = 0
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    frames += sum(f.endswith(sys.argv[8]) for f in stack.split(";")) * int(n)
    n_all += int(n)
runs, ns, total = (int(x) for x in sys.argv[5:8])
# Both instances see the same processes: nearly every run is a profiled sample.
print(f"{sys.argv[2]:<5} {sys.argv[3]:<6} {sys.argv[4]:<7} {total:>9} {ns / max(total, 1):>12.0f} {frames / max(n_all, 1):>14.1f}")
PY
	done
done
done

echo
echo "medians over $ROUNDS rounds (ns per profiled sample):"
python3 - "$T/results" "$RUNTIME" <<'PY'
import statistics, sys
r = {}
for line in open(sys.argv[1]):
    f = line.split()
    r.setdefault((int(f[1]), f[2]), []).append(float(f[4]))
for depth in sorted({d for d, _ in r}):
    on, off = statistics.median(r[(depth, "on")]), statistics.median(r[(depth, "off")])
    print(f"depth {depth:>3}: {sys.argv[2]} on {on:8.0f}  off {off:8.0f}  extra {on - off:+8.0f} ns")
PY
