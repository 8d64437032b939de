/* SPDX-License-Identifier: MIT */
/*
 * check_restart.c - a supervised actor killed with SIGKILL and restarted
 * in a new process keeps its address, its name and its mailbox: nothing
 * queued is lost, senders never notice, and the message it was handling
 * comes back first, flagged as redelivered. This is the library half of
 * roostd's restart.
 */
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

struct restart_shared {
	uint64_t rs_aid;   /* the first incarnation's address */
	int rs_got_first;  /* it has message 1 in hand */
	uint32_t rs_kinds[8];
	uint32_t rs_flags[8];
	int rs_count;
};

/* The system helpers open: tu_sys unless a test says otherwise. */
static const char *helper_sys;

static roost_ctx_t *
open_supervised(const char *name, roost_aid_t reattach, int *rc)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;

	roost_ctx_opts_init(&o);
	o.system = helper_sys != NULL ? helper_sys : tu_sys;
	o.name = name;
	o.flags = ROOST_CTX_SUPERVISED;
	o.reattach = reattach;
	*rc = roost_ctx_open(&ctx, &o);
	return ctx;
}

/* First incarnation: takes message 1 and dies while handling it. */
static int
first_life(void *arg)
{
	struct restart_shared *sh = arg;
	roost_msg_t *m;
	roost_ctx_t *ctx;
	int rc;

	ctx = open_supervised("worker", ROOST_AID_NONE, &rc);
	if (rc != 0)
		return 1;
	sh->rs_aid = roost_self(ctx).id;
	if (roost_recv(ctx, &m, TU_PATIENCE_MS) != 0 || roost_msg_kind(m) != 1)
		return 2;
	__atomic_store_n(&sh->rs_got_first, 1, __ATOMIC_RELEASE);
	for (;;)
		pause(); /* "handling" until killed */
}

