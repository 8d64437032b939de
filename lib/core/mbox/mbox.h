/* SPDX-License-Identifier: MIT */
/*
 * mbox.h - the mailbox layer: one mailbox is a system lane, a shared
 * user lane and up to four private lanes of variable-length records in
 * one shared segment. Senders (any process) push under the lane's lock
 * word, or lock-free on a private lane they claimed; the owner receives
 * without it. See shm/shm_format.h for the protocol. Every file under
 * lib/core/mbox/ includes this header first.
 */
#ifndef ROOST_CORE_MBOX_H
#define ROOST_CORE_MBOX_H

#include <time.h>

#include "core/shm/shm.h"

/* Tests widen the private-lane races with this (NULL by default): called
 * by a private sender after its state check and before it writes
 * (ROOST__HOOK_BEFORE_WRITE), and after its commits and before it
 * publishes and fences (ROOST__HOOK_BEFORE_PUBLISH). tag-private */
#define ROOST__HOOK_BEFORE_WRITE   0u
#define ROOST__HOOK_BEFORE_PUBLISH 1u
extern void (*roost__private_hook)(unsigned phase);

/* A process's mapping of one mailbox, with a validated copy of the fixed
 * header. Only the copy's sizes and offsets are ever used. */
struct roost__mbox {
	struct roost__seg mb_seg;
	struct roost__mbox_hdr *mb_hdr;
	uint8_t *mb_ring[ROOST_NLANES];
	uint32_t mb_cap[ROOST_NLANES];
	uint32_t mb_max_payload[ROOST_NLANES];
	uint32_t mb_slot;
	uint32_t mb_gen;
	uint32_t mb_unblock_ms; /* a holder this long asks for replacement */
	unsigned mb_nlanes;     /* ROOST_NSHARED + mf_nprivate */
	struct roost__mbox_fixed mb_fixed; /* the validated copy */
	/* A sender's private lane in this mailbox (tag-private): */
	unsigned mb_plane;      /* the lane claimed, 0: none */
	uint32_t mb_claim_wait; /* user sends before the next claim try */
	uint64_t mb_ptail;      /* our own tail of it (trusted) */
	uint64_t mb_phead;      /* our last view of its head */
	uint64_t mb_shared_end; /* after our last shared user record, until
	                           consumed; 0: none pending */
	/* The owner's: a private lane was found damaged; replace. */
	bool mb_damaged;
};

/* True for the user lanes a sender may claim (tag-private). */
static inline bool
roost__lane_private(unsigned lane)
{
	return lane >= ROOST_LANE_PRIV0;
}



/* What a sender puts in the envelope. */
struct roost__out {
	uint64_t o_from;
	uint64_t o_corr;
	uint32_t o_kind;
	uint32_t o_flags; /* ROOST_REC_* to set (MSGPACK) */
	unsigned o_lane;  /* ROOST_LANE_SYS or ROOST_LANE_USR */
	const void *o_data;
	size_t o_size;
};

/* The envelope of a received message (public as roost_msg_t). */
struct roost_msg {
	uint64_t m_from;
	uint64_t m_corr;
	uint64_t m_time_ns;
	uint32_t m_kind;
	uint32_t m_flags; /* ROOST_MSG_* */
	const void *m_data;
	size_t m_size;
};

/* The owner's private receive state: trusted copies of its own heads. */
struct roost__rx {
	uint64_t rx_head[ROOST_NLANES];
	uint64_t rx_kicked[ROOST_NLANES];  /* head at the last space wake */
	uint64_t rx_tomb_end[ROOST_NLANES]; /* past the last DONE record */
	uint64_t rx_inflight_pos;          /* position handed out */
	unsigned rx_inflight_lane;
	bool rx_has_inflight;
	uint32_t rx_spin_ns;               /* largest spin before sleeping */
	uint32_t rx_spin_budget;           /* what spinning earns now */
	uint32_t rx_spin_misses;           /* waits in a row past the spin */
	uint32_t rx_sample;                /* releases since high-water */
	unsigned rx_user_first;            /* user lane scanned first */
	bool rx_scan_all;                  /* next pass: every private lane,
	                                      not only lk_lanes' (tag-private) */
	uint32_t rx_user_burst;            /* taken from it in a row */
	/* The owner's system, for a replacement (tag-replace). */
	const struct roost__sys *rx_sys;
	bool rx_replace_failed;            /* last try failed: not in waits */
	/* Set by roost_ctx_interrupt() (possibly from a signal handler):
	 * the next wait returns -EINTR. Seq-cst, paired with lk_wake_seq. */
	roost__atomic_u32 rx_interrupt;
	struct roost_msg rx_msg;           /* the view handed out */
};

