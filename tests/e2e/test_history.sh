#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: the windows of an --output-dir read back. `flamed render DIR [--from] [--to]`
# merges the windows starting in a range (sums exact against the windows' own files, range
# selection by ISO and relative times, the subtitle, every output format checked by its
# consumer), `flamed diff DIR` compares two ranges (exact counts on crafted windows, colours),
# and the errors (empty ranges, SVG-only directories, bad times, mixed modes and rates). As
# root, a real daemon's windows prove the names and the pprof/folded choice.
. "$(dirname "$0")/lib.sh"

# stem EPOCH_MS: a window's name as the daemon writes it (service/daemon.c).
stem() {
	printf 'flamed-%s.%03dZ' "$(date -u -d "@$(($1 / 1000))" +%Y%m%dT%H%M%S)" $(($1 % 1000))
}
# sum_folded FILE...: the stacks of folded files, each with its summed count, sorted.
sum_folded() {
	cat "$@" | awk '{ n = $NF; s = substr($0, 1, length($0) - length(n) - 1); c[s] += n }
		END { for (s in c) print s, c[s] }' | LC_ALL=C sort
}
total() {
	awk '{ t += $NF } END { print t + 0 }' "$@"
}
subtitle() {
	sed -nE 's/.*id="subtitle"[^>]*>([^<]*)<.*/\1/p' "$1"
}

# --- Crafted windows: six of 60 s from 2026-12-04T03:00:00Z, folded ------------------------
D="$T/crafted"
mkdir -p "$D"
T0=$(date -u -d 2026-12-04T03:00:00Z +%s)000
for i in 0 1 2 3 4 5; do
	f="$D/$(stem $((T0 + i * 60000))).folded"
	{
		echo "app;main;work $((10 + i))"
		echo "app;main;idle $((100 - 10 * i))"
		[ $((i % 2)) = 0 ] && echo "cron;run 7"
		echo "w$i;only 1"
	} >"$f"
	# And the SVG the daemon writes beside it: not read, not counted twice.
	echo '<svg/>' >"${f%.folded}.svg"
done
# Files that are not windows: ignored.
echo "latest 1000" >"$D/latest.folded"
echo "junk 1000" >"$D/flamed-20261204T030000.000Z.folded.tmp"
echo "junk 1000" >"$D/notes.folded"

"$FLAMED" render "$D" -o "$T/all.folded" 2>"$T/all.err"
check "render DIR: exits 0" test $? = 0
sum_folded "$D"/flamed-*.folded >"$T/all.expect"
if LC_ALL=C sort "$T/all.folded" | cmp -s - "$T/all.expect"; then
	ok "render DIR: every stack's count is the sum over the six windows ($(total "$T/all.expect") samples)"
else
	fail "render DIR: counts differ from the windows' sums"
	diff <(LC_ALL=C sort "$T/all.folded") "$T/all.expect" | head
fi
check "render DIR: no warning (the SVGs beside the windows are not windows to read)" \
	test ! -s "$T/all.err"

# --from/--to: the windows starting in [from, to), seconds optional, the Z too.
"$FLAMED" render "$D" --from 2026-12-04T03:01Z --to 2026-12-04T03:04:00 -o "$T/mid.folded"
sum_folded "$D/$(stem $((T0 + 60000))).folded" "$D/$(stem $((T0 + 120000))).folded" \
	"$D/$(stem $((T0 + 180000))).folded" >"$T/mid.expect"
check "render --from 03:01Z --to 03:04:00: windows 1-3 exactly ($(total "$T/mid.expect") samples)" \
	cmp -s <(LC_ALL=C sort "$T/mid.folded") "$T/mid.expect"
"$FLAMED" render "$D" --from 2026-12-04T03:01:00.001Z --to 2026-12-04T03:02:00.001Z \
	-o "$T/one.folded"
check "render: a window starting 1 ms before --from is out, one 1 ms before --to is in" \
	cmp -s <(LC_ALL=C sort "$T/one.folded") <(sum_folded "$D/$(stem $((T0 + 120000))).folded")
"$FLAMED" render "$D" --to 2026-12-04T03:02Z -o "$T/to.folded"
check "render --to alone: the windows before it" \
	cmp -s <(LC_ALL=C sort "$T/to.folded") <(sum_folded "$D/$(stem "$T0").folded" \
	"$D/$(stem $((T0 + 60000))).folded")

