#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Settings parsed once (issue 13) and perf's habits (issue 21): every setting given as an option
# or as a config file line resolves to the same settings, a bad value is refused naming the key
# from either source, and -C, -a, -g, --call-graph and the SVG options do what they say.
. "$(dirname "$0")/lib.sh"

D="$T/out"
mkdir -p "$D"

# --- The same settings from the command line and from a config file ------------------------
# resolved FILE ARGS...: the resolved settings (--print-config) of a config file, or of the
# command line when FILE is "-".
resolved() {
	local f=$1
	shift
	if [ "$f" = - ]; then
		"$FLAMED" --print-config --output-dir "$D" "$@"
	else
		"$FLAMED" --print-config --config "$f" "$@"
	fi
}
resolved - >"$T/defaults" 2>"$T/defaults.err"
check "print-config: the defaults resolve" test -s "$T/defaults"
same=0
differ=
# Option, its value, and the key = value line of a config file that must mean the same.
while read -r opt val line; do
	printf 'output-dir = %s\n%s\n' "$D" "$line" >"$T/same.conf"
	chmod 600 "$T/same.conf"
	if [ "$val" = - ]; then set -- "$opt"; else set -- "$opt" "$val"; fi
	resolved - "$@" >"$T/a" 2>"$T/a.err"
	resolved "$T/same.conf" >"$T/b" 2>"$T/b.err"
	if [ -s "$T/a" ] && cmp -s "$T/a" "$T/b" && ! cmp -s "$T/a" "$T/defaults"; then
		same=$((same + 1))
	else
		differ="$differ [$opt $val | $line: $(diff "$T/a" "$T/b" | head -n 3 | tr '\n' ' ')$(head -c 200 "$T/a.err" "$T/b.err")]"
	fi
done <<'EOF'
-F 49 frequency = 49
--frequency 1000 frequency = 1000
--event cycles event = cycles
--include-idle - include-idle = true
--no-demangle - no-demangle = yes
--max-stacks 64 max-stacks = 64
--unwind fp unwind = fp
--call-graph fp unwind = fp
--call-graph dwarf,8192 call-graph = dwarf
--unwind-max-mb 16384 unwind-max-mb = 16384
--title T title = T
--debug-dir /usr/lib/debug debug-dir = /usr/lib/debug
--debuginfod off debuginfod = off
--debuginfod-urls http://localhost:1 debuginfod-urls = http://localhost:1
--debuginfod-timeout 600 debuginfod-timeout = 600
--lines - lines = true
--no-inline - no-inline = on
--no-params - no-params = 1
--perfmap-max-entries 1000 perfmap-max-entries = 1000
--perfmap-read-ms 60000 perfmap-read-ms = 60000
-a - all-cpus = true
-C 0 cpu = 0
--cpu 0-1 cpu = 0-1
--width 800 width = 800
--min-width 1% min-width = 1%
--colors aqua colors = aqua
--inverted - inverted = true
--reverse - reverse = true
--hash - hash = true
--font-size 18 font-size = 18
--frame-height 22 frame-height = 22
--notes N notes = N
--interval 5m interval = 300
--keep 0 keep = 0
--max-bytes 1G max-bytes = 1024M
--formats folded,svg formats = svg,folded
--symbol-cache-mb 8 symbol-cache-mb = 8
--push-url http://127.0.0.1:4040 push-url = http://127.0.0.1:4040
--push-api ingest push-api = ingest
--label env=ci label = env=ci
--listen 6060 listen = 6060
EOF
check "41 settings: an option and a config line resolve the same, and not to the defaults ($same)$differ" \
	test "$same" = 41 -a -z "$differ"

# A bad value: refused from both sources, the key named, the same expectation said.
bad_both() {
	local key=$1 val=$2 rc1 rc2
	"$FLAMED" --print-config --output-dir "$D" "--$key" "$val" >/dev/null 2>"$T/bad1.err"
	rc1=$?
	printf 'output-dir = %s\n%s = %s\n' "$D" "$key" "$val" >"$T/bad.conf"
	chmod 600 "$T/bad.conf"
	"$FLAMED" --print-config --config "$T/bad.conf" >/dev/null 2>"$T/bad2.err"
	rc2=$?
	local e1 e2
	e1=$(grep -o "expected .*" "$T/bad1.err")
	e2=$(grep -o "expected .*" "$T/bad2.err")
	check "bad $key '$val': refused from both, key named, same words ($(head -c 150 "$T/bad1.err"))" \
		test $rc1 != 0 -a $rc2 != 0 -a -n "$e1" -a "$e1" = "$e2" \
		-a -n "$(grep -F -- "invalid --$key '$val'" "$T/bad1.err")" \
		-a -n "$(grep -F -- "bad.conf:2: invalid value for $key" "$T/bad2.err")"
}
bad_both debuginfod-timeout 601
bad_both frequency 0
bad_both max-stacks 63
bad_both cpu 3-1
bad_both cpu all
bad_both call-graph lbr
bad_both width 99
bad_both min-width 101%
bad_both colors java
bad_both unwind none

