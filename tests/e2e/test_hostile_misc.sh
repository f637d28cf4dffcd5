#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Hostile local users (issue 12, items 3, 6, 7; docs/SECURITY.md names what each part proves):
# counts that add up past what a profile holds, config files that are not config files or that
# others can write, and window-like files planted in a shared output directory.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"; }
# refused NAME WANT CMD...: CMD exits 1 and says WANT. A daemon that was not refused is
# stopped after a while (timeout's status, 124, fails the check) rather than hanging the test.
refused() {
	local name=$1 want=$2
	shift 2
	timeout -s INT 120 "$@" >"$T/refused.out" 2>&1
	if [ $? = 1 ] && grep -qF -- "$want" "$T/refused.out"; then
		ok "$name"
	else
		fail "$name"
		cat "$T/refused.out"
	fi
}

# --- Counts that wrap around (item 6): an error naming the line, in every reader ---------------
printf 'a;b 18446744073709551615\na;c 2\n' >"$T/wrap.folded"
refused "render: a count past INT64_MAX is an error naming the line" \
	"wrap.folded:1: the counts up to this line add up to more than 9223372036854775807" \
	"$FLAMED" render "$T/wrap.folded" -o "$T/wrap.svg"
check "render: no half-written output on that error" test ! -e "$T/wrap.svg"
printf 'a;b 9223372036854775806\na;c 1\na;d 1\n' >"$T/late.folded"
refused "render: the sum passing INT64_MAX names the line that passes it" \
	"late.folded:3: the counts up to this line" "$FLAMED" render "$T/late.folded"
head -n 2 "$T/late.folded" >"$T/max.folded"
check "render: counts adding up to exactly INT64_MAX render" \
	"$FLAMED" render "$T/max.folded" -o "$T/max.svg"
refused "render: two inputs adding up past INT64_MAX: the second's line named" \
	"max.folded:1: the counts up to this line" \
	"$FLAMED" render "$T/max.folded" "$T/max.folded" -o "$T/x.svg"
refused "diff: AFTER past INT64_MAX is an error naming the line" "late.folded:3:" \
	"$FLAMED" diff "$T/max.folded" "$T/late.folded" -o "$T/x.svg"
printf 'a;b 1 9223372036854775807\na;c 1 2\n' >"$T/d.folded"
refused "render --diff: a column past INT64_MAX names the line" "d.folded:2:" \
	"$FLAMED" render --diff "$T/d.folded" -o "$T/x.svg"
"$FLAMED" render "$T/max.folded" -o "$T/max.pb.gz"
refused "render: pprof inputs adding up past INT64_MAX refused" \
	"add up to more than 9223372036854775807" \
	"$FLAMED" render "$T/max.pb.gz" "$T/max.pb.gz" -o "$T/x.svg"
# A file big enough to be parsed in parallel parts: the sum passes the limit only when the
# parts are added up, and the line is still named.
awk 'BEGIN { for (i = 0; i < 1400000; i++) print "main;work;leaf_function_padding_padding_pad 1";
	print "main;big 9223372036853775807"; for (i = 0; i < 1000; i++) print "main;x 1" }' \
	>"$T/big.folded"
refused "render: a big file's parts adding up past INT64_MAX: the line named" \
	"big.folded:1400001: the counts up to this line" \
	"$FLAMED" render "$T/big.folded" -o "$T/x.svg"
rm -f "$T/big.folded"

# --- Config files (item 7): never echoed, refused when others can write them -------------------
if [ -r /etc/shadow ]; then
	ln -s /etc/shadow "$T/shadow.conf"
	first=$(head -n 1 /etc/shadow | cut -d: -f1-2)
	"$FLAMED" --config "$T/shadow.conf" --output-dir "$T/never" >"$T/shadow.out" 2>&1
	check "config -> /etc/shadow: exit 1" test $? = 1
	check "config -> /etc/shadow: file and line named" grep -q "shadow.conf:1: " "$T/shadow.out"
	check "config -> /etc/shadow: its content not printed" \
		bash -c "! grep -qF -- '$first' '$T/shadow.out'"
else
	skip "config -> /etc/shadow: /etc/shadow not readable"
fi
printf 'interval = 5\napi_key=SECRETVALUE\n' >"$T/secret.conf"
"$FLAMED" --config "$T/secret.conf" --output-dir "$T/never" >"$T/secret.out" 2>&1
check "config: an unknown key is not echoed" bash -c "! grep -q 'api_key\|SECRETVALUE' '$T/secret.out'"
check "config: an unknown key: file and line named" grep -q "secret.conf:2: unknown key" \
	"$T/secret.out"
