/* SPDX-License-Identifier: MIT */
/*
 * monitors.c - monitors across nodes (monitors.h). Every function runs
 * in the forwarding loop.
 */
#include "gw.h"

#include <msgpack.h>

/* A DOWN notice as roostd writes them (include/roost.h,
 * roost_notice_decode), into 'sb' (the caller destroys it). */
static void
pack_notice(msgpack_sbuffer *sb, const roost_notice_t *n)
{
	msgpack_packer pk;
	const char *reason = roost_exit_reason_name(n->reason);

	msgpack_sbuffer_init(sb);
	msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, 8);
	msgpack_pack_str_with_body(&pk, "aid", 3);
	msgpack_pack_uint64(&pk, n->aid.id);
	msgpack_pack_str_with_body(&pk, "ref", 3);
	msgpack_pack_uint64(&pk, n->ref);
	msgpack_pack_str_with_body(&pk, "name", 4);
	msgpack_pack_str_with_body(&pk, n->name, strlen(n->name));
	msgpack_pack_str_with_body(&pk, "reason", 6);
	msgpack_pack_str_with_body(&pk, reason, strlen(reason));
	msgpack_pack_str_with_body(&pk, "pid", 3);
	msgpack_pack_int64(&pk, n->pid);
	msgpack_pack_str_with_body(&pk, "status", 6);
	msgpack_pack_int64(&pk, n->status);
	msgpack_pack_str_with_body(&pk, "signal", 6);
	msgpack_pack_int64(&pk, n->signal);
	msgpack_pack_str_with_body(&pk, "restarting", 10);
	if (n->restarting)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
}

/* Hand local watcher 'to' a DOWN notice. */
static void
notify(struct gw *gw, uint64_t to, const void *data, size_t size)
{
	struct roost__out o = {
		.o_from = gw->gw_self.id, .o_kind = ROOST_KIND_DOWN,
		.o_flags = ROOST_REC_MSGPACK, .o_lane = ROOST_LANE_SYS,
		.o_data = data, .o_size = size};

	if (roost__send_as(gw->gw_ctx, (roost_aid_t){to}, &o, 0) < 0)
		atomic_fetch_add(&gw->gw_dropped, 1);
}

static void
answer(struct gw *gw, const roost_msg_t *m, const void *data, size_t size)
{
	struct roost__out o = {
		.o_from = gw->gw_self.id, .o_corr = roost_msg_corr(m),
		.o_kind = ROOST__KIND_REPLY, .o_flags = ROOST_REC_REPLY,
		.o_lane = ROOST_LANE_SYS, .o_data = data, .o_size = size};

	(void)roost__send_as(gw->gw_ctx, roost_msg_from(m), &o, GW_ANSWER_MS);
}

void
gw_monitor_request(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	char subject[GW_SUBJECT_MAX];
	struct gw_frame f = {.fr_type = GW_MONITOR};
	uint64_t target;
	uint64_t ref;
	int rc = -EINVAL;

	if (roost_msg_size(m) != sizeof(target) || roost_msg_corr(m) == 0)
		goto out;
	memcpy(&target, roost_msg_data(m), sizeof(target));
	rc = -ENOSPC;
	if (mo->mo_nwatch == GW_MONITORS_MAX)
		goto out;
	rc = gw_route(gw, roost_aid_node((roost_aid_t){target}), true,
	              subject, sizeof(subject));
	if (rc < 0)
		goto out;
	ref = ROOST__REF_REMOTE | ++mo->mo_next_ref;
	f.fr_to = target;
	f.fr_from = roost_msg_from(m).id |
	            ((uint64_t)gw->gw_conf->gw_node_id << 16);
	f.fr_corr = ref;
	rc = gw_publish(gw, subject, &f, gw->gw_out_buf, gw->gw_out_cap);
	if (rc < 0)
		goto out;
	mo->mo_watch[mo->mo_nwatch++] = (struct gw_watch){
		ref, roost_msg_from(m).id, target};
	answer(gw, m, &ref, sizeof(ref));
	return;
out:
	gw_answer_error(gw, m, gw->gw_self.id, rc);
}

void
gw_demonitor_request(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	uint64_t ref;

	if (roost_msg_size(m) == sizeof(ref)) {
		memcpy(&ref, roost_msg_data(m), sizeof(ref));
		for (int i = 0; i < mo->mo_nwatch; i++) {
			if (mo->mo_watch[i].wa_ref == ref &&
			    mo->mo_watch[i].wa_watcher == roost_msg_from(m).id) {
				mo->mo_watch[i] = mo->mo_watch[--mo->mo_nwatch];
				answer(gw, m, NULL, 0);
				return;
			}
		}
	}
	gw_answer_error(gw, m, gw->gw_self.id, -ENOENT);
}

