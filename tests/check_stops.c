/* SPDX-License-Identifier: MIT */
/*
 * check_stops.c - roostd's loop goes on while actors take long to stop.
 *
 * The slow actors are echo actors started with --linger: a stop (STOP or
 * SIGTERM) renames the process "lingering" and sleeps for two minutes.
 * roostd's timeouts here are as long, so nothing ends a stop but the
 * test, which releases each lingering process with SIGKILL once it has
 * seen what it came for. Every wait is for a state (a process name in
 * /proc, an alarm, an answer), bounded by WAIT_MS only so that a broken
 * roostd fails the test instead of hanging it.
 */
#include "roostd_util.h"

#include <roost/view.h>

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define WAIT_MS 30000            /* upper bound of every wait for a state */
#define LINGER "120000"          /* a slow stop: 2 min, released early */
#define KIND_ALARM 1100          /* alarms the test sends itself */
#define POOL 3

/* /proc/PID/comm is 'name' (the process exists and is so named). */
static bool
comm_is(pid_t pid, const char *name)
{
	char path[64];
	char comm[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return false;
	if (fgets(comm, sizeof(comm), f) == NULL)
		comm[0] = '\0';
	fclose(f);
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, name) == 0;
}

/* True once every one of the 'n' processes is lingering in its stop. */
static bool
all_lingering(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		if (!comm_is(pids[i], "lingering"))
			return false;
	return true;
}

static void
wait_lingering(const pid_t *pids, int n)
{
	for (int i = 0; i < WAIT_MS / 5 && !all_lingering(pids, n); i++)
		usleep(5000);
	ck_assert_msg(all_lingering(pids, n), "not all %d stopping at once", n);
}

/* The process has ended (a zombie not reaped yet counts as ended). */
static bool
gone(pid_t pid)
{
	return roost__plat_proc_start(pid, &(uint64_t){0}) < 0;
}

static void
wait_gone(pid_t pid)
{
	for (int i = 0; i < WAIT_MS / 5 && !gone(pid); i++)
		usleep(5000);
	ck_assert_msg(gone(pid), "pid %d still there", (int)pid);
}

/* SIGKILL ends a lingering stop. */
static void
release(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_gone(pid);
}

/* roostd on 'config' (as ru_write_config() takes it), up; a context on
 * its system in '*ctx'. Returns roostd's pid. */
static pid_t
roostd_on(const char *config, roost_ctx_t **ctx)
{
	pid_t rd;

	ru_setup_names();
	ru_write_config(config);
	rd = ru_start_roostd(-1);
	*ctx = ru_open_when_up();
	return rd;
}

/* The address of the actor 'name' (waited for) and its process. */
static pid_t
actor_pid(roost_ctx_t *ctx, const char *name, roost_aid_t *aid)
{
	*aid = tu_whereis_wait(ctx, name, WAIT_MS);
	return ru_echo_pid(ctx, *aid);
}

static void
pool_pids(roost_ctx_t *ctx, const char *name, pid_t *pids)
{
	char member[32];

	for (int k = 0; k < POOL; k++) {
		snprintf(member, sizeof(member), "%s.%d", name, k + 1);
		pids[k] = ru_echo_pid(ctx, tu_whereis_wait(ctx, member, WAIT_MS));
	}
}

static int
count_timer(void *arg, const roost_timer_info_t *t)
{
	(void)t;
	(*(int *)arg)++;
	return 0;
}

/*
 * roostd is busy stopping the slow actors: an alarm armed now fires,
 * and requests to roostd (an alarm, its cancel, a spawn) are answered,
 * and the alarm shows in roostd's table as `roostctl timers` reads it,
 * while every one of 'pids' is still lingering. 'spawn_rc' is the
 * answer a spawn must get.
 */
