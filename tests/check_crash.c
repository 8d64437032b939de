/* SPDX-License-Identifier: MIT */
/*
 * check_crash.c - senders killed with SIGKILL at random moments, hundreds
 * of times, while others keep sending: the mailbox never wedges, never
 * shows a half-written record, and every acknowledged message arrives
 * exactly once and in order per sender. Plus a deterministic death inside
 * the lock with a half-written record.
 *
 * ROOST_CRASH_KILLS overrides the number of kills (default 400).
 */
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_INST 4096
#define STEADY 2
#define STEADY_COUNT 100000
#define KIND_DATA 1
#define KIND_DONE 2

struct crash_msg {
	uint32_t cm_inst;
	uint32_t cm_pad;
	uint64_t cm_seq;
};

/* Lives in shared anonymous memory: written by helpers, read by all. */
struct crash_shared {
	uint64_t cs_acked[MAX_INST];   /* last seq a sender saw succeed */
	uint64_t cs_last_rx[MAX_INST]; /* last seq the sink took */
	uint64_t cs_total;
	uint64_t cs_repaired;
	uint32_t cs_errors;
	char cs_err[256];
};

static struct crash_shared *shared;

static int
sink(void *arg)
{
	roost_ctx_t *ctx = tu_open_sized("sink", (uint32_t)(uintptr_t)arg);
	roost_mbox_stats_t st;
	struct crash_msg cm;
	bool done = false;
	roost_msg_t *m;
	int rc;

	for (;;) {
		/* After DONE, what is left: a dead sender's records in a
		 * private lane may come after it. */
		rc = roost_recv(ctx, &m, done ? 0 : 30000);
		if (rc == -EAGAIN && done)
			break;
		if (rc != 0) {
			snprintf(shared->cs_err, sizeof(shared->cs_err),
			         "recv: %s", roost_strerror(rc));
			shared->cs_errors++;
			return 1;
		}
		if (roost_msg_kind(m) == KIND_DONE) {
			done = true;
			continue;
		}
		if (roost_msg_kind(m) != KIND_DATA ||
		    roost_msg_size(m) != sizeof(cm)) {
			shared->cs_errors++;
			continue;
		}
		memcpy(&cm, roost_msg_data(m), sizeof(cm));
		if (cm.cm_inst >= MAX_INST ||
		    cm.cm_seq != shared->cs_last_rx[cm.cm_inst] + 1) {
			if (shared->cs_errors++ == 0)
				snprintf(shared->cs_err, sizeof(shared->cs_err),
				         "inst %u: got seq %llu after %llu",
				         cm.cm_inst, (unsigned long long)cm.cm_seq,
				         (unsigned long long)
				                 shared->cs_last_rx[cm.cm_inst %
				                                    MAX_INST]);
			continue;
		}
		shared->cs_last_rx[cm.cm_inst] = cm.cm_seq;
		shared->cs_total++;
	}
	roost_mbox_stats(ctx, roost_self(ctx), &st);
	shared->cs_repaired = st.repaired;
	return roost_ctx_close(ctx) == 0 ? 0 : 2;
}

