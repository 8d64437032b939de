/* SPDX-License-Identifier: MIT */
/*
 * check_corrupt.c - scribbling on shared memory: a damaged system segment,
 * mailbox header, record or tail gives ROOST_ECORRUPT (or the like), never
 * a crash or a read out of bounds, and the mailbox goes on working where
 * it can. Run under ASan too (scripts/test.sh --sanitize).
 */
#include "test_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Map a whole object of this system for scribbling. */
static void *
map_object(const char *shm, size_t *len)
{
	struct stat st;
	void *p;
	int fd = shm_open(shm, O_RDWR, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

static struct roost__sys_hdr *
map_sys(size_t *len)
{
	char shm[ROOST_SHM_NAME_MAX];

	roost__sys_shm_name(shm, sizeof(shm), tu_sys);
	return map_object(shm, len);
}

static struct roost__mbox_hdr *
map_mbox(roost_aid_t aid, size_t *len)
{
	char shm[ROOST_SHM_NAME_MAX];

	roost__mbox_shm_name(shm, sizeof(shm), tu_sys, roost_aid_slot(aid));
	return map_object(shm, len);
}

static int
try_open(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *c = NULL;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	rc = roost_ctx_open(&c, &o);
	if (rc == 0)
		roost_ctx_close(c);
	return rc;
}

START_TEST(test_corrupt_sys_header)
{
	size_t len;
	struct roost__sys_hdr *h = map_sys(&len);
	struct roost__sys_fixed saved = h->sh_fixed;
	char shm[ROOST_SHM_NAME_MAX];

	h->sh_fixed.sf_magic ^= 1;
	ck_assert_int_eq(try_open(), ROOST_ECORRUPT);
	h->sh_fixed = saved;
	h->sh_fixed.sf_version = 99;
	ck_assert_int_eq(try_open(), ROOST_EVERSION);
	h->sh_fixed = saved;
	h->sh_fixed.sf_nslots = 1u << 30;
	ck_assert_int_eq(try_open(), ROOST_ECORRUPT);
	h->sh_fixed = saved;
	h->sh_fixed.sf_slots_off = 0xffffff00u;
	ck_assert_int_eq(try_open(), ROOST_ECORRUPT);
	h->sh_fixed = saved;
	h->sh_fixed.sf_mbox_bytes = 12345;
	ck_assert_int_eq(try_open(), ROOST_ECORRUPT);
	h->sh_fixed = saved;
	memset(h->sh_fixed.sf_name, 'x', sizeof(h->sh_fixed.sf_name));
	ck_assert_int_eq(try_open(), ROOST_ECORRUPT);
	h->sh_fixed = saved;
	roost__store_rel(&h->sh_state, 7);
	ck_assert_int_eq(try_open(), -EAGAIN);
	roost__store_rel(&h->sh_state, ROOST_SEG_READY);
	ck_assert_int_eq(try_open(), 0);
	munmap(h, len);

	/* A truncated segment is refused, never mapped past its end. */
	roost__sys_shm_name(shm, sizeof(shm), tu_sys);
	{
		int fd = shm_open(shm, O_RDWR, 0);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, 100), 0);
		close(fd);
	}
	ck_assert_int_eq(try_open(), ROOST_ECORRUPT);
}
END_TEST

