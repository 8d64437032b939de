/* SPDX-License-Identifier: MIT */
/*
 * keep.c - the keep table (lib/core/shm/keep_table.h): what only roostd's
 * memory holds, written through to shared memory on every change, so
 * that a roostd killed with SIGKILL leaves it to the next one:
 *
 *   per slot    the actor's restart count, kill/stop flags, the stop
 *               under way, and the spec of an actor started by request
 *   per level   the intensity window (restart times)
 *   watches     monitors and links, one record each
 *   header      the ordered shutdown, once begun; the last reference
 *
 * On adoption the old table is validated record by record: a torn or
 * damaged record is dropped (logged) and cleared, the rest is taken over
 * in place, and this roostd goes on writing the same table.
 *
 * Only roostd's main thread calls these.
 */
#include "rd.h"

#include <stdio.h>
#include <unistd.h>

static_assert(RD_MAX_GROUPS + 1 == ROOST_KEEP_LEVELS, "a record per level");

static struct {
	struct roost__seg kp_seg;
	struct roost__keep_hdr *kp_hdr;
	struct roost__keep_fixed kp_f;   /* validated / written by us */
	struct roost__keep_actor *kp_actors;
	struct roost__keep_level *kp_levels;
	struct roost__keep_watch *kp_watches;
	int32_t *kp_free;                /* free watch records, a stack */
	uint32_t kp_nfree;
	uint32_t kp_shutdown;            /* what kh_shutdown holds */
	bool kp_spec_warned;
} kp;

/* --- writing (tag-keep-seq) ---------------------------------------------- */

/* Write the 'whole' bytes of 'rec' to 'dst', the fields of a record
 * whose sequence word and checksum are 'seq' and 'sum'; the checksum
 * covers the first 'covered' bytes (0: a free record, whose sum is 0). */
static void
rec_write(roost__atomic_u32 *seq, uint32_t *sum, void *dst, const void *rec,
          size_t whole, size_t covered)
{
	uint32_t s = roost__load_rlx(seq) | 1u;

	/* Odd first; the fence orders it before the record's bytes. */
	roost__store_rlx(seq, s);
	atomic_thread_fence(memory_order_release);
	memcpy(dst, rec, whole);
	*sum = covered == 0 ? 0 : roost__keep_sum(rec, covered);
	roost__store_rel(seq, s + 1u);
}

static void
actor_rec_of(const struct rd_child *ch,
             struct roost__keep_actor_rec *r)
{
	const struct rd_spec *sp = &ch->ch_spec;
	bool requested = ch->ch_order == RD_ORDER_REQUESTED && !ch->ch_nospec &&
	                 !ch->ch_oneshot;
	size_t len = 0, n;
	int i;

	memset(r, 0, sizeof(*r));
	r->ka_gen = roost_aid_gen(ch->ch_aid);
	r->ka_flags = ROOST_KEEP_A_USED |
	              (sp->sp_daemon ? ROOST_KEEP_A_DAEMON : 0) |
	              (ch->ch_kill ? ROOST_KEEP_A_KILL : 0) |
	              (ch->ch_stopping ? ROOST_KEEP_A_STOPPING : 0) |
	              (ch->ch_stop_back ? ROOST_KEEP_A_BACK : 0);
	r->ka_restart = (uint8_t)sp->sp_restart;
	/* A strategy restart of this level awaits its stop, or its end. */
	r->ka_level = (int16_t)ch->ch_restart_level;
	if (ch->ch_stop != RD_STOP_NONE) {
		switch (ch->ch_stop_for) {
		case RD_STOP_FOR_RESTART:
			r->ka_stop = ROOST_KEEP_STOP_RESTART;
			if (r->ka_level < 0)
				r->ka_level = (int16_t)ch->ch_group;
			break;
		case RD_STOP_FOR_SHUTDOWN:
			r->ka_stop = ROOST_KEEP_STOP_SHUTDOWN;
			break;
		default:
			r->ka_stop = ROOST_KEEP_STOP_END;
			break;
		}
	}
	r->ka_group = (uint16_t)ch->ch_group;
	r->ka_restarts = ch->ch_restarts;
	r->ka_mbox_bytes = sp->sp_mbox_bytes;
	r->ka_shutdown_ms = sp->sp_shutdown_ms;
	if (!requested || sp->sp_program == NULL)
		return;
	n = strlen(sp->sp_program) + 1;
	for (i = 0; sp->sp_argv[i] != NULL; i++)
		n += strlen(sp->sp_argv[i]) + 1;
	if (n > ROOST_KEEP_SPEC_MAX || i > UINT16_MAX) {
		if (!kp.kp_spec_warned)
			rd_log(RD_ERR, "the spec of %s is longer than %u bytes: "
			       "a roostd that adopts the system will not restart "
			       "it", ch->ch_name[0] ? ch->ch_name : "an actor",
			       ROOST_KEEP_SPEC_MAX);
		kp.kp_spec_warned = true;
		return;
	}
	memcpy(r->ka_spec, sp->sp_program, strlen(sp->sp_program) + 1);
	len = strlen(sp->sp_program) + 1;
	for (i = 0; sp->sp_argv[i] != NULL; i++) {
		memcpy(r->ka_spec + len, sp->sp_argv[i],
		       strlen(sp->sp_argv[i]) + 1);
		len += strlen(sp->sp_argv[i]) + 1;
	}
	r->ka_flags |= ROOST_KEEP_A_SPEC;
	r->ka_argc = (uint16_t)i;
	r->ka_spec_len = (uint16_t)len;
}

