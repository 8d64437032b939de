/* SPDX-License-Identifier: MIT */
/*
 * timer_table.h - the format of roostd's alarm table and its reader.
 * roostd (daemon/timers.c) is the only writer; tools read the table
 * through the view API (roost_view_timers), without asking roostd.
 *
 * FORMAT (version ROOST_TMR_VERSION; docs/shm-format.md, "alarm table", is the long form)
 *
 * One object per system, /dev/shm/roost.UID.SYSTEM.timers, created O_EXCL
 * with the system's mode (0600 or 0660) and removed with the system
 * (roost_system_destroy removes every "roost.UID.SYSTEM." object). All
 * integers are native-endian; there are no pointers.
 *
 *   [struct roost__tmr_hdr     ROOST_TMR_HDR_SIZE (256) bytes]
 *   [struct roost__tmr_entry   ROOST_TMR_ENTRY_SIZE (256) bytes  x tf_cap]
 *
 * - Header: the creator writes th_fixed once (magic "RTMR", version, sizes,
 *   cap, mode, uid, map size, system name), then release-stores th_state =
 *   ROOST_TMR_READY (tag-tmr-publish). Openers acquire-load th_state, copy
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
 *   folded to 32 bits), a sequence word (te_seq), then ROOST_TIMER_DATA_MAX
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
#ifndef ROOST_CORE_TIMER_TABLE_H
#define ROOST_CORE_TIMER_TABLE_H

#include "core/shm/shm_format.h"


#define ROOST_TMR_MAGIC      0x524d5452u /* "RTMR" */
#define ROOST_TMR_VERSION    1u
/* The table's size bounds (entries), which roostd's "timers" key takes
 * too. */
#define ROOST_TMR_CAP_MIN 16u
#define ROOST_TMR_CAP_MAX (1u << 20)
#define ROOST_TMR_HDR_SIZE   256u
#define ROOST_TMR_ENTRY_SIZE 256u
#define ROOST_TMR_IDX_BITS   20
#define ROOST_TMR_IDX_MASK   ((1u << ROOST_TMR_IDX_BITS) - 1)
#define ROOST_TMR_SEQ_MAX    ((UINT64_C(1) << (64 - ROOST_TMR_IDX_BITS)) - 1)

#define ROOST_TMR_INIT  0u /* being created; not yet trusted */
#define ROOST_TMR_READY 1u /* th_fixed valid; tag-tmr-publish */

#define ROOST_TE_FREE   0u
#define ROOST_TE_ARMED  1u
#define ROOST_TE_FIRING 2u /* a one-shot being handed to its mailbox */

/* Written once by the creator before th_state becomes READY. */
struct roost__tmr_fixed {
	uint32_t tf_magic;
	uint32_t tf_version;
	uint32_t tf_hdr_size;       /* ROOST_TMR_HDR_SIZE */
	uint32_t tf_entry_size;     /* ROOST_TMR_ENTRY_SIZE */
	uint32_t tf_data_max;       /* ROOST_TIMER_DATA_MAX */
	uint32_t tf_cap;            /* entries, ROOST_TMR_CAP_MIN..MAX */
	uint32_t tf_mode;           /* 0600 or 0660 */
	uint32_t tf_uid;
	uint64_t tf_map_size;       /* header + tf_cap entries */
	uint64_t tf_created_rt_ns;  /* CLOCK_REALTIME at creation */
	char tf_name[32];           /* the system, NUL-terminated */
};

/*
 * roostd's counters for scraping (tag-tmr-stats), in the header's spare
 * bytes (a table made before them has zeros there: valid, all zero).
 * They live as long as the system: a new roostd adopts them with the
 * table and counts on. Words, in order: ROOST_TMR_LATE_BUCKETS counts of
 * alarms by lateness (not cumulative; bounds in timer_stats.c, the last
 * bucket unbounded), the lateness sum (ns), spawns that attached, their
 * spawn-to-ready sum (ns), restarts. ts_sum is a hash of the words (0
 * for all zero). Seqlock: roostd makes ts_seq odd (relaxed store, release
 * fence), stores the words and ts_sum, then makes ts_seq even (release);
 * a reader copies between two equal even loads and checks ts_sum.
 */
