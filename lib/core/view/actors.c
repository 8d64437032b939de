/* SPDX-License-Identifier: MIT */
/*
 * actors.c - the actor table and mailbox headers as tools see them:
 * roost_view_actors, roost_view_actor, roost_view_find.
 */
#include "core/view/view_impl.h"

#include <stdio.h>

/*
 * Validate a mapping of (at least) a mailbox header for slot 'slot',
 * generation 'gen', and fill the parts of 'mb' that counters need. The
 * rings are not mapped, so only the fixed header's own claims about
 * them are checked (roost__mbox_attach checks them against the file).
 */
static int
hdr_attach(struct roost__mbox *mb, struct roost__seg seg, uint32_t slot,
           uint32_t gen)
{
	struct roost__mbox_fixed f;
	unsigned lane;
	int rc = roost__mbox_check_fixed(seg, slot, gen, false, &f);

	if (rc < 0)
		return rc;
	memset(mb, 0, sizeof(*mb));
	mb->mb_seg = seg;
	mb->mb_hdr = seg.sg_base;
	mb->mb_nlanes = ROOST_NSHARED + f.mf_nprivate;
	for (lane = 0; lane < mb->mb_nlanes; lane++)
		mb->mb_cap[lane] = f.mf_cap[lane];
	mb->mb_slot = slot;
	mb->mb_gen = gen;
	return 0;
}

/* The header of the mailbox of (slot, gen), mapped once and cached. */
static int
peer_hdr(roost_view_t *v, uint32_t slot, uint32_t gen,
         struct roost__mbox **out)
{
	struct vw_peer *p = &v->vw_peers[slot];
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	int rc;

	if (p->pr_gen == gen && gen != 0) {
		*out = &p->pr_mb;
		return 0;
	}
	roost__view_peer_unmap(p);
	rc = roost__mbox_shm_name(shm, sizeof(shm), v->vw_sys.sy_name, slot);
	if (rc < 0)
		return rc;
	rc = roost__plat_seg_open_trust(shm, ROOST_MBOX_HDR_SIZE,
	                                ROOST_MBOX_HDR_SIZE,
	                                v->vw_sys.sy_fixed.sf_uid,
	                                roost__sys_gid(&v->vw_sys), &seg);
	if (rc < 0)
		return rc;
	rc = hdr_attach(&p->pr_mb, seg, slot, gen);
	if (rc == -EAGAIN)
		rc = roost__mbox_unpublished(&v->vw_sys, slot, gen);
	if (rc < 0) {
		roost__plat_seg_unmap(&seg);
		memset(p, 0, sizeof(*p));
		return rc;
	}
	p->pr_gen = gen;
	*out = &p->pr_mb;
	return 0;
}

uint32_t
roost__view_mbox_state(const struct roost__mbox *mb)
{
	uint32_t s = roost__load_acq(&mb->mb_hdr->mh_lock.lk_state);

	/* Anything unknown is shown as closed: it refuses every send. */
	return s <= ROOST_MBOX_CLOSED ? s : ROOST_MBOX_STATE_CLOSED;
}

/* --- actors ------------------------------------------------------------ */

static void
fill_actor(roost_view_t *v, const struct vw_sup *sm, uint32_t slot,
           const struct roost__slot_view *sv, roost_actor_info_t *a)
{
	struct roost__sup_entry e;
	struct roost__mbox *mb = NULL;
	bool have_sup;
	bool alive;
	uint64_t now;

	memset(&e, 0, sizeof(e));
	memset(a, 0, sizeof(*a));
	a->aid = roost__aid_make(slot, sv->sv_gen);
	snprintf(a->name, sizeof(a->name), "%s", sv->sv_name);
	a->pid = sv->sv_pid;
	a->last_status = -1;
	if (sv->sv_flags & ROOST_SLOT_F_SUPERVISED)
		a->flags |= ROOST_ACTOR_F_SUPERVISED;
	have_sup = roost__view_sup_entry(sm, slot, &e) && e.se_gen == sv->sv_gen;
	if (have_sup) {
		a->flags |= ROOST_ACTOR_F_ROOSTD;
		if (e.se_flags & ROOST_SUP_F_DAEMON)
			a->flags |= ROOST_ACTOR_F_DAEMON;
		if (e.se_flags & ROOST_SUP_F_ONESHOT)
			a->flags |= ROOST_ACTOR_F_ONESHOT;
		a->restart = e.se_restart;
		a->restarts = e.se_restarts;
		a->deadletters = e.se_deadletters;
		snprintf(a->group, sizeof(a->group), "%s", e.se_group_name);
		if (e.se_flags & ROOST_SUP_F_EXITED) {
			snprintf(a->last_exit, sizeof(a->last_exit), "%s",
			         e.se_last_reason);
			a->last_status = e.se_last_status;
			a->last_signal = e.se_last_signal;
		}
		now = roost__plat_now_ns();
		if (e.se_started_ns != 0 && now > e.se_started_ns)
			a->uptime_ns = now - e.se_started_ns;
	}
	a->mbox_err = sv->sv_state == ROOST_SLOT_ACTIVE
	                  ? peer_hdr(v, slot, sv->sv_gen, &mb)
	                  : -ENOENT;
	if (a->mbox_err == 0) {
		roost__mbox_stats(mb, &a->mbox);
		a->mbox_state = roost__view_mbox_state(mb);
	}
	alive = roost__view_alive(v, slot, sv->sv_pid, sv->sv_pid_start);
	if (sv->sv_state == ROOST_SLOT_RESERVED)
		a->state = ROOST_ACTOR_STARTING;
	else if (alive && a->mbox_err == 0 &&
	         a->mbox_state == ROOST_MBOX_STATE_STOPPING)
		a->state = ROOST_ACTOR_STOPPING;
	else if (alive)
		a->state = ROOST_ACTOR_RUNNING;
	else if (have_sup && e.se_state != ROOST_SUP_GONE &&
	         !(e.se_flags & (ROOST_SUP_F_KILLED | ROOST_SUP_F_ONESHOT)))
		a->state = ROOST_ACTOR_DOWN;
	else
		a->state = ROOST_ACTOR_DEAD;
	if (!alive)
		a->uptime_ns = 0;
}