# Issue 13's inconsistency: 0 (the default, 10 s) was refused as an option, accepted in a file.
resolved - --debuginfod-timeout 0 >"$T/a" 2>"$T/a.err"
check "debuginfod-timeout 0 accepted on the command line ($(head -c 150 "$T/a.err"))" \
	grep -qx 'debuginfod-timeout = "0"' "$T/a"
# The kernel's sample-rate limit holds for a value from the file too.
max=$(cat /proc/sys/kernel/perf_event_max_sample_rate)
printf 'output-dir = %s\nfrequency = %d\n' "$D" $((max + 1)) >"$T/rate.conf"
chmod 600 "$T/rate.conf"
"$FLAMED" --config "$T/rate.conf" 2>"$T/rate.err"
check "a config file's frequency above the kernel's limit is refused" \
	grep -q "frequency $((max + 1)) Hz is above the kernel's limit of $max Hz" "$T/rate.err"
"$FLAMED" -F $((max + 1)) -o "$T/rate.svg" 2>"$T/rate1.err"
check "and the same words on the command line" \
	grep -q "frequency $((max + 1)) Hz is above the kernel's limit of $max Hz" "$T/rate1.err"
# Command-line keys are none of a config file's.
printf 'output-dir = %s\npid = 1\n' "$D" >"$T/pid.conf"
chmod 600 "$T/pid.conf"
"$FLAMED" --print-config --config "$T/pid.conf" >/dev/null 2>"$T/pid.err"
check "pid in a config file: refused as a command-line option" \
	grep -q "pid.conf:2: pid is a command-line option" "$T/pid.err"
"$FLAMED" -a -p 1 -o "$T/ap.svg" 2>"$T/ap.err"
check "-a with --pid: refused" grep -q "takes no --pid" "$T/ap.err"

