# SPDX-License-Identifier: MIT
"""roost for Python against what a Python programmer would otherwise pick,
between two Python processes, in one interleaved run (median of REPS):
multiprocessing.Queue, multiprocessing.Pipe and Pykka (threads in one
process). One-way: a stream of 64-byte bytes messages, timed at the
receiver from a start marker to the last one. Round trip: a request and
its answer, one at a time. Prints the figures, the ratios and a verdict
per target of DESIGN.md ("Other languages"). Run it with the interpreter
that has roost installed:

    .venv/bin/python python/bench/bench_ipc.py [--quick]
"""
import multiprocessing
import os
import statistics
import sys
import time

import pykka

import roost

PAYLOAD = b"x" * 64
STOP = b"stop"
mp = multiprocessing.get_context("fork")


def seconds_per_round_trip(round_trip, n):
    """Time n calls of round_trip(), one after the other."""
    t0 = time.perf_counter()
    for _ in range(n):
        round_trip()
    return (time.perf_counter() - t0) / n


def timed_stream(first, rest, n):
    """Take the start marker with first(), then n messages with rest();
    the seconds between the marker and the last message."""
    first()
    t0 = time.perf_counter()
    for _ in range(n):
        rest()
    return time.perf_counter() - t0


# --- roost ---------------------------------------------------------------

def roost_producer(system, n):
    with roost.connect(system=system) as c:
        sink = c.whereis("sink")
        send = c.send
        send(sink, b"start")
        for _ in range(n):
            send(sink, PAYLOAD)


def roost_oneway(system, n):
    with roost.connect(system=system, name="sink", mailbox_bytes=1 << 20) as c:
        p = mp.Process(target=roost_producer, args=(system, n))
        p.start()
        recv = c.receive
        secs = timed_stream(recv, recv, n)
    p.join()
    return n / secs


def roost_echo_server(system, ready):
    with roost.connect(system=system, name="echo") as c:
        ready.set()
        while True:
            m = c.receive()
            if m.data == STOP:
                return
            c.reply(m, m.data)


class Echo(roost.Actor):
    @roost.handler
    def echo(self, body):
        return body

    @roost.handler
    def quit(self):
        self.complete()


def roost_actor_server(system, ready):
    with roost.connect(system=system, name="echo") as c:
        ready.set()
        Echo().run(c)


def roost_round_trip(system, n, actor):
    ready = mp.Event()
    server = roost_actor_server if actor else roost_echo_server
    p = mp.Process(target=server, args=(system, ready))
    p.start()
    ready.wait()
    with roost.connect(system=system) as c:
        echo = c.ref("echo")
        if actor:
            per = seconds_per_round_trip(lambda: echo.call.echo(PAYLOAD), n)
            echo.quit()
        else:
            per = seconds_per_round_trip(lambda: c.call(echo, PAYLOAD), n)
            c.send(echo, STOP)
    p.join()
    return per


# --- multiprocessing.Queue and Pipe ------------------------------------------

def stream_producer(put, n):
    """A start marker, then n messages, through put()."""
    put(b"start")
    for _ in range(n):
        put(PAYLOAD)


def queue_oneway(n):
    q = mp.Queue()
    p = mp.Process(target=stream_producer, args=(q.put, n))
    p.start()
    secs = timed_stream(q.get, q.get, n)
    p.join()
    return n / secs


def queue_echo_server(req, resp):
    while (m := req.get()) != STOP:
        resp.put(m)


def queue_round_trip(n):
    req, resp = mp.Queue(), mp.Queue()
    p = mp.Process(target=queue_echo_server, args=(req, resp))
    p.start()

    def round_trip():
        req.put(PAYLOAD)
        resp.get()
    round_trip()  # the feeder thread starts on the first put
    per = seconds_per_round_trip(round_trip, n)
    req.put(STOP)
    p.join()
    return per


def pipe_oneway(n):
    rx, tx = mp.Pipe(duplex=False)
    p = mp.Process(target=stream_producer, args=(tx.send_bytes, n))
    p.start()
    secs = timed_stream(rx.recv_bytes, rx.recv_bytes, n)
    p.join()
    return n / secs


def pipe_echo_server(conn):
    while (m := conn.recv_bytes()) != STOP:
        conn.send_bytes(m)