#define ROOST_TMR_LATE_BUCKETS 9
#define ROOST_TMR_STAT_WORDS   (ROOST_TMR_LATE_BUCKETS + 4)
struct roost__tmr_stats {
	roost__atomic_u32 ts_seq;
	roost__atomic_u32 ts_sum;
	roost__atomic_u64 ts_w[ROOST_TMR_STAT_WORDS];
};

struct roost__tmr_hdr {
	struct roost__tmr_fixed th_fixed;
	roost__atomic_u32 th_state;     /* ROOST_TMR_*; tag-tmr-publish */
	roost__atomic_i32 th_owner_pid; /* current roostd (display) */
	roost__atomic_u64 th_next_seq;  /* next id sequence, >= 1 */
	roost__atomic_u64 th_adoptions; /* times adopted (display) */
	roost__atomic_u32 th_live;      /* live timers (display) */
	uint32_t th_pad0;
	struct roost__tmr_stats th_stats; /* roostd's counters; timer_stats.h */
	uint8_t th_pad[ROOST_TMR_HDR_SIZE - sizeof(struct roost__tmr_fixed) -
	               32 - sizeof(struct roost__tmr_stats)];
};

/* The fields of a timer, covered by te_sum. No padding holes. */
struct roost__tmr_rec {
	uint8_t tr_state;        /* ROOST_TE_* */
	uint8_t tr_size;         /* payload bytes, <= ROOST_TIMER_DATA_MAX */
	uint16_t tr_flags;       /* ROOST_SEND_* */
	uint32_t tr_kind;
	uint64_t tr_id;          /* (sequence << 20) | index */
	uint64_t tr_to;          /* target address, never 0 */
	uint64_t tr_owner;       /* who asked for it, may be 0 */
	uint64_t tr_due_ns;      /* CLOCK_MONOTONIC */
	uint64_t tr_interval_ns; /* 0: one-shot */
	uint64_t tr_fired;       /* deliveries so far */
};

struct roost__tmr_entry {
	struct roost__tmr_rec te_rec;
	uint32_t te_sum;              /* of te_rec and te_data[0..size) */
	roost__atomic_u32 te_seq;     /* odd while roostd writes; tag-tmr-seq */
	uint8_t te_data[ROOST_TIMER_DATA_MAX];
};

static_assert(sizeof(struct roost__tmr_hdr) == ROOST_TMR_HDR_SIZE, "timer header");
static_assert(offsetof(struct roost__tmr_hdr, th_state) == 80, "timer header");
static_assert(offsetof(struct roost__tmr_hdr, th_stats) == 112, "timer header");
static_assert(sizeof(struct roost__tmr_rec) == 56, "timer record");
static_assert(offsetof(struct roost__tmr_rec, tr_id) == 8, "timer record");
static_assert(offsetof(struct roost__tmr_entry, te_seq) == 60, "timer entry");
static_assert(offsetof(struct roost__tmr_entry, te_data) == 64, "timer entry");
static_assert(sizeof(struct roost__tmr_entry) == ROOST_TMR_ENTRY_SIZE,
              "timer entry");
static_assert(ROOST_TIMER_DATA_MAX <= UINT8_MAX, "tr_size is one byte");
static_assert(ROOST_TMR_CAP_MAX - 1 <= ROOST_TMR_IDX_MASK,
              "every index fits the id's index bits");

/* --- Reading ------------------------------------------------------------ */

