/* SPDX-License-Identifier: MIT */
/*
 * roostd_call.c - a request to roostd and the wait for its reply
 * (proto.h): the one path every call that asks roostd for something
 * takes (control.c, spawn_fn.c).
 */
#include "core/sup/sup.h"
#include "core/msg/mp.h"

#include <stdlib.h>

#include <msgpack.h>

/* A reply's bytes: 'rp_cap' bytes at 'rp_buf', 'rp_len' of them used. */
struct raw_reply {
	uint8_t *rp_buf;
	size_t rp_cap;
	size_t rp_len;
};

/* How long one wait for the reply lasts before roostd's liveness is
 * checked again. */
#define LIVENESS_CHECK_MS 200

struct reply_match {
	uint64_t rm_roostd;
	uint64_t rm_corr;
	bool rm_mine;                    /* the reply to this request */
	struct raw_reply *rm_reply;
};

/* Take roostd's replies to this request and to earlier ones of this
 * address (they timed out: dropped by the caller). Correlation ids grow
 * across incarnations of an address, so a late reply to a previous
 * process at this address is taken and dropped too; a later one is not
 * ours to take. */
static bool
match_reply(const roost_msg_t *m, void *arg)
{
	struct reply_match *rm = arg;
	struct raw_reply *rp = rm->rm_reply;
	uint64_t corr = roost_msg_corr(m);

	if (roost_msg_kind(m) != ROOST__KIND_REPLY ||
	    roost_msg_from(m).id != rm->rm_roostd || corr > rm->rm_corr)
		return false;
	rm->rm_mine = corr == rm->rm_corr;
	if (rm->rm_mine) {
		rp->rp_len = roost_msg_size(m);
		if (rp->rp_len > rp->rp_cap)
			rp->rp_len = rp->rp_cap + 1; /* malformed; not copied */
		else
			memcpy(rp->rp_buf, roost_msg_data(m), rp->rp_len);
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

/* Send 'req' to roostd's system lane with correlation id 'corr'; a
 * cached address that went stale is looked up once more. */
static int
send_request(roost_ctx_t *ctx, uint32_t kind, const void *req, size_t len,
             int timeout_ms, uint64_t corr, roost_aid_t *roostd)
{
	int rc = find_roostd(ctx, roostd);

	if (rc < 0)
		return rc;
	rc = roost_send_ex(ctx, *roostd, kind,
	                   ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK, corr, req,
	                   len, timeout_ms);
	if (rc == -ESRCH) {
		/* roostd restarted since we cached its address. */
		ctx->cx_roostd.id = 0;
		rc = find_roostd(ctx, roostd);
		if (rc < 0)
			return rc;
		rc = roost_send_ex(ctx, *roostd, kind,
		                   ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK, corr,
		                   req, len, timeout_ms);
	}
	return rc == -ESRCH || rc == -ESHUTDOWN ? -ENOTCONN : rc;
}

int
roost__roostd_send(roost_ctx_t *ctx, uint32_t kind, const void *req,
                   size_t len, int timeout_ms, uint64_t corr)
{
	roost_aid_t roostd;

	return send_request(ctx, kind, req, len, timeout_ms, corr, &roostd);
}

void
roost__roostd_hint(roost_ctx_t *ctx)
{
	const char *v = getenv("ROOST_ROOSTD");
	unsigned long long aid;
	char *end;

	if (v == NULL || strlen(v) > 16)
		return;
	errno = 0;
	aid = strtoull(v, &end, 16);
	/* An address of this node: a generation, no node bits. */
	if (errno == 0 && end != v && *end == '\0' && (aid >> 32) != 0 &&
	    roost_aid_node((roost_aid_t){aid}) == 0)
		ctx->cx_roostd.id = aid;
}

/* Send the request and wait for its reply, copied raw into 'rp'
 * (ROOST_EPROTO if larger than rp_cap). */
static int
roostd_request(roost_ctx_t *ctx, uint32_t kind, const void *req,
               size_t len, int timeout_ms, struct raw_reply *rp)
{
	struct reply_match rm;
	roost_aid_t roostd;
	uint64_t deadline;
	uint64_t now;
	int wait;
	int rc;

	rm.rm_corr = ++ctx->cx_corr;
	rc = send_request(ctx, kind, req, len, timeout_ms, rm.rm_corr, &roostd);
	if (rc < 0)
		return rc;
	rm.rm_roostd = roostd.id;
	rm.rm_reply = rp;
	deadline = roost__plat_now_ns() + (uint64_t)timeout_ms * 1000000u;
	for (;;) {
		now = roost__plat_now_ns();
		if (timeout_ms >= 0 && now >= deadline)
			return -ETIMEDOUT;
		wait = LIVENESS_CHECK_MS;
		if (timeout_ms >= 0 &&
		    deadline - now < (uint64_t)wait * 1000000u)
			wait = (int)((deadline - now + 999999u) / 1000000u);
		rm.rm_mine = false;
		rc = roost__mbox_take_aside(&ctx->cx_mbox, &ctx->cx_rx,
		                            ROOST_LANE_SYSTEM, match_reply, &rm,
		                            wait);
		if (rc == 0 && rm.rm_mine)
			return rp->rp_len > rp->rp_cap ? ROOST_EPROTO : 0;
		if (rc == 0)
			continue; /* a late reply to an earlier request */
		if (rc != -ETIMEDOUT)
			return rc;
		if (!roostd_alive(ctx))
			return -ENOTCONN;
	}
}

/* Decode a raw reply's [rc] or [rc, value] into 'up': '*rc' and, if
 * present, '*value' (a view into 'up'). ROOST_EPROTO if malformed. */
static int
reply_split(const struct raw_reply *rp, msgpack_unpacked *up,
            int64_t *rc, const msgpack_object **value)
{
	const msgpack_object *o;

	/* Checked before msgpack-c allocates what containers declare. */
	if (rp->rp_len > rp->rp_cap ||
	    !roost__mp_check(rp->rp_buf, rp->rp_len) ||
	    msgpack_unpack_next(up, (const char *)rp->rp_buf, rp->rp_len,
	                        NULL) != MSGPACK_UNPACK_SUCCESS)
		return ROOST_EPROTO;
	o = &up->data;
	if (o->type != MSGPACK_OBJECT_ARRAY || o->via.array.size < 1 ||
	    o->via.array.size > 2)
		return ROOST_EPROTO;
	if (o->via.array.ptr[0].type == MSGPACK_OBJECT_NEGATIVE_INTEGER &&
	    o->via.array.ptr[0].via.i64 >= -4095)
		*rc = o->via.array.ptr[0].via.i64;
	else if (o->via.array.ptr[0].type == MSGPACK_OBJECT_POSITIVE_INTEGER &&
	         o->via.array.ptr[0].via.u64 == 0)
		*rc = 0;
	else
		return ROOST_EPROTO;
	*value = o->via.array.size == 2 ? &o->via.array.ptr[1] : NULL;
	return 0;
}

int
roost__roostd_call(roost_ctx_t *ctx, uint32_t kind, const void *req,
                   size_t len, int timeout_ms, int64_t *rc, uint64_t *value)
{
	struct raw_reply rp = {NULL, ROOST__REQ_MAX, 0};
	const msgpack_object *v;
	msgpack_unpacked up;
	int ret;

	rp.rp_buf = roost__malloc(rp.rp_cap);
	if (rp.rp_buf == NULL)
		return -ENOMEM;
	ret = roostd_request(ctx, kind, req, len, timeout_ms, &rp);
	if (ret == 0) {
		msgpack_unpacked_init(&up);
		ret = reply_split(&rp, &up, rc, &v);
		*value = 0;
		if (ret == 0 && v != NULL) {
			if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
				*value = v->via.u64;
			else
				ret = ROOST_EPROTO;
		}
		msgpack_unpacked_destroy(&up);
	}
	roost__free(rp.rp_buf);
	return ret;
}
