# SPDX-License-Identifier: MIT
"""The transaction story (examples/README.md, 4-6, in Python):

1. get-then-set loses updates: two clients read the same value, both
   write value + 1, one increment is gone. The clients meet at a barrier
   between the get and the set each round, so exactly one update per
   round is lost, every run.
2. an atomic update handled inside the owner loses none: 'add' runs in
   the store actor, one handler at a time.
3. a transaction that calls a third actor completes without deadlock: the
   bank's 'transfer' handler calls the auditor and waits for its answer
   (the request it is handling stays in hand), while clients keep calling.

Every actor and client has its own context (one per thread) on a private
system; run it with the interpreter that has roost installed:

    .venv/bin/python python/examples/transactions.py [ROUNDS]
"""
import os
import sys
import threading

import roost


class Store(roost.Actor):
    """Owns one number; only its handlers touch it."""

    def __init__(self):
        self.value = 0

    @roost.handler
    def get(self):
        return self.value

    @roost.handler
    def set(self, value):
        self.value = value

    @roost.handler
    def add(self, amount):
        self.value += amount
        return self.value


class Auditor(roost.Actor):
    @roost.handler
    def approve(self, transfer):
        return transfer["amount"] <= 100


class Bank(roost.Actor):
    def __init__(self):
        self.balances = {"alice": 1000, "bob": 1000}

    @roost.handler
    def transfer(self, t):
        # A call from inside a handler: the transfer stays in hand while
        # the auditor answers.
        if not self.ctx.ref("auditor").call.approve(t):
            return "refused"
        self.balances[t["from"]] -= t["amount"]
        self.balances[t["to"]] += t["amount"]
        return "done"

    @roost.handler
    def total(self):
        return sum(self.balances.values())


def start_actor(system, name, actor):
    """Run 'actor' under 'name' in a thread of its own (its own context)."""
    ready = threading.Event()

    def run():
        with system.connect(name=name) as ctx:
            ready.set()
            actor.run(ctx)
    t = threading.Thread(target=run, name=name)
    t.start()
    ready.wait()
    return t


def clients(system, n, body):
    """Run body(ctx, i) in n client threads, each with its own context."""
    def run(i):
        with system.connect() as ctx:
            body(ctx, i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main(rounds):
    name = f"tx-py-{os.getpid()}"
    with roost.System(name, create=True) as system:
        actors = [start_actor(system, "store", Store()),
                  start_actor(system, "auditor", Auditor()),
                  start_actor(system, "bank", Bank())]
        barrier = threading.Barrier(2)

        def get_then_set(ctx, _):
            store = ctx.ref("store")
            for _ in range(rounds):
                value = store.call.get()
                barrier.wait()  # both have read the same value
                store.call.set(value + 1)
                barrier.wait()
        clients(system, 2, get_then_set)

        def atomic_add(ctx, _):
            store = ctx.ref("store")
            for _ in range(rounds):
                store.add(1)
            store.call.get()  # FIFO: our adds are all in
        with system.connect() as ctx:
            after_getset = ctx.ref("store").call.get()
            clients(system, 2, atomic_add)
            after_add = ctx.ref("store").call.get()

        def transfers(ctx, i):
            bank = ctx.ref("bank")
            for k in range(rounds):
                a, b = ("alice", "bob") if (i + k) % 2 else ("bob", "alice")
                bank.call.transfer({"from": a, "to": b, "amount": 50 + k % 100})
        clients(system, 2, transfers)
        with system.connect() as ctx:
            total = ctx.ref("bank").call.total()
            for name_ in ("store", "auditor", "bank"):
                ctx.stop(name_)
        for t in actors:
            t.join()
    lost = 2 * rounds - after_getset
    print(f"get-then-set: 2 clients x {rounds} increments, {lost} lost")
    print(f"atomic add: 2 clients x {rounds} increments, "
          f"{after_add - after_getset - 2 * rounds} lost")
    print(f"transactions: 2 clients x {rounds} transfers through the "
          f"auditor, no deadlock, total {total} (was 2000)")
    return lost == rounds and after_add - after_getset == 2 * rounds \
        and total == 2000


if __name__ == "__main__":
    sys.exit(0 if main(int(sys.argv[1]) if len(sys.argv) > 1 else 200) else 1)
