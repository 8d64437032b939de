/* SPDX-License-Identifier: MIT */
/* consumer.c - links against an installed libroost and sends itself one
 * message, then reads its own mailbox's counters through the view API:
 * proof that both headers, the library, the CMake package and the
 * pkg-config file are installed and usable. */
#include <roost.h>
#include <roost/view.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	char sys[32];
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	int rc;

	snprintf(sys, sizeof(sys), "consumer-%d", (int)getpid());
	rc = roost_system_create(sys, NULL);
	if (rc < 0)
		goto out;
	roost_ctx_opts_init(&o);
	o.system = sys;
	rc = roost_ctx_open(&ctx, &o);
	if (rc == 0) {
		rc = roost_send(ctx, roost_self(ctx), 1, "hi", 2, 0);
		if (rc == 0)
			rc = roost_recv(ctx, &m, 0);
		if (rc == 0) {
			roost_mbox_stats_t st;

			rc = roost_mbox_stats(ctx, roost_self(ctx), &st);
			if (rc == 0 && st.enqueued != 1)
				rc = -1;
		}
		if (rc == 0 && (roost_msg_size(m) != 2 ||
		                memcmp(roost_msg_data(m), "hi", 2) != 0))
			rc = -1;
		roost_ctx_close(ctx);
	}
	roost_system_destroy(sys);
out:
	printf("consumer: %s\n", rc == 0 ? "ok" : roost_strerror(rc));
	return rc == 0 ? 0 : 1;
}
