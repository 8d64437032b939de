# SPDX-License-Identifier: MIT
"""Python actors under a real roostd: restart at the same address after
kill -9 with the in-flight message redelivered and nothing lost;
monitors, links, timers, spawning programs and callables, kill, and the
graceful end of a Python actor on SIGTERM."""
import errno
import json
import os
import signal
import subprocess

import pytest

import roost
from conftest import DEADLINE, EXAMPLES, PYTHON, build_path, python_actor


def notices(ctx, n):
    """The next 'n' Down/Exit notices of 'ctx'."""
    return [roost.notice(ctx.receive(timeout=DEADLINE, lanes=roost.LANE_SYSTEM))
            for _ in range(n)]


def test_python_actor_restarted_at_its_address_after_kill_9(roostd):
    d = roostd("[system]\n" + python_actor("counter", "counter.py"))
    addr = d.whereis("counter")
    with roost.connect(system=d.system) as c:
        counter = c.ref(addr)
        first_pid = counter.call.pid(timeout=DEADLINE)
        mon = c.monitor(addr)
        for _ in range(100):
            counter.add(1)
        counter.hold(c.address.id)
        c.receive(timeout=DEADLINE, match=lambda m: m.body == "holding")
        for _ in range(100):
            counter.add(1)  # queued behind the message in hand
        os.kill(first_pid, signal.SIGKILL)
        (down,) = notices(c, 1)
        assert isinstance(down, roost.Down) and down.ref == mon
        assert (down.address, down.pid, down.signal) == (addr, first_pid, 9)
        assert down.restarting and down.reason == "signal"
        assert c.whereis("counter") == addr
        # The new process starts from zero (state lives in the process);
        # every message queued behind the one in hand reaches it.
        assert counter.call.get_total(timeout=DEADLINE) == 100
        assert counter.call.redeliveries() == 1
        assert counter.call.pid() != first_pid


def test_crash_policy_answers_then_restarts_without_redelivery(roostd):
    d = roostd("[system]\n" + python_actor("counter", "counter.py",
                                           "--crash-on-error"))
    addr = d.whereis("counter")
    with roost.connect(system=d.system) as c:
        counter = c.ref(addr)
        first_pid = counter.call.pid(timeout=DEADLINE)
        c.monitor(addr)
        with pytest.raises(roost.RemoteError) as e:
            counter.call.fail("boom", timeout=DEADLINE)  # answered first
        assert (e.value.type, e.value.text) == ("ValueError", "boom")
        counter.add(5)  # queued behind: the next process handles it
        (down,) = notices(c, 1)
        assert (down.pid, down.reason, down.status) == (first_pid, "exit", 1)
        assert down.restarting
        assert counter.call.get_total(timeout=DEADLINE) == 5
        # Had 'fail' come back redelivered, it would have crashed the new
        # process before this answer, and its Down would be queued.
        with pytest.raises(roost.Timeout):
            c.receive(timeout=0, lanes=roost.LANE_SYSTEM)


def test_c_client_calls_and_sends_to_a_python_actor(roostd):
    """roostctl, a C program on libroost, is the C client."""
    d = roostd("[system]\n" + python_actor("counter", "counter.py"))
    d.whereis("counter")
    roostctl = [build_path("tools", "roostctl"), "--system", d.system]
    add, total = str(roost.kind_of("add")), str(roost.kind_of("get_total"))
    subprocess.run(roostctl + ["send", "counter", add, "40"], check=True)
    subprocess.run(roostctl + ["send", "counter", add, "2"], check=True)
    out = subprocess.run(roostctl + ["--json", "call", "counter", total],
                         check=True, capture_output=True, text=True).stdout
    reply = json.loads(out)["reply"]  # docs/roostctl-json.md
    assert reply["kind"] == roost.KIND_RESULT and reply["payload"] == 42
    assert "reply" in reply["flags"] and reply["encoding"] == "msgpack"
    # A wrong argument is an error answer the C side reads as a map.
    out = subprocess.run(roostctl + ["--json", "call", "counter", add, '"x"'],
                         check=True, capture_output=True, text=True).stdout
    reply = json.loads(out)["reply"]
    assert reply["kind"] == roost.KIND_ERROR
    assert reply["payload"]["type"] == "TypeError"


