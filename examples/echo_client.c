/* SPDX-License-Identifier: MIT */
/*
 * echo_client.c - talks to the "echo" actor of a roostd system and shows
 * supervision at work: it measures round trips, then makes the actor
 * crash with mail queued behind the crash, and checks that the restarted
 * actor, at the same address, answers every queued message.
 *
 * Usage: echo_client SYSTEM
 */
#include <roost.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { KIND_ECHO = 1, KIND_CRASH = 3, KIND_REPLY = 100 };

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One request and its reply (matched by correlation id). */
static int
echo(roost_ctx_t *ctx, roost_aid_t to, uint64_t corr, int timeout_ms)
{
	roost_msg_t *m;
	int rc;

	rc = roost_send_ex(ctx, to, KIND_ECHO, 0, corr, &corr, sizeof(corr),
	                   timeout_ms);
	if (rc == 0)
		rc = roost_recv(ctx, &m, timeout_ms);
	if (rc == 0 && (roost_msg_kind(m) != KIND_REPLY ||
	                roost_msg_corr(m) != corr))
		rc = -EPROTO;
	return rc;
}

static int
run(roost_ctx_t *ctx)
{
	roost_aid_t to;
	roost_aid_t after;
	roost_msg_t *m;
	double t0;
	uint64_t i;
	int rc = -ENOENT;
	int tries;

	for (tries = 0; tries < 500 && rc == -ENOENT; tries++) {
		rc = roost_whereis(ctx, "echo", &to);
		if (rc == -ENOENT)
			usleep(10000);
	}
	if (rc < 0)
		return rc;
	t0 = now_us();
	for (i = 0; i < 10000 && rc == 0; i++)
		rc = echo(ctx, to, i, 2000);
	if (rc < 0)
		return rc;
	printf("echo_client: 10000 requests to 'echo' (address %u.%u), "
	       "%.2f us per round trip\n", roost_aid_slot(to),
	       roost_aid_gen(to), (now_us() - t0) / 10000);
	/* Crash it with three requests queued behind the crash. */
	rc = roost_send(ctx, to, KIND_CRASH, NULL, 0, 1000);
	for (i = 0; i < 3 && rc == 0; i++)
		rc = roost_send_ex(ctx, to, KIND_ECHO, 0, 100 + i, NULL, 0, 1000);
	for (i = 0; i < 3 && rc == 0; i++) {
		rc = roost_recv(ctx, &m, 10000);
		if (rc == 0 && roost_msg_corr(m) != 100 + i)
			rc = -EPROTO;
	}
	if (rc < 0)
		return rc;
	rc = roost_whereis(ctx, "echo", &after);
	if (rc < 0)
		return rc;
	printf("echo_client: 'echo' crashed (abort) with 3 requests queued; "
	       "roostd restarted it at address %u.%u (%s) and all 3 were "
	       "answered\n", roost_aid_slot(after), roost_aid_gen(after),
	       roost_aid_eq(after, to) ? "the same" : "A DIFFERENT ONE");
	return roost_aid_eq(after, to) ? 0 : -EPROTO;
}

int
main(int argc, char **argv)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	int rc = -ENOENT;
	int tries;

	if (argc != 2) {
		fprintf(stderr, "usage: echo_client SYSTEM\n");
		return 2;
	}
	roost_ctx_opts_init(&o);
	o.system = argv[1];
	for (tries = 0; tries < 500 && rc == -ENOENT; tries++) {
		rc = roost_ctx_open(&ctx, &o);
		if (rc == -ENOENT)
			usleep(10000); /* roostd is still creating it */
	}
	if (rc == 0) {
		rc = run(ctx);
		roost_ctx_close(ctx);
	}
	if (rc < 0)
		fprintf(stderr, "echo_client: %s\n", roost_strerror(rc));
	return rc < 0;
}
