# SPDX-License-Identifier: MIT
"""The wire between Python actors and anyone else (docs/python.md):
how a method name becomes a message kind, and the kinds of answers."""
import functools

from . import _roost

# Kinds derived from method names land in [METHOD_KIND_MIN, METHOD_KIND_MAX];
# kinds below METHOD_KIND_MIN are left to explicit numbers (C protocols).
METHOD_KIND_MIN = 0x10000000
METHOD_KIND_MAX = 0x6FFFFFFF
# A Python actor answers a call with RESULT (the return value) or ERROR
# (a map {"type": class name, "message": str(exception)}).
KIND_RESULT = 0x7FFF0001
KIND_ERROR = 0x7FFF0002

_FNV_OFFSET = 0x811C9DC5
_FNV_PRIME = 0x01000193


@functools.lru_cache(maxsize=1024)
def kind_of(method: str) -> int:
    """The message kind of a method name: FNV-1a (32 bits) of its UTF-8
    bytes, folded into [METHOD_KIND_MIN, METHOD_KIND_MAX]."""
    if not isinstance(method, str) or not method:
        raise TypeError("a method name is a non-empty str")
    h = _FNV_OFFSET
    for byte in method.encode():
        h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFF
    return METHOD_KIND_MIN + h % (METHOD_KIND_MAX - METHOD_KIND_MIN + 1)


def pack_args(args: tuple, kwargs: dict):
    """The one value a message carries: nothing (None), one positional
    argument, or the keyword arguments as a map."""
    if args and kwargs or len(args) > 1:
        raise TypeError("a message carries one value: pass one argument, "
                        "or keyword arguments (sent as a map)")
    if args:
        return args[0]
    return kwargs or None


class Packed(bytes):
    """Bytes that already are MessagePack: sent flagged as MessagePack
    without being checked or encoded again (a pre-encoded payload; also
    how a test sends a peer bytes that only claim to be MessagePack)."""


_roost._set_packed_type(Packed)