/* Bytes of each private lane of a mailbox whose shared user lane has
 * 'user_cap' bytes (tag-private). */
uint32_t roost__mbox_priv_size(uint32_t user_cap);

/* Segment bytes for a mailbox with these lane capacities. */
size_t roost__mbox_seg_size(uint32_t sys_cap, uint32_t user_cap,
                            uint32_t nprivate);

/* The system lane's size for a system whose largest payload is
 * 'max_msg', or 0 if out of range. */
uint32_t roost__mbox_sys_lane_size(uint32_t max_msg);

/*
 * Format a freshly created, zeroed segment and publish it. Only the
 * creator (the process attaching to the slot) calls this. 'mb' is filled
 * as by roost__mbox_attach(). 'held': publish it with its lock held by
 * the calling thread (a replacement fills it before senders get in).
 */
int roost__mbox_format(struct roost__mbox *mb, struct roost__seg seg,
                       uint32_t slot, uint32_t gen, uint32_t max_msg,
                       uint32_t sys_cap, uint32_t user_cap,
                       uint32_t nprivate, bool held);

/*
 * Validate a mapped mailbox against the slot and generation the caller
 * expects and fill 'mb'. Returns -ESRCH when it belongs to another
 * generation, ROOST_ECORRUPT / ROOST_EVERSION when it fails validation.
 * On success 'mb' owns 'seg' (roost__mbox_detach unmaps it).
 */
int roost__mbox_attach(struct roost__mbox *mb, struct roost__seg seg,
                       uint32_t slot, uint32_t gen);
void roost__mbox_detach(struct roost__mbox *mb);

/* Map and attach the mailbox of 'slot' of 'system' (both checked as by
 * roost__mbox_attach). -ENOENT if it has no segment. */
/*
 * Validate a mailbox's fixed header for slot 'slot', generation 'gen'
 * into '*out' (a copy: trust only it). 'whole': 'seg' maps the whole
 * segment, and the rings must lie inside it; else only the header is
 * mapped and the rings must lie inside the size the header claims.
 * Returns 0, -EAGAIN (not published yet), -ESRCH (another generation),
 * ROOST_EVERSION or ROOST_ECORRUPT.
 */
int roost__mbox_check_fixed(struct roost__seg seg, uint32_t slot,
                            uint32_t gen, bool whole,
                            struct roost__mbox_fixed *out);

struct roost__sys;
/* Map and validate the mailbox of (slot, gen) of system 'sy'. Returns 0,
 * -ENOENT (no segment), -ESRCH (the slot has moved on), ROOST_EVERSION or
 * ROOST_ECORRUPT; never -EAGAIN (see roost__mbox_unpublished). */
int roost__mbox_open(struct roost__mbox *mb, struct roost__sys *sy,
                     uint32_t slot, uint32_t gen);
/*
 * What a mailbox segment of (slot, gen) that is not yet published
 * (roost__mbox_check_fixed said -EAGAIN) means. Its creator publishes it
 * before the slot goes ACTIVE (ctx.c, attach()), and a replacement
 * renames a published segment over it (tag-replace), so while the slot
 * says ACTIVE at 'gen' its ready word has been damaged: ROOST_ECORRUPT.
 * Otherwise the slot has moved on since it was read: -ESRCH.
 */
int roost__mbox_unpublished(struct roost__sys *sy, uint32_t slot,
                            uint32_t gen);

/*
 * Copy one message into lane 'o->o_lane'. Any process may call this.
 * 'timeout_ms' < 0 waits while full, 0 never waits. Returns 0, -EMSGSIZE,
 * -EAGAIN, -ETIMEDOUT, -ESRCH (closed), -ESHUTDOWN (user lane shut),
 * ROOST_ECORRUPT.
 */
int roost__mbox_push(struct roost__mbox *mb, const struct roost__out *o,
                     int timeout_ms);

