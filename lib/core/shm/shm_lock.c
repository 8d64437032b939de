/* SPDX-License-Identifier: MIT */
/*
 * shm_lock.c - the process-shared lock of tag-lock (shm_format.h).
 *
 * Why not a pthread mutex: glibc keeps its robust-list links and type
 * bits inside the mutex, so a process that scribbles on one makes the
 * next locker abort (assertions in pthread_mutex_lock, or SIGILL on the
 * lock-elision path). Here every bit of the word is checked before it is
 * believed, so a scribble costs a repair, never a signal.
 *
 * Ordering: the CAS that takes the word is an acquire and the exchange
 * that drops it a release, so a holder sees every write of the previous
 * one.
 *
 * Dead holders: a crashed holder never drops the word, and there is no
 * kernel robust list to say so. A taker that outlasts its spin looks the
 * holder up in /proc (tid and start time, both in the word) and takes the
 * word over with a CAS from the value it judged, so two takers never both
 * win. Sleeping takers wake after a bounded period to look again; a lock
 * is held for the copy of one record, so this happens only under
 * contention or after a crash, never to an idle process.
 */
#include "core/shm/shm.h"

/* Tries at a busy word before the slow path (a holder holds it for a
 * copy of one record). */
#define LOCK_SPIN_TRIES 64
#define LOCK_SPIN_PAUSES 16
/* Bounds of one sleep of a waiting taker before it looks at the holder
 * again. */
#define LOCK_SLEEP_MIN_NS 1000000ull
#define LOCK_SLEEP_MAX_NS 100000000ull

/* The futex half of the word (the low 32 bits: tid and flags). */
static uint32_t *
futex_half(struct roost__lock *lk)
{
	return (uint32_t *)&lk->lk_word;
}

/* This thread's lock word. */
static uint64_t
self_word(void)
{
	uint64_t start1;
	uint32_t tid = roost__plat_thread_id(&start1);
	uint32_t start = start1 == 0 ? 0 : (uint32_t)(start1 - 1);

	return (uint64_t)start << 32 | tid;
}

void
roost__lock_init(struct roost__lock *lk)
{
	roost__store_rlx(&lk->lk_word, 0);
}

void
roost__lock_init_held(struct roost__lock *lk)
{
	roost__store_rlx(&lk->lk_word, self_word());
}

uint64_t
roost__lock_seize(struct roost__lock *lk)
{
	uint64_t me = self_word() | ROOST_LOCK_WAITERS;
	uint64_t w = roost__load_rlx(&lk->lk_word);

	while (!roost__cas_acqrel(&lk->lk_word, &w, me))
		;
	return w;
}

uint64_t
roost__lock_word(struct roost__lock *lk)
{
	return roost__load_rlx(&lk->lk_word);
}

/* A word some holder could have written: a tid in range, bit 30 clear,
 * and not ours (we never wait on ourselves: a thread that finds its own
 * tid there either holds it already, a bug, or reads a scribble). */
static bool
word_valid(uint64_t w, uint64_t me)
{
	uint32_t tid = (uint32_t)w & ROOST_LOCK_TID_MASK;

	return ((uint32_t)w & ROOST_LOCK_RESERVED) == 0 && tid != 0 &&
	       tid <= ROOST_LOCK_TID_MAX &&
	       tid != ((uint32_t)me & ROOST_LOCK_TID_MASK);
}

/* True if the holder named by 'w' is gone for sure. On doubt (/proc
 * cannot be read) it is alive. */
static bool
holder_dead(uint64_t w)
{
	pid_t tid = (pid_t)((uint32_t)w & ROOST_LOCK_TID_MASK);
	uint32_t want = (uint32_t)(w >> 32);
	uint64_t start;
	int rc = roost__plat_proc_start(tid, &start);

	if (rc == -ESRCH)
		return true;
	if (rc < 0 || want == 0)
		return false; /* cannot tell, or the holder could not say */
	return (uint32_t)start != want;
}

