# SPDX-License-Identifier: MIT
"""No leaked references: after a warm-up, 100,000 sends and receives
(decoded, and some selective) grow the process by less than 1 MiB."""
import roost


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def exchange(ctx, n):
    for i in range(n):
        ctx.send(ctx.address, {"i": i, "s": "payload"}, kind=3)
        ctx.send(ctx.address, b"raw")
        assert ctx.receive(timeout=0, match=lambda m: m.kind == 3).body["i"] == i
        assert ctx.receive(timeout=0).data == b"raw"
        try:
            ctx.send("no-such-name", i)
        except roost.NoSuchActor:
            pass


def test_rss_flat_over_100k_messages(ctx):
    exchange(ctx, 10_000)  # warm-up: caches, allocator arenas
    before = rss_kib()
    exchange(ctx, 50_000)  # 100,000 sends and 100,000 receives
    grown = rss_kib() - before
    assert grown < 1024, f"RSS grew {grown} KiB"
