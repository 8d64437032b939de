/* SPDX-License-Identifier: MIT */
/*
 * check_scribble.c - one actor's bug crashes one actor, never the system.
 * A process of the same user writes random bytes over every byte of a
 * live mailbox (lock words, wake-up words, counters and the fixed header
 * included) while four producers send to its owner under the real roostd.
 * Nobody dies of a signal, roostd stays up, another actor keeps serving,
 * and the owner ends with a working mailbox. The same aimed at the
 * system segment (header, lock, kind names, actor table): roostd puts
 * back what it owns, and its actors serve again.
 */
#include "roostd_util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PRODUCERS 4

struct scribble_shared {
	int ss_stop;                  /* producers: stop sending */
	uint64_t ss_sent[PRODUCERS];  /* sends that returned 0 */
	uint64_t ss_failed[PRODUCERS];
	uint32_t ss_target_slot;
	int ss_moves;                 /* new segments the scribbler saw */
};

static struct scribble_shared *sh;

/* Send to "target" until told to stop; every outcome is allowed except
 * dying. Exit 0. */
static int
producer(void *arg)
{
	int me = (int)(intptr_t)arg;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	uint8_t payload[64];
	int rc;

	roost_ctx_opts_init(&o);
	o.system = rsys;
	while (roost_ctx_open(&ctx, &o) != 0) {
		/* The system header is being scribbled: an error, then
		 * roostd puts it back. */
		if (__atomic_load_n(&sh->ss_stop, __ATOMIC_ACQUIRE))
			return 0;
		usleep(1000);
	}
	memset(payload, me, sizeof(payload));
	while (!__atomic_load_n(&sh->ss_stop, __ATOMIC_ACQUIRE)) {
		rc = roost_send_name(ctx, "target", KIND_FORWARDED + (uint32_t)me,
		                     payload, sizeof(payload), 100);
		if (rc == 0)
			sh->ss_sent[me]++;
		else
			sh->ss_failed[me]++;
	}
	roost_ctx_close(ctx);
	return 0;
}

/*
 * Write random bytes over every byte of the target's mailbox, 32 at a
 * time, front to back, twice. The object is mapped afresh every 1 KiB,
 * so a pass follows the mailbox when its owner moves it to a new
 * segment (counted in ss_moves).
 */
static int
scribble_pass(const char *shm, unsigned *seed, int *moves)
{
	struct stat st;
	ino_t ino = 0;
	uint8_t *p = NULL;
	size_t len = 0;
	size_t off;
	int fd;

	for (off = 0;; off += 32) {
		if (off % 1024 == 0) {
			if (p != NULL)
				munmap(p, len);
			p = NULL;
			fd = shm_open(shm, O_RDWR, 0);
			if (fd < 0 || fstat(fd, &st) < 0)
				return 1;
			if (ino != 0 && st.st_ino != ino)
				(*moves)++;
			ino = st.st_ino;
			len = (size_t)st.st_size;
			if (off < len)
				p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				         MAP_SHARED, fd, 0);
			close(fd);
			if (off >= len)
				break;
			if (p == MAP_FAILED)
				return 2;
			usleep(500); /* let the traffic meet the damage */
		}
		for (size_t i = 0; i < 32 && off + i < len; i++)
			p[off + i] = (uint8_t)rand_r(seed);
	}
	return 0;
}

/* Scribble over the target's mailbox ('arg' NULL) or over the system
 * segment. */
static int
scribbler(void *arg)
{
	char shm[ROOST_SHM_NAME_MAX];
	unsigned seed = (unsigned)getpid();
	int rc = 0;

	if (arg == NULL)
		roost__mbox_shm_name(shm, sizeof(shm), rsys, sh->ss_target_slot);
	else
		roost__sys_shm_name(shm, sizeof(shm), rsys);
	for (int pass = 0; pass < 2 && rc == 0; pass++)
		rc = scribble_pass(shm, &seed, &sh->ss_moves);
	return rc;
}

/* A new context on rsys, once the system header is whole again (roostd
 * restores it within its audit period). */
static roost_ctx_t *
open_again(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	int rc = -1;

	roost_ctx_opts_init(&o);
	o.system = rsys;
	for (int i = 0; i < 500 && rc != 0; i++) {
		rc = roost_ctx_open(&ctx, &o);
		if (rc != 0)
			usleep(10000);
	}
	ck_assert_msg(rc == 0, "cannot open the system: %s",
	              roost_strerror(rc));
	return ctx;
}

/* An echo call to 'name' succeeds, within 'tries' attempts of a second
 * (the owner may be restarting meanwhile). */