START_TEST(test_corrupt_slot_table)
{
	roost_ctx_t *a = tu_open("a");
	size_t len;
	struct roost__sys_hdr *h = map_sys(&len);
	struct roost__slot *slots = (struct roost__slot *)((uint8_t *)h +
	                                    h->sh_fixed.sf_slots_off);
	roost_aid_t aid;
	uint32_t i;

	/* Names without a terminator, random states and generations. */
	for (i = 1; i < h->sh_fixed.sf_nslots; i++) {
		memset(slots[i].sl_name, 'z', sizeof(slots[i].sl_name));
		slots[i].sl_state = ROOST_SLOT_ACTIVE;
		slots[i].sl_gen = i * 7919u;
	}
	ck_assert_int_eq(roost_whereis(a, "a", &aid), 0);
	ck_assert_int_eq(roost_whereis(a, "nobody", &aid), -ENOENT);
	/* Sending to a slot that claims to be active but has no mailbox. */
	ck_assert_int_eq(roost_send(a, roost__aid_make(5, 5 * 7919u), 1, NULL,
	                            0, 0), -ESRCH);
	/* A seqlock stuck odd: readers fall back to the lock, no hang. */
	slots[0].sl_seq = 1;
	ck_assert_int_eq(roost_whereis(a, "a", &aid), 0);
	ck_assert(roost_aid_eq(aid, roost_self(a)));
	slots[0].sl_seq = 2;
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(a), 0);
}
END_TEST

START_TEST(test_corrupt_mbox_header)
{
	roost_ctx_t *rx = tu_open("rx");
	roost_ctx_t *tx = tu_open(NULL);
	size_t len;
	struct roost__mbox_hdr *h = map_mbox(roost_self(rx), &len);
	struct roost__mbox_fixed saved = h->mh_fixed;
	struct {
		uint32_t *field;
		uint32_t value;
	} bad[] = {
		{&h->mh_fixed.mf_magic, 0},
		{&h->mh_fixed.mf_cap[1], 12345},
		{&h->mh_fixed.mf_cap[1], 1u << 31},
		{&h->mh_fixed.mf_ring_off[0], 8},
		{&h->mh_fixed.mf_ring_off[1], 0xfffff000u},
		{&h->mh_fixed.mf_ring_off[1], ROOST_MBOX_HDR_SIZE + 8},
		{&h->mh_fixed.mf_slot, 77},
		{&h->mh_fixed.mf_hdr_size, 4},
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		*bad[i].field = bad[i].value;
		/* A fresh sender maps and validates the header. */
		roost__ctx_peer_drop(tx, roost_aid_slot(roost_self(rx)));
		ck_assert_msg(roost_send(tx, roost_self(rx), 1, NULL, 0, 0) ==
		                      ROOST_ECORRUPT,
		              "case %zu accepted", i);
		h->mh_fixed = saved;
	}
	h->mh_fixed.mf_version = ROOST_SHM_VERSION - 1; /* the old layout */
	roost__ctx_peer_drop(tx, roost_aid_slot(roost_self(rx)));
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, NULL, 0, 0),
	                 ROOST_EVERSION);
	h->mh_fixed = saved;
	roost__ctx_peer_drop(tx, roost_aid_slot(roost_self(rx)));
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, NULL, 0, 0), 0);
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/*
 * Lock words no holder wrote: garbage, a live thread's tid with another
 * start time (init's), our own tid, a tid past the maximum. Each is taken
 * over by the next sender (timeout -1: it must not hang) and repaired;
 * garbage counts as corruption. The same for the actor-table lock.
 */
START_TEST(test_corrupt_lock_words)
{
	roost_ctx_t *rx;
	roost_ctx_t *tx;
	size_t len;
	size_t slen;
	struct roost__mbox_hdr *h;
	struct roost__sys_hdr *sh;
	roost_mbox_stats_t st;
	roost_msg_t *m;
	roost_aid_t a;
	const uint64_t words[] = {
		~(uint64_t)0,
		(uint64_t)12345 << 32 | 1u,                  /* init, wrong start */
		(uint64_t)gettid(),                          /* ourselves */
		ROOST_LOCK_TID_MAX + 1,
		ROOST_LOCK_RESERVED | 77u,
		(uint64_t)0xdeadbeef << 32 | 0x3ffffff0u,     /* no such thread */
	};
	size_t i;
	uint32_t k;

	/* The shared, locked lane's protection (tag-lock). */
	tu_sys_lanes(0);
	rx = tu_open("rx");
	tx = tu_open(NULL);
	h = map_mbox(roost_self(rx), &len);
	sh = map_sys(&slen);

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		k = (uint32_t)i + 1;
		atomic_store(&h->mh_lock.lk_lock.lk_word, words[i]);
		ck_assert_int_eq(roost_send(tx, roost_self(rx), k, NULL, 0, -1),
		                 0);
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), k);
		atomic_store(&sh->sh_lock.lk_lock.lk_word, words[i]);
		ck_assert_int_eq(roost_register(tx, "named", roost_self(tx)), 0);
		ck_assert_int_eq(roost_whereis(rx, "named", &a), 0);
		ck_assert_int_eq(roost_unregister(tx, "named"), 0);
	}
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st), 0);
	ck_assert_uint_ge(st.corrupt, 3); /* the garbage words */
	ck_assert_uint_eq(atomic_load(&h->mh_lock.lk_lock.lk_word), 0);
	munmap(sh, slen);
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

