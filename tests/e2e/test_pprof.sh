#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# pprof output checked by Go's strict decoder (`go tool pprof`), and pprof input checked against
# profiles Go itself wrote. Needs build/unit-tests (its pprof hooks write and read the files) and
# the go tool (Debian golang-go); no root, no network.
#
#   tests/e2e/test_pprof.sh            the unit tests' fixture: exact names, counts and labels;
#                                      the fixture re-encoded by Go reads back the same; a Go
#                                      runtime CPU profile survives our reader and writer
#   tests/e2e/test_pprof.sh FILE       (or PPROF_FILE=FILE) a profile from elsewhere, e.g.
#                                      `flamed -o x.pb.gz`: it decodes, has the sample types and
#                                      process labels, and our reader and writer keep its -top.
#                                      EXPECT_FUNCS="f g" also requires those functions.
#
# The last line is "N passed, N failed, N skipped"; the exit status is non-zero when anything
# failed or no check ran. Without go the checks are a skip (a failure under CI=true).
set -u

BUILD=${BUILD:-build}
UNIT=${UNIT:-$BUILD/unit-tests}
FILE=${1:-${PPROF_FILE:-}}
passed=0
failed=0
skipped=0

pass() {
	echo "ok   $1"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL $1"
	[ -n "${2:-}" ] && sed 's/^/     | /' <<<"$2" | head -40
	failed=$((failed + 1))
}

