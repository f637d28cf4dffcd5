#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end symbolization: stripped binaries named through build-id, debuglink (CRC, zlib
# sections) and MiniDebugInfo files and through a local debuginfod; C++ templates and Rust v0
# demangled; inline frames (_[i]); node --perf-basic-prof JIT frames (_[j]); a binary that exists
# only in a private mount namespace; one deleted while it runs; a stream of 20 ms processes;
# kernel "function [module]" names. Workloads are built here from tests/workloads/sym_*.
. "$(dirname "$0")/lib.sh"

# share PROCESS PATTERN FILE: percentage of PROCESS's samples whose user stack (its kernel _[k]
# frames removed) matches PATTERN. The kernel part is not what these checks are about, and on a
# busy machine many samples of a user loop end in an interrupt or a reschedule IPI
# ("...;inner_mix_[i];asm_sysvec_reschedule_ipi_[k];...;schedule_[k]"): a pattern anchored at
# the user leaf missed them.
share() {
	awk -v proc="$1" -v pat="$2" '
		{ n = $NF; stack = substr($0, 1, length($0) - length(n) - 1)
		  gsub(/;[^;]*_\[k\]/, "", stack) }
		index(stack, proc ";") == 1 { total += n; if (stack ~ pat) hit += n }
		END { if (total == 0) print 0; else printf "%d\n", 100 * hit / total }' "$3"
}
samples() {
	awk -v proc="$1" 'index($0, proc ";") == 1 { t += $NF } END { print t + 0 }' "$2"
}

SRC="$ROOT/tests/workloads"
W="$T/w"
mkdir -p "$W"
CLEAN_DEBUG=()
DFD_PID=
cleanup() {
	local f
	[ -n "$DFD_PID" ] && kill "$DFD_PID" 2>/dev/null
	for f in "${CLEAN_DEBUG[@]}"; do rm -f "$f"; done
	rm -rf "$T"
}
trap cleanup EXIT

# symq links the library the profiler is built from, with the Makefile's own libraries.
LDLIBS=$(make -s --no-print-directory -C "$ROOT" -f Makefile -f - BUILD="$BUILD" print-ldlibs \
	<<<'print-ldlibs: ; @echo $(LDFLAGS) $(LDLIBS)' 2>/dev/null)
SYMQ="$W/symq"
check "symq builds against libflamed.a" \
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/src" -I"$BUILD" "$ROOT/bench/symbolize/symq.c" \
	"$BUILD/libflamed.a" $LDLIBS -o "$SYMQ"

CFLAGS_W="-O2 -g -fno-omit-frame-pointer"
# sym_short static where libc.a exists: its 20 ms are then not diluted by the dynamic loader.
check "C workloads build" bash -c "gcc $CFLAGS_W '$SRC/sym_inline.c' -o '$W/inl' &&
	{ gcc $CFLAGS_W -static '$SRC/sym_short.c' -o '$W/sym_short' 2>/dev/null ||
	  gcc $CFLAGS_W '$SRC/sym_short.c' -o '$W/sym_short'; }"
check "C++ workload builds" g++ $CFLAGS_W "$SRC/sym_cpp.cc" -o "$W/sym_cpp"

# Stripped builds of sym_inline, each finding its names another way. Each has a build id of
# its own (unique to this run too), so no debug file can stand in for another's.
mkdir -p "$W/bid" "$W/link/.debug" "$W/mini" "$W/dfd/serve" "$W/dfd/run"
variant() {
	local id
	id=$(printf '%s-%s-%s' "$1" "$$" "$(date +%s%N)" | sha1sum | cut -c1-40)
	gcc $CFLAGS_W -Wl,--build-id=0x"$id" "$SRC/sym_inline.c" -o "$2"
}
variant bid "$W/bid/sym_bid"
variant link "$W/link/sym_link"
variant mini "$W/mini/sym_mini"
variant dfd "$W/dfd/serve/sym_dfd"
cp "$W/bid/sym_bid" "$W/bid/sym_bid.full"
build_id() { readelf -n "$1" 2>/dev/null | awk '/Build ID/ { print $3 }'; }

