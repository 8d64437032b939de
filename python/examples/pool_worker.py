# SPDX-License-Identifier: MIT
"""A worker of a supervised pool (count = 3 in its roostd config section:
worker.1 .. worker.3). A job {"id", "n", "reply_to"} is answered with
{"id", "sum", "redelivered"} sent to 'reply_to'; pool_client.py hands out
the jobs and kills a worker with kill -9 halfway."""
import roost


class Worker(roost.Actor):
    @roost.handler
    def job(self, job):
        n = job["n"]
        self.ctx.send(roost.Address(job["reply_to"]),
                      {"id": job["id"], "sum": n * (n + 1) // 2,
                       "redelivered": self.message.redelivered})

    @roost.handler
    def pid(self):
        import os
        return os.getpid()


if __name__ == "__main__":
    Worker.main()
