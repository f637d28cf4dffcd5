# SPDX-License-Identifier: GPL-2.0-only
# A known Python call chain for flamed's Python frames: <module> -> outer -> hot, spinning in
# pure Python for argv[1] seconds (CPU time), so nearly every sample is inside hot.
import sys
import time


def hot(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def outer(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        hot(200000)


outer(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)
