# SPDX-License-Identifier: GPL-2.0-only
# A code object freed and its memory taken by another one (tests/e2e/test_python_shapes.sh):
# runs alpha_fn, compiled at run time, until SIGUSR1; then drops it and compiles beta_fn (the
# same code under a name of the same length, so an object of the same size) until one lies
# where alpha_fn's did, and runs it until killed. Prints "alpha ADDR", then "beta ADDR TRIES"
# (or "beta not reused") as it goes.
import gc
import signal
import sys

SRC = "def {0}(n):\n    x = 0\n    for i in range(n):\n        x += i\n    return x\n"
switch = False


def on_usr1(sig, frame):
    global switch
    switch = True


def make(name):
    ns = {}
    exec(compile(SRC.format(name), name + ".py", "exec"), ns)
    return ns[name]


signal.signal(signal.SIGUSR1, on_usr1)
f = make("alpha_fn")
addr = id(f.__code__)
print("alpha", hex(addr), flush=True)
while not switch:
    f(20000)
del f
gc.collect()
kept = []
for tries in range(1, 10001):
    g = make("beta_fn")
    if id(g.__code__) == addr:
        break
    kept.append(g)	# keep it: the next try takes another block
else:
    print("beta not reused", flush=True)
    sys.exit(1)
del kept
print("beta", hex(addr), tries, flush=True)
while True:
    g(20000)