/* A DOWN frame for ref 'ref' from 'target' to publish to 'watcher'. */
static void
publish_down(struct gw *gw, uint64_t watcher, uint64_t target, uint64_t ref,
             const msgpack_sbuffer *sb)
{
	char subject[GW_SUBJECT_MAX];
	struct gw_frame f = {
		.fr_type = GW_DOWN, .fr_flags = GW_F_MSGPACK | GW_F_SYSTEM,
		.fr_to = watcher, .fr_from = target, .fr_corr = ref,
		.fr_kind = ROOST_KIND_DOWN, .fr_data = (const uint8_t *)sb->data,
		.fr_size = (uint32_t)sb->size};
	int rc;

	rc = gw_route(gw, roost_aid_node((roost_aid_t){watcher}), true, subject,
	              sizeof(subject));
	if (rc == 0)
		rc = gw_publish(gw, subject, &f, gw->gw_out_buf, gw->gw_out_cap);
	if (rc < 0)
		atomic_fetch_add(&gw->gw_dropped, 1);
}

/* MONITOR from another node (inbound.c hands it here): ask roostd to
 * watch our actor for this gateway. A target that does not exist is
 * answered at once with DOWN, reason "lost". */
void
gw_monitor_remote(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	roost_notice_t n = {.status = -1, .reason = ROOST_EXIT_LOST};
	msgpack_sbuffer sb;
	uint64_t target;
	uint64_t ref;
	int rc;

	if (roost_msg_size(m) != sizeof(target))
		return;
	memcpy(&target, roost_msg_data(m), sizeof(target));
	rc = mo->mo_nwatched == GW_MONITORS_MAX ? -ENOSPC
	     : roost_monitor(gw->gw_ctx,
	                     (roost_aid_t){target & ~GW_NODE_MASK}, &ref);
	if (rc == 0) {
		mo->mo_watched[mo->mo_nwatched++] = (struct gw_watched){
			ref, roost_msg_corr(m), roost_msg_from(m).id, target};
		return;
	}
	n.aid.id = target;
	n.ref = roost_msg_corr(m);
	pack_notice(&sb, &n);
	publish_down(gw, roost_msg_from(m).id, target, roost_msg_corr(m), &sb);
	msgpack_sbuffer_destroy(&sb);
}

/* roostd's DOWN about an actor another node watches: sent on, with the
 * address and ref that node knows. */
void
gw_down_local(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	roost_notice_t n;
	msgpack_sbuffer sb;
	int i;

	if (roost_notice_decode(m, &n) < 0)
		return;
	for (i = 0; i < mo->mo_nwatched; i++)
		if (mo->mo_watched[i].wd_ref == n.ref)
			break;
	if (i == mo->mo_nwatched)
		return; /* a monitor of a previous gateway process */
	n.aid.id = mo->mo_watched[i].wd_target;
	n.ref = mo->mo_watched[i].wd_their_ref;
	pack_notice(&sb, &n);
	publish_down(gw, mo->mo_watched[i].wd_watcher, n.aid.id, n.ref, &sb);
	msgpack_sbuffer_destroy(&sb);
	if (!n.restarting)
		mo->mo_watched[i] = mo->mo_watched[--mo->mo_nwatched];
}

/* A DOWN frame from another node (inbound.c hands it here): to the
 * watcher, if the watch is still there. */
void
gw_down_remote(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	roost_notice_t n;
	int i;

	if (roost_notice_decode(m, &n) < 0 || n.ref != roost_msg_corr(m))
		return;
	for (i = 0; i < mo->mo_nwatch; i++)
		if (mo->mo_watch[i].wa_ref == n.ref &&
		    mo->mo_watch[i].wa_target == roost_msg_from(m).id)
			break;
	if (i == mo->mo_nwatch)
		return; /* demonitored since */
	notify(gw, mo->mo_watch[i].wa_watcher, roost_msg_data(m),
	       roost_msg_size(m));
	if (!n.restarting)
		mo->mo_watch[i] = mo->mo_watch[--mo->mo_nwatch];
}

void
gw_monitors_node_lost(struct gw *gw, uint32_t node)
{
	struct gw_monitors *mo = &gw->gw_mons;
	roost_notice_t n = {.status = -1, .reason = ROOST_EXIT_NOCONNECTION};
	msgpack_sbuffer sb;
	int i = 0;

	while (i < mo->mo_nwatch) {
		struct gw_watch w = mo->mo_watch[i];

		if (roost_aid_node((roost_aid_t){w.wa_target}) != node) {
			i++;
			continue;
		}
		n.aid.id = w.wa_target;
		n.ref = w.wa_ref;
		pack_notice(&sb, &n);
		notify(gw, w.wa_watcher, sb.data, sb.size);
		msgpack_sbuffer_destroy(&sb);
		mo->mo_watch[i] = mo->mo_watch[--mo->mo_nwatch];
	}
	i = 0;
	while (i < mo->mo_nwatched) {
		if (roost_aid_node((roost_aid_t){mo->mo_watched[i].wd_watcher}) !=
		    node) {
			i++;
			continue;
		}
		(void)roost_demonitor(gw->gw_ctx, mo->mo_watched[i].wd_ref);
		mo->mo_watched[i] = mo->mo_watched[--mo->mo_nwatched];
	}
}
