/* SPDX-License-Identifier: MIT */
/*
 * check_timers.c - roostd's alarm table (daemon/timers.c): delivery in due
 * order, intervals and skipped ticks, cancel and stale ids, a full table,
 * retries and drops, the per-call bound, adoption after a writer killed
 * with SIGKILL (once at a chosen point, and at random points), adoption of
 * a scribbled table, and snapshots taken by another process while the
 * writer works. Times are made up: the table never reads the clock.
 */
#include "test_util.h"
#include "timers.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS 1000000ull

static roost_aid_t
aid(uint64_t v)
{
	return (roost_aid_t){v};
}

static struct rd_timers *
tt_create(uint32_t cap)
{
	struct rd_timers *t = NULL;
	int rc = rd_timers_create(&t, tu_sys, cap, 0600, -1);

	if (rc != 0)
		tu_fail("create: %s", roost_strerror(rc));
	return t;
}

/* Payload bytes derived from 'seed', so a receiver can check them. */
static void
pattern(uint8_t *buf, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(seed * 131u + i * 7u + (seed >> 8));
}

static bool
pattern_ok(const uint8_t *buf, size_t n, uint64_t seed)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] != (uint8_t)(seed * 131u + i * 7u + (seed >> 8)))
			return false;
	}
	return true;
}

static uint64_t
add_pat(struct rd_timers *t, roost_aid_t to, uint64_t due, uint64_t ival,
        uint32_t kind, size_t size)
{
	uint8_t buf[ROOST_TIMER_DATA_MAX];
	uint64_t id = 0;
	int rc;

	pattern(buf, size, kind);
	rc = rd_timers_add(t, to, aid(99), due, ival, kind, ROOST_SEND_SYSTEM,
	                   buf, size, &id);
	if (rc != 0)
		tu_fail("add: %s", roost_strerror(rc));
	if (id == 0)
		tu_fail("add returned id 0");
	return id;
}

/* --- A recording send callback ---------------------------------------- */

struct shot {
	uint64_t sh_id;
	uint64_t sh_to;
	uint64_t sh_due;
	uint64_t sh_ival;
	uint64_t sh_fired;
	uint32_t sh_kind;
	uint32_t sh_size;
	bool sh_data_ok;
};

struct sink {
	struct shot *sk_shot;
	size_t sk_cap;
	size_t sk_n;    /* calls, even past sk_cap */
	int sk_rc;      /* what send returns */
	uint64_t sk_now; /* the 'now' of the current fire call */
	bool sk_late;    /* a view due after sk_now was sent */
};

static int
sink_send(void *arg, const struct roost__timer_view *v, const void *data)
{
	struct sink *s = arg;
	struct shot *sh;

	if (v->tv_due_ns > s->sk_now)
		s->sk_late = true;
	if (s->sk_n < s->sk_cap) {
		sh = &s->sk_shot[s->sk_n];
		sh->sh_id = v->tv_id;
		sh->sh_to = v->tv_to.id;
		sh->sh_due = v->tv_due_ns;
		sh->sh_ival = v->tv_interval_ns;
		sh->sh_fired = v->tv_fired;
		sh->sh_kind = v->tv_kind;
		sh->sh_size = v->tv_size;
		sh->sh_data_ok = data == v->tv_data &&
		                 v->tv_owner.id == 99 &&
		                 v->tv_flags == ROOST_SEND_SYSTEM &&
		                 pattern_ok(data, v->tv_size, v->tv_kind);
	}
	s->sk_n++;
	return s->sk_rc;
}

static void
sink_init(struct sink *s, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->sk_shot = calloc(cap, sizeof(*s->sk_shot));
	ck_assert_ptr_nonnull(s->sk_shot);
	s->sk_cap = cap;
}

static int
fire_at(struct rd_timers *t, struct sink *s, uint64_t now)
{
	s->sk_now = now;
	return rd_timers_fire(t, now, sink_send, s);
}

/* --- Order, bound ------------------------------------------------------ */

#define ORDER_N 3000

