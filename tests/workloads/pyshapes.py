# SPDX-License-Identifier: GPL-2.0-only
# Shapes of Python programs for flamed's Python frames (tests/e2e/test_python_shapes.sh): each
# spins for argv[2] seconds of CPU time in one known shape. Usage: pyshapes.py SHAPE SECS
#   threads    two threads, alpha and beta; beta spins for half of SECS (and sleeps between
#              rounds), so its share is a third. Prints "alpha S beta S": each thread's CPU
#              seconds, to judge the proportion by.
#   futures    a concurrent.futures.ThreadPoolExecutor of two workers running gamma and delta;
#              delta spins for half of SECS (and sleeps between rounds). Prints "gamma S delta
#              S": each worker thread's CPU seconds.
#   hash       <module> -> hasher -> hashlib.sha256 of a 4 MiB buffer (Python -> C)
#   sortkey    <module> -> sorter -> sorted(key=py_key) -> py_key (C -> Python)
#   recurse    <module> -> down x 300 -> leaf (deeper than flamed's 127 frames)
#   reclimit   sys.setrecursionlimit(20000), then down x 3000 -> leaf
#   gen        <module> -> consume -> produce (a generator's body)
#   asyncio    asyncio.run(main()) -> a task running worker -> crunch (coroutines)
#   exc        <module> -> outer -> hot, which raises and catches an exception every round
#   execloop   <module> -> maker -> genNN, compiled by exec() from "genNN.py" every round (NN
#              from 00 to 49) and run briefly: code objects and their names freed and their
#              memory reused within microseconds
import sys
import time

# asyncio, hashlib and threading are imported by the shapes that use them: importing asyncio
# (ssl, enum, re) took ~10% of a short run's samples, all of them outside the shape's chain.

SHAPE = sys.argv[1]
SECS = float(sys.argv[2]) if len(sys.argv) > 2 else 2.0


def spin(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def alpha(end):
    while time.thread_time() < end:
        spin(20000)


def beta(end):
    while time.thread_time() < end:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.005:
            spin(2000)
        time.sleep(0.005)


def threads():
    import threading

    # Each thread's own CPU time: the GIL shares one CPU between them, the process may get two.
    cpu = {}

    def run(fn):
        fn(SECS if fn is alpha else SECS / 2)
        cpu[fn.__name__] = time.thread_time()

    ts = [threading.Thread(target=run, args=(f,)) for f in (alpha, beta)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("alpha %.3f beta %.3f" % (cpu["alpha"], cpu["beta"]), flush=True)


def gamma(secs):
    while time.thread_time() < secs:
        spin(20000)
    return time.thread_time()


def delta(secs):
    while time.thread_time() < secs:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.005:
            spin(2000)
        time.sleep(0.005)
    return time.thread_time()


def futures():
    from concurrent.futures import ThreadPoolExecutor

    # Both submitted before either can finish: the pool starts a thread for each (a fresh
    # thread, so its thread_time is all this function's).
    with ThreadPoolExecutor(max_workers=2) as pool:
        g = pool.submit(gamma, SECS)
        d = pool.submit(delta, SECS / 2)
        print("gamma %.3f delta %.3f" % (g.result(), d.result()), flush=True)


def hasher(end):
    import hashlib

    buf = b"\x5a" * (4 << 20)
    while time.process_time() < end:
        hashlib.sha256(buf).digest()


def py_key(v):
    x = v
    for i in range(40):
        x = (x * 31 + i) % 1000003
    return x


def sorter(end):
    data = list(range(5000))
    while time.process_time() < end:
        sorted(data, key=py_key)


def leaf(end):
    while time.process_time() < end:
        spin(20000)


def down(n, end):
    if n <= 1:
        return leaf(end)
    return down(n - 1, end)


def produce(end):
    while time.process_time() < end:
        x = 0
        for i in range(20000):
            x += i * i
        yield x


def consume(end):
    total = 0
    for v in produce(end):
        total += v
    return total


async def crunch():
    return spin(20000)


async def worker(end):
    while time.process_time() < end:
        await crunch()
        # A real suspension now and then: the task goes back through the event loop.
        await asyncio.sleep(0)


async def main(end):
    await asyncio.create_task(worker(end))


def hot(n):
    x = 0
    for i in range(n):
        try:
            raise ValueError(i)
        except ValueError as e:
            x += e.args[0]
    return x


def outer(end):
    while time.process_time() < end:
        hot(20000)


GEN_SRC = "def {0}(n):\n    x = 0\n    for i in range(n):\n        x += i\n    return x\n"


def maker(end):
    i = 0
    while time.process_time() < end:
        name = "gen%02d" % (i % 50)
        ns = {}
        exec(compile(GEN_SRC.format(name), name + ".py", "exec"), ns)
        ns[name](300)
        i += 1


end = time.process_time() + SECS
if SHAPE == "threads":
    threads()
elif SHAPE == "futures":
    futures()
elif SHAPE == "hash":
    hasher(end)
elif SHAPE == "sortkey":
    sorter(end)
elif SHAPE == "recurse":
    down(300, end)
elif SHAPE == "reclimit":
    sys.setrecursionlimit(20000)
    down(3000, end)
elif SHAPE == "gen":
    consume(end)
elif SHAPE == "asyncio":
    import asyncio

    asyncio.run(main(end))
elif SHAPE == "exc":
    outer(end)
elif SHAPE == "execloop":
    maker(end)
else:
    sys.exit("unknown shape " + SHAPE)
