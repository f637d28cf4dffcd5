#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Dumps a running perl's main interpreter as src/runtime/perl.c's 5.36 layout reads it: the
current COP, every stackinfo (si_prev chain) and its contexts, each sub context's CV named
through its GV (or its name HEK with CVf_NAMED) and stash, and the line it was called from.
How the offsets of perl.c's head comment were checked on a live interpreter, independently of
flamed's code; run it on a new perl before adding its layout (a wrong offset shows as an
assertion or as names and lines that are not the script's). Not run by CI. Root, or ptrace
rights over the process:

    perl tests/workloads/plchain.pl sort 20 &
    python3 tests/tools/perl_layout_dump.py $! [/usr/bin/perl]
"""
import struct, sys, subprocess, re
pid = int(sys.argv[1])
exe = sys.argv[2] if len(sys.argv) > 2 else "/usr/bin/perl"
mem = open(f"/proc/{pid}/mem", "rb", 0)
def rd(a, n):
    mem.seek(a); return mem.read(n)
def u64(a): return struct.unpack("<Q", rd(a, 8))[0]
def u32(a): return struct.unpack("<I", rd(a, 4))[0]
def i32(a): return struct.unpack("<i", rd(a, 4))[0]
def cstr(a): return rd(a, 200).split(b"\0")[0].decode()
sym = {}
out = subprocess.run(["readelf", "-W", "--dyn-syms", exe], capture_output=True, text=True).stdout
for l in out.splitlines():
    f = l.split()
    if len(f) >= 8 and f[7] in ("PL_curinterp",): sym[f[7]] = int(f[1], 16)
base = None
for l in open(f"/proc/{pid}/maps"):
    if l.rstrip().endswith(exe) and l.split()[2] == "00000000":
        base = int(l.split("-")[0], 16); break
interp = u64(base + sym["PL_curinterp"])
curcop, curstack, si = u64(interp + 208), u64(interp + 216), u64(interp + 224)
main_cv = u64(interp + 1800)
print(f"interp {interp:#x} curcop {curcop:#x} line {u32(curcop+36)} file {cstr(u64(curcop+48))}")
print(f"origfilename {cstr(u64(interp+1472))}  main_cv {main_cv:#x} type {u32(main_cv+12)&0xff}")
def hek(h): return rd(h + 8, i32(h + 4)).decode()
def cvname(cv):
    any_ = u64(cv); fl = u32(cv + 12)
    assert fl & 0xff == 13, "not a CV"
    if u32(any_ + 92) & 0x8000:  # CVf_NAMED: the HEK in xcv_gv_u, the CV's stash
        name = hek(u64(any_ + 56)) + " [CvNAMED]"; st = u64(any_ + 32)
    else:
        gv = u64(any_ + 56); gany = u64(gv); assert u32(gv + 12) & 0xff == 9, "not a GV"
        name = hek(u64(gany + 32)); st = u64(gany + 40)
    assert u32(st + 12) & 0xff == 12 and u32(st + 12) & 0x02000000, "not a stash with aux"
    hany = u64(st); nm = u64(hany + 32)
    if i32(hany + 60): nm = u64(nm)
    return f"{hek(nm)}::{name} ({cstr(u64(any_ + 64))})"
while si:
    cx, prev, ix, mx, ty = u64(si + 8), u64(si + 16), i32(si + 32), i32(si + 36), i32(si + 44)
    print(f"stackinfo {si:#x} type {ty} cxix {ix} cxmax {mx} prev {prev:#x}")
    for i in range(ix, -1, -1):
        c = cx + i * 104
        t = rd(c, 1)[0] & 15
        oc = u64(c + 16)
        if t == 9:
            print(f"  cx[{i}] CXt_SUB {cvname(u64(c + 72))} retop {u64(c + 48):#x} "
                  f"called from line {u32(oc + 36)}")
        else:
            print(f"  cx[{i}] type {t}")
    si = prev