START_TEST(test_timers_order)
{
	struct rd_timers *t = tt_create(4096);
	static uint64_t due[ORDER_N];
	static int seen[ORDER_N];
	unsigned seed = 12345;
	uint64_t min = UINT64_MAX;
	uint64_t next;
	uint64_t now;
	uint64_t last = 0;
	struct sink s;
	size_t i;
	int n = 0;

	ck_assert(!rd_timers_next_due(t, &next));
	sink_init(&s, ORDER_N + 1);
	for (i = 0; i < ORDER_N; i++) {
		due[i] = 1000 + (uint64_t)rand_r(&seed) % 1000000;
		if (due[i] < min)
			min = due[i];
		add_pat(t, aid(1 + i % 7), due[i], 0, (uint32_t)i,
		        i % (ROOST_TIMER_DATA_MAX + 1));
		ck_assert(rd_timers_next_due(t, &next));
		ck_assert_uint_eq(next, min);
	}
	ck_assert_uint_eq(rd_timers_count(t), ORDER_N);
	ck_assert_int_eq(fire_at(t, &s, min - 1), 0);
	for (now = 0; now <= 1001000; now += 37813) {
		n += fire_at(t, &s, now);
		/* Everything left is due after 'now'. */
		if (rd_timers_next_due(t, &next))
			ck_assert_uint_gt(next, now);
	}
	n += fire_at(t, &s, 1001000);
	ck_assert_int_eq(n, ORDER_N);
	ck_assert_uint_eq(s.sk_n, ORDER_N);
	ck_assert(!s.sk_late);
	for (i = 0; i < s.sk_n; i++) {
		struct shot *sh = &s.sk_shot[i];

		ck_assert_uint_lt(sh->sh_kind, ORDER_N);
		ck_assert_uint_ge(sh->sh_due, last); /* nondecreasing */
		last = sh->sh_due;
		ck_assert_uint_eq(sh->sh_due, due[sh->sh_kind]);
		ck_assert_uint_eq(sh->sh_to, 1 + sh->sh_kind % 7);
		ck_assert_uint_eq(sh->sh_size,
		                  sh->sh_kind % (ROOST_TIMER_DATA_MAX + 1));
		ck_assert_uint_eq(sh->sh_fired, 0);
		ck_assert_uint_eq(sh->sh_ival, 0);
		ck_assert(sh->sh_data_ok);
		seen[sh->sh_kind]++;
	}
	for (i = 0; i < ORDER_N; i++)
		ck_assert_int_eq(seen[i], 1);
	ck_assert_uint_eq(rd_timers_count(t), 0);
	ck_assert(!rd_timers_next_due(t, &next));
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

START_TEST(test_timers_fire_bound)
{
	struct rd_timers *t = tt_create(8192);
	struct sink s;
	int i;

	sink_init(&s, 1);
	for (i = 0; i < 5000; i++)
		add_pat(t, aid(5), 10 + (uint64_t)(i % 3), 0, (uint32_t)i, 4);
	/* An interval due now counts once per call, never more. */
	add_pat(t, aid(5), 10, 1, 1, 0);
	ck_assert_int_eq(fire_at(t, &s, 100), RD_TIMERS_FIRE_MAX);
	ck_assert_uint_eq(rd_timers_count(t), 5001 - RD_TIMERS_FIRE_MAX + 1);
	ck_assert_int_eq(fire_at(t, &s, 100), 5001 - RD_TIMERS_FIRE_MAX);
	ck_assert_uint_eq(rd_timers_count(t), 1); /* the interval */
	ck_assert_int_eq(fire_at(t, &s, 100), 0);
	ck_assert_int_eq(fire_at(t, &s, 101), 1);
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Intervals -------------------------------------------------------- */

static int
snap_one(void *arg, const struct roost__timer_view *v)
{
	struct roost__timer_view *out = arg;

	if (v->tv_kind == out->tv_kind)
		*out = *v;
	return 0;
}

START_TEST(test_timers_interval)
{
	struct rd_timers *t = tt_create(16);
	struct roost__timer_view sv;
	struct sink s;
	uint64_t next;
	uint64_t iv;
	uint64_t one;

	sink_init(&s, 64);
	iv = add_pat(t, aid(3), 1000, 100, 5, 4);
	one = add_pat(t, aid(4), 1250, 0, 6, 0);
	ck_assert_uint_ne(iv, one);
	ck_assert_int_eq(fire_at(t, &s, 999), 0);
	ck_assert_int_eq(fire_at(t, &s, 1000), 1);
	ck_assert_uint_eq(s.sk_shot[0].sh_due, 1000);
	ck_assert_uint_eq(s.sk_shot[0].sh_fired, 0);
	ck_assert_uint_eq(s.sk_shot[0].sh_ival, 100);
	ck_assert(s.sk_shot[0].sh_data_ok);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 1100);
	ck_assert_int_eq(fire_at(t, &s, 1100), 1);
	ck_assert_uint_eq(s.sk_shot[1].sh_fired, 1);
	/* Late by 3.5 ticks: one delivery, then back on the schedule. */
	ck_assert_int_eq(fire_at(t, &s, 1550), 2); /* and the one-shot */
	ck_assert_uint_eq(s.sk_shot[2].sh_due, 1200);
	ck_assert_uint_eq(s.sk_shot[2].sh_fired, 2);
	ck_assert_uint_eq(s.sk_shot[3].sh_id, one);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 1600);
	ck_assert_int_eq(fire_at(t, &s, 1599), 0);
	ck_assert_int_eq(fire_at(t, &s, 1600), 1);
	ck_assert_uint_eq(s.sk_shot[4].sh_fired, 3);
	ck_assert_uint_eq(rd_timers_count(t), 1);
	/* The table says the same to a reader. */
	memset(&sv, 0, sizeof(sv));
	sv.tv_kind = 5;
	ck_assert_int_eq(roost__timers_snapshot(tu_sys, roost__plat_uid(), -1, snap_one, &sv), 1);
	ck_assert_uint_eq(sv.tv_id, iv);
	ck_assert_uint_eq(sv.tv_due_ns, 1700);
	ck_assert_uint_eq(sv.tv_fired, 4);
	ck_assert_uint_eq(sv.tv_interval_ns, 100);
	ck_assert_uint_eq(sv.tv_to.id, 3);
	ck_assert_uint_eq(sv.tv_owner.id, 99);
	ck_assert_uint_eq(sv.tv_size, 4);
	ck_assert_int_eq(rd_timers_cancel(t, iv), 0);

	/* A schedule that runs off the end of time stops; UINT64_MAX is
	 * never, even for now = UINT64_MAX. */
	iv = add_pat(t, aid(3), UINT64_MAX - 10, UINT64_MAX / 2, 7, 0);
	ck_assert_int_eq(fire_at(t, &s, UINT64_MAX - 10), 1);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, UINT64_MAX);
	ck_assert_int_eq(fire_at(t, &s, UINT64_MAX), 0);
	ck_assert_uint_eq(rd_timers_count(t), 1);
	ck_assert_int_eq(rd_timers_cancel(t, iv), 0);
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Cancel and stale ids --------------------------------------------- */

START_TEST(test_timers_cancel)
{
	struct rd_timers *t = tt_create(16);
	struct sink s;
	uint64_t a;
	uint64_t b;
	uint64_t c;
	uint64_t d;
	uint64_t e;

	sink_init(&s, 16);
	a = add_pat(t, aid(1), 100, 0, 1, 3);
	b = add_pat(t, aid(1), 200, 0, 2, 3);
	c = add_pat(t, aid(1), 300, 50, 3, 3);
	ck_assert_int_eq(rd_timers_cancel(t, a), 0);
	ck_assert_int_eq(rd_timers_cancel(t, a), -ENOENT);
	ck_assert_uint_eq(rd_timers_count(t), 2);
	ck_assert_int_eq(fire_at(t, &s, 150), 0);
	ck_assert_int_eq(fire_at(t, &s, 200), 1);
	ck_assert_uint_eq(s.sk_shot[0].sh_id, b);
	ck_assert_int_eq(rd_timers_cancel(t, b), -ENOENT); /* fired */
	ck_assert_int_eq(fire_at(t, &s, 300), 1);
	ck_assert_int_eq(rd_timers_cancel(t, c), 0);      /* interval */
	ck_assert_int_eq(fire_at(t, &s, 10000), 0);
	ck_assert_uint_eq(rd_timers_count(t), 0);

	/* The entry is reused under a new id; the old id misses it. */
	d = add_pat(t, aid(1), 400, 0, 4, 3);
	ck_assert_uint_eq(d & ROOST_TMR_IDX_MASK, c & ROOST_TMR_IDX_MASK);
	ck_assert_uint_ne(d, c);
	ck_assert_int_eq(rd_timers_cancel(t, c), -ENOENT);
	ck_assert_uint_eq(rd_timers_count(t), 1);
	/* Made-up ids. */
	ck_assert_int_eq(rd_timers_cancel(t, 0), -ENOENT);
	ck_assert_int_eq(rd_timers_cancel(t, d & ROOST_TMR_IDX_MASK), -ENOENT);
	ck_assert_int_eq(rd_timers_cancel(t, UINT64_MAX), -ENOENT);
	ck_assert_int_eq(rd_timers_cancel(t, (UINT64_C(9) << 20) | 15),
	                 -ENOENT);
	ck_assert_int_eq(rd_timers_cancel(t, d + (UINT64_C(1) << 20)),
	                 -ENOENT);

	/* Ids keep growing across adoption. */
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL), 0);
	ck_assert_uint_eq(rd_timers_count(t), 1);
	e = add_pat(t, aid(1), 500, 0, 5, 3);
	ck_assert_uint_gt(e >> ROOST_TMR_IDX_BITS, d >> ROOST_TMR_IDX_BITS);
	ck_assert_int_eq(rd_timers_cancel(t, c), -ENOENT);
	ck_assert_int_eq(rd_timers_cancel(t, d), 0);
	ck_assert_int_eq(rd_timers_cancel(t, e), 0);
	ck_assert_uint_eq(rd_timers_count(t), 0);
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Full table, bad arguments, missing tables, allocation ------------ */

