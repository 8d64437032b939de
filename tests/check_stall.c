/* SPDX-License-Identifier: MIT */
/*
 * check_stall.c - a sender stopped (SIGSTOP) in the middle of a send, while
 * holding the mailbox's lock, blocks nobody for longer than the system's
 * unblock time: the other senders (timeout -1) ask the owner, who moves
 * the mailbox to a new segment (tag-replace). When the stopped sender
 * resumes, its send completes or is made again: every message of every
 * sender arrives exactly once and in order.
 *
 * Nothing is simulated: a real sender sends in a loop and is stopped at
 * random moments until one stop lands while it holds the lock.
 */
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define UNBLOCK_MS 100
#define KIND_LOOP  1 /* the sender that gets stopped: seq forever */
#define KIND_OTHER 2 /* a sender that must get through meanwhile */
#define OTHER_COUNT 2000

struct seq_msg {
	uint64_t seq;
};

static void
reopen_with_unblock(uint32_t ms)
{
	roost_sys_opts_t so;

	ck_assert_int_eq(roost_system_destroy(tu_sys), 0);
	roost_sys_opts_init(&so);
	so.unblock_ms = ms;
	/* Stalls are of the shared, locked lane: private senders hold no
	 * lock (tag-private). */
	so.private_lanes = 0;
	ck_assert_int_eq(roost_system_create(tu_sys, &so), 0);
}

/* Send seq 0, 1, 2, ... of 'kind' to "rx", each with timeout -1;
 * 'count' 0 is forever. Any failure is the helper's exit status. */
static int
send_seq(uint32_t kind, uint64_t count)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t to = tu_whereis_wait(ctx, "rx", 5000);
	struct seq_msg m;
	int rc;

	for (m.seq = 0; count == 0 || m.seq < count; m.seq++) {
		rc = roost_send(ctx, to, kind, &m, sizeof(m), -1);
		if (rc != 0) {
			fprintf(stderr, "send %llu: %s\n",
			        (unsigned long long)m.seq, roost_strerror(rc));
			return 3;
		}
	}
	roost_ctx_close(ctx);
	return 0;
}

/* The same in batches of 'arg' (roost_send_batch): a seized batch is
 * sent on from the first message not delivered. */
static int
send_seq_batched(size_t per)
{
	roost_ctx_t *ctx = tu_open(NULL);
	roost_aid_t to = tu_whereis_wait(ctx, "rx", 5000);
	roost_batch_msg_t b[16];
	struct seq_msg m[16];
	uint64_t seq = 0;
	size_t sent;
	size_t i;
	int rc;

	for (;;) {
		for (i = 0; i < per; i++) {
			m[i].seq = seq + i;
			b[i] = (roost_batch_msg_t){KIND_LOOP, 0, &m[i],
			                           sizeof(m[i])};
		}
		rc = roost_send_batch(ctx, to, b, per, -1, &sent);
		if (rc != 0 || sent != per) {
			fprintf(stderr, "batch at %llu: %s, %zu sent\n",
			        (unsigned long long)seq, roost_strerror(rc), sent);
			return 3;
		}
		seq += per;
	}
}

static int
loop_sender(void *arg)
{
	size_t per = (size_t)(uintptr_t)arg;

	return per <= 1 ? send_seq(KIND_LOOP, 0) : send_seq_batched(per);
}

static int
other_sender(void *arg)
{
	(void)arg;
	return send_seq(KIND_OTHER, OTHER_COUNT);
}

/* Per-kind next expected sequence number; fails on a gap or a repeat. */
static void
check_in_order(const roost_msg_t *m, uint64_t *next)
{
	struct seq_msg s;
	uint32_t k = roost_msg_kind(m);

	ck_assert(k == KIND_LOOP || k == KIND_OTHER);
	ck_assert_uint_eq(roost_msg_size(m), sizeof(s));
	memcpy(&s, roost_msg_data(m), sizeof(s));
	ck_assert_msg(s.seq == next[k], "kind %u: seq %llu, expected %llu", k,
	              (unsigned long long)s.seq,
	              (unsigned long long)next[k]);
	next[k]++;
}

/* Receive what is there now (a bounded number). */
static void
drain(roost_ctx_t *rx, uint64_t *next, int most)
{
	roost_msg_t *m;

	while (most-- > 0 && roost_recv(rx, &m, 0) == 0)
		check_in_order(m, next);
}

