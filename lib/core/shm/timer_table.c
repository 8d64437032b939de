/* SPDX-License-Identifier: MIT */
/*
 * timer_table.c - reading roostd's alarm table (the FORMAT comment in
 * timer_table.h): its name, the entry checksum, the seqlock read, the
 * judgement of an entry, and a snapshot of every live timer. roostd's
 * writer (daemon/timers.c) and the view API share them, so they agree on
 * what the table holds.
 */
#include "core/shm/shm.h"


/* A reader spins this many times on an entry that is being written, then
 * yields, and gives up (skips the entry) after SNAP_TRIES. A write takes
 * well under a microsecond unless roostd is preempted inside it. */
#define SNAP_SPINS 16
#define SNAP_TRIES 64

int
roost__timers_shm_name(char *buf, size_t len, const char *system)
{
	return roost__sys_obj_name(buf, len, system, ".timers");
}

static inline uint64_t
mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * UINT64_C(0x100000001b3); /* the FNV-1a 64 prime */
	return h ^ (h >> 29);
}

/*
 * te_sum: a word-at-a-time multiply-xor hash of the record and the first
 * tr_size payload bytes. It only has to catch torn writes and scribbles,
 * not adversaries. Precondition: r->tr_size <= ROOST_TIMER_DATA_MAX.
 */
uint32_t
roost__tmr_sum(const struct roost__tmr_rec *r, const uint8_t *data)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325); /* FNV-1a 64 basis */
	uint64_t w;
	size_t i;
	size_t n = r->tr_size;
	const uint8_t *p = (const uint8_t *)r;

	for (i = 0; i < sizeof(*r); i += 8) {
		memcpy(&w, p + i, 8);
		h = mix(h, w);
	}
	for (i = 0; i + 8 <= n; i += 8) {
		memcpy(&w, data + i, 8);
		h = mix(h, w);
	}
	if (i < n) {
		w = 0;
		memcpy(&w, data + i, n - i);
		h = mix(h, w);
	}
	h = mix(h, n);
	return (uint32_t)(h ^ (h >> 32));
}

/* Copy entry 'e' without the seqlock: the caller is the writer, or no
 * writer is alive. The payload is copied only as far as tr_size says
 * (clamped; validation catches a bad size). */
void
roost__tmr_copy_raw(const struct roost__tmr_entry *e, struct roost__tmr_copy *c)
{
	size_t n;

	memcpy(&c->tc_rec, (const void *)&e->te_rec, sizeof(c->tc_rec));
	memcpy(&c->tc_sum, (const void *)&e->te_sum, sizeof(c->tc_sum));
	if (c->tc_rec.tr_state == ROOST_TE_FREE)
		return;
	n = c->tc_rec.tr_size;
	if (n > ROOST_TIMER_DATA_MAX)
		n = ROOST_TIMER_DATA_MAX;
	memcpy(c->tc_data, (const void *)e->te_data, n);
}

/*
 * A consistent copy of 'e' while roostd may be writing it (tag-tmr-seq).
 * False if the entry did not settle within SNAP_TRIES (a writer preempted
 * or killed mid-write, or a scribbled te_seq).
 */
bool
roost__tmr_read(const struct roost__tmr_entry *e, struct roost__tmr_copy *c)
{
	uint32_t seq0;
	int tries;

	for (tries = 0; tries < SNAP_TRIES; tries++) {
		if (tries >= SNAP_SPINS)
			roost__plat_yield();
		/* Pairs with the release store in ent_write_end(). */
		seq0 = roost__load_acq(&e->te_seq);
		if (seq0 & 1u) {
			roost__cpu_relax();
			continue;
		}
		roost__tmr_copy_raw(e, c);
		/* Keeps the copy ahead of the re-check. Pairs with the release
		 * fence in ent_write_begin(). Relaxed re-load: the fence
		 * orders it. The copy itself races with the writer by design
		 * (a torn copy is discarded). */
		atomic_thread_fence(memory_order_acquire);
		if (roost__load_rlx(&e->te_seq) == seq0)
			return true;
	}
	return false;
}

bool
roost__tmr_rec_is_zero(const struct roost__tmr_rec *r)
{
	static const struct roost__tmr_rec zero;

	return memcmp(r, &zero, sizeof(zero)) == 0;
}

/* The id of a record if its index bits name entry 'idx', else 0. */
uint64_t
roost__tmr_rec_id(const struct roost__tmr_rec *r, uint32_t idx)
{
	if ((r->tr_id & ROOST_TMR_IDX_MASK) != idx ||
	    (r->tr_id >> ROOST_TMR_IDX_BITS) == 0)
		return 0;
	return r->tr_id;
}

/*
 * Judge the copy 'c' of entry 'idx'. 'torn' says its te_seq was odd (the
 * writer died inside a write); '*why' gets the reason for ROOST_TMR_LOST.
 */
