/* SPDX-License-Identifier: MIT */
/*
 * check_run.c - roost_run (handlers over private state, graceful stop
 * and completion with the backlog handled, unknown kinds dead-lettered
 * and counted, errors, interrupts) and the MessagePack helpers (format
 * strings, field readers, malformed input).
 */
#include "test_util.h"

#include <signal.h>
#include <unistd.h>

enum { K_INC = 1, K_GET = 2, K_DONE = 3, K_FAIL = 4, K_ODD = 99,
       K_VALUE = 10 };

struct counter {
	int64_t ct_value;
	int ct_inits;
	int ct_stop_reason;
};

static int
on_inc(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct counter *c = state;
	int64_t by;

	(void)ctx;
	if (roost_msg_get_int(m, "by", &by) != 0)
		return -EPROTO;
	c->ct_value += by;
	return ROOST_CONTINUE;
}

static int
on_get(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	struct counter *c = state;

	return roost_reply_packed(ctx, m, K_VALUE, "{s:I}", "value",
	                          c->ct_value) < 0 ? -EIO : ROOST_CONTINUE;
}

static int
on_done(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	(void)ctx, (void)state, (void)m;
	return ROOST_COMPLETE;
}

static int
on_fail(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	(void)ctx, (void)state, (void)m;
	return -ENOTRECOVERABLE;
}

static int
counter_init(roost_ctx_t *ctx, void *state)
{
	(void)ctx;
	((struct counter *)state)->ct_inits++;
	return 0;
}

static void
counter_stop(roost_ctx_t *ctx, void *state, int reason)
{
	(void)ctx;
	((struct counter *)state)->ct_stop_reason = reason;
}

static const roost_handler_t counter_handlers[] = {
	{K_INC, on_inc},
	{K_GET, on_get},
	{K_DONE, on_done},
	{K_FAIL, on_fail},
	{0, NULL},
};

static const roost_behaviour_t counter = {
	.init = counter_init,
	.stop = counter_stop,
	.handlers = counter_handlers,
};

/* The counter actor; exit status: 0 graceful, 10 + -error otherwise.
 * Its final state goes to shared memory for the test to check. */
static int
counter_main(void *arg)
{
	struct counter *c = arg;
	roost_ctx_t *ctx = tu_open("counter");
	int rc = roost_run(ctx, &counter, c);

	roost_ctx_close(ctx);
	return rc == 0 ? 0 : 10 + (-rc % 200);
}

static int64_t
get_value(roost_ctx_t *ctx, roost_aid_t to)
{
	roost_msg_t *r;
	int64_t v;

	ck_assert_int_eq(roost_call_packed(ctx, to, K_GET, 5000, &r, "n"), 0);
	ck_assert_uint_eq(roost_msg_kind(r), K_VALUE);
	ck_assert(roost_msg_flags(r) & ROOST_MSG_MSGPACK);
	ck_assert_int_eq(roost_msg_get_int(r, "value", &v), 0);
	return v;
}

START_TEST(test_run_stop_drains_and_unknown_kinds)
{
	struct counter *c = tu_shared_alloc(sizeof(*c));
	roost_ctx_t *ctx = tu_open("client");
	roost_ctx_t *dead = tu_open("deadletters");
	roost_aid_t cnt;
	roost_msg_t *m;
	int64_t v;
	pid_t pid;
	int i;

	pid = tu_fork(counter_main, c);
	cnt = tu_whereis_wait(ctx, "counter", 5000);
	for (i = 0; i < 1000; i++)
		ck_assert_int_eq(roost_send_packed(ctx, cnt, K_INC, 1000, "{s:i}",
		                                   "by", 2), 0);
	ck_assert_int_eq(get_value(ctx, cnt), 2000);
	/* An unknown kind: dead-lettered with who it was for. */
	ck_assert_int_eq(roost_send(ctx, cnt, K_ODD, "?", 1, 1000), 0);
	ck_assert_int_eq(roost_recv(dead, &m, 5000), 0);
	ck_assert_uint_eq(roost_msg_kind(m), K_ODD);
	ck_assert_int_eq(roost_msg_get_int(m, "to", &v), 0);
	ck_assert_uint_eq((uint64_t)v, cnt.id);
	/* A backlog, then a stop: all of it is handled first. */
	for (i = 0; i < 500; i++)
		ck_assert_int_eq(roost_send_packed(ctx, cnt, K_INC, 1000, "{s:i}",
		                                   "by", 1), 0);
	ck_assert_int_eq(roost_stop(ctx, cnt), 0);
	/* Refused: shut, or already closed if it was that quick. */
	i = roost_send_packed(ctx, cnt, K_INC, 0, "{s:i}", "by", 1);
	ck_assert_msg(i == -ESHUTDOWN || i == -ESRCH, "%d", i);
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	ck_assert_int_eq(c->ct_value, 2500);
	ck_assert_int_eq(c->ct_inits, 1);
	ck_assert_int_eq(c->ct_stop_reason, 0);
	roost_ctx_close(dead);
	roost_ctx_close(ctx);
}
END_TEST

