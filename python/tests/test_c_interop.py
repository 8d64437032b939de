# SPDX-License-Identifier: MIT
"""Python to C: the C echo actor of examples/ (under roostd) answers a
Python client's calls and one-way messages, MessagePack and raw."""
import msgpack

import roost
from conftest import DEADLINE, build_path

ECHO, REPLY = 1, 100  # examples/echo_actor.c


def echo_config():
    return (f"[system]\n[actor echo]\nprogram = "
            f"{build_path('examples', 'echo_actor')}\nrestart = permanent\n")


def test_python_calls_a_c_actor(roostd):
    d = roostd(echo_config())
    d.whereis("echo")
    with roost.connect(system=d.system) as c:
        body = {"n": [1, 2, 3], "s": "héllo", "f": 1.5, "b": b"\x00\x01"}
        reply = c.call("echo", body, kind=ECHO, timeout=DEADLINE)
        assert reply.kind == REPLY and reply.is_msgpack and reply.body == body
        reply = c.call("echo", b"raw bytes", kind=ECHO, timeout=DEADLINE)
        assert not reply.is_msgpack and reply.body == b"raw bytes"


def test_python_sends_to_a_c_actor_and_gets_its_answer(roostd):
    d = roostd(echo_config())
    echo = d.whereis("echo")
    with roost.connect(system=d.system) as c:
        for i in range(100):
            c.send(echo, [i, "x"], kind=ECHO)  # no call: echo sends back
        # Its one-way answer keeps the bytes but not the MessagePack
        # flag (echo_actor.c sends it with roost_send_ex, flags SYSTEM).
        got = [msgpack.unpackb(c.receive(timeout=DEADLINE).data)
               for _ in range(100)]
        assert got == [[i, "x"] for i in range(100)]
