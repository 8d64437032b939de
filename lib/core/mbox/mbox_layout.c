/* SPDX-License-Identifier: MIT */
/*
 * mbox_layout.c - creating, validating and describing a mailbox segment:
 * everything about a mailbox except moving messages through it.
 */
#include "core/mbox/mbox.h"

uint32_t
roost__mbox_sys_lane_size(uint32_t max_msg)
{
	/* What the lane carries: replies (up to max_msg), notices (DOWN,
	 * EXIT: under 256 bytes), stops (empty) and alarms sent on it. It
	 * must always take one of the largest (a record of at most half the
	 * ring fits wherever the tail stands, lane_max_payload), so it holds
	 * two of them at least, and the smallest ring (4 KiB) holds many
	 * notices. When it is full, a reply waits for room a bounded time
	 * (call.c), a notice or an alarm is lost and logged by roostd, a
	 * stop is lost but its user lane is shut all the same and SIGTERM
	 * follows at its deadline (stops.c): docs/shm-format.md, "Sizes". */
	uint64_t want = 2 * ((uint64_t)max_msg + ROOST_REC_HDR + ROOST_RING_SLACK);

	return roost__mbox_ring_size(want);
}

uint32_t
roost__mbox_priv_size(uint32_t user_cap)
{
	return user_cap / 4 > ROOST_RING_MIN ? user_cap / 4 : ROOST_RING_MIN;
}

size_t
roost__mbox_seg_size(uint32_t sys_cap, uint32_t user_cap, uint32_t nprivate)
{
	return (size_t)ROOST_MBOX_HDR_SIZE + sys_cap + user_cap +
	       (size_t)nprivate * roost__mbox_priv_size(user_cap);
}

/* Largest payload a lane of 'cap' bytes can always take: a record of at
 * most cap/2 - slack bytes fits an empty ring wherever the tail stands,
 * padding to the end and the slack included. */
static uint32_t
lane_max_payload(uint32_t cap, uint32_t max_msg)
{
	uint32_t fit = cap / 2 - ROOST_RING_SLACK - ROOST_REC_HDR;

	return fit < max_msg ? fit : max_msg;
}

static void
fill_from_fixed(struct roost__mbox *mb, struct roost__seg seg,
                const struct roost__mbox_fixed *f)
{
	unsigned lane;

	memset(mb, 0, sizeof(*mb));
	mb->mb_seg = seg;
	mb->mb_hdr = seg.sg_base;
	mb->mb_nlanes = ROOST_NSHARED + f->mf_nprivate;
	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		mb->mb_ring[lane] = (uint8_t *)seg.sg_base + f->mf_ring_off[lane];
		mb->mb_cap[lane] = f->mf_cap[lane];
		mb->mb_max_payload[lane] =
			lane_max_payload(f->mf_cap[lane], f->mf_max_msg);
	}
	mb->mb_slot = f->mf_slot;
	mb->mb_gen = f->mf_gen;
	mb->mb_fixed = *f;
	mb->mb_unblock_ms = ROOST_UNBLOCK_MS_DEF;
}

int
roost__mbox_format(struct roost__mbox *mb, struct roost__seg seg,
                   uint32_t slot, uint32_t gen, uint32_t max_msg,
                   uint32_t sys_cap, uint32_t user_cap, uint32_t nprivate,
                   bool held)
{
	struct roost__mbox_hdr *h = seg.sg_base;
	struct roost__mbox_fixed *f = &h->mh_fixed;
	uint32_t off;
	unsigned lane;

	if (nprivate > ROOST_NPRIV_MAX ||
	    seg.sg_len < roost__mbox_seg_size(sys_cap, user_cap, nprivate))
		return -EINVAL;
	f->mf_magic = ROOST_MBOX_MAGIC;
	f->mf_version = ROOST_SHM_VERSION;
	f->mf_hdr_size = ROOST_MBOX_HDR_SIZE;
	f->mf_slot = slot;
	f->mf_gen = gen;
	f->mf_max_msg = max_msg;
	f->mf_ring_off[ROOST_LANE_SYS] = ROOST_MBOX_HDR_SIZE;
	f->mf_cap[ROOST_LANE_SYS] = sys_cap;
	f->mf_ring_off[ROOST_LANE_USR] = ROOST_MBOX_HDR_SIZE + sys_cap;
	f->mf_cap[ROOST_LANE_USR] = user_cap;
	f->mf_nprivate = nprivate;
	off = ROOST_MBOX_HDR_SIZE + sys_cap + user_cap;
	for (lane = ROOST_LANE_PRIV0; lane < ROOST_NSHARED + nprivate; lane++) {
		f->mf_ring_off[lane] = off;
		f->mf_cap[lane] = roost__mbox_priv_size(user_cap);
		off += f->mf_cap[lane];
	}
	f->mf_map_size = seg.sg_len;

	if (held)
		roost__lock_init_held(&h->mh_lock.lk_lock);
	else
		roost__lock_init(&h->mh_lock.lk_lock);
	fill_from_fixed(mb, seg, f);
	/* Publish the fixed header. Pairs with the acquire in
	 * roost__mbox_attach(). tag-seg-publish */
	roost__store_rel(&h->mh_ready, ROOST_SEG_READY);
	return 0;
}

