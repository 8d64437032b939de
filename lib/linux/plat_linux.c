/* SPDX-License-Identifier: MIT */
/*
 * plat_linux.c - the Linux implementation of plat.h: shm_open/mmap under
 * /dev/shm, futex, clock_gettime, /proc process identity, fork.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "roost.h"
#include "linux/plat.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int
roost__plat_seg_create(const char *name, size_t len, unsigned mode,
                       struct roost__seg *out)
{
	return roost__plat_seg_create_gid(name, len, mode, -1, out);
}

int
roost__plat_seg_create_gid(const char *name, size_t len, unsigned mode,
                           int64_t gid, struct roost__seg *out)
{
	int rc;
	int fd;
	void *base;

	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	              (mode_t)mode);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	/* The umask may have narrowed 'mode'; the config decides, not it. */
	if (fchmod(fd, (mode_t)mode) < 0 ||
	    (gid >= 0 && fchown(fd, (uid_t)-1, (gid_t)gid) < 0)) {
		rc = -errno;
		goto out_unlink;
	}
	/* posix_fallocate reserves tmpfs pages now, so a full /dev/shm is a
	 * clean -ENOSPC here and never a SIGBUS on first touch later. */
	rc = -posix_fallocate(fd, 0, (off_t)len);
	if (rc == -EINVAL || rc == -EOPNOTSUPP) {
		rc = ftruncate(fd, (off_t)len) < 0 ? -errno : 0;
	}
	if (rc < 0)
		goto out_unlink;
	/* MAP_POPULATE: a page fault costs ~5-11 us on this VM; paying for
	 * all pages at open keeps them out of the first pass of messages. */
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	            fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto out_unlink;
	}
	close(fd);
	out->sg_base = base;
	out->sg_len = len;
	return 0;

out_unlink:
	shm_unlink(name);
	close(fd);
out:
	return rc;
}

int
roost__plat_seg_open(const char *name, size_t min_len, size_t max_len,
                     struct roost__seg *out)
{
	return roost__plat_seg_open_trust(name, min_len, max_len,
	                                  (uint32_t)geteuid(), -1, out);
}

int
roost__plat_seg_open_trust(const char *name, size_t min_len, size_t max_len,
                           uint32_t uid, int64_t gid, struct roost__seg *out)
{
	int rc;
	int fd;
	struct stat st;
	void *base;
	size_t len;

	fd = shm_open(name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out_close;
	}
	/* Never trust an object another user could have planted: ours,
	 * the system owner's, or the granted group's (0660, that group). */
	if (st.st_uid != geteuid() && st.st_uid != uid &&
	    !(gid >= 0 && st.st_gid == (gid_t)gid &&
	      (st.st_mode & 0777) == 0660)) {
		rc = -EPERM;
		goto out_close;
	}
	if (st.st_size < 0 || (uint64_t)st.st_size < min_len) {
		rc = ROOST_ECORRUPT; /* never mapped past its end */
		goto out_close;
	}
	len = (uint64_t)st.st_size > max_len ? max_len : (size_t)st.st_size;
	base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
	            fd, 0);
	if (base == MAP_FAILED) {
		rc = -errno;
		goto out_close;
	}
	out->sg_base = base;
	out->sg_len = len;
	rc = 0;
out_close:
	close(fd);
out:
	return rc;
}

void
roost__plat_seg_unmap(struct roost__seg *seg)
{
	if (seg->sg_base != NULL)
		munmap(seg->sg_base, seg->sg_len);
	seg->sg_base = NULL;
	seg->sg_len = 0;
}

int
roost__plat_seg_unlink(const char *name)
{
	return shm_unlink(name) < 0 ? -errno : 0;
}

int
roost__plat_seg_rename(const char *from, const char *to)
{
	char a[NAME_MAX + 16];
	char b[NAME_MAX + 16];

	/* shm_open names are files in /dev/shm on Linux (glibc). */
	if (snprintf(a, sizeof(a), "/dev/shm%s", from) >= (int)sizeof(a) ||
	    snprintf(b, sizeof(b), "/dev/shm%s", to) >= (int)sizeof(b))
		return -ENAMETOOLONG;
	return rename(a, b) < 0 ? -errno : 0;
}

int
roost__plat_seg_list(const char *prefix,
                     void (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d;
	struct dirent *de;
	char name[NAME_MAX + 2];
	size_t plen;
	int n = 0;

	/* shm_open names map to files in /dev/shm on Linux (glibc). */
	d = opendir("/dev/shm");
	if (d == NULL)
		return -errno;
	plen = strlen(prefix);
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, prefix + 1, plen - 1) != 0)
			continue;
		snprintf(name, sizeof(name), "/%s", de->d_name);
		fn(name, arg);
		n++;
	}
	closedir(d);
	return n;
}

/* The thread's identity, read once per thread (gettid and /proc cost
 * system calls); a forked child clears the forking thread's copy. */
