# SPDX-License-Identifier: MIT
"""Actors written as classes: decorated methods are the messages they
handle, a Ref turns attribute calls into sends and calls."""
import inspect
import sys
import traceback
from typing import Any, Callable, Dict, Optional

from . import _roost
from . import errors as roost_errors
from .notices import notice
from .wire import KIND_ERROR, KIND_RESULT, kind_of, pack_args


def handler(fn: Optional[Callable] = None, *, kind: Optional[int] = None):
    """Mark an Actor method as a message handler. Its kind is derived from
    its name (roost.kind_of), or is 'kind' when given (to serve a C
    protocol's fixed kinds). The handler takes the message's body as its
    one argument, or no argument."""
    if kind is not None and (isinstance(kind, bool) or not isinstance(kind, int)
                             or not 0 <= kind < _roost.KIND_RESERVED_MIN):
        raise ValueError(f"kind must be an int in 0..{_roost.KIND_RESERVED_MIN - 1}")

    def mark(f: Callable) -> Callable:
        f._roost_kind = kind_of(f.__name__) if kind is None else kind
        return f
    return mark(fn) if fn is not None else mark


class Actor:
    """Base class of an actor: subclass it, decorate its message handlers
    with @roost.handler, and run it on a context (Actor.main() does all of
    that for a program started by roostd).

    One handler runs at a time, so the instance's state needs no lock. A
    handler's return value answers a call; an exception answers it with
    roost.RemoteError at the caller and the actor goes on. Messages of a
    kind without a handler go to the system's dead letters. A stop
    (ctx.stop, SIGTERM, Ctrl-C) handles what is queued, then run()
    returns. Define on_down / on_exit to receive Down / Exit notices.

    With ``crash_on_error = True`` a handler's exception still answers the
    call first, then ends the run by raising it (the program exits, and
    roostd restarts it): the message counts as handled and is not
    redelivered.

    In a handler, ``self.ctx`` is the context and ``self.message`` the
    roost.Message being handled."""

    crash_on_error: bool = False

    _roost_handlers: Dict[int, str] = {}

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        table: Dict[int, str] = {}
        for name, member in inspect.getmembers(cls):
            kind = getattr(member, "_roost_kind", None)
            if kind is None:
                continue
            if kind in table and table[kind] != name:
                raise TypeError(f"{cls.__name__}: handlers {table[kind]} "
                                f"and {name} have the same kind {kind}")
            table[kind] = name
        cls._roost_handlers = table

    ctx: Any = None
    message: Optional[_roost.Message] = None

    def complete(self) -> None:
        """End gracefully after this handler: what is queued now is still
        handled, later sends are refused (ShuttingDown)."""
        self._completing = True

    def run(self, ctx) -> None:
        """Handle messages on 'ctx' until stopped. Raises what a handler
        raised that is not an Exception (SystemExit, KeyboardInterrupt)."""
        self.ctx = ctx
        self._completing = False
        dispatch = {kind: self._dispatcher(getattr(self, name))
                    for kind, name in self._roost_handlers.items()}
        for kind, hook in ((_roost.KIND_DOWN, "on_down"),
                           (_roost.KIND_EXIT, "on_exit")):
            if hasattr(self, hook):
                dispatch[kind] = self._notice_dispatcher(getattr(self, hook))
        self._name_kinds(ctx)
        try:
            ctx._run(dispatch)
        except _Crash as crash:
            ctx._release()  # answered: not to be redelivered
            raise crash.error from None

    def _name_kinds(self, ctx) -> None:
        """Name the handlers' kinds for roostctl. A name too long for a
        kind name (23 bytes) or already given another name is left out:
        tools then show the number."""
        for kind, name in self._roost_handlers.items():
            try:
                ctx.kind_register(kind, name)
            except (ValueError, roost_errors.Error):
                pass

    @classmethod
    def main(cls, *args, **kw) -> None:
        """The whole program of a supervised actor: open the mailbox
        roostd prepared (roost.Context.from_env), run, close. An exception
        out of the run is a crash: the mailbox is left as it is (not
        closed) for roostd to restart the actor at the same address with
        its queue, and the exception propagates (exit status 1)."""
        from .context import Context
        ctx = Context.from_env()
        try:
            cls(*args, **kw).run(ctx)
        except BaseException:
            ctx._abandon()
            raise
        ctx.close()

    def _dispatcher(self, method: Callable) -> Callable:
        takes_body = len(inspect.signature(method).parameters) > 0

        def dispatch(msg: _roost.Message) -> bool:
            self.message = msg
            try:
                result = method(msg.body) if takes_body else method()
                if msg.corr:  # a result MessagePack cannot encode fails here
                    self.ctx.reply(msg, result, KIND_RESULT)
            except Exception as exc:
                self._failed(msg, exc)
                if self.crash_on_error:
                    raise _Crash(exc)
            finally:
                self.message = None
            return self._completing
        return dispatch

    def _notice_dispatcher(self, hook: Callable) -> Callable:
        def dispatch(msg: _roost.Message) -> bool:
            try:
                hook(notice(msg))
            except Exception:
                traceback.print_exc(file=sys.stderr)
            return self._completing
        return dispatch

    def _failed(self, msg: _roost.Message, exc: Exception) -> None:
        """A handler (or its answer) raised: the error is the answer to a
        call; an error that cannot be answered (a one-way message, a
        caller gone) is printed. The message counts as handled."""
        if msg.corr and not isinstance(exc, roost_errors.NoSuchActor):
            try:
                self.ctx.reply(msg, {"type": type(exc).__name__,
                                     "message": str(exc)}, KIND_ERROR)
                return
            except roost_errors.Error:
                pass  # the caller is gone, or its mailbox full: print it
        traceback.print_exception(exc, file=sys.stderr)