/* One timer as a reader sees it. */
struct roost__timer_view {
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

/* A private copy of an entry; only the first tr_size data bytes are
 * copied. */
struct roost__tmr_copy {
	struct roost__tmr_rec tc_rec;
	uint32_t tc_sum;
	uint8_t tc_data[ROOST_TIMER_DATA_MAX];
};

/* What a copy of an entry holds. */
enum roost__tmr_verdict {
	ROOST_TMR_FREE_ENTRY, /* free (possibly mid-free when roostd died) */
	ROOST_TMR_KEEP,       /* a whole, valid ARMED or FIRING timer */
	ROOST_TMR_LOST        /* malformed: roostd clears and reports it */
};

/* The object's name, "/roost.UID.SYSTEM.timers", into 'buf'. 0, -EINVAL
 * (bad system name) or -ENAMETOOLONG. */
int roost__timers_shm_name(char *buf, size_t len, const char *system);

/* The permission bits a table may have: 0600, or 0660 for a system
 * that grants a group. */
static inline bool
roost__tmr_mode_valid(unsigned mode)
{
	return (mode & ~0660u) == 0 && (mode & 0600u) == 0600u;
}

/* True for the all-zero record of a FREE entry. */
bool roost__tmr_rec_is_zero(const struct roost__tmr_rec *r);

/* Bytes of a table of 'cap' entries. */
size_t roost__tmr_map_size(uint32_t cap);

/* te_sum of record 'r' and its payload. Precondition: r->tr_size <=
 * ROOST_TIMER_DATA_MAX. */
uint32_t roost__tmr_sum(const struct roost__tmr_rec *r, const uint8_t *data);

/* Copy entry 'e' without the seqlock: the caller is the writer, or no
 * writer is alive. */
void roost__tmr_copy_raw(const struct roost__tmr_entry *e,
                         struct roost__tmr_copy *c);

/* A consistent copy of 'e' while roostd may be writing it (tag-tmr-seq).
 * False if the entry did not settle (a writer preempted or killed
 * mid-write, or a scribbled te_seq). */
bool roost__tmr_read(const struct roost__tmr_entry *e,
                     struct roost__tmr_copy *c);

/* Judge the copy 'c' of entry 'idx'. 'torn': its te_seq was odd (the
 * writer died inside a write); '*why' gets the reason for LOST. */
enum roost__tmr_verdict roost__tmr_judge(const struct roost__tmr_copy *c,
                                         uint32_t idx, bool torn,
                                         const char **why);

/* The id of a record if its index bits name entry 'idx', else 0. */
uint64_t roost__tmr_rec_id(const struct roost__tmr_rec *r, uint32_t idx);

/* The view of a kept copy ('v->tv_data' points into 'c'). */
void roost__tmr_view_fill(struct roost__timer_view *v,
                          const struct roost__tmr_copy *c);

/*
 * Map the table of 'system', owned by 'uid' (and group 'gid', -1: none),
 * and validate its header into 'f'. -ENOENT (no table), -EAGAIN (still
 * being created), ROOST_ECORRUPT (bad header), or the error of mapping
 * it. On success unmap 'seg' when done.
 */
int roost__tmr_open(const char *system, uint32_t uid, int64_t gid,
                    struct roost__seg *seg, struct roost__tmr_fixed *f);

/*
 * Call fn(arg, view) for each live timer of 'system' (owned by 'uid' and
 * group 'gid'), without the writer's cooperation. Each view is a
 * consistent copy of one entry (tag-tmr-seq); an entry that keeps
 * changing or fails validation is skipped. view->tv_data is valid during
 * the call; a non-zero return of 'fn' stops the walk and is returned.
 * Else returns the number of timers passed to 'fn', or an error of
 * roost__tmr_open().
 */
int roost__timers_snapshot(const char *system, uint32_t uid, int64_t gid,
                           int (*fn)(void *arg,
                                     const struct roost__timer_view *v),
                           void *arg);

#endif /* ROOST_CORE_TIMER_TABLE_H */
