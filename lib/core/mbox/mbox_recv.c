/* SPDX-License-Identifier: MIT */
/*
 * mbox_recv.c - the receiver side of a mailbox. Only the mailbox's owner
 * runs this code, and it never takes mh_lock on the normal path: it
 * follows the chain of committed records from its head (tag-rec-commit),
 * hands one out as a view, and releases it (moves the head) on its next
 * call. It never reads the senders' cache line while messages flow.
 *
 * Every record header is copied out of shared memory and validated before
 * use; the positions it trusts are its own copies in struct roost__rx.
 */
#include "core/mbox/mbox.h"

#define ROOST_SPIN_NS_DEF 50000u
/* The high-water mark is sampled from the tails every this many
 * releases (reading a tail costs a cache-line transfer). */
#define HIGH_WATER_SAMPLE 64u
/* Most pause instructions between two polls of an empty lane (the first
 * polls, before the clock is read, double up to it). */
#define SPIN_BACKOFF_MAX 256
/* A spin budget below this is none, and it halves only after this many
 * waits in a row that outlasted the largest spin (see note_wait). */
#define SPIN_MISSES_TO_HALVE 4
#define SPIN_BUDGET_STEP_NS 1000u
/* Messages taken from one user lane in a row before the next lane gets
 * the first look (fairness among senders with private lanes). */
#define USER_BURST 32u
/* Room given back on a lane between two wake-ups of senders sleeping
 * for it (see store_head). */
#define SPACE_KICK_DIV 16u

/* The private lanes worth a look (bit i: lane ROOST_LANE_PRIV0 + i):
 * those ever claimed (lk_lanes, set by claimants under the lock), or all
 * after a wake-up found nothing there (a scribbled hint costs a full
 * look, never a message). Skipping the others keeps a receiver's cold
 * wake-up to the lines it needs (tag-private). */
static uint32_t
live_lanes(const struct roost__mbox *mb, const struct roost__rx *rx)
{
	return rx->rx_scan_all ? ~0u
	                       : roost__load_rlx(&mb->mb_hdr->mh_lock.lk_lanes);
}

/* Is 'lane' among 'lanes' (ROOST_LANE_SYSTEM / ROOST_LANE_USER bits)
 * and, if private, among 'live'? Every private lane is a user lane. */
static bool
lane_wanted(unsigned lanes, uint32_t live, unsigned lane)
{
	if (lane < ROOST_NSHARED)
		return (lanes & (1u << lane)) != 0;
	return (lanes & ROOST_LANE_USER) != 0 &&
	       (live & (1u << (lane - ROOST_LANE_PRIV0))) != 0;
}

/* Wake the senders that sleep for space, if any (tag-space). Relaxed: a
 * missed flag costs a sender one bounded poll period. */
static void
kick_space(struct roost__mbox_hdr *h)
{
	if (roost__load_rlx(&h->mh_space_waiters) != 0 &&
	    roost__xchg_acqrel(&h->mh_space_waiters, 0) != 0) {
		roost__add_rel(&h->mh_space_seq, 1);
		roost__plat_futex_wake((uint32_t *)&h->mh_space_seq, INT32_MAX);
	}
}

/* Publish a new head. Pairs with the acquire of mh_head by senders that
 * find the lane full: they may reuse the bytes before it. tag-rec-release
 * A sleeping sender is woken once a sixteenth of the lane was given back
 * since the last wake-up (or when we go idle, see wait_more): woken for
 * one record's room, it would fill the lane again at once and sleep
 * again, a system call pair per message. */
static void
store_head(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
           uint64_t head)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	rx->rx_head[lane] = head;
	roost__store_rel(&h->mh_head[lane], head);
	if (head - rx->rx_kicked[lane] >= mb->mb_cap[lane] / SPACE_KICK_DIV) {
		rx->rx_kicked[lane] = head;
		kick_space(h);
	}
}

/* Tombstone a record taken out of order. Atomic because tools may read
 * the flags concurrently. The head must skip it: remember how far
 * tombstones reach. */
