#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: Python frames in the shapes real programs take (tests/workloads/pyshapes.py), on
# Debian's python3 (3.11), pyenv's 3.12 and 3.13 (the versions CI must cover) and 3.10 (the
# older frame-object layout): two threads in proportion, Python -> C (hashlib into libcrypto),
# C -> Python (sorted's key= callback), recursion deeper than the stack cap (cut and counted),
# a raised sys.setrecursionlimit, generators, an asyncio task, exceptions in the hot loop; and
# Python processes started before and while the daemon runs (continuous mode).
. "$(dirname "$0")/lib.sh"

SHAPES="$ROOT/tests/workloads/pyshapes.py"
SECS=1.2

# pystats FILE WANT [BELOW]: "hit python total" over the folded FILE: samples whose Python frames
# (the _[p] frames, suffix removed, joined by ';') match the awk regex WANT and, when BELOW is
# given, whose native frames after the last Python frame match BELOW (a C callee's frames);
# samples with any pyshapes.py frame; all samples.
pystats() {
	awk -v want="$2" -v below="${3:-}" '
		{
			n = $NF
			k = split(substr($0, 1, length($0) - length(n) - 1), f, ";")
			py = ""
			last = 0
			for (i = 1; i <= k; i++)
				if (f[i] ~ /_\[p\]$/) {
					py = py (py == "" ? "" : ";") substr(f[i], 1, length(f[i]) - 4)
					last = i
				}
			tail = ""
			for (i = last + 1; i <= k; i++)
				tail = tail ";" f[i]
			total += n
			if (py ~ /pyshapes\.py/)
				python += n
			if (py ~ want && (below == "" || tail ~ below))
				hit += n
		}
		END { printf "%d %d %d\n", hit, python, total }' "$1"
}

# shape LABEL PYTHON SHAPE: profiles one shape; its folded profile is $T/LABEL-SHAPE.folded,
# flamed's messages $T/LABEL-SHAPE.err and the workload's output $T/LABEL-SHAPE.out.
shape() {
	"$FLAMED" -F 499 -o "$T/$1-$3.folded" -- "$2" "$SHAPES" "$3" "$SECS" \
		>"$T/$1-$3.out" 2>"$T/$1-$3.err"
}

# expect LABEL SHAPE PCT WHAT WANT [BELOW]: at least PCT% of the samples running pyshapes.py
# have Python frames matching WANT (and native callees matching BELOW); the heaviest misses are
# printed when not.
expect() {
	local label=$1 sh=$2 pct=$3 what=$4 hit python total
	read -r hit python total < <(pystats "$T/$label-$sh.folded" "$5" "${6:-}")
	check "$label $sh: $what in >= $pct% of pyshapes.py samples ($hit/$python, $total in all)" \
		test "$python" -ge 100 -a $((hit * 100)) -ge $((python * pct))
	[ $((hit * 100)) -ge $((python * pct)) ] ||
		awk '{ print $NF, substr($0, 1, 400) }' "$T/$label-$sh.folded" | sort -nr | head -5 |
		sed 's/^/     miss /'
}

# truncated FILE: the run's count of cut stacks, from flamed's closing notice.
truncated() {
	sed -nE 's/.* ([0-9]+) truncated\).*/\1/p' "$1" | tail -1
}

