#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes C sources for a large binary full of inlined code: UNITS files of FUNCS functions,
each function's loop inlining chains of always_inline helpers 4 deep. Deterministic (seed 1).

usage: gen_inline.py OUTDIR UNITS FUNCS
"""
import os
import random
import sys


def unit(c, nfn, r):
    out = ["#define AI static inline __attribute__((always_inline))\n"]
    for k in range(8):
        out.append(f"AI unsigned h{c}_{k}_0(unsigned x, unsigned c) "
                   f"{{ return (x * {r.randrange(3, 99999)}u) ^ (c + (x >> {r.randrange(1, 31)})); }}\n")
        for d in range(1, 4):
            out.append(f"AI unsigned h{c}_{k}_{d}(unsigned x, unsigned c) "
                       f"{{ unsigned a = h{c}_{k}_{d - 1}(x ^ c, c + {r.randrange(1, 999)}u); "
                       f"if (a & {1 << d}u) a = (a << {d}) | (a >> {32 - d}); "
                       f"return a + h{c}_{k}_{d - 1}(a >> {d}, c * 3u); }}\n")
    for f in range(nfn):
        k1, k2 = r.randrange(8), r.randrange(8)
        out.append(f"unsigned f{c}_{f}(unsigned x, unsigned n) {{ unsigned s = {r.randrange(1, 1 << 30)}u; "
                   f"for (unsigned i = 0; i < n; i++) {{ s += h{c}_{k1}_3(x + i, {r.randrange(1, 1 << 30)}u); "
                   f"if (s & 1) s ^= h{c}_{k2}_2(s, {r.randrange(1, 1 << 30)}u); }} return s; }}\n")
    return "".join(out)


def main():
    outdir, units, funcs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    os.makedirs(outdir, exist_ok=True)
    r = random.Random(1)
    for c in range(units):
        with open(f"{outdir}/u{c}.c", "w") as f:
            f.write(unit(c, funcs, r))
    names = [f"f{c}_{f}" for c in range(units) for f in range(funcs)]
    with open(f"{outdir}/main.c", "w") as f:
        f.write("#include <stdio.h>\n#include <stdlib.h>\n")
        f.write("".join(f"unsigned {n}(unsigned, unsigned);\n" for n in names))
        f.write("static unsigned (*const tab[])(unsigned, unsigned) = {\n")
        f.write("".join(f"\t{n},\n" for n in names))
        f.write("};\nint main(int argc, char **argv)\n{\n\tunsigned s = 0, n = argc > 1 ? atoi(argv[1]) : 1;\n"
                "\tfor (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)\n\t\ts += tab[i](i, n);\n"
                "\tprintf(\"%u\\n\", s);\n\treturn 0;\n}\n")


main()
