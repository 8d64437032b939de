/* SPDX-License-Identifier: MIT */
/*
 * mbox_recv.c - the receiver side of a mailbox. Only the mailbox's owner
 * runs this code, and it never takes mh_lock on the normal path: it reads
 * published records between its head and the senders' tail, hands one out
 * as a view, and releases it (moves the head) on its next call.
 *
 * Every record header is copied out of shared memory and validated before
 * use; the positions it trusts are its own copies in struct roost__rx.
 */
#include "roost_impl.h"

#define ROOST_SPIN_NS_DEF 50000u

/* Copy and validate the record header at 'pos' of 'lane', knowing the
 * published tail is 'tail'. Fills 'r' (for a PAD only rc_len and
 * rc_flags). Returns 0 or ROOST_ECORRUPT. */
static int
read_rec(const struct roost__mbox *mb, unsigned lane, uint64_t pos,
         uint64_t tail, struct roost__rec *r)
{
	uint32_t cap = mb->mb_cap[lane];
	uint64_t off = pos & (cap - 1);
	const uint8_t *p = mb->mb_ring[lane] + off;

	/* off is 8-aligned and cap a multiple of 8, so 8 bytes fit. */
	memcpy(r, p, ROOST_REC_MIN_PAD);
	if (r->rc_flags & ROOST_REC_PAD) {
		if (r->rc_len != cap - off || r->rc_len > tail - pos)
			return ROOST_CORRUPT();
		return 0;
	}
	if (r->rc_len < ROOST_REC_HDR || r->rc_len % 8 != 0 ||
	    r->rc_len > cap - off || r->rc_len > tail - pos)
		return ROOST_CORRUPT();
	memcpy(r, p, ROOST_REC_HDR);
	/* Re-check what the second copy may have changed. */
	if (r->rc_len < ROOST_REC_HDR || r->rc_len > cap - off ||
	    r->rc_len > tail - pos || (r->rc_flags & ~ROOST_REC_KNOWN) != 0 ||
	    (r->rc_flags & ROOST_REC_PAD) != 0 ||
	    r->rc_size > r->rc_len - ROOST_REC_HDR ||
	    roost__rec_bytes(r->rc_size) != r->rc_len)
		return ROOST_CORRUPT();
	return 0;
}

/* Publish a new head. Pairs with the acquire of mh_head by senders that
 * find the lane full: they may reuse the bytes before it. tag-rec-release */
static void
store_head(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
           uint64_t head)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	rx->rx_head[lane] = head;
	roost__store_rel(&h->mh_head[lane], head);
	/* A sender may sleep for space. Relaxed: a missed flag costs that
	 * sender one bounded poll period (tag-space). */
	if (roost__load_rlx(&h->mh_space_waiters) != 0 &&
	    roost__xchg_acqrel(&h->mh_space_waiters, 0) != 0) {
		roost__add_rel(&h->mh_space_seq, 1);
		roost__plat_futex_wake((uint32_t *)&h->mh_space_seq, INT32_MAX);
	}
}

/* Move the head over PAD and DONE records and over a known corrupt run,
 * up to the last validated tail. */
static void
advance_head(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
             uint64_t head)
{
	uint64_t tail = rx->rx_tail[lane];
	struct roost__rec r;

	while (head != tail) {
		if (rx->rx_bad_end[lane] != 0 && head == rx->rx_bad_pos[lane]) {
			head = rx->rx_bad_end[lane];
			rx->rx_bad_end[lane] = 0;
			continue;
		}
		if (read_rec(mb, lane, head, tail, &r) < 0)
			break; /* the next scan reports it */
		if (!(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE)))
			break;
		head += r.rc_len;
	}
	store_head(mb, rx, lane, head);
}

int
roost__mbox_rx_init(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	struct roost__rec r;
	uint64_t head;
	uint64_t tail;
	uint64_t ipos;
	uint32_t ilane;
	unsigned lane;

	memset(rx, 0, sizeof(*rx));
	rx->rx_spin_ns = ROOST_SPIN_NS_DEF;
	for (lane = 0; lane < ROOST_NLANES; lane++) {
		head = roost__load_acq(&h->mh_head[lane]);
		tail = roost__load_acq(&h->mh_tail[lane]);
		if (head % 8 != 0 || tail % 8 != 0 ||
		    tail - head > mb->mb_cap[lane])
			return ROOST_CORRUPT();
		rx->rx_head[lane] = head;
		rx->rx_tail[lane] = tail;
	}
	/* A previous owner died while handling a message: it is still
	 * queued (its head never moved past it); mark it redelivered. */
	ipos = roost__load_rlx(&h->mh_inflight_pos);
	ilane = roost__load_rlx(&h->mh_inflight_lane);
	if (ipos != 0 && ilane < ROOST_NLANES) {
		ipos--;
		lane = ilane;
		if (ipos - rx->rx_head[lane] < rx->rx_tail[lane] - rx->rx_head[lane] &&
		    ipos % 8 == 0 &&
		    read_rec(mb, lane, ipos, rx->rx_tail[lane], &r) == 0 &&
		    !(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE))) {
			__atomic_fetch_or(&((struct roost__rec *)(mb->mb_ring[lane] +
			                   (ipos & (mb->mb_cap[lane] - 1))))->rc_flags,
			                  ROOST_REC_REDELIVERED, __ATOMIC_RELAXED);
		}
	}
	roost__store_rlx(&h->mh_inflight_pos, 0);
	return 0;
}

