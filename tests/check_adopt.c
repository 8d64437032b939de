/* SPDX-License-Identifier: MIT */
/*
 * check_adopt.c - what a roostd killed with SIGKILL leaves to the next
 * one in its keep table (lib/core/shm/keep_table.h), against the real
 * daemon and real actors: monitors and links, the specs of actors
 * started by request, restart counts and intensity windows, a graceful
 * stop under way, a shutdown begun (also with nothing left to stop),
 * and a scribbled table that must not make the new roostd escalate or
 * shut down; and a restart the killed roostd spawned without recording
 * it (found alive, or reattaching late). (The shutdown finished by the next roostd is
 * check_stops' adoption_mid_stop; a strategy restart under way its
 * adoption_mid_restart.) Every wait is for a state, bounded by WAIT_MS
 * only so that a broken roostd fails the test instead of hanging it.
 */
#include "roostd_util.h"

#include <roost/view.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 30000 /* upper bound of every wait for a state */

static void
kill_roostd(pid_t rd)
{
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, WAIT_MS), 128 + SIGKILL);
}

/* Wait until roostd's log (CONFIG.log) has a line with 'needle'. */
static void
wait_log(const char *needle)
{
	for (int i = 0; i < WAIT_MS / 5 && !ru_log_has(needle); i++)
		usleep(5000);
	ck_assert_msg(ru_log_has(needle), "no '%s' in roostd's log", needle);
}

/* The process has ended (a zombie not reaped yet counts as ended). */
static void
wait_gone(pid_t pid)
{
	for (int i = 0; i < WAIT_MS / 5 &&
	                roost__plat_proc_start(pid, &(uint64_t){0}) == 0; i++)
		usleep(5000);
	ck_assert_msg(roost__plat_proc_start(pid, &(uint64_t){0}) < 0,
	              "pid %d still there", (int)pid);
}

static roost_notice_t
take_notice(roost_ctx_t *ctx, uint32_t kind)
{
	roost_notice_t n;

	ck_assert_int_eq(roost_notice_decode(ru_take_kind(ctx, kind, WAIT_MS),
	                                     &n), 0);
	return n;
}

struct find {
	const char *fi_name;
	roost_actor_info_t fi_info;
	bool fi_found;
};

static int
find_fn(void *arg, const roost_actor_info_t *a)
{
	struct find *fi = arg;

	if (strcmp(a->name, fi->fi_name) == 0) {
		fi->fi_info = *a;
		fi->fi_found = true;
	}
	return 0;
}

/* What the tools show of actor 'name' (false: not shown). */
static bool
actor_info(const char *name, roost_actor_info_t *out)
{
	struct find fi = {.fi_name = name};
	roost_view_t *v;

	ck_assert_int_eq(roost_view_open(&v, rsys), 0);
	ck_assert_int_ge(roost_view_actors(v, find_fn, &fi), 0);
	roost_view_close(v);
	*out = fi.fi_info;
	return fi.fi_found;
}

/* The restart count the tools show for 'name' (-1: not shown). */
static int64_t
restarts_of(const char *name)
{
	roost_actor_info_t a;

	return actor_info(name, &a) ? (int64_t)a.restarts : -1;
}

/* Wait until the tools show 'n' restarts of 'name' (the supervisor
 * table lags roostd by a loop turn). */
static void
wait_restarts(const char *name, int64_t n)
{
	for (int i = 0; i < WAIT_MS / 5 && restarts_of(name) != n; i++)
		usleep(5000);
	ck_assert_int_eq(restarts_of(name), n);
}

/* A crash, and the restarted process answering. */
static int32_t
crash(roost_ctx_t *ctx, roost_aid_t aid, int32_t pid)
{
	int32_t again;

	ck_assert_int_eq(roost_send(ctx, aid, KIND_CRASH, NULL, 0, 1000), 0);
	again = ru_echo_pid(ctx, aid);
	ck_assert_int_ne(again, pid);
	ck_assert_int_gt(again, 0);
	return again;
}

/* roostd on 'config', which names actors "x" and "y": a context, their
 * addresses and pids. */
static pid_t
start_two(const char *config, roost_ctx_t **ctx, roost_aid_t *aid,
          int32_t *pid)
{
	pid_t rd;

	ru_setup_names();
	ru_write_config(config);
	rd = ru_start_roostd(-1);
	*ctx = ru_open_when_up();
	aid[0] = tu_whereis_wait(*ctx, "x", WAIT_MS);
	aid[1] = tu_whereis_wait(*ctx, "y", WAIT_MS);
	pid[0] = ru_echo_pid(*ctx, aid[0]);
	pid[1] = ru_echo_pid(*ctx, aid[1]);
	return rd;
}

