# SPDX-License-Identifier: MIT
"""A counter actor for roostd: run it as
    program = /usr/bin/python3          (or the venv's python)
    args = /path/to/counter.py
It adds what it is sent, answers get_total (and report, a map, for C
callers: call_python.c), and has two handlers for
watching supervision: 'hold' parks the actor inside the handler (after
telling the sender so) until the process is killed, and a hold that
comes back redelivered after that kill is counted instead. 'fail' raises
(see --crash-on-error below)."""
import os
import signal
import sys

import roost


class Counter(roost.Actor):
    def __init__(self):
        self.total = 0
        self.redelivered = 0

    @roost.handler
    def add(self, amount):
        if not isinstance(amount, int):
            raise TypeError(f"add takes an int, not {type(amount).__name__}")
        self.total += amount

    @roost.handler
    def get_total(self):
        return self.total

    @roost.handler
    def pid(self):
        return os.getpid()

    @roost.handler
    def report(self):
        """For C callers: a map, which roost_msg_get_int() reads."""
        return {"total": self.total, "pid": os.getpid()}

    @roost.handler
    def hold(self, reply_to):
        if self.message.redelivered:
            self.redelivered += 1
            return
        self.ctx.send(roost.Address(reply_to), "holding")
        signal.pause()  # until kill -9

    @roost.handler
    def redeliveries(self):
        return self.redelivered

    @roost.handler
    def fail(self, text):
        raise ValueError(text)


if __name__ == "__main__":
    # --crash-on-error: a handler's exception answers, then ends the
    # process for roostd to restart (roost.Actor.crash_on_error).
    Counter.crash_on_error = "--crash-on-error" in sys.argv[1:]
    Counter.main()
