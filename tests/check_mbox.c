/* SPDX-License-Identifier: MIT */
/*
 * check_mbox.c - mailbox behaviour across real processes: delivery, order
 * under concurrent producers, back-pressure, sizes, lanes, selective
 * receive, timeouts and wake-ups.
 */
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

struct seqmsg {
	uint32_t sm_sender;
	uint32_t sm_pad;
	uint64_t sm_seq;
};

/* --- cross-process delivery ------------------------------------------ */

#define XP_COUNT 20000

static int
xp_receiver(void *arg)
{
	roost_ctx_t *ctx = tu_open("rx");
	roost_msg_t *m;
	uint64_t i;
	uint8_t buf[256];
	size_t k;

	(void)arg;
	for (i = 0; i < XP_COUNT; i++) {
		if (roost_recv(ctx, &m, 5000) != 0)
			return 10;
		if (roost_msg_kind(m) != (uint32_t)(i % 7) ||
		    roost_msg_size(m) != i % 200)
			return 11;
		memcpy(buf, roost_msg_data(m), roost_msg_size(m));
		for (k = 0; k < roost_msg_size(m); k++)
			if (buf[k] != (uint8_t)(i + k))
				return 12;
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 13;
}

START_TEST(test_mbox_cross_process)
{
	roost_ctx_t *ctx = tu_open(NULL);
	pid_t pid = tu_fork(xp_receiver, NULL);
	roost_aid_t rx = tu_whereis_wait(ctx, "rx", 5000);
	uint8_t buf[256];
	uint64_t i;
	size_t k;

	for (i = 0; i < XP_COUNT; i++) {
		for (k = 0; k < i % 200; k++)
			buf[k] = (uint8_t)(i + k);
		ck_assert_int_eq(roost_send(ctx, rx, (uint32_t)(i % 7), buf,
		                            i % 200, 5000), 0);
	}
	ck_assert_int_eq(tu_wait(pid, 20000), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
}
END_TEST

/* --- per-sender order with 6 concurrent producers -------------------- */

/* More producers than private lanes (tag-private): four write their own
 * lane, two share the locked one; every 97th message is too large for a
 * private lane (a 16 KiB mailbox's are 4 KiB), so senders move between
 * their lane and the shared one, and FIFO must hold across the moves. */
#define ORD_PRODUCERS 6
#define ORD_COUNT 50000
#define ORD_BIG 3000

static int
ord_receiver(void *arg)
{
	roost_ctx_t *ctx = tu_open_sized("rx", 16384);
	uint64_t next[ORD_PRODUCERS] = {0};
	struct seqmsg sm;
	roost_msg_t *m;
	int i;

	(void)arg;
	for (i = 0; i < ORD_PRODUCERS * ORD_COUNT; i++) {
		if (roost_recv(ctx, &m, 10000) != 0)
			return 10;
		if (roost_msg_size(m) < sizeof(sm))
			return 11;
		memcpy(&sm, roost_msg_data(m), sizeof(sm));
		if (sm.sm_sender >= ORD_PRODUCERS || sm.sm_seq != next[sm.sm_sender])
			return 12; /* out of order, duplicated or lost */
		next[sm.sm_sender]++;
	}
	/* Nothing more may arrive. */
	if (roost_recv(ctx, &m, 50) != -ETIMEDOUT)
		return 13;
	return roost_ctx_close(ctx) == 0 ? 0 : 14;
}

static int
ord_producer(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t rx = tu_whereis_wait(ctx, "rx", 5000);
	static uint8_t buf[sizeof(struct seqmsg) + ORD_BIG];
	struct seqmsg sm = {.sm_sender = (uint32_t)(uintptr_t)arg};
	size_t size;

	for (sm.sm_seq = 0; sm.sm_seq < ORD_COUNT; sm.sm_seq++) {
		memcpy(buf, &sm, sizeof(sm));
		size = sizeof(sm) + (sm.sm_seq % 97 == 96 ? ORD_BIG : 0);
		if (roost_send(ctx, rx, 1, buf, size, 10000) != 0)
			return 20;
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 21;
}

START_TEST(test_mbox_order_4_producers)
{
	pid_t rx = tu_fork(ord_receiver, NULL);
	pid_t p[ORD_PRODUCERS];
	uintptr_t i;

	for (i = 0; i < ORD_PRODUCERS; i++)
		p[i] = tu_fork(ord_producer, (void *)i);
	for (i = 0; i < ORD_PRODUCERS; i++)
		ck_assert_int_eq(tu_wait(p[i], 60000), 0);
	ck_assert_int_eq(tu_wait(rx, 60000), 0);
}
END_TEST

/* --- back-pressure: try-send, timed send, blocked send resumes ------- */

static int
bp_blocked_sender(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t rx = tu_whereis_wait(ctx, "rx", 5000);
	uint64_t v = (uint64_t)(uintptr_t)arg;

	/* Blocks until the parent drains one message. */
	if (roost_send(ctx, rx, 2, &v, sizeof(v), -1) != 0)
		return 30;
	return roost_ctx_close(ctx) == 0 ? 0 : 31;
}

/* The shared lane: a second sender blocks behind the first's backlog. */
START_TEST(test_mbox_backpressure)
{
	roost_ctx_t *rx;
	roost_ctx_t *tx;
	roost_mbox_stats_t st;
	roost_msg_t *m;
	uint64_t v;
	uint64_t sent = 0;
	uint64_t got;
	pid_t pid;
	int rc;

	tu_sys_lanes(0);
	rx = tu_open_sized("rx", 4096);
	tx = tu_open(NULL);

	/* Fill the user lane until it refuses. */
	for (;;) {
		rc = roost_try_send(tx, roost_self(rx), 1, &sent, sizeof(sent));
		if (rc != 0)
			break;
		sent++;
	}
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_uint_gt(sent, 10);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, &sent, sizeof(sent),
	                            30), -ETIMEDOUT);
	/* The system lane is separate: still open while the user lane is
	 * full. */
	v = 777;
	ck_assert_int_eq(roost_send_ex(tx, roost_self(rx), 9, ROOST_SEND_SYSTEM,
	                               0, &v, sizeof(v), 0), 0);

	pid = tu_fork(bp_blocked_sender, (void *)(uintptr_t)sent);
	usleep(100000); /* let it block (well past its spin) */
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st), 0);
	ck_assert_uint_ge(st.blocked_sends, 2);
	/* The user lane (4 KiB) is full and one system message is queued. */
	ck_assert_uint_ge(st.high_water, 4096 - roost__rec_bytes(8));
	ck_assert_uint_eq(st.queued, sent + 1);
	/* The receiver sending to itself cannot wait for room. */
	ck_assert_int_eq(roost_send(rx, roost_self(rx), 1, &v, sizeof(v), -1),
	                 -EDEADLK);
	ck_assert_int_eq(roost_try_send(rx, roost_self(rx), 1, &v, sizeof(v)),
	                 -EAGAIN);

	/* System message first, then every user message in order, then the
	 * one the blocked sender got in once there was room. */
	ck_assert_int_eq(roost_recv(rx, &m, 1000), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 9);
	ck_assert(roost_msg_flags(m) & ROOST_MSG_SYSTEM);
	for (v = 0; v < sent; v++) {
		ck_assert_int_eq(roost_recv(rx, &m, 1000), 0);
		memcpy(&got, roost_msg_data(m), sizeof(got));
		ck_assert_uint_eq(roost_msg_kind(m), 1);
		ck_assert_uint_eq(got, v);
	}
	ck_assert_int_eq(roost_recv(rx, &m, 5000), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 2);
	ck_assert_int_eq(tu_wait(pid, 5000), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* A sender that fills its private lane (tag-private), then blocks with
 * no timeout until the receiver drains. */
static int
bp_private_sender(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t rx = tu_whereis_wait(ctx, "rx", 5000);
	uint64_t *sent = arg;
	uint64_t n = 0;
	int rc;

	while ((rc = roost_try_send(ctx, rx, 1, &n, sizeof(n))) == 0)
		n++;
	if (rc != -EAGAIN || n < 10)
		return 32;
	if (roost_send(ctx, rx, 1, &n, sizeof(n), 20) != -ETIMEDOUT)
		return 33;
	__atomic_store_n(sent, n, __ATOMIC_RELEASE);
	if (roost_send(ctx, rx, 1, &n, sizeof(n), -1) != 0)
		return 34;
	return roost_ctx_close(ctx) == 0 ? 0 : 35;
}

START_TEST(test_mbox_private_backpressure)
{
	uint64_t *sent = tu_shared_alloc(sizeof(*sent));
	roost_ctx_t *rx = tu_open_sized("rx", 16384);
	roost_ctx_t *other = tu_open(NULL);
	roost_mbox_stats_t st;
	roost_msg_t *m;
	uint64_t got;
	uint64_t v;
	pid_t pid;
	int i;

	pid = tu_fork(bp_private_sender, sent);
	/* Wait for the state: its lane full and its send blocked. */
	for (i = 0; i < 10000; i++) {
		ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
		if (__atomic_load_n(sent, __ATOMIC_ACQUIRE) != 0 &&
		    st.blocked_sends >= 2)
			break;
		usleep(1000);
	}
	ck_assert_uint_ge(st.blocked_sends, 2);
	/* Its lane is a quarter of the mailbox; another sender still gets
	 * in, through a lane of its own. */
	ck_assert_uint_le(*sent * roost__rec_bytes(8), 16384 / 4);
	v = 99;
	ck_assert_int_eq(roost_try_send(other, roost_self(rx), 3, &v,
	                                sizeof(v)), 0);
	for (v = 0; v <= *sent;) {
		ck_assert_int_eq(roost_recv(rx, &m, 5000), 0);
		if (roost_msg_kind(m) == 3)
			continue;
		memcpy(&got, roost_msg_data(m), sizeof(got));
		ck_assert_uint_eq(got, v);
		v++;
	}
	ck_assert_int_eq(tu_wait(pid, 5000), 0);
	ck_assert_int_eq(roost_ctx_close(other), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* --- sizes ------------------------------------------------------------ */

START_TEST(test_mbox_oversize)
{
	roost_ctx_t *rx = tu_open_sized("rx", 4096);
	roost_ctx_t *tx = tu_open(NULL);
	static uint8_t big[1 << 20];
	size_t max = 4096 / 2 - ROOST_RING_SLACK - ROOST_REC_HDR;
	roost_msg_t *m;

	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, big, max + 1, -1),
	                 -EMSGSIZE);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, big, sizeof(big),
	                            -1), -EMSGSIZE);
	/* Larger than the system-wide limit, on the (large) system lane. */
	ck_assert_int_eq(roost_send_ex(tx, roost_self(rx), 1, ROOST_SEND_SYSTEM,
	                               0, big, ROOST_MAX_MSG_DEF + 1, -1),
	                 -EMSGSIZE);
	big[max - 1] = 0x5a;
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, big, max, -1), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 1000), 0);
	ck_assert_uint_eq(roost_msg_size(m), max);
	ck_assert_uint_eq(((const uint8_t *)roost_msg_data(m))[max - 1], 0x5a);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, NULL, 1, -1),
	                 -EINVAL);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* --- wrap-around with mixed sizes ------------------------------------ */