START_TEST(test_corrupt_record_skipped)
{
	roost_ctx_t *rx;
	roost_ctx_t *tx;
	size_t len;
	struct roost__mbox_hdr *h;
	uint8_t *ring;
	struct roost__rec *second;
	roost_mbox_stats_t st;
	roost_msg_t *m;

	/* The shared, locked lane's protection (tag-lock). */
	tu_sys_lanes(0);
	rx = tu_open("rx");
	tx = tu_open(NULL);
	h = map_mbox(roost_self(rx), &len);
	ring = (uint8_t *)h + h->mh_fixed.mf_ring_off[ROOST_LANE_USR];

	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, "one", 3, 0), 0);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 2, "two", 3, 0), 0);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 3, "six", 3, 0), 0);
	second = (struct roost__rec *)(ring + roost__rec_bytes(3));
	second->rc_size = 100000; /* payload beyond its record */

	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 1);
	/* The damaged record and what follows it in the same batch are
	 * skipped and counted; the mailbox goes on working. */
	ck_assert_int_eq(roost_recv(rx, &m, 0), ROOST_ECORRUPT);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 4, "ok", 2, 0), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 4);
	ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.corrupt, 1);
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/*
 * A corrupt record is skipped, then a sender dies in the lock and the
 * tail is re-derived: the skip lives in shared memory, so the repair
 * agrees with it, nothing accepted later is lost, nothing is forged.
 */
static bool
match_kind(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == *(uint32_t *)arg;
}

static int
die_holding_lock(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t to = tu_whereis_wait(ctx, "rx", 5000);
	struct roost__mbox *mb;

	(void)arg;
	if (roost__ctx_peer(ctx, to, &mb) != 0)
		return 1;
	roost__lock_take(&mb->mb_hdr->mh_lock.lk_lock, -1, &(uint64_t){0});
	kill(getpid(), SIGKILL);
	return 2;
}

START_TEST(test_corrupt_skip_then_repair)
{
	roost_ctx_t *rx;
	roost_ctx_t *tx;
	size_t len;
	struct roost__mbox_hdr *h;
	uint8_t *ring;
	uint8_t forged[200];
	struct roost__rec *fake = (struct roost__rec *)forged;
	roost_msg_t *m;
	uint32_t want;
	uint32_t k;
	pid_t pid;

	/* The shared, locked lane's protection (tag-lock). */
	tu_sys_lanes(0);
	rx = tu_open("rx");
	tx = tu_open(NULL);
	h = map_mbox(roost_self(rx), &len);
	ring = (uint8_t *)h + h->mh_fixed.mf_ring_off[ROOST_LANE_USR];

	/* A payload that looks like a record header, to catch a receiver
	 * that lands inside a payload. */
	memset(forged, 0, sizeof(forged));
	fake->rc_len = (uint32_t)roost__rec_bytes(8);
	fake->rc_kind = 99;
	fake->rc_from = 0xdeadbeef;
	fake->rc_size = 8;
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, "a", 1, 0), 0);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 2, forged, 200, 0), 0);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 3, forged, 200, 0), 0);
	((struct roost__rec *)(ring + roost__rec_bytes(1)))->rc_size = 99999;
	/* Found by a selective receive, so the damage lies beyond the head
	 * (message 1 stays queued in front of it). */
	want = 3;
	ck_assert_int_eq(roost_recv_match(rx, &m, ROOST_LANE_ANY, match_kind,
	                                  &want, 0), ROOST_ECORRUPT);
	pid = tu_fork(die_holding_lock, NULL);
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 1);
	for (k = 10; k < 20; k++)
		ck_assert_int_eq(roost_send(tx, roost_self(rx), k, forged,
		                            (k % 3) * 60, 0), 0);
	for (k = 10; k < 20; k++) {
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), k);
		ck_assert_uint_eq(roost_msg_from(m).id, roost_self(tx).id);
	}
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

