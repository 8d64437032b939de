/* SPDX-License-Identifier: MIT */
/*
 * timers.h - roostd's alarm table: send_after and intervals kept in a
 * shared-memory object, so that a roostd killed with SIGKILL leaves them
 * behind and the next roostd adopts them (or names exactly the ones it
 * could not keep). roostd is the only writer; tools read the table
 * concurrently with rd_timers_snapshot(). The due-time order lives in a
 * min-heap in roostd's own memory and is rebuilt on adoption.
 *
 * FORMAT (version RD_TMR_VERSION; docs/shm-format.md, "alarm table", is the long form)
 *
 * One object per system, /dev/shm/roost.UID.SYSTEM.timers, created O_EXCL
 * with the system's mode (0600 or 0660) and removed with the system
 * (roost_system_destroy removes every "roost.UID.SYSTEM." object). All
 * integers are native-endian; there are no pointers.
 *
 *   [struct rd_tmr_hdr     RD_TMR_HDR_SIZE (256) bytes]
 *   [struct rd_tmr_entry   RD_TMR_ENTRY_SIZE (256) bytes  x tf_cap]
 *
 * - Header: the creator writes th_fixed once (magic "RTMR", version, sizes,
 *   cap, mode, uid, map size, system name), then release-stores th_state =
 *   RD_TMR_READY (tag-tmr-publish). Openers acquire-load th_state, copy
 *   th_fixed, validate the copy against the constants, the mapped size,
 *   their uid and the system name, and use only the copy.
 * - th_next_seq is the id sequence: never reused, it persists across
 *   adoption. roostd stores it (relaxed: readers only display it; a crash
 *   leaves every store of the dead writer visible) before it writes an
 *   entry holding the id, and an adopter raises it past every id it finds,
 *   so an id is never handed out twice.
 * - Timer ids: (sequence << 20) | entry index. The index makes cancel O(1);
 *   the sequence makes a stale id miss a newer timer in the same entry.
 *   Sequence 0 does not exist, so no id is 0.
 * - Entry: a 56-byte record of fields (te_rec), a checksum (te_sum: a
 *   64-bit multiply-xor hash of te_rec and the first tr_size payload bytes,
 *   folded to 32 bits), a sequence word (te_seq), then RD_TIMER_DATA_MAX
 *   payload bytes. tr_state is FREE (0), ARMED (1) or FIRING (2); a FREE
 *   entry's record and checksum are all zero.
 * - Seqlock (tag-tmr-seq): roostd makes te_seq odd (relaxed store, then a
 *   release fence) before it changes an entry, writes the record, payload
 *   and checksum, then makes te_seq even with a release store. A reader
 *   acquire-loads te_seq (even, else retry), copies the entry, issues an
 *   acquire fence, re-reads te_seq (relaxed) and keeps the copy only if
 *   the word did not change; an entry that never settles is skipped.
 * - Crash protocol (tag-tmr-firing): a one-shot is set FIRING before it is
 *   handed to its mailbox and freed after; an adopter reports a FIRING
 *   entry as "may have fired" and drops it. An interval's next due time
 *   (and fired count) is written before its tick is sent, so a tick may be
 *   lost but is never sent twice. A delivery refused with -EAGAIN is
 *   retried from roostd's memory only: after a crash a one-shot retries at
 *   its stored due time, an interval's refused tick is lost.
 * - Torn writes: within one write (odd te_seq) the FREE state is stored
 *   first when freeing (tag-tmr-free-first), so an interrupted free reads
 *   as FREE. Any other write interrupted after it changed a byte fails the
 *   checksum and the timer is reported lost ("interrupted write"); none of
 *   those writes records a completed send. A write interrupted before it
 *   changed anything leaves a valid entry, which is kept. The writer is
 *   single-threaded, so one kill interrupts at most one write or one send:
 *   at most one timer is lost per crash.
 * - Adoption trusts nothing: bad state, size, checksum, an id that does
 *   not match its index, a zero target, a FIRING interval, or a FREE entry
 *   that is not all zero: the entry is cleared and reported.
 */
#ifndef ROOSTD_TIMERS_H
#define ROOSTD_TIMERS_H

