/* SPDX-License-Identifier: MIT */
/*
 * check_examples.c - the examples of the transaction story and the
 * notes' other patterns, run as a newcomer runs them: each binary in a
 * process group of its own, its stdout captured, its exit status and its
 * verdict line checked, with a deadline (a hung example is killed with
 * its whole group and fails). Every example makes a private system; none
 * may leave anything of it in /dev/shm.
 *
 *  tx_getset      get-then-set from two clients loses updates (> 0)
 *  tx_update      one atomic UPDATE message: none lost
 *  tx_atomically  completes; --fifo: both waits time out, in seconds
 *  oneshot        fire-and-forget job, daemon one-shot (own roostd)
 *  ticker_alarm   interval, alarm that cancels it (own roostd)
 *  graceful_stop  backlog handled, later sends -ESHUTDOWN
 *  readme_using_it  the README's "Using it" program, built from the
 *                 README itself: plain sends unanswered, the call
 *                 answered with their total
 */
#include "roostd_util.h"

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#define OUT_MAX 8192

struct run {
	pid_t rn_pid;
	int rn_status;         /* exit status, 128+signal, -1 killed late */
	double rn_ms;          /* wall time */
	char rn_out[OUT_MAX];  /* stdout */
};

static double
now_ms(void)
{
	return (double)roost__plat_now_ns() / 1e6;
}

/* Read 'fd' into r->rn_out until it closes or 'deadline' (ms) passes.
 * Returns false on the deadline. */
static bool
read_until(int fd, struct run *r, double deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;
	int left;

	for (;;) {
		left = (int)(deadline - now_ms());
		if (left <= 0)
			return false;
		if (poll(&p, 1, left) <= 0)
			continue; /* EINTR or the deadline: looked at above */
		n = read(fd, r->rn_out + got, sizeof(r->rn_out) - 1 - got);
		if (n <= 0)
			return true; /* EOF: every writer has exited */
		got += (size_t)n;
		r->rn_out[got] = '\0';
		if (got + 1 == sizeof(r->rn_out))
			return true; /* more than we look at */
	}
}

/*
 * Run the example 'path' with the NULL-terminated arguments after it,
 * for at most 'timeout_ms'. The child only execs: it never talks to
 * Check. Its stderr stays the test's, for the log.
 */
