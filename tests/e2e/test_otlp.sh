#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: --push-api otlp. A local OTLP/HTTP receiver (otlp_receiver.py) decodes every
# request with Google's protobuf runtime from the schema (src/export/otlp.proto, opentelemetry-
# proto v1.11.0's field numbers), checks the dictionary's rules, and logs what it found. Checks:
# one request per window to /v1development/profiles as application/x-protobuf, with the bearer
# token and tenant; a refused first attempt retried (every window arrives once, in order);
# resource attributes (host.name, service.name, the user's label, container.id of a docker-style
# scope under --group-by container; process.pid and process.executable.name with
# --sample-labels pid); the chain workload's stack symbolized with function, file and line
# (main;a;b;c at the lines of their calls in chain.c); sample types per mode (samples/count with
# period cpu/nanoseconds, wall/nanoseconds, off_cpu/nanoseconds); each window's values summing to the samples the
# daemon logged for it; the binary's mapping carrying its GNU build id.
. "$(dirname "$0")/lib.sh"

RECV="$ROOT/tests/e2e/otlp_receiver.py"
PROTO="$ROOT/src/export/otlp.proto"
# Debian's python3-protobuf is for Debian's python3, whatever python3 comes first on PATH.
PY=/usr/bin/python3

bad_config() {
	"$FLAMED" --output-dir "$T/out-bad" "$@" >"$T/bad.out" 2>&1
	if [ $? = 1 ] && grep -q -- "expected connect, ingest or otlp" "$T/bad.out"; then
		ok "refused: push-api $2"
	else
		fail "refused: push-api $2"
		cat "$T/bad.out"
	fi
}
bad_config --push-api otlp2
bad_config --push-api OTLP

need_root "OTLP push" || { finish; exit $?; }
need_tool "OTLP receiver" protoc readelf || { finish; exit $?; }
if ! "$PY" -c 'import google.protobuf' 2>/dev/null; then
	skip "OTLP receiver: python3-protobuf missing (bash .ci/install-deps --test)"
	finish
	exit $?
fi
CG=$(awk '$0 ~ / - cgroup2 / && $4 == "/" { print $5; exit }' /proc/self/mountinfo)
[ -n "$CG" ] || { skip "OTLP push: no cgroup v2 hierarchy"; finish; exit $?; }

