"""Ctrl-C: a SIGINT arriving while the engine works cancels the call, which
raises KeyboardInterrupt soon after (the waiting thread polls for signals
every 10 ms and the engine stops at its next morsel). The issue's target is
100 ms; the assertion allows 2 s for a loaded machine (no timing
assertions beyond that sanity bound)."""
import os
import signal
import threading
import time

import polars as pl
import pytest

import gopherframe as gf

N = 8_000_000


@pytest.fixture(scope="module")
def big():
    return gf.from_arrow(pl.select(k=(pl.int_range(0, N) * 2654435761) % 1000003,
                                   v=(pl.int_range(0, N) * 40503) % 65521))


def _interrupt_after(seconds, sent, running):
    def fire():
        # Only while the call runs: a SIGINT after it returned would abort
        # the whole pytest session instead of failing this test.
        if not running.is_set():
            return
        sent.append(time.monotonic())
        os.kill(os.getpid(), signal.SIGINT)
    t = threading.Timer(seconds, fire)
    t.start()
    return t


@pytest.mark.parametrize("op", ["sort", "group_by", "filter", "lazy"])
def test_ctrl_c_cancels_a_running_call(big, op):
    calls = {
        "sort": lambda: big.sort("k", "v", threads=1),
        "group_by": lambda: big.group_by("k").agg("median(v)", "n_unique(v)", threads=1),
        "filter": lambda: big.filter("k * 3 % 7 = 1 or v * 5 % 11 = 2 or (k * 7 + v * 3) % 13 = 5"
                                     " or (k + 11) * (v + 13) % 17 = 3 or (k - v) % 19 = 4"
                                     " or k * v % 23 = 6 or k + v > 2000000", threads=1),
        "lazy": lambda: big.lazy().filter("v > 3").sort("k", "v").collect(threads=1),
    }
    sent = []
    running = threading.Event()
    running.set()
    timer = _interrupt_after(0.1, sent, running)
    interrupted = False
    t0 = time.monotonic()
    try:
        try:
            calls[op]()
        finally:
            running.clear()
    except KeyboardInterrupt:
        interrupted = True
    t1 = time.monotonic()
    try:
        timer.join()
    except KeyboardInterrupt:
        # The signal raced with the end of the call (sent just as it
        # returned): the engine did not see it.
        interrupted = False
    if not interrupted:
        # The call finished before the signal: too fast a machine for this
        # input, which would make the test meaningless.
        time.sleep(0.5)
        pytest.fail(f"{op} finished in {t1 - t0:.2f}s, before the signal at 0.1s")
    latency = t1 - sent[0]
    print(f"{op}: KeyboardInterrupt {latency * 1000:.1f} ms after SIGINT")
    assert latency < 2.0
    # The engine is usable afterwards.
    assert len(big.head(10).sort("k", threads=2)) == 10


def test_other_threads_run_while_the_engine_works(big):
    """The GIL is released: a Python thread makes progress during a call."""
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(1)
            time.sleep(0.001)

    th = threading.Thread(target=spin)
    th.start()
    before = len(ticks)
    big.sort("k", "v", threads=1)
    during = len(ticks) - before
    stop.set()
    th.join()
    assert during > 10
