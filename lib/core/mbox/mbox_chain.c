/* SPDX-License-Identifier: MIT */
/*
 * mbox_chain.c - reading the chain of committed records of a lane: the
 * one place that decides whether the bytes at a position are a published,
 * well-formed record. The receiver, the senders' repair and tools all use
 * it, so they agree on what the ring holds.
 */
#include "core/mbox/mbox.h"

int
roost__mbox_read_rec(const struct roost__mbox *mb, unsigned lane,
                     uint64_t pos, struct roost__rec *r)
{
	uint32_t cap = mb->mb_cap[lane];
	uint64_t off = pos & (cap - 1);
	const struct roost__rec *p = roost__mbox_rec_at(mb, lane, pos);

	if (pos % ROOST_REC_ALIGN != 0)
		return ROOST_CORRUPT();
	/* off is aligned and cap a multiple of the alignment, so the PAD
	 * header (16 bytes) always fits before the end. */
	r->rc_len = p->rc_len;
	r->rc_flags = p->rc_flags;
	if (r->rc_flags & ROOST_REC_PAD) {
		if (r->rc_len != cap - off)
			return ROOST_CORRUPT();
		return 0;
	}
	if (r->rc_len < ROOST_REC_HDR || r->rc_len > cap - off)
		return ROOST_CORRUPT();
	/* Copy field by field (rc_commit is atomic); then check the copy. */
	r->rc_from = p->rc_from;
	r->rc_corr = p->rc_corr;
	r->rc_kind = p->rc_kind;
	r->rc_size = p->rc_size;
	r->rc_time_ns = p->rc_time_ns;
	if ((r->rc_flags & ~ROOST_REC_KNOWN) != 0 ||
	    r->rc_size > mb->mb_max_payload[lane] ||
	    r->rc_size > r->rc_len - ROOST_REC_HDR ||
	    roost__rec_bytes(r->rc_size) != r->rc_len)
		return ROOST_CORRUPT();
	return 0;
}

uint64_t
roost__mbox_chain_end(const struct roost__mbox *mb, unsigned lane,
                      uint64_t head)
{
	uint64_t limit = mb->mb_cap[lane] - ROOST_RING_SLACK;
	struct roost__rec r;
	uint64_t pos = head;

	while (pos - head < limit && roost__mbox_committed(mb, lane, pos) &&
	       roost__mbox_read_rec(mb, lane, pos, &r) == 0 &&
	       r.rc_len <= limit - (pos - head))
		pos += r.rc_len;
	return pos;
}
