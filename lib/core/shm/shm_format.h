/* SPDX-License-Identifier: MIT */
/*
 * shm_format.h - the only place that defines shared-memory structures.
 *
 * FORMAT (version ROOST_SHM_VERSION; docs/shm-format.md is the long form)
 *
 * A system NAME of user UID is one system segment, /dev/shm/roost.UID.NAME,
 * plus one mailbox segment per attached actor, /dev/shm/roost.UID.NAME.SLOT.
 * Every object is created with mode sh_mode (0600 unless a group is
 * granted). All integers are native-endian; the format never leaves the
 * machine. Structures hold offsets from their segment base, never pointers.
 *
 * System segment:
 *   [struct roost__sys_hdr   4096 bytes]
 *   [struct roost__kind      x ROOST_NKINDS]   at sf_kinds_off
 *   [struct roost__slot      x sf_nslots]      at sf_slots_off
 *   - The creator writes sh_fixed once, then release-stores sh_state =
 *     ROOST_SEG_READY (tag-seg-publish). Openers acquire-load sh_state,
 *     copy sh_fixed, validate the copy and trust only the copy.
 *   - Slots and kinds change only under sh_lock (tag-lock).
 *     A slot writer bumps sl_seq to odd before and to even after its
 *     writes (release), so lock-free readers (tools) detect a torn read
 *     and retry a bounded number of times.
 *   - sh_heartbeat_ns is written by the owner (roostd) with a relaxed store:
 *     it is a liveness hint, read for display and staleness only.
 *
 * Mailbox segment:
 *   [struct roost__mbox_hdr  ROOST_MBOX_HDR_SIZE bytes]
 *   [system lane ring        mf_cap[0] bytes]   at mf_ring_off[0]
 *   [user lane ring          mf_cap[1] bytes]   at mf_ring_off[1]
 *   [private user lanes      mf_cap[2..] bytes] at mf_ring_off[2..]
 *     (mf_nprivate of them, 0..ROOST_NPRIV_MAX; tag-private)
 *   - Each lane is a ring of variable-length records (struct roost__rec +
 *     payload, padded to ROOST_REC_ALIGN). mh_head[] and mh_tail[] are
 *     free-running byte positions; a record at position P lives at ring
 *     offset P % cap and never straddles the end: a sender that does not
 *     fit writes a PAD record up to the end and starts again at offset 0.
 *   - A record is published by one release store of its commit word,
 *     rc_commit = P + 1, written last (tag-rec-commit). The receiver
 *     acquire-loads the commit word at its head: equal to head + 1 means
 *     a whole record is there; anything else means nothing new. So the
 *     receiver never reads the senders' cache line, and a sender killed
 *     mid-write leaves nothing visible.
 *   - The commit word the receiver will look at next is always zero or
 *     stale: before committing a record ending at position E, its sender
 *     zeroes the commit word at E (senders keep ROOST_RING_SLACK bytes
 *     free so this never touches unconsumed data), and a PAD is committed
 *     only after the record it points over.
 *   - Senders (many) write only under mh_lock (tag-lock):
 *     the bytes in [tail, head + cap - ROOST_RING_SLACK), then mh_tail.
 *     mh_tail is derivable: it is the end of the chain of committed
 *     records from the head, and that is how repair re-derives it.
 *   - The receiver (one: the mailbox's owner) never takes mh_lock on the
 *     normal path. It release-stores mh_head when done with a record
 *     (tag-rec-release) and may set ROOST_REC_DONE in the flags of a
 *     record taken out of order (selective receive); senders never touch
 *     committed records ahead of the tail.
 *   - Crash repair: before writing, a sender stores mh_wip_pos = tail + 1
 *     and mh_wip_lane. Whoever next takes mh_lock from a dead holder
 *     re-derives every lane's tail by walking the committed chain from
 *     the head; if the record named by mh_wip_pos is not in the chain it
 *     was never visible, and mh_repaired counts it as dropped. A lock
 *     word no holder writes is counted in mh_corrupt and repaired so.
 *   - Wake-up (tag-wake): a receiver about to sleep reads lk_wake_seq,
 *     stores lk_sleeping = 1, issues a seq_cst fence, re-checks the chain
 *     ends and futex-waits on lk_wake_seq for a bounded period. A sender,
 *     after unlocking (a full barrier), reads lk_sleeping; only if it is
 *     set does it exchange it to 0, bump lk_wake_seq and futex-wake. An
 *     awake receiver costs a sender no system call. (lk_* live in the
 *     mutex's cache line, mh_lock.)
 *   - Replacement (tag-replace): only the owner retires its segment, when
 *     its fixed header or state word was damaged, or when a sender asks
 *     through lk_replace because one holder kept mh_lock for the unblock
 *     time (a stopped sender). It creates a new segment under a temporary
 *     name with its lock held by itself, publishes it and renames it over
 *     the old name (openers now find it and wait on its lock); then it
 *     seizes the old lock (whoever holds it), decides the fate of the
 *     record the holder
 *     named in mh_wip_pos (committed: carried over, DELIVERED; else its
 *     commit word is CASed to a value that is never a commit, DROPPED),
 *     writes mh_seized_pos/fate, release-stores lk_state = REPLACED,
 *     copies every live committed record from its head on in order and
 *     drops both locks.
 *     Senders see REPLACED under the lock and re-open the slot. A seized
 *     sender learns it when its drop finds another word: REPLACED with
 *     its own position in mh_seized_pos follows the fate; REPLACED
 *     without it means nobody saw its record, so it sends again; either
 *     way a send returns 0 only for a record that is delivered once.
 *   - Private lanes (tag-private): a sender may claim one of the user
 *     lanes 2.. (under mh_lock: pl_claim_aid/pid/start) and then writes
 *     it alone, without the lock: records as above, then pl_tail
 *     (release), then a seq_cst fence and one load of lk_state. The
 *     owner takes records from all user lanes; FIFO holds per sender
 *     because a sender switches between the shared and its private lane
 *     only once the other has been consumed past its last record.
 *     A graceful stop or a replacement cannot see private senders under
 *     the lock, so it sets lk_state first, fences, and then records in
 *     pl_mark the end of each private lane's committed chain and sets
 *     mh_marks (all under mh_lock). A record before its lane's mark is
 *     before the stop (delivered, or carried over); one at or after it
 *     is refused (-ESHUTDOWN) or sent again (-ESTALE). The fences make
 *     it exact: a sender whose post-commit load saw OPEN committed before
 *     the walk began, so its record is before the mark; one that saw
 *     another state takes mh_lock and reads its record's fate from the
 *     marks. The owner delivers a private record only if lk_state is OPEN
 *     when it looks (after the commit word) or the record is before the
 *     mark. A claimant that died is replaced at the next claim (its pid
 *     and start time no longer match): by its own address's next
 *     incarnation, or by another address once the lane holds nothing;
 *     the new claimant re-derives the tail from the chain, as repair
 *     does for the shared lanes.
 *   - Space (tag-space): a sender that finds the lane full sets
 *     mh_space_waiters and futex-waits on mh_space_seq with a bounded
 *     period; the receiver, after releasing records, bumps mh_space_seq
 *     and wakes if the flag is set. The bounded period covers the
 *     fence-free race on the receiver side, so a wake-up is never lost
 *     for longer than ROOST_SPACE_POLL_MAX_NS.
 */
