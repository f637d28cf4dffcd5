#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: profile real workloads with known call chains and check what flamed wrote.
. "$(dirname "$0")/lib.sh"

if need_root "profiling"; then
	# Command mode: main -> a -> b -> c, built with frame pointers (leaf frames kept).
	# /usr/bin/time reports the chain's own CPU time: on a busy machine it gets less than 2 s.
	"$FLAMED" -F 499 -o "$T/chain.folded" -- /usr/bin/time -f "%U %S" -o "$T/chain.cpu" \
		"$WL/chain" 2 2>"$T/chain.err"
	check "command mode exits 0" test $? = 0
	check "command mode writes folded stacks" test -s "$T/chain.folded"
	pct=$(fraction chain ';main;a;b;c$' "$T/chain.folded")
	n=$(samples chain "$T/chain.folded")
	echo "     chain: $n samples, $pct% with main;a;b;c"
	check "chain: >= 90% of samples carry main;a;b;c ($pct%)" test "$pct" -ge 90
	want=$(awk '{ printf "%d", ($1 + $2) * 499 }' "$T/chain.cpu")
	echo "     chain: expected $want samples from its CPU time (499 Hz x 2 s = 998 when idle)"
	check "chain: samples within 25% of 499 Hz x its CPU time ($n vs $want)" \
		test "$((want))" -gt 0 -a "$((n))" -ge $((want * 3 / 4)) -a "$((n))" -le $((want * 5 / 4))
	check "folded lines are 'stack COUNT'" \
		bash -c "! grep -vqE '^[^ ].* [0-9]+\$' '$T/chain.folded'"
	check "summary on stderr: the profile's description" \
		grep -qE "wrote .*: [0-9.]+ s, [0-9]+ Hz, [0-9]+ CPUs?, [0-9,]+ samples, .*unwind: " "$T/chain.err"

	# The symbol files are read while the command runs (the drains warm the symbolizer), not
	# after its exit: -v counts those read by then.
	"$FLAMED" -v -F 99 -o "$T/warm.folded" -- "$WL/chain" 2 2>"$T/warm.err"
	read -r nf nw < <(sed -n 's/.*symbols: \([0-9]*\) files (\([0-9]*\) read while the targets ran.*/\1 \2/p' "$T/warm.err")
	echo "     warm: ${nf:-?} symbol files, ${nw:-?} read while chain ran"
	check "symbol files read while the command ran (${nw:-?} of ${nf:-?})" \
		test "${nw:-0}" -ge 1 -a "${nw:-0}" -le "${nf:-0}"

	# Kernel types for the BPF relocations: built in on the kernel flamed was built on (the
	# Makefile cut them from its BTF: min_btf.h), the whole BTF with FLAMED_FULL_BTF. Either
	# way the same profile: a child followed through its fork (the fork program reads the task),
	# named (comm), its user chain whole and its kernel frames after them (pt_regs).
	for mode in builtin full; do
		if [ $mode = full ]; then
			set -- env FLAMED_FULL_BTF=1
			want=/sys/kernel/btf/vmlinux
		elif grep -q 'min_btf_kernel\[\] = ""' "$BUILD/min_btf.h"; then
			skip "kernel types built in: this build has none (no BTF, notes or bpftool)"
			continue
		else
			set --
			want="built in for this kernel"
		fi
		"$@" "$FLAMED" -v -F 499 -o "$T/btf-$mode.folded" -- sh -c "'$WL/chain' 1; '$WL/sys' 1" \
			2>"$T/btf-$mode.err"
		rc=$?
		check "kernel types $mode: exit 0, -v says '$want'" \
			test $rc = 0 -a "$(grep -cF "(kernel types: $want)" "$T/btf-$mode.err")" = 1
		pct=$(fraction chain ';main;a;b;c$' "$T/btf-$mode.folded")
		check "kernel types $mode: the forked chain, >= 90% main;a;b;c ($pct%)" test "$pct" -ge 90
		pct=$(fraction sys '^sys;.*;main;.*_\[k\]$' "$T/btf-$mode.folded" all)
		check "kernel types $mode: sys's kernel frames under main, >= 50% of its samples ($pct%)" \
			test "$pct" -ge 50
	done
	set --

	# Libraries only push, debuginfod, --listen and systemd need are opened at first use
	# (src/base/lazylib.h): a one-shot run maps none of them. The command's parent is flamed.
	"$FLAMED" -o "$T/lazy.folded" -- sh -c 'cat /proc/$PPID/maps' >"$T/lazy.maps" 2>/dev/null
	rc=$?
	check "lazy libraries: the maps read are flamed's (exit $rc, libbpf mapped)" \
		bash -c "[ $rc = 0 ] && grep -q 'libbpf\.so' '$T/lazy.maps'"
	check "lazy libraries: a one-shot run maps no libcurl, libdebuginfod, libmicrohttpd, libsystemd" \
		bash -c "! grep -E 'lib(curl|debuginfod|microhttpd|systemd)' '$T/lazy.maps'"

	# --pid mode on a running process: sample count within 25% of frequency x duration, where
	# the duration is the CPU time the process really got (all of it on an idle machine).
	"$WL/chain" 8 &
	pid=$!
	# CPU time counts from flamed's "profiling" line (loading and verifying the BPF programs
	# before it can take a second of a busy machine) to its exit.
	"$FLAMED" -v -p "$pid" -d 3 -F 99 -o "$T/pid.folded" 2>"$T/pid.err" &
	fl=$!
	wait_for "$T/pid.err" "profiling" 60
	t0=$(cpu_ticks "$pid")
	wait "$fl"
	check "pid mode exits 0" test $? = 0
	t1=$(cpu_ticks "$pid")
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	n=$(samples chain "$T/pid.folded")
	want=$(( (t1 - t0) * 99 / $(getconf CLK_TCK) ))
	echo "     pid mode: $n samples, expected $want from its CPU time (99 Hz x 3 s = 297 when idle)"
	check "pid mode: samples within 25% of 99 Hz x its CPU time ($n vs $want)" \
		test "$((want))" -gt 0 -a "$((n))" -ge $((want * 3 / 4)) -a "$((n))" -le $((want * 5 / 4))
	check "pid mode: only the profiled process" \
		bash -c "! grep -qv '^chain;' '$T/pid.folded'"
	pct=$(fraction chain ';main;a;b;c$' "$T/pid.folded")
	check "pid mode: main;a;b;c ($pct%)" test "$pct" -ge 90

	# Kernel frames named on a syscall-heavy workload.
	"$FLAMED" -F 499 -o "$T/sys.folded" -- "$WL/sys" 1.5 2>/dev/null
	check "sys: exits 0" test $? = 0
	kpct=$(fraction sys '(ksys_read|vfs_read|read_zero|__x64_sys_read)_\[k\]' "$T/sys.folded" all)
	echo "     sys: $kpct% of samples in the read path (named kernel frames)"
	check "sys: kernel frames named (${kpct}% in ksys_read/vfs_read)" test "$kpct" -ge 50
	# Leaf last: once a stack reaches a kernel frame, every frame after it is a kernel frame.
	check "sys: kernel frames come after user frames" awk '
		{ sub(/ [0-9]+$/, ""); n = split($0, f, ";"); k = 0
		  for (i = 2; i <= n; i++) { if (f[i] ~ /_\[k\]$/) k = 1; else if (k) bad++ } }
		/_\[k\]/ { kern++ }
		END { exit !(kern > 0 && bad == 0) }' "$T/sys.folded"
	check "sys: user frames symbolized through libc" grep -q ';read;\|;__libc_read;\|;__GI___libc_read;' "$T/sys.folded"

	# SVG output that xmllint accepts.
	"$FLAMED" -o "$T/chain.svg" -- "$WL/chain" 1 2>/dev/null
	check "svg: exits 0" test $? = 0
	check "svg: well-formed XML (xmllint)" xmllint --noout "$T/chain.svg"
	check "svg: has the chain's frames" grep -q '>c<\|>c (' "$T/chain.svg"

	# System-wide until SIGINT: the output is still written, complete.
	"$FLAMED" -v -o "$T/sys.svg" 2>"$T/sigint.err" &
	fpid=$!
	check "SIGINT: profiling started" wait_for "$T/sigint.err" "profiling" 30
	"$WL/chain" 1.5
	kill -INT "$fpid"
	wait "$fpid"
	check "SIGINT: exit 0" test $? = 0
	check "SIGINT: complete SVG" xmllint --noout "$T/sys.svg"
	check "system-wide: sees the chain workload" grep -q 'chain' "$T/sys.svg"

	# SIGTERM while profiling (-d 30: the signal, not the duration, ends it).
	"$FLAMED" -v -d 30 -o "$T/term.folded" 2>"$T/term.err" &
	fpid=$!
	check "SIGTERM: profiling started" wait_for "$T/term.err" "profiling" 30
	"$WL/chain" 0.5
	t0=$SECONDS
	kill -TERM "$fpid"
	wait "$fpid"
	check "SIGTERM: exit 0" test $? = 0
	check "SIGTERM: ends the profile then, not at -d 30 ($((SECONDS - t0)) s)" \
		test $((SECONDS - t0)) -lt 15
	check "SIGTERM: folded written" test -s "$T/term.folded"

	# pprof output, decoded by go tool pprof.
	if need_tool "pprof decoded by go" go; then
		"$FLAMED" -F 299 -o "$T/chain.pb.gz" -- "$WL/chain" 1 2>/dev/null
		check "pprof: exits 0" test $? = 0
		go tool pprof -symbolize=none -traces "$T/chain.pb.gz" >"$T/traces.txt" 2>&1
		check "pprof: go tool pprof -traces decodes it" grep -q 'main' "$T/traces.txt"
	fi