# build id: .debug file under <debug dir>/.build-id/xx/rest.debug, binary stripped.
objcopy --only-keep-debug "$W/bid/sym_bid" "$W/bid/sym_bid.debug"
strip --strip-all "$W/bid/sym_bid"
BID=$(build_id "$W/bid/sym_bid")
DEBUG_OPTS=()
if "$FLAMED" --help 2>&1 | grep -q -- '--debug-dir'; then
	mkdir -p "$W/debug/.build-id/${BID:0:2}"
	cp "$W/bid/sym_bid.debug" "$W/debug/.build-id/${BID:0:2}/${BID:2}.debug"
	DEBUG_OPTS=(--debug-dir "$W/debug")
elif [ "$(id -u)" = 0 ]; then
	# No --debug-dir in this build: the system directory, removed on exit.
	mkdir -p "/usr/lib/debug/.build-id/${BID:0:2}"
	cp "$W/bid/sym_bid.debug" "/usr/lib/debug/.build-id/${BID:0:2}/${BID:2}.debug"
	CLEAN_DEBUG+=("/usr/lib/debug/.build-id/${BID:0:2}/${BID:2}.debug")
fi
rm "$W/bid/sym_bid.debug"

# debuglink: the debug file in the binary's .debug/ folder, its sections zlib-compressed.
objcopy --only-keep-debug --compress-debug-sections=zlib "$W/link/sym_link" \
	"$W/link/sym_link.debug"
strip --strip-all "$W/link/sym_link"
(cd "$W/link" && objcopy --add-gnu-debuglink=sym_link.debug sym_link)
mv "$W/link/sym_link.debug" "$W/link/.debug/sym_link.debug"
check "debuglink: debug file has compressed sections" \
	bash -c "readelf -S '$W/link/.debug/sym_link.debug' 2>/dev/null | grep -A1 '.debug_info' | grep -q 'C'"

# MiniDebugInfo: the symbols .dynsym lacks, xz-compressed into .gnu_debugdata.
(
	cd "$W/mini"
	nm -D sym_mini --format=posix --defined-only | awk '{ print $1 }' | sort >dynsyms
	nm sym_mini --format=posix --defined-only | awk '$2 ~ /^[Tt]$/ { print $1 }' | sort >funcsyms
	comm -13 dynsyms funcsyms >keep
	objcopy --only-keep-debug sym_mini full.debug
	objcopy -S --remove-section .gdb_index --remove-section .comment \
		--keep-symbols=keep full.debug mini.debug
	xz -9 mini.debug
	strip --strip-all sym_mini
	objcopy --add-section .gnu_debugdata=mini.debug.xz sym_mini
	rm -f full.debug dynsyms funcsyms keep
)
# readelf must list each one's sections (a readelf that fails lists no .symtab either).
no_symtab() { readelf -SW "$1" >"$T/sections" 2>&1 && grep -q ' \.text ' "$T/sections" &&
	! grep -q '\.symtab' "$T/sections"; }
for f in "$W/bid/sym_bid" "$W/link/sym_link" "$W/mini/sym_mini"; do
	check "stripped copy $(basename "$f") has sections but no .symtab" no_symtab "$f"
done
check "MiniDebugInfo section present" bash -c "readelf -S '$W/mini/sym_mini' | grep -q gnu_debugdata"

# Without a profiler: the same lookups through symq (no root needed).
addr_of() { nm "$1" | awk -v f="$2" '$3 == f { print $1 }'; }
OUTER=$(addr_of "$W/bid/sym_bid.full" outer_loop)
q() { "$SYMQ" "$@" 2>/dev/null | cut -f2; }
n=$(q "$W/inl" "$OUTER")
check "symq: outer_loop by its own symbols ($n)" test "$n" = "outer_loop"
n=$(q --debug-dir "$W/nonexistent" "$W/link/sym_link" "$OUTER")
check "symq: stripped + debuglink ($n)" test "$n" = "outer_loop"
n=$(q "$W/mini/sym_mini" "$OUTER")
check "symq: stripped + MiniDebugInfo ($n)" test "$n" = "outer_loop"
mkdir -p "$W/qdebug/.build-id/${BID:0:2}"
objcopy --only-keep-debug "$W/bid/sym_bid.full" "$W/qdebug/.build-id/${BID:0:2}/${BID:2}.debug"
n=$(q --debug-dir "$W/qdebug" "$W/bid/sym_bid" "$OUTER")
check "symq: stripped + build id in --debug-dir ($n)" test "$n" = "outer_loop"
# A debuglink whose CRC does not match is refused.
cp "$W/link/.debug/sym_link.debug" "$W/good.debug"
printf 'x' >>"$W/link/.debug/sym_link.debug"
n=$(q "$W/link/sym_link" "$OUTER")
check "symq: debuglink with a wrong CRC is refused ($n)" test "$n" = "??"
mv "$W/good.debug" "$W/link/.debug/sym_link.debug"
n=$(q --lines "$W/link/sym_link" "$OUTER")
check "symq: --lines gives file:line ($n)" bash -c "echo '$n' | grep -q 'outer_loop (.*sym_inline.c:[0-9]*)'"