START_TEST(test_mbox_wrap_mixed_sizes)
{
	roost_ctx_t *rx = tu_open_sized("rx", 4096);
	roost_ctx_t *tx = tu_open(NULL);
	uint8_t buf[2000];
	roost_msg_t *m;
	uint32_t i;
	size_t n;

	for (i = 0; i < 20000; i++) {
		/* The message in hand stays in the ring until the next
		 * receive, so two records (and a pad) must fit 4 KiB. */
		n = (i * 37u) % 1000;
		memset(buf, (int)(i & 0xff), n);
		ck_assert_int_eq(roost_send(tx, roost_self(rx), i, buf, n, 0), 0);
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), i);
		ck_assert_uint_eq(roost_msg_size(m), n);
		ck_assert(memcmp(roost_msg_data(m), buf, n) == 0);
	}
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* --- selective receive ------------------------------------------------ */

static bool
match_kind(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == *(uint32_t *)arg;
}

START_TEST(test_mbox_selective_receive)
{
	roost_ctx_t *rx = tu_open(NULL);
	roost_ctx_t *tx = tu_open(NULL);
	uint32_t want;
	uint32_t k;
	roost_msg_t *m;

	for (k = 1; k <= 6; k++)
		ck_assert_int_eq(roost_send(tx, roost_self(rx), k, NULL, 0, 0), 0);
	want = 4;
	ck_assert_int_eq(roost_recv_match(rx, &m, ROOST_LANE_ANY, match_kind,
	                                  &want, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 4);
	want = 2;
	ck_assert_int_eq(roost_recv_match(rx, &m, ROOST_LANE_USER, match_kind,
	                                  &want, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 2);
	/* No match: waits, times out, and disturbs nothing. */
	want = 99;
	ck_assert_int_eq(roost_recv_match(rx, &m, ROOST_LANE_ANY, match_kind,
	                                  &want, 20), -ETIMEDOUT);
	ck_assert_int_eq(roost_recv_match(rx, &m, ROOST_LANE_SYSTEM, NULL, NULL,
	                                  0), -EAGAIN);
	/* The rest, in order. */
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 1);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 3);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 5);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 6);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_recv_match(rx, &m, 0, NULL, NULL, 0), -EINVAL);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* A reply waited for on the system lane is found while a large user
 * backlog stays queued and untouched. */