static void
mark_done(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
          uint64_t pos)
{
	__atomic_fetch_or(&roost__mbox_rec_at(mb, lane, pos)->rc_flags,
	                  ROOST_REC_DONE, __ATOMIC_RELEASE);
	if ((int64_t)(pos + ROOST_REC_ALIGN - rx->rx_tomb_end[lane]) > 0)
		rx->rx_tomb_end[lane] = pos + ROOST_REC_ALIGN;
}

/* Move the head from 'head' over PAD and DONE records, then publish it. */
static void
advance_head(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
             uint64_t head)
{
	uint64_t start = rx->rx_head[lane];
	struct roost__rec r;

	while (head - start < mb->mb_cap[lane]) {
		/* Most often the next record is a message (or not there yet):
		 * one look at its flags, and the full check is left to the
		 * scan that hands it out. */
		if (!roost__mbox_committed(mb, lane, head) ||
		    !(__atomic_load_n(&roost__mbox_rec_at(mb, lane, head)
		                               ->rc_flags,
		                      __ATOMIC_RELAXED) &
		      (ROOST_REC_PAD | ROOST_REC_DONE)) ||
		    roost__mbox_read_rec(mb, lane, head, &r) < 0)
			break;
		head += r.rc_len;
	}
	store_head(mb, rx, lane, head);
}

/* Sample occupancy for the high-water mark: both tails, checked. */
static void
sample_high_water(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint32_t live = live_lanes(mb, rx);
	uint64_t used = 0;
	uint64_t d;
	unsigned lane;

	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		if (!lane_wanted(ROOST_LANE_ANY, live, lane))
			continue;
		d = roost__load_rlx(roost__mbox_tail_word(mb, lane)) -
		    rx->rx_head[lane];
		if (d > mb->mb_cap[lane])
			return; /* mid-repair or damaged: skip this sample */
		used += d;
	}
	roost__mbox_note_used(h, used);
}

int
roost__mbox_rx_init(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	struct roost__rec r;
	uint64_t head;
	uint64_t ipos;
	uint32_t ilane;
	unsigned lane;

	memset(rx, 0, sizeof(*rx));
	rx->rx_spin_ns = ROOST_SPIN_NS_DEF;
	rx->rx_spin_budget = ROOST_SPIN_NS_DEF;
	rx->rx_user_first = ROOST_LANE_USR;
	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		head = roost__load_acq(&h->mh_head[lane]);
		if (head % ROOST_REC_ALIGN != 0)
			return ROOST_CORRUPT();
		rx->rx_head[lane] = head;
		rx->rx_kicked[lane] = head;
		/* Tombstones of a previous owner lie within the chain. */
		rx->rx_tomb_end[lane] = roost__mbox_chain_end(mb, lane, head);
	}
	/* A previous owner died while handling a message: it is still
	 * queued (its head never moved past it); mark it redelivered. */
	ipos = roost__load_rlx(&h->mh_inflight_pos);
	ilane = roost__load_rlx(&h->mh_inflight_lane);
	if (ipos != 0 && ilane < mb->mb_nlanes) {
		ipos--;
		lane = ilane;
		if (ipos - rx->rx_head[lane] < mb->mb_cap[lane] &&
		    roost__mbox_committed(mb, lane, ipos) &&
		    roost__mbox_read_rec(mb, lane, ipos, &r) == 0 &&
		    !(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE)))
			__atomic_fetch_or(&roost__mbox_rec_at(mb, lane, ipos)
			                           ->rc_flags,
			                  ROOST_REC_REDELIVERED, __ATOMIC_RELAXED);
	}
	roost__store_rlx(&h->mh_inflight_pos, 0);
	return 0;
}

static void fill_msg(struct roost_msg *m, const struct roost__mbox *mb,
                     unsigned lane, uint64_t pos,
                     const struct roost__rec *r);

