/* SPDX-License-Identifier: MIT */
/*
 * bench_proc.h - run a group of forked worker processes for one
 * measurement: fork them, let each attach to its channels, start them
 * together through a barrier in shared memory, wait for them with a
 * deadline, and kill whatever is left when something fails. Every
 * benchmark of roost_bench (two workers for a ping-pong, up to 257 for
 * the token ring) goes through it, so every one is bounded the same way.
 *
 * The parent blocks SIGCHLD, SIGINT, SIGTERM and SIGHUP once
 * (bench_signals_block) and waits for them with sigtimedwait(); a worker
 * restores the old mask, ignores SIGPIPE, dies with its parent
 * (PR_SET_PDEATHSIG) and sets an alarm() as the last resort.
 */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <stdatomic.h>
#include <stddef.h>

#define BENCH_READY_TIMEOUT_S 10 /* workers must attach within this */
#define BENCH_WATCHDOG_S 45      /* a worker's own alarm() */

/* The start line, in a MAP_SHARED mapping the caller makes before any
 * fork. The parent resets it; bench_group_run() does. */
struct bench_sync {
	_Alignas(64) atomic_int bs_ready; /* workers attached */
	atomic_int bs_go;                 /* set by the parent: start */
};

/*
 * What a worker runs, in the child, with its index 0..n-1: attach to its
 * channels, call bench_barrier(), measure, release. Returns 0 or a
 * negative code; it prints its own error (it knows what it was doing).
 */
typedef int (*bench_worker_fn)(void *arg, int idx);

/* Block the signals the parent awaits. main() calls this once, before
 * the first group. */
void bench_signals_block(void);

/* All of 'len' bytes to / from 'fd', through EINTR: 0, a negative errno,
 * or -ECONNRESET when the writer closed first. */
int bench_write_all(int fd, const void *buf, size_t len);
int bench_read_all(int fd, void *buf, size_t len);

/* In a worker: announce readiness, then wait for the parent's go (at
 * most BENCH_READY_TIMEOUT_S). 0 or -ETIMEDOUT. */
int bench_barrier(struct bench_sync *s);

/*
 * Fork 'n' workers running 'fn'(arg, i), wait until all are attached,
 * start them, and wait until all have exited or 'timeout_s' passed.
 * 'label' names the group in messages. Returns 0; -ECHILD if a worker
 * failed (reported), -ETIMEDOUT, -EINTR on SIGINT and the like, -ENOMEM,
 * or a fork() error. No worker is left running on any return.
 */
int bench_group_run(struct bench_sync *s, int n, bench_worker_fn fn,
                    void *arg, const char *label, int timeout_s);

#endif /* BENCH_PROC_H */
