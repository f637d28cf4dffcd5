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


def outer(seconds, clock):
    end = clock() + seconds
    while clock() < end:
        hot(200000)


# argv[2] "wall": seconds of wall time (a process that lives that long however busy the
# machine), else of CPU time.
outer(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0,
      time.monotonic if sys.argv[2:3] == ["wall"] else time.process_time)
