/* SPDX-License-Identifier: MIT */
/*
 * check_call.c - request and reply between real processes: roost_call
 * and roost_reply, timeouts, late replies dropped and counted (never
 * handed to a later call), a call answered while a million user
 * messages wait in the caller's mailbox, and a call made while handling
 * a message that leaves that message the one redelivered after a crash.
 */
#include "test_util.h"

#include <signal.h>
#include <unistd.h>

enum { K_ADD = 1, K_SLOW = 2, K_QUIT = 3, K_SUM = 10, K_NOISE = 20 };

/* A server: ADD answers the sum of two int32; SLOW answers after
 * 300 ms; QUIT ends it. */
static int
server(void *arg)
{
	roost_ctx_t *ctx = tu_open("server");
	roost_msg_t *m;
	int32_t v[2];
	int32_t sum;

	(void)arg;
	for (;;) {
		/* Bounded, so a lost client never leaves it behind. */
		if (roost_recv(ctx, &m, 120000) != 0)
			return 1;
		switch (roost_msg_kind(m)) {
		case K_ADD:
			if (roost_msg_size(m) != sizeof(v))
				return 2;
			memcpy(v, roost_msg_data(m), sizeof(v));
			sum = v[0] + v[1];
			if (roost_reply(ctx, m, K_SUM, 0, &sum, sizeof(sum)) != 0)
				return 3;
			break;
		case K_SLOW:
			usleep(300000);
			sum = -1;
			roost_reply(ctx, m, K_SUM, 0, &sum, sizeof(sum));
			break;
		case K_QUIT:
			roost_ctx_close(ctx);
			return 0;
		default:
			return 4;
		}
	}
}

static int32_t
add(roost_ctx_t *ctx, roost_aid_t srv, int32_t a, int32_t b)
{
	int32_t v[2] = {a, b};
	roost_msg_t *r;
	int32_t sum;

	ck_assert_int_eq(roost_call(ctx, srv, K_ADD, 0, v, sizeof(v), 5000, &r),
	                 0);
	ck_assert_uint_eq(roost_msg_kind(r), K_SUM);
	ck_assert(roost_msg_flags(r) & ROOST_MSG_REPLY);
	ck_assert(roost_msg_flags(r) & ROOST_MSG_SYSTEM);
	ck_assert_uint_eq(roost_msg_size(r), sizeof(sum));
	memcpy(&sum, roost_msg_data(r), sizeof(sum));
	return sum;
}

START_TEST(test_call_reply)
{
	roost_ctx_t *ctx = tu_open("client");
	roost_aid_t srv;
	roost_msg_t *r;
	int64_t late;
	pid_t pid;
	int i;

	pid = tu_fork(server, NULL);
	srv = tu_whereis_wait(ctx, "server", 5000);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(add(ctx, srv, i, 2 * i), 3 * i);
	/* A reply too late for its call is dropped, not given to the next. */
	ck_assert_int_eq(roost_call(ctx, srv, K_SLOW, 0, NULL, 0, 50, &r),
	                 -ETIMEDOUT);
	ck_assert_int_eq(add(ctx, srv, 20, 22), 42);
	ck_assert_int_eq(roost_ctx_get_int(ctx, "late-replies", &late), 0);
	ck_assert_int_eq(late, 1);
	ck_assert_int_eq(roost_call(ctx, roost_self(ctx), K_ADD, 0, NULL, 0,
	                            100, &r), -EDEADLK);
	ck_assert_int_eq(roost_send(ctx, srv, K_QUIT, NULL, 0, 1000), 0);
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	/* Only calls can be answered. */
	ck_assert_int_eq(roost_send(ctx, roost_self(ctx), 5, NULL, 0, 0), 0);
	ck_assert_int_eq(roost_recv(ctx, &r, 0), 0);
	ck_assert_int_eq(roost_reply(ctx, r, 1, 0, NULL, 0), -EINVAL);
	roost_ctx_close(ctx);
}
END_TEST

/* The caller's user lane holds a million messages: the call scans only
 * the system lane, and the backlog is intact afterwards. */
#define BACKLOG 1000000

START_TEST(test_call_with_backlog)
{
	roost_ctx_t *ctx = tu_open_sized("client", 64u << 20);
	roost_mbox_stats_t st;
	roost_aid_t srv;
	roost_msg_t *m;
	uint32_t i;
	pid_t pid;

	for (i = 0; i < BACKLOG; i++)
		ck_assert_int_eq(roost_send(ctx, roost_self(ctx), K_NOISE, &i,
		                            sizeof(i), 0), 0);
	pid = tu_fork(server, NULL);
	srv = tu_whereis_wait(ctx, "server", 5000);
	for (i = 0; i < 100; i++)
		ck_assert_int_eq(add(ctx, srv, (int32_t)i, 1), (int32_t)i + 1);
	ck_assert_int_eq(roost_send(ctx, srv, K_QUIT, NULL, 0, 1000), 0);
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	ck_assert_int_eq(roost_mbox_stats(ctx, roost_self(ctx), &st), 0);
	ck_assert_uint_eq(st.queued, BACKLOG);
	for (i = 0; i < BACKLOG; i++) {
		ck_assert_int_eq(roost_recv(ctx, &m, 0), 0);
		ck_assert_uint_eq(roost_msg_kind(m), K_NOISE);
		ck_assert_int_eq(memcmp(roost_msg_data(m), &i, sizeof(i)), 0);
	}
	roost_ctx_close(ctx);
}
END_TEST

struct crash_shared {
	uint64_t cs_aid;
	int cs_called;
	uint32_t cs_redelivered_kind;
	uint32_t cs_redelivered_flags;
};

