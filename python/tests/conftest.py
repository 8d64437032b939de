# SPDX-License-Identifier: MIT
"""Fixtures for the roost Python suite: real systems in /dev/shm, a real
roostd, the C examples of a libroost build tree (ROOST_BUILD_DIR, else
the repository's build/). Tests wait for states (a message, a notice, a
file), never for a length of time; every wait has a deadline."""
import itertools
import os
import signal
import subprocess
import sys
import time

import pytest

import roost

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(os.environ.get("ROOST_BUILD_DIR", os.path.join(REPO, "build")))
EXAMPLES = os.path.join(REPO, "python", "examples")
# The interpreter that runs this suite is the one the configs name: an
# explicit path (the venv's python, which is Debian's /usr/bin/python3
# with the venv's packages), never an env shebang.
PYTHON = sys.executable
DEADLINE = 10.0        # seconds any awaited state may take at most

_names = itertools.count()


def pytest_report_header(config):
    return f"roost: libroost, roostd and examples from {BUILD}; python {PYTHON}"


def build_path(*parts):
    path = os.path.join(BUILD, *parts)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build libroost first "
                    f"(cmake -S . -B build && cmake --build build)")
    return path


def shm_entries(system):
    """This user's /dev/shm objects of 'system'."""
    prefix = f"roost.{os.getuid()}.{system}"
    return sorted(e for e in os.listdir("/dev/shm")
                  if e == prefix or e.startswith(prefix + ".")
                  or e.startswith(prefix + "~"))


def wait_for(state, what):
    """Poll 'state' until it is true; fail after DEADLINE seconds."""
    end = time.monotonic() + DEADLINE
    while True:
        value = state()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.005)


@pytest.fixture
def system_name():
    """A fresh system name; the test fails if it leaves /dev/shm entries."""
    name = f"pyt{os.getpid()}x{next(_names)}"
    yield name
    assert shm_entries(name) == [], "leaked shared memory"


@pytest.fixture
def system(system_name):
    """A system created without roostd (messaging only)."""
    with roost.System(system_name, create=True) as s:
        yield s


@pytest.fixture
def ctx(system):
    with system.connect() as c:
        yield c


class Roostd:
    """A real roostd in the foreground on its own system."""

    def __init__(self, system, config, tmp_path):
        self.system = system
        path = tmp_path / "roostd.ini"
        path.write_text(config)
        self.log = open(tmp_path / "roostd.log", "w+")
        self.proc = subprocess.Popen(
            [build_path("daemon", "roostd"), "--system", system,
             "--config", str(path), "--foreground"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.ctx = wait_for(self._connect, "roostd to create the system")
        wait_for(self._has_roostd, "roostd to register")

    def _connect(self):
        try:
            return roost.connect(system=self.system)
        except roost.Error:
            return None

    def _has_roostd(self):
        try:
            return self.ctx.whereis("roostd")
        except roost.NoSuchActor:
            return None

    def whereis(self, name):
        """The address of 'name' once it is registered."""
        def lookup():
            try:
                return self.ctx.whereis(name)
            except roost.NoSuchActor:
                return None
        return wait_for(lookup, f"{name} to register")

    def stop(self):
        self.ctx.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=DEADLINE)
        self.log.seek(0)
        log = self.log.read()
        self.log.close()
        assert rc == 0, f"roostd exited {rc}:\n{log}"


@pytest.fixture
def roostd(system_name, tmp_path):
    """Start a roostd with the config text given: roostd(config)."""
    started = []

    def start(config="[system]\n"):
        d = Roostd(system_name, config, tmp_path)
        started.append(d)
        return d
    yield start
    for d in started:
        d.stop()


def python_actor(name, script, *args, extra=""):
    """A config section for a Python actor run by an explicit interpreter."""
    argv = " ".join([os.path.join(EXAMPLES, script), *args])
    return (f"[actor {name}]\nprogram = {PYTHON}\nargs = {argv}\n"
            f"restart = permanent\nshutdown_timeout_ms = 5000\n{extra}")