START_TEST(test_timers_full_and_errors)
{
	uint8_t big[ROOST_TIMER_DATA_MAX + 1] = {0};
	char other[64];
	struct rd_timers *t = tt_create(ROOST_TMR_CAP_MIN);
	struct rd_timers *t2 = (void *)1;
	uint64_t ids[ROOST_TMR_CAP_MIN];
	uint64_t id = 0;
	unsigned i;

	ck_assert_uint_eq(rd_timers_cap(t), ROOST_TMR_CAP_MIN);
	for (i = 0; i < ROOST_TMR_CAP_MIN; i++)
		ids[i] = add_pat(t, aid(1), 100 + i, 0, i, 1);
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), -ENOSPC);
	ck_assert_int_eq(rd_timers_cancel(t, ids[7]), 0);
	/* The largest payload fits; one byte more never does. */
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, big,
	                               ROOST_TIMER_DATA_MAX + 1, &id), -EMSGSIZE);
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, big,
	                               ROOST_TIMER_DATA_MAX, &id), 0);
	ck_assert_uint_ne(id, ids[7]);
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), -ENOSPC);
	ck_assert_int_eq(rd_timers_add(t, aid(0), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), -EINVAL);
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, NULL, 3,
	                               &id), -EINVAL);
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0x10000u,
	                               NULL, 0, &id), -EINVAL);
	ck_assert_uint_eq(rd_timers_count(t), ROOST_TMR_CAP_MIN);

	/* Creation. */
	ck_assert_int_eq(rd_timers_create(&t2, tu_sys, 64, 0600, -1), -EEXIST);
	ck_assert_ptr_null(t2);
	snprintf(other, sizeof(other), "%s-x", tu_sys);
	ck_assert_int_eq(rd_timers_create(&t2, other, ROOST_TMR_CAP_MIN - 1,
	                                  0600, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_create(&t2, other, ROOST_TMR_CAP_MAX + 1,
	                                  0600, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_create(&t2, other, 64, 0644, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_create(&t2, other, 64, 0400, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_create(&t2, "", 64, 0600, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_create(&t2, "a.b", 64, 0600, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_create(&t2, NULL, 64, 0600, -1), -EINVAL);
	ck_assert_int_eq(rd_timers_unlink("a/b"), -EINVAL);

	/* No table. */
	ck_assert_int_eq(rd_timers_adopt(&t2, other, NULL, NULL), -ENOENT);
	ck_assert_ptr_null(t2);
	ck_assert_int_eq(roost__timers_snapshot(other, roost__plat_uid(), -1, snap_one, NULL), -ENOENT);
	ck_assert_int_eq(rd_timers_unlink(other), -ENOENT);

	/* Allocation failures leave nothing behind / the table intact. */
	roost__alloc_fail_after = 0;
	ck_assert_int_eq(rd_timers_create(&t2, other, 64, 0660, -1), -ENOMEM);
	roost__alloc_fail_after = 3;
	ck_assert_int_eq(rd_timers_create(&t2, other, 64, 0660, -1), -ENOMEM);
	roost__alloc_fail_after = -1;
	ck_assert_int_eq(rd_timers_unlink(other), -ENOENT);
	rd_timers_close(t);
	roost__alloc_fail_after = 2;
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL), -ENOMEM);
	roost__alloc_fail_after = -1;
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL), 0);
	ck_assert_uint_eq(rd_timers_count(t), ROOST_TMR_CAP_MIN);

	/* A 0660 table of the other system works the same. */
	ck_assert_int_eq(rd_timers_create(&t2, other, 64, 0660, -1), 0);
	ck_assert_int_eq(rd_timers_add(t2, aid(1), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), 0);
	rd_timers_close(t2);
	ck_assert_int_eq(rd_timers_adopt(&t2, other, NULL, NULL), 0);
	ck_assert_uint_eq(rd_timers_count(t2), 1);
	ck_assert_uint_eq(rd_timers_cap(t2), 64);
	rd_timers_close(t2);
	ck_assert_int_eq(rd_timers_unlink(other), 0);

	rd_timers_close(NULL);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Retry, errors, drop_target --------------------------------------- */

START_TEST(test_timers_retry)
{
	struct rd_timers *t = tt_create(16);
	struct roost__timer_view sv;
	struct sink s;
	uint64_t next;

	sink_init(&s, 64);
	/* A one-shot refused twice, then delivered, counted once. */
	add_pat(t, aid(1), 1000, 0, 1, 8);
	s.sk_rc = -EAGAIN;
	ck_assert_int_eq(fire_at(t, &s, 1000), 0);
	ck_assert_uint_eq(s.sk_n, 1);
	ck_assert_uint_eq(rd_timers_count(t), 1);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 1000 + RD_TIMERS_RETRY_NS);
	ck_assert_int_eq(fire_at(t, &s, 1000 + RD_TIMERS_RETRY_NS - 1), 0);
	ck_assert_uint_eq(s.sk_n, 1);
	ck_assert_int_eq(fire_at(t, &s, 5000 + RD_TIMERS_RETRY_NS), 0);
	ck_assert_uint_eq(s.sk_n, 2);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 5000 + 2 * RD_TIMERS_RETRY_NS);
	s.sk_rc = 0;
	ck_assert_int_eq(fire_at(t, &s, 5000 + 2 * RD_TIMERS_RETRY_NS), 1);
	ck_assert_uint_eq(s.sk_shot[2].sh_fired, 0);
	ck_assert(s.sk_shot[2].sh_data_ok);
	ck_assert_uint_eq(rd_timers_count(t), 0);

	/* An interval: a refused tick is retried without moving the
	 * schedule and without being counted. */
	s.sk_n = 0;
	add_pat(t, aid(1), 10 * MS, 10 * MS, 2, 8);
	s.sk_rc = -EAGAIN;
	ck_assert_int_eq(fire_at(t, &s, 10 * MS), 0);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 11 * MS);
	memset(&sv, 0, sizeof(sv));
	sv.tv_kind = 2;
	ck_assert_int_eq(roost__timers_snapshot(tu_sys, roost__plat_uid(), -1, snap_one, &sv), 1);
	ck_assert_uint_eq(sv.tv_fired, 0);
	ck_assert_uint_eq(sv.tv_due_ns, 20 * MS); /* the schedule */
	ck_assert_int_eq(fire_at(t, &s, 11 * MS), 0);
	s.sk_rc = 0;
	ck_assert_int_eq(fire_at(t, &s, 12 * MS), 1);
	ck_assert_uint_eq(s.sk_shot[2].sh_due, 12 * MS);
	ck_assert_uint_eq(s.sk_shot[2].sh_fired, 0);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 20 * MS);
	ck_assert_int_eq(fire_at(t, &s, 20 * MS), 1);
	ck_assert_uint_eq(s.sk_shot[3].sh_fired, 1);
	ck_assert_uint_eq(s.sk_shot[3].sh_due, 20 * MS);
	ck_assert_int_eq(rd_timers_drop_target(t, aid(1)), 1);

	/* An interval shorter than the retry delay: the retry merges into
	 * the next tick. */
	s.sk_n = 0;
	add_pat(t, aid(1), 100 * MS, MS / 2, 3, 0);
	s.sk_rc = -EAGAIN;
	ck_assert_int_eq(fire_at(t, &s, 100 * MS), 0);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 100 * MS + MS / 2);
	s.sk_rc = 0;
	ck_assert_int_eq(fire_at(t, &s, 100 * MS + MS / 2), 1);
	ck_assert_uint_eq(s.sk_shot[1].sh_fired, 0);
	ck_assert(rd_timers_next_due(t, &next));
	ck_assert_uint_eq(next, 101 * MS);
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