void
roost__mbox_release(struct roost__mbox *mb, struct roost__rx *rx)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	unsigned lane = rx->rx_inflight_lane;
	uint64_t pos = rx->rx_inflight_pos;
	struct roost__rec *r;

	if (!rx->rx_has_inflight)
		return;
	rx->rx_has_inflight = false;
	if (pos == rx->rx_head[lane]) {
		/* The length was validated when it was handed out; use the
		 * copy, not the shared word. */
		advance_head(mb, rx, lane,
		             pos + roost__rec_bytes(rx->rx_msg.m_size));
	} else {
		/* Taken past PADs or past messages a selective receive left
		 * queued: leave a tombstone, then let the head skip what it
		 * can. Atomic because tools may read the flags concurrently. */
		r = (struct roost__rec *)(mb->mb_ring[lane] +
		                          (pos & (mb->mb_cap[lane] - 1)));
		__atomic_fetch_or(&r->rc_flags, ROOST_REC_DONE, __ATOMIC_RELEASE);
		advance_head(mb, rx, lane, rx->rx_head[lane]);
	}
	roost__bump_1w(&h->mh_dequeued, 1);
	roost__store_rlx(&h->mh_inflight_pos, 0);
}

/*
 * Load the lane's tail and check it against our head. A tail that cannot
 * be right is reset to our head under the lock (the records past it are
 * lost: they were unreadable) and reported once.
 */
static int
load_tail(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
          uint64_t *out)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t head = rx->rx_head[lane];
	uint64_t tail;
	int r;

	/* Pairs with the release of mh_tail in roost__mbox_push().
	 * tag-rec-commit */
	tail = roost__load_acq(&h->mh_tail[lane]);
	if (tail % 8 == 0 && tail - head <= mb->mb_cap[lane]) {
		if (tail != rx->rx_tail[lane]) {
			rx->rx_tail[lane] = tail;
			roost__mbox_note_used(h, tail - head +
			                      (rx->rx_tail[lane ^ 1] -
			                       rx->rx_head[lane ^ 1]));
		}
		*out = tail;
		return 0;
	}
	r = pthread_mutex_lock(&h->mh_lock.lk_mutex);
	if (r == EOWNERDEAD)
		pthread_mutex_consistent(&h->mh_lock.lk_mutex);
	else if (r != 0)
		return ROOST_CORRUPT();
	tail = roost__load_rlx(&h->mh_tail[lane]);
	if (tail % 8 != 0 || tail - head > mb->mb_cap[lane]) {
		roost__store_rel(&h->mh_tail[lane], head);
		h->mh_head_cache[lane] = head;
		roost__add_rlx(&h->mh_corrupt, 1);
		tail = head;
		r = ROOST_CORRUPT();
	} else {
		r = 0;
	}
	pthread_mutex_unlock(&h->mh_lock.lk_mutex);
	rx->rx_tail[lane] = tail;
	*out = tail;
	return r;
}

static void
fill_msg(struct roost__rx *rx, const struct roost__mbox *mb, unsigned lane,
         uint64_t pos, const struct roost__rec *r)
{
	struct roost_msg *m = &rx->rx_msg;
	uint32_t f = 0;

	m->m_from = r->rc_from;
	m->m_corr = r->rc_corr;
	m->m_kind = r->rc_kind;
	m->m_time_ns = r->rc_time_ns;
	m->m_size = r->rc_size;
	m->m_data = mb->mb_ring[lane] + (pos & (mb->mb_cap[lane] - 1)) +
	            ROOST_REC_HDR;
	if (lane == ROOST_LANE_SYS)
		f |= ROOST_MSG_SYSTEM;
	if (r->rc_flags & ROOST_REC_MSGPACK)
		f |= ROOST_MSG_MSGPACK;
	if (r->rc_flags & ROOST_REC_REDELIVERED)
		f |= ROOST_MSG_REDELIVERED;
	m->m_flags = f;
}

/*
 * Scan 'lane' from '*from' for a record that 'match' accepts. Returns 1
 * and '*at' when found, 0 when the lane holds nothing more (and '*from'
 * moves to its end, so a later scan in the same wait starts there), or
 * ROOST_ECORRUPT (the bad run is skipped from now on).
 */
