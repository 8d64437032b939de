/* SPDX-License-Identifier: MIT */
/*
 * view_impl.h - the view layer: the public read API for tools
 * (roost_view_*, include/roost/view.h), a system seen from outside,
 * without attaching to it. roostctl is built on it alone; anyone may
 * write another tool on it. Every file under lib/core/view/ includes
 * this header first.
 *
 * Looking never disturbs:
 *  - The system segment, the mailbox headers and roostd's supervisor
 *    table are mapped, never written. The actor table is read with its
 *    seqlock (roost__sys_slot_read), roostd's table with its own
 *    (tag-sup-seq), counters with relaxed loads.
 *  - A mailbox's queue is copied out under the mailbox's lock (mh_lock),
 *    in chunks of at most QUEUE_CHUNK_BYTES / QUEUE_CHUNK_RECS, the lock
 *    released between chunks, and decoded afterwards from the copy. The
 *    lock keeps senders out, so the bytes between the head and the tail
 *    cannot be reused while we copy them: senders write only past the
 *    tail, and only under that lock. The receiver never takes the lock on
 *    its normal path and never rewrites a record: it moves its head
 *    forward and ORs DONE (or REDELIVERED) into a record's flags. So a
 *    record read under the lock is whole; the receiver may consume it
 *    meanwhile (the listing is a snapshot, and a DONE flag that we miss
 *    shows a message just taken). Between chunks the head may pass our
 *    position: we then go on from the new head, so nothing is listed
 *    twice or out of order. A chunk holds the lock for a few
 *    microseconds, well inside the spin a try-send (and roostd's
 *    timeout-0 replies) allows before giving up.
 *  - Everything read is validated before use, as the receiver does
 *    (roost__mbox_read_rec); damage is ROOST_ECORRUPT, and the view does
 *    not repair anything (that is the receiver's job), except what any
 *    locker does after a dead lock holder (roost__mbox_lock).
 */
#ifndef ROOST_CORE_VIEW_IMPL_H
#define ROOST_CORE_VIEW_IMPL_H

#include "core/msg/msg.h"

/* A cached mapping of one mailbox header (for counters only), and the
 * last look at its slot holder's process. */
struct vw_peer {
	struct roost__mbox pr_mb; /* only mb_hdr, mb_cap, mb_seg valid */
	uint32_t pr_gen;          /* 0: not mapped */
	int32_t pr_pid;           /* the process last looked up ... */
	uint64_t pr_pid_start;
	uint64_t pr_looked_ns;    /* ... when (0: never) ... */
	bool pr_alive;            /* ... and what was found */
};

struct roost_view {
	struct roost__sys vw_sys;
	struct vw_peer *vw_peers; /* [sf_nslots] */
	struct roost__kind vw_kinds[ROOST_NKINDS];
	uint64_t vw_kinds_at; /* when copied; 0: never */
};

/* A validated copy of roostd's table: header and the mapping. */
struct vw_sup {
	struct roost__seg sm_seg;
	struct roost__sup_fixed sm_fixed;
	bool sm_ok;
};


/* Map and validate roostd's supervisor table; sm_ok false if there is
 * none or it fails validation (the view then simply knows less).
 * (sup_table.c) */
void roost__view_sup_map(roost_view_t *v, struct vw_sup *sm);
void roost__view_sup_unmap(struct vw_sup *sm);
/* roostd's dead-letter count, 0 without a table. */
uint64_t roost__view_sup_deadletters(const struct vw_sup *sm);
/* A consistent copy of the entry for 'slot'; false if none. */
bool roost__view_sup_entry(const struct vw_sup *sm, uint32_t slot,
                           struct roost__sup_entry *e);

/* A mailbox header's state for tools (actors.c). */
uint32_t roost__view_mbox_state(const struct roost__mbox *mb);
/* The slot of a local address at its generation (actors.c). */
int roost__view_slot_of(roost_view_t *v, roost_aid_t aid,
                        struct roost__slot_view *sv);
/* Unmap a cached mailbox header; the last look at the process stays
 * (view.c). */
void roost__view_peer_unmap(struct vw_peer *p);
/* Is the holder of 'slot' (pid, start) alive? Looked up in /proc at most
 * once a second per process (view.c). */
bool roost__view_alive(roost_view_t *v, uint32_t slot, int32_t pid,
                       uint64_t start);
/* Grow 'p' (holding 'used' bytes of 'cap') to hold 'need' more (queue.c). */
int roost__view_grow(void **p, size_t *cap, size_t used, size_t need,
                     size_t unit);

#endif /* ROOST_CORE_VIEW_IMPL_H */
