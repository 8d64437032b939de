/* SPDX-License-Identifier: MIT */
/*
 * check_supervise.c - roostd's API against the real daemon and real
 * actor processes: spawn requests and their exec errors, kill, graceful
 * stop, monitors and links, alarms (and their survival across restarts),
 * dead letters, one-shot actors, pools, group strategies and intensity
 * escalation, shutdown by request, daemon-flagged actors, and adoption
 * of a running system after roostd is killed with SIGKILL.
 */
#include "roostd_util.h"

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static roost_aid_t
spawn_echo(roost_ctx_t *ctx, const char *name, const char *const *argv)
{
	roost_spawn_opts_t o;
	roost_aid_t aid;

	roost_spawn_opts_init(&o);
	o.program = ECHO_BIN;
	o.argv = argv;
	o.name = name;
	o.shutdown_ms = 1000;
	ck_assert_int_eq(roost_spawn(ctx, &o, &aid), 0);
	return aid;
}

static roost_notice_t
take_notice(roost_ctx_t *ctx, uint32_t kind)
{
	roost_msg_t *m = ru_take_kind(ctx, kind, TU_PATIENCE_MS);
	roost_notice_t n;

	ck_assert_int_eq(roost_notice_decode(m, &n), 0);
	return n;
}

static void
echo_ok(roost_ctx_t *ctx, roost_aid_t aid)
{
	ck_assert_int_gt(ru_echo_pid(ctx, aid), 0);
}

