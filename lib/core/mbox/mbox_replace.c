/* SPDX-License-Identifier: MIT */
/*
 * mbox_replace.c - retiring a mailbox segment for a new one of the same
 * name (tag-replace in shm_format.h): when a sender has held the lock for
 * the unblock time (stopped by SIGSTOP, say), or when the segment's fixed
 * header or state word was scribbled, or when a restarted owner finds its
 * mailbox unusable. Only the owner replaces a live mailbox, inside its own
 * receive, so nothing reads the old rings while they are copied.
 *
 * What a seized sender sees: its lock drop finds another word, it waits
 * for the lock again and reads the state. REPLACED with its own crash
 * marker in mh_seized_pos: the fate says whether its record was carried
 * over (the send succeeded) or not (it sends again to the new segment).
 * REPLACED without its marker: nobody saw its record; it sends again. So
 * a send returns 0 exactly when its message is delivered once.
 */
#include "core/mbox/mbox.h"

#include <stdio.h>

/* "/roost.UID.SYSTEM.SLOT~new": where a replacement is built before it
 * is renamed over the mailbox's name. roost_system_destroy removes a
 * leftover with the rest of the system (same prefix). */
static int
temp_name(char *buf, size_t len, const char *real)
{
	int n = snprintf(buf, len, "%s~new", real);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/*
 * Create slot 'slot' generation 'gen''s new segment under the temporary
 * name, format it with its lock held by us, publish it and rename it over
 * the mailbox's name: from here on openers find it and wait on its lock.
 */
static int
make_segment(struct roost__mbox *nb, const struct roost__sys *sy,
             uint32_t slot, uint32_t gen, uint32_t sys_cap, uint32_t user_cap,
             uint32_t nprivate)
{
	char real[ROOST_SHM_NAME_MAX];
	char tmp[ROOST_SHM_NAME_MAX + 8];
	struct roost__seg seg;
	int rc;

	rc = roost__mbox_shm_name(real, sizeof(real), sy->sy_name, slot);
	if (rc == 0)
		rc = temp_name(tmp, sizeof(tmp), real);
	if (rc < 0)
		return rc;
	roost__plat_seg_unlink(tmp); /* a leftover of an owner that died */
	rc = roost__plat_seg_create_gid(tmp,
	                                roost__mbox_seg_size(sys_cap, user_cap,
	                                                     nprivate),
	                                sy->sy_fixed.sf_mode, roost__sys_gid(sy),
	                                &seg);
	if (rc < 0)
		return rc;
	rc = roost__mbox_format(nb, seg, slot, gen, sy->sy_fixed.sf_max_msg,
	                        sys_cap, user_cap, nprivate, true);
	if (rc == 0)
		rc = roost__plat_seg_rename(tmp, real);
	if (rc < 0) {
		roost__plat_seg_unmap(&seg);
		roost__plat_seg_unlink(tmp);
		return rc;
	}
	nb->mb_unblock_ms = roost__sys_unblock_ms(sy);
	return 0;
}

/* Where one lane's copy ended. */
struct lane_copy {
	uint64_t lc_end;      /* old position where the chain ended */
	uint64_t lc_new_tail; /* bytes written to the new lane */
};

/*
 * Copy lane 'lane' of 'ob', from the owner's head along the chain of
 * committed records up to 'end' (the tail; a private lane's mark), to
 * the empty lane of 'nb', keeping order, flags and times; PAD and DONE
 * records are left behind. The message in hand moves with it
 * ('*in_hand' gets its new position). Returns the records that could not
 * be carried (a damaged run before 'end') as 0 or 1.
 */
static uint64_t
copy_lane(const struct roost__mbox *ob, struct roost__mbox *nb,
          const struct roost__rx *rx, unsigned lane, uint64_t end,
          struct lane_copy *lc, uint64_t *in_hand)
{
	uint64_t limit = ob->mb_cap[lane] - ROOST_RING_SLACK;
	uint64_t head = rx->rx_head[lane];
	uint64_t pos = head;
	uint64_t out = 0;
	struct roost__rec r;
	struct roost__rec *dst;

	while (pos != end && pos - head < limit &&
	       roost__mbox_committed(ob, lane, pos)) {
		if (roost__mbox_read_rec(ob, lane, pos, &r) < 0 ||
		    r.rc_len > limit - (pos - head))
			break;
		if (!(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE))) {
			/* The new lane is at least as large and starts
			 * empty at 0, and 'out' <= pos - head < limit, so a
			 * record never straddles its end. */
			dst = roost__mbox_rec_at(nb, lane, out);
			dst->rc_len = r.rc_len;
			dst->rc_flags = r.rc_flags;
			dst->rc_from = r.rc_from;
			dst->rc_corr = r.rc_corr;
			dst->rc_kind = r.rc_kind;
			dst->rc_size = r.rc_size;
			dst->rc_time_ns = r.rc_time_ns;
			memcpy(dst + 1,
			       (const uint8_t *)roost__mbox_rec_at(ob, lane, pos) +
			               ROOST_REC_HDR,
			       r.rc_size);
			/* Published when the lock is dropped; no reader yet. */
			roost__store_rlx(&dst->rc_commit, out + 1);
			if (rx->rx_has_inflight && rx->rx_inflight_lane == lane &&
			    rx->rx_inflight_pos == pos)
				*in_hand = out;
			out += r.rc_len;
		}
		pos += r.rc_len;
	}
	lc->lc_end = pos;
	lc->lc_new_tail = out;
	/* The chain ended before 'end' (a private lane's mark; the tail
	 * senders published, on a shared lane): damage lost a run. */
	if (!roost__lane_private(lane))
		end = roost__load_rlx(&ob->mb_hdr->mh_tail[lane]);
	return end != pos ? 1 : 0;
}

