/* SPDX-License-Identifier: MIT */
/*
 * timer_stats.c - writing and reading roostd's counters in the alarm
 * table's header (tag-tmr-stats in timer_table.h).
 */
#include "core/shm/shm.h"

/* Copies tried before a reader gives up on a write in progress. */
#define STATS_TRIES 1000

/* Alarm lateness bucket bounds: 50 us to 10 ms (roostd's targets are a
 * median under 200 us and a p99 under 2 ms). */
static const uint64_t late_bounds_ns[ROOST_TMR_LATE_BUCKETS - 1] = {
    50000, 100000, 200000, 500000, 1000000, 2000000, 5000000, 10000000,
};

uint64_t
roost__tmr_late_bound_ns(unsigned i)
{
	return i < ROOST_TMR_LATE_BUCKETS - 1 ? late_bounds_ns[i] : UINT64_MAX;
}

unsigned
roost__tmr_late_bucket(uint64_t ns)
{
	unsigned i;

	for (i = 0; i < ROOST_TMR_LATE_BUCKETS - 1; i++)
		if (ns <= late_bounds_ns[i])
			return i;
	return i;
}

/* A multiply-xor hash of the words, folded to 32 bits; 0 for all zero
 * (a table made before the counters existed). */
static uint32_t
words_sum(const uint64_t *w)
{
	uint64_t h = 0;
	unsigned i;

	for (i = 0; i < ROOST_TMR_STAT_WORDS; i++)
		h = (h ^ w[i]) * 0x9e3779b97f4a7c15ull + w[i];
	return (uint32_t)(h ^ (h >> 32));
}

void
roost__tmr_stats_publish(struct roost__tmr_stats *s,
                         const struct roost__tmr_stats_vals *v)
{
	uint64_t w[ROOST_TMR_STAT_WORDS];
	uint32_t seq = roost__load_rlx(&s->ts_seq);
	unsigned i;

	memcpy(w, v, sizeof(w));
	/* Odd first; the release fence keeps the words' stores after it. */
	roost__store_rlx(&s->ts_seq, seq | 1u);
	atomic_thread_fence(memory_order_release);
	for (i = 0; i < ROOST_TMR_STAT_WORDS; i++)
		roost__store_rlx(&s->ts_w[i], w[i]);
	roost__store_rlx(&s->ts_sum, words_sum(w));
	/* Pairs with the reader's acquire load of ts_seq. */
	roost__store_rel(&s->ts_seq, (seq | 1u) + 1u);
}

int
roost__tmr_stats_copy(const struct roost__tmr_stats *s,
                      struct roost__tmr_stats_vals *v)
{
	uint64_t w[ROOST_TMR_STAT_WORDS];
	uint32_t seq0, sum;
	unsigned i;
	int tries;

	for (tries = 0; tries < STATS_TRIES; tries++) {
		if (tries > 0)
			roost__plat_yield();
		seq0 = roost__load_acq(&s->ts_seq);
		if (seq0 & 1u)
			continue;
		for (i = 0; i < ROOST_TMR_STAT_WORDS; i++)
			w[i] = roost__load_rlx(&s->ts_w[i]);
		sum = roost__load_rlx(&s->ts_sum);
		/* Keeps the copy ahead of the re-check; pairs with the
		 * writer's release fence. */
		atomic_thread_fence(memory_order_acquire);
		if (roost__load_rlx(&s->ts_seq) != seq0)
			continue;
		if (sum != words_sum(w))
			return ROOST_CORRUPT();
		memcpy(v, w, sizeof(w));
		return 0;
	}
	return -EAGAIN;
}

int
roost__tmr_stats_get(const char *system, uint32_t uid, int64_t gid,
                     struct roost__tmr_stats_vals *v)
{
	struct roost__tmr_fixed f;
	struct roost__seg seg;
	int rc;

	rc = roost__tmr_open(system, uid, gid, &seg, &f);
	if (rc < 0)
		return rc;
	rc = roost__tmr_stats_copy(
	    &((const struct roost__tmr_hdr *)seg.sg_base)->th_stats, v);
	roost__plat_seg_unmap(&seg);
	return rc;
}
