/* SPDX-License-Identifier: MIT */
/*
 * watch.c - a thread that watches processes which are not roostd's
 * children (actors adopted from a previous roostd, one-shots) through
 * pidfds, which work for any process. It only hands the pids of ended
 * processes to the main loop (under a mutex) and interrupts the loop's
 * receive; everything else happens on the main thread. Where pidfd_open
 * is missing (kernels before 5.3, valgrind), a process is polled every
 * POLL_MS by pid and start time instead.
 */
#include "rd.h"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WATCH_MAX ((int)ROOST_SLOTS_MAX) /* every actor of a full table */
#define POLL_MS 50

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pollfd watch_fds[WATCH_MAX + 1]; /* [0]: the eventfd */
static pid_t watch_pids[WATCH_MAX + 1];
static uint64_t watch_starts[WATCH_MAX + 1];
static int watch_n = 1;
static pid_t ended[WATCH_MAX];
static int nended;
static bool watch_quit;
static roost_ctx_t *watch_wake;
static pthread_t watch_thread;
static bool watch_running;

/* Any entry watched by polling? */
static bool
polled(const struct pollfd *fds, int n)
{
	int i;

	for (i = 1; i < n; i++)
		if (fds[i].fd < 0)
			return true;
	return false;
}

/* Under watch_lock. */
static uint64_t
watch_start_of(pid_t pid)
{
	int j;

	for (j = 1; j < watch_n; j++)
		if (watch_pids[j] == pid)
			return watch_starts[j];
	return 0;
}

static void *
watch_main(void *arg)
{
	struct pollfd fds[WATCH_MAX + 1];
	pid_t pids[WATCH_MAX + 1];
	uint64_t v;
	int n;
	int i;

	(void)arg;
	for (;;) {
		pthread_mutex_lock(&watch_lock);
		if (watch_quit) {
			pthread_mutex_unlock(&watch_lock);
			return NULL;
		}
		n = watch_n;
		memcpy(fds, watch_fds, (size_t)n * sizeof(fds[0]));
		memcpy(pids, watch_pids, (size_t)n * sizeof(pids[0]));
		pthread_mutex_unlock(&watch_lock);
		if (poll(fds, (nfds_t)n, polled(fds, n) ? POLL_MS : -1) < 0)
			continue;
		if (fds[0].revents & POLLIN)
			(void)!read(fds[0].fd, &v, sizeof(v));
		pthread_mutex_lock(&watch_lock);
		for (i = 1; i < n; i++) {
			if (fds[i].fd < 0
			    ? roost__plat_proc_alive(pids[i], watch_start_of(pids[i]))
			    : !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			/* Remove it from the set and report it. */
			for (int j = 1; j < watch_n; j++) {
				if (watch_pids[j] == pids[i]) {
					if (watch_fds[j].fd >= 0)
						close(watch_fds[j].fd);
					watch_fds[j] = watch_fds[watch_n - 1];
					watch_pids[j] = watch_pids[watch_n - 1];
					watch_starts[j] = watch_starts[watch_n - 1];
					watch_n--;
					break;
				}
			}
			if (nended < WATCH_MAX)
				ended[nended++] = pids[i];
		}
		pthread_mutex_unlock(&watch_lock);
		roost_ctx_interrupt(watch_wake);
	}
}

int
rd_watch_start(roost_ctx_t *wake)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return -errno;
	watch_fds[0].fd = fd;
	watch_fds[0].events = POLLIN;
	sigset_t all, old;
	int rc;

	watch_wake = wake;
	/* The thread starts with every signal blocked, so roostd's handlers
	 * (which write flags only the main thread reads) run on the main
	 * thread alone. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&watch_thread, NULL, watch_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		close(fd);
		return -EAGAIN;
	}
	watch_running = true;
	return 0;
}

static void
poke(void)
{
	uint64_t one = 1;

	(void)!write(watch_fds[0].fd, &one, sizeof(one));
}

int
rd_watch_add(pid_t pid, uint64_t start)
{
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	int rc = 0;

	if (fd < 0 && errno != ENOSYS)
		return -errno;
	/* The pid may name another process by now: the pidfd (or the
	 * polling) must watch the one that started at 'start'. */
	if (!roost__plat_proc_alive(pid, start)) {
		if (fd >= 0)
			close(fd);
		return -ESRCH;
	}
	pthread_mutex_lock(&watch_lock);
	if (watch_n > WATCH_MAX) {
		rc = -ENOSPC;
		if (fd >= 0)
			close(fd);
	} else {
		watch_fds[watch_n].fd = fd; /* < 0: polled */
		watch_fds[watch_n].events = POLLIN;
		watch_pids[watch_n] = pid;
		watch_starts[watch_n] = start;
		watch_n++;
	}
	pthread_mutex_unlock(&watch_lock);
	poke();
	return rc;
}

pid_t
rd_watch_next_exit(void)
{
	pid_t pid = 0;

	pthread_mutex_lock(&watch_lock);
	if (nended > 0)
		pid = ended[--nended];
	pthread_mutex_unlock(&watch_lock);
	return pid;
}

void
rd_watch_stop(void)
{
	if (!watch_running)
		return;
	pthread_mutex_lock(&watch_lock);
	watch_quit = true;
	pthread_mutex_unlock(&watch_lock);
	poke();
	pthread_join(watch_thread, NULL);
	watch_running = false;
	while (watch_n > 1)
		if (watch_fds[--watch_n].fd >= 0)
			close(watch_fds[watch_n].fd);
	close(watch_fds[0].fd);
}
