/* SPDX-License-Identifier: MIT */
/*
 * spsc_ring.h - the reference roost_bench holds roost to: a minimal
 * single-producer single-consumer ring in shared memory with futex
 * wake-ups, what a good engineer would hand-roll for one sender and one
 * receiver. A fan-in of N senders uses N rings, and their one consumer
 * polls them round-robin and sleeps on one futex word of its own.
 *
 * Each record is a 48-byte header (as large as roost's envelope, struct
 * roost__rec) and the payload, padded to 16 bytes, so the ring moves the
 * same bytes roost does. A record never wraps: when it does not fit
 * before the end, a PAD record fills the rest and it goes at the start.
 *
 * Fast path, per message: the producer copies, publishes its tail with a
 * release store, issues one seq_cst fence and reads the consumer's
 * sleeping flag (a read-mostly line); the consumer reads the tail with an
 * acquire load only when its cached copy says the ring is empty, and
 * gives the space back with a release store of its head. No atomic
 * read-modify-write and no system call while both sides keep up. Each
 * side keeps the other's counter cached in private memory.
 *
 * Sleeping (the usual protocol, on both sides): read the wait word's
 * sequence, set the sleeping flag, seq_cst fence, look again, then
 * futex_wait on the sequence. The other side publishes, fences, and only
 * if it sees the flag clears it, bumps the sequence and calls
 * futex_wake. Either the sleeper sees the publication or the publisher
 * sees the flag (Dekker): no lost wake-up. Before sleeping each side
 * spins: the consumer for an adaptive time (doubled when data came while
 * it spun, halved when it had to sleep; sched_yield() in the loop, since
 * on a small machine the producer may need our CPU), the producer for a
 * fixed 20 us. A producer waiting for room is woken when the consumer has
 * given back a sixteenth of the ring (the consumer checks the producer's
 * flag once per such chunk, not per message).
 *
 * All of it is process-shared (the futexes are not FUTEX_PRIVATE) and
 * every wait has a deadline. The ring trusts its peer: it is a benchmark
 * reference, not an API; only lengths are bounds-checked.
 */
#ifndef SPSC_RING_H
#define SPSC_RING_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SPSC_REC_HDR 48u  /* = sizeof(struct roost__rec) */
#define SPSC_REC_ALIGN 16u
#define SPSC_RX_MAX 4     /* rings one consumer polls */

/* A sleeper's flag and futex word (one cache line, in shared memory). */
struct spsc_wait {
	_Alignas(64) atomic_uint sw_sleeping;
	atomic_uint sw_seq;
};

/* Shared control block of one ring; the data follows at
 * SPSC_CTL_BYTES. */
struct spsc_ring {
	_Alignas(64) atomic_uint_least64_t sr_tail; /* producer writes */
	_Alignas(64) atomic_uint_least64_t sr_head; /* consumer writes */
	struct spsc_wait sr_space;  /* the producer, waiting for room */
	_Alignas(64) uint32_t sr_cap; /* data bytes: set once, before fork */
};

#define SPSC_CTL_BYTES 256u

/* The producer's private side. */
struct spsc_tx {
	struct spsc_ring *tx_ring;
	struct spsc_wait *tx_peer;  /* the consumer's wait word */
	unsigned char *tx_data;
	uint64_t tx_tail;           /* our copy of sr_tail */
	uint64_t tx_head;           /* last sr_head read: room is at least
	                               what this says */
	uint32_t tx_cap;
	uint32_t tx_from;           /* written into every header */
	uint64_t tx_seq;            /* messages sent */
};

/* One ring as its consumer sees it. */
struct spsc_rxq {
	struct spsc_ring *rq_ring;
	unsigned char *rq_data;
	uint64_t rq_head;           /* our copy of sr_head */
	uint64_t rq_tail;           /* last sr_tail read */
	uint64_t rq_kicked;         /* rq_head when we last looked at the
	                               producer's flag */
	uint32_t rq_cap;
};

/* The consumer's private side: the rings it polls. */
struct spsc_rx {
	struct spsc_wait *rx_wait;  /* ours; producers wake it */
	int rx_n;
	int rx_next;                /* ring polled first */
	int rx_held;                /* ring of the record in hand, or -1 */
	uint32_t rx_held_len;       /* its length, given back next time */
	uint32_t rx_spin_ns;        /* adaptive spin before sleeping */
	struct spsc_rxq rx_q[SPSC_RX_MAX];
};

/* Bytes of shared memory a ring of 'cap' data bytes takes ('cap': a
 * power of two, at least 4 KiB). */
size_t spsc_ring_bytes(uint32_t cap);

/* Initialise a ring at 'r' (spsc_ring_bytes(cap) bytes, 64-aligned,
 * zeroed) before the processes that use it are forked. */
void spsc_ring_init(struct spsc_ring *r, uint32_t cap);

/* The producer's side of 'r', whose consumer sleeps on 'peer'; 'from'
 * goes into every header. Maps all of 'r' into this process. */
void spsc_tx_init(struct spsc_tx *tx, struct spsc_ring *r,
                  struct spsc_wait *peer, uint32_t from);

/* The consumer's side of the rings 'r'[0..n-1] (n <= SPSC_RX_MAX),
 * sleeping on 'w'. Maps all of them into this process. */
void spsc_rx_init(struct spsc_rx *rx, struct spsc_ring *const *r, int n,
                  struct spsc_wait *w);

/*
 * Copy one message of 'size' bytes into the ring, waiting at most
 * 'timeout_ns' for room (the clock is read only when it must wait).
 * Returns 0, -EMSGSIZE (larger than an eighth of the ring) or
 * -ETIMEDOUT. 'data' stays the caller's.
 */
int spsc_send(struct spsc_tx *tx, uint32_t kind, const void *data,
              size_t size, uint64_t timeout_ns);

/*
 * Take the next message from the rings, one ring after the other, waiting
 * at most 'timeout_ns' (the clock is read only when it must wait). On
 * success '*data' and '*size' describe the
 * payload in the ring: a view, valid until the next spsc_recv on 'rx'
 * (that call gives its space back). Returns 0, -ETIMEDOUT or -EBADMSG
 * (a record whose length is out of bounds).
 */
int spsc_recv(struct spsc_rx *rx, const void **data, size_t *size,
              uint64_t timeout_ns);

#endif /* SPSC_RING_H */
