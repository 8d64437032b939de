/* SPDX-License-Identifier: MIT */
/*
 * mbox.h - one mailbox: two lanes of variable-length records in a shared
 * segment. Senders (any process) push under the robust mutex; the owner
 * receives without it. See shm_format.h for the protocol.
 */
#ifndef ROOST_CORE_MBOX_H
#define ROOST_CORE_MBOX_H

#include <time.h>

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
	struct roost__mbox_fixed mb_fixed; /* the validated copy */
};



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
	uint64_t rx_inflight_pos;          /* position handed out */
	unsigned rx_inflight_lane;
	bool rx_has_inflight;
	uint32_t rx_spin_ns;               /* largest spin before sleeping */
	uint32_t rx_spin_budget;           /* what spinning earns now */
	uint32_t rx_spin_misses;           /* waits in a row past the spin */
	uint32_t rx_sample;                /* releases since high-water */
	/* The owner's system, for a replacement (tag-replace). */
	const struct roost__sys *rx_sys;
	bool rx_replace_failed;            /* last try failed: not in waits */
	/* Set by roost_ctx_interrupt() (possibly from a signal handler):
	 * the next wait returns -EINTR. Seq-cst, paired with lk_wake_seq. */
	roost__atomic_u32 rx_interrupt;
	struct roost_msg rx_msg;           /* the view handed out */
};

/* Segment bytes for a mailbox with these lane capacities. */
size_t roost__mbox_seg_size(uint32_t sys_cap, uint32_t user_cap);

/* The system lane's size for a system whose largest payload is
 * 'max_msg', or 0 if out of range. */
uint32_t roost__mbox_sys_lane_size(uint32_t max_msg);

/* Round a requested ring size to the power of two used, or 0 if out of
 * range. */
uint32_t roost__mbox_ring_size(uint64_t want);

/*
 * Format a freshly created, zeroed segment and publish it. Only the
 * creator (the process attaching to the slot) calls this. 'mb' is filled
 * as by roost__mbox_attach(). 'held': publish it with its lock held by
 * the calling thread (a replacement fills it before senders get in).
 */
int roost__mbox_format(struct roost__mbox *mb, struct roost__seg seg,
                       uint32_t slot, uint32_t gen, uint32_t max_msg,
                       uint32_t sys_cap, uint32_t user_cap, bool held);

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
int roost__mbox_open(struct roost__mbox *mb, const struct roost__sys *sy,
                     uint32_t slot, uint32_t gen);

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
