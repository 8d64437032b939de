/* SPDX-License-Identifier: MIT */
/*
 * actors.c - `roostctl ls --node NODE`: a node's actors, asked of its
 * gateway (docs/distribution.md). The caller calls its own gateway
 * (gateway.actors, the node's name as payload); that gateway asks the
 * node with an ACTORS frame, and the node's gateway answers with a LIST
 * frame read from its system's view:
 *
 *   {"node": NAME, "truncated": bool,
 *    "actors": [{"name", "aid", "pid", "state", "queued"}, ...]}
 *
 * ("aid" with the node's bits). The ACTORS frame's kind holds the
 * caller's max_message: the list stops before the answer would pass it
 * or the server's max_payload ("truncated" then says so).
 */
#include "gw.h"

#include <msgpack.h>

#include "roost/view.h"

/* Room for the map around the list. */
#define GW_LIST_HEAD 64u

struct list_walk {
	msgpack_sbuffer lw_items;
	msgpack_packer lw_pk;
	uint64_t lw_node_bits;
	size_t lw_max;            /* bytes the items may take */
	uint32_t lw_n;
	bool lw_truncated;
};

static void
pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

static int
pack_actor(void *arg, const roost_actor_info_t *a)
{
	struct list_walk *w = arg;
	size_t before = w->lw_items.size;

	msgpack_pack_map(&w->lw_pk, 5);
	pack_str(&w->lw_pk, "name");
	pack_str(&w->lw_pk, a->name);
	pack_str(&w->lw_pk, "aid");
	msgpack_pack_uint64(&w->lw_pk, a->aid.id | w->lw_node_bits);
	pack_str(&w->lw_pk, "pid");
	msgpack_pack_int32(&w->lw_pk, a->pid);
	pack_str(&w->lw_pk, "state");
	pack_str(&w->lw_pk, roost_actor_state_name(a->state));
	pack_str(&w->lw_pk, "queued");
	msgpack_pack_uint32(&w->lw_pk, a->mbox_err == 0 ? a->mbox.queued : 0);
	if (w->lw_items.size > w->lw_max) {
		w->lw_items.size = before; /* drop it: no room */
		w->lw_truncated = true;
		return 1;
	}
	w->lw_n++;
	return 0;
}

/* This node's actors as the map above, at most 'max' bytes, into 'out'
 * (the caller destroys it). 0, -EMSGSIZE for no room, or the view's
 * error. */
static int
list_actors(struct gw *gw, size_t max, msgpack_sbuffer *out)
{
	struct list_walk w = {
		.lw_node_bits = (uint64_t)gw->gw_conf->gw_node_id << 16,
		.lw_max = max - GW_LIST_HEAD};
	msgpack_packer pk;
	roost_view_t *v;
	int rc;

	if (max < 2 * GW_LIST_HEAD)
		return -EMSGSIZE;
	rc = roost_view_open(&v, NULL); /* $ROOST_SYSTEM: roostd set it */
	if (rc < 0)
		return rc;
	msgpack_sbuffer_init(&w.lw_items);
	msgpack_packer_init(&w.lw_pk, &w.lw_items, msgpack_sbuffer_write);
	rc = roost_view_actors(v, pack_actor, &w);
	roost_view_close(v);
	if (rc >= 0) {
		msgpack_sbuffer_init(out);
		msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
		msgpack_pack_map(&pk, 3);
		pack_str(&pk, "node");
		pack_str(&pk, gw->gw_conf->gw_node);
		pack_str(&pk, "truncated");
		if (w.lw_truncated)
			msgpack_pack_true(&pk);
		else
			msgpack_pack_false(&pk);
		pack_str(&pk, "actors");
		msgpack_pack_array(&pk, w.lw_n);
		msgpack_sbuffer_write(out, w.lw_items.data, w.lw_items.size);
	}
	msgpack_sbuffer_destroy(&w.lw_items);
	return rc < 0 ? rc : 0;
}

void
gw_actors_request(struct gw *gw, const roost_msg_t *m)
{
	char node[ROOST__NODE_NAME_MAX + 1];
	struct gw_frame f = {.fr_type = GW_ACTORS};
	msgpack_sbuffer sb;
	size_t n = roost_msg_size(m);
	int rc = -EINVAL;

	if (n == 0 || n >= sizeof(node) || roost_msg_corr(m) == 0)
		goto out;
	memcpy(node, roost_msg_data(m), n);
	node[n] = '\0';
	if (!roost__node_name_valid(node, n))
		goto out;
	if (strcmp(node, gw->gw_conf->gw_node) == 0) {
		rc = list_actors(gw, gw->gw_cfg.rc_sys.max_msg, &sb);
		if (rc < 0)
			goto out;
		(void)roost_send_ex(gw->gw_ctx, roost_msg_from(m),
		                    ROOST__KIND_REPLY,
		                    ROOST_SEND_SYSTEM | ROOST_SEND_MSGPACK |
		                            ROOST__SEND_REPLY,
		                    roost_msg_corr(m), sb.data, sb.size,
		                    GW_ANSWER_MS);
		msgpack_sbuffer_destroy(&sb);
		return;
	}
	f.fr_kind = gw->gw_cfg.rc_sys.max_msg; /* room for the answer */
	rc = gw_ask_node(gw, m, node, &f);
out:
	if (rc < 0)
		gw_answer_error(gw, m, gw->gw_self.id, rc);
}

int
gw_actors_answer(struct gw *gw, const struct gw_frame *req)
{
	struct gw_frame r = {
		.fr_type = GW_LIST, .fr_flags = GW_F_REPLY | GW_F_MSGPACK,
		.fr_to = req->fr_from, .fr_corr = req->fr_corr,
		.fr_from = gw->gw_self.id |
		           ((uint64_t)gw->gw_conf->gw_node_id << 16)};
	msgpack_sbuffer sb;
	uint8_t *buf;
	char name[32];
	char subject[GW_SUBJECT_MAX];
	size_t max = req->fr_kind;
	bool up;
	int rc;

	if ((int64_t)max > gw->gw_max_payload - GW_WIRE_HEAD)
		max = (size_t)(gw->gw_max_payload - GW_WIRE_HEAD);
	rc = list_actors(gw, max, &sb);
	if (rc < 0)
		return rc;
	r.fr_data = (const uint8_t *)sb.data;
	r.fr_size = (uint32_t)sb.size;
	buf = malloc(GW_WIRE_HEAD + sb.size);
	rc = buf == NULL ? -ENOMEM
	     : gw_nodes_by_id(&gw->gw_nodes,
	                      roost_aid_node((roost_aid_t){req->fr_from}),
	                      gw_now_ns(), name, &up);
	if (rc == 0) {
		gw_subject(gw, name, true, subject, sizeof(subject));
		rc = gw_publish(gw, subject, &r, buf, GW_WIRE_HEAD + sb.size);
	}
	free(buf);
	msgpack_sbuffer_destroy(&sb);
	return rc;
}
