/* SPDX-License-Identifier: MIT */
/*
 * test_util.c - see test_util.h.
 */
#include "test_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char tu_sys[ROOST_SYSTEM_NAME_MAX + 1];
static pid_t test_pid; /* the forked test process, set in tu_sys_setup */

void
tu_fail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (getpid() != test_pid) {
		/* A helper: Check's pipe belongs to the test process. */
		fprintf(stderr, "helper %d: %s\n", (int)getpid(), msg);
		_exit(90);
	}
	ck_abort_msg("%s", msg);
}

/* Unchecked fixtures: run in the parent around each TCase. */
static void
name_setup(void)
{
	static unsigned counter;

	snprintf(tu_sys, sizeof(tu_sys), "t%d-%u", (int)getpid(), counter++);
	roost_system_destroy(tu_sys); /* a leftover of a killed run */
}

static void
unlink_one(const char *name, void *arg)
{
	(void)arg;
	roost__plat_seg_unlink(name);
}

/* Removes the test's system and any other system a test derived from its
 * name (such as "NAME-b"). */
static void
name_teardown(void)
{
	char prefix[ROOST_SHM_NAME_MAX];

	roost__sys_shm_name(prefix, sizeof(prefix), tu_sys);
	roost__plat_seg_list(prefix, unlink_one, NULL);
}

TCase *
tu_tcase(const char *name, const TTest *fn, int timeout_s)
{
	TCase *tc = tcase_create(name);

	tcase_add_unchecked_fixture(tc, name_setup, name_teardown);
	tcase_add_checked_fixture(tc, tu_sys_setup, tu_sys_teardown);
	tcase_set_timeout(tc, timeout_s);
	tcase_add_test(tc, fn);
	return tc;
}

int
tu_run(Suite *suite)
{
	SRunner *sr = srunner_create(suite);
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

void
tu_sys_setup(void)
{
	int rc;

	test_pid = getpid();
	rc = roost_system_create(tu_sys, NULL);
	ck_assert_msg(rc == 0, "create %s: %s", tu_sys, roost_strerror(rc));
}

void
tu_sys_lanes(uint32_t nprivate)
{
	roost_sys_opts_t o;
	int rc;

	roost_system_destroy(tu_sys);
	roost_sys_opts_init(&o);
	o.private_lanes = nprivate;
	rc = roost_system_create(tu_sys, &o);
	ck_assert_msg(rc == 0, "create %s: %s", tu_sys, roost_strerror(rc));
}

void
tu_sys_teardown(void)
{
	roost_system_destroy(tu_sys);
	ck_assert_int_eq(tu_shm_count(tu_sys), 0);
}

bool
tu_group_users(const char *test, struct tu_user *member,
               struct tu_user *outsider)
{
	const struct passwd *pw;

	if (geteuid() != 0) {
		fprintf(stderr, "%s: skipped: switching to another uid needs "
		        "root (this runs as uid %u)\n",
		        test, (unsigned)geteuid());
		return false;
	}
	/* getpwnam's result is overwritten by the next call: copy. */
	pw = getpwnam("nobody");
	member->u_uid = pw ? pw->pw_uid : 0;
	member->u_gid = pw ? pw->pw_gid : 0;
	pw = getpwnam("daemon");
	if (member->u_uid == 0 || pw == NULL || pw->pw_uid == 0 ||
	    pw->pw_gid == member->u_gid) {
		fprintf(stderr, "%s: skipped: needs users 'nobody' and "
		        "'daemon' in different groups\n", test);
		return false;
	}
	if (outsider != NULL) {
		outsider->u_uid = pw->pw_uid;
		outsider->u_gid = pw->pw_gid;
	}
	return true;
}

int
tu_become(const struct tu_user *u)
{
	return setgroups(0, NULL) < 0 || setgid(u->u_gid) < 0 ||
	               setuid(u->u_uid) < 0
	           ? -1
	           : 0;
}

roost_ctx_t *
tu_open_sized(const char *name, uint32_t mbox_bytes)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.name = name;
	o.mbox_bytes = mbox_bytes;
	rc = roost_ctx_open(&ctx, &o);
	if (rc != 0)
		tu_fail("open %s: %s", name ? name : "-", roost_strerror(rc));
	return ctx;
}

roost_ctx_t *
tu_open(const char *name)
{
	return tu_open_sized(name, 0);
}

roost_aid_t
tu_whereis_wait(roost_ctx_t *ctx, const char *name, int timeout_ms)
{
	roost_aid_t aid = ROOST_AID_NONE;
	int i;
	int rc = -ENOENT;

	for (i = 0; i < timeout_ms && rc == -ENOENT; i++) {
		rc = roost_whereis(ctx, name, &aid);
		if (rc == -ENOENT)
			usleep(1000);
	}
	if (rc != 0)
		tu_fail("whereis %s: %s", name, roost_strerror(rc));
	return aid;
}

pid_t
tu_fork(int (*fn)(void *arg), void *arg)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(fn(arg));
	return pid;
}

int
tu_wait(pid_t pid, int timeout_ms)
{
	int status;
	int i;
	pid_t r;

	for (i = 0; i < timeout_ms * 10; i++) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		usleep(100);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int
tu_shm_count(const char *sys)
{
	char prefix[ROOST_SHM_NAME_MAX];
	size_t plen;
	DIR *d;
	struct dirent *de;
	int n = 0;

	roost__sys_shm_name(prefix, sizeof(prefix), sys);
	plen = strlen(prefix + 1);
	d = opendir("/dev/shm");
	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix + 1, plen) == 0 &&
		    (de->d_name[plen] == '\0' || de->d_name[plen] == '.'))
			n++;
	}
	closedir(d);
	return n;
}

void *
tu_shared_alloc(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
	               MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	ck_assert_ptr_ne(p, MAP_FAILED);
	return p;
}

bool
tu_file_has(const char *path, const char *needle)
{
	char line[1024];
	bool found = false;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

int
tu_run_with_input(char *const argv[], const char *text)
{
	char path[64];
	pid_t pid;
	FILE *f;
	int fd;
	int rc;

	snprintf(path, sizeof(path), "/tmp/roost-input-%d", (int)getpid());
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		fd = open(path, O_RDONLY);
		if (fd < 0 || dup2(fd, 0) < 0)
			_exit(126);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s (scripts/deps.sh installs it)\n",
		        argv[0], strerror(errno));
		_exit(127);
	}
	rc = tu_wait(pid, TU_PATIENCE_MS);
	unlink(path);
	return rc;
}
