#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: Python functions unwound in BPF among native frames (src/runtime/python.c), on
# Debian's python3 and every CPython pyenv has here. tests/workloads/pychain.py spins in
# <module> -> outer -> hot; each interpreter must show exactly that chain of _[p] frames, under
# the native frames from _start through Py_BytesMain (_Py_UnixMain in 3.7, Py_Main in 3.6), in
# >= 95% of the samples that run Python code (10 runs under bench/busy.sh, load 4-13: the lowest
# of 240 was 98.9%) and >= 85% of all the process's samples, interpreter start-up included.
. "$(dirname "$0")/lib.sh"

SCRIPT="$ROOT/tests/workloads/pychain.py"

# pychain_stats COMM FILE: "chain running total": samples of COMM with the exact Python chain
# under _start...Py_BytesMain, samples running Python code (any pychain.py frame, or an eval
# loop frame left unnamed), and all of COMM's samples.
pychain_stats() {
	awk -v proc="$1" '
		index($0, proc ";") != 1 { next }
		{
			n = $NF
			stack = substr($0, 1, length($0) - length(n) - 1)
			total += n
			k = split(stack, f, ";")
			py = ""
			first = 0
			for (i = 2; i <= k; i++) {
				if (f[i] ~ /_\[p\]$/) {
					if (!first)
						first = i
					py = py (py == "" ? "" : ";") substr(f[i], 1, length(f[i]) - 4)
				}
			}
			if (stack ~ /pychain\.py\)_\[p\]/ || stack ~ /;_PyEval_EvalFrameDefault(;|$)/)
				running += n
			native = ""
			for (i = 2; i < first; i++)
				native = native ";" f[i]
			if (py == "<module> (pychain.py);outer (pychain.py);hot (pychain.py)" &&
			    native ~ /^;_start;.*;(Py_BytesMain|_Py_UnixMain|Py_Main);/)
				chain += n
		}
		END { printf "%d %d %d\n", chain, running, total }' "$2"
}

# check_chain LABEL COMM FILE [MIN]: MIN samples at least (100)
check_chain() {
	local label=$1 comm=$2 file=$3 min=${4:-100} chain running total
	read -r chain running total < <(pychain_stats "$comm" "$file")
	echo "     $label: $chain of $running samples running Python code, $total in all"
	check "$label: >= 95% of Python samples are _start..Py_BytesMain..<module>;outer;hot ($chain/$running)" \
		test "$running" -ge "$min" -a $((chain * 100)) -ge $((running * 95))
	# On a miss, the heaviest stacks without the chain say why (read, not judged).
	[ $((chain * 100)) -ge $((running * 95)) ] ||
		grep "^$comm;" "$file" | grep -v '<module> (pychain.py)_\[p\];outer (pychain.py)_\[p\];hot (pychain.py)_\[p\]' |
		awk '{ print $NF, substr($0, 1, 300) }' | sort -nr | head -8 | sed 's/^/     miss /'
	check "$label: >= 85% of all samples have the chain ($chain/$total)" \
		test "$total" -ge "$min" -a $((chain * 100)) -ge $((total * 85))
}

LINES="$ROOT/tests/workloads/pylines.py"
# The line of each Python frame, read from the workload by its mark, not written down here.
line_of() { grep -n -- "$1" "$LINES" | head -1 | cut -d: -f1; }
LH=$(line_of 'L-HOT')
LO=$(line_of 'L-OUTER')
LM=$(line_of 'L-MODULE')
LDEF=$(line_of '^def hot(')

# pylines_stats FILE: "exact running": samples whose Python frames are exactly <module> at
# line LM, outer at LO and hot at LH, and samples with any pylines.py frame.
pylines_stats() {
	awk -v want="<module> (pylines.py:$LM);outer (pylines.py:$LO);hot (pylines.py:$LH)" '
		{
			n = $NF
			k = split(substr($0, 1, length($0) - length(n) - 1), f, ";")
			py = ""
			for (i = 1; i <= k; i++)
				if (f[i] ~ /_\[p\]$/)
					py = py (py == "" ? "" : ";") substr(f[i], 1, length(f[i]) - 4)
			if (py ~ /pylines\.py/)
				running += n
			if (py == want)
				exact += n
		}
		END { printf "%d %d\n", exact, running }' "$1"
}

