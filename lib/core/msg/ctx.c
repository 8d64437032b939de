/* SPDX-License-Identifier: MIT */
/*
 * ctx.c - opening and closing a context: a slot in the actor table, a new
 * generation, and this process's own mailbox segment.
 */
#include "core/msg/msg.h"

#include <stdlib.h>

void
roost_ctx_opts_init(roost_ctx_opts_t *o)
{
	memset(o, 0, sizeof(*o));
}

int
roost_ctx_opts_from_env(roost_ctx_opts_t *o)
{
	roost_ctx_opts_t n;
	const char *v;
	char *end;
	unsigned long long aid;

	if (o == NULL)
		return -EINVAL;
	n = *o;
	v = getenv("ROOST_SYSTEM");
	if (v != NULL) {
		if (roost__system_resolve(v) != v)
			return -EINVAL;
		n.system = v;
	}
	v = getenv("ROOST_ACTOR");
	if (v != NULL) {
		if (!roost__name_valid(v))
			return -EINVAL;
		n.name = v;
	}
	v = getenv("ROOST_SUPERVISED");
	if (v != NULL) {
		if (strcmp(v, "1") != 0 && strcmp(v, "0") != 0)
			return -EINVAL;
		if (v[0] == '1')
			n.flags |= ROOST_CTX_SUPERVISED;
	}
	v = getenv("ROOST_REATTACH");
	if (v != NULL) {
		errno = 0;
		aid = strtoull(v, &end, 16);
		if (errno != 0 || end == v || *end != '\0' || strlen(v) > 16 ||
		    (aid >> 32) == 0)
			return -EINVAL;
		n.reattach.id = aid;
	}
	v = getenv("ROOST_MBOX_BYTES");
	if (v != NULL) {
		errno = 0;
		aid = strtoull(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || v[0] < '0' ||
		    v[0] > '9' || aid < ROOST_RING_MIN || aid > ROOST_RING_MAX)
			return -EINVAL;
		n.mbox_bytes = (uint32_t)aid;
	}
	*o = n;
	return 0;
}

/*
 * Under the table lock: close the mailbox of a slot whose holder died
 * without closing it, so senders still mapping it get -ESRCH, and remove
 * its segment.
 */
static void
close_orphan(struct roost__sys *sy, uint32_t slot, uint32_t gen)
{
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__mbox mb;

	if (roost__mbox_open(&mb, sy, slot, gen) == 0) {
		roost__mbox_close(&mb);
		roost__mbox_detach(&mb);
	}
	if (roost__mbox_shm_name(shm, sizeof(shm), sy->sy_name, slot) == 0)
		roost__plat_seg_unlink(shm);
}

/* Under the table lock: mark slot 'i' free after its holder died. */
static void
free_dead_slot_locked(struct roost__sys *sy, uint32_t i)
{
	struct roost__slot *s = &sy->sy_slots[i];

	close_orphan(sy, i, roost__load_rlx(&s->sl_gen));
	roost__slot_write_begin(s);
	roost__store_rlx(&s->sl_state, ROOST_SLOT_FREE);
	roost__store_rlx(&s->sl_pid, 0);
	memset(s->sl_name, 0, sizeof(s->sl_name));
	roost__slot_write_end(s);
}

int
roost__sys_release_dead(struct roost__sys *sy, roost_aid_t aid)
{
	uint32_t slot = roost_aid_slot(aid);
	struct roost__slot *s;
	int rc;

	if (slot >= sy->sy_fixed.sf_nslots)
		return -ESRCH;
	rc = roost__sys_lock(sy);
	if (rc < 0)
		return rc;
	s = &sy->sy_slots[slot];
	if (roost__load_rlx(&s->sl_state) == ROOST_SLOT_FREE ||
	    roost__load_rlx(&s->sl_gen) != roost_aid_gen(aid))
		rc = -ESRCH;
	else if (roost__plat_proc_alive(roost__load_rlx(&s->sl_pid),
	                                s->sl_pid_start))
		rc = -EBUSY;
	else
		free_dead_slot_locked(sy, slot);
	roost__sys_unlock(sy);
	return rc;
}