__thread uint32_t roost__plat_tid __attribute__((tls_model("initial-exec")));
__thread uint64_t roost__plat_start1
	__attribute__((tls_model("initial-exec")));
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void
forget_thread_id(void)
{
	roost__plat_tid = 0;
	roost__plat_start1 = 0;
}

static void
register_atfork(void)
{
	pthread_atfork(NULL, NULL, forget_thread_id);
}

uint32_t
roost__plat_thread_id_slow(uint64_t *start1)
{
	uint64_t start;
	uint32_t tid;

	pthread_once(&atfork_once, register_atfork);
	tid = (uint32_t)gettid();
	roost__plat_start1 =
		roost__plat_proc_start((pid_t)tid, &start) == 0 ? start + 1 : 0;
	roost__plat_tid = tid; /* last: the fast path trusts both once set */
	*start1 = roost__plat_start1;
	return tid;
}

int
roost__plat_futex_wait(uint32_t *addr, uint32_t expect, int64_t rel_ns)
{
	struct timespec ts;
	struct timespec *tsp = NULL;
	long r;

	if (rel_ns >= 0) {
		ts.tv_sec = rel_ns / 1000000000;
		ts.tv_nsec = rel_ns % 1000000000;
		tsp = &ts;
	}
	/* Not FUTEX_PRIVATE_FLAG: the word is shared between processes. */
	r = syscall(SYS_futex, addr, FUTEX_WAIT, expect, tsp, NULL, 0);
	if (r < 0)
		return -errno; /* EAGAIN: value changed; ETIMEDOUT; EINTR */
	return 0;
}

int
roost__plat_futex_wake(uint32_t *addr, int n)
{
	long r = syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);
	return r < 0 ? -errno : (int)r;
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t
roost__plat_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t
roost__plat_coarse_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC_COARSE);
}

uint64_t
roost__plat_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int
roost__plat_proc_start(pid_t pid, uint64_t *start)
{
	char path[64];
	char buf[1024];
	FILE *f;
	size_t n;
	char *p;
	int field;
	unsigned long long v;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "re");
	if (f == NULL) {
		/* Only a missing entry says the process is gone; out of
		 * descriptors (EMFILE, ENFILE) or memory says nothing. */
		return errno == ENOENT || errno == ESRCH ? -ESRCH : -errno;
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name (field 2) may hold spaces and ')': skip to the
	 * last ')'. Field 3 follows it; start time is field 22. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -ESRCH;
	p++;
	/* A zombie has exited; only its parent has not reaped it yet. */
	if (p[0] == ' ' && (p[1] == 'Z' || p[1] == 'X'))
		return -ESRCH;
	for (field = 2; field < 22 && *p != '\0'; p++) {
		if (*p == ' ')
			field++;
	}
	if (field != 22 || sscanf(p, "%llu", &v) != 1)
		return -ESRCH;
	*start = v;
	return 0;
}

int
roost__plat_proc_alive(pid_t pid, uint64_t start)
{
	uint64_t now_start;
	int rc;

	if (pid <= 0)
		return 0;
	rc = roost__plat_proc_start(pid, &now_start);
	if (rc == -ESRCH)
		return 0;
	if (rc < 0)
		return 1; /* cannot tell: never judge a live process dead */
	return now_start == start;
}

int
roost__plat_cpu(void)
{
	int cpu = sched_getcpu(); /* rseq or vDSO: no system call */

	return cpu < 0 ? 0 : cpu;
}

void
roost__plat_yield(void)
{
	sched_yield();
}

pid_t
roost__plat_pid(void)
{
	return getpid();
}

uint32_t
roost__plat_uid(void)
{
	return (uint32_t)geteuid();
}

void
roost__plat_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

int
roost__plat_spawn_detached(void (*child)(void *arg, int fd), void *arg,
                           int *rfd)
{
	pid_t mid;
	pid_t pid;
	int fds[2];
	int status;
	int rc;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return -errno;
	mid = fork();
	if (mid < 0) {
		rc = -errno;
		close(fds[0]);
		close(fds[1]);
		return rc;
	}
	if (mid == 0) {
		close(fds[0]);
		pid = fork();
		if (pid == 0)
			child(arg, fds[1]); /* never returns */
		_exit(pid < 0 ? 1 : 0);
	}
	close(fds[1]);
	while (waitpid(mid, &status, 0) < 0 && errno == EINTR)
		;
	*rfd = fds[0];
	return 0;
}

int
roost__plat_read_full(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ETIMEDOUT;
		n = read(fd, (char *)buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ECHILD; /* the writer died before it said it all */
		got += (size_t)n;
	}
	return 0;
}

int
roost__plat_write_full(int fd, const void *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

void
roost__plat_close(int fd)
{
	close(fd);
}

void
roost__plat_exit(int status)
{
	_exit(status);
}