# two_threads LABEL PYTHON SHAPE A B ABOVE: SHAPE runs the functions A and B in two threads (A
# all of SECS, B half of it) and prints "A CPU B CPU", their threads' CPU seconds: both are named
# under the Python frames ABOVE (an awk regex) and under start_thread, their samples in
# proportion to their CPU time.
two_threads() {
	local label=$1 py=$2 sh=$3 fa=$4 fb=$5 above=$6 a b python total ca cb tin tall
	shape "$label" "$py" "$sh"
	read -r a python total < <(pystats "$T/$label-$sh.folded" "$above;$fa \\(pyshapes\\.py\\)(;spin \\(pyshapes\\.py\\))?\$")
	read -r b python total < <(pystats "$T/$label-$sh.folded" "$above;$fb \\(pyshapes\\.py\\)(;spin \\(pyshapes\\.py\\))?\$")
	# Under start_thread: all but a rare sample whose native unwind stopped early (one taken
	# in a thread's first or last instructions, where no table row describes the frame yet).
	read -r tin tall < <(awk -v re="($fa|$fb) \\(pyshapes\\.py\\)_\\[p\\]" '$0 ~ re { n = $NF; all += n
		if (/;start_thread;/) under += n } END { print under + 0, all + 0 }' "$T/$label-$sh.folded")
	check "$label $sh: $fa and $fb stacks are under start_thread ($tin of $tall samples)" \
		test "$tall" -ge 75 -a "$((tin * 100))" -ge "$((tall * 99))"
	[ "$tin" = "$tall" ] || grep -E "($fa|$fb) \(pyshapes\.py\)_\[p\]" "$T/$label-$sh.folded" |
		grep -v ';start_thread;' | head -3 | cut -c1-300
	read -r ca cb < <(awk -v fa="$fa" '$1 == fa { print $2, $4 }' "$T/$label-$sh.out")
	echo "     $label $sh: $fa $a samples, $fb $b; CPU $fa ${ca:-?} s, $fb ${cb:-?} s"
	check "$label $sh: both threads' functions named ($fa $a, $fb $b samples)" \
		test "$a" -ge 50 -a "$b" -ge 25
	[ "$a" -ge 50 ] && [ "$b" -ge 25 ] ||
		awk '{ print $NF, substr($0, 1, 400) }' "$T/$label-$sh.folded" | sort -nr | head -5 |
		sed 's/^/     miss /'
	# Shares of samples vs shares of CPU time: within 0.12 (a 3-sigma binomial margin at 300
	# samples is 0.08; the rest is sampling skew between threads on a loaded machine).
	check "$label $sh: in proportion to their CPU time ($fa's share of samples vs CPU)" \
		awk -v a="$a" -v b="$b" -v ca="${ca:-0}" -v cb="${cb:-0}" 'BEGIN {
			if (a + b == 0 || ca + cb == 0) exit 1
			d = a / (a + b) - ca / (ca + cb); if (d < 0) d = -d
			printf "     share of samples %.3f, of CPU %.3f\n", a / (a + b), ca / (ca + cb)
			exit !(d <= 0.12) }'
}