START_TEST(test_run_complete_and_errors)
{
	struct counter *c = tu_shared_alloc(sizeof(*c));
	roost_ctx_t *ctx = tu_open("client");
	roost_aid_t cnt;
	pid_t pid;
	int i;

	/* COMPLETE shuts the lane at once; what came before is handled. */
	pid = tu_fork(counter_main, c);
	cnt = tu_whereis_wait(ctx, "counter", 5000);
	ck_assert_int_eq(roost_send(ctx, cnt, 7000, NULL, 0, 1000), 0);
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(roost_send_packed(ctx, cnt, K_INC, 1000, "{s:i}",
		                                   "by", 1), 0);
	ck_assert_int_eq(roost_send(ctx, cnt, K_DONE, NULL, 0, 1000), 0);
	for (i = 0; i < 5; i++)
		roost_send_packed(ctx, cnt, K_INC, 1000, "{s:i}", "by", 100);
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	ck_assert_int_lt(c->ct_value, 1000); /* sends after COMPLETE refused */
	ck_assert_int_ge(c->ct_value, 10);
	/* A handler error ends the run with it, through the stop hook. */
	memset(c, 0, sizeof(*c));
	pid = tu_fork(counter_main, c);
	cnt = tu_whereis_wait(ctx, "counter", 5000);
	ck_assert_int_eq(roost_send(ctx, cnt, K_FAIL, NULL, 0, 1000), 0);
	ck_assert_int_eq(tu_wait(pid, 10000), 10 + ENOTRECOVERABLE);
	ck_assert_int_eq(c->ct_stop_reason, -ENOTRECOVERABLE);
	roost_ctx_close(ctx);
}
END_TEST

static roost_ctx_t *alarm_ctx;

static void
on_alarm(int sig)
{
	(void)sig;
	roost_ctx_interrupt(alarm_ctx);
}

START_TEST(test_run_interrupted)
{
	static const roost_behaviour_t idle = {.handlers = NULL};
	struct counter c;

	alarm_ctx = tu_open("idle");
	signal(SIGALRM, on_alarm);
	ualarm(50000, 0);
	ck_assert_int_eq(roost_run(alarm_ctx, &idle, &c), -EINTR);
	roost_ctx_close(alarm_ctx);
}
END_TEST

/* Receive what was just sent to ourselves. */
static roost_msg_t *
loopback(roost_ctx_t *ctx, const void *data, size_t size, uint32_t flags)
{
	roost_msg_t *m;

	ck_assert_int_eq(roost_send_ex(ctx, roost_self(ctx), 1, flags, 0, data,
	                               size, 0), 0);
	ck_assert_int_eq(roost_recv(ctx, &m, 0), 0);
	return m;
}