/* Second incarnation: reattaches and drains. */
static int
second_life(void *arg)
{
	struct restart_shared *sh = arg;
	roost_msg_t *m;
	roost_ctx_t *ctx;
	int rc;

	ctx = open_supervised(NULL, (roost_aid_t){sh->rs_aid}, &rc);
	if (rc != 0)
		return 10;
	if (roost_self(ctx).id != sh->rs_aid)
		return 11;
	while (sh->rs_count < 8 && roost_recv(ctx, &m, 200) == 0) {
		sh->rs_kinds[sh->rs_count] = roost_msg_kind(m);
		sh->rs_flags[sh->rs_count] = roost_msg_flags(m);
		sh->rs_count++;
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 12;
}

START_TEST(test_restart_keeps_address_and_mail)
{
	struct restart_shared *sh = tu_shared_alloc(sizeof(*sh));
	roost_ctx_t *tx = tu_open(NULL);
	roost_aid_t worker;
	roost_aid_t again;
	pid_t first;
	pid_t second;
	int i;

	first = tu_fork(first_life, sh);
	worker = tu_whereis_wait(tx, "worker", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_send(tx, worker, 1, "one", 3, 1000), 0);
	for (i = 0; i < 5000 && !__atomic_load_n(&sh->rs_got_first,
	                                          __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	ck_assert_int_eq(sh->rs_got_first, 1);
	ck_assert_int_eq(roost_send(tx, worker, 2, "two", 3, 1000), 0);
	kill(first, SIGKILL);
	ck_assert_int_eq(tu_wait(first, TU_PATIENCE_MS), 128 + SIGKILL);
	/* Dead, but its address, name and mailbox stay for the restart. */
	ck_assert_int_eq(roost_send(tx, worker, 3, "three", 5, 1000), 0);
	ck_assert_int_eq(roost_whereis(tx, "worker", &again), 0);
	ck_assert(roost_aid_eq(again, worker));

	second = tu_fork(second_life, sh);
	ck_assert_int_eq(tu_wait(second, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(sh->rs_count, 3);
	ck_assert_uint_eq(sh->rs_kinds[0], 1);
	ck_assert(sh->rs_flags[0] & ROOST_MSG_REDELIVERED);
	ck_assert_uint_eq(sh->rs_kinds[1], 2);
	ck_assert(!(sh->rs_flags[1] & ROOST_MSG_REDELIVERED));
	ck_assert_uint_eq(sh->rs_kinds[2], 3);
	/* It closed for good: now the address is stale. */
	ck_assert_int_eq(roost_send(tx, worker, 4, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}
END_TEST

/*
 * A dead actor's mailbox scribbled beyond use (its fixed header): the
 * restart gets a fresh, empty mailbox at the same address, the loss is
 * counted, and a sender still mapping the old segment is sent on to the
 * new one (its send never lands in the retired segment).
 */
START_TEST(test_restart_damaged_mailbox_is_fresh)
{
	struct restart_shared *sh = tu_shared_alloc(sizeof(*sh));
	roost_ctx_t *tx = tu_open(NULL);
	struct roost__mbox *old;
	roost_mbox_stats_t st;
	roost_aid_t worker;
	pid_t first;
	pid_t second;
	int i;

	first = tu_fork(first_life, sh);
	worker = tu_whereis_wait(tx, "worker", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_send(tx, worker, 1, "one", 3, 1000), 0);
	for (i = 0; i < 5000 && !__atomic_load_n(&sh->rs_got_first,
	                                          __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	ck_assert_int_eq(sh->rs_got_first, 1);
	kill(first, SIGKILL);
	ck_assert_int_eq(tu_wait(first, TU_PATIENCE_MS), 128 + SIGKILL);
	/* tx maps the old segment; a stray write ruins its fixed part. */
	ck_assert_int_eq(roost_send(tx, worker, 2, "two", 3, 1000), 0);
	ck_assert_int_eq(roost__ctx_peer(tx, worker, &old), 0);
	old->mb_hdr->mh_fixed.mf_magic = 0xdeadbeef;

	second = tu_fork(second_life, sh);
	/* Sent after the restart through the old mapping: re-opened. */
	for (i = 0; i < 5000; i++) {
		if (roost_mbox_stats(tx, worker, &st) == 0 && st.replaced == 1)
			break;
		usleep(1000);
	}
	ck_assert_uint_eq(st.replaced, 1);
	ck_assert_uint_eq(st.lost, 1);
	ck_assert_int_eq(roost_send(tx, worker, 3, "three", 5, 1000), 0);
	ck_assert_int_eq(tu_wait(second, TU_PATIENCE_MS), 0);
	/* What the ruined segment held is gone; the new mail arrived. */
	ck_assert_int_eq(sh->rs_count, 1);
	ck_assert_uint_eq(sh->rs_kinds[0], 3);
	ck_assert_int_eq(roost_ctx_close(tx), 0);
}
END_TEST

static int
die_at_once(void *arg)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	uint64_t *aid = arg;

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	if (roost_ctx_open(&ctx, &o) != 0) /* not supervised */
		return 1;
	*aid = roost_self(ctx).id;
	kill(getpid(), SIGKILL);
	return 2;
}

START_TEST(test_restart_refusals)
{
	uint64_t *plain = tu_shared_alloc(sizeof(*plain));
	roost_ctx_t *live;
	roost_ctx_t *c;
	roost_aid_t bad;
	pid_t pid;
	int rc;

	live = open_supervised("live", ROOST_AID_NONE, &rc);
	ck_assert_int_eq(rc, 0);
	/* Its process still runs. */
	c = open_supervised(NULL, roost_self(live), &rc);
	ck_assert_int_eq(rc, -EBUSY);
	ck_assert_ptr_null(c);
	/* Wrong generation, made-up slot. */
	bad = roost__aid_make(roost_aid_slot(roost_self(live)),
	                      roost_aid_gen(roost_self(live)) + 1);
	open_supervised(NULL, bad, &rc);
	ck_assert_int_eq(rc, -ESRCH);
	open_supervised(NULL, roost__aid_make(100000, 1), &rc);
	ck_assert_int_eq(rc, -ESRCH);
	/* A dead actor that was not supervised cannot be taken over. */
	pid = tu_fork(die_at_once, plain);
	ck_assert_int_eq(tu_wait(pid, TU_PATIENCE_MS), 128 + SIGKILL);
	open_supervised(NULL, (roost_aid_t){*plain}, &rc);
	ck_assert_int_eq(rc, -EPERM);
	ck_assert_int_eq(roost_ctx_close(live), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 2); /* system + dead one's */
}
END_TEST

static int
supervised_then_die(void *arg)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	uint64_t *aid = arg;

	roost_ctx_opts_init(&o);
	o.system = helper_sys;
	o.flags = ROOST_CTX_SUPERVISED;
	o.name = "kept";
	if (roost_ctx_open(&ctx, &o) != 0)
		return 1;
	*aid = roost_self(ctx).id;
	kill(getpid(), SIGKILL);
	return 2;
}

/* A full table does not reclaim a supervised slot, and nobody else can
 * take its name, while it waits for its restart. */
START_TEST(test_restart_slot_is_kept)
{
	char sys[64];
	roost_sys_opts_t so;
	uint64_t *aid = tu_shared_alloc(sizeof(*aid));
	roost_ctx_opts_t o;
	roost_ctx_t *a;
	roost_ctx_t *b = NULL;
	roost_ctx_t *r;
	pid_t pid;
	int rc;

	snprintf(sys, sizeof(sys), "%s-k", tu_sys);
	roost_sys_opts_init(&so);
	so.slots = 2;
	roost_system_destroy(sys);
	ck_assert_int_eq(roost_system_create(sys, &so), 0);
	helper_sys = sys;
	pid = tu_fork(supervised_then_die, aid);
	ck_assert_int_eq(tu_wait(pid, TU_PATIENCE_MS), 128 + SIGKILL);
	roost_ctx_opts_init(&o);
	o.system = sys;
	ck_assert_int_eq(roost_ctx_open(&a, &o), 0);
	ck_assert_int_eq(roost_ctx_open(&b, &o), -ENOSPC);
	o.name = "kept";
	ck_assert_int_eq(roost_ctx_open(&b, &o), -EADDRINUSE);
	r = open_supervised(NULL, (roost_aid_t){*aid}, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(roost_whereis(a, "kept", &(roost_aid_t){0}), 0);
	ck_assert_int_eq(roost_ctx_close(r), 0);
	ck_assert_int_eq(roost_ctx_close(a), 0);
	ck_assert_int_eq(roost_system_destroy(sys), 0);
	ck_assert_int_eq(tu_shm_count(sys), 0);
	helper_sys = NULL;
}
END_TEST

/* The environment roostd gives an actor: read, validated, and refused
 * whole when any variable is malformed. */
START_TEST(test_restart_opts_from_env)
{
	static const char *const bad[][2] = {
		{"ROOST_REATTACH", "xyz"},
		{"ROOST_REATTACH", "0000000000000005"}, /* generation 0 */
		{"ROOST_REATTACH", "12345678901234567"},
		{"ROOST_SUPERVISED", "yes"},
		{"ROOST_ACTOR", "has space"},
		{"ROOST_SYSTEM", "bad/name"},
	};
	roost_ctx_opts_t o;
	size_t i;

	setenv("ROOST_SYSTEM", tu_sys, 1);
	setenv("ROOST_ACTOR", "envy", 1);
	setenv("ROOST_SUPERVISED", "1", 1);
	setenv("ROOST_REATTACH", "0000000700000003", 1);
	roost_ctx_opts_init(&o);
	ck_assert_int_eq(roost_ctx_opts_from_env(&o), 0);
	ck_assert_str_eq(o.system, tu_sys);
	ck_assert_str_eq(o.name, "envy");
	ck_assert_uint_eq(o.flags, ROOST_CTX_SUPERVISED);
	ck_assert_uint_eq(roost_aid_slot(o.reattach), 3);
	ck_assert_uint_eq(roost_aid_gen(o.reattach), 7);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char keep[64];

		snprintf(keep, sizeof(keep), "%s", getenv(bad[i][0]));
		setenv(bad[i][0], bad[i][1], 1);
		roost_ctx_opts_init(&o);
		ck_assert_msg(roost_ctx_opts_from_env(&o) == -EINVAL, "%s=%s",
		              bad[i][0], bad[i][1]);
		ck_assert_ptr_null(o.name); /* left unchanged */
		setenv(bad[i][0], keep, 1);
	}
	unsetenv("ROOST_ACTOR");
	unsetenv("ROOST_SUPERVISED");
	unsetenv("ROOST_REATTACH");
	unsetenv("ROOST_SYSTEM");
	roost_ctx_opts_init(&o);
	ck_assert_int_eq(roost_ctx_opts_from_env(&o), 0);
	ck_assert_ptr_null(o.system);
	ck_assert_uint_eq(o.reattach.id, 0);
}
END_TEST

/*
 * A sender's restart keeps its order (tag-private): what its first
 * incarnation queued in its private lane arrives before what its second
 * sends. The first is killed with its messages still queued; the second
 * reattaches at the same address and takes the same lane again.
 */
#define ORDER_BATCH 100

struct order_shared {
	uint64_t os_aid;
	uint64_t os_rx;
	uint32_t os_other_sent; /* the other sender has sent */
	uint32_t os_other_go;   /* it may close and exit */
};

static int
sender_life(void *arg)
{
	struct order_shared *os = arg;
	roost_aid_t again = {__atomic_load_n(&os->os_aid, __ATOMIC_ACQUIRE)};
	roost_aid_t rx = {os->os_rx};
	roost_ctx_t *ctx;
	uint64_t first = again.id == 0 ? 0 : ORDER_BATCH;
	uint64_t i;
	int rc;

	ctx = open_supervised(NULL, again, &rc);
	if (rc != 0)
		return 1;
	for (i = first; i < first + ORDER_BATCH; i++)
		if (roost_send(ctx, rx, 1, &i, sizeof(i), 5000) != 0)
			return 2;
	__atomic_store_n(&os->os_aid, roost_self(ctx).id, __ATOMIC_RELEASE);
	if (first == 0)
		raise(SIGKILL); /* dies with its messages queued */
	return roost_ctx_close(ctx) == 0 ? 0 : 3;
}

START_TEST(test_restart_sender_keeps_order)
{
	struct order_shared *os = tu_shared_alloc(sizeof(*os));
	roost_ctx_t *rx = tu_open_sized("rx", 65536);
	roost_msg_t *m;
	uint64_t got;
	uint64_t i;

	os->os_rx = roost_self(rx).id;
	ck_assert_int_eq(tu_wait(tu_fork(sender_life, os), TU_PATIENCE_MS),
	                 128 + SIGKILL);
	ck_assert_int_eq(tu_wait(tu_fork(sender_life, os), TU_PATIENCE_MS), 0);
	for (i = 0; i < 2 * ORDER_BATCH; i++) {
		ck_assert_int_eq(roost_recv(rx, &m, TU_PATIENCE_MS), 0);
		memcpy(&got, roost_msg_data(m), sizeof(got));
		ck_assert_uint_eq(got, i);
	}
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

/* Another address: one message, then it lives on (holding whatever
 * lane it claimed) until told to go. */
static int
other_sender(void *arg)
{
	struct order_shared *os = arg;
	roost_aid_t rx = {os->os_rx};
	uint64_t none = UINT64_MAX;
	roost_ctx_t *ctx;
	int rc;

	ctx = open_supervised(NULL, ROOST_AID_NONE, &rc);
	if (rc != 0 || roost_send(ctx, rx, 1, &none, sizeof(none), 5000) != 0)
		return 1;
	__atomic_store_n(&os->os_other_sent, 1, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&os->os_other_go, __ATOMIC_ACQUIRE))
		usleep(1000);
	return roost_ctx_close(ctx) == 0 ? 0 : 3;
}

/*
 * The same, with another sender between the two lives: the one private
 * lane (the default) holds what the first life queued, and its claimant
 * is dead, yet the other address may not take it (it sends through the
 * shared lane), so the second life resumes it. Before, the other took
 * it; the second life, finding it held by a live process, sent through
 * the shared lane, which the receiver read first: 100 before 0.
 */
START_TEST(test_restart_sender_keeps_order_contended)
{
	struct order_shared *os = tu_shared_alloc(sizeof(*os));
	roost_ctx_t *rx = tu_open_sized("rx", 65536);
	roost_msg_t *m;
	uint64_t next = 0;
	uint64_t got;
	pid_t other;
	int i;

	os->os_rx = roost_self(rx).id;
	ck_assert_int_eq(tu_wait(tu_fork(sender_life, os), TU_PATIENCE_MS),
	                 128 + SIGKILL);
	other = tu_fork(other_sender, os);
	for (i = 0; i < TU_PATIENCE_MS &&
	            !__atomic_load_n(&os->os_other_sent, __ATOMIC_ACQUIRE);
	     i++)
		usleep(1000);
	ck_assert(__atomic_load_n(&os->os_other_sent, __ATOMIC_ACQUIRE));
	ck_assert_int_eq(tu_wait(tu_fork(sender_life, os), TU_PATIENCE_MS), 0);
	for (i = 0; i < 2 * ORDER_BATCH + 1; i++) {
		ck_assert_int_eq(roost_recv(rx, &m, TU_PATIENCE_MS), 0);
		memcpy(&got, roost_msg_data(m), sizeof(got));
		if (got == UINT64_MAX)
			continue; /* the other's, anywhere */
		ck_assert_uint_eq(got, next);
		next++;
	}
	ck_assert_uint_eq(next, 2 * ORDER_BATCH);
	__atomic_store_n(&os->os_other_go, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(tu_wait(other, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(roost_recv(rx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_ctx_close(rx), 0);
}
END_TEST

static Suite *
restart_suite(void)
{
	Suite *s = suite_create("restart");

	suite_add_tcase(s, tu_tcase("test_restart_sender_keeps_order",
	                            test_restart_sender_keeps_order, 60));
	suite_add_tcase(s, tu_tcase("test_restart_sender_keeps_order_contended",
	                            test_restart_sender_keeps_order_contended,
	                            60));
	suite_add_tcase(s, tu_tcase("test_restart_keeps_address_and_mail",
	                            test_restart_keeps_address_and_mail, 60));
	suite_add_tcase(s, tu_tcase("test_restart_damaged_mailbox_is_fresh",
	                            test_restart_damaged_mailbox_is_fresh, 60));
	suite_add_tcase(s, tu_tcase("test_restart_refusals",
	                            test_restart_refusals, 60));
	suite_add_tcase(s, tu_tcase("test_restart_slot_is_kept",
	                            test_restart_slot_is_kept, 60));
	suite_add_tcase(s, tu_tcase("test_restart_opts_from_env",
	                            test_restart_opts_from_env, 60));
	return s;
}

int
main(void)
{
	return tu_run(restart_suite());
}
