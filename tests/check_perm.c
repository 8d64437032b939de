/* SPDX-License-Identifier: MIT */
/*
 * check_perm.c - another uid cannot open a system or send to it: every
 * object is 0600 and owned by its creator, and names carry the creator's
 * uid (so another user's roost_ctx_open looks in its own namespace). As
 * root, a helper drops to "nobody" and tries; as anyone else the test is
 * skipped, saying why.
 */
#include "test_util.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* In the helper, as nobody: each way in must be refused. */
static int
intruder(void *arg)
{
	const struct passwd *pw = arg;
	char shm[ROOST_SHM_NAME_MAX];
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	int fd;

	if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return 10;
	/* Through the library: our own namespace has no such system. */
	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	if (roost_ctx_open(&ctx, &o) != -ENOENT)
		return 11;
	/* Straight at the owner's objects: the system segment and slot 0's
	 * mailbox (the test's own context). */
	snprintf(shm, sizeof(shm), "/roost.0.%s", tu_sys);
	fd = shm_open(shm, O_RDWR, 0);
	if (fd >= 0 || errno != EACCES)
		return 12;
	fd = shm_open(shm, O_RDONLY, 0);
	if (fd >= 0 || errno != EACCES)
		return 13;
	snprintf(shm, sizeof(shm), "/roost.0.%s.0", tu_sys);
	fd = shm_open(shm, O_RDWR, 0);
	if (fd >= 0 || errno != EACCES)
		return 14;
	return 0;
}

START_TEST(test_other_uid_refused)
{
	roost_ctx_t *ctx;
	struct passwd *pw;
	char path[128];
	struct stat st;

	if (geteuid() != 0) {
		fprintf(stderr, "check_perm: skipped: switching to another uid "
		        "needs root (this runs as uid %u)\n",
		        (unsigned)geteuid());
		return;
	}
	pw = getpwnam("nobody");
	if (pw == NULL) {
		fprintf(stderr, "check_perm: skipped: no user 'nobody'\n");
		return;
	}
	ctx = tu_open("owner");
	ck_assert_uint_eq(roost_aid_slot(roost_self(ctx)), 0);
	/* 0600, owned by us. */
	snprintf(path, sizeof(path), "/dev/shm/roost.0.%s", tu_sys);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.st_uid, 0);
	snprintf(path, sizeof(path), "/dev/shm/roost.0.%s.0", tu_sys);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(tu_wait(tu_fork(intruder, pw), 10000), 0);
	roost_ctx_close(ctx);
}
END_TEST

static Suite *
perm_suite(void)
{
	Suite *s = suite_create("perm");

	suite_add_tcase(s, tu_tcase("other_uid", test_other_uid_refused, 30));
	return s;
}

int
main(void)
{
	return tu_run(perm_suite());
}