/* Take the word over from the value 'w' judged dead or garbage. */
static bool
take_over(struct roost__lock *lk, uint64_t w, uint64_t me)
{
	return roost__cas_acqrel(&lk->lk_word, &w, me | ROOST_LOCK_WAITERS);
}

bool
roost__lock_held(struct roost__lock *lk)
{
	return (roost__load_rlx(&lk->lk_word) &
	        ~(uint64_t)ROOST_LOCK_WAITERS) == self_word();
}

bool
roost__lock_try(struct roost__lock *lk)
{
	uint64_t w = 0;

	return roost__cas_acqrel(&lk->lk_word, &w, self_word());
}

int
roost__lock_take(struct roost__lock *lk, int timeout_ms, uint64_t *deadline)
{
	uint64_t me = self_word();
	uint64_t period = LOCK_SLEEP_MIN_NS;
	uint64_t first;
	uint64_t w = 0;
	uint64_t now;
	int64_t rel;
	bool looked = false;

	if (roost__cas_acqrel(&lk->lk_word, &w, me))
		return ROOST_LOCK_TAKEN;
	first = w;
	/* A word no holder writes is taken over at once, not spun on. */
	for (int i = 0; word_valid(w, me) && i < LOCK_SPIN_TRIES; i++) {
		for (int j = 0; j < LOCK_SPIN_PAUSES; j++)
			roost__cpu_relax();
		w = roost__load_rlx(&lk->lk_word);
		if (w == 0 && roost__cas_acqrel(&lk->lk_word, &w, me))
			return ROOST_LOCK_TAKEN;
	}
	for (;;) {
		w = roost__load_rlx(&lk->lk_word);
		if (w == 0) {
			/* Others may sleep on it: keep the waiters bit, so
			 * our drop wakes the next one. */
			if (roost__cas_acqrel(&lk->lk_word, &w,
			                      me | ROOST_LOCK_WAITERS))
				return ROOST_LOCK_TAKEN;
			continue;
		}
		if (!word_valid(w, me)) {
			if (take_over(lk, w, me))
				return ROOST_LOCK_GARBAGE;
			continue;
		}
		/* A holder that outlasted the spin, or our sleep: look it
		 * up (a /proc read, microseconds). */
		if ((w == first || looked) && holder_dead(w)) {
			if (take_over(lk, w, me))
				return ROOST_LOCK_DEAD;
			continue;
		}
		if (timeout_ms == 0)
			return -EAGAIN;
		/* Clocks are read only when we must wait: a clock read costs
		 * as much as the rest of a send. */
		rel = (int64_t)period;
		if (timeout_ms > 0) {
			now = roost__plat_now_ns();
			if (*deadline == 0)
				*deadline = now + (uint64_t)timeout_ms * 1000000u + 1;
			if (now >= *deadline)
				return -ETIMEDOUT;
			if ((int64_t)(*deadline - now) < rel)
				rel = (int64_t)(*deadline - now);
		}
		if (!((uint32_t)w & ROOST_LOCK_WAITERS)) {
			uint64_t want = w | ROOST_LOCK_WAITERS;

			if (!roost__cas_acqrel(&lk->lk_word, &w, want))
				continue;
			w = want;
		}
		/* Returns at once if the word moved; the period bounds a
		 * sleep on a holder that dies without waking us. */
		roost__plat_futex_wait(futex_half(lk), (uint32_t)w, rel);
		if (period < LOCK_SLEEP_MAX_NS)
			period *= 2;
		looked = true;
	}
}

bool
roost__lock_drop(struct roost__lock *lk)
{
	uint64_t me = self_word();
	/* Release: the holder's writes before the next holder's reads. */
	uint64_t old = roost__xchg_acqrel(&lk->lk_word, 0);

	if ((uint32_t)old & ROOST_LOCK_WAITERS)
		roost__plat_futex_wake(futex_half(lk), 1);
	return (old & ~(uint64_t)ROOST_LOCK_WAITERS) == me;
}
