#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A .gnu_debuglink candidate its owner made huge (docs/SECURITY.md, "ELF files a user
# controls"): checking its CRC would read it whole, so a candidate over 512 MiB that is not
# root's is refused before the CRC, counted and logged. The same binary with a debug file of
# normal size is named through it: the debuglink is looked up, so the refusal is no accident.
. "$(dirname "$0")/lib.sh"

need_root "huge debuglink candidate" || { finish; exit; }
NOBODY=$(id -u nobody)

# A stripped program owned by nobody whose debuglink names prog.debug beside it.
D="$T/user"
mkdir -p "$D"
gcc -O2 -g -fno-omit-frame-pointer "$ROOT/tests/workloads/sym_inline.c" -o "$D/prog"
objcopy --only-keep-debug "$D/prog" "$T/prog.debug"
strip --strip-all "$D/prog"
(cd "$T" && objcopy --add-gnu-debuglink=prog.debug "$D/prog")
check "program built, stripped, with a debuglink" \
	bash -c "readelf -S '$D/prog' | grep -q gnu_debuglink && ! nm '$D/prog' 2>/dev/null | grep -q outer_loop"

# prof NAME: profiles the program for 1 s (-v: refusals are logged at that level).
prof() {
	"$FLAMED" -v -F 499 -o "$T/$1.folded" -- "$D/prog" 1 >/dev/null 2>"$T/$1.err"
}

# Control: the real debug file, owned by nobody, names the program's functions.
cp "$T/prog.debug" "$D/prog.debug"
chown -R "$NOBODY" "$D"
prof small
check "control: flamed exits 0" test $? = 0
check "control: named through the user's debuglink (outer_loop)" grep -q ';outer_loop' "$T/small.folded"

# The candidate made 600 MiB (sparse: it costs nothing to its owner, the CRC would read it all).
truncate -s 600M "$D/prog.debug"
chown "$NOBODY" "$D/prog.debug"
start=$SECONDS
prof huge
rc=$?
check "600 MiB candidate: flamed exits 0" test "$rc" = 0
check "600 MiB candidate: samples taken" grep -q '^prog;' "$T/huge.folded"
check "600 MiB candidate: refused before the CRC, logged" \
	grep -q 'prog.debug: 600 MiB, over the 512 MiB cap of a debug file its owner can change' "$T/huge.err"
check "600 MiB candidate: not used (no outer_loop)" bash -c "! grep -q outer_loop '$T/huge.folded'"
echo "     600 MiB candidate: the run took $((SECONDS - start)) s"
finish
