/* SPDX-License-Identifier: MIT */
/*
 * timers.h - roostd's alarm table: send_after and intervals kept in a
 * shared-memory object, so that a roostd killed with SIGKILL leaves them
 * behind and the next roostd adopts them (or names exactly the ones it
 * could not keep). roostd is the only writer; tools read the table
 * concurrently with roost__timers_snapshot(). The due-time order lives in a
 * min-heap in roostd's own memory and is rebuilt on adoption.
 *
 * The table's format, and the reader tools use, are the library's:
 * lib/core/shm/timer_table.h.
 */
#ifndef ROOSTD_TIMERS_H
#define ROOSTD_TIMERS_H

#include "roost_impl.h"

/* rd_timers_fire() handles at most this many timers per call. */
#define RD_TIMERS_FIRE_MAX 4096u
/* A delivery refused with -EAGAIN is retried this much later. */
#define RD_TIMERS_RETRY_NS 1000000u

/* --- Interface ---------------------------------------------------------- */

/* The mapping plus the in-process heap. Not thread-safe: one thread of
 * roostd uses it. */
struct rd_timers;


/*
 * Create the table for 'system' with room for 'cap' timers
 * (ROOST_TMR_CAP_MIN..MAX), permission bits 'mode' and group 'gid' as
 * the system's objects (0600 and -1, or 0660 and the granted group).
 * Only roostd calls this.
 * - Returns 0 and sets '*out' (free with rd_timers_close()), -EEXIST if a
 *   table exists (adopt it), -EINVAL for bad arguments, -ENOMEM, or the
 *   error of creating the object (-ENOSPC: /dev/shm full).
 * - On failure nothing is left behind.
 */
int rd_timers_create(struct rd_timers **out, const char *system, uint32_t cap,
                     unsigned mode, int64_t gid);

/*
 * Adopt the table a previous roostd left. Only roostd calls this, and only
 * when no other roostd of 'system' runs (it becomes the writer).
 * - Every entry is validated; one that is malformed is cleared and
 *   reported through lost(arg, id, why), with 'id' 0 when unreadable. A
 *   one-shot the old roostd was delivering is reported "may have fired"
 *   and dropped (never sent twice). 'lost' may be NULL.
 * - Returns 0 and sets '*out' (free with rd_timers_close()); -ENOENT if no
 *   table exists (create one); ROOST_ECORRUPT for a bad header (including
 *   a table whose creator died before publishing it): unlink and create;
 *   -EPERM if another user owns the object; -ENOMEM.
 */
int rd_timers_adopt(struct rd_timers **out, const char *system,
                    void (*lost)(void *arg, uint64_t id, const char *why),
                    void *arg);

/* Unmap and free 't' (NULL is a no-op). The object stays, for adoption. */
void rd_timers_close(struct rd_timers *t);

/* Remove the table of 'system'. 0, -ENOENT if there was none, -EINVAL. */
int rd_timers_unlink(const char *system);


/*
 * Arm a timer: deliver 'kind' with a copy of 'data' ('size' bytes) to 'to'
 * at 'due_ns' (CLOCK_MONOTONIC), then every 'interval_ns' if that is not
 * 0. 'flags' are ROOST_SEND_* (at most 16 bits). Sets '*id'. A due time
 * (or a tick) of UINT64_MAX is never: the timer waits to be cancelled.
 * - Returns 0, -ENOSPC (table full), -EMSGSIZE (size > ROOST_TIMER_DATA_MAX),
 *   -EINVAL (zero target, flags past 16 bits, NULL data with a size),
 *   -EOVERFLOW (ids exhausted: 2^44 of them).
 */
int rd_timers_add(struct rd_timers *t, roost_aid_t to, roost_aid_t owner,
                  uint64_t due_ns, uint64_t interval_ns, uint32_t kind,
                  uint32_t flags, const void *data, size_t size,
                  uint64_t *id);

/* Cancel timer 'id'. 0, or -ENOENT if it is not live (ids are never
 * reused: a stale id never cancels another timer). */
int rd_timers_cancel(struct rd_timers *t, uint64_t id);

/* Remove every timer aimed at 'to' (it stopped for good); returns how
 * many. O(live timers). */
int rd_timers_drop_target(struct rd_timers *t, roost_aid_t to);

/* The earliest due time (a delivery being retried counts at its retry
 * time); false when no timer is pending. O(1). */
bool rd_timers_next_due(const struct rd_timers *t, uint64_t *due_ns);

/*
 * Fire every timer due at or before 'now', earliest first, at most
 * RD_TIMERS_FIRE_MAX per call (the rest wait for the next call): for each,
 * send(arg, view, data). In that view tv_due_ns is the time this delivery
 * was due (its retry time if it is a retry) and tv_fired counts the
 * earlier deliveries; 'data' (== view->tv_data) is a private copy.
 * - send returns 0 (delivered), -EAGAIN (mailbox full: kept, retried
 *   RD_TIMERS_RETRY_NS after 'now', not counted), or another negative
 *   code (target gone: the timer is dropped).
 * - Delivered one-shots are freed; intervals are re-armed at the next tick
 *   of their original schedule after 'now' (missed ticks are skipped,
 *   never sent in a burst; a retry does not shift the schedule).
 * - send must not call rd_timers_* on 't'.
 * Returns the number delivered.
 */
int rd_timers_fire(struct rd_timers *t, uint64_t now,
                   int (*send)(void *arg, const struct roost__timer_view *v,
                               const void *data),
                   void *arg);

/* Live timers. */
uint32_t rd_timers_count(const struct rd_timers *t);

/* roostd's counters in the table's header (daemon/stats.c writes them). */
struct roost__tmr_stats *rd_timers_stats(struct rd_timers *t);

/* Capacity (entries). */
uint32_t rd_timers_cap(const struct rd_timers *t);


#endif /* ROOSTD_TIMERS_H */
