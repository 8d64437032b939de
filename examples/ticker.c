/* SPDX-License-Identifier: MIT */
/*
 * ticker.c - the "ticker" actor of the bank demo (bank.ini.in), which
 * keeps the system busy by itself. At its first start it asks roostd for
 * an alarm to itself every 200 ms; on each TICKER_TICK it sends a job to
 * the next worker in turn (worker.1, worker.2, worker.3, worker.1, ...),
 * by name.
 *
 * An alarm survives restarts of its target, so a restarted ticker (one
 * with an address to take over) does not ask again. On a graceful stop
 * (ROOST_KIND_STOP) it handles the ticks queued before the stop, closes
 * (which drops the alarm) and exits 0. On an error it exits 1 without
 * closing, so roostd restarts it at the same address with its alarm.
 */
#include <roost.h>

#include "bank_proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define TICK_US (200 * 1000)

/* Tick number 'tick' (0, 1, ...): a job for worker.(tick % 3 + 1). */
static int
send_job(roost_ctx_t *ctx, uint32_t tick)
{
	struct worker_job job;
	char name[ROOST_NAME_MAX + 1];
	int rc;

	job.account = tick % BANK_WORKERS;
	job.n = tick % 100 + 1; /* never 0: that is the crash job */
	snprintf(name, sizeof(name), "worker.%u", job.account + 1);
	rc = roost_send_name(ctx, name, WORKER_JOB, &job, sizeof(job), 1000);
	if (rc < 0)
		fprintf(stderr, "ticker: job for %s: %s\n", name,
		        roost_strerror(rc));
	return rc;
}

int
main(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	bool stopping = false;
	uint32_t ticks = 0;
	int rc;

	/* roostd tells us our system, name and (after a crash) address. */
	roost_ctx_opts_init(&o);
	rc = roost_ctx_opts_from_env(&o);
	if (rc == 0)
		rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "ticker: cannot join the system: %s\n",
		        roost_strerror(rc));
		return 1;
	}
	if (o.reattach.id == 0) {
		rc = roost_send_interval(ctx, roost_self(ctx), TICK_US,
		                         TICK_US, TICKER_TICK, NULL, 0, NULL);
		if (rc < 0) {
			fprintf(stderr, "ticker: cannot get an alarm from "
			        "roostd: %s\n", roost_strerror(rc));
			/* Closing gives the address up, so the restart is a
			 * first start again, and asks again. */
			roost_ctx_close(ctx);
			return 1;
		}
	}
	for (;;) {
		rc = roost_recv(ctx, &m, stopping ? 0 : -1);
		if (rc == -EAGAIN && stopping)
			break; /* the ticks queued before the stop are done */
		if (rc < 0) {
			fprintf(stderr, "ticker: receive: %s\n",
			        roost_strerror(rc));
			return 1;
		}
		switch (roost_msg_kind(m)) {
		case ROOST_KIND_STOP:
			stopping = true;
			break;
		case TICKER_TICK:
			if (send_job(ctx, ticks++) < 0)
				return 1;
			break;
		default:
			fprintf(stderr, "ticker: unknown message kind %u "
			        "dropped\n", roost_msg_kind(m));
			break;
		}
	}
	fprintf(stderr, "ticker: stopped after %u ticks\n", ticks);
	rc = roost_ctx_close(ctx);
	if (rc < 0) {
		fprintf(stderr, "ticker: close: %s\n", roost_strerror(rc));
		return 1;
	}
	return 0;
}
