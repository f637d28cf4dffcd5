#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hostile HTTP clients for tests/e2e/test_hostile_http.sh.

  hostile_http.py captures PORT N SECONDS
      Opens N connections, asks each for /debug/pprof/profile?seconds=SECONDS, prints "sent N"
      and waits; the caller hangs them up by killing this process (the kernel closes them).

  hostile_http.py slow PORT N MAXSECS [SRC]
      Slow headers: opens N connections (from the loopback address SRC, 127.0.0.1 by default,
      so that several "clients" can be played on one host), sends each the start of a request line, prints
      "open N", then sends one more byte of it every second, never finishing it. Notes when the
      server closes each; prints "closed C of N first F median M last L" (seconds since
      opening) when all are closed or after MAXSECS.
"""
import socket
import sys
import time


def connect(port, src="127.0.0.1"):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(src, 0))
    s.setblocking(False)
    return s


def captures(port, n, seconds):
    socks = []
    for _ in range(n):
        s = connect(port)
        s.sendall(f"GET /debug/pprof/profile?seconds={seconds} HTTP/1.1\r\n"
                  "Host: localhost\r\n\r\n".encode())
        socks.append(s)
    print(f"sent {n}", flush=True)
    while True:
        time.sleep(3600)


def closed(s):
    """True when the server has closed s (EOF, reset, or a failed write)."""
    try:
        if s.recv(4096) == b"":
            return True
    except BlockingIOError:
        pass
    except OSError:
        return True
    try:
        s.send(b"a")
    except BlockingIOError:
        pass
    except OSError:
        return True
    return False


def slow(port, n, maxsecs, src):
    socks, opened = [], []
    for _ in range(n):
        s = connect(port, src)
        s.send(b"GET /metrics?")
        socks.append(s)
        opened.append(time.monotonic())
    print(f"open {n}", flush=True)
    gone = {}
    start = time.monotonic()
    while len(gone) < n and time.monotonic() - start < maxsecs:
        for i, s in enumerate(socks):
            if i not in gone and closed(s):
                gone[i] = time.monotonic() - opened[i]
        time.sleep(1)
    t = sorted(gone.values()) or [0.0]
    print(f"closed {len(gone)} of {n} first {t[0]:.1f} median {t[len(t) // 2]:.1f} "
          f"last {t[-1]:.1f}", flush=True)


def main():
    mode, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    if mode == "captures":
        captures(port, n, secs)
    elif mode == "slow":
        slow(port, n, secs, sys.argv[5] if len(sys.argv) > 5 else "127.0.0.1")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