int
roost__mbox_retire_poison(struct roost__mbox *mb,
                          void (*fn)(void *arg, const struct roost_msg *m),
                          void *arg)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	struct roost_msg m;
	struct roost__rec r;
	uint64_t head;
	uint64_t ipos;
	uint32_t lane;

	ipos = roost__load_rlx(&h->mh_inflight_pos);
	lane = roost__load_rlx(&h->mh_inflight_lane);
	if (ipos == 0 || lane >= mb->mb_nlanes)
		return 0;
	ipos--;
	head = roost__load_acq(&h->mh_head[lane]);
	/* Checked as in rx_init: only a committed, live record inside the
	 * queued part of the ring, already handed out once before. */
	if (head % ROOST_REC_ALIGN != 0 || ipos - head >= mb->mb_cap[lane] ||
	    !roost__mbox_committed(mb, lane, ipos) ||
	    roost__mbox_read_rec(mb, lane, ipos, &r) < 0 ||
	    (r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE)) ||
	    !(r.rc_flags & ROOST_REC_REDELIVERED))
		return 0;
	fill_msg(&m, mb, lane, ipos, &r);
	fn(arg, &m);
	/* The owner is dead, so nobody else moves this lane's head: the
	 * tombstone is skipped by the next owner like any taken record. */
	__atomic_fetch_or(&roost__mbox_rec_at(mb, lane, ipos)->rc_flags,
	                  ROOST_REC_DONE, __ATOMIC_RELEASE);
	roost__store_rlx(&h->mh_inflight_pos, 0);
	/* The owner's counter, and the owner is dead: one writer still. */
	roost__bump_1w(&h->mh_dequeued, 1);
	return 1;
}

void
roost__mbox_release(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	unsigned lane = rx->rx_inflight_lane;
	uint64_t pos = rx->rx_inflight_pos;

	if (!rx->rx_has_inflight)
		return;
	rx->rx_has_inflight = false;
	if (pos == rx->rx_head[lane]) {
		/* The length was validated when it was handed out; use the
		 * copy, not the shared word. With no tombstone ahead, the
		 * head goes just past it: reading the next record here
		 * would pull in the line its sender may be writing. A PAD
		 * left before the head is skipped at the next release. */
		pos += roost__rec_bytes(rx->rx_msg.m_size);
		if ((int64_t)(pos - rx->rx_tomb_end[lane]) >= 0)
			store_head(mb, rx, lane, pos);
		else
			advance_head(mb, rx, lane, pos);
	} else {
		/* Taken past PADs or past messages a selective receive left
		 * queued: leave a tombstone, then let the head skip what it
		 * can. */
		mark_done(mb, rx, lane, pos);
		advance_head(mb, rx, lane, rx->rx_head[lane]);
	}
	roost__bump_1w(&h->mh_dequeued, 1);
	/* mh_inflight_pos stays: once the head has passed it, or it is
	 * DONE, rx_init ignores it. */
}

static void
fill_msg(struct roost_msg *m, const struct roost__mbox *mb, unsigned lane,
         uint64_t pos, const struct roost__rec *r)
{
	uint32_t f = 0;

	m->m_from = r->rc_from;
	m->m_corr = r->rc_corr;
	m->m_kind = r->rc_kind;
	m->m_time_ns = r->rc_time_ns;
	m->m_size = r->rc_size;
	m->m_data = (const uint8_t *)roost__mbox_rec_at(mb, lane, pos) +
	            ROOST_REC_HDR;
	if (lane == ROOST_LANE_SYS)
		f |= ROOST_MSG_SYSTEM;
	if (r->rc_flags & ROOST_REC_MSGPACK)
		f |= ROOST_MSG_MSGPACK;
	if (r->rc_flags & ROOST_REC_REDELIVERED)
		f |= ROOST_MSG_REDELIVERED;
	if (r->rc_flags & ROOST_REC_REPLY)
		f |= ROOST_MSG_REPLY;
	m->m_flags = f;
}

/*
 * The chain is damaged at 'pos' (a committed record that fails
 * validation, or a tail beyond an uncommitted position). Under the lock
 * (no sender mid-write), make 'pos' the tail again: its commit word is
 * cleared, so the next sender's record there is never seen half-written,
 * and whatever lay between 'pos' and the old tail is dropped (it could not
 * be parsed). The change is in shared memory, so a later re-derivation of
 * the tail by a sender's repair agrees with it. Counted once.
 */
