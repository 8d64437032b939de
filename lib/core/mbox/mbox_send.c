/* SPDX-License-Identifier: MIT */
/*
 * mbox_send.c - the sender side of a mailbox's locked lanes: reserve,
 * copy, commit, wake; waiting for space when full. The lock and the
 * repair after a holder that died are in mbox_lock.c.
 *
 * The copy happens under the lock. A 64-byte record costs a few
 * nanoseconds to copy, far less than the cache-line transfer every send
 * pays anyway, and it keeps crash repair simple: nothing a dead sender
 * wrote is visible until the one release store of its commit word, and
 * the tail is re-derived from the committed chain.
 */
#include "core/mbox/mbox.h"

#include <time.h>

/* How long a sender spins re-reading the head of a full lane before it
 * sleeps, and the bounds of its sleep period (tag-space). */
#define SPACE_SPIN_NS 20000
#define SPACE_POLL_PAUSES 64

static uint64_t
deadline_of(int timeout_ms)
{
	return roost__plat_now_ns() + (uint64_t)timeout_ms * 1000000u + 1;
}

/*
 * Our drop found another word: the lock was taken from us while we held
 * it, after our record at crash marker 'wip' (tail + 1) was written. Wait
 * for whoever took it, then decide (tag-replace): a REPLACED segment says
 * whether our record was carried over (0) or not (-ESTALE: send again);
 * otherwise the lock word was scribbled or we were judged dead, and our
 * committed record stays where it is (0, counted as corruption).
 */
static int
seized_outcome(struct roost__mbox *mb, uint64_t wip)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t deadline = 0;
	int rc;

	rc = roost__mbox_lock(mb, -1, &deadline);
	if (rc < 0)
		return rc;
	if (roost__load_acq(&h->mh_lock.lk_state) == ROOST_MBOX_REPLACED) {
		rc = roost__load_rlx(&h->mh_seized_pos) == wip &&
		                     roost__load_rlx(&h->mh_seized_fate) ==
		                             ROOST_FATE_DELIVERED
		             ? 0
		             : -ESTALE;
	} else {
		roost__add_rlx(&h->mh_corrupt, 1);
	}
	roost__lock_drop(&h->mh_lock.lk_lock);
	return rc;
}

/* Raise the high-water mark to 'used' if it is higher. Senders and the
 * receiver both call this, hence the CAS. */
void
roost__mbox_note_used(struct roost__mbox_hdr *h, uint64_t used)
{
	uint64_t hw = roost__load_rlx(&h->mh_high_water);

	while (used > hw && !roost__cas_acqrel(&h->mh_high_water, &hw, used))
		;
}

/*
 * Wake the receiver if, and only if, it said it sleeps (tag-wake). The
 * receiver sleeps with no period, so a waker that dies between taking
 * the flag and its futex_wake must not strand it: lk_waker is set before
 * the flag is taken and cleared only after the wake, and a sender that
 * finds it set wakes the receiver too (a spare wake costs the receiver a
 * look, never a message).
 */
static void
wake_if_asleep(struct roost__mbox_hdr *h)
{
	if (roost__load_rlx(&h->mh_lock.lk_sleeping) == 0 &&
	    roost__load_rlx(&h->mh_lock.lk_waker) == 0)
		return;
	/* Senders that meet here while one wakes all wake: that lasts one
	 * futex_wake, and it never leaves a dead waker's flag behind. */
	roost__store_sc(&h->mh_lock.lk_waker, 1);
	roost__xchg_acqrel(&h->mh_lock.lk_sleeping, 0);
	roost__add_rel(&h->mh_lock.lk_wake_seq, 1);
	roost__plat_futex_wake((uint32_t *)&h->mh_lock.lk_wake_seq, 1);
	roost__store_rlx(&h->mh_lock.lk_waker, 0);
}

/* A hint for the receiver's spin: a receiver on this CPU cannot see us
 * send while it spins, so it sleeps at once (two processes on one CPU
 * then hand over by futex, as a pipe does). Every send stores it (a
 * spinning receiver must learn it too), only when it changes: a store
 * is still a store. */
static void
note_cpu(roost__atomic_u32 *word)
{
	uint32_t cpu = (uint32_t)roost__plat_cpu() + 1;

	if (roost__load_rlx(word) != cpu)
		roost__store_rlx(word, cpu);
}