static void
loop_serves(roost_ctx_t *ctx, const pid_t *pids, int n, int spawn_rc)
{
	const char *const args[] = {ECHO_BIN, NULL};
	roost_spawn_opts_t o;
	roost_view_t *v;
	roost_aid_t aid;
	uint64_t id;
	int timers = 0;

	ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx), 1000,
	                                  KIND_ALARM, NULL, 0, &id), 0);
	ru_take_kind(ctx, KIND_ALARM, WAIT_MS);
	ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx), 3600000000ull,
	                                  KIND_ALARM, NULL, 0, &id), 0);
	ck_assert_int_eq(roost_view_open(&v, rsys), 0);
	ck_assert_int_ge(roost_view_timers(v, count_timer, &timers), 1);
	roost_view_close(v);
	ck_assert_int_ge(timers, 1);
	ck_assert_int_eq(roost_timer_cancel(ctx, id), 0);
	roost_spawn_opts_init(&o);
	o.program = ECHO_BIN;
	o.argv = args;
	o.restart = ROOST_RESTART_TEMPORARY;
	ck_assert_int_eq(roost_spawn(ctx, &o, &aid), spawn_rc);
	if (spawn_rc == 0)
		ck_assert_int_gt(ru_echo_pid(ctx, aid), 0);
	/* All of that happened within the stops, not after them. */
	ck_assert(all_lingering(pids, n));
}

/* What the tools see of the actor 'name' (roostd's supervisor table
 * included). */
static roost_actor_info_t
actor_info(const char *name)
{
	roost_actor_info_t a;
	roost_view_t *v;
	roost_aid_t aid;

	ck_assert_int_eq(roost_view_open(&v, rsys), 0);
	ck_assert_int_eq(roost_view_find(v, name, &aid), 0);
	ck_assert_int_eq(roost_view_actor(v, aid, &a), 0);
	roost_view_close(v);
	return a;
}

/* A one_for_all group: a trigger and a pool of slow actors whose stop
 * timeouts are 'ms'. */
#define SLOW_GROUP(ms) "[group g]\nstrategy = one_for_all\n" \
	"[actor trigger]\nprogram = %s\ngroup = g\n" \
	"[actor slow]\nprogram = %s\nargs = --linger " LINGER "\n" \
	"count = 3\ngroup = g\nshutdown_timeout_ms = " ms "\n"

/*
 * roostd on 'config', which names an actor 'one' and a pool 'pool' of
 * POOL members. Returns roostd's pid; sets a context, the address and
 * pid of 'one', and the pool's pids.
 */
static pid_t
start_system(const char *config, roost_ctx_t **ctx, const char *one,
             roost_aid_t *one_aid, pid_t *one_pid, const char *pool,
             pid_t *pids)
{
	pid_t rd = roostd_on(config, ctx);

	*one_pid = actor_pid(*ctx, one, one_aid);
	pool_pids(*ctx, pool, pids);
	return rd;
}

/* roostd on SLOW_GROUP: crash the trigger and wait until its slow
 * siblings are all in their stop. As start_system() otherwise. */
static pid_t
crash_until_siblings_stop(roost_ctx_t **ctx, roost_aid_t *trigger,
                          pid_t *tpid, pid_t *slow)
{
	pid_t rd = start_system(SLOW_GROUP(LINGER), ctx, "trigger", trigger, tpid,
	                        "slow", slow);

	ck_assert_int_eq(roost_send(*ctx, *trigger, KIND_CRASH, NULL, 0, 1000),
	                 0);
	wait_lingering(slow, POOL);
	return rd;
}