static int
late_replier(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t to = tu_whereis_wait(ctx, "caller", 5000);
	uint64_t corr = 4242;

	(void)arg;
	usleep(20000); /* the caller is already waiting, asleep */
	if (roost_send_ex(ctx, to, 7, ROOST_SEND_SYSTEM, corr, "ok", 2, 1000))
		return 40;
	return roost_ctx_close(ctx) == 0 ? 0 : 41;
}

static bool
match_corr(const roost_msg_t *m, void *arg)
{
	return roost_msg_corr(m) == *(uint64_t *)arg;
}

START_TEST(test_mbox_system_lane_first)
{
	roost_ctx_t *rx = tu_open_sized("caller", 16u << 20);
	roost_ctx_t *tx = tu_open(NULL);
	roost_mbox_stats_t st;
	uint64_t corr = 4242;
	roost_msg_t *m;
	uint64_t i;
	pid_t pid;

	/* 3.2 MB: within the sender's private lane (4 MiB). */
	for (i = 0; i < 50000; i++)
		ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, &i, sizeof(i),
		                            0), 0);
	ck_assert_int_eq(roost_send_ex(tx, roost_self(rx), 2, ROOST_SEND_SYSTEM,
	                               0, NULL, 0, 0), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 2);

	pid = tu_fork(late_replier, NULL);
	ck_assert_int_eq(roost_recv_match(rx, &m, ROOST_LANE_SYSTEM, match_corr,
	                                  &corr, 5000), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 7);
	ck_assert_uint_eq(roost_msg_size(m), 2);
	ck_assert_int_eq(tu_wait(pid, 5000), 0);
	ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
	/* The backlog is intact; the reply in hand still counts until the
	 * next receive releases it. */
	ck_assert_uint_eq(st.queued, 50000 + 1);
	for (i = 0; i < 50000; i++) {
		uint64_t got;

		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		memcpy(&got, roost_msg_data(m), sizeof(got));
		ck_assert_uint_eq(got, i);
	}
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* --- timeouts and wake-up from sleep --------------------------------- */

