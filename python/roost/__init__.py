# SPDX-License-Identifier: MIT
"""roost for Python: actors on roost's shared-memory mailboxes, talking
to C actors and to each other (MessagePack by default; bytes go raw).

    import roost
    with roost.connect(system="demo") as ctx:
        bank = ctx.ref("bank")
        bank.deposit(account="alice", amount=50)        # a send
        print(bank.call.balance(account="alice", timeout=1.0))

Timeouts and delays are float seconds (None: no limit). Errors are
roost.Error subclasses (also OSError / TimeoutError / ...). A Context
belongs to the thread that opened it; blocking waits release the GIL.
The wire is in docs/python.md."""
from ._roost import (Address, LANE_ANY, LANE_SYSTEM, LANE_USER, Message,
                     libroost_version)
from .actor import Actor, Ref, handler
from .context import Context, System, connect
from .errors import (BadPayload, Closed, Corrupt, Error, MailboxFull,
                     MessageTooLarge, NameTaken, NoSuchActor, NotConnected,
                     RemoteError, ShuttingDown, Timeout)
from .notices import Down, Exit, Notice, notice
from .wire import KIND_ERROR, KIND_RESULT, Packed, kind_of

__all__ = [
    "Actor", "Address", "BadPayload", "Closed", "Context", "Corrupt",
    "Down", "Error", "Exit", "KIND_ERROR", "KIND_RESULT", "LANE_ANY",
    "LANE_SYSTEM", "LANE_USER", "MailboxFull", "Message", "MessageTooLarge",
    "NameTaken", "NoSuchActor", "NotConnected", "Notice", "Packed", "Ref",
    "RemoteError", "ShuttingDown", "System", "Timeout", "connect",
    "handler", "kind_of", "libroost_version", "notice",
]