/* A shutdown's end: roostd exits 0 and leaves nothing behind. */
static void
ends_clean(pid_t rd)
{
	ck_assert_int_eq(tu_wait(rd, WAIT_MS), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}

/* The end of a test with slow actors 'pids': the shutdown finds them
 * all in their stop, the test releases them, and it ends clean. */
static void
shutdown_releasing(pid_t rd, const pid_t *pids, int n)
{
	kill(rd, SIGTERM);
	wait_lingering(pids, n);
	for (int k = 0; k < n; k++)
		release(pids[k]);
	ends_clean(rd);
}

/* Release the slow siblings 'slow' (all at once: the first end may set
 * roostd's timeouts running for the others): the group comes back,
 * each member at its address in a new process ('again'). */
static void
release_until_back(roost_ctx_t *ctx, const pid_t *slow, pid_t *again)
{
	for (int k = 0; k < POOL; k++)
		kill(slow[k], SIGKILL);
	for (int k = 0; k < POOL; k++)
		wait_gone(slow[k]);
	pool_pids(ctx, "slow", again);
	for (int k = 0; k < POOL; k++)
		ck_assert_int_ne(again[k], slow[k]);
}

/* A one_for_all restart stops the siblings all at once and keeps the
 * loop going; the failed actor comes back only once they have ended. */
START_TEST(test_stops_restart)
{
	pid_t slow[POOL];
	pid_t again[POOL];
	roost_ctx_t *ctx;
	roost_aid_t trigger;
	pid_t tpid;
	pid_t rd;

	rd = crash_until_siblings_stop(&ctx, &trigger, &tpid, slow);
	loop_serves(ctx, slow, POOL, 0);
	ck_assert_uint_eq(actor_info("trigger").state, ROOST_ACTOR_DOWN);
	/* The restart goes on: every member back at its address. */
	release_until_back(ctx, slow, again);
	ck_assert_int_ne(ru_echo_pid(ctx, trigger), tpid);
	ck_assert_str_eq(actor_info("slow.1").last_exit, "shutdown");
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	shutdown_releasing(rd, again, POOL);
}
END_TEST

/* A sibling stopped for good (roost_stop) while a restart waits for it
 * is not brought back; the others are. */
START_TEST(test_stops_stopped_during_restart)
{
	pid_t slow[POOL];
	roost_ctx_t *ctx;
	roost_aid_t trigger;
	roost_aid_t found;
	pid_t tpid;
	pid_t rd;
	int i;

	rd = crash_until_siblings_stop(&ctx, &trigger, &tpid, slow);
	ck_assert_int_eq(roost_stop(ctx, tu_whereis_wait(ctx, "slow.3", 10)),
	                 0);
	for (int k = 0; k < POOL; k++)
		release(slow[k]);
	ck_assert_int_ne(ru_echo_pid(ctx, trigger), tpid);
	ck_assert_int_ne(ru_echo_pid(ctx, tu_whereis_wait(ctx, "slow.1", 10)),
	                 slow[0]);
	for (i = 0; i < WAIT_MS / 5 &&
	            roost_whereis(ctx, "slow.3", &found) != -ENOENT; i++)
		usleep(5000);
	ck_assert_int_eq(roost_whereis(ctx, "slow.3", &found), -ENOENT);
	slow[0] = ru_echo_pid(ctx, tu_whereis_wait(ctx, "slow.1", 10));
	slow[1] = ru_echo_pid(ctx, tu_whereis_wait(ctx, "slow.2", 10));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	shutdown_releasing(rd, slow, 2);
}
END_TEST

/*
 * Two restarts overlap: group g's (its trigger failed; its slow member
 * is stopping) and then the top's rest_for_one, which takes the slow
 * member over (started after the top's failed actor) but not g's
 * trigger (started before). g's restart has nothing left to wait for:
 * its trigger comes back while the slow member still stops; the top's
 * restart goes on once that one has ended.
 */
START_TEST(test_stops_restarts_overlap)
{
	roost_ctx_t *ctx;
	roost_aid_t trigger, top, other;
	pid_t tpid, toppid, slow;
	pid_t rd;

	rd = roostd_on("[system]\nstrategy = rest_for_one\n"
	               "[group g]\nstrategy = one_for_all\n"
	               "[actor trigger]\nprogram = %s\ngroup = g\norder = 1\n"
	               "[actor top]\nprogram = %s\norder = 2\n"
	               "[actor slow]\nprogram = %s\nargs = --linger " LINGER
	               "\ngroup = g\norder = 3\nshutdown_timeout_ms = " LINGER
	               "\n", &ctx);
	tpid = actor_pid(ctx, "trigger", &trigger);
	toppid = actor_pid(ctx, "top", &top);
	slow = actor_pid(ctx, "slow", &other);
	ck_assert_int_eq(roost_send(ctx, trigger, KIND_CRASH, NULL, 0, 1000), 0);
	wait_lingering(&slow, 1);
	ck_assert_int_eq(roost_send(ctx, top, KIND_CRASH, NULL, 0, 1000), 0);
	ck_assert_int_ne(ru_echo_pid(ctx, trigger), tpid);
	ck_assert(all_lingering(&slow, 1));
	ck_assert_uint_eq(actor_info("top").state, ROOST_ACTOR_DOWN);
	release(slow);
	ck_assert_int_ne(ru_echo_pid(ctx, top), toppid);
	slow = ru_echo_pid(ctx, tu_whereis_wait(ctx, "slow", WAIT_MS));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	shutdown_releasing(rd, &slow, 1);
}
END_TEST

/* roostd killed with SIGKILL in the middle of a one_for_all restart:
 * the next one (short timeouts in its config, so that its own stops
 * end on their own) restarts the failed actor, watches the siblings,
 * and when they end restarts the group; nothing is left stuck. */
START_TEST(test_stops_adoption_mid_restart)
{
	pid_t slow[POOL];
	pid_t again[POOL];
	roost_ctx_t *ctx;
	roost_aid_t trigger;
	pid_t tpid;
	pid_t rd;

	rd = crash_until_siblings_stop(&ctx, &trigger, &tpid, slow);
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, WAIT_MS), 128 + SIGKILL);
	ru_write_config(SLOW_GROUP("100"));
	rd = ru_start_roostd(-1);
	ru_wait_up();
	ck_assert_int_ne(ru_echo_pid(ctx, trigger), tpid);
	release_until_back(ctx, slow, again);
	ck_assert_int_gt(ru_echo_pid(ctx, trigger), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ends_clean(rd);
}
END_TEST

