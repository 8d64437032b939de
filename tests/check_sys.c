/* SPDX-License-Identifier: MIT */
/*
 * check_sys.c - systems, the actor table and names: creation and removal,
 * stale addresses, two systems side by side, a full table, slots of
 * killed processes, permissions, kinds, errors and allocation failures.
 */
#include "test_util.h"

#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_sys_names)
{
	roost_ctx_t *a = tu_open("alpha");
	roost_ctx_t *b = tu_open(NULL);
	roost_ctx_opts_t o;
	roost_ctx_t *c = NULL;
	roost_aid_t aid;
	char long_name[ROOST_NAME_MAX + 2];

	ck_assert_int_eq(roost_whereis(b, "alpha", &aid), 0);
	ck_assert(roost_aid_eq(aid, roost_self(a)));
	/* Duplicates are refused, at open and at register. */
	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.name = "alpha";
	ck_assert_int_eq(roost_ctx_open(&c, &o), -EADDRINUSE);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(roost_register(b, "alpha", roost_self(b)), -EADDRINUSE);
	/* Re-registering an actor renames it. */
	ck_assert_int_eq(roost_register(b, "beta", roost_self(b)), 0);
	ck_assert_int_eq(roost_register(b, "gamma", roost_self(b)), 0);
	ck_assert_int_eq(roost_whereis(a, "beta", &aid), -ENOENT);
	ck_assert_int_eq(roost_whereis(a, "gamma", &aid), 0);
	ck_assert(roost_aid_eq(aid, roost_self(b)));
	ck_assert_int_eq(roost_send_name(a, "gamma", 3, "x", 1, 0), 0);
	ck_assert_int_eq(roost_unregister(a, "gamma"), 0);
	ck_assert_int_eq(roost_unregister(a, "gamma"), -ENOENT);
	ck_assert_int_eq(roost_send_name(a, "gamma", 3, "x", 1, 0), -ENOENT);
	/* Bad names. */
	memset(long_name, 'n', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_int_eq(roost_register(a, long_name, roost_self(a)), -EINVAL);
	ck_assert_int_eq(roost_register(a, "", roost_self(a)), -EINVAL);
	ck_assert_int_eq(roost_register(a, "sp ace", roost_self(a)), -EINVAL);
	ck_assert_int_eq(roost_whereis(a, NULL, &aid), -EINVAL);
	ck_assert_int_eq(roost_ctx_close(b), 0);
	/* A closed actor's name is gone with it. */
	ck_assert_int_eq(roost_register(a, "gamma", ROOST_AID_NONE), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(a), 0);
}
END_TEST

static int
short_lived(void *arg)
{
	roost_ctx_t *ctx = tu_open("short");
	int *go = arg;
	int i;

	/* Wait until the parent has sent to us once (its cached mapping). */
	for (i = 0; i < 5000 && __atomic_load_n(go, __ATOMIC_ACQUIRE) == 0; i++)
		usleep(1000);
	return roost_ctx_close(ctx) == 0 ? 0 : 1;
}

START_TEST(test_sys_stale_address)
{
	roost_aid_t other;
	roost_ctx_t *a = tu_open(NULL);
	roost_ctx_t *b = tu_open(NULL);
	roost_aid_t old_b = roost_self(b);
	roost_ctx_t *c;
	int *go = tu_shared_alloc(sizeof(int));
	roost_aid_t child;
	pid_t pid;

	ck_assert_int_eq(roost_send(a, old_b, 1, NULL, 0, 0), 0);
	ck_assert_int_eq(roost_ctx_close(b), 0);
	ck_assert_int_eq(roost_send(a, old_b, 1, NULL, 0, 0), -ESRCH);
	/* The slot is reused under a new generation; the old address stays
	 * dead and the new one works. */
	c = tu_open(NULL);
	ck_assert_uint_eq(roost_aid_slot(roost_self(c)), roost_aid_slot(old_b));
	ck_assert_uint_ne(roost_aid_gen(roost_self(c)), roost_aid_gen(old_b));
	ck_assert_int_eq(roost_send(a, old_b, 1, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(roost_send(a, roost_self(c), 1, NULL, 0, 0), 0);
	/* Made-up addresses. */
	ck_assert_int_eq(roost_send(a, ROOST_AID_NONE, 1, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(roost_send(a, (roost_aid_t){((uint64_t)7 << 32) | 9999},
	                            1, NULL, 0, 0), -ESRCH);
	/* Another node's actor (node bits 16-31): not reachable from here,
	 * and never taken for the local slot with the same low bits. */
	other = (roost_aid_t){roost_self(c).id | (uint64_t)3 << 16};
	ck_assert_uint_eq(roost_aid_node(other), 3);
	ck_assert_uint_eq(roost_aid_node(roost_self(c)), 0);
	ck_assert_uint_ge(roost_aid_slot(other), ROOST_SLOTS_MAX);
	ck_assert_int_eq(roost_send(a, other, 1, NULL, 0, 0), -EHOSTUNREACH);

	/* Across processes: a peer that closes after we mapped it. */
	pid = tu_fork(short_lived, go);
	child = tu_whereis_wait(a, "short", 5000);
	ck_assert_int_eq(roost_send(a, child, 1, NULL, 0, 0), 0);
	__atomic_store_n(go, 1, __ATOMIC_RELEASE);
	ck_assert_int_eq(tu_wait(pid, 5000), 0);
	ck_assert_int_eq(roost_send(a, child, 1, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(roost_ctx_close(c), 0);
	ck_assert_int_eq(roost_ctx_close(a), 0);
}
END_TEST

START_TEST(test_sys_two_systems)
{
	char other[64];
	roost_ctx_opts_t o;
	roost_ctx_t *a1 = tu_open("rx");
	roost_ctx_t *a2;
	roost_msg_t *m;
	roost_aid_t aid;

	snprintf(other, sizeof(other), "%s-b", tu_sys);
	roost_system_destroy(other);
	ck_assert_int_eq(roost_system_create(other, NULL), 0);
	roost_ctx_opts_init(&o);
	o.system = other;
	o.name = "rx"; /* same name, other system: no clash */
	ck_assert_int_eq(roost_ctx_open(&a2, &o), 0);
	ck_assert_int_eq(roost_whereis(a2, "rx", &aid), 0);
	ck_assert(roost_aid_eq(aid, roost_self(a2)));
	ck_assert_int_eq(roost_send_name(a2, "rx", 2, NULL, 0, 0), 0);
	ck_assert_int_eq(roost_recv(a2, &m, 0), 0);
	ck_assert_int_eq(roost_recv(a1, &m, 0), -EAGAIN);
	ck_assert_int_eq(roost_ctx_close(a2), 0);
	ck_assert_int_eq(roost_system_destroy(other), 0);
	ck_assert_int_eq(tu_shm_count(other), 0);
	/* The first system is untouched. */
	ck_assert_int_eq(roost_send_name(a1, "rx", 3, NULL, 0, 0), 0);
	ck_assert_int_eq(roost_recv(a1, &m, 0), 0);
	ck_assert_uint_eq(roost_msg_kind(m), 3);
	ck_assert_int_eq(roost_ctx_close(a1), 0);
}
END_TEST

START_TEST(test_sys_lifecycle_no_leftovers)
{
	roost_ctx_t *c[5];
	struct stat st;
	char path[128];
	int i;

	ck_assert_int_eq(roost_system_create(tu_sys, NULL), -EEXIST);
	for (i = 0; i < 5; i++)
		c[i] = tu_open(NULL);
	ck_assert_int_eq(tu_shm_count(tu_sys), 6);
	/* Objects are private to the user, and the uid is in the name. */
	snprintf(path, sizeof(path), "/dev/shm/roost.%u.%s", (unsigned)geteuid(),
	         tu_sys);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_uint_eq(st.st_uid, geteuid());
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(roost_ctx_close(c[i]), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 1);
	ck_assert_int_eq(roost_system_destroy(tu_sys), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 0);
	ck_assert_int_eq(roost_system_destroy(tu_sys), -ENOENT);
	ck_assert_int_eq(roost_ctx_open(&c[0], &(roost_ctx_opts_t){
	                                                 .system = tu_sys}),
	                 -ENOENT);
}
END_TEST

START_TEST(test_sys_destroy_removes_crashed_mailboxes)
{
	roost_ctx_t *a = tu_open(NULL);
	pid_t pid = fork();

	if (pid == 0) {
		tu_open("doomed");
		kill(getpid(), SIGKILL); /* dies attached */
	}
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	ck_assert_int_eq(tu_shm_count(tu_sys), 3);
	ck_assert_int_eq(roost_ctx_close(a), 0);
	ck_assert_int_eq(roost_system_destroy(tu_sys), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 0);
}
END_TEST

START_TEST(test_sys_table_full_and_reclaim)
{
	char sys[64];
	roost_sys_opts_t so;
	roost_ctx_opts_t o;
	roost_ctx_t *c[4];
	roost_ctx_t *extra = NULL;
	roost_aid_t dead_aid;
	roost_aid_t *shared = tu_shared_alloc(sizeof(*shared));
	pid_t pid;
	int i;

	snprintf(sys, sizeof(sys), "%s-s", tu_sys);
	roost_sys_opts_init(&so);
	so.slots = 4;
	roost_system_destroy(sys);
	ck_assert_int_eq(roost_system_create(sys, &so), 0);
	roost_ctx_opts_init(&o);
	o.system = sys;
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(roost_ctx_open(&c[i], &o), 0);
	/* The fourth slot goes to a process that is killed while attached. */
	pid = fork();
	if (pid == 0) {
		roost_ctx_t *d;

		if (roost_ctx_open(&d, &o) != 0)
			_exit(1);
		*shared = roost_self(d);
		kill(getpid(), SIGKILL);
	}
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	dead_aid = *shared;
	ck_assert_int_eq(roost_send(c[0], dead_aid, 1, NULL, 0, 0), 0);
	/* Table full of live or dead holders: the dead one is reclaimed,
	 * its mailbox closed, and its old address refused from then on. */
	ck_assert_int_eq(roost_ctx_open(&c[3], &o), 0);
	ck_assert_uint_eq(roost_aid_slot(roost_self(c[3])),
	                  roost_aid_slot(dead_aid));
	ck_assert_int_eq(roost_send(c[0], dead_aid, 1, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(roost_ctx_open(&extra, &o), -ENOSPC);
	ck_assert_ptr_null(extra);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(roost_ctx_close(c[i]), 0);
	ck_assert_int_eq(roost_system_destroy(sys), 0);
	ck_assert_int_eq(tu_shm_count(sys), 0);
}
END_TEST

/* A named actor that dies without closing: its name can be taken again
 * (the dead holder's slot is reclaimed and its mailbox closed). */
START_TEST(test_sys_dead_name_reclaimed)
{
	roost_ctx_t *a = tu_open(NULL);
	roost_ctx_t *b;
	roost_aid_t old;
	roost_aid_t now;
	pid_t pid = fork();

	if (pid == 0) {
		tu_open("worker");
		kill(getpid(), SIGKILL);
	}
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	ck_assert_int_eq(roost_whereis(a, "worker", &old), 0);
	b = tu_open("worker");
	ck_assert_int_eq(roost_whereis(a, "worker", &now), 0);
	ck_assert(roost_aid_eq(now, roost_self(b)));
	ck_assert_int_eq(roost_send(a, old, 1, NULL, 0, 0), -ESRCH);
	ck_assert_int_eq(tu_shm_count(tu_sys), 3);
	ck_assert_int_eq(roost_ctx_close(b), 0);
	/* Same through register. */
	pid = fork();
	if (pid == 0) {
		roost_ctx_t *c = tu_open(NULL);

		roost_register(c, "second", roost_self(c));
		kill(getpid(), SIGKILL);
	}
	ck_assert_int_eq(tu_wait(pid, 5000), 128 + SIGKILL);
	ck_assert_int_eq(roost_register(a, "second", roost_self(a)), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 2);
	ck_assert_int_eq(roost_ctx_close(a), 0);
}
END_TEST

START_TEST(test_sys_bad_arguments)
{
	roost_sys_opts_t so;
	roost_ctx_opts_t o;
	roost_ctx_t *c = NULL;

	ck_assert_int_eq(roost_system_create("bad/name", NULL), -EINVAL);
	ck_assert_int_eq(roost_system_create("bad.name", NULL), -EINVAL);
	ck_assert_int_eq(roost_system_create(
	                         "a-name-that-is-far-too-long-for-roost", NULL),
	                 -EINVAL);
	roost_sys_opts_init(&so);
	so.slots = 0;
	ck_assert_int_eq(roost_system_create("zz-bad", &so), -EINVAL);
	roost_sys_opts_init(&so);
	so.slots = ROOST_SLOTS_MAX + 1;
	ck_assert_int_eq(roost_system_create("zz-bad", &so), -EINVAL);
	roost_sys_opts_init(&so);
	so.mode = 0666; /* never world access */
	ck_assert_int_eq(roost_system_create("zz-bad", &so), -EINVAL);
	roost_sys_opts_init(&so);
	so.max_msg = ROOST_MAX_MSG_MAX + 1; /* the system lane could not fit */
	ck_assert_int_eq(roost_system_create("zz-bad", &so), -EINVAL);
	roost_sys_opts_init(&so);
	so.mbox_bytes = 2u << 30;
	ck_assert_int_eq(roost_system_create("zz-bad", &so), -EINVAL);
	ck_assert_int_eq(tu_shm_count("zz-bad"), 0);

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.name = "with space";
	ck_assert_int_eq(roost_ctx_open(&c, &o), -EINVAL);
	o.name = NULL;
	o.mbox_bytes = 2u << 30;
	ck_assert_int_eq(roost_ctx_open(&c, &o), -EINVAL);
	ck_assert_int_eq(roost_ctx_open(NULL, &o), -EINVAL);
	o.mbox_bytes = 0;
	o.flags = 0x80; /* unknown flag */
	ck_assert_int_eq(roost_ctx_open(&c, &o), -EINVAL);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(roost_ctx_close(NULL), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 1);
}
END_TEST

START_TEST(test_sys_env_system_name)
{
	roost_ctx_t *c;

	setenv("ROOST_SYSTEM", tu_sys, 1);
	ck_assert_int_eq(roost_ctx_open(&c, NULL), 0);
	ck_assert_int_eq(tu_shm_count(tu_sys), 2);
	ck_assert_int_eq(roost_ctx_close(c), 0);
	unsetenv("ROOST_SYSTEM");
}
END_TEST

START_TEST(test_sys_kinds)
{
	roost_ctx_t *a = tu_open(NULL);
	char buf[ROOST_KIND_NAME_MAX + 1];

	ck_assert_int_eq(roost_kind_register(a, 7, "deposit"), 0);
	ck_assert_int_eq(roost_kind_register(a, 7, "deposit"), 0);
	ck_assert_int_eq(roost_kind_register(a, 7, "withdraw"), -EEXIST);
	ck_assert_int_eq(roost_kind_register(a, 8, ""), -EINVAL);
	ck_assert_int_eq(roost_kind_name(a, 7, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "deposit");
	ck_assert_int_eq(roost_kind_name(a, 7, buf, 3), -ENOBUFS);
	ck_assert_int_eq(roost_kind_name(a, 9, buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(roost_ctx_close(a), 0);
}
END_TEST

START_TEST(test_sys_errors_text)
{
	ck_assert_str_eq(roost_err_name(ROOST_ECORRUPT), "ROOST_ECORRUPT");
	ck_assert_str_eq(roost_err_name(-EAGAIN), "EAGAIN");
	ck_assert_str_eq(roost_err_name(0), "OK");
	ck_assert_str_eq(roost_strerror(ROOST_ECORRUPT),
	                 "shared memory failed validation (corrupted)");
	ck_assert_str_eq(roost_strerror(-ESRCH), "No such process");
	ck_assert_str_eq(roost_strerror(-99999), "unknown error");
}
END_TEST

START_TEST(test_sys_alloc_failure_leaves_nothing)
{
	roost_ctx_opts_t o;
	roost_ctx_t *c = NULL;
	long n;

	roost_ctx_opts_init(&o);
	o.system = tu_sys;
	o.name = "x";
	for (n = 0; n < 2; n++) {
		roost__alloc_fail_after = n;
		ck_assert_int_eq(roost_ctx_open(&c, &o), -ENOMEM);
		roost__alloc_fail_after = -1;
		ck_assert_ptr_null(c);
		ck_assert_int_eq(tu_shm_count(tu_sys), 1);
	}
	ck_assert_int_eq(roost_ctx_open(&c, &o), 0);
	ck_assert_int_eq(roost_ctx_close(c), 0);
}
END_TEST

static Suite *
sys_suite(void)
{
	Suite *s = suite_create("sys");
	struct {
		const char *name;
		const TTest *fn;
	} cases[] = {
		{"test_sys_names", test_sys_names},
		{"test_sys_stale_address", test_sys_stale_address},
		{"test_sys_two_systems", test_sys_two_systems},
		{"test_sys_lifecycle_no_leftovers",
		 test_sys_lifecycle_no_leftovers},
		{"test_sys_destroy_removes_crashed_mailboxes",
		 test_sys_destroy_removes_crashed_mailboxes},
		{"test_sys_table_full_and_reclaim",
		 test_sys_table_full_and_reclaim},
		{"test_sys_dead_name_reclaimed", test_sys_dead_name_reclaimed},
		{"test_sys_bad_arguments", test_sys_bad_arguments},
		{"test_sys_env_system_name", test_sys_env_system_name},
		{"test_sys_kinds", test_sys_kinds},
		{"test_sys_errors_text", test_sys_errors_text},
		{"test_sys_alloc_failure_leaves_nothing",
		 test_sys_alloc_failure_leaves_nothing},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		suite_add_tcase(s, tu_tcase(cases[i].name, cases[i].fn, 60));
	return s;
}

int
main(void)
{
	return tu_run(sys_suite());
}