/*
 * The fate of the record the seized holder started at 'start' (its crash
 * marker; tag-replace): before the owner's head, it was consumed already;
 * from the head on, it was carried over if the copied chain went past
 * where it started, else its sender sends it again. A marker outside the
 * lane's last lap is not believed (NONE: the holder sends again).
 */
static uint32_t
seized_fate(const struct roost__mbox *mb, const struct roost__rx *rx,
            unsigned lane, uint64_t start, uint64_t end)
{
	uint64_t head = rx->rx_head[lane];
	uint32_t cap = mb->mb_cap[lane];

	if (start - head < cap)
		return end - head > start - head ? ROOST_FATE_DELIVERED
		                                 : ROOST_FATE_DROPPED;
	if (head - start <= cap)
		return ROOST_FATE_DELIVERED;
	return ROOST_FATE_NONE;
}

/* Where lane 'lane' of 'ob' is copied up to: a private lane's mark; a
 * shared lane's chain, to its end (a seized holder's committed record
 * may lie past the tail it did not store yet). */
static uint64_t
copy_end(const struct roost__mbox *ob, unsigned lane)
{
	if (roost__lane_private(lane))
		return roost__load_rlx(&roost__mbox_plane(ob, lane)->pl_mark);
	return UINT64_MAX; /* never a record position */
}

/* A private lane's claim and counters move with its records, so its
 * sender resumes it after re-opening (FIFO). A stop in progress keeps
 * its marks: nothing after them was copied. */
static void
carry_plane(struct roost__mbox *nb, const struct roost__mbox *ob,
            unsigned lane, uint64_t new_tail)
{
	struct roost__plane *np = roost__mbox_plane(nb, lane);
	struct roost__plane *op = roost__mbox_plane(ob, lane);

	roost__store_rlx(&np->pl_claim_pid, roost__load_rlx(&op->pl_claim_pid));
	roost__store_rlx(&np->pl_claim_start,
	                 roost__load_rlx(&op->pl_claim_start));
	roost__store_rlx(&np->pl_claim_aid, roost__load_rlx(&op->pl_claim_aid));
	roost__store_rlx(&np->pl_enqueued, roost__load_rlx(&op->pl_enqueued));
	roost__store_rlx(&np->pl_bytes_in, roost__load_rlx(&op->pl_bytes_in));
	roost__store_rlx(&np->pl_tail, new_tail);
	roost__store_rlx(&np->pl_mark, new_tail);
	/* The receiver looks where a claim or a record is. */
	if (new_tail != 0 || roost__load_rlx(&op->pl_claim_aid) != 0)
		roost__store_rlx(&nb->mb_hdr->mh_lock.lk_lanes,
		                 roost__load_rlx(&nb->mb_hdr->mh_lock.lk_lanes) |
		                         1u << (lane - ROOST_LANE_PRIV0));
}