mkdir -m 700 "$T/cfg"
printf 'interval = 5\n' >"$T/cfg/ok.conf"
chmod 664 "$T/cfg/ok.conf"
refused "config: a group-writable config file refused, saying who can write it" \
	"refusing config file $T/cfg/ok.conf: its group" \
	"$FLAMED" --config "$T/cfg/ok.conf" --output-dir "$T/never"
chmod 644 "$T/cfg/ok.conf"
chmod 777 "$T/cfg"
refused "config: a config file in a world-writable directory refused" \
	"its directory $T/cfg can be changed by every user" \
	"$FLAMED" --config "$T/cfg/ok.conf" --output-dir "$T/never"
chmod 700 "$T/cfg"

if ! need_root "shared output directory"; then
	finish
	exit
fi
if [ "$(id -u)" = 0 ]; then
	chown $NOBODY "$T/cfg/ok.conf"
	refused "config: a config file owned by another user refused" "its owner" \
		"$FLAMED" --config "$T/cfg/ok.conf" --output-dir "$T/never"
fi

# --- Shared output directory (item 3) -------------------------------------------------------
chmod 711 "$T"
mkdir -m 777 "$T/open"
refused "output-dir writable by every user and not sticky: refused, saying so" \
	"is writable by every user (mode 0777" "$FLAMED" --interval 60 --output-dir "$T/open"
mkdir -m 770 "$T/group"
refused "output-dir writable by its group and not sticky: refused, saying so" \
	"is writable by its group (mode 0770" "$FLAMED" --interval 60 --output-dir "$T/group"

# Sticky and world-writable, as /tmp: nobody plants window-like files, newer and older than
# any real window, and a latest link and temp names of its own.
D="$T/shared"
mkdir -m 1777 "$D"
for ext in svg folded pb.gz; do
	for stem in 99990101T000000.000Z 99991231T235959.999Z 20000101T000000.000Z; do
		as_nobody sh -c "echo planted >'$D/flamed-$stem.$ext'"
	done
done
as_nobody sh -c "echo planted >'$D/.flamed-20000101T000000.000Z.svg.AbC123'"
as_nobody sh -c "echo planted >'$D/.latest.svg.tmp'"
planted=$(find "$D" -user $NOBODY | wc -l)
# One small process profiled (its windows close fast on a busy machine), windows closed by
# SIGUSR1 only: the interval is longer than the test.
"$WL/chain" 900 &
wp=$!
"$FLAMED" -p $wp --interval 3600 --keep 2 --formats svg,folded --output-dir "$D" \
	2>"$T/shared.err" &
fp=$!
if wait_for "$T/shared.err" "profiling the given processes" 300; then
	# Each SIGUSR1 closes a window; wait for each one's "wrote" line before the next.
	written_ge() { [ "$(grep -c ', wrote flamed-' "$T/shared.err")" -ge "$1" ]; }
	for i in 1 2 3 4; do
		kill -USR1 $fp
		wait_until 300 written_ge $i
	done
	kill -TERM $fp
	wait $fp
	check "shared dir: the daemon stops cleanly (exit $?)" test $? = 0
	ours=$(find "$D" -maxdepth 1 -user 0 -name 'flamed-*.svg' | wc -l)
	check "shared dir: retention keeps our newest 2 windows ($ours), planted ones not counted" \
		test "$ours" = 2
	check "shared dir: every planted file left alone" \
		test "$(find "$D" -user $NOBODY | wc -l)" = "$planted"
	latest=$(readlink "$D/latest.svg")
	check "shared dir: latest.svg points at a window that exists ($latest)" \
		test -n "$latest" -a -f "$D/$latest" -a -s "$D/$latest"
	check "shared dir: latest.svg is the newest window flamed wrote" test "$latest" = \
		"$(find "$D" -maxdepth 1 -user 0 -name 'flamed-*.svg' -printf '%f\n' | sort | tail -n 1)"
	check "shared dir: nothing removed from the windows flamed wrote but the oldest" \
		test "$(grep -c ', wrote flamed-' "$T/shared.err")" = 5
else
	fail "shared dir: the daemon did not start"
	cat "$T/shared.err"
	kill $fp 2>/dev/null
	wait $fp
fi
kill $wp
wait $wp 2>/dev/null

finish