int
roost__name_holder_locked(struct roost__sys *sy, const char *name)
{
	struct roost__slot *s;
	int i = roost__sys_find_name_locked(sy, name);

	if (i < 0)
		return i;
	s = &sy->sy_slots[i];
	/* A supervised actor keeps its name while it waits for a restart. */
	if ((s->sl_flags & ROOST_SLOT_F_SUPERVISED) ||
	    roost__plat_proc_alive(roost__load_rlx(&s->sl_pid),
	                           s->sl_pid_start))
		return i;
	/* The holder died without closing: its name is free again. */
	free_dead_slot_locked(sy, (uint32_t)i);
	return -ENOENT;
}

/* Under the table lock: a free slot, or one whose holder is dead. */
static int
pick_slot_locked(struct roost__sys *sy)
{
	struct roost__slot *s;
	uint32_t i;

	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		if (roost__load_rlx(&sy->sy_slots[i].sl_state) == ROOST_SLOT_FREE)
			return (int)i;
	}
	for (i = 0; i < sy->sy_fixed.sf_nslots; i++) {
		s = &sy->sy_slots[i];
		if (!(s->sl_flags & ROOST_SLOT_F_SUPERVISED) &&
		    !roost__plat_proc_alive(roost__load_rlx(&s->sl_pid),
		                            s->sl_pid_start)) {
			free_dead_slot_locked(sy, i);
			return (int)i;
		}
	}
	return -ENOSPC;
}

static uint32_t
next_gen_locked(struct roost__sys *sy)
{
	uint64_t g = roost__load_rlx(&sy->sy_hdr->sh_gen_counter) + 1;

	if ((uint32_t)g == 0)
		g++; /* generation 0 would make address 0 possible */
	roost__store_rlx(&sy->sy_hdr->sh_gen_counter, g);
	return (uint32_t)g;
}

static uint32_t
slot_flags(const roost_ctx_opts_t *o)
{
	return (o->flags & ROOST_CTX_SUPERVISED) ? ROOST_SLOT_F_SUPERVISED : 0;
}

/* Under the table lock: write slot 's' for us in 'state'. */
static void
write_slot_locked(struct roost__slot *s, uint32_t state, uint32_t gen,
                  uint64_t start, uint32_t user_cap, const char *name,
                  uint32_t flags)
{
	roost__slot_write_begin(s);
	roost__store_rlx(&s->sl_gen, gen);
	roost__store_rlx(&s->sl_pid, (int32_t)roost__plat_pid());
	s->sl_pid_start = start;
	s->sl_mbox_bytes = user_cap;
	s->sl_flags = flags;
	memset(s->sl_name, 0, sizeof(s->sl_name));
	if (name != NULL)
		memcpy(s->sl_name, name, strlen(name));
	roost__store_rlx(&s->sl_state, state);
	roost__slot_write_end(s);
}

/*
 * Under the table lock: reserve a slot (and the name) under a new
 * generation. The slot stays RESERVED, invisible to senders, while the
 * mailbox is created outside the lock: creating and pre-faulting a
 * segment takes milliseconds, and the table lock is shared by every
 * process of the system. A reserver that dies is reclaimed like any dead
 * holder.
 */
static int
reserve_locked(roost_ctx_t *ctx, const roost_ctx_opts_t *o, uint64_t start,
               uint32_t user_cap)
{
	struct roost__sys *sy = &ctx->cx_sys;
	uint32_t gen;
	int slot;

	if (o->name != NULL && roost__name_holder_locked(sy, o->name) >= 0)
		return -EADDRINUSE;
	slot = pick_slot_locked(sy);
	if (slot < 0)
		return slot;
	gen = next_gen_locked(sy);
	write_slot_locked(&sy->sy_slots[slot], ROOST_SLOT_RESERVED, gen, start,
	                  user_cap, o->name, slot_flags(o));
	ctx->cx_slot = (uint32_t)slot;
	ctx->cx_gen = gen;
	ctx->cx_self = roost__aid_make((uint32_t)slot, gen);
	return 0;
}