START_TEST(test_corrupt_tail)
{
	roost_ctx_t *rx;
	roost_ctx_t *tx;
	size_t len;
	struct roost__mbox_hdr *h;
	roost_mbox_stats_t st;
	roost_msg_t *m;
	uint64_t bad[] = {(uint64_t)1 << 40, 3, UINT64_MAX - 15};
	uint32_t kind = 1;
	size_t i;

	/* The shared, locked lane's tail (tag-lock). */
	tu_sys_lanes(0);
	rx = tu_open("rx");
	tx = tu_open(NULL);
	h = map_mbox(roost_self(rx), &len);

	/* The tail is derivable state: a sender that finds it impossible
	 * reports it once and re-derives it from the committed chain, so
	 * no message that was accepted is lost. */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(roost_send(tx, roost_self(rx), kind, "x", 1, 0),
		                 0);
		roost__store_rel(&h->mh_tail[ROOST_LANE_USR], bad[i]);
		ck_assert_int_eq(roost_send(tx, roost_self(rx), 99, "y", 1, 0),
		                 ROOST_ECORRUPT);
		ck_assert_int_eq(roost_send(tx, roost_self(rx), kind + 1, "z", 1,
		                            0), 0);
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), kind);
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), kind + 1);
		ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
		kind += 2;
	}
	ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.corrupt, 3);
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

static bool
in_a_ring(const struct roost__mbox *mb, const void *data, size_t size)
{
	const uint8_t *p = data;
	unsigned lane;

	for (lane = 0; lane < mb->mb_nlanes; lane++) {
		if (p >= mb->mb_ring[lane] &&
		    size <= (size_t)(mb->mb_ring[lane] + mb->mb_cap[lane] - p))
			return true;
	}
	return false;
}

/*
 * Random scribbles over the mailbox (all but its mutex) and its rings,
 * thousands of times, with sends and receives in between: every call
 * returns, every message handed out lies inside the ring.
 */
/* A record rewritten to a size beyond the lane's largest payload (yet
 * consistent with its length) is corrupt: taking it aside must not copy
 * it into a buffer sized for the system's largest message. */
START_TEST(test_corrupt_forged_size)
{
	roost_ctx_t *a = tu_open(NULL);
	struct roost__rec *r;
	roost_msg_t *m;
	uint64_t head;
	uint32_t big = a->cx_sys.sy_fixed.sf_max_msg + 4096;

	ck_assert_uint_lt(roost__rec_bytes(big),
	                  a->cx_mbox.mb_cap[ROOST_LANE_USR] / 2);
	ck_assert_int_eq(roost_send(a, roost_self(a), 7, "hello", 6, 0), 0);
	head = roost__load_rlx(&a->cx_mbox.mb_hdr->mh_head[ROOST_LANE_USR]);
	r = roost__mbox_rec_at(&a->cx_mbox, ROOST_LANE_USR, head);
	r->rc_size = big;
	r->rc_len = (uint32_t)roost__rec_bytes(big);
	ck_assert_int_eq(roost_recv_aside(a, &m, ROOST_LANE_USER, NULL, NULL, 0),
	                 ROOST_ECORRUPT);
	ck_assert_int_eq(roost_recv(a, &m, 0), -EAGAIN); /* skipped for good */
	roost_ctx_close(a);
}
END_TEST

