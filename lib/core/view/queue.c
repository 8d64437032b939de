/* SPDX-License-Identifier: MIT */
/*
 * queue.c - copying a mailbox's queued messages out under its lock, in
 * chunks, and decoding the copy (roost_view_queue).
 */
#include "core/view/view_impl.h"

/* One hold of a mailbox lock copies at most this much. */
#define QUEUE_CHUNK_BYTES (16u << 10)
#define QUEUE_CHUNK_RECS  256u
/* Times a copy of a private lane starts again because its receiver and
 * sender moved under it, before the lane counts as damaged. */
#define PRIVATE_LOOKS 64u
/* Total wait for a mailbox lock held by someone else, per chunk. */
#define QUEUE_LOCK_MS 1000

struct qrec {
	unsigned q_lane;
	uint64_t q_pos;
	struct roost__rec q_rec; /* validated copy */
	size_t q_off;            /* payload offset in the arena */
	bool q_in_hand;
};

struct qbuf {
	struct qrec *qb_recs;
	size_t qb_n;
	size_t qb_cap;
	uint8_t *qb_arena;
	size_t qb_used;
	size_t qb_size;
};

/* Grow 'p' (holding 'used' bytes of 'cap') to hold 'need' more. */
int
roost__view_grow(void **p, size_t *cap, size_t used, size_t need, size_t unit)
{
	size_t ncap = *cap ? *cap : 64;
	void *np;

	if (need <= *cap - used)
		return 0;
	while (ncap - used < need) {
		if (ncap > SIZE_MAX / 2 / unit)
			return -ENOMEM;
		ncap *= 2;
	}
	np = roost__malloc(ncap * unit);
	if (np == NULL)
		return -ENOMEM;
	if (*p != NULL)
		memcpy(np, *p, used * unit);
	roost__free(*p);
	*p = np;
	*cap = ncap;
	return 0;
}

static int
qbuf_add(struct qbuf *qb, unsigned lane, uint64_t pos,
         const struct roost__rec *r, const void *payload, bool in_hand)
{
	struct qrec *q;
	int rc;

	rc = roost__view_grow((void **)&qb->qb_recs, &qb->qb_cap, qb->qb_n, 1,
	          sizeof(*qb->qb_recs));
	if (rc == 0)
		rc = roost__view_grow((void **)&qb->qb_arena, &qb->qb_size, qb->qb_used,
		          r->rc_size + 1, 1);
	if (rc < 0)
		return rc;
	q = &qb->qb_recs[qb->qb_n++];
	q->q_lane = lane;
	q->q_pos = pos;
	q->q_rec = *r;
	q->q_off = qb->qb_used;
	q->q_in_hand = in_hand;
	memcpy(qb->qb_arena + qb->qb_used, payload, r->rc_size);
	qb->qb_used += r->rc_size;
	return 0;
}

static void
qbuf_drop_last(struct qbuf *qb)
{
	qb->qb_n--;
	qb->qb_used = qb->qb_recs[qb->qb_n].q_off;
}

/*
 * A private lane's sender does not wait for our lock: once the receiver
 * consumed past 'pos', it may overwrite the record we just copied. Our
 * copy stands if the head, read after it, has not passed 'pos' (the
 * sender writes there only after a head beyond it). The shared lanes'
 * senders wait for our lock.
 */
static bool
consumed_meanwhile(const struct roost__mbox *mb, unsigned lane, uint64_t pos)
{
	if (!roost__lane_private(lane))
		return false;
	/* The copy's loads before the head's. */
	atomic_thread_fence(memory_order_acquire);
	return roost__load_acq(&mb->mb_hdr->mh_head[lane]) > pos;
}

static void
qbuf_free(struct qbuf *qb)
{
	roost__free(qb->qb_recs);
	roost__free(qb->qb_arena);
	memset(qb, 0, sizeof(*qb));
}

/*
 * Copy what is queued on 'lane' between its head and its tail, at most
 * 'limit' messages (0: all), chunk by chunk under mh_lock (see the top of
 * this file for why that is a consistent snapshot and never disturbs).
 * '*truncated' says whether the limit ended the copy before the tail.
 */
