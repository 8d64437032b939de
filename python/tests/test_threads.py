# SPDX-License-Identifier: MIT
"""The GIL is released while a receive or a call blocks: another Python
thread runs meanwhile. Had the waiting thread kept the GIL, the other one
could not answer before the wait's deadline, and the test would fail."""
import threading

import pytest

import roost
from conftest import DEADLINE


def test_another_thread_runs_while_one_blocks_in_receive(system):
    opened = threading.Event()
    address = []
    got = []

    def blocker():
        with system.connect() as c:
            address.append(c.address)
            opened.set()
            try:
                got.append(c.receive(timeout=DEADLINE).body)
            except roost.Timeout as exc:
                got.append(exc)
    t = threading.Thread(target=blocker)
    t.start()
    assert opened.wait(DEADLINE)
    total = sum(range(100_000))  # Python work in this thread meanwhile
    with system.connect() as me:
        me.send(address[0], total)
    t.join()
    assert got == [total]


def test_another_thread_answers_while_one_blocks_in_a_call(system):
    got = []
    with system.connect(name="answerer") as server:
        def caller():
            with system.connect() as c:
                try:
                    got.append(c.call("answerer", 41, timeout=DEADLINE).body)
                except roost.Timeout as exc:
                    got.append(exc)
        t = threading.Thread(target=caller)
        t.start()
        req = server.receive(timeout=DEADLINE)  # needs the GIL meanwhile
        server.reply(req, req.body + 1)
        t.join()
    assert got == [42]


def test_contexts_in_many_threads_encode_at_once(system):
    """Each context has its own MessagePack packer: threads encoding at
    the same time never see each other's bytes."""
    n_threads, n_msgs = 4, 2000
    with system.connect(name="sink") as sink:
        def producer(t):
            with system.connect() as c:
                for i in range(n_msgs):
                    c.send("sink", {"t": t, "i": i, "pad": "x" * (t * 10)})
        threads = [threading.Thread(target=producer, args=(t,))
                   for t in range(n_threads)]
        for t in threads:
            t.start()
        got = {t: [] for t in range(n_threads)}
        for _ in range(n_threads * n_msgs):
            body = sink.receive(timeout=DEADLINE).body
            assert body["pad"] == "x" * (body["t"] * 10)
            got[body["t"]].append(body["i"])
        for t in threads:
            t.join()
    assert all(v == list(range(n_msgs)) for v in got.values())  # FIFO each


def test_ctrl_c_interrupts_a_blocked_receive(system):
    """A client blocked in receive(timeout=None) gets KeyboardInterrupt
    on SIGINT, and its with block closes the mailbox on the way out."""
    import os
    import signal
    import subprocess
    import sys
    from conftest import wait_for
    script = (
        "import roost, sys\n"
        f"with roost.connect(system={system.name!r}, name='blocked') as c:\n"
        "    print('ready', flush=True)\n"
        "    try:\n"
        "        c.receive(timeout=None)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n")
    child = subprocess.Popen([sys.executable, "-c", script],
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline() == "ready\n"

    def waiting_in_receive():  # asleep on the mailbox's futex
        with open(f"/proc/{child.pid}/wchan") as f:
            return "futex" in f.read()
    wait_for(waiting_in_receive, "the child to block in receive")
    os.kill(child.pid, signal.SIGINT)
    assert child.stdout.readline() == "interrupted\n"
    assert child.wait(timeout=DEADLINE) == 0
    with system.connect() as c:  # its mailbox and name are gone
        with pytest.raises(roost.NoSuchActor):
            c.whereis("blocked")
