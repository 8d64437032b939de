/* SPDX-License-Identifier: MIT */
/*
 * plat.h - the contract behind which libroost makes its OS calls:
 * shared-memory objects, futexes, clocks, process identity and the one
 * process libroost starts (a detached one-shot). lib/linux/plat_linux.c
 * is its one implementation (Linux: futex, /proc, /dev/shm); lib/core/
 * makes no system call of its own. This layer includes nothing of
 * lib/core/ (only the public roost.h, for its error codes).
 */
#ifndef ROOST_LINUX_PLAT_H
#define ROOST_LINUX_PLAT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* A mapped shared-memory object. */
struct roost__seg {
	void *sg_base;
	size_t sg_len;
};

/*
 * Create shared-memory object 'name' (O_EXCL) of 'len' bytes with 'mode',
 * map it read-write and zero-filled. -EEXIST if it exists. On success the
 * caller unmaps with roost__plat_seg_unmap() and, to remove the object,
 * calls roost__plat_seg_unlink().
 */
int roost__plat_seg_create(const char *name, size_t len, unsigned mode,
                           struct roost__seg *out);
/* The same, then handed to group 'gid' (>= 0), so that the members a
 * system grants access to can open it. */
int roost__plat_seg_create_gid(const char *name, size_t len, unsigned mode,
                               int64_t gid, struct roost__seg *out);

/*
 * Open and map an existing object read-write. 'min_len' is the least size
 * that makes sense to the caller: a smaller object is ROOST_ECORRUPT
 * (never mapped past its end). 'max_len' bounds what is mapped.
 */
int roost__plat_seg_open(const char *name, size_t min_len, size_t max_len,
                         struct roost__seg *out);
/*
 * The same with a wider trust: an object owned by us or by 'uid' (a
 * system's owner), or, when 'gid' >= 0, one of mode 0660 that belongs to
 * group 'gid' (the group the system grants access to: any member may
 * have created it). Anything else is -EPERM.
 */
int roost__plat_seg_open_trust(const char *name, size_t min_len,
                               size_t max_len, uint32_t uid, int64_t gid,
                               struct roost__seg *out);

/* Unmap; a zeroed 'seg' is a no-op. */
void roost__plat_seg_unmap(struct roost__seg *seg);

/* Give object 'from' the name 'to', atomically replacing any object of
 * that name (openers see the old one or the new one, never none). */
int roost__plat_seg_rename(const char *from, const char *to);

/* Remove the object's name. -ENOENT if it was not there. */
int roost__plat_seg_unlink(const char *name);

/*
 * Call 'fn' for every /dev/shm object whose name starts with 'prefix'
 * (names passed with a leading '/'). Returns the number visited or a
 * negative errno.
 */
int roost__plat_seg_list(const char *prefix,
                         void (*fn)(const char *name, void *arg), void *arg);

/*
 * The calling thread's identity for lock words: its thread id and its
 * start time + 1 (0 when /proc could not be read). Cached per thread
 * (initial-exec TLS: no call on the send path), renewed in a forked
 * child.
 */
extern __thread uint32_t roost__plat_tid
	__attribute__((tls_model("initial-exec")));
extern __thread uint64_t roost__plat_start1
	__attribute__((tls_model("initial-exec")));
uint32_t roost__plat_thread_id_slow(uint64_t *start1);

static inline uint32_t
roost__plat_thread_id(uint64_t *start1)
{
	if (__builtin_expect(roost__plat_tid == 0, 0))
		return roost__plat_thread_id_slow(start1);
	*start1 = roost__plat_start1;
	return roost__plat_tid;
}

/* Futexes on shared (not private) memory. */
int roost__plat_futex_wait(uint32_t *addr, uint32_t expect, int64_t rel_ns);
int roost__plat_futex_wake(uint32_t *addr, int n);

/* The CPU this thread runs on now (a hint: it may move at once). */
int roost__plat_cpu(void);

/* Let another runnable thread on this CPU run (sched_yield). */
void roost__plat_yield(void);

/* CLOCK_MONOTONIC and its cheap, coarse variant, in nanoseconds. */
uint64_t roost__plat_now_ns(void);
uint64_t roost__plat_coarse_ns(void);
uint64_t roost__plat_realtime_ns(void);

/*
 * Identity of a live process: its start time in clock ticks since boot
 * (field 22 of /proc/PID/stat). Together with the pid it names one process
 * even after the pid is reused. Returns 0 and sets '*start', -ESRCH if
 * there is no such process (or only its zombie), or another negative
 * errno (-EMFILE, -ENFILE, -ENOMEM) when /proc could not be read, which
 * says nothing about the process.
 */
int roost__plat_proc_start(pid_t pid, uint64_t *start);

/* True if 'pid' still runs and started at 'start', and also when that
 * cannot be told (out of descriptors): a slot, a name or a mailbox is
 * never taken from a process on doubt. */
int roost__plat_proc_alive(pid_t pid, uint64_t start);

/* This process's pid and effective uid. */
pid_t roost__plat_pid(void);
uint32_t roost__plat_uid(void);

/* Sleep about 'ms' milliseconds (a signal may cut it short). */
void roost__plat_sleep_ms(int ms);

/*
 * Run child(arg, fd) in a new process that is nobody's child but init's
 * (or a subreaper's): forked twice, so no caller ever reaps it. 'fd' is
 * the write end of a pipe whose read end, close-on-exec, is '*rfd' for
 * the caller. child() must end the process (roost__plat_exit). Returns 0
 * once the intermediate process has been reaped, or a negative errno.
 */
int roost__plat_spawn_detached(void (*child)(void *arg, int fd), void *arg,
                               int *rfd);

/* Read exactly 'len' bytes from 'fd', waiting at most 'ms' for each
 * part: 0, -ETIMEDOUT, or -ECHILD when the writer closed first. */
int roost__plat_read_full(int fd, void *buf, size_t len, int ms);
/* Write all of 'buf': 0 or a negative errno. */
int roost__plat_write_full(int fd, const void *buf, size_t len);
void roost__plat_close(int fd);
/* End this process now, without atexit handlers (a forked child). */
__attribute__((noreturn)) void roost__plat_exit(int status);

#endif /* ROOST_LINUX_PLAT_H */
