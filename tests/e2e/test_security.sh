#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Hostile input and least privilege, end to end (docs/SECURITY.md lists what each part proves):
# hostile symbol and process names profiled for real, capabilities after attach, set-uid
# refused, output paths (planted symlinks, modes, SIGKILL at any moment, full disk), maps full,
# a binary replaced and a library truncated mid-run.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"; }
# status_hex PID KEY: a hex field of /proc/PID/status (CapEff, ...), as a number.
status_hex() { echo $((16#$(awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"))); }
status_val() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

if ! need_root "security"; then
	finish
	exit $?
fi
# Other users must reach the test directory (set-uid and nobody's files below).
chmod 711 "$T"

# --- hostile names --------------------------------------------------------------------------
"$FLAMED" -F 499 -o "$T/h.folded" -- "$WL/hostile" 1.5 2>"$T/h.err"
check "hostile: folded written" test -s "$T/h.folded"
check "hostile folded: one 'stack COUNT' per line" \
	bash -c "! LC_ALL=C grep -qvE '^[^ ].* [0-9]+\$' '$T/h.folded'"
check "hostile folded: markup symbol kept as one frame" \
	grep -qF ';</text><script>alert(1)</script> ' "$T/h.folded"
check "hostile folded: ';' in a symbol does not split it" grep -qF ';semi:colon frame 42 ' "$T/h.folded"
check "hostile folded: newline and CR in a symbol do not break the line" \
	grep -qF ';new?line?return ' "$T/h.folded"
check "hostile folded: process '<b>&amp;x;y'" grep -qF '<b>&amp:x:y;' "$T/h.folded"
check "hostile folded: process with a newline and a tab" grep -q '^new?line?tab;' "$T/h.folded"
check "hostile folded: process with invalid UTF-8 kept as bytes" \
	bash -c "LC_ALL=C grep -q \$'^\\xff\\xfe\\xc3(bad;' '$T/h.folded'"

"$FLAMED" -F 499 -o "$T/h.svg" -- "$WL/hostile" 1.5 2>/dev/null
"$FLAMED" -F 99 -o "$T/benign.svg" -- "$WL/chain" 0.5 2>/dev/null
check "hostile svg: well-formed XML (xmllint)" xmllint --noout "$T/h.svg"
# Parsed as XML: the names are there as text, and the document has no script or event handler
# a benign profile does not have.
cat >"$T/inert.py" <<'PY'
import sys, xml.etree.ElementTree as ET
def scan(path):
    root = ET.parse(path).getroot()
    scripts, handlers, texts = [], set(), []
    for el in root.iter():
        tag = el.tag.split('}')[-1]
        if tag == 'script':
            scripts.append(el.text or '')
        handlers |= {a for a in el.attrib if a.lower().startswith('on')}
        texts.append(el.text or '')
        texts.extend(el.attrib.values())
    return scripts, handlers, texts
hs, hh, ht = scan(sys.argv[1])
bs, bh, _ = scan(sys.argv[2])
bad = []
if len(hs) != len(bs):
    bad.append('%d script elements, a benign profile has %d' % (len(hs), len(bs)))
if any('alert(1)' in s or 'data-pwned' in s for s in hs):
    bad.append('a name reached a script element')
if hh - bh:
    bad.append('event handlers %s' % sorted(hh - bh))
for want in ['</text><script>alert(1)</script>', "setAttribute('data-pwned','1')</script>",
             'x" onload="document', '<b>&amp;x']:
    if not any(want in t for t in ht):
        bad.append('name %r not shown' % want)
print('; '.join(bad) or 'inert')
sys.exit(1 if bad else 0)
PY
if python3 "$T/inert.py" "$T/h.svg" "$T/benign.svg" >"$T/inert.out" 2>&1; then
	ok "hostile svg: names are text, no script or handler added"
else
	fail "hostile svg: $(tail -n 1 "$T/inert.out")"
fi
if need_tool "hostile svg in chromium" chromium; then
	CHROMIUM=$(command -v chromium)
	# A real browser: a name that ran would have set data-pwned on the document element.
	pdir=$(mktemp -d /tmp/flamed-chromium.XXXXXX)
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--user-data-dir="$pdir" --virtual-time-budget=3000 --dump-dom "file://$T/h.svg" \
		>"$T/h.dom" 2>/dev/null
	rm -rf "$pdir"
	check "hostile svg in chromium: loads" grep -q '<svg' "$T/h.dom"
	check "hostile svg in chromium: no name ran (no data-pwned)" \
		bash -c "! grep -qE 'data-pwned=\"[12]\"' '$T/h.dom'"
fi
if need_tool "hostile pprof" go; then
	"$FLAMED" -F 499 -o "$T/h.pb.gz" -- "$WL/hostile" 1 2>/dev/null
	go tool pprof -symbolize=none -raw "$T/h.pb.gz" >"$T/h.raw" 2>&1
	check "hostile pprof: go tool pprof decodes it, names intact" \
		grep -qF '</text><script>alert(1)</script>' "$T/h.raw"
fi

# --- capabilities ---------------------------------------------------------------------------
# Kept after attach: dac_read_search (2), sys_ptrace (19), syslog (34), checkpoint_restore (40),
# bpf (39) before Linux 6.5; dac_override (1) only for an output directory root cannot write
# as its owner.
want=$(((1 << 2) | (1 << 19) | (1 << 34) | (1 << 40)))
IFS=. read -r kmaj kmin _ <<<"$(uname -r)"
if [ "$kmaj" -lt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -lt 5 ]; }; then
	want=$((want | (1 << 39)))
fi
wait_dropped() {
	local i
	# Attaching takes long on a busy machine: 30 s, polled every 0.05 s.
	for i in $(seq 600); do
		[ "$(status_val "$1" NoNewPrivs 2>/dev/null)" = 1 ] && return 0
		sleep 0.05
	done
	return 1
}
"$FLAMED" -v -d 3 -o "$T/caps.folded" 2>"$T/caps.err" &
fp=$!
if wait_dropped $fp; then
	ok "one-shot: no_new_privs once attached"
	eff=$(status_hex $fp CapEff)
	printf '     one-shot: CapEff %x CapPrm %x CapBnd %x (want %x)\n' "$eff" \
		"$(status_hex $fp CapPrm)" "$(status_hex $fp CapBnd)" "$want"
	check "one-shot: effective = kept set only" test "$eff" = "$want"
	check "one-shot: permitted = kept set only" test "$(status_hex $fp CapPrm)" = "$want"
	check "one-shot: bounding set = kept set only" test "$(status_hex $fp CapBnd)" = "$want"
	check "one-shot: nothing inheritable or ambient" \
		test "$(status_hex $fp CapInh)" = 0 -a "$(status_hex $fp CapAmb)" = 0
	# The unwind-table chunk maker (src/service/mapmaker.c): a child with CAP_BPF alone.
	mk=$(pgrep -P $fp | head -n 1)
	check "one-shot: the chunk maker holds CAP_BPF alone (${mk:-none}: $(printf %x "$(status_hex "${mk:-0}" CapEff 2>/dev/null || echo 0)"))" \
		test -n "$mk" -a "$(status_hex "${mk:-0}" CapEff 2>/dev/null)" = $((1 << 39)) -a \
		"$(status_hex "${mk:-0}" CapBnd 2>/dev/null)" = $((1 << 39))
	check "one-shot: the chunk maker has no_new_privs" \
		test "$(status_val "${mk:-0}" NoNewPrivs 2>/dev/null)" = 1
else
	fail "one-shot: capabilities not dropped within 30 s"
fi
wait $fp
check "one-shot: exits 0 without them, output written" test $? = 0 -a -s "$T/caps.folded"
check "one-shot: kernel frames still named (cap_syslog kept)" grep -q '_\[k\]' "$T/caps.folded"
check "one-shot: says what it kept" grep -q 'capabilities dropped; kept:' "$T/caps.err"

# The command keeps root's capabilities: it was started before the drop, by design.
"$FLAMED" -o "$T/cmd.folded" -- sh -c "grep CapEff /proc/self/status >'$T/cmd.caps'" 2>/dev/null
check "command mode: the command itself keeps its capabilities" \
	bash -c "[ \$((16#\$(awk '{print \$2}' '$T/cmd.caps'))) -gt $want ]"

# An output directory owned by someone else (sudo flamed -o ~user/x.svg): dac_override kept.
mkdir "$T/userdir"
chown $NOBODY:$NOBODY "$T/userdir"
"$FLAMED" -d 2 -o "$T/userdir/u.folded" 2>/dev/null &
fp=$!
if wait_dropped $fp; then
	check "other user's output dir: cap_dac_override kept for it" \
		test "$(status_hex $fp CapEff)" = $((want | (1 << 1)))
else
	fail "other user's output dir: capabilities not dropped within 30 s"
fi
wait $fp
check "other user's output dir: output written" test -s "$T/userdir/u.folded"

mkdir "$T/daemon"
"$FLAMED" --output-dir "$T/daemon" --interval 1 --formats folded 2>/dev/null &
fp=$!
if wait_dropped $fp; then
	check "daemon: effective = kept set only" test "$(status_hex $fp CapEff)" = "$want"
else
	fail "daemon: capabilities not dropped within 30 s"
fi
check "daemon: windows written without capabilities" \
	wait_until 30 bash -c "ls '$T/daemon'/flamed-*.folded >/dev/null 2>&1"
kill -TERM $fp
wait $fp
check "daemon: exits 0" test $? = 0

# --- set-uid refused ------------------------------------------------------------------------
mkdir "$T/suid"
chmod 755 "$T/suid"
cp "$FLAMED" "$T/suid/flamed"
chmod 4755 "$T/suid/flamed"
if as_nobody "$T/suid/flamed" --version >"$T/suid.out" 2>"$T/suid.err"; then
	fail "set-uid root copy run by nobody: refused"
else
	ok "set-uid root copy run by nobody: refused"
fi
check "set-uid: says why" grep -q 'refuses to run set-uid' "$T/suid.err"
chmod 0755 "$T/suid/flamed"
if as_nobody "$T/suid/flamed" --version >/dev/null; then
	ok "the same copy without the bit runs for nobody"
else
	fail "the same copy without the bit runs for nobody"
fi

# --- output paths ---------------------------------------------------------------------------
# A shared sticky directory where another user planted the output name as a symlink.
mkdir "$T/shared"
chmod 1777 "$T/shared"
echo precious >"$T/victim"
as_nobody ln -s "$T/victim" "$T/shared/out.folded"
check "planted symlink: planted, by nobody" \
	test -L "$T/shared/out.folded" -a "$(stat -c %u "$T/shared/out.folded")" = $NOBODY
"$FLAMED" -d 0.5 -o "$T/shared/out.folded" 2>"$T/shared.err"
check "planted symlink: flamed succeeds" test $? = 0
check "planted symlink: its target is untouched" grep -qx precious "$T/victim"
check "planted symlink: replaced by a regular file" test -f "$T/shared/out.folded" -a ! -L "$T/shared/out.folded"
check "output mode 0640 owned by root" test "$(stat -c '%a %u' "$T/shared/out.folded")" = "640 0"
(umask 0 && "$FLAMED" -d 0.3 -o "$T/umask0.folded" 2>/dev/null)
check "output mode 0640 whatever the umask (0)" test "$(stat -c %a "$T/umask0.folded")" = 640

# SIGKILL at any moment: while profiling, and right after SIGINT (symbolizing, rendering,
# writing). The directory must then be empty, or hold the whole profile and nothing else.
"$WL/chain" 30 &
busy=$!
mkdir "$T/kill"
partial=0
for delay in 0 0.02 0.05 0.1 0.2 0.3 0.5 0.8 1.2; do
	"$FLAMED" -F 999 -o "$T/kill/out.svg" 2>/dev/null &
	fp=$!
	sleep 1	# kills at points of the write that follows SIGINT: the delays are the test
	kill -INT $fp
	sleep "$delay"	# the point of the kill
	kill -KILL $fp 2>/dev/null
	wait $fp 2>/dev/null
	files=$(ls -A "$T/kill")
	if [ -n "$files" ] && { [ "$files" != out.svg ] || ! xmllint --noout "$T/kill/out.svg" 2>/dev/null; }; then
		partial=$((partial + 1))
		echo "     after SIGKILL at +${delay}s: $files"
	fi
	rm -f "$T/kill"/* "$T/kill"/.[!.]* 2>/dev/null
done
kill $busy 2>/dev/null
wait $busy 2>/dev/null
check "SIGKILL at 9 moments: never a partial or temp file" test "$partial" = 0

# A full disk: a clear error, a non-zero exit, nothing left on it.
mkdir "$T/full"
# One page: smaller than any SVG (its script alone is larger), whatever was sampled.
if mount -t tmpfs -o size=4k tmpfs "$T/full" 2>/dev/null; then
	"$FLAMED" -d 1 -o "$T/full/out.svg" 2>"$T/full.err"
	rc=$?
	check "full disk: non-zero exit" test "$rc" != 0
	check "full disk: says so" grep -q 'No space left on device' "$T/full.err"
	check "full disk: nothing left behind" test -z "$(ls -A "$T/full")"
	umount "$T/full"
else
	skip "full disk: cannot mount a tmpfs"
fi

# --- faults ---------------------------------------------------------------------------------
# In-kernel maps far too small for the stacks: losses counted and reported, never silent.
"$FLAMED" -F 999 --max-stacks 64 -o "$T/small.svg" -- "$WL/manystacks" 1.5 2>"$T/small.err"
check "maps full: exits 0" test $? = 0
n=$(sed -nE 's/.*counts_map_full ([0-9]+).*/\1/p' "$T/small.err")
echo "     --max-stacks 64: $(grep -o 'lost or incomplete.*' "$T/small.err")"
check "maps full: counts_map_full losses reported (${n:-none})" test "${n:-0}" -gt 0
check "maps full: SVG well-formed, losses in its subtitle" \
	bash -c "xmllint --noout '$T/small.svg' && grep -q 'counts_map_full' '$T/small.svg'"

# A binary replaced (renamed over) while it runs: its samples still named from the mapped file.
mkdir "$T/bin"
cp "$WL/chain" "$T/bin/chain"
# It outlives the profile whatever the load (killed below): once it has exited, its mapping can
# only be found by path, and that path now names another file.
"$T/bin/chain" 60 &
victim=$!
"$FLAMED" -v -F 299 -p $victim -d 3 -o "$T/replaced.folded" 2>"$T/replaced.err" &
fp=$!
# Replaced once flamed has seen the mapping (it is profiling), not after a guessed delay.
check "binary replaced mid-run: profiling started" wait_for "$T/replaced.err" "profiling" 30
sleep 0.5	# some samples of the old binary before it is replaced: not a verdict
cp "$WL/sys" "$T/bin/chain.new"
mv -f "$T/bin/chain.new" "$T/bin/chain"
wait $fp
check "binary replaced mid-run: exits 0" test $? = 0
pct=$(fraction chain ';main;a;b;c$' "$T/replaced.folded")
check "binary replaced mid-run: still named from the old file ($pct% main;a;b;c)" test "$pct" -ge 80
kill $victim 2>/dev/null
wait $victim 2>/dev/null

# A user's library truncated while the daemon holds its symbols: it used to die of SIGBUS.
mkdir "$T/lib"
cat >"$T/lib/hot.c" <<'EOF'
static inline __attribute__((always_inline)) unsigned step(unsigned x) { return x * 1103515245u + 12345u; }
__attribute__((noinline)) unsigned hot(unsigned x) { for (int i = 0; i < 100000; i++) x = step(x); return x; }
EOF
printf 'unsigned hot(unsigned);\nint main(void) { unsigned x = 1; for (;;) x = hot(x); return x; }\n' \
	>"$T/lib/main.c"
gcc -O2 -g -fPIC -shared "$T/lib/hot.c" -o "$T/lib/libhot.so" &&
	gcc -O2 -g "$T/lib/main.c" -L"$T/lib" -lhot -Wl,-rpath,"$T/lib" -o "$T/lib/prog"
chown -R $NOBODY:$NOBODY "$T/lib"
mkdir "$T/trunc"
"$FLAMED" --output-dir "$T/trunc" --interval 0.5 --formats folded 2>"$T/trunc.err" &
fp=$!
check "library truncated: daemon started" wait_for "$T/trunc.err" "profiling the whole system" 30
# Its own SIGBUS, once truncated, is expected: disowned, so bash does not report it.
"$T/lib/prog" &
victim=$!
disown $victim
# Truncated once a window has named its samples (the daemon holds the library's symbols).
check "library truncated: its samples were named before" \
	wait_until 30 bash -c "cat '$T/trunc'/flamed-*.folded 2>/dev/null | grep -q '^prog;.*;hot'"
as_nobody truncate -s 0 "$T/lib/libhot.so"
# The daemon touches the library's symbols again when it names the next windows: two more
# windows closed (or the daemon gone) decide, not a guessed delay.
windows() { ls "$T/trunc" | grep -c '^flamed-.*\.folded$'; }
n0=$(windows)
wait_until 30 bash -c "[ \$(ls '$T/trunc' | grep -c '^flamed-.*\.folded\$') -ge $((n0 + 2)) ] || ! kill -0 $fp"
kill $victim 2>/dev/null
if kill -0 $fp 2>/dev/null; then
	ok "library truncated under the daemon: still running"
	kill -TERM $fp
	wait $fp
	check "library truncated: daemon exits 0" test $? = 0
else
	wait $fp
	fail "library truncated under the daemon: died (status $?)"
fi

finish