#ifndef ROOST_CORE_SHM_FORMAT_H
#define ROOST_CORE_SHM_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "core/shm/atomic.h"

#define ROOST_SHM_VERSION 3u
#define ROOST_SYS_MAGIC   0x54534f52u /* "ROST" */
#define ROOST_MBOX_MAGIC  0x58424d52u /* "RMBX" */

#define ROOST_SEG_INIT  0u /* being created; not yet trusted */
#define ROOST_SEG_READY 1u /* sh_fixed / mh_fixed valid */

#define ROOST_CACHE_LINE  64
#define ROOST_SYS_HDR_SIZE 4096u
#define ROOST_MBOX_HDR_SIZE 1024u
#define ROOST_NKINDS      256u
#define ROOST_SLOTS_MAX   16384u /* < 65536: bits 16-31 of an address
                                   name its node (include/roost.h) */
#define ROOST_SLOTS_DEF   256u
#define ROOST_RING_MIN    4096u
#define ROOST_RING_MAX    (1u << 30)
/* The defaults keep an idle mailbox within 128 KiB of /dev/shm, all of
 * it reserved up front (docs/shm-format.md, "Sizes"): header 1 KiB,
 * system lane 32 KiB (two 8 KiB replies), user lane 64 KiB, one private
 * lane of 16 KiB: 113 KiB. */