START_TEST(test_mbox_recv_timeout)
{
	roost_ctx_t *rx = tu_open(NULL);
	roost_msg_t *m;

	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_recv(rx, &m, 30), -ETIMEDOUT);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

static int
sleeper(void *arg)
{
	roost_ctx_t *ctx = tu_open("sleeper");
	roost_msg_t *m;
	int i;

	(void)arg;
	/* Blocks with no deadline: only a futex wake can end each wait. */
	for (i = 0; i < 3; i++) {
		if (roost_recv(ctx, &m, -1) != 0 || roost_msg_kind(m) != 5u + i)
			return 50;
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 51;
}

START_TEST(test_mbox_wakeup_after_sleep)
{
	roost_ctx_t *tx = tu_open(NULL);
	pid_t pid = tu_fork(sleeper, NULL);
	roost_aid_t to = tu_whereis_wait(tx, "sleeper", 5000);
	uint32_t i;

	for (i = 0; i < 3; i++) {
		usleep(50000); /* far longer than the receiver spins */
		ck_assert_int_eq(roost_send(tx, to, 5 + i, NULL, 0, 1000), 0);
	}
	ck_assert_int_eq(tu_wait(pid, 5000), 0);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}
END_TEST

START_TEST(test_mbox_stats_counters)
{
	roost_ctx_t *rx = tu_open_sized(NULL, 8192);
	roost_ctx_t *tx = tu_open(NULL);
	roost_mbox_stats_t st;
	roost_msg_t *m;
	uint8_t buf[100] = {0};
	int i;

	for (i = 0; i < 10; i++)
		ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, buf, 100, 0), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_int_eq(roost_mbox_stats(tx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.enqueued, 10);
	ck_assert_uint_eq(st.dequeued, 3); /* the 4th is still in hand */
	ck_assert_uint_eq(st.queued, 7);
	ck_assert_uint_eq(st.bytes_in, 1000);
	ck_assert_uint_eq(st.used, 7 * roost__rec_bytes(100));
	ck_assert_uint_ge(st.high_water, 10 * roost__rec_bytes(100));
	ck_assert_uint_eq(st.blocked_sends, 0);
	ck_assert_uint_eq(st.repaired, 0);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* A sender stopped while holding the lock: try-send and a timed receive
 * still return; when it dies, the lock comes back. */
static int
hold_lock_and_stop(void *arg)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t to = tu_whereis_wait(ctx, "rx", 5000);
	struct roost__mbox *mb;

	(void)arg;
	if (roost__ctx_peer(ctx, to, &mb) != 0)
		return 1;
	roost__lock_take(&mb->mb_hdr->mh_lock.lk_lock, -1, &(uint64_t){0});
	raise(SIGSTOP);
	return 2;
}

START_TEST(test_mbox_stopped_lock_holder)
{
	roost_ctx_t *rx = tu_open("rx");
	roost_ctx_t *tx = tu_open(NULL);
	roost_mbox_stats_t st;
	roost_msg_t *m;
	pid_t pid = tu_fork(hold_lock_and_stop, NULL);
	int status;

	ck_assert_int_eq(waitpid(pid, &status, WUNTRACED), pid);
	ck_assert(WIFSTOPPED(status));
	ck_assert_int_eq(roost_try_send(tx, roost_self(rx), 1, NULL, 0),
	                 -EAGAIN);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 1, NULL, 0, 20),
	                 -ETIMEDOUT);
	ck_assert_int_eq(roost_recv(rx, &m, 20), -ETIMEDOUT);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	kill(pid, SIGKILL);
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	ck_assert_int_eq(roost_send(tx, roost_self(rx), 2, NULL, 0, 1000), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 2);
	ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.repaired, 0); /* it wrote nothing */
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/*
 * A sender killed between taking lk_sleeping and its futex_wake would
 * leave the receiver asleep (it sleeps with no period); simulate exactly
 * that state (lk_waker set, the flag gone, no wake) and check that the
 * next send wakes it.
 */
