#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: JavaScript functions of Node.js named from V8's own metadata (src/runtime/v8.c,
# bpf/v8_unwind.h), without --perf-basic-prof. tests/workloads/jschain.js spins in
# main -> mid -> hotJsFunction: the chain must be in >= 80% of the samples running the script
# (unloaded: 284 of 305, the rest start-up); with --perf-basic-prof, the perf map (--v8 off)
# and V8's metadata name the same hot function.
. "$(dirname "$0")/lib.sh"

JS="$ROOT/tests/workloads/jschain.js"

# chain_stats FILE: "chain running": node's samples whose JavaScript frames end in
# main;mid;hotJsFunction (in that order, nothing JavaScript below), and samples running the
# script (any jschain.js frame, an unnamed V8 function, or [unknown] code). Samples in V8's
# parser or compilers, named natively under the script's frames, run V8, not the script:
# --always-turbofan compiles every function on the main thread, 15-20% of a 2 s run.
chain_stats() {
	awk '
		index($0, "node;") != 1 { next }
		/v8::internal::(compiler|maglev)::|v8::internal::(Compiler|Parser)::/ { next }
		{
			n = $NF
			stack = substr($0, 1, length($0) - length(n) - 1)
			if (stack ~ /\(jschain\.js\)_\[v\]/ || stack ~ /\[v8 function/ || stack ~ /\[unknown\]/)
				running += n
			k = split(stack, f, ";")
			js = ""
			for (i = 2; i <= k; i++)
				if (f[i] ~ /_\[v\]$/)
					js = js ";" f[i]
			if (js ~ /;main \(jschain\.js\)_\[v\];mid \(jschain\.js\)_\[v\];hotJsFunction \(jschain\.js\)_\[v\]$/)
				chain += n
		}
		END { printf "%d %d\n", chain, running }' "$1"
}

NCHAIN='main (jschain.js)_[v];mid (jschain.js)_[v];hotJsFunction (jschain.js)_[v]'

# top_leaf FILE: the user frame most samples of node end in (kernel frames left out).
top_leaf() {
	awk 'index($0, "node;") == 1 {
			n = $NF
			stack = substr($0, 1, length($0) - length(n) - 1)
			gsub(/;[^;]*_\[k\]/, "", stack)
			k = split(stack, f, ";")
			c[f[k]] += n
		}
		END { for (l in c) if (c[l] > best) { best = c[l]; top = l } print top }' "$1"
}

