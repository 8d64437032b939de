/* SPDX-License-Identifier: MIT */
/*
 * remote.c - sends and lookups for actors of other nodes, handed to the
 * node's gateway (the protocol is in remote.h, the semantics in
 * docs/distribution.md).
 */
#include "core/msg/msg.h"

bool
roost__node_name_valid(const char *name, size_t len)
{
	size_t i;

	if (len == 0 || len > ROOST__NODE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* The gateway's address: cached, looked up again after it changed.
 * -EHOSTUNREACH when none runs: no other node can be reached. */
static int
find_gateway(roost_ctx_t *ctx, bool fresh, roost_aid_t *out)
{
	int rc;

	if (fresh)
		ctx->cx_gateway.id = 0;
	if (ctx->cx_gateway.id != 0) {
		*out = ctx->cx_gateway;
		return 0;
	}
	rc = roost_whereis(ctx, ROOST__GATEWAY_NAME, out);
	if (rc == -ENOENT)
		return -EHOSTUNREACH;
	if (rc == 0)
		ctx->cx_gateway = *out;
	return rc;
}

int
roost__remote_send(roost_ctx_t *ctx, roost_aid_t to,
                   const struct roost__out *o, int timeout_ms)
{
	struct roost__fwd fw;
	struct roost__out w = *o;
	roost_aid_t gw;
	uint32_t max = ctx->cx_sys.sy_fixed.sf_max_msg;
	int rc;

	if (o->o_size > max || sizeof(fw) > max - o->o_size)
		return -EMSGSIZE;
	if (ctx->cx_fwd_buf == NULL) {
		ctx->cx_fwd_buf = roost__malloc(max);
		if (ctx->cx_fwd_buf == NULL)
			return -ENOMEM;
	}
	fw.fw_to = to.id;
	fw.fw_kind = o->o_kind;
	fw.fw_flags = o->o_flags;
	memcpy(ctx->cx_fwd_buf, &fw, sizeof(fw));
	if (o->o_size > 0)
		memcpy(ctx->cx_fwd_buf + sizeof(fw), o->o_data, o->o_size);
	w.o_kind = ROOST__KIND_FORWARD;
	w.o_flags = 0;
	w.o_data = ctx->cx_fwd_buf;
	w.o_size = sizeof(fw) + o->o_size;
	rc = find_gateway(ctx, false, &gw);
	if (rc < 0)
		return rc;
	rc = roost__send_as(ctx, gw, &w, timeout_ms);
	if (rc == -ESRCH) {
		/* The gateway's slot was given up (it stopped for good). */
		rc = find_gateway(ctx, true, &gw);
		if (rc < 0)
			return rc;
		rc = roost__send_as(ctx, gw, &w, timeout_ms);
	}
	return rc == -ESRCH || rc == -ESHUTDOWN ? -EHOSTUNREACH : rc;
}

int
roost__remote_send_batch(roost_ctx_t *ctx, roost_aid_t to,
                         const roost_batch_msg_t *msgs, size_t n,
                         int timeout_ms, size_t *sent)
{
	uint32_t max = ctx->cx_sys.sy_fixed.sf_max_msg;
	size_t i;
	int rc = 0;

	for (i = 0; i < n; i++)
		if (msgs[i].size > max || sizeof(struct roost__fwd) >
		                                  max - msgs[i].size)
			return -EMSGSIZE;
	for (i = 0; i < n && rc == 0; i++) {
		struct roost__out o = {
			.o_from = ctx->cx_self.id, .o_kind = msgs[i].kind,
			.o_flags = (msgs[i].flags & ROOST_SEND_MSGPACK)
			                   ? ROOST_REC_MSGPACK : 0,
			.o_lane = (msgs[i].flags & ROOST_SEND_SYSTEM)
			                  ? ROOST_LANE_SYS : ROOST_LANE_USR,
			.o_data = msgs[i].data, .o_size = msgs[i].size};

		rc = roost__remote_send(ctx, to, &o, timeout_ms);
		if (rc == 0 && sent != NULL)
			(*sent)++;
	}
	return rc;
}

/* roost_call of the gateway: 'data' as payload, the reply's view in
 * '*r'. A gateway restarted since we cached its address is looked up
 * once more. */
static int
call_gateway(roost_ctx_t *ctx, uint32_t kind, const void *data, size_t len,
             int timeout_ms, roost_msg_t **r)
{
	roost_aid_t gw;
	int rc;

	rc = find_gateway(ctx, false, &gw);
	if (rc < 0)
		return rc;
	rc = roost_call(ctx, gw, kind, ROOST_SEND_SYSTEM, data, len,
	                timeout_ms, r);
	if (rc == -ESRCH) {
		rc = find_gateway(ctx, true, &gw);
		if (rc < 0)
			return rc;
		rc = roost_call(ctx, gw, kind, ROOST_SEND_SYSTEM, data, len,
		                timeout_ms, r);
	}
	return rc == -ESRCH || rc == -ESHUTDOWN ? -EHOSTUNREACH : rc;
}

int
roost__remote_whereis(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	const char *at = strchr(name, '@');
	size_t local = (size_t)(at - name);
	char actor[ROOST_NAME_MAX + 1];
	roost_msg_t *r;
	uint64_t id;
	int rc;

	if (local == 0 || local > ROOST_NAME_MAX ||
	    !roost__node_name_valid(at + 1, strlen(at + 1)))
		return -EINVAL;
	memcpy(actor, name, local);
	actor[local] = '\0';
	if (!roost__name_valid(actor))
		return -EINVAL;
	rc = call_gateway(ctx, ROOST__KIND_WHEREIS, name, strlen(name),
	                  ROOST__REMOTE_WHEREIS_MS, &r);
	if (rc < 0)
		return rc;
	if (roost_msg_size(r) != sizeof(id))
		return ROOST_EPROTO;
	memcpy(&id, roost_msg_data(r), sizeof(id));
	if (roost_aid_gen((roost_aid_t){id}) == 0)
		return ROOST_EPROTO; /* node 0: "name@" this very node */
	out->id = id;
	return 0;
}

int
roost__remote_monitor(roost_ctx_t *ctx, roost_aid_t target, uint64_t *ref)
{
	roost_msg_t *r;
	uint64_t v;
	int rc;

	rc = call_gateway(ctx, ROOST__KIND_MONITOR, &target.id,
	                  sizeof(target.id), ROOST_ROOSTD_TIMEOUT_MS, &r);
	if (rc < 0)
		return rc;
	if (roost_msg_size(r) != sizeof(v))
		return ROOST_EPROTO;
	memcpy(&v, roost_msg_data(r), sizeof(v));
	if (!ROOST__REF_IS_REMOTE(v))
		return ROOST_EPROTO;
	if (ref != NULL)
		*ref = v;
	return 0;
}

int
roost__remote_demonitor(roost_ctx_t *ctx, uint64_t ref)
{
	roost_msg_t *r;

	return call_gateway(ctx, ROOST__KIND_DEMONITOR, &ref, sizeof(ref),
	                    ROOST_ROOSTD_TIMEOUT_MS, &r);
}

int
roost__remote_link(roost_ctx_t *ctx, uint32_t kind, roost_aid_t peer)
{
	roost_msg_t *r;

	return call_gateway(ctx, kind, &peer.id, sizeof(peer.id),
	                    ROOST_ROOSTD_TIMEOUT_MS, &r);
}