/* Carry the counters over, so tools see one mailbox. */
static void
carry_counters(struct roost__mbox_hdr *nh, struct roost__mbox_hdr *oh,
               uint64_t lost)
{
	roost__store_rlx(&nh->mh_enqueued, roost__load_rlx(&oh->mh_enqueued));
	roost__store_rlx(&nh->mh_dequeued, roost__load_rlx(&oh->mh_dequeued));
	roost__store_rlx(&nh->mh_bytes_in, roost__load_rlx(&oh->mh_bytes_in));
	roost__store_rlx(&nh->mh_blocked, roost__load_rlx(&oh->mh_blocked));
	roost__store_rlx(&nh->mh_repaired, roost__load_rlx(&oh->mh_repaired));
	roost__store_rlx(&nh->mh_corrupt, roost__load_rlx(&oh->mh_corrupt));
	roost__store_rlx(&nh->mh_high_water,
	                 roost__load_rlx(&oh->mh_high_water));
	roost__store_rlx(&nh->mh_replaced,
	                 roost__load_rlx(&oh->mh_replaced) + 1);
	roost__store_rlx(&nh->mh_lost, roost__load_rlx(&oh->mh_lost) + lost);
}

/* Wake whoever waits on the retired segment: senders waiting for room
 * or for its lock see REPLACED and re-open. */
static void
wake_old(struct roost__mbox_hdr *oh)
{
	roost__add_rel(&oh->mh_space_seq, 1);
	roost__plat_futex_wake((uint32_t *)&oh->mh_space_seq, INT32_MAX);
}

int
roost__mbox_replace(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *oh = mb->mb_hdr;
	struct roost__mbox_hdr *nh;
	struct roost__mbox nb;
	struct lane_copy lc[ROOST_NLANES];
	uint64_t in_hand = 0;
	uint64_t lost = 0;
	uint64_t held;
	uint64_t wip;
	uint32_t wlane;
	uint32_t fate = ROOST_FATE_NONE;
	uint32_t state;
	unsigned lane;
	int rc;

	if (rx->rx_sys == NULL)
		return -EINVAL;
	rc = make_segment(&nb, rx->rx_sys, mb->mb_slot, mb->mb_gen,
	                  mb->mb_cap[ROOST_LANE_SYS],
	                  mb->mb_cap[ROOST_LANE_USR],
	                  mb->mb_nlanes - ROOST_NSHARED);
	if (rc < 0)
		return rc;
	nh = nb.mb_hdr;
	/* From here no sender gets into the old shared rings; the holder we
	 * seize (if any) may still write them, and nobody reads them after
	 * us. Private senders see REPLACED after their commit and learn
	 * from the marks which of their records were carried over
	 * (tag-private): the state first, then the marks. */
	held = roost__lock_seize(&oh->mh_lock.lk_lock);
	state = roost__load_rlx(&oh->mh_lock.lk_state);
	atomic_store_explicit(&oh->mh_lock.lk_state, ROOST_MBOX_REPLACED,
	                      memory_order_seq_cst);
	roost__mbox_marks_locked(mb);
	for (lane = 0; lane < mb->mb_nlanes; lane++)
		lost += copy_lane(mb, &nb, rx, lane, copy_end(mb, lane),
		                  &lc[lane], &in_hand);
	/* Plain words of the seized holder, who may still be writing them:
	 * read once, relaxed; what they say is checked (seized_fate). */
	wip = held != 0 ? __atomic_load_n(&oh->mh_wip_pos, __ATOMIC_RELAXED)
	                : 0;
	wlane = __atomic_load_n(&oh->mh_wip_lane, __ATOMIC_RELAXED);
	fate = wip != 0 && wlane < ROOST_NSHARED
	               ? seized_fate(mb, rx, wlane, wip - 1, lc[wlane].lc_end)
	               : ROOST_FATE_NONE;
	if (fate == ROOST_FATE_NONE)
		wip = 0;
	carry_counters(nh, oh, lost);
	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		if (roost__lane_private(lane))
			carry_plane(&nb, mb, lane, lc[lane].lc_new_tail);
		else
			roost__store_rel(&nh->mh_tail[lane],
			                 lc[lane].lc_new_tail);
		roost__store_rlx(&nh->mh_head[lane], 0);
	}
	if (rx->rx_has_inflight) {
		roost__store_rlx(&nh->mh_inflight_lane, rx->rx_inflight_lane);
		roost__store_rlx(&nh->mh_inflight_pos, in_hand + 1);
	}
	/* A graceful stop in progress stays in progress, with its marks at
	 * the new tails (everything copied was before them). */
	if (state == ROOST_MBOX_USER_SHUT) {
		roost__store_rlx(&nh->mh_lock.lk_state, ROOST_MBOX_USER_SHUT);
		roost__store_rlx(&nh->mh_marks, 1);
	}
	/* Read under the old lock, which the seized sender waits for. */
	roost__store_rlx(&oh->mh_seized_fate, fate);
	roost__store_rlx(&oh->mh_seized_pos, wip);
	/* Open the new segment to senders (release: the copies first). */
	roost__lock_drop(&nh->mh_lock.lk_lock);
	roost__lock_drop(&oh->mh_lock.lk_lock);
	wake_old(oh);

	/* The owner's view moves to the new segment. */
	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		rx->rx_head[lane] = 0;
		rx->rx_kicked[lane] = 0;
		rx->rx_tomb_end[lane] = 0; /* none copied */
	}
	if (rx->rx_has_inflight) {
		rx->rx_inflight_pos = in_hand;
		rx->rx_msg.m_data =
			(const uint8_t *)roost__mbox_rec_at(
				&nb, rx->rx_inflight_lane, in_hand) +
			ROOST_REC_HDR;
	}
	roost__mbox_detach(mb);
	*mb = nb;
	return 0;
}