int
roost_view_actors(roost_view_t *v, roost_view_actor_fn fn, void *arg)
{
	struct roost__slot_view sv;
	roost_actor_info_t a;
	struct vw_sup sm;
	uint32_t i;
	int n = 0;
	int rc;

	if (v == NULL || fn == NULL)
		return -EINVAL;
	roost__view_sup_map(v, &sm);
	for (i = 0; i < v->vw_sys.sy_fixed.sf_nslots; i++) {
		rc = roost__sys_slot_read(&v->vw_sys, i, &sv);
		if (rc < 0)
			continue; /* never settled: skip it this time */
		if (sv.sv_state != ROOST_SLOT_ACTIVE &&
		    sv.sv_state != ROOST_SLOT_RESERVED) {
			if (v->vw_peers[i].pr_gen != 0)
				roost__view_peer_unmap(&v->vw_peers[i]);
			continue;
		}
		fill_actor(v, &sm, i, &sv, &a);
		n++;
		rc = fn(arg, &a);
		if (rc != 0) {
			n = rc;
			break;
		}
	}
	roost__view_sup_unmap(&sm);
	return n;
}

/* The slot view of a live address, or -ESRCH. */
int
roost__view_slot_of(roost_view_t *v, roost_aid_t aid, struct roost__slot_view *sv)
{
	uint32_t slot = roost_aid_slot(aid);

	if (aid.id == 0 || slot >= v->vw_sys.sy_fixed.sf_nslots ||
	    roost__sys_slot_read(&v->vw_sys, slot, sv) < 0 ||
	    (sv->sv_state != ROOST_SLOT_ACTIVE &&
	     sv->sv_state != ROOST_SLOT_RESERVED) ||
	    sv->sv_gen != roost_aid_gen(aid))
		return -ESRCH;
	return 0;
}

int
roost_view_actor(roost_view_t *v, roost_aid_t aid, roost_actor_info_t *out)
{
	struct roost__slot_view sv;
	struct vw_sup sm;
	int rc;

	if (v == NULL || out == NULL)
		return -EINVAL;
	rc = roost__view_slot_of(v, aid, &sv);
	if (rc < 0)
		return rc;
	roost__view_sup_map(v, &sm);
	fill_actor(v, &sm, roost_aid_slot(aid), &sv, out);
	roost__view_sup_unmap(&sm);
	return 0;
}

/* "SLOT.GEN" with both in range, or false. */
static bool
parse_address(const char *s, roost_aid_t *out)
{
	unsigned long long slot;
	unsigned long long gen;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	slot = strtoull(s, &end, 10);
	if (errno != 0 || *end != '.' || slot > UINT32_MAX)
		return false;
	s = end + 1;
	if (*s < '0' || *s > '9')
		return false;
	gen = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || gen == 0 || gen > UINT32_MAX)
		return false;
	*out = roost__aid_make((uint32_t)slot, (uint32_t)gen);
	return true;
}

int
roost_view_find(roost_view_t *v, const char *spec, roost_aid_t *out)
{
	struct roost__slot_view sv;
	roost_aid_t aid;
	bool force = false;
	uint32_t i;

	if (v == NULL || spec == NULL || out == NULL || *spec == '\0')
		return -EINVAL;
	if (spec[0] == '@') {
		force = true;
		spec++;
	}
	if (!force && roost__name_valid(spec)) {
		for (i = 0; i < v->vw_sys.sy_fixed.sf_nslots; i++) {
			if (roost__sys_slot_read(&v->vw_sys, i, &sv) == 0 &&
			    sv.sv_state == ROOST_SLOT_ACTIVE &&
			    strcmp(sv.sv_name, spec) == 0) {
				*out = roost__aid_make(i, sv.sv_gen);
				return 0;
			}
		}
	}
	if (!parse_address(spec, &aid))
		return force || !roost__name_valid(spec) ? -EINVAL : -ENOENT;
	if (roost__view_slot_of(v, aid, &sv) < 0)
		return -ESRCH;
	*out = aid;
	return 0;
}

/* --- kind names -------------------------------------------------------- */