/* After a shared-lane send: we have just dropped mh_lock, an exchange
 * (see roost__fence_after_unlock), which orders our commit before the
 * load of lk_sleeping; pairs with the fence in the receiver's sleep
 * path. */
static void
wake_receiver(struct roost__mbox_hdr *h)
{
	note_cpu(&h->mh_lock.lk_sender_cpu);
	roost__fence_after_unlock();
	wake_if_asleep(h);
}

void
roost__mbox_wake_fenced(struct roost__mbox_hdr *h, roost__atomic_u32 *cpu)
{
	note_cpu(cpu);
	wake_if_asleep(h);
}

void
roost__mbox_wake(struct roost__mbox_hdr *h)
{
	roost__fence_sc();
	wake_if_asleep(h);
}

/* Why sends to 'lane' are refused now: -ESRCH (closed), -ESHUTDOWN (user
 * lane shut by a graceful stop), -ESTALE (replaced: re-open the slot), or
 * 0. Pairs with the release stores of lk_state in roost__mbox_close(),
 * roost__mbox_shut_user() and roost__mbox_replace(). */
int
roost__mbox_refusal(struct roost__mbox_hdr *h, unsigned lane)
{
	uint32_t state = roost__load_acq(&h->mh_lock.lk_state);

	if (state == ROOST_MBOX_CLOSED)
		return -ESRCH;
	if (state == ROOST_MBOX_REPLACED)
		return -ESTALE;
	if (state == ROOST_MBOX_USER_SHUT && lane == ROOST_LANE_USR)
		return -ESHUTDOWN;
	return 0;
}

int
roost__mbox_wait_space(struct roost__mbox *mb, unsigned lane, uint64_t need,
                       int timeout_ms, uint64_t *deadline_io,
                       uint64_t *poll_ns)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	roost__atomic_u64 *tailp = roost__mbox_tail_word(mb, lane);
	uint64_t t0 = roost__plat_now_ns();
	uint64_t now = t0;
	uint64_t deadline;
	uint64_t tail;
	uint64_t chunk = roost__mbox_space_chunk(mb, lane);
	uint32_t seq;
	int64_t wait;

	if (timeout_ms > 0 && *deadline_io == 0)
		*deadline_io = deadline_of(timeout_ms);
	deadline = *deadline_io;
	if (deadline != 0 && now >= deadline)
		return -ETIMEDOUT;

	/* Spin briefly: a running receiver frees space within microseconds.
	 * Pause between polls: every poll steals the receiver's cache line
	 * and slows the very receiver we wait for. */
	while (now - t0 < SPACE_SPIN_NS) {
		tail = roost__load_rlx(tailp);
		/* Wait for a chunk, not one record: otherwise every send of
		 * a sender faster than the receiver re-reads mh_head, a line
		 * the receiver writes per message. Past the spin, any room
		 * will do. */
		if (tail + need + chunk - roost__load_acq(&h->mh_head[lane]) <=
		    mb->mb_cap[lane])
			return 0;
		if (roost__mbox_refusal(h, lane) != 0)
			return 0; /* the retry reports it */
		for (int i = 0; i < SPACE_POLL_PAUSES; i++)
			roost__cpu_relax();
		/* The receiver may need our CPU: with more senders than
		 * CPUs, a spin that keeps it runs only makes it later. */
		roost__plat_yield();
		now = roost__plat_now_ns();
	}
	tail = roost__load_rlx(tailp);
	if (tail + need - roost__load_acq(&h->mh_head[lane]) <=
	    mb->mb_cap[lane])
		return 0;
	if (deadline != 0 && now >= deadline)
		return -ETIMEDOUT;
	seq = roost__load_acq(&h->mh_space_seq);
	roost__store_sc(&h->mh_space_waiters, 1);
	roost__fence_sc();
	tail = roost__load_rlx(tailp);
	if (tail + need - roost__load_acq(&h->mh_head[lane]) <=
	    mb->mb_cap[lane])
		return 0;
	/* The receiver does not fence before it reads mh_space_waiters, so
	 * a wake-up can be missed; the bounded period makes that a delay,
	 * never a hang. The period grows while the lane stays full. */
	wait = (int64_t)*poll_ns;
	if (deadline != 0 && (int64_t)(deadline - now) < wait)
		wait = (int64_t)(deadline - now);
	roost__plat_futex_wait((uint32_t *)&h->mh_space_seq, seq, wait);
	if (*poll_ns < ROOST_SPACE_POLL_MAX_NS)
		*poll_ns *= 2;
	return 0;
}