#define ROOST_RING_DEF    (64u << 10)
#define ROOST_MAX_MSG_DEF (8u << 10)
/* Largest payload a system may allow: the system lane must hold two of
 * them within ROOST_RING_MAX (see sys_lane_size in ctx.c). */
#define ROOST_MAX_MSG_MAX (ROOST_RING_MAX / 4)
#define ROOST_REC_ALIGN   16u
/* How long one holder may keep a mailbox's lock before its senders ask
 * the owner to replace the mailbox (tag-replace). */
#define ROOST_UNBLOCK_MS_DEF 1000u
#define ROOST_UNBLOCK_MS_MIN 10u
#define ROOST_UNBLOCK_MS_MAX 600000u
#define ROOST_RING_SLACK  16u /* never filled: see tag-rec-commit */

/*
 * A process-shared lock of roost's own (tag-lock; lib/core/shm/shm_lock.c).
 * No pthread object lives in shared memory: a scribbled glibc mutex
 * makes the next process that locks it abort, so the lock is one plain
 * 64-bit word that every taker validates like any other field:
 *   bits 0-29   the holder's thread id (at most ROOST_LOCK_TID_MAX);
 *   bit 30      reserved, always 0;
 *   bit 31      ROOST_LOCK_WAITERS: a taker may sleep on the word
 *               (FUTEX_WAIT on its low 32 bits);
 *   bits 32-63  the low 32 bits of the holder's start time (/proc ticks;
 *               0 if it could not be read). With the tid it names one
 *               thread even after the tid is reused.
 * 0 is free. Taken by a CAS from 0 (acquire), dropped by an exchange to
 * 0 (release), then a FUTEX_WAKE if the waiters bit was set. The whole
 * identity is in the one word, so a taker never pairs one holder's tid
 * with another's start time. A taker that finds the word held by a
 * thread that no longer exists, or a word no holder writes (bit 30 set,
 * tid 0 or out of range, its own tid), takes it over with a CAS from
 * the value it judged and repairs what the lock guards, as after a crash.
 */
#define ROOST_LOCK_WAITERS  0x80000000u
#define ROOST_LOCK_RESERVED 0x40000000u
#define ROOST_LOCK_TID_MASK 0x3fffffffu
#define ROOST_LOCK_TID_MAX  (1u << 22) /* the kernel's PID_MAX_LIMIT */

struct roost__lock {
	roost__atomic_u64 lk_word;
};

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "a lock word's futex half is its first four bytes");

/* A lock padded to its own cache line. */
typedef union {
	struct roost__lock lk_lock;
	uint8_t lk_pad[ROOST_CACHE_LINE];
} roost__shm_lock;

/* --- System segment --------------------------------------------------- */

/* Written once by the creator before sh_state becomes READY. */
struct roost__sys_fixed {
	uint32_t sf_magic;
	uint32_t sf_version;
	uint32_t sf_hdr_size;   /* ROOST_SYS_HDR_SIZE */
	uint32_t sf_nslots;
	uint32_t sf_slot_size;  /* sizeof(struct roost__slot) */
	uint32_t sf_slots_off;
	uint32_t sf_kind_size;  /* sizeof(struct roost__kind) */
	uint32_t sf_kinds_off;
	uint32_t sf_nkinds;
	uint32_t sf_mbox_bytes; /* default user ring bytes */
	uint32_t sf_max_msg;    /* largest payload */
	uint32_t sf_mode;
	uint32_t sf_uid;
	uint32_t sf_gid1;       /* the group granted access + 1; 0: none */
	uint32_t sf_unblock_ms; /* tag-replace: a lock holder this long is
	                           stalled (ROOST_UNBLOCK_MS_MIN..MAX) */
	uint32_t sf_nprivate;   /* private lanes per mailbox (tag-private) */
	uint64_t sf_map_size;   /* whole segment */
	uint64_t sf_created_rt_ns; /* CLOCK_REALTIME at creation */
	char sf_name[32];
};

/* A system whose sh_heartbeat_ns is older than this has no live owner
 * (roostd stamps it every 100 ms). */
#define ROOST_HEARTBEAT_STALE_NS (2ull * 1000000000u)

