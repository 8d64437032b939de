# SPDX-License-Identifier: MIT
"""Contexts (one mailbox each) and systems."""
from typing import Callable, Optional, Sequence, Union

from . import _roost
from .actor import Ref

Target = Union[_roost.Address, Ref, str]


class Context(_roost.Context):
    """A mailbox on a roost system: send, call, reply, receive, and the
    verbs that ask roostd (spawn, kill, timers, monitor, link).

    Thread rules: a Context belongs to the thread that opened it (other
    threads get RuntimeError); open one per thread. Every blocking wait
    releases the GIL. Use it as a context manager to close it."""

    @classmethod
    def from_env(cls) -> "Context":
        """Open the mailbox roostd prepared for this process (its system,
        name and, after a restart, its old address and queued mail)."""
        return cls(from_env=True)

    def ref(self, target: Target) -> Ref:
        """A Ref to 'target' (an Address or a registered name, looked up
        now) whose attributes send messages: ref.method(x)."""
        if isinstance(target, str):
            target = self.whereis(target)
        elif isinstance(target, Ref):
            target = target.address
        return Ref(self, target)

    def send_after(self, to: Target, delay: float, body=None,
                   kind: int = 0) -> int:
        """Have roostd send 'body' to 'to' after 'delay' seconds; returns
        the timer's id for cancel()."""
        return self._timer_start(to, delay, body, kind)

    def send_interval(self, to: Target, delay: float, interval: float,
                      body=None, kind: int = 0) -> int:
        """Like send_after, then every 'interval' seconds (missed ticks
        are skipped); returns the timer's id for cancel()."""
        return self._timer_start(to, delay, body, kind, interval=interval)

    def spawn(self, program: Union[str, Callable[["Context"], Optional[int]]],
              args: Sequence[str] = (), *, name: Optional[str] = None,
              restart: str = "permanent", daemon: bool = False,
              mailbox_bytes: int = 0,
              timeout: float = 5.0) -> _roost.Address:
        """Start an actor and return its address once it has attached.

        'program' is an absolute path (roostd supervises and restarts it
        per 'restart'; for a Python actor, /usr/bin/python3 with the
        script first in 'args'), or a Python callable fn(ctx), run once in
        a forked child as a one-shot actor that is never restarted (its
        return value, an int or None, is the exit status)."""
        if callable(program):
            if args or restart != "permanent" or mailbox_bytes:
                raise ValueError("a one-shot callable takes only name "
                                 "and daemon")
            return self._spawn_fn(program, name=name, daemon=daemon)
        return super().spawn(program, list(args), name=name,
                             restart=restart, daemon=daemon,
                             mailbox_bytes=mailbox_bytes, timeout=timeout)


def connect(system: Optional[str] = None, name: Optional[str] = None,
            mailbox_bytes: int = 0) -> Context:
    """Open a mailbox on 'system' (None: $ROOST_SYSTEM, else "default"),
    registered as 'name' if given. Close it, or use it in a with block."""
    return Context(system, name, mailbox_bytes=mailbox_bytes)


class System:
    """A roost system by name. roostd creates and destroys systems; tests
    and single-process programs may do it here:

        with roost.System("demo", create=True) as system:
            with system.connect(name="me") as ctx: ...
    """

    def __init__(self, name: str, *, create: bool = False,
                 mailbox_bytes: int = 0):
        self.name = name
        self.created = create
        if create:
            _roost.system_create(name, mailbox_bytes=mailbox_bytes)

    def connect(self, name: Optional[str] = None,
                mailbox_bytes: int = 0) -> Context:
        """Open a mailbox on this system (see roost.connect)."""
        return connect(self.name, name, mailbox_bytes)

    def destroy(self) -> None:
        """Remove every shared-memory object of the system."""
        _roost.system_destroy(self.name)
        self.created = False

    def __enter__(self) -> "System":
        return self

    def __exit__(self, *exc) -> None:
        if self.created:
            self.destroy()
