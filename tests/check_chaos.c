/* SPDX-License-Identifier: MIT */
/*
 * check_chaos.c - the chaos run: a supervised system of 4 producers and 2
 * consumers (tests/chaos_actor.c) exchanging numbered messages while a
 * killer SIGKILLs random actors, and roostd itself, at random moments
 * (roostd is started again at once and must adopt the system).
 *
 * At the end every message whose send succeeded was handled exactly
 * once, or again only flagged REDELIVERED (its consumer died handling
 * it) or marked as a producer's retry (its producer died around the
 * send); per-producer order held; numbers never seen are no more than
 * the messages roostd dead-lettered; nothing hung; nothing is left in
 * /dev/shm after the shutdown.
 *
 * Length: $ROOST_CHAOS_KILLS kills (default 40) and $ROOST_CHAOS_COUNT
 * messages per producer (default 1000000). The long run:
 *   ROOST_CHAOS_KILLS=1000 ROOST_CHAOS_COUNT=20000000 build/tests/check_chaos
 */
#include "roostd_util.h"
#include "chaos_actor.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static long
env_long(const char *name, long def)
{
	const char *v = getenv(name);

	return v != NULL && atol(v) > 0 ? atol(v) : def;
}

/* The pid of a live actor named 'name', or 0. */
static pid_t
actor_pid(const char *name)
{
	struct roost__slot_view sv;
	struct roost__sys sy;
	pid_t pid = 0;
	uint32_t i;

	if (roost__sys_open(&sy, rsys) < 0)
		return 0;
	for (i = 0; i < sy.sy_fixed.sf_nslots; i++)
		if (roost__sys_slot_read(&sy, i, &sv) == 0 &&
		    sv.sv_state == ROOST_SLOT_ACTIVE &&
		    strcmp(sv.sv_name, name) == 0 &&
		    roost__plat_proc_alive(sv.sv_pid, sv.sv_pid_start))
			pid = sv.sv_pid;
	roost__sys_close(&sy);
	return pid;
}

static bool
all_handled(const struct chaos_shared *sh)
{
	int p;

	for (p = 0; p < CHAOS_PRODUCERS; p++)
		if (__atomic_load_n(&sh->cs_next[p], __ATOMIC_ACQUIRE) <
		    sh->cs_count)
			return false;
	return true;
}

/* Lines of roostd's log (all its lives) that report a dead letter. */
static long
dead_letters_logged(void)
{
	char path[160];
	char line[512];
	long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s.log", cfgpath);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "goes to the dead letters") != NULL)
			n++;
	fclose(f);
	return n;
}

/* What the consumers' mailboxes say about repairs and damage. */
static void
print_mailboxes(void)
{
	roost_mbox_stats_t st;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t aid;
	char name[16];
	int c;

	roost_ctx_opts_init(&o);
	o.system = rsys;
	if (roost_ctx_open(&ctx, &o) < 0)
		return;
	for (c = 1; c <= CHAOS_CONSUMERS; c++) {
		snprintf(name, sizeof(name), "consumer.%d", c);
		if (roost_whereis(ctx, name, &aid) == 0 &&
		    roost_mbox_stats(ctx, aid, &st) == 0)
			fprintf(stderr, "chaos: %s at %u.%u: %llu in, %llu out, "
			        "%llu repaired, %llu corrupt, %u queued\n", name,
			        roost_aid_slot(aid), roost_aid_gen(aid),
			        (unsigned long long)st.enqueued,
			        (unsigned long long)st.dequeued,
			        (unsigned long long)st.repaired,
			        (unsigned long long)st.corrupt, st.queued);
	}
	roost_ctx_close(ctx);
}