finish() {
	[ $((passed + failed)) -eq 0 ] && fail "$(basename "$0"): no check ran"
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

# check NAME OUTPUT REGEX...: every extended regex must match some line of OUTPUT.
check() {
	local name=$1 out=$2 re
	shift 2
	for re in "$@"; do
		if ! grep -Eq -- "$re" <<<"$out"; then
			fail "$name" "missing /$re/ in:
$out"
			return
		fi
	done
	pass "$name"
}

if ! command -v go >/dev/null; then
	if [ "${CI:-}" = true ]; then
		fail "go not installed (apt-get install golang-go), and CI=true allows no skip"
	else
		echo "skip go not installed (apt-get install golang-go)"
		skipped=1
	fi
	finish
fi
if [ ! -x "$UNIT" ]; then
	fail "unit-test binary $UNIT exists (make build/unit-tests)"
	finish
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# go wants a home and a build cache; keep both out of the real ones.
export HOME=$tmp/home GOCACHE=$tmp/gocache GOFLAGS= GO111MODULE=off
mkdir -p "$HOME"

pp() {
	go tool pprof -symbolize=none "$@" 2>&1
}

# The flat/cum table of -top, without the header (which names files and times).
top_table() {
	pp -sample_index=samples -top -nodecount=100000 "$1" | sed -n '/flat%/,$p'
}

# Our reader then our writer must leave `go tool pprof -top` unchanged.
check_reencode() {
	local name=$1 in=$2 out=$tmp/reencoded.pb.gz msg
	if ! msg=$(FLAMED_PPROF_CONVERT="$in:$out" "$UNIT" pprof_e2e_hooks 2>&1); then
		fail "$name" "$msg"
		return
	fi
	if diff <(top_table "$in") <(top_table "$out") >"$tmp/diff"; then
		pass "$name"
	else
		fail "$name" "$(cat "$tmp/diff")"
	fi
}

if [ -n "$FILE" ]; then	# no else: FILE given is a mode of this script (a file to check)
	raw=$(pp -raw "$FILE")
	rc=$?
	if [ $rc -eq 0 ]; then pass "go tool pprof -raw decodes $FILE"; else fail "go tool pprof -raw decodes $FILE" "$raw"; fi
	check "sample types and period" "$raw" '^samples/count( cpu/nanoseconds)?$'
	top=$(pp -sample_index=samples -top -nodecount=100000 "$FILE")
	check "top has samples" "$top" 'Total samples = [1-9]' '^ +[0-9]+ +[0-9.]+% '
	check "process labels decode (-tags)" "$(pp -tags "$FILE")" '^ process: Total'
	for fn in ${EXPECT_FUNCS:-}; do
		check "function $fn present" "$top" " $fn( \(inline\))?\$"
	done
	check_reencode "our reader and writer keep -top" "$FILE"
	finish
fi

# 1. Our writer, read by Go: the fixture of tests/unit/render/test_pprof.c.
fix=$tmp/fixture.pb.gz
if msg=$(FLAMED_PPROF_FIXTURE=$fix "$UNIT" pprof_e2e_hooks 2>&1) && [ -s "$fix" ]; then
	pass "fixture written"
else
	fail "fixture written" "$msg"
	finish
fi

raw=$(pp -raw "$fix")
if [ $? -eq 0 ]; then pass "go tool pprof -raw decodes the fixture"; else fail "go tool pprof -raw decodes the fixture" "$raw"; fi
check "raw: types, period, times, comments" "$raw" \
	'^samples/count cpu/nanoseconds$' '^PeriodType: cpu nanoseconds$' '^Period: 10101010$' \
	'^Time: 2023-11-14 22:13:20.123456789' '^Duration: 10s$' '^Comment: host: testhost$' \
	'^Comment: mode: system-wide$' '^Comment: lost samples \(drain\): 4$'
check "raw: merged sample values" "$raw" '^ +100 1010101000: ' '^ +25 +252525250: ' '^ +3 +30303030: '
check "raw: mappings with build id, kernel mapping made up" "$raw" \
	'^1: 0x400000/0x500000/0x0 /usr/bin/flamed-test 0123456789abcdef0123456789abcdef01234567 \[FN\]\[IN\]$' \
	'^2: 0x0/0x0/0x0 \[kernel.kallsyms\] +\[FN\]$'
check "raw: inlined callee first in its location" "$raw" '^ +[0-9]+: 0x401100 M=1 square ' '^ +compute :0'

top=$(pp -sample_index=samples -top "$fix")
check "top: flat and cum counts" "$top" \
	'^ +100 +74.63% +74.63% +100 +74.63%  hot_loop$' \
	'^ +25 .* 25 +18.66%  __x64_sys_write$' \
	'^ +1 .* 101 +75.37%  compute$' \
	'^ +0 .* 126 +94.03%  main$' \
	'^ +0 .* 100 +74.63%  square \(inline\)$' \
	'^ +3 .* 3 +2.24%  folded_kernel$' \
	'Total samples = 134'
check "top: cpu time from the period" "$(pp -top "$fix")" '^ +1.01s +74.63%.* hot_loop$' \
	'Total samples = 1.35s'

traces=$(pp -traces "$fix")
check "traces: stacks leaf first, labels" "$traces" '^ +thread: +calc$' '^ +process: +worker-app$' \
	'^ +pid: +4242$' '^ +process: +bash$' '^ +pid: +777$'
if tr -s ' ' <<<"$traces" | tr '\n' '|' |
	grep -q '1.01s hot_loop| square (inline)| compute| main|' &&
	tr -s ' ' <<<"$traces" | tr '\n' '|' |
	grep -q 'ms __x64_sys_write| do_syscall_64| entry_SYSCALL_64| write_out| main|'; then
	pass "traces: frame order"
else
	fail "traces: frame order" "$traces"
fi

tags=$(pp -sample_index=samples -tags "$fix")
check "tags: process, pid, thread labels" "$tags" \
	'^ process: Total 131.0$' '126.0 \(96.18%\): worker-app$' '5.0 \( 3.82%\): bash$' \
	'^ pid: Total 131.0$' '126.0 \(96.18%\): 4242$' '5.0 \( 3.82%\): 777$' \
	'^ thread: Total 126.0$' '101.0 \(80.16%\): calc$' '25.0 \(19.84%\): io$'

# 2. Go's writer, read by us: the fixture re-encoded by pprof must read back as the fixture.
goenc=$tmp/go-encoded.pb.gz
if pp -proto -output "$goenc" "$fix" >/dev/null && [ -s "$goenc" ] &&
	msg=$(FLAMED_PPROF_REREAD=$goenc "$UNIT" pprof_e2e_hooks 2>&1); then
	pass "fixture re-encoded by Go reads back the same"
else
	fail "fixture re-encoded by Go reads back the same" "${msg:-go tool pprof -proto failed}"
fi

# 3. A real Go runtime CPU profile (inlined frames, Go's ids and mappings) through our reader
# and writer: go tool pprof must show the same table.
mkdir -p "$tmp/gocpu"
cat >"$tmp/gocpu/main.go" <<'EOF'
package main

import (
	"os"
	"runtime/pprof"
	"time"
)

//go:noinline
func spin(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += i * i % 7
	}
	return s
}

// Small enough to be inlined into work.
func inlined(n int) int { return spin(n) + 1 }

//go:noinline
func work(n int) int { return inlined(n) }

var sink int

func main() {
	f, err := os.Create(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		sink += work(100000)
	}
	pprof.StopCPUProfile()
	f.Close()
}
EOF
gocpu=$tmp/gocpu.pb.gz
if msg=$(cd "$tmp/gocpu" && go build -o cpu main.go 2>&1 && ./cpu "$gocpu" 2>&1) && [ -s "$gocpu" ]; then
	pass "Go CPU profile recorded"
	check "Go CPU profile has an inlined frame" "$(top_table "$gocpu")" 'main.inlined \(inline\)$' \
		'main.spin$'
	check_reencode "Go CPU profile through our reader and writer keeps -top" "$gocpu"
else
	fail "Go CPU profile recorded" "$msg"
fi

finish
