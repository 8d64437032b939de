/* SPDX-License-Identifier: MIT */
/*
 * mbox_send.c - the sender side of a mailbox: lock, reserve, copy, commit,
 * wake; waiting for space when full; repairing after a sender that died
 * holding the lock.
 *
 * The copy happens under the lock. A 64-byte record costs a few
 * nanoseconds to copy, far less than the cache-line transfer every send
 * pays anyway, and it keeps crash repair trivial: nothing a dead sender
 * wrote is visible until the one release store of mh_tail.
 */
#include "roost_impl.h"

#include <time.h>

/* How long a sender spins re-reading the head of a full lane before it
 * sleeps, and the bounds of its sleep period (tag-space). */
#define SPACE_SPIN_NS 20000
#define SPACE_POLL_MIN_NS 100000
#define ROOST_SPACE_POLL_MAX_NS 10000000

/*
 * Called with mh_lock just taken from a dead owner (EOWNERDEAD), before
 * pthread_mutex_consistent(). The dead sender's record, if any, was never
 * published (its tail store is the commit), so it is simply dropped and
 * counted. Everything the senders' line holds is re-derived or checked.
 */
static void
repair_locked(struct roost__mbox *mb)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t wip = h->mh_wip_pos;
	uint32_t wlane = h->mh_wip_lane;
	unsigned lane;
	uint64_t head;
	uint64_t tail;

	if (wip != 0) {
		/* wip names tail+1 of the record being written; if the tail
		 * moved past it the record was published before the death. */
		if (wlane < ROOST_NLANES &&
		    roost__load_rlx(&h->mh_tail[wlane]) == wip - 1)
			roost__bump_1w(&h->mh_repaired, 1);
		h->mh_wip_pos = 0;
	}
	for (lane = 0; lane < ROOST_NLANES; lane++) {
		head = roost__load_acq(&h->mh_head[lane]);
		tail = roost__load_rlx(&h->mh_tail[lane]);
		h->mh_head_cache[lane] = head;
		/* A tail that cannot be right is pulled back to the head: the
		 * records in between are unreadable anyway. */
		if (tail % 8 != 0 || tail - head > mb->mb_cap[lane]) {
			roost__add_rlx(&h->mh_corrupt, 1); /* receiver's word */
			roost__store_rel(&h->mh_tail[lane], head);
		}
	}
}

static int
lock_mbox(struct roost__mbox *mb, const struct timespec *abs_rt)
{
	pthread_mutex_t *m = &mb->mb_hdr->mh_lock.lk_mutex;
	int r;

	r = pthread_mutex_trylock(m);
	if (r == EBUSY)
		r = abs_rt != NULL ? pthread_mutex_timedlock(m, abs_rt)
		                   : pthread_mutex_lock(m);
	if (r == 0)
		return 0;
	if (r == EOWNERDEAD) {
		repair_locked(mb);
		pthread_mutex_consistent(m);
		return 0;
	}
	if (r == ETIMEDOUT)
		return -ETIMEDOUT;
	/* ENOTRECOVERABLE or EINVAL: the lock word itself was scribbled. */
	return ROOST_CORRUPT();
}

