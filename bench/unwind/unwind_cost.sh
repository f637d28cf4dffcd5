#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# BPF cost per sample of DWARF unwinding against frame-pointer unwinding, from the kernel's own
# bpf_stats, on the same workload: a deep stack built with full frame pointers (clang
# -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer), so both modes walk every frame; once as
# recursion of one function (a few return addresses) and once as a chain of distinct functions
# (every frame needs its own table lookup, as in most real stacks). One
# workload process per CPU keeps nearly every sample a profiled one; the share of samples that
# were filtered or idle (cheap early returns) is printed beside the figure.
# Usage: [ROUNDS=5] [SHAPES="recursive distinct"] [DEPTHS="20 60 120"] [MODES="fp dwarf"] \
#	bench/unwind/unwind_cost.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
FLAMED=${FLAMED:-$BUILD/flamed}
DEEP=$BUILD/workloads/deepfp
SECS=${1:-5}	# at least 3
ROUNDS=${ROUNDS:-5}
SHAPES=${SHAPES:-recursive distinct}
DEPTHS=${DEPTHS:-20 60 120}
MODES=${MODES:-fp dwarf}
NCPU=$(nproc)
T=$(mktemp -d)
trap 'rm -rf "$T"; sysctl -q kernel.bpf_stats_enabled=0' EXIT
sysctl -q kernel.bpf_stats_enabled=1

# prog_stats PID: "runs ns samples" of that flamed (other profilers may run too): its
# do_sample program's bpf_stats, and the samples it counted (STAT_SAMPLES of its stats map),
# read at the same moment.
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

# The cost of a run that returns early (sample of another process or of the idle task), so it
# can be taken out of the figures below: profile a sleeping process.
sleep $((SECS + 3)) &
sp=$!
"$FLAMED" -F 999 -d "$SECS" -p "$sp" -o "$T/idle.folded" 2>/dev/null &
fp=$!
sleep $((SECS - 1))
read -r idle_runs idle_ns _ < <(prog_stats $fp)
wait $fp
kill $sp 2>/dev/null || true
wait $sp 2>/dev/null || true
early=$(( idle_runs ? idle_ns / idle_runs : 0 ))
echo "early-return run: $early ns ($idle_runs runs)"

# Both modes profile the same processes at the same time (two flamed instances), so a slow
# spell of this shared machine hits both alike; rounds repeat that, and the summary gives
# medians over the rounds and the DWARF/frame-pointer ratio.
printf "%-5s %-9s %-6s %-6s %9s %9s %12s %12s\n" round shape depth unwind runs profiled \
	"ns/profiled" frames/stack
for round in $(seq "$ROUNDS"); do
for shape in $SHAPES; do
for depth in $DEPTHS; do
	pids=()
	args=()
	for _ in $(seq "$NCPU"); do
		"$DEEP" $((SECS + 2)) "$depth" "$shape" &
		pids+=($!)
		args+=(-p $!)
	done
	sleep 0.5
	fl=()
	for mode in $MODES; do
		"$FLAMED" --unwind "$mode" -F 999 -d "$SECS" "${args[@]}" -o "$T/$mode.folded" \
			2>"$T/$mode.err" &
		fl+=($!)
	done
	# Steady state: the counters' difference between 1.5 s in (both instances attached, their
	# start-up work done) and 0.5 s before the end.
	sleep 1.5
	i=0
	for mode in $MODES; do
		prog_stats "${fl[$i]}" >"$T/$mode.stats0"
		i=$((i + 1))
	done
	sleep $((SECS - 2))
	i=0
	for mode in $MODES; do
		prog_stats "${fl[$i]}" | paste -d' ' - "$T/$mode.stats0" |
			awk '{ print $1 - $4, $2 - $5, $3 - $6 }' >"$T/$mode.stats"
		i=$((i + 1))
	done
	wait "${fl[@]}"
	kill "${pids[@]}" 2>/dev/null || true
	wait "${pids[@]}" 2>/dev/null || true
	for mode in $MODES; do
		read -r runs ns profiled <"$T/$mode.stats"
		python3 - "$T/$mode.folded" "$round" "$shape" "$depth" "$mode" "$runs" "$ns" \
			"$early" "$profiled" <<'PY' | tee -a "$T/results"
import sys
frames = n_all = 0
for line in open(sys.argv[1]):
    stack, n = line.rsplit(" ", 1)
    user = [f for f in stack.split(";")[1:] if not f.endswith("_[k]")]
    frames += len(user) * int(n)
    n_all += int(n)
runs, ns, early, total = (int(x) for x in sys.argv[6:10])
# Early returns (other processes, idle) are charged their own measured cost, not ours.
cost = (ns - (runs - total) * early) / max(total, 1)
print(f"{sys.argv[2]:<5} {sys.argv[3]:<9} {sys.argv[4]:<6} {sys.argv[5]:<6} {runs:>9} {total:>9} {cost:>12.0f} {frames / max(n_all, 1):>12.1f}")
PY
	done
done
done
done

echo
echo "medians over $ROUNDS rounds (ns per profiled sample):"
python3 - "$T/results" <<'PY'
import statistics, sys
cost = {}
for line in open(sys.argv[1]):
    _, shape, depth, mode, _, _, ns, _ = line.split()
    cost.setdefault((shape, int(depth)), {}).setdefault(mode, []).append(float(ns))
print(f"{'shape':<9} {'depth':>5} {'fp':>8} {'dwarf':>8} {'dwarf/fp':>9}")
for (shape, depth), m in cost.items():
    fp = statistics.median(m["fp"]) if "fp" in m else float("nan")
    dw = statistics.median(m["dwarf"]) if "dwarf" in m else float("nan")
    print(f"{shape:<9} {depth:>5} {fp:>8.0f} {dw:>8.0f} {dw / fp:>9.2f}")
PY
