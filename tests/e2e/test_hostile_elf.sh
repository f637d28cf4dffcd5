#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# ELF files a hostile local user controls (docs/SECURITY.md lists what each part proves): a
# 6 GiB sparse file around a small library, mapped and run by `nobody`, costs flamed what its
# headers and sections cost, not its size; a MiniDebugInfo xz bomb stops at its cap; a
# .gnu_debuglink symlinked out of a chrooted process's root does not lead to the host's file.
. "$(dirname "$0")/lib.sh"

NOBODY=65534
as_nobody() { setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$@"; }
# peak KB, wall and CPU (user + system) seconds of a command, from GNU time, into FILE.
timed() { local out=$1; shift; /usr/bin/time -f '%M %e %U %S' -o "$out" "$@"; }

need_tool "hostile ELF checks" setpriv objcopy strip xz gcc || { finish; exit $?; }
[ -x /usr/bin/time ] || { skip "hostile ELF checks: missing /usr/bin/time"; finish; exit $?; }
chmod 711 "$T"

# symq names addresses the way the profiler does (no root needed), linked like test_symbols.
LDLIBS=$(make -s --no-print-directory -C "$ROOT" -f Makefile -f - BUILD="$BUILD" print-ldlibs \
	<<<'print-ldlibs: ; @echo $(LDFLAGS) $(LDLIBS)' 2>/dev/null)
SYMQ="$T/symq"
check "symq builds against libflamed.a" \
	cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$ROOT/src" -I"$BUILD" "$ROOT/bench/symbolize/symq.c" \
	"$BUILD/libflamed.a" $LDLIBS -o "$SYMQ"

# --- MiniDebugInfo xz bomb: 20 KiB of .gnu_debugdata that would inflate to 128 MiB -----------
mkdir "$T/bomb"
gcc -O2 -g "$ROOT/tests/workloads/sym_inline.c" -o "$T/bomb/prog"
OUTER=$(nm "$T/bomb/prog" | awk '$3 == "outer_loop" { print $1 }')
strip --strip-all "$T/bomb/prog"
cp "$T/bomb/prog" "$T/bomb/plain"
head -c $((128 << 20)) /dev/zero | xz -0 >"$T/bomb/zeros.xz"
objcopy --add-section .gnu_debugdata="$T/bomb/zeros.xz" "$T/bomb/prog"
chown -R $NOBODY:$NOBODY "$T/bomb"
echo "     .gnu_debugdata: $(stat -c %s "$T/bomb/zeros.xz") bytes, 128 MiB inflated"
# Under ASan (SANITIZE=1) freed blocks wait in a quarantine that would count as the bomb's.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0"
timed "$T/plain.time" "$SYMQ" "$T/bomb/plain" "0x$OUTER" >/dev/null 2>&1
read -r base _ < <(tail -n 1 "$T/plain.time")
timed "$T/bomb.time" "$SYMQ" "$T/bomb/prog" "0x$OUTER" >"$T/bomb.out" 2>"$T/bomb.err"
rc=$?
read -r kb secs _ < <(tail -n 1 "$T/bomb.time")
echo "     symq over the bomb: peak $((kb / 1024)) MiB in ${secs}s (without it: $((base / 1024)) MiB); $(cut -f2 "$T/bomb.out")"
check "xz bomb: refused, symq exits 0" test "$rc" = 0
# The 64 MiB cap and the decoder: at most 96 MiB more than the same binary without the bomb.
check "xz bomb: at most 96 MiB over the binary without it (+$(((kb - base) / 1024)) MiB)" \
	test $((kb - base)) -le $((96 << 10))

if ! need_root "profiling hostile ELF files"; then
	finish
	exit $?
fi

# --- a 6 GiB sparse library, dlopen()ed and run by nobody ------------------------------------
mkdir "$T/sparse"
cp "$WL/plugin.so" "$T/sparse/big.so"
cp "$WL/dlopener" "$T/sparse/dlopener"
truncate -s 6G "$T/sparse/big.so"
chown -R $NOBODY:$NOBODY "$T/sparse"
echo "     big.so: $(stat -c %s "$T/sparse/big.so") bytes, $(du -k "$T/sparse/big.so" | cut -f1) KiB on disk"
# Not through the as_nobody function: a backgrounded function is a subshell, not the program.
setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups -- "$T/sparse/dlopener" 30 \
	"$T/sparse/big.so" &
victim=$!
wait_until 20 grep -q big.so "/proc/$victim/maps" 2>/dev/null
check "sparse: nobody mapped and runs the 6 GiB library" grep -q big.so "/proc/$victim/maps"
timed "$T/sparse.time" "$FLAMED" -v -F 299 -p $victim -d 3 -o "$T/sparse.folded" \
	2>"$T/sparse.err"
rc=$?
kill $victim 2>/dev/null
wait $victim 2>/dev/null
read -r kb secs usr sys < <(tail -n 1 "$T/sparse.time")
cpu=$(awk -v u="$usr" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
echo "     flamed -p -d 3 on it: peak $((kb / 1024)) MiB, ${secs}s (${cpu}s of CPU)"
check "sparse: flamed exits 0" test "$rc" = 0
pct=$(fraction dlopener ';run_plugin;plugin_outer;plugin_mid;plugin_leaf$' "$T/sparse.folded")
check "sparse: its samples named and unwound through it ($pct%)" test "$pct" -ge 80
check "sparse: peak RSS at most 200 MiB ($((kb / 1024)) MiB; was 6.1 GiB)" \
	test "$kb" -le $((200 << 10))
# 3 s of profile; before, reading the file took a minute. Wall time generous for a busy
# machine (BPF verification alone takes seconds under load); the CPU flamed spent is the
# machine-independent figure.
check "sparse: done within 30 s (${secs}s; was 58-70 s)" \
	awk -v s="$secs" 'BEGIN { exit !(s <= 30) }'
check "sparse: under 5 s of CPU (${cpu}s)" awk -v s="$cpu" 'BEGIN { exit !(s <= 5) }'

# --- .gnu_debuglink through a symlink that leaves a chrooted process's root -------------------
# The root (owned by nobody) holds a stripped static program whose debuglink names prog.debug;
# beside it, .debug/prog.debug is a symlink to an absolute path that outside the root is the
# program's real debug file (CRC right). The kernel names the program by its path from our
# root, where that link would lead out of the process's root: it must not be followed. The
# positive control is a plain copy of the same debug file in its place.
mkdir -p "$T/root/.debug" "$T/host"
if gcc -O2 -g -static "$ROOT/tests/workloads/sym_inline.c" -o "$T/root/prog" 2>/dev/null; then
	objcopy --only-keep-debug "$T/root/prog" "$T/host/prog.debug"
	strip --strip-all "$T/root/prog"
	(cd "$T/host" && objcopy --add-gnu-debuglink=prog.debug "$T/root/prog")
	chown -R $NOBODY:$NOBODY "$T/root"
	chroot_prof() { # chroot_prof NAME: profiles the chrooted program for 2 s
		chroot --userspec=$NOBODY:$NOBODY "$T/root" /prog 60 &
		local p=$!
		wait_until 20 test -e "/proc/$p/exe"
		"$FLAMED" -v -F 299 -p $p -d 2 -o "$T/$1.folded" 2>"$T/$1.err" && kill -0 $p
		local rc=$?
		kill $p 2>/dev/null
		wait $p 2>/dev/null
		return $rc
	}
	ln -s "$T/host/prog.debug" "$T/root/.debug/prog.debug"
	check "debuglink escape: flamed exits 0" chroot_prof escape
	n=$(samples prog "$T/escape.folded")
	check "debuglink escape: samples taken ($n)" test "$n" -gt 50
	check "debuglink escape: the host's debug file is not used (no outer_loop)" \
		bash -c "! grep -q 'outer_loop' '$T/escape.folded'"
	check "debuglink escape: counted (parts refused, no debug file found)" \
		grep -Eq '[1-9][0-9]* parts refused.*debug files: 0 by build id, 0 by debuglink' \
		"$T/escape.err"
	check "debuglink escape: the refusal is logged" grep -q 'symbolic link beside' "$T/escape.err"
	rm "$T/root/.debug/prog.debug"
	cp "$T/host/prog.debug" "$T/root/.debug/prog.debug"
	check "debuglink to a plain file: flamed exits 0" chroot_prof inside
	pct=$(fraction prog ';outer_loop' "$T/inside.folded")
	check "debuglink to a plain file: named through it ($pct% outer_loop)" test "$pct" -ge 80
else
	skip "debuglink escape: no static libc to build the chrooted program"
fi

finish