ID=5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f
SCOPE="$CG/flamed-otlp-$$.slice/docker-$ID.scope"
CHAIN="$T/ochain$$"
cp "$WL/chain" "$CHAIN"
CNAME=$(basename "$CHAIN" | cut -c1-15)
CPID=
RPID=
cleanup() {
	[ -n "$CPID" ] && kill "$CPID" 2>/dev/null && wait "$CPID" 2>/dev/null
	[ -n "$RPID" ] && kill "$RPID" 2>/dev/null && wait "$RPID" 2>/dev/null
	[ -d "$SCOPE" ] && wait_until 10 rmdir "$SCOPE" 2>/dev/null
	rmdir "$(dirname "$SCOPE")" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$SCOPE" || { fail "cannot create a test cgroup under $CG"; finish; exit 1; }
# The chain workload inside the docker-style scope (it joins before exec).
sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$SCOPE" "$CHAIN" 120 &
CPID=$!
wait_until 10 grep -qx "$CPID" "$SCOPE/cgroup.procs"
HOST=$(hostname)
BUILD_ID=$(readelf -n "$CHAIN" | awk '/Build ID:/ { print $3 }')
echo "otlp-token" >"$T/token"
chmod 600 "$T/token"

# start_receiver DIR: a receiver in the background on $PORT; RPID is its pid.
start_receiver() {
	PORT=$(free_port)
	"$PY" "$RECV" --port "$PORT" --dir "$1" --proto "$PROTO" >"$1.log" 2>&1 &
	RPID=$!
	wait_for "$1.log" '^ready' 30
}
stop_receiver() {
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
	RPID=
}
requests() {
	if [ -f "$1/requests.jsonl" ]; then wc -l <"$1/requests.jsonl"; else echo 0; fi
}
has_requests() { [ "$(requests "$1")" -ge "$2" ]; }
# window_samples LOG: "START_NS SAMPLES" of each window the daemon logged, oldest first.
window_samples() {
	sed -nE 's/.*window ([0-9T:.-]+)Z to .*: ([0-9]+) samples.*/\1 \2/p' "$1"
}

# --- CPU windows, grouped by container, the first attempt refused -----------------------------
R="$T/recv"
check "cpu: receiver started" start_receiver "$R"
echo 503 >"$R/status"
"$FLAMED" --output-dir "$T/out" --interval 1 --keep 0 --formats pprof -d 5.5 \
	--group-by container --push-url "http://127.0.0.1:$PORT/" --push-api otlp \
	--service-name otlp-e2e --label env=ci --push-token-file "$T/token" --push-tenant t-9 \
	>"$T/flamed.log" 2>&1 &
FPID=$!
check "cpu: the first request is refused (503)" wait_until 30 has_requests "$R" 1
rm -f "$R/status"
wait "$FPID"
check "cpu: flamed exits 0" test $? = 0
stop_receiver
check "cpu: the refusal was logged and retried" grep -q "not delivered.*HTTP 503" "$T/flamed.log"
window_samples "$T/flamed.log" >"$T/windows"
"$PY" - "$R/requests.jsonl" "$T/windows" "$HOST" "$CNAME" "$ID" "$BUILD_ID" \
	"$ROOT/tests/workloads/chain.c" >"$T/check.out" 2>&1 <<'EOF'
import calendar, json, re, sys, time
path, windows, host, cname, cid, build_id, src = sys.argv[1:]
reqs = [json.loads(l) for l in open(path)]
errors, notes = [], []
def want(what, got, exp):
    if got != exp:
        errors.append(f"{what}: {got!r}, expected {exp!r}")

# The lines chain.c's calls and loop are on, from the source itself.
lines = open(src).read().split("\n")
def line_of(pat, after=0):
    return [i + 1 for i, l in enumerate(lines) if re.search(pat, l) and i + 1 > after]
c_start = line_of(r"void c\(void\)")[0]
c_end = line_of(r"^}", c_start)[0]
want_callers = [("main", line_of(r"^\t\ta\(\);")[-1]), ("a", line_of(r"^\tb\(\);")[0]),
                ("b", line_of(r"^\tc\(\);")[0])]

# The daemon's windows: start (ms) and samples.
wins = []
for l in open(windows):
    start, n = l.split()
    t = calendar.timegm(time.strptime(start[:19], "%Y-%m-%dT%H:%M:%S"))
    wins.append((t * 1000 + int(start[20:23]), int(n)))

refused = [r for r in reqs if r.get("refused")]
taken = [r for r in reqs if not r.get("refused")]
# The retry after the first refusal may come before the test lets requests through.
if not refused:
    errors.append("no refused request")
want("requests taken (one per window)", len(taken), len(wins))
if len(wins) < 3:
    errors.append(f"only {len(wins)} windows")
chained = 0
for n, r in enumerate(taken):
    tag = f"request {n + 1}"
    for k, v in (("path", "/v1development/profiles"), ("content_type", "application/x-protobuf"),
                 ("authorization", "Bearer otlp-token"), ("tenant", "t-9"), ("error", None)):
        want(f"{tag}: {k}", r.get(k), v)
    if "resources" not in r:
        continue
    total = 0
    starts = set()
    cont = None
    for res in r["resources"]:
        a = res["attributes"]
        for k, v in (("host.name", host), ("service.name", "otlp-e2e"), ("env", "ci")):
            want(f"{tag}: resource {k}", a.get(k), v)
        if a.get("container.id") == cid:
            cont = res
        want(f"{tag}: profiles per resource", len(res["profiles"]), 1)
        for p in res["profiles"]:
            want(f"{tag}: sample type", p["sample_type"], ["samples", "count"])
            want(f"{tag}: period type", p["period_type"], ["cpu", "nanoseconds"])
            want(f"{tag}: period", p["period"], 10**9 // 99)
            want(f"{tag}: profile id bytes", len(p["profile_id"]), 32)
            starts.add(p["time_unix_nano"] // 10**6)
            total += sum(s["value"] for s in p["samples"])
            if any(s["value"] <= 0 for s in p["samples"]):
                errors.append(f"{tag}: a sample value <= 0")
    # In order, once each: the request's window is the daemon's n-th, its values its samples.
    if n < len(wins):
        want(f"{tag}: window start (ms)", sorted(starts), [wins[n][0]])
        want(f"{tag}: sum of values = the window's samples", total, wins[n][1])
    if cont is None:
        errors.append(f"{tag}: no resource with container.id {cid}")
        continue
    for s in cont["profiles"][0]["samples"]:
        fr = s["stack"].split(";")
        # The group frame (runtime:id), the process, ..., main;a;b;c at their lines.
        if len(fr) < 6 or fr[0] != f"docker:{cid[:12]} :0" or fr[1] != f"{cname} :0":
            continue
        names = [f.split(" ")[0] for f in fr]
        if names[-4:] != ["main", "a", "b", "c"]:
            continue
        ok = all(fr[-4 + i] == f"{fn} chain.c:{ln}" for i, (fn, ln) in enumerate(want_callers))
        m = re.fullmatch(r"c chain\.c:(\d+)", fr[-1])
        if ok and m and c_start <= int(m.group(1)) <= c_end:
            chained += s["value"]
        elif len(notes) < 3:
            notes.append(f"{tag}: chain with other lines: {s['stack']}")
    maps = [m for m in r["mappings"] if m["file"].endswith("/" + cname)]
    if not maps or maps[0]["attrs"].get("process.executable.build_id.gnu") != build_id:
        errors.append(f"{tag}: mapping of {cname} with build id {build_id}: {maps[:1]}")
# The first window may start before the workload is scheduled; the others all have it.
if chained < 10:
    errors.append(f"{chained} samples of docker:{cid[:12]};{cname};...;main;a;b;c with "
                  f"chain.c's lines (callers {want_callers}, c in {c_start}-{c_end})")
print(f"chain samples with file and line: {chained}")
print("\n".join(errors + notes))
sys.exit(1 if errors else 0)
EOF
if [ $? = 0 ]; then
	ok "cpu: every window once, in order: headers, resources (container.id), sample types, values = the window's samples, $CNAME;main;a;b;c with chain.c's lines, build id"
else
	fail "cpu: the decoded requests"
	head -30 "$T/check.out"
	tail -5 "$T/flamed.log"
fi

# --- Wall-clock windows grouped by process: process.pid, process.executable.name --------------
R="$T/recv-wall"
check "wall: receiver started" start_receiver "$R"
"$FLAMED" --output-dir "$T/out-wall" --interval 1 --keep 0 --formats pprof -d 2.5 --mode wall \
	--sample-labels pid,process,thread --push-url "http://127.0.0.1:$PORT" --push-api otlp \
	>"$T/flamed-wall.log" 2>&1
check "wall: flamed exits 0" test $? = 0
stop_receiver
"$PY" - "$R/requests.jsonl" "$HOST" "$CNAME" "$CPID" >"$T/check-wall.out" 2>&1 <<'EOF'
import json, sys
path, host, cname, pid = sys.argv[1:]
reqs = [json.loads(l) for l in open(path)]
errors = []
found = 0
if len(reqs) < 2:
    errors.append(f"{len(reqs)} requests")
for n, r in enumerate(reqs):
    if r.get("error"):
        errors.append(f"request {n + 1}: {r['error']}")
        continue
    for res in r["resources"]:
        a = res["attributes"]
        if a.get("service.name") != host or a.get("host.name") != host:
            errors.append(f"request {n + 1}: resource {a}")
        p = res["profiles"][0]
        if p["sample_type"] != ["wall", "nanoseconds"]:
            errors.append(f"request {n + 1}: sample type {p['sample_type']}")
        if a.get("process.pid") != int(pid):
            continue
        if a.get("process.executable.name") != cname:
            errors.append(f"request {n + 1}: the workload's resource {a}")
        for s in p["samples"]:
            if s["attrs"].get("thread.name") != cname:
                errors.append(f"request {n + 1}: sample attributes {s['attrs']}")
                break
            if s["stack"].endswith("chain.c:32;b chain.c:26;" + s["stack"].split(";")[-1]):
                found += s["value"]
# Wall time of a CPU-bound thread: about a second per second, in nanoseconds.
if found < 10**8:
    errors.append(f"{found} ns of main;a;b;c wall time in the workload's resource")
print(f"wall ns of the chain: {found}")
print("\n".join(errors[:10]))
sys.exit(1 if errors else 0)
EOF
if [ $? = 0 ]; then
	ok "wall: wall/nanoseconds, a resource per process (process.pid $CPID, process.executable.name), thread.name per sample"
else
	fail "wall: the decoded requests"
	head -20 "$T/check-wall.out"
fi

# --- A Kubernetes pod: k8s.pod.uid and the container's id on its resource ---------------------
POD_UID=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
KID=77aa88bb99cc00dd11ee22ff33aa44bb55cc66dd77ee88ff99aa00bb11cc22dd
PODS="$(dirname "$SCOPE")/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_UID//-/_}.slice"
PSCOPE="$PODS/cri-containerd-$KID.scope"
if mkdir -p "$PSCOPE"; then
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$PSCOPE" "$WL/chain" 30 &
	PPID_W=$!
	wait_until 10 grep -qx "$PPID_W" "$PSCOPE/cgroup.procs"
	R="$T/recv-pod"
	check "pod: receiver started" start_receiver "$R"
	"$FLAMED" --output-dir "$T/out-pod" --interval 1 --keep 0 --formats pprof -d 2.5 \
		--group-by pod --push-url "http://127.0.0.1:$PORT" --push-api otlp \
		>"$T/flamed-pod.log" 2>&1
	check "pod: flamed exits 0" test $? = 0
	stop_receiver
	kill "$PPID_W" 2>/dev/null
	wait "$PPID_W" 2>/dev/null
	"$PY" - "$R/requests.jsonl" "$POD_UID" "$KID" >"$T/check-pod.out" 2>&1 <<'EOF'
import json, sys
path, uid, kid = sys.argv[1:]
found = 0
for l in open(path):
    r = json.loads(l)
    for res in r.get("resources", []):
        a = res["attributes"]
        if a.get("k8s.pod.uid") == uid and a.get("container.id") == kid:
            found += sum(s["value"] for p in res["profiles"] for s in p["samples"])
print(f"samples on the pod's resource: {found}")
sys.exit(0 if found >= 10 else 1)
EOF
	rc=$?
	check "pod: a resource with k8s.pod.uid and container.id holds the pod's samples ($(head -n 1 "$T/check-pod.out"))" \
		test "$rc" = 0
	wait_until 10 rmdir "$PSCOPE" 2>/dev/null
	rmdir "$PODS" "$(dirname "$PODS")" "$(dirname "$(dirname "$PODS")")" 2>/dev/null
else
	fail "pod: cannot create a kubepods cgroup under $CG"
fi

# --- Off-CPU windows: off_cpu/nanoseconds, the time of the host's blocked threads -------------
R="$T/recv-offcpu"
check "offcpu: receiver started" start_receiver "$R"
"$FLAMED" --output-dir "$T/out-offcpu" --interval 1 --keep 0 --formats pprof -d 2.5 \
	--mode offcpu --push-url "http://127.0.0.1:$PORT" --push-api otlp >"$T/flamed-offcpu.log" 2>&1
check "offcpu: flamed exits 0" test $? = 0
stop_receiver
"$PY" - "$R/requests.jsonl" >"$T/check-offcpu.out" 2>&1 <<'EOF'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
errors, total = [], 0
if len(reqs) < 2:
    errors.append(f"{len(reqs)} requests")
for n, r in enumerate(reqs):
    if r.get("error"):
        errors.append(f"request {n + 1}: {r['error']}")
        continue
    for res in r["resources"]:
        p = res["profiles"][0]
        if p["sample_type"] != ["off_cpu", "nanoseconds"]:
            errors.append(f"request {n + 1}: sample type {p['sample_type']}")
        total += sum(s["value"] for s in p["samples"])
# A whole host's blocked threads over a second or more: far more than 0.1 s in all.
if total < 10**8:
    errors.append(f"{total} ns of off-CPU time in all")
print(f"off-CPU ns: {total}")
print("\n".join(errors[:10]))
sys.exit(1 if errors else 0)
EOF
if [ $? = 0 ]; then
	ok "offcpu: off_cpu/nanoseconds samples, the host's blocked time ($(head -n 1 "$T/check-offcpu.out"))"
else
	fail "offcpu: the decoded requests"
	head -20 "$T/check-offcpu.out"
fi

finish