# run_lines LABEL PYTHON: --lines names each Python frame's line: the exact line of the call
# in <module> and outer, and hot's one-line loop.
run_lines() {
	local label=$1 py=$2 exact running
	"$FLAMED" -F 499 --lines -o "$T/$label-lines.folded" -- "$py" "$LINES" 1.5 2>"$T/$label-lines.err"
	read -r exact running < <(pylines_stats "$T/$label-lines.folded")
	echo "     $label --lines: $exact of $running samples in pylines.py at exactly $LM, $LO, $LH"
	check "$label --lines: >= 90% of pylines.py samples are <module>:$LM;outer:$LO;hot:$LH ($exact/$running)" \
		test "$running" -ge 100 -a $((exact * 100)) -ge $((running * 90))
	[ $((exact * 100)) -ge $((running * 90)) ] ||
		grep 'pylines.py:' "$T/$label-lines.folded" | grep -o '<module> (pylines.*' | sort | uniq -c |
		sort -nr | head -5 | sed 's/^/     miss /'
}

# run_pprof LABEL PYTHON: pprof's Function.name is the qualname, filename the .py file,
# start_line the def, Line.line the line running (go tool pprof reads them); read back by
# flamed render, the frames are named and kinded as flamed names them.
run_pprof() {
	local label=$1 py=$2
	"$FLAMED" -F 499 -o "$T/$label.pb.gz" -- "$py" "$LINES" 1 2>/dev/null
	go tool pprof -raw "$T/$label.pb.gz" >"$T/$label.raw" 2>&1
	check "$label pprof: hot at $LINES:$LH, start line $LDEF" \
		grep -qF " hot $LINES:$LH s=$LDEF" "$T/$label.raw"
	check "$label pprof: outer at pylines.py:$LO" grep -qF " outer $LINES:$LO s=" "$T/$label.raw"
	go tool pprof -list '^hot$' "$T/$label.pb.gz" >"$T/$label.list" 2>&1
	check "$label pprof -list hot: the source of pylines.py, time on line $LH" \
		grep -qE "^ +[0-9.]+m?s +[0-9.]+m?s +$LH: +for i in range" "$T/$label.list"
	"$FLAMED" render "$T/$label.pb.gz" -o "$T/$label-rt.folded" 2>/dev/null
	check "$label pprof read back: <module>;outer;hot (pylines.py)_[p]" \
		grep -q '<module> (pylines.py)_\[p\];.*outer (pylines.py)_\[p\];.*hot (pylines.py)_\[p\]' "$T/$label-rt.folded"
}

# run_version LABEL PYTHON: command mode and -p PID on one interpreter.
run_version() {
	local label=$1 py=$2 comm pid
	comm=$(basename "$(readlink -f "$py")")
	[ "$py" = /usr/bin/python3 ] && comm=python3
	"$FLAMED" -v -F 499 -o "$T/$label.folded" -- "$py" "$SCRIPT" 2 2>"$T/$label.err"
	check "$label: command mode exit 0" test $? = 0
	# The table's offsets, checked against the interpreter's own description of itself.
	check "$label: layout checked against the interpreter ($(grep -o '[0-9]* offsets agree' "$T/$label.err"))" \
		grep -qE "layout checked against the interpreter's (member tables|_Py_DebugOffsets), ([5-9]|1[0-9]) offsets agree" "$T/$label.err"
	check_chain "$label command" "$comm" "$T/$label.folded"
	# What BPF counted of the walks, said at -v (src/service/session.c).
	check "$label: -v counts the stacks with Python frames and the walks cut" \
		grep -qE 'runtime frames: stacks with Python [1-9][0-9]* \([0-9]+ cut by a failed read' \
		"$T/$label.err"

	"$py" "$SCRIPT" 30 &
	pid=$!
	# The script is running Python code once its module has been compiled and run a while.
	# (the tick count is read at every try: a function, not a $(...) expanded once at the call)
	wait_until 30 ticks_at_least "$pid" 10
	"$FLAMED" -F 499 -d 3 -p "$pid" -o "$T/$label-pid.folded" 2>"$T/$label-pid.err"
	check "$label: -p PID exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	# A process found running: no start-up in its profile, so all of it is the chain. -d is wall
	# time: at load 25 a 2 s run got 41 samples of 998, so the floor here is lower (50: a 90%
	# bar on 50 samples still catches a broken chain) and the run a second longer.
	check_chain "$label -p" "$comm" "$T/$label-pid.folded" 50
	run_lines "$label" "$py"
}

