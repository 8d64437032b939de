/* SPDX-License-Identifier: MIT */
/*
 * tx_getset.c - the get/set race, on purpose (the bug; tx_update.c is the
 * fix).
 *
 * A counter actor owns one number and answers two requests: GET (a call,
 * answered with the value) and SET (store this value). Two client
 * processes each add 1 to it N times the naive way: GET the value, think
 * for a moment, SET value + 1. The actor handles one message at a time,
 * so the number itself is never torn; but a client's read-modify-write is
 * three steps, and the other client's SET can land between them. Every
 * such SET is overwritten: an update is lost. The program counts them.
 *
 * The "think for a moment" (a 50 us pause between GET and SET) makes the
 * interleaving certain even on a machine with few cores; without it the
 * race is still there, only rarer.
 *
 * Usage: tx_getset [N]   (per client; default 10000)
 * Exit status 0 once it has counted (lost updates are the expected
 * outcome), 1 on an error.
 */
#include <roost.h>

#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { K_GET = 1, K_SET = 2, K_VALUE = 10 };

#define CLIENTS 2
#define THINK_US 50

static char sys_name[ROOST_SYSTEM_NAME_MAX + 1];

/* ---- The counter actor: a handler table over its private state. */

struct counter {
	int64_t ct_value;
};

static int
on_get(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct counter *c = state;

	return roost_reply_packed(ctx, m, K_VALUE, "{s:I}", "value",
	                          c->ct_value) < 0 ? -EIO : ROOST_CONTINUE;
}

static int
on_set(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct counter *c = state;

	(void)ctx;
	return roost_msg_get_int(m, "value", &c->ct_value) < 0
	               ? -EPROTO : ROOST_CONTINUE;
}

static const roost_handler_t counter_handlers[] = {
	{K_GET, on_get},
	{K_SET, on_set},
	{0, NULL},
};

static const roost_behaviour_t counter_behaviour = {
	.handlers = counter_handlers,
};

/* ---- Helpers shared by the processes. */

/* Open a context on our system, registered as 'name' (may be NULL). */
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
		fprintf(stderr, "tx_getset: open %s: %s\n", name ? name : "-",
		        roost_strerror(rc));
		return NULL;
	}
	return ctx;
}

/* Look 'name' up, waiting up to 5 s for its process to register it. */
static int
whereis_wait(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	int rc = -ENOENT;
	int i;

	for (i = 0; i < 5000 && rc == -ENOENT; i++) {
		rc = roost_whereis(ctx, name, out);
		if (rc == -ENOENT)
			usleep(1000);
	}
	return rc;
}

/* The counter's process: run the handler table until stopped. */
static int
counter_main(void)
{
	struct counter c = {0};
	roost_ctx_t *ctx = open_ctx("counter");
	int rc;

	if (ctx == NULL)
		return 1;
	rc = roost_run(ctx, &counter_behaviour, &c);
	roost_ctx_close(ctx);
	return rc == 0 ? 0 : 1;
}

/* A client's process: 'n' naive increments, GET then SET. */
static int
client_main(int n)
{
	roost_ctx_t *ctx = open_ctx(NULL);
	roost_aid_t counter;
	roost_msg_t *r;
	int64_t v;
	int rc;
	int i;

	if (ctx == NULL)
		return 1;
	rc = whereis_wait(ctx, "counter", &counter);
	for (i = 0; i < n && rc == 0; i++) {
		rc = roost_call_packed(ctx, counter, K_GET, 5000, &r, "n");
		if (rc == 0)
			rc = roost_msg_get_int(r, "value", &v);
		usleep(THINK_US); /* the other client may SET meanwhile */
		if (rc == 0)
			rc = roost_send_packed(ctx, counter, K_SET, 5000, "{s:I}",
			                       "value", v + 1);
	}
	if (rc < 0)
		fprintf(stderr, "tx_getset: client: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	return rc == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	roost_ctx_t *ctx = NULL;
	roost_aid_t counter;
	roost_msg_t *r;
	pid_t counter_pid;
	pid_t client[CLIENTS];
	int64_t final = -1;
	int64_t total;
	int status;
	int failed = 0;
	int n = 10000;
	int rc;
	int i;

	if (argc > 2 || (argc == 2 && (n = atoi(argv[1])) <= 0)) {
		fprintf(stderr, "usage: tx_getset [N]  (increments per client)\n");
		return 2;
	}
	total = (int64_t)n * CLIENTS;
	/* A private system, so the example never meets anyone else's. */
	snprintf(sys_name, sizeof(sys_name), "tx_getset-%d", (int)getpid());
	rc = roost_system_create(sys_name, NULL);
	if (rc < 0) {
		fprintf(stderr, "tx_getset: create %s: %s\n", sys_name,
		        roost_strerror(rc));
		return 1;
	}
	/* Each actor is a process: fork, and the child opens its own
	 * context (never use a context across fork). */
	counter_pid = fork();
	if (counter_pid == 0)
		_exit(counter_main());
	for (i = 0; i < CLIENTS; i++) {
		client[i] = fork();
		if (client[i] == 0)
			_exit(client_main(n));
	}
	printf("tx_getset: %d clients, each doing %d x (GET, pause %d us, "
	       "SET value+1) on one counter actor\n", CLIENTS, n, THINK_US);

	for (i = 0; i < CLIENTS; i++)
		failed |= client[i] < 0 || waitpid(client[i], &status, 0) < 0 ||
		          !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	ctx = open_ctx(NULL);
	rc = ctx == NULL ? -ENOENT : whereis_wait(ctx, "counter", &counter);
	if (rc == 0)
		rc = roost_call_packed(ctx, counter, K_GET, 5000, &r, "n");
	if (rc == 0)
		rc = roost_msg_get_int(r, "value", &final);
	/* Graceful stop: the counter handles what is queued, then exits. */
	if (rc == 0)
		rc = roost_stop(ctx, counter);
	if (rc < 0)
		fprintf(stderr, "tx_getset: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	if (rc < 0 && counter_pid > 0)
		kill(counter_pid, SIGKILL);
	failed |= counter_pid < 0 || waitpid(counter_pid, &status, 0) < 0 ||
	          !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	roost_system_destroy(sys_name);
	if (rc < 0 || failed)
		return 1;
	printf("tx_getset: final value %" PRId64 ", expected %" PRId64 "\n",
	       final, total);
	printf("tx_getset: each lost update is a SET that overwrote the "
	       "other client's SET, made between its own GET and SET\n");
	printf("lost updates: %" PRId64 " of %" PRId64 "\n", total - final,
	       total);
	return 0;
}