/* Bytes the record takes from 'tail', including a PAD to the ring's end
 * when it does not fit before it. */

/*
 * Under the lock: write the record (and a PAD if needed) at 'tail' and
 * publish it. Order (tag-rec-commit): zero the commit word where the next
 * record will go, write the record, commit it, then commit the PAD that
 * leads to it. A death anywhere before a commit leaves nothing visible.
 */
void
roost__mbox_write_record(struct roost__mbox *mb, unsigned lane,
                         const struct roost__out *o, uint64_t tail,
                         uint64_t rec, uint64_t span, uint64_t now)
{
	uint64_t pos = tail + (span - rec);
	struct roost__rec *pad = roost__mbox_rec_at(mb, lane, tail);
	struct roost__rec *r = roost__mbox_rec_at(mb, lane, pos);

	/* Relaxed: published by the release store of rc_commit below. */
	roost__store_rlx(&roost__mbox_rec_at(mb, lane, tail + span)->rc_commit,
	                 0);
	r->rc_len = (uint32_t)rec;
	r->rc_flags = o->o_flags & (ROOST_REC_MSGPACK | ROOST_REC_REPLY);
	r->rc_from = o->o_from;
	r->rc_corr = o->o_corr;
	r->rc_kind = o->o_kind;
	r->rc_size = (uint32_t)o->o_size;
	r->rc_time_ns = now;
	if (o->o_size != 0)
		memcpy(r + 1, o->o_data, o->o_size);
	/* Pairs with the acquire in roost__mbox_committed(). */
	roost__store_rel(&r->rc_commit, pos + 1);
	if (pos != tail) {
		pad->rc_len = (uint32_t)(pos - tail);
		pad->rc_flags = ROOST_REC_PAD;
		roost__store_rel(&pad->rc_commit, tail + 1);
	}
}

/*
 * Under the lock: make room for 'o' in its lane. Returns 0 with '*tail'
 * and '*span' set, 1 when the lane is full ('*span' is the room it
 * needs), or a refusal (-ESRCH, -ESHUTDOWN, -ESTALE) or ROOST_ECORRUPT.
 */
static int
reserve(struct roost__mbox *mb, const struct roost__out *o, uint64_t rec,
        uint64_t slack, uint64_t *tail_out, uint64_t *span_out)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	unsigned lane = o->o_lane;
	uint32_t cap = mb->mb_cap[lane];
	uint64_t head;
	uint64_t tail;
	uint64_t span;
	int rc;

	rc = roost__mbox_refusal(h, lane);
	if (rc < 0)
		return rc;
	/* Relaxed: only lock holders write the tail, and the lock's acquire
	 * orders us after the last of them. */
	tail = roost__load_rlx(&h->mh_tail[lane]);
	head = h->mh_head_cache[lane];
	span = roost__rec_span(tail, cap, rec);
	if (tail % ROOST_REC_ALIGN != 0 ||
	    tail + span + ROOST_RING_SLACK - head > cap) {
		/* Pairs with the release of mh_head by the receiver: the
		 * records it freed are no longer read. */
		head = roost__load_acq(&h->mh_head[lane]);
		if (tail % ROOST_REC_ALIGN != 0 || head % ROOST_REC_ALIGN != 0 ||
		    tail - head > cap - ROOST_RING_SLACK) {
			/* Not a state senders leave: re-derive. */
			roost__add_rlx(&h->mh_corrupt, 1);
			roost__mbox_repair_locked(mb);
			return ROOST_CORRUPT();
		}
		h->mh_head_cache[lane] = head;
		roost__mbox_note_used(h, tail - head);
		span = roost__rec_span(tail, cap, rec);
	}
	*tail_out = tail;
	*span_out = span;
	return tail + span + ROOST_RING_SLACK + slack - head > cap ? 1 : 0;
}

