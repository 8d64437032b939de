/* SPDX-License-Identifier: MIT */
/*
 * check_roostd.c - the real roostd binary against real actor processes:
 * spawn from a config, SIGKILL-style crash and restart with the same
 * address and no lost mail, shutdown on SIGTERM with nothing left in
 * /dev/shm, one roostd per system, a crash loop hitting the restart
 * intensity, one test per class of bad config, and a SIGTERM at once
 * after start.
 */
#include "roostd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_roostd_restart_keeps_address)
{
	roost_ctx_t *ctx;
	roost_aid_t echo;
	roost_aid_t again;
	roost_msg_t *m;
	pid_t rd;
	uint32_t i;

	ru_setup_names();
	ru_write_config("[system]\nslots = 16\nmailbox_bytes = 65536\n\n"
	             "[actor echo]\nprogram = %s\nrestart = permanent\n"
	             "shutdown_timeout_ms = 500\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_send(ctx, echo, KIND_ECHO, "a", 1, 1000), 0);
	ck_assert_int_eq(roost_recv(ctx, &m, TU_PATIENCE_MS), 0);
	ck_assert_uint_eq(roost_msg_kind(m), KIND_REPLY);
	/* It aborts on CRASH; the echoes queued behind it must survive. */
	ck_assert_int_eq(roost_send(ctx, echo, KIND_CRASH, NULL, 0, 1000), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(roost_send_ex(ctx, echo, KIND_ECHO, 0, 10 + i,
		                               NULL, 0, 1000), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(roost_recv(ctx, &m, TU_PATIENCE_MS), 0);
		ck_assert_uint_eq(roost_msg_kind(m), KIND_REPLY);
		ck_assert_uint_eq(roost_msg_corr(m), 10 + i);
	}
	ck_assert_int_eq(roost_whereis(ctx, "echo", &again), 0);
	ck_assert(roost_aid_eq(again, echo));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

/* Shutdown with a backlog: the actor is stopped gracefully and answers
 * every request queued before the stop, in order, before it exits. */
#define BACKLOG 50000

START_TEST(test_roostd_shutdown_drains_backlog)
{
	roost_ctx_t *ctx;
	roost_aid_t echo;
	roost_msg_t *m;
	pid_t rd;
	uint64_t i;

	ru_setup_names();
	/* BACKLOG records of 48 bytes: our private lane, a quarter of a
	 * 16 MiB mailbox, holds them. */
	ru_write_config("[actor echo]\nprogram = %s\nmailbox_bytes = 16777216\n"
	                "shutdown_timeout_ms = 20000\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_send(ctx, echo, KIND_SLEEP, NULL, 0, 1000), 0);
	for (i = 0; i < BACKLOG; i++)
		ck_assert_int_eq(roost_send_ex(ctx, echo, KIND_ECHO, 0, i, NULL, 0,
		                               1000), 0);
	kill(rd, SIGTERM); /* while it sleeps on the first message */
	/* Our system lane is small: take the answers as they come. */
	for (i = 0; i < BACKLOG; i++) {
		ck_assert_int_eq(roost_recv(ctx, &m, TU_PATIENCE_MS), 0);
		ck_assert_uint_eq(roost_msg_kind(m), KIND_REPLY);
		ck_assert_uint_eq(roost_msg_corr(m), i);
	}
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(roost_recv(ctx, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_send(ctx, echo, KIND_ECHO, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

START_TEST(test_roostd_one_per_system)
{
	char err[1024];
	roost_ctx_t *ctx;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor echo]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	ck_assert_int_eq(ru_run_roostd(err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "already run by another roostd") != NULL, "%s", err);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

START_TEST(test_roostd_crash_loop_gives_up)
{
	char err[4096];

	ru_setup_names();
	/* /bin/false exits 1 at once, forever. */
	ru_write_config("[actor loop]\nprogram = /bin/false\n; %s unused\n");
	ck_assert_int_eq(ru_run_roostd(err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "more than 5 restarts in 10 s: stopping the system") != NULL, "%s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

START_TEST(test_roostd_bad_configs)
{
	static const struct {
		const char *body;
		const char *expect;
	} cases[] = {
		{"[system]\nslotz = 4\n", ":2: unknown key 'slotz'"},
		{"[system]\nslots = 0\n", ":2: bad value '0' for slots"},
		{"[system]\nslots = 12abc\n", ":2: bad value"},
		{"[system]\nmailbox_bytes = 99\n", ":2: bad value"},
		{"[galaxy]\nx = 1\n", ":2: unknown section [galaxy]"},
		{"[actor a]\nprogram = relative/path\n", "absolute path"},
		{"[actor a]\nprogram = /bin/true\nrestart = sometimes\n",
		 ":3: bad restart 'sometimes'"},
		{"[actor a]\nprogram = /bin/true\n[actor b]\nprogram = /bin/true\n"
		 "[actor a]\nprogram = /bin/true\n", ":6: actor 'a' defined twice"},
		{"[actor a]\nargs = x\n", "actor 'a' has no program"},
		{"[actor bad name]\nprogram = /bin/true\n", "bad actor name"},
		{"no section here\n", ":1: syntax error"},
	};
	char err[1024];
	size_t i;

	ru_setup_names();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ru_write_config(cases[i].body);
		ck_assert_int_eq(ru_run_roostd(err, sizeof(err)), 2);
		ck_assert_msg(strstr(err, cfgpath) != NULL &&
		                      strstr(err, cases[i].expect) != NULL,
		              "case %zu: got '%s'", i, err);
		ck_assert_int_eq(tu_shm_count(rsys), 0);
	}
	ru_cleanup();
	snprintf(cfgpath, sizeof(cfgpath), "/nonexistent/roostd.ini");
	ck_assert_int_eq(ru_run_roostd(err, sizeof(err)), 2);
	ck_assert_msg(strstr(err, "cannot open") != NULL, "%s", err);
}
END_TEST

START_TEST(test_roostd_policies_and_kill_escalation)
{
	char err[8192];
	roost_ctx_t *ctx;
	roost_aid_t once;
	roost_aid_t temp;
	uint64_t ref;
	int p[2];
	pid_t rd;

	ru_setup_names();
	/* transient + normal exit, temporary + failure: neither restarts;
	 * the stubborn actor ignores the stop and SIGTERM: SIGKILL. (A
	 * program that ends before it attaches is check_supervise's
	 * never_attached.) */
	ru_write_config("[actor stubborn]\nprogram = %s\nargs = --stubborn\n"
	             "shutdown_timeout_ms = 200\n"
	             "[actor once]\nprogram = %s\nrestart = transient\n"
	             "[actor temp]\nprogram = %s\nrestart = temporary\n");
	ck_assert_int_eq(pipe(p), 0);
	rd = ru_start_roostd(p[1]);
	close(p[1]);
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "stubborn", TU_PATIENCE_MS);
	once = tu_whereis_wait(ctx, "once", TU_PATIENCE_MS);
	temp = tu_whereis_wait(ctx, "temp", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_monitor(ctx, once, &ref), 0);
	ck_assert_int_eq(roost_monitor(ctx, temp, &ref), 0);
	ck_assert_int_eq(roost_send(ctx, once, KIND_QUIT, NULL, 0, 1000), 0);
	ck_assert_int_eq(roost_send(ctx, temp, KIND_CRASH, NULL, 0, 1000), 0);
	ru_take_kind(ctx, ROOST_KIND_DOWN, TU_PATIENCE_MS);
	ru_take_kind(ctx, ROOST_KIND_DOWN, TU_PATIENCE_MS);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ru_slurp(p[0], err, sizeof(err));
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_msg(strstr(err, "once exited with status 0\n") != NULL, "%s",
	              err);
	ck_assert_msg(strstr(err, "temp killed by signal") != NULL, "%s",
	              err);
	ck_assert_msg(strstr(err, "restarting") == NULL, "%s", err);
	ck_assert_msg(strstr(err, "stubborn did not stop in 200 ms: SIGTERM") !=
	                      NULL, "%s", err);
	ck_assert_msg(strstr(err, "stubborn did not stop in 200 ms: SIGKILL") !=
	                      NULL, "%s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

/*
 * A SIGTERM sent as soon as roostd is forked, again and again: each ends
 * in an orderly shutdown (exit 0, nothing left in /dev/shm, no actor
 * left running). ru_start_roostd hands roostd SIGTERM blocked (the only
 * way to cover the time before its main); roostd must unblock it once
 * its handlers are in. Some rounds wait a little first, so the signal
 * also lands in the config read, the start-up and the loop.
 */
START_TEST(test_roostd_sigterm_at_start)
{
	char lock[128];
	int status;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[actor echo]\nprogram = %s\n");
	/* A leftover actor would be reparented to us: waitpid sees it. */
	ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	snprintf(lock, sizeof(lock), "/dev/shm/roost.%u.%s~lock",
	         (unsigned)geteuid(), rsys);
	for (i = 0; i < 40; i++) {
		rd = ru_start_roostd(-1);
		if (i % 2 == 1)
			usleep((useconds_t)(i * 100));
		ck_assert_int_eq(kill(rd, SIGTERM), 0);
		ck_assert_msg(tu_wait(rd, TU_PATIENCE_MS) == 0,
		              "round %d: roostd did not shut down cleanly", i);
		ck_assert_int_eq(tu_shm_count(rsys), 0);
		ck_assert_int_ne(access(lock, F_OK), 0);
		ck_assert_int_eq(waitpid(-1, &status, WNOHANG), -1);
		ck_assert_int_eq(errno, ECHILD);
	}
	ru_cleanup();
}
END_TEST

static Suite *
roostd_suite(void)
{
	Suite *s = suite_create("roostd");

	suite_add_tcase(s, tu_tcase("test_roostd_restart_keeps_address",
	                            test_roostd_restart_keeps_address, 60));
	suite_add_tcase(s, tu_tcase("test_roostd_shutdown_drains_backlog",
	                            test_roostd_shutdown_drains_backlog, 60));
	suite_add_tcase(s, tu_tcase("test_roostd_one_per_system",
	                            test_roostd_one_per_system, 60));
	suite_add_tcase(s, tu_tcase("test_roostd_crash_loop_gives_up",
	                            test_roostd_crash_loop_gives_up, 60));
	suite_add_tcase(s, tu_tcase("test_roostd_bad_configs",
	                            test_roostd_bad_configs, 60));
	suite_add_tcase(s, tu_tcase("test_roostd_policies_and_kill_escalation",
	                            test_roostd_policies_and_kill_escalation, 60));
	suite_add_tcase(s, tu_tcase("test_roostd_sigterm_at_start",
	                            test_roostd_sigterm_at_start, 120));
	return s;
}

int
main(void)
{
	return tu_run(roostd_suite());
}