def test_roostctl_shows_a_python_actors_queue_decoded_and_named(roostd):
    d = roostd("[system]\n" + python_actor("counter", "counter.py"))
    addr = d.whereis("counter")
    with roost.connect(system=d.system) as c:
        counter = c.ref(addr)
        pid = counter.call.pid(timeout=DEADLINE)  # running: kinds named
        counter.hold(c.address.id)
        c.receive(timeout=DEADLINE, match=lambda m: m.body == "holding")
        counter.add(amount=3)  # queued behind the hold
        out = subprocess.run([build_path("tools", "roostctl"), "--system",
                              d.system, "--json", "inspect", "counter"],
                             check=True, capture_output=True, text=True).stdout
        queued = [json.loads(line) for line in out.splitlines()]
        text = json.dumps(queued)
        assert '"kind_name": "hold"' in text and '"kind_name": "add"' in text
        assert '"payload": {"amount": 3}' in text
        os.kill(pid, signal.SIGTERM)  # ends the hold: a graceful stop


def test_monitor_and_link_a_one_shot(roostd):
    d = roostd()
    with roost.connect(system=d.system) as c:
        def one_shot(child):
            child.receive(timeout=None)
            # The child gets the caller's kind of context, helpers and all.
            return 3 if isinstance(child, roost.Context) else 4
        addr = c.spawn(one_shot, name="oneshot")
        mon = c.monitor(addr)
        c.link(addr)
        c.send(addr, "go")
        got = {type(n): n for n in notices(c, 2)}
        down, ex = got[roost.Down], got[roost.Exit]
        assert down.ref == mon and ex.ref == 0
        for n in (down, ex):
            assert (n.address, n.status, n.reason, n.restarting) == (addr, 3, "exit", False)
            assert n.name == "oneshot"
        with pytest.raises(roost.NoSuchActor):
            c.send(addr, "after")


def test_timers(roostd):
    d = roostd()
    with roost.connect(system=d.system) as c:
        c.send_after(c.address, 0.001, {"t": 1}, kind=9)
        m = c.receive(timeout=DEADLINE)
        assert (m.kind, m.body) == (9, {"t": 1})
        tick = c.send_interval(c.address, 0.001, 0.001, "tick", kind=10)
        for _ in range(3):
            assert c.receive(timeout=DEADLINE, match=lambda m: m.kind == 10).body == "tick"
        c.cancel(tick)
        with pytest.raises(roost.Error) as e:
            c.cancel(tick)
        assert e.value.errno == errno.ENOENT
        with pytest.raises(roost.MessageTooLarge):
            c.send_after(c.address, 1, b"x" * 193)
        with pytest.raises(ValueError, match="interval"):
            c.send_interval(c.address, 1, 0, "x")


def test_spawn_a_python_program_then_kill_it(roostd):
    d = roostd()
    with roost.connect(system=d.system) as c:
        addr = c.spawn(PYTHON, [os.path.join(EXAMPLES, "counter.py")],
                       name="spawned", restart="permanent")
        ref = c.ref(addr)
        ref.add(5)
        assert ref.call.get_total(timeout=DEADLINE) == 5
        c.monitor(addr)
        ref.kill()
        (down,) = notices(c, 1)
        assert down.reason == "killed" and not down.restarting
        with pytest.raises(ValueError, match="absolute"):
            c.spawn("python3")
        with pytest.raises(roost.Error) as e:
            c.spawn("/no/such/program")
        assert e.value.errno == errno.ENOENT


def test_sigterm_ends_a_python_actor_gracefully(roostd):
    d = roostd()
    with roost.connect(system=d.system) as c:
        addr = c.spawn(PYTHON, [os.path.join(EXAMPLES, "counter.py")],
                       restart="transient")
        ref = c.ref(addr)
        pid = ref.call.pid(timeout=DEADLINE)
        c.monitor(addr)
        os.kill(pid, signal.SIGTERM)
        (down,) = notices(c, 1)
        # Not killed by the signal: the loop turned it into a stop.
        assert (down.reason, down.status, down.signal) == ("stopped", 0, 0)
        assert not down.restarting
