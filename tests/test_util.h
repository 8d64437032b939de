/* SPDX-License-Identifier: MIT */
/*
 * test_util.h - helpers shared by the Check suites: a fresh system per
 * test, forked helper processes waited on with a deadline, and a count of
 * the /dev/shm objects a system left behind.
 */
#ifndef ROOST_TEST_UTIL_H
#define ROOST_TEST_UTIL_H

#include "roost_impl.h"

#include <check.h>
#include <sys/types.h>

/* The system the current test runs in (set by tu_sys_setup). */
extern char tu_sys[ROOST_SYSTEM_NAME_MAX + 1];

/* Checked fixture: create a uniquely named system / destroy it and
 * assert nothing of it is left in /dev/shm. */
void tu_sys_setup(void);
void tu_sys_teardown(void);
/* At a test's start: make tu_sys anew with 'nprivate' private lanes per
 * mailbox (0: every sender shares the locked user lane). */
void tu_sys_lanes(uint32_t nprivate);

/* A TCase running 'fn' in a fresh system, with a timeout. The system is
 * named in the parent, so a failed test's leftovers are removed there
 * too (Check skips checked teardowns of failed tests). */
TCase *tu_tcase(const char *name, const TTest *fn, int timeout_s);
/* Run 'suite' in fork mode; returns the process exit status. */
int tu_run(Suite *suite);

/*
 * Fail the test with a message. In a helper process (anything forked by
 * the test) it exits with status 90 instead: only the test process may
 * talk to Check, and a helper killed while writing to Check's pipe would
 * garble it. Helpers therefore never use ck_assert (which reports every
 * passing check too); tu_open and tu_whereis_wait are safe in them.
 */
void tu_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A user the permission tests switch to. */
struct tu_user {
	uid_t u_uid;
	gid_t u_gid;
};

/*
 * The users group tests switch to: 'nobody' (a member of the granted
 * group, its primary one) and 'daemon' (an outsider, in another group).
 * False, and a line on stderr naming 'test', when that cannot be done
 * here: not root, or no such users. 'outsider' may be NULL.
 */
bool tu_group_users(const char *test, struct tu_user *member,
                    struct tu_user *outsider);

/* In a forked helper: become 'u', with no supplementary groups. 0 or -1. */
int tu_become(const struct tu_user *u);

/* Open a context on tu_sys, optionally registering 'name'; asserts. */
roost_ctx_t *tu_open(const char *name);
/* Same with a user-lane ring of 'mbox_bytes'. */
roost_ctx_t *tu_open_sized(const char *name, uint32_t mbox_bytes);

/*
 * The bound of every wait for a state that should come soon (a reply, a
 * restart, an exit): long enough that only a hang reaches it on a loaded
 * 2-CPU machine. A test fails when it is reached; none passes because
 * of it. Shorter bounds are for waits meant to time out.
 */
#define TU_PATIENCE_MS 30000

/* Wait up to 'timeout_ms' for 'name' to be registered; asserts. */
roost_aid_t tu_whereis_wait(roost_ctx_t *ctx, const char *name,
                            int timeout_ms);

/* Fork a helper running fn(arg); its return value is its exit status. */
pid_t tu_fork(int (*fn)(void *arg), void *arg);
/* Wait for 'pid' up to 'timeout_ms'; on timeout kill it and return -1.
 * Otherwise return its exit status, or 128+signal. */
int tu_wait(pid_t pid, int timeout_ms);

/* Run argv[0] (looked up in PATH) with 'text' on its stdin, its output
 * on the test's: its exit status (127: it could not be run, with a line
 * naming scripts/deps.sh). */
int tu_run_with_input(char *const argv[], const char *text);

/* True if file 'path' has a line containing 'needle' (false if it
 * cannot be read). */
bool tu_file_has(const char *path, const char *needle);

/* Number of /dev/shm objects belonging to system 'sys'. */
int tu_shm_count(const char *sys);

/* Shared anonymous memory that survives fork (for results from helpers). */
void *tu_shared_alloc(size_t len);

#endif