START_TEST(test_timers_send_error_drops)
{
	struct rd_timers *t = tt_create(16);
	struct sink s;
	uint64_t a;
	uint64_t b;
	uint64_t c;

	sink_init(&s, 8);
	a = add_pat(t, aid(1), 10, 0, 1, 0);
	b = add_pat(t, aid(1), 20, 5, 2, 0);
	c = add_pat(t, aid(2), 30, 0, 3, 0);
	s.sk_rc = -ESRCH;
	ck_assert_int_eq(fire_at(t, &s, 25), 0);
	ck_assert_uint_eq(s.sk_n, 2);
	ck_assert_uint_eq(rd_timers_count(t), 1);
	ck_assert_int_eq(rd_timers_cancel(t, a), -ENOENT);
	ck_assert_int_eq(rd_timers_cancel(t, b), -ENOENT);
	s.sk_rc = ROOST_ECORRUPT; /* any error but -EAGAIN drops */
	ck_assert_int_eq(fire_at(t, &s, 100), 0);
	ck_assert_int_eq(rd_timers_cancel(t, c), -ENOENT);
	ck_assert_uint_eq(rd_timers_count(t), 0);
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

START_TEST(test_timers_drop_target)
{
	struct rd_timers *t = tt_create(300);
	struct sink s;
	uint64_t last = 0;
	uint64_t id;
	size_t i;

	sink_init(&s, 1000);
	for (i = 0; i < 300; i++)
		add_pat(t, aid(1 + i % 3), 1000 + (i * 7919) % 300,
		        i % 4 == 0 ? 1000 : 0, (uint32_t)i, i % 20);
	ck_assert_int_eq(rd_timers_drop_target(t, aid(2)), 100);
	ck_assert_uint_eq(rd_timers_count(t), 200);
	ck_assert_int_eq(rd_timers_drop_target(t, aid(2)), 0);
	ck_assert_int_eq(rd_timers_drop_target(t, aid(77)), 0);
	ck_assert_int_eq(rd_timers_drop_target(t, ROOST_AID_NONE), 0);
	/* The freed entries are reusable, exactly 100 of them. */
	for (i = 0; i < 100; i++)
		add_pat(t, aid(4), 1000 + i, 0, (uint32_t)(300 + i), 1);
	ck_assert_int_eq(rd_timers_add(t, aid(4), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), -ENOSPC);
	/* The heap is still ordered, and nothing goes to target 2. */
	ck_assert_int_eq(fire_at(t, &s, 1299), 300);
	for (i = 0; i < s.sk_n; i++) {
		ck_assert_uint_ne(s.sk_shot[i].sh_to, 2);
		ck_assert_uint_ge(s.sk_shot[i].sh_due, last);
		ck_assert(s.sk_shot[i].sh_data_ok);
		last = s.sk_shot[i].sh_due;
	}
	/* Left: the intervals (i % 4 == 0) of targets 1 and 3. */
	ck_assert_uint_eq(rd_timers_count(t), 50);
	ck_assert_int_eq(rd_timers_drop_target(t, aid(1)), 25);
	ck_assert_int_eq(rd_timers_drop_target(t, aid(3)), 25);
	ck_assert_uint_eq(rd_timers_count(t), 0);
	free(s.sk_shot);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Adoption after SIGKILL ------------------------------------------- */

#define KILL_N 1000

struct kill_shared {
	uint64_t ks_id[KILL_N];
	uint64_t ks_due[KILL_N];
	uint64_t ks_ival[KILL_N];
	uint32_t ks_sent[KILL_N]; /* deliveries, by the child, then us */
	uint64_t ks_now;          /* the parent's current fire time */
	int ks_bad;               /* parent: a wrong delivery */
	uint32_t ks_victim;       /* the child dies sending this one */
};

static int
kill_send(void *arg, const struct roost__timer_view *v, const void *data)
{
	struct kill_shared *ks = arg;

	(void)data;
	if (v->tv_kind == ks->ks_victim)
		raise(SIGKILL); /* a one-shot FIRING, an interval re-armed */
	if (v->tv_kind >= KILL_N)
		tu_fail("kind %u", v->tv_kind);
	ks->ks_sent[v->tv_kind]++;
	return 0;
}

static int
kill_child(void *arg)
{
	struct kill_shared *ks = arg;
	struct rd_timers *t = NULL;
	int i;
	int rc;

	rc = rd_timers_create(&t, tu_sys, 2048, 0600, -1);
	if (rc != 0)
		tu_fail("create: %s", roost_strerror(rc));
	for (i = 0; i < KILL_N; i++) {
		ks->ks_due[i] = 10000 + (uint64_t)i * 1000;
		ks->ks_ival[i] = i % 5 == 0 ? 3000 + (uint64_t)i : 0;
		ks->ks_id[i] = add_pat(t, aid(1000 + (uint64_t)i),
		                       ks->ks_due[i], ks->ks_ival[i],
		                       (uint32_t)i, (size_t)i % 100);
	}
	/* Everything due before the victim goes out in due order, then the
	 * victim's send kills us. */
	for (i = 0; i < 10; i++)
		rd_timers_fire(t, ks->ks_due[ks->ks_victim], kill_send, ks);
	tu_fail("still alive");
	return 1;
}

struct lost_log {
	int ll_n;
	uint64_t ll_id[64];
	const char *ll_why[64];
};

static void
lost_cb(void *arg, uint64_t id, const char *why)
{
	struct lost_log *l = arg;

	if (l->ll_n < 64) {
		l->ll_id[l->ll_n] = id;
		l->ll_why[l->ll_n] = why;
	}
	l->ll_n++;
}

static uint64_t
first_tick_after(uint64_t due, uint64_t ival, uint64_t now)
{
	return due + ((now - due) / ival + 1) * ival;
}

struct kill_check {
	struct kill_shared *kc_ks;
	int kc_n;
	int kc_bad;
};

/* Every kept timer, as the table shows it after adoption. */
static int
kill_snap(void *arg, const struct roost__timer_view *v)
{
	struct kill_check *kc = arg;
	struct kill_shared *ks = kc->kc_ks;
	uint32_t i = v->tv_kind;
	uint64_t due;

	kc->kc_n++;
	if (i >= KILL_N || v->tv_id != ks->ks_id[i] ||
	    v->tv_to.id != 1000 + i || v->tv_interval_ns != ks->ks_ival[i] ||
	    v->tv_fired != ks->ks_sent[i] || v->tv_size != i % 100 ||
	    !pattern_ok(v->tv_data, v->tv_size, i)) {
		kc->kc_bad++;
		return 0;
	}
	due = ks->ks_due[i];
	if (ks->ks_sent[i] > 0)
		due = first_tick_after(due, ks->ks_ival[i],
		                       ks->ks_due[ks->ks_victim]);
	if (v->tv_due_ns != due)
		kc->kc_bad++;
	return 0;
}

static int
kill_parent_send(void *arg, const struct roost__timer_view *v, const void *data)
{
	struct kill_shared *ks = arg;
	uint32_t i = v->tv_kind;

	if (i >= KILL_N || (i == ks->ks_victim && ks->ks_ival[i] == 0) ||
	    v->tv_id != ks->ks_id[i] ||
	    !pattern_ok(data, v->tv_size, i) || v->tv_fired != ks->ks_sent[i]) {
		ks->ks_bad++;
		return 0;
	}
	if (ks->ks_ival[i] == 0) {
		/* A one-shot: once, and at its own due time. */
		if (ks->ks_sent[i] != 0 || v->tv_due_ns != ks->ks_due[i] ||
		    ks->ks_now != ks->ks_due[i])
			ks->ks_bad++;
	} else {
		/* A tick of its original schedule, never early or late. */
		if (v->tv_due_ns < ks->ks_due[i] ||
		    (v->tv_due_ns - ks->ks_due[i]) % ks->ks_ival[i] != 0 ||
		    v->tv_due_ns > ks->ks_now || ks->ks_now - v->tv_due_ns >= 1000)
			ks->ks_bad++;
	}
	ks->ks_sent[i]++;
	return 0;
}

/*
 * A child creates the table, adds KILL_N timers (every fifth an interval),
 * delivers everything due before timer 'victim', and is killed inside the
 * victim's send. We adopt: a one-shot victim is the only loss ("may have
 * fired"); an interval victim is kept with that tick counted, never sent
 * again. Everything then fires at its original due time.
 */
static void
adopt_after_kill(uint32_t victim)
{
	struct kill_shared *ks = tu_shared_alloc(sizeof(*ks));
	struct kill_check kc = {ks, 0, 0};
	struct lost_log ll = {0};
	struct rd_timers *t = NULL;
	bool oneshot = victim % 5 != 0;
	uint64_t maxseq = 0;
	uint64_t id;
	int expect = KILL_N;
	uint32_t i;

	ks->ks_victim = victim;
	ck_assert_int_eq(tu_wait(tu_fork(kill_child, ks), 60000),
	                 128 + SIGKILL);
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, lost_cb, &ll), 0);
	if (oneshot) {
		ck_assert_int_eq(ll.ll_n, 1);
		ck_assert_uint_eq(ll.ll_id[0], ks->ks_id[victim]);
		ck_assert_str_eq(ll.ll_why[0], "may have fired");
		expect--;
	} else {
		ck_assert_int_eq(ll.ll_n, 0);
		ks->ks_sent[victim] = 1; /* its tick counts as sent */
	}
	for (i = 0; i < KILL_N; i++) {
		if (i < victim || (i == victim && !oneshot))
			ck_assert_uint_eq(ks->ks_sent[i], 1);
		else
			ck_assert_uint_eq(ks->ks_sent[i], 0);
		if (i < victim && ks->ks_ival[i] == 0)
			expect--;
		if ((ks->ks_id[i] >> ROOST_TMR_IDX_BITS) > maxseq)
			maxseq = ks->ks_id[i] >> ROOST_TMR_IDX_BITS;
	}
	ck_assert_uint_eq(rd_timers_count(t), (uint32_t)expect);
	ck_assert_int_eq(roost__timers_snapshot(tu_sys, roost__plat_uid(), -1, kill_snap, &kc), expect);
	ck_assert_int_eq(kc.kc_bad, 0);

	/* Fire on: each one-shot exactly at its due time, each interval on
	 * its schedule with no tick twice, a one-shot victim never. */
	for (i = victim; i < KILL_N + 10; i++) {
		ks->ks_now = 10000 + (uint64_t)i * 1000 - 1;
		rd_timers_fire(t, ks->ks_now, kill_parent_send, ks);
		ks->ks_now++;
		rd_timers_fire(t, ks->ks_now, kill_parent_send, ks);
	}
	ck_assert_int_eq(ks->ks_bad, 0);
	for (i = 0; i < KILL_N; i++) {
		if (i == victim && oneshot)
			ck_assert_uint_eq(ks->ks_sent[i], 0);
		else if (ks->ks_ival[i] == 0)
			ck_assert_uint_eq(ks->ks_sent[i], 1);
		else
			ck_assert_uint_gt(ks->ks_sent[i], 1);
	}
	/* New ids are past every old one. */
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), 0);
	ck_assert_uint_gt(id >> ROOST_TMR_IDX_BITS, maxseq);
	/* A clean hand-over loses nothing. */
	expect = (int)rd_timers_count(t);
	rd_timers_close(t);
	ll.ll_n = 0;
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, lost_cb, &ll), 0);
	ck_assert_int_eq(ll.ll_n, 0);
	ck_assert_uint_eq(rd_timers_count(t), (uint32_t)expect);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}

