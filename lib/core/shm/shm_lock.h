/* SPDX-License-Identifier: MIT */
/*
 * shm_lock.h - roost's process-shared lock (tag-lock in shm_format.h):
 * one word naming its holder, validated by every taker, taken over from
 * a dead holder or from a word no holder writes. The caller repairs what
 * the lock guards when roost__lock_take() says so.
 */
#ifndef ROOST_CORE_SHM_LOCK_H
#define ROOST_CORE_SHM_LOCK_H

#include <stdint.h>

/* What roost__lock_take() found besides taking the lock. */
#define ROOST_LOCK_TAKEN   0 /* a clean hand-over */
#define ROOST_LOCK_DEAD    1 /* its holder had died: repair */
#define ROOST_LOCK_GARBAGE 2 /* the word held no valid holder: repair,
                                and count it as corruption */

/* A free lock (the creator, before the segment is published). */
void roost__lock_init(struct roost__lock *lk);
/* A lock held by this thread from the start (a segment published with
 * its lock held, tag-replace). */
void roost__lock_init_held(struct roost__lock *lk);

/* Take 'lk' whoever holds it, live or not, and return the word found (0:
 * it was free). Only for a structure being retired (tag-replace): the
 * holder's later writes must land where nobody reads any more. */
uint64_t roost__lock_seize(struct roost__lock *lk);

/* The current word (for a stall check: the same holder all along?). */
uint64_t roost__lock_word(struct roost__lock *lk);

/*
 * Take 'lk'. Waits up to 'timeout_ms' (< 0: no limit) measured from
 * '*deadline' (CLOCK_MONOTONIC ns; 0 means not computed yet, and it is
 * filled in only if the lock is busy). 'timeout_ms' 0 gives up after a
 * short spin with -EAGAIN, but still takes the lock over from a dead
 * holder. Returns ROOST_LOCK_TAKEN, ROOST_LOCK_DEAD, ROOST_LOCK_GARBAGE,
 * -EAGAIN or -ETIMEDOUT.
 */
int roost__lock_take(struct roost__lock *lk, int timeout_ms,
                     uint64_t *deadline);

/* True if this thread holds 'lk' (nobody took it over meanwhile). */
bool roost__lock_held(struct roost__lock *lk);

/* Take 'lk' if it is free, at once (one CAS). */
bool roost__lock_try(struct roost__lock *lk);

/* Drop 'lk'. Returns false if the word no longer named this thread (it
 * was taken over, or scribbled, while held): the caller counts it. */
bool roost__lock_drop(struct roost__lock *lk);

#endif /* ROOST_CORE_SHM_LOCK_H */
