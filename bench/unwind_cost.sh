#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# BPF cost per sample of DWARF unwinding against frame-pointer unwinding, from the kernel's own
# bpf_stats, on the same workload (deep recursion built with full frame pointers, so both modes
# walk every frame), at 20 and 60 frames deep; also 120. One run, side by side.
# Usage: bench/unwind_cost.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FLAMED=$BUILD/flamed
DEEP=$BUILD/workloads/deepfp
SECS=${1:-6}
T=$(mktemp -d)
trap 'rm -rf "$T"; sysctl -q kernel.bpf_stats_enabled=0' EXIT
sysctl -q kernel.bpf_stats_enabled=1

printf "%-6s %-6s %10s %10s %12s\n" depth unwind samples ns/sample frames/stack
for depth in 20 60 120; do
	for mode in fp dwarf; do
		"$FLAMED" --unwind "$mode" -F 999 -o "$T/o.folded" -- "$DEEP" "$SECS" "$depth" \
			2>"$T/err" &
		fp=$!
		sleep $((SECS - 1))
		bpftool prog show name do_sample -j >"$T/prog.json" 2>/dev/null || true
		wait $fp
		python3 - "$T/prog.json" "$T/o.folded" "$depth" "$mode" <<'PY'
import json, sys
progs = json.load(open(sys.argv[1]))
progs = progs if isinstance(progs, list) else [progs]
ns = sum(p.get("run_time_ns", 0) for p in progs)
cnt = sum(p.get("run_cnt", 0) for p in progs)
frames = total = 0
for line in open(sys.argv[2]):
    stack, n = line.rsplit(" ", 1)
    if not stack.startswith("deepfp;"):
        continue
    user = [f for f in stack.split(";")[1:] if not f.endswith("_[k]")]
    frames += len(user) * int(n)
    total += int(n)
# All program time divided by the workload's samples only: the idle CPU's short runs are
# charged to them too, so this errs on the expensive side.
print(f"{sys.argv[3]:<6} {sys.argv[4]:<6} {total:>10} {ns / max(total, 1):>10.0f} {frames / max(total, 1):>12.1f}")
PY
	done
done