START_TEST(test_timers_adopt_after_kill)
{
	adopt_after_kill(503); /* a one-shot */
}
END_TEST

START_TEST(test_timers_adopt_after_kill_interval)
{
	adopt_after_kill(505); /* an interval */
}
END_TEST

/*
 * Kill a writer doing random work at random moments, many times over, and
 * adopt after each: at most one timer is lost per kill (the one entry a
 * single-threaded writer can be in the middle of), and the table always
 * reads back whole.
 */
struct churn_shared {
	uint32_t cs_live;   /* count after the child's last finished call */
	uint32_t cs_calls;  /* table calls finished */
	uint64_t cs_now;
};

static int
churn_send(void *arg, const struct roost__timer_view *v, const void *data)
{
	(void)arg;
	(void)data;
	if (v->tv_kind % 11 == 0)
		return -EAGAIN;
	return v->tv_kind % 13 == 0 ? -ESRCH : 0;
}

static int
churn_child(void *arg)
{
	struct churn_shared *cs = arg;
	struct rd_timers *t = NULL;
	uint8_t buf[ROOST_TIMER_DATA_MAX];
	uint64_t ids[128] = {0}; /* by entry index */
	unsigned seed = (unsigned)getpid();
	uint64_t id;
	uint32_t r;
	int rc;

	rc = rd_timers_adopt(&t, tu_sys, NULL, NULL);
	if (rc == -ENOENT)
		rc = rd_timers_create(&t, tu_sys, 128, 0600, -1);
	if (rc != 0)
		tu_fail("adopt: %s", roost_strerror(rc));
	__atomic_store_n(&cs->cs_live, rd_timers_count(t), __ATOMIC_RELEASE);
	for (;;) {
		r = (uint32_t)rand_r(&seed);
		if (r % 4 < 2) {
			pattern(buf, r % 150, r >> 8);
			rc = rd_timers_add(t, aid(1 + r % 5), aid(99),
			                   cs->cs_now + r % 5000,
			                   r % 3 == 0 ? 1 + r % 700 : 0, r >> 8,
			                   ROOST_SEND_SYSTEM, buf, r % 150, &id);
			if (rc != 0 && rc != -ENOSPC)
				tu_fail("add: %s", roost_strerror(rc));
			if (rc == 0)
				ids[id & ROOST_TMR_IDX_MASK] = id;
		} else if (r % 4 == 2) {
			rd_timers_cancel(t, ids[rand_r(&seed) % 128]);
		} else {
			cs->cs_now += r % 400;
			rd_timers_fire(t, cs->cs_now, churn_send, NULL);
		}
		if (rd_timers_count(t) > 100)
			rd_timers_drop_target(t, aid(1 + r % 5));
		__atomic_store_n(&cs->cs_live, rd_timers_count(t),
		                 __ATOMIC_RELEASE);
		__atomic_add_fetch(&cs->cs_calls, 1, __ATOMIC_RELEASE);
	}
	return 1; /* not reached: the parent kills us */
}

struct churn_check {
	int cc_n;
	int cc_bad;
};

static int
churn_snap(void *arg, const struct roost__timer_view *v)
{
	struct churn_check *cc = arg;

	cc->cc_n++;
	if (v->tv_to.id < 1 || v->tv_to.id > 5 || v->tv_size >= 150 ||
	    !pattern_ok(v->tv_data, v->tv_size, v->tv_kind) ||
	    v->tv_owner.id != 99)
		cc->cc_bad++;
	return 0;
}