START_TEST(test_pack_and_read)
{
	roost_ctx_t *ctx = tu_open(NULL);
	uint8_t buf[512];
	char s[16];
	const void *bin;
	size_t binlen;
	roost_msg_t *m;
	int64_t i;
	uint64_t u;
	double d;
	bool b;
	int n;

	n = roost_pack(buf, sizeof(buf), "{s:i, s:I, s:U, s:d, s:b, s:s, "
	               "s:y, s:n, s:[i,i,{s:s}]}", "i", -5, "I",
	               -(INT64_C(1) << 40), "U", UINT64_MAX, "d", 2.5, "b", 1,
	               "s", "hello", "y", "\x01\x02\x03", (size_t)3, "n",
	               "a", 1, 2, "k", "v");
	ck_assert_int_gt(n, 0);
	m = loopback(ctx, buf, (size_t)n, ROOST_SEND_MSGPACK);
	ck_assert_int_eq(roost_msg_get_int(m, "i", &i), 0);
	ck_assert_int_eq(i, -5);
	ck_assert_int_eq(roost_msg_get_int(m, "I", &i), 0);
	ck_assert_int_eq(i, -(INT64_C(1) << 40));
	ck_assert_int_eq(roost_msg_get_uint(m, "U", &u), 0);
	ck_assert_uint_eq(u, UINT64_MAX);
	ck_assert_int_eq(roost_msg_get_int(m, "U", &i), -ERANGE);
	ck_assert_int_eq(roost_msg_get_uint(m, "i", &u), -ERANGE);
	ck_assert_int_eq(roost_msg_get_double(m, "d", &d), 0);
	ck_assert(d == 2.5);
	ck_assert_int_eq(roost_msg_get_bool(m, "b", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(roost_msg_get_str(m, "s", s, sizeof(s)), 0);
	ck_assert_str_eq(s, "hello");
	ck_assert_int_eq(roost_msg_get_str(m, "s", s, 5), -ENOBUFS);
	ck_assert_int_eq(roost_msg_get_bin(m, "y", &bin, &binlen), 0);
	ck_assert_uint_eq(binlen, 3);
	ck_assert_int_eq(memcmp(bin, "\x01\x02\x03", 3), 0);
	ck_assert_int_eq(roost_msg_get_int(m, "s", &i), ROOST_EPROTO);
	ck_assert_int_eq(roost_msg_get_int(m, "missing", &i), -ENOENT);
	/* Malformed formats. */
	ck_assert_int_eq(roost_pack(buf, sizeof(buf), "{s}", "k"), -EINVAL);
	ck_assert_int_eq(roost_pack(buf, sizeof(buf), "{i:i}", 1, 2), -EINVAL);
	ck_assert_int_eq(roost_pack(buf, sizeof(buf), "[i", 1), -EINVAL);
	ck_assert_int_eq(roost_pack(buf, sizeof(buf), "i]", 1), -EINVAL);
	ck_assert_int_eq(roost_pack(buf, sizeof(buf), "q"), -EINVAL);
	ck_assert_int_eq(roost_pack(buf, sizeof(buf), "i i", 1, 2), -EINVAL);
	ck_assert_int_eq(roost_pack(buf, 2, "s", "too long"), -ENOBUFS);
	/* Not a map, not flagged, not MessagePack at all. */
	n = roost_pack(buf, sizeof(buf), "[i]", 1);
	m = loopback(ctx, buf, (size_t)n, ROOST_SEND_MSGPACK);
	ck_assert_int_eq(roost_msg_get_int(m, "i", &i), ROOST_EPROTO);
	m = loopback(ctx, "plain", 5, 0);
	ck_assert_int_eq(roost_msg_get_int(m, "i", &i), ROOST_EPROTO);
	m = loopback(ctx, "\xde\xff\xff", 3, ROOST_SEND_MSGPACK);
	ck_assert_int_eq(roost_msg_get_int(m, "i", &i), ROOST_EPROTO);
	roost_ctx_close(ctx);
}
END_TEST

static Suite *
run_suite(void)
{
	Suite *s = suite_create("run");

	suite_add_tcase(s, tu_tcase("run_stop",
	                            test_run_stop_drains_and_unknown_kinds, 60));
	suite_add_tcase(s, tu_tcase("run_complete", test_run_complete_and_errors,
	                            60));
	suite_add_tcase(s, tu_tcase("run_interrupt", test_run_interrupted, 30));
	suite_add_tcase(s, tu_tcase("pack", test_pack_and_read, 30));
	return s;
}

int
main(void)
{
	return tu_run(run_suite());
}