/* Retire a segment nobody will read again: senders that see REPLACED
 * (under its lock) re-open the slot. No record was seized (0). */
static void
mark_replaced(struct roost__mbox_hdr *oh)
{
	roost__lock_seize(&oh->mh_lock.lk_lock);
	roost__store_rlx(&oh->mh_seized_pos, 0);
	/* Nothing is carried over: every private record is after the mark
	 * (marks of 0), so private senders send again too. */
	for (unsigned i = 0; i < ROOST_NPRIV_MAX; i++)
		roost__store_rlx(&oh->mh_plane[i].pl_mark, 0);
	roost__store_rel(&oh->mh_marks, 1);
	roost__store_rel(&oh->mh_lock.lk_state, ROOST_MBOX_REPLACED);
	roost__lock_drop(&oh->mh_lock.lk_lock);
	wake_old(oh);
}

int
roost__mbox_fresh(struct roost__mbox *mb, const struct roost__sys *sy,
                  uint32_t slot, uint32_t gen, uint32_t user_cap)
{
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__seg old = {0};
	struct roost__mbox_hdr *nh;
	uint32_t sys_cap = roost__mbox_sys_lane_size(sy->sy_fixed.sf_max_msg);
	uint64_t replaced = 0;
	int rc;

	if (sys_cap == 0 || roost__mbox_ring_size(user_cap) != user_cap)
		return -EINVAL;
	rc = roost__mbox_shm_name(shm, sizeof(shm), sy->sy_name, slot);
	if (rc < 0)
		return rc;
	/* The old segment stays mapped (by its senders) after the rename:
	 * keep a mapping to retire it and to read its count. */
	if (roost__plat_seg_open_trust(shm, ROOST_MBOX_HDR_SIZE,
	                               ROOST_MBOX_HDR_SIZE, sy->sy_fixed.sf_uid,
	                               roost__sys_gid(sy), &old) == 0) {
		replaced = roost__load_rlx(
			&((struct roost__mbox_hdr *)old.sg_base)->mh_replaced);
		if (replaced > UINT32_MAX)
			replaced = 0; /* scribbled too: start again */
	}
	rc = make_segment(mb, sy, slot, gen, sys_cap, user_cap,
	                  sy->sy_fixed.sf_nprivate);
	if (rc < 0) {
		roost__plat_seg_unmap(&old);
		return rc;
	}
	nh = mb->mb_hdr;
	roost__store_rlx(&nh->mh_replaced, replaced + 1);
	roost__store_rlx(&nh->mh_lost, 1); /* what it held, unknown */
	roost__lock_drop(&nh->mh_lock.lk_lock);
	if (old.sg_base != NULL) {
		/* Its fixed part may be garbage; the lock line is at a fixed
		 * offset. */
		mark_replaced(old.sg_base);
		roost__plat_seg_unmap(&old);
	}
	return 0;
}

bool
roost__mbox_needs_replace(const struct roost__mbox *mb)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	return mb->mb_damaged || roost__load_rlx(&h->mh_lock.lk_replace) != 0 ||
	       roost__load_rlx(&h->mh_ready) != ROOST_SEG_READY ||
	       roost__load_rlx(&h->mh_lock.lk_state) > ROOST_MBOX_CLOSED ||
	       memcmp((const void *)&h->mh_fixed, &mb->mb_fixed,
	              sizeof(mb->mb_fixed)) != 0;
}
