/* SPDX-License-Identifier: MIT */
/*
 * stats.c - a mailbox's counters for tools, read through the context's
 * mapping of it.
 */
#include "core/msg/msg.h"

int
roost_mbox_stats(roost_ctx_t *ctx, roost_aid_t aid, roost_mbox_stats_t *out)
{
	struct roost__mbox *mb;
	int rc;

	if (ctx == NULL || out == NULL)
		return -EINVAL;
	rc = roost__ctx_peer(ctx, aid, &mb);
	if (rc < 0)
		return rc;
	roost__mbox_stats(mb, out);
	return 0;
}
