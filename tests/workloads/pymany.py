# SPDX-License-Identifier: GPL-2.0-only
# Many distinct Python functions, for bench/runtime/python_names.sh: defines argv[1] functions
# (fn_00000 ...), each with its own code object and a few lines, and calls them in turn for
# argv[2] seconds of CPU time, so samples land in every one of them.
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
SECS = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
src = "".join(
    "def fn_%05d(n):\n    x = 0\n    for j in range(n):\n        x += j\n    return x\n" % i
    for i in range(N))
exec(compile(src, "pymany_gen.py", "exec"))
fns = [globals()["fn_%05d" % i] for i in range(N)]
end = time.process_time() + SECS
while time.process_time() < end:
    for f in fns:
        f(100)
