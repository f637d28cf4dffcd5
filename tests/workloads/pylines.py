# SPDX-License-Identifier: GPL-2.0-only
# Known lines for flamed's Python line numbers (tests/e2e/test_python.sh reads them from here by
# their marks): <module> calls outer on one line, outer calls hot on one line, and hot's loop is
# one line, so every sample has one exact line per frame.
import sys
import time


def hot(n):
    x = 0
    for i in range(n): x = x + i * i  # noqa: E701 (one line: the loop's every instruction) L-HOT
    return x


def outer(seconds):
    end = time.process_time() + seconds
    while time.process_time() < end:
        hot(200000)  # L-OUTER
    return end


outer(float(sys.argv[1]) if len(sys.argv) > 1 else 3.0)  # L-MODULE
