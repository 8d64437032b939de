/* SPDX-License-Identifier: MIT */
/*
 * worker.c - a member of the worker pool of the bank demo (bank.ini.in
 * starts three: worker.1 .. worker.3). For each WORKER_JOB it adds up
 * 1 .. n and deposits the sum with the bank.
 *
 * A job with n = 0 makes it abort, to show supervision: roostd restarts
 * it at the same address, with its mailbox as it was, so no job queued
 * behind the crash is lost. The job it died on comes first again,
 * flagged ROOST_MSG_REDELIVERED; the worker skips it, since it may be
 * what killed it. (roostd itself retires a message that kills an actor
 * twice to the dead letters.)
 *
 * On a graceful stop (ROOST_KIND_STOP) it does the jobs queued before
 * the stop, closes and exits 0. On an error it exits 1 without closing:
 * closing would give up its address and discard its mail, while an
 * actor that just exits is restarted by roostd at the same address,
 * its mail intact.
 */
#include <roost.h>

#include "bank_proto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Do the job in 'm'. Returns 1 once its sum is deposited, 0 if it was
 * skipped, or the error of the deposit. */
static int
do_job(roost_ctx_t *ctx, const char *me, const roost_msg_t *m)
{
	struct worker_job job;
	struct bank_op op;
	uint64_t i;
	int rc;

	if (roost_msg_size(m) != sizeof(job)) {
		fprintf(stderr, "%s: malformed job dropped\n", me);
		return 0;
	}
	memcpy(&job, roost_msg_data(m), sizeof(job));
	if (roost_msg_flags(m) & ROOST_MSG_REDELIVERED) {
		fprintf(stderr, "%s: job n = %u was redelivered after my "
		        "crash: skipped\n", me, job.n);
		return 0;
	}
	if (job.n == 0) {
		fprintf(stderr, "%s: job n = 0: crashing on purpose\n", me);
		abort();
	}
	memset(&op, 0, sizeof(op));
	op.account = job.account;
	for (i = 1; i <= job.n; i++)
		op.amount += i;
	rc = roost_send_name(ctx, BANK_NAME, BANK_DEPOSIT, &op, sizeof(op),
	                     1000);
	if (rc < 0) {
		fprintf(stderr, "%s: deposit with the bank: %s\n", me,
		        roost_strerror(rc));
		return rc;
	}
	return 1;
}

int
main(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	const char *me;
	bool stopping = false;
	unsigned jobs = 0;              /* jobs paid in */
	int rc;

	/* roostd tells us our system, name and (after a crash) address. */
	roost_ctx_opts_init(&o);
	rc = roost_ctx_opts_from_env(&o);
	if (rc == 0)
		rc = roost_ctx_open(&ctx, &o);
	me = o.name != NULL ? o.name : "worker";
	if (rc < 0) {
		fprintf(stderr, "%s: cannot join the system: %s\n", me,
		        roost_strerror(rc));
		return 1;
	}
	for (;;) {
		rc = roost_recv(ctx, &m, stopping ? 0 : -1);
		if (rc == -EAGAIN && stopping)
			break; /* the jobs queued before the stop are done */
		if (rc < 0) {
			fprintf(stderr, "%s: receive: %s\n", me,
			        roost_strerror(rc));
			return 1; /* no close: see the top */
		}
		switch (roost_msg_kind(m)) {
		case ROOST_KIND_STOP:
			stopping = true;
			break;
		case WORKER_JOB:
			rc = do_job(ctx, me, m);
			if (rc < 0)
				return 1; /* no close: see the top */
			jobs += (unsigned)rc;
			break;
		default:
			fprintf(stderr, "%s: unknown message kind %u "
			        "dropped\n", me, roost_msg_kind(m));
			break;
		}
	}
	fprintf(stderr, "%s: stopped after %u jobs\n", me, jobs);
	rc = roost_ctx_close(ctx);
	if (rc < 0) {
		fprintf(stderr, "%s: close: %s\n", me, roost_strerror(rc));
		return 1;
	}
	return 0;
}
