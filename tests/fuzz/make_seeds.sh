#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Regenerates the small seed inputs of tests/fuzz/corpus/ (text seeds are written by hand and
# kept in git; this makes the binary ones: tiny ELF files with symbols, a build id, a
# debuglink, MiniDebugInfo, DWARF, CFI in .eh_frame or .debug_frame, and pprof files).
# Usage: bash tests/fuzz/make_seeds.sh [BUILD]   (BUILD holds flamed, for the pprof seeds)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
C=tests/fuzz/corpus
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
mkdir -p $C/fuzz_elf $C/fuzz_dwarf $C/fuzz_unwind $C/fuzz_pprof

# Freestanding, so the files stay a few KB: no libc, no start files.
cat >"$W/t.c" <<'SRC'
static inline __attribute__((always_inline)) int sq(int x) { return x * x; }
__attribute__((noinline)) int leaf(int x) { return sq(x) + 1; }
__attribute__((noinline)) int mid(int x) { return leaf(x) * 3; }
int big[64];
void _start(void)
{
	int i, s = 0;

	for (i = 0; i < 64; i++)
		s += mid(big[i]);
	__asm__ volatile("mov $60, %%eax; mov %0, %%edi; syscall" : : "r"(s) : "rax", "rdi");
}
SRC
cc1() { gcc -nostdlib -static -fno-pie -no-pie -Wl,--build-id -Wl,-N \
	-Wl,--no-warn-rwx-segments "$@"; }
cc1 -O1 -o "$W/sym" "$W/t.c"
cp "$W/sym" $C/fuzz_elf/symtab
cc1 -O2 -g -o "$W/dbg" "$W/t.c"
cp "$W/dbg" $C/fuzz_dwarf/inline_lines
cc1 -O2 -g -gz=zlib -o $C/fuzz_dwarf/compressed "$W/t.c"
cc1 -O2 -g -gdwarf-4 -o $C/fuzz_dwarf/dwarf4 "$W/t.c"
# Stripped with a debuglink to the debug file.
objcopy --only-keep-debug "$W/dbg" "$W/dbg.debug"
objcopy --strip-all --add-gnu-debuglink="$W/dbg.debug" "$W/dbg" $C/fuzz_elf/debuglink
# MiniDebugInfo the way Fedora makes it: the function symbols of the stripped binary, xz'd.
nm "$W/sym" --format=posix --defined-only | awk '$2 ~ /[Tt]/ {print $1}' | sort >"$W/funcs"
objcopy --only-keep-debug "$W/sym" "$W/mini"
objcopy -S --remove-section .gdb_index --remove-section .comment \
	--keep-symbols="$W/funcs" "$W/mini" "$W/mini.o"
xz --keep "$W/mini.o"
objcopy --strip-all --add-section .gnu_debugdata="$W/mini.o.xz" "$W/sym" $C/fuzz_elf/minidebuginfo
# CFI: .eh_frame (asynchronous tables), .debug_frame only, and with frame pointers.
cc1 -O2 -o $C/fuzz_unwind/eh_frame "$W/t.c"
cc1 -O2 -fno-asynchronous-unwind-tables -fno-unwind-tables -g -o "$W/df" "$W/t.c"
strip --strip-all --keep-section=.debug_frame "$W/df" -o $C/fuzz_unwind/debug_frame
cc1 -O0 -fno-omit-frame-pointer -o $C/fuzz_unwind/frame_pointers "$W/t.c"
strip -s $C/fuzz_unwind/eh_frame $C/fuzz_unwind/frame_pointers

# An ordinary dynamic program (PLT, .dynsym, .eh_frame_hdr, libc's start files), stripped.
printf '#include <stdio.h>\nint main(int c, char **v) { puts(v[0]); return c; }\n' >"$W/d.c"
gcc -O2 -s -Wl,--build-id -o "$W/dyn" "$W/d.c"
cp "$W/dyn" $C/fuzz_elf/dynamic
cp "$W/dyn" $C/fuzz_unwind/dynamic_plt
gcc -O2 -g -Wl,--build-id -o $C/fuzz_dwarf/dynamic "$W/d.c"

# pprof: what flamed writes for a small folded profile, gzipped and raw.
if [ -x "$BUILD/flamed" ]; then
	printf 'p;main;a;b 10\np;main;a;c_[i] 3\np;main;k_[k] 2\np;jit_[j] 1\n' >"$W/s.folded"
	"$BUILD/flamed" render "$W/s.folded" -o "$W/s.pb.gz" 2>/dev/null
	cp "$W/s.pb.gz" $C/fuzz_pprof/flamed.gzip
	gzip -dc "$W/s.pb.gz" >$C/fuzz_pprof/flamed.raw
fi
chmod 0644 $C/*/*
ls -l $C/fuzz_elf $C/fuzz_dwarf $C/fuzz_unwind $C/fuzz_pprof

# Go's .gopclntab (fuzz_gopclntab): the synthetic tables of tests/unit/base/test_gopclntab.c in each
# format, and small ELF files carrying the 1.18 one as .gopclntab (its functions at 0x401000,
# where the freestanding program's text starts) with its go:func.* and a module data that
# points at both (rodata and gofunc, words 37 and 38 of Go 1.18, at go:func.*), and the same file without section headers (found by its magic).
gopclntab_seeds() {
	mkdir -p $C/fuzz_gopclntab "$W/go"
	make -s BUILD="$BUILD" "$BUILD/unit-tests"
	SEED_DIR="$W/go" "$BUILD/unit-tests" gopclntab_seeds >/dev/null
	for t in go12 go116_be go118 go120; do cp "$W/go/$t" $C/fuzz_gopclntab/$t; done
	cat >"$W/go/g.s" <<ASM
	.section .rodata.gofunc,"a"
gofunc:	.incbin "$W/go/go118.gofunc"
	.section .gopclntab,"a"
	.balign 32
pcln:	.incbin "$W/go/go118"
	.section .noptrdata,"aw"
	.balign 8
moduledata:
	.quad pcln, pcln + 0x48
	.fill 20, 8, 0
	.quad 0x401000
	.fill 14, 8, 0
	.quad gofunc, gofunc
	.fill 9, 8, 0
ASM
	# Not cc1: without -N the data lies in segments of its own, not executable ones.
	gcc -nostdlib -static -fno-pie -no-pie -Wa,--noexecstack -O1 -o "$W/go/elf" "$W/t.c" "$W/go/g.s"
	cp "$W/go/elf" $C/fuzz_gopclntab/elf_go118
	python3 - "$W/go/elf" $C/fuzz_gopclntab/elf_noshdr <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
struct.pack_into("<Q", b, 0x28, 0)
struct.pack_into("<HHH", b, 0x3a, 0, 0, 0)
open(sys.argv[2], "wb").write(b)
PY
}
gopclntab_seeds
chmod 0644 $C/fuzz_gopclntab/*