fi

# Bad input: clear error, non-zero exit, no output file left behind.
bad() {
	local name=$1 pattern=$2
	shift 2
	rm -f "$T"/bad.*
	"$@" >"$T/bad.out" 2>"$T/bad.err"
	local rc=$?
	if [ $rc != 0 ] && grep -qiE "$pattern" "$T/bad.err" && [ -z "$(ls -A "$T" | grep '^\.\?bad\.svg')" ]; then
		ok "bad input: $name"
	else
		fail "bad input: $name (exit $rc: $(head -c 300 "$T/bad.err"))"
	fi
}
bad "unknown pid" "no such process" "$FLAMED" -p 999999 -d 1 -o "$T/bad.svg"
bad "pid not a number" "invalid --pid 'abc'" "$FLAMED" -p abc -o "$T/bad.svg"
bad "frequency 0" "invalid --frequency '0'" "$FLAMED" -F 0 -o "$T/bad.svg"
bad "negative frequency" "invalid --frequency '-5'" "$FLAMED" -F -5 -o "$T/bad.svg"
bad "frequency above the kernel limit" "above the kernel" "$FLAMED" -F 100000000 -o "$T/bad.svg"
bad "unwritable output" "cannot write" "$FLAMED" -d 1 -o /nonexistent/dir/bad.svg
bad "unknown extension" "format" "$FLAMED" -d 1 -o "$T/bad.xyz"
bad "unknown format" "invalid --format 'png': expected svg, folded or pprof" "$FLAMED" --format png -o "$T/bad.svg"
bad "bad flag" "unrecognized|invalid option" "$FLAMED" --no-such-flag
bad "bad duration" "invalid --duration 'soon'" "$FLAMED" -d soon -o "$T/bad.svg"
bad "missing command" "cannot run" "$FLAMED" -o "$T/bad.svg" -- /nonexistent/prog
if need_root "unprivileged user refused"; then
	chmod 0777 "$T"
	bad "not root" "CAP_BPF|root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$FLAMED" -d 1 -o "$T/bad.svg"
fi
check "help shows examples" bash -c "'$FLAMED' --help | grep -q Examples"

finish