/*
 * Copy 'n' messages in order, as many as fit under one lock at a time.
 * '*done' is how many were sent (delivered once each), whatever the
 * return: 0 when all were, else the error that stopped the rest
 * (-ESTALE: the mailbox was replaced; re-open it and send the rest).
 * A message that can never fit is -EMSGSIZE before any is sent.
 */
int roost__mbox_push_many(struct roost__mbox *mb, const struct roost__out *o,
                          size_t n, int timeout_ms, size_t *done);

/* Owner only: load and validate the heads, and mark a message that a
 * previous incarnation was handling as redelivered. */
int roost__mbox_rx_init(struct roost__mbox *mb, struct roost__rx *rx);

/* Owner only: take the next matching message (see roost_recv_match). The
 * previous view is released first. */
int roost__mbox_take(struct roost__mbox *mb, struct roost__rx *rx,
                     unsigned lanes, roost_match_fn match, void *arg,
                     int64_t timeout_ns, struct roost_msg **out);

/*
 * Owner only: take the oldest message on 'lanes' that 'match' accepts,
 * without releasing the message in hand (which stays valid and stays
 * the one redelivered after a crash). 'match' sees each candidate; the
 * one it accepts is consumed when it returns true, so it copies what it
 * needs then. Returns 0, -EAGAIN (timeout 0), -ETIMEDOUT, -EINTR or
 * ROOST_ECORRUPT.
 */
int roost__mbox_take_aside(struct roost__mbox *mb, struct roost__rx *rx,
                           unsigned lanes, roost_match_fn match, void *arg,
                           int timeout_ms);

/*
 * Supervisor only, while the owner is dead: if the message the owner was
 * handling when it died had already been redelivered once (it killed two
 * owners), show it to 'fn' and retire it, so the next owner never sees
 * it. Returns 1 if one was retired, else 0.
 */
int roost__mbox_retire_poison(struct roost__mbox *mb,
                              void (*fn)(void *arg, const struct roost_msg *m),
                              void *arg);

/* Make the owner's current or next wait return -EINTR. Async-signal-safe. */
void roost__mbox_interrupt(struct roost__mbox *mb, struct roost__rx *rx);

/* Owner only: finish the message handed out last, if any. */
void roost__mbox_release(struct roost__mbox *mb, struct roost__rx *rx);

/* A private lane's sender line (tag-private). */
static inline struct roost__plane *
roost__mbox_plane(const struct roost__mbox *mb, unsigned lane)
{
	return &mb->mb_hdr->mh_plane[lane - ROOST_LANE_PRIV0];
}

/* The tail word of 'lane': mh_tail for the shared lanes, pl_tail for a
 * private one. */
static inline roost__atomic_u64 *
roost__mbox_tail_word(const struct roost__mbox *mb, unsigned lane)
{
	return roost__lane_private(lane) ? &roost__mbox_plane(mb, lane)->pl_tail
	                                 : &mb->mb_hdr->mh_tail[lane];
}

/* The record header at 'pos' of 'lane' (no validation). */
static inline struct roost__rec *
roost__mbox_rec_at(const struct roost__mbox *mb, unsigned lane, uint64_t pos)
{
	return (struct roost__rec *)(mb->mb_ring[lane] +
	                             (pos & (mb->mb_cap[lane] - 1)));
}

/* True if a record is published at 'pos' (acquire). Inline: the receiver
 * asks this once or twice per message. */
static inline bool
roost__mbox_committed(const struct roost__mbox *mb, unsigned lane,
                      uint64_t pos)
{
	/* A misaligned position can only come from damaged shared memory;
	 * never dereference it. */
	if (pos % ROOST_REC_ALIGN != 0)
		return false;
	/* Pairs with the release of rc_commit in roost__mbox_push().
	 * tag-rec-commit */
	return roost__load_acq(&roost__mbox_rec_at(mb, lane, pos)->rc_commit) ==
	       pos + 1;
}
/* Copy and validate the header of the committed record at 'pos' into
 * 'r' (for a PAD only rc_len and rc_flags). 0 or ROOST_ECORRUPT. */
int roost__mbox_read_rec(const struct roost__mbox *mb, unsigned lane,
                         uint64_t pos, struct roost__rec *r);
/* The end of the chain of well-formed committed records from 'head':
 * where the next record will go. Bounded by the ring's size. */
