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
	const struct tu_user u = {pw->pw_uid, pw->pw_gid};
	char shm[ROOST_SHM_NAME_MAX];
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	int fd;

	if (tu_become(&u) < 0)
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

struct guest_arg {
	struct tu_user ga_user;
	char ga_ref[64]; /* "0:NAME" */
	int ga_expect; /* 0: may come in; else the error expected */
};

/* roost_systems_fn: set *arg when the system named 'arg' is listed. */
struct find_system {
	const char *fs_name;
	bool fs_found;
	bool fs_readable;
};

static int
find_system(void *arg, const roost_sysinfo_t *info, int err)
{
	struct find_system *fs = arg;

	if (strcmp(info->name, fs->fs_name) == 0) {
		fs->fs_found = true;
		fs->fs_readable = err == 0;
	}
	return 0;
}

/* As another user: open root's system through its group, or fail; a
 * member's list of systems has it, an outsider's does not. */
static int
guest(void *arg)
{
	const struct guest_arg *ga = arg;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	struct find_system fs = {ga->ga_ref, false, false};
	roost_aid_t owner;
	roost_msg_t *m;
	int rc;

	if (tu_become(&ga->ga_user) < 0)
		return 10;
	if (roost_systems_list(find_system, &fs) < 0)
		return 15;
	if (fs.fs_found != (ga->ga_expect == 0) ||
	    fs.fs_readable != (ga->ga_expect == 0))
		return 16;
	roost_ctx_opts_init(&o);
	o.system = ga->ga_ref;
	o.name = "guest";
	rc = roost_ctx_open(&ctx, &o);
	if (ga->ga_expect != 0)
		return rc == ga->ga_expect ? 0 : 11;
	if (rc != 0)
		return 12;
	if (roost_whereis(ctx, "owner", &owner) != 0 ||
	    roost_send(ctx, owner, 5, "hi", 2, 1000) != 0)
		return 13;
	if (roost_recv(ctx, &m, 5000) != 0 || roost_msg_kind(m) != 6)
		return 14;
	roost_ctx_close(ctx);
	return 0;
}

/* A system granting a group: a member (another uid) opens it as
 * "UID:NAME" and exchanges messages both ways; a user outside the group
 * cannot open it. */
START_TEST(test_group_access)
{
	struct guest_arg *ga = tu_shared_alloc(sizeof(*ga));
	char sys[ROOST_SYSTEM_NAME_MAX + 16];
	roost_sys_opts_t so;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	struct tu_user member, outsider;
	char path[160];
	struct stat st;
	roost_msg_t *m;
	pid_t pid;

	if (!tu_group_users("check_perm group_access", &member, &outsider))
		return;
	snprintf(sys, sizeof(sys), "%s-g", tu_sys);
	roost_sys_opts_init(&so);
	so.mode = 0660;
	so.gid = member.u_gid;
	ck_assert_int_eq(roost_system_create(sys, &so), 0);
	snprintf(path, sizeof(path), "/dev/shm/roost.0.%s", sys);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0660);
	ck_assert_uint_eq(st.st_gid, member.u_gid);
	roost_ctx_opts_init(&o);
	o.system = sys;
	o.name = "owner";
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	snprintf(ga->ga_ref, sizeof(ga->ga_ref), "0:%s", sys);
	ga->ga_user = member;
	ga->ga_expect = 0;
	pid = tu_fork(guest, ga);
	ck_assert_int_eq(roost_recv(ctx, &m, 10000), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 5);
	/* The guest's mailbox is its own, in the granted group: we may. */
	ck_assert_int_eq(roost_send(ctx, roost_msg_from(m), 6, NULL, 0, 1000),
	                 0);
	ck_assert_int_eq(tu_wait(pid, 10000), 0);
	ga->ga_user = outsider;
	ga->ga_expect = -EACCES;
	ck_assert_int_eq(tu_wait(tu_fork(guest, ga), 10000), 0);
	/* Nobody creates in another user's namespace. */
	ck_assert_int_eq(roost_system_create("1:theirs", NULL), -EPERM);
	roost_ctx_close(ctx);
	ck_assert_int_eq(roost_system_destroy(sys), 0);
	ck_assert_int_eq(tu_shm_count(sys), 0);
}
END_TEST

static Suite *
perm_suite(void)
{
	Suite *s = suite_create("perm");

	suite_add_tcase(s, tu_tcase("other_uid", test_other_uid_refused, 30));
	suite_add_tcase(s, tu_tcase("group_access", test_group_access, 30));
	return s;
}

int
main(void)
{
	return tu_run(perm_suite());
}
