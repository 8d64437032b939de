/* SPDX-License-Identifier: MIT */
/*
 * monitors.c - monitors and links across nodes (monitors.h). Every
 * function runs in the forwarding loop.
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

/* The notice kind of a watch: EXIT for a link, DOWN for a monitor. */
static uint32_t
notice_kind(bool link)
{
	return link ? ROOST_KIND_EXIT : ROOST_KIND_DOWN;
}

/* Hand local watcher 'to' a DOWN or EXIT notice. */
static void
notify(struct gw *gw, uint64_t to, uint32_t kind, const void *data,
       size_t size)
{
	struct roost__out o = {
		.o_from = gw->gw_self.id, .o_kind = kind,
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

/* A new ref: bit 63 set (roostd's never have it), the node id above
 * the count, so refs of different nodes never meet in one table. */
static uint64_t
new_ref(struct gw *gw)
{
	return ROOST__REF_REMOTE |
	       ((uint64_t)gw->gw_conf->gw_node_id << 40) |
	       (++gw->gw_mons.mo_next_ref & ((1ull << 40) - 1));
}

/* Send the target's node MONITOR (a link: GW_F_LINK) for local
 * 'watcher', and keep the watch. 0, or the error for the caller. */
static int
watch_remote(struct gw *gw, uint64_t watcher, uint64_t target, bool link,
             uint64_t *ref)
{
	struct gw_monitors *mo = &gw->gw_mons;
	char subject[GW_SUBJECT_MAX];
	struct gw_frame f = {.fr_type = GW_MONITOR,
	                     .fr_flags = link ? GW_F_LINK : 0};
	int rc;

	if (mo->mo_nwatch == GW_MONITORS_MAX ||
	    (link && mo->mo_nwatched == GW_MONITORS_MAX))
		return -ENOSPC;
	rc = gw_route(gw, roost_aid_node((roost_aid_t){target}), true,
	              subject, sizeof(subject));
	if (rc < 0)
		return rc;
	*ref = new_ref(gw);
	f.fr_to = target;
	f.fr_from = watcher | ((uint64_t)gw->gw_conf->gw_node_id << 16);
	f.fr_corr = *ref;
	rc = gw_publish(gw, subject, &f, gw->gw_out_buf, gw->gw_out_cap);
	if (rc < 0)
		return rc;
	mo->mo_watch[mo->mo_nwatch++] = (struct gw_watch){
		*ref, watcher, target, link};
	return 0;
}

void
gw_monitor_request(struct gw *gw, const roost_msg_t *m)
{
	uint64_t target;
	uint64_t ref;
	int rc = -EINVAL;

	if (roost_msg_size(m) == sizeof(target) && roost_msg_corr(m) != 0) {
		memcpy(&target, roost_msg_data(m), sizeof(target));
		rc = watch_remote(gw, roost_msg_from(m).id, target, false, &ref);
	}
	if (rc == 0)
		answer(gw, m, &ref, sizeof(ref));
	else
		gw_answer_error(gw, m, gw->gw_self.id, rc);
}

/* Our actor 'local' (linked to 'remote' under 'ref'): roostd watches it
 * for this gateway, so its end goes to the other side as EXIT. One that
 * is not roostd's actor is linked one way (its end is never reported,
 * as for a local link). */
static void
watch_local(struct gw *gw, uint64_t local, uint64_t remote, uint64_t ref)
{
	struct gw_monitors *mo = &gw->gw_mons;
	uint64_t lref;

	if (roost_monitor(gw->gw_ctx, (roost_aid_t){local}, &lref) < 0)
		return;
	mo->mo_watched[mo->mo_nwatched++] = (struct gw_watched){
		lref, ref, remote,
		local | ((uint64_t)gw->gw_conf->gw_node_id << 16), true};
}

/* roost_link() of another node's actor: a watch of it, MONITOR with
 * GW_F_LINK to its node, and roostd's watch of the caller. */
void
gw_link_request(struct gw *gw, const roost_msg_t *m)
{
	uint64_t target;
	uint64_t ref;
	int rc = -EINVAL;

	if (roost_msg_size(m) == sizeof(target) && roost_msg_corr(m) != 0) {
		memcpy(&target, roost_msg_data(m), sizeof(target));
		rc = watch_remote(gw, roost_msg_from(m).id, target, true, &ref);
	}
	if (rc < 0) {
		gw_answer_error(gw, m, gw->gw_self.id, rc);
		return;
	}
	watch_local(gw, roost_msg_from(m).id, target, ref);
	answer(gw, m, NULL, 0);
}

/* Drop the link entries under 'ref' (the link ended or was undone). */
static void
drop_link(struct gw *gw, uint64_t ref)
{
	struct gw_monitors *mo = &gw->gw_mons;
	int i = 0;

	while (i < mo->mo_nwatch) {
		if (mo->mo_watch[i].wa_link && mo->mo_watch[i].wa_ref == ref)
			mo->mo_watch[i] = mo->mo_watch[--mo->mo_nwatch];
		else
			i++;
	}
	i = 0;
	while (i < mo->mo_nwatched) {
		if (mo->mo_watched[i].wd_link &&
		    mo->mo_watched[i].wd_their_ref == ref) {
			(void)roost_demonitor(gw->gw_ctx, mo->mo_watched[i].wd_ref);
			mo->mo_watched[i] = mo->mo_watched[--mo->mo_nwatched];
		} else {
			i++;
		}
	}
}

/* roost_unlink() of another node's actor: both sides forget the link
 * (an UNLINK frame to the other; an EXIT already on its way finds no
 * link and is dropped). */
void
gw_unlink_request(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	char subject[GW_SUBJECT_MAX];
	struct gw_frame f = {.fr_type = GW_UNLINK};
	uint64_t target;

	if (roost_msg_size(m) == sizeof(target)) {
		memcpy(&target, roost_msg_data(m), sizeof(target));
		for (int i = 0; i < mo->mo_nwatch; i++) {
			struct gw_watch w = mo->mo_watch[i];

			if (!w.wa_link || w.wa_watcher != roost_msg_from(m).id ||
			    w.wa_target != target)
				continue;
			f.fr_to = target;
			f.fr_from = w.wa_watcher |
			            ((uint64_t)gw->gw_conf->gw_node_id << 16);
			f.fr_corr = w.wa_ref;
			if (gw_route(gw, roost_aid_node((roost_aid_t){target}),
			             true, subject, sizeof(subject)) == 0)
				(void)gw_publish(gw, subject, &f, gw->gw_out_buf,
				                 gw->gw_out_cap);
			drop_link(gw, w.wa_ref);
			break;
		}
	}
	answer(gw, m, NULL, 0);
}

/* UNLINK from another node: only a link of the sending actor's. */
void
gw_unlink_remote(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;

	for (int i = 0; i < mo->mo_nwatch; i++) {
		if (mo->mo_watch[i].wa_link &&
		    mo->mo_watch[i].wa_ref == roost_msg_corr(m) &&
		    mo->mo_watch[i].wa_target == roost_msg_from(m).id) {
			drop_link(gw, roost_msg_corr(m));
			return;
		}
	}
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

/* A DOWN frame (EXIT for a link) for ref 'ref' from 'target' to
 * publish to 'watcher'. */
static void
publish_down(struct gw *gw, uint64_t watcher, uint64_t target, uint64_t ref,
             bool link, const msgpack_sbuffer *sb)
{
	char subject[GW_SUBJECT_MAX];
	struct gw_frame f = {
		.fr_type = GW_DOWN, .fr_flags = GW_F_MSGPACK | GW_F_SYSTEM,
		.fr_to = watcher, .fr_from = target, .fr_corr = ref,
		.fr_kind = notice_kind(link), .fr_data = (const uint8_t *)sb->data,
		.fr_size = (uint32_t)sb->size};
	int rc;

	rc = gw_route(gw, roost_aid_node((roost_aid_t){watcher}), true, subject,
	              sizeof(subject));
	if (rc == 0)
		rc = gw_publish(gw, subject, &f, gw->gw_out_buf, gw->gw_out_cap);
	if (rc < 0)
		atomic_fetch_add(&gw->gw_dropped, 1);
}

/* MONITOR (or LINK) from another node (inbound.c hands it here): ask
 * roostd to watch our actor for this gateway; for a link, also keep a
 * watch of the remote actor for ours. A target that does not exist is
 * answered at once with DOWN (EXIT), reason "lost". */
static void
watched_request(struct gw *gw, const roost_msg_t *m, bool link)
{
	struct gw_monitors *mo = &gw->gw_mons;
	roost_notice_t n = {.status = -1, .reason = ROOST_EXIT_LOST};
	msgpack_sbuffer sb;
	uint64_t watcher = roost_msg_from(m).id;
	uint64_t their_ref = roost_msg_corr(m);
	uint64_t target;
	uint64_t ref;
	int rc;

	if (roost_msg_size(m) != sizeof(target))
		return;
	memcpy(&target, roost_msg_data(m), sizeof(target));
	rc = mo->mo_nwatched == GW_MONITORS_MAX ||
	     (link && mo->mo_nwatch == GW_MONITORS_MAX)
	     ? -ENOSPC
	     : roost_monitor(gw->gw_ctx,
	                     (roost_aid_t){target & ~GW_NODE_MASK}, &ref);
	if (rc == 0)
		mo->mo_watched[mo->mo_nwatched++] = (struct gw_watched){
			ref, their_ref, watcher, target, link};
	if (link && (rc == 0 || rc == -EPERM)) {
		/* Not roostd's actor: linked one way, as locally. */
		mo->mo_watch[mo->mo_nwatch++] = (struct gw_watch){
			their_ref, target & ~GW_NODE_MASK, watcher, true};
		return;
	}
	if (rc == 0)
		return;
	n.aid.id = target;
	n.ref = link ? 0 : their_ref;
	pack_notice(&sb, &n);
	publish_down(gw, watcher, target, their_ref, link, &sb);
	msgpack_sbuffer_destroy(&sb);
}

void
gw_monitor_remote(struct gw *gw, const roost_msg_t *m)
{
	watched_request(gw, m, false);
}

void
gw_link_remote(struct gw *gw, const roost_msg_t *m)
{
	watched_request(gw, m, true);
}

/* roostd's DOWN about an actor another node watches: sent on, with the
 * address and ref that node knows. */
void
gw_down_local(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	struct gw_watched w;
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
	w = mo->mo_watched[i];
	n.aid.id = w.wd_target;
	n.ref = w.wd_link ? 0 : w.wd_their_ref;
	pack_notice(&sb, &n);
	publish_down(gw, w.wd_watcher, n.aid.id, w.wd_their_ref, w.wd_link,
	             &sb);
	msgpack_sbuffer_destroy(&sb);
	if (n.restarting)
		return;
	if (w.wd_link)
		drop_link(gw, w.wd_their_ref); /* both ways: the link ended */
	else
		mo->mo_watched[i] = mo->mo_watched[--mo->mo_nwatched];
}

/* A DOWN or EXIT frame from another node (inbound.c hands it here): to
 * the watcher, if the watch is still there. A monitor's notice carries
 * the ref; a link's carries 0 (as roostd's EXIT). */
void
gw_down_remote(struct gw *gw, const roost_msg_t *m)
{
	struct gw_monitors *mo = &gw->gw_mons;
	bool link = roost_msg_kind(m) == ROOST_KIND_EXIT;
	uint64_t ref = roost_msg_corr(m);
	roost_notice_t n;
	int i;

	if (roost_notice_decode(m, &n) < 0 || n.ref != (link ? 0 : ref))
		return;
	for (i = 0; i < mo->mo_nwatch; i++)
		if (mo->mo_watch[i].wa_ref == ref &&
		    mo->mo_watch[i].wa_link == link &&
		    mo->mo_watch[i].wa_target == roost_msg_from(m).id)
			break;
	if (i == mo->mo_nwatch)
		return; /* demonitored or unlinked since */
	notify(gw, mo->mo_watch[i].wa_watcher, roost_msg_kind(m),
	       roost_msg_data(m), roost_msg_size(m));
	if (n.restarting)
		return;
	if (link)
		drop_link(gw, ref);
	else
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
		n.ref = w.wa_link ? 0 : w.wa_ref;
		pack_notice(&sb, &n);
		notify(gw, w.wa_watcher, notice_kind(w.wa_link), sb.data,
		       sb.size);
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
