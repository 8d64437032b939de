/* SPDX-License-Identifier: MIT */
/*
 * spsc_ring.c - the hand-rolled SPSC futex ring roost_bench compares
 * roost with (the protocol is described in spsc_ring.h). Memory-order
 * pairings are tagged: tag-spsc-publish (a producer's tail store and the
 * consumer's tail load), tag-spsc-free (the consumer's head store and the
 * producer's head load), tag-spsc-sleep (the fence on each side of a
 * sleep: the sleeper's after it sets its flag, the waker's after it
 * publishes).
 */
#include "spsc_ring.h"
#include "bench_util.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define REC_PAD 0x1u             /* filler to the end of the ring */
#define SPIN_NS_MAX 50000u       /* consumer spin: roost's default */
#define SPIN_NS_MIN 2000u
#define SPIN_BACKOFF_MAX 64      /* pauses between two polls at most */
#define SPACE_SPIN_NS 20000u     /* producer spin for room */
#define SLEEP_MAX_NS 10000000u   /* futex waits are bounded: a peer
                                    killed between its flag check and
                                    its wake cannot strand us */
#define KICK_DIV 16              /* room given back between two looks
                                    at the producer's flag: cap / 16 */

/* A record header: as many bytes as roost's struct roost__rec. */
struct spsc_rec {
	uint32_t rh_len;     /* whole record, header included, x16 */
	uint32_t rh_flags;   /* REC_PAD */
	uint64_t rh_from;    /* the producer's id */
	uint64_t rh_seq;     /* its message number */
	uint32_t rh_kind;
	uint32_t rh_size;    /* payload bytes */
	uint64_t rh_corr;    /* 0: kept for the size */
	uint64_t rh_time_ns; /* 0: the ring keeps no clock */
};

static_assert(sizeof(struct spsc_rec) == SPSC_REC_HDR,
              "a record header is as large as roost's");
static_assert(sizeof(struct spsc_ring) <= SPSC_CTL_BYTES,
              "the control block fits before the data");

static uint64_t
rec_bytes(size_t size)
{
	return (SPSC_REC_HDR + size + SPSC_REC_ALIGN - 1) &
	       ~(uint64_t)(SPSC_REC_ALIGN - 1);
}

size_t
spsc_ring_bytes(uint32_t cap)
{
	return SPSC_CTL_BYTES + (size_t)cap;
}

void
spsc_ring_init(struct spsc_ring *r, uint32_t cap)
{
	assert(cap >= 4096 && (cap & (cap - 1)) == 0);
	atomic_init(&r->sr_tail, 0);
	atomic_init(&r->sr_head, 0);
	atomic_init(&r->sr_space.sw_sleeping, 0);
	atomic_init(&r->sr_space.sw_seq, 0);
	r->sr_cap = cap;
}

static unsigned char *
ring_data(struct spsc_ring *r)
{
	return (unsigned char *)r + SPSC_CTL_BYTES;
}

/*
 * Map every page of 'r' into this process now, as roost maps a mailbox
 * with MAP_POPULATE: a page fault costs several microseconds on this VM
 * and would otherwise land in the measurement. A shared mapping's page
 * tables are not copied by fork(), so each process does this itself.
 * Falls back to touching each page (read) where MADV_POPULATE_WRITE is
 * unknown.
 */
static void
ring_populate(struct spsc_ring *r)
{
	uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)r & ~(page - 1);
	uintptr_t hi = ((uintptr_t)r + spsc_ring_bytes(r->sr_cap) + page - 1) &
	               ~(page - 1);
	volatile const unsigned char *p;

#ifdef MADV_POPULATE_WRITE
	if (madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE) == 0)
		return;
#endif
	for (p = (const unsigned char *)lo; (uintptr_t)p < hi; p += page)
		(void)*p;
}

void
spsc_tx_init(struct spsc_tx *tx, struct spsc_ring *r, struct spsc_wait *peer,
             uint32_t from)
{
	memset(tx, 0, sizeof(*tx));
	tx->tx_ring = r;
	tx->tx_peer = peer;
	tx->tx_data = ring_data(r);
	tx->tx_cap = r->sr_cap;
	tx->tx_from = from;
	ring_populate(r);
}

void
spsc_rx_init(struct spsc_rx *rx, struct spsc_ring *const *r, int n,
             struct spsc_wait *w)
{
	int i;