if need_root "python frames" && need_tool "python frames" python3; then
	run_version debian-3.11 /usr/bin/python3

	# SVG: Python frames have their own colour, named in the legend.
	"$FLAMED" -F 499 -o "$T/py.svg" -- /usr/bin/python3 "$SCRIPT" 1.5 2>/dev/null
	check "SVG: well-formed (xmllint)" xmllint --noout "$T/py.svg"
	check "SVG: hot (pychain.py) drawn, Python in the legend" \
		bash -c "grep -q '<title>hot (pychain.py) (' '$T/py.svg' && grep -q '>Python</text>' '$T/py.svg'"
	# Every Python frame in the Python frame hue (src/render/svg.c HUE_PYFRAME: r 215-255,
	# g 185-240, b 40-80); the same names without their kind (_[p] removed from the folded
	# profile, then rendered) are drawn in the hot palette and fail it (#fa2206 #e58e18 #d5b336).
	svg_hue_check "$T/py.svg" pychain.py "Python frame" 3 215 255 185 240 40 80

	# System-wide, one shot (no -p, no command): a python3 started before flamed, under a name
	# of its own (a symlink to Debian's python3: other suites run python3 system-wide) is held
	# to command mode's bar over its samples.
	ln -sf /usr/bin/python3 "$T/pysys"
	"$T/pysys" "$SCRIPT" 30 &
	pid=$!
	wait_until 30 ticks_at_least "$pid" 10
	"$FLAMED" -F 499 -d 3 -o "$T/sys.folded" 2>"$T/sys.err"
	check "system-wide: exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check_chain "system-wide" pysys "$T/sys.folded" 50

	for minor in 6 7 8 9 10 11 12 13; do
		py=$(pyenv_python "$minor")
		if [ -z "$py" ]; then
			skip "pyenv CPython 3.$minor: not installed under pyenv root"
			continue
		fi
		run_version "pyenv-3.$minor" "$py"
	done

	# pprof's functions and lines, on the oldest line table format, 3.10's and the newest.
	if need_tool "python frames in pprof" go; then
		for minor in 8 10 13; do
			py=$(pyenv_python "$minor")
			if [ -z "$py" ]; then
				skip "pprof of pyenv CPython 3.$minor: not installed under pyenv root"
				continue
			fi
			run_pprof "pprof-3.$minor" "$py"
		done
		run_pprof pprof-debian-3.11 /usr/bin/python3
	fi

	# A version without a known layout (Debian's static python3.11 under the name python3.14):
	# named once as unsupported, native frames kept, no _[p] frame.
	cp "$(readlink -f /usr/bin/python3)" "$T/python3.14"
	"$FLAMED" -F 499 -o "$T/py314.folded" -- "$T/python3.14" "$SCRIPT" 1 2>"$T/py314.err"
	check "CPython 3.14: exit 0" test $? = 0
	check "CPython 3.14: reported once as without a known layout" \
		test "$(grep -c 'CPython 3.14 .*has no known layout' "$T/py314.err")" = 1
	check "CPython 3.14: native frames only (no _[p])" \
		bash -c "! grep -q '_\[p\]' '$T/py314.folded' && grep -q '_PyEval_EvalFrameDefault' '$T/py314.folded'"

	# Virtualenvs: a venv's python3 is a symlink to the base interpreter (the default), or a
	# copy of it (--copies) whose name, python3, carries no version: read from the process
	# (Py_Version, 3.11+). Debian's static 3.11 and pyenv's 3.12 (libpython beside it).
	for base in /usr/bin/python3 "$(pyenv_python 12)"; do
		[ -n "$base" ] || { skip "venv of pyenv CPython 3.12: not installed"; continue; }
		v=$("$base" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
		for how in symlinks copies; do
			"$base" -m venv --without-pip --$how "$T/venv-$v-$how" 2>"$T/venv.err" || {
				fail "venv $v --$how: cannot be made ($(head -c 200 "$T/venv.err"))"
				continue
			}
			vpy="$T/venv-$v-$how/bin/python3"
			"$FLAMED" -v -F 499 -o "$T/venv-$v-$how.folded" -- "$vpy" "$SCRIPT" 2 \
				2>"$T/venv-$v-$how.err"
			check "venv $v --$how: exit 0" test $? = 0
			# The name executed, bin/python3, is the process's name either way.
			check_chain "venv $v --$how" python3 "$T/venv-$v-$how.folded"
		done
	done
	# A pyenv shim: a shell script that execs pyenv, which execs the interpreter; command mode
	# follows the execs to it.
	shim="$(pyenv root 2>/dev/null)/shims/python3"
	py=$(pyenv_python 12)
	if [ -x "$shim" ] && [ -n "$py" ]; then
		PYENV_VERSION=$(basename "$(dirname "$(dirname "$py")")") "$FLAMED" -F 499 \
			-o "$T/shim.folded" -- "$shim" "$SCRIPT" 2 2>"$T/shim.err"
		check "pyenv shim python3 (PYENV_VERSION 3.12): exit 0" test $? = 0
		# pyenv execs versions/3.12.N/bin/python3 (a symlink): the process is named python3.
		check_chain "pyenv shim" python3 "$T/shim.folded"
	else
		skip "pyenv shim: no pyenv shims or CPython 3.12 under pyenv root"
	fi

	# libpython loaded by dlopen() into a process already profiled (an embedding program):
	# ~250 samples of native spinning come first, then the script's frames must be named.
	py=$(pyenv_python 12)
	lib=$(ls "${py%/bin/*}"/lib/libpython3.12.so.1.0 2>/dev/null)
	if [ -n "$lib" ]; then
		PYTHONHOME=${py%/bin/*} "$FLAMED" -F 499 -o "$T/embed.folded" -- "$WL/pyembed" 0.5 \
			"$lib" "$SCRIPT" 2 2>"$T/embed.err"
		check "embedded libpython: exit 0" test $? = 0
		n=$(awk '/;main;native_first / { t += $NF } END { print t + 0 }' "$T/embed.folded")
		check "embedded libpython: the process was profiled before the dlopen ($n samples)" \
			test "$n" -ge 50
		read -r hit all < <(awk '/\(pychain\.py\)_\[p\]/ { all += $NF
			if (/;main;PyRun_SimpleString.*;<module> \(<string>\)_\[p\];(.*;)?<module> \(pychain\.py\)_\[p\];(.*;)?outer \(pychain\.py\)_\[p\];(.*;)?hot \(pychain\.py\)_\[p\]/)
				hit += $NF } END { print hit + 0, all + 0 }' "$T/embed.folded")
		check "embedded libpython: main;PyRun_SimpleString..;<module>;<module>;outer;hot in >= 90% of the script's samples ($hit of $all)" \
			test "$all" -ge 300 -a "$((hit * 100))" -ge "$((all * 90))"
	else
		fail "embedded libpython: pyenv's libpython3.12.so.1.0 not found"
	fi

	# A script shorter than a drain (0.4 s of wall time): its code objects are named while it
	# runs, as each new stack with Python frames is announced (the new_stacks ring buffer),
	# not at the drain once a second, when the process is gone ("[python code 0x...]" in
	# every sample before). The stacks of its last instants may still go unnamed: 5% allowed.
	"$FLAMED" -F 999 -o "$T/short.folded" -- /usr/bin/python3 "$SCRIPT" 0.4 wall \
		2>"$T/short.err"
	check "script shorter than a drain: exit 0" test $? = 0
	short_script_checks "$T/short.folded" pychain.py \
		'<module> (pychain.py)_[p];outer (pychain.py)_[p];hot (pychain.py)_[p]' \
		'[python code 0x' Python "code object"

	# --python off: the eval loop's native frames stay, no Python frame.
	"$FLAMED" -F 499 --python off -o "$T/off.folded" -- /usr/bin/python3 "$SCRIPT" 1 2>/dev/null
	check "--python off: no _[p] frame, _PyEval_EvalFrameDefault kept" \
		bash -c "! grep -q '_\[p\]' '$T/off.folded' && grep -q '_PyEval_EvalFrameDefault' '$T/off.folded'"
	"$FLAMED" --python maybe -d 1 -o "$T/bad.folded" 2>"$T/bad.err"
	check "--python maybe: refused with a message" \
		bash -c "[ $? != 0 ] && grep -q \"invalid --python 'maybe'\" '$T/bad.err'"
fi
finish
