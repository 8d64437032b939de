/* SPDX-License-Identifier: MIT */
/*
 * mbox_lock.c - a mailbox's lock (mh_lock, the word of shm_lock.c) as
 * senders, the owner and tools take it: a holder that died or a garbage
 * word is taken over and the locked lanes repaired before anyone uses
 * them; a holder that does not move for the unblock time makes a sender
 * ask the owner to replace the mailbox (tag-replace).
 */
#include "core/mbox/mbox.h"

/*
 * Under the lock: re-derive the tails from the committed chains (they are
 * derivable state) and the senders' cached heads. If the record a dead
 * sender was writing is not in its chain, it was never visible: count it
 * as dropped. Called after taking the lock from a dead holder (or from a garbage lock
 * word), and when a tail fails validation.
 */
void
roost__mbox_repair_locked(struct roost__mbox *mb)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t wip = h->mh_wip_pos;
	uint32_t wlane = h->mh_wip_lane;
	uint32_t state;
	unsigned lane;
	uint64_t head;
	uint64_t end;

	for (lane = 0; lane < ROOST_NSHARED; lane++) {
		/* Pairs with the receiver's release of mh_head. */
		head = roost__load_acq(&h->mh_head[lane]);
		if (head % ROOST_REC_ALIGN != 0)
			head &= ~(uint64_t)(ROOST_REC_ALIGN - 1);
		end = roost__mbox_chain_end(mb, lane, head);
		/* The next record goes at 'end': its commit word must not
		 * look published (a half-written record may sit there). */
		roost__store_rlx(&roost__mbox_rec_at(mb, lane, end)->rc_commit, 0);
		if (wip != 0 && wlane == lane && end == wip - 1)
			roost__bump_1w(&h->mh_repaired, 1);
		roost__store_rel(&h->mh_tail[lane], end);
		h->mh_head_cache[lane] = head;
	}
	h->mh_wip_pos = 0;
	/* A stopper or replacer died between the state change and the
	 * marks (tag-private): mark now; private senders wait for them. */
	state = roost__load_rlx(&h->mh_lock.lk_state);
	if (state == ROOST_MBOX_USER_SHUT || state == ROOST_MBOX_REPLACED)
		roost__mbox_marks_locked(mb);
}

int
roost__mbox_lock(struct roost__mbox *mb, int timeout_ms, uint64_t *deadline)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	int r = roost__lock_take(&h->mh_lock.lk_lock, timeout_ms, deadline);

	if (r < 0)
		return r;
	if (r == ROOST_LOCK_GARBAGE)
		roost__add_rlx(&h->mh_corrupt, 1);
	if (r != ROOST_LOCK_TAKEN)
		roost__mbox_repair_locked(mb);
	return 0;
}

void
roost__mbox_unlock(struct roost__mbox *mb)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	/* Taken over while we held it (we were judged dead, or the word was
	 * scribbled): whoever took it repaired the lanes; count it. */
	if (!roost__lock_drop(&h->mh_lock.lk_lock))
		roost__add_rlx(&h->mh_corrupt, 1);
}

/* Ask the owner to move the mailbox to a new segment (tag-replace): one
 * holder kept the lock for the unblock time. The owner may be asleep. */
void
roost__mbox_ask_replace(struct roost__mbox_hdr *h)
{
	if (roost__xchg_acqrel(&h->mh_lock.lk_replace, 1) != 0)
		return; /* asked already */
	roost__add_rel(&h->mh_lock.lk_wake_seq, 1);
	roost__plat_futex_wake((uint32_t *)&h->mh_lock.lk_wake_seq, INT32_MAX);
}

/*
 * Take mh_lock for a send: as roost__mbox_lock, but in slices of the
 * unblock time. A slice that ends with the same holder and no send made
 * meanwhile means a holder that does not move (stopped): ask the owner
 * to replace the mailbox, and keep waiting; the owner seizes the lock,
 * and we then find the mailbox REPLACED.
 */
int
roost__mbox_lock_send(struct roost__mbox *mb, int timeout_ms,
                      uint64_t *deadline)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t slice_deadline;
	uint64_t word;
	uint64_t sent;
	int slice;
	int rc;

	if (timeout_ms == 0)
		return roost__mbox_lock(mb, 0, deadline);
	/* A free lock, the common case: no stall bookkeeping. */
	if (roost__lock_try(&h->mh_lock.lk_lock))
		return 0;
	for (;;) {
		slice = (int)mb->mb_unblock_ms;
		if (timeout_ms > 0) {
			uint64_t now = roost__plat_now_ns();

			if (*deadline == 0)
				*deadline = now + (uint64_t)timeout_ms * 1000000u + 1;
			if (now >= *deadline)
				return -ETIMEDOUT;
			if ((*deadline - now) / 1000000u < (uint64_t)slice)
				slice = (int)((*deadline - now) / 1000000u) + 1;
		}
		word = roost__lock_word(&h->mh_lock.lk_lock);
		sent = roost__load_rlx(&h->mh_enqueued);
		slice_deadline = 0;
		rc = roost__mbox_lock(mb, slice, &slice_deadline);
		if (rc != -ETIMEDOUT)
			return rc;
		if (slice == (int)mb->mb_unblock_ms &&
		    roost__lock_word(&h->mh_lock.lk_lock) == word &&
		    roost__load_rlx(&h->mh_enqueued) == sent)
			roost__mbox_ask_replace(h);
	}
}
