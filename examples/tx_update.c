/* SPDX-License-Identifier: MIT */
/*
 * tx_update.c - the fix for tx_update.c's lost updates: send the change,
 * not the new value.
 *
 * The same counter actor and the same two clients, but the
 * read-modify-write now happens inside the actor that owns the number:
 * a client sends one UPDATE message ("add 1") and the actor applies it.
 * The actor runs one handler at a time, so every UPDATE sees the result
 * of the one before; nothing can come between the read and the write,
 * and no lock is needed anywhere. The clients keep the same 50 us pause
 * per increment, so both programs run at the same pace.
 *
 * UPDATE is a call here, answered with the new value, as a client that
 * needs the result would do; a fire-and-forget send works as well.
 *
 * Usage: tx_update [N]   (per client; default 10000)
 * Exit status 0 when no update was lost, 1 otherwise or on an error.
 */
#include <roost.h>

#include <errno.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

enum { K_GET = 1, K_UPDATE = 3, K_VALUE = 10 };

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

/* The whole read-modify-write, in the owner: atomic by construction. */
static int
on_update(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct counter *c = state;
	int64_t add;

	if (roost_msg_get_int(m, "add", &add) < 0)
		return -EPROTO;
	c->ct_value += add;
	return roost_reply_packed(ctx, m, K_VALUE, "{s:I}", "value",
	                          c->ct_value) < 0 ? -EIO : ROOST_CONTINUE;
}

static const roost_handler_t counter_handlers[] = {
	{K_GET, on_get},
	{K_UPDATE, on_update},
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
		fprintf(stderr, "tx_update: open %s: %s\n", name ? name : "-",
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

/* A client's process: 'n' increments, each one UPDATE message. */
static int
client_main(int n)
{
	roost_ctx_t *ctx = open_ctx(NULL);
	roost_aid_t counter;
	roost_msg_t *r;
	int rc;
	int i;

	if (ctx == NULL)
		return 1;
	rc = whereis_wait(ctx, "counter", &counter);
	for (i = 0; i < n && rc == 0; i++) {
		usleep(THINK_US); /* same pace as tx_getset */
		rc = roost_call_packed(ctx, counter, K_UPDATE, 5000, &r,
		                       "{s:i}", "add", 1);
	}
	if (rc < 0)
		fprintf(stderr, "tx_update: client: %s\n", roost_strerror(rc));
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
		fprintf(stderr, "usage: tx_update [N]  (increments per client)\n");
		return 2;
	}
	total = (int64_t)n * CLIENTS;
	/* A private system, so the example never meets anyone else's. */
	snprintf(sys_name, sizeof(sys_name), "tx_update-%d", (int)getpid());
	rc = roost_system_create(sys_name, NULL);
	if (rc < 0) {
		fprintf(stderr, "tx_update: create %s: %s\n", sys_name,
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
	printf("tx_update: %d clients, each doing %d x (pause %d us, "
	       "UPDATE add 1) on one counter actor\n", CLIENTS, n, THINK_US);

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
		fprintf(stderr, "tx_update: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
	if (rc < 0 && counter_pid > 0)
		kill(counter_pid, SIGKILL);
	failed |= counter_pid < 0 || waitpid(counter_pid, &status, 0) < 0 ||
	          !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	roost_system_destroy(sys_name);
	if (rc < 0 || failed)
		return 1;
	printf("tx_update: final value %" PRId64 ", expected %" PRId64 "\n",
	       final, total);
	printf("tx_update: the owner applied every UPDATE in turn; nothing "
	       "came between a read and its write\n");
	printf("lost updates: %" PRId64 " of %" PRId64 "\n", total - final,
	       total);
	return final == total ? 0 : 1;
}