/*
 * Under the lock: write 'o' at 'tail' and publish it. The crash marker
 * goes first: a death from here on is repaired by the next locker (see
 * roost__mbox_repair_locked). Plain stores: under the lock. It stays set
 * after the send: a replacement that seizes the lock after our commit
 * must find our marker to carry our record over as DELIVERED
 * (tag-replace); a marker left behind names a record in the chain, which
 * repair never counts as dropped.
 */
static void
append(struct roost__mbox *mb, const struct roost__out *o, uint64_t rec,
       uint64_t tail, uint64_t span, uint64_t now)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	h->mh_wip_lane = o->o_lane;
	h->mh_wip_pos = tail + 1;
	roost__mbox_write_record(mb, o->o_lane, o, tail, rec, span, now);
	/* Release: tools read the tail to size their snapshot. */
	roost__store_rel(&h->mh_tail[o->o_lane], tail + span);
	if (o->o_lane == ROOST_LANE_USR)
		mb->mb_shared_end = tail + span; /* tag-private: FIFO */
	roost__bump_1w(&h->mh_enqueued, 1);
	roost__bump_1w(&h->mh_bytes_in, o->o_size);
}

/* Send 'o' through the shared lanes, under mh_lock. As
 * roost__mbox_push_many. */
static int
push_shared(struct roost__mbox *mb, const struct roost__out *o, size_t n,
            int timeout_ms, size_t *done)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t rec = 0;
	uint64_t span = 0;
	uint64_t tail = 0;
	uint64_t deadline = 0;
	uint64_t poll_ns = ROOST_SPACE_POLL_MIN_NS;
	uint64_t now;
	bool counted_block = false;
	bool waited = false;
	size_t i;
	int rc;

	*done = 0;
	/* One clock read for the batch, before the lock: the coarse clock
	 * ticks every few milliseconds anyway, and a read costs as much as
	 * a small send. */
	now = roost__plat_coarse_ns();
	rc = roost__mbox_lock_send(mb, timeout_ms, &deadline);
	if (rc < 0)
		return rc;
	for (i = 0; i < n;) {
		rec = roost__rec_bytes(o[i].o_size);
		/* Unless we just waited, or may not wait: room for a chunk
		 * more, so that we read the receiver's head line once per
		 * chunk, not once per send while it writes it. */
		rc = reserve(mb, &o[i], rec,
		             waited || timeout_ms == 0
		                     ? 0
		                     : roost__mbox_space_chunk(mb, o[i].o_lane),
		             &tail, &span);
		if (rc < 0)
			goto out_unlock;
		if (rc == 0) {
			append(mb, &o[i], rec, tail, span, now);
			i++;
			waited = false;
			/* Seized mid-batch (tag-replace): what we write from
			 * here on would land where nobody reads. */
			if (i < n && !roost__lock_held(&h->mh_lock.lk_lock))
				goto seized;
			continue;
		}
		/* Full, or less than a chunk free. */
		waited = true;
		if (tail + span + ROOST_RING_SLACK - h->mh_head_cache[o[i].o_lane] >
		            mb->mb_cap[o[i].o_lane] &&
		    !counted_block) {
			roost__bump_1w(&h->mh_blocked, 1);
			counted_block = true;
		}
		/* A seize after our last check of the lock found every record
		 * of ours committed, and copied (tag-replace): the retry below
		 * meets REPLACED and sends the rest to the new segment. */
		roost__mbox_unlock(mb);
		/* What this batch committed so far must be seen, or the room
		 * we wait for never comes. */
		if (i > 0)
			wake_receiver(h);
		*done = i;
		if (timeout_ms == 0)
			return -EAGAIN;
		rc = roost__mbox_wait_space(mb, o[i].o_lane,
		                            span + ROOST_RING_SLACK, timeout_ms,
		                            &deadline, &poll_ns);
		if (rc < 0)
			return rc;
		rc = roost__mbox_lock_send(mb, timeout_ms, &deadline);
		if (rc < 0)
			return rc;
	}
	if (!roost__lock_drop(&h->mh_lock.lk_lock))
		goto lost;
	wake_receiver(h);
	*done = n;
	/* Ask now, for writing, for ring lines a few records ahead: the
	 * unlock waits for every store of a send to reach its line, and
	 * these lines are still in the receiver's cache from the last lap.
	 * Never the next record's line: an idle receiver polls it. A hint
	 * only; it changes no memory. */
	roost__mbox_prefetch_ahead(mb, o[n - 1].o_lane, tail + span, rec);
	return 0;

