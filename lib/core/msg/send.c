/* SPDX-License-Identifier: MIT */
/*
 * send.c - the public send calls and the cache of peer mailbox mappings
 * behind them. The cache is indexed by slot, so a send costs the same
 * whether the system has one actor or a thousand.
 */
#include "core/msg/msg.h"

void
roost__ctx_peer_drop(roost_ctx_t *ctx, uint32_t slot)
{
	struct roost__peer *pe = &ctx->cx_peers[slot];

	/* Written only when mapped: the table is calloc'd for the whole
	 * actor table, and a write to an untouched page would fault it in
	 * (a close drops every slot below cx_peers_end). */
	if (pe->pe_gen != 0) {
		roost__mbox_unclaim(&pe->pe_mb);
		roost__mbox_detach(&pe->pe_mb);
		pe->pe_gen = 0;
	}
}

int
roost__ctx_peer(roost_ctx_t *ctx, roost_aid_t to, struct roost__mbox **out)
{
	struct roost__sys *sy = &ctx->cx_sys;
	struct roost__slot_view sv;
	struct roost__peer *pe;
	uint32_t slot = roost_aid_slot(to);
	uint32_t gen = roost_aid_gen(to);
	int rc;

	if (roost_aid_node(to) != 0)
		return -EHOSTUNREACH; /* another node's actor: not from here */
	if (gen == 0 || slot >= sy->sy_fixed.sf_nslots)
		return -ESRCH;
	if (slot == ctx->cx_slot) {
		if (gen != ctx->cx_gen)
			return -ESRCH;
		*out = &ctx->cx_mbox;
		return 0;
	}
	pe = &ctx->cx_peers[slot];
	/* A replaced segment (tag-replace) is re-opened: the same name now
	 * holds the mailbox's new segment. */
	if (pe->pe_gen == gen &&
	    roost__load_rlx(&pe->pe_mb.mb_hdr->mh_lock.lk_state) !=
	            ROOST_MBOX_REPLACED) {
		*out = &pe->pe_mb;
		return 0;
	}
	roost__ctx_peer_drop(ctx, slot);
	rc = roost__sys_slot_read(sy, slot, &sv);
	if (rc < 0)
		return rc;
	if (sv.sv_state != ROOST_SLOT_ACTIVE || sv.sv_gen != gen)
		return -ESRCH;
	rc = roost__mbox_open(&pe->pe_mb, sy, slot, gen);
	if (rc == -ENOENT)
		return -ESRCH; /* closed since the read */
	if (rc == ROOST_ECORRUPT && roost__sys_slot_read(sy, slot, &sv) == 0 &&
	    sv.sv_gen != gen)
		return -ESRCH; /* a new holder is still creating its segment */
	if (rc < 0)
		return rc;
	pe->pe_gen = gen;
	if (slot >= ctx->cx_peers_end)
		ctx->cx_peers_end = slot + 1;
	*out = &pe->pe_mb;
	return 0;
}

#define SEND_FLAGS_KNOWN (ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK)


int
roost__send_as(roost_ctx_t *ctx, roost_aid_t to, const struct roost__out *o,
               int timeout_ms)
{
	struct roost__mbox *mb;
	int rc;

	for (int tries = 0;; tries++) {
		rc = roost__ctx_peer(ctx, to, &mb);
		if (rc < 0)
			return rc;
		if (mb == &ctx->cx_mbox) {
			/* To ourselves: only we can make room, so waiting
			 * for room could never end. Full is -EDEADLK unless
			 * asked not to wait. */
			rc = roost__mbox_push(mb, o, 0);
			return rc == -EAGAIN && timeout_ms != 0 ? -EDEADLK
			                                        : rc;
		}
		rc = roost__mbox_push(mb, o, timeout_ms);
		if (rc == -ESRCH || rc == -ESTALE)
			roost__ctx_peer_drop(ctx, roost_aid_slot(to));
		/* Replaced (tag-replace): the message is not in the old
		 * segment; send it to the new one. */
		if (rc != -ESTALE)
			return rc;
		if (tries == ROOST__STALE_RETRIES)
			return -EAGAIN;
	}
}

