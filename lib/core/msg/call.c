/* SPDX-License-Identifier: MIT */
/*
 * call.c - request and reply between actors: roost_reply answers a
 * message's sender on its system lane with the message's correlation id;
 * roost_call sends a request and waits for that answer.
 *
 * A call takes its reply aside (roost__mbox_take_aside): it scans only
 * the system lane, so a backlog of user messages costs it nothing, and
 * the message the caller is handling stays in hand. The reply is copied
 * into the context's reply buffer, because once taken its record may be
 * reused by senders.
 */
#include "core/msg/msg.h"

/* A replier waits at most this long for room on the caller's system
 * lane; a caller whose lane stays full times out instead. */
#define REPLY_TIMEOUT_MS 100

int
roost_reply(roost_ctx_t *ctx, const roost_msg_t *req, uint32_t kind,
            uint32_t flags, const void *data, size_t size)
{
	if (ctx == NULL || req == NULL || (flags & ~ROOST_SEND_MSGPACK) != 0)
		return -EINVAL;
	if (roost_msg_corr(req) == 0)
		return -EINVAL; /* not a call: nobody waits for an answer */
	return roost_send_ex(ctx, roost_msg_from(req), kind,
	                     flags | ROOST_SEND_SYSTEM | ROOST__SEND_REPLY,
	                     roost_msg_corr(req), data, size, REPLY_TIMEOUT_MS);
}

/* The context's copy buffer for messages taken aside. */
static int
aside_buf(roost_ctx_t *ctx)
{
	if (ctx->cx_reply_buf == NULL)
		ctx->cx_reply_buf = roost__malloc(ctx->cx_sys.sy_fixed.sf_max_msg
		                                  + 1u);
	return ctx->cx_reply_buf != NULL ? 0 : -ENOMEM;
}

/* Copy a message taken aside into the context's buffer (sized for the
 * system's largest message; read_rec already refused larger records). */
static bool
keep_copy(roost_ctx_t *ctx, const roost_msg_t *m)
{
	if (roost_msg_size(m) > ctx->cx_sys.sy_fixed.sf_max_msg)
		return false;
	ctx->cx_reply = *m;
	memcpy(ctx->cx_reply_buf, roost_msg_data(m), roost_msg_size(m));
	ctx->cx_reply.m_data = ctx->cx_reply_buf;
	return true;
}

struct call_match {
	roost_ctx_t *cm_ctx;
	uint64_t cm_from;
	uint64_t cm_corr;
	bool cm_mine;
};

/* Our reply: copied out. A reply to an earlier call of this context that
 * timed out: taken too, dropped and counted. Anything else stays. */
static bool
match_call(const roost_msg_t *m, void *arg)
{
	struct call_match *cm = arg;
	roost_ctx_t *ctx = cm->cm_ctx;
	uint64_t corr = roost_msg_corr(m);

	if (!(roost_msg_flags(m) & ROOST_MSG_REPLY))
		return false;
	/* A call to this node's own address with the node bits set (the
	 * gateway delivers it, remote.h) is answered from the plain local
	 * address. */
	if (corr == cm->cm_corr &&
	    (roost_msg_from(m).id == cm->cm_from ||
	     roost_msg_from(m).id == (cm->cm_from & ~(0xffffull << 16)))) {
		cm->cm_mine = keep_copy(ctx, m);
		return cm->cm_mine;
	}
	if (corr > ctx->cx_corr_seed && corr < cm->cm_corr) {
		ctx->cx_late_replies++;
		return true;
	}
	return false;
}

struct aside_match {
	roost_ctx_t *am_ctx;
	roost_match_fn am_match;
	void *am_arg;
};

static bool
match_aside(const roost_msg_t *m, void *arg)
{
	struct aside_match *am = arg;

	if (am->am_match != NULL && !am->am_match(m, am->am_arg))
		return false;
	return keep_copy(am->am_ctx, m);
}

int
roost_recv_aside(roost_ctx_t *ctx, roost_msg_t **out, unsigned lanes,
                 roost_match_fn match, void *arg, int timeout_ms)
{
	struct aside_match am = {ctx, match, arg};
	int rc;

	if (ctx == NULL || out == NULL || lanes == 0 ||
	    (lanes & ~ROOST_LANE_ANY) != 0)
		return -EINVAL;
	rc = aside_buf(ctx);
	if (rc < 0)
		return rc;
	rc = roost__mbox_take_aside(&ctx->cx_mbox, &ctx->cx_rx, lanes,
	                            match_aside, &am, timeout_ms);
	if (rc == 0)
		*out = &ctx->cx_reply;
	return rc;
}

/* A call answered by a gateway with an error (remote.h): that error;
 * else the reply in '*reply'. */
static int
remote_error(roost_msg_t *m, roost_msg_t **reply)
{
	int32_t err;

	if (roost_msg_kind(m) != ROOST__KIND_REMOTE_ERROR) {
		*reply = m;
		return 0;
	}
	if (roost_msg_size(m) != sizeof(err))
		return ROOST_EPROTO;
	memcpy(&err, roost_msg_data(m), sizeof(err));
	return err < 0 ? err : ROOST_EPROTO;
}

int
roost_call(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind, uint32_t flags,
           const void *data, size_t size, int timeout_ms,
           roost_msg_t **reply)
{
	struct call_match cm;
	uint64_t deadline = 0;
	uint64_t now;
	int64_t left;
	int rc;

	if (ctx == NULL || reply == NULL ||
	    (flags & ~(ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK)) != 0)
		return -EINVAL;
	if (roost_aid_eq(to, ctx->cx_self))
		return -EDEADLK; /* we could never answer ourselves */
	rc = aside_buf(ctx);
	if (rc < 0)
		return rc;
	if (timeout_ms > 0)
		deadline = roost__plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
	cm.cm_ctx = ctx;
	cm.cm_from = to.id;
	cm.cm_corr = ++ctx->cx_corr;
	rc = roost_send_ex(ctx, to, kind, flags, cm.cm_corr, data, size,
	                   timeout_ms);
	if (rc < 0)
		return rc;
	for (;;) {
		cm.cm_mine = false;
		left = -1;
		if (timeout_ms >= 0) {
			now = roost__plat_now_ns();
			/* Rounded up: never give up before the deadline. */
			left = deadline > now
			       ? (int64_t)((deadline - now + 999999u) / 1000000u)
			       : 0;
		}
		rc = roost__mbox_take_aside(&ctx->cx_mbox, &ctx->cx_rx,
		                            ROOST_LANE_SYSTEM, match_call, &cm,
		                            (int)left);
		if (rc == -EAGAIN)
			rc = -ETIMEDOUT;
		if (rc < 0)
			return rc;
		if (cm.cm_mine)
			return remote_error(&ctx->cx_reply, reply);
	}
}
