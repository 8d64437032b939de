/* SPDX-License-Identifier: MIT */
/*
 * check_scale.c - roostd with thousands of actors, and the limits it
 * checks before a start. Not timed (roost_scale10k measures): every
 * wait is for a state, bounded by WAIT_MS only so that a broken roostd
 * fails the test instead of hanging it.
 *
 *  - pool_2000: a pool of 2,000 echo actors (200 under ASan) all
 *    attach, roostctl ls
 *    lists each of them running, and the ordered shutdown stops them
 *    all and leaves nothing in /dev/shm.
 *  - request_burst: more requests than roostd handles in one loop turn
 *    (REQUESTS_PER_TURN, 256), queued while it is stopped, are each
 *    answered (the one received at the end of a turn was dropped).
 *  - open_files: with an open-files limit too low for the config's
 *    actors, roostd refuses to start (exit 1, the limit named) and
 *    starts none of them.
 */
#include "roostd_util.h"
#include "core/sup/proto.h"

#include <msgpack.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAIT_MS 120000
/* Under AddressSanitizer each echo actor takes tens of MiB: a tenth. */
#if defined(__SANITIZE_ADDRESS__)
#define POOL 200
#else
#define POOL 2000
#endif

/* roostctl --system rsys ls, its output in 'buf'. Returns its status. */
static int
roostctl_ls(char *buf, size_t len)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		close(p[0]);
		execl(ROOSTCTL_BIN, ROOSTCTL_BIN, "--system", rsys, "ls",
		      (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	ru_slurp(p[0], buf, len);
	return tu_wait(pid, WAIT_MS);
}

/* How many of w.1 .. w.POOL the listing shows running, each once. */
static int
running_members(char *list)
{
	static bool seen[POOL + 1];
	char *save = NULL;
	char *line;
	char state[32];
	int k;
	int n = 0;

	memset(seen, 0, sizeof(seen));
	for (line = strtok_r(list, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "w.%d %*s %*d %31s", &k, state) != 2 || k < 1 ||
		    k > POOL || strcmp(state, "running") != 0 || seen[k])
			continue;
		seen[k] = true;
		n++;
	}
	return n;
}

START_TEST(test_scale_pool_2000)
{
	static char list[POOL * 160 + 4096];
	char config[128];
	char last[32];
	char up[128];
	roost_ctx_t *ctx;
	pid_t rd;
	int i;

	ru_setup_names();
	snprintf(config, sizeof(config), "[system]\nslots = %d\n[actor w]\n"
	         "program = %%s\ncount = %d\n", POOL + 100, POOL);
	ru_write_config(config);
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	/* roostd says it is up once every member attached. */
	snprintf(up, sizeof(up), "system '%s' up, %d actor(s)", rsys, POOL);
	for (i = 0; i < WAIT_MS / 10 && !ru_log_has(up); i++)
		usleep(10000);
	ck_assert_msg(ru_log_has(up), "no '%s' in roostd's log", up);
	ck_assert_int_eq(roostctl_ls(list, sizeof(list)), 0);
	ck_assert_int_eq(running_members(list), POOL);
	/* The last of them answers. */
	snprintf(last, sizeof(last), "w.%d", POOL);
	ck_assert_int_gt(ru_echo_pid(ctx, tu_whereis_wait(ctx, last, 10)), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd); /* exit 0, nothing left in /dev/shm */
}
END_TEST

START_TEST(test_scale_open_files)
{
	struct rlimit rl = {128, 128};
	char err[1024];

	ru_setup_names();
	ru_write_config("[system]\nslots = 300\n"
	                "[actor w]\nprogram = %s\ncount = 200\n");
	/* This test's own process: roostd inherits the limit, soft and
	 * hard, so it cannot raise it. */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(ru_run_roostd(err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "200 actors need 456 open files") != NULL &&
	              strstr(err, "the limit is 128") != NULL,
	              "roostd said: %s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

#define BURST 300
#define BURST_WAIT_MS 20000 /* for each answer: a state, generously */

START_TEST(test_scale_request_burst)
{
	static bool seen[BURST + 1];
	msgpack_sbuffer sb;
	msgpack_packer pk;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	uint64_t corr;
	pid_t rd;
	int i;

	ru_setup_names();
	ru_write_config("");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	/* CANCEL of an alarm that does not exist: answered -ENOENT. */
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_array(&pk, 1);
	msgpack_pack_uint64(&pk, 999999);
	/* All queued while roostd is stopped: its next turn finds them. */
	ck_assert_int_eq(kill(rd, SIGSTOP), 0);
	for (i = 1; i <= BURST; i++)
		ck_assert_int_eq(roost__roostd_send(ctx, ROOST__KIND_CANCEL,
		                                    sb.data, sb.size, 1000,
		                                    (uint64_t)i), 0);
	ck_assert_int_eq(kill(rd, SIGCONT), 0);
	msgpack_sbuffer_destroy(&sb);
	for (i = 0; i < BURST; i++) {
		ck_assert_msg(roost_recv(ctx, &m, BURST_WAIT_MS) == 0,
		              "%d of %d requests answered", i, BURST);
		ck_assert_uint_eq(roost_msg_kind(m), ROOST__KIND_REPLY);
		corr = roost_msg_corr(m);
		ck_assert(corr >= 1 && corr <= BURST && !seen[corr]);
		seen[corr] = true;
	}
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

static Suite *
scale_suite(void)
{
	Suite *s = suite_create("scale");

	suite_add_tcase(s, tu_tcase("pool_2000", test_scale_pool_2000, 300));
	suite_add_tcase(s, tu_tcase("request_burst", test_scale_request_burst,
	                            60));
	suite_add_tcase(s, tu_tcase("open_files", test_scale_open_files, 60));
	return s;
}

int
main(void)
{
	return tu_run(scale_suite());
}
