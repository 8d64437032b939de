/* SPDX-License-Identifier: MIT */
/*
 * mbox_private.c - private user lanes (tag-private in shm_format.h): a
 * sender that claimed one writes it without mh_lock, as one producer of
 * an SPSC ring: records, the tail, one seq_cst fence, one load of the
 * state word. Many senders then never meet on a shared line.
 *
 * What the lock gave the shared lane, and how a private lane gets it:
 * - The graceful-stop mark and the replacement's cut: lk_state changes
 *   first, then pl_mark records each private chain's end under mh_lock
 *   (roost__mbox_marks_locked). The fence after a sender's commit and the
 *   one in the state change decide which side of the mark a record is on.
 * - Crash repair: a dead claimant's lane goes to the next claimant, who
 *   re-derives the tail from the committed chain.
 * - FIFO per sender: a sender moves between the shared lane and its
 *   private one only when the lane it leaves holds none of its records.
 * - Damage: the owner cannot move a private tail, so a damaged private
 *   lane makes it replace the mailbox; the claim is carried over.
 */
#include "core/mbox/mbox.h"

/* A run of private sends is at most this many records (their positions
 * are kept for the fate check). */
#define PRIV_RUN_MAX 64
/* User sends to wait before trying to claim again: after a refusal for
 * our own records still queued in the shared lane, and when every lane
 * is taken by a live sender. */
#define CLAIM_RETRY_PENDING 64
#define CLAIM_RETRY_FULL 4096

void (*roost__private_hook)(unsigned phase);

/* This process's identity for claims: pid and start time, looked up once
 * per thread (a fork gets its own). Thread-local: threads of one process,
 * each with its own context, send at the same time (the NATS gateway
 * does), and a shared cache would be written by one while another reads
 * it (ThreadSanitizer saw it). */
static int
self_identity(pid_t *pid, uint64_t *start)
{
	static _Thread_local pid_t cached_pid;
	static _Thread_local uint64_t cached_start;
	pid_t me = roost__plat_pid();
	int rc;

	if (cached_pid != me) {
		rc = roost__plat_proc_start(me, &cached_start);
		if (rc < 0)
			return rc;
		cached_pid = me;
	}
	*pid = cached_pid;
	*start = cached_start;
	return 0;
}

void
roost__mbox_marks_locked(struct roost__mbox *mb)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t head;
	unsigned lane;

	if (roost__load_acq(&h->mh_marks) != 0)
		return; /* set once per segment; senders decided on them */
	/* Pairs with the fence after each private sender's commit: a sender
	 * that loaded OPEN after its commit is in the chains walked here. */
	roost__fence_sc();
	for (lane = ROOST_LANE_PRIV0; lane < mb->mb_nlanes; lane++) {
		head = roost__load_acq(&h->mh_head[lane]) &
		       ~(uint64_t)(ROOST_REC_ALIGN - 1);
		roost__store_rlx(&roost__mbox_plane(mb, lane)->pl_mark,
		                 roost__mbox_chain_end(mb, lane, head));
	}
	/* Release: the marks before the flag that says they hold. */
	roost__store_rel(&h->mh_marks, 1);
	/* A receiver waiting for the marks sleeps meanwhile. */
	roost__mbox_wake(h);
}

bool
roost__mbox_priv_deliverable(const struct roost__mbox *mb, unsigned lane,
                             uint64_t pos)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint32_t state;

	/* Seq-cst, after the acquire of the record's commit word: a record
	 * seen committed while the state still reads OPEN was committed
	 * before any mark walk began, so it is before the mark. */
	state = atomic_load_explicit(&h->mh_lock.lk_state,
	                             memory_order_seq_cst);
	if (state == ROOST_MBOX_OPEN || state == ROOST_MBOX_CLOSED)
		return true;
	if (roost__load_acq(&h->mh_marks) == 0)
		return false; /* being marked: wait for the marks */
	return pos < roost__load_rlx(&roost__mbox_plane(mb, lane)->pl_mark);
}