void
rd_keep_child(struct rd *rd, const struct rd_child *ch)
{
	struct roost__keep_actor_rec r;
	struct roost__keep_actor *e;
	uint32_t slot = roost_aid_slot(ch->ch_aid);

	if (kp.kp_hdr == NULL || ch->ch_aid.id == 0 ||
	    slot >= kp.kp_f.kf_nslots)
		return;
	if (ch->ch_state == CH_GONE) {
		rd_keep_forget(rd, ch->ch_aid);
		return;
	}
	actor_rec_of(ch, &r);
	e = &kp.kp_actors[slot];
	/* Only a change is written: we are the only writer. */
	if (memcmp(&e->ka_rec, &r, sizeof(r)) == 0)
		return;
	rec_write(&e->ka_seq, &e->ka_sum, &e->ka_rec, &r, sizeof(r),
	          roost__keep_actor_len(&r));
}

void
rd_keep_forget(struct rd *rd, roost_aid_t aid)
{
	static const struct roost__keep_actor_rec zero;
	struct roost__keep_actor *e;
	uint32_t slot = roost_aid_slot(aid);

	(void)rd;
	if (kp.kp_hdr == NULL || aid.id == 0 || slot >= kp.kp_f.kf_nslots)
		return;
	e = &kp.kp_actors[slot];
	if (e->ka_rec.ka_gen != roost_aid_gen(aid))
		return;
	rec_write(&e->ka_seq, &e->ka_sum, &e->ka_rec, &zero, sizeof(zero), 0);
}

void
rd_keep_level(struct rd *rd, int level)
{
	static struct roost__keep_level_rec r; /* 8 KiB: not on the stack */
	const struct rd_level *lv = &rd->rd_levels[level];
	struct roost__keep_level *e;

	if (kp.kp_hdr == NULL || level < 0 || level > RD_MAX_GROUPS ||
	    lv->lv_times == NULL)
		return;
	memset(&r, 0, sizeof(r));
	r.kl_cap = rd->rd_cfg->rc_groups[level].rg_intensity + 1u;
	r.kl_n = lv->lv_n;
	memcpy(r.kl_times, lv->lv_times, r.kl_cap * sizeof(uint64_t));
	e = &kp.kp_levels[level];
	rec_write(&e->kl_seq, &e->kl_sum, &e->kl_rec, &r, sizeof(r),
	          roost__keep_level_len(&r));
}

int
rd_keep_watch_add(uint64_t ref, roost_aid_t a, roost_aid_t b)
{
	struct roost__keep_watch_rec r = {ref, a.id, b.id};
	struct roost__keep_watch *e;
	int32_t i;

	if (kp.kp_hdr == NULL)
		return -1; /* not kept: no table (logged at start) */
	if (kp.kp_nfree == 0)
		return -ENOSPC;
	i = kp.kp_free[--kp.kp_nfree];
	if (ref > roost__load_rlx(&kp.kp_hdr->kh_next_ref))
		roost__store_rlx(&kp.kp_hdr->kh_next_ref, ref);
	e = &kp.kp_watches[i];
	rec_write(&e->kw_seq, &e->kw_sum, &e->kw_rec, &r, sizeof(r), sizeof(r));
	return i;
}

void
rd_keep_watch_free(int rec)
{
	static const struct roost__keep_watch_rec zero;
	struct roost__keep_watch *e;

	if (kp.kp_hdr == NULL || rec < 0 || (uint32_t)rec >= kp.kp_f.kf_nwatches)
		return;
	e = &kp.kp_watches[rec];
	rec_write(&e->kw_seq, &e->kw_sum, &e->kw_rec, &zero, sizeof(zero), 0);
	kp.kp_free[kp.kp_nfree++] = rec;
}