struct roost__sys_hdr {
	struct roost__sys_fixed sh_fixed;
	roost__atomic_u32 sh_state;        /* ROOST_SEG_*; tag-seg-publish */
	roost__atomic_i32 sh_owner_pid;    /* roostd, 0 if none */
	roost__atomic_u64 sh_heartbeat_ns; /* CLOCK_MONOTONIC of owner */
	roost__atomic_u64 sh_gen_counter;  /* last generation handed out */
	uint8_t sh_pad0[ROOST_CACHE_LINE];
	roost__shm_lock sh_lock;           /* guards slots and kinds */
};

static_assert(sizeof(struct roost__sys_hdr) <= ROOST_SYS_HDR_SIZE,
              "system header exceeds its reserved size");

#define ROOST_SLOT_FREE     0u
#define ROOST_SLOT_ACTIVE   1u
#define ROOST_SLOT_RESERVED 2u /* name and generation taken, mailbox
                                  being created; not yet reachable */

#define ROOST_SLOT_F_SUPERVISED 0x1u /* survives its holder's death */

struct roost__slot {
	roost__atomic_u32 sl_seq;   /* odd while a writer holds sh_lock */
	roost__atomic_u32 sl_state; /* ROOST_SLOT_* */
	roost__atomic_u32 sl_gen;   /* generation of the current holder */
	roost__atomic_i32 sl_pid;   /* holder's pid */
	uint64_t sl_pid_start;      /* holder's start time (/proc, ticks) */
	uint32_t sl_mbox_bytes;     /* user ring bytes of its mailbox */
	uint32_t sl_flags;          /* ROOST_SLOT_F_* */
	char sl_name[48];           /* NUL-terminated; "" if unnamed */
	uint8_t sl_pad[48];
};

static_assert(sizeof(struct roost__slot) == 128, "slot layout");
static_assert(ROOST_SLOTS_MAX <= 0x10000u,
              "a slot fits the 16 bits an address gives it");

struct roost__kind {
	uint32_t kd_kind;
	uint32_t kd_used;
	char kd_name[24];
};

static_assert(sizeof(struct roost__kind) == 32, "kind layout");

/* --- Mailbox segment -------------------------------------------------- */

/*
 * A mailbox's lock line. Every send reads the state and the sleeping flag
 * right after taking or releasing the lock, so keeping them on the
 * lock's line makes a send touch one header line fewer each (it matters
 * when one sender feeds a thousand mailboxes).
 */
typedef union {
	struct {
		struct roost__lock lk_lock;
		roost__atomic_u32 lk_state;    /* ROOST_MBOX_* */
		roost__atomic_u32 lk_sleeping; /* receiver asleep; tag-wake */
		roost__atomic_u32 lk_wake_seq; /* its futex word; tag-wake */
		roost__atomic_u32 lk_replace;  /* a sender asks the owner to
		                                  replace it; tag-replace */
		roost__atomic_u32 lk_sender_cpu; /* last sender's CPU + 1: a
		                                  spin hint; tag-wake */
		roost__atomic_u32 lk_waker;    /* a wake may be under way;
		                                  tag-wake */
		roost__atomic_u32 lk_lanes;    /* bit i: private lane i was
		                                  claimed (set under the
		                                  lock, never cleared): the
		                                  receiver looks only there;
		                                  a hint, tag-private */
	};
	uint8_t lk_pad[ROOST_CACHE_LINE];
} roost__mbox_lockline;

static_assert(sizeof(roost__mbox_lockline) == ROOST_CACHE_LINE,
              "the mailbox lock line is one cache line");

#define ROOST_LANE_SYS   0
#define ROOST_LANE_USR   1 /* the shared user lane (under mh_lock) */
#define ROOST_NSHARED    2 /* lanes written under mh_lock */
#define ROOST_LANE_PRIV0 2 /* the first private user lane (tag-private) */
#define ROOST_NPRIV_MAX  4
#define ROOST_NPRIV_DEF  1 /* see ROOST_RING_DEF */
#define ROOST_NLANES     (ROOST_NSHARED + ROOST_NPRIV_MAX)