static void
skip_corrupt_locked(struct roost__mbox *mb, struct roost__rx *rx,
                    unsigned lane, uint64_t pos)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	roost__add_rlx(&h->mh_corrupt, 1);
	roost__store_rlx(&roost__mbox_rec_at(mb, lane, pos)->rc_commit, 0);
	roost__store_rel(&h->mh_tail[lane], pos);
	h->mh_head_cache[lane] = rx->rx_head[lane];
}

static void
skip_corrupt(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
             uint64_t pos)
{
	uint64_t deadline = 0;

	/* A private lane's tail is its sender's: only a new segment mends
	 * it (tag-private). */
	if (roost__lane_private(lane)) {
		roost__add_rlx(&mb->mb_hdr->mh_corrupt, 1);
		mb->mb_damaged = true;
		return;
	}

	/* A busy lock (a stopped sender) leaves the run for the next call;
	 * the receiver never waits on senders. */
	if (roost__mbox_lock(mb, 0, &deadline) < 0)
		return;
	skip_corrupt_locked(mb, rx, lane, pos);
	roost__mbox_unlock(mb);
}

/*
 * Scan 'lane' from '*from' for a record that 'match' accepts, filling
 * 'm' with each candidate. Returns 1 and '*at' when found; 0 when the
 * chain ends (and '*from' is left at its end, so a later scan in the same
 * wait starts there); ROOST_ECORRUPT when a record failed validation (it
 * is skipped from now on).
 */
static int
scan_lane(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
          roost_match_fn match, void *arg, struct roost_msg *m,
          uint64_t *from, uint64_t *at)
{
	uint64_t head = rx->rx_head[lane];
	uint64_t pos = *from;
	struct roost__rec r;

	if (pos - head >= mb->mb_cap[lane])
		pos = head;
	while (pos - head < mb->mb_cap[lane]) {
		if (!roost__mbox_committed(mb, lane, pos) ||
		    (roost__lane_private(lane) &&
		     !roost__mbox_priv_deliverable(mb, lane, pos)))
			break;
		if (roost__mbox_read_rec(mb, lane, pos, &r) < 0) {
			skip_corrupt(mb, rx, lane, pos);
			*from = rx->rx_head[lane];
			return ROOST_ECORRUPT;
		}
		/* The message in hand is not a candidate: it is taken. */
		if (!(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE)) &&
		    !(rx->rx_has_inflight && rx->rx_inflight_lane == lane &&
		      rx->rx_inflight_pos == pos)) {
			fill_msg(m, mb, lane, pos, &r);
			if (match == NULL || match(m, arg)) {
				*at = pos;
				return 1;
			}
		}
		pos += r.rc_len;
	}
	*from = pos;
	return 0;
}

/*
 * The chains of 'lanes' end at 'from', yet a sender may have moved the
 * tail past it: then a commit word was damaged and, unchecked, the lane
 * would stay wedged (senders see it full, we see it empty). Checked only
 * before sleeping or giving up, since reading a tail costs a cache-line
 * transfer. Under the lock no sender is mid-write, so a tail beyond an
 * uncommitted position is proof of damage: the run is skipped.
 * Returns ROOST_ECORRUPT when it skipped something, else 0.
 */