int
roost_send_ex(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind,
              uint32_t flags, uint64_t corr, const void *data, size_t size,
              int timeout_ms)
{
	struct roost__out o;

	if (ctx == NULL || (data == NULL && size != 0) ||
	    (flags & ~(SEND_FLAGS_KNOWN | ROOST__SEND_REPLY)) != 0)
		return -EINVAL;
	if (size > UINT32_MAX)
		return -EMSGSIZE;
	o.o_from = ctx->cx_self.id;
	o.o_corr = corr;
	o.o_kind = kind;
	o.o_flags = ((flags & ROOST_SEND_MSGPACK) ? ROOST_REC_MSGPACK : 0) |
	            ((flags & ROOST__SEND_REPLY) ? ROOST_REC_REPLY : 0);
	o.o_lane = (flags & ROOST_SEND_SYSTEM) ? ROOST_LANE_SYS : ROOST_LANE_USR;
	o.o_data = data;
	o.o_size = size;
	if (roost_aid_node(to) != 0)
		return roost__remote_send(ctx, to, &o, timeout_ms);
	return roost__send_as(ctx, to, &o, timeout_ms);
}

/* Messages of a batch go to the mailbox layer in chunks of this many
 * envelopes (on the stack). */
#define BATCH_CHUNK 64

int
roost_send_batch(roost_ctx_t *ctx, roost_aid_t to,
                 const roost_batch_msg_t *msgs, size_t n, int timeout_ms,
                 size_t *sent)
{
	struct roost__out o[BATCH_CHUNK];
	struct roost__mbox *mb;
	size_t total = 0;
	size_t chunk;
	size_t done;
	size_t i;
	int tries = 0;
	int rc = 0;

	if (sent != NULL)
		*sent = 0;
	if (ctx == NULL || (msgs == NULL && n != 0))
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if ((msgs[i].flags & ~SEND_FLAGS_KNOWN) != 0 ||
		    (msgs[i].data == NULL && msgs[i].size != 0))
			return -EINVAL;
		if (msgs[i].size > UINT32_MAX)
			return -EMSGSIZE;
	}
	if (roost_aid_node(to) != 0)
		return roost__remote_send_batch(ctx, to, msgs, n, timeout_ms,
		                                sent);
	rc = roost__ctx_peer(ctx, to, &mb);
	if (rc < 0)
		return rc;
	/* A message that can never fit is refused before any is sent. */
	for (i = 0; i < n; i++) {
		if (msgs[i].size > mb->mb_max_payload[(msgs[i].flags &
		                                       ROOST_SEND_SYSTEM)
		                                              ? ROOST_LANE_SYS
		                                              : ROOST_LANE_USR])
			return -EMSGSIZE;
	}
	while (total < n) {
		rc = roost__ctx_peer(ctx, to, &mb);
		if (rc < 0)
			break;
		chunk = n - total < BATCH_CHUNK ? n - total : BATCH_CHUNK;
		for (i = 0; i < chunk; i++) {
			const roost_batch_msg_t *b = &msgs[total + i];

			o[i].o_from = ctx->cx_self.id;
			o[i].o_corr = 0;
			o[i].o_kind = b->kind;
			o[i].o_flags = (b->flags & ROOST_SEND_MSGPACK)
			                       ? ROOST_REC_MSGPACK : 0;
			o[i].o_lane = (b->flags & ROOST_SEND_SYSTEM)
			                      ? ROOST_LANE_SYS : ROOST_LANE_USR;
			o[i].o_data = b->data;
			o[i].o_size = b->size;
		}
		/* To ourselves, only we can make room: never wait. */
		rc = roost__mbox_push_many(mb, o, chunk,
		                           mb == &ctx->cx_mbox ? 0 : timeout_ms,
		                           &done);
		total += done;
		if (rc == -ESRCH || rc == -ESTALE)
			roost__ctx_peer_drop(ctx, roost_aid_slot(to));
		if (rc == -ESTALE && tries++ < ROOST__STALE_RETRIES)
			continue; /* replaced: the rest goes to the new one */
		if (rc == -EAGAIN && mb == &ctx->cx_mbox && timeout_ms != 0)
			rc = -EDEADLK;
		if (rc < 0)
			break;
	}
	if (rc == -ESTALE)
		rc = -EAGAIN;
	if (sent != NULL)
		*sent = total;
	return rc;
}

int
roost_send(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind, const void *data,
           size_t size, int timeout_ms)
{
	return roost_send_ex(ctx, to, kind, 0, 0, data, size, timeout_ms);
}

int
roost_try_send(roost_ctx_t *ctx, roost_aid_t to, uint32_t kind,
               const void *data, size_t size)
{
	return roost_send_ex(ctx, to, kind, 0, 0, data, size, 0);
}

int
roost_send_name(roost_ctx_t *ctx, const char *name, uint32_t kind,
                const void *data, size_t size, int timeout_ms)
{
	roost_aid_t to;
	int rc;

	rc = roost_whereis(ctx, name, &to);
	if (rc < 0)
		return rc;
	return roost_send_ex(ctx, to, kind, 0, 0, data, size, timeout_ms);
}