struct roost__mbox_fixed {
	uint32_t mf_magic;
	uint32_t mf_version;
	uint32_t mf_hdr_size;      /* ROOST_MBOX_HDR_SIZE */
	uint32_t mf_slot;
	uint32_t mf_gen;
	uint32_t mf_max_msg;       /* largest payload the system accepts */
	uint32_t mf_nprivate;      /* private lanes, 0..ROOST_NPRIV_MAX */
	uint32_t mf_pad;
	/* Lanes past ROOST_NSHARED + mf_nprivate have 0 and 0. */
	uint32_t mf_ring_off[ROOST_NLANES];
	uint32_t mf_cap[ROOST_NLANES]; /* power of two, >= ROOST_RING_MIN */
	uint64_t mf_map_size;
};

/*
 * A private lane's sender line (tag-private). The claim is written under
 * mh_lock; the rest only by the claimant, without it.
 */
struct roost__plane {
	roost__atomic_u64 pl_claim_aid;   /* claimant's address; 0: free */
	roost__atomic_u64 pl_claim_start; /* its process's start time */
	roost__atomic_i32 pl_claim_pid;
	roost__atomic_u32 pl_cpu;         /* claimant's last CPU + 1: the
	                                     receiver's spin hint; tag-wake */
	roost__atomic_u64 pl_tail;        /* end of chain; derivable */
	roost__atomic_u64 pl_enqueued;
	roost__atomic_u64 pl_bytes_in;
	roost__atomic_u64 pl_mark;        /* valid while mh_marks is set */
	uint64_t pl_pad2;
};

static_assert(sizeof(struct roost__plane) == ROOST_CACHE_LINE,
              "a private lane's line is one cache line");

#define ROOST_MBOX_OPEN      0u
#define ROOST_MBOX_USER_SHUT 1u /* user lane refuses sends (-ESHUTDOWN) */
#define ROOST_MBOX_CLOSED    2u /* owner gone for good (-ESRCH) */
#define ROOST_MBOX_REPLACED  3u /* retired: the slot's mailbox is a new
                                   segment of the same name; re-open it */

/* mh_seized_fate: what became of the record a seized holder was writing
 * (tag-replace). */
#define ROOST_FATE_NONE      0u
#define ROOST_FATE_DELIVERED 1u /* committed: carried to the new segment */
#define ROOST_FATE_DROPPED   2u /* not committed: its sender sends again */

struct roost__mbox_hdr {
	/* Line group 0: fixed, then read-mostly state. */
	struct roost__mbox_fixed mh_fixed;
	roost__atomic_u32 mh_ready;   /* ROOST_SEG_*; tag-seg-publish */
	uint32_t mh_pad00;
	uint8_t mh_pad0[2 * ROOST_CACHE_LINE -
	                sizeof(struct roost__mbox_fixed) - 8];

	/* The lock line: the mutex and the words every send reads. */
	roost__mbox_lockline mh_lock;
	roost__atomic_u64 mh_tail[ROOST_NSHARED]; /* end of chain; derivable */
	uint64_t mh_head_cache[ROOST_NSHARED]; /* senders' view of head */
	uint64_t mh_wip_pos;                  /* tail + 1 being written, 0 */
	uint32_t mh_wip_lane;
	uint32_t mh_pad1;
	roost__atomic_u64 mh_enqueued;
	roost__atomic_u64 mh_bytes_in;
	roost__atomic_u64 mh_blocked;
	roost__atomic_u64 mh_repaired;

	/* Receiver's line: written only by the owner. */
	roost__atomic_u64 mh_head[ROOST_NLANES] __attribute__((
		aligned(ROOST_CACHE_LINE)));                /* tag-rec-release */
	roost__atomic_u64 mh_dequeued;
	roost__atomic_u64 mh_corrupt;
	roost__atomic_u64 mh_high_water;
	roost__atomic_u64 mh_inflight_pos; /* position + 1 handed out, 0 */
	roost__atomic_u32 mh_inflight_lane;
	uint32_t mh_pad2;

	/* Space line: blocked senders and the receiver (tag-space). */
	roost__atomic_u32 mh_space_seq __attribute__((
		aligned(ROOST_CACHE_LINE)));
	roost__atomic_u32 mh_space_waiters;

	/* Replacement line (tag-replace): written by the owner that retires
	 * this segment, read by a seized sender when it resumes. */
	roost__atomic_u64 mh_seized_pos __attribute__((
		aligned(ROOST_CACHE_LINE)));  /* its wip position + 1, or 0 */
	roost__atomic_u32 mh_seized_fate;    /* ROOST_FATE_* */
	uint32_t mh_pad3;
	roost__atomic_u64 mh_replaced;       /* segments retired before this
	                                        one, for this address */
	roost__atomic_u64 mh_lost;           /* records not carried over */
	roost__atomic_u32 mh_marks;          /* pl_mark set (tag-private) */
	uint32_t mh_pad4;

