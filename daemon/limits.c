/* SPDX-License-Identifier: MIT */
/*
 * limits.c - what the machine must allow before roostd starts the
 * config's actors, checked up front so that a system too large for it
 * fails with one clear error instead of a partial start:
 *
 *   open files  roostd holds a pidfd per actor it watches (adopted
 *               actors, one-shots: watch.c) and an exec pipe per actor
 *               starting; its own children are reaped by waitpid and
 *               cost no descriptor. The soft limit is raised to the hard
 *               one (children get the old soft limit back, exec_child);
 *               a later roostd adopting the system must be able to watch
 *               every actor, so the check is actors + a margin.
 *   processes   RLIMIT_NPROC (not for root) against the actors;
 *               kernel.pid_max and kernel.threads-max against the actors
 *               plus the threads the machine runs now.
 *   /dev/shm    room for every actor's mailbox at its configured size
 *               (segments are reserved whole when made: a full /dev/shm
 *               fails an attach, never a later write).
 *   the table   checked by the config already (slots).
 */
#include "rd.h"

#include <stdio.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* Descriptors roostd needs besides one per actor: its own segments,
 * log, lock, eventfd, exec pipes of a start window, inherited ones. */
#define FD_MARGIN 256u

static rlim_t saved_nofile = RLIM_INFINITY;

/* A number from a /proc file (the first one in it), or 0. */
static uint64_t
proc_number(const char *path)
{
	unsigned long long v = 0;
	FILE *f = fopen(path, "re");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* Threads the machine runs now: the fourth field of /proc/loadavg is
 * "runnable/total". */
static uint64_t
threads_now(void)
{
	unsigned long long total = 0;
	FILE *f = fopen("/proc/loadavg", "re");

	if (f == NULL)
		return 0;
	if (fscanf(f, "%*s %*s %*s %*u/%llu", &total) != 1)
		total = 0;
	fclose(f);
	return total;
}

static uint32_t
config_actors(const struct rd_config *cfg)
{
	uint32_t n = 0;
	int i;

	for (i = 0; i < cfg->rc_nactors; i++)
		n += cfg->rc_actors[i].ra_count;
	return n;
}

static int
check_files(uint32_t n, char *why, size_t len)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return 0;
	saved_nofile = rl.rlim_cur;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)n + FD_MARGIN) {
		snprintf(why, len, "%u actors need %u open files (a pidfd each "
		         "when a roostd adopts them), but the limit is %llu: "
		         "raise it (ulimit -n, LimitNOFILE=)", n, n + FD_MARGIN,
		         (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

static int
check_processes(uint32_t n, char *why, size_t len)
{
	uint64_t pid_max = proc_number("/proc/sys/kernel/pid_max");
	uint64_t threads_max = proc_number("/proc/sys/kernel/threads-max");
	uint64_t running = threads_now();
	struct rlimit rl;

	/* The limit counts the user's processes, which we do not count:
	 * the actors alone must fit it. */
	if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur <= (rlim_t)n) {
		snprintf(why, len, "%u actors exceed the process limit %llu: "
		         "raise it (ulimit -u, LimitNPROC=)", n,
		         (unsigned long long)rl.rlim_cur);
		return -1;
	}
	if (pid_max != 0 && n + running >= pid_max) {
		snprintf(why, len, "%u actors and the %llu threads running now "
		         "exceed kernel.pid_max %llu", n,
		         (unsigned long long)running, (unsigned long long)pid_max);
		return -1;
	}
	if (threads_max != 0 && n + running >= threads_max) {
		snprintf(why, len, "%u actors and the %llu threads running now "
		         "exceed kernel.threads-max %llu", n,
		         (unsigned long long)running,
		         (unsigned long long)threads_max);
		return -1;
	}
	return 0;
}

static int
check_shm(const struct rd_config *cfg, char *why, size_t len)
{
	const roost_sys_opts_t *o = &cfg->rc_sys;
	uint32_t sys_cap = roost__mbox_sys_lane_size(o->max_msg);
	uint64_t need = 0;
	struct statvfs vfs;
	uint32_t user;
	int i;

	if (statvfs("/dev/shm", &vfs) < 0)
		return 0;
	for (i = 0; i < cfg->rc_nactors; i++) {
		const struct rd_actor *a = &cfg->rc_actors[i];

		user = roost__mbox_ring_size(a->ra_mbox_bytes != 0
		                             ? a->ra_mbox_bytes : o->mbox_bytes);
		need += (uint64_t)a->ra_count *
		        roost__mbox_seg_size(sys_cap, user, o->private_lanes);
	}
	if (need > (uint64_t)vfs.f_bavail * vfs.f_frsize) {
		snprintf(why, len, "the actors' mailboxes need %llu KiB of "
		         "/dev/shm, %llu KiB are free",
		         (unsigned long long)(need >> 10),
		         (unsigned long long)(((uint64_t)vfs.f_bavail *
		                               vfs.f_frsize) >> 10));
		return -1;
	}
	return 0;
}

int
rd_limits_check(const struct rd_config *cfg, char *why, size_t len)
{
	uint32_t n = config_actors(cfg);

	return check_files(n, why, len) < 0 || check_processes(n, why, len) < 0
	       ? -1 : 0;
}

int
rd_limits_check_shm(const struct rd_config *cfg, char *why, size_t len)
{
	return check_shm(cfg, why, len);
}

void
rd_limits_restore(void)
{
	struct rlimit rl;

	if (saved_nofile == RLIM_INFINITY || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	rl.rlim_cur = saved_nofile;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}