# The name of the module of 3.7-3.10 code objects is co_name (no co_qualname): a method is
# named without its class there, so patterns accept both.
run_version() {
	local label=$1 py=$2 hit python total tr

	# Two threads in two functions, each under threading's bootstrap under start_thread, in
	# proportion to the CPU time each used (the workload prints it): beta sleeps half its time.
	two_threads "$label" "$py" threads alpha beta '_bootstrap \(threading\.py\);.*'
	# The same through concurrent.futures: gamma and delta, each the work item a pool worker
	# runs (_worker, then _WorkItem.run; "run" alone before 3.11's qualnames).
	two_threads "$label" "$py" futures gamma delta \
		'_bootstrap \(threading\.py\);.*;_worker \(thread\.py\);([A-Za-z_]+\.)?run \(thread\.py\)'

	# Python -> C: the Python caller, then sha256's native frames below it (libcrypto's
	# SHA256_Update and its assembly, or CPython's own _sha256 where built without OpenSSL).
	shape "$label" "$py" hash
	expect "$label" hash 80 "<module>;hasher above sha256's native frames" \
		'^<module> \(pyshapes\.py\);hasher \(pyshapes\.py\)$' ';[^;]*([Ss][Hh][Aa]256|sha2)[^;]*(;|$)'

	# C -> Python: py_key above the sort's native frames (list_sort) above sorter.
	shape "$label" "$py" sortkey
	expect "$label" sortkey 80 "<module>;sorter;py_key" \
		'^<module> \(pyshapes\.py\);sorter \(pyshapes\.py\);py_key \(pyshapes\.py\)'
	# Debian's python3.11 has no .symtab: list_sort, a static function, is an unnamed
	# [python3.11+0x...] frame there, so any native frame between them counts; pyenv's builds
	# name it.
	local named=1
	case $label in debian-*) named=0 ;; esac
	read -r hit python < <(awk -v named="$named" '
		{
			n = $NF
			k = split(substr($0, 1, length($0) - length(n) - 1), f, ";")
			s = l = 0
			for (i = 1; i <= k; i++) {
				if (f[i] == "sorter (pyshapes.py)_[p]")
					s = i
				else if (s && (f[i] ~ /^list_sort/ || (!named && f[i] !~ /_\[p\]$/)))
					l = i
				else if (l && f[i] ~ /^py_key \(pyshapes\.py\)_\[p\]/) {
					hit += n
					break
				}
			}
			if (/pyshapes\.py\)_\[p\]/)
				python += n
		}
		END { printf "%d %d\n", hit, python }' "$T/$label-sortkey.folded")
	check "$label sortkey: sorter;list_sort..(native$([ "$named" = 1 ] || echo ', unnamed'));py_key in >= 80% of samples ($hit/$python)" \
		test "$python" -ge 100 -a $((hit * 100)) -ge $((python * 80))

	# Recursion 300 deep: more frames than a stack holds (127). The innermost are kept, all
	# named (down...down;leaf), and the cut stacks counted in flamed's summary.
	for sh in recurse reclimit; do
		shape "$label" "$py" "$sh"
		expect "$label" "$sh" 90 "only down..down;leaf (no garbage)" \
			'^down \(pyshapes\.py\)(;down \(pyshapes\.py\))+;leaf \(pyshapes\.py\)(;spin \(pyshapes\.py\))?$'
		read -r hit python total < <(pystats "$T/$label-$sh.folded" 'leaf \(pyshapes\.py\)')
		tr=$(truncated "$T/$label-$sh.err")
		check "$label $sh: cut stacks counted ($tr truncated of $total, $hit in leaf)" \
			test "${tr:-0}" -ge "$hit" -a "$hit" -ge 100
		check "$label $sh: exit 0, no Python error" \
			bash -c "! grep -q 'Error' '$T/$label-$sh.out' '$T/$label-$sh.err'"
	done

	# A generator's body: its frame called from the consumer's.
	shape "$label" "$py" gen
	expect "$label" gen 90 "<module>;consume;produce (a generator)" \
		'^<module> \(pyshapes\.py\);consume \(pyshapes\.py\);produce \(pyshapes\.py\)$'

	# An asyncio task: the event loop's frames, then the task's coroutine and the one it awaits.
	shape "$label" "$py" asyncio
	expect "$label" asyncio 80 "asyncio.run..._run_once.._run;worker;crunch (coroutines)" \
		'^<module> \(pyshapes\.py\);run \(runners\.py\);.*_run_once \(base_events\.py\);.*_run \(events\.py\);worker \(pyshapes\.py\);crunch \(pyshapes\.py\)(;spin \(pyshapes\.py\))?$'

	# An exception raised and caught in every round of the hot loop.
	shape "$label" "$py" exc
	expect "$label" exc 90 "<module>;outer;hot with exceptions" \
		'^<module> \(pyshapes\.py\);outer \(pyshapes\.py\);hot \(pyshapes\.py\)$'

	# Code made by exec() in a loop: each genNN lives microseconds, and the next one takes its
	# code object's and strings' memory. A name read across a free had mixed two objects'
	# parts ("gen19 (gen26.py)", a file name as the function): 5-9% of their frames. A frame
	# whose code was free at every read stays unnamed: 0-55% of them, with the machine's load
	# (flamed reads later), so the check asks for 50 frames of that code and 10 named.
	local good bad unk
	shape "$label" "$py" execloop
	read -r good bad unk < <(gen_names "$T/$label-execloop.folded")
	check "$label execloop: no generated function misnamed ($bad of $((good + bad)) frames, $unk unnamed)" \
		test "$bad" = 0 -a "$good" -ge 10 -a $((good + bad + unk)) -ge 50
	[ "$bad" = 0 ] || grep -oE '[^;]*gen[0-9]{2}[^;]*_\[p\]' "$T/$label-execloop.folded" |
		grep -vE '^(gen([0-9]{2}) \(gen\2|<module> \(gen[0-9]{2})\.py\)_\[p\]$' | sort | uniq -c |
		sort -nr | head -5 | sed 's/^/     misnamed /'
}