static void
run_example(struct run *r, int timeout_ms, const char *path, ...)
{
	const char *argv[8];
	double deadline;
	va_list ap;
	int n = 0;
	int p[2];

	argv[n++] = path;
	va_start(ap, path);
	while (n < 7 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pipe(p), 0);
	r->rn_ms = now_ms();
	deadline = r->rn_ms + timeout_ms;
	r->rn_pid = fork();
	ck_assert_int_ge(r->rn_pid, 0);
	if (r->rn_pid == 0) {
		/* A group of its own: its actors and roostd die with it. */
		setpgid(0, 0);
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	setpgid(r->rn_pid, r->rn_pid); /* either side may win the race */
	close(p[1]);
	if (!read_until(p[0], r, deadline))
		kill(-r->rn_pid, SIGKILL); /* hung: the whole group */
	close(p[0]);
	r->rn_status = tu_wait(r->rn_pid, (int)(deadline - now_ms()) + 1000);
	r->rn_ms = now_ms() - r->rn_ms;
	fprintf(stderr, "--- %s (exit %d, %.0f ms):\n%s", path, r->rn_status,
	        r->rn_ms, r->rn_out);
}

/* The example's system ("PREFIX-PID") is gone from /dev/shm. */
static void
assert_clean(const struct run *r, const char *prefix)
{
	char sys[ROOST_SYSTEM_NAME_MAX + 1];
	int left;

	snprintf(sys, sizeof(sys), "%s-%d", prefix, (int)r->rn_pid);
	left = tu_shm_count(sys);
	if (left != 0)
		roost_system_destroy(sys); /* for the next run's sake */
	ck_assert_msg(left == 0, "%s left %d objects in /dev/shm", sys, left);
}

/* The line of 'r's output that starts with 'head', or fail. */
static const char *
line(const struct run *r, const char *head)
{
	const char *s = r->rn_out;

	while (s != NULL && *s != '\0') {
		if (strncmp(s, head, strlen(head)) == 0)
			return s;
		s = strchr(s, '\n');
		s = s != NULL ? s + 1 : NULL;
	}
	ck_abort_msg("no line '%s...' in:\n%s", head, r->rn_out);
	return NULL;
}

START_TEST(test_examples_getset_loses_updates)
{
	struct run r;
	long lost;
	long total;

	run_example(&r, 60000, TX_GETSET_BIN, NULL);
	ck_assert_int_eq(r.rn_status, 0);
	ck_assert_int_eq(sscanf(line(&r, "lost updates: "),
	                        "lost updates: %ld of %ld", &lost, &total), 2);
	ck_assert_int_eq(total, 20000);
	ck_assert_int_gt(lost, 0);
	ck_assert_int_lt(lost, total);
	assert_clean(&r, "tx_getset");
}
END_TEST

START_TEST(test_examples_update_loses_none)
{
	struct run r;
	long lost;
	long total;

	run_example(&r, 60000, TX_UPDATE_BIN, NULL);
	ck_assert_int_eq(r.rn_status, 0);
	ck_assert_int_eq(sscanf(line(&r, "lost updates: "),
	                        "lost updates: %ld of %ld", &lost, &total), 2);
	ck_assert_int_eq(total, 20000);
	ck_assert_int_eq(lost, 0);
	assert_clean(&r, "tx_update");
}
END_TEST

START_TEST(test_examples_atomically)
{
	struct run r;
	double ms;

	/* Two lanes and selective receive: it completes, and at once. */
	run_example(&r, 10000, TX_ATOMICALLY_BIN, NULL);
	ck_assert_int_eq(r.rn_status, 0);
	ck_assert_int_eq(sscanf(line(&r, "transaction completed in "),
	                        "transaction completed in %lf ms", &ms), 1);
	ck_assert(ms < 400); /* far below the 500 ms timeouts */
	line(&r, "  the auditor saw 100:");
	line(&r, "  committed: balance 70, 120 after the DEPOSIT");
	assert_clean(&r, "tx_atomically");
	/* One FIFO queue: deadlock, ended by both timeouts, not a hang. */
	run_example(&r, 10000, TX_ATOMICALLY_BIN, "--fifo", NULL);
	ck_assert_int_eq(r.rn_status, 0);
	line(&r, "--fifo: both calls timed out");
	line(&r, "  auditor's call of GET_BALANCE: ETIMEDOUT after");
	line(&r, "  owner's wait for the verdict:  ETIMEDOUT after");
	line(&r, "  aborted: balance 100 (unchanged), 150 after the DEPOSIT");
	ck_assert_msg(r.rn_ms >= 1000 && r.rn_ms < 3000, "%.0f ms", r.rn_ms);
	assert_clean(&r, "tx_atomically");
}
END_TEST

START_TEST(test_examples_oneshot)
{
	struct run r;

	run_example(&r, 30000, ONESHOT_BIN, "--roostd", ROOSTD_BIN, NULL);
	ck_assert_int_eq(r.rn_status, 0);
	line(&r, "oneshot: roostd's DOWN notice for 'job': normal, exit "
	         "status 0, not restarted");
	line(&r, "oneshot: a send to its old address now: ESRCH");
	line(&r, "oneshot: fire-and-forget job finished (exit 0, not "
	         "restarted); shutdown did not wait for the daemon one-shot");
	assert_clean(&r, "oneshot");
}
END_TEST

START_TEST(test_examples_ticker_alarm)
{
	struct run r;
	long before;
	long after;

	run_example(&r, 30000, TICKER_ALARM_BIN, "--roostd", ROOSTD_BIN,
	            NULL);
	ck_assert_int_eq(r.rn_status, 0);
	ck_assert_int_eq(sscanf(line(&r, "ticker: "), "ticker: %ld ticks, "
	                        "then the alarm cancelled the interval; %ld "
	                        "ticks after the cancel", &before, &after), 2);
	ck_assert_int_ge(before, 1);
	ck_assert_int_le(before, 6); /* 275 ms at one per 50 ms */
	ck_assert_int_le(after, 1);
	line(&r, "ticker_alarm: 200 ms later: ");
	assert_clean(&r, "ticker_alarm");
}
END_TEST

START_TEST(test_examples_graceful_stop)
{
	struct run r;
	int handled;
	int jobs;
	int refused;
	int late;

	run_example(&r, 30000, GRACEFUL_STOP_BIN, NULL);
	ck_assert_int_eq(r.rn_status, 0);
	ck_assert_int_eq(sscanf(line(&r, "graceful stop: "), "graceful stop: "
	                        "%d of %d queued jobs handled, %d of %d later "
	                        "sends refused (-ESHUTDOWN)", &handled, &jobs,
	                        &refused, &late), 4);
	ck_assert_int_eq(handled, jobs);
	ck_assert_int_gt(jobs, 0);
	ck_assert_int_eq(refused, late);
	ck_assert_int_gt(late, 0);
	line(&r, "graceful_stop: a send after the stop: ESHUTDOWN");
	assert_clean(&r, "graceful_stop");
}
END_TEST

START_TEST(test_examples_readme)
{
	struct run r;

	run_example(&r, 30000, README_USING_IT_BIN, NULL);
	ck_assert_int_eq(r.rn_status, 0);
	line(&r, "readme: total 10");
	assert_clean(&r, "readme");
}
END_TEST

static Suite *
examples_suite(void)
{
	Suite *s = suite_create("examples");

	suite_add_tcase(s, tu_tcase("examples_getset",
	                            test_examples_getset_loses_updates, 120));
	suite_add_tcase(s, tu_tcase("examples_update",
	                            test_examples_update_loses_none, 120));
	suite_add_tcase(s, tu_tcase("examples_atomically",
	                            test_examples_atomically, 60));
	suite_add_tcase(s, tu_tcase("examples_oneshot", test_examples_oneshot,
	                            60));
	suite_add_tcase(s, tu_tcase("examples_ticker_alarm",
	                            test_examples_ticker_alarm, 60));
	suite_add_tcase(s, tu_tcase("examples_graceful_stop",
	                            test_examples_graceful_stop, 60));
	suite_add_tcase(s, tu_tcase("examples_readme", test_examples_readme,
	                            60));
	return s;
}

int
main(void)
{
	return tu_run(examples_suite());
}
