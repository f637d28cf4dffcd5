#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Targets and grouping by cgroup v2 (root). The test makes its own cgroups under the cgroup2
# mount (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts):
#   flamed-test-PID.slice/x-PID.service                  the chain workload (main;a;b;c)
#   flamed-test-PID.slice/docker-<64hex>.scope           deep (recurse;spin)
#   flamed-test-PID.slice/kubepods.slice/kubepods-burstable.slice/
#     kubepods-burstable-pod<UID>.slice/cri-containerd-<64hex>.scope   sys
# and a decoy outside them. Checks: --cgroup by unit name profiles only the unit's processes
# (filtered in BPF: the decoy never appears); --cgroup by path takes the cgroups below it; a
# process that joins the cgroup mid-run is profiled; --group-by unit|container|pod|cgroup put
# the group first, then the process; pprof samples carry cgroup, systemd_unit, container_id
# and pod_uid labels (decoded by go tool pprof); bad arguments fail with a clear message.
. "$(dirname "$0")/lib.sh"

need_root "cgroup targets" || { finish; exit $?; }
CG=$(awk '$0 ~ / - cgroup2 / && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
if [ -z "$CG" ]; then
	skip "cgroup targets: no cgroup v2 hierarchy on this host"
	finish
	exit $?
fi

ID=3f4e5d6c7b8a9f0e1d2c3b4a5968778695a4b3c2d1e0f9e8d7c6b5a493827160
KID=aa11bb22cc33dd44ee55ff66aa77bb88cc99dd00ee11ff22aa33bb44cc55dd66
POD_UID_=1b2c3d4e_5f60_7182_93a4_b5c6d7e8f901
POD_UID=1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901
SLICE=flamed-test-$$.slice
UNIT=x-$$.service
TOP="$CG/$SLICE"
X="$TOP/$UNIT"
D="$TOP/docker-$ID.scope"
K="$TOP/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$POD_UID_.slice/cri-containerd-$KID.scope"
PIDS=()

cleanup() {
	local p d
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	# Deepest first: a cgroup is removed once it has neither processes nor children.
	for d in "$K" "$(dirname "$K")" "$(dirname "$(dirname "$K")")" "$TOP/kubepods.slice" "$D" \
		"$X" "$TOP"; do
		[ -d "$d" ] && wait_until 10 rmdir "$d" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$X" "$D" "$K" || { fail "cannot create test cgroups under $CG"; finish; exit 1; }

# start_in CGROUP CMD...: runs CMD inside CGROUP (it joins before exec).
start_in() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@" &
	PIDS+=($!)
}
start_in "$X" "$WL/chain" 120
start_in "$D" "$WL/deep" 120 20
start_in "$K" "$WL/sys" 120
"$WL/chain" 120 &
DECOY=$!
PIDS+=($DECOY)
wait_until 10 grep -qx "${PIDS[0]}" "$X/cgroup.procs"
wait_until 10 grep -qx "${PIDS[1]}" "$D/cgroup.procs"

# --cgroup NAME.service: only that unit's processes, found by name in the hierarchy.
"$FLAMED" --cgroup "$UNIT" -d 3 -o "$T/unit.folded" 2>"$T/unit.err"
if [ -s "$T/unit.folded" ] && ! grep -qv '^chain;' "$T/unit.folded" &&
	grep -q '^chain;.*main;a;b;c ' "$T/unit.folded"; then
	ok "--cgroup $UNIT: only its process (chain, main;a;b;c)"
else
	fail "--cgroup $UNIT: only its process"
	cut -c1-160 "$T/unit.folded" | head; cat "$T/unit.err"
fi

# --cgroup PATH: the slice and every cgroup below it, nothing else (the decoy chain is outside).
"$FLAMED" --cgroup "/$SLICE" -d 3 -o "$T/slice.folded" 2>"$T/slice.err"
procs=$(cut -d';' -f1 "$T/slice.folded" | sort -u | tr '\n' ' ')
if [ "$procs" = "chain deep sys " ]; then
	ok "--cgroup /$SLICE: the processes of the cgroups below it (chain deep sys)"
else
	fail "--cgroup /$SLICE: expected chain deep sys, got '$procs'"
	cat "$T/slice.err"
fi
# The absolute path under the mount names the same cgroup.
"$FLAMED" --cgroup "$X" -d 2 -o "$T/abs.folded" 2>"$T/abs.err"
check "--cgroup with the absolute path $X" \
	bash -c "[ -s '$T/abs.folded' ] && ! grep -qv '^chain;' '$T/abs.folded'"

# --group-by: the group first, then the process name.
"$FLAMED" --cgroup "/$SLICE" --group-by unit -d 3 -o "$T/gunit.folded" 2>"$T/gunit.err"
check "--group-by unit: $UNIT;chain;...;main;a;b;c" \
	grep -q "^$UNIT;chain;.*main;a;b;c " "$T/gunit.folded"
check "--group-by unit: the docker scope is deep's unit" \
	grep -q "^docker-$ID.scope;deep;" "$T/gunit.folded"
"$FLAMED" --cgroup "/$SLICE" --group-by container -d 3 -o "$T/gcont.folded" 2>"$T/gcont.err"
check "--group-by container: docker:${ID:0:12};deep;...;recurse" \
	grep -q "^docker:${ID:0:12};deep;.*recurse" "$T/gcont.folded"
check "--group-by container: containerd:${KID:0:12};sys" \
	grep -q "^containerd:${KID:0:12};sys;" "$T/gcont.folded"
check "--group-by container: chain is in no container" \
	grep -q "^\[no container\];chain;" "$T/gcont.folded"
"$FLAMED" --cgroup "/$SLICE" --group-by pod -d 3 -o "$T/gpod.folded" 2>"$T/gpod.err"
check "--group-by pod: pod:$POD_UID (burstable);sys" \
	grep -q "^pod:$POD_UID (burstable);sys;" "$T/gpod.folded"
check "--group-by pod: chain is in no pod" grep -q "^\[no pod\];chain;" "$T/gpod.folded"
"$FLAMED" --cgroup "$UNIT" --group-by cgroup -d 2 -o "$T/gcg.folded" 2>"$T/gcg.err"
check "--group-by cgroup: /$SLICE/$UNIT;chain" grep -q "^/$SLICE/$UNIT;chain;" "$T/gcg.folded"

# A process that joins the cgroup while flamed runs is profiled from then on.
"$WL/deep" 120 30 &
JOIN=$!
PIDS+=($JOIN)
"$FLAMED" -v --cgroup "$UNIT" -d 8 -o "$T/join.folded" 2>"$T/join.err" &
FL=$!
if wait_for "$T/join.err" "profiling cgroups" 60; then
	echo "$JOIN" >"$X/cgroup.procs"
fi
wait "$FL"
check "a process that joins the cgroup mid-run is profiled (deep)" \
	grep -q "^deep;.*recurse" "$T/join.folded"
# ... and one that leaves is not: move chain out, only deep remains.
echo "${PIDS[0]}" >"$CG/cgroup.procs"
"$FLAMED" --cgroup "$UNIT" -d 3 -o "$T/left.folded" 2>"$T/left.err"
check "a process that left the cgroup is no longer profiled" \
	bash -c "grep -q '^deep;' '$T/left.folded' && ! grep -q '^chain;' '$T/left.folded'"
echo "${PIDS[0]}" >"$X/cgroup.procs"

# pprof labels, read back by Go's decoder.
"$FLAMED" --cgroup "/$SLICE" -d 3 -o "$T/l.pb.gz" 2>"$T/l.err"
if need_tool "pprof labels" go; then
	go tool pprof -symbolize=none -traces "$T/l.pb.gz" >"$T/traces" 2>"$T/traces.err"
	check "pprof label cgroup: /$SLICE/$UNIT" grep -q "cgroup:  /$SLICE/$UNIT\$" "$T/traces"
	check "pprof label systemd_unit: $UNIT" grep -q "systemd_unit:  $UNIT\$" "$T/traces"
	check "pprof label container_id: $ID" grep -q "container_id:  $ID\$" "$T/traces"
	check "pprof label pod_uid: $POD_UID" grep -q "pod_uid:  $POD_UID\$" "$T/traces"
fi

# Pushing with --group-by container: one Pyroscope series per group, service_name the group's
# (the stand-in receiver of test_fleet.sh decodes the Connect call and the /ingest query), stacks
# in no container under the configured service_name; each series' pprof holds only its group's
# stacks. Connect carries a window's series in one request, /ingest takes a request each.
for api in connect ingest; do
PORT=$(free_port)
python3 "$ROOT/tests/e2e/pyroscope_receiver.py" --port "$PORT" --dir "$T/recv-$api" \
	>"$T/recv-$api.log" 2>&1 &
RPID=$!
wait_for "$T/recv-$api.log" '^ready' 30
"$FLAMED" --cgroup "/$SLICE" --group-by container --output-dir "$T/gout-$api" --interval 2 -d 4.5 \
	--formats pprof --push-url "http://127.0.0.1:$PORT" --push-api "$api" >"$T/gpush-$api.log" 2>&1
check "push $api --group-by container: flamed exits 0" test $? = 0
kill "$RPID" 2>/dev/null
wait "$RPID" 2>/dev/null
python3 - "$T/recv-$api/requests.jsonl" "$(hostname)" "docker:${ID:0:12}" "containerd:${KID:0:12}" \
	>"$T/gpush-$api.out" 2>&1 <<'EOF'
import json, re, subprocess, sys
path, host, docker, containerd = sys.argv[1:]
want = {docker: ("deep", docker), containerd: ("sys", containerd), "[no container]": ("chain", host)}
seen, errors = set(), []
for line in open(path):
    r = json.loads(line)
    if r.get("error"):
        errors.append(f"request {r.get('n')}: {r['error']}")
        continue
    if r.get("api") == "ingest":
        # One series a request: its name's service and labels.
        series = [{"labels": dict(r["labels"], service_name=r["service"]),
                   "profile": r["profile"]}]
    else:
        series = r.get("series", [])
    for s in series:
        group, svc = s["labels"].get("group"), s["labels"].get("service_name")
        if group not in want:
            errors.append(f"request {r['n']}: unexpected group {group!r}")
            continue
        proc, want_svc = want[group]
        if svc != want_svc:
            errors.append(f"request {r['n']}: group {group}: service_name {svc!r}, expected {want_svc!r}")
        top = subprocess.run(["go", "tool", "pprof", "-symbolize=none", "-traces", s["profile"]],
                             capture_output=True, text=True).stdout
        # -traces: blocks between "-----+-----" lines, frames leaf first (the first after
        # its value), then the labels ("key:  value").
        roots = set()
        for b in re.split(r"(?m)^-+\+-+$", top)[1:]:
            fr = [re.sub(r"^[0-9][0-9.]*\w*\s+", "", l.strip()) for l in b.splitlines()
                  if l.strip() and not re.match(r"^\s*[a-z_]+:  ", l)]
            if fr:
                roots.add(fr[-1])
        if roots != {group}:
            errors.append(f"request {r['n']}: series {group}: stacks rooted at {sorted(roots)}")
        if proc not in top:
            errors.append(f"request {r['n']}: series {group}: no {proc} frame")
        seen.add(group)
if seen != set(want):
    errors.append(f"groups seen: {sorted(seen)}")
print("\n".join(errors))
sys.exit(1 if errors else 0)
EOF
rc=$?
check "push $api --group-by container: a series per group (docker:${ID:0:12} deep, containerd:${KID:0:12} sys, [no container] chain under the host's service_name), each pprof only its group's stacks" \
	test "$rc" = 0
[ "$rc" = 0 ] || head -20 "$T/gpush-$api.out"
done

# Bad input: a clear message and a non-zero exit.
if "$FLAMED" --cgroup nosuch-$$.service -d 1 -o "$T/x.folded" 2>"$T/bad1.err"; then
	fail "--cgroup of a unit that does not exist is refused"
else
	check "--cgroup of a unit that does not exist is refused, saying so" \
		grep -q "no cgroup of that name" "$T/bad1.err"
fi
if "$FLAMED" --cgroup /no/such/dir-$$ -d 1 -o "$T/x.folded" 2>"$T/bad2.err"; then
	fail "--cgroup of a missing path is refused"
else
	check "--cgroup of a missing path is refused, saying so" grep -q "not a cgroup" "$T/bad2.err"
fi
if "$FLAMED" --group-by host -d 1 -o "$T/x.folded" 2>"$T/bad3.err"; then
	fail "--group-by host is refused"
else
	check "--group-by host is refused, naming the kinds" grep -q "expected none, cgroup" \
		"$T/bad3.err"
fi
finish
