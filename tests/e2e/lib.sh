# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the end-to-end tests: ok/fail counting, root checks, temp dirs.
# Each test script sources this, calls check/ok/fail, and ends with `finish`.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
FLAMED="$BUILD/flamed"
WL="$BUILD/workloads"
T=$(mktemp -d /tmp/flamed-test.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0
SKIPPED=0

ok() { PASSED=$((PASSED + 1)); echo "ok   $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
# skip NAME: a check that did not run. Counted and reported as a skip, never as a pass; under
# CI=true a skip is a failure (CI has every tool and runs as root, so nothing may be skipped).
skip() {
	if [ "${CI:-}" = true ]; then
		fail "$* (skipped, and CI=true allows no skip)"
	else
		SKIPPED=$((SKIPPED + 1))
		echo "skip $*"
	fi
}
# check NAME CMD...: runs CMD, ok if it succeeds.
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}
# Privileged tests: skipping is only allowed outside CI.
need_root() {
	if [ "$(id -u)" != 0 ]; then
		skip "$1: needs root"
		return 1
	fi
	return 0
}
# need_tool NAME TOOL...: succeeds when every TOOL is on PATH; otherwise the checks of NAME are
# a skip (a failure under CI=true) naming what is missing. Use as: need_tool "go checks" go && {...}
need_tool() {
	local name=$1 t missing=
	shift
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -z "$missing" ] && return 0
	skip "$name: missing$missing"
	return 1
}
# wait_for FILE PATTERN [SECS]: polls until FILE has a line matching PATTERN (default 60 s:
# generous, since a verdict that holds returns at once).
# The deadline is in seconds of the clock, not in rounds: on a busy machine a round of the
# poll takes longer than its sleep, and a count of rounds would stretch the deadline many times.
wait_for() {
	wait_until "${3:-60}" grep -q -- "$2" "$1" 2>/dev/null
}
# wait_until SECS CMD...: polls until CMD succeeds, for at most SECS seconds (one last try at
# the deadline).
wait_until() {
	local end=$((SECONDS + $1 + 1))
	shift
	while [ "$SECONDS" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}
# finish: the result line the runner sums. A script that ran no check at all has failed.
finish() {
	if [ $((PASSED + FAILED)) = 0 ]; then
		fail "$(basename "$0"): no check ran"
	fi
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" = 0 ]
}

# fraction PROCESS PATTERN FILE [all]: percentage of PROCESS's samples (folded FILE) whose
# user part of the stack (kernel _[k] frames removed, unless "all") matches the awk regex PATTERN.
fraction() {
	awk -v proc="$1" -v pat="$2" -v all="${4:-}" -v within="${5:-}" '
		{
			n = $NF
			stack = substr($0, 1, length($0) - length(n) - 1)
			if (all != "all")
				gsub(/;[^;]*_\[k\]/, "", stack)
		}
		index(stack, proc ";") == 1 && (within == "" || stack ~ within) {
			total += n
			if (stack ~ pat)
				hit += n
		}
		END { if (total == 0) print 0; else printf "%d\n", 100 * hit / total }' "$3"
}
# fraction_within PROCESS WITHIN PATTERN FILE: the same, of the samples whose stack matches
# WITHIN only (the share of the leaf's samples whose chain is whole, say: samples elsewhere,
# in start-up or a system call, are not the unwinder's to judge).
fraction_within() {
	fraction "$1" "$3" "$4" "" "$2"
}
# samples PROCESS FILE: samples of PROCESS in a folded FILE.
samples() {
	awk -v proc="$1" 'index($0, proc ";") == 1 { t += $NF } END { print t + 0 }' "$2"
}
# cpu_ticks PID: user + system CPU time of a process so far, in clock ticks.
cpu_ticks() {
	awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}
# ticks_at_least PID N: the process has used at least N clock ticks of CPU (false once it is
# gone); for wait_until, which must re-read the count at every try.
ticks_at_least() {
	local t
	t=$(cpu_ticks "$1" 2>/dev/null) && [ -n "$t" ] && [ "$t" -ge "$2" ]
}
# settled PID: the process used at most a tenth of a CPU over the last half second (its
# work done), for wait_until; false once it is gone.
settled() {
	local a b
	a=$(cpu_ticks "$1" 2>/dev/null) || return 1
	sleep 0.5 # the span over which its CPU time is compared
	b=$(cpu_ticks "$1" 2>/dev/null) || return 1
	[ -n "$a" ] && [ -n "$b" ] && [ $((b - a)) -le 5 ]
}

# free_port: a loopback TCP port nobody listens on now.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# pyenv_python MINOR: the newest pyenv CPython 3.MINOR's interpreter, or nothing.
pyenv_python() {
	ls -d "$(pyenv root 2>/dev/null)"/versions/3."$1".*/bin/python3."$1" 2>/dev/null | tail -1
}

# patch_symbol FILE SYMBOL HEXBYTES: overwrites, in FILE, the bytes at the address of its
# dynamic symbol SYMBOL (a runtime's version: ruby_version, PL_version) with HEXBYTES, through
# the loadable segment that holds it. Fails when the symbol or its segment is not there.
patch_symbol() {
	python3 - "$1" "$2" "$3" <<'EOF_PATCH'
import subprocess, sys
path, sym, data = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
addr = None
for line in subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True,
                           text=True, check=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3 and f[2] == sym:
        addr = int(f[0], 16)
if addr is None:
    sys.exit(f"{path}: no dynamic symbol {sym}")
for line in subprocess.run(["readelf", "-lW", path], capture_output=True, text=True,
                           check=True).stdout.splitlines():
    f = line.split()
    if f and f[0] == "LOAD":
        off, va, fsz = int(f[1], 16), int(f[2], 16), int(f[4], 16)
        if va <= addr < va + fsz:
            with open(path, "r+b") as fh:
                fh.seek(off + addr - va)
                fh.write(data)
            sys.exit(0)
sys.exit(f"{path}: {sym} in no loadable segment")
EOF_PATCH
}

# svg_hue_check SVG SCRIPT LANG MIN RMIN RMAX GMIN GMAX BMIN BMAX: every frame of SCRIPT in SVG
# ("name (SCRIPT) (...)"), at least MIN of them, is filled in LANG's hue, the colour ranges of
# src/render/svg.c's HUE_*FRAME.
svg_hue_check() {
	local svg=$1 script=$2 lang=$3 min=$4
	shift 4
	check "SVG: every $script frame filled in the $lang hue" python3 -c '
import re, sys
svg, script, least = sys.argv[1], sys.argv[2], int(sys.argv[3])
lim = [int(x) for x in sys.argv[4:10]]
fills = re.findall(r"<title>[^<]*\(" + re.escape(script) + r"\) \([^<]*</title><rect [^>]*fill=\"#(\w{6})\"",
		   open(svg).read())
ok = lambda c: all(lim[2 * i] <= int(c[2 * i:2 * i + 2], 16) <= lim[2 * i + 1] for i in range(3))
print("     %d %s frames, fills %s" % (len(fills), script, " ".join(sorted(set(fills))[:6])))
sys.exit(0 if len(fills) >= least and all(ok(c) for c in fills) else 1)' "$svg" "$script" "$min" "$@"
}

# heaviest_misses FILE [CHAIN]: after a failed chain check, the heaviest stacks of FILE (those
# not holding the fixed string CHAIN, when given), to tell what took the rest: their last 400
# characters, where the leaf and the runtimes' frames are.
heaviest_misses() {
	if [ -n "${2:-}" ]; then grep -vF -- "$2" "$1"; else cat "$1"; fi |
		awk '{ n = length($0); print $NF, substr($0, n > 400 ? n - 399 : 1) }' | sort -nr |
		head -6 | sed 's/^/     miss /'
}

# short_script_checks FILE SCRIPT CHAIN UNNAMED LANG NOUN [BAR] [RUNNING]: a script shorter than
# a drain (tests of the new_stacks announcement): BAR % (90) of the samples running SCRIPT's code
# (a frame "(SCRIPT", or the text RUNNING when given, or an unnamed one) hold CHAIN (its frames
# with their suffixes, joined by ';'), and at most 5 % of all samples an unnamed LANG frame
# (starting with UNNAMED). Judged on the samples the runtime's frames were emitted for: a
# process's first instants, before its tables are loaded, have none, and on a busy machine that
# was half of a 0.4 s script (CI, stop 29); the interpreter's own start-up code (rubygems,
# importlib, Perl's compilation: RUNNING) is not the script's running.
short_script_checks() {
	local file=$1 script=$2 chain=$3 un=$4 lang=$5 noun=$6 bar=${7:-90} c rt u t
	read -r c rt u t < <(awk -v own="${8:-($script}" -v chain="$chain" -v un="$un" '
		{ n = $NF; t += n }
		index($0, own) || index($0, un) { rt += n }
		index($0, chain) { c += n }
		index($0, un) { u += n }
		END { print c + 0, rt + 0, u + 0, t + 0 }' "$file")
	check "script shorter than a drain: >= $bar% of the samples running $script hold the chain named ($c/$rt)" \
		test "$rt" -ge 30 -a $((c * 100)) -ge $((rt * bar))
	check "script shorter than a drain: <= 5% with an unnamed $noun ($u of $t)" \
		test "$t" -ge 30 -a $((u * 100)) -le $((t * 5))
}