START_TEST(test_chaos)
{
	static const char *const victims[] = {
		"producer.1", "producer.2", "producer.3", "producer.4",
		"consumer.1", "consumer.2",
	};
	long kills_wanted = env_long("ROOST_CHAOS_KILLS", 40);
	struct chaos_shared *sh;
	char file[64];
	long kills = 0, roostd_kills = 0;
	unsigned seed = (unsigned)getpid();
	uint64_t deadline;
	pid_t rd, pid;
	long dead;
	int fd;

	ru_setup_names();
	snprintf(file, sizeof(file), "/tmp/roost-chaos-%d", (int)getpid());
	fd = open(file, O_RDWR | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, sizeof(*sh)), 0);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ck_assert_ptr_ne(sh, MAP_FAILED);
	sh->cs_count = (uint64_t)env_long("ROOST_CHAOS_COUNT", 1000000);
	setenv("CHAOS_FILE", file, 1);
	/* Small consumer mailboxes: producers block on full lanes too. */
	ru_write_config("[system]\nslots = 32\nintensity = 1000\nperiod = 1\n"
	                "[actor consumer]\nprogram = " CHAOS_BIN "\ncount = 2\n"
	                "mailbox_bytes = 65536\nshutdown_timeout_ms = 5000\n"
	                "[actor producer]\nprogram = " CHAOS_BIN "\ncount = 4\n"
	                "order = 1\nshutdown_timeout_ms = 5000\n; %s\n");
	fprintf(stderr, "chaos: roostd's log %s.log, the shared file %s\n",
	        cfgpath, file);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	/* Kills go on after the producers are done: restarts and
	 * adoptions of an idle system must hold up as well. */
	while (kills < kills_wanted) {
		usleep(2000 + rand_r(&seed) % 30000);
		if (rand_r(&seed) % 8 == 0) {
			/* roostd dies; a new one adopts the system. */
			kill(rd, SIGKILL);
			ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 128 + SIGKILL);
			rd = ru_start_roostd(-1);
			roostd_kills++;
			kills++;
			continue;
		}
		pid = actor_pid(victims[rand_r(&seed) % 6]);
		/* No pid: down at that moment, being restarted. */
		if (pid > 0 && kill(pid, SIGKILL) == 0)
			kills++;
	}
	/* Let it finish: every number of every producer handled. */
	deadline = roost__plat_now_ns() + 120ull * 1000000000u;
	while (!all_handled(sh) && roost__plat_now_ns() < deadline)
		usleep(10000);
	dead = dead_letters_logged();
	print_mailboxes();
	fprintf(stderr, "chaos: %ld kills survived (%ld of roostd), %llu "
	        "messages checked, %llu handled again flagged redelivered, "
	        "%llu retried by a restarted producer, %llu never seen "
	        "(%ld dead-lettered), %llu violations\n", kills, roostd_kills,
	        (unsigned long long)(sh->cs_count * CHAOS_PRODUCERS),
	        (unsigned long long)sh->cs_redelivered,
	        (unsigned long long)sh->cs_retried,
	        (unsigned long long)sh->cs_gaps, dead,
	        (unsigned long long)sh->cs_violations);
	if (sh->cs_gaps != 0)
		fprintf(stderr, "chaos: the first gap: %s\n", sh->cs_gap_why);
	ck_assert_msg(all_handled(sh), "not finished: next %llu %llu %llu %llu",
	              (unsigned long long)sh->cs_next[0],
	              (unsigned long long)sh->cs_next[1],
	              (unsigned long long)sh->cs_next[2],
	              (unsigned long long)sh->cs_next[3]);
	ck_assert_msg(sh->cs_violations == 0, "%s", sh->cs_why);
	ck_assert_int_le((long)sh->cs_gaps, dead);
	ru_wait_up(); /* the last roostd started may still be adopting */
	ru_stop_roostd(rd); /* exit 0, nothing left in /dev/shm */
	munmap(sh, sizeof(*sh));
	unlink(file);
}
END_TEST

static Suite *
chaos_suite(void)
{
	Suite *s = suite_create("chaos");

	suite_add_tcase(s, tu_tcase("chaos", test_chaos, 1800));
	return s;
}

int
main(void)
{
	return tu_run(chaos_suite());
}