/* Sends numbered messages until killed or 'limit' is reached. */
static int
sender(uint32_t inst, uint64_t limit)
{
	roost_ctx_t *ctx;
	roost_aid_t to;
	struct crash_msg cm = {.cm_inst = inst};
	int rc;

	ctx = tu_open(NULL);
	to = tu_whereis_wait(ctx, "sink", 5000);
	for (cm.cm_seq = 1; cm.cm_seq <= limit; cm.cm_seq++) {
		rc = roost_send(ctx, to, KIND_DATA, &cm, sizeof(cm), 30000);
		if (rc != 0)
			return 3;
		/* Acknowledged: the sink must get it. */
		__atomic_store_n(&shared->cs_acked[inst], cm.cm_seq,
		                 __ATOMIC_RELEASE);
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 4;
}

static int
steady_sender(void *arg)
{
	return sender((uint32_t)(uintptr_t)arg, STEADY_COUNT);
}

static int
crash_kills(void)
{
	const char *e = getenv("ROOST_CRASH_KILLS");
	int n = e != NULL ? atoi(e) : 400;

	return n > 0 && n < MAX_INST - STEADY ? n : 400;
}

static void
run_kill_loop(uint32_t sink_ring)
{
	roost_ctx_t *ctx;
	pid_t sink_pid;
	pid_t steady[STEADY];
	pid_t victim;
	uint32_t inst;
	int kills = crash_kills();
	int status;
	int i;

	shared = tu_shared_alloc(sizeof(*shared));
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	sink_pid = tu_fork(sink, (void *)(uintptr_t)sink_ring);
	ctx = tu_open(NULL);
	tu_whereis_wait(ctx, "sink", 10000);
	for (i = 0; i < STEADY; i++)
		steady[i] = tu_fork(steady_sender, (void *)(uintptr_t)i);
	for (i = 0; i < kills; i++) {
		inst = STEADY + (uint32_t)i;
		victim = fork();
		/* The child must not reach a ck_assert: Check reports every
		 * passing check too, and a kill mid-report garbles it. */
		if (victim == 0)
			_exit(sender(inst, UINT64_MAX));
		ck_assert_int_gt(victim, 0);
		/* Anywhere from before it attached to deep in its sends. */
		usleep((useconds_t)(rand() % 3000));
		kill(victim, SIGKILL);
		ck_assert_int_eq(waitpid(victim, &status, 0), victim);
	}
	for (i = 0; i < STEADY; i++)
		ck_assert_int_eq(tu_wait(steady[i], 120000), 0);
	/* Every sender is finished or dead, so all their committed records
	 * are queued before DONE is sent (the sink drains the rest). */
	ck_assert_int_eq(roost_send_name(ctx, "sink", KIND_DONE, NULL, 0, 30000),
	                 0);
	ck_assert_int_eq(tu_wait(sink_pid, 120000), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);

	ck_assert_msg(shared->cs_errors == 0, "%u violations, first: %s",
	              shared->cs_errors, shared->cs_err);
	for (inst = 0; inst < STEADY + (uint32_t)kills; inst++) {
		uint64_t acked = shared->cs_acked[inst];
		uint64_t got = shared->cs_last_rx[inst];

		/* Every acknowledged message arrived; at most the one in
		 * flight at the kill arrived without its acknowledgement. */
		ck_assert_msg(got >= acked && got <= acked + 1,
		              "sender %u: acked %llu, received %llu", inst,
		              (unsigned long long)acked, (unsigned long long)got);
	}
	ck_assert_uint_eq(shared->cs_last_rx[0], STEADY_COUNT);
	ck_assert_uint_eq(shared->cs_last_rx[1], STEADY_COUNT);
	fprintf(stderr,
	        "crash (ring %u): %d kills survived, %llu messages checked, "
	        "%llu half-written records repaired\n",
	        sink_ring, kills, (unsigned long long)shared->cs_total,
	        (unsigned long long)shared->cs_repaired);
}

START_TEST(test_crash_kill_senders_big_ring)
{
	run_kill_loop(1u << 20);
}
END_TEST

START_TEST(test_crash_kill_senders_small_ring)
{
	/* Mostly full: senders die while blocked for space, too. */
	run_kill_loop(8192);
}
END_TEST

/*
 * A sender dies holding the lock after writing half a record at the tail.
 * The next sender gets EOWNERDEAD, drops and counts the record, and the
 * receiver never sees it.
 */
static int
die_in_lock(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t to = tu_whereis_wait(ctx, "rx", 5000);
	struct roost__mbox *mb;
	struct roost__mbox_hdr *h;
	struct roost__rec *r;
	uint64_t tail;

	(void)arg;
	if (roost__ctx_peer(ctx, to, &mb) != 0)
		return 1;
	h = mb->mb_hdr;
	roost__lock_take(&h->mh_lock.lk_lock, -1, &(uint64_t){0});
	/* Exactly what roost__mbox_push() does up to the middle of the
	 * copy: crash marker, then a header and part of the payload. */
	tail = roost__load_rlx(&h->mh_tail[ROOST_LANE_USR]);
	h->mh_wip_lane = ROOST_LANE_USR;
	h->mh_wip_pos = tail + 1;
	r = (struct roost__rec *)(mb->mb_ring[ROOST_LANE_USR] +
	                          (tail & (mb->mb_cap[ROOST_LANE_USR] - 1)));
	r->rc_len = (uint32_t)roost__rec_bytes(64);
	r->rc_kind = 666;
	r->rc_size = 64;
	memset(r + 1, 0xee, 20);
	kill(getpid(), SIGKILL);
	return 2;
}

START_TEST(test_crash_owner_dead_repair)
{
	roost_ctx_t *rx;
	roost_ctx_t *tx;
	roost_mbox_stats_t st;
	roost_msg_t *m;
	pid_t pid;

	/* The shared, locked lane's protection (tag-lock). */
	tu_sys_lanes(0);
	rx = tu_open("rx");
	tx = tu_open(NULL);

	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, "a", 1, 0), 0);
	pid = tu_fork(die_in_lock, NULL);
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	/* The lock is held by a dead process: this send repairs it. */
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 2, "b", 1, 1000), 0);
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.repaired, 1);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 1);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 2);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	/* And the lock keeps working. */
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 3, "c", 1, 0), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 3);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* A process dies holding the actor-table lock: the next opener repairs
 * the torn slot and goes on. */
static int
die_in_table_lock(void *arg)
{
	struct roost__sys sy;

	(void)arg;
	if (roost__sys_open(&sy, tu_sys) != 0)
		return 1;
	roost__sys_lock(&sy);
	roost__slot_write_begin(&sy.sy_slots[3]);
	kill(getpid(), SIGKILL);
	return 2;
}

START_TEST(test_crash_table_lock_owner_dead)
{
	roost_ctx_t *a;
	roost_ctx_t *b;
	pid_t pid = tu_fork(die_in_table_lock, NULL);

	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	a = tu_open("a");
	b = tu_open("b");
	ck_assert_int_eq(roost_send_name(b, "a", 1, NULL, 0, 0), 0);
	ck_assert_int_eq(roost_ctx_close(b), 0);
	ck_assert_int_eq(roost_ctx_close(a), 0);
}
END_TEST

static Suite *
crash_suite(void)
{
	Suite *s = suite_create("crash");

	suite_add_tcase(s, tu_tcase("test_crash_owner_dead_repair",
	                            test_crash_owner_dead_repair, 60));
	suite_add_tcase(s, tu_tcase("test_crash_table_lock_owner_dead",
	                            test_crash_table_lock_owner_dead, 60));
	suite_add_tcase(s, tu_tcase("test_crash_kill_senders_big_ring",
	                            test_crash_kill_senders_big_ring, 240));
	suite_add_tcase(s, tu_tcase("test_crash_kill_senders_small_ring",
	                            test_crash_kill_senders_small_ring, 240));
	return s;
}

int
main(void)
{
	return tu_run(crash_suite());
}
