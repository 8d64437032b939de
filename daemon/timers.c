/* SPDX-License-Identifier: MIT */
/*
 * timers.c - roostd's alarm table (see the FORMAT comment in timers.h).
 *
 * The shared object holds the timers themselves, so they outlive a killed
 * roostd; everything derived from them lives in roostd's memory and is
 * rebuilt on adoption: a binary min-heap of entry indexes keyed on the
 * next delivery time (with an index -> heap position array, so cancel is
 * O(log n)), and a stack of free entries. Only roostd writes the table,
 * from one thread; tools read it with the seqlock protocol of
 * tag-tmr-seq and never need the heap.
 */
#include "timers.h"

#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#define NOPOS UINT32_MAX /* tm_pos of an entry that is not in the heap */

/* A reader spins this many times on an entry that is being written, then
 * yields, and gives up (skips the entry) after SNAP_TRIES. A write takes
 * well under a microsecond unless roostd is preempted inside it. */
#define SNAP_SPINS 16
#define SNAP_TRIES 64

struct rd_timers {
	struct roost__seg tm_seg;
	struct rd_tmr_hdr *tm_hdr;
	struct rd_tmr_entry *tm_ent; /* tm_cap entries */
	uint32_t tm_cap;
	uint32_t tm_nheap;           /* live timers: every one is in the heap */
	uint32_t tm_nfree;
	uint64_t tm_next_seq;        /* our copy of th_next_seq */
	uint32_t *tm_heap;           /* entry indexes, a min-heap on tm_key */
	uint32_t *tm_pos;            /* entry index -> heap position, NOPOS */
	uint64_t *tm_key;            /* entry index -> next delivery time */
	uint32_t *tm_free;           /* stack of free entry indexes */
};

/* A private copy of an entry; only the first tr_size data bytes are
 * copied. */
struct ent_copy {
	struct rd_tmr_rec ec_rec;
	uint32_t ec_sum;
	uint8_t ec_data[RD_TIMER_DATA_MAX];
};

enum verdict {
	V_FREE, /* free (possibly mid-free when roostd died) */
	V_KEEP, /* a whole, valid ARMED or FIRING timer */
	V_LOST  /* malformed: clear it, report it */
};

/* --- Names ------------------------------------------------------------ */

