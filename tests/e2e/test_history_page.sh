#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The --listen history page: GET / of a daemon with an --output-dir, the windows' list
# (/history/windows.json) against the directory's own counts, a range merged and two diffed
# (/history/graph.svg, diff.svg) against `flamed render DIR` / `flamed diff DIR`, bad times
# refused, and the page in headless chromium: its list, a click on a window and a drag over
# two, and a compared range, each judged by the flame graph the page then shows.
# Needs root (the daemon), python3, chromium, xmllint (make test installs them).
. "$(dirname "$0")/lib.sh"
need_root "history page" || finish || exit 1
need_tool "history page" python3 xmllint curl || finish || exit 1

HERE=$(cd "$(dirname "$0")" && pwd)
D="$T/out"
mkdir -p "$D"
# Three windows of known counts, a minute apart, and one in another day (left out of ranges).
printf 'app;main;a 10\napp;main;b 5\n' >"$D/flamed-20261201T100000.000Z.folded"
printf 'app;main;a 20\n' >"$D/flamed-20261201T100100.000Z.folded"
printf 'app;main;c 7\n' >"$D/flamed-20261201T100200.000Z.folded"
printf 'app;other 1000\n' >"$D/flamed-20261130T000000.000Z.folded"
W1=2026-12-01T10:00:00.000Z W2=2026-12-01T10:01:00.000Z W3=2026-12-01T10:02:00.000Z
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL="http://127.0.0.1:$PORT"
# A long interval: no window of its own comes while the page is judged; --keep 0: the
# windows written here by the test are not pruned (they are root's, as flamed's own are).
"$FLAMED" --output-dir "$D" --interval 3600 --keep 0 --formats folded --listen "127.0.0.1:$PORT" \
	-F 19 2>"$T/daemon.log" &
DP=$!
cleanup_daemon() { kill -TERM "$DP" 2>/dev/null; wait "$DP" 2>/dev/null; }
trap 'cleanup_daemon; rm -rf "$T"' EXIT
serving() { curl -sf -o /dev/null "$URL/metrics"; }
check "daemon with --output-dir and --listen answers" wait_until 60 serving

curl -s -D "$T/root.h" -o "$T/root.html" "$URL/"
check "GET /: the page, text/html" grep -qi '^content-type: text/html' "$T/root.h"
check "GET /: self-contained (no external script, style or font)" \
	bash -c "! grep -Eiq '(src|href)=\"?(https?:)?//' '$T/root.html'"

curl -s "$URL/history/windows.json" >"$T/w.json"
check "windows.json: the directory's four windows, oldest first, each counted" python3 -c "
import json, sys
j = json.load(open('$T/w.json'))
got = [(w['start'], w['count']) for w in j['windows']]
want = [('2026-11-30T00:00:00Z', 1000), ('2026-12-01T10:00:00Z', 15),
        ('2026-12-01T10:01:00Z', 20), ('2026-12-01T10:02:00Z', 7)]
sys.exit(0 if got == want else print(got) or 1)"

# A range through the server and through the command line: the same graph.
curl -s "$URL/history/graph.svg?from=$W1&to=2026-12-01T10:01:00.001Z" >"$T/r12.svg"
"$FLAMED" render "$D" --from "$W1" --to 2026-12-01T10:01:00.001Z -o "$T/r12cli.svg"
check "graph.svg of the first two windows: well-formed SVG" xmllint --noout "$T/r12.svg"
check "graph.svg: all 35 samples, 2 windows" \
	bash -c "grep -q 'all (35 samples' '$T/r12.svg' && grep -q '2 windows' '$T/r12.svg'"
check "graph.svg: the same bytes as flamed render DIR --from --to" cmp -s "$T/r12.svg" "$T/r12cli.svg"
# A fixed end: "now" is read by each when it runs, and the subtitle names it to the second.
W4=2026-12-01T10:02:30Z
curl -s "$URL/history/diff.svg?from=$W3&to=$W4&vs_from=$W1&vs_to=$W3" >"$T/diff.svg"
"$FLAMED" diff "$D" --from "$W3" --to "$W4" --vs-from "$W1" --vs-to "$W3" -o "$T/diffcli.svg"
check "diff.svg: well-formed, the same as flamed diff DIR" \
	bash -c "xmllint --noout '$T/diff.svg' && cmp -s '$T/diff.svg' '$T/diffcli.svg'"
curl -s "$URL/history/diff.svg?from=$W3&to=now&vs_from=$W1&vs_to=$W3" >"$T/diffnow.svg"
check "diff.svg to now: well-formed, 1 window (7 samples) against 2 windows (35 samples)" \
	bash -c "xmllint --noout '$T/diffnow.svg' &&
		grep -q '1 window, 2026-12-01T10:02:00Z to [^(]*(7 samples) against 2 windows' '$T/diffnow.svg'"
code() { curl -s -o "$T/body" -w '%{http_code}' "$1"; }
check "a range without windows: 400, saying what the directory has" \
	bash -c "[ \"\$(curl -s -o '$T/e' -w '%{http_code}' '$URL/history/graph.svg?from=2020-01-01&to=2020-01-02')\" = 400 ] &&
		grep -q 'no window starts' '$T/e'"
check "a time that is not one (--output=/etc/x): 400, nothing run" \
	test "$(code "$URL/history/graph.svg?from=--output=/etc/x")" = 400
check "a diff without its second range: 400" test "$(code "$URL/history/diff.svg?from=$W1")" = 400
check "POST: 405" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/history/windows.json")" = 405