/*
 * roostd on 'config' (an actor "early" of order 1, a slow pool of order
 * 2): ask for the shutdown and wait until every member of the pool is in
 * its stop. As start_system() otherwise.
 */
static pid_t
shutdown_until_pool_stops(const char *config, roost_ctx_t **ctx,
                          pid_t *early, pid_t *pool)
{
	roost_aid_t aid;
	pid_t rd = start_system(config, ctx, "early", &aid, early, "pool", pool);

	ck_assert_int_eq(roost_shutdown(*ctx), 0);
	wait_lingering(pool, POOL);
	return rd;
}

#define SLOW_POOL "[actor pool]\nprogram = %s\nargs = --linger " LINGER \
                  "\ncount = 3\norder = 2\nshutdown_timeout_ms = "

/* The shutdown stops a pool's members together, the start orders one
 * after the other (latest first), and serves alarms and requests the
 * while. */
START_TEST(test_stops_shutdown_order)
{
	pid_t pool[POOL];
	pid_t early;
	roost_ctx_t *ctx;
	pid_t rd;

	rd = shutdown_until_pool_stops("[actor early]\nprogram = %s\n"
	                               "args = --linger " LINGER "\norder = 1\n"
	                               "shutdown_timeout_ms = " LINGER "\n"
	                               SLOW_POOL LINGER "\n", &ctx, &early, pool);
	/* The earlier start order waits for the later one to end. */
	ck_assert(!comm_is(early, "lingering"));
	ck_assert(!gone(early));
	loop_serves(ctx, pool, POOL, -ESHUTDOWN);
	for (int k = 0; k < POOL - 1; k++)
		release(pool[k]);
	ck_assert(!comm_is(early, "lingering"));
	release(pool[POOL - 1]);
	wait_lingering(&early, 1);
	loop_serves(ctx, &early, 1, -ESHUTDOWN);
	release(early);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ends_clean(rd);
}
END_TEST

/* A stop that another asks for gets the actor's timeouts; an actor that
 * stops itself ends as it sees fit. Both stops have the same timeouts,
 * and the one that is followed began later: it ends while the other
 * still lingers. */
