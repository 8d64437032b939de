/* SPDX-License-Identifier: MIT */
/*
 * oneshot.c - fire and forget: a one-shot actor does a slow job on its
 * own and ends; a daemon one-shot runs in the background and does not
 * hold up shutdown.
 *
 * The program starts a roostd of its own (a private system), then:
 *  1. roost_spawn_fn() forks a one-shot actor "job" that computes for
 *     about 300 ms, sends its result to main and returns. main does not
 *     wait for it: it monitors it and carries on. roostd watches the
 *     job; when it returns, main gets a DOWN notice (exit status 0, not
 *     restarted: one-shots never are), and the job's address goes stale.
 *  2. A second one-shot, "helper", flagged ROOST_SPAWN_DAEMON, has no end
 *     of its own (it ignores even a graceful stop). At shutdown roostd
 *     kills it at once instead of waiting out its shutdown timeout (5 s).
 *
 * Usage: oneshot [--roostd PATH]   (default: the roostd built with it)
 * Exit status 0 when both behaved as described, 1 otherwise.
 */
#include <roost.h>

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef ROOSTD_BIN
#define ROOSTD_BIN "roostd" /* found on $PATH */
#endif

enum { K_RESULT = 1 };

#define STEPS 6
#define STEP_US 50000

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* ---------------------------------------------------------------------
 * Running a roostd of our own.
 */

