/* SPDX-License-Identifier: MIT */
/*
 * sup_table.c - reading roostd's supervisor table (restarts, exit reasons,
 * dead letters), with its seqlock (tag-sup-seq).
 */
#include "core/view/view_impl.h"

#include <stdio.h>

/* Seqlock reads of a supervisor entry before giving up on it. */
#define SUP_READ_RETRIES 200

static int
sup_shm_name(char *buf, size_t len, const char *system)
{
	char base[ROOST_SHM_NAME_MAX];
	int rc = roost__sys_shm_name(base, sizeof(base), system);
	int n;

	if (rc < 0)
		return rc;
	n = snprintf(buf, len, "%s%s", base, ROOST_SUP_SUFFIX);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* Map and validate roostd's table; sm_ok false if there is none or it
 * fails validation (the view then simply knows less). */
void
roost__view_sup_map(roost_view_t *v, struct vw_sup *sm)
{
	const struct roost__sys_fixed *sf = &v->vw_sys.sy_fixed;
	char name[ROOST_SHM_NAME_MAX + 8];
	struct roost__sup_hdr *h;
	struct roost__sup_fixed f;
	uint32_t owner;
	uint64_t want;

	memset(sm, 0, sizeof(*sm));
	want = ROOST_SUP_HDR_SIZE +
	       (uint64_t)sf->sf_nslots * sizeof(struct roost__sup_entry);
	if (sup_shm_name(name, sizeof(name), v->vw_sys.sy_name) < 0 ||
	    roost__plat_seg_open_trust(name, ROOST_SUP_HDR_SIZE, want,
	                               sf->sf_uid, roost__sys_gid(&v->vw_sys),
	                               &sm->sm_seg) < 0)
		return;
	h = sm->sm_seg.sg_base;
	/* Pairs with the release in daemon/status.c. tag-sup-publish */
	if (roost__load_acq(&h->su_state) != ROOST_SEG_READY)
		goto out_unmap;
	memcpy(&f, &h->su_fixed, sizeof(f)); /* trust only f from here */
	if (f.uf_magic != ROOST_SUP_MAGIC ||
	    f.uf_version != ROOST_SUP_VERSION ||
	    f.uf_hdr_size != ROOST_SUP_HDR_SIZE ||
	    f.uf_entry_size != sizeof(struct roost__sup_entry) ||
	    f.uf_nentries != sf->sf_nslots || f.uf_map_size != want ||
	    sm->sm_seg.sg_len != want || f.uf_uid != sf->sf_uid ||
	    memchr(f.uf_name, '\0', sizeof(f.uf_name)) == NULL ||
	    strcmp(f.uf_name, roost__system_owner(v->vw_sys.sy_name,
	                                          &owner)) != 0) {
		ROOST_CORRUPT(); /* logged; the view goes on without it */
		goto out_unmap;
	}
	sm->sm_fixed = f;
	sm->sm_ok = true;
	return;

out_unmap:
	roost__plat_seg_unmap(&sm->sm_seg);
	sm->sm_ok = false;
}

void
roost__view_sup_unmap(struct vw_sup *sm)
{
	roost__plat_seg_unmap(&sm->sm_seg);
	sm->sm_ok = false;
}

uint64_t
roost__view_sup_deadletters(const struct vw_sup *sm)
{
	const struct roost__sup_hdr *h = sm->sm_seg.sg_base;

	/* Relaxed: a display value (shm_format.h). */
	return sm->sm_ok ? roost__load_rlx(&h->su_deadletters) : 0;
}

/* A consistent, validated copy of entry 'slot', or false. */
bool
roost__view_sup_entry(const struct vw_sup *sm, uint32_t slot, struct roost__sup_entry *e)
{
	const struct roost__sup_entry *s;
	uint32_t seq0;
	uint32_t seq1;
	int tries;

	if (!sm->sm_ok || slot >= sm->sm_fixed.uf_nentries)
		return false;
	s = (const struct roost__sup_entry *)((const uint8_t *)
	                                          sm->sm_seg.sg_base +
	                                      ROOST_SUP_HDR_SIZE) +
	    slot;
	for (tries = 0; tries < SUP_READ_RETRIES; tries++) {
		/* Pairs with the release that ends a write in status.c.
		 * tag-sup-seq */
		seq0 = roost__load_acq(&s->se_seq);
		if (seq0 & 1u) {
			roost__cpu_relax();
			continue;
		}
		/* The seqlock makes this racy copy safe to use: it is kept
		 * only if se_seq did not move. */
		memcpy((uint8_t *)e + sizeof(e->se_seq),
		       (const uint8_t *)s + sizeof(s->se_seq),
		       sizeof(*e) - sizeof(e->se_seq));
		atomic_thread_fence(memory_order_acquire);
		seq1 = roost__load_rlx(&s->se_seq);
		if (seq0 == seq1)
			goto check;
	}
	return false; /* roostd died mid-write, or keeps writing */
check:
	e->se_group_name[sizeof(e->se_group_name) - 1] = '\0';
	e->se_last_reason[sizeof(e->se_last_reason) - 1] = '\0';
	if (e->se_state > ROOST_SUP_GONE ||
	    e->se_restart > ROOST_RESTART_TEMPORARY ||
	    (e->se_flags & ~ROOST_SUP_F_KNOWN) != 0) {
		ROOST_CORRUPT();
		return false;
	}
	return e->se_state != ROOST_SUP_NONE;
}
