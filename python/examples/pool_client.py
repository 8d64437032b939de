# SPDX-License-Identifier: MIT
"""The client of the supervised pool (pool_worker.py, under roostd with
count = 3): it hands out JOBS jobs round robin, kills worker.2 with
kill -9 a third of the way, and checks that every job is answered
(roostd restarts worker.2 at the same address; its queue is kept).

    python3 pool_client.py SYSTEM [WORKERS [JOBS]]
"""
import os
import signal
import sys

import roost


def main(system, workers=3, jobs=300):
    with roost.connect(system=system) as ctx:
        refs = [ctx.ref(f"worker.{i + 1}") for i in range(workers)]
        victim = refs[1 % workers]
        victim_pid = victim.call.pid(timeout=10)
        ctx.monitor(victim.address)
        for i in range(jobs):
            refs[i % workers].job(id=i, n=i, reply_to=ctx.address.id)
            if i == jobs // 3:
                os.kill(victim_pid, signal.SIGKILL)
        down = roost.notice(ctx.receive(timeout=10, lanes=roost.LANE_SYSTEM))
        answers = {}
        while len(answers) < jobs:
            m = ctx.receive(timeout=10, lanes=roost.LANE_USER)
            answers[m.body["id"]] = m.body
        ok = all(answers[i]["sum"] == i * (i + 1) // 2 for i in range(jobs))
        again = victim.call.pid(timeout=10)
        print(f"pool: {jobs} jobs over {workers} workers, all answered: "
              f"{ok}; worker.2 killed (pid {victim_pid}, {down.reason} "
              f"{down.signal}), restarted at {victim.address} as pid "
              f"{again}")
        return ok and down.restarting and again != victim_pid


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[2:]]
    sys.exit(0 if main(sys.argv[1], *args) else 1)
