/* SPDX-License-Identifier: MIT */
/*
 * attach.c - roost_ctx_open: a context (msg/ctx.c), and for an actor
 * roostd started afresh, its first word to roostd, ATTACHED (proto.h),
 * so roostd stops waiting for it at once instead of at its next look at
 * the table. A restart (reattach) is up for roostd already.
 */
#include "core/sup/sup.h"

/* How long a new supervised actor waits for room on roostd's system
 * lane to say it attached; roostd's poll of the table finds it anyway. */
#define ATTACHED_TELL_MS 100

int
roost_ctx_open(roost_ctx_t **out, const roost_ctx_opts_t *opts)
{
	int rc = roost__ctx_open(out, opts);

	if (rc < 0 || opts == NULL || !(opts->flags & ROOST_CTX_SUPERVISED))
		return rc;
	roost__roostd_hint(*out);
	if (opts->reattach.id == 0)
		roost__roostd_tell(*out, ROOST__KIND_ATTACHED, (*out)->cx_self.id,
		                   ATTACHED_TELL_MS);
	return 0;
}
