#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: PHP functions unwound in BPF among native frames (src/runtime/php.c), on Debian's
# php8.2 (php-cli). tests/workloads/phpchain.php spins in {main} -> main -> Outer::mid -> leaf,
# or with "hash" in ... Outer::mid -> digest -> hash('sha256'); each must show exactly that
# chain of _[z] frames in place of execute_ex, under the native frames from _start through
# zend_execute. Lines (--lines, pprof) are read from the workload by their marks.
. "$(dirname "$0")/lib.sh"

SCRIPT="$ROOT/tests/workloads/phpchain.php"
PHP=/usr/bin/php8.2
CHAIN="{main} (phpchain.php);main (phpchain.php);Outer::mid (phpchain.php);leaf (phpchain.php)"
HCHAIN="{main} (phpchain.php);main (phpchain.php);Outer::mid (phpchain.php);digest (phpchain.php)"
line_of() { grep -n -- "$1" "$SCRIPT" | head -1 | cut -d: -f1; }
LL=$(line_of 'L-LEAF')
LMID=$(line_of 'L-MID$')
LMAIN=$(line_of 'L-MAIN')
LTOP=$(line_of 'L-TOP')
LDEF=$(line_of '^function leaf(')

# php_stats FILE WANT [NATIVE]: "chain running": samples of php whose _[z] frames are exactly
# WANT (and, with NATIVE, whose frames below the last _[z] one match the awk regex NATIVE),
# under _start...zend_execute; and samples running phpchain.php (any of its frames, or an
# unnamed execute_ex; with NATIVE, only those matching NATIVE), the workload's clock left out.
php_stats() {
	awk -v want="$2" -v nat="${3:-}" '
		{
			n = $NF
			k = split(substr($0, 1, length($0) - length(n) - 1), f, ";")
			php = ""
			first = 0
			last = 0
			for (i = 2; i <= k; i++) {
				if (f[i] ~ /_\[z\]$/) {
					if (!first)
						first = i
					last = i
					php = php (php == "" ? "" : ";") substr(f[i], 1, length(f[i]) - 4)
				}
			}
			native = ""
			for (i = 2; i < first; i++)
				native = native ";" f[i]
			below = ""
			for (i = last + 1; last && i <= k; i++)
				below = below ";" f[i]
			if (nat != "" && below !~ nat && $0 !~ nat)
				next
			# The workload reading its clock (getrusage) is not the chain, and not a naming
			# failure: on a loaded VM its system call drew 6-12% of the samples.
			if (php ~ /;(cpu|wall)_seconds \(phpchain\.php\)$/)
				next
			if (nat != "" || php ~ /phpchain\.php/ || $0 ~ /;execute_ex(;|$)/)
				running += n
			if (php == want && native ~ /^;_start;.*;zend_execute$/ && (nat == "" || below ~ nat))
				chain += n
		}
		END { printf "%d %d\n", chain, running }' "$1"
}

# check_chain LABEL FILE WANT [MIN] [NATIVE]: >= 90% of the samples running the script have the
# chain WANT; at least MIN (100) of them.
check_chain() {
	local label=$1 file=$2 want=$3 min=${4:-100} nat=${5:-} chain running
	read -r chain running < <(php_stats "$file" "$want" "$nat")
	echo "     $label: $chain of $running samples"
	check "$label: >= 90% of samples are _start..zend_execute;$want ($chain/$running)" \
		test "$running" -ge "$min" -a $((chain * 100)) -ge $((running * 90))
	[ $((chain * 100)) -ge $((running * 90)) ] || heaviest_misses "$file" "${want//;/_[z];}_[z]"
}