	/* The private lanes' sender lines (tag-private). */
	struct roost__plane mh_plane[ROOST_NPRIV_MAX] __attribute__((
		aligned(ROOST_CACHE_LINE)));
};

static_assert(sizeof(struct roost__mbox_hdr) <= ROOST_MBOX_HDR_SIZE,
              "mailbox header exceeds its reserved size");
static_assert(offsetof(struct roost__mbox_hdr, mh_lock) % ROOST_CACHE_LINE ==
                      0,
              "sender line must start a cache line");
static_assert(offsetof(struct roost__mbox_hdr, mh_head) % ROOST_CACHE_LINE ==
                      0,
              "receiver line must start a cache line");

/* --- Records ---------------------------------------------------------- */

#define ROOST_REC_PAD     0x1u   /* filler to the end of the ring */
#define ROOST_REC_DONE    0x2u   /* consumed out of order; skip */
#define ROOST_REC_MSGPACK 0x4u   /* payload is MessagePack */
#define ROOST_REC_REDELIVERED 0x8u
#define ROOST_REC_REPLY   0x10u  /* an answer (roost_reply): corr names
                                    the request */
#define ROOST_REC_KNOWN   0x1fu

struct roost__rec {
	roost__atomic_u64 rc_commit; /* position + 1 once published */
	uint32_t rc_len;     /* whole record, header included, x ALIGN */
	uint32_t rc_flags;   /* ROOST_REC_* */
	uint64_t rc_from;    /* sender's address */
	uint64_t rc_corr;    /* correlation id */
	uint32_t rc_kind;
	uint32_t rc_size;    /* payload bytes */
	uint64_t rc_time_ns; /* CLOCK_MONOTONIC_COARSE at send */
};

#define ROOST_REC_HDR  ((uint32_t)sizeof(struct roost__rec))
/* A PAD record needs only rc_commit, rc_len and rc_flags. */
#define ROOST_REC_MIN_PAD 16u

static_assert(sizeof(struct roost__rec) == 48, "record header layout");
static_assert(ROOST_REC_HDR % ROOST_REC_ALIGN == 0, "records stay aligned");
static_assert(ROOST_REC_MIN_PAD == ROOST_REC_ALIGN, "a PAD always fits");
static_assert(ROOST_RING_SLACK >= sizeof(uint64_t), "slack holds a commit");

/* Bytes one record of 'size' payload bytes takes in the ring. */
static inline uint64_t
roost__rec_bytes(uint64_t size)
{
	return (ROOST_REC_HDR + size + ROOST_REC_ALIGN - 1) &
	       ~(uint64_t)(ROOST_REC_ALIGN - 1);
}

/* --- Supervisor table ------------------------------------------------- */

/*
 * /dev/shm/roost.UID.SYSTEM.sup: what roostd knows about the actors it
 * supervises (restart counts, policy, group, last exit, dead letters),
 * published so that tools can show it without attaching to the system.
 * roostd (daemon/status.c) is its only writer; readers are the public
 * view API (lib/core/view/). The name ends in ".sup", so
 * roost_system_destroy removes it with the system, and it never looks
 * like a mailbox (those end in a slot number).
 *
 *   [struct roost__sup_hdr    ROOST_SUP_HDR_SIZE bytes]
 *   [struct roost__sup_entry  x su_nentries]   entry i describes slot i
 *
 * - roostd creates it (O_EXCL, the system's mode), writes su_fixed,
 *   then release-stores su_state = ROOST_SEG_READY (tag-sup-publish).
 *   A reader acquire-loads su_state, copies su_fixed, checks it against
 *   the constants, the mapped size, its uid and the system name, and
 *   uses only the copy. su_nentries equals the system's sf_nslots.
 * - Entries are seqlocked like slots (tag-sup-seq): the writer makes
 *   se_seq odd (relaxed store, release fence), writes the entry, makes
 *   se_seq even (release store). A reader acquire-loads se_seq (even,
 *   else retry), copies the entry, issues an acquire fence and re-reads
 *   se_seq; a bounded number of tries, then the entry is reported
 *   unreadable. A writer that dies leaves se_seq odd; the next roostd
 *   rewrites every entry (readers meanwhile skip it).
 * - An entry describes generation se_gen of its slot only: a reader
 *   ignores it unless se_gen equals the slot's current generation.
 * - su_deadletters (messages retired to the dead letters) and
 *   su_owner_pid are display values, stored relaxed.
 */