/* Start 'roostd' for system 'sys' in the foreground (errors only). */
static pid_t
roostd_start(const char *roostd, const char *sys)
{
	pid_t pid = fork();

	if (pid == 0) {
		execlp(roostd, roostd, "--system", sys, "--foreground",
		       "--log-level", "error", (char *)NULL);
		fprintf(stderr, "oneshot: cannot run %s: %s\n", roostd,
		        strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Wait up to 'ms' for 'pid' to exit; its status, or -1 (then it is
 * killed). */
static int
wait_exit(pid_t pid, int ms)
{
	int status;
	int i;

	for (i = 0; i < ms; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Attach to 'sys' once roostd has made it and registered itself. */
static int
roostd_wait_up(pid_t rd, const char *sys, roost_ctx_t **out)
{
	roost_ctx_opts_t o;
	roost_aid_t aid;
	int rc = -ENOENT;
	int i;

	roost_ctx_opts_init(&o);
	o.system = sys;
	*out = NULL;
	for (i = 0; i < 5000 && rc < 0; i++) {
		if (waitpid(rd, NULL, WNOHANG) == rd)
			return -ECHILD; /* roostd gave up (it said why) */
		if (*out == NULL && roost_ctx_open(out, &o) < 0)
			*out = NULL;
		if (*out != NULL)
			rc = roost_whereis(*out, "roostd", &aid);
		if (rc < 0)
			usleep(1000);
	}
	return rc;
}

/* ---------------------------------------------------------------------
 * The one-shots. Each runs in a forked child with a context of its own;
 * what the function returns is the child's exit status.
 */

struct job_arg {
	roost_aid_t ja_client; /* where to send the result */
};

/* The slow job: a few steps of "work", the result to the client, done. */
static int
slow_job(roost_ctx_t *ctx, void *arg)
{
	const struct job_arg *ja = arg;
	double t0 = now_ms();
	int64_t sum = 0;
	int i;

	for (i = 1; i <= STEPS; i++) {
		usleep(STEP_US);
		sum += i * i;
	}
	return roost_send_packed(ctx, ja->ja_client, K_RESULT, 1000,
	                         "{s:I, s:d}", "sum", sum, "ms",
	                         now_ms() - t0) == 0 ? 0 : 1;
}

/* A background helper with no end of its own. */
static int
helper(roost_ctx_t *ctx, void *arg)
{
	roost_msg_t *m;

	(void)arg;
	for (;;)
		(void)roost_recv(ctx, &m, -1); /* ignores even a stop */
	return 0;
}

/* ---------------------------------------------------------------------
 * main: the client.
 */

static bool
is_kind(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == *(const uint32_t *)arg;
}

static int
take(roost_ctx_t *ctx, uint32_t kind, roost_msg_t **m)
{
	return roost_recv_match(ctx, m, ROOST_LANE_ANY, is_kind, &kind, 5000);
}

/* Step 1: fire the job, forget it, hear how it ended. */
static int
fire_and_forget(roost_ctx_t *ctx, bool *ok)
{
	struct job_arg ja = {roost_self(ctx)};
	roost_notice_t n;
	roost_aid_t job;
	roost_msg_t *m;
	uint64_t ref;
	int64_t sum;
	double ms;
	double t0 = now_ms();
	int rc;

	rc = roost_spawn_fn(ctx, slow_job, &ja, "job", 0, &job);
	if (rc < 0)
		return rc;
	printf("oneshot: spawned one-shot 'job' (address %u.%u) in %.1f ms; "
	       "spawn_fn returned at once\n", roost_aid_slot(job),
	       roost_aid_gen(job), now_ms() - t0);
	/* Ask roostd to tell us when it ends. */
	rc = roost_monitor(ctx, job, &ref);
	if (rc == 0)
		rc = take(ctx, K_RESULT, &m);
	if (rc == 0 && (roost_msg_get_int(m, "sum", &sum) < 0 ||
	                roost_msg_get_double(m, "ms", &ms) < 0))
		rc = -EPROTO;
	if (rc < 0)
		return rc;
	printf("oneshot: job sent its result (%" PRId64 ") after %.0f ms of "
	       "work, then returned 0\n", sum, ms);
	rc = take(ctx, ROOST_KIND_DOWN, &m);
	if (rc == 0)
		rc = roost_notice_decode(m, &n);
	if (rc < 0)
		return rc;
	printf("oneshot: roostd's DOWN notice for '%s': %s, exit status %d, "
	       "%s\n", n.name, roost_exit_reason_name(n.reason), n.status,
	       n.restarting ? "RESTARTING" : "not restarted");
	/* Gone for good: its address is stale. */
	rc = roost_send(ctx, job, K_RESULT, NULL, 0, 0);
	printf("oneshot: a send to its old address now: %s\n",
	       rc == 0 ? "accepted (wrong)" : roost_err_name(rc));
	*ok = n.status == 0 && !n.restarting && rc == -ESRCH;
	return 0;
}

int
main(int argc, char **argv)
{
	const char *roostd = ROOSTD_BIN;
	char sys[ROOST_SYSTEM_NAME_MAX + 1];
	roost_ctx_t *ctx = NULL;
	roost_aid_t aid;
	bool ok = false;
	double t0 = 0;
	double stop_ms = 0;
	int status = -1;
	pid_t rd;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--roostd") == 0) {
		roostd = argv[2];
	} else if (argc != 1) {
		fprintf(stderr, "usage: oneshot [--roostd PATH]\n");
		return 2;
	}
	/* A private system, made and owned by our roostd. */
	snprintf(sys, sizeof(sys), "oneshot-%d", (int)getpid());
	rd = roostd_start(roostd, sys);
	if (rd < 0)
		return 1;
	rc = roostd_wait_up(rd, sys, &ctx);
	if (rc == 0)
		rc = fire_and_forget(ctx, &ok);
	/* Step 2: a daemon one-shot, then shut the system down. */
	if (rc == 0)
		rc = roost_spawn_fn(ctx, helper, NULL, "helper",
		                    ROOST_SPAWN_DAEMON, &aid);
	if (rc == 0) {
		printf("oneshot: spawned daemon one-shot 'helper'; it never "
		       "ends by itself\n");
		t0 = now_ms();
		rc = roost_shutdown(ctx);
	}
	if (rc < 0)
		fprintf(stderr, "oneshot: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	if (rc < 0)
		kill(rd, SIGTERM); /* roostd shuts down on SIGTERM too */
	status = wait_exit(rd, 20000);
	stop_ms = now_ms() - t0;
	roost_system_destroy(sys); /* nothing left unless roostd failed */
	if (rc < 0 || status != 0) {
		fprintf(stderr, "oneshot: roostd exit status %d\n", status);
		return 1;
	}
	printf("oneshot: shutdown: roostd killed the daemon one-shot at once "
	       "and exited 0 after %.0f ms\n", stop_ms);
	ok = ok && stop_ms < 4000;
	printf("oneshot: fire-and-forget job %s; shutdown %s for the daemon "
	       "one-shot\n", ok ? "finished (exit 0, not restarted)" : "FAILED",
	       stop_ms < 4000 ? "did not wait" : "WAITED");
	return ok ? 0 : 1;
}