if need_root "php frames" && need_tool "php frames" php8.2; then
	# Command mode: the whole run, PHP start-up included (not PHP code: not counted).
	"$FLAMED" -F 499 -o "$T/cmd.folded" -- "$PHP" "$SCRIPT" chain 2 2>"$T/cmd.err"
	check "command mode: exit 0" test $? = 0
	check_chain "command" "$T/cmd.folded" "$CHAIN"

	# A script shorter than a drain (0.4 s of wall time): its functions are named while it
	# runs, as each new stack with PHP frames is announced, not at the next drain, when the
	# process is gone. The stacks of its last instants may still go unnamed: 5% allowed.
	"$FLAMED" -F 999 -o "$T/short.folded" -- "$PHP" "$SCRIPT" chain 0.4 wall 2>"$T/short.err"
	check "script shorter than a drain: exit 0" test $? = 0
	short_script_checks "$T/short.folded" phpchain.php \
		'{main} (phpchain.php)_[z];main (phpchain.php)_[z];Outer::mid (phpchain.php)_[z];leaf (phpchain.php)_[z]' \
		'[php function 0x' PHP function

	# -p PID: a process found running.
	"$PHP" "$SCRIPT" chain 30 &
	pid=$!
	wait_until 30 ticks_at_least "$pid" 10
	"$FLAMED" -F 499 -d 3 -p "$pid" -o "$T/pid.folded" 2>"$T/pid.err"
	check "-p PID: exit 0" test $? = 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check_chain "-p PID" "$T/pid.folded" "$CHAIN" 50
	# The layout is checked on the functions it leads to (zend_strings where names are): it
	# fits Debian's build, so no process was refused (unit php_read_function_checks_the_layout
	# reads a layout that does not fit).
	check "the 8.2 layout fits php8.2: no process refused in either run" \
		bash -c "! grep -h 'do not read as the' '$T/cmd.err' '$T/pid.err'"

	# Native code under PHP: hash('sha256') keeps digest and its callers above it.
	"$FLAMED" -F 499 -o "$T/hash.folded" -- "$PHP" "$SCRIPT" hash 2 2>/dev/null
	check_chain "hash('sha256')" "$T/hash.folded" "$HCHAIN" 100 'PHP_SHA256Update'

	# PHP called back from C: array_map's native frames between Outer::mid and leaf, the
	# activation of execute_ex that runs leaf ended by its ZEND_CALL_TOP frame.
	"$FLAMED" -F 499 -o "$T/cb.folded" -- "$PHP" "$SCRIPT" callback 2 2>/dev/null
	# (awk -v: bracket expressions, as its escapes are taken before the regex sees them)
	# Judged under Outer::mid: start-up and the workload's clock (getrusage, 6-12% of the
	# samples on a loaded VM) are not the callback.
	pct=$(fraction_within php8.2 'Outer::mid [(]phpchain[.]php[)]_[[]z[]]' 'zend_execute;[{]main[}] [(]phpchain[.]php[)]_[[]z[]];main [(]phpchain[.]php[)]_[[]z[]];Outer::mid [(]phpchain[.]php[)]_[[]z[]];[^_;]*;zend_call_function;leaf [(]phpchain[.]php[)]_[[]z[]]' "$T/cb.folded")
	echo "     callback: $pct% of php8.2's samples under Outer::mid"
	check "callback: >= 85% of samples under Outer::mid are ...;(array_map);zend_call_function;leaf ($pct%)" \
		test "$(samples php8.2 "$T/cb.folded")" -ge 100 -a "$pct" -ge 85

	# --lines: the line of each frame; leaf's from r15 when the sample is in execute_ex.
	want="{main} (phpchain.php:$LTOP);main (phpchain.php:$LMAIN);Outer::mid (phpchain.php:$LMID);leaf (phpchain.php:$LL)"
	"$FLAMED" -F 499 --lines -o "$T/lines.folded" -- "$PHP" "$SCRIPT" chain 1.5 2>/dev/null
	check_chain "--lines" "$T/lines.folded" "$want"

	# SVG: PHP frames have their own colour, named in the legend.
	"$FLAMED" -F 499 -o "$T/php.svg" -- "$PHP" "$SCRIPT" chain 1.5 2>/dev/null
	check "SVG: leaf (phpchain.php) drawn, PHP in the legend" \
		bash -c "grep -q '<title>leaf (phpchain.php) (' '$T/php.svg' && grep -q '>PHP</text>' '$T/php.svg'"
	# Every PHP frame in the PHP hue (src/render/svg.c HUE_PHPFRAME: r 205-250, g 90-140, b 150-200).
	svg_hue_check "$T/php.svg" phpchain.php PHP 4 205 250 90 140 150 200

	# pprof: Function.name, filename, start_line and Line.line, read by go tool pprof; read back.
	if need_tool "php frames in pprof" go; then
		"$FLAMED" -F 499 -o "$T/php.pb.gz" -- "$PHP" "$SCRIPT" chain 1 2>/dev/null
		go tool pprof -raw "$T/php.pb.gz" >"$T/php.raw" 2>&1
		check "pprof: leaf at $SCRIPT:$LL, start line $LDEF" \
			grep -qF " leaf $SCRIPT:$LL s=$LDEF" "$T/php.raw"
		check "pprof: Outer::mid at phpchain.php:$LMID" \
			grep -qF " Outer::mid $SCRIPT:$LMID s=" "$T/php.raw"
		go tool pprof -list '^leaf$' "$T/php.pb.gz" >"$T/php.list" 2>&1
		check "pprof -list leaf: the source of phpchain.php, time on line $LL" \
			grep -qE "^ +[0-9.]+m?s +[0-9.]+m?s +$LL:[[:space:]]+for" "$T/php.list"
		"$FLAMED" render "$T/php.pb.gz" -o "$T/rt.folded" 2>/dev/null
		check "pprof read back: main;Outer::mid;leaf (phpchain.php)_[z]" \
			grep -q 'main (phpchain.php)_\[z\];Outer::mid (phpchain.php)_\[z\];leaf (phpchain.php)_\[z\]' "$T/rt.folded"
	fi

	# A version without a layout: the same binary saying it is 8.9 (same length). Reported
	# once for two processes, native frames kept, no _[z] frame.
	mkdir -p "$T/bin"
	sed 's|X-Powered-By: PHP/8\.2\.|X-Powered-By: PHP/8.9.|' "$PHP" >"$T/bin/php8.9"
	chmod +x "$T/bin/php8.9"
	"$FLAMED" -F 499 -o "$T/v89.folded" -- sh -c "'$T/bin/php8.9' '$SCRIPT' chain 0.5; '$T/bin/php8.9' '$SCRIPT' chain 0.5" 2>"$T/v89.err"
	check "PHP 8.9: exit 0" test $? = 0
	check "PHP 8.9: reported once as without a known layout" \
		test "$(grep -c 'PHP 8\.9\.[0-9]* .*has no known layout' "$T/v89.err")" = 1
	check "PHP 8.9: native frames only (execute_ex, no _[z])" \
		bash -c "! grep -q '_\[z\]' '$T/v89.folded' && grep -q ';execute_ex' '$T/v89.folded'"

	# --php off: execute_ex stays, no PHP frame.
	"$FLAMED" -F 499 --php off -o "$T/off.folded" -- "$PHP" "$SCRIPT" chain 0.5 2>/dev/null
	check "--php off: no _[z] frame, execute_ex kept" \
		bash -c "! grep -q '_\[z\]' '$T/off.folded' && grep -q ';execute_ex' '$T/off.folded'"
fi
finish
