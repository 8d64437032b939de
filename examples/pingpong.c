/* SPDX-License-Identifier: MIT */
/*
 * pingpong.c - the smallest roost program: two processes, two mailboxes.
 *
 * The parent creates a private system, forks a child that registers the
 * name "pong" and answers every "ping" with a "pong" carrying the same
 * counter; the parent sends pings by name, checks every answer, and tears
 * the system down. Read this first.
 */
#include <roost.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { KIND_PING = 1, KIND_PONG = 2, KIND_QUIT = 3 };

static int
run_pong(const char *system)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	uint64_t n;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = system;
	o.name = "pong";
	rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "pong: open: %s\n", roost_strerror(rc));
		return 1;
	}
	for (;;) {
		rc = roost_recv(ctx, &m, 5000);
		if (rc < 0) {
			fprintf(stderr, "pong: recv: %s\n", roost_strerror(rc));
			break;
		}
		if (roost_msg_kind(m) == KIND_QUIT)
			break;
		if (roost_msg_kind(m) != KIND_PING || roost_msg_size(m) != 8)
			continue; /* not ours: ignore */
		memcpy(&n, roost_msg_data(m), sizeof(n));
		/* Reply on the system lane: it never waits behind user mail. */
		rc = roost_send_ex(ctx, roost_msg_from(m), KIND_PONG,
		                   ROOST_SEND_SYSTEM, 0, &n, sizeof(n), 1000);
		if (rc < 0)
			fprintf(stderr, "pong: send: %s\n", roost_strerror(rc));
	}
	return roost_ctx_close(ctx) == 0 && rc >= 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char system[32];
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t pong;
	roost_msg_t *m;
	uint64_t i, got, rounds = 100000;
	char *end;
	int rc, status, tries;
	struct timespec t0, t1;
	double elapsed;
	pid_t child;

	if (argc > 2 || (argc == 2 && (argv[1][0] < '0' || argv[1][0] > '9'))) {
		fprintf(stderr, "usage: pingpong [ROUNDS]  (1..1000000000)\n");
		return 2;
	}
	if (argc == 2) {
		errno = 0;
		rounds = strtoull(argv[1], &end, 10);
		if (errno != 0 || *end != '\0' || rounds == 0 ||
		    rounds > 1000000000u) {
			fprintf(stderr, "pingpong: ROUNDS must be 1..1000000000, "
			        "not '%s'\n", argv[1]);
			return 2;
		}
	}
	snprintf(system, sizeof(system), "pingpong-%d", (int)getpid());
	rc = roost_system_create(system, NULL);
	if (rc < 0) {
		fprintf(stderr, "create %s: %s\n", system, roost_strerror(rc));
		return 1;
	}
	child = fork();
	if (child == 0)
		_exit(run_pong(system));

	roost_ctx_opts_init(&o);
	o.system = system;
	rc = roost_ctx_open(&ctx, &o);
	if (rc < 0)
		goto out_destroy;
	for (tries = 0; (rc = roost_whereis(ctx, "pong", &pong)) == -ENOENT &&
	                tries < 5000; tries++)
		usleep(1000); /* the child is still attaching */
	if (rc < 0)
		goto out_close;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < rounds; i++) {
		rc = roost_send(ctx, pong, KIND_PING, &i, sizeof(i), 1000);
		if (rc < 0)
			goto out_close;
		rc = roost_recv(ctx, &m, 1000);
		if (rc < 0)
			goto out_close;
		memcpy(&got, roost_msg_data(m), sizeof(got));
		if (roost_msg_kind(m) != KIND_PONG || got != i) {
			fprintf(stderr, "wrong answer %" PRIu64 " to %" PRIu64 "\n",
			        got, i);
			rc = -EPROTO;
			goto out_close;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	elapsed = (double)(t1.tv_sec - t0.tv_sec) * 1e9 +
	          (double)(t1.tv_nsec - t0.tv_nsec);
	printf("pingpong: %" PRIu64 " round trips between pid %d and pid %d "
	       "over system '%s', all answers checked, %.2f us per round "
	       "trip\n",
	       rounds, (int)getpid(), (int)child, system,
	       elapsed / (double)rounds / 1e3);
	rc = roost_send(ctx, pong, KIND_QUIT, NULL, 0, 1000);
out_close:
	if (rc < 0)
		fprintf(stderr, "pingpong: %s\n", roost_strerror(rc));
	roost_ctx_close(ctx);
out_destroy:
	waitpid(child, &status, 0);
	roost_system_destroy(system);
	return rc < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}