/* Without the lock: create and format our mailbox in the reserved slot. */
static int
create_mailbox(roost_ctx_t *ctx, uint32_t sys_cap, uint32_t user_cap)
{
	struct roost__sys *sy = &ctx->cx_sys;
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	int rc;

	rc = roost__mbox_shm_name(shm, sizeof(shm), sy->sy_name, ctx->cx_slot);
	if (rc < 0)
		return rc;
	roost__plat_seg_unlink(shm); /* a leftover of a crashed holder */
	rc = roost__plat_seg_create_gid(shm,
	                                roost__mbox_seg_size(sys_cap, user_cap,
	                                                     sy->sy_fixed
	                                                             .sf_nprivate),
	                                sy->sy_fixed.sf_mode, roost__sys_gid(sy),
	                                &seg);
	if (rc < 0)
		return rc;
	rc = roost__mbox_format(&ctx->cx_mbox, seg, ctx->cx_slot, ctx->cx_gen,
	                        sy->sy_fixed.sf_max_msg, sys_cap, user_cap,
	                        sy->sy_fixed.sf_nprivate, false);
	if (rc < 0) {
		roost__plat_seg_unmap(&seg);
		roost__plat_seg_unlink(shm);
	}
	return rc;
}

/* Remove our mailbox's name from /dev/shm (the mapping stays). */
static void
drop_own_segment(roost_ctx_t *ctx)
{
	char shm[ROOST_SHM_NAME_MAX];

	if (roost__mbox_shm_name(shm, sizeof(shm), ctx->cx_sys.sy_name,
	                         ctx->cx_slot) == 0)
		roost__plat_seg_unlink(shm);
}

/*
 * Under the table lock: take over the slot of a supervised actor whose
 * process is gone, keeping its generation (so its address), its mailbox
 * and, unless 'o->name' says otherwise, its name.
 */
static int
reattach_locked(roost_ctx_t *ctx, const roost_ctx_opts_t *o, uint64_t start)
{
	struct roost__sys *sy = &ctx->cx_sys;
	uint32_t slot = roost_aid_slot(o->reattach);
	uint32_t gen = roost_aid_gen(o->reattach);
	struct roost__slot *s;
	int holder;

	if (gen == 0 || slot >= sy->sy_fixed.sf_nslots)
		return -ESRCH;
	s = &sy->sy_slots[slot];
	if (roost__load_rlx(&s->sl_state) != ROOST_SLOT_ACTIVE ||
	    roost__load_rlx(&s->sl_gen) != gen)
		return -ESRCH;
	if (!(s->sl_flags & ROOST_SLOT_F_SUPERVISED))
		return -EPERM;
	if (roost__plat_proc_alive(roost__load_rlx(&s->sl_pid),
	                           s->sl_pid_start))
		return -EBUSY;
	if (o->name != NULL) {
		holder = roost__name_holder_locked(sy, o->name);
		if (holder >= 0 && (uint32_t)holder != slot)
			return -EADDRINUSE;
	}
	roost__slot_write_begin(s);
	roost__store_rlx(&s->sl_pid, (int32_t)roost__plat_pid());
	s->sl_pid_start = start;
	if (o->name != NULL) {
		memset(s->sl_name, 0, sizeof(s->sl_name));
		memcpy(s->sl_name, o->name, strlen(o->name));
	}
	roost__slot_write_end(s);
	ctx->cx_slot = slot;
	ctx->cx_gen = gen;
	ctx->cx_self = o->reattach;
	return 0;
}

/*
 * The mailbox of the slot we just took over is missing or damaged beyond
 * use (a scribbler hit its fixed header, say): give the address a fresh,
 * empty one (tag-replace), so one actor's damage never keeps it from
 * restarting. Its user lane keeps the size the slot records.
 */
static int
fresh_mailbox(roost_ctx_t *ctx)
{
	struct roost__sys *sy = &ctx->cx_sys;
	struct roost__slot_view sv;
	uint32_t user_cap = sy->sy_fixed.sf_mbox_bytes;
	int rc;

	rc = roost__sys_slot_read(sy, ctx->cx_slot, &sv);
	if (rc == 0 &&
	    roost__mbox_ring_size(sv.sv_mbox_bytes) == sv.sv_mbox_bytes)
		user_cap = sv.sv_mbox_bytes;
	return roost__mbox_fresh(&ctx->cx_mbox, sy, ctx->cx_slot, ctx->cx_gen,
	                         user_cap);
}

/* Map the mailbox of the slot we just took over, or make a fresh one. */
static int
map_existing_mailbox(roost_ctx_t *ctx)
{
	int rc = roost__mbox_open(&ctx->cx_mbox, &ctx->cx_sys,
	                          ctx->cx_slot, ctx->cx_gen);

	if (rc == -ENOENT || rc == ROOST_ECORRUPT || rc == ROOST_EVERSION)
		rc = fresh_mailbox(ctx);
	return rc;
}