/* Takes message 7, calls the server while handling it, then dies. */
static int
caller_dies(void *arg)
{
	struct crash_shared *cs = arg;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t srv;
	roost_msg_t *m;
	roost_msg_t *r;
	int32_t v[2] = {1, 2};

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.name = "worker";
	o.flags = ROOST_CTX_SUPERVISED;
	if (roost_ctx_open(&ctx, &o) != 0)
		return 1;
	cs->cs_aid = roost_self(ctx).id;
	srv = tu_whereis_wait(ctx, "server", 5000);
	if (roost_recv(ctx, &m, 5000) != 0 || roost_msg_kind(m) != 7)
		return 2;
	if (roost_call(ctx, srv, K_ADD, 0, v, sizeof(v), 5000, &r) != 0)
		return 3;
	/* The message in hand is still 7. */
	if (roost_msg_kind(m) != 7)
		return 4;
	__atomic_store_n(&cs->cs_called, 1, __ATOMIC_RELEASE);
	for (;;)
		pause();
}

static int
caller_restarts(void *arg)
{
	struct crash_shared *cs = arg;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_msg_t *m;

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.flags = ROOST_CTX_SUPERVISED;
	o.reattach.id = cs->cs_aid;
	if (roost_ctx_open(&ctx, &o) != 0)
		return 1;
	if (roost_recv(ctx, &m, 5000) != 0)
		return 2;
	cs->cs_redelivered_kind = roost_msg_kind(m);
	cs->cs_redelivered_flags = roost_msg_flags(m);
	roost_ctx_close(ctx);
	return 0;
}

START_TEST(test_call_keeps_message_in_hand)
{
	struct crash_shared *cs = tu_shared_alloc(sizeof(*cs));
	roost_ctx_t *ctx = tu_open("client");
	roost_aid_t worker;
	pid_t srv;
	pid_t pid;
	int i;

	srv = tu_fork(server, NULL);
	pid = tu_fork(caller_dies, cs);
	worker = tu_whereis_wait(ctx, "worker", 5000);
	ck_assert_int_eq(roost_send(ctx, worker, 7, NULL, 0, 1000), 0);
	for (i = 0; i < 5000 && !__atomic_load_n(&cs->cs_called,
	                                         __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	ck_assert(cs->cs_called);
	kill(pid, SIGKILL);
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	ck_assert_int_eq(tu_wait(tu_fork(caller_restarts, cs), 10000), 0);
	ck_assert_uint_eq(cs->cs_redelivered_kind, 7);
	ck_assert(cs->cs_redelivered_flags & ROOST_MSG_REDELIVERED);
	ck_assert_int_eq(roost_send(ctx, tu_whereis_wait(ctx, "server", 1000),
	                            K_QUIT, NULL, 0, 1000), 0);
	ck_assert_int_eq(tu_wait(srv, 10000), 0);
	roost_ctx_close(ctx);
}
END_TEST

static bool
kind_is(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == *(uint32_t *)arg;
}

/* A message taken aside leaves the one in hand valid and answerable. */
START_TEST(test_recv_aside)
{
	roost_ctx_t *c = tu_open("c");
	roost_ctx_t *s = tu_open("s");
	roost_msg_t *held;
	roost_msg_t *aside;
	roost_msg_t *r;
	uint32_t want = 2;

	ck_assert_int_eq(roost_send_ex(c, roost_self(s), 1, 0, 55, "one", 3,
	                               0), 0);
	ck_assert_int_eq(roost_send_ex(c, roost_self(s), 2, 0, 0, "two", 3, 0),
	                 0);
	ck_assert_int_eq(roost_recv(s, &held, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(held), 1);
	/* Any message: never the one in hand. */
	ck_assert_int_eq(roost_recv_aside(s, &aside, ROOST_LANE_USER, NULL, NULL,
	                                  0), 0);
	ck_assert_uint_eq(roost_msg_kind(aside), 2);
	ck_assert_int_eq(roost_send_ex(c, roost_self(s), 2, 0, 0, "two", 3, 0),
	                 0);
	ck_assert_int_eq(roost_recv_aside(s, &aside, ROOST_LANE_USER, kind_is,
	                                  &want, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(aside), 2);
	ck_assert_int_eq(memcmp(roost_msg_data(aside), "two", 3), 0);
	/* The one in hand is untouched and can still be answered. */
	ck_assert_uint_eq(roost_msg_kind(held), 1);
	ck_assert_int_eq(memcmp(roost_msg_data(held), "one", 3), 0);
	ck_assert_int_eq(roost_reply(s, held, 9, 0, "ok", 2), 0);
	ck_assert_int_eq(roost_recv(c, &r, 0), 0);
	ck_assert_uint_eq(roost_msg_corr(r), 55);
	ck_assert(roost_msg_flags(r) & ROOST_MSG_REPLY);
	/* Both were consumed: nothing left. */
	ck_assert_int_eq(roost_recv(s, &held, 0), -EAGAIN);
	ck_assert_int_eq(roost_recv_aside(s, &aside, ROOST_LANE_ANY, NULL, NULL,
	                                  0), -EAGAIN);
	ck_assert_int_eq(roost_recv_aside(s, &aside, 0, NULL, NULL, 0), -EINVAL);
	roost_ctx_close(s);
	roost_ctx_close(c);
}
END_TEST

static Suite *
call_suite(void)
{
	Suite *s = suite_create("call");

	suite_add_tcase(s, tu_tcase("call_reply", test_call_reply, 60));
	suite_add_tcase(s, tu_tcase("call_backlog", test_call_with_backlog,
	                            120));
	suite_add_tcase(s, tu_tcase("recv_aside", test_recv_aside, 30));
	suite_add_tcase(s, tu_tcase("call_in_hand",
	                            test_call_keeps_message_in_hand, 60));
	return s;
}

int
main(void)
{
	return tu_run(call_suite());
}
