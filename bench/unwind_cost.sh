#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# BPF cost per sample of DWARF unwinding against frame-pointer unwinding, from the kernel's own
# bpf_stats, on the same workload: deep recursion built with full frame pointers (clang
# -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer), so both modes walk every frame. One
# workload process per CPU keeps nearly every sample a profiled one; the share of samples that
# were filtered or idle (cheap early returns) is printed beside the figure.
# Usage: bench/unwind_cost.sh [SECONDS]
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FLAMED=$BUILD/flamed
DEEP=$BUILD/workloads/deepfp
SECS=${1:-5}
NCPU=$(nproc)
T=$(mktemp -d)
trap 'rm -rf "$T"; sysctl -q kernel.bpf_stats_enabled=0' EXIT
sysctl -q kernel.bpf_stats_enabled=1

printf "%-6s %-6s %9s %9s %10s %12s\n" depth unwind runs profiled ns/sample frames/stack
for depth in 20 60 120; do
	for mode in fp dwarf; do
		pids=()
		args=()
		for _ in $(seq "$NCPU"); do
			"$DEEP" $((SECS + 2)) "$depth" &
			pids+=($!)
			args+=(-p $!)
		done
		sleep 0.5
		"$FLAMED" --unwind "$mode" -F 999 -d "$SECS" "${args[@]}" -o "$T/o.folded" \
			2>"$T/err" &
		fp=$!
		sleep $((SECS - 1))
		# This flamed's programs only (other profilers may run): ids from its fds.
		ids=$(grep -h '^prog_id:' /proc/$fp/fdinfo/* 2>/dev/null | awk '{print $2}' | sort -u)
		echo "[" >"$T/prog.json"
		sep=""
		for id in $ids; do
			printf '%s' "$sep" >>"$T/prog.json"
			bpftool prog show id "$id" -j >>"$T/prog.json"
			sep=","
		done
		echo "]" >>"$T/prog.json"
		wait $fp
		kill "${pids[@]}" 2>/dev/null || true
		wait "${pids[@]}" 2>/dev/null || true
		python3 - "$T/prog.json" "$T/o.folded" "$depth" "$mode" "$fp" <<'PY'
import json, sys
progs = json.load(open(sys.argv[1]))
progs = progs if isinstance(progs, list) else [progs]
progs = [p for p in progs if p.get("name") == "do_sample"]
ns = sum(p.get("run_time_ns", 0) for p in progs)
cnt = sum(p.get("run_cnt", 0) for p in progs)
frames = total = 0
for line in open(sys.argv[2]):
    stack, n = line.rsplit(" ", 1)
    user = [f for f in stack.split(";")[1:] if not f.endswith("_[k]")]
    frames += len(user) * int(n)
    total += int(n)
print(f"{sys.argv[3]:<6} {sys.argv[4]:<6} {cnt:>9} {100 * total / max(cnt, 1):>8.0f}% "
      f"{ns / max(cnt, 1):>10.0f} {frames / max(total, 1):>12.1f}")
PY
	done
done