static int
check_wedged(struct roost__mbox *mb, struct roost__rx *rx, unsigned lanes,
             const uint64_t *from)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint32_t live = live_lanes(mb, rx);
	uint64_t deadline = 0;
	uint64_t pos;
	uint64_t tail;
	unsigned lane;
	int rc = 0;

	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		if (!lane_wanted(lanes, live, lane))
			continue;
		pos = from[lane];
		/* Pairs with the senders' release of the tail: every record
		 * before it is committed, unless damaged. */
		if (roost__load_acq(roost__mbox_tail_word(mb, lane)) == pos)
			continue;
		if (roost__lane_private(lane)) {
			/* Its sender stores the tail after the commits, so
			 * a tail past 'pos' with nothing committed at 'pos'
			 * is damage; one behind it is a sender between its
			 * commit and its tail. Only a new segment mends a
			 * private lane. */
			tail = roost__load_acq(roost__mbox_tail_word(mb, lane));
			if (tail - pos - 1 < mb->mb_cap[lane] &&
			    !roost__mbox_committed(mb, lane, pos)) {
				roost__add_rlx(&h->mh_corrupt, 1);
				mb->mb_damaged = true;
				rc = ROOST_ECORRUPT;
			}
			continue;
		}
		/* Never wait here: a busy lock means a sender is writing
		 * (not a wedge), or is stopped, and we must not stop too. */
		if (roost__mbox_lock(mb, 0, &deadline) < 0)
			continue;
		tail = roost__load_rlx(&h->mh_tail[lane]);
		if (tail != pos && !roost__mbox_committed(mb, lane, pos)) {
			skip_corrupt_locked(mb, rx, lane, pos);
			rc = ROOST_ECORRUPT;
		}
		roost__mbox_unlock(mb);
	}
	return rc;
}

static bool
more_arrived(const struct roost__mbox *mb, uint32_t live, unsigned lanes,
             const uint64_t *from)
{
	unsigned lane;

	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		if (!lane_wanted(lanes, live, lane))
			continue;
		/* A private lane: its tail first, a line its sender writes
		 * once per send, not the record line it is writing
		 * (tag-private). */
		if (roost__lane_private(lane) &&
		    roost__load_acq(&roost__mbox_plane(mb, lane)->pl_tail) ==
		            from[lane])
			continue;
		if (roost__mbox_committed(mb, lane, from[lane]) &&
		    (!roost__lane_private(lane) ||
		     roost__mbox_priv_deliverable(mb, lane, from[lane])))
			return true;
	}
	return false;
}

/* Consume a pending interrupt. */
static bool
take_interrupt(struct roost__rx *rx)
{
	return roost__load_rlx(&rx->rx_interrupt) != 0 &&
	       roost__xchg_acqrel(&rx->rx_interrupt, 0) != 0;
}

void
roost__mbox_interrupt(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	/* The flag, then the sequence the sleeper compares (seq-cst both):
	 * a receiver that loaded the old sequence before our bump sees the
	 * futex word changed and does not sleep; one that loads it after
	 * sees the flag when it checks. */
	roost__store_sc(&rx->rx_interrupt, 1);
	atomic_fetch_add_explicit(&h->mh_lock.lk_wake_seq, 1,
	                          memory_order_seq_cst);
	roost__plat_futex_wake((uint32_t *)&h->mh_lock.lk_wake_seq, INT32_MAX);
}

/*
 * Adapt the spin budget to what waiting cost last time (tag-wake): a
 * message that came within the largest budget says spinning pays (the
 * whole budget again: a short budget turns a late message into a sleep,
 * and a wake-up costs tens of microseconds); a longer wait says it does
 * not (the budget halves, to none). With many actors on few CPUs the
 * budget goes to zero and a receiver sleeps at once, as on a pipe.
 */
static void
note_wait(struct roost__rx *rx, uint64_t waited_ns)
{
	if (waited_ns < rx->rx_spin_ns) {
		rx->rx_spin_budget = rx->rx_spin_ns;
		rx->rx_spin_misses = 0;
	} else if (++rx->rx_spin_misses >= SPIN_MISSES_TO_HALVE) {
		rx->rx_spin_misses = 0;
		rx->rx_spin_budget /= 2;
		if (rx->rx_spin_budget < SPIN_BUDGET_STEP_NS)
			rx->rx_spin_budget = 0;
	}
}

/* Did the last sender, on the shared lanes or on any private lane, run
 * on our CPU? (tag-wake) */