static void
unlock_mbox(struct roost__mbox *mb)
{
	pthread_mutex_unlock(&mb->mb_hdr->mh_lock.lk_mutex);
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

/* Wake the receiver if, and only if, it said it sleeps (tag-wake). */
static void
wake_receiver(struct roost__mbox_hdr *h)
{
	/* Orders our tail store before the load of mh_sleeping; pairs with
	 * the fence in the receiver's sleep path. */
	roost__fence_sc();
	if (roost__load_rlx(&h->mh_sleeping) == 0)
		return;
	if (roost__xchg_acqrel(&h->mh_sleeping, 0) == 0)
		return; /* another sender did it */
	roost__add_rel(&h->mh_wake_seq, 1);
	roost__plat_futex_wake((uint32_t *)&h->mh_wake_seq, 1);
}

/*
 * Wait until the receiver frees space or 'deadline' (CLOCK_MONOTONIC ns,
 * 0 for none) passes. Called without the lock. Returns 0 to retry or
 * -ETIMEDOUT.
 */
static int
wait_space(struct roost__mbox *mb, unsigned lane, uint64_t need,
           uint64_t deadline, uint64_t *poll_ns)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t t0 = roost__plat_now_ns();
	uint64_t now = t0;
	uint64_t tail;
	uint32_t seq;
	int64_t wait;

	/* Spin briefly: a running receiver frees space within microseconds. */
	while (now - t0 < SPACE_SPIN_NS) {
		tail = roost__load_rlx(&h->mh_tail[lane]);
		if (tail + need - roost__load_acq(&h->mh_head[lane]) <=
		    mb->mb_cap[lane])
			return 0;
		if (roost__load_acq(&h->mh_state) == ROOST_MBOX_CLOSED)
			return 0; /* the retry reports it */
		for (int i = 0; i < 64; i++)
			roost__cpu_relax();
		now = roost__plat_now_ns();
	}
	if (deadline != 0 && now >= deadline)
		return -ETIMEDOUT;
	seq = roost__load_acq(&h->mh_space_seq);
	roost__store_sc(&h->mh_space_waiters, 1);
	roost__fence_sc();
	tail = roost__load_rlx(&h->mh_tail[lane]);
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
static uint64_t
span_at(uint64_t tail, uint32_t cap, uint64_t rec)
{
	uint64_t room = cap - (tail & (cap - 1));

	return rec <= room ? rec : room + rec;
}

/* Under the lock: write the record (and a PAD if needed) at 'tail'. */
static void
write_record(struct roost__mbox *mb, const struct roost__out *o,
             uint64_t tail, uint64_t rec)
{
	uint8_t *ring = mb->mb_ring[o->o_lane];
	uint32_t cap = mb->mb_cap[o->o_lane];
	uint64_t room = cap - (tail & (cap - 1));
	struct roost__rec *r;

	if (rec > room) {
		r = (struct roost__rec *)(ring + (tail & (cap - 1)));
		r->rc_len = (uint32_t)room;
		r->rc_flags = ROOST_REC_PAD;
		tail += room;
	}
	r = (struct roost__rec *)(ring + (tail & (cap - 1)));
	r->rc_len = (uint32_t)rec;
	r->rc_flags = o->o_flags & ROOST_REC_MSGPACK;
	r->rc_from = o->o_from;
	r->rc_corr = o->o_corr;
	r->rc_kind = o->o_kind;
	r->rc_size = (uint32_t)o->o_size;
	r->rc_time_ns = roost__plat_coarse_ns();
	if (o->o_size != 0)
		memcpy(r + 1, o->o_data, o->o_size);
}

static uint64_t
deadline_of(int timeout_ms)
{
	if (timeout_ms < 0)
		return 0;
	return roost__plat_now_ns() + (uint64_t)timeout_ms * 1000000u + 1;
}

static struct timespec *
deadline_rt(uint64_t deadline, struct timespec *ts)
{
	uint64_t now;
	uint64_t rt;

	if (deadline == 0)
		return NULL;
	now = roost__plat_now_ns();
	rt = roost__plat_realtime_ns() + (deadline > now ? deadline - now : 0);
	ts->tv_sec = (time_t)(rt / 1000000000u);
	ts->tv_nsec = (long)(rt % 1000000000u);
	return ts;
}

int
roost__mbox_push(struct roost__mbox *mb, const struct roost__out *o,
                 int timeout_ms)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	unsigned lane = o->o_lane;
	uint32_t cap = mb->mb_cap[lane];
	uint64_t rec;
	uint64_t span;
	uint64_t head;
	uint64_t tail;
	uint64_t deadline = 0;
	uint64_t poll_ns = SPACE_POLL_MIN_NS;
	bool counted_block = false;
	struct timespec ts;
	uint32_t state;
	int rc;

	if (o->o_size > mb->mb_max_payload[lane])
		return -EMSGSIZE;
	rec = roost__rec_bytes(o->o_size);
	if (timeout_ms > 0)
		deadline = deadline_of(timeout_ms);
	rc = lock_mbox(mb, deadline_rt(deadline, &ts));
	if (rc < 0)
		return rc;
	for (;;) {
		/* Pairs with the release in roost__mbox_close() and the stop
		 * path that shuts the user lane. */
		state = roost__load_acq(&h->mh_state);
		if (state == ROOST_MBOX_CLOSED) {
			rc = -ESRCH;
			goto out_unlock;
		}
		if (state == ROOST_MBOX_USER_SHUT && lane == ROOST_LANE_USR) {
			rc = -ESHUTDOWN;
			goto out_unlock;
		}
		/* Relaxed: only lock holders write the tail, and the lock's
		 * acquire orders us after the last of them. */
		tail = roost__load_rlx(&h->mh_tail[lane]);
		head = h->mh_head_cache[lane];
		span = span_at(tail, cap, rec);
		if (tail % 8 != 0 || tail - head > cap ||
		    tail + span - head > cap) {
			/* Pairs with the release of mh_head by the receiver:
			 * the records it freed are no longer read. */
			head = roost__load_acq(&h->mh_head[lane]);
			if (tail % 8 != 0 || head % 8 != 0 || tail - head > cap) {
				rc = ROOST_CORRUPT();
				goto out_unlock;
			}
			h->mh_head_cache[lane] = head;
			roost__mbox_note_used(h, tail - head);
		}
		if (tail + span - head <= cap)
			break;
		/* Full. */
		if (!counted_block) {
			roost__bump_1w(&h->mh_blocked, 1);
			counted_block = true;
		}
		unlock_mbox(mb);
		if (timeout_ms == 0)
			return -EAGAIN;
		if (deadline != 0 && roost__plat_now_ns() >= deadline)
			return -ETIMEDOUT;
		rc = wait_space(mb, lane, span, deadline, &poll_ns);
		if (rc < 0)
			return rc;
		rc = lock_mbox(mb, deadline_rt(deadline, &ts));
		if (rc < 0)
			return rc;
	}
	/* Crash marker first: a death from here on is repaired by the next
	 * locker (see repair_locked). Plain stores: under the lock. */
	h->mh_wip_lane = lane;
	h->mh_wip_pos = tail + 1;
	write_record(mb, o, tail, rec);
	/* Commit: publishes the record (and its PAD). Pairs with the acquire
	 * of mh_tail in the receiver. tag-rec-commit */
	roost__store_rel(&h->mh_tail[lane], tail + span);
	h->mh_wip_pos = 0;
	roost__bump_1w(&h->mh_enqueued, 1);
	roost__bump_1w(&h->mh_bytes_in, o->o_size);
	unlock_mbox(mb);
	wake_receiver(h);
	return 0;

out_unlock:
	unlock_mbox(mb);
	return rc;
}