#define ROOST_SUP_SUFFIX   ".sup" /* after "/roost.UID.SYSTEM" */
#define ROOST_SUP_MAGIC    0x50555352u /* "RSUP" */
#define ROOST_SUP_VERSION  1u
#define ROOST_SUP_HDR_SIZE 256u

/* se_state: what roostd does with the actor (its rd_child_state). */
#define ROOST_SUP_NONE     0u /* no entry */
#define ROOST_SUP_STARTING 1u
#define ROOST_SUP_RUNNING  2u
#define ROOST_SUP_DOWN     3u /* exited; a restart is coming */
#define ROOST_SUP_GONE     4u /* stopped for good */

/* se_flags */
#define ROOST_SUP_F_DAEMON   0x1u  /* shutdown kills it at once */
#define ROOST_SUP_F_ONESHOT  0x2u  /* roost_spawn_fn: never restarted */
#define ROOST_SUP_F_NOSPEC   0x4u  /* adopted without a spec */
#define ROOST_SUP_F_STOPPING 0x8u  /* roost_stop() was called on it */
#define ROOST_SUP_F_KILLED   0x10u /* roost_kill(): not restarted */
#define ROOST_SUP_F_EXITED   0x20u /* se_last_* describe an exit */
#define ROOST_SUP_F_KNOWN    0x3fu

struct roost__sup_fixed {
	uint32_t uf_magic;
	uint32_t uf_version;
	uint32_t uf_hdr_size;   /* ROOST_SUP_HDR_SIZE */
	uint32_t uf_entry_size; /* sizeof(struct roost__sup_entry) */
	uint32_t uf_nentries;   /* = the system's sf_nslots */
	uint32_t uf_uid;
	uint32_t uf_mode;
	uint32_t uf_pad;
	uint64_t uf_map_size;   /* header + entries */
	char uf_name[32];       /* the system, NUL-terminated */
};

struct roost__sup_hdr {
	struct roost__sup_fixed su_fixed;
	roost__atomic_u32 su_state;       /* ROOST_SEG_*; tag-sup-publish */
	roost__atomic_i32 su_owner_pid;   /* the roostd writing it */
	roost__atomic_u64 su_deadletters; /* retired as poison, ever */
	uint8_t su_pad[ROOST_SUP_HDR_SIZE - sizeof(struct roost__sup_fixed) -
	               16];
};

struct roost__sup_entry {
	roost__atomic_u32 se_seq;  /* odd while roostd writes; tag-sup-seq */
	uint32_t se_state;         /* ROOST_SUP_* */
	uint32_t se_gen;           /* the slot generation it describes */
	uint32_t se_restarts;      /* restarts; carried over an adoption */
	int32_t se_pid;            /* current process, 0 if none */
	uint8_t se_restart;        /* ROOST_RESTART_* */
	uint8_t se_flags;          /* ROOST_SUP_F_* */
	uint16_t se_group;         /* 0: top level, else a [group] */
	int32_t se_last_status;    /* exit status, -1 unknown or signal */
	int32_t se_last_signal;    /* signal that ended it, 0 if none */
	uint64_t se_started_ns;    /* CLOCK_MONOTONIC of the last start */
	uint64_t se_exit_ns;       /* CLOCK_MONOTONIC of the last exit */
	uint32_t se_deadletters;   /* of its mailbox, retired as poison */
	uint32_t se_pad;
	char se_group_name[48];    /* NUL-terminated; "" for the top level */
	char se_last_reason[16];   /* "normal", "exit", "signal", "killed",
	                              "stopped", "lost"; "" if none */
	uint8_t se_pad2[8];
};

static_assert(sizeof(struct roost__sup_hdr) == ROOST_SUP_HDR_SIZE,
              "supervisor table header layout");
static_assert(sizeof(struct roost__sup_entry) == 128,
              "supervisor table entry layout");
static_assert(offsetof(struct roost__sup_entry, se_started_ns) % 8 == 0,
              "supervisor table entry alignment");

#endif /* ROOST_CORE_SHM_FORMAT_H */