# The SVG: well-formed, the subtitle names the range and the number of windows, the total is
# the sum.
"$FLAMED" render "$D" --from 2026-12-04T03:01Z --to 2026-12-04T03:04Z -o "$T/mid.svg"
check "render DIR -o .svg: xmllint" xmllint --noout "$T/mid.svg"
sub=$(subtitle "$T/mid.svg")
echo "     subtitle: $sub"
check "render DIR svg: the subtitle names the range and the windows" \
	grep -q '3 windows, 2026-12-04T03:01:00Z to 2026-12-04T03:04:00Z' <<<"$sub"
check "render DIR svg: the subtitle gives the windows' span and total" \
	grep -q "^2026-12-04 03:01:00.000 to 03:04:00.000 UTC (180.0 s), $(total "$T/mid.expect") samples" <<<"$sub"
check "render DIR svg: data-total is the sum" \
	grep -q "data-total=\"$(total "$T/mid.expect")\"" "$T/mid.svg"

# pprof: go tool pprof reads it, the samples add up, the range is in a comment.
"$FLAMED" render "$D" --from 2026-12-04T03:01Z --to 2026-12-04T03:04Z -o "$T/mid.pb.gz"
check "render DIR -o .pb.gz: exits 0" test $? = 0
if need_tool "pprof output" go; then
	go tool pprof -raw "$T/mid.pb.gz" >"$T/mid.raw" 2>&1
	check "render DIR pprof: go tool pprof -raw decodes it" test $? = 0
	got=$(awk '/^Samples:/ { s = 1; next } /^Locations/ { s = 0 }
		s && $1 ~ /^[0-9]+:?$/ { t += $1 } END { print t + 0 }' "$T/mid.raw")
	check "render DIR pprof: samples add up to the windows' sum ($got)" \
		test "$got" = "$(total "$T/mid.expect")"
	check "render DIR pprof: the range is in its comments" \
		grep -q 'Comment: mode: 3 windows, 2026-12-04T03:01:00Z to 2026-12-04T03:04:00Z' "$T/mid.raw"
fi

# --- Relative times: windows of the last minutes -----------------------------------------
R="$T/recent"
mkdir -p "$R"
now=$(date +%s%3N)
for m in 50 40 25 15 5; do
	echo "ago;m$m $m" >"$R/$(stem $((now - m * 60000))).folded"
done
"$FLAMED" render "$R" --from -30m -o "$T/rel.folded"
check "render --from -30m: the windows of 25, 15 and 5 min ago" \
	test "$(LC_ALL=C sort "$T/rel.folded" | tr '\n' ' ')" = "ago;m15 15 ago;m25 25 ago;m5 5 "
"$FLAMED" render "$R" --from -1h --to -20m -o "$T/rel2.folded"
check "render --from -1h --to -20m: 50, 40 and 25 min ago" \
	test "$(total "$T/rel2.folded")" = 115
"$FLAMED" render "$R" --from -2h --to now -o "$T/rel3.folded"
check "render --from -2h --to now: all five" test "$(total "$T/rel3.folded")" = 135

# --- Errors -------------------------------------------------------------------------------
"$FLAMED" render "$D" --from 2026-12-05T00:00Z -o "$T/none.svg" 2>"$T/none.err"
check "an empty range: exit 1" test $? = 1
check "an empty range: says so and what the directory has" \
	grep -q "no window starts at or after 2026-12-05T00:00:00Z; its 6 windows start from 2026-12-04T03:00:00Z to 2026-12-04T03:05:00Z" "$T/none.err"
check "an empty range: no output file" test ! -e "$T/none.svg"
mkdir -p "$T/empty"
"$FLAMED" render "$T/empty" 2>"$T/empty.err" >/dev/null
check "a directory without windows: exit 1, explained" \
	grep -q "has no windows" "$T/empty.err"
mkdir -p "$T/svgonly"
cp "$D"/flamed-*.svg "$T/svgonly/"
"$FLAMED" render "$T/svgonly" 2>"$T/svgonly.err" >/dev/null
check "SVG-only windows: exit 1" test $? = 1
check "SVG-only windows: says to write folded or pprof" \
	grep -q "SVG only: render reads folded or pprof windows" "$T/svgonly.err"
"$FLAMED" render "$D" --from yesterday 2>"$T/bad.err" >/dev/null
check "--from yesterday: exit 1" test $? = 1
check "--from yesterday: says what a TIME is" grep -q 'not a time "yesterday": expected ISO 8601 UTC' "$T/bad.err"
"$FLAMED" render "$D" --from 2026-12-04T03:00+01:00 2>"$T/bad.err" >/dev/null
check "--from with another UTC offset: refused" grep -q "not a time" "$T/bad.err"
"$FLAMED" render "$D" --from 2026-12-04T04:00Z --to 2026-12-04T03:00Z 2>"$T/bad.err" >/dev/null
check "--from after --to: refused" grep -q "is not before --to" "$T/bad.err"
"$FLAMED" render "$D/$(stem "$T0").folded" --from -1h 2>"$T/bad.err" >/dev/null
check "--from with a file: exit 2, explained" test $? = 2 -a -n "$(grep 'select the windows of a directory' "$T/bad.err")"
"$FLAMED" render "$D" --vs-from -1h 2>"$T/bad.err" >/dev/null
check "render --vs-from: refused as diff's" grep -q "is diff's" "$T/bad.err"
"$FLAMED" diff "$D" --from -1h 2>"$T/bad.err" >/dev/null
check "diff DIR without --vs-*: refused" grep -q "which range to compare against" "$T/bad.err"

# --- diff DIR: two ranges ------------------------------------------------------------------
# AFTER: windows 3-5 (03:03 to 03:06); BEFORE (--vs): windows 0-1.
"$FLAMED" diff "$D" --from 2026-12-04T03:03Z --to 2026-12-04T03:06Z \
	--vs-from 2026-12-04T03:00Z --vs-to 2026-12-04T03:02Z -o "$T/d.folded"
check "diff DIR: exits 0" test $? = 0
# The counts by hand: work 10+11 vs 13+14+15, idle 100+90 vs 70+60+50, cron 7 vs 7 (window 4),
# w0 w1 before only, w3 w4 w5 after only.
cat >"$T/d.expect" <<'EOF'
app;main;idle 190 180
app;main;work 21 42
cron;run 7 7
w0;only 1 0
w1;only 1 0
w3;only 0 1
w4;only 0 1
w5;only 0 1
EOF
if LC_ALL=C sort "$T/d.folded" | cmp -s - "$T/d.expect"; then
	ok "diff DIR --format folded: \"stack BEFORE AFTER\", exact"
else
	fail "diff DIR --format folded differs:"
	diff <(LC_ALL=C sort "$T/d.folded") "$T/d.expect"
fi
"$FLAMED" diff "$D" --from 2026-12-04T03:03Z --to 2026-12-04T03:06Z \
	--vs-from 2026-12-04T03:00Z --vs-to 2026-12-04T03:02Z -o "$T/d.svg"
check "diff DIR svg: xmllint" xmllint --noout "$T/d.svg"
sub=$(subtitle "$T/d.svg")
echo "     subtitle: $sub"
check "diff DIR svg: the subtitle names both ranges" \
	test "$sub" = "3 windows, 2026-12-04T03:03:00Z to 2026-12-04T03:06:00Z (232 samples) against 2 windows, 2026-12-04T03:00:00Z to 2026-12-04T03:02:00Z (220 samples), normalised to the same total"
# Normalised (220 before, 232 after): work doubled (red), idle shrank (blue).
fill() {
	grep -oE "<title>$1 \([^<]*</title><rect [^>]*fill=\"[^\"]*\"" "$T/d.svg" |
		sed -E 's/.*fill="([^"]*)"/\1/' | head -n 1
}
red() { [[ $1 =~ ^#ff([0-9a-f]{2})([0-9a-f]{2})$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" != ff ]; }
blue() { [[ $1 =~ ^#([0-9a-f]{2})([0-9a-f]{2})ff$ ]] && [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[1]}" != ff ]; }
check "diff DIR svg: work (21 -> 42) is red ($(fill work))" red "$(fill work)"
check "diff DIR svg: idle (190 -> 180 of a total 220 -> 232) is blue ($(fill idle))" blue "$(fill idle)"
check "diff DIR svg: w5 (new) is red ($(fill w5))" red "$(fill w5)"
"$FLAMED" diff "$D" --from 2026-12-05T00:00Z --vs-from 2026-12-04T03:00Z 2>"$T/bad.err" >/dev/null
check "diff DIR with an empty range: exit 1, explained" \
	test $? = 1 -a -n "$(grep 'no window starts at or after 2026-12-05' "$T/bad.err")"

# --- A real daemon's windows: the names, the pprof chosen, modes and rates -----------------
if ! need_root "a real daemon's windows"; then
	finish
	exit
fi
# windows_written LOG: windows the daemon logged as written.
windows_written() {
	grep -c ': [0-9]* samples\?, wrote' "$1" 2>/dev/null
}
at_least() {
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ] 2>/dev/null
}
L="$T/live"
"$FLAMED" --interval 1 --formats svg,folded,pprof --output-dir "$L" 2>"$T/live.err" &
fp=$!
check "daemon: 3 windows written" wait_until 60 at_least 3 windows_written "$T/live.err"
kill -TERM $fp
wait $fp
nw=$(ls "$L" | grep -cE '^flamed-[0-9]{8}T[0-9]{6}\.[0-9]{3}Z\.pb\.gz$')
"$FLAMED" render "$L" -o "$T/live.svg" 2>"$T/live.render.err"
check "daemon's windows: render DIR reads every one ($nw)" \
	grep -q "$nw windows, " <<<"$(subtitle "$T/live.svg")"
"$FLAMED" render "$L" -o "$T/live.folded"
# The pprof files are read (the richer), the folded ones hold the same counts; pprof has no
# Python frame kind, so _[p] is compared without its suffix.
sum_folded "$L"/flamed-*.folded | sed 's/_\[p\]//g' | LC_ALL=C sort >"$T/live.expect"
if sed 's/_\[p\]//g' "$T/live.folded" | LC_ALL=C sort | cmp -s - "$T/live.expect"; then
	ok "daemon's windows: merged counts equal the sum of the windows, stack by stack ($(total "$T/live.expect") samples)"
else
	fail "daemon's windows: merged counts differ from the windows' folded files"
	diff <(sed 's/_\[p\]//g' "$T/live.folded" | LC_ALL=C sort) "$T/live.expect" | head -n 5 | cut -c1-200
fi
check "daemon's windows: the subtitle has the rate (read from the pprof windows)" \
	grep -q ', 99 Hz, ' <<<"$(subtitle "$T/live.svg")"
first=$(ls "$L" | grep -E '^flamed-.*\.pb\.gz$' | sort | sed -n 2p)
iso=$(sed -E 's/^flamed-(....)(..)(..)T(..)(..)(..)\.(...)Z.*/\1-\2-\3T\4:\5:\6.\7Z/' <<<"$first")
"$FLAMED" render "$L" --from "$iso" -o "$T/live2.folded"
check "daemon's windows: --from the second window's start (${iso}) leaves the first out" \
	test "$(total "$T/live2.folded")" = \
	"$(total $(ls "$L"/flamed-*.folded | sort | tail -n +2))"

# Another rate in the same directory: refused, not summed; a range of one rate still works.
sleep 1
"$FLAMED" --interval 1 -F 49 --formats folded,pprof --output-dir "$L" 2>"$T/live49.err" &
fp=$!
check "daemon at 49 Hz: 1 window written" wait_until 60 at_least 1 windows_written "$T/live49.err"
kill -TERM $fp
wait $fp
"$FLAMED" render "$L" -o "$T/mixed.svg" 2>"$T/mixed.err"
check "windows at 99 and 49 Hz: exit 1" test $? = 1
check "windows at 99 and 49 Hz: refused, saying so" \
	grep -q "was sampled at 49 Hz, the windows before it (from .*) at 99 Hz: windows of different rates are not summed" "$T/mixed.err"
check "windows at 99 and 49 Hz: no output" test ! -e "$T/mixed.svg"
# The first window at 49 Hz, from the log.
s49=$(grep -oE 'wrote flamed-[0-9T]+\.[0-9]{3}Z' "$T/live49.err" | head -n 1 | sed 's/wrote //')
iso49=$(sed -E 's/^flamed-(....)(..)(..)T(..)(..)(..)\.(...)Z.*/\1-\2-\3T\4:\5:\6.\7Z/' <<<"$s49")
"$FLAMED" diff "$L" --from "$iso" --to "$iso49" --vs-to "$iso" -o "$T/d99.folded"
check "diff of two ranges at 99 Hz in a directory that also has 49 Hz windows: exit 0" test $? = 0
"$FLAMED" diff "$L" --from "$iso49" --vs-to "$iso" -o "$T/d49.folded" 2>"$T/d49.err"
check "diff of a 49 Hz range against a 99 Hz one: refused" \
	grep -q "the range compared against was sampled at 99 Hz, the other at 49 Hz" "$T/d49.err"
# An off-CPU profile among CPU windows (one-shot pprof named like a window).
"$FLAMED" --mode offcpu -d 1 -o "$T/off.pb.gz" 2>/dev/null
M="$T/modes"
mkdir -p "$M"
cp "$L/$first" "$M/"
cp "$T/off.pb.gz" "$M/$(stem $(($(date +%s%3N) + 1000))).pb.gz"
"$FLAMED" render "$M" -o "$T/modes.svg" 2>"$T/modes.err"
check "cpu and offcpu windows: exit 1" test $? = 1
check "cpu and offcpu windows: refused, saying so" \
	grep -q "is a window of mode offcpu, the windows before it (from .*) of mode cpu: windows of different modes" "$T/modes.err"
finish