static int
blocked_receiver(void *arg)
{
	roost_ctx_t *ctx = tu_open("rx");
	roost_msg_t *m;

	(void)arg;
	if (roost_recv(ctx, &m, -1) != 0 || roost_msg_kind(m) != 42)
		return 60;
	return roost_ctx_close(ctx) == 0 ? 0 : 61;
}

START_TEST(test_mbox_dead_waker_is_covered)
{
	roost_ctx_t *tx = tu_open(NULL);
	pid_t pid = tu_fork(blocked_receiver, NULL);
	roost_aid_t rx = tu_whereis_wait(tx, "rx", 5000);
	struct roost__mbox *mb;
	int i;

	ck_assert_int_eq(roost__ctx_peer(tx, rx, &mb), 0);
	/* Wait until it sleeps in the kernel (its spin is 50 us). */
	for (i = 0; i < 5000 && roost__load_acq(&mb->mb_hdr->mh_lock.lk_sleeping) == 0;
	     i++)
		usleep(1000);
	ck_assert_uint_eq(roost__load_acq(&mb->mb_hdr->mh_lock.lk_sleeping), 1);
	/* The dead waker's marks: lk_waker set, the flag gone, no wake. */
	roost__store_rel(&mb->mb_hdr->mh_lock.lk_waker, 1);
	roost__store_rel(&mb->mb_hdr->mh_lock.lk_sleeping, 0);
	ck_assert_int_eq(roost_send(tx, rx, 42, NULL, 0, 1000), 0);
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}
END_TEST