/* Under mh_lock (no shared sender mid-write; a private lane's writer
 * is gone or is us): does 'lane' still hold a message from 'aid' (0:
 * from anyone), along its committed chain from the receiver's head? */
static bool
lane_holds_locked(const struct roost__mbox *mb, unsigned lane, uint64_t aid)
{
	uint64_t head = roost__load_acq(&mb->mb_hdr->mh_head[lane]) &
	                ~(uint64_t)(ROOST_REC_ALIGN - 1);
	uint64_t pos = head;
	struct roost__rec r;

	while (pos - head < mb->mb_cap[lane] &&
	       roost__mbox_committed(mb, lane, pos) &&
	       roost__mbox_read_rec(mb, lane, pos, &r) == 0) {
		if (!(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE)) &&
		    (aid == 0 || r.rc_from == aid))
			return true;
		pos += r.rc_len;
	}
	return false;
}

/* Is the claimant of 'pl' gone: released (pid 0) or dead? */
static bool
claimant_gone(const struct roost__plane *pl)
{
	pid_t pid = roost__load_rlx(&pl->pl_claim_pid);

	return pid == 0 ||
	       !roost__plat_proc_alive(pid, roost__load_rlx(&pl->pl_claim_start));
}

/*
 * Under mh_lock: the private lane 'aid' holds or may take, or 0. A lane
 * last claimed by this address comes first: ours carried over a
 * replacement (resumed), or our previous incarnation's (it exited or
 * was killed, and roostd restarted us at the same address) so that what
 * it queued stays ahead of what we send. Then a lane never claimed or
 * released (a sender releases its lane with its context or mapping:
 * its address does not send there again), then one whose claimant died,
 * only when it is empty: what a dead sender queued there stays for its
 * restart at the same address to resume, which would otherwise send
 * around it (FIFO per sender).
 */
static unsigned
find_lane_locked(const struct roost__mbox *mb, uint64_t aid, pid_t pid,
                 uint64_t start, bool *resumed)
{
	struct roost__plane *pl;
	unsigned lane;

	*resumed = false;
	for (lane = ROOST_LANE_PRIV0; lane < mb->mb_nlanes; lane++) {
		pl = roost__mbox_plane(mb, lane);
		if (roost__load_rlx(&pl->pl_claim_aid) != aid)
			continue;
		if (roost__load_rlx(&pl->pl_claim_pid) == pid &&
		    roost__load_rlx(&pl->pl_claim_start) == start) {
			*resumed = true;
			return lane;
		}
		if (claimant_gone(pl))
			return lane;
	}
	for (lane = ROOST_LANE_PRIV0; lane < mb->mb_nlanes; lane++) {
		pl = roost__mbox_plane(mb, lane);
		if (roost__load_rlx(&pl->pl_claim_aid) == 0 ||
		    roost__load_rlx(&pl->pl_claim_pid) == 0)
			return lane;
	}
	for (lane = ROOST_LANE_PRIV0; lane < mb->mb_nlanes; lane++) {
		if (claimant_gone(roost__mbox_plane(mb, lane)) &&
		    !lane_holds_locked(mb, lane, 0))
			return lane;
	}
	return 0;
}

/*
 * Try to claim a private lane for sender 'aid' (tag-private). A lane of
 * ours carried over a replacement is resumed; we must resume it before
 * any shared send (our records may sit in it), so a busy lock is waited
 * for within the send's timeout. Returns 0 (claimed or not) or the
 * lock's error.
 */
