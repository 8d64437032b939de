/* SPDX-License-Identifier: MIT */
/*
 * status.c - what the gateway tells operators (roostctl nodes): a
 * MessagePack map answering ROOST__KIND_NODES,
 *
 *   {"node": NAME, "id": ID, "connected": bool, "link": TEXT,
 *    "published": N, "delivered": N, "undelivered": N, "bad_frames": N,
 *    "forged": N, "lost_in_flight": N, "window_waits": N, "pending_max_bytes": N,
 *    "nodes": [{"name": NAME, "id": ID, "up": bool,
 *               "last_seen_ms": MS, "rtt_us": US}, ...]}
 *
 * (fields in docs/distribution.md).
 */
#include "gw.h"

#include <msgpack.h>

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str(pk, strlen(s));
	msgpack_pack_str_body(pk, s, strlen(s));
}

static void
pack_u64(msgpack_packer *pk, const char *key, uint64_t v)
{
	pack_str(pk, key);
	msgpack_pack_uint64(pk, v);
}

struct node_walk {
	msgpack_packer *nw_pk;
	uint64_t nw_now;
	uint64_t nw_down_ns;
};

static void
pack_node(void *arg, const struct gw_node *n)
{
	struct node_walk *w = arg;
	uint64_t ago = w->nw_now > n->nd_last_ns ? w->nw_now - n->nd_last_ns
	                                         : 0;

	msgpack_pack_map(w->nw_pk, 5);
	pack_str(w->nw_pk, "name");
	pack_str(w->nw_pk, n->nd_name);
	pack_u64(w->nw_pk, "id", n->nd_id);
	pack_str(w->nw_pk, "up");
	if (ago < w->nw_down_ns)
		msgpack_pack_true(w->nw_pk);
	else
		msgpack_pack_false(w->nw_pk);
	pack_u64(w->nw_pk, "last_seen_ms", ago / 1000000u);
	pack_u64(w->nw_pk, "rtt_us", n->nd_rtt_ns / 1000u);
}

/* The most user-lane bytes libnats has held for delivery at once (the
 * windows bound it: credit.c). */
static uint64_t
pending_max(struct gw *gw)
{
	int msgs = 0;
	int bytes = 0;

	if (gw->gw_sub[1] == NULL ||
	    natsSubscription_GetMaxPending(gw->gw_sub[1], &msgs, &bytes) !=
	            NATS_OK)
		return 0;
	return bytes > 0 ? (uint64_t)bytes : 0;
}

void
gw_answer_nodes(struct gw *gw, const roost_msg_t *m)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	struct node_walk w = {&pk, gw_now_ns(),
	                      (uint64_t)gw->gw_conf->gw_down_after_ms * 1000000u};
	int count = gw_nodes_count(&gw->gw_nodes);

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 13);
	pack_str(&pk, "node");
	pack_str(&pk, gw->gw_conf->gw_node);
	pack_u64(&pk, "id", gw->gw_conf->gw_node_id);
	pack_str(&pk, "connected");
	if (gw_link_ready(gw))
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
	pack_str(&pk, "link");
	pack_str(&pk, gw->gw_link_state);
	pack_u64(&pk, "published", gw->gw_sent);
	pack_u64(&pk, "delivered", gw->gw_received);
	pack_u64(&pk, "undelivered", gw->gw_dropped);
	pack_u64(&pk, "bad_frames", gw->gw_garbage);
	pack_u64(&pk, "forged", gw->gw_forged);
	pack_u64(&pk, "lost_in_flight", gw->gw_lost);
	pack_u64(&pk, "window_waits", gw->gw_window_waits);
	pack_u64(&pk, "pending_max_bytes", pending_max(gw));
	pack_str(&pk, "nodes");
	/* The table may grow between the count and the walk: never past
	 * what the array declares. */
	msgpack_pack_array(&pk, (size_t)count);
	gw_nodes_each(&gw->gw_nodes, count, pack_node, &w);
	(void)roost_send_ex(gw->gw_ctx, roost_msg_from(m), ROOST__KIND_REPLY,
	                    ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK |
	                            ROOST__SEND_REPLY,
	                    roost_msg_corr(m), sb.data, sb.size, GW_ANSWER_MS);
	msgpack_sbuffer_destroy(&sb);
}