START_TEST(test_timers_adopt_random_kill)
{
	struct churn_shared *cs = tu_shared_alloc(sizeof(*cs));
	struct churn_check cc;
	struct lost_log ll;
	struct rd_timers *t;
	unsigned seed = 777;
	uint32_t live;
	uint32_t calls;
	pid_t pid;
	int round;
	int i;

	for (round = 0; round < 30; round++) {
		__atomic_store_n(&cs->cs_calls, 0, __ATOMIC_RELEASE);
		pid = tu_fork(churn_child, cs);
		/* Let it work for a while: at least a few calls. */
		for (i = 0; i < 20000 &&
		            __atomic_load_n(&cs->cs_calls, __ATOMIC_ACQUIRE) <
		                    (unsigned)(20 + rand_r(&seed) % 2000);
		     i++)
			usleep(100);
		kill(pid, SIGKILL);
		ck_assert_int_eq(tu_wait(pid, 10000), 128 + SIGKILL);
		live = __atomic_load_n(&cs->cs_live, __ATOMIC_ACQUIRE);
		calls = __atomic_load_n(&cs->cs_calls, __ATOMIC_ACQUIRE);
		ck_assert_uint_gt(calls, 0);
		memset(&ll, 0, sizeof(ll));
		ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, lost_cb, &ll), 0);
		ck_assert_int_le(ll.ll_n, 1);
		memset(&cc, 0, sizeof(cc));
		ck_assert_int_eq(roost__timers_snapshot(tu_sys, roost__plat_uid(), -1, churn_snap, &cc),
		                 (int)rd_timers_count(t));
		ck_assert_int_eq(cc.cc_bad, 0);
		/* The child was inside at most one call (which may also have
		 * dropped up to 100 timers: drop_target). */
		ck_assert_int_le(rd_timers_count(t), live + 1);
		rd_timers_close(t);
	}
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Adoption of a scribbled table ------------------------------------ */

static struct roost__seg
map_table(void)
{
	char name[ROOST_SHM_NAME_MAX];
	struct roost__seg seg;

	ck_assert_int_eq(roost__timers_shm_name(name, sizeof(name), tu_sys), 0);
	ck_assert_int_eq(roost__plat_seg_open(name, ROOST_TMR_HDR_SIZE,
	                                      1u << 30, &seg), 0);
	return seg;
}

static struct roost__tmr_entry *
entry_of(struct roost__seg *seg, uint64_t id_or_idx)
{
	return (struct roost__tmr_entry *)((uint8_t *)seg->sg_base +
	                               ROOST_TMR_HDR_SIZE) +
	       (id_or_idx & ROOST_TMR_IDX_MASK);
}

static bool
lost_has(const struct lost_log *l, uint64_t id, const char *why)
{
	int i;

	for (i = 0; i < l->ll_n && i < 64; i++) {
		if (l->ll_id[i] == id && strcmp(l->ll_why[i], why) == 0)
			return true;
	}
	return false;
}

static int
count_cb(void *arg, const struct roost__timer_view *v)
{
	(void)v;
	(*(int *)arg)++;
	return 0;
}

/* Scribble one header word at 'off' with 'val' ('len' bytes); adopt must
 * refuse, and the snapshot too if 'want_snap' < 0 (it returns that); then
 * put it back. */
static void
header_scribble(struct roost__seg *seg, size_t off, uint64_t val, size_t len,
                int want_snap)
{
	uint8_t *p = (uint8_t *)seg->sg_base + off;
	uint8_t save[8];
	struct rd_timers *t = (void *)1;
	int n = 0;

	memcpy(save, p, len);
	memcpy(p, &val, len);
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL),
	                 ROOST_ECORRUPT);
	ck_assert_ptr_null(t);
	if (want_snap < 0) {
		ck_assert_int_eq(roost__timers_snapshot(tu_sys, roost__plat_uid(), -1, count_cb, &n),
		                 want_snap);
		ck_assert_int_eq(n, 0);
	}
	memcpy(p, save, len);
}

#define SCRIB_N 40

START_TEST(test_timers_adopt_scribbled)
{
	struct rd_timers *t = tt_create(64);
	struct roost__seg seg;
	struct roost__tmr_entry *e;
	struct lost_log ll = {0};
	uint64_t ids[SCRIB_N];
	uint64_t id;
	uint64_t maxseq;
	unsigned seed = 99;
	struct sink s;
	char name[ROOST_SHM_NAME_MAX];
	int round;
	int fd;
	int i;

	sink_init(&s, 64);
	for (i = 0; i < SCRIB_N; i++)
		ids[i] = add_pat(t, aid(1 + (uint64_t)i), 1000 + (uint64_t)i,
		                 i % 4 == 0 ? 100 : 0, (uint32_t)i, (size_t)i + 8);
	maxseq = ids[SCRIB_N - 1] >> ROOST_TMR_IDX_BITS;
	rd_timers_close(t);

	seg = map_table();
	entry_of(&seg, ids[0])->te_rec.tr_state = 7;
	entry_of(&seg, ids[1])->te_rec.tr_size = 250;
	entry_of(&seg, ids[2])->te_data[3] ^= 0x40;
	entry_of(&seg, ids[3])->te_rec.tr_to = 0;
	memset(entry_of(&seg, ids[4]), 0xa5, ROOST_TMR_ENTRY_SIZE);
	/* Died inside a write that had changed the due time... */
	e = entry_of(&seg, ids[5]);
	e->te_rec.tr_due_ns += 5;
	roost__store_rlx(&e->te_seq, roost__load_rlx(&e->te_seq) + 1);
	/* ... and inside one that had not changed anything yet: kept. */
	e = entry_of(&seg, ids[6]);
	roost__store_rlx(&e->te_seq, roost__load_rlx(&e->te_seq) + 1);
	/* A one-shot handed over when it died; an interval never fires so. */
	e = entry_of(&seg, ids[8]);
	e->te_rec.tr_state = ROOST_TE_FIRING;
	/* A valid entry copied over a free one: its id names another. */
	memcpy(entry_of(&seg, 50), entry_of(&seg, ids[9]), ROOST_TMR_ENTRY_SIZE);
	/* A free entry with garbage; another caught mid-free (odd): quiet. */
	entry_of(&seg, 60)->te_rec.tr_owner = 12345;
	e = entry_of(&seg, 61);
	e->te_rec.tr_id = 777;
	roost__store_rlx(&e->te_seq, 1);
	/* The id counter set back: adoption must not reuse ids. */
	roost__store_rlx(&((struct roost__tmr_hdr *)seg.sg_base)->th_next_seq, 1);

	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, lost_cb, &ll), 0);
	ck_assert_int_eq(ll.ll_n, 9);
	ck_assert(lost_has(&ll, ids[0], "bad state"));
	ck_assert(lost_has(&ll, ids[1], "bad size"));
	ck_assert(lost_has(&ll, ids[2], "bad checksum"));
	ck_assert(lost_has(&ll, ids[3], "bad checksum"));
	ck_assert(lost_has(&ll, 0, "bad state"));          /* ids[4] */
	ck_assert(lost_has(&ll, ids[5], "interrupted write"));
	ck_assert(lost_has(&ll, ids[8], "bad checksum"));
	ck_assert(lost_has(&ll, 0, "id does not match its entry"));
	ck_assert(lost_has(&ll, 0, "bad free entry"));
	ck_assert_uint_eq(rd_timers_count(t), SCRIB_N - 7);
	ck_assert_uint_eq(roost__load_rlx(&entry_of(&seg, ids[6])->te_seq) % 2,
	                  0);
	ck_assert_int_eq(rd_timers_add(t, aid(1), aid(0), 1, 0, 0, 0, NULL, 0,
	                               &id), 0);
	ck_assert_uint_gt(id >> ROOST_TMR_IDX_BITS, maxseq);
	ck_assert_int_eq(rd_timers_cancel(t, id), 0);
	/* The survivors fire; the scribbled ones are gone. */
	ck_assert_int_eq(fire_at(t, &s, 1000 + SCRIB_N), SCRIB_N - 7);
	for (i = 0; (size_t)i < s.sk_n; i++) {
		ck_assert(s.sk_shot[i].sh_data_ok);
		ck_assert_uint_eq(s.sk_shot[i].sh_due,
		                  1000 + s.sk_shot[i].sh_kind);
	}
	rd_timers_close(t);

	/* Header fields: each bad value is refused, never trusted. */
