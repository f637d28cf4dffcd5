# SPDX-License-Identifier: GPL-2.0-only
# Many threads that wake, spin briefly and sleep, for SECS seconds: a storm of thread
# activity for tests/e2e/test_storm.sh and bench/service/storm.sh. Usage: threads.py SECS NTHREADS
import sys
import threading
import time

end = time.time() + float(sys.argv[1])


def work():
    while time.time() < end:
        x = 0
        for i in range(2000):
            x += i
        time.sleep(0.01)


ts = [threading.Thread(target=work) for _ in range(int(sys.argv[2]))]
for t in ts:
    t.start()
for t in ts:
    t.join()
