# SPDX-License-Identifier: MIT
"""A Python client of the C bank demo (examples/bank.c; messages in
examples/bank_proto.h: fixed-size structs sent raw, which struct packs).
It reads the balances, deposits into account 0, is refused an
overdraft, and checks each answer.

    python3 bank_client.py SYSTEM       (roostd runs build/examples/bank.ini)
"""
import struct
import sys

import roost

BANK_DEPOSIT, BANK_WITHDRAW, BANK_BALANCE, BANK_REPLY = 1, 2, 3, 4
BANK_OK, BANK_REFUSED = 0, 1
OP = struct.Struct("=IIQ")        # struct bank_op: account, pad, amount
REPLY = struct.Struct("=II3Q")    # struct bank_reply: status, deposits, balances


def ask(ctx, kind, payload=b""):
    """Send a request; the bank answers on our system lane (kind
    BANK_REPLY). Returns (status, deposits, balances)."""
    ctx.send("bank", payload, kind=kind)
    m = ctx.receive(timeout=5, lanes=roost.LANE_SYSTEM,
                    match=lambda m: m.kind == BANK_REPLY)
    status, deposits, *balances = REPLY.unpack(m.data)
    return status, deposits, balances


def main(system):
    with roost.connect(system=system) as ctx:
        _, deposits, before = ask(ctx, BANK_BALANCE)
        ctx.send("bank", OP.pack(0, 0, 1000), kind=BANK_DEPOSIT)
        _, deposits_after, after = ask(ctx, BANK_BALANCE)
        status, _, _ = ask(ctx, BANK_WITHDRAW, OP.pack(1, 0, 2**63))
        print(f"bank: balances {before} -> {after}, deposits {deposits} -> "
              f"{deposits_after}; an overdraft is "
              f"{'refused' if status == BANK_REFUSED else 'ACCEPTED'}")
        # Workers deposit too, so at least ours was added.
        return (after[0] >= before[0] + 1000 and deposits_after > deposits
                and status == BANK_REFUSED)


if __name__ == "__main__":
    sys.exit(0 if main(sys.argv[1]) else 1)