if need_root "profiling with symbols"; then
	prof() { # prof NAME FLAMED-ARGS... -- COMMAND
		local name=$1
		shift
		"$FLAMED" -F 499 -o "$T/$name.folded" "$@" 2>"$T/$name.err" >/dev/null
		local rc=$?
		[ $rc = 0 ] || { echo "     $name: flamed exit $rc: $(tail -3 "$T/$name.err")"; return 1; }
	}
	frames() { grep "^$1;" "$T/$2.folded" | head -3 | cut -c1-300 | sed 's/^/       /'; }

	# Stripped binaries, three ways.
	prof bid "${DEBUG_OPTS[@]}" -- "$W/bid/sym_bid" 1
	pct=$(share sym_bid ';outer_loop;inner_mix_\[i\]$' "$T/bid.folded")
	echo "     build id: $pct% of sym_bid samples in outer_loop;inner_mix_[i]"
	check "stripped binary named through its build-id debug file ($pct%)" test "$pct" -ge 80

	prof link -- "$W/link/sym_link" 1
	pct=$(share sym_link ';outer_loop;inner_mix_\[i\]$' "$T/link.folded")
	echo "     debuglink: $pct% of sym_link samples in outer_loop;inner_mix_[i]"
	check "stripped binary named through debuglink, zlib sections ($pct%)" test "$pct" -ge 80

	prof mini -- "$W/mini/sym_mini" 1
	pct=$(share sym_mini ';outer_loop$' "$T/mini.folded")
	echo "     MiniDebugInfo: $pct% of sym_mini samples in outer_loop"
	check "stripped binary named through MiniDebugInfo ($pct%)" test "$pct" -ge 80

	# debuginfod: a local server scanning the unstripped copy; the run copy is stripped.
	cp "$W/dfd/serve/sym_dfd" "$W/dfd/run/sym_dfd"
	strip --strip-all "$W/dfd/run/sym_dfd"
	DBID=$(build_id "$W/dfd/run/sym_dfd")
	port=$((20000 + RANDOM % 20000))
	debuginfod -F -p "$port" -d "$T/dfd.sqlite" -t 0 -g 0 "$W/dfd/serve" >"$T/dfd.log" 2>&1 &
	DFD_PID=$!
	export DEBUGINFOD_CACHE_PATH="$T/dfd-cache"
	ready=0
	for _ in $(seq 100); do
		# A miss is cached by the client (negative cache): probe with a fresh cache each time.
		rm -rf "$DEBUGINFOD_CACHE_PATH"
		if DEBUGINFOD_URLS="http://127.0.0.1:$port" debuginfod-find debuginfo "$DBID" \
			>/dev/null 2>&1; then
			ready=1
			break
		fi
		sleep 0.2
	done
	rm -rf "$DEBUGINFOD_CACHE_PATH"
	check "debuginfod server serves the build id" test "$ready" = 1 ||
		tail -5 "$T/dfd.log"
	DEBUGINFOD_URLS="http://127.0.0.1:$port" prof dfd -- "$W/dfd/run/sym_dfd" 1
	pct=$(share sym_dfd ';outer_loop;inner_mix_\[i\]$' "$T/dfd.folded")
	echo "     debuginfod: $pct% of sym_dfd samples in outer_loop;inner_mix_[i]"
	check "stripped binary named through debuginfod ($pct%)" test "$pct" -ge 80
	# Off by default: without DEBUGINFOD_URLS nothing is fetched.
	rm -rf "$DEBUGINFOD_CACHE_PATH"
	env -u DEBUGINFOD_URLS "$FLAMED" -F 199 -o "$T/dfd-off.folded" -- "$W/dfd/run/sym_dfd" 0.5 \
		2>/dev/null >/dev/null
	rc=$?
	n=$(samples sym_dfd "$T/dfd-off.folded")
	# Profiled (exit 0, samples of sym_dfd), yet not named and nothing fetched into the cache.
	check "debuginfod off without DEBUGINFOD_URLS ($n samples, unnamed)" \
		bash -c "[ $rc = 0 ] && [ $n -ge 10 ] && ! grep -q 'outer_loop' '$T/dfd-off.folded' &&
			! test -e '$DEBUGINFOD_CACHE_PATH/$DBID'"
	# A server that never answers costs at most the timeout.
	nc_port=$((port + 1))
	# Accepts, never answers; logs each connection to $T/hang.log ("accepted") and, once its
	# client has closed it, how long it was held ("held SECS"): how long flamed waited.
	python3 -c "
