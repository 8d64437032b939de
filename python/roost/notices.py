# SPDX-License-Identifier: MIT
"""DOWN and EXIT notices (roostd's word that a watched actor ended) as
Python objects."""
from dataclasses import dataclass
from typing import Optional

from . import _roost


@dataclass(frozen=True)
class Notice:
    """An actor ended. ``reason`` is "normal", "exit", "signal", "killed",
    "stopped", "lost" or "shutdown"; ``restarting`` says whether roostd
    restarts it at the same address (then the watch goes on)."""
    address: _roost.Address
    ref: int
    pid: int
    status: int          # exit status, or -1 (a signal, or unknown)
    signal: int          # the signal that killed it, or 0
    restarting: bool
    name: str
    reason: str


class Down(Notice):
    """To a monitor (``ref`` is the monitor's)."""


class Exit(Notice):
    """To a linked actor (``ref`` is 0)."""


def notice(msg: _roost.Message) -> Optional[Notice]:
    """The Down or Exit in 'msg' (just received), or None for any other
    message. Raises roost.Error (EPROTO) for a malformed notice."""
    fields = msg._notice()
    if fields is None:
        return None
    cls = Down if fields[0] == "DOWN" else Exit
    return cls(*fields[1:])