/* roost_send_batch: in order, partial when full (what it says it sent
 * is queued, the rest not), -EMSGSIZE before anything, mixed lanes. */
START_TEST(test_mbox_send_batch)
{
	roost_ctx_t *rx = tu_open_sized("rx", 4096);
	roost_ctx_t *tx = tu_open(NULL);
	roost_batch_msg_t b[300];
	uint32_t vals[300];
	static uint8_t big[1 << 20];
	roost_msg_t *m;
	size_t sent;
	size_t i;

	for (i = 0; i < 300; i++) {
		vals[i] = (uint32_t)i;
		b[i] = (roost_batch_msg_t){100 + (uint32_t)i, 0, &vals[i],
		                           sizeof(vals[i])};
	}
	/* 300 records of 64 bytes do not fit 4 KiB: a partial batch. */
	ck_assert_int_eq(roost_send_batch(tx, roost_self(rx), b, 300, 0, &sent),
	                 -EAGAIN);
	ck_assert_uint_gt(sent, 10);
	ck_assert_uint_lt(sent, 300);
	for (i = 0; i < sent; i++) {
		ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), 100 + i);
		ck_assert_int_eq(*(const uint32_t *)roost_msg_data(m), (int)i);
	}
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	/* Never fits: nothing sent. */
	b[5] = (roost_batch_msg_t){7, 0, big, sizeof(big)};
	ck_assert_int_eq(roost_send_batch(tx, roost_self(rx), b, 10, 0, &sent),
	                 -EMSGSIZE);
	ck_assert_uint_eq(sent, 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	/* A system-lane message in a batch is served first. */
	b[0] = (roost_batch_msg_t){1, 0, NULL, 0};
	b[1] = (roost_batch_msg_t){2, ROOST_SEND_SYSTEM, NULL, 0};
	ck_assert_int_eq(roost_send_batch(tx, roost_self(rx), b, 2, 0, NULL), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 2);
	ck_assert_int_eq(roost_recv(rx, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 1);
	ck_assert_int_eq(roost_send_batch(tx, roost_self(rx), NULL, 1, 0, NULL),
	                 -EINVAL);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* A batch larger than the mailbox, with a receiver draining: all of it,
 * in order, with timeout -1. */
static int
drain_checked(void *arg)
{
	roost_ctx_t *ctx = tu_open("rx");
	roost_msg_t *m;
	uint32_t want = 0;

	(void)arg;
	while (want < 100000) {
		if (roost_recv(ctx, &m, 5000) != 0 ||
		    *(const uint32_t *)roost_msg_data(m) != want)
			return 70;
		want++;
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 71;
}

START_TEST(test_mbox_send_batch_blocks)
{
	roost_ctx_t *tx = tu_open(NULL);
	pid_t pid = tu_fork(drain_checked, NULL);
	roost_aid_t rx = tu_whereis_wait(tx, "rx", 5000);
	static uint32_t vals[100000];
	static roost_batch_msg_t b[100000];
	size_t sent;
	size_t i;

	for (i = 0; i < 100000; i++) {
		vals[i] = (uint32_t)i;
		b[i] = (roost_batch_msg_t){1, 0, &vals[i], sizeof(vals[i])};
	}
	ck_assert_int_eq(roost_send_batch(tx, rx, b, 100000, -1, &sent), 0);
	ck_assert_uint_eq(sent, 100000);
	ck_assert_int_eq(tu_wait(pid, 30000), 0);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}
END_TEST

/* Graceful stop: seen at once on the system lane, every user message
 * queued before it handled in order, later sends refused. */
#define STOP_BACKLOG 50000

static int
stopping_actor(void *arg)
{
	roost_ctx_t *ctx = tu_open_sized("rx", 16u << 20);
	int *go = arg;
	roost_msg_t *m;
	uint64_t next = 0;
	uint64_t v;
	int sys_msgs = 0;
	int rc;
	int i;

	for (i = 0; i < 10000 && !__atomic_load_n(go, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	if (roost_recv(ctx, &m, 5000) != 0 ||
	    roost_msg_kind(m) != ROOST_KIND_STOP)
		return 70; /* the stop overtakes the backlog */
	while ((rc = roost_recv(ctx, &m, 0)) == 0) {
		if (roost_msg_flags(m) & ROOST_MSG_SYSTEM) {
			sys_msgs++;
			continue;
		}
		memcpy(&v, roost_msg_data(m), sizeof(v));
		if (v != next++)
			return 71;
	}
	if (rc != -EAGAIN || next != STOP_BACKLOG || sys_msgs != 1)
		return 72;
	return roost_ctx_close(ctx) == 0 ? 0 : 73;
}

static void
graceful_stop(uint32_t nprivate)
{
	int *go = tu_shared_alloc(sizeof(int));
	roost_ctx_t *tx;
	pid_t pid;
	roost_aid_t rx;
	uint64_t i;

	tu_sys_lanes(nprivate);
	tx = tu_open(NULL);
	pid = tu_fork(stopping_actor, go);
	rx = tu_whereis_wait(tx, "rx", 5000);

	for (i = 0; i < STOP_BACKLOG; i++)
		ck_assert_int_eq(roost_send(tx, rx, 1, &i, sizeof(i), 1000), 0);
	ck_assert_int_eq(roost_stop(tx, rx), 0);
	ck_assert_int_eq(roost_stop(tx, rx), -EALREADY);
	ck_assert_int_eq(roost_send(tx, rx, 1, &i, sizeof(i), 1000),
	                 -ESHUTDOWN);
	/* The system lane stays open while it drains. */
	ck_assert_int_eq(roost_send_ex(tx, rx, 5, ROOST_SEND_SYSTEM, 0, NULL, 0,
	                               1000), 0);
	__atomic_store_n(go, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(tu_wait(pid, 30000), 0);
	ck_assert_int_eq(roost_stop(tx, rx), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}

START_TEST(test_mbox_graceful_stop_drains_backlog)
{
	graceful_stop(ROOST_NPRIV_DEF); /* from a private lane */
}
END_TEST

START_TEST(test_mbox_graceful_stop_shared_lane)
{
	graceful_stop(0);
}
END_TEST

/*
 * A graceful stop while senders keep sending (tag-private): every send
 * that returned 0 is handled once and in order, every later one gets
 * -ESHUTDOWN, none is handled that was refused. Four senders have
 * private lanes, the fifth shares the locked one.
 */
#define RACE_SENDERS 5

/* The shared region, for the senders (forked after it is set). */
struct stop_race;
static struct stop_race *race_shared;

struct stop_race {
	uint64_t sr_ok[RACE_SENDERS];   /* sends that returned 0 */
	uint64_t sr_got[RACE_SENDERS];  /* messages the actor handled */
	int sr_bad;                     /* out of order, or unknown */
};

static int
race_actor(void *arg)
{
	struct stop_race *sr = arg;
	roost_ctx_t *ctx = tu_open_sized("rx", 65536);
	struct seqmsg sm;
	roost_msg_t *m;
	bool stopping = false;
	int rc;

	for (;;) {
		rc = roost_recv(ctx, &m, stopping ? 0 : 10000);
		if (rc == -EAGAIN && stopping)
			break;
		if (rc != 0)
			return 80;
		if (roost_msg_flags(m) & ROOST_MSG_SYSTEM) {
			stopping = roost_msg_kind(m) == ROOST_KIND_STOP;
			continue;
		}
		memcpy(&sm, roost_msg_data(m), sizeof(sm));
		if (sm.sm_sender >= RACE_SENDERS ||
		    sm.sm_seq != sr->sr_got[sm.sm_sender])
			sr->sr_bad = 1;
		else
			sr->sr_got[sm.sm_sender]++;
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 81;
}

/* Every eighth private send pauses before it writes or before it
 * publishes: a stop then lands inside the window, both ways. */
static void
race_pause(unsigned phase)
{
	static unsigned calls[2];

	if (phase < 2 && ++calls[phase] % 8 == phase * 4)
		usleep(200);
}

static int
race_sender(void *arg)
{
	struct stop_race *sr = race_shared;
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t rx = tu_whereis_wait(ctx, "rx", 5000);
	struct seqmsg sm = {.sm_sender = (uint32_t)(uintptr_t)arg};
	int rc;

	roost__private_hook = race_pause;
	for (sm.sm_seq = 0;; sm.sm_seq++) {
		rc = roost_send(ctx, rx, 1, &sm, sizeof(sm), -1);
		if (rc != 0)
			break;
		__atomic_store_n(&sr->sr_ok[sm.sm_sender], sm.sm_seq + 1,
		                 __ATOMIC_RELEASE);
	}
	if (rc != -ESHUTDOWN && rc != -ESRCH)
		return 82;
	return roost_ctx_close(ctx) == 0 ? 0 : 83;
}

START_TEST(test_mbox_stop_race)
{
	struct stop_race *sr = tu_shared_alloc(sizeof(*sr));
	roost_ctx_t *tx = tu_open(NULL);
	pid_t actor;
	pid_t p[RACE_SENDERS];
	roost_aid_t rx;
	uintptr_t i;
	int n;

	race_shared = sr;
	actor = tu_fork(race_actor, sr);
	rx = tu_whereis_wait(tx, "rx", 5000);
	for (i = 0; i < RACE_SENDERS; i++)
		p[i] = tu_fork(race_sender, (void *)i);
	/* Stop once every sender has had sends accepted. */
	for (n = 0; n < 20000; n++) {
		for (i = 0; i < RACE_SENDERS; i++) {
			if (__atomic_load_n(&sr->sr_ok[i], __ATOMIC_ACQUIRE) <
			    100)
				break;
		}
		if (i == RACE_SENDERS)
			break;
		usleep(500);
	}
	ck_assert_int_eq(roost_stop(tx, rx), 0);
	ck_assert_int_eq(tu_wait(actor, 30000), 0);
	for (i = 0; i < RACE_SENDERS; i++)
		ck_assert_int_eq(tu_wait(p[i], 30000), 0);
	ck_assert_int_eq(sr->sr_bad, 0);
	for (i = 0; i < RACE_SENDERS; i++)
		ck_assert_msg(sr->sr_got[i] == sr->sr_ok[i],
		              "sender %u: %llu handled, %llu accepted",
		              (unsigned)i, (unsigned long long)sr->sr_got[i],
		              (unsigned long long)sr->sr_ok[i]);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}
END_TEST

static Suite *
mbox_suite(void)
{
	Suite *s = suite_create("mbox");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{"test_mbox_cross_process", test_mbox_cross_process},
		{"test_mbox_order_4_producers", test_mbox_order_4_producers},
		{"test_mbox_backpressure", test_mbox_backpressure},
		{"test_mbox_oversize", test_mbox_oversize},
		{"test_mbox_wrap_mixed_sizes", test_mbox_wrap_mixed_sizes},
		{"test_mbox_selective_receive", test_mbox_selective_receive},
		{"test_mbox_system_lane_first", test_mbox_system_lane_first},
		{"test_mbox_recv_timeout", test_mbox_recv_timeout},
		{"test_mbox_wakeup_after_sleep", test_mbox_wakeup_after_sleep},
		{"test_mbox_stats_counters", test_mbox_stats_counters},
		{"test_mbox_stopped_lock_holder", test_mbox_stopped_lock_holder},
		{"test_mbox_dead_waker_is_covered",
		 test_mbox_dead_waker_is_covered},
		{"test_mbox_send_batch", test_mbox_send_batch},
		{"test_mbox_send_batch_blocks", test_mbox_send_batch_blocks},
		{"test_mbox_graceful_stop_drains_backlog",
		 test_mbox_graceful_stop_drains_backlog},
		{"test_mbox_graceful_stop_shared_lane",
		 test_mbox_graceful_stop_shared_lane},
		{"test_mbox_private_backpressure",
		 test_mbox_private_backpressure},
		{"test_mbox_stop_race", test_mbox_stop_race},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, tu_tcase(cases[i].name, cases[i].fn, 120));
	return s;
}

int
main(void)
{
	return tu_run(mbox_suite());
}