static int
claim(struct roost__mbox *mb, uint64_t aid, int timeout_ms,
      uint64_t *deadline)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	struct roost__plane *pl;
	uint64_t start;
	uint64_t head;
	unsigned lane;
	bool resumed;
	pid_t pid;
	int rc;

	mb->mb_claim_wait = CLAIM_RETRY_FULL;
	if (self_identity(&pid, &start) < 0)
		return 0;
	rc = roost__mbox_lock_send(mb, timeout_ms, deadline);
	if (rc < 0) {
		mb->mb_claim_wait = 0;
		return rc;
	}
	lane = find_lane_locked(mb, aid, pid, start, &resumed);
	if (lane != 0 && !resumed &&
	    lane_holds_locked(mb, ROOST_LANE_USR, aid)) {
		mb->mb_claim_wait = CLAIM_RETRY_PENDING;
		lane = 0;
	}
	if (lane != 0) {
		pl = roost__mbox_plane(mb, lane);
		/* Before our first record (release, and our publish fences
		 * after it): a receiver that misses the bit before sleeping
		 * is seen sleeping by our publish (tag-wake). */
		atomic_fetch_or_explicit(&h->mh_lock.lk_lanes,
		                         1u << (lane - ROOST_LANE_PRIV0),
		                         memory_order_release);
		if (!resumed) {
			roost__store_rlx(&pl->pl_claim_pid, pid);
			roost__store_rlx(&pl->pl_claim_start, start);
			roost__store_rlx(&pl->pl_claim_aid, aid);
		}
		/* The tail is derivable: the end of the committed chain
		 * from the head (a dead claimant's half-written record is
		 * not in it). */
		head = roost__load_acq(&h->mh_head[lane]) &
		       ~(uint64_t)(ROOST_REC_ALIGN - 1);
		mb->mb_ptail = roost__mbox_chain_end(mb, lane, head);
		mb->mb_phead = head;
		roost__store_rel(&pl->pl_tail, mb->mb_ptail);
		mb->mb_plane = lane;
		mb->mb_shared_end = 0;
	}
	roost__mbox_unlock(mb);
	return 0;
}

void
roost__mbox_unclaim(struct roost__mbox *mb)
{
	if (mb->mb_plane == 0)
		return;
	/* Release: our last tail before the lane is free to claim. The
	 * address stays, so that our next incarnation takes this lane
	 * again (what we queued stays ahead of what it sends). */
	roost__store_rel(&roost__mbox_plane(mb, mb->mb_plane)->pl_claim_pid, 0);
	mb->mb_plane = 0;
}

/* Wait until the receiver's head of 'lane' reaches 'until' (our records
 * before it consumed), sleeping on mh_space_seq as a sender waiting for
 * room does (tag-space). Returns 0, -EAGAIN (timeout 0), -ETIMEDOUT or a
 * refusal. */
static int
wait_consumed(struct roost__mbox *mb, unsigned lane, uint64_t until,
              int timeout_ms, uint64_t *deadline)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t poll_ns = ROOST_SPACE_POLL_MIN_NS;
	uint64_t now;
	int64_t wait;
	uint32_t seq;
	int rc;

	for (;;) {
		/* Pairs with the receiver's release of mh_head. */
		if ((int64_t)(roost__load_acq(&h->mh_head[lane]) - until) >= 0)
			return 0;
		rc = roost__mbox_refusal(h, lane);
		if (rc < 0 || timeout_ms == 0)
			return rc < 0 ? rc : -EAGAIN;
		now = roost__plat_now_ns();
		if (timeout_ms > 0 && *deadline == 0)
			*deadline = now + (uint64_t)timeout_ms * 1000000u + 1;
		if (*deadline != 0 && now >= *deadline)
			return -ETIMEDOUT;
		seq = roost__load_acq(&h->mh_space_seq);
		roost__store_sc(&h->mh_space_waiters, 1);
		roost__fence_sc();
		if ((int64_t)(roost__load_acq(&h->mh_head[lane]) - until) >= 0)
			return 0;
		/* Bounded: the receiver wakes without a fence (tag-space). */
		wait = (int64_t)poll_ns;
		if (*deadline != 0 && (int64_t)(*deadline - now) < wait)
			wait = (int64_t)(*deadline - now);
		roost__plat_futex_wait((uint32_t *)&h->mh_space_seq, seq, wait);
		if (poll_ns < ROOST_SPACE_POLL_MAX_NS)
			poll_ns *= 2;
	}
}

/* Before a private send: our shared user records must be consumed. */
static int
leave_shared(struct roost__mbox *mb, int timeout_ms, uint64_t *deadline)
{
	int rc;

	if (mb->mb_shared_end == 0)
		return 0;
	rc = wait_consumed(mb, ROOST_LANE_USR, mb->mb_shared_end, timeout_ms,
	                   deadline);
	if (rc == 0)
		mb->mb_shared_end = 0;
	return rc;
}