#define HOFF(f) offsetof(struct roost__tmr_hdr, f)
#define FOFF(f) (offsetof(struct roost__tmr_hdr, th_fixed) + \
                 offsetof(struct roost__tmr_fixed, f))
	header_scribble(&seg, FOFF(tf_magic), 0x12345678, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_version), 2, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_hdr_size), 128, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_entry_size), 512, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_data_max), 200, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_cap), 0, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_cap), 65, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_cap), UINT32_MAX, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_map_size), 1u << 28, 8, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_uid), (uint32_t)geteuid() + 1, 4,
	                ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_mode), 0666, 4, ROOST_ECORRUPT);
	header_scribble(&seg, FOFF(tf_name), 0x41414141, 4, ROOST_ECORRUPT);
	header_scribble(&seg, HOFF(th_state), 7, 4, ROOST_ECORRUPT);
	/* Never published: its creator died (adopt) or is at work (tools). */
	header_scribble(&seg, HOFF(th_state), ROOST_TMR_INIT, 4, -EAGAIN);
	/* The id counter: zero or past the id space. The snapshot does not
	 * read it. */
	header_scribble(&seg, HOFF(th_next_seq), 0, 8, 0);
	header_scribble(&seg, HOFF(th_next_seq), UINT64_MAX, 8, 0);
	memset((uint8_t *)seg.sg_base + FOFF(tf_name), 'x', 32); /* no NUL */
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL),
	                 ROOST_ECORRUPT);
	snprintf(((struct roost__tmr_hdr *)seg.sg_base)->th_fixed.tf_name, 32,
	         "%s", tu_sys);
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL), 0);
	rd_timers_close(t);

	/* Random scribbles over the entries, many rounds: adoption never
	 * crashes, and whatever it keeps fires whole. */
	for (round = 0; round < 200; round++) {
		ll.ll_n = 0;
		ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, lost_cb, &ll), 0);
		s.sk_n = 0;
		ck_assert_int_le(fire_at(t, &s, 1000 + (uint64_t)round * 50),
		                 SCRIB_N);
		for (i = 0; (size_t)i < s.sk_n && i < 64; i++)
			ck_assert(s.sk_shot[i].sh_data_ok);
		while (rd_timers_count(t) < SCRIB_N)
			add_pat(t, aid(1 + (uint64_t)(rand_r(&seed) % 9)),
			        1000 + (uint64_t)round * 50 +
			                (uint64_t)(rand_r(&seed) % 500),
			        rand_r(&seed) % 3 == 0 ? 77 : 0,
			        (uint32_t)rand_r(&seed),
			        (size_t)rand_r(&seed) % 193);
		rd_timers_close(t);
		for (i = 0; i < 8; i++) {
			size_t off = ROOST_TMR_HDR_SIZE +
			             (size_t)rand_r(&seed) % (64 *
			                                      ROOST_TMR_ENTRY_SIZE);
			((uint8_t *)seg.sg_base)[off] = (uint8_t)rand_r(&seed);
		}
	}

	/* A truncated object. */
	roost__plat_seg_unmap(&seg);
	ck_assert_int_eq(roost__timers_shm_name(name, sizeof(name), tu_sys), 0);
	fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 100), 0);
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL),
	                 ROOST_ECORRUPT);
	ck_assert_int_eq(ftruncate(fd, ROOST_TMR_HDR_SIZE + 10 *
	                                       ROOST_TMR_ENTRY_SIZE), 0);
	ck_assert_int_eq(rd_timers_adopt(&t, tu_sys, NULL, NULL),
	                 ROOST_ECORRUPT);
	close(fd);
	free(s.sk_shot);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/* --- Snapshots while the writer works --------------------------------- */

/*
 * Every timer of this test carries its own description: kind is random,
 * the payload's first 8 bytes are its first due time, the rest a pattern
 * of the kind; target, owner, size and interval are functions of the kind.
 * A torn copy (fields of two timers, or half a write) fails the checks.
 */
#define SNAP_WANT 10000
#define SNAP_CAP 16 /* small, so reader and writer meet often */

struct snap_shared {
	int ss_done;      /* snapshots taken by the reader */
	int ss_entries;   /* views checked */
	int ss_stop;      /* writer gave up */
};

static uint64_t
snap_ival(uint32_t kind)
{
	return kind % 4 == 1 ? 1 + kind % 500 : 0;
}

static size_t
snap_size(uint32_t kind)
{
	return 8 + kind % (ROOST_TIMER_DATA_MAX - 8 + 1);
}

struct snap_check {
	int sc_n;
	const char *sc_bad;
};

static int
snap_check_fn(void *arg, const struct roost__timer_view *v)
{
	struct snap_check *sc = arg;
	const uint8_t *d = v->tv_data;
	uint32_t k = v->tv_kind;
	uint64_t ival = snap_ival(k);
	uint64_t due0;

	sc->sc_n++;
	if (v->tv_size != snap_size(k) || v->tv_size > ROOST_TIMER_DATA_MAX) {
		sc->sc_bad = "size";
		return 0;
	}
	memcpy(&due0, d, 8);
	if (!pattern_ok(d + 8, v->tv_size - 8, k))
		sc->sc_bad = "payload";
	else if (v->tv_to.id != (uint64_t)k + 1 ||
	         v->tv_owner.id != (uint64_t)k * 3)
		sc->sc_bad = "target";
	else if (v->tv_interval_ns != ival)
		sc->sc_bad = "interval";
	else if (v->tv_flags != (k & ROOST_SEND_MSGPACK))
		sc->sc_bad = "flags";
	else if ((v->tv_id >> ROOST_TMR_IDX_BITS) == 0 ||
	         (v->tv_id & ROOST_TMR_IDX_MASK) >= SNAP_CAP)
		sc->sc_bad = "id";
	else if (ival == 0 && (v->tv_due_ns != due0 || v->tv_fired != 0))
		sc->sc_bad = "one-shot due";
	else if (ival != 0 &&
	         (v->tv_due_ns < due0 || (v->tv_due_ns - due0) % ival != 0 ||
	          v->tv_fired > (v->tv_due_ns - due0) / ival ||
	          (v->tv_due_ns > due0 && v->tv_fired == 0)))
		sc->sc_bad = "interval due";
	return 0;
}

