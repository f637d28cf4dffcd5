#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `flamed render` / `flamed diff` end to end: command-line behaviour, XML well-formedness of
# hostile input (xmllint), and the SVG's script in a real browser (headless Debian chromium):
# click-to-zoom, search with the button and Ctrl-F, ignore case, reset, state in the URL.
# Needs: chromium, libxml2-utils (xmllint), python3 (make test installs them).
# FLAMED=path overrides the binary (default $BUILD/flamed).
flamed_override=${FLAMED:-}
. "$(dirname "$0")/lib.sh"
[ -n "$flamed_override" ] && FLAMED=$flamed_override
HERE=$(cd "$(dirname "$0")" && pwd)
GEN="$ROOT/../shared/bench/gen_folded.py"

# A small profile with a known shape (100 samples).
cat >"$T/in.folded" <<'EOF'
app;main;foo;bar 30
app;main;foo;baz 20
app;main;qux;foo 10
app;other;foo 15
app;main 25
EOF

# --- command line --------------------------------------------------------------------------
check "render file to -o" "$FLAMED" render "$T/in.folded" -o "$T/flame.svg"
check "render from stdin" sh -c "'$FLAMED' render < '$T/in.folded' > '$T/stdin.svg'"
check "stdin and file give the same bytes" cmp -s "$T/flame.svg" "$T/stdin.svg"
check "render twice: same bytes" sh -c "'$FLAMED' render '$T/in.folded' | cmp -s - '$T/flame.svg'"
check "svg is well-formed" xmllint --noout "$T/flame.svg"
LC_ALL=C sort "$T/in.folded" >"$T/sorted.folded"
if "$FLAMED" render "$T/in.folded" --format folded | cmp -s - "$T/sorted.folded"; then
	ok "--format folded: sorted, merged"
else
	fail "--format folded: sorted, merged"
fi

printf 'this is not\na folded file\n' >"$T/junk.txt"
if "$FLAMED" render "$T/junk.txt" -o "$T/junk.svg" 2>"$T/err"; then
	fail "bad input: non-zero exit"
else
	ok "bad input: non-zero exit"
fi
check "bad input: no output file" test ! -e "$T/junk.svg"
check "bad input: clear message" grep -q "no stacks found" "$T/err"
if "$FLAMED" render "$T/nonexistent.folded" -o "$T/none.svg" 2>"$T/err"; then
	fail "missing input: non-zero exit"
else
	ok "missing input: non-zero exit"
fi
check "missing input: says which" grep -q "nonexistent.folded" "$T/err"
if "$FLAMED" render --colors nope "$T/in.folded" >/dev/null 2>"$T/err"; then
	fail "bad option: non-zero exit"
else
	ok "bad option: non-zero exit"
fi
# junk lines among good ones: a warning, a graph
printf 'junk\napp;x 5\n' >"$T/mixed.folded"
check "junk lines: warned, rendered" sh -c "'$FLAMED' render '$T/mixed.folded' -o '$T/mixed.svg' 2>'$T/err' &&
	grep -q 'ignoring' '$T/err' && grep -q 'x (5 samples' '$T/mixed.svg'"
# an existing output survives a failed run
cp "$T/flame.svg" "$T/keep.svg"
"$FLAMED" render "$T/junk.txt" -o "$T/keep.svg" 2>/dev/null
check "failed run leaves the old output" cmp -s "$T/flame.svg" "$T/keep.svg"

# options reach the SVG, escaped
check "options" sh -c "'$FLAMED' render '$T/in.folded' --title 'T<1>' --subtitle 'S&' --width 800 \
	--frame-height 20 --min-width 0 --inverted --reverse --colors lang --hash --count-name ticks \
	--notes 'a -- b' -o '$T/opts.svg' && xmllint --noout '$T/opts.svg' &&
	grep -q 'T&lt;1&gt;' '$T/opts.svg' && grep -q 'width=\"800\"' '$T/opts.svg' &&
	grep -q '(30 ticks, 30.00%)' '$T/opts.svg'"
check "flamegraph.pl option spellings" sh -c "'$FLAMED' render '$T/in.folded' --minwidth 0.5 \
	--countname x --height 18 --fontsize 11 > /dev/null"

# diff
cat >"$T/before.folded" <<'EOF'
app;main;foo 60
app;main;gone 40
EOF
check "diff svg" sh -c "'$FLAMED' diff '$T/before.folded' '$T/in.folded' -o '$T/diff.svg' &&
	xmllint --noout '$T/diff.svg' && grep -q 'Differential' '$T/diff.svg'"
check "diff folded" sh -c "'$FLAMED' diff '$T/before.folded' '$T/in.folded' --format folded > '$T/diff.folded' &&
	grep -qx 'app;main;gone 40 0' '$T/diff.folded' && grep -qx 'app;main;foo;bar 0 30' '$T/diff.folded'"
check "render --diff of three columns" sh -c "'$FLAMED' render --diff '$T/diff.folded' -o '$T/diff2.svg' &&
	grep -q 'foo (50 samples, 50.00%; before 60, -10.00%)' '$T/diff2.svg'"
if "$FLAMED" diff "$T/before.folded" -o "$T/d.svg" 2>/dev/null; then
	fail "diff needs two inputs"
else
	ok "diff needs two inputs"
fi

