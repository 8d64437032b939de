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

struct rd_timers {
	struct roost__seg tm_seg;
	struct roost__tmr_hdr *tm_hdr;
	struct roost__tmr_entry *tm_ent; /* tm_cap entries */
	uint32_t tm_cap;
	uint32_t tm_nheap;           /* live timers: every one is in the heap */
	uint32_t tm_nfree;
	uint64_t tm_next_seq;        /* our copy of th_next_seq */
	uint32_t *tm_heap;           /* entry indexes, a min-heap on tm_key */
	uint32_t *tm_pos;            /* entry index -> heap position, NOPOS */
	uint64_t *tm_key;            /* entry index -> next delivery time */
	uint32_t *tm_free;           /* stack of free entry indexes */
};

/* --- Names ------------------------------------------------------------ */

int
rd_timers_unlink(const char *system)
{
	char name[ROOST_SHM_NAME_MAX];
	int rc;

	rc = roost__timers_shm_name(name, sizeof(name), system);
	if (rc < 0)
		return rc;
	return roost__plat_seg_unlink(name);
}

/* --- Entries ---------------------------------------------------------- */

static void
ent_write_begin(struct roost__tmr_entry *e)
{
	/* Odd: readers retry. Relaxed load: roostd is the only writer of
	 * te_seq. The release fence orders the odd value before the writes
	 * that follow; pairs with the acquire fence in roost__tmr_read(). */
	roost__store_rlx(&e->te_seq, roost__load_rlx(&e->te_seq) | 1u);
	atomic_thread_fence(memory_order_release);
}

static void
ent_write_end(struct roost__tmr_entry *e)
{
	/* Even again, after every write to the entry. Pairs with the
	 * acquire load in roost__tmr_read(). */
	roost__store_rel(&e->te_seq, (roost__load_rlx(&e->te_seq) | 1u) + 1u);
}