static int
scan_lane(struct roost__mbox *mb, struct roost__rx *rx, unsigned lane,
          roost_match_fn match, void *arg, uint64_t *from, uint64_t *at)
{
	struct roost__rec r;
	uint64_t tail = 0;
	uint64_t pos;
	int rc;

	rc = load_tail(mb, rx, lane, &tail);
	if (rc < 0)
		return rc;
	pos = *from;
	if (pos - rx->rx_head[lane] > tail - rx->rx_head[lane])
		pos = rx->rx_head[lane];
	while (pos != tail) {
		if (rx->rx_bad_end[lane] != 0 && pos == rx->rx_bad_pos[lane]) {
			pos = rx->rx_bad_end[lane];
			continue;
		}
		if (read_rec(mb, lane, pos, tail, &r) < 0)
			goto corrupt;
		if (r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE)) {
			pos += r.rc_len;
			continue;
		}
		fill_msg(rx, mb, lane, pos, &r);
		if (match == NULL || match(&rx->rx_msg, arg)) {
			*at = pos;
			return 1;
		}
		pos += r.rc_len;
	}
	*from = pos;
	return 0;

corrupt:
	/* Skip from the bad record to the tail: nothing in between can be
	 * parsed. Counted once per run. */
	roost__bump_1w(&mb->mb_hdr->mh_corrupt, 1);
	rx->rx_bad_pos[lane] = pos;
	rx->rx_bad_end[lane] = tail;
	if (pos == rx->rx_head[lane])
		advance_head(mb, rx, lane, pos);
	*from = tail;
	return ROOST_ECORRUPT;
}

static bool
tails_moved(struct roost__mbox_hdr *h, const struct roost__rx *rx,
            unsigned lanes)
{
	unsigned lane;

	for (lane = 0; lane < ROOST_NLANES; lane++) {
		if ((lanes & (1u << lane)) &&
		    roost__load_rlx(&h->mh_tail[lane]) != rx->rx_tail[lane])
			return true;
	}
	return false;
}

/*
 * Wait until a tail of 'lanes' moves or 'deadline' passes: spin for
 * rx_spin_ns, then sleep on mh_wake_seq (tag-wake). Returns 0 or
 * -ETIMEDOUT.
 */
static int
wait_more(struct roost__mbox *mb, struct roost__rx *rx, unsigned lanes,
          uint64_t deadline)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t t0 = roost__plat_now_ns();
	uint64_t now = t0;
	int64_t rel;
	uint32_t seq;
	int i;

	while (now - t0 < rx->rx_spin_ns) {
		for (i = 0; i < 32; i++) {
			if (tails_moved(h, rx, lanes))
				return 0;
			roost__cpu_relax();
		}
		now = roost__plat_now_ns();
		if (deadline != 0 && now >= deadline)
			return -ETIMEDOUT;
	}
	for (;;) {
		seq = roost__load_acq(&h->mh_wake_seq);
		roost__store_sc(&h->mh_sleeping, 1);
		/* Pairs with the fence in wake_receiver(): either the sender
		 * sees mh_sleeping, or we see its tail. */
		roost__fence_sc();
		if (tails_moved(h, rx, lanes)) {
			roost__store_rlx(&h->mh_sleeping, 0);
			return 0;
		}
		rel = -1;
		if (deadline != 0) {
			now = roost__plat_now_ns();
			if (now >= deadline) {
				roost__store_rlx(&h->mh_sleeping, 0);
				return -ETIMEDOUT;
			}
			rel = (int64_t)(deadline - now);
		}
		roost__plat_futex_wait((uint32_t *)&h->mh_wake_seq, seq, rel);
		roost__store_rlx(&h->mh_sleeping, 0);
		if (tails_moved(h, rx, lanes))
			return 0;
	}
}

int
roost__mbox_take(struct roost__mbox *mb, struct roost__rx *rx,
                 unsigned lanes, roost_match_fn match, void *arg,
                 int timeout_ms, struct roost_msg **out)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t from[ROOST_NLANES];
	uint64_t deadline = 0;
	uint64_t at;
	unsigned lane;
	int rc;

	roost__mbox_release(mb, rx);
	if (timeout_ms > 0)
		deadline = roost__plat_now_ns() +
		           (uint64_t)timeout_ms * 1000000u;
	for (lane = 0; lane < ROOST_NLANES; lane++)
		from[lane] = rx->rx_head[lane];
	for (;;) {
		/* System lane first: stop requests and replies never wait
		 * behind user messages. */
		for (lane = 0; lane < ROOST_NLANES; lane++) {
			if (!(lanes & (1u << lane)))
				continue;
			rc = scan_lane(mb, rx, lane, match, arg, &from[lane], &at);
			if (rc < 0)
				return rc;
			if (rc == 1)
				goto found;
		}
		if (timeout_ms == 0)
			return -EAGAIN;
		rc = wait_more(mb, rx, lanes, deadline);
		if (rc < 0)
			return rc;
	}

found:
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