static bool
last_sender_here(const struct roost__mbox *mb, const struct roost__rx *rx)
{
	uint32_t cpu = (uint32_t)roost__plat_cpu() + 1;
	uint32_t live = live_lanes(mb, rx);
	unsigned lane;

	if (roost__load_rlx(&mb->mb_hdr->mh_lock.lk_sender_cpu) == cpu)
		return true;
	for (lane = ROOST_LANE_PRIV0; lane < mb->mb_nlanes; lane++) {
		if (lane_wanted(ROOST_LANE_USER, live, lane) &&
		    roost__load_rlx(&roost__mbox_plane(mb, lane)->pl_cpu) == cpu)
			return true;
	}
	return false;
}

/*
 * Spin until a record is committed at the end of a scanned chain of
 * 'lanes', for at most the spin budget. Returns 1 (arrived), 0 (budget
 * spent or none), -EINTR or -ETIMEDOUT.
 */
static int
spin_more(struct roost__mbox *mb, struct roost__rx *rx, unsigned lanes,
          const uint64_t *from, uint64_t deadline, uint64_t *t0)
{
	uint64_t now;
	int backoff;
	int i;

	if (rx->rx_spin_budget == 0)
		return 0;
	/* The last sender ran on our CPU: it cannot send while we spin.
	 * Hand it the CPU first (a yield returns at once when nobody else
	 * wants this CPU); two processes on one CPU then pass messages by
	 * yields, cheaper than a futex wake and sleep. */
	if (last_sender_here(mb, rx))
		roost__plat_yield();
	/* Poll with a growing pause: a receiver that re-reads the line a
	 * sender is writing steals it on every store; backing off lets
	 * records accumulate. The first polls read no clock (a clock read
	 * costs about as much as a message). */
	for (backoff = 1; backoff <= SPIN_BACKOFF_MAX; backoff <<= 1) {
		if (more_arrived(mb, live_lanes(mb, rx), lanes, from))
			return 1;
		if (take_interrupt(rx))
			return -EINTR;
		for (i = 0; i < backoff; i++)
			roost__cpu_relax();
	}
	*t0 = roost__plat_now_ns();
	now = *t0;
	while (now - *t0 < rx->rx_spin_budget) {
		if (more_arrived(mb, live_lanes(mb, rx), lanes, from)) {
			note_wait(rx, now - *t0);
			return 1;
		}
		if (take_interrupt(rx))
			return -EINTR;
		for (i = 0; i < SPIN_BACKOFF_MAX; i++)
			roost__cpu_relax();
		/* A third process on our CPU may be the sender: let it run
		 * (returns at once when nobody waits for the CPU). */
		roost__plat_yield();
		now = roost__plat_now_ns();
		if (deadline != 0 && now >= deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

/*
 * Wait until a record is committed at the end of a scanned chain of
 * 'lanes' or 'deadline' passes: spin while spinning pays (spin_more),
 * then sleep on lk_wake_seq (tag-wake), with no period: an idle receiver
 * makes no wake-ups. Returns 0, -ETIMEDOUT, -EINTR, ROOST_ECORRUPT when
 * a wedged lane was found and skipped (see check_wedged), or -ESTALE when
 * the mailbox must be replaced.
 */
static int
wait_more(struct roost__mbox *mb, struct roost__rx *rx, unsigned lanes,
          const uint64_t *from, uint64_t deadline)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t t0 = 0;
	uint64_t now;
	int64_t rel;
	uint32_t seq;
	int rc;

	rc = spin_more(mb, rx, lanes, from, deadline, &t0);
	if (rc != 0)
		return rc < 0 ? rc : 0;
	if (t0 == 0)
		t0 = roost__plat_now_ns();
	sample_high_water(mb, rx);
	/* Idle: whatever we gave back is all there is for now. */
	kick_space(h);
	for (;;) {
		/* A sender asked for a new segment, or this one is damaged:
		 * the caller replaces it (tag-replace). */
		if (!rx->rx_replace_failed && roost__mbox_needs_replace(mb))
			return -ESTALE;
		rc = check_wedged(mb, rx, lanes, from);
		if (rc < 0)
			return rc;
		seq = roost__load_acq(&h->mh_lock.lk_wake_seq);
		roost__store_sc(&h->mh_lock.lk_sleeping, 1);
		/* Pairs with the fence in wake_receiver(): either the sender
		 * sees lk_sleeping, or we see its commit. Every lane: a
		 * claim whose lk_lanes bit a scribbler cleared must not
		 * leave its first records unseen while nobody wakes us. */
		roost__fence_sc();
		if (more_arrived(mb, ~0u, lanes, from)) {
			roost__store_rlx(&h->mh_lock.lk_sleeping, 0);
			break;
		}
		/* After the seq load: an interrupt later than this check
		 * bumps lk_wake_seq, so the futex wait returns at once. */
		if (take_interrupt(rx)) {
			roost__store_rlx(&h->mh_lock.lk_sleeping, 0);
			return -EINTR;
		}
		rel = -1;
		if (deadline != 0) {
			now = roost__plat_now_ns();
			if (now >= deadline) {
				roost__store_rlx(&h->mh_lock.lk_sleeping, 0);
				return -ETIMEDOUT;
			}
			rel = (int64_t)(deadline - now);
		}
		roost__plat_futex_wait((uint32_t *)&h->mh_lock.lk_wake_seq, seq,
		                       rel);
		roost__store_rlx(&h->mh_lock.lk_sleeping, 0);
		if (more_arrived(mb, live_lanes(mb, rx), lanes, from))
			break;
		/* Woken for nothing where the hint says: look everywhere
		 * (a scribbled lk_lanes, or a spurious wake). */
		if (more_arrived(mb, ~0u, lanes, from)) {
			rx->rx_scan_all = true;
			break;
		}
	}
	/* The pre-sleep look may have found it outside the hint too. */
	if (!more_arrived(mb, live_lanes(mb, rx), lanes, from))
		rx->rx_scan_all = true;
	note_wait(rx, roost__plat_now_ns() - t0);
	return 0;
}

/* A message was found on user lane 'lane': it keeps the first look for
 * USER_BURST messages in a row, then the next lane has it. */
static void
next_turn(const struct roost__mbox *mb, struct roost__rx *rx, unsigned lane)
{
	unsigned nuser = mb->mb_nlanes - ROOST_LANE_USR;

	if (lane != rx->rx_user_first || ++rx->rx_user_burst >= USER_BURST) {
		rx->rx_user_burst = 0;
		rx->rx_user_first =
			lane == rx->rx_user_first
				? ROOST_LANE_USR +
				          (lane - ROOST_LANE_USR + 1) % nuser
				: lane;
	}
}

/*
 * Find the oldest record on 'lanes' that 'match' accepts, waiting up to
 * 'timeout_ns' (< 0: no limit); 'm' is filled with it. Sets '*lane' and
 * '*at'. Returns 0, -EAGAIN (timeout 0), -ETIMEDOUT, -EINTR or
 * ROOST_ECORRUPT.
 */
static int
find_match(struct roost__mbox *mb, struct roost__rx *rx, unsigned lanes,
           roost_match_fn match, void *arg, int64_t timeout_ns,
           struct roost_msg *m, unsigned *lane, uint64_t *at)
{
	uint64_t from[ROOST_NLANES];
	uint64_t deadline = 0;
	unsigned nuser = mb->mb_nlanes - ROOST_LANE_USR;
	uint32_t live;
	unsigned k;
	unsigned l;
	int rc;

	for (l = 0; l < mb->mb_nlanes; l++)
		from[l] = rx->rx_head[l];
	for (;;) {
		live = live_lanes(mb, rx);
		rx->rx_scan_all = false;
		/* System lane first: stop requests and replies never wait
		 * behind user messages. Then the user lanes, from the one
		 * whose turn it is. */
		for (k = 0; k <= nuser; k++) {
			l = k == 0 ? ROOST_LANE_SYS
			           : ROOST_LANE_USR +
			                     (rx->rx_user_first - ROOST_LANE_USR +
			                      k - 1) % nuser;
			if (!lane_wanted(lanes, live, l))
				continue;
			rc = scan_lane(mb, rx, l, match, arg, m, &from[l], at);
			if (rc < 0)
				return rc;
			if (rc == 1) {
				*lane = l;
				if (l != ROOST_LANE_SYS)
					next_turn(mb, rx, l);
				return 0;
			}
		}
		if (timeout_ns == 0) {
			rc = check_wedged(mb, rx, lanes, from);
			return rc < 0 ? rc : -EAGAIN;
		}
		/* The clock is read only when we must wait: a message already
		 * there costs no clock read. */
		if (timeout_ns > 0 && deadline == 0)
			deadline = roost__plat_now_ns() + (uint64_t)timeout_ns;
		rc = wait_more(mb, rx, lanes, from, deadline);
		if (rc < 0)
			return rc;
	}
}

/* Owner: move to a new segment (tag-replace). A failure (no room in
 * /dev/shm, say) clears the request; senders ask again after another
 * unblock time, and waits stop asking until the next periodic check. */
static void
replace_now(struct roost__mbox *mb, struct roost__rx *rx)
{
	rx->rx_replace_failed = roost__mbox_replace(mb, rx) < 0;
	if (rx->rx_replace_failed)
		roost__store_rlx(&mb->mb_hdr->mh_lock.lk_replace, 0);
}

/* find_match, replacing the mailbox when a wait says it must be. */
static int
find_match_replacing(struct roost__mbox *mb, struct roost__rx *rx,
                     unsigned lanes, roost_match_fn match, void *arg,
                     int64_t timeout_ns, struct roost_msg *m,
                     unsigned *lane, uint64_t *at)
{
	int rc;

	for (;;) {
		rc = find_match(mb, rx, lanes, match, arg, timeout_ns, m, lane,
		                at);
		if (rc != -ESTALE)
			return rc;
		replace_now(mb, rx);
	}
}

int
roost__mbox_take(struct roost__mbox *mb, struct roost__rx *rx,
                 unsigned lanes, roost_match_fn match, void *arg,
                 int64_t timeout_ns, struct roost_msg **out)
{
	struct roost__mbox_hdr *h;
	uint64_t at = 0;
	unsigned lane = 0;
	int rc;

	if (rx->rx_sample++ % HIGH_WATER_SAMPLE == 0) {
		sample_high_water(mb, rx);
		/* A busy owner never waits: look here too. */
		if (roost__mbox_needs_replace(mb))
			replace_now(mb, rx);
	}
	roost__mbox_release(mb, rx);
	rc = find_match_replacing(mb, rx, lanes, match, arg, timeout_ns,
	                          &rx->rx_msg, &lane, &at);
	if (rc < 0)
		return rc;
	h = mb->mb_hdr;
	rx->rx_has_inflight = true;
	rx->rx_inflight_lane = lane;
	rx->rx_inflight_pos = at;
	/* Relaxed: read only by a later owner after this one died, which
	 * the supervisor observes through the kernel (a full barrier). */
	roost__store_rlx(&h->mh_inflight_lane, lane);
	roost__store_rlx(&h->mh_inflight_pos, at + 1);
	*out = &rx->rx_msg;
	return 0;
}

int
roost__mbox_take_aside(struct roost__mbox *mb, struct roost__rx *rx,
                       unsigned lanes, roost_match_fn match, void *arg,
                       int timeout_ms)
{
	struct roost__mbox_hdr *h;
	struct roost_msg m;
	uint64_t at = 0;
	unsigned lane = 0;
	int rc;

	rc = find_match_replacing(mb, rx, lanes, match, arg,
	                          timeout_ms < 0 ? -1
	                                         : (int64_t)timeout_ms * 1000000,
	                          &m, &lane, &at);
	if (rc < 0)
		return rc;
	h = mb->mb_hdr;
	/* A tombstone, as for a message taken out of order; the head moves
	 * over it only up to the message in hand, which stays queued. */
	mark_done(mb, rx, lane, at);
	advance_head(mb, rx, lane, rx->rx_head[lane]);
	roost__bump_1w(&h->mh_dequeued, 1);
	return 0;
}