#include "roost_impl.h"

/* Payload bytes kept inline per timer: what roost_send_after takes. */
#define RD_TIMER_DATA_MAX ROOST_TIMER_DATA_MAX
/* The table's size bounds, which the config's "timers" key takes too
 * (config.h). */
#define RD_TIMERS_CAP_MIN 16u
#define RD_TIMERS_CAP_MAX (1u << 20)
/* rd_timers_fire() handles at most this many timers per call. */
#define RD_TIMERS_FIRE_MAX 4096u
/* A delivery refused with -EAGAIN is retried this much later. */
#define RD_TIMERS_RETRY_NS 1000000u

/* --- Shared-memory format --------------------------------------------- */

#define RD_TMR_MAGIC      0x524d5452u /* "RTMR" */
#define RD_TMR_VERSION    1u
#define RD_TMR_HDR_SIZE   256u
#define RD_TMR_ENTRY_SIZE 256u
#define RD_TMR_IDX_BITS   20
#define RD_TMR_IDX_MASK   ((1u << RD_TMR_IDX_BITS) - 1)
#define RD_TMR_SEQ_MAX    ((UINT64_C(1) << (64 - RD_TMR_IDX_BITS)) - 1)

#define RD_TMR_INIT  0u /* being created; not yet trusted */
#define RD_TMR_READY 1u /* th_fixed valid; tag-tmr-publish */

#define RD_TE_FREE   0u
#define RD_TE_ARMED  1u
#define RD_TE_FIRING 2u /* a one-shot being handed to its mailbox */

/* Written once by the creator before th_state becomes READY. */
struct rd_tmr_fixed {
	uint32_t tf_magic;
	uint32_t tf_version;
	uint32_t tf_hdr_size;       /* RD_TMR_HDR_SIZE */
	uint32_t tf_entry_size;     /* RD_TMR_ENTRY_SIZE */
	uint32_t tf_data_max;       /* RD_TIMER_DATA_MAX */
	uint32_t tf_cap;            /* entries, RD_TIMERS_CAP_MIN..MAX */
	uint32_t tf_mode;           /* 0600 or 0660 */
	uint32_t tf_uid;
	uint64_t tf_map_size;       /* header + tf_cap entries */
	uint64_t tf_created_rt_ns;  /* CLOCK_REALTIME at creation */
	char tf_name[32];           /* the system, NUL-terminated */
};

struct rd_tmr_hdr {
	struct rd_tmr_fixed th_fixed;
	roost__atomic_u32 th_state;     /* RD_TMR_*; tag-tmr-publish */
	roost__atomic_i32 th_owner_pid; /* current roostd (display) */
	roost__atomic_u64 th_next_seq;  /* next id sequence, >= 1 */
	roost__atomic_u64 th_adoptions; /* times adopted (display) */
	roost__atomic_u32 th_live;      /* live timers (display) */
	uint32_t th_pad0;
	uint8_t th_pad[RD_TMR_HDR_SIZE - sizeof(struct rd_tmr_fixed) - 32];
};

/* The fields of a timer, covered by te_sum. No padding holes. */
struct rd_tmr_rec {
	uint8_t tr_state;        /* RD_TE_* */
	uint8_t tr_size;         /* payload bytes, <= RD_TIMER_DATA_MAX */
	uint16_t tr_flags;       /* ROOST_SEND_* */
	uint32_t tr_kind;
	uint64_t tr_id;          /* (sequence << 20) | index */
	uint64_t tr_to;          /* target address, never 0 */
	uint64_t tr_owner;       /* who asked for it, may be 0 */
	uint64_t tr_due_ns;      /* CLOCK_MONOTONIC */
	uint64_t tr_interval_ns; /* 0: one-shot */
	uint64_t tr_fired;       /* deliveries so far */
};

struct rd_tmr_entry {
	struct rd_tmr_rec te_rec;
	uint32_t te_sum;              /* of te_rec and te_data[0..size) */
	roost__atomic_u32 te_seq;     /* odd while roostd writes; tag-tmr-seq */
	uint8_t te_data[RD_TIMER_DATA_MAX];
};