def pipe_round_trip(n):
    here, there = mp.Pipe()
    p = mp.Process(target=pipe_echo_server, args=(there,))
    p.start()

    def round_trip():
        here.send_bytes(PAYLOAD)
        here.recv_bytes()
    per = seconds_per_round_trip(round_trip, n)
    here.send_bytes(STOP)
    p.join()
    return per


# --- Pykka (one process, threads) ------------------------------------------

class PykkaSink(pykka.ThreadingActor):
    def __init__(self):
        super().__init__()
        self.count = 0

    def on_receive(self, message):
        if message == STOP:
            return self.count
        if message != PAYLOAD:
            return message  # ask: the echo
        self.count += 1
        return None


def pykka_oneway(n):
    ref = PykkaSink.start()
    tell = ref.tell
    t0 = time.perf_counter()
    for _ in range(n):
        tell(PAYLOAD)
    assert ref.ask(STOP) == n
    secs = time.perf_counter() - t0
    ref.stop()
    return n / secs


def pykka_round_trip(n):
    ref = PykkaSink.start()
    body = b"y" * 64
    per = seconds_per_round_trip(lambda: ref.ask(body), n)
    ref.stop()
    return per


# --- the run -----------------------------------------------------------------

def main():
    quick = "--quick" in sys.argv
    n_oneway, n_rt, reps = (20_000, 2_000, 1) if quick else (100_000, 10_000, 3)
    system = f"bench-py-{os.getpid()}"
    oneway = {"roost": [], "mp.Queue": [], "mp.Pipe": [], "Pykka tell": []}
    rt = {"roost call": [], "roost Actor ref.call": [], "mp.Queue": [],
          "mp.Pipe": [], "Pykka ask": []}
    with roost.System(system, create=True):
        for _ in range(reps):  # interleaved, so drift hits all alike
            oneway["roost"].append(roost_oneway(system, n_oneway))
            oneway["mp.Queue"].append(queue_oneway(n_oneway))
            oneway["mp.Pipe"].append(pipe_oneway(n_oneway))
            oneway["Pykka tell"].append(pykka_oneway(n_oneway))
            rt["roost call"].append(roost_round_trip(system, n_rt, False))
            rt["roost Actor ref.call"].append(roost_round_trip(system, n_rt, True))
            rt["mp.Queue"].append(queue_round_trip(n_rt))
            rt["mp.Pipe"].append(pipe_round_trip(n_rt))
            rt["Pykka ask"].append(pykka_round_trip(n_rt))
    one = {k: statistics.median(v) for k, v in oneway.items()}
    two = {k: statistics.median(v) for k, v in rt.items()}
    print(f"roost-python bench: {n_oneway} one-way messages of 64 B, "
          f"{n_rt} round trips, median of {reps}; Python "
          f"{sys.version.split()[0]}, libroost {roost.libroost_version}, "
          f"{os.cpu_count()} CPUs")
    print(f"{'one-way 64 B':24} {'msg/s':>12} {'roost is':>10}")
    for k, v in one.items():
        print(f"{k:24} {v:12,.0f} {one['roost'] / v:9.2f}x")
    print(f"{'round trip':24} {'µs':>12} {'roost call is':>14}")
    for k, v in two.items():
        print(f"{k:24} {v * 1e6:12.1f} {two['roost call'] / v:13.3f}x")
    verdicts = [
        ("one-way >= 5x multiprocessing.Queue",
         one["roost"] / one["mp.Queue"], ">=", 5.0),
        ("call <= 1/10 of a multiprocessing.Queue request/response",
         two["roost call"] / two["mp.Queue"], "<=", 0.1),
        ("call <= 1/5 of Pykka's ask",
         two["roost call"] / two["Pykka ask"], "<=", 0.2),
        ("Actor ref.call <= 1/5 of Pykka's ask",
         two["roost Actor ref.call"] / two["Pykka ask"], "<=", 0.2),
    ]
    for text, ratio, op, bound in verdicts:
        ok = ratio >= bound if op == ">=" else ratio <= bound
        print(f"verdict: {text}: {ratio:.3f} ({op} {bound}) "
              f"{'MET' if ok else 'NOT MET'}")


if __name__ == "__main__":
    main()