uint64_t roost__mbox_chain_end(const struct roost__mbox *mb, unsigned lane,
                               uint64_t head);

/* --- Shared by the two send paths (mbox_send.c, mbox_private.c) --- */

/* Bounds of a sender's sleep period while a lane is full (tag-space). */
#define ROOST_SPACE_POLL_MIN_NS 100000
#define ROOST_SPACE_POLL_MAX_NS 10000000

/* A sender waiting for room waits for this much of the lane to be free
 * (a sixteenth of it, at most 16 KiB): it reads the receiver's head line
 * once per chunk, not once per send. */
static inline uint64_t
roost__mbox_space_chunk(const struct roost__mbox *mb, unsigned lane)
{
	uint64_t chunk = mb->mb_cap[lane] / 16;

	return chunk < 16384 ? chunk : 16384;
}

/* Bytes a record of 'rec' bytes takes from 'tail', including a PAD to
 * the ring's end when it does not fit before it. */
static inline uint64_t
roost__rec_span(uint64_t tail, uint32_t cap, uint64_t rec)
{
	uint64_t room = cap - (tail & (cap - 1));

	return rec <= room ? rec : room + rec;
}

/* Write record 'o' (and a PAD if 'span' > 'rec') at 'tail' of 'lane' and
 * commit it (tag-rec-commit). The caller owns the bytes. */
void roost__mbox_write_record(struct roost__mbox *mb, unsigned lane,
                              const struct roost__out *o, uint64_t tail,
                              uint64_t rec, uint64_t span, uint64_t now);

/* Why sends to 'lane' are refused now: -ESRCH (closed), -ESHUTDOWN (user
 * lane shut), -ESTALE (replaced: re-open), or 0. */
int roost__mbox_refusal(struct roost__mbox_hdr *h, unsigned lane);

/* Wait (spin, then sleep a bounded period) until 'lane' has 'need' bytes
 * free beyond its tail word, or the deadline ('*deadline', computed from
 * 'timeout_ms' if 0) passes. Returns 0 to look again or -ETIMEDOUT. */
int roost__mbox_wait_space(struct roost__mbox *mb, unsigned lane,
                           uint64_t need, int timeout_ms, uint64_t *deadline,
                           uint64_t *poll_ns);

/* Take mh_lock for a send: in slices of the unblock time, asking the
 * owner to replace the mailbox when one holder never moves. */
int roost__mbox_lock_send(struct roost__mbox *mb, int timeout_ms,
                          uint64_t *deadline);

/* Ask the owner to replace the mailbox (tag-replace). */
void roost__mbox_ask_replace(struct roost__mbox_hdr *h);

/* Wake the receiver if it sleeps (tag-wake), after our own seq_cst
 * fence; '*cpu' takes our CPU as the receiver's spin hint. */
void roost__mbox_wake_fenced(struct roost__mbox_hdr *h, roost__atomic_u32 *cpu);
/* The same with the fence (not from a send: no hint). */
void roost__mbox_wake(struct roost__mbox_hdr *h);

/* Distance in bytes, past the end of the record just sent, of the ring
 * lines prefetched for writing (see roost__mbox_push_many): at least this
 * much, and at least two records of the size just sent. */
#define PREFETCH_AHEAD 1024
#define PREFETCH_MAX_LINES 32

static inline void
prefetch_line_w(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	/* PREFETCHW (a NOP where unsupported; never faults):
	 * __builtin_prefetch emits it only with -mprfchw. */
	__asm__ volatile("prefetchw (%0)" : : "r"(p));
#else
	__builtin_prefetch(p, 1);
#endif
}

/* As many lines as the record just sent took (at least two: a small
 * record can straddle two). Each address is masked into the ring. */
static inline void
roost__mbox_prefetch_ahead(struct roost__mbox *mb, unsigned lane, uint64_t end,
               uint64_t rec)
{
	uint64_t at = end + (2 * rec > PREFETCH_AHEAD ? 2 * rec
	                                              : PREFETCH_AHEAD);
	uint64_t lines = (rec + ROOST_CACHE_LINE - 1) / ROOST_CACHE_LINE;
	uint64_t i;

	if (lines < 2)
		lines = 2;
	if (lines > PREFETCH_MAX_LINES)
		lines = PREFETCH_MAX_LINES;
	for (i = 0; i < lines; i++)
		prefetch_line_w(roost__mbox_rec_at(mb, lane,
		                                   at + i * ROOST_CACHE_LINE));
}