void
rd_keep_shutdown(struct rd *rd)
{
	uint32_t v = rd->rd_exit ? ROOST_KEEP_SHUT_FAIL : ROOST_KEEP_SHUT_OK;

	if (kp.kp_hdr == NULL || kp.kp_shutdown == v)
		return;
	/* One word, stored before the first stop of the shutdown. */
	roost__store_rel(&kp.kp_hdr->kh_shutdown, v);
	kp.kp_shutdown = v;
}

/* --- creating, adopting ---------------------------------------------------- */

static int
keep_create(struct rd *rd, const char *name)
{
	const struct roost__sys_fixed *sf = &rd->rd_sy.sy_fixed;
	size_t size = roost__keep_map_size(sf->sf_nslots);
	struct roost__keep_fixed *f;
	uint32_t owner;
	int rc;

	rc = roost__plat_seg_create_gid(name, size, sf->sf_mode,
	                                roost__sys_gid(&rd->rd_sy), &kp.kp_seg);
	if (rc < 0)
		return rc;
	kp.kp_hdr = kp.kp_seg.sg_base;
	f = &kp.kp_hdr->kh_fixed;
	f->kf_magic = ROOST_KEEP_MAGIC;
	f->kf_version = ROOST_KEEP_VERSION;
	f->kf_hdr_size = ROOST_KEEP_HDR_SIZE;
	f->kf_actor_size = sizeof(struct roost__keep_actor);
	f->kf_level_size = sizeof(struct roost__keep_level);
	f->kf_watch_size = sizeof(struct roost__keep_watch);
	f->kf_nslots = sf->sf_nslots;
	f->kf_nlevels = ROOST_KEEP_LEVELS;
	f->kf_nwatches = roost__keep_nwatches(sf->sf_nslots);
	f->kf_uid = (uint32_t)geteuid();
	f->kf_mode = sf->sf_mode;
	f->kf_map_size = size;
	snprintf(f->kf_name, sizeof(f->kf_name), "%s",
	         roost__system_owner(rd->rd_system, &owner));
	kp.kp_f = *f;
	/* Publish; pairs with the acquire in roost__keep_hdr_check(). */
	roost__store_rel(&kp.kp_hdr->kh_state, ROOST_SEG_READY);
	return 0;
}

/* Map the table a dead roostd left and validate its header. */
static int
keep_map_old(struct rd *rd, const char *name)
{
	uint32_t nslots = rd->rd_sy.sy_fixed.sf_nslots;
	int rc;

	rc = roost__plat_seg_open(name, ROOST_KEEP_HDR_SIZE,
	                          roost__keep_map_size(nslots), &kp.kp_seg);
	if (rc < 0)
		return rc;
	rc = roost__keep_hdr_check(&kp.kp_seg, rd->rd_system,
	                           (uint32_t)geteuid(), nslots, &kp.kp_f);
	if (rc < 0) {
		roost__plat_seg_unmap(&kp.kp_seg);
		return rc == -EAGAIN ? ROOST_ECORRUPT : rc;
	}
	kp.kp_hdr = kp.kp_seg.sg_base;
	return 0;
}

/* Dropped records named in the log, per kind; the rest are counted. */
#define AUDIT_LOG_MAX 8

/* What the audit of one kind of record needs. */
struct audit {
	const char *au_what;     /* "the record of slot", ... */
	const char *au_lost;     /* what dropping it costs */
	uint32_t au_dropped;
};

/*
 * The verdict 'v' (a judge's) of record 'i': a dropped record is logged
 * and cleared; a whole one whose writer died before its even store is
 * made even.
 */
static void
audit_one(struct audit *au, uint32_t i, int v, const struct roost__keep_copy *c,
          const char *why, roost__atomic_u32 *seq, uint32_t *sum, void *rec,
          size_t size)
{
	static const struct roost__keep_level_rec zero; /* the largest */

	if (v < 0) {
		if (au->au_dropped++ < AUDIT_LOG_MAX)
			rd_log(RD_ERR, "keep table: %s %u is dropped (%s): %s",
			       au->au_what, i, why, au->au_lost);
		rec_write(seq, sum, rec, &zero, size, 0);
	} else if (c->kc_torn) {
		roost__store_rel(seq, roost__load_rlx(seq) + 1u);
	}
}

