/* SPDX-License-Identifier: MIT */
/*
 * graceful_stop.c - stopping an actor that still has work queued: the
 * notes' `complete` message, done by roost_stop().
 *
 * A worker actor takes JOB messages that each take 1 ms. The client (this
 * program's main) queues 200 of them and asks the worker to stop while
 * almost all are still waiting. The stop travels on the system lane, so
 * the worker sees it at once, and it marks the end of the user lane at
 * that moment: the worker's run loop handles every job queued before the
 * mark, in order, then ends. Sends that come after the mark are refused
 * with -ESHUTDOWN: never accepted and silently dropped. (For an immediate
 * stop there is kill; roostd does that, see oneshot.c.)
 *
 * Usage: graceful_stop
 * Exit status 0 when every queued job was handled and every later send
 * refused, 1 otherwise.
 */
#include <roost.h>
#include <roost/view.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

enum { K_JOB = 1, K_DONE = 2 };

#define JOBS 200
#define LATE_SENDS 5
#define JOB_US 1000

static char sys_name[ROOST_SYSTEM_NAME_MAX + 1];

static roost_ctx_t *
open_ctx(const char *name)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = sys_name;
	o.name = name;
	rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "graceful_stop: open %s: %s\n",
		        name ? name : "-", roost_strerror(rc));
		return NULL;
	}
	return ctx;
}

/* ---- The worker. */

struct worker {
	roost_aid_t wk_client; /* who sends the jobs: told when we end */
	int64_t wk_handled;
	bool wk_in_order;      /* every job had the next sequence number */
};

static int
on_job(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct worker *w = state;
	int64_t seq;

	(void)ctx;
	if (roost_msg_get_int(m, "seq", &seq) < 0)
		return -EPROTO;
	usleep(JOB_US); /* the work */
	w->wk_in_order &= seq == w->wk_handled;
	w->wk_handled++;
	w->wk_client = roost_msg_from(m);
	return ROOST_CONTINUE;
}

/* The run ends ('reason' 0: gracefully, the backlog handled): report. */
static void
worker_stop(roost_ctx_t *ctx, void *state, int reason)
{
	struct worker *w = state;

	roost_send_packed(ctx, w->wk_client, K_DONE, 1000, "{s:I, s:b, s:i}",
	                  "handled", w->wk_handled, "in_order", w->wk_in_order,
	                  "reason", reason);
}

static const roost_handler_t worker_handlers[] = {
	{K_JOB, on_job},
	{0, NULL},
};

static const roost_behaviour_t worker_behaviour = {
	.stop = worker_stop,
	.handlers = worker_handlers,
};

static int
worker_main(void)
{
	struct worker w = {ROOST_AID_NONE, 0, true};
	roost_ctx_t *ctx = open_ctx("worker");
	int rc;

	if (ctx == NULL)
		return 1;
	rc = roost_run(ctx, &worker_behaviour, &w);
	roost_ctx_close(ctx);
	return rc == 0 ? 0 : 1;
}

/* ---- The client. */

static bool
is_done(const roost_msg_t *m, void *arg)
{
	(void)arg;
	return roost_msg_kind(m) == K_DONE;
}

int
main(void)
{
	roost_mbox_stats_t st;
	roost_ctx_t *ctx;
	roost_aid_t worker;
	roost_msg_t *m;
	int64_t handled = 0;
	bool in_order = false;
	int refused = 0;
	int status;
	int late;
	pid_t pid;
	int rc;
	int i;

	snprintf(sys_name, sizeof(sys_name), "graceful_stop-%d", (int)getpid());
	rc = roost_system_create(sys_name, NULL);
	if (rc < 0) {
		fprintf(stderr, "graceful_stop: create %s: %s\n", sys_name,
		        roost_strerror(rc));
		return 1;
	}
	pid = fork();
	if (pid == 0)
		_exit(worker_main());
	ctx = open_ctx(NULL);
	rc = ctx == NULL ? -ENOENT : -EAGAIN;
	for (i = 0; i < 5000 && rc != 0 && ctx != NULL; i++) {
		rc = roost_whereis(ctx, "worker", &worker);
		if (rc < 0)
			usleep(1000); /* the worker is still attaching */
	}
	/* A backlog, then the stop. */
	for (i = 0; i < JOBS && rc == 0; i++)
		rc = roost_send_packed(ctx, worker, K_JOB, 1000, "{s:i}", "seq",
		                       i);
	if (rc == 0)
		rc = roost_mbox_stats(ctx, worker, &st);
	if (rc == 0)
		rc = roost_stop(ctx, worker);
	if (rc == 0)
		printf("graceful_stop: %d jobs of %d ms sent to 'worker'; stop "
		       "requested with %u still queued\n", JOBS, JOB_US / 1000,
		       st.queued);
	/* Too late: the user lane is shut. */
	for (i = 0; i < LATE_SENDS && rc == 0; i++) {
		late = roost_send_packed(ctx, worker, K_JOB, 0, "{s:i}", "seq",
		                         JOBS + i);
		refused += late == -ESHUTDOWN;
		if (i == 0)
			printf("graceful_stop: a send after the stop: %s\n",
			       late == 0 ? "accepted (wrong)" : roost_err_name(late));
	}
	/* The worker's report, sent when its run ends. */
	if (rc == 0)
		rc = roost_recv_match(ctx, &m, ROOST_LANE_ANY, is_done, NULL,
		                      10000);
	if (rc == 0 && (roost_msg_get_int(m, "handled", &handled) < 0 ||
	                roost_msg_get_bool(m, "in_order", &in_order) < 0))
		rc = -EPROTO;
	if (rc < 0)
		fprintf(stderr, "graceful_stop: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	if (rc < 0 && pid > 0)
		kill(pid, SIGKILL);
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		rc = rc < 0 ? rc : -ECHILD;
	roost_system_destroy(sys_name);
	if (rc < 0)
		return 1;
	printf("graceful_stop: the worker handled %" PRId64 " jobs%s, then "
	       "exited 0\n", handled, in_order ? " in order" : " OUT OF ORDER");
	printf("graceful stop: %" PRId64 " of %d queued jobs handled, %d of %d "
	       "later sends refused (-ESHUTDOWN)\n", handled, JOBS, refused,
	       LATE_SENDS);
	return handled == JOBS && in_order && refused == LATE_SENDS ? 0 : 1;
}