class _Crash(BaseException):
    """Carries a handler's exception out of the loop (crash_on_error)."""

    def __init__(self, error: Exception):
        super().__init__(error)
        self.error = error


class _Sender:
    __slots__ = ("_ref", "_kind")

    def __init__(self, ref: "Ref", method: str):
        self._ref = ref
        self._kind = kind_of(method)

    def __call__(self, *args, **kwargs) -> None:
        ref = self._ref
        ref.ctx.send(ref.address, pack_args(args, kwargs), self._kind)


class _Caller:
    __slots__ = ("_ref", "_kind")

    def __init__(self, ref: "Ref", method: str):
        self._ref = ref
        self._kind = kind_of(method)

    def __call__(self, *args, timeout: float = 5.0, **kwargs):
        ref = self._ref
        reply = ref.ctx.call(ref.address, pack_args(args, kwargs),
                             self._kind, timeout=timeout)
        if reply.kind == KIND_ERROR:
            from .errors import RemoteError
            err = reply.body
            raise RemoteError(str(err.get("type")), str(err.get("message")))
        return reply.body


class _Calls:
    __slots__ = ("_ref", "__dict__")

    def __init__(self, ref: "Ref"):
        self._ref = ref

    def __getattr__(self, method: str) -> _Caller:
        if method.startswith("_"):
            raise AttributeError(method)
        caller = _Caller(self._ref, method)
        setattr(self, method, caller)  # found directly from now on
        return caller


class Ref:
    """An actor's address bound to the context that talks to it.
    ``ref.deposit(50)`` sends a deposit message; ``ref.call.balance()``
    waits for the answer (timeout= keyword, 5 s by default) and returns
    it or raises (RemoteError, Timeout, NoSuchActor, ...). Methods whose
    names start with '_', and address, ctx, call, stop and kill, are the
    Ref's own."""
    __slots__ = ("ctx", "address", "call", "__dict__")

    def __init__(self, ctx, address: _roost.Address):
        self.ctx = ctx
        self.address = address
        self.call = _Calls(self)

    def __getattr__(self, method: str) -> _Sender:
        if method.startswith("_"):
            raise AttributeError(method)
        sender = _Sender(self, method)
        setattr(self, method, sender)  # found directly from now on
        return sender

    def stop(self) -> None:
        """Graceful stop: the actor handles its backlog, then ends."""
        self.ctx.stop(self.address)

    def kill(self) -> None:
        """Kill it now and for good (through roostd)."""
        self.ctx.kill(self.address)

    def __repr__(self) -> str:
        return f"roost.Ref({self.address!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Ref) and other.address == self.address

    def __hash__(self) -> int:
        return hash(self.address)