START_TEST(test_corrupt_random_scribbles)
{
	roost_ctx_t *rx = tu_open_sized("rx", 4096);
	roost_ctx_t *tx = tu_open(NULL);
	struct roost__mbox *own = &rx->cx_mbox;
	size_t len;
	uint8_t *base = (uint8_t *)map_mbox(roost_self(rx), &len);
	void *mapped = own->mb_hdr;
	size_t user_off = own->mb_hdr->mh_fixed.mf_ring_off[ROOST_LANE_USR];
	roost_msg_t *m;
	uint8_t payload[300];
	size_t off;
	int i;
	int j;
	int rc;
	unsigned seed = 12345;
	int outcomes[3] = {0, 0, 0}; /* delivered, corrupt, other */
	int replaced = 0;

	memset(payload, 0xab, sizeof(payload));
	for (i = 0; i < 5000; i++) {
		for (j = 0; j < 4; j++)
			roost_send(tx, roost_self(rx), (uint32_t)j, payload,
			           (size_t)rand_r(&seed) % sizeof(payload), 0);
		for (j = 0; j < 1 + i % 3; j++) {
			/* Anywhere: fixed header, lock words, counters,
			 * records. Mostly records. */
			off = (size_t)rand_r(&seed) % 4096;
			if (rand_r(&seed) % 4 != 0)
				off += user_off;
			else
				off %= ROOST_MBOX_HDR_SIZE;
			base[off] = (uint8_t)rand_r(&seed);
		}
		for (j = 0; j < 5; j++) {
			rc = roost_recv(rx, &m, 0);
			outcomes[rc == 0 ? 0 : rc == ROOST_ECORRUPT ? 1 : 2]++;
			if (rc != 0)
				continue;
			/* Inside the receiver's own mapping of a ring. */
			ck_assert(in_a_ring(own, roost_msg_data(m),
			                    roost_msg_size(m)));
		}
		if (own->mb_hdr != mapped) {
			/* The owner moved to a new segment (a damaged fixed
			 * header or state word): scribble on that one. */
			replaced++;
			mapped = own->mb_hdr;
			munmap(base, len);
			base = (uint8_t *)map_mbox(roost_self(rx), &len);
		}
	}
	/* The scribbles did reach the validators, messages still got
	 * through between them, and some hit what only a new segment
	 * mends. (The counters themselves are scribbled too.) */
	ck_assert_int_gt(outcomes[0], 1000);
	ck_assert_int_gt(outcomes[1], 5);
	ck_assert_int_gt(replaced, 0);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 9, "end", 3, 0), 0);
	do
		rc = roost_recv(rx, &m, 0);
	while (rc == 0 && roost_msg_kind(m) != 9);
	ck_assert_int_eq(rc, 0);
	fprintf(stderr, "scribbles: %d delivered, %d corrupt, %d other, "
	        "%d replacements\n", outcomes[0], outcomes[1], outcomes[2],
	        replaced);
	munmap(base, len);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

static Suite *
corrupt_suite(void)
{
	Suite *s = suite_create("corrupt");

	suite_add_tcase(s, tu_tcase("test_corrupt_sys_header",
	                            test_corrupt_sys_header, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_slot_table",
	                            test_corrupt_slot_table, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_mbox_header",
	                            test_corrupt_mbox_header, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_lock_words",
	                            test_corrupt_lock_words, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_record_skipped",
	                            test_corrupt_record_skipped, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_tail", test_corrupt_tail, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_skip_then_repair",
	                            test_corrupt_skip_then_repair, 60));
	suite_add_tcase(s, tu_tcase("test_corrupt_forged_size",
	                            test_corrupt_forged_size, 30));
	suite_add_tcase(s, tu_tcase("test_corrupt_random_scribbles",
	                            test_corrupt_random_scribbles, 120));
	return s;
}

int
main(void)
{
	return tu_run(corrupt_suite());
}