enum roost__tmr_verdict
roost__tmr_judge(const struct roost__tmr_copy *c, uint32_t idx, bool torn,
          const char **why)
{
	const struct roost__tmr_rec *r = &c->tc_rec;

	*why = NULL;
	if (r->tr_state == ROOST_TE_FREE) {
		/* Mid-free or mid-add when the writer died: free either way
		 * (an add never returned its id). tag-tmr-free-first */
		if (torn || (roost__tmr_rec_is_zero(r) && c->tc_sum == 0))
			return ROOST_TMR_FREE_ENTRY;
		*why = "bad free entry";
		return ROOST_TMR_LOST;
	}
	if (r->tr_state != ROOST_TE_ARMED && r->tr_state != ROOST_TE_FIRING)
		*why = "bad state";
	else if (r->tr_size > ROOST_TIMER_DATA_MAX)
		*why = "bad size";
	else if (roost__tmr_sum(r, c->tc_data) != c->tc_sum)
		*why = torn ? "interrupted write" : "bad checksum";
	else if (roost__tmr_rec_id(r, idx) == 0)
		*why = "id does not match its entry";
	else if (r->tr_to == 0)
		*why = "zero target";
	else if (r->tr_state == ROOST_TE_FIRING && r->tr_interval_ns != 0)
		*why = "interval in firing state";
	return *why == NULL ? ROOST_TMR_KEEP : ROOST_TMR_LOST;
}

void
roost__tmr_view_fill(struct roost__timer_view *v, const struct roost__tmr_copy *c)
{
	const struct roost__tmr_rec *r = &c->tc_rec;

	v->tv_id = r->tr_id;
	v->tv_to.id = r->tr_to;
	v->tv_owner.id = r->tr_owner;
	v->tv_due_ns = r->tr_due_ns;
	v->tv_interval_ns = r->tr_interval_ns;
	v->tv_kind = r->tr_kind;
	v->tv_flags = r->tr_flags;
	v->tv_size = r->tr_size;
	v->tv_fired = r->tr_fired;
	v->tv_data = c->tc_data;
}

size_t
roost__tmr_map_size(uint32_t cap)
{
	return ROOST_TMR_HDR_SIZE + (size_t)cap * ROOST_TMR_ENTRY_SIZE;
}


/*
 * Validate the header of a mapped table and copy its fixed part to 'f'.
 * -EAGAIN if it was never published (its creator is still at work, or
 * died first); ROOST_ECORRUPT if anything is wrong.
 */
static int
hdr_check(const struct roost__seg *seg, const char *system, uint32_t uid,
          struct roost__tmr_fixed *f)
{
	struct roost__tmr_hdr *h = seg->sg_base;
	uint32_t owner;
	uint32_t state;

	/* Pairs with the release store in rd_timers_create()
	 * (tag-tmr-publish). */
	state = roost__load_acq(&h->th_state);
	if (state == ROOST_TMR_INIT)
		return -EAGAIN;
	if (state != ROOST_TMR_READY)
		return ROOST_CORRUPT();
	memcpy(f, (const void *)&h->th_fixed, sizeof(*f)); /* trust only f */
	if (f->tf_magic != ROOST_TMR_MAGIC || f->tf_version != ROOST_TMR_VERSION ||
	    f->tf_hdr_size != ROOST_TMR_HDR_SIZE ||
	    f->tf_entry_size != ROOST_TMR_ENTRY_SIZE ||
	    f->tf_data_max != ROOST_TIMER_DATA_MAX)
		return ROOST_CORRUPT();
	if (f->tf_cap < ROOST_TMR_CAP_MIN || f->tf_cap > ROOST_TMR_CAP_MAX ||
	    f->tf_map_size != roost__tmr_map_size(f->tf_cap) ||
	    f->tf_map_size > seg->sg_len)
		return ROOST_CORRUPT();
	if (f->tf_uid != uid || !roost__tmr_mode_valid(f->tf_mode))
		return ROOST_CORRUPT();
	/* The table names its system without the "UID:" a member of a
	 * granted group opens it by. */
	if (memchr(f->tf_name, '\0', sizeof(f->tf_name)) == NULL ||
	    strcmp(f->tf_name, roost__system_owner(system, &owner)) != 0)
		return ROOST_CORRUPT();
	return 0;
}

int
roost__tmr_open(const char *system, uint32_t uid, int64_t gid,
                struct roost__seg *seg, struct roost__tmr_fixed *f)
{
	char name[ROOST_SHM_NAME_MAX];
	int rc;

	rc = roost__timers_shm_name(name, sizeof(name), system);
	if (rc < 0)
		return rc;
	rc = roost__plat_seg_open_trust(name, ROOST_TMR_HDR_SIZE,
	                                roost__tmr_map_size(ROOST_TMR_CAP_MAX),
	                                uid, gid, seg);
	if (rc < 0)
		return rc;
	rc = hdr_check(seg, system, uid, f);
	if (rc < 0)
		roost__plat_seg_unmap(seg);
	return rc;
}

int
roost__timers_snapshot(const char *system, uint32_t uid, int64_t gid,
                       int (*fn)(void *arg,
                                 const struct roost__timer_view *v),
                       void *arg)
{
	struct roost__seg seg;
	struct roost__tmr_fixed f;
	struct roost__tmr_entry *ent;
	struct roost__timer_view v;
	struct roost__tmr_copy c;
	const char *why;
	uint32_t i;
	int n = 0;
	int rc;

	rc = roost__tmr_open(system, uid, gid, &seg, &f);
	if (rc < 0)
		return rc;
	ent = (struct roost__tmr_entry *)((uint8_t *)seg.sg_base +
	                                  ROOST_TMR_HDR_SIZE);
	for (i = 0; i < f.tf_cap; i++) {
		if (!roost__tmr_read(&ent[i], &c) ||
		    c.tc_rec.tr_state == ROOST_TE_FREE ||
		    roost__tmr_judge(&c, i, false, &why) != ROOST_TMR_KEEP)
			continue;
		roost__tmr_view_fill(&v, &c);
		rc = fn(arg, &v);
		if (rc != 0)
			break;
		n++;
	}
	roost__plat_seg_unmap(&seg);
	return rc != 0 ? rc : n;
}
