#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The saved fuzz corpus (tests/fuzz/corpus/<target>/: seeds and every crash ever found) replayed
# through each target as an ordinary test, built with the suite's flags (ASan+UBSan with
# SANITIZE=1). A failing target is replayed input by input to name the inputs that fail.
. "$(dirname "$0")/lib.sh"

CORPUS="$ROOT/tests/fuzz/corpus"
for src in "$ROOT"/tests/fuzz/*/fuzz_*.c; do
	t=$(basename "$src" .c)
	bin="$BUILD/fuzz-replay/$t"
	if [ ! -x "$bin" ]; then
		fail "$t: $bin not built (make fuzz-replay)"
		continue
	fi
	n=$(find "$CORPUS/$t" -maxdepth 1 -type f ! -name '.*' 2>/dev/null | wc -l)
	if [ "$n" = 0 ]; then
		fail "$t: no saved corpus in tests/fuzz/corpus/$t"
		continue
	fi
	if "$bin" "$CORPUS/$t" >"$T/$t.out" 2>&1; then
		ok "$t: $n saved inputs replay cleanly"
		continue
	fi
	bad=0
	for f in "$CORPUS/$t"/*; do
		if ! "$bin" "$f" >"$T/$t.one" 2>&1; then
			fail "$t: $(basename "$f")"
			grep -m 3 -E 'ERROR|runtime error|Assertion|SUMMARY' "$T/$t.one" | sed 's/^/     /'
			bad=1
		fi
	done
	if [ "$bad" = 0 ]; then
		fail "$t: the corpus fails as a whole, no input alone"
		tail -n 5 "$T/$t.out" | sed 's/^/     /'
	fi
done
finish