static void
audit_end(const struct audit *au)
{
	if (au->au_dropped > AUDIT_LOG_MAX)
		rd_log(RD_ERR, "keep table: %u more like it (%u in all)",
		       au->au_dropped - AUDIT_LOG_MAX, au->au_dropped);
}

/* Judge every record of an adopted table (audit_one). */
static void
keep_audit(void)
{
	static struct roost__keep_copy c; /* 8 KiB */
	struct audit aa = {"the record of slot", "its restart count, flags "
	                   "and spec are lost", 0};
	struct audit al = {"the restart window of level", "it starts empty",
	                   0};
	struct audit aw = {"watch record", "a monitor or link is lost", 0};
	struct roost__keep_actor *ka;
	struct roost__keep_level *kl;
	struct roost__keep_watch *kw;
	uint64_t now = roost__plat_now_ns();
	const char *why = "";
	uint32_t i;
	int v;

	for (i = 0; i < kp.kp_f.kf_nslots; i++) {
		ka = &kp.kp_actors[i];
		roost__keep_actor_copy(ka, &c);
		v = roost__keep_actor_judge(&c, &why);
		audit_one(&aa, i, v, &c, why, &ka->ka_seq, &ka->ka_sum,
		          &ka->ka_rec, sizeof(ka->ka_rec));
	}
	for (i = 0; i < kp.kp_f.kf_nlevels; i++) {
		kl = &kp.kp_levels[i];
		roost__keep_level_copy(kl, &c);
		v = roost__keep_level_judge(&c, now, &why);
		audit_one(&al, i, v, &c, why, &kl->kl_seq, &kl->kl_sum,
		          &kl->kl_rec, sizeof(kl->kl_rec));
	}
	for (i = 0; i < kp.kp_f.kf_nwatches; i++) {
		kw = &kp.kp_watches[i];
		roost__keep_watch_copy(kw, &c);
		v = roost__keep_watch_judge(&c, kp.kp_f.kf_nslots, &why);
		audit_one(&aw, i, v, &c, why, &kw->kw_seq, &kw->kw_sum,
		          &kw->kw_rec, sizeof(kw->kw_rec));
	}
	audit_end(&aa);
	audit_end(&al);
	audit_end(&aw);
}

int
rd_keep_open(struct rd *rd, bool adopt)
{
	char name[ROOST_SHM_NAME_MAX + 8];
	uint32_t i, sh;
	int rc;

	rc = roost__keep_shm_name(name, sizeof(name), rd->rd_system);
	if (rc < 0)
		return rc;
	rc = -ENOENT;
	if (adopt) {
		rc = keep_map_old(rd, name);
		if (rc < 0 && rc != -ENOENT)
			rd_log(RD_ERR, "the keep table failed validation (%s): "
			       "restart counts, intensity windows, specs, "
			       "monitors and links of the previous roostd are "
			       "lost", roost_strerror(rc));
		else if (rc == -ENOENT)
			rd_log(RD_ERR, "the previous roostd left no keep table: "
			       "restart counts, intensity windows, specs, "
			       "monitors and links are lost");
	}
	if (rc < 0) {
		roost__plat_seg_unlink(name);
		rc = keep_create(rd, name);
		if (rc < 0)
			return rc;
		adopt = false;
	}
	kp.kp_actors = roost__keep_actors(kp.kp_seg.sg_base);
	kp.kp_levels = roost__keep_levels(kp.kp_seg.sg_base, &kp.kp_f);
	kp.kp_watches = roost__keep_watches(kp.kp_seg.sg_base, &kp.kp_f);
	kp.kp_free = calloc(kp.kp_f.kf_nwatches, sizeof(*kp.kp_free));
	if (kp.kp_free == NULL) {
		/* No table rather than one whose free stack is missing. */
		rd_keep_close();
		return -ENOMEM;
	}
	if (adopt)
		keep_audit();
	/* Free records, the lowest on top of the stack. */
	for (i = kp.kp_f.kf_nwatches; i-- > 0;)
		if (kp.kp_watches[i].kw_rec.kw_a == 0)
			kp.kp_free[kp.kp_nfree++] = (int32_t)i;
	roost__store_rlx(&kp.kp_hdr->kh_owner_pid, (int32_t)getpid());
	sh = roost__load_acq(&kp.kp_hdr->kh_shutdown);
	if (sh != ROOST_KEEP_SHUT_NONE && sh != ROOST_KEEP_SHUT_OK &&
	    sh != ROOST_KEEP_SHUT_FAIL) {
		rd_log(RD_ERR, "keep table: bad shutdown word 0x%x: ignored "
		       "(no shutdown)", sh);
		roost__store_rel(&kp.kp_hdr->kh_shutdown, ROOST_KEEP_SHUT_NONE);
		sh = ROOST_KEEP_SHUT_NONE;
	}
	kp.kp_shutdown = sh;
	return 0;
}