# gen_names FILE: "good bad unnamed" over the execloop shape's Python frames: good are genNN
# frames of the file genNN.py (or its <module>), bad any other frame naming a genNN, unnamed
# the frames no name was read for.
gen_names() {
	awk '{
		n = $NF
		k = split(substr($0, 1, length($0) - length(n) - 1), f, ";")
		for (i = 1; i <= k; i++) {
			if (f[i] ~ /^\[python code /)
				unk += n
			if (f[i] !~ /_\[p\]$/ || f[i] !~ /gen[0-9][0-9]/)
				continue
			if (match(f[i], /^gen[0-9][0-9] \(gen[0-9][0-9]\.py\)_\[p\]$/) &&
			    substr(f[i], 4, 2) == substr(f[i], 11, 2))
				good += n
			else if (f[i] ~ /^<module> \(gen[0-9][0-9]\.py\)_\[p\]$/)
				good += n
			else
				bad += n
		}
	}
	END { printf "%d %d %d\n", good, bad, unk }' "$1"
}

# late_stats DIR NAME: "chain python" over the daemon's windows for the script NAME.py.
late_stats() {
	cat "$1"/flamed-*.folded 2>/dev/null | awk -v name="$2" '
		{
			n = $NF
			if (index($0, "(" name ".py)_[p]") == 0)
				next
			python += n
			if (index($0, "<module> (" name ".py)_[p];outer (" name ".py)_[p];hot (" name ".py)_[p]"))
				chain += n
		}
		END { printf "%d %d\n", chain, python }'
}
late_seen() { [ "$(late_stats "$1" "$2" | cut -d' ' -f2)" -ge "$3" ]; }

# fn_samples FILE NAME: samples of pyreuse.py's function NAME in a folded FILE.
fn_samples() {
	awk -v f="$2 ($2.py)_[p]" 'index($0, f) { t += $NF } END { print t + 0 }' "$1"
}
windows_at_least() { [ "$(ls "$1"/flamed-*.folded 2>/dev/null | wc -l)" -ge "$2" ]; }
# run_reuse LABEL PYTHON: a code object freed and its memory taken by another one
# (tests/workloads/pyreuse.py) is named anew in the next window, not by the name cached.
run_reuse() {
	local label=$1 py=$2 R="$T/reuse-$1" rp fp t w1 w2
	"$py" "$ROOT/tests/workloads/pyreuse.py" >"$T/reuse.out" &
	rp=$!
	wait_for "$T/reuse.out" '^alpha' 30
	"$FLAMED" -v -p "$rp" -F 499 --interval 3600 --formats folded --output-dir "$R" \
		2>"$T/reuse.err" &
	fp=$!
	wait_for "$T/reuse.err" "profiling" 60
	# Window 1: 1.5 s of alpha_fn's CPU time, then closed.
	t=$(cpu_ticks "$rp")
	wait_until 60 ticks_at_least "$rp" $((t + 150))
	kill -USR1 "$fp"
	wait_until 60 windows_at_least "$R" 1
	# alpha_fn freed; beta_fn made until one lies at its address; window 2: 1.5 s of it.
	kill -USR1 "$rp"
	wait_for "$T/reuse.out" '^beta' 60
	check "$label: reuse: beta_fn's code object lies where alpha_fn's did ($(tail -1 "$T/reuse.out"))" \
		grep -q '^beta 0x' "$T/reuse.out"
	t=$(cpu_ticks "$rp")
	wait_until 60 ticks_at_least "$rp" $((t + 150))
	kill -USR1 "$fp"
	wait_until 60 windows_at_least "$R" 2
	kill "$rp"
	wait "$rp" 2>/dev/null
	kill -TERM "$fp"
	wait "$fp"
	check "$label: reuse: flamed exits 0" test $? = 0
	w1=$(ls "$R"/flamed-*.folded | sort | sed -n 1p)
	w2=$(ls "$R"/flamed-*.folded | sort | sed -n 2p)
	check "$label: reuse: window 1 names alpha_fn ($(fn_samples "$w1" alpha_fn) samples), not beta_fn ($(fn_samples "$w1" beta_fn))" \
		test "$(fn_samples "$w1" alpha_fn)" -ge 100 -a "$(fn_samples "$w1" beta_fn)" = 0
	check "$label: reuse: window 2 names beta_fn ($(fn_samples "$w2" beta_fn) samples), not the cached alpha_fn ($(fn_samples "$w2" alpha_fn))" \
		test "$(fn_samples "$w2" beta_fn)" -ge 100 -a "$(fn_samples "$w2" alpha_fn)" = 0
	# and the names checked and still right (<module> at every drain) far outnumber it.
	local acct checked replaced
	acct=$(grep -o '[0-9]* checked again in later drains, [0-9]* found replaced' "$T/reuse.err")
	read -r checked replaced < <(echo "$acct" | awk '{ print $1 + 0, $7 + 0 }')
	check "$label: reuse: -v counts the replaced name, and more names checked and kept ($acct)" \
		test "$replaced" -ge 1 -a $((replaced * 2)) -lt "$checked"
}