static int
attach_existing(roost_ctx_t *ctx, const roost_ctx_opts_t *o)
{
	uint64_t start = 0;
	int rc;

	rc = roost__plat_proc_start(roost__plat_pid(), &start);
	if (rc < 0)
		return rc;
	rc = roost__sys_lock(&ctx->cx_sys);
	if (rc < 0)
		return rc;
	rc = reattach_locked(ctx, o, start);
	roost__sys_unlock(&ctx->cx_sys);
	if (rc < 0)
		return rc;
	/* On failure the slot stays supervised under our pid, and is
	 * reattachable again once we exit. */
	return map_existing_mailbox(ctx);
}

/* Reserve a slot, create the mailbox, then publish the slot ACTIVE. On
 * failure the reservation is released. */
static int
attach(roost_ctx_t *ctx, const roost_ctx_opts_t *o)
{
	struct roost__sys *sy = &ctx->cx_sys;
	struct roost__slot *s;
	uint32_t user_cap;
	uint32_t sys_cap;
	uint64_t start = 0;
	int rc;

	user_cap = roost__mbox_ring_size(o->mbox_bytes != 0
	                                         ? o->mbox_bytes
	                                         : sy->sy_fixed.sf_mbox_bytes);
	if (user_cap == 0)
		return -EINVAL;
	sys_cap = roost__mbox_sys_lane_size(sy->sy_fixed.sf_max_msg);
	if (sys_cap == 0)
		return ROOST_CORRUPT(); /* sf_max_msg was validated at open */
	rc = roost__plat_proc_start(roost__plat_pid(), &start);
	if (rc < 0)
		return rc;
	rc = roost__sys_lock(sy);
	if (rc < 0)
		return rc;
	rc = reserve_locked(ctx, o, start, user_cap);
	roost__sys_unlock(sy);
	if (rc < 0)
		return rc;
	rc = create_mailbox(ctx, sys_cap, user_cap);
	if (roost__sys_lock(sy) < 0)
		return rc < 0 ? rc : ROOST_ECORRUPT;
	s = &sy->sy_slots[ctx->cx_slot];
	if (rc == 0 && roost__load_rlx(&s->sl_gen) != ctx->cx_gen) {
		/* Our reservation was taken (we were judged dead?): the
		 * mailbox we made is nobody's. */
		rc = ROOST_EPROTO;
		roost__mbox_close(&ctx->cx_mbox);
		drop_own_segment(ctx);
	}
	if (rc == 0)
		write_slot_locked(s, ROOST_SLOT_ACTIVE, ctx->cx_gen, start,
		                  user_cap, o->name, slot_flags(o));
	else if (roost__load_rlx(&s->sl_gen) == ctx->cx_gen)
		write_slot_locked(s, ROOST_SLOT_FREE, ctx->cx_gen, 0, 0, NULL, 0);
	roost__sys_unlock(sy);
	return rc;
}

int
roost__ctx_open(roost_ctx_t **out, const roost_ctx_opts_t *opts)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	const char *sysname;
	int rc;

	if (out == NULL)
		return -EINVAL;
	if (opts == NULL)
		roost_ctx_opts_init(&o);
	else
		o = *opts;
	sysname = roost__system_resolve(o.system);
	if (sysname == NULL || (o.name != NULL && !roost__name_valid(o.name)) ||
	    (o.flags & ~(uint32_t)ROOST_CTX_SUPERVISED) != 0)
		return -EINVAL;
	ctx = roost__calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return -ENOMEM;
	rc = roost__sys_open(&ctx->cx_sys, sysname);
	if (rc < 0)
		goto out_free;
	ctx->cx_peers = roost__calloc(ctx->cx_sys.sy_fixed.sf_nslots,
	                              sizeof(*ctx->cx_peers));
	if (ctx->cx_peers == NULL) {
		rc = -ENOMEM;
		goto out_sys;
	}
	rc = o.reattach.id != 0 ? attach_existing(ctx, &o) : attach(ctx, &o);
	if (rc < 0)
		goto out_mbox;
	/* Correlation ids grow across incarnations of an address (a clock
	 * seed), so a restarted actor never takes a reply meant for the
	 * process it replaces. */
	ctx->cx_corr = roost__plat_now_ns();
	ctx->cx_corr_seed = ctx->cx_corr;
	rc = roost__mbox_rx_init(&ctx->cx_mbox, &ctx->cx_rx);
	if (rc == ROOST_ECORRUPT && o.reattach.id != 0) {
		/* Heads no owner writes: nothing in it can be trusted. */
		roost__mbox_detach(&ctx->cx_mbox);
		rc = fresh_mailbox(ctx);
		if (rc == 0)
			rc = roost__mbox_rx_init(&ctx->cx_mbox, &ctx->cx_rx);
	}
	if (rc < 0)
		goto out_detach;
	ctx->cx_rx.rx_sys = &ctx->cx_sys;
	if (o.spin_ns != 0)
		ctx->cx_rx.rx_spin_ns = ctx->cx_rx.rx_spin_budget = o.spin_ns;
	*out = ctx;
	return 0;

