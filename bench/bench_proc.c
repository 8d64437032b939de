/* SPDX-License-Identifier: MIT */
/*
 * bench_proc.c - a group of forked workers started together and waited
 * for with a deadline (see bench_proc.h). The parent never blocks without
 * a bound: it sleeps in sigtimedwait() on SIGCHLD and the stop signals,
 * then reaps with waitpid(WNOHANG). Also the whole-buffer pipe reads and
 * writes the pipe references share.
 */
#include "bench_proc.h"
#include "bench_util.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static sigset_t g_sigs;    /* blocked in the parent, awaited in its waits */
static sigset_t g_oldmask; /* restored in workers */

struct group {
	const char *gr_label;
	struct bench_sync *gr_sync;
	pid_t gr_parent;
	int gr_n;        /* forked so far */
	int gr_alive;    /* not yet reaped */
	pid_t *gr_pid;   /* 0 once reaped */
};

void
bench_signals_block(void)
{
	sigemptyset(&g_sigs);
	sigaddset(&g_sigs, SIGCHLD);
	sigaddset(&g_sigs, SIGINT);
	sigaddset(&g_sigs, SIGTERM);
	sigaddset(&g_sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &g_sigs, &g_oldmask);
}

/* A shared futex on 'word' (the peers are other processes). */
static void
futex_wait(atomic_int *word, int val, uint64_t rel_ns)
{
	struct timespec ts = bench_ns_to_ts(rel_ns);

	(void)syscall(SYS_futex, (int *)word, FUTEX_WAIT, val, &ts, NULL, 0);
}

static void
futex_wake_all(atomic_int *word)
{
	(void)syscall(SYS_futex, (int *)word, FUTEX_WAKE, INT_MAX, NULL, NULL,
	              0);
}

/* Workers sleep on bs_go rather than poll it: a ring of 256 polling
 * processes would keep this machine's two CPUs busy while the last ones
 * are still being forked. */
int
bench_barrier(struct bench_sync *s)
{
	uint64_t deadline = bench_now_ns() +
	                    BENCH_READY_TIMEOUT_S * 1000000000ull;
	uint64_t now;

	atomic_fetch_add(&s->bs_ready, 1);
	while (atomic_load(&s->bs_go) == 0) {
		now = bench_now_ns();
		if (now > deadline)
			return -ETIMEDOUT;
		/* Returns at once if bs_go is no longer 0; the 10 ms bound
		 * is a second guard against a missed wake. */
		futex_wait(&s->bs_go, 0, 10000000);
	}
	return 0;
}

/* The child's side: never returns. */
static void
worker_main(struct group *g, int idx, bench_worker_fn fn, void *arg)
{
	int rc;

	sigprocmask(SIG_SETMASK, &g_oldmask, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != g->gr_parent)
		_exit(1); /* the parent died before prctl() */
	alarm(BENCH_WATCHDOG_S);
	rc = fn(arg, idx);
	_exit(rc < 0 ? 1 : 0);
}

static void
report_status(const struct group *g, int i, pid_t pid, int st)
{
	const char *what = WIFSIGNALED(st) ? "killed by signal" : "exit";
	int code = WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st);

	fprintf(stderr, "roost_bench: %s worker %d (pid %d): %s %d\n",
	        g->gr_label, i, (int)pid, what, code);
}

/* Reap the workers that exited. Returns how many still run, or -ECHILD
 * if one failed. */
static int
group_reap(struct group *g)
{
	bool failed = false;
	pid_t pid;
	int st;
	int i;

	while (g->gr_alive > 0 && (pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (i = 0; i < g->gr_n && g->gr_pid[i] != pid; i++)
			;
		if (i == g->gr_n)
			continue; /* not ours */
		g->gr_pid[i] = 0;
		g->gr_alive--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			report_status(g, i, pid, st);
			failed = true;
		}
	}
	return failed ? -ECHILD : g->gr_alive;
}

/* Wait up to 'ns' for a signal, then reap. -EINTR on SIGINT and the
 * like, -ECHILD if a worker failed, else the number still running. */
static int
group_poll(struct group *g, uint64_t ns)
{
	struct timespec ts = bench_ns_to_ts(ns);
	int sig;

	sig = sigtimedwait(&g_sigs, NULL, &ts);
	if (sig > 0 && sig != SIGCHLD) {
		fprintf(stderr, "roost_bench: interrupted by signal %d\n",
		        sig);
		return -EINTR;
	}
	return group_reap(g);
}

static int
group_wait_ready(struct group *g)
{
	uint64_t deadline = bench_now_ns() +
	                    BENCH_READY_TIMEOUT_S * 1000000000ull;
	int rc;

	while (atomic_load(&g->gr_sync->bs_ready) < g->gr_n) {
		if (bench_now_ns() > deadline) {
			fprintf(stderr, "roost_bench: %s: workers did not "
			        "attach\n", g->gr_label);
			return -ETIMEDOUT;
		}
		rc = group_poll(g, 100000);
		if (rc < 0)
			return rc;
		if (rc < g->gr_n) {
			fprintf(stderr, "roost_bench: %s: a worker ended "
			        "before the start\n", g->gr_label);
			return -ECHILD;
		}
	}
	return 0;
}

static int
group_wait_done(struct group *g, int timeout_s)
{
	uint64_t deadline = bench_now_ns() + (uint64_t)timeout_s * 1000000000u;
	uint64_t t;
	int rc;

	for (;;) {
		rc = group_reap(g);
		if (rc <= 0)
			return rc;
		t = bench_now_ns();
		if (t >= deadline) {
			fprintf(stderr, "roost_bench: %s timed out\n",
			        g->gr_label);
			return -ETIMEDOUT;
		}
		rc = group_poll(g, deadline - t);
		if (rc <= 0)
			return rc;
	}
}

static void
group_kill(struct group *g)
{
	int i;

	for (i = 0; i < g->gr_n; i++) {
		if (g->gr_pid[i] > 0)
			kill(g->gr_pid[i], SIGKILL);
	}
	for (i = 0; i < g->gr_n; i++) {
		if (g->gr_pid[i] > 0)
			waitpid(g->gr_pid[i], NULL, 0);
		g->gr_pid[i] = 0;
	}
	g->gr_alive = 0;
}

int
bench_group_run(struct bench_sync *s, int n, bench_worker_fn fn,
                void *arg, const char *label, int timeout_s)
{
	struct group g = {label, s, getpid(), 0, 0, NULL};
	pid_t pid;
	int rc = 0;
	int i;

	g.gr_pid = calloc((size_t)n, sizeof(*g.gr_pid));
	if (g.gr_pid == NULL)
		return -ENOMEM;
	atomic_store(&s->bs_ready, 0);
	atomic_store(&s->bs_go, 0);
	for (i = 0; i < n && rc == 0; i++) {
		pid = fork();
		if (pid < 0) {
			rc = -errno;
			break;
		}
		if (pid == 0)
			worker_main(&g, i, fn, arg);
		g.gr_pid[i] = pid;
		g.gr_n = i + 1;
		g.gr_alive++;
	}
	if (rc == 0)
		rc = group_wait_ready(&g);
	if (rc == 0) {
		atomic_store(&s->bs_go, 1);
		futex_wake_all(&s->bs_go);
		rc = group_wait_done(&g, timeout_s);
	}
	if (rc < 0)
		group_kill(&g);
	free(g.gr_pid);
	return rc;
}

int
bench_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
bench_read_all(int fd, void *buf, size_t len)
{
	unsigned char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