static_assert(sizeof(struct rd_tmr_hdr) == RD_TMR_HDR_SIZE, "timer header");
static_assert(offsetof(struct rd_tmr_hdr, th_state) == 80, "timer header");
static_assert(sizeof(struct rd_tmr_rec) == 56, "timer record");
static_assert(offsetof(struct rd_tmr_rec, tr_id) == 8, "timer record");
static_assert(offsetof(struct rd_tmr_entry, te_seq) == 60, "timer entry");
static_assert(offsetof(struct rd_tmr_entry, te_data) == 64, "timer entry");
static_assert(sizeof(struct rd_tmr_entry) == RD_TMR_ENTRY_SIZE,
              "timer entry");
static_assert(RD_TIMER_DATA_MAX <= UINT8_MAX, "tr_size is one byte");
static_assert(RD_TIMERS_CAP_MAX - 1 <= RD_TMR_IDX_MASK,
              "every index fits the id's index bits");

/* --- Interface ---------------------------------------------------------- */

/* The mapping plus the in-process heap. Not thread-safe: one thread of
 * roostd uses it. */
struct rd_timers;

struct rd_timer_view {
	uint64_t tv_id;          /* never 0 */
	roost_aid_t tv_to;       /* target mailbox */
	roost_aid_t tv_owner;    /* who asked for it (may be ROOST_AID_NONE) */
	uint64_t tv_due_ns;      /* CLOCK_MONOTONIC */
	uint64_t tv_interval_ns; /* 0: one-shot */
	uint32_t tv_kind;
	uint32_t tv_flags;       /* ROOST_SEND_* flags to send with */
	uint32_t tv_size;        /* payload bytes */
	uint64_t tv_fired;       /* times fired so far */
	const void *tv_data;     /* the payload, valid during the callback */
};

/*
 * Create the table for 'system' with room for 'cap' timers
 * (RD_TIMERS_CAP_MIN..MAX) and permission bits 'mode' (0600 or 0660, as
 * the system's objects). Only roostd calls this.
 * - Returns 0 and sets '*out' (free with rd_timers_close()), -EEXIST if a
 *   table exists (adopt it), -EINVAL for bad arguments, -ENOMEM, or the
 *   error of creating the object (-ENOSPC: /dev/shm full).
 * - On failure nothing is left behind.
 */
int rd_timers_create(struct rd_timers **out, const char *system, uint32_t cap,
                     unsigned mode);

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

/* The object's name, "/roost.UID.SYSTEM.timers", into 'buf'. 0, -EINVAL
 * (bad system name) or -ENAMETOOLONG. */
int rd_timers_shm_name(char *buf, size_t len, const char *system);

/*
 * Arm a timer: deliver 'kind' with a copy of 'data' ('size' bytes) to 'to'
 * at 'due_ns' (CLOCK_MONOTONIC), then every 'interval_ns' if that is not
 * 0. 'flags' are ROOST_SEND_* (at most 16 bits). Sets '*id'. A due time
 * (or a tick) of UINT64_MAX is never: the timer waits to be cancelled.
 * - Returns 0, -ENOSPC (table full), -EMSGSIZE (size > RD_TIMER_DATA_MAX),
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
                   int (*send)(void *arg, const struct rd_timer_view *v,
                               const void *data),
                   void *arg);

/* Live timers. */
uint32_t rd_timers_count(const struct rd_timers *t);

/* Capacity (entries). */
uint32_t rd_timers_cap(const struct rd_timers *t);

/*
 * Call fn(arg, view) for each live timer of 'system', from any process of
 * the owning uid, without the writer's cooperation. Each view is a
 * consistent copy of one entry (tag-tmr-seq); an entry that keeps changing
 * or fails validation is skipped. view->tv_data is valid during the call.
 * - Returns the number of timers passed to 'fn'; -ENOENT (no table),
 *   -EAGAIN (the table is still being created), ROOST_ECORRUPT (bad
 *   header), -EPERM, -EINVAL.
 */
int rd_timers_snapshot(const char *system,
                       void (*fn)(void *arg, const struct rd_timer_view *v),
                       void *arg);

#endif /* ROOSTD_TIMERS_H */