/* --- Private lanes (mbox_private.c, tag-private) --- */

/* How many of 'o' (from the first) go through our private lane now: 0
 * unless the first is a user message and we hold, or just claimed, one;
 * or the error of waiting for the lock to claim one. */
int roost__mbox_private_run(struct roost__mbox *mb, const struct roost__out *o,
                            size_t n, int timeout_ms, uint64_t *deadline);

/* Send a run that roost__mbox_private_run() gave, as push_many. */
int roost__mbox_push_private(struct roost__mbox *mb, const struct roost__out *o,
                             size_t n, int timeout_ms, size_t *done);

/* Before a user message goes to the shared lane: wait until our private
 * lane holds none of ours (FIFO). 0, -EAGAIN, -ETIMEDOUT or a refusal. */
int roost__mbox_leave_private(struct roost__mbox *mb, int timeout_ms,
                              uint64_t *deadline);

/* Give our private lane back (the mapping is going away). */
void roost__mbox_unclaim(struct roost__mbox *mb);

/* Under mh_lock, after lk_state left OPEN: record where each private
 * lane's chain ends (pl_mark) and set mh_marks, once per segment. */
void roost__mbox_marks_locked(struct roost__mbox *mb);

/* Owner: may the committed record at 'pos' of private lane 'lane' be
 * handed out (it is before any mark)? */
bool roost__mbox_priv_deliverable(const struct roost__mbox *mb, unsigned lane,
                                  uint64_t pos);

/* Take mh_lock (any process), repairing after a dead holder. Waits up to
 * 'timeout_ms' (< 0: no limit) measured from '*deadline' (CLOCK_MONOTONIC
 * ns; 0 means not computed yet, and it is filled in only if the lock is
 * busy). 'timeout_ms' 0 gives up after a short spin with -EAGAIN.
 * Returns 0, -EAGAIN, -ETIMEDOUT or ROOST_ECORRUPT. */
int roost__mbox_lock(struct roost__mbox *mb, int timeout_ms,
                     uint64_t *deadline);
void roost__mbox_unlock(struct roost__mbox *mb);
/* Under mh_lock: re-derive the tails from the committed chains. */
void roost__mbox_repair_locked(struct roost__mbox *mb);

/* Raise the high-water mark to 'used' bytes if that is higher. */
void roost__mbox_note_used(struct roost__mbox_hdr *h, uint64_t used);

/* Shut the user lane (graceful stop): later user sends get -ESHUTDOWN.
 * Waits up to 'timeout_ms' for the lock (0: -EAGAIN when it is held, so
 * roostd's loop never waits). -ESRCH if closed, -EALREADY if already
 * shut. Any process. */
int roost__mbox_shut_user(struct roost__mbox *mb, int timeout_ms);

/* Mark the mailbox closed and wake every sender blocked on it. */
void roost__mbox_close(struct roost__mbox *mb);

/*
 * Owner only (tag-replace): move everything queued in 'mb' to a new
 * segment of the same name and retire the old one. The message in hand
 * stays in hand (moved). Returns 0 or a negative errno (then 'mb' is
 * unchanged and the replacement is tried again later).
 */
int roost__mbox_replace(struct roost__mbox *mb, struct roost__rx *rx);

/*
 * A new, empty mailbox for slot 'slot', generation 'gen' in place of one
 * damaged beyond use (a restarted owner found it so): the old segment, if
 * it can still be mapped, is marked REPLACED so its senders re-open, and
 * the loss is counted in the new one (mh_replaced, mh_lost).
 */
int roost__mbox_fresh(struct roost__mbox *mb, const struct roost__sys *sy,
                      uint32_t slot, uint32_t gen, uint32_t user_cap);

/* Owner only: true if the mailbox must be replaced now (a sender asked,
 * or its fixed header or state word was damaged). */
bool roost__mbox_needs_replace(const struct roost__mbox *mb);

/* Counters for tools; safe from any process. */
void roost__mbox_stats(const struct roost__mbox *mb, roost_mbox_stats_t *st);

#endif /* ROOST_CORE_MBOX_H */