static int
copy_lane(struct roost__mbox *mb, unsigned lane, uint32_t limit,
          struct qbuf *qb, roost_mbox_info_t *info)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint32_t cap = mb->mb_cap[lane];
	struct roost__rec r;
	uint64_t deadline;
	uint64_t head = 0;
	uint64_t tail = 0;
	uint64_t pos = 0;
	uint64_t inflight;
	uint32_t n = 0;
	uint32_t chunk_bytes;
	uint32_t chunk_recs;
	bool started = false;
	bool in_hand;
	unsigned moved = 0;
	unsigned i;
	int rc;

	for (;;) {
		deadline = 0;
		rc = roost__mbox_lock(mb, QUEUE_LOCK_MS, &deadline);
		if (rc < 0)
			return rc;
		/* Under the lock no shared sender is between its commit and
		 * its tail store, so [head, tail) is a chain of committed
		 * records; a private sender stores its tail after its
		 * commits, so the same holds for its lane (tag-private).
		 * Pairs with the receiver's release of mh_head
		 * (tag-rec-release) and the senders' of mh_tail. */
		head = roost__load_acq(&h->mh_head[lane]);
		tail = roost__load_acq(roost__mbox_tail_word(mb, lane));
		/* A private lane moves under our lock: its receiver may have
		 * taken records its sender has not published the tail of
		 * yet (nothing to list), or consumed and let it refill
		 * between our two loads (look again). */
		if (roost__lane_private(lane) && (int64_t)(tail - head) < 0)
			tail = head;
		if (head % ROOST_REC_ALIGN != 0 ||
		    tail % ROOST_REC_ALIGN != 0 || tail - head > cap) {
			roost__mbox_unlock(mb);
			if (roost__lane_private(lane) &&
			    ++moved < PRIVATE_LOOKS)
				continue;
			return ROOST_CORRUPT();
		}
		/* First chunk, or the receiver consumed past us meanwhile:
		 * go on from its head. */
		if (!started || pos - head > tail - head)
			pos = head;
		started = true;
		/* Relaxed: a display hint; a stale value only misplaces the
		 * "in hand" mark. */
		inflight = roost__load_rlx(&h->mh_inflight_pos);
		if (roost__load_rlx(&h->mh_inflight_lane) != lane)
			inflight = 0;
		chunk_bytes = 0;
		chunk_recs = 0;
		while (pos != tail && chunk_bytes < QUEUE_CHUNK_BYTES &&
		       chunk_recs < QUEUE_CHUNK_RECS &&
		       (limit == 0 || n < limit)) {
			if (!roost__mbox_committed(mb, lane, pos) ||
			    roost__mbox_read_rec(mb, lane, pos, &r) < 0 ||
			    r.rc_len > tail - pos) {
				/* Consumed and rewritten under us: go on
				 * from the receiver's head. */
				if (consumed_meanwhile(mb, lane, pos) &&
				    ++moved < PRIVATE_LOOKS)
					break;
				rc = ROOST_CORRUPT();
				goto out_unlock;
			}
			chunk_recs++;
			if (!(r.rc_flags & (ROOST_REC_PAD | ROOST_REC_DONE))) {
				in_hand = inflight == pos + 1;
				rc = qbuf_add(
				    qb, lane, pos, &r,
				    (const uint8_t *)roost__mbox_rec_at(
				        mb, lane, pos) +
				        ROOST_REC_HDR,
				    in_hand);
				if (rc < 0)
					goto out_unlock;
				if (consumed_meanwhile(mb, lane, pos)) {
					qbuf_drop_last(qb);
					break;
				}
				chunk_bytes += r.rc_len;
				n++;
			}
			pos += r.rc_len;
		}
		roost__mbox_unlock(mb);
		if (pos == tail || (limit != 0 && n >= limit))
			break;
	}
	/* The public info has one user entry: the private lanes add to
	 * it; head and tail stay the shared lane's. */
	i = lane < ROOST_NSHARED ? lane : ROOST_LANE_USR;
	if (lane < ROOST_NSHARED) {
		info->head[i] = head;
		info->tail[i] = tail;
	}
	info->listed[i] += n;
	info->truncated[i] = info->truncated[i] || pos != tail;
	return 0;

