/* SPDX-License-Identifier: MIT */
/*
 * idle_actor.c - the smallest actor roost_scale10k starts by the
 * thousand: it attaches (system, name and address from the environment
 * roostd sets), waits for its graceful stop, closes and exits 0.
 *
 * With --exit it returns at once without touching roost: the same
 * executable, loaded and linked the same way, run as a plain program,
 * which is what fork+exec+wait is measured with.
 */
#include <roost.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
main(int argc, char **argv)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	int rc;

	if (argc > 1 && strcmp(argv[1], "--exit") == 0)
		return 0;
	roost_ctx_opts_init(&o);
	rc = roost_ctx_opts_from_env(&o);
	if (rc == 0)
		rc = roost_ctx_open(&ctx, &o);
	if (rc < 0) {
		fprintf(stderr, "idle_actor: %s\n", roost_strerror(rc));
		return 1;
	}
	for (;;) {
		rc = roost_recv(ctx, &m, -1);
		if (rc == 0 && roost_msg_kind(m) == ROOST_KIND_STOP)
			break;
		if (rc < 0 && rc != -EINTR && rc != ROOST_ECORRUPT) {
			fprintf(stderr, "idle_actor: %s\n", roost_strerror(rc));
			return 1;
		}
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 1;
}