/* The tid in the mailbox's lock word (0: free). */
static pid_t
lock_holder(roost_ctx_t *rx)
{
	uint64_t w = atomic_load(&rx->cx_mbox.mb_hdr->mh_lock.lk_lock.lk_word);

	return (pid_t)((uint32_t)w & ROOST_LOCK_TID_MASK);
}

static void
stopped_sender(size_t per)
{
	roost_ctx_t *rx;
	uint64_t next[3] = {0, 0, 0};
	roost_mbox_stats_t st;
	roost_msg_t *m;
	pid_t loop;
	pid_t other;
	int status;
	int tries;
	int rc;

	reopen_with_unblock(UNBLOCK_MS);
	rx = tu_open_sized("rx", 1u << 16);
	loop = tu_fork(loop_sender, (void *)(uintptr_t)per);
	/* Stop it at random moments until it is stopped holding the lock
	 * (a stop that lands elsewhere is undone at once). */
	for (tries = 0;; tries++) {
		ck_assert_msg(tries < 100000, "never caught holding the lock");
		drain(rx, next, 1000 + tries % 500);
		kill(loop, SIGSTOP);
		ck_assert_int_eq(waitpid(loop, &status, WUNTRACED), loop);
		ck_assert(WIFSTOPPED(status));
		if (lock_holder(rx) == loop)
			break;
		kill(loop, SIGCONT);
	}
	/* Another sender with timeout -1, and the owner keeps receiving: it
	 * gets through once the owner has replaced the mailbox. */
	other = tu_fork(other_sender, NULL);
	while (next[KIND_OTHER] < OTHER_COUNT) {
		rc = roost_recv(rx, &m, 1000);
		ck_assert_msg(rc == 0, "recv: %s", roost_strerror(rc));
		check_in_order(m, next);
	}
	ck_assert_int_eq(tu_wait(other, 10000), 0);
	ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
	ck_assert_uint_ge(st.replaced, 1);
	fprintf(stderr, "stall: caught holding the lock after %d stops; "
	        "%llu replacement(s)\n", tries + 1,
	        (unsigned long long)st.replaced);
	/* The stopped sender resumes: its send completes (carried over) or
	 * is made again; its sequence goes on without a gap or a repeat. */
	kill(loop, SIGCONT);
	{
		uint64_t resumed_at = next[KIND_LOOP];

		while (next[KIND_LOOP] < resumed_at + 10000) {
			rc = roost_recv(rx, &m, 5000);
			ck_assert_msg(rc == 0, "recv: %s", roost_strerror(rc));
			check_in_order(m, next);
		}
	}
	kill(loop, SIGKILL);
	ck_assert_int_eq(tu_wait(loop, 5000), 128 + SIGKILL);
	drain(rx, next, INT32_MAX);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}

START_TEST(test_stall_stopped_sender)
{
	stopped_sender(1);
}
END_TEST

START_TEST(test_stall_stopped_batch_sender)
{
	stopped_sender(16);
}
END_TEST

/* Without a stopped lock holder a mailbox is never replaced, however
 * often its sender waits for room. */
START_TEST(test_stall_none_without_stall)
{
	roost_ctx_t *rx;
	uint64_t next[3] = {0, 0, 0};
	roost_mbox_stats_t st;
	roost_msg_t *m;
	pid_t other;

	reopen_with_unblock(UNBLOCK_MS);
	rx = tu_open_sized("rx", 4096);
	other = tu_fork(other_sender, NULL);
	/* A small ring: the sender waits for room often, never stalls. */
	while (next[KIND_OTHER] < OTHER_COUNT) {
		ck_assert_int_eq(roost_recv(rx, &m, 5000), 0);
		check_in_order(m, next);
	}
	ck_assert_int_eq(tu_wait(other, 10000), 0);
	ck_assert_int_eq(roost_mbox_stats(rx, roost_self(rx), &st), 0);
	ck_assert_uint_eq(st.replaced, 0);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

static Suite *
stall_suite(void)
{
	Suite *s = suite_create("stall");

	suite_add_tcase(s, tu_tcase("test_stall_stopped_sender",
	                            test_stall_stopped_sender, 120));
	suite_add_tcase(s, tu_tcase("test_stall_stopped_batch_sender",
	                            test_stall_stopped_batch_sender, 120));
	suite_add_tcase(s, tu_tcase("test_stall_none_without_stall",
	                            test_stall_none_without_stall, 60));
	return s;
}

int
main(void)
{
	return tu_run(stall_suite());
}