	assert(n >= 1 && n <= SPSC_RX_MAX);
	memset(rx, 0, sizeof(*rx));
	rx->rx_wait = w;
	rx->rx_n = n;
	rx->rx_held = -1;
	rx->rx_spin_ns = SPIN_NS_MAX;
	for (i = 0; i < n; i++) {
		rx->rx_q[i].rq_ring = r[i];
		rx->rx_q[i].rq_data = ring_data(r[i]);
		rx->rx_q[i].rq_cap = r[i]->sr_cap;
		ring_populate(r[i]);
	}
}

/* ------------------------------------------------------------------ */
/* Sleeping and waking (tag-spsc-sleep). */

static void
futex_wait(atomic_uint *word, unsigned val, uint64_t rel_ns)
{
	struct timespec ts = bench_ns_to_ts(rel_ns);

	/* Shared, not FUTEX_PRIVATE: the peer is another process. */
	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, val, &ts,
	              NULL, 0);
}

static void
futex_wake(atomic_uint *word)
{
	(void)syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, 1, NULL, NULL,
	              0);
}

/*
 * Wake the sleeper of 'w' if it sleeps. The caller has published and then
 * issued a seq_cst fence (tag-spsc-sleep): this relaxed load is ordered
 * after the publication. Only the waker that clears the flag makes the
 * system calls.
 */
static void
wait_wake(struct spsc_wait *w)
{
	if (atomic_load_explicit(&w->sw_sleeping, memory_order_relaxed) == 0)
		return;
	if (atomic_exchange_explicit(&w->sw_sleeping, 0,
	                             memory_order_relaxed) == 0)
		return;
	atomic_fetch_add_explicit(&w->sw_seq, 1, memory_order_release);
	futex_wake(&w->sw_seq);
}

/*
 * Sleep on 'w' until 'ready'(arg) holds or 'deadline_ns' passes. Returns
 * 0 or -ETIMEDOUT.
 */