out_unlock:
	roost__mbox_unlock(mb);
	return rc;
}

int
roost_view_queue(roost_view_t *v, roost_aid_t aid, unsigned lanes,
                 uint32_t limit, roost_mbox_info_t *info, roost_view_msg_fn fn,
                 void *arg)
{
	struct roost__slot_view sv;
	struct roost__mbox mb;
	roost_mbox_info_t local;
	roost_queued_t q;
	struct qbuf qb;
	struct qrec *r;
	uint64_t now;
	unsigned lane;
	size_t i;
	int rc;

	if (v == NULL || (lanes & ~ROOST_LANE_ANY) != 0)
		return -EINVAL;
	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	memset(&qb, 0, sizeof(qb));
	rc = roost__view_slot_of(v, aid, &sv);
	if (rc < 0)
		return rc;
	if (sv.sv_state != ROOST_SLOT_ACTIVE)
		return -ENOENT;
	rc = roost__mbox_open(&mb, &v->vw_sys, roost_aid_slot(aid),
	                      roost_aid_gen(aid));
	if (rc < 0)
		return rc;
	info->aid = aid;
	info->state = roost__view_mbox_state(&mb);
	info->receiver_sleeping =
	    roost__load_rlx(&mb.mb_hdr->mh_lock.lk_sleeping) != 0;
	info->max_msg = v->vw_sys.sy_fixed.sf_max_msg;
	for (lane = 0; lane < mb.mb_nlanes; lane++) {
		unsigned pub = lane < ROOST_NSHARED ? lane : ROOST_LANE_USR;

		info->capacity[pub] += mb.mb_cap[lane];
		if (!(lanes & (1u << pub)))
			continue;
		rc = copy_lane(&mb, lane, limit, &qb, info);
		if (rc < 0)
			goto out;
	}
	roost__mbox_stats(&mb, &info->stats);
	roost__mbox_detach(&mb);
	/* Every lock is released: the callback may take its time. */
	now = roost__plat_coarse_ns();
	rc = 0;
	for (i = 0; i < qb.qb_n && fn != NULL; i++) {
		r = &qb.qb_recs[i];
		memset(&q, 0, sizeof(q));
		q.lane = r->q_lane == ROOST_LANE_SYS ? ROOST_LANE_SYSTEM
		                                     : ROOST_LANE_USER;
		q.seq = r->q_pos;
		q.from.id = r->q_rec.rc_from;
		q.kind = r->q_rec.rc_kind;
		q.corr = r->q_rec.rc_corr;
		q.age_ns =
		    now > r->q_rec.rc_time_ns ? now - r->q_rec.rc_time_ns : 0;
		q.size = r->q_rec.rc_size;
		q.data = qb.qb_arena + r->q_off;
		if (r->q_lane == ROOST_LANE_SYS)
			q.flags |= ROOST_MSG_SYSTEM;
		if (r->q_rec.rc_flags & ROOST_REC_MSGPACK)
			q.flags |= ROOST_MSG_MSGPACK;
		if (r->q_rec.rc_flags & ROOST_REC_REDELIVERED)
			q.flags |= ROOST_MSG_REDELIVERED;
		if (r->q_rec.rc_flags & ROOST_REC_REPLY)
			q.flags |= ROOST_MSG_REPLY;
		if (r->q_in_hand)
			q.flags |= ROOST_MSG_IN_HAND;
		rc = fn(arg, &q);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = (int)(qb.qb_n > INT32_MAX ? INT32_MAX : qb.qb_n);
	qbuf_free(&qb);
	return rc;

out:
	roost__mbox_detach(&mb);
	qbuf_free(&qb);
	return rc;
}

/* --- systems on this machine ------------------------------------------ */
