/* SPDX-License-Identifier: MIT */
/*
 * roostd_call.c - a request to roostd and the wait for its reply
 * (proto.h), shared by every call that asks roostd for something.
 */
#include "roost_impl.h"
#include "core/proto.h"

#include <msgpack.h>

/* How long one wait for the reply lasts before roostd's liveness is
 * checked again. */
#define LIVENESS_CHECK_MS 200

struct reply_match {
	uint64_t rm_roostd;
	uint64_t rm_corr;
	bool rm_mine;                    /* the reply to this call */
	size_t rm_len;
	uint8_t rm_buf[ROOST__REQ_MAX];
};

/* Take roostd's replies: ours is copied out; one to an earlier call that
 * timed out is taken too, and dropped by the caller. */
static bool
match_reply(const roost_msg_t *m, void *arg)
{
	struct reply_match *rm = arg;

	if (roost_msg_kind(m) != ROOST__KIND_REPLY ||
	    roost_msg_from(m).id != rm->rm_roostd)
		return false;
	rm->rm_mine = roost_msg_corr(m) == rm->rm_corr;
	if (rm->rm_mine) {
		rm->rm_len = roost_msg_size(m);
		if (rm->rm_len > sizeof(rm->rm_buf))
			rm->rm_len = sizeof(rm->rm_buf) + 1; /* malformed */
		else
			memcpy(rm->rm_buf, roost_msg_data(m), rm->rm_len);
	}
	return true;
}

/* roostd's address: cached, looked up again after it changed. */
static int
find_roostd(roost_ctx_t *ctx, roost_aid_t *out)
{
	int rc;

	if (ctx->cx_roostd.id != 0) {
		*out = ctx->cx_roostd;
		return 0;
	}
	rc = roost_whereis(ctx, ROOST__ROOSTD_NAME, out);
	if (rc == -ENOENT)
		return -ENOTCONN;
	if (rc == 0)
		ctx->cx_roostd = *out;
	return rc;
}

/* True while the system's owner (roostd) is a live process (a zombie,
 * dead but not yet reaped by its parent, is not). */
static bool
roostd_alive(roost_ctx_t *ctx)
{
	int32_t pid = roost__load_rlx(&ctx->cx_sys.sy_hdr->sh_owner_pid);
	uint64_t start;

	/* Only "no such process" is an answer: out of descriptors, say,
	 * tells nothing, and the wait goes on. */
	return pid > 0 && roost__plat_proc_start(pid, &start) != -ESRCH;
}

/* Decode [rc] or [rc, value]. */
static int
decode_reply(const struct reply_match *rm, int64_t *rc, uint64_t *value)
{
	msgpack_unpacked up;
	msgpack_object *o;
	int ret = ROOST_EPROTO;

	if (rm->rm_len > sizeof(rm->rm_buf))
		return ROOST_EPROTO;
	msgpack_unpacked_init(&up);
	if (!roost__mp_check(rm->rm_buf, rm->rm_len) ||
	    msgpack_unpack_next(&up, (const char *)rm->rm_buf, rm->rm_len,
	                        NULL) != MSGPACK_UNPACK_SUCCESS)
		goto out;
	o = &up.data;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
	    o->via.array.size > 2)
		goto out;
	if (o->via.array.ptr[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*rc = o->via.array.ptr[0].via.i64;
	else if (o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	         o->via.array.ptr[0].via.u64 == 0)
		*rc = 0;
	else
		goto out;
	if (*rc < -4095 || *rc > 0)
		goto out;
	*value = 0;
	if (o->via.array.size == 2) {
		if (o->via.array.ptr[1].type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			goto out;
		*value = o->via.array.ptr[1].via.u64;
	}
	ret = 0;
out:
	msgpack_unpacked_destroy(&up);
	return ret;
}

int
roost__roostd_call(roost_ctx_t *ctx, uint32_t kind, const void *req,
                   size_t len, int timeout_ms, int64_t *rc, uint64_t *value)
{
	struct reply_match *rm;
	roost_aid_t roostd;
	uint64_t deadline;
	uint64_t now;
	int wait;
	int ret;

	ret = find_roostd(ctx, &roostd);
	if (ret < 0)
		return ret;
	ret = roost_send_ex(ctx, roostd, kind,
	                    ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK,
	                    ++ctx->cx_corr, req, len, timeout_ms);
	if (ret == -ESRCH) {
		/* roostd restarted since we cached its address. */
		ctx->cx_roostd.id = 0;
		ret = find_roostd(ctx, &roostd);
		if (ret < 0)
			return ret;
		ret = roost_send_ex(ctx, roostd, kind,
		                    ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK,
		                    ctx->cx_corr, req, len, timeout_ms);
	}
	if (ret < 0)
		return ret == -ESRCH || ret == -ESHUTDOWN ? -ENOTCONN : ret;
	rm = roost__malloc(sizeof(*rm));
	if (rm == NULL)
		return -ENOMEM;
	rm->rm_roostd = roostd.id;
	rm->rm_corr = ctx->cx_corr;
	deadline = roost__plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		now = roost__plat_now_ns();
		if (timeout_ms >= 0 && now >= deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		wait = LIVENESS_CHECK_MS;
		if (timeout_ms >= 0 &&
		    deadline - now < (uint64_t)wait * 1000000u)
			wait = (int)((deadline - now + 999999u) / 1000000u);
		rm->rm_mine = false;
		ret = roost__mbox_take_aside(&ctx->cx_mbox, &ctx->cx_rx,
		                             ROOST_LANE_SYSTEM, match_reply, rm,
		                             wait);
		if (ret == 0 && rm->rm_mine) {
			ret = decode_reply(rm, rc, value);
			break;
		}
		if (ret == 0)
			continue; /* a late reply to an earlier call: dropped */
		if (ret != -ETIMEDOUT)
			break;
		if (!roostd_alive(ctx)) {
			ret = -ENOTCONN;
			break;
		}
	}
	roost__free(rm);
	return ret;
}
