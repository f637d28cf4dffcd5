#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: the --listen server under hostile local clients (tests/e2e/hostile_http.py).
# - Hang-ups: four clients start /debug/pprof/profile?seconds=300 and disconnect; their profiles
#   are cancelled and the next one is served (it used to get 429 for five minutes).
# - Slow headers: connections that trickle a request line and never finish it, from several
#   client addresses, more than every cap; /metrics and /debug/pprof/profile are still answered at once, and
#   every slow connection is closed by the request deadline (they used to lock every other
#   local client out for as long as they trickled).
# flamed profiles one sleeping process only: what is tested is the server, and a system-wide
# session would make the verdicts wait for whatever else runs on a busy machine.
. "$(dirname "$0")/lib.sh"

HOSTILE="$ROOT/tests/e2e/hostile_http.py"
REQUEST_TIMEOUT=$(awk '$2 == "HTTPD_REQUEST_TIMEOUT_S" { print $3 }' "$ROOT/src/export/httpd.h")

if ! need_root "hostile HTTP clients" || ! need_tool "hostile HTTP clients" python3 curl; then
	finish
	exit
fi

# metric NAME: a sample's value from /metrics (NAME with its labels, as printed).
metric() {
	curl -s --max-time 10 "http://127.0.0.1:$HPORT/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
metric_is() {
	[ "$(metric "$1")" = "$2" ]
}
metric_at_least() {
	local v
	v=$(metric "$1")
	[ -n "$v" ] && [ "$v" -ge "$2" ]
}
# get URL [CURL ARGS]: "CODE SECONDS" of one request (code 000 when refused or cut).
get() {
	local url=$1
	shift
	curl -s -o /dev/null --max-time 30 -w '%{http_code} %{time_total}' "$@" \
		"http://127.0.0.1:$HPORT$url"
}

sleep 600 &
TARGET=$!
HPORT=$(free_port)
"$FLAMED" -p "$TARGET" --output-dir "$T/out" --interval 60 --listen "127.0.0.1:$HPORT" -v \
	>"$T/flamed.log" 2>&1 &
FPID=$!
if ! wait_for "$T/flamed.log" "profiling the given processes" 30; then
	fail "flamed starts with --listen"
	cat "$T/flamed.log"
	kill "$FPID" "$TARGET" 2>/dev/null
	finish
	exit
fi

# --- Hang-ups: a profile's slot is freed when its client goes away -----------------------------

python3 "$HOSTILE" captures "$HPORT" 4 300 >"$T/captures.log" 2>&1 &
HPID=$!
check "hang-up: four clients start a 300 s profile" wait_for "$T/captures.log" "^sent 4" 30
check "hang-up: the four profiles run" wait_until 30 metric_is flamed_profiles_in_progress 4
r=$(get "/debug/pprof/profile?seconds=1")
check "hang-up: a fifth is refused while they run ($r)" test "${r%% *}" = 429
kill "$HPID"
wait "$HPID" 2>/dev/null
# The hang-ups reach flamed as the kernel delivers the closing of the helper's sockets: a 429
# until then is retried, within a deadline far below the 300 s the slots used to be held.
served() {
	r=$(get "/debug/pprof/profile?seconds=1")
	[ "${r%% *}" = 200 ]
}
start=$(date +%s.%N)
served || wait_until 20 served
took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
check "hang-up: a 1 s profile is served 200 ${took} s after the hang-ups ($r)" test "${r%% *}" = 200
check "hang-up: the four are counted as cancelled" \
	wait_until 30 metric_is flamed_profiles_cancelled_total 4
check "hang-up: no profile is left running" metric_is flamed_profiles_in_progress 0
check "hang-up: cancellations are logged" \
	test "$(grep -c "CPU profile cancelled: its client hung up" "$T/flamed.log")" = 4

# --- Slow headers: deadline and caps ---------------------------------------------------------

# 24 connections each from 127.0.0.1, 127.0.0.2 and 127.0.0.3, each trickling a byte a second:
# over the per-client cap (16), the total cap (32) and libmicrohttpd's own socket cap (64).
for i in 1 2 3; do
	python3 "$HOSTILE" slow "$HPORT" 24 60 "127.0.0.$i" >"$T/slow$i.log" 2>&1 &
	eval "S$i=\$!"
done
for f in slow1 slow2 slow3; do
	wait_for "$T/$f.log" "^open" 30 || fail "slow headers: $f did not connect"
done
ok "slow headers: 72 slow connections opened"
# Answered well before the slow ones' deadline would free their slots: by making room.
prompt=$((REQUEST_TIMEOUT / 2))
for i in 1 2 3; do
	r=$(get /metrics --max-time "$prompt")
	check "slow headers: /metrics from 127.0.0.1 answered within $prompt s during the attack ($r)" \
		test "${r%% *}" = 200
done
r=$(get /metrics --max-time "$prompt" --interface 127.0.0.4)
check "slow headers: /metrics from another client answered within $prompt s ($r)" \
	test "${r%% *}" = 200
r=$(get "/debug/pprof/profile?seconds=1" --max-time $((prompt + 1)))
check "slow headers: a 1 s profile served within $((prompt + 1)) s during the attack ($r)" \
	test "${r%% *}" = 200
# Each helper exits when all its connections are closed, or after 60 s.
for f in slow1 slow2 slow3; do
	wait_for "$T/$f.log" "^closed" 90
	line=$(grep "^closed" "$T/$f.log")
	echo "     $f: $line (seconds after opening)"
	check "slow headers: $f: every slow connection closed by the server" \
		awk -v l="$line" 'BEGIN { split(l, a, " "); exit !(a[2] == a[4]) }'
done
# Those not closed to make room close at the deadline, well before the 30 s silence timeout
# (which trickling defeats anyway).
last=$(cat "$T"/slow?.log | awk '$1 == "closed" && $10 > m { m = $10 } END { print m + 0 }')
check "slow headers: the last closed by the ${REQUEST_TIMEOUT} s request deadline (at $last s)" \
	awk -v m="$last" -v d="$REQUEST_TIMEOUT" 'BEGIN { exit !(m >= d - 1 && m <= d + 12) }'
wait "$S1" "$S2" "$S3" 2>/dev/null
check "slow headers: closed at the deadline are counted" \
	metric_at_least 'flamed_http_connections_closed_total{reason="request_timeout"}' 1
check "slow headers: closed for the per-client cap are counted" \
	metric_at_least 'flamed_http_connections_closed_total{reason="client_limit"}' 1
check "slow headers: closed for the connection cap are counted" \
	metric_at_least 'flamed_http_connections_closed_total{reason="connection_limit"}' 1
r=$(get /metrics)
check "slow headers: /metrics answered after the attack ($r)" test "${r%% *}" = 200

kill -TERM "$FPID"
wait "$FPID"
check "flamed exits 0" test $? = 0
kill "$TARGET" 2>/dev/null
wait "$TARGET" 2>/dev/null
finish