int
roost__mbox_leave_private(struct roost__mbox *mb, int timeout_ms,
                          uint64_t *deadline)
{
	if (mb->mb_plane == 0)
		return 0;
	return wait_consumed(mb, mb->mb_plane, mb->mb_ptail, timeout_ms,
	                     deadline);
}

int
roost__mbox_private_run(struct roost__mbox *mb, const struct roost__out *o,
                        size_t n, int timeout_ms, uint64_t *deadline)
{
	size_t i;
	int rc;

	if (o[0].o_lane != ROOST_LANE_USR || mb->mb_nlanes <= ROOST_LANE_PRIV0)
		return 0;
	if (mb->mb_plane == 0) {
		/* Never in our own mailbox: only we could drain it. */
		if (roost_aid_slot((roost_aid_t){o[0].o_from}) == mb->mb_slot)
			return 0;
		if (mb->mb_claim_wait > 0) {
			mb->mb_claim_wait--;
			return 0;
		}
		rc = claim(mb, o[0].o_from, timeout_ms, deadline);
		if (rc < 0 || mb->mb_plane == 0)
			return rc;
	}
	for (i = 0; i < n && i < PRIV_RUN_MAX; i++) {
		if (o[i].o_lane != ROOST_LANE_USR ||
		    o[i].o_size > mb->mb_max_payload[mb->mb_plane])
			break;
	}
	return (int)i;
}

/*
 * After our post-commit load found the state not OPEN: under mh_lock,
 * which of our records at 'pos[0..n)' are before the mark (delivered, or
 * carried over to the new segment)? Without marks (closed without a
 * stop, or a scribbled state word) every committed record of ours is in
 * any later walk, so all count, as a shared-lane record committed
 * before a close does.
 */
static int
fate(struct roost__mbox *mb, const uint64_t *pos, size_t n, size_t *kept)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t deadline = 0;
	uint64_t mark;
	uint32_t state;
	bool marked;
	size_t i = 0;
	int rc;

	rc = roost__mbox_lock_send(mb, -1, &deadline);
	if (rc < 0)
		return rc;
	marked = roost__load_acq(&h->mh_marks) != 0;
	if (marked) {
		mark = roost__load_rlx(&roost__mbox_plane(mb, mb->mb_plane)
		                                ->pl_mark);
		while (i < n && pos[i] < mark)
			i++;
	} else {
		i = n;
	}
	state = roost__load_rlx(&h->mh_lock.lk_state);
	roost__mbox_unlock(mb);
	*kept = i;
	if (i == n)
		return 0;
	/* A mailbox closed after its stop keeps the stop's marks. */
	return state == ROOST_MBOX_REPLACED ? -ESTALE : -ESHUTDOWN;
}

/* Publish records written up to 'tail' and learn whether they count
 * (tag-private). Returns 0, or the error for the records from '*kept'
 * on. */
static int
publish(struct roost__mbox *mb, const struct roost__out *o,
        const uint64_t *pos, size_t n, uint64_t tail, size_t *kept)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	struct roost__plane *pl = roost__mbox_plane(mb, mb->mb_plane);
	uint64_t bytes = 0;
	uint32_t state;
	size_t i;

	for (i = 0; i < n; i++)
		bytes += o[i].o_size;
	mb->mb_ptail = tail;
	/* Release: tools size their snapshot by it; the receiver never
	 * reads it on the normal path (it follows the commit words). */
	roost__store_rel(&pl->pl_tail, tail);
	roost__bump_1w(&pl->pl_enqueued, n);
	roost__bump_1w(&pl->pl_bytes_in, bytes);
	/* One fence for two pairs: with the receiver's sleep (tag-wake)
	 * and with the mark walk (tag-private). */
	roost__fence_sc();
	state = roost__load_rlx(&h->mh_lock.lk_state);
	roost__mbox_wake_fenced(h, &pl->pl_cpu);
	*kept = n;
	if (state == ROOST_MBOX_OPEN)
		return 0;
	return fate(mb, pos, n, kept);
}