seized:
	/* Our drop will find another word; the outcome of the last record
	 * decides, the rest is sent again by the caller. */
	roost__lock_drop(&h->mh_lock.lk_lock);
lost:
	rc = seized_outcome(mb, tail + 1);
	if (rc == 0)
		wake_receiver(h);
	*done = rc == 0 ? i : i - 1;
	return *done == n ? 0 : -ESTALE;

out_unlock:
	roost__mbox_unlock(mb);
	if (i > 0)
		wake_receiver(h);
	*done = i;
	return rc;
}

/* How many of 'o' go through the shared lanes from here: all, unless we
 * hold a private lane; then up to the next user message it takes. */
static size_t
shared_run(const struct roost__mbox *mb, const struct roost__out *o,
           size_t n)
{
	size_t i;

	if (mb->mb_plane == 0)
		return n;
	for (i = 0; i < n; i++) {
		if (o[i].o_lane == ROOST_LANE_USR &&
		    o[i].o_size <= mb->mb_max_payload[mb->mb_plane])
			break;
	}
	return i;
}

static bool
has_user(const struct roost__out *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (o[i].o_lane == ROOST_LANE_USR)
			return true;
	}
	return false;
}

int
roost__mbox_push_many(struct roost__mbox *mb, const struct roost__out *o,
                      size_t n, int timeout_ms, size_t *done)
{
	uint64_t deadline = 0;
	size_t run;
	size_t sent;
	int prun;
	size_t i;
	int rc;

	*done = 0;
	/* A message that can never fit is refused before any is sent. */
	for (i = 0; i < n; i++) {
		if (o[i].o_size > mb->mb_max_payload[o[i].o_lane])
			return -EMSGSIZE;
	}
	while (*done < n) {
		prun = roost__mbox_private_run(mb, o + *done, n - *done,
		                               timeout_ms, &deadline);
		if (prun < 0)
			return prun;
		run = (size_t)prun;
		if (run > 0) {
			rc = roost__mbox_push_private(mb, o + *done, run,
			                              timeout_ms, &sent);
		} else {
			run = shared_run(mb, o + *done, n - *done);
			/* Too large for our private lane: it goes after
			 * what that lane holds of ours (tag-private). */
			rc = has_user(o + *done, run)
			             ? roost__mbox_leave_private(mb, timeout_ms,
			                                         &deadline)
			             : 0;
			sent = 0;
			if (rc == 0)
				rc = push_shared(mb, o + *done, run, timeout_ms,
				                 &sent);
		}
		*done += sent;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
roost__mbox_push(struct roost__mbox *mb, const struct roost__out *o,
                 int timeout_ms)
{
	size_t done;

	return roost__mbox_push_many(mb, o, 1, timeout_ms, &done);
}

int
roost__mbox_shut_user(struct roost__mbox *mb, int timeout_ms)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t deadline = 0;
	uint32_t state = ROOST_MBOX_OPEN;
	int rc;

	rc = roost__mbox_lock(mb, timeout_ms, &deadline);
	if (rc < 0)
		return rc;
	/* Under the lock, so no sender is between its state check and its
	 * commit: every record committed so far is before the mark, every
	 * later user send sees the mark. A CAS, not a store: a replacement
	 * that seized the lock from us must stay REPLACED. Pairs with the
	 * acquire of lk_state in roost__mbox_push(). */
	if (!roost__cas_acqrel(&h->mh_lock.lk_state, &state,
	                       ROOST_MBOX_USER_SHUT)) {
		if (state == ROOST_MBOX_CLOSED)
			rc = -ESRCH;
		else if (state == ROOST_MBOX_USER_SHUT)
			rc = -EALREADY;
		else if (state == ROOST_MBOX_REPLACED)
			rc = -ESTALE;
		else
			rc = ROOST_CORRUPT();
	}
	/* Still under the lock: the private lanes' marks (tag-private). */
	if (rc == 0)
		roost__mbox_marks_locked(mb);
	roost__mbox_unlock(mb);
	return rc;
}
