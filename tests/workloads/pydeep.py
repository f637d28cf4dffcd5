# SPDX-License-Identifier: GPL-2.0-only
# Python frames at a known depth, for bench/runtime/python_cost.sh: recurses argv[2] Python frames
# deep, then spins in pure Python for argv[1] seconds (CPU time).
import sys
import time


def spin(seconds):
    end = time.process_time() + seconds
    x = 0
    while time.process_time() < end:
        for i in range(2000):
            x += i
    return x


def down(n, seconds):
    if n <= 1:
        return spin(seconds)
    return down(n - 1, seconds)


down(int(sys.argv[2]) - 1 if len(sys.argv) > 2 else 9, float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