void
rd_keep_close(void)
{
	roost__plat_seg_unmap(&kp.kp_seg);
	free(kp.kp_free);
	memset(&kp, 0, sizeof(kp));
}

/* --- what an adopter takes over --------------------------------------------- */

bool
rd_keep_shutting_down(int *exit_status)
{
	if (kp.kp_shutdown == ROOST_KEEP_SHUT_NONE)
		return false;
	*exit_status = kp.kp_shutdown == ROOST_KEEP_SHUT_FAIL;
	return true;
}

bool
rd_keep_actor_of(uint32_t slot, uint32_t gen, struct roost__keep_copy *c)
{
	const char *why;

	if (kp.kp_hdr == NULL || slot >= kp.kp_f.kf_nslots)
		return false;
	/* Judged already by keep_audit(): a record is valid or zero. */
	roost__keep_actor_copy(&kp.kp_actors[slot], c);
	return roost__keep_actor_judge(c, &why) == 1 &&
	       c->kc_actor.ka_gen == gen;
}

void
rd_keep_restore_levels(struct rd *rd)
{
	static struct roost__keep_copy c;
	struct rd_level *lv;
	const char *why;
	uint32_t cap;
	int g;

	for (g = 0; kp.kp_hdr != NULL && g < rd->rd_cfg->rc_ngroups; g++) {
		roost__keep_level_copy(&kp.kp_levels[g], &c);
		if (roost__keep_level_judge(&c, roost__plat_now_ns(), &why) != 1)
			continue;
		lv = &rd->rd_levels[g];
		cap = rd->rd_cfg->rc_groups[g].rg_intensity + 1u;
		if (c.kc_level.kl_cap != cap) {
			rd_log(RD_INFO, "keep table: level %d's intensity "
			       "changed: its restart window starts empty", g);
			continue;
		}
		lv->lv_n = c.kc_level.kl_n;
		memcpy(lv->lv_times, c.kc_level.kl_times, cap * sizeof(uint64_t));
	}
}

/* Each kept monitor and link, for notices.c to take back. */
void
rd_keep_restore_watches(struct rd *rd,
                        void (*fn)(struct rd *rd, int rec, uint64_t ref,
                                   roost_aid_t a, roost_aid_t b))
{
	struct roost__keep_watch_rec *r;
	uint64_t top;
	uint32_t i;

	if (kp.kp_hdr == NULL)
		return;
	top = roost__load_rlx(&kp.kp_hdr->kh_next_ref);
	if (top >= ROOST_KEEP_REF_LIMIT) {
		rd_log(RD_ERR, "keep table: bad last monitor reference %llu: "
		       "ignored", (unsigned long long)top);
		top = 0;
	}
	for (i = 0; i < kp.kp_f.kf_nwatches; i++) {
		r = &kp.kp_watches[i].kw_rec;
		if (r->kw_a == 0)
			continue;
		if (r->kw_ref > top)
			top = r->kw_ref;
		fn(rd, (int)i, r->kw_ref, (roost_aid_t){r->kw_a},
		   (roost_aid_t){r->kw_b});
	}
	/* Repaired, or raised past a kept reference: what the next
	 * adopter starts from. */
	roost__store_rlx(&kp.kp_hdr->kh_next_ref, top);
	if (top > rd->rd_next_ref)
		rd->rd_next_ref = top;
}

bool
rd_keep_shutdown_recorded(struct roost__sys *sy, const char *system)
{
	struct roost__keep_fixed f;
	struct roost__seg seg;
	char name[ROOST_SHM_NAME_MAX + 8];
	uint32_t sh = 0;

	if (roost__keep_shm_name(name, sizeof(name), system) < 0 ||
	    roost__plat_seg_open(name, ROOST_KEEP_HDR_SIZE,
	                         roost__keep_map_size(sy->sy_fixed.sf_nslots),
	                         &seg) < 0)
		return false;
	if (roost__keep_hdr_check(&seg, system, (uint32_t)geteuid(), sy->sy_fixed.sf_nslots,
	                          &f) == 0)
		sh = roost__load_acq(&((struct roost__keep_hdr *)seg.sg_base)
		                     ->kh_shutdown);
	roost__plat_seg_unmap(&seg);
	return sh == ROOST_KEEP_SHUT_OK || sh == ROOST_KEEP_SHUT_FAIL;
}