static bool
is_pow2(uint32_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

int
roost__mbox_check_fixed(struct roost__seg seg, uint32_t slot, uint32_t gen,
                        bool whole, struct roost__mbox_fixed *out)
{
	struct roost__mbox_hdr *h = seg.sg_base;
	struct roost__mbox_fixed f;
	uint32_t ready;
	uint64_t size;
	uint64_t end;
	unsigned nlanes;
	unsigned lane;
	unsigned other;

	if (seg.sg_len < ROOST_MBOX_HDR_SIZE)
		return ROOST_CORRUPT();
	/* Pairs with the release in roost__mbox_format(). */
	ready = roost__load_acq(&h->mh_ready);
	if (ready == ROOST_SEG_INIT)
		return -EAGAIN;
	if (ready != ROOST_SEG_READY)
		return ROOST_CORRUPT(); /* a value nobody writes */
	memcpy(&f, &h->mh_fixed, sizeof(f)); /* trust only f from here */
	if (f.mf_magic != ROOST_MBOX_MAGIC)
		return ROOST_CORRUPT();
	if (f.mf_version != ROOST_SHM_VERSION)
		return ROOST_EVERSION;
	if (f.mf_hdr_size != ROOST_MBOX_HDR_SIZE ||
	    (whole && f.mf_map_size != seg.sg_len))
		return ROOST_CORRUPT();
	if (f.mf_slot != slot)
		return ROOST_CORRUPT();
	if (f.mf_gen != gen)
		return -ESRCH;
	if (f.mf_nprivate > ROOST_NPRIV_MAX)
		return ROOST_CORRUPT();
	nlanes = ROOST_NSHARED + f.mf_nprivate;
	for (lane = nlanes; lane < ROOST_NLANES; lane++) {
		if (f.mf_ring_off[lane] != 0 || f.mf_cap[lane] != 0)
			return ROOST_CORRUPT();
	}
	/* Rings inside the mapping (or, header only, inside the size the
	 * header claims), aligned, power-of-two sized. */
	size = whole ? seg.sg_len : f.mf_map_size;
	for (lane = 0; lane < nlanes; lane++) {
		if (!is_pow2(f.mf_cap[lane]) || f.mf_cap[lane] < ROOST_RING_MIN ||
		    f.mf_cap[lane] > ROOST_RING_MAX)
			return ROOST_CORRUPT();
		end = (uint64_t)f.mf_ring_off[lane] + f.mf_cap[lane];
		if (f.mf_ring_off[lane] < ROOST_MBOX_HDR_SIZE ||
		    f.mf_ring_off[lane] % ROOST_REC_ALIGN != 0 || end > size)
			return ROOST_CORRUPT();
	}
	/* The lanes must not overlap each other. */
	for (lane = 0; lane < nlanes; lane++) {
		for (other = lane + 1; other < nlanes; other++) {
			if (f.mf_ring_off[lane] < f.mf_ring_off[other]
			            ? f.mf_ring_off[lane] + f.mf_cap[lane] >
			                      f.mf_ring_off[other]
			            : f.mf_ring_off[other] + f.mf_cap[other] >
			                      f.mf_ring_off[lane])
				return ROOST_CORRUPT();
		}
	}
	*out = f;
	return 0;
}

int
roost__mbox_attach(struct roost__mbox *mb, struct roost__seg seg,
                   uint32_t slot, uint32_t gen)
{
	struct roost__mbox_fixed f;
	int rc = roost__mbox_check_fixed(seg, slot, gen, true, &f);

	if (rc < 0)
		return rc;
	fill_from_fixed(mb, seg, &f);
	return 0;
}

int
roost__mbox_open(struct roost__mbox *mb, struct roost__sys *sy,
                 uint32_t slot, uint32_t gen)
{
	char shm[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	int rc;

	rc = roost__mbox_shm_name(shm, sizeof(shm), sy->sy_name, slot);
	if (rc < 0)
		return rc;
	rc = roost__plat_seg_open_trust(shm, ROOST_MBOX_HDR_SIZE,
	                                roost__mbox_seg_size(ROOST_RING_MAX,
	                                                     ROOST_RING_MAX,
	                                                     ROOST_NPRIV_MAX),
	                                sy->sy_fixed.sf_uid,
	                                roost__sys_gid(sy), &seg);
	if (rc < 0)
		return rc;
	rc = roost__mbox_attach(mb, seg, slot, gen);
	if (rc == -EAGAIN)
		rc = roost__mbox_unpublished(sy, slot, gen);
	if (rc < 0)
		roost__plat_seg_unmap(&seg);
	else
		mb->mb_unblock_ms = roost__sys_unblock_ms(sy);
	return rc;
}

int
roost__mbox_unpublished(struct roost__sys *sy, uint32_t slot,
                        uint32_t gen)
{
	struct roost__slot_view sv;
	int rc = roost__sys_slot_read(sy, slot, &sv);

	if (rc < 0)
		return rc;
	if (sv.sv_state == ROOST_SLOT_ACTIVE && sv.sv_gen == gen)
		return ROOST_CORRUPT();
	return -ESRCH;
}

void
roost__mbox_detach(struct roost__mbox *mb)
{
	if (mb == NULL)
		return;
	roost__plat_seg_unmap(&mb->mb_seg);
	memset(mb, 0, sizeof(*mb));
}

void
roost__mbox_close(struct roost__mbox *mb)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;

	/* Pairs with the acquire of mh_lock.lk_state in roost__mbox_push(). */
	roost__store_rel(&h->mh_lock.lk_state, ROOST_MBOX_CLOSED);
	roost__add_rel(&h->mh_space_seq, 1);
	roost__plat_futex_wake((uint32_t *)&h->mh_space_seq, INT32_MAX);
}

void
roost__mbox_stats(const struct roost__mbox *mb, roost_mbox_stats_t *st)
{
	struct roost__mbox_hdr *h = mb->mb_hdr;
	uint64_t used = 0;
	uint64_t enq;
	uint64_t deq;
	uint64_t d;
	unsigned lane;

	memset(st, 0, sizeof(*st));
	/* Relaxed loads: counters are for display; a torn snapshot across
	 * counters is acceptable, each value is still bounded below. */
	enq = roost__load_rlx(&h->mh_enqueued);
	st->bytes_in = roost__load_rlx(&h->mh_bytes_in);
	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		d = roost__load_rlx(roost__mbox_tail_word(mb, lane)) -
		    roost__load_rlx(&h->mh_head[lane]);
		used += d <= mb->mb_cap[lane] ? d : mb->mb_cap[lane];
		st->capacity += mb->mb_cap[lane];
		if (roost__lane_private(lane)) {
			struct roost__plane *pl = roost__mbox_plane(mb, lane);

			enq += roost__load_rlx(&pl->pl_enqueued);
			st->bytes_in += roost__load_rlx(&pl->pl_bytes_in);
		}
	}
	st->used = used;
	deq = roost__load_rlx(&h->mh_dequeued);
	st->enqueued = enq;
	st->dequeued = deq;
	st->queued = enq >= deq && enq - deq < UINT32_MAX
	                     ? (uint32_t)(enq - deq) : 0;
	st->high_water = roost__load_rlx(&h->mh_high_water);
	if (st->high_water < used)
		st->high_water = used;
	st->blocked_sends = roost__load_rlx(&h->mh_blocked);
	st->repaired = roost__load_rlx(&h->mh_repaired);
	st->corrupt = roost__load_rlx(&h->mh_corrupt);
	st->replaced = roost__load_rlx(&h->mh_replaced);
	st->lost = roost__load_rlx(&h->mh_lost);
}