/* A monitor and a link made with the old roostd: the new one sends the
 * DOWN and the EXIT when their targets die after the takeover. A table
 * of 4,096 slots (the config's most), sized from it. */
START_TEST(test_watches_survive)
{
	roost_ctx_t *ctx;
	roost_aid_t aid[2];
	roost_notice_t n;
	uint64_t ref;
	int32_t pid[2];
	pid_t rd;

	rd = start_two("[system]\nslots = 4096\n"
	               "[actor x]\nprogram = %s\n[actor y]\nprogram = %s\n",
	               &ctx, aid, pid);
	ck_assert_int_eq(roost_monitor(ctx, aid[0], &ref), 0);
	ck_assert_int_eq(roost_link(ctx, aid[1]), 0);
	kill_roostd(rd);
	rd = ru_start_roostd(-1);
	wait_log("1 monitor(s) and 1 link(s) kept");
	crash(ctx, aid[0], pid[0]);
	n = take_notice(ctx, ROOST_KIND_DOWN);
	ck_assert_uint_eq(n.ref, ref);
	ck_assert(roost_aid_eq(n.aid, aid[0]));
	ck_assert_int_eq(n.pid, pid[0]);
	ck_assert(n.restarting);
	crash(ctx, aid[1], pid[1]);
	n = take_notice(ctx, ROOST_KIND_EXIT);
	ck_assert(roost_aid_eq(n.aid, aid[1]));
	ck_assert(n.restarting);
	/* A new monitor gets a reference never handed out before. */
	ck_assert_int_eq(roost_monitor(ctx, aid[1], &n.ref), 0);
	ck_assert_uint_gt(n.ref, ref);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Spawn the echo actor "sp" by request, transient; its address. */
static roost_aid_t
spawn_sp(roost_ctx_t *ctx)
{
	const char *const args[] = {ECHO_BIN, NULL};
	roost_spawn_opts_t o;
	roost_aid_t sp;

	roost_spawn_opts_init(&o);
	o.program = ECHO_BIN;
	o.argv = args;
	o.name = "sp";
	o.restart = ROOST_RESTART_TRANSIENT;
	ck_assert_int_eq(roost_spawn(ctx, &o, &sp), 0);
	return sp;
}

/* An actor started by request dies while no roostd runs: the new roostd
 * restarts it from its kept spec at its address (the mail queued for it
 * meanwhile is answered), supervises it from then on, and shows the
 * restart count the old one had. */
START_TEST(test_spawned_restarted)
{
	roost_ctx_t *ctx;
	roost_aid_t sp, found;
	int32_t pid;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\nslots = 32\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	sp = spawn_sp(ctx);
	pid = crash(ctx, sp, ru_echo_pid(ctx, sp)); /* restart 1 */
	wait_restarts("sp", 1);
	kill_roostd(rd);
	ck_assert_int_eq(roost_send(ctx, sp, KIND_CRASH, NULL, 0, 1000), 0);
	wait_gone(pid);
	rd = ru_start_roostd(-1);
	pid = ru_echo_pid(ctx, sp); /* queued while nobody ran it */
	wait_restarts("sp", 2);
	ck_assert_int_eq(roost_whereis(ctx, "sp", &found), 0);
	ck_assert(roost_aid_eq(found, sp));
	crash(ctx, sp, pid); /* and after the takeover */
	wait_restarts("sp", 3);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/*
 * A group is granted the system, so only the config's programs run. An
 * actor started by request (its program in the config then) dies while
 * no roostd runs, and the next roostd's config no longer names that
 * program: its kept spec is not run (the keep table is writable by the
 * group, so a kept spec is a request like any other), the actor is
 * released, and the system runs on.
 */
START_TEST(test_spawned_not_allowed)
{
	roost_ctx_t *ctx;
	roost_aid_t sp, found;
	int32_t pid;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\ngroup = root\nslots = 32\n"
	                "[actor e]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	sp = spawn_sp(ctx);
	pid = ru_echo_pid(ctx, sp);
	kill_roostd(rd);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	wait_gone(pid);
	ru_write_config("[system]\ngroup = root\nslots = 32\n"
	                "[actor e]\nprogram = /bin/sleep\nargs = 60\n; %s\n");
	rd = ru_start_roostd(-1);
	wait_log("adopted system");
	ck_assert_msg(ru_log_has("which the config does not allow"),
	              "no refusal of the kept spec in roostd's log");
	ck_assert_int_eq(roost_whereis(ctx, "sp", &found), -ENOENT);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/*
 * roostd with intensity 2 in 60 s and an actor g, which crashes twice
 * (two restarts in the window); then roostd is killed. The context,
 * g's address and its last pid come back.
 */
static void
two_restarts_then_kill(roost_ctx_t **ctx, roost_aid_t *g, int32_t *pid)
{
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\nintensity = 2\nperiod = 60\n"
	                "[actor g]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	*ctx = ru_open_when_up();
	*g = tu_whereis_wait(*ctx, "g", WAIT_MS);
	*pid = crash(*ctx, *g, ru_echo_pid(*ctx, *g));
	*pid = crash(*ctx, *g, *pid);
	wait_restarts("g", 2);
	kill_roostd(rd);
}

/* Two restarts before the takeover, one after: the third is over the
 * limit, as without the takeover. */
START_TEST(test_intensity_carried)
{
	roost_actor_info_t info;
	roost_ctx_t *ctx;
	roost_aid_t g;
	int32_t pid;
	pid_t rd;

	two_restarts_then_kill(&ctx, &g, &pid);
	rd = ru_start_roostd(-1);
	wait_log("adopted system");
	wait_restarts("g", 2);
	/* Its last exit, as the old roostd's table showed it. */
	ck_assert(actor_info("g", &info));
	ck_assert_str_eq(info.last_exit, "signal");
	ck_assert_int_eq(info.last_signal, SIGABRT);
	ck_assert_int_eq(roost_send(ctx, g, KIND_CRASH, NULL, 0, 1000), 0);
	ck_assert_int_eq(tu_wait(rd, WAIT_MS), 1);
	ck_assert_msg(ru_log_has("top level: more than 2 restarts in 60 s"),
	              "no escalation in roostd's log");
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

/* Map the keep table of rsys read-write, as a scribbler would. */
static uint8_t *
map_keep(size_t *len)
{
	char name[ROOST_SHM_NAME_MAX + 8];
	struct stat st;
	uint8_t *p;
	int fd;

	ck_assert_int_eq(roost__keep_shm_name(name, sizeof(name), rsys), 0);
	fd = shm_open(name, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	         fd, 0);
	ck_assert(p != MAP_FAILED);
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

/* Scribble on the keep table of a dead roostd: 'fn' gets the top
 * level's window and the record of slot 'slot'. */
static void
scribble(uint32_t slot, void (*fn)(struct roost__keep_level *lv,
                                   struct roost__keep_actor *ka))
{
	struct roost__keep_hdr *h;
	uint8_t *base;
	size_t len;

	base = map_keep(&len);
	h = (struct roost__keep_hdr *)base;
	ck_assert_uint_gt(len, roost__keep_map_size(h->kh_fixed.kf_nslots) - 1);
	fn(roost__keep_levels(base, &h->kh_fixed),
	   roost__keep_actors(base) + slot);
	munmap(base, len);
}

/* A monitor made with the old roostd; the last reference of its keep
 * table is scribbled to the largest there is. The new roostd refuses it
 * (logged) and hands out a reference past the kept one, never 0. */
START_TEST(test_scribbled_next_ref)
{
	struct roost__keep_hdr *h;
	roost_ctx_t *ctx;
	roost_aid_t aid[2];
	uint64_t ref, ref2;
	int32_t pid[2];
	size_t len;
	pid_t rd;

	rd = start_two("[actor x]\nprogram = %s\n[actor y]\nprogram = %s\n",
	               &ctx, aid, pid);
	ck_assert_int_eq(roost_monitor(ctx, aid[0], &ref), 0);
	kill_roostd(rd);
	h = (struct roost__keep_hdr *)map_keep(&len);
	roost__store_rlx(&h->kh_next_ref, UINT64_MAX);
	munmap(h, len);
	rd = ru_start_roostd(-1);
	wait_log("1 monitor(s) and 0 link(s) kept");
	ck_assert_int_eq(roost_monitor(ctx, aid[1], &ref2), 0);
	ck_assert_uint_gt(ref2, ref);
	ck_assert_uint_lt(ref2, ROOST_KEEP_REF_LIMIT);
	ck_assert(ru_log_has("bad last monitor reference"));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* The counts, without fixing the checksums; the actor's record as a
 * roostd killed in the middle of writing it leaves it (odd sequence). */
static void
scribble_counts(struct roost__keep_level *lv, struct roost__keep_actor *ka)
{
	ck_assert_uint_eq(lv->kl_rec.kl_n, 2);
	lv->kl_rec.kl_n = 0x7fffffffu;
	roost__store_rlx(&ka->ka_seq, roost__load_rlx(&ka->ka_seq) | 1u);
	ka->ka_rec.ka_restarts = 0xdeadbeefu;
}

/* A whole window (its checksum holds) that cannot be: the newest
 * restart an hour from now. */
static void
scribble_future(struct roost__keep_level *lv, struct roost__keep_actor *ka)
{
	(void)ka;
	ck_assert_uint_eq(lv->kl_rec.kl_n, 2);
	lv->kl_rec.kl_times[1] = roost__plat_now_ns() + 3600ull * 1000000000u;
	lv->kl_sum = roost__keep_sum(&lv->kl_rec,
	                             roost__keep_level_len(&lv->kl_rec));
}

/* A whole actor record (its checksum holds) with a mailbox size no
 * actor could open. */
static void
scribble_mbox(struct roost__keep_level *lv, struct roost__keep_actor *ka)
{
	(void)lv;
	ck_assert_uint_ne(ka->ka_rec.ka_flags & ROOST_KEEP_A_SPEC, 0);
	ka->ka_rec.ka_mbox_bytes = 1;
	ka->ka_sum = roost__keep_sum(&ka->ka_rec,
	                             roost__keep_actor_len(&ka->ka_rec));
}

/* An actor started by request dies while no roostd runs, and its record
 * is scribbled whole: a mailbox size out of range is refused like any
 * bad field (the record is dropped, the dead actor released), never run
 * into restarts that cannot attach. */
START_TEST(test_scribbled_mbox)
{
	roost_ctx_t *ctx;
	roost_aid_t sp, found;
	char line[96];
	int32_t pid;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\nslots = 32\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	sp = spawn_sp(ctx);
	pid = ru_echo_pid(ctx, sp);
	kill_roostd(rd);
	ck_assert_int_eq(kill(pid, SIGKILL), 0);
	wait_gone(pid);
	scribble(roost_aid_slot(sp), scribble_mbox);
	rd = ru_start_roostd(-1);
	snprintf(line, sizeof(line), "the record of slot %u is dropped (bad "
	         "field)", roost_aid_slot(sp));
	wait_log(line);
	wait_log("adopted system");
	ck_assert_int_eq(roost_whereis(ctx, "sp", &found), -ENOENT);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Two restarts in the window, then the table is scribbled while no
 * roostd runs: the new roostd refuses what fails
 * (logged), so the crash that follows is restarted, not escalated. */
START_TEST(test_scribbled_counts)
{
	roost_ctx_t *ctx;
	roost_aid_t g;
	int32_t pid;
	pid_t rd;

	two_restarts_then_kill(&ctx, &g, &pid);
	scribble(roost_aid_slot(g), scribble_counts);
	rd = ru_start_roostd(-1);
	wait_log("the restart window of level 0 is dropped (bad checksum)");
	wait_log("is dropped (interrupted write): its restart count");
	pid = crash(ctx, g, pid); /* the window's first */
	wait_restarts("g", 1);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	/* Its second, then the future. */
	pid = crash(ctx, g, pid);
	wait_restarts("g", 2);
	kill_roostd(rd);
	scribble(roost_aid_slot(g), scribble_future);
	rd = ru_start_roostd(-1);
	wait_log("restart times out of order or in the future");
	pid = crash(ctx, g, pid);
	wait_restarts("g", 3);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert(!ru_log_has("more than 2 restarts"));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* The record of a live actor as a roostd killed between a restart's
 * record (down, awaiting the top level's restart) and the record of its
 * spawn leaves it. */
static void
scribble_awaiting(struct roost__keep_level *lv, struct roost__keep_actor *ka)
{
	(void)lv;
	ck_assert_int_eq(ka->ka_rec.ka_level, -1);
	ka->ka_rec.ka_level = 0;
	ka->ka_rec.ka_flags |= ROOST_KEEP_A_BACK;
	ka->ka_sum = roost__keep_sum(&ka->ka_rec,
	                             roost__keep_actor_len(&ka->ka_rec));
}

/* The killed roostd had spawned x's restart but not recorded it: x is
 * alive, its record says it awaits the top level's restart. The new
 * roostd takes it as that restart; before, it waited for it, and no
 * actor of the level was restarted again (y's crash below). */
START_TEST(test_awaiting_alive)
{
	roost_ctx_t *ctx;
	roost_aid_t aid[2];
	int32_t pid[2];
	char line[96];
	pid_t rd;

	rd = start_two("[actor x]\nprogram = %s\n[actor y]\nprogram = %s\n",
	               &ctx, aid, pid);
	kill_roostd(rd);
	scribble(roost_aid_slot(aid[0]), scribble_awaiting);
	rd = ru_start_roostd(-1);
	wait_log("adopted system");
	pid[1] = crash(ctx, aid[1], pid[1]);
	wait_restarts("y", 1);
	snprintf(line, sizeof(line), "x (pid %d) is the restart the previous "
	         "roostd started", (int)pid[0]);
	ck_assert(ru_log_has(line));
	pid[0] = crash(ctx, aid[0], pid[0]);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A graceful stop of one actor under way (its stop takes a second and
 * a half) when roostd dies: the new roostd follows it (or, if it ended
 * first, judges it stopped), and it ends stopped, not restarted,
 * although permanent. */
START_TEST(test_single_stop)
{
	roost_ctx_t *ctx;
	roost_aid_t s, found;
	int32_t pid;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("[actor s]\nprogram = %s\nargs = --linger 1500\n"
	                "shutdown_timeout_ms = 60000\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	s = tu_whereis_wait(ctx, "s", WAIT_MS);
	pid = ru_echo_pid(ctx, s);
	ck_assert_int_eq(roost_stop(ctx, s), 0);
	kill_roostd(rd);
	rd = ru_start_roostd(-1);
	wait_gone(pid);
	for (i = 0; i < WAIT_MS / 5 &&
	            roost_whereis(ctx, "s", &found) != -ENOENT; i++)
		usleep(5000);
	ck_assert_int_eq(roost_whereis(ctx, "s", &found), -ENOENT);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Start the echo actor as roostd starts a restart of 'name' at 'aid'
 * (it reattaches); our child. */
static pid_t
start_restart(const char *name, roost_aid_t aid)
{
	char id[24];
	pid_t pid;

	snprintf(id, sizeof(id), "%016llx", (unsigned long long)aid.id);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("ROOST_SYSTEM", rsys, 1);
		setenv("ROOST_ACTOR", name, 1);
		setenv("ROOST_SUPERVISED", "1", 1);
		setenv("ROOST_REATTACH", id, 1);
		execl(ECHO_BIN, ECHO_BIN, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/*
 * A restart that no roostd recorded holds the slot: as when roostd is
 * killed right after spawning a restart, and the restart reattaches
 * after the next roostd read the slot and judged the actor dead. Here
 * roostd is stopped (SIGSTOP) while its actor dies and another process
 * reattaches to the address; when roostd runs again it finds its own
 * process ended and the slot held by that one. It follows it (a
 * supervised actor, restarted when it dies), instead of restarting the
 * actor beside it: those restarts failed to reattach (EBUSY) until the
 * slot audit wrote the failed one's pid over the live holder's, and the
 * next restart then ran as a second process of the same actor (the
 * chaos run's duplicated producer).
 */
START_TEST(test_late_holder)
{
	char line[96];
	roost_ctx_t *ctx;
	roost_aid_t e;
	int32_t pid, late, again;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor e]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	e = tu_whereis_wait(ctx, "e", WAIT_MS);
	pid = ru_echo_pid(ctx, e);
	ck_assert_int_eq(kill(rd, SIGSTOP), 0);
	kill(pid, SIGKILL);
	wait_gone(pid); /* a zombie roostd has not reaped */
	late = start_restart("e", e);
	ck_assert_int_eq(ru_echo_pid(ctx, e), late);
	ck_assert_int_eq(kill(rd, SIGCONT), 0);
	snprintf(line, sizeof(line), "is held by pid %d", (int)late);
	wait_log(line);
	ck_assert_int_eq(ru_echo_pid(ctx, e), late);
	ck_assert(!ru_log_has("Device or resource busy"));
	ck_assert(!ru_log_has("was damaged"));
	/* roostd supervises it: its death is a restart at the address. */
	kill(late, SIGKILL);
	ck_assert_int_eq(tu_wait(late, WAIT_MS), 128 + SIGKILL);
	again = ru_echo_pid(ctx, e);
	ck_assert_int_gt(again, 0);
	ck_assert_int_ne(again, late);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Every member of a one_for_all group died while no roostd ran: the
 * first one judged restarts the group, the others with it (once each),
 * at their addresses, and nothing waits on a process that is gone. */
START_TEST(test_group_all_dead)
{
	roost_ctx_t *ctx;
	roost_aid_t aid[2];
	int32_t pid[2];
	pid_t rd;

	rd = start_two("[group g]\nstrategy = one_for_all\n"
	               "[actor x]\nprogram = %s\ngroup = g\n"
	               "[actor y]\nprogram = %s\ngroup = g\n", &ctx, aid, pid);
	kill_roostd(rd);
	kill(pid[0], SIGKILL);
	kill(pid[1], SIGKILL);
	wait_gone(pid[0]);
	wait_gone(pid[1]);
	rd = ru_start_roostd(-1);
	ck_assert_int_ne(ru_echo_pid(ctx, aid[0]), pid[0]);
	ck_assert_int_ne(ru_echo_pid(ctx, aid[1]), pid[1]);
	wait_restarts("x", 1);
	wait_restarts("y", 1);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Store 'word' in the shutdown word of rsys' keep table. */
static void
set_shutdown_word(uint32_t word)
{
	struct roost__keep_hdr *h;
	size_t len;

	h = (struct roost__keep_hdr *)map_keep(&len);
	roost__store_rel(&h->kh_shutdown, word);
	munmap(h, len);
}

/*
 * The shutdown word as the dead roostd left it. A scribbled one is
 * refused (logged) and the system runs on; a recorded shutdown (here
 * with exit status 1, as after a failure) is finished by the next
 * roostd: the actor stopped, the system removed, the recorded status.
 */
START_TEST(test_shutdown_word)
{
	roost_ctx_t *ctx;
	roost_aid_t e;
	int32_t pid;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[actor e]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	e = tu_whereis_wait(ctx, "e", WAIT_MS);
	pid = ru_echo_pid(ctx, e);
	kill_roostd(rd);
	set_shutdown_word(0x12345u);
	rd = ru_start_roostd(-1);
	wait_log("bad shutdown word 0x12345: ignored");
	wait_log("adopted system");
	ck_assert_int_eq(ru_echo_pid(ctx, e), pid);
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	kill_roostd(rd);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	set_shutdown_word(ROOST_KEEP_SHUT_FAIL);
	rd = ru_start_roostd(-1);
	wait_gone(pid);
	ru_finishes_shutdown(rd, 1);
}
END_TEST

/* Killed after its last actor ended, before it removed the system: the
 * next roostd removes it (exit 0) instead of starting it afresh. */
START_TEST(test_shutdown_nothing_left)
{
	roost_ctx_t *ctx;
	pid_t rd;

	ru_setup_names();
	ru_write_config("[system]\nslots = 8\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill_roostd(rd);
	set_shutdown_word(ROOST_KEEP_SHUT_OK);
	rd = ru_start_roostd(-1);
	ck_assert_int_eq(tu_wait(rd, WAIT_MS), 0);
	ck_assert_msg(ru_log_has("adopting it to finish"), "no log");
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

static Suite *
adopt_suite(void)
{
	Suite *s = suite_create("adopt");

	suite_add_tcase(s, tu_tcase("watches", test_watches_survive, 120));
	suite_add_tcase(s, tu_tcase("scribbled_next_ref",
	                            test_scribbled_next_ref, 120));
	suite_add_tcase(s, tu_tcase("spawned", test_spawned_restarted, 120));
	suite_add_tcase(s, tu_tcase("spawned_not_allowed",
	                            test_spawned_not_allowed, 120));
	suite_add_tcase(s, tu_tcase("intensity", test_intensity_carried, 120));
	suite_add_tcase(s, tu_tcase("scribbled", test_scribbled_counts, 120));
	suite_add_tcase(s, tu_tcase("scribbled_mbox", test_scribbled_mbox, 120));
	suite_add_tcase(s, tu_tcase("single_stop", test_single_stop, 120));
	suite_add_tcase(s, tu_tcase("group_all_dead", test_group_all_dead,
	                            120));
	suite_add_tcase(s, tu_tcase("awaiting_alive",
	                            test_awaiting_alive, 120));
	suite_add_tcase(s, tu_tcase("late_holder",
	                            test_late_holder, 120));
	suite_add_tcase(s, tu_tcase("shutdown_word", test_shutdown_word, 120));
	suite_add_tcase(s, tu_tcase("shutdown_nothing_left",
	                            test_shutdown_nothing_left, 120));
	return s;
}

int
main(void)
{
	return tu_run(adopt_suite());
}