if need_root "python shapes" && need_tool "python shapes" python3; then
	run_version debian-3.11 /usr/bin/python3
	for minor in 10 12 13; do
		py=$(pyenv_python "$minor")
		if [ -z "$py" ]; then
			skip "pyenv CPython 3.$minor: not installed under pyenv root"
			continue
		fi
		run_version "pyenv-3.$minor" "$py"
	done

	run_reuse debian-3.11 /usr/bin/python3
	for minor in 9 13; do
		py=$(pyenv_python "$minor")
		if [ -z "$py" ]; then
			skip "reuse: pyenv CPython 3.$minor: not installed under pyenv root"
			continue
		fi
		run_reuse "pyenv-3.$minor" "$py"
	done

	# Continuous mode: one Python process started before the daemon, one while it runs. The
	# scripts are copies under names of their own (other suites run python3 system-wide).
	D="$T/windows"
	cp "$ROOT/tests/workloads/pychain.py" "$T/early_$$.py"
	cp "$ROOT/tests/workloads/pychain.py" "$T/late_$$.py"
	python3 "$T/early_$$.py" 60 &
	ep=$!
	wait_until 30 ticks_at_least "$ep" 10
	# The windows are pushed too (Pyroscope's Connect API, to the test receiver): Python frames
	# travel in the pushed pprof as they do in the written one.
	port=$(free_port)
	python3 "$ROOT/tests/e2e/pyroscope_receiver.py" --port "$port" --dir "$T/recv" \
		>"$T/recv.log" 2>&1 &
	rp=$!
	wait_for "$T/recv.log" '^ready' 30
	"$FLAMED" -F 499 --interval 2 --formats folded --output-dir "$D" \
		--push-url "http://127.0.0.1:$port/" 2>"$T/daemon.err" &
	fp=$!
	check "daemon: started" wait_for "$T/daemon.err" "profiling the whole system" 60
	python3 "$T/late_$$.py" 60 &
	lp=$!
	# Named in a window: 100 samples of each script in the windows written so far.
	check "daemon: the process started before it is named in a window" \
		wait_until 60 late_seen "$D" "early_$$" 100
	check "daemon: the process started while it runs is named in a window" \
		wait_until 60 late_seen "$D" "late_$$" 100
	kill "$ep" "$lp" 2>/dev/null
	wait "$ep" "$lp" 2>/dev/null
	kill -TERM "$fp"
	wait "$fp"
	check "daemon: exits 0" test $? = 0
	kill "$rp" 2>/dev/null
	wait "$rp" 2>/dev/null
	for name in "early_$$" "late_$$"; do
		read -r chain python < <(late_stats "$D" "$name")
		check "daemon: ${name%_*}: >= 90% of its Python samples are <module>;outer;hot ($chain/$python)" \
			test "$python" -ge 100 -a $((chain * 100)) -ge $((python * 90))
	done
	if need_tool "pushed Python frames" go; then
		# Every pushed window decoded; the traces of all, with the script's frames in order.
		: >"$T/pushed.traces"
		for f in "$T"/recv/*.pb.gz; do
			[ -e "$f" ] || continue
			HOME=$T go tool pprof -symbolize=none -traces "$f" >>"$T/pushed.traces" 2>&1
		done
		n=$(ls "$T"/recv/*.pb.gz 2>/dev/null | wc -l)
		check "push: the windows were pushed ($n) and decode with go tool pprof" \
			bash -c "[ $n -ge 2 ] && ! grep -q 'parsing profile' '$T/pushed.traces'"
		# -traces lists a stack leaf first, one frame a line: hot, outer, <module>.
		check "push: pushed pprofs hold the scripts' hot above outer above <module>" \
			awk '/^-----/ { s = "" } { s = s "|" $0 }
				s ~ /\| *hot\| *outer\| *<module>/ { hit = 1 }
				END { exit !hit }' "$T/pushed.traces"
	fi
fi
finish
