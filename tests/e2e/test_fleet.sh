#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: the fleet side of continuous mode. Push to a local stand-in for Pyroscope
# (pyroscope_receiver.py, both APIs: one request per window with the right parameters and
# labels, a pprof go tool pprof decodes strictly and that holds the workload's call chain),
# an outage (every window arrives after it, in order, once), a tiny spool bound (the oldest
# dropped and counted, the daemon healthy), and the HTTP server (go tool pprof against
# /debug/pprof/profile, promtool on /metrics, /latest.svg, status codes).
. "$(dirname "$0")/lib.sh"

RECV="$ROOT/tests/e2e/pyroscope_receiver.py"
export HOME="$T" PPROF_TMPDIR="$T/pprof"

# start_receiver PORT DIR: a receiver in the background; RPID is its pid.
start_receiver() {
	python3 "$RECV" --port "$1" --dir "$2" >"$2.log" 2>&1 &
	RPID=$!
	wait_for "$2.log" '^ready' 30
}
stop_receiver() {
	kill "$RPID" 2>/dev/null
	wait "$RPID" 2>/dev/null
}
# requests DIR: requests the receiver took.
requests() {
	if [ -f "$1/requests.jsonl" ]; then wc -l <"$1/requests.jsonl"; else echo 0; fi
}
# has_requests DIR N: the receiver took at least N requests.
has_requests() {
	[ "$(requests "$1")" -ge "$2" ]
}
# spooled: windows waiting in the spool directory.
spooled() {
	ls "$T/spool" | grep -c '\.pb\.gz$'
}
# stems DIR: window stems written to an output directory, oldest first.
stems() {
	ls "$1" | grep -E '^flamed-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.pb\.gz$' | sed 's/\.pb\.gz$//' | sort
}
# received_stems DIR: the windows the receiver took, as stems from their pprof's time_nanos,
# in arrival order.
received_stems() {
	python3 - "$1/requests.jsonl" <<'EOF'
import json, sys, time
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("refused") or r.get("error") or "time_nanos" not in r:
        continue
    ns = r["time_nanos"]
    print(time.strftime("flamed-%Y%m%dT%H%M%S", time.gmtime(ns // 10**9)) +
          ".%03dZ" % (ns // 10**6 % 1000))
EOF
}
# metric PORT NAME: a sample's value from /metrics.
metric() {
	curl -s "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
# wait_metric PORT NAME MIN [SECS]: until NAME >= MIN.
wait_metric() {
	local i v
	for i in $(seq $((${4:-15} * 10))); do
		v=$(metric "$1" "$2")
		[ -n "$v" ] && [ "${v%.*}" -ge "$3" ] && return 0
		sleep 0.1
	done
	return 1
}

# --- Without root: options are checked before anything starts --------------------------------

bad_config() {
	local name=$1 want=$2
	shift 2
	"$FLAMED" --output-dir "$T/out-bad" "$@" >"$T/bad.out" 2>&1
	if [ $? = 1 ] && grep -q -- "$want" "$T/bad.out"; then
		ok "refused: $name"
	else
		fail "refused: $name"
		cat "$T/bad.out"
	fi
}
bad_config "push-url without a scheme" "invalid --push-url 'pyroscope:4040'" \
	--push-url pyroscope:4040
bad_config "a label named __name__" "invalid --label '__name__=x'" --label __name__=x
bad_config "a label value with a brace" "invalid --label 'env=a}'" --label 'env=a}'
bad_config "unknown push-api" "expected connect, ingest or otlp" --push-api grpc
bad_config "sample-labels twice the same" "invalid --sample-labels" --sample-labels pid,pid
bad_config "listen on a host name" "invalid --listen" --listen example.com:80
printf 'push-url = http://127.0.0.1:1\nlabel = bad label=x\n' >"$T/bad.conf"
bad_config "a bad label in the config file" "bad.conf:2: invalid value for label" \
	--config "$T/bad.conf"

if ! need_root "fleet push and HTTP server"; then
	finish
	exit
fi

# The chain workload under a name of its own: continuous mode profiles the whole system.
CHAIN="$T/fchain$$"
cp "$WL/chain" "$CHAIN"
CNAME=$(basename "$CHAIN" | cut -c1-15)
"$CHAIN" 600 &
CPID=$!
trap 'kill $CPID 2>/dev/null; stop_receiver; rm -rf "$T"' EXIT
HOST=$(hostname)
echo "s3cr3t-token" >"$T/token"
chmod 600 "$T/token"

# has_chain PPROF: go tool pprof decodes it strictly and our chain workload's samples are
# there with the whole chain under the process's root frame.
has_chain() {
	go tool pprof -symbolize=none -traces "$1" 2>"$T/pprof.err" >"$T/traces" || return 1
	awk -v p="$CNAME" '
		/^-+\+/ { if (n && st[n] == p && st[n - 1] ~ /_start|__libc_start/ && found(st, n)) hit = 1; n = 0; next }
		NF { st[++n] = $NF }
		function found(s, n,    i) {
			for (i = 1; i + 3 <= n; i++)
				if (s[i] == "c" && s[i + 1] == "b" && s[i + 2] == "a" && s[i + 3] == "main")
					return 1
			return 0
		}
		END { exit !hit }' "$T/traces"
}

# run_push API: 5 one-second windows pushed with that API; checks the requests.
run_push() {
	local api=$1 port out recv
	port=$(free_port)
	out="$T/out-$api"
	recv="$T/recv-$api"
	start_receiver "$port" "$recv" || fail "$api: receiver started"
	"$FLAMED" --output-dir "$out" --interval 1 --keep 0 --formats pprof -d 5.5 \
		--push-url "http://127.0.0.1:$port/" --push-api "$api" --service-name flamed-e2e \
		--label env=ci --label team=perf --push-token-file "$T/token" --push-tenant tenant-7 \
		>"$T/flamed-$api.log" 2>&1
	check "$api: flamed exits 0" test $? = 0
	stop_receiver
	local windows n
	windows=$(stems "$out" | wc -l)
	n=$(requests "$recv")
	# -d 5.5 at --interval 1: 6 windows on an idle machine, 4 seen on a busy one: at least 3.
	check "$api: one request per window ($n requests, $windows windows)" \
		test "$n" = "$windows" -a "$windows" -ge 3
	check "$api: windows arrive in order, each once" \
		diff <(stems "$out") <(received_stems "$recv")
	python3 - "$recv/requests.jsonl" "$api" "$HOST" >"$T/check-$api.out" 2>&1 <<'EOF'
import json, sys
path, api, host = sys.argv[1:]
errors = []
prev_end = None
for line in open(path):
    r = json.loads(line)
    def want(what, got, exp):
        if got != exp:
            errors.append(f"request {r.get('n')}: {what} is {got!r}, expected {exp!r}")
    want("api", r.get("api"), api)
    want("authorization", r["authorization"], "Bearer s3cr3t-token")
    want("tenant", r["tenant"], "tenant-7")
    want("error", r.get("error"), None)
    labels = {"hostname": host, "env": "ci", "team": "perf"}
    if api == "connect":
        want("path", r["path"], "/push.v1.PusherService/Push")
        want("content type", r["content_type"], "application/proto")
        want("connect version", r["connect_version"], "1")
        labels.update({"__name__": "process_cpu", "service_name": "flamed-e2e"})
        want("label order", r["label_order"], sorted(labels))
        if len(r.get("id", "")) != 36:
            errors.append(f"request {r['n']}: profile id {r.get('id')!r}")
    else:
        q = r["query"]
        want("path", r["path"], "/ingest")
        want("format", q.get("format"), "pprof")
        want("service", r["service"], "flamed-e2e")
        start, dur = r["time_nanos"], r["duration_nanos"]
        want("from", int(q["from"]), start // 10**9)
        want("until", int(q["until"]), -(-(start + dur) // 10**9))
    want("labels", r["labels"], labels)
    # Windows are contiguous: each starts where the previous ended (to a millisecond).
    if prev_end is not None and abs(r["time_nanos"] - prev_end) > 10**6:
        errors.append(f"request {r['n']}: starts {r['time_nanos'] - prev_end} ns off the previous end")
    prev_end = r["time_nanos"] + r["duration_nanos"]
print("\n".join(errors))
sys.exit(1 if errors else 0)
EOF
	if [ $? = 0 ]; then
		ok "$api: parameters, labels, auth and tenant headers of every request"
	else
		fail "$api: parameters, labels, auth and tenant headers"
		head -20 "$T/check-$api.out"
	fi
	local decoded=0 chained=0 f
	for f in "$recv"/*.pb.gz; do
		go tool pprof -symbolize=none -raw "$f" >/dev/null 2>&1 && decoded=$((decoded + 1))
		has_chain "$f" && chained=$((chained + 1))
	done
	check "$api: every pushed pprof decodes with go tool pprof -symbolize=none ($decoded)" \
		test "$decoded" = "$n"
	# The first window may start before the workload is scheduled; all full ones have it.
	check "$api: pushed pprofs hold $CNAME;...;main;a;b;c ($chained of $n)" \
		test "$chained" -ge $((n - 1))
	if [ "$chained" = 0 ]; then
		head -40 "$T/traces"
		cat "$T/pprof.err"
	fi
	# go must decode the window (a go that fails prints no label either).
	check "$api: no sample labels by default" \
		bash -c "go tool pprof -symbolize=none -tags '$recv/0002.pb.gz' >'$T/tags-$api' 2>&1 &&
			! grep -qE 'pid|thread|process' '$T/tags-$api'"
}
run_push connect
run_push ingest

# Sample labels are opt-in.
PORT=$(free_port)
start_receiver "$PORT" "$T/recv-labels"
"$FLAMED" --output-dir "$T/out-labels" --interval 1 --formats pprof -d 2.5 \
	--push-url "http://127.0.0.1:$PORT" --sample-labels process,pid,thread >"$T/labels.log" 2>&1
stop_receiver
go tool pprof -symbolize=none -tags "$T/recv-labels/0002.pb.gz" >"$T/tags" 2>&1
check "sample-labels process,pid,thread: pushed samples carry them" \
	grep -q "$CNAME" "$T/tags"
for l in process pid thread; do
	check "sample-labels: $l label" grep -qE "^ *$l:" "$T/tags"
done
check "sample-labels: every label a string (Pyroscope keeps no numeric label)" python3 -c '
import json, sys
rs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if rs and not any(r.get("numeric_labels") for r in rs) else 1)' "$T/recv-labels/requests.jsonl"

# A rotated token is picked up without a restart; an unusable new file keeps the old token.
PORT=$(free_port)
start_receiver "$PORT" "$T/recv-rot"
echo tok-1 >"$T/rot-token"
chmod 600 "$T/rot-token"
"$FLAMED" --output-dir "$T/out-rot" --interval 1 --formats pprof \
	--push-url "http://127.0.0.1:$PORT" --push-token-file "$T/rot-token" >"$T/rot.log" 2>&1 &
FPID=$!
# rotate CONTENT: replaces the token file the way secret managers do (new file, rename).
rotate() {
	printf '%s' "$1" >"$T/rot-token.new"
	chmod 600 "$T/rot-token.new"
	mv "$T/rot-token.new" "$T/rot-token"
}
check "token rotation: the first token sent" \
	wait_for "$T/recv-rot/requests.jsonl" '"Bearer tok-1"' 30
rotate $'tok-2\n'
check "token rotation: the second token sent" \
	wait_for "$T/recv-rot/requests.jsonl" '"Bearer tok-2"' 30
rotate ''
n=$(requests "$T/recv-rot")
check "token rotation: two windows pushed after the empty file" \
	wait_until 30 has_requests "$T/recv-rot" $((n + 2))
kill -TERM $FPID
wait $FPID
stop_receiver
auths=$(python3 -c '
import json, sys
print(" ".join(json.loads(l)["authorization"].replace("Bearer ", "") or "none"
               for l in open(sys.argv[1])))' "$T/recv-rot/requests.jsonl")
echo "     tokens sent, in order: $auths"
check "token rotation: requests switch from the old to the new token, never back" \
	bash -c "echo '$auths' | grep -qE '^(tok-1 )+tok-2( tok-2)*\$'"
check "token rotation: the new file is reported" grep -q "re-read the token file" "$T/rot.log"
check "token rotation: an empty new file is refused and the previous token kept" \
	bash -c "grep -q 'is empty' '$T/rot.log' && grep -q 'keeping the previous token' '$T/rot.log' && echo '$auths' | grep -qE 'tok-2 tok-2\$'"

# TLS: certificates are verified; --push-ca-file names the authority to trust.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$T/key.pem" -out "$T/cert.pem" \
	>/dev/null 2>&1
PORT=$(free_port)
python3 "$RECV" --port "$PORT" --dir "$T/recv-tls" --tls-cert "$T/cert.pem" \
	--tls-key "$T/key.pem" >"$T/recv-tls.log" 2>&1 &
RPID=$!
check "https: receiver started" wait_for "$T/recv-tls.log" '^ready' 30
"$FLAMED" --output-dir "$T/out-tls1" --interval 1 --formats pprof -d 3.5 \
	--push-url "https://127.0.0.1:$PORT" >"$T/tls1.log" 2>&1
check "https: an unknown authority is refused" \
	test "$(requests "$T/recv-tls")" = 0 -a "$(grep -ci "certificate" "$T/tls1.log")" -ge 1
"$FLAMED" --output-dir "$T/out-tls2" --interval 1 --formats pprof -d 3.5 \
	--push-url "https://127.0.0.1:$PORT" --push-ca-file "$T/cert.pem" >"$T/tls2.log" 2>&1
check "https: --push-ca-file: windows delivered ($(requests "$T/recv-tls"))" \
	test "$(requests "$T/recv-tls")" -ge 2
stop_receiver

# --- Outage: the receiver is down for 3 windows, then up ---------------------------------------

PORT=$(free_port)
HPORT=$(free_port)
OUT="$T/out-outage"
RDIR="$T/recv-outage"
check "outage: receiver started" start_receiver "$PORT" "$RDIR"
"$FLAMED" --output-dir "$OUT" --interval 1 --keep 0 --formats pprof \
	--push-url "http://127.0.0.1:$PORT" --spool-dir "$T/spool" --listen "127.0.0.1:$HPORT" \
	>"$T/flamed-outage.log" 2>&1 &
FPID=$!
check "outage: daemon serving" wait_for "$T/flamed-outage.log" "serving /debug/pprof" 30
check "outage: 2 windows pushed before it" wait_metric "$HPORT" flamed_push_success_total 2 30
stop_receiver
before=$(stems "$OUT" | wc -l)
# 3 windows closed while the backend is down, however long a busy machine takes for them.
windows_at_least() { [ "$(stems "$OUT" | wc -l)" -ge "$1" ]; }
wait_until 60 windows_at_least $((before + 3))
during=$(($(stems "$OUT" | wc -l) - before))
check "outage: 3 windows closed while the backend was down ($during)" test "$during" -ge 3
check "outage: windows wait in the spool directory ($(spooled))" test "$(spooled)" -ge 2
check "outage: failures counted" test "$(metric "$HPORT" flamed_push_failures_total)" -ge 1
check "outage: receiver back" start_receiver "$PORT" "$RDIR"
# The verdict waits for the backlog to drain: the retry backoff doubles up to 60 s, so after
# a 3 s outage the next attempt can be 4-8 s away (more on a busy machine); 90 s is the
# deadline, the condition (spool empty, every window so far received) the signal.
target=$(stems "$OUT" | wc -l)
drained() { [ "$(spooled)" = 0 ] && has_requests "$RDIR" "$target"; }
check "outage: the backlog drains (spool empty, $target windows received)" wait_until 90 drained
kill -TERM "$FPID"
wait "$FPID"
check "outage: flamed exits 0" test $? = 0
stop_receiver
check "outage: every window arrives, in order, once ($(requests "$RDIR") requests)" \
	diff <(stems "$OUT") <(received_stems "$RDIR")
check "outage: the spool is empty afterwards" \
	test "$(ls "$T/spool" | grep -c '\.pb\.gz$')" = 0
check "outage: the recovery is logged" grep -q "answers again after" "$T/flamed-outage.log"

# --- A tiny spool bound: the oldest are dropped and counted, the daemon stays healthy ----------

PORT=$(free_port)
HPORT=$(free_port)
OUT="$T/out-tiny"
RDIR="$T/recv-tiny"
"$FLAMED" --output-dir "$OUT" --interval 1 --keep 0 --formats svg,pprof \
	--push-url "http://127.0.0.1:$PORT" --spool-max-bytes 1 --listen "127.0.0.1:$HPORT" \
	>"$T/flamed-tiny.log" 2>&1 &
FPID=$!
check "tiny spool: daemon serving" wait_for "$T/flamed-tiny.log" "serving /debug/pprof" 30
wait_metric "$HPORT" flamed_push_dropped_total 3 60
dropped=$(metric "$HPORT" flamed_push_dropped_total)
check "tiny spool: the oldest windows are dropped and counted ($dropped)" test "${dropped:-0}" -ge 3
check "tiny spool: the drops are logged" grep -q "dropped the window of" "$T/flamed-tiny.log"
check "tiny spool: at most the window in flight and the newest wait" \
	test "$(metric "$HPORT" flamed_spool_windows)" -le 2
check "tiny spool: the daemon is alive" kill -0 "$FPID"
check "tiny spool: receiver started" start_receiver "$PORT" "$RDIR"
check "tiny spool: 2 windows delivered once the receiver is up" \
	wait_metric "$HPORT" flamed_push_success_total 2 60
kill -TERM "$FPID"
wait "$FPID"
check "tiny spool: flamed exits 0" test $? = 0
stop_receiver
# What arrived is the newest windows, in order: a suffix of all windows.
received_stems "$RDIR" >"$T/tiny.got"
n=$(wc -l <"$T/tiny.got")
# Something must have arrived: an empty suffix of anything matches nothing.
newest_arrived() { [ "$n" -ge 2 ] && diff <(stems "$OUT" | tail -n "$n") "$T/tiny.got"; }
check "tiny spool: what arrived are the newest windows, in order ($n)" newest_arrived
total=$(stems "$OUT" | wc -l)
dropped=$(grep -c "dropped the window of" "$T/flamed-tiny.log")
check "tiny spool: each window was delivered or dropped and logged ($n + $dropped = $total)" \
	test $((n + dropped)) = "$total"

# --- Pyroscope's limits: 16,000 samples a profile, none older than an hour -------------------
#
# Two manystacks processes give windows of tens of thousands of distinct stacks; the receiver
# answers 400 past 16,000 samples and to profiles older than an hour, as Pyroscope does by
# default. A spooled window from two hours ago waits at start.
#
# A window is closed (SIGUSR1) once 45,000 samples have come since the last, not after a fixed
# time: an idle machine under ASan and a loaded one differ fourfold in samples per second, and
# a fixed interval gave either windows under 16,000 stacks or ones too big to close in time.

# limits_run NAME FLAMED-ARGS...: two such windows, the daemon until both were answered; the
# workloads ended; LIMITS_METRICS holds /metrics as it was before SIGTERM.
limits_run() {
	local name=$1 m1 m2 w base
	shift
	PORT=$(free_port)
	HPORT=$(free_port)
	check "$name: receiver started" start_receiver "$PORT" "$T/recv-$name"
	"$WL/manystacks" 600 20 &
	m1=$!
	"$WL/manystacks" 600 20 &
	m2=$!
	"$FLAMED" --output-dir "$T/out-$name" --interval 3600 --keep 0 --formats pprof,folded \
		-F 5000 --max-stacks 262144 -p "$m1" -p "$m2" --push-url "http://127.0.0.1:$PORT" \
		--listen "127.0.0.1:$HPORT" "$@" >"$T/$name.log" 2>&1 &
	FPID=$!
	wait_until 60 bash -c "curl -sf 'http://127.0.0.1:$HPORT/metrics' >/dev/null"
	base=0
	for w in 1 2; do
		wait_until 180 samples_since "$base" 45000
		base=$(metric "$HPORT" flamed_samples_total)
		kill -USR1 "$FPID"
	done
	wait_until 180 has_requests "$T/recv-$name" 2
	# and until the daemon has taken the answers in (2xx or 400).
	wait_until 60 answered 2
	LIMITS_METRICS=$(curl -s "http://127.0.0.1:$HPORT/metrics")
	kill -TERM "$FPID"
	wait "$FPID"
	check "$name: flamed exits 0" test $? = 0
	kill "$m1" "$m2" 2>/dev/null
	wait "$m1" "$m2" 2>/dev/null
	stop_receiver
}
# samples_since BASE N: the daemon has drained N samples more than BASE.
samples_since() {
	local v
	v=$(metric "$HPORT" flamed_samples_total)
	[ -n "$v" ] && [ "${v%.*}" -ge $(($1 + $2)) ]
}
answered() {
	local ok no
	ok=$(metric "$HPORT" flamed_push_success_total)
	no=$(metric "$HPORT" flamed_push_rejected_total)
	[ $((${ok:-0} + ${no:-0})) -ge "$1" ]
}
limits_metric() {
	echo "$LIMITS_METRICS" | awk -v n="$1" '$1 == n { print $2 }'
}

mkdir -p "$T/spool-limits"
old_ns=$(($(date +%s) - 7200))000000000
cp "$(ls "$T"/out-labels/*.pb.gz | head -1)" \
	"$T/spool-limits/$(printf '%020d-%020d' "$old_ns" $((old_ns + 1000000000))).pb.gz"
limits_run limits --spool-dir "$T/spool-limits"
python3 - "$T/recv-limits/requests.jsonl" "$T/out-limits" >"$T/limits.out" 2>&1 <<'EOF'
import json, os, sys, time
path, out = sys.argv[1:]
errors, most, trimmed, n = [], 0, 0, 0
for line in open(path):
    r = json.loads(line)
    n += 1
    if r.get("error"):
        errors.append(f"request {n}: answered 400: {r['error']}")
        continue
    if r["time_nanos"] < (time.time() - 3600) * 1e9:
        errors.append(f"request {n}: a window older than an hour was sent")
    # The window on disk, whole: its folded lines are its distinct stacks, their sum its total.
    ns = r["time_nanos"]
    stem = time.strftime("flamed-%Y%m%dT%H%M%S", time.gmtime(ns // 10**9)) + \
        ".%03dZ" % (ns // 10**6 % 1000)
    try:
        rows = [l.rsplit(" ", 1) for l in open(os.path.join(out, stem + ".folded"))]
    except OSError:
        errors.append(f"request {n}: no window {stem} on disk")
        continue
    most = max(most, len(rows))
    total = sum(int(c) for _, c in rows)
    if r["samples"] > 16000:
        errors.append(f"request {n}: {r['samples']} samples")
    if r["total"] != total:
        errors.append(f"request {n}: pushed {r['total']} samples of {total}")
    if len(rows) > 16000:
        trimmed += 1
print(f"{most} {trimmed}")
print("\n".join(errors))
sys.exit(1 if errors or not trimmed else 0)
EOF
rc=$?
read -r most ntrim <"$T/limits.out"
check "limits: windows of up to $most distinct stacks reach a receiver with Pyroscope's 16,000 limit: $ntrim trimmed, none refused, each total exact" \
	test "$rc" = 0
[ "$rc" = 0 ] || head -20 "$T/limits.out"
check "limits: the trim is logged" grep -q "over push-max-samples 16000" "$T/limits.log"
check "limits: and counted (flamed_push_trimmed_windows_total $(limits_metric flamed_push_trimmed_windows_total))" \
	test "$(limits_metric flamed_push_trimmed_windows_total)" -ge 1
f=$(ls "$T"/recv-limits/*.pb.gz | head -1)
check "limits: the lightest stacks are one [trimmed N stacks] frame per process" \
	bash -c "'$FLAMED' render '$f' -o '$T/trimmed.folded' 2>/dev/null &&
		grep -cE '^manystacks;\[trimmed [0-9]+ stacks\] [0-9]+$' '$T/trimmed.folded' | grep -qx 1"
check "limits: the window older than an hour is not sent, logged" \
	grep -q "more than push-max-age 3600 s" "$T/limits.log"
check "limits: and counted (flamed_push_expired_total $(limits_metric flamed_push_expired_total))" \
	test "$(limits_metric flamed_push_expired_total)" = 1
check "limits: and out of the spool" test ! -e "$T/spool-limits/$(printf '%020d' "$old_ns")-"*

# The same windows untrimmed: the stand-in refuses them as Pyroscope would. They are the
# limits run's windows as written to disk (whole), left in a spool for a daemon that trims
# nothing: it sends them at start, so the verdict does not wait on a loaded machine's sample
# rate (a CI run once saw no refusal here when these were sampled anew).
mkdir -p "$T/spool-nolimit"
big=0
for f in "$T"/out-limits/flamed-*.pb.gz; do
	[ "$(wc -l <"${f%.pb.gz}.folded")" -gt 16000 ] || continue
	ns=$(($(date +%s) - 60 + big))000000000
	cp "$f" "$T/spool-nolimit/$(printf '%020d-%020d' "$ns" $((ns + 1000000000))).pb.gz"
	big=$((big + 1))
done
PORT=$(free_port)
HPORT=$(free_port)
check "nolimit: receiver started" start_receiver "$PORT" "$T/recv-nolimit"
# A process to name with -p: it never runs, so no window of its own is over the limit.
tail -f /dev/null &
m1=$!
"$FLAMED" --output-dir "$T/out-nolimit" --interval 3600 --keep 0 --formats pprof -p "$m1" \
	--push-url "http://127.0.0.1:$PORT" --push-max-samples 0 --spool-dir "$T/spool-nolimit" \
	--listen "127.0.0.1:$HPORT" >"$T/nolimit.log" 2>&1 &
FPID=$!
wait_until 60 bash -c "curl -sf 'http://127.0.0.1:$HPORT/metrics' >/dev/null"
wait_until 180 answered "$big"
LIMITS_METRICS=$(curl -s "http://127.0.0.1:$HPORT/metrics")
kill -TERM "$FPID"
wait "$FPID"
check "nolimit: flamed exits 0" test $? = 0
kill "$m1" 2>/dev/null
wait "$m1" 2>/dev/null
stop_receiver
check "nolimit: the $big windows over 16,000 samples answered 400 (Pyroscope's message)" \
	test "$big" -ge 1 -a "$(grep -c "exceeds the samples count limit" \
		"$T/recv-nolimit/requests.jsonl")" = "$big"
check "nolimit: dropped and counted (flamed_push_rejected_total $(limits_metric flamed_push_rejected_total))" \
	test "$(limits_metric flamed_push_rejected_total)" = "$big"
check "nolimit: and out of the spool" bash -c "! ls '$T/spool-nolimit' | grep -q '[.]pb[.]gz$'"
if ! grep -q "exceeds the samples count limit" "$T/recv-nolimit/requests.jsonl" 2>/dev/null; then
	echo "     $(echo "$LIMITS_METRICS" | grep -E '^flamed_push' | tr '\n' ' ')"
	grep -E "push" "$T/nolimit.log" | head -20 | sed 's/^/     /'
fi

# --- The HTTP server ----------------------------------------------------------------------------

HPORT=$(free_port)
OUT="$T/out-http"
"$FLAMED" --output-dir "$OUT" --interval 1 --listen "$HPORT" >"$T/flamed-http.log" 2>&1 &
FPID=$!
check "http: serving" wait_for "$T/flamed-http.log" "serving /debug/pprof.*127.0.0.1:$HPORT" 30
check "http: loopback by default" grep -q "http://127.0.0.1:$HPORT/" "$T/flamed-http.log"
go tool pprof -top "http://127.0.0.1:$HPORT/debug/pprof/profile?seconds=2" >"$T/top" 2>"$T/top.err"
check "http: go tool pprof -top http://.../debug/pprof/profile?seconds=2 works" \
	grep -q "Duration: 2" "$T/top"
check "http: the profile has the workload's leaf c" grep -qE ' c$' "$T/top"
if ! grep -qE ' c$' "$T/top"; then
	head -20 "$T/top" "$T/top.err"
fi
# The capture is described as windows are (session__fill_target): host, target, CPUs.
go tool pprof -comments "http://127.0.0.1:$HPORT/debug/pprof/profile?seconds=1" >"$T/comments" \
	2>"$T/comments.err"
check "http: the capture's comments name host, target and CPUs ($(tr '\n' '|' <"$T/comments"))" \
	bash -c "grep -qx 'host: $(hostname)' '$T/comments' && grep -qx 'mode: system-wide' \
		'$T/comments' && grep -qxE '[0-9]+ CPUs?' '$T/comments'"
curl -s "http://127.0.0.1:$HPORT/metrics" >"$T/metrics"
check "http: /metrics passes promtool check metrics" promtool check metrics <"$T/metrics"
for m in flamed_samples_total 'flamed_lost_samples_total{reason="user_stack"}' \
	flamed_processes_tracked flamed_windows_written_total process_cpu_seconds_total \
	process_resident_memory_bytes; do
	check "http: /metrics has $m" grep -qF "$m " "$T/metrics"
done
check "http: a window written" wait_for "$OUT/latest.svg" "</svg>" 30
# The newest window when asked: what latest.svg pointed to just before or just after (a window
# may close in between), byte for byte.
w0=$(readlink "$OUT/latest.svg")
curl -s -o "$T/latest.svg" -w '%{http_code} %{content_type}' \
	"http://127.0.0.1:$HPORT/latest.svg" >"$T/svg.status"
w1=$(readlink "$OUT/latest.svg")
check "http: /latest.svg answered 200 image/svg+xml" grep -qx "200 image/svg+xml" "$T/svg.status"
check "http: /latest.svg is the newest window's flame graph ($w0 or $w1)" \
	bash -c "cmp -s '$T/latest.svg' '$OUT/$w0' || cmp -s '$T/latest.svg' '$OUT/$w1'"
check "http: /latest.svg is well-formed XML" xmllint --noout "$T/latest.svg"
code() {
	curl -s -o /dev/null -w '%{http_code}' "$@"
}
check "http: unknown path 404" test "$(code "http://127.0.0.1:$HPORT/nope")" = 404
check "http: POST 405" test "$(code -X POST "http://127.0.0.1:$HPORT/metrics")" = 405
check "http: a body 413" test "$(code -X GET -d x=1 "http://127.0.0.1:$HPORT/metrics")" = 413
check "http: seconds=0 400" \
	test "$(code "http://127.0.0.1:$HPORT/debug/pprof/profile?seconds=0")" = 400
check "http: seconds=9999 400" \
	test "$(code "http://127.0.0.1:$HPORT/debug/pprof/profile?seconds=9999")" = 400
for i in 1 2 3 4 5; do
	code "http://127.0.0.1:$HPORT/debug/pprof/profile?seconds=2" >"$T/par.$i" &
done
# Each answers within 2 s (or at once with 429); 30 s for a busy machine.
all_answered() { [ "$(cat "$T"/par.* | wc -c)" -ge 15 ]; }
wait_until 30 all_answered
check "http: profiles at once are bounded: 4 served, 1 refused with 429" \
	test "$(cat "$T"/par.* | tr -d '\n' | grep -o 200 | wc -l)-$(cat "$T"/par.* | grep -o 429 | wc -l)" = "4-1"
check "http: the daemon still serves" test "$(code "http://127.0.0.1:$HPORT/metrics")" = 200
kill -TERM "$FPID"
wait "$FPID"
check "http: flamed exits 0" test $? = 0

# output-dir changes on SIGHUP (a runtime key): /latest.svg follows it, since the fleet keeps
# its own copy of the directory (fleet__set_output_dir) rather than reading the config.
HPORT=$(free_port)
printf 'output-dir = %s\ninterval = 1\nlisten = %s\n' "$T/out-a" "$HPORT" >"$T/reload.conf"
"$FLAMED" --config "$T/reload.conf" >"$T/flamed-reload.log" 2>&1 &
FPID=$!
check "reload: a window in the first directory" wait_for "$T/out-a/latest.svg" "</svg>" 30
printf 'output-dir = %s\ninterval = 1\nlisten = %s\n' "$T/out-b" "$HPORT" >"$T/reload.conf"
kill -HUP "$FPID"
check "reload: a window in the new directory" wait_for "$T/out-b/latest.svg" "</svg>" 30
w0=$(readlink "$T/out-b/latest.svg")
curl -s -o "$T/latest-b.svg" "http://127.0.0.1:$HPORT/latest.svg"
w1=$(readlink "$T/out-b/latest.svg")
check "reload: /latest.svg serves the new directory's newest window ($w0 or $w1)" \
	bash -c "cmp -s '$T/latest-b.svg' '$T/out-b/$w0' || cmp -s '$T/latest-b.svg' '$T/out-b/$w1'"
kill -TERM "$FPID"
wait "$FPID"
check "reload: flamed exits 0" test $? = 0

finish