if need_root "node frames" && need_tool "node frames" node; then
	# node writes nothing into its directory without flags; $T all the same.
	(cd "$T" && "$FLAMED" -o "$T/chain.folded" -- node "$JS" 3 >"$T/chain.out" 2>"$T/chain.err")
	check "flamed -- node jschain.js: exit 0" test $? = 0
	read -r chain running < <(chain_stats "$T/chain.folded")
	echo "     $chain of $running samples running jschain.js have main;mid;hotJsFunction"
	check ">= 80% of the script's samples are main;mid;hotJsFunction _[v] ($chain/$running)" \
		test "$running" -ge 100 -a $((chain * 100)) -ge $((running * 80))
	[ $((chain * 100)) -ge $((running * 80)) ] || heaviest_misses "$T/chain.folded" "$NCHAIN"
	check "the chain sits under node's native entry (Builtins_JSEntry)" \
		grep -q 'Builtins_JSEntry;.*;main (jschain\.js)_\[v\];mid (jschain\.js)_\[v\];hotJsFunction (jschain\.js)_\[v\]' "$T/chain.folded"
	check "no metadata warning for this node" bash -c "! grep -q 'v8:' '$T/chain.err'"

	# Each tier of V8 alone: Ignition (bytecode handlers, embedded builtins), Sparkplug
	# (baseline code, whose frameless calls go to the builtins node remaps beside its code
	# range: read as builtins there too) and TurboFan.
	for tier in "Ignition:--no-opt --no-sparkplug --no-maglev" \
		"Sparkplug:--sparkplug --always-sparkplug --no-opt" "TurboFan:--always-turbofan"; do
		name=${tier%%:*} flags=${tier#*:}
		# shellcheck disable=SC2086 # the flags are words
		(cd "$T" && "$FLAMED" -o "$T/$name.folded" -- node $flags "$JS" 2 >/dev/null \
			2>"$T/$name.err")
		check "$name ($flags): exit 0" test $? = 0
		read -r chain running < <(chain_stats "$T/$name.folded")
		check "$name: >= 80% of the script's samples are main;mid;hotJsFunction _[v] ($chain/$running)" \
			test "$running" -ge 100 -a $((chain * 100)) -ge $((running * 80))
		[ $((chain * 100)) -ge $((running * 80)) ] || heaviest_misses "$T/$name.folded" "$NCHAIN"
	done

	# A script shorter than a drain (0.4 s of wall time): its functions are named while it
	# runs, as each new stack with JavaScript frames is announced, not at the next drain, when
	# the process is gone. The stacks of its last instants may still go unnamed: 5% allowed.
	(cd "$T" && "$FLAMED" -F 999 -o "$T/short.folded" -- node "$JS" 0.4 wall >/dev/null \
		2>"$T/short.err")
	check "script shorter than a drain: exit 0" test $? = 0
	# Judged under main's loop: the script's last line (console.log) loads node's console
	# modules, a fixed CPU cost that on a loaded machine was a quarter of the 0.4 s.
	short_script_checks "$T/short.folded" jschain.js \
		'main (jschain.js)_[v];mid (jschain.js)_[v];hotJsFunction (jschain.js)_[v]' \
		'[v8 function' JavaScript function 80 'main (jschain.js)_[v]'

	# --lines: each function's first line, read from the workload, not written down here.
	(cd "$T" && "$FLAMED" --lines -o "$T/lines.folded" -- node "$JS" 2 >/dev/null 2>&1)
	lh=$(grep -n '^function hotJsFunction' "$JS" | cut -d: -f1)
	lm=$(grep -n '^function mid' "$JS" | cut -d: -f1)
	lmain=$(grep -n '^function main' "$JS" | cut -d: -f1)
	want="main (jschain.js:$lmain)_[v];mid (jschain.js:$lm)_[v];hotJsFunction (jschain.js:$lh)_[v]"
	check "--lines: $want" grep -qF ";$want" "$T/lines.folded"
	grep -qF ";$want" "$T/lines.folded" ||
		grep -oE '[^;]* \(jschain\.js[^)]*\)_\[v\]' "$T/lines.folded" | sort | uniq -c |
		sort -nr | head -8 | sed 's/^/     seen /'

	# pprof: the function, its script and first line; read back as the same _[v] names.
	(cd "$T" && "$FLAMED" -o "$T/chain.pb.gz" -- node "$JS" 1 >/dev/null 2>&1)
	"$FLAMED" render "$T/chain.pb.gz" -o "$T/back.folded" 2>/dev/null
	check "pprof read back: main;mid;hotJsFunction _[v]" \
		grep -q 'main (jschain\.js)_\[v\];mid (jschain\.js)_\[v\];hotJsFunction (jschain\.js)_\[v\] ' "$T/back.folded"
	if need_tool "node frames in pprof" go; then
		go tool pprof -raw "$T/chain.pb.gz" >"$T/raw.txt" 2>&1
		check "go tool pprof: hotJsFunction, jschain.js, start line $lh" \
			grep -q "hotJsFunction .*/jschain\.js:0 s=$lh\$" "$T/raw.txt"
		grep -q "hotJsFunction .*/jschain\.js:0 s=$lh\$" "$T/raw.txt" ||
			grep -m4 'hotJsFunction' "$T/raw.txt" | sed 's/^/     seen /'
	fi

	# A node without .symtab (strip): the builtins' range is unknown, reported once;
	# compiled functions are still named (unloaded: 162 of 205 samples had the chain).
	if need_tool "stripped node" strip; then
		strip -o "$T/node" "$(command -v node)"
		(cd "$T" && "$FLAMED" -o "$T/strip.folded" -- "$T/node" "$JS" 2 >/dev/null 2>"$T/strip.err")
		check "stripped node: one warning, native interpreter frames" \
			test "$(grep -c 'has no v8_Default_embedded_blob_code_' "$T/strip.err")" = 1
		read -r chain running < <(chain_stats "$T/strip.folded")
		check "stripped node: >= 50% of the script's samples have the compiled chain ($chain/$running)" \
			test "$running" -ge 50 -a $((chain * 100)) -ge $((running * 50))
		rm -f "$T/node"
	fi

	# --v8 off: no JavaScript frames (the JIT code is [unknown] without a perf map).
	(cd "$T" && "$FLAMED" --v8 off -o "$T/off.folded" -- node "$JS" 1 >/dev/null 2>&1)
	check "--v8 off: no _[v] frames, [unknown] JIT code instead" \
		bash -c "! grep -q '_\[v\]' '$T/off.folded' && grep -q '\[unknown\]' '$T/off.folded'"

	# --perf-basic-prof: the perf map (--v8 off) and V8's metadata, on the same process at
	# once, agree on the hot function.
	(cd "$T" && exec node --perf-basic-prof "$JS" 8 >/dev/null 2>&1) &
	pid=$!
	wait_until 30 ticks_at_least "$pid" 50
	"$FLAMED" --v8 off -p "$pid" -d 3 -o "$T/pm.folded" 2>"$T/pm.err" &
	a=$!
	"$FLAMED" -p "$pid" -d 3 -o "$T/v8.folded" 2>"$T/v8.err" &
	b=$!
	wait "$a"
	ra=$?
	wait "$b"
	rb=$?
	wait "$pid"
	rm -f "/tmp/perf-$pid.map"
	pm=$(top_leaf "$T/pm.folded")
	v8=$(top_leaf "$T/v8.folded")
	echo "     perf map: $pm; V8 metadata: $v8"
	check "both runs exit 0" test "$ra" = 0 -a "$rb" = 0
	check "perf map's hottest frame is hotJsFunction (_[j])" \
		bash -c "[[ '$pm' == *hotJsFunction*_\[j\] ]]"
	check "V8 metadata's hottest frame is hotJsFunction (jschain.js)_[v]" \
		test "$v8" = "hotJsFunction (jschain.js)_[v]"

	"$FLAMED" --v8 maybe -d 1 -o "$T/bad.folded" 2>"$T/bad.err"
	check "--v8 maybe: refused with a message" \
		bash -c "[ $? != 0 ] && grep -q \"invalid --v8 'maybe'\" '$T/bad.err'"
fi
finish
