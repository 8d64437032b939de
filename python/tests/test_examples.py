# SPDX-License-Identifier: MIT
"""Every program in python/examples runs and reaches its outcome (exit 0)."""
import os
import subprocess

from conftest import BUILD, EXAMPLES, PYTHON, REPO, build_path, python_actor


def run(*argv):
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_transaction_story():
    out = run(PYTHON, os.path.join(EXAMPLES, "transactions.py"), "100")
    assert "get-then-set: 2 clients x 100 increments, 100 lost" in out
    assert "atomic add: 2 clients x 100 increments, 0 lost" in out
    assert "no deadlock" in out


def test_supervised_pool_of_python_workers(roostd):
    d = roostd("[system]\n" + python_actor("worker", "pool_worker.py",
                                           extra="count = 3\n"))
    for i in (1, 2, 3):
        d.whereis(f"worker.{i}")
    out = run(PYTHON, os.path.join(EXAMPLES, "pool_client.py"), d.system)
    assert "all answered: True" in out


def test_python_client_of_the_c_bank(roostd):
    with open(build_path("examples", "bank.ini")) as f:
        d = roostd(f.read())
    d.whereis("bank")
    out = run(PYTHON, os.path.join(EXAMPLES, "bank_client.py"), d.system)
    assert "an overdraft is refused" in out


def test_c_client_calls_a_python_actor(roostd, tmp_path):
    exe = tmp_path / "call_python"
    run("cc", "-std=c11", "-Wall", "-Wextra", "-Werror",
        f"-I{REPO}/include", os.path.join(EXAMPLES, "call_python.c"),
        f"-L{BUILD}", "-lroost", f"-Wl,-rpath,{BUILD}", "-o", str(exe))
    d = roostd("[system]\n" + python_actor("counter", "counter.py"))
    d.whereis("counter")
    out = run(str(exe), d.system)
    assert "counter's total is 21" in out
    assert 'add("x") raised TypeError in Python' in out