static int
snap_reader(void *arg)
{
	struct snap_shared *ss = arg;
	struct snap_check sc;
	int rc;
	int i;

	for (i = 0; i < SNAP_WANT &&
	            !__atomic_load_n(&ss->ss_stop, __ATOMIC_ACQUIRE);
	     i++) {
		memset(&sc, 0, sizeof(sc));
		rc = roost__timers_snapshot(tu_sys, roost__plat_uid(), -1, snap_check_fn, &sc);
		if (rc < 0)
			tu_fail("snapshot: %s", roost_strerror(rc));
		if (rc != sc.sc_n)
			tu_fail("snapshot returned %d for %d views", rc,
			        sc.sc_n);
		if (sc.sc_bad != NULL)
			tu_fail("inconsistent view: %s", sc.sc_bad);
		__atomic_add_fetch(&ss->ss_entries, sc.sc_n, __ATOMIC_RELAXED);
		__atomic_store_n(&ss->ss_done, i + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static int
ok_send(void *arg, const struct roost__timer_view *v, const void *data)
{
	(void)arg;
	(void)data;
	return v->tv_kind % 17 == 0 ? -ESRCH : 0;
}

START_TEST(test_timers_snapshot_concurrent)
{
	struct snap_shared *ss = tu_shared_alloc(sizeof(*ss));
	struct rd_timers *t = tt_create(SNAP_CAP);
	uint8_t buf[ROOST_TIMER_DATA_MAX];
	uint64_t ids[SNAP_CAP] = {0}; /* by entry index: every live id */
	uint64_t id;
	unsigned seed = 4242;
	uint64_t now = 1000;
	uint64_t start = roost__plat_now_ns();
	uint64_t due0;
	uint32_t k;
	uint32_t r;
	pid_t pid;
	int rc;

	pid = tu_fork(snap_reader, ss);
	while (__atomic_load_n(&ss->ss_done, __ATOMIC_ACQUIRE) < SNAP_WANT) {
		if (roost__plat_now_ns() - start > 60000 * MS) {
			__atomic_store_n(&ss->ss_stop, 1, __ATOMIC_RELEASE);
			break;
		}
		r = (uint32_t)rand_r(&seed);
		if (r % 8 < 3) {
			k = (uint32_t)rand_r(&seed) ^ (r << 16);
			due0 = now + r % 3000;
			memcpy(buf, &due0, 8);
			pattern(buf + 8, snap_size(k) - 8, k);
			rc = rd_timers_add(t, aid((uint64_t)k + 1),
			                   aid((uint64_t)k * 3), due0,
			                   snap_ival(k), k, k & ROOST_SEND_MSGPACK,
			                   buf, snap_size(k), &id);
			ck_assert(rc == 0 || rc == -ENOSPC);
			if (rc == 0)
				ids[id & ROOST_TMR_IDX_MASK] = id;
		} else if (r % 8 < 7) {
			rc = rd_timers_cancel(t,
			                      ids[rand_r(&seed) % SNAP_CAP]);
			ck_assert(rc == 0 || rc == -ENOENT);
		} else {
			now += r % 200;
			rd_timers_fire(t, now, ok_send, NULL);
		}
	}
	ck_assert_int_eq(tu_wait(pid, 60000), 0);
	ck_assert_int_eq(__atomic_load_n(&ss->ss_done, __ATOMIC_ACQUIRE),
	                 SNAP_WANT);
	ck_assert_int_gt(__atomic_load_n(&ss->ss_entries, __ATOMIC_ACQUIRE),
	                 0);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

/*
 * A member of the group a system grants reads roostd's alarm table, as
 * "UID:NAME" (roostctl timers, through the view API); an outsider is
 * refused. Needs root, to be those users.
 */
struct member_arg {
	struct tu_user ma_user;
	int ma_expect; /* timers it must see, or a negative errno */
	char ma_ref[ROOST_SYSTEM_NAME_MAX + 16];
};

static int
count_one(void *arg, const struct roost__timer_view *v)
{
	(void)v;
	(*(int *)arg)++;
	return 0;
}

static int
member_reads(void *arg)
{
	const struct member_arg *ma = arg;
	int n = 0;
	int rc;

	if (tu_become(&ma->ma_user) < 0)
		return 10;
	rc = roost__timers_snapshot(ma->ma_ref, 0, (int64_t)ma->ma_user.u_gid,
	                            count_one, &n);
	if (ma->ma_expect < 0)
		return rc == ma->ma_expect ? 0 : 11;
	return rc == ma->ma_expect && n == ma->ma_expect ? 0 : 12;
}

START_TEST(test_timers_group_member_reads)
{
	struct member_arg *ma = tu_shared_alloc(sizeof(*ma));
	struct rd_timers *t;
	struct tu_user member, outsider;
	uint64_t id;

	if (!tu_group_users("check_timers group_member_reads", &member,
	                    &outsider))
		return;
	ck_assert_int_eq(rd_timers_create(&t, tu_sys, 64, 0660,
	                                  (int64_t)member.u_gid),
	                 0);
	ck_assert_int_eq(rd_timers_add(t, aid(7), aid(9), UINT64_MAX, 0, 3, 0,
	                               "x", 1, &id),
	                 0);
	snprintf(ma->ma_ref, sizeof(ma->ma_ref), "0:%s", tu_sys);
	ma->ma_user = member;
	ma->ma_expect = 1;
	ck_assert_int_eq(tu_wait(tu_fork(member_reads, ma), 10000), 0);
	ma->ma_user = outsider;
	ma->ma_expect = -EACCES;
	ck_assert_int_eq(tu_wait(tu_fork(member_reads, ma), 10000), 0);
	rd_timers_close(t);
	ck_assert_int_eq(rd_timers_unlink(tu_sys), 0);
}
END_TEST

static Suite *
timers_suite(void)
{
	Suite *s = suite_create("timers");

	suite_add_tcase(s, tu_tcase("test_timers_order", test_timers_order,
	                            60));
	suite_add_tcase(s, tu_tcase("test_timers_fire_bound",
	                            test_timers_fire_bound, 60));
	suite_add_tcase(s, tu_tcase("test_timers_interval",
	                            test_timers_interval, 30));
	suite_add_tcase(s, tu_tcase("test_timers_cancel", test_timers_cancel,
	                            30));
	suite_add_tcase(s, tu_tcase("test_timers_full_and_errors",
	                            test_timers_full_and_errors, 30));
	suite_add_tcase(s, tu_tcase("test_timers_retry", test_timers_retry,
	                            30));
	suite_add_tcase(s, tu_tcase("test_timers_send_error_drops",
	                            test_timers_send_error_drops, 30));
	suite_add_tcase(s, tu_tcase("test_timers_drop_target",
	                            test_timers_drop_target, 30));
	suite_add_tcase(s, tu_tcase("test_timers_adopt_after_kill",
	                            test_timers_adopt_after_kill, 120));
	suite_add_tcase(s, tu_tcase("test_timers_adopt_after_kill_interval",
	                            test_timers_adopt_after_kill_interval, 120));
	suite_add_tcase(s, tu_tcase("test_timers_adopt_random_kill",
	                            test_timers_adopt_random_kill, 240));
	suite_add_tcase(s, tu_tcase("test_timers_adopt_scribbled",
	                            test_timers_adopt_scribbled, 120));
	suite_add_tcase(s, tu_tcase("test_timers_group_member_reads",
	                            test_timers_group_member_reads, 30));
	suite_add_tcase(s, tu_tcase("test_timers_snapshot_concurrent",
	                            test_timers_snapshot_concurrent, 240));
	return s;
}

int
main(void)
{
	return tu_run(timers_suite());
}
