# SPDX-License-Identifier: MIT
"""roost's exceptions: every negative code libroost returns becomes a
roost.Error subclass that carries the code's errno and name, and also
subclasses the builtin a Python programmer would catch for it."""
import errno as _errno

from . import _roost


class Error(OSError):
    """A roost call failed. ``errno`` is the positive error number (roost's
    own codes, such as ROOST_ECORRUPT, are 4000 and up), ``name`` its
    symbol ("EAGAIN", "ROOST_ECORRUPT"), ``op`` the operation."""

    def __init__(self, code: int, op: str, name: str, text: str = ""):
        text = text or _roost.strerror(code)[1]
        super().__init__(-code, f"{op}: {text} ({name})")
        self.name = name
        self.op = op


class MailboxFull(Error, BlockingIOError):
    """The receiver's mailbox stayed full for the whole timeout."""


class Timeout(Error, TimeoutError):
    """Nothing came in time (a receive or a call)."""


class NoSuchActor(Error, ProcessLookupError):
    """A stale or unknown address, or a name nobody holds."""


class MessageTooLarge(Error):
    """The message can never fit the receiver's mailbox (EMSGSIZE)."""


class ShuttingDown(Error):
    """The receiver is stopping and takes no more user messages."""


class NameTaken(Error):
    """The name is registered by another actor (EADDRINUSE)."""


class NotConnected(Error, ConnectionError):
    """No roostd runs for this system (spawn, timers, monitors need one)."""


class Closed(Error):
    """The context was closed."""


class Corrupt(Error):
    """Shared memory failed validation; the damage was skipped and
    counted, and the next call goes on."""


class BadPayload(Error, ValueError):
    """A payload flagged MessagePack is not valid MessagePack (the raw
    bytes are still in ``Message.data``)."""


class RemoteError(Error):
    """A Python actor's handler raised while answering a call: ``type``
    and ``text`` are the remote exception's class name and message."""

    def __init__(self, type_name: str, text: str):
        OSError.__init__(self, None, f"{type_name}: {text}")
        self.name = "REMOTE"
        self.op = "call"
        self.type = type_name
        self.text = text


_BY_CODE = {
    -_errno.ESRCH: NoSuchActor,
    -_errno.ENOENT: NoSuchActor,
    -_errno.EMSGSIZE: MessageTooLarge,
    -_errno.ESHUTDOWN: ShuttingDown,
    -_errno.EADDRINUSE: NameTaken,
    -_errno.ENOTCONN: NotConnected,
    -_errno.EBADF: Closed,
    _roost.ECORRUPT: Corrupt,
}
# Codes whose meaning depends on the operation: a send that cannot get
# room is MailboxFull; a receive or call that gets nothing is Timeout.
_WAITING = (-_errno.EAGAIN, -_errno.ETIMEDOUT)
# ENOENT means "no such actor" only where a name or address was looked up.
_NAMING_OPS = ("whereis", "send", "call", "unregister")


def _from_code(code: int, op: str, name: str) -> Error:
    """Called by the C extension: the exception for 'code' met in 'op'."""
    if code in _WAITING:
        cls = MailboxFull if op == "send" else Timeout
    elif op == "decode":
        cls = BadPayload
    elif code == -_errno.ENOENT and op not in _NAMING_OPS:
        cls = Error  # a timer already gone, a system that does not exist
    else:
        cls = _BY_CODE.get(code, Error)
    return cls(code, op, name, _TEXTS.get((cls, code), ""))


# Where libc's text would mislead (ENOENT is "No such file or directory").
_TEXTS = {
    (NoSuchActor, -_errno.ENOENT): "no actor holds that name",
    (Timeout, -_errno.ETIMEDOUT): "nothing came in time",
    (Timeout, -_errno.EAGAIN): "nothing came in time",
    (MailboxFull, -_errno.ETIMEDOUT): "the mailbox stayed full",
    (MailboxFull, -_errno.EAGAIN): "the mailbox is full",
}


_roost._set_error_factory(_from_code)