import select, socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $nc_port)); s.listen(8); c = {}
t = time.time()
log = open('$T/hang.log', 'w')
while time.time() - t < 120:
    r = select.select([s] + list(c), [], [], 1)[0]
    for x in r:
        if x is s:
            a = s.accept()[0]; c[a] = time.monotonic(); log.write('accepted\\n')
        else:
            try: d = x.recv(4096)
            except Exception: d = b''
            if not d:
                log.write('held %.3f\\n' % (time.monotonic() - c.pop(x))); x.close()
    log.flush()
" &
	hang=$!
	check "silent debuginfod server: listening" \
		wait_until 30 python3 -c "import socket; socket.create_connection(('127.0.0.1', $nc_port)).close()"
	# The probe's own connection, logged: counted before flamed's.
	wait_until 30 grep -q '^held' "$T/hang.log"
	asked=$(grep -c '^accepted' "$T/hang.log")
	rm -rf "$DEBUGINFOD_CACHE_PATH"
	DEBUGINFOD_URLS="http://127.0.0.1:$nc_port" \
		"$FLAMED" --debuginfod-timeout 3 -F 199 -o "$T/dfd-hang.folded" -- \
		"$W/dfd/run/sym_dfd" 0.3 2>/dev/null >/dev/null
	rc=$?
	# flamed has exited: every connection it opened is closed; the server logs it at once.
	wait_until 30 bash -c "[ \$(grep -c '^held' '$T/hang.log') = \$(grep -c '^accepted' '$T/hang.log') ]"
	kill "$hang" 2>/dev/null
	n=$(($(grep -c '^accepted' "$T/hang.log") - asked))
	held=$(awk '$1 == "held" && ++k > 1 && $2 > m { m = $2 } END { print m + 0 }' "$T/hang.log")
	echo "     debuginfod server that never answers: flamed held its connection $held s"
	check "silent debuginfod server: asked ($n connections)" test "$n" -gt 0
	# --debuginfod-timeout 3: the wait, measured on the server's side (a whole run's wall time
	# would also measure a busy machine's BPF verification), is at most 3 s, plus 1 s for the
	# progress callback that notices the deadline, plus 1 s for a busy machine.
	check "silent debuginfod server: bounded by the 3 s timeout (held ${held} s)" \
		awk -v rc="$rc" -v h="$held" 'BEGIN { exit !(rc == 0 && h > 0 && h <= 5) }'
	kill "$DFD_PID" 2>/dev/null
	DFD_PID=
	unset DEBUGINFOD_CACHE_PATH

	# C++ templates, demangled.
	prof cpp -- "$W/sym_cpp" 1
	pct=$(share sym_cpp 'ns::Matrix<double, 96>::operator\*\(ns::Matrix<double, 96> const&\) const$' \
		"$T/cpp.folded")
	echo "     C++: $pct% of sym_cpp samples in ns::Matrix<double, 96>::operator*"
	check "C++ template method demangled ($pct%)" test "$pct" -ge 80

	# Rust v0 mangling.
	if need_tool "Rust v0 names" rustc; then
		rustc -O -g -C force-frame-pointers=yes -C symbol-mangling-version=v0 \
			"$SRC/sym_rust.rs" -o "$W/sym_rust" 2>"$T/rustc.err"
		check "Rust workload builds with v0 mangling" \
			bash -c "nm '$W/sym_rust' | grep -q ' _R.*work'"
		prof rust -- "$W/sym_rust" 1
		pct=$(share sym_rust 'sym_rust::work::<alloc::string::String>' "$T/rust.folded")
		echo "     Rust: $pct% of sym_rust samples under sym_rust::work::<alloc::string::String>"
		check "Rust v0 names demangled ($pct%)" test "$pct" -ge 80
		check "Rust: inlined iterator frames shown _[i]" grep -q '::next_\[i\]' "$T/rust.folded"
	fi

	# Inline frames with the unstripped binary too.
	prof inl -- "$W/inl" 1
	pct=$(share inl ';main;outer_loop;inner_mix_\[i\]$' "$T/inl.folded")
	check "inline frame main;outer_loop;inner_mix_[i] ($pct%)" test "$pct" -ge 80

	# node --perf-basic-prof: the hot JS function by name, as JIT frames from its perf map
	# (--v8 off: V8's own metadata would name it first, checked next and in test_node.sh).
	if need_tool "node JIT frames" node; then
		# node writes isolate-*.log files into its working directory: keep them in $T.
		(cd "$T" && prof node --v8 off -- node --perf-basic-prof "$SRC/sym_node.js" 2)
		pct=$(share node 'hotLoop[^;]*_\[j\]$' "$T/node.folded")
		echo "     node: $pct% of node samples in JIT frame hotLoop"
		frames node node | grep -o ';[^;]*hotLoop[^;]*$' | head -1
		check "node JIT frames name hotLoop ($pct%)" test "$pct" -ge 50
		# Both sources at hand: the V8 frame (function and script) is what the stack shows.
		(cd "$T" && prof nodev8 -- node --perf-basic-prof "$SRC/sym_node.js" 2)
		pct=$(share node 'hotLoop \(sym_node\.js\)_\[v\]$' "$T/nodev8.folded")
		check "node with a perf map and --v8 on: hotLoop (sym_node.js)_[v] ($pct%)" \
			test "$pct" -ge 50
		grep -l 'sym_node.js' /tmp/perf-*.map 2>/dev/null | xargs -r rm -f
		# A container: own pid namespace (the map is perf-1.map) and its own /tmp; the
		# process still runs when symbolized, so the map is read through its root.
		mark="mark$$"
		# The script is read before the new /tmp hides what lived under /tmp (the checkout
		# itself may), and written into it.
		(cd "$T" && exec unshare -p -f -m --propagation private --mount-proc sh -c "js=\$(cat '$SRC/sym_node.js') &&
			mount -t tmpfs none /tmp && printf '%s\n' \"\$js\" >/tmp/sym_node.js &&
			exec node --perf-basic-prof /tmp/sym_node.js 600 $mark" >/dev/null 2>&1) &
		cpid=$!
		np=""
		for _ in $(seq 100); do
			for p in $(pgrep -f "$mark"); do
				[ "$(cat /proc/"$p"/comm 2>/dev/null)" = node ] && np=$p
			done
			[ -n "$np" ] && break
			sleep 0.1
		done
		check "container node: found its pid (${np:-none})" test -n "$np"
		# Profiled once node has written hotLoop's JIT address into its own /tmp/perf-1.map.
		check "container node: hotLoop in its map" \
			wait_until 30 grep -qs hotLoop "/proc/${np:-0}/root/tmp/perf-1.map"
		[ -n "$np" ] && "$FLAMED" -p "$np" -d 1.5 -F 499 --v8 off -o "$T/cnode.folded" 2>/dev/null
		# node outlives the profile whatever the load (flamed's start-up can take seconds on a
		# busy machine, and a node gone before it attached left nothing to sample): ended here,
		# with SIGKILL: it is its PID namespace's init, which ignores SIGTERM from outside (and
		# unshare blocks SIGTERM while it waits for it).
		for p in $(pgrep -f "$mark"); do
			[ "$(cat /proc/"$p"/comm 2>/dev/null)" = node ] && kill -KILL "$p"
		done
		wait "$cpid"
		check "container node: map only inside ($np)" test -n "$np" -a ! -e "/tmp/perf-$np.map"
		pct=$(share node 'hotLoop[^;]*_\[j\]$' "$T/cnode.folded" 2>/dev/null)
		pct=${pct:-0}
		echo "     node in a pid + mount namespace: $pct% of samples in JIT frame hotLoop"
		check "container node: JIT frames named from its own /tmp/perf-1.map ($pct%)" \
			test "$pct" -ge 50
	fi

	# A binary that exists only in a private mount namespace (and exits before symbolizing).
	mkdir -p "$W/nsdir"
	prof ns -- unshare -m --propagation private sh -c \
		"mount -t tmpfs none '$W/nsdir' && cp '$W/inl' '$W/nsdir/sym_ns' && exec '$W/nsdir/sym_ns' 1"
	check "mount namespace: binary not visible here" test ! -e "$W/nsdir/sym_ns"
	pct=$(share sym_ns ';outer_loop;inner_mix_\[i\]$' "$T/ns.folded")
	echo "     mount namespace: $pct% of sym_ns samples in outer_loop;inner_mix_[i]"
	check "binary only in a private mount namespace named ($pct%)" test "$pct" -ge 80

	# Debug files inside the process's own root (its mount namespace), found while it lives.
	mkdir -p "$W/nsdbg" /usr/lib/debug
	cp "$W/bid/sym_bid" "$W/nsdbg/sym_nsdbg"
	NBID=$(build_id "$W/nsdbg/sym_nsdbg")
	unshare -m --propagation private sh -c "
		mount -t tmpfs none /usr/lib/debug &&
		mkdir -p /usr/lib/debug/.build-id/${NBID:0:2} &&
		objcopy --only-keep-debug '$W/bid/sym_bid.full' /usr/lib/debug/.build-id/${NBID:0:2}/${NBID:2}.debug &&
		exec '$W/nsdbg/sym_nsdbg' 60" >/dev/null &
	nspid=$!
	# Our own copy of that build id (from the build-id test) must not be what names it.
	for f in "${CLEAN_DEBUG[@]}"; do mv "$f" "$f.hidden"; done
	# Profiled once the shell has exec'd the program, not after a guessed delay.
	check "debug file in the namespace: program started" \
		wait_until 30 bash -c "[ \"\$(readlink /proc/$nspid/exe)\" = '$W/nsdbg/sym_nsdbg' ]"
	"$FLAMED" -p "$nspid" -d 1 -F 499 -o "$T/nsdbg.folded" 2>"$T/nsdbg.err"
	for f in "${CLEAN_DEBUG[@]}"; do mv "$f.hidden" "$f"; done
	# It outlives the profile whatever the load (a 3 s run can end before a busy machine's
	# flamed has attached: nothing sampled): ended here.
	kill "$nspid" 2>/dev/null
	wait "$nspid"
	pct=$(share sym_nsdbg ';outer_loop;inner_mix_\[i\]$' "$T/nsdbg.folded")
	echo "     debug file in the process's mount namespace: $pct% in outer_loop;inner_mix_[i]"
	check "debug file read through /proc/PID/root ($pct%)" test "$pct" -ge 80

	# A binary deleted while it runs.
	mkdir -p "$W/del"
	cp "$W/inl" "$W/del/sym_del"
	# Deleted once it runs (its /proc/PID/exe names it), however long a busy machine takes.
	prof del -- sh -c "'$W/del/sym_del' 1.5 & p=\$!
		while [ \"\$(readlink /proc/\$p/exe)\" != '$W/del/sym_del' ]; do sleep 0.05; done
		sleep 0.2	# samples of it before it is deleted: not a verdict
		rm '$W/del/sym_del'; wait"
	check "deleted: binary gone" test ! -e "$W/del/sym_del"
	pct=$(share sym_del ';outer_loop;inner_mix_\[i\]$' "$T/del.folded")
	echo "     deleted binary: $pct% of sym_del samples in outer_loop;inner_mix_[i]"
	check "binary deleted while running named ($pct%)" test "$pct" -ge 80

	# A stream of 20 ms processes.
	# Each runs 20 ms of CPU time in short_work (busy or idle machine alike): 60 x 20 ms x
	# 999 Hz = 1,199 samples there; exec and start-up (2 ms each, more on a busy machine) add
	# about 10% outside it.
	prof short -F 999 -- sh -c "for i in \$(seq 60); do '$W/sym_short' 20 >/dev/null; done"
	n=$(samples sym_short "$T/short.folded")
	sw=$(awk '$0 ~ /^sym_short;.*;short_work(;| )/ { t += $NF } END { print t + 0 }' \
		"$T/short.folded")
	pct=$(share sym_short ';short_work(;|$)' "$T/short.folded")
	unk=$(share sym_short '\[unknown\]|\[sym_short\+' "$T/short.folded")
	echo "     20 ms processes: $n samples, $sw ($pct%) in short_work, $unk% with an unnamed" \
		"user frame"
	# Sampling noise on 1,199 is about 3%: 10% either side.
	check "short-lived processes: ~1,199 samples named short_work ($sw)" \
		test "$sw" -ge 1079 -a "$sw" -le 1319
	check "short-lived processes: >= 80% of samples in short_work ($pct% of $n)" \
		test "$pct" -ge 80
	check "short-lived processes: no unnamed user frame ($unk% of $n)" test "$unk" -le 1

	# Before an exec, a process runs another program: its samples are named with that one's
	# mappings (the image its main thread's name points to), not the new program's.
	prof exec -- sh -c 'i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; exec '"'$W/inl'"' 0.5'
	pct=$(share sh '__libc_start_call_main' "$T/exec.folded")
	n=$(samples sh "$T/exec.folded")
	echo "     before exec: $pct% of $n shell samples named through the shell's own mappings"
	check "exec: the shell's samples keep the shell's mappings ($pct% of $n)" \
		test "$pct" -ge 80 -a "$n" -ge 20
	pct=$(share inl ';outer_loop;inner_mix_\[i\]$' "$T/exec.folded")
	check "exec: the new program's samples ($pct%)" test "$pct" -ge 80

	# PID reuse: a second process gets the first one's pid (ns_last_pid), both sampled in one
	# profile; each is named with its own mappings.
	cat >"$W/reuse.sh" <<EOS
for try in 1 2 3 4 5 6 7 8; do
	'$W/inl' 0.4 >/dev/null &
	pa=\$!
	wait \$pa
	echo \$((pa - 1)) >/proc/sys/kernel/ns_last_pid
	'$W/sym_cpp' 0.4 >/dev/null &
	pb=\$!
	wait \$pb
	[ "\$pa" = "\$pb" ] && { echo "pid \$pa reused"; exit 0; }
done
echo "pid not reused"
EOS
	"$FLAMED" -F 499 -o "$T/reuse.folded" -- sh "$W/reuse.sh" >"$T/reuse.out" 2>/dev/null
	if grep -q '^pid [0-9]* reused' "$T/reuse.out"; then
		a=$(share inl ';outer_loop;inner_mix_\[i\]$' "$T/reuse.folded")
		b=$(share sym_cpp 'ns::Matrix<double, 96>::operator\*' "$T/reuse.folded")
		echo "     $(cat "$T/reuse.out"): $a% of the first's samples and $b% of the second's named right"
		check "pid reuse: each process named with its own mappings ($a%, $b%)" \
			test "$a" -ge 80 -a "$b" -ge 80
	else
		fail "pid reuse: could not get a pid reused (other processes forking?)"
	fi

	# Kernel "function [module]": this kernel has no loadable modules, but BPF programs are
	# listed in kallsyms as module [bpf]; flamed's own are loaded while it runs.
	"$FLAMED" -o "$T/bg.folded" 2>/dev/null &
	fpid=$!
	# One of flamed's own programs (unwind_step), looked up while flamed still runs. Another
	# tool's program may be unloaded between the read and the lookup: a lookup whose line has
	# left /proc/kallsyms meanwhile is retried; one whose line is still there is the verdict.
	line=""
	got=""
	for _ in $(seq 300); do
		line=$(grep -m1 $'_unwind_step\t\\[bpf\\]' /proc/kallsyms)
		if [ -n "$line" ]; then
			addr=$(echo "$line" | awk '{ print $1 }')
			want=$(echo "$line" | awk '{ print $3 " [bpf]" }')
			got=$("$SYMQ" --kallsyms "$addr" | cut -f2)
			[ "${got%+0x0}" = "$want" ] && break
			grep -qF -- "$line" /proc/kallsyms && break
		fi
		sleep 0.1
	done
	kill -INT "$fpid"
	wait "$fpid"
	if [ -n "$line" ]; then
		check "kernel module symbol as 'function [module]' ($got)" test "${got%+0x0}" = "$want"
	else
		fail "no module symbols in /proc/kallsyms while flamed ran"
	fi
	if [ -r /proc/modules ] && [ -s /proc/modules ]; then
		mod=$(awk 'NR == 1 { print $1 }' /proc/modules)
		line=$(grep -m1 $'\t\\['"$mod"'\\]' /proc/kallsyms)
		addr=$(echo "$line" | awk '{ print $1 }')
		got=$("$SYMQ" --kallsyms "$addr" | cut -f2)
		check "kernel module $mod: '$got'" bash -c "echo '$got' | grep -q ' \\[$mod\\]'"
	else
		echo "     no loadable modules on this kernel: the [bpf] check above stands in"
	fi
fi

finish