# The page in a browser: a driver page (tests/e2e/history_page_driver.html), served with the
# page from one origin by a small proxy, loads it in a frame, clicks and drags as a user does and
# writes one line per check.
if need_tool "history page in a browser" chromium; then
	PP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	python3 "$HERE/same_origin_proxy.py" "$PP" "$URL" "$HERE/history_page_driver.html" &
	PXP=$!
	proxying() { curl -sf -o /dev/null "http://127.0.0.1:$PP/driver.html"; }
	check "same-origin proxy for the browser serves" wait_until 30 proxying
	prof=$(mktemp -d /tmp/flamed-chromium.XXXXXX)
	timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$prof" \
		--virtual-time-budget=60000 --dump-dom "http://127.0.0.1:$PP/driver.html" >"$T/dom.html" \
		2>"$T/chromium.log"
	kill "$PXP"
	rm -rf "$prof"
	sed -n '/<pre id="results">/,/<\/pre>/p' "$T/dom.html" | sed 's/<[^>]*>//g' | grep -E '^(PASS|FAIL|DONE)' >"$T/results"
	while read -r verdict rest; do
		case $verdict in
		PASS) ok "browser: $rest" ;;
		FAIL) fail "browser: $rest" ;;
		esac
	done <"$T/results"
	check "browser: the driver ran to its end" grep -q '^DONE' "$T/results"
	grep -q '^DONE' "$T/results" || tail -n 5 "$T/chromium.log"
fi
# The list is learnt once and then a window at a time: a window that arrives is counted, one
# that goes (retention) is gone from the list.
printf 'app;x 9\n' >"$D/flamed-20261201T100300.000Z.folded"
rm "$D/flamed-20261130T000000.000Z.folded"
curl -s "$URL/history/windows.json" >"$T/w2.json"
check "windows.json after one window came and one went: the four there, the new one counted" python3 -c "
import json, sys
got = [(w['start'], w['count']) for w in json.load(open('$T/w2.json'))['windows']]
want = [('2026-12-01T10:00:00Z', 15), ('2026-12-01T10:01:00Z', 20),
        ('2026-12-01T10:02:00Z', 7), ('2026-12-01T10:03:00Z', 9)]
sys.exit(0 if got == want else print(got) or 1)"
check "windows.json?from=&to=: the range's windows only" python3 -c "
import json, sys, urllib.request
j = json.load(urllib.request.urlopen('$URL/history/windows.json?from=$W2&to=$W3'))
sys.exit(0 if [w['count'] for w in j['windows']] == [20] else print(j) or 1)"
kill -TERM "$DP"
wait "$DP"
check "daemon: exit 0 on SIGTERM" test $? = 0

# Bounded work: merges are children of the daemon, two at once. Two are started and stopped
# (SIGSTOP, so neither can end first): a third is refused with 429; one client hangs up and its
# child is killed; the other, resumed, is answered.
H="$T/heavy"
mkdir -p "$H"
python3 - "$H" <<'PY'
import random, sys, time
random.seed(3)
names = ["function_%d" % i for i in range(2000)]
text = "".join("app;" + ";".join(random.choice(names) for _ in range(30)) + " 3\n" for _ in range(200))
for w in range(2000):
    stem = time.strftime("%Y%m%dT%H%M%S", time.gmtime(1793577600 + 60 * w))
    open("%s/flamed-%s.000Z.folded" % (sys.argv[1], stem), "w").write(text)
PY
PORT2=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL2="http://127.0.0.1:$PORT2"
"$FLAMED" --output-dir "$H" --interval 3600 --keep 0 --formats folded --listen "127.0.0.1:$PORT2" \
	-F 19 2>"$T/daemon2.log" &
DP=$!
serving2() { curl -sf -o /dev/null "$URL2/metrics"; }
check "second daemon (2,000 windows) answers" wait_until 60 serving2
curl -s -o /dev/null "$URL2/history/diff.svg?from=2026-11-02&to=2026-11-04&vs_from=2026-11-02&vs_to=2026-11-03" &
CA=$!
curl -s -o "$T/b.svg" -w '%{http_code}' "$URL2/history/graph.svg?from=2026-11-02&to=2026-11-04" >"$T/b.code" &
CB=$!
children() { pgrep -P "$DP" | wc -l; }
two_children() { [ "$(children)" -ge 2 ]; }
check "two merges run as children of the daemon" wait_until 30 two_children
kids=$(pgrep -P "$DP" | tr '\n' ' ')
# shellcheck disable=SC2086 # pids
kill -STOP $kids
check "a third merge while two run: 429" \
	test "$(code "$URL2/history/graph.svg?from=2026-11-02&to=2026-11-03")" = 429
kill "$CA"
# Polled twice a second, not ten times: the stopped merge's client (CB) is the connection that
# has waited longest, the one the daemon's connection cap would close first if polls piled up.
metric_is() { curl -s "$URL2/metrics" | grep -qx "$1" || { sleep 0.4; return 1; }; }
check "the client that hung up: its merge killed (flamed_history_children_killed_total)" \
	wait_until 30 metric_is 'flamed_history_children_killed_total{reason="hang_up"} 1'
# shellcheck disable=SC2086 # pids
kill -CONT $kids 2>/dev/null
wait "$CB"
check "the other merge, resumed: 200 ($(cat "$T/b.code")), well-formed, 2,000 windows ($(wc -c <"$T/b.svg") bytes; $(grep -c 'ran past' "$T/daemon2.log") timeouts)" bash -c "
	[ \"\$(cat '$T/b.code')\" = 200 ] && xmllint --noout '$T/b.svg' && grep -q '2000 windows' '$T/b.svg'"
check "no merge left running" wait_until 30 metric_is 'flamed_history_children 0'
kill -TERM "$DP"
wait "$DP"
check "second daemon: exit 0 on SIGTERM" test $? = 0
finish