/* Write a whole timer: record, payload 'data' and checksum. */
static void
ent_store(struct roost__tmr_entry *e, const struct roost__tmr_rec *r,
          const void *data)
{
	uint32_t sum = roost__tmr_sum(r, data);

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
ent_update(struct roost__tmr_entry *e, const struct roost__tmr_copy *c)
{
	uint32_t sum = roost__tmr_sum(&c->tc_rec, c->tc_data);

	ent_write_begin(e);
	memcpy(&e->te_rec, &c->tc_rec, sizeof(c->tc_rec));
	e->te_sum = sum;
	ent_write_end(e);
}

static void
ent_free(struct roost__tmr_entry *e)
{
	ent_write_begin(e);
	/* FREE first (tag-tmr-free-first): if roostd dies inside this write,
	 * an adopter sees a FREE entry, not a torn timer. The compiler
	 * barrier keeps the store ahead of the memset; a killed process's
	 * stores reach memory in program order. */
	e->te_rec.tr_state = ROOST_TE_FREE;
	atomic_signal_fence(memory_order_seq_cst);
	memset(&e->te_rec, 0, sizeof(e->te_rec));
	e->te_sum = 0;
	ent_write_end(e);
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
	t->tm_ent = (struct roost__tmr_entry *)((uint8_t *)seg->sg_base +
	                                    ROOST_TMR_HDR_SIZE);
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

int
rd_timers_create(struct rd_timers **out, const char *system, uint32_t cap,
                 unsigned mode, int64_t gid)
{
	char name[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;
	struct roost__tmr_fixed *f;
	struct rd_timers *t;
	uint32_t i;
	int rc;

	*out = NULL;
	if (cap < ROOST_TMR_CAP_MIN || cap > ROOST_TMR_CAP_MAX ||
	    !roost__tmr_mode_valid(mode))
		return -EINVAL;
	rc = roost__timers_shm_name(name, sizeof(name), system);
	if (rc < 0)
		return rc;
	/* Memory first, so a failure leaves no object behind. */
	t = tmr_alloc(cap);
	if (t == NULL)
		return -ENOMEM;
	rc = roost__plat_seg_create_gid(name, roost__tmr_map_size(cap), mode,
	                                gid, &seg);
	if (rc < 0)
		goto out_free;
	tmr_attach(t, &seg);
	/* The object is zero-filled: every entry is FREE with an even
	 * te_seq, th_state is INIT. */
	f = &t->tm_hdr->th_fixed;
	f->tf_magic = ROOST_TMR_MAGIC;
	f->tf_version = ROOST_TMR_VERSION;
	f->tf_hdr_size = ROOST_TMR_HDR_SIZE;
	f->tf_entry_size = ROOST_TMR_ENTRY_SIZE;
	f->tf_data_max = ROOST_TIMER_DATA_MAX;
	f->tf_cap = cap;
	f->tf_mode = mode;
	f->tf_uid = roost__plat_uid();
	f->tf_map_size = roost__tmr_map_size(cap);
	f->tf_created_rt_ns = roost__plat_realtime_ns();
	snprintf(f->tf_name, sizeof(f->tf_name), "%s", system);
	t->tm_next_seq = 1;
	/* Relaxed: published by the release store below. */
	roost__store_rlx(&t->tm_hdr->th_next_seq, t->tm_next_seq);
	roost__store_rlx(&t->tm_hdr->th_owner_pid, (int32_t)getpid());
	/* Publish (tag-tmr-publish). Pairs with the acquire in
	 * roost__tmr_open(). */
	roost__store_rel(&t->tm_hdr->th_state, ROOST_TMR_READY);
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
	struct roost__tmr_entry *e = &t->tm_ent[idx];
	struct roost__tmr_copy c;
	const char *why;
	enum roost__tmr_verdict v;
	uint64_t id;
	bool torn;

	/* Relaxed: the previous writer is dead, all its stores are
	 * visible, and we are the writer now. */
	torn = (roost__load_rlx(&e->te_seq) & 1u) != 0;
	roost__tmr_copy_raw(e, &c);
	v = roost__tmr_judge(&c, idx, torn, &why);
	id = v == ROOST_TMR_FREE_ENTRY ? 0 : roost__tmr_rec_id(&c.tc_rec, idx);
	if ((id >> ROOST_TMR_IDX_BITS) > *maxseq)
		*maxseq = id >> ROOST_TMR_IDX_BITS;
	if (v == ROOST_TMR_KEEP && c.tc_rec.tr_state == ROOST_TE_FIRING) {
		/* Handed to its mailbox or about to be: never twice. */
		v = ROOST_TMR_LOST;
		why = "may have fired";
	}
	switch (v) {
	case ROOST_TMR_KEEP:
		if (torn)
			ent_write_end(e); /* nothing of the write landed */
		t->tm_key[idx] = c.tc_rec.tr_due_ns;
		heap_set(t, t->tm_nheap++, idx);
		return;
	case ROOST_TMR_LOST:
		if (lost != NULL)
			lost(arg, id, why);
		ent_free(e);
		break;
	case ROOST_TMR_FREE_ENTRY:
		if (torn || !roost__tmr_rec_is_zero(&c.tc_rec) || c.tc_sum != 0)
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
	struct roost__tmr_fixed f;
	struct rd_timers *t;
	uint64_t next_seq;
	uint64_t maxseq = 0;
	uint32_t i;
	int rc;

	*out = NULL;
	rc = roost__tmr_open(system, roost__plat_uid(), -1, &seg, &f);
	if (rc == -EAGAIN) /* never published: its creator died */
		rc = ROOST_CORRUPT();
	if (rc < 0)
		return rc;
	/* Relaxed: no writer is alive (see adopt_entry()). */
	next_seq = roost__load_rlx(
		&((struct roost__tmr_hdr *)seg.sg_base)->th_next_seq);
	if (next_seq == 0 || next_seq > ROOST_TMR_SEQ_MAX + 1) {
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
	struct roost__tmr_rec r;
	uint32_t idx;

	if (to.id == 0 || flags > UINT16_MAX || (size > 0 && data == NULL))
		return -EINVAL;
	if (size > ROOST_TIMER_DATA_MAX)
		return -EMSGSIZE;
	if (t->tm_nfree == 0)
		return -ENOSPC;
	if (t->tm_next_seq > ROOST_TMR_SEQ_MAX)
		return -EOVERFLOW;
	idx = t->tm_free[--t->tm_nfree];
	memset(&r, 0, sizeof(r));
	r.tr_state = ROOST_TE_ARMED;
	r.tr_size = (uint8_t)size;
	r.tr_flags = (uint16_t)flags;
	r.tr_kind = kind;
	r.tr_id = (t->tm_next_seq++ << ROOST_TMR_IDX_BITS) | idx;
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
	uint32_t idx = (uint32_t)(id & ROOST_TMR_IDX_MASK);

	if ((id >> ROOST_TMR_IDX_BITS) == 0 || idx >= t->tm_cap ||
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

struct roost__tmr_stats *
rd_timers_stats(struct rd_timers *t)
{
	return &t->tm_hdr->th_stats;
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
         int (*send)(void *arg, const struct roost__timer_view *v,
                     const void *data),
         void *arg)
{
	struct roost__tmr_entry *e = &t->tm_ent[idx];
	struct roost__tmr_rec *r;
	struct roost__timer_view v;
	struct roost__tmr_copy c;
	const char *why;
	uint64_t retry;
	int rc;

	roost__tmr_copy_raw(e, &c);
	r = &c.tc_rec;
	/* Only a peer mapping the table read-write can get us here. */
	if (roost__tmr_judge(&c, idx, false, &why) != ROOST_TMR_KEEP ||
	    r->tr_state != ROOST_TE_ARMED) {
		ROOST_CORRUPT();
		tmr_release(t, idx);
		return 0;
	}
	roost__tmr_view_fill(&v, &c);
	v.tv_due_ns = key;
	if (r->tr_interval_ns == 0) {
		/* tag-tmr-firing: an adopter must not send it again. */
		r->tr_state = ROOST_TE_FIRING;
	} else {
		/* A key before tr_due_ns is a refused tick being retried; the
		 * schedule has moved on already. */
		if (key >= r->tr_due_ns)
			r->tr_due_ns = next_tick(r->tr_due_ns,
			                         r->tr_interval_ns, now);
		r->tr_fired++;
	}
	ent_update(e, &c); /* before send: a crash loses, never doubles */
	rc = send(arg, &v, c.tc_data);
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
		r->tr_state = ROOST_TE_ARMED;
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
               int (*send)(void *arg, const struct roost__timer_view *v,
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