START_TEST(test_stops_self_stop)
{
	roost_ctx_t *ctx;
	roost_aid_t self_stopper;
	roost_aid_t stopped;
	pid_t self_pid;
	pid_t stopped_pid;
	pid_t rd;

	rd = roostd_on("[actor a]\nprogram = %s\nargs = --linger " LINGER
	               "\nshutdown_timeout_ms = 100\n"
	               "[actor b]\nprogram = %s\nargs = --linger " LINGER
	               "\nshutdown_timeout_ms = 100\n", &ctx);
	self_pid = actor_pid(ctx, "a", &self_stopper);
	stopped_pid = actor_pid(ctx, "b", &stopped);
	ck_assert_int_eq(roost_send(ctx, self_stopper, KIND_STOP_SELF, NULL, 0,
	                            1000), 0);
	wait_lingering(&self_pid, 1);
	ck_assert_int_eq(roost_stop(ctx, stopped), 0);
	wait_gone(stopped_pid);
	ck_assert(all_lingering(&self_pid, 1));
	release(self_pid);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A daemon-flagged actor is killed at once by the shutdown, even in the
 * middle of a slow graceful stop that someone else asked for. */
START_TEST(test_stops_daemon_at_once)
{
	roost_ctx_t *ctx;
	roost_aid_t d;
	pid_t pid;
	pid_t rd;

	rd = roostd_on("[actor d]\nprogram = %s\nargs = --linger " LINGER
	               "\ndaemon = true\nshutdown_timeout_ms = " LINGER "\n",
	               &ctx);
	pid = actor_pid(ctx, "d", &d);
	ck_assert_int_eq(roost_stop(ctx, d), 0);
	wait_lingering(&pid, 1);
	ck_assert_int_eq(roost_shutdown(ctx), 0);
	wait_gone(pid);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ends_clean(rd);
}
END_TEST

/* roostd killed with SIGKILL mid-shutdown: the actors caught in their
 * stop are not left half-stopped, and the system does not come back up.
 * The next roostd (short timeouts in its config) finishes the shutdown
 * the dead one recorded: the pool's stops go on, then the earlier start
 * order is stopped, and it exits 0 leaving nothing behind. */
START_TEST(test_stops_adoption_mid_stop)
{
	pid_t pool[POOL];
	pid_t early;
	roost_ctx_t *ctx;
	pid_t rd;

	rd = shutdown_until_pool_stops("[actor early]\nprogram = %s\n"
	                               "order = 1\n" SLOW_POOL LINGER "\n", &ctx,
	                               &early, pool);
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, WAIT_MS), 128 + SIGKILL);
	/* The earlier start order was not asked yet. */
	ck_assert(!gone(early));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_write_config("[actor early]\nprogram = %s\norder = 1\n"
	                SLOW_POOL "100\n");
	rd = ru_start_roostd(-1);
	for (int k = 0; k < POOL; k++)
		wait_gone(pool[k]);
	wait_gone(early);
	ru_finishes_shutdown(rd, 0);
}
END_TEST

static Suite *
stops_suite(void)
{
	Suite *s = suite_create("stops");

	suite_add_tcase(s, tu_tcase("restart", test_stops_restart, 120));
	suite_add_tcase(s, tu_tcase("shutdown_order", test_stops_shutdown_order,
	                            120));
	suite_add_tcase(s, tu_tcase("stopped_during_restart",
	                            test_stops_stopped_during_restart, 120));
	suite_add_tcase(s, tu_tcase("restarts_overlap",
	                            test_stops_restarts_overlap, 120));
	suite_add_tcase(s, tu_tcase("self_stop", test_stops_self_stop, 120));
	suite_add_tcase(s, tu_tcase("daemon_at_once", test_stops_daemon_at_once,
	                            120));
	suite_add_tcase(s, tu_tcase("adoption_mid_stop",
	                            test_stops_adoption_mid_stop, 120));
	suite_add_tcase(s, tu_tcase("adoption_mid_restart",
	                            test_stops_adoption_mid_restart, 120));
	return s;
}

int
main(void)
{
	return tu_run(stops_suite());
}