# A file big enough to be parsed in parallel parts (about 85 MB): same result as one pass
# through a pipe, junk line numbers included.
awk 'BEGIN {
	for (i = 0; i < 600000; i++) {
		printf "proc%d;outer_function_%d;middle_function_%d;leaf_function_with_a_long_name_%d_[k] %d\n", i % 7, i % 13, i % 101, i % 997, 1 + i % 5
		printf "proc%d;outer_function_%d;other_middle_%d;another_leaf_%d %d\n", i % 5, i % 11, i % 89, i % 1009, 1 + i % 3
		if (i == 500000) print "junk line"
	}
}' >"$T/big.folded"
"$FLAMED" render "$T/big.folded" --format folded -o "$T/big.out" 2>"$T/big.err"
cat "$T/big.folded" | "$FLAMED" render --format folded 2>"$T/pipe.err" >"$T/pipe.out"
check "big file: parallel parse equals one pass" cmp -s "$T/big.out" "$T/pipe.out"
same_warning() {
	grep -q 'first: line 1000003' "$T/big.err" &&
		[ "$(sed 's|standard input|F|' "$T/pipe.err")" = "$(sed "s|$T/big.folded|F|" "$T/big.err")" ]
}
check "big file: same warning" same_warning
rm -f "$T/big.folded" "$T/big.out" "$T/pipe.out"

# pprof in and out
check "pprof round trip" sh -c "'$FLAMED' render '$T/in.folded' --format pprof -o '$T/in.pb.gz' &&
	'$FLAMED' render '$T/in.pb.gz' --format folded | cmp -s - '$T/sorted.folded' &&
	'$FLAMED' render --format folded < '$T/in.pb.gz' | cmp -s - '$T/sorted.folded'"
printf '\037\213not gzip' >"$T/bad.pb.gz"
if "$FLAMED" render "$T/bad.pb.gz" -o "$T/bad.svg" 2>"$T/err"; then
	fail "bad pprof: non-zero exit"
else
	ok "bad pprof: non-zero exit"
fi
check "bad pprof: no output, clear message" sh -c "test ! -e '$T/bad.svg' && grep -q 'not a valid pprof' '$T/err'"

# hostile names, from the shared generator when it is there
if [ -f "$GEN" ]; then
	python3 "$GEN" --adversarial -o "$T/adv.folded"
else
	printf 'app;main;<script>alert(1)</script> 5\napp;main;cdata]]>end 5\napp;bad_\377 5\n' >"$T/adv.folded"
fi
printf 'app;main;</text><script>window.pwned=1</script> 40\napp;x\001y 3\napp;--;-->;]]> 7\n' >>"$T/adv.folded"
# a long hostile name, so some label is cut with ".." whichever input was used
printf 'app;<&%s 20\n' "$(printf 'x&y<z>%.0s' $(seq 60))" >>"$T/adv.folded"
printf 'app;main;%s 30\n' "$(printf '<&>%.0s' $(seq 100))" >>"$T/adv.folded" # a label to cut
check "hostile names: well-formed" sh -c "'$FLAMED' render '$T/adv.folded' -o '$T/hostile.svg' &&
	xmllint --noout '$T/hostile.svg'"
check "hostile names: --min-width 0 well-formed" sh -c "'$FLAMED' render --min-width 0 --title '<x>]]>--' \
	--notes '-->' '$T/adv.folded' | xmllint --noout -"

# --- browser -----------------------------------------------------------------------------
if ! need_tool "browser tests" chromium; then
	finish
	exit
fi
CHROMIUM=$(command -v chromium)
cp "$HERE/svg_browser.html" "$T/index.html"
"$FLAMED" render --inverted "$T/in.folded" -o "$T/icicle.svg"
profile_dir=$(mktemp -d /tmp/flamed-chromium.XXXXXX)
timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	--disable-background-networking --disable-component-update --disable-sync \
	--user-data-dir="$profile_dir" --allow-file-access-from-files \
	--virtual-time-budget=20000 --dump-dom "file://$T/index.html" >"$T/dom.html" 2>"$T/chromium.log"
rc=$?
rm -rf "$profile_dir"
if [ "$rc" != 0 ]; then
	fail "browser: chromium exit $rc ($(tail -n 3 "$T/chromium.log" | tr '\n' ' '))"
fi
# The first result shares its line with the <pre id="results"> tag: split it off first.
sed 's/<pre id="results">/\n/' "$T/dom.html" | grep -E '^(PASS|FAIL) ' |
	sed 's/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g' >"$T/results"
while IFS= read -r line; do
	case "$line" in
	PASS\ *) ok "browser: ${line#PASS }" ;;
	FAIL\ *) fail "browser: ${line#FAIL }" ;;
	esac
done <"$T/results"
if grep -q '^DONE' "$T/dom.html"; then
	ok "browser: driver ran to the end"
else
	fail "browser: driver did not finish"
fi
# Every check() call of the driver ran (an exception stops a step's later checks; each shows
# as PASS or FAIL above): as many results as call sites.
want=$(grep -cE '^\s*check\(' "$HERE/svg_browser.html")
ran=$(grep -E '^(PASS|FAIL) ' "$T/results" | grep -vc '^FAIL exception')
check "browser: all $want checks ran ($ran)" test "$ran" = "$want" -a "$want" -gt 0
finish