int
rd_timers_shm_name(char *buf, size_t len, const char *system)
{
	char base[ROOST_SHM_NAME_MAX];
	int rc;
	int n;

	/* roost__system_resolve() would map "" to the default system. */
	if (system == NULL || *system == '\0' ||
	    roost__system_resolve(system) == NULL)
		return -EINVAL;
	rc = roost__sys_shm_name(base, sizeof(base), system);
	if (rc < 0)
		return rc;
	n = snprintf(buf, len, "%s.timers", base);
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

int
rd_timers_unlink(const char *system)
{
	char name[ROOST_SHM_NAME_MAX];
	int rc;

	rc = rd_timers_shm_name(name, sizeof(name), system);
	if (rc < 0)
		return rc;
	return roost__plat_seg_unlink(name);
}

/* --- Entries ---------------------------------------------------------- */

static inline uint64_t
mix(uint64_t h, uint64_t w)
{
	h = (h ^ w) * UINT64_C(0x100000001b3); /* the FNV-1a 64 prime */
	return h ^ (h >> 29);
}

/*
 * te_sum: a word-at-a-time multiply-xor hash of the record and the first
 * tr_size payload bytes. It only has to catch torn writes and scribbles,
 * not adversaries. Precondition: r->tr_size <= RD_TIMER_DATA_MAX.
 */
static uint32_t
ent_sum(const struct rd_tmr_rec *r, const uint8_t *data)
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

static void
ent_write_begin(struct rd_tmr_entry *e)
{
	/* Odd: readers retry. Relaxed load: roostd is the only writer of
	 * te_seq. The release fence orders the odd value before the writes
	 * that follow; pairs with the acquire fence in ent_read(). */
	roost__store_rlx(&e->te_seq, roost__load_rlx(&e->te_seq) | 1u);
	atomic_thread_fence(memory_order_release);
}

static void
ent_write_end(struct rd_tmr_entry *e)
{
	/* Even again, after every write to the entry. Pairs with the
	 * acquire load in ent_read(). */
	roost__store_rel(&e->te_seq, (roost__load_rlx(&e->te_seq) | 1u) + 1u);
}

/* Write a whole timer: record, payload 'data' and checksum. */
static void
ent_store(struct rd_tmr_entry *e, const struct rd_tmr_rec *r,
          const void *data)
{
	uint32_t sum = ent_sum(r, data);

	ent_write_begin(e);
	if (r->tr_size > 0)
		memcpy(e->te_data, data, r->tr_size);
	memcpy(&e->te_rec, r, sizeof(*r));
	e->te_sum = sum;
	ent_write_end(e);
}

/* Rewrite the record (state, due time, fired count) of 'c', whose payload
 * is already in the entry. */
static void
ent_update(struct rd_tmr_entry *e, const struct ent_copy *c)
{
	uint32_t sum = ent_sum(&c->ec_rec, c->ec_data);

	ent_write_begin(e);
	memcpy(&e->te_rec, &c->ec_rec, sizeof(c->ec_rec));
	e->te_sum = sum;
	ent_write_end(e);
}

static void
ent_free(struct rd_tmr_entry *e)
{
	ent_write_begin(e);
	/* FREE first (tag-tmr-free-first): if roostd dies inside this write,
	 * an adopter sees a FREE entry, not a torn timer. The compiler
	 * barrier keeps the store ahead of the memset; a killed process's
	 * stores reach memory in program order. */
	e->te_rec.tr_state = RD_TE_FREE;
	atomic_signal_fence(memory_order_seq_cst);
	memset(&e->te_rec, 0, sizeof(e->te_rec));
	e->te_sum = 0;
	ent_write_end(e);
}

/* Copy entry 'e' without the seqlock: the caller is the writer, or no
 * writer is alive. The payload is copied only as far as tr_size says
 * (clamped; validation catches a bad size). */
static void
ent_copy(const struct rd_tmr_entry *e, struct ent_copy *c)
{
	size_t n;

	memcpy(&c->ec_rec, (const void *)&e->te_rec, sizeof(c->ec_rec));
	memcpy(&c->ec_sum, (const void *)&e->te_sum, sizeof(c->ec_sum));
	if (c->ec_rec.tr_state == RD_TE_FREE)
		return;
	n = c->ec_rec.tr_size;
	if (n > RD_TIMER_DATA_MAX)
		n = RD_TIMER_DATA_MAX;
	memcpy(c->ec_data, (const void *)e->te_data, n);
}

/*
 * A consistent copy of 'e' while roostd may be writing it (tag-tmr-seq).
 * False if the entry did not settle within SNAP_TRIES (a writer preempted
 * or killed mid-write, or a scribbled te_seq).
 */
static bool
ent_read(const struct rd_tmr_entry *e, struct ent_copy *c)
{
	uint32_t seq0;
	int tries;

	for (tries = 0; tries < SNAP_TRIES; tries++) {
		if (tries >= SNAP_SPINS)
			sched_yield();
		/* Pairs with the release store in ent_write_end(). */
		seq0 = roost__load_acq(&e->te_seq);
		if (seq0 & 1u) {
			roost__cpu_relax();
			continue;
		}
		ent_copy(e, c);
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

static bool
rec_is_zero(const struct rd_tmr_rec *r)
{
	static const struct rd_tmr_rec zero;

	return memcmp(r, &zero, sizeof(zero)) == 0;
}

/* The id of a record if its index bits name entry 'idx', else 0. */
static uint64_t
rec_id(const struct rd_tmr_rec *r, uint32_t idx)
{
	if ((r->tr_id & RD_TMR_IDX_MASK) != idx ||
	    (r->tr_id >> RD_TMR_IDX_BITS) == 0)
		return 0;
	return r->tr_id;
}

/*
 * Judge the copy 'c' of entry 'idx'. 'torn' says its te_seq was odd (the
 * writer died inside a write); '*why' gets the reason for V_LOST.
 */
static enum verdict
ent_judge(const struct ent_copy *c, uint32_t idx, bool torn,
          const char **why)
{
	const struct rd_tmr_rec *r = &c->ec_rec;

	*why = NULL;
	if (r->tr_state == RD_TE_FREE) {
		/* Mid-free or mid-add when the writer died: free either way
		 * (an add never returned its id). tag-tmr-free-first */
		if (torn || (rec_is_zero(r) && c->ec_sum == 0))
			return V_FREE;
		*why = "bad free entry";
		return V_LOST;
	}
	if (r->tr_state != RD_TE_ARMED && r->tr_state != RD_TE_FIRING)
		*why = "bad state";
	else if (r->tr_size > RD_TIMER_DATA_MAX)
		*why = "bad size";
	else if (ent_sum(r, c->ec_data) != c->ec_sum)
		*why = torn ? "interrupted write" : "bad checksum";
	else if (rec_id(r, idx) == 0)
		*why = "id does not match its entry";
	else if (r->tr_to == 0)
		*why = "zero target";
	else if (r->tr_state == RD_TE_FIRING && r->tr_interval_ns != 0)
		*why = "interval in firing state";
	return *why == NULL ? V_KEEP : V_LOST;
}

static void
view_fill(struct rd_timer_view *v, const struct ent_copy *c)
{
	const struct rd_tmr_rec *r = &c->ec_rec;

	v->tv_id = r->tr_id;
	v->tv_to.id = r->tr_to;
	v->tv_owner.id = r->tr_owner;
	v->tv_due_ns = r->tr_due_ns;
	v->tv_interval_ns = r->tr_interval_ns;
	v->tv_kind = r->tr_kind;
	v->tv_flags = r->tr_flags;
	v->tv_size = r->tr_size;
	v->tv_fired = r->tr_fired;
	v->tv_data = c->ec_data;
}

/* --- The heap --------------------------------------------------------- */

static inline void
heap_set(struct rd_timers *t, uint32_t pos, uint32_t idx)
{
	t->tm_heap[pos] = idx;
	t->tm_pos[idx] = pos;
}

static void
sift_up(struct rd_timers *t, uint32_t pos)
{
	uint32_t idx = t->tm_heap[pos];
	uint64_t key = t->tm_key[idx];
	uint32_t parent;

	while (pos > 0) {
		parent = (pos - 1) / 2;
		if (t->tm_key[t->tm_heap[parent]] <= key)
			break;
		heap_set(t, pos, t->tm_heap[parent]);
		pos = parent;
	}
	heap_set(t, pos, idx);
}

static void
sift_down(struct rd_timers *t, uint32_t pos)
{
	uint32_t idx = t->tm_heap[pos];
	uint64_t key = t->tm_key[idx];
	uint32_t n = t->tm_nheap;
	uint32_t c;

	for (;;) {
		/* pos < n <= 2^20, so 2 * pos + 2 cannot overflow. */
		c = 2 * pos + 1;
		if (c >= n)
			break;
		if (c + 1 < n &&
		    t->tm_key[t->tm_heap[c + 1]] < t->tm_key[t->tm_heap[c]])
			c++;
		if (t->tm_key[t->tm_heap[c]] >= key)
			break;
		heap_set(t, pos, t->tm_heap[c]);
		pos = c;
	}
	heap_set(t, pos, idx);
}

static void
heap_push(struct rd_timers *t, uint32_t idx, uint64_t key)
{
	t->tm_key[idx] = key;
	t->tm_heap[t->tm_nheap] = idx;
	sift_up(t, t->tm_nheap++);
}

static void
heap_remove(struct rd_timers *t, uint32_t idx)
{
	uint32_t pos = t->tm_pos[idx];
	uint32_t last = t->tm_heap[--t->tm_nheap];

	t->tm_pos[idx] = NOPOS;
	if (pos == t->tm_nheap)
		return;
	heap_set(t, pos, last);
	if (pos > 0 && t->tm_key[t->tm_heap[(pos - 1) / 2]] > t->tm_key[last])
		sift_up(t, pos);
	else
		sift_down(t, pos);
}

static void
heap_rekey(struct rd_timers *t, uint32_t idx, uint64_t key)
{
	uint64_t old = t->tm_key[idx];

	t->tm_key[idx] = key;
	if (key < old)
		sift_up(t, t->tm_pos[idx]);
	else
		sift_down(t, t->tm_pos[idx]);
}

/* --- Table ------------------------------------------------------------ */

static void
tmr_free(struct rd_timers *t)
{
	roost__free(t->tm_heap);
	roost__free(t->tm_pos);
	roost__free(t->tm_key);
	roost__free(t->tm_free);
	roost__free(t);
}

/* The process-side state for 'cap' entries, all free (none pushed on the
 * free stack yet). NULL when out of memory. */
static struct rd_timers *
tmr_alloc(uint32_t cap)
{
	struct rd_timers *t = roost__calloc(1, sizeof(*t));
	uint32_t i;

	if (t == NULL)
		return NULL;
	t->tm_cap = cap;
	t->tm_heap = roost__malloc(cap * sizeof(*t->tm_heap));
	t->tm_pos = roost__malloc(cap * sizeof(*t->tm_pos));
	t->tm_key = roost__malloc(cap * sizeof(*t->tm_key));
	t->tm_free = roost__malloc(cap * sizeof(*t->tm_free));
	if (t->tm_heap == NULL || t->tm_pos == NULL || t->tm_key == NULL ||
	    t->tm_free == NULL) {
		tmr_free(t);
		return NULL;
	}
	for (i = 0; i < cap; i++)
		t->tm_pos[i] = NOPOS;
	return t;
}

static void
tmr_attach(struct rd_timers *t, const struct roost__seg *seg)
{
	t->tm_seg = *seg;
	t->tm_hdr = seg->sg_base;
	t->tm_ent = (struct rd_tmr_entry *)((uint8_t *)seg->sg_base +
	                                    RD_TMR_HDR_SIZE);
}

static void
live_changed(struct rd_timers *t)
{
	/* Relaxed: th_live is for display only. */
	roost__store_rlx(&t->tm_hdr->th_live, t->tm_nheap);
}

/* Free live entry 'idx': out of the heap, out of the table, onto the free
 * stack. */
static void
tmr_release(struct rd_timers *t, uint32_t idx)
{
	heap_remove(t, idx);
	ent_free(&t->tm_ent[idx]);
	t->tm_free[t->tm_nfree++] = idx;
	live_changed(t);
}

static size_t
map_size(uint32_t cap)
{
	return RD_TMR_HDR_SIZE + (size_t)cap * RD_TMR_ENTRY_SIZE;
}

static bool
mode_valid(unsigned mode)
{
	return (mode & ~0660u) == 0 && (mode & 0600u) == 0600u;
}

/*
 * Validate the header of a mapped table and copy its fixed part to 'f'.
 * -EAGAIN if it was never published (its creator is still at work, or
 * died first); ROOST_ECORRUPT if anything is wrong.
 */
static int
hdr_check(const struct roost__seg *seg, const char *system,
          struct rd_tmr_fixed *f)
{
	struct rd_tmr_hdr *h = seg->sg_base;
	uint32_t state;

	/* Pairs with the release store in rd_timers_create()
	 * (tag-tmr-publish). */
	state = roost__load_acq(&h->th_state);
	if (state == RD_TMR_INIT)
		return -EAGAIN;
	if (state != RD_TMR_READY)
		return ROOST_CORRUPT();
	memcpy(f, (const void *)&h->th_fixed, sizeof(*f)); /* trust only f */
	if (f->tf_magic != RD_TMR_MAGIC || f->tf_version != RD_TMR_VERSION ||
	    f->tf_hdr_size != RD_TMR_HDR_SIZE ||
	    f->tf_entry_size != RD_TMR_ENTRY_SIZE ||
	    f->tf_data_max != RD_TIMER_DATA_MAX)
		return ROOST_CORRUPT();
	if (f->tf_cap < RD_TIMERS_CAP_MIN || f->tf_cap > RD_TIMERS_CAP_MAX ||
	    f->tf_map_size != map_size(f->tf_cap) ||
	    f->tf_map_size > seg->sg_len)
		return ROOST_CORRUPT();
	if (f->tf_uid != (uint32_t)geteuid() || !mode_valid(f->tf_mode))
		return ROOST_CORRUPT();
	if (memchr(f->tf_name, '\0', sizeof(f->tf_name)) == NULL ||
	    strcmp(f->tf_name, system) != 0)
		return ROOST_CORRUPT();
	return 0;
}

/* Map the table of 'system' and validate its header into 'f'. */
static int
tmr_open(const char *system, struct roost__seg *seg, struct rd_tmr_fixed *f)
{
	char name[ROOST_SHM_NAME_MAX];
	int rc;

	rc = rd_timers_shm_name(name, sizeof(name), system);
	if (rc < 0)
		return rc;
	rc = roost__plat_seg_open(name, RD_TMR_HDR_SIZE,
	                          map_size(RD_TIMERS_CAP_MAX), seg);
	if (rc < 0)
		return rc;
	rc = hdr_check(seg, system, f);
	if (rc < 0)
		roost__plat_seg_unmap(seg);
	return rc;
}

int
rd_timers_create(struct rd_timers **out, const char *system, uint32_t cap,
                 unsigned mode)
{
	char name[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	struct rd_tmr_fixed *f;
	struct rd_timers *t;
	uint32_t i;
	int rc;

	*out = NULL;
	if (cap < RD_TIMERS_CAP_MIN || cap > RD_TIMERS_CAP_MAX ||
	    !mode_valid(mode))
		return -EINVAL;
	rc = rd_timers_shm_name(name, sizeof(name), system);
	if (rc < 0)
		return rc;
	/* Memory first, so a failure leaves no object behind. */
	t = tmr_alloc(cap);
	if (t == NULL)
		return -ENOMEM;
	rc = roost__plat_seg_create(name, map_size(cap), mode, &seg);
	if (rc < 0)
		goto out_free;
	tmr_attach(t, &seg);
	/* The object is zero-filled: every entry is FREE with an even
	 * te_seq, th_state is INIT. */
	f = &t->tm_hdr->th_fixed;
	f->tf_magic = RD_TMR_MAGIC;
	f->tf_version = RD_TMR_VERSION;
	f->tf_hdr_size = RD_TMR_HDR_SIZE;
	f->tf_entry_size = RD_TMR_ENTRY_SIZE;
	f->tf_data_max = RD_TIMER_DATA_MAX;
	f->tf_cap = cap;
	f->tf_mode = mode;
	f->tf_uid = (uint32_t)geteuid();
	f->tf_map_size = map_size(cap);
	f->tf_created_rt_ns = roost__plat_realtime_ns();
	snprintf(f->tf_name, sizeof(f->tf_name), "%s", system);
	t->tm_next_seq = 1;
	/* Relaxed: published by the release store below. */
	roost__store_rlx(&t->tm_hdr->th_next_seq, t->tm_next_seq);
	roost__store_rlx(&t->tm_hdr->th_owner_pid, (int32_t)getpid());
	/* Publish (tag-tmr-publish). Pairs with the acquire in hdr_check(). */
	roost__store_rel(&t->tm_hdr->th_state, RD_TMR_READY);
	/* Lowest index on top: early timers share few pages. */
	for (i = cap; i-- > 0;)
		t->tm_free[t->tm_nfree++] = i;
	*out = t;
	return 0;

out_free:
	tmr_free(t);
	return rc;
}

/* Take entry 'idx' of a table nobody writes: keep it (into the heap
 * array, not yet ordered), or clear it and report why. Raises '*maxseq'
 * to the sequence of any readable id, kept or not. */
static void
adopt_entry(struct rd_timers *t, uint32_t idx,
            void (*lost)(void *arg, uint64_t id, const char *why), void *arg,
            uint64_t *maxseq)
{
	struct rd_tmr_entry *e = &t->tm_ent[idx];
	struct ent_copy c;
	const char *why;
	enum verdict v;
	uint64_t id;
	bool torn;

	/* Relaxed: the previous writer is dead, all its stores are
	 * visible, and we are the writer now. */
	torn = (roost__load_rlx(&e->te_seq) & 1u) != 0;
	ent_copy(e, &c);
	v = ent_judge(&c, idx, torn, &why);
	id = v == V_FREE ? 0 : rec_id(&c.ec_rec, idx);
	if ((id >> RD_TMR_IDX_BITS) > *maxseq)
		*maxseq = id >> RD_TMR_IDX_BITS;
	if (v == V_KEEP && c.ec_rec.tr_state == RD_TE_FIRING) {
		/* Handed to its mailbox or about to be: never twice. */
		v = V_LOST;
		why = "may have fired";
	}
	switch (v) {
	case V_KEEP:
		if (torn)
			ent_write_end(e); /* nothing of the write landed */
		t->tm_key[idx] = c.ec_rec.tr_due_ns;
		heap_set(t, t->tm_nheap++, idx);
		return;
	case V_LOST:
		if (lost != NULL)
			lost(arg, id, why);
		ent_free(e);
		break;
	case V_FREE:
		if (torn || !rec_is_zero(&c.ec_rec) || c.ec_sum != 0)
			ent_free(e);
		break;
	}
	t->tm_free[t->tm_nfree++] = idx;
}

int
rd_timers_adopt(struct rd_timers **out, const char *system,
                void (*lost)(void *arg, uint64_t id, const char *why),
                void *arg)
{
	struct roost__seg seg;
	struct rd_tmr_fixed f;
	struct rd_timers *t;
	uint64_t next_seq;
	uint64_t maxseq = 0;
	uint32_t i;
	int rc;

	*out = NULL;
	rc = tmr_open(system, &seg, &f);
	if (rc == -EAGAIN) /* never published: its creator died */
		rc = ROOST_CORRUPT();
	if (rc < 0)
		return rc;
	/* Relaxed: no writer is alive (see adopt_entry()). */
	next_seq = roost__load_rlx(
		&((struct rd_tmr_hdr *)seg.sg_base)->th_next_seq);
	if (next_seq == 0 || next_seq > RD_TMR_SEQ_MAX + 1) {
		rc = ROOST_CORRUPT();
		goto out_unmap;
	}
	t = tmr_alloc(f.tf_cap);
	if (t == NULL) {
		rc = -ENOMEM;
		goto out_unmap;
	}
	tmr_attach(t, &seg);
	/* Descending, so the free stack hands out low indexes first. */
	for (i = f.tf_cap; i-- > 0;)
		adopt_entry(t, i, lost, arg, &maxseq);
	for (i = t->tm_nheap / 2; i-- > 0;)
		sift_down(t, i);
	/* Past every id seen, so none is handed out twice, even if the
	 * header's counter was stale. */
	if (maxseq >= next_seq)
		next_seq = maxseq + 1;
	t->tm_next_seq = next_seq;
	/* Relaxed: display words, and th_next_seq (see FORMAT). */
	roost__store_rlx(&t->tm_hdr->th_next_seq, next_seq);
	roost__store_rlx(&t->tm_hdr->th_owner_pid, (int32_t)getpid());
	roost__store_rlx(&t->tm_hdr->th_adoptions,
	                 roost__load_rlx(&t->tm_hdr->th_adoptions) + 1);
	live_changed(t);
	*out = t;
	return 0;

out_unmap:
	roost__plat_seg_unmap(&seg);
	return rc;
}

void
rd_timers_close(struct rd_timers *t)
{
	if (t == NULL)
		return;
	/* Relaxed: display only. */
	roost__store_rlx(&t->tm_hdr->th_owner_pid, 0);
	roost__plat_seg_unmap(&t->tm_seg);
	tmr_free(t);
}

int
rd_timers_add(struct rd_timers *t, roost_aid_t to, roost_aid_t owner,
              uint64_t due_ns, uint64_t interval_ns, uint32_t kind,
              uint32_t flags, const void *data, size_t size, uint64_t *id)
{
	struct rd_tmr_rec r;
	uint32_t idx;

	if (to.id == 0 || flags > UINT16_MAX || (size > 0 && data == NULL))
		return -EINVAL;
	if (size > RD_TIMER_DATA_MAX)
		return -EMSGSIZE;
	if (t->tm_nfree == 0)
		return -ENOSPC;
	if (t->tm_next_seq > RD_TMR_SEQ_MAX)
		return -EOVERFLOW;
	idx = t->tm_free[--t->tm_nfree];
	memset(&r, 0, sizeof(r));
	r.tr_state = RD_TE_ARMED;
	r.tr_size = (uint8_t)size;
	r.tr_flags = (uint16_t)flags;
	r.tr_kind = kind;
	r.tr_id = (t->tm_next_seq++ << RD_TMR_IDX_BITS) | idx;
	r.tr_to = to.id;
	r.tr_owner = owner.id;
	r.tr_due_ns = due_ns;
	r.tr_interval_ns = interval_ns;
	/* The counter before the entry holding the id (see FORMAT).
	 * Relaxed: readers only display it. */
	roost__store_rlx(&t->tm_hdr->th_next_seq, t->tm_next_seq);
	ent_store(&t->tm_ent[idx], &r, data);
	heap_push(t, idx, due_ns);
	live_changed(t);
	*id = r.tr_id;
	return 0;
}

int
rd_timers_cancel(struct rd_timers *t, uint64_t id)
{
	uint32_t idx = (uint32_t)(id & RD_TMR_IDX_MASK);

	if ((id >> RD_TMR_IDX_BITS) == 0 || idx >= t->tm_cap ||
	    t->tm_pos[idx] == NOPOS)
		return -ENOENT;
	/* Our own word; a scribble can only make this miss. */
	if (t->tm_ent[idx].te_rec.tr_id != id)
		return -ENOENT;
	tmr_release(t, idx);
	return 0;
}

int
rd_timers_drop_target(struct rd_timers *t, roost_aid_t to)
{
	uint32_t *found;
	uint32_t n = 0;
	uint32_t i;

	if (to.id == 0)
		return 0;
	/*
	 * Collect first: releasing reorders the heap. The matches go in the
	 * free stack's unused room (it has one slot per live timer), and
	 * releasing found[i] pushes it back onto the same slot.
	 */
	found = t->tm_free + t->tm_nfree;
	for (i = 0; i < t->tm_nheap; i++) {
		if (t->tm_ent[t->tm_heap[i]].te_rec.tr_to == to.id)
			found[n++] = t->tm_heap[i];
	}
	for (i = 0; i < n; i++)
		tmr_release(t, found[i]);
	return (int)n;
}

bool
rd_timers_next_due(const struct rd_timers *t, uint64_t *due_ns)
{
	if (t->tm_nheap == 0)
		return false;
	*due_ns = t->tm_key[t->tm_heap[0]];
	return true;
}

uint32_t
rd_timers_count(const struct rd_timers *t)
{
	return t->tm_nheap;
}

uint32_t
rd_timers_cap(const struct rd_timers *t)
{
	return t->tm_cap;
}

static uint64_t
add_sat(uint64_t a, uint64_t b)
{
	uint64_t r;

	return __builtin_add_overflow(a, b, &r) ? UINT64_MAX : r;
}

/* The first tick of the schedule 'due', due + 'interval', ... that is
 * after 'now' (saturating: UINT64_MAX is never). */
static uint64_t
next_tick(uint64_t due, uint64_t interval, uint64_t now)
{
	uint64_t k;
	uint64_t step;

	if (due > now)
		return add_sat(due, interval);
	k = (now - due) / interval + 1;
	if (__builtin_mul_overflow(k, interval, &step))
		return UINT64_MAX;
	return add_sat(due, step);
}

/*
 * Deliver live entry 'idx', due at 'key' <= now. Returns 1 if delivered,
 * else 0.
 */
static int
fire_one(struct rd_timers *t, uint32_t idx, uint64_t key, uint64_t now,
         int (*send)(void *arg, const struct rd_timer_view *v,
                     const void *data),
         void *arg)
{
	struct rd_tmr_entry *e = &t->tm_ent[idx];
	struct rd_tmr_rec *r;
	struct rd_timer_view v;
	struct ent_copy c;
	const char *why;
	uint64_t retry;
	int rc;

	ent_copy(e, &c);
	r = &c.ec_rec;
	/* Only a peer mapping the table read-write can get us here. */
	if (ent_judge(&c, idx, false, &why) != V_KEEP ||
	    r->tr_state != RD_TE_ARMED) {
		ROOST_CORRUPT();
		tmr_release(t, idx);
		return 0;
	}
	view_fill(&v, &c);
	v.tv_due_ns = key;
	if (r->tr_interval_ns == 0) {
		/* tag-tmr-firing: an adopter must not send it again. */
		r->tr_state = RD_TE_FIRING;
	} else {
		/* A key before tr_due_ns is a refused tick being retried; the
		 * schedule has moved on already. */
		if (key >= r->tr_due_ns)
			r->tr_due_ns = next_tick(r->tr_due_ns,
			                         r->tr_interval_ns, now);
		r->tr_fired++;
	}
	ent_update(e, &c); /* before send: a crash loses, never doubles */
	rc = send(arg, &v, c.ec_data);
	if (rc == 0) {
		if (r->tr_interval_ns == 0)
			tmr_release(t, idx);
		else
			heap_rekey(t, idx, r->tr_due_ns);
		return 1;
	}
	if (rc != -EAGAIN) {
		tmr_release(t, idx); /* the target is gone */
		return 0;
	}
	/* Mailbox full: retry later, not counted. An interval keeps its
	 * schedule in the table; only this process remembers the retry. */
	retry = add_sat(now, RD_TIMERS_RETRY_NS);
	if (r->tr_interval_ns == 0) {
		r->tr_state = RD_TE_ARMED;
		r->tr_due_ns = retry;
	} else {
		r->tr_fired--;
		if (retry > r->tr_due_ns)
			retry = r->tr_due_ns;
	}
	ent_update(e, &c);
	heap_rekey(t, idx, retry);
	return 0;
}

int
rd_timers_fire(struct rd_timers *t, uint64_t now,
               int (*send)(void *arg, const struct rd_timer_view *v,
                           const void *data),
               void *arg)
{
	uint32_t done;
	uint32_t idx;
	int delivered = 0;

	/* UINT64_MAX is "never": a saturated schedule must not fire. */
	if (now == UINT64_MAX)
		now = UINT64_MAX - 1;
	/* Each delivery moves its key past 'now' or removes it, so the
	 * loop ends; the bound keeps a flood from starving roostd. */
	for (done = 0; done < RD_TIMERS_FIRE_MAX && t->tm_nheap > 0; done++) {
		idx = t->tm_heap[0];
		if (t->tm_key[idx] > now)
			break;
		delivered += fire_one(t, idx, t->tm_key[idx], now, send, arg);
	}
	return delivered;
}

int
rd_timers_snapshot(const char *system,
                   void (*fn)(void *arg, const struct rd_timer_view *v),
                   void *arg)
{
	struct roost__seg seg;
	struct rd_tmr_fixed f;
	struct rd_tmr_entry *ent;
	struct rd_timer_view v;
	struct ent_copy c;
	const char *why;
	uint32_t i;
	int n = 0;
	int rc;

	rc = tmr_open(system, &seg, &f);
	if (rc < 0)
		return rc;
	ent = (struct rd_tmr_entry *)((uint8_t *)seg.sg_base +
	                              RD_TMR_HDR_SIZE);
	for (i = 0; i < f.tf_cap; i++) {
		if (!ent_read(&ent[i], &c) || c.ec_rec.tr_state == RD_TE_FREE)
			continue;
		if (ent_judge(&c, i, false, &why) != V_KEEP)
			continue;
		view_fill(&v, &c);
		fn(arg, &v);
		n++;
	}
	roost__plat_seg_unmap(&seg);
	return n;
}
