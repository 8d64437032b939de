/* SPDX-License-Identifier: MIT */
/*
 * recv.c - the public receive calls and the accessors of a received
 * message view.
 */
#include "core/msg/msg.h"

/* A timeout in ms as the ns the mailbox layer takes (< 0: none). */
static int64_t
timeout_ns(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : (int64_t)timeout_ms * 1000000;
}

int
roost_recv(roost_ctx_t *ctx, roost_msg_t **out, int timeout_ms)
{
	if (ctx == NULL || out == NULL)
		return -EINVAL;
	return roost__mbox_take(&ctx->cx_mbox, &ctx->cx_rx, ROOST_LANE_ANY,
	                        NULL, NULL, timeout_ns(timeout_ms), out);
}

int
roost__recv_ns(roost_ctx_t *ctx, roost_msg_t **out, int64_t timeout_ns)
{
	return roost__mbox_take(&ctx->cx_mbox, &ctx->cx_rx, ROOST_LANE_ANY,
	                        NULL, NULL, timeout_ns, out);
}

int
roost_recv_match(roost_ctx_t *ctx, roost_msg_t **out, unsigned lanes,
                 roost_match_fn match, void *arg, int timeout_ms)
{
	if (ctx == NULL || out == NULL || lanes == 0 ||
	    (lanes & ~ROOST_LANE_ANY) != 0)
		return -EINVAL;
	return roost__mbox_take(&ctx->cx_mbox, &ctx->cx_rx, lanes, match, arg,
	                        timeout_ns(timeout_ms), out);
}

roost_aid_t
roost_msg_from(const roost_msg_t *m)
{
	return (roost_aid_t){m->m_from};
}

uint32_t
roost_msg_kind(const roost_msg_t *m)
{
	return m->m_kind;
}

uint32_t
roost_msg_flags(const roost_msg_t *m)
{
	return m->m_flags;
}

uint64_t
roost_msg_corr(const roost_msg_t *m)
{
	return m->m_corr;
}

const void *
roost_msg_data(const roost_msg_t *m)
{
	return m->m_data;
}

size_t
roost_msg_size(const roost_msg_t *m)
{
	return m->m_size;
}