# --- perf habits, profiled -------------------------------------------------------------------
if need_root "profiling" && [ "$(nproc)" -ge 2 ]; then
	# Two copies of the chain workload under names of their own, one pinned to each CPU.
	C0="$T/cpu0chain$$"
	C1="$T/cpu1chain$$"
	cp "$WL/chain" "$C0"
	cp "$WL/chain" "$C1"
	N0=$(basename "$C0" | cut -c1-15)
	N1=$(basename "$C1" | cut -c1-15)
	taskset -c 0 "$C0" 120 &
	p0=$!
	taskset -c 1 "$C1" 120 &
	p1=$!
	"$FLAMED" -C 0 -d 5 -o "$T/c0.folded" 2>"$T/c0.err"
	check "-C 0: exits 0" test $? = 0
	s0=$(samples "$N0" "$T/c0.folded")
	s1=$(samples "$N1" "$T/c0.folded")
	echo "     -C 0: $s0 samples of the CPU 0 workload, $s1 of the CPU 1 one"
	check "-C 0: samples the workload pinned to CPU 0 ($s0)" test "$s0" -ge 10
	check "-C 0: none of the workload pinned to CPU 1 ($s1)" test "$s1" = 0
	"$FLAMED" --cpu 1 -d 5 -o "$T/c1.folded" 2>"$T/c1.err"
	s0=$(samples "$N0" "$T/c1.folded")
	s1=$(samples "$N1" "$T/c1.folded")
	check "--cpu 1: the other way round ($s1 vs $s0)" test "$s1" -ge 10 -a "$s0" = 0
	"$FLAMED" -C 7-9 -d 1 -o "$T/c9.folded" 2>"$T/c9.err"
	check "-C with CPUs that are not online: refused" \
		grep -q "of the list '7-9' is not online" "$T/c9.err"

	# --max-stacks auto (the default): room for every sample of 4 drains at the rate on every
	# CPU, a power of two of at least 4096; a number given is kept.
	n=$(nproc)
	want=4096
	while [ "$want" -lt $((999 * n * 4)) ]; do want=$((want * 2)); done
	"$FLAMED" -v -F 999 -d 1 -o "$T/ms.folded" 2>"$T/ms.err"
	check "--max-stacks auto at 999 Hz on $n CPUs: $want stacks a drain" \
		grep -q "stacks a drain can hold: $want (from the rate and CPUs)" "$T/ms.err"
	"$FLAMED" -v -F 99 --max-stacks 100 -d 1 -o "$T/ms2.folded" 2>"$T/ms2.err"
	check "--max-stacks 100 kept" grep -q "stacks a drain can hold: 100 (--max-stacks)" "$T/ms2.err"

	# -a with a command: the whole system until the command exits; without -a, the command only.
	check "the pinned workloads still run" kill -0 $p0 $p1
	"$FLAMED" -a -o "$T/a.folded" -- sleep 2 2>"$T/a.err"
	check "-a -- sleep 2: exits 0" test $? = 0
	sa=$(samples "$N1" "$T/a.folded")
	"$FLAMED" -o "$T/na.folded" -- sleep 2 2>"$T/na.err"
	sn=$(samples "$N1" "$T/na.folded")
	echo "     -a -- sleep 2: $sa samples of a running workload; without -a: $sn"
	check "-a -- COMMAND profiles the whole system while it runs ($sa)" test "$sa" -ge 10
	check "without -a only the command ($sn)" test "$sn" = 0
	kill $p0 $p1 2>/dev/null
	wait $p0 $p1 2>/dev/null

	# -g and --call-graph: perf's words, flamed's stacks.
	"$FLAMED" -g --call-graph dwarf,16384 -F 199 -o "$T/g.folded" -- "$WL/chain" 2 2>"$T/g.err"
	check "-g --call-graph dwarf,16384: exits 0 ($(head -c 200 "$T/g.err"))" test $? = 0
	pct=$(fraction chain ';main;a;b;c$' "$T/g.folded")
	check "-g: >= 90% of samples carry main;a;b;c ($pct%)" test "$pct" -ge 90

	# The SVG options in one-shot mode and in continuous mode.
	"$FLAMED" --width 800 --inverted --colors blue -o "$T/s.svg" -- "$WL/chain" 1 2>/dev/null
	check "one-shot --width 800: the SVG is 800 wide" grep -q '<svg [^>]* width="800"' "$T/s.svg"
	check "one-shot --inverted: an icicle graph" grep -q '<title>Icicle Graph</title>' "$T/s.svg"
	# The chain's own frames (main, a, b, c; kernel frames keep their kind's hue): blue.
	frame_colours() {
		python3 - "$1" <<'PY'
import re, sys
out = []
for name, c in re.findall(r'<title>(main|a|b|c) \([^<]*</title><rect [^>]*fill="#([0-9a-f]{6})"',
                          open(sys.argv[1]).read()):
    r, g, b = (int(c[i:i + 2], 16) for i in (0, 2, 4))
    out.append("%s:%s" % (name, "blue" if b > r + 0x30 and b > g + 0x30 else "not-blue"))
print(" ".join(sorted(set(out))))
PY
	}
	cols=$(frame_colours "$T/s.svg")
	check "one-shot --colors blue: the chain's frames are blue ($cols)" \
		test "$cols" = "a:blue b:blue c:blue main:blue"
	"$FLAMED" -o "$T/hot.svg" -- "$WL/chain" 1 2>/dev/null
	cols=$(frame_colours "$T/hot.svg")
	check "and without it, not ($cols)" test "$cols" = "a:not-blue b:not-blue c:not-blue main:not-blue"
	# The rest of flamed render's layout options, on the main command too.
	"$FLAMED" --font-size 18 --frame-height 22 --notes 'build <42> & more' --title 'web1 <cpu>' \
		-o "$T/lay.svg" \
		-- "$WL/chain" 1 2>/dev/null
	check "one-shot --font-size 18 --frame-height 22: frames 22 px high in 18 px type" \
		bash -c "xmllint --noout '$T/lay.svg' &&
			grep -q '<svg [^>]* data-fh=\"22\" [^>]*font-size=\"18\">' '$T/lay.svg'"
	check "one-shot --title: the SVG's title, escaped" \
		grep -q '<text id="title" [^>]*>web1 &lt;cpu&gt;</text>' "$T/lay.svg"
	check "one-shot --notes: kept, escaped, in the SVG's description" \
		grep -q '<desc id="notes">build &lt;42&gt; &amp; more</desc>' "$T/lay.svg"
	"$FLAMED" --font-size 3 -o "$T/bad.svg" -- "$WL/chain" 1 2>"$T/bad.err"
	check "--font-size 3: refused ($?), naming the range, nothing written" \
		bash -c "grep -q 'pixels from 4 to 200' '$T/bad.err' && test ! -e '$T/bad.svg'"
	printf 'output-dir = %s\nwidth = 640\ninverted = true\ninterval = 1\nframe-height = 20\n' \
		"$T/win" >"$T/svg.conf"
	chmod 600 "$T/svg.conf"
	mkdir -p "$T/win"
	"$FLAMED" --config "$T/svg.conf" -d 2.5 2>"$T/win.err"
	check "continuous: exits 0" test $? = 0
	w=$(ls "$T/win"/flamed-*.svg 2>/dev/null | head -n 1)
	check "continuous width = 640 from the config file: windows 640 wide" \
		grep -q '<svg [^>]* width="640"' "${w:-/nonexistent}"
	check "continuous inverted = true: icicle windows" \
		grep -q '<title>Icicle Graph</title>' "${w:-/nonexistent}"
	check "continuous frame-height = 20: windows' frames 20 px high" \
		grep -q 'data-fh="20"' "${w:-/nonexistent}"
fi

finish