static int
wait_sleep(struct spsc_wait *w, bool (*ready)(void *), void *arg,
           uint64_t deadline_ns)
{
	uint64_t now;
	uint64_t rel;
	unsigned seq;

	for (;;) {
		seq = atomic_load_explicit(&w->sw_seq, memory_order_acquire);
		atomic_store_explicit(&w->sw_sleeping, 1,
		                      memory_order_relaxed);
		/* tag-spsc-sleep: pairs with the fence the other side issues
		 * after it publishes. Either it sees our flag, or we see
		 * what it published. */
		atomic_thread_fence(memory_order_seq_cst);
		if (ready(arg))
			break;
		now = bench_now_ns();
		if (now >= deadline_ns) {
			atomic_store_explicit(&w->sw_sleeping, 0,
			                      memory_order_relaxed);
			return -ETIMEDOUT;
		}
		rel = deadline_ns - now;
		futex_wait(&w->sw_seq, seq, rel < SLEEP_MAX_NS ? rel
		                                              : SLEEP_MAX_NS);
		atomic_store_explicit(&w->sw_sleeping, 0,
		                      memory_order_relaxed);
		if (ready(arg))
			return 0;
	}
	atomic_store_explicit(&w->sw_sleeping, 0, memory_order_relaxed);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The producer. */

struct room {
	struct spsc_tx *rm_tx;
	uint64_t rm_total; /* bytes needed from tx_tail */
};

/* Is there room for rm_total bytes? Refreshes tx_head. */
static bool
room_ready(void *arg)
{
	struct room *rm = arg;
	struct spsc_tx *tx = rm->rm_tx;

	/* tag-spsc-free: pairs with the consumer's release of sr_head. */
	tx->tx_head = atomic_load_explicit(&tx->tx_ring->sr_head,
	                                   memory_order_acquire);
	return tx->tx_tail + rm->rm_total - tx->tx_head <= tx->tx_cap;
}

/* Wait up to 'timeout_ns' for 'total' bytes of room: spin
 * SPACE_SPIN_NS, then sleep on sr_space until the consumer gives back a
 * chunk. */
static int
tx_wait_room(struct spsc_tx *tx, uint64_t total, uint64_t timeout_ns)
{
	struct room rm = {tx, total};
	uint64_t t0 = bench_now_ns();
	uint64_t deadline_ns = t0 + timeout_ns;
	uint64_t now = t0;
	int i;

	while (now - t0 < SPACE_SPIN_NS) {
		if (room_ready(&rm))
			return 0;
		for (i = 0; i < SPIN_BACKOFF_MAX; i++)
			bench_cpu_relax();
		sched_yield(); /* the consumer may need our CPU */
		now = bench_now_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
	}
	return wait_sleep(&tx->tx_ring->sr_space, room_ready, &rm,
	                  deadline_ns);
}

int
spsc_send(struct spsc_tx *tx, uint32_t kind, const void *data, size_t size,
          uint64_t timeout_ns)
{
	struct spsc_rec h;
	uint64_t need;
	uint64_t off;
	uint64_t end;
	uint64_t total;
	uint32_t pad[2];
	int rc;

	if (size > tx->tx_cap / 8 - SPSC_REC_HDR)
		return -EMSGSIZE;
	need = rec_bytes(size);
	off = tx->tx_tail & (tx->tx_cap - 1);
	end = tx->tx_cap - off; /* contiguous bytes to the end */
	total = need <= end ? need : end + need;
	if (tx->tx_tail + total - tx->tx_head > tx->tx_cap) {
		/* Our cached head says full: read the real one. */
		tx->tx_head = atomic_load_explicit(&tx->tx_ring->sr_head,
		                                   memory_order_acquire);
		if (tx->tx_tail + total - tx->tx_head > tx->tx_cap) {
			rc = tx_wait_room(tx, total, timeout_ns);
			if (rc < 0)
				return rc;
		}
	}
	if (need > end) {
		/* A PAD record fills the rest; ours starts the ring. */
		pad[0] = (uint32_t)end;
		pad[1] = REC_PAD;
		memcpy(tx->tx_data + off, pad, sizeof(pad));
		tx->tx_tail += end;
		off = 0;
	}
	h.rh_len = (uint32_t)need;
	h.rh_flags = 0;
	h.rh_from = tx->tx_from;
	h.rh_seq = tx->tx_seq++;
	h.rh_kind = kind;
	h.rh_size = (uint32_t)size;
	h.rh_corr = 0;
	h.rh_time_ns = 0;
	memcpy(tx->tx_data + off, &h, sizeof(h));
	memcpy(tx->tx_data + off + SPSC_REC_HDR, data, size);
	tx->tx_tail += need;
	/* tag-spsc-publish: pairs with the consumer's acquire of sr_tail. */
	atomic_store_explicit(&tx->tx_ring->sr_tail, tx->tx_tail,
	                      memory_order_release);
	/* tag-spsc-sleep: pairs with the fence in wait_sleep(). */
	atomic_thread_fence(memory_order_seq_cst);
	wait_wake(tx->tx_peer);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The consumer. */

/* Look at the producer's flag: it may sleep waiting for room. */
static void
rxq_kick(struct spsc_rxq *q)
{
	q->rq_kicked = q->rq_head;
	/* tag-spsc-sleep: pairs with the fence in wait_sleep(). */
	atomic_thread_fence(memory_order_seq_cst);
	wait_wake(&q->rq_ring->sr_space);
}

/*
 * Give back everything up to rq_head. A producer waiting for room needs
 * at most an eighth of the ring (spsc_send), so one look at its flag per
 * sixteenth given back wakes it before the ring is a sixteenth emptier
 * than when it went to sleep.
 */
static void
rxq_publish(struct spsc_rxq *q)
{
	/* tag-spsc-free: pairs with the producer's acquire of sr_head. */
	atomic_store_explicit(&q->rq_ring->sr_head, q->rq_head,
	                      memory_order_release);
	if (q->rq_head - q->rq_kicked >= q->rq_cap / KICK_DIV)
		rxq_kick(q);
}

/* Is anything published on some ring? Refreshes rq_tail. */
static bool
rx_ready(void *arg)
{
	struct spsc_rx *rx = arg;
	struct spsc_rxq *q;
	int i;

	for (i = 0; i < rx->rx_n; i++) {
		q = &rx->rx_q[i];
		if (q->rq_head != q->rq_tail)
			return true;
		/* tag-spsc-publish: pairs with the producer's release. */
		q->rq_tail = atomic_load_explicit(&q->rq_ring->sr_tail,
		                                  memory_order_acquire);
		if (q->rq_head != q->rq_tail)
			return true;
	}
	return false;
}

/*
 * Wait up to 'timeout_ns' for a record on any ring: poll with a growing pause (no clock
 * read), then spin for rx_spin_ns yielding the CPU between polls, then
 * sleep. The spin doubles when it caught a record and halves when it
 * had to sleep, within SPIN_NS_MIN..SPIN_NS_MAX.
 */
static int
rx_wait_data(struct spsc_rx *rx, uint64_t timeout_ns)
{
	uint64_t deadline_ns;
	uint64_t t0;
	uint64_t now;
	int backoff;
	int i;

	for (backoff = 1; backoff <= SPIN_BACKOFF_MAX; backoff <<= 1) {
		if (rx_ready(rx))
			return 0;
		for (i = 0; i < backoff; i++)
			bench_cpu_relax();
	}
	t0 = bench_now_ns();
	deadline_ns = t0 + timeout_ns;
	now = t0;
	while (now - t0 < rx->rx_spin_ns) {
		if (rx_ready(rx)) {
			rx->rx_spin_ns = rx->rx_spin_ns * 2 > SPIN_NS_MAX
			                 ? SPIN_NS_MAX : rx->rx_spin_ns * 2;
			return 0;
		}
		for (i = 0; i < SPIN_BACKOFF_MAX; i++)
			bench_cpu_relax();
		sched_yield(); /* a producer on our CPU cannot send while we
		                  spin */
		now = bench_now_ns();
		if (now >= deadline_ns)
			return -ETIMEDOUT;
	}
	rx->rx_spin_ns = rx->rx_spin_ns / 2 < SPIN_NS_MIN ? SPIN_NS_MIN
	                                                  : rx->rx_spin_ns / 2;
	return wait_sleep(rx->rx_wait, rx_ready, rx, deadline_ns);
}

/* Give back the record in hand, if any. */
static void
rx_give_back(struct spsc_rx *rx)
{
	struct spsc_rxq *q;

	if (rx->rx_held < 0)
		return;
	q = &rx->rx_q[rx->rx_held];
	q->rq_head += rx->rx_held_len;
	rx->rx_held = -1;
	rxq_publish(q);
}

/* The next record of one ring, skipping PAD: 1 and '*rec', 0 when the
 * ring is empty, -EBADMSG for a length out of bounds. */
static int
rxq_take(struct spsc_rxq *q, const unsigned char **rec)
{
	uint32_t h[2]; /* rh_len, rh_flags */
	uint64_t off;

	for (;;) {
		if (q->rq_head == q->rq_tail) {
			/* tag-spsc-publish: pairs with the producer's
			 * release of sr_tail. */
			q->rq_tail = atomic_load_explicit(
				&q->rq_ring->sr_tail, memory_order_acquire);
			if (q->rq_head == q->rq_tail)
				return 0;
		}
		off = q->rq_head & (q->rq_cap - 1);
		memcpy(h, q->rq_data + off, sizeof(h));
		if (h[0] < SPSC_REC_ALIGN || h[0] % SPSC_REC_ALIGN != 0 ||
		    h[0] > q->rq_cap - off || h[0] > q->rq_tail - q->rq_head)
			return -EBADMSG;
		if ((h[1] & REC_PAD) == 0) {
			*rec = q->rq_data + off;
			return 1;
		}
		q->rq_head += h[0];
		rxq_publish(q);
	}
}

int
spsc_recv(struct spsc_rx *rx, const void **data, size_t *size,
          uint64_t timeout_ns)
{
	const unsigned char *rec;
	struct spsc_rec h;
	int rc;
	int i;
	int k;

	rx_give_back(rx);
	for (;;) {
		for (k = 0; k < rx->rx_n; k++) {
			i = rx->rx_next;
			rx->rx_next = i + 1 == rx->rx_n ? 0 : i + 1;
			rc = rxq_take(&rx->rx_q[i], &rec);
			if (rc < 0)
				return rc;
			if (rc == 0)
				continue;
			memcpy(&h, rec, sizeof(h));
			if (h.rh_len < SPSC_REC_HDR ||
			    h.rh_size > h.rh_len - SPSC_REC_HDR)
				return -EBADMSG;
			rx->rx_held = i;
			rx->rx_held_len = h.rh_len;
			*data = rec + SPSC_REC_HDR;
			*size = h.rh_size;
			return 0;
		}
		rc = rx_wait_data(rx, timeout_ns);
		if (rc < 0)
			return rc;
	}
}