int
roost__mbox_push_private(struct roost__mbox *mb, const struct roost__out *o,
                         size_t n, int timeout_ms, size_t *done)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	unsigned lane = mb->mb_plane;
	uint32_t cap = mb->mb_cap[lane];
	uint64_t pos[PRIV_RUN_MAX];
	uint64_t poll_ns = ROOST_SPACE_POLL_MIN_NS;
	uint64_t deadline = 0;
	uint64_t tail = mb->mb_ptail;
	uint64_t head;
	uint64_t rec = 0;
	uint64_t span = 0;
	uint64_t now;
	size_t kept;
	size_t i = 0;
	size_t run = 0;
	uint64_t chunk = roost__mbox_space_chunk(mb, lane);
	bool counted_block = false;
	bool waited = false;
	bool full;
	int rc;

	*done = 0;
	rc = leave_shared(mb, timeout_ms, &deadline);
	if (rc < 0)
		return rc;
	rc = roost__mbox_refusal(h, ROOST_LANE_USR);
	if (rc < 0)
		return rc;
	now = roost__plat_coarse_ns();
	if (__builtin_expect(roost__private_hook != NULL, 0))
		roost__private_hook(ROOST__HOOK_BEFORE_WRITE);
	while (i < n) {
		rec = roost__rec_bytes(o[i].o_size);
		span = roost__rec_span(tail, cap, rec);
		if (tail + span + ROOST_RING_SLACK - mb->mb_phead > cap) {
			/* Pairs with the receiver's release of mh_head. */
			head = roost__load_acq(&h->mh_head[lane]);
			if (head % ROOST_REC_ALIGN != 0 ||
			    tail - head > cap - ROOST_RING_SLACK) {
				/* Not a head the owner writes: it must
				 * replace the mailbox. */
				roost__add_rlx(&h->mh_corrupt, 1);
				roost__mbox_ask_replace(h);
				rc = ROOST_CORRUPT();
				break;
			}
			mb->mb_phead = head;
		}
		/* Full, or (when we may wait) less than a chunk free: wait
		 * for a chunk, so that we read the receiver's head line once
		 * per chunk, not once per send while it writes it. */
		full = tail + span + ROOST_RING_SLACK - mb->mb_phead > cap;
		if (full || (timeout_ms != 0 && !waited &&
		             tail + span + ROOST_RING_SLACK + chunk -
		                             mb->mb_phead >
		                     cap)) {
			waited = true;
			/* What we wrote must be seen first. */
			if (run > 0) {
				rc = publish(mb, &o[i - run], pos, run, tail,
				             &kept);
				*done += kept;
				if (rc < 0)
					return rc;
				run = 0;
			}
			if (timeout_ms == 0)
				return -EAGAIN;
			if (full && !counted_block) {
				/* Rare, so an atomic add on the lock's line
				 * (whose holders bump it too). */
				roost__add_rlx(&h->mh_blocked, 1);
				counted_block = true;
			}
			rc = roost__mbox_wait_space(mb, lane, span +
			                                    ROOST_RING_SLACK,
			                            timeout_ms, &deadline,
			                            &poll_ns);
			if (rc < 0)
				return rc;
			rc = roost__mbox_refusal(h, ROOST_LANE_USR);
			if (rc < 0)
				return rc;
			continue;
		}
		roost__mbox_write_record(mb, lane, &o[i], tail, rec, span, now);
		pos[run++] = tail + span - rec;
		tail += span;
		i++;
		waited = false;
	}
	if (run > 0) {
		int prc;

		if (__builtin_expect(roost__private_hook != NULL, 0))
			roost__private_hook(ROOST__HOOK_BEFORE_PUBLISH);
		prc = publish(mb, &o[i - run], pos, run, tail, &kept);

		*done += kept;
		if (prc < 0)
			return prc;
	}
	if (rc < 0)
		return rc;
	roost__mbox_prefetch_ahead(mb, lane, tail, rec);
	return 0;
}