static bool
serves(roost_ctx_t *ctx, const char *name, int tries)
{
	roost_msg_t *r;
	roost_aid_t to;

	for (int i = 0; i < tries; i++) {
		if (roost_whereis(ctx, name, &to) == 0 &&
		    roost_call(ctx, to, KIND_ECHO, 0, "ping", 4, 1000, &r) == 0 &&
		    roost_msg_size(r) == 4 &&
		    memcmp(roost_msg_data(r), "ping", 4) == 0)
			return true;
		usleep(10000);
	}
	return false;
}

START_TEST(test_scribble_mailbox_under_roostd)
{
	pid_t prod[PRODUCERS];
	roost_ctx_t *ctx;
	roost_aid_t target;
	pid_t scrib;
	pid_t rd;
	int i;

	sh = tu_shared_alloc(sizeof(*sh));
	ru_setup_names();
	ru_write_config("[system]\nmailbox_bytes = 65536\n"
	                "[actor target]\nprogram = %s\n"
	                "[actor other]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	target = tu_whereis_wait(ctx, "target", 5000);
	tu_whereis_wait(ctx, "other", 5000);
	sh->ss_target_slot = roost_aid_slot(target);
	for (i = 0; i < PRODUCERS; i++)
		prod[i] = tu_fork(producer, (void *)(intptr_t)i);
	scrib = tu_fork(scribbler, NULL);
	ck_assert_int_eq(tu_wait(scrib, 60000), 0);
	/* Traffic goes on a little after the damage, then stops. */
	ck_assert(serves(ctx, "other", 10));
	__atomic_store_n(&sh->ss_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < PRODUCERS; i++)
		ck_assert_int_eq(tu_wait(prod[i], 30000), 0);
	/* roostd is up, the other actor serves, the owner serves again. */
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert(serves(ctx, "other", 10));
	ck_assert_msg(serves(ctx, "target", 50), "the owner never served again");
	fprintf(stderr, "scribble: sent");
	for (i = 0; i < PRODUCERS; i++)
		fprintf(stderr, " %llu/%llu",
		        (unsigned long long)sh->ss_sent[i],
		        (unsigned long long)sh->ss_failed[i]);
	fprintf(stderr, " (ok/failed); the mailbox moved %d time(s) under "
	        "the scribbler\n", sh->ss_moves);
	/* No actor died of a signal (roostd logs every exit). */
	ck_assert_msg(!ru_log_has("killed by signal"),
	              "an actor died of a signal: see the log");
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_scribble_system_under_roostd)
{
	pid_t prod[PRODUCERS];
	roost_ctx_t *ctx;
	roost_ctx_t *fresh;
	pid_t scrib;
	pid_t rd;
	int i;

	sh = tu_shared_alloc(sizeof(*sh));
	ru_setup_names();
	ru_write_config("[system]\nmailbox_bytes = 65536\n"
	                "[actor target]\nprogram = %s\n"
	                "[actor other]\nprogram = %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "target", 5000);
	tu_whereis_wait(ctx, "other", 5000);
	for (i = 0; i < PRODUCERS; i++)
		prod[i] = tu_fork(producer, (void *)(intptr_t)i);
	scrib = tu_fork(scribbler, (void *)1);
	ck_assert_int_eq(tu_wait(scrib, 60000), 0);
	__atomic_store_n(&sh->ss_stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < PRODUCERS; i++)
		ck_assert_int_eq(tu_wait(prod[i], 30000), 0);
	/* Our own slot was scribbled too (roostd does not own it): look
	 * with a new context. roostd is up and its actors serve again. */
	fresh = open_again();
	ck_assert_int_eq(waitpid(rd, NULL, WNOHANG), 0);
	ck_assert_msg(serves(fresh, "other", 50), "other never served again");
	ck_assert_msg(serves(fresh, "target", 50), "target never served again");
	fprintf(stderr, "scribble (system): sent");
	for (i = 0; i < PRODUCERS; i++)
		fprintf(stderr, " %llu/%llu",
		        (unsigned long long)sh->ss_sent[i],
		        (unsigned long long)sh->ss_failed[i]);
	fprintf(stderr, " (ok/failed)\n");
	ck_assert_msg(!ru_log_has("killed by signal"),
	              "an actor died of a signal: see the log");
	ck_assert_msg(ru_log_has("restored from roostd's"),
	              "roostd restored nothing: see the log");
	roost_ctx_close(ctx);
	ck_assert_int_eq(roost_ctx_close(fresh), 0);
	ru_stop_roostd(rd);
}
END_TEST

static Suite *
scribble_suite(void)
{
	Suite *s = suite_create("scribble");

	suite_add_tcase(s, tu_tcase("test_scribble_mailbox_under_roostd",
	                            test_scribble_mailbox_under_roostd, 180));
	suite_add_tcase(s, tu_tcase("test_scribble_system_under_roostd",
	                            test_scribble_system_under_roostd, 180));
	return s;
}

int
main(void)
{
	return tu_run(scribble_suite());
}