START_TEST(test_spawn_requests)
{
	const char *const args[] = {ECHO_BIN, NULL};
	roost_spawn_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t aid;
	roost_aid_t found;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\nslots = 32\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	aid = spawn_echo(ctx, "sp", args);
	ck_assert_int_eq(roost_whereis(ctx, "sp", &found), 0);
	ck_assert(roost_aid_eq(aid, found));
	echo_ok(ctx, aid);
	roost_spawn_opts_init(&o);
	o.program = "/nonexistent/program";
	ck_assert_int_eq(roost_spawn(ctx, &o, &found), -ENOENT);
	o.program = "/etc/passwd";
	ck_assert_int_eq(roost_spawn(ctx, &o, &found), -EACCES);
	o.program = "relative";
	ck_assert_int_eq(roost_spawn(ctx, &o, &found), -EINVAL);
	o.program = ECHO_BIN;
	o.name = "sp";
	ck_assert_int_eq(roost_spawn(ctx, &o, &found), -EADDRINUSE);
	/* A program that never attaches: it exits first. */
	o.program = "/bin/true";
	o.name = NULL;
	ck_assert_int_eq(roost_spawn(ctx, &o, &found), -ECHILD);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A group is granted access: spawn requests run only the config's
 * programs, and the objects are group-readable (0660). */
START_TEST(test_group_access_spawn)
{
	const char *const args[] = {ECHO_BIN, NULL};
	roost_spawn_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t aid;
	char path[160];
	struct stat st;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\ngroup = root\n[actor echo]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	snprintf(path, sizeof(path), "/dev/shm/roost.%u.%s", (unsigned)geteuid(),
	         rsys);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	aid = spawn_echo(ctx, "again", args);
	echo_ok(ctx, aid);
	roost_spawn_opts_init(&o);
	o.program = "/bin/sleep";
	ck_assert_int_eq(roost_spawn(ctx, &o, &aid), -EPERM);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_monitor_link_kill_stop)
{
	roost_ctx_t *ctx;
	roost_aid_t a, b;
	roost_notice_t n;
	uint64_t ref;
	int32_t pid;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor a]\nprogram = %s\n[actor b]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	a = tu_whereis_wait(ctx, "a", TU_PATIENCE_MS);
	b = tu_whereis_wait(ctx, "b", TU_PATIENCE_MS);
	pid = ru_echo_pid(ctx, a);
	ck_assert_int_eq(roost_monitor(ctx, a, &ref), 0);
	ck_assert_int_eq(roost_link(ctx, a), 0);
	/* A crash: both notices, restarting; the address lives on. */
	ck_assert_int_eq(roost_send(ctx, a, KIND_CRASH, NULL, 0, 1000), 0);
	n = take_notice(ctx, ROOST_KIND_DOWN);
	ck_assert_uint_eq(n.ref, ref);
	ck_assert(roost_aid_eq(n.aid, a));
	ck_assert_int_eq(n.reason, ROOST_EXIT_SIGNAL);
	ck_assert_int_eq(n.signal, SIGABRT);
	ck_assert_int_eq(n.pid, pid);
	ck_assert_str_eq(n.name, "a");
	ck_assert(n.restarting);
	n = take_notice(ctx, ROOST_KIND_EXIT);
	ck_assert_uint_eq(n.ref, 0);
	ck_assert(n.restarting);
	ck_assert_int_ne(ru_echo_pid(ctx, a), pid);
	/* Demonitor and unlink: the kill is seen by neither. */
	ck_assert_int_eq(roost_demonitor(ctx, ref), 0);
	ck_assert_int_eq(roost_demonitor(ctx, ref), -ENOENT);
	ck_assert_int_eq(roost_unlink(ctx, a), 0);
	ck_assert_int_eq(roost_monitor(ctx, b, &ref), 0);
	ck_assert_int_eq(roost_kill(ctx, a), 0);
	/* Kill is for good: the address goes stale. */
	while (roost_send(ctx, a, KIND_ECHO, NULL, 0, 0) != -ESRCH)
		usleep(5000);
	ck_assert_int_eq(roost_kill(ctx, a), -ESRCH);
	ck_assert_int_eq(roost_kill(ctx, roost_self(ctx)), -EPERM);
	/* A graceful stop of b: exit 0, not restarted although permanent. */
	ck_assert_int_eq(roost_stop(ctx, b), 0);
	n = take_notice(ctx, ROOST_KIND_DOWN);
	ck_assert(roost_aid_eq(n.aid, b));
	ck_assert_int_eq(n.reason, ROOST_EXIT_STOPPED);
	ck_assert_int_eq(n.status, 0);
	ck_assert(!n.restarting);
	ck_assert_int_eq(roost_recv(ctx, &(roost_msg_t *){NULL}, 100),
	                 -ETIMEDOUT);
	ck_assert_int_eq(roost_monitor(ctx, a, &ref), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_alarms)
{
	static const char big[ROOST_TIMER_DATA_MAX + 1];
	roost_ctx_t *ctx;
	roost_msg_t *m;
	uint64_t id;
	uint64_t t0;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[system]\nslots = 8\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	t0 = roost__plat_now_ns();
	ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx), 30000, 1234,
	                                  "hi", 2, &id), 0);
	ck_assert_uint_ne(id, 0);
	m = ru_take_kind(ctx, 1234, TU_PATIENCE_MS);
	ck_assert_uint_ge(roost__plat_now_ns() - t0, 30000000u);
	ck_assert_uint_eq(roost_msg_size(m), 2);
	ck_assert_int_eq(memcmp(roost_msg_data(m), "hi", 2), 0);
	ck_assert_int_eq(roost_timer_cancel(ctx, id), -ENOENT); /* fired */
	ck_assert_int_eq(roost_send_interval(ctx, roost_self(ctx), 0, 10000,
	                                     1235, NULL, 0, &id), 0);
	for (i = 0; i < 5; i++)
		ru_take_kind(ctx, 1235, TU_PATIENCE_MS);
	ck_assert_int_eq(roost_timer_cancel(ctx, id), 0);
	while (roost_recv(ctx, &m, 0) == 0)
		; /* a tick may have been queued before the cancel */
	ck_assert_int_eq(roost_recv(ctx, &m, 100), -ETIMEDOUT);
	ck_assert_int_eq(roost_timer_cancel(ctx, id), -ENOENT);
	ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx), 0, 1, big,
	                                  sizeof(big), &id), -EMSGSIZE);
	ck_assert_int_eq(roost_send_after(ctx, (roost_aid_t){(7ull << 32) | 5},
	                                  0, 1, NULL, 0, &id), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Alarms target the mailbox: they outlive a crash of the target, and
 * die when it is killed for good. */
START_TEST(test_alarm_survives_restart)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t echo;
	roost_msg_t *m;
	uint64_t id;
	int32_t pid;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[actor echo]\nprogram = %s\nargs = --forward client\n");
	rd = ru_start_roostd(-1);
	ru_wait_up();
	roost_ctx_opts_init(&o);
	o.system = rsys;
	o.name = "client";
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	pid = ru_echo_pid(ctx, echo);
	ck_assert_int_eq(roost_send_interval(ctx, echo, 0, 20000, 1001, "t", 1,
	                                     &id), 0);
	ru_take_kind(ctx, 1001, TU_PATIENCE_MS);
	ck_assert_int_eq(roost_send(ctx, echo, KIND_CRASH, NULL, 0, 1000), 0);
	ck_assert_int_ne(ru_echo_pid(ctx, echo), pid);
	for (i = 0; i < 3; i++)
		ru_take_kind(ctx, 1001, TU_PATIENCE_MS);
	ck_assert_int_eq(roost_kill(ctx, echo), 0);
	while (roost_send(ctx, echo, KIND_ECHO, NULL, 0, 0) != -ESRCH)
		usleep(5000);
	while (roost_recv(ctx, &m, 0) == 0)
		;
	ck_assert_int_eq(roost_recv(ctx, &m, 200), -ETIMEDOUT);
	ck_assert_int_eq(roost_timer_cancel(ctx, id), -ENOENT);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A message that kills its actor twice goes to the dead letters; the
 * mail behind it is answered. */
START_TEST(test_dead_letter)
{
	roost_mbox_stats_t st;
	roost_ctx_t *ctx;
	roost_aid_t echo;
	roost_aid_t dead;
	roost_msg_t *m;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor echo]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	dead = tu_whereis_wait(ctx, "deadletters", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_send(ctx, echo, KIND_POISON, "xyz", 3, 1000), 0);
	ck_assert_int_eq(roost_send_ex(ctx, echo, KIND_ECHO, 0, 42, NULL, 0,
	                               1000), 0);
	m = ru_take_kind(ctx, KIND_REPLY, TU_PATIENCE_MS);
	ck_assert_uint_eq(roost_msg_corr(m), 42);
	ck_assert_int_eq(roost_mbox_stats(ctx, dead, &st), 0);
	ck_assert_uint_eq(st.queued, 1);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

struct oneshot_arg {
	roost_aid_t oa_parent;
};

static int
oneshot_job(roost_ctx_t *ctx, void *arg)
{
	struct oneshot_arg *oa = arg;
	roost_msg_t *m;

	/* Wait for the go, so the parent can monitor us first. */
	if (roost_recv(ctx, &m, TU_PATIENCE_MS) < 0)
		return 9;
	roost_send(ctx, oa->oa_parent, 77, "done", 4, 1000);
	return 3;
}

static int
oneshot_forever(roost_ctx_t *ctx, void *arg)
{
	roost_msg_t *m;

	(void)arg;
	for (;;)
		roost_recv(ctx, &m, -1); /* ignores even a stop */
	return 0;
}

START_TEST(test_oneshot)
{
	struct oneshot_arg oa;
	roost_ctx_t *ctx;
	roost_notice_t n;
	roost_aid_t job;
	roost_aid_t daemon;
	roost_msg_t *m;
	uint64_t ref;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\nslots = 16\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	oa.oa_parent = roost_self(ctx);
	ck_assert_int_eq(roost_spawn_fn(ctx, oneshot_job, &oa, "job", 0, &job),
	                 0);
	ck_assert_int_eq(roost_monitor(ctx, job, &ref), 0);
	ck_assert_int_eq(roost_send(ctx, job, 1, NULL, 0, 1000), 0);
	m = ru_take_kind(ctx, 77, TU_PATIENCE_MS);
	ck_assert(roost_aid_eq(roost_msg_from(m), job));
	n = take_notice(ctx, ROOST_KIND_DOWN);
	ck_assert(roost_aid_eq(n.aid, job));
	ck_assert_int_eq(n.reason, ROOST_EXIT_EXIT);
	ck_assert_int_eq(n.status, 3);
	ck_assert(!n.restarting);
	/* A daemon one-shot that ignores stops: shutdown does not wait. */
	ck_assert_int_eq(roost_spawn_fn(ctx, oneshot_forever, NULL, "forever",
	                                ROOST_SPAWN_DAEMON, &daemon), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	/* Killed at once: no graceful stop waited out, no escalation. */
	ck_assert_msg(!ru_log_has("did not stop"), "a daemon one-shot was "
	              "waited for");
	ck_assert_msg(ru_log_has("one-shot forever"), "not watched");
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

START_TEST(test_pool_and_shutdown_request)
{
	roost_mbox_stats_t st;
	roost_notice_t n;
	uint64_t ref;
	char err[8192];
	roost_ctx_t *ctx;
	int p[2];
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor w]\nprogram = %s\ncount = 3\n"
	                "mailbox_bytes = 2097152\n"
	                "[actor d]\nprogram = %s\nargs = --stubborn\n"
	                "daemon = true\nshutdown_timeout_ms = 20000\n");
	ck_assert_int_eq(pipe(p), 0);
	rd = ru_start_roostd(p[1]);
	close(p[1]);
	ctx = ru_open_when_up();
	echo_ok(ctx, tu_whereis_wait(ctx, "w.1", TU_PATIENCE_MS));
	echo_ok(ctx, tu_whereis_wait(ctx, "w.2", TU_PATIENCE_MS));
	echo_ok(ctx, tu_whereis_wait(ctx, "w.3", TU_PATIENCE_MS));
	/* The config's mailbox size reached the actor (ROOST_MBOX_BYTES). */
	ck_assert_int_eq(roost_mbox_stats(ctx, tu_whereis_wait(ctx, "w.2", 10),
	                                  &st), 0);
	/* 2 MiB shared, one private lane of 512 KiB (the default), the
	 * system lane (32 KiB). */
	ck_assert_uint_eq(st.capacity, 2097152 + 524288 + 32768);
	tu_whereis_wait(ctx, "d", TU_PATIENCE_MS);
	ck_assert_int_eq(roost_monitor(ctx, tu_whereis_wait(ctx, "w.1", 10),
	                               &ref), 0);
	ck_assert_int_eq(roost_shutdown(ctx), 0);
	/* Watchers hear of every actor the shutdown stops. */
	n = take_notice(ctx, ROOST_KIND_DOWN);
	ck_assert_int_eq(n.reason, ROOST_EXIT_SHUTDOWN);
	ck_assert_str_eq(n.name, "w.1");
	ck_assert_int_gt(n.pid, 0);
	ck_assert(!n.restarting);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_slurp(p[0], err, sizeof(err));
	/* The daemon-flagged stubborn actor is killed at once: no waiting
	 * out its 20 s timeout. */
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_msg(strstr(err, "did not stop") == NULL, "%s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

/* one_for_all restarts the group's siblings, not the top's actors;
 * rest_for_one restarts those started after the failed one. */
START_TEST(test_group_strategies)
{
	roost_ctx_t *ctx;
	roost_aid_t a, b, c, x, y, z;
	int32_t pa, pb, pc, px, py, pz;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[group all]\nstrategy = one_for_all\n"
	                "[group rest]\nstrategy = rest_for_one\n"
	                "[actor a]\nprogram = %s\ngroup = all\n"
	                "[actor b]\nprogram = %s\ngroup = all\n"
	                "[actor c]\nprogram = %s\n"
	                "[actor x]\nprogram = %s\ngroup = rest\norder = 1\n"
	                "[actor y]\nprogram = " ECHO_BIN "\ngroup = rest\norder = 2\n"
	                "[actor z]\nprogram = " ECHO_BIN "\ngroup = rest\norder = 3\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	a = tu_whereis_wait(ctx, "a", TU_PATIENCE_MS);
	b = tu_whereis_wait(ctx, "b", TU_PATIENCE_MS);
	c = tu_whereis_wait(ctx, "c", TU_PATIENCE_MS);
	x = tu_whereis_wait(ctx, "x", TU_PATIENCE_MS);
	y = tu_whereis_wait(ctx, "y", TU_PATIENCE_MS);
	z = tu_whereis_wait(ctx, "z", TU_PATIENCE_MS);
	pa = ru_echo_pid(ctx, a);
	pb = ru_echo_pid(ctx, b);
	pc = ru_echo_pid(ctx, c);
	px = ru_echo_pid(ctx, x);
	py = ru_echo_pid(ctx, y);
	pz = ru_echo_pid(ctx, z);
	ck_assert_int_eq(roost_send(ctx, a, KIND_CRASH, NULL, 0, 1000), 0);
	ck_assert_int_ne(ru_echo_pid(ctx, a), pa);
	ck_assert_int_ne(ru_echo_pid(ctx, b), pb);
	ck_assert_int_eq(ru_echo_pid(ctx, c), pc);
	ck_assert_int_eq(ru_echo_pid(ctx, x), px);
	ck_assert_int_eq(roost_send(ctx, y, KIND_CRASH, NULL, 0, 1000), 0);
	ck_assert_int_ne(ru_echo_pid(ctx, y), py);
	ck_assert_int_ne(ru_echo_pid(ctx, z), pz);
	ck_assert_int_eq(ru_echo_pid(ctx, x), px);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A group over its intensity stops and counts against the top; the top
 * over its own stops the system with exit 1. */
START_TEST(test_intensity_escalates)
{
	char err[16384];
	roost_ctx_t *ctx;
	roost_aid_t g;
	int p[2];
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[system]\nintensity = 1\nperiod = 60\n"
	                "[group grp]\nintensity = 1\nperiod = 60\n"
	                "[actor g]\nprogram = %s\ngroup = grp\n");
	ck_assert_int_eq(pipe(p), 0);
	rd = ru_start_roostd(p[1]);
	close(p[1]);
	ctx = ru_open_when_up();
	g = tu_whereis_wait(ctx, "g", TU_PATIENCE_MS);
	/* 1: within the group's intensity. 2: the group gives up, the top
	 * restarts it (its 1). 3: within the new group window. 4: the group
	 * gives up again, and the top is over its intensity. */
	for (i = 0; i < 4; i++) {
		echo_ok(ctx, g);
		ck_assert_int_eq(roost_send(ctx, g, KIND_CRASH, NULL, 0, 1000),
		                 0);
	}
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_slurp(p[0], err, sizeof(err));
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 1);
	ck_assert_msg(strstr(err, "group grp: more than 1 restarts in 60 s: "
	                          "stopping the group") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "top level: more than 1 restarts in 60 s: "
	                          "stopping the system") != NULL, "%s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

/* A program that exits 0 before it attaches (not an actor) is logged
 * as never attached and left down: no restart loop into the intensity
 * limit (here 1), and the rest of the system starts and runs. */
START_TEST(test_never_attached)
{
	roost_ctx_t *ctx;
	roost_aid_t echo;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[system]\nintensity = 1\nperiod = 60\n"
	                "[actor notanactor]\nprogram = /bin/true\n"
	                "restart = permanent\n"
	                "[actor echo]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	/* echo starts once notanactor has ended (start order). */
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	for (i = 0; i < 1000 && !ru_log_has("notanactor never attached"); i++)
		usleep(10000);
	ck_assert_msg(ru_log_has("notanactor never attached: it exited with "
	                         "status 0 before attaching; not restarted"),
	              "no 'never attached' in roostd's log");
	ck_assert(!ru_log_has("restarting"));
	echo_ok(ctx, echo);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* roostd killed with SIGKILL: the actors go on; a new roostd adopts
 * them, resumes the alarms and restarts what crashes afterwards. */
START_TEST(test_adoption)
{
	char err[16384];
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t echo;
	uint64_t id;
	int32_t pid;
	int p[2];
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor echo]\nprogram = %s\nargs = --forward client\n");
	rd = ru_start_roostd(-1);
	ru_wait_up();
	roost_ctx_opts_init(&o);
	o.system = rsys;
	o.name = "client";
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	pid = ru_echo_pid(ctx, echo);
	ck_assert_int_eq(roost_send_interval(ctx, echo, 0, 20000, 1002, NULL,
	                                     0, &id), 0);
	ru_take_kind(ctx, 1002, TU_PATIENCE_MS);
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 128 + SIGKILL);
	/* Messages still flow with no roostd. */
	ck_assert_int_eq(ru_echo_pid(ctx, echo), pid);
	ck_assert_int_eq(pipe(p), 0);
	rd = ru_start_roostd(p[1]);
	close(p[1]);
	ru_take_kind(ctx, 1002, TU_PATIENCE_MS); /* the alarm resumed */
	ck_assert_int_eq(ru_echo_pid(ctx, echo), pid);
	ck_assert_int_eq(roost_send(ctx, echo, KIND_CRASH, NULL, 0, 1000), 0);
	ck_assert_int_ne(ru_echo_pid(ctx, echo), pid); /* restarted */
	ck_assert_int_eq(roost_timer_cancel(ctx, id), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ru_slurp(p[0], err, sizeof(err));
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_msg(strstr(err, "adopting it") != NULL, "%s", err);
	ck_assert_msg(strstr(err, "1 actor(s) watched again") != NULL, "%s",
	              err);
	ck_assert_msg(strstr(err, "1 alarm(s) resumed") != NULL, "%s", err);
	/* Gone (a zombie of a non-reaping init counts as gone). */
	ck_assert(!roost__plat_proc_alive(pid, 0) &&
	          roost__plat_proc_start(pid, &(uint64_t){0}) < 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

/* Everything dead, roostd and actors, but the config's actors left
 * their mailboxes: a new roostd adopts the system and restarts them at
 * their addresses, so the mail queued meanwhile is handled. */
START_TEST(test_adoption_all_dead)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t echo, again;
	roost_msg_t *m;
	int32_t pid;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[actor echo]\nprogram = %s\nargs = --forward client\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	pid = ru_echo_pid(ctx, echo);
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 128 + SIGKILL);
	kill(pid, SIGKILL);
	for (i = 0; i < 5000 && roost__plat_proc_start(pid, &(uint64_t){0}) == 0;
	     i++)
		usleep(1000);
	/* Mail for the dead actor: its supervised mailbox still takes it. */
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(roost_send(ctx, echo, 1001 + i, NULL, 0, 1000),
		                 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0); /* no live process left */
	rd = ru_start_roostd(-1);
	ru_wait_up();
	roost_ctx_opts_init(&o);
	o.system = rsys;
	o.name = "client";
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(roost_recv(ctx, &m, TU_PATIENCE_MS), 0);
		ck_assert_uint_eq(roost_msg_kind(m), 1001 + i);
	}
	ck_assert_int_eq(roost_whereis(ctx, "echo", &again), 0);
	ck_assert(roost_aid_eq(again, echo));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A system whose roostd and actors are all dead is cleaned. */
static int
attach_and_die(void *arg)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;

	(void)arg;
	roost_ctx_opts_init(&o);
	o.system = rsys;
	o.name = "ghost";
	o.flags = ROOST_CTX_SUPERVISED;
	if (roost_ctx_open(&ctx, &o) < 0)
		return 1;
	_exit(0); /* without closing: the slot stays taken */
}

START_TEST(test_stale_system_cleaned)
{
	char err[8192];
	roost_ctx_t *ctx;
	int p[2];
	pid_t rd;
	int rc;

	ru_setup_names();
	ru_write_config("[system]\nslots = 8\n; %s\n");
	ck_assert_int_eq(roost_system_create(rsys, NULL), 0);
	ck_assert_int_eq(tu_wait(tu_fork(attach_and_die, NULL), TU_PATIENCE_MS), 0);
	ck_assert_int_gt(tu_shm_count(rsys), 1);
	ck_assert_int_eq(pipe(p), 0);
	rd = ru_start_roostd(p[1]);
	close(p[1]);
	ctx = ru_open_when_up();
	rc = roost_whereis(ctx, "ghost", &(roost_aid_t){0});
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ru_slurp(p[0], err, sizeof(err));
	ck_assert_msg(rc == -ENOENT, "%s", err);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_msg(strstr(err, "removing stale system") != NULL, "%s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

static Suite *
supervise_suite(void)
{
	Suite *s = suite_create("supervise");

	suite_add_tcase(s, tu_tcase("spawn", test_spawn_requests, 60));
	suite_add_tcase(s, tu_tcase("group_access", test_group_access_spawn,
	                            60));
	suite_add_tcase(s, tu_tcase("watch", test_monitor_link_kill_stop, 60));
	suite_add_tcase(s, tu_tcase("alarms", test_alarms, 60));
	suite_add_tcase(s, tu_tcase("alarm_restart",
	                            test_alarm_survives_restart, 60));
	suite_add_tcase(s, tu_tcase("dead_letter", test_dead_letter, 60));
	suite_add_tcase(s, tu_tcase("oneshot", test_oneshot, 60));
	suite_add_tcase(s, tu_tcase("pool", test_pool_and_shutdown_request,
	                            60));
	suite_add_tcase(s, tu_tcase("groups", test_group_strategies, 60));
	suite_add_tcase(s, tu_tcase("intensity", test_intensity_escalates, 60));
	suite_add_tcase(s, tu_tcase("never_attached", test_never_attached, 60));
	suite_add_tcase(s, tu_tcase("adoption", test_adoption, 60));
	suite_add_tcase(s, tu_tcase("adoption_all_dead",
	                            test_adoption_all_dead, 60));
	suite_add_tcase(s, tu_tcase("stale", test_stale_system_cleaned, 60));
	return s;
}

int
main(void)
{
	return tu_run(supervise_suite());
}