out_detach:
	roost_ctx_close(ctx);
	return rc;
out_mbox:
	roost__mbox_detach(&ctx->cx_mbox);
	roost__free(ctx->cx_peers);
out_sys:
	roost__sys_close(&ctx->cx_sys);
out_free:
	roost__free(ctx);
	return rc;
}

int
roost_ctx_close(roost_ctx_t *ctx)
{
	struct roost__sys *sy;
	struct roost__slot *s;
	uint32_t i;
	int rc;

	if (ctx == NULL)
		return 0;
	sy = &ctx->cx_sys;
	rc = roost__sys_lock(sy);
	if (rc == 0) {
		s = &sy->sy_slots[ctx->cx_slot];
		/* Only free the slot if it is still ours: a reclaimer may have
		 * judged us dead (it cannot while we live, but check). */
		if (roost__load_rlx(&s->sl_gen) == ctx->cx_gen) {
			roost__slot_write_begin(s);
			roost__store_rlx(&s->sl_state, ROOST_SLOT_FREE);
			roost__store_rlx(&s->sl_pid, 0);
			memset(s->sl_name, 0, sizeof(s->sl_name));
			roost__slot_write_end(s);
			roost__mbox_close(&ctx->cx_mbox);
			drop_own_segment(ctx);
		}
		roost__sys_unlock(sy);
	}
	for (i = 0; i < ctx->cx_peers_end; i++)
		roost__ctx_peer_drop(ctx, i);
	roost__free(ctx->cx_peers);
	roost__free(ctx->cx_reply_buf);
	roost__free(ctx->cx_fwd_buf);
	roost__mbox_detach(&ctx->cx_mbox);
	roost__sys_close(sy);
	roost__free(ctx);
	return rc;
}

roost_aid_t
roost_self(const roost_ctx_t *ctx)
{
	return ctx == NULL ? ROOST_AID_NONE : ctx->cx_self;
}

void
roost_ctx_interrupt(roost_ctx_t *ctx)
{
	if (ctx != NULL)
		roost__mbox_interrupt(&ctx->cx_mbox, &ctx->cx_rx);
}

int
roost_ctx_set_int(roost_ctx_t *ctx, const char *opt, int64_t val)
{
	if (ctx == NULL || opt == NULL)
		return -EINVAL;
	if (strcmp(opt, "spin-ns") == 0) {
		if (val < 0 || val > 1000000000)
			return -EINVAL;
		ctx->cx_rx.rx_spin_ns = ctx->cx_rx.rx_spin_budget = (uint32_t)val;
		return 0;
	}
	return -ENOENT;
}

int
roost_ctx_get_int(roost_ctx_t *ctx, const char *opt, int64_t *val)
{
	if (ctx == NULL || opt == NULL || val == NULL)
		return -EINVAL;
	if (strcmp(opt, "spin-ns") == 0) {
		*val = ctx->cx_rx.rx_spin_ns;
		return 0;
	}
	if (strcmp(opt, "late-replies") == 0) {
		*val = (int64_t)ctx->cx_late_replies;
		return 0;
	}
	if (strcmp(opt, "unhandled") == 0) {
		*val = (int64_t)ctx->cx_unhandled;
		return 0;
	}
	return -ENOENT;
}
