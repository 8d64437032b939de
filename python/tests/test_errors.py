# SPDX-License-Identifier: MIT
"""Bad input gives a clear exception and loses nothing; libroost's codes
map to the roost.Error hierarchy."""
import errno
import math

import pytest

import roost


def test_hierarchy_carries_errno_and_name(ctx):
    with pytest.raises(roost.NoSuchActor) as e:
        ctx.send("nobody-has-this", 1)
    err = e.value
    assert isinstance(err, roost.Error) and isinstance(err, ProcessLookupError)
    assert isinstance(err, OSError)
    assert (err.errno, err.name) == (errno.ENOENT, "ENOENT")
    assert "no actor holds that name" in str(err)
    with pytest.raises(roost.Timeout) as e:
        ctx.receive(timeout=0)
    assert isinstance(e.value, TimeoutError) and e.value.errno == errno.EAGAIN


def test_stale_address_is_no_such_actor(system):
    with system.connect() as a:
        gone = system.connect()
        old = gone.address
        gone.close()
        with pytest.raises(roost.NoSuchActor) as e:
            a.send(old, 1)
        assert e.value.errno == errno.ESRCH and e.value.name == "ESRCH"


@pytest.mark.parametrize("timeout", [-1, math.inf, math.nan, 1e12])
def test_timeouts_out_of_range(ctx, timeout):
    with pytest.raises(ValueError, match="timeout"):
        ctx.receive(timeout=timeout)


@pytest.mark.parametrize("timeout", ["1", True, [1]])
def test_timeouts_of_the_wrong_type(ctx, timeout):
    with pytest.raises(TypeError, match="seconds"):
        ctx.send(ctx.address, 1, timeout=timeout)


@pytest.mark.parametrize("kind,exc", [(-1, ValueError), (0xFFFFFF00, ValueError),
                                      (2**70, ValueError), ("1", TypeError),
                                      (1.0, TypeError)])
def test_bad_kinds(ctx, kind, exc):
    with pytest.raises(exc, match="kind"):
        ctx.send(ctx.address, 1, kind=kind)
    with pytest.raises(roost.Timeout):
        ctx.receive(timeout=0)  # nothing was sent


def test_bad_addresses_and_names(ctx):
    with pytest.raises(TypeError, match="roost.Address"):
        ctx.send(12345, 1)
    with pytest.raises(ValueError, match="1 to 47 bytes"):
        ctx.send("x" * 48, 1)
    with pytest.raises(ValueError, match="1 to 47 bytes"):
        ctx.register("")
    with pytest.raises(ValueError, match="never valid"):
        roost.Address(0)


def test_unserializable_body_sends_nothing(ctx):
    with pytest.raises(TypeError):
        ctx.send(ctx.address, object())
    with pytest.raises(roost.Timeout):
        ctx.receive(timeout=0)


def test_oversize_payload(ctx):
    with pytest.raises(roost.MessageTooLarge) as e:
        ctx.send(ctx.address, b"x" * (64 << 20))
    assert e.value.errno == errno.EMSGSIZE
    ctx.send(ctx.address, b"fits")
    assert ctx.receive(timeout=0).body == b"fits"


def test_not_msgpack_where_msgpack_is_expected(ctx):
    ctx.send(ctx.address, roost.Packed(b"\xc1\xc1 not msgpack"))
    m = ctx.receive(timeout=0)
    assert m.is_msgpack
    with pytest.raises(roost.BadPayload) as e:
        m.body
    assert isinstance(e.value, ValueError) and e.value.name == "ROOST_EPROTO"
    assert m.data == b"\xc1\xc1 not msgpack"  # nothing lost


def test_full_mailbox_then_everything_arrives(system):
    with system.connect(mailbox_bytes=4096) as small, system.connect() as c:
        sent = 0
        with pytest.raises(roost.MailboxFull) as e:
            while True:
                c.send(small.address, sent, timeout=0)
                sent += 1
        assert isinstance(e.value, BlockingIOError) and e.value.name == "EAGAIN"
        with pytest.raises(roost.MailboxFull) as e:
            c.send(small.address, "x", timeout=0.01)
        assert e.value.name == "ETIMEDOUT"
        got = [small.receive(timeout=0).body for _ in range(sent)]
        assert got == list(range(sent))
        with pytest.raises(roost.Timeout):
            small.receive(timeout=0)


def test_closed_context(system):
    c = system.connect()
    addr = c.address
    c.close()
    c.close()  # twice is fine
    assert c.closed
    with pytest.raises(roost.Closed) as e:
        c.send(addr, 1)
    assert e.value.errno == errno.EBADF
    with pytest.raises(roost.Closed):
        c.receive(timeout=0)
    with pytest.raises(roost.Closed):
        c.address


def test_name_taken(system):
    with system.connect(name="taken"):
        with pytest.raises(roost.NameTaken):
            system.connect(name="taken")


def test_no_such_system():
    with pytest.raises(roost.Error) as e:
        roost.connect(system="no-such-system-here")
    assert e.value.errno == errno.ENOENT


def test_roostd_verbs_without_roostd(ctx):
    with pytest.raises(roost.NotConnected):
        ctx.send_after(ctx.address, 0.1, "x")


def test_one_context_per_thread(ctx):
    import threading
    seen = []
    t = threading.Thread(target=lambda: seen.append(_try(ctx.receive, 0)))
    t.start()
    t.join()
    assert isinstance(seen[0], RuntimeError) and "thread" in str(seen[0])


def _try(fn, *args):
    try:
        fn(*args)
    except Exception as exc:
        return exc


@pytest.mark.parametrize("bad,exc", [(2**32, ValueError), (-1, ValueError),
                                     ("64", TypeError), (True, TypeError)])
def test_sizes_and_lanes_out_of_range(system, bad, exc):
    with pytest.raises(exc, match="mailbox_bytes"):
        system.connect(mailbox_bytes=bad)
    with system.connect() as c:
        with pytest.raises(exc, match="lanes"):
            c.receive(timeout=0, lanes=bad)
