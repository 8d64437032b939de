/* SPDX-License-Identifier: MIT */
/*
 * roost_bench.c - roost against a hand-rolled SPSC futex ring, pipe,
 * SOCK_SEQPACKET and POSIX mq: the measuring side (the report is
 * roost_bench_report.c, the ring spsc_ring.c, the token ring
 * hop_bench.c).
 *
 * Every figure comes from forked worker processes (bench_proc.c): the
 * parent only creates the channels, starts the workers together through
 * a barrier in an anonymous shared mapping, waits for them with a
 * deadline and collects what they wrote back there. Scenarios: ping-pong
 * round trip of 64 B (median and p99), the same with roost_call, the
 * same with both processes pinned to one CPU, one-way throughput of 64 B
 * and of 1 KiB, fan-in of two and of four senders to one receiver
 * (64 B), Armstrong's token ring of 2, 16, 64 and 256 processes, and the
 * CPU time of a roost receiver idle in roost_recv(). The throughput
 * scenarios also run "roost-batch": roost with senders that send
 * BATCH_MSGS messages per roost_send_batch() call to a receiver that takes
 * them one roost_recv() at a time, as roost's does. It is a row of its
 * own; the roost row, which every verdict judges, stays one roost_send
 * per message. Each repetition runs every mechanism of a scenario in
 * turn, so they see the same machine state; the summary keeps the median
 * repetition (--best: the best one), and ratios are the median of the
 * per-repetition ratios.
 *
 * The host of this VM moves its vCPUs between two placements whose
 * cache-line hand-off costs differ five-fold, so a spin ping-pong over one
 * shared word (the "placement probe", reported as its round trip) runs at
 * the start, at the start of every repetition (just before the round-trip
 * scenarios, which are judged against it) and at the end: compare ratios
 * within one run, never absolute figures across runs.
 *
 * Measurements start warm: ping-pong clients make untimed round trips
 * first, and throughput senders an untimed warm-up phase, long enough for
 * a new mailbox or ring to be written once through (its first lap takes a
 * page fault per 4 KiB, which would otherwise set the p99). Throughput
 * senders then send for a time budget and finish with an end marker
 * carrying their count; receivers check every sequence number and time
 * from the first timed message to the last end marker. The idle figure
 * comes with a pipe reader's as a reference for what this kernel charges
 * a sleeping process.
 *
 * Every blocking call is bounded: roost, ring and socket calls by a
 * per-call timeout, mq calls by a run deadline, pipe calls by the alarm()
 * watchdog every worker sets, and the parent kills a job's workers when
 * the job overruns. Each job creates its own roost system, queues and
 * mappings under unique names and removes them whatever happens, so
 * /dev/shm is left clean.
 */
#include <roost.h>

#include "bench_proc.h"
#include "bench_util.h"
#include "hop_bench.h"
#include "roost_bench.h"
#include "spsc_ring.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <mqueue.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define SMALL_LEN 64u          /* payload of ping-pong, one-way, fan-in */
#define LARGE_LEN 1024u        /* payload of the 1 KiB one-way run */
#define CALL_TIMEOUT_MS 5000   /* bound of every socket and poll call */
#define JOB_TIMEOUT_S 30       /* the parent kills a job's workers then */
#define MBOX_BYTES (8u << 20)  /* roost user lane of every mailbox; the
                                  SPSC rings of a job share as much */
#define PIPE_BYTES (1 << 20)   /* pipe buffer (default pipe-max-size) */
#define SOCK_BYTES (4 << 20)   /* socket buffers (default wmem_max) */
#define SEND_BATCH 256         /* sends between two clock reads */
#define PROBE_BATCH 100        /* round trips per timed probe batch */
#define PROBE_WARMUP 20        /* probe batches not timed */
#define RTT_MIN_ROUNDS 200     /* timed round trips, however slow */
#define CHAN_MAX 4             /* channels of one job */
#define SENDERS_MAX 4
#define WORKERS_MAX (SENDERS_MAX + 1)
#define SPSC_WAITS_BYTES 256u  /* the consumers' wait words, then rings */
#define RX_NAME "rx"           /* roost name of every receiving worker */
#define ROOST_KIND 1
#define FILL_BYTE 0xa5         /* payload bytes after the header */
#define NS BENCH_NS

const char *const mech_name[MECH_COUNT] = {
	"roost", "roost-batch", "spsc-ring", "pipe", "seqpacket", "mq",
};

const int ring_sizes[RING_SIZES] = {2, 16, 64, 256};

enum scen {
	SCEN_RTT,
	SCEN_CALL,      /* roost_call / roost_reply round trip (roost) */
	SCEN_PINNED,    /* the ping-pong on one CPU (roost, ring, pipe) */
	SCEN_ONEWAY64,
	SCEN_ONEWAY1K,
	SCEN_FANIN2,
	SCEN_FANIN4,
	SCEN_IDLE,
	SCEN_PROBE,
	SCEN_COUNT
};

static const char *const scen_name[SCEN_COUNT] = {
	"rtt", "call", "pinned-rtt", "oneway64", "oneway1k", "fanin2",
	"fanin4", "idle", "probe",
};

enum role {
	ROLE_CLIENT,
	ROLE_SERVER,
	ROLE_SENDER0, /* ... ROLE_SENDER0 + SENDERS_MAX - 1 */
	ROLE_RECEIVER = ROLE_SENDER0 + SENDERS_MAX,
	ROLE_IDLE,
	ROLE_WAKER,
	ROLE_PING,
	ROLE_PONG,
	ROLE_COUNT
};

static const char *const role_name[ROLE_COUNT] = {
	"client", "server", "sender0", "sender1", "sender2", "sender3",
	"receiver", "idle", "waker", "ping", "pong",
};

/* Message types. MSG_WARM messages come first in throughput runs: they
 * are checked but not timed, so that every mechanism is measured with its
 * buffers already touched (a new roost mailbox takes one page fault per
 * 4 KiB on its first lap). */
enum { MSG_WARM = 1, MSG_DATA = 2, MSG_END = 3, MSG_QUIT = 4 };

/* The head of every payload, whatever the mechanism. */
struct bench_hdr {
	uint64_t bh_seq;    /* per-sender sequence; the count in MSG_END */
	uint32_t bh_sender; /* 0..SENDERS_MAX-1 */
	uint32_t bh_type;   /* MSG_* */
};

/* The parent's mapping shared with every worker. */
struct shared {
	struct bench_sync sh_sync;
	_Alignas(64) atomic_uint_least64_t sh_word; /* placement probe */
	_Alignas(64) double sh_res[2];    /* what the measuring worker found */
};

/* The channels of one job, made by the parent before it forks. */
struct run {
	enum mech rn_mech;
	enum scen rn_scen;
	size_t rn_len;                 /* payload bytes */
	int rn_nchan;
	int rn_rd[CHAN_MAX];           /* pipe / socket fds, per channel */
	int rn_wr[CHAN_MAX];
	mqd_t rn_mq[CHAN_MAX];
	char rn_mqname[CHAN_MAX][64];
	char rn_sys[ROOST_SYSTEM_NAME_MAX + 1];
	bool rn_sys_made;
	unsigned char *rn_spsc;        /* SPSC: wait words, then rings */
	size_t rn_spsc_len;
	uint32_t rn_spsc_cap;          /* data bytes of each ring */
};

/* One worker's side of the channels. */
struct end {
	enum mech en_mech;
	size_t en_len;
	bool en_call;                  /* roost_call / roost_reply */
	int en_wfd;                    /* -1: none */
	int en_rfd[CHAN_MAX];
	int en_nrx;                    /* channels received from */
	int en_next;                   /* fan-in: the fd tried first */
	mqd_t en_mq_tx;
	mqd_t en_mq_rx;
	struct timespec en_deadline;   /* CLOCK_REALTIME bound of mq calls */
	roost_ctx_t *en_ctx;
	roost_aid_t en_to;             /* NONE: reply to en_from */
	roost_aid_t en_from;           /* sender of the last message */
	uint32_t en_flags;             /* roost_send_ex() flags */
	int en_timeout;                /* roost timeout_ms */
	uint64_t en_timeout_ns;        /* SPSC ring timeout */
	struct spsc_tx en_tx;
	struct spsc_rx en_rx;
	_Alignas(64) unsigned char en_buf[LARGE_LEN]; /* receive buffer */
};

struct job {
	const struct config *jb_cfg;
	struct shared *jb_sh;
	struct run jb_run;
	int jb_n;                      /* workers */
	enum role jb_role[WORKERS_MAX];
};

static int g_serial; /* makes names of systems and queues unique */
static int g_private_lanes = -1; /* --private-lanes; -1: the default */

/* ------------------------------------------------------------------ */
/* Small helpers. */

#define now_ns bench_now_ns
#define sleep_ns bench_sleep_ns
#define cpu_relax bench_cpu_relax

/* Fill a send buffer: the header, then FILL_BYTE up to 'len'. */
static void
msg_init(unsigned char *buf, size_t len, uint32_t sender, uint32_t type)
{
	struct bench_hdr h = {0, sender, type};

	memset(buf, FILL_BYTE, len);
	memcpy(buf, &h, sizeof(h));
}

static struct bench_hdr *
msg_hdr(unsigned char *buf)
{
	return (struct bench_hdr *)(void *)buf;
}

static long
read_mq_depth(void)
{
	FILE *f = fopen("/proc/sys/fs/mqueue/msg_max", "r");
	long v = 10;

	if (f != NULL) {
		if (fscanf(f, "%ld", &v) != 1 || v < 1)
			v = 10;
		fclose(f);
	}
	return v;
}

/* A timeout_ms (< 0: none) as nanoseconds for the SPSC ring. */
static uint64_t
timeout_to_ns(int ms)
{
	return ms < 0 ? UINT64_MAX / 4 : (uint64_t)ms * 1000000u;
}

/* Does 'm' run over a roost system (roost, roost-batch)? */
static bool
mech_is_roost(enum mech m)
{
	return m == MECH_ROOST || m == MECH_ROOST_BATCH;
}

/* ------------------------------------------------------------------ */
/* Scenarios. */

static bool
scen_pingpong(enum scen s)
{
	return s == SCEN_RTT || s == SCEN_CALL || s == SCEN_PINNED;
}

static bool
scen_throughput(enum scen s)
{
	return s == SCEN_ONEWAY64 || s == SCEN_ONEWAY1K || s == SCEN_FANIN2 ||
	       s == SCEN_FANIN4;
}

static int
scen_senders(enum scen s)
{
	return s == SCEN_FANIN4 ? 4 : s == SCEN_FANIN2 ? 2 : 1;
}

/* Is mechanism 'm' measured in scenario 's'? */
static bool
scen_has(enum scen s, enum mech m)
{
	if (m == MECH_ROOST_BATCH)
		return scen_throughput(s);
	switch (s) {
	case SCEN_CALL:
		return m == MECH_ROOST;
	case SCEN_PINNED:
		/* The SPSC ring too, to tell what any spin-then-sleep
		 * design pays on one CPU from what roost pays. */
		return m == MECH_ROOST || m == MECH_PIPE || m == MECH_SPSC;
	case SCEN_IDLE:
		return m == MECH_ROOST || m == MECH_PIPE;
	default:
		return true;
	}
}

/* The metric of a scenario's first figure (SCEN_RTT also sets the
 * next one, the p99). */
static int
scen_metric(enum scen s)
{
	switch (s) {
	case SCEN_RTT:
		return MET_RTT_MED;
	case SCEN_CALL:
		return MET_CALL_MED;
	case SCEN_PINNED:
		return MET_PINNED_MED;
	case SCEN_ONEWAY64:
		return MET_ONEWAY64;
	case SCEN_ONEWAY1K:
		return MET_ONEWAY1K;
	case SCEN_FANIN2:
		return MET_FANIN2;
	case SCEN_FANIN4:
		return MET_FANIN4;
	default:
		return -1;
	}
}

/* ------------------------------------------------------------------ */
/* Channels: made by the parent, shared by the workers after fork(). */

static int
chan_make_pipe(struct run *rn, int c)
{
	int fd[2];

	if (pipe(fd) < 0)
		return -errno;
	(void)fcntl(fd[1], F_SETPIPE_SZ, PIPE_BYTES); /* best effort */
	rn->rn_rd[c] = fd[0];
	rn->rn_wr[c] = fd[1];
	return 0;
}

static int
sock_tune(int fd)
{
	struct timeval tv = {CALL_TIMEOUT_MS / 1000, 0};
	int sz = SOCK_BYTES;

	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

/* A channel is a socketpair used one way: write sv[0], read sv[1]. */
static int
chan_make_seqpacket(struct run *rn, int c)
{
	int sv[2];
	int rc;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv) < 0)
		return -errno;
	rn->rn_wr[c] = sv[0];
	rn->rn_rd[c] = sv[1];
	rc = sock_tune(sv[0]);
	if (rc == 0)
		rc = sock_tune(sv[1]);
	return rc;
}

static int
chan_make_mq(struct run *rn, int c, long depth)
{
	struct mq_attr a;

	memset(&a, 0, sizeof(a));
	a.mq_maxmsg = depth;
	a.mq_msgsize = (long)rn->rn_len;
	snprintf(rn->rn_mqname[c], sizeof(rn->rn_mqname[c]),
	         "/roost-bench-%d-%d-%d", (int)getpid(), g_serial, c);
	rn->rn_mq[c] = mq_open(rn->rn_mqname[c], O_RDWR | O_CREAT | O_EXCL,
	                       0600, &a);
	if (rn->rn_mq[c] == (mqd_t)-1) {
		rn->rn_mqname[c][0] = '\0';
		return -errno;
	}
	return 0;
}

/* The wait word of consumer 'k' (the receiver, or in a ping-pong the
 * reader of channel k). */
static struct spsc_wait *
spsc_wait_at(const struct run *rn, int k)
{
	return (struct spsc_wait *)(void *)(rn->rn_spsc +
	                                    k * sizeof(struct spsc_wait));
}

static struct spsc_ring *
spsc_ring_at(const struct run *rn, int c)
{
	return (struct spsc_ring *)(void *)(rn->rn_spsc + SPSC_WAITS_BYTES +
	        (size_t)c * spsc_ring_bytes(rn->rn_spsc_cap));
}

/* Who sleeps for data of channel 'c': its reader. */
static struct spsc_wait *
spsc_chan_wait(const struct run *rn, int c)
{
	return spsc_wait_at(rn, scen_pingpong(rn->rn_scen) ? c : 0);
}

/*
 * One anonymous shared mapping per job: the consumers' wait words, then
 * one ring per channel. The rings share MBOX_BYTES, what roost's one
 * mailbox has, so neither side gets more buffer.
 */
static int
run_make_spsc(struct run *rn)
{
	void *p;
	int c;

	static_assert(2 * sizeof(struct spsc_wait) <= SPSC_WAITS_BYTES,
	              "two wait words fit");
	rn->rn_spsc_cap = MBOX_BYTES;
	while ((uint64_t)rn->rn_spsc_cap * (uint64_t)rn->rn_nchan >
	       MBOX_BYTES)
		rn->rn_spsc_cap /= 2;
	rn->rn_spsc_len = SPSC_WAITS_BYTES + (size_t)rn->rn_nchan *
	                  spsc_ring_bytes(rn->rn_spsc_cap);
	p = mmap(NULL, rn->rn_spsc_len, PROT_READ | PROT_WRITE,
	         MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		rn->rn_spsc_len = 0;
		return -errno;
	}
	rn->rn_spsc = p; /* zero-filled: the wait words are ready */
	for (c = 0; c < rn->rn_nchan; c++)
		spsc_ring_init(spsc_ring_at(rn, c), rn->rn_spsc_cap);
	return 0;
}

static int
run_make_roost(struct run *rn)
{
	roost_sys_opts_t o;
	int rc;

	roost_sys_opts_init(&o);
	o.mbox_bytes = MBOX_BYTES;
	if (g_private_lanes >= 0)
		o.private_lanes = (uint32_t)g_private_lanes;
	snprintf(rn->rn_sys, sizeof(rn->rn_sys), "bench-%d-%d", (int)getpid(),
	         g_serial);
	rc = roost_system_create(rn->rn_sys, &o);
	if (rc == 0)
		rn->rn_sys_made = true;
	return rc;
}

/* Channels a scenario needs: one per direction of a ping-pong, one per
 * sender of a seqpacket or SPSC fan-in (one writer each), else one. */
static int
run_nchan(enum mech m, enum scen s)
{
	if (s == SCEN_PROBE || mech_is_roost(m))
		return 0;
	if (scen_pingpong(s))
		return 2;
	if (m == MECH_SEQPACKET || m == MECH_SPSC)
		return scen_senders(s);
	return 1;
}

static int
run_setup(struct run *rn, enum mech m, enum scen s, long mq_depth)
{
	int rc = 0;
	int c;

	memset(rn, 0, sizeof(*rn));
	rn->rn_mech = m;
	rn->rn_scen = s;
	rn->rn_len = s == SCEN_ONEWAY1K ? LARGE_LEN : SMALL_LEN;
	for (c = 0; c < CHAN_MAX; c++) {
		rn->rn_rd[c] = rn->rn_wr[c] = -1;
		rn->rn_mq[c] = (mqd_t)-1;
	}
	if (s == SCEN_PROBE)
		return 0;
	if (mech_is_roost(m))
		return run_make_roost(rn);
	rn->rn_nchan = run_nchan(m, s);
	if (m == MECH_SPSC)
		return run_make_spsc(rn);
	for (c = 0; c < rn->rn_nchan && rc == 0; c++) {
		if (m == MECH_PIPE)
			rc = chan_make_pipe(rn, c);
		else if (m == MECH_SEQPACKET)
			rc = chan_make_seqpacket(rn, c);
		else
			rc = chan_make_mq(rn, c, mq_depth);
	}
	return rc;
}

/* Remove everything the run made: fds, queues, mapping, roost system. */
static int
run_teardown(struct run *rn)
{
	int rc = 0;
	int c;

	for (c = 0; c < CHAN_MAX; c++) {
		if (rn->rn_rd[c] >= 0)
			close(rn->rn_rd[c]);
		if (rn->rn_wr[c] >= 0)
			close(rn->rn_wr[c]);
		if (rn->rn_mq[c] != (mqd_t)-1)
			mq_close(rn->rn_mq[c]);
		rn->rn_rd[c] = rn->rn_wr[c] = -1;
		rn->rn_mq[c] = (mqd_t)-1;
		if (rn->rn_mqname[c][0] != '\0' &&
		    mq_unlink(rn->rn_mqname[c]) < 0)
			rc = -errno;
		rn->rn_mqname[c][0] = '\0';
	}
	if (rn->rn_spsc != NULL)
		munmap(rn->rn_spsc, rn->rn_spsc_len);
	rn->rn_spsc = NULL;
	if (rn->rn_sys_made) {
		rn->rn_sys_made = false;
		if (roost_system_destroy(rn->rn_sys) < 0 && rc == 0)
			rc = -EIO;
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* Endpoints: a worker's view of the channels. */

/* The channel 'ro' sends on (-1: none) and those it receives from. */
static void
role_chans(const struct run *rn, enum role ro, int *tx, int *rx, int *nrx)
{
	int c;

	*tx = -1;
	*nrx = 0;
	if (ro >= ROLE_SENDER0 && ro < ROLE_SENDER0 + SENDERS_MAX) {
		*tx = rn->rn_nchan > 1 ? (int)(ro - ROLE_SENDER0) : 0;
		return;
	}
	switch (ro) {
	case ROLE_CLIENT:
		*tx = 0;
		rx[(*nrx)++] = 1;
		break;
	case ROLE_SERVER:
		*tx = 1;
		rx[(*nrx)++] = 0;
		break;
	case ROLE_WAKER:
		*tx = 0;
		break;
	case ROLE_RECEIVER:
	case ROLE_IDLE:
		for (c = 0; c < rn->rn_nchan; c++)
			rx[(*nrx)++] = c;
		break;
	default:
		break;
	}
}

static bool
fd_kept(const struct end *e, int fd)
{
	int i;

	if (fd == e->en_wfd)
		return true;
	for (i = 0; i < e->en_nrx; i++) {
		if (fd == e->en_rfd[i])
			return true;
	}
	return false;
}

/* Take this worker's fds and close the rest of the run's (the parent
 * closes its own copies when the job ends). */
static void
fd_attach(struct run *rn, struct end *e, int tx, const int *rx)
{
	int c;
	int i;

	e->en_wfd = tx >= 0 ? rn->rn_wr[tx] : -1;
	for (i = 0; i < e->en_nrx; i++)
		e->en_rfd[i] = rn->rn_rd[rx[i]];
	for (c = 0; c < rn->rn_nchan; c++) {
		if (!fd_kept(e, rn->rn_rd[c]))
			close(rn->rn_rd[c]);
		if (!fd_kept(e, rn->rn_wr[c]))
			close(rn->rn_wr[c]);
	}
}

static void
mq_attach(const struct run *rn, struct end *e, int tx, const int *rx)
{
	struct timespec ts;

	e->en_mq_tx = tx >= 0 ? rn->rn_mq[tx] : (mqd_t)-1;
	e->en_mq_rx = e->en_nrx > 0 ? rn->rn_mq[rx[0]] : (mqd_t)-1;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += BENCH_WATCHDOG_S;
	e->en_deadline = ts;
}

static void
spsc_attach(const struct run *rn, struct end *e, enum role ro, int tx,
            const int *rx)
{
	struct spsc_ring *rings[SPSC_RX_MAX];
	int i;

	if (tx >= 0)
		spsc_tx_init(&e->en_tx, spsc_ring_at(rn, tx),
		             spsc_chan_wait(rn, tx), (uint32_t)ro);
	for (i = 0; i < e->en_nrx; i++)
		rings[i] = spsc_ring_at(rn, rx[i]);
	if (e->en_nrx > 0)
		spsc_rx_init(&e->en_rx, rings, e->en_nrx,
		             spsc_chan_wait(rn, rx[0]));
}

/* Look RX_NAME up until it appears or BENCH_READY_TIMEOUT_S passes. */
static int
roost_find_rx(roost_ctx_t *ctx, roost_aid_t *out)
{
	uint64_t deadline = now_ns() + BENCH_READY_TIMEOUT_S * 1000000000ull;
	int rc;

	while ((rc = roost_whereis(ctx, RX_NAME, out)) == -ENOENT &&
	       now_ns() < deadline)
		sleep_ns(200000); /* the receiver is still attaching */
	return rc;
}

static int
roost_attach(const struct run *rn, enum role ro, struct end *e)
{
	bool named = ro == ROLE_SERVER || ro == ROLE_RECEIVER ||
	             ro == ROLE_IDLE;
	roost_ctx_opts_t o;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = rn->rn_sys;
	o.name = named ? RX_NAME : NULL;
	rc = roost_ctx_open(&e->en_ctx, &o);
	if (rc < 0) {
		e->en_ctx = NULL;
		return rc;
	}
	/* Replies travel on the system lane, as roost's own replies do. */
	if (ro == ROLE_SERVER)
		e->en_flags = ROOST_SEND_SYSTEM;
	e->en_call = rn->rn_scen == SCEN_CALL;
	return named ? 0 : roost_find_rx(e->en_ctx, &e->en_to);
}

static void
end_init(struct end *e, const struct run *rn, int roost_timeout)
{
	int i;

	memset(e, 0, offsetof(struct end, en_buf));
	e->en_mech = rn->rn_mech;
	e->en_len = rn->rn_len;
	e->en_wfd = -1;
	for (i = 0; i < CHAN_MAX; i++)
		e->en_rfd[i] = -1;
	e->en_mq_tx = e->en_mq_rx = (mqd_t)-1;
	e->en_timeout = roost_timeout;
	e->en_timeout_ns = timeout_to_ns(roost_timeout);
}

static int
end_attach(struct run *rn, enum role ro, struct end *e)
{
	int tx;
	int rx[CHAN_MAX];

	role_chans(rn, ro, &tx, rx, &e->en_nrx);
	switch (rn->rn_mech) {
	case MECH_PIPE:
	case MECH_SEQPACKET:
		fd_attach(rn, e, tx, rx);
		return 0;
	case MECH_MQ:
		mq_attach(rn, e, tx, rx);
		return 0;
	case MECH_SPSC:
		spsc_attach(rn, e, ro, tx, rx);
		return 0;
	case MECH_ROOST:
	case MECH_ROOST_BATCH:
		return roost_attach(rn, ro, e);
	default:
		return -EINVAL;
	}
}

/* Release what end_attach() took. Returns roost_ctx_close()'s code. */
static int
end_detach(struct end *e)
{
	int rc = 0;
	int i;

	if (e->en_ctx != NULL)
		rc = roost_ctx_close(e->en_ctx);
	e->en_ctx = NULL;
	if (e->en_wfd >= 0)
		close(e->en_wfd);
	for (i = 0; i < e->en_nrx; i++) {
		if (e->en_rfd[i] >= 0)
			close(e->en_rfd[i]);
	}
	if (e->en_mq_tx != (mqd_t)-1)
		mq_close(e->en_mq_tx);
	if (e->en_mq_rx != (mqd_t)-1 && e->en_mq_rx != e->en_mq_tx)
		mq_close(e->en_mq_rx);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Send and receive one message of en_len bytes. On success '*data' is
 * the payload, valid until the next receive on 'e'. */

static int
sock_err(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

static int
sp_send(struct end *e, const void *buf)
{
	ssize_t n = send(e->en_wfd, buf, e->en_len, MSG_NOSIGNAL);

	if (n < 0)
		return sock_err();
	return (size_t)n == e->en_len ? 0 : -EMSGSIZE;
}

static int
sp_check(const struct end *e, ssize_t n)
{
	if (n == 0)
		return -ECONNRESET;
	return (size_t)n == e->en_len ? 0 : -EBADMSG;
}

/* A fan-in sender closed its socket after its end marker: stop reading
 * it. Returns -ECONNRESET when no socket is left. */
static int
sp_drop(struct end *e, int i)
{
	close(e->en_rfd[i]);
	e->en_rfd[i] = e->en_rfd[--e->en_nrx];
	e->en_rfd[e->en_nrx] = -1;
	e->en_next = 0;
	return e->en_nrx > 0 ? 0 : -ECONNRESET;
}

/* Fan-in over several socketpairs: take from each in turn without
 * blocking, and poll() only when all are empty, as an event loop
 * would. */
static int
sp_recv_multi(struct end *e)
{
	struct pollfd pf[CHAN_MAX];
	ssize_t n;
	int i;
	int k;

	for (;;) {
		for (k = 0; k < e->en_nrx; k++) {
			i = e->en_next;
			e->en_next = (i + 1) % e->en_nrx;
			n = recv(e->en_rfd[i], e->en_buf, sizeof(e->en_buf),
			         MSG_DONTWAIT);
			if (n > 0)
				return sp_check(e, n);
			if (n == 0 && sp_drop(e, i) < 0)
				return -ECONNRESET;
			if (n == 0)
				break;
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return -errno;
		}
		for (i = 0; i < e->en_nrx; i++) {
			pf[i].fd = e->en_rfd[i];
			pf[i].events = POLLIN;
		}
		n = poll(pf, (nfds_t)e->en_nrx, CALL_TIMEOUT_MS);
		if (n == 0)
			return -ETIMEDOUT;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

static int
sp_recv(struct end *e)
{
	ssize_t n;

	if (e->en_nrx > 1)
		return sp_recv_multi(e);
	n = recv(e->en_rfd[0], e->en_buf, sizeof(e->en_buf), 0);
	if (n < 0)
		return sock_err();
	return sp_check(e, n);
}

static int
mq_send1(struct end *e, const void *buf)
{
	if (mq_timedsend(e->en_mq_tx, buf, e->en_len, 0, &e->en_deadline) < 0)
		return -errno;
	return 0;
}

static int
mq_recv1(struct end *e)
{
	ssize_t n = mq_timedreceive(e->en_mq_rx, (char *)e->en_buf, e->en_len,
	                            NULL, &e->en_deadline);

	if (n < 0)
		return -errno;
	return (size_t)n == e->en_len ? 0 : -EBADMSG;
}

static int
spsc_recv1(struct end *e, const unsigned char **data)
{
	const void *p;
	size_t size;
	int rc;

	rc = spsc_recv(&e->en_rx, &p, &size, e->en_timeout_ns);
	if (rc < 0)
		return rc;
	if (size != e->en_len)
		return -EBADMSG;
	*data = p; /* a view: no copy */
	return 0;
}

static int
roost_send1(struct end *e, const void *buf)
{
	roost_aid_t to = e->en_to.id != 0 ? e->en_to : e->en_from;

	return roost_send_ex(e->en_ctx, to, ROOST_KIND, e->en_flags, 0, buf,
	                     e->en_len, e->en_timeout);
}

static int
roost_recv1(struct end *e, const unsigned char **data)
{
	roost_msg_t *m;
	int rc;

	rc = roost_recv(e->en_ctx, &m, e->en_timeout);
	if (rc < 0)
		return rc;
	if (roost_msg_size(m) != e->en_len)
		return -EBADMSG;
	e->en_from = roost_msg_from(m);
	*data = roost_msg_data(m); /* a view: no copy */
	return 0;
}

static int
end_send(struct end *e, const unsigned char *buf)
{
	switch (e->en_mech) {
	case MECH_ROOST:
	case MECH_ROOST_BATCH: /* one message: the end marker */
		return roost_send1(e, buf);
	case MECH_SPSC:
		return spsc_send(&e->en_tx, ROOST_KIND, buf, e->en_len,
		                 e->en_timeout_ns);
	case MECH_PIPE:
		return bench_write_all(e->en_wfd, buf, e->en_len);
	case MECH_SEQPACKET:
		return sp_send(e, buf);
	case MECH_MQ:
		return mq_send1(e, buf);
	default:
		return -EINVAL;
	}
}

static int
end_recv(struct end *e, const unsigned char **data)
{
	*data = e->en_buf;
	switch (e->en_mech) {
	case MECH_ROOST:
	case MECH_ROOST_BATCH:
		return roost_recv1(e, data);
	case MECH_SPSC:
		return spsc_recv1(e, data);
	case MECH_PIPE:
		return bench_read_all(e->en_rfd[0], e->en_buf, e->en_len);
	case MECH_SEQPACKET:
		return sp_recv(e);
	case MECH_MQ:
		return mq_recv1(e);
	default:
		return -EINVAL;
	}
}

/* A roost_call round trip: '*data' is the reply's payload, a view valid
 * until the next call. */
static int
end_call(struct end *e, const unsigned char *buf, const unsigned char **data)
{
	roost_msg_t *r;
	int rc;

	rc = roost_call(e->en_ctx, e->en_to, ROOST_KIND, 0, buf, e->en_len,
	                e->en_timeout, &r);
	if (rc < 0)
		return rc;
	if (roost_msg_size(r) != e->en_len)
		return -EBADMSG;
	*data = roost_msg_data(r);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Worker roles. Each returns 0 or a negative code; the measuring one
 * leaves its figures in sh_res. */

static int
check_echo(const unsigned char *in, size_t len, uint64_t seq)
{
	struct bench_hdr h;

	memcpy(&h, in, sizeof(h));
	if (h.bh_seq != seq || h.bh_type != MSG_DATA ||
	    in[len - 1] != FILL_BYTE) {
		fprintf(stderr, "roost_bench: echo %" PRIu64 " for %" PRIu64
		        "\n", h.bh_seq, seq);
		return -EBADMSG;
	}
	return 0;
}

/* One round trip of message 'seq'. */
static int
rtt_once(struct end *e, unsigned char *out, uint64_t seq)
{
	const unsigned char *in;
	int rc;

	msg_hdr(out)->bh_seq = seq;
	if (e->en_call) {
		rc = end_call(e, out, &in);
	} else {
		rc = end_send(e, out);
		if (rc == 0)
			rc = end_recv(e, &in);
	}
	if (rc == 0)
		rc = check_echo(in, e->en_len, seq);
	return rc;
}

/* Untimed round trips: at least 'min' of them and for at least 'secs'.
 * Returns how many were made, or a negative code. */
static int64_t
rtt_warm(struct end *e, unsigned char *out, int min, double secs)
{
	uint64_t deadline = now_ns() + (uint64_t)(secs * NS);
	int64_t i;
	int rc = 0;

	for (i = 0; rc == 0; i++) {
		if (i >= min && now_ns() >= deadline)
			break;
		rc = rtt_once(e, out, (uint64_t)i);
	}
	return rc < 0 ? rc : i;
}

/* Time up to 'rounds' round trips from 'seq', one clock read per trip,
 * stopping after 'max_s' once RTT_MIN_ROUNDS are done. Returns how many
 * were timed, or a negative code. */
static int
rtt_timed(struct end *e, unsigned char *out, uint64_t seq, uint64_t *lat,
          int rounds, double max_s)
{
	uint64_t t;
	uint64_t t2;
	uint64_t stop;
	int rc;
	int i;

	t = now_ns();
	stop = t + (uint64_t)(max_s * NS);
	for (i = 0; i < rounds; i++) {
		rc = rtt_once(e, out, seq + (uint64_t)i);
		if (rc < 0)
			return rc;
		t2 = now_ns();
		lat[i] = t2 - t;
		t = t2;
		if (t >= stop && i + 1 >= RTT_MIN_ROUNDS)
			return i + 1;
	}
	return rounds;
}

static int
do_client(const struct config *cf, struct shared *sh, struct end *e)
{
	_Alignas(64) unsigned char out[LARGE_LEN];
	int n = cf->cf_rtt_rounds;
	uint64_t *lat;
	int64_t warm;
	int rc;

	lat = malloc((size_t)n * sizeof(*lat));
	if (lat == NULL)
		return -ENOMEM;
	msg_init(out, e->en_len, 0, MSG_DATA);
	warm = rtt_warm(e, out, cf->cf_rtt_warmup, cf->cf_rtt_warm_s);
	rc = warm < 0 ? (int)warm
	              : rtt_timed(e, out, (uint64_t)warm, lat, n,
	                          cf->cf_rtt_max_s);
	if (rc > 0) {
		n = rc;
		msg_hdr(out)->bh_type = MSG_QUIT;
		rc = end_send(e, out);
	}
	if (rc == 0) {
		qsort(lat, (size_t)n, sizeof(*lat), bench_cmp_u64);
		sh->sh_res[0] = (double)bench_percentile(lat, (size_t)n, 50) /
		                1e3;
		sh->sh_res[1] = (double)bench_percentile(lat, (size_t)n, 99) /
		                1e3;
	}
	free(lat);
	return rc;
}

/* Echo every message until MSG_QUIT (roost_call: answer it with
 * roost_reply). */
static int
do_server(struct end *e)
{
	const unsigned char *in;
	struct bench_hdr h;
	roost_msg_t *m = NULL;
	int rc;

	for (;;) {
		if (e->en_call) {
			rc = roost_recv(e->en_ctx, &m, e->en_timeout);
			in = rc == 0 ? roost_msg_data(m) : NULL;
			if (rc == 0 && roost_msg_size(m) != e->en_len)
				rc = -EBADMSG;
		} else {
			rc = end_recv(e, &in);
		}
		if (rc < 0)
			return rc;
		memcpy(&h, in, sizeof(h));
		if (h.bh_type == MSG_QUIT)
			return 0;
		if (e->en_call)
			rc = roost_reply(e->en_ctx, m, ROOST_KIND, 0, in,
			                 e->en_len);
		else
			rc = end_send(e, in);
		if (rc < 0)
			return rc;
	}
}

/*
 * roost-batch's send_for(): copies of 'tmpl' (its type already set) go
 * out BATCH_MSGS per roost_send_batch() call until 'deadline', with a
 * clock read every SEND_BATCH messages as in send_for(). Each message of
 * a call has a buffer of its own, since the call copies them all before
 * it returns. '*seq' advances by every message sent, those of a call that
 * failed part-way included.
 */
static int
send_for_batch(struct end *e, const unsigned char *tmpl, uint64_t deadline,
               uint64_t *seq)
{
	_Alignas(64) unsigned char buf[BATCH_MSGS][LARGE_LEN];
	roost_batch_msg_t msgs[BATCH_MSGS];
	size_t sent;
	int rc = 0;
	int k;
	int i;

	static_assert(SEND_BATCH % BATCH_MSGS == 0,
	              "whole calls between two clock reads");
	for (i = 0; i < BATCH_MSGS; i++) {
		memcpy(buf[i], tmpl, e->en_len);
		msgs[i].kind = ROOST_KIND;
		msgs[i].flags = e->en_flags;
		msgs[i].data = buf[i];
		msgs[i].size = e->en_len;
	}
	while (rc == 0) {
		for (k = 0; k < SEND_BATCH / BATCH_MSGS && rc == 0; k++) {
			for (i = 0; i < BATCH_MSGS; i++)
				msg_hdr(buf[i])->bh_seq = *seq + (uint64_t)i;
			rc = roost_send_batch(e->en_ctx, e->en_to, msgs,
			                      BATCH_MSGS, e->en_timeout,
			                      &sent);
			*seq += sent;
		}
		if (now_ns() >= deadline)
			break;
	}
	return rc;
}

/* Send messages of 'type' from '*seq' for 'secs' (roost-batch: in
 * batches, send_for_batch()). */
static int
send_for(struct end *e, unsigned char *out, uint32_t type, double secs,
         uint64_t *seq)
{
	struct bench_hdr *h = msg_hdr(out);
	uint64_t deadline = now_ns() + (uint64_t)(secs * NS);
	int rc = 0;
	int k;

	h->bh_type = type;
	if (e->en_mech == MECH_ROOST_BATCH)
		return send_for_batch(e, out, deadline, seq);
	while (rc == 0) {
		for (k = 0; k < SEND_BATCH && rc == 0; k++) {
			h->bh_seq = *seq;
			rc = end_send(e, out);
			*seq += rc == 0;
		}
		if (now_ns() >= deadline)
			break;
	}
	return rc;
}

/* Warm up, send for the time budget, then MSG_END with the count (for
 * roost-batch too a single roost_send). */
static int
do_sender(const struct config *cf, struct end *e, uint32_t id)
{
	_Alignas(64) unsigned char out[LARGE_LEN];
	struct bench_hdr *h = msg_hdr(out);
	uint64_t seq = 0;
	int rc;

	msg_init(out, e->en_len, id, MSG_WARM);
	rc = send_for(e, out, MSG_WARM, cf->cf_warm_s, &seq);
	if (rc == 0)
		rc = send_for(e, out, MSG_DATA, cf->cf_budget_s, &seq);
	if (rc < 0)
		return rc;
	h->bh_seq = seq;
	h->bh_type = MSG_END;
	return end_send(e, out);
}

/* Check one received header against the per-sender sequence. Returns
 * the message type, or -EBADMSG. */
static int
rx_check(const unsigned char *in, size_t len, uint64_t *expect, int nsend)
{
	struct bench_hdr h;

	memcpy(&h, in, sizeof(h));
	if (h.bh_sender >= (uint32_t)nsend || in[len - 1] != FILL_BYTE ||
	    h.bh_seq != expect[h.bh_sender])
		goto bad;
	if (h.bh_type == MSG_END)
		return MSG_END;
	if (h.bh_type != MSG_DATA && h.bh_type != MSG_WARM)
		goto bad;
	expect[h.bh_sender]++;
	return (int)h.bh_type;

bad:
	fprintf(stderr, "roost_bench: sender %" PRIu32 " type %" PRIu32
	        " seq %" PRIu64 " out of order\n", h.bh_sender, h.bh_type,
	        h.bh_seq);
	return -EBADMSG;
}

/*
 * Check messages until every sender's end marker. The clock starts at the
 * first MSG_DATA, and every message after it counts, warm-up ones of a
 * fan-in sender that started late included.
 */
static int
do_receiver(struct shared *sh, struct end *e, int nsend)
{
	const unsigned char *in;
	uint64_t expect[SENDERS_MAX] = {0};
	uint64_t count = 0;
	uint64_t t0 = 0;
	uint64_t t1;
	int ends = 0;
	int rc;

	while (ends < nsend) {
		rc = end_recv(e, &in);
		if (rc < 0)
			return rc;
		rc = rx_check(in, e->en_len, expect, nsend);
		if (rc < 0)
			return rc;
		if (t0 == 0 && rc == MSG_DATA)
			t0 = now_ns();
		else if (t0 != 0 && rc != MSG_END)
			count++;
		ends += rc == MSG_END;
	}
	t1 = now_ns();
	sh->sh_res[0] = count > 0 && t1 > t0
	                ? (double)count * NS / (double)(t1 - t0) : 0.0;
	return 0;
}

static double
rusage_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 +
	       ru.ru_stime.tv_sec * 1e3 + ru.ru_stime.tv_usec / 1e3;
}

/* Block in roost_recv() with no timeout (a pipe: in read()) until the
 * waker's message, and report the CPU time that took. */
static int
do_idle(struct shared *sh, struct end *e)
{
	const unsigned char *in;
	roost_msg_t *m;
	double cpu0 = rusage_ms();
	uint64_t t0 = now_ns();
	int rc;

	if (e->en_mech == MECH_ROOST)
		rc = roost_recv(e->en_ctx, &m, -1);
	else
		rc = end_recv(e, &in);
	if (rc < 0)
		return rc;
	sh->sh_res[0] = rusage_ms() - cpu0;
	sh->sh_res[1] = (double)(now_ns() - t0) / 1e6;
	return 0;
}

static int
do_waker(const struct config *cf, struct end *e)
{
	_Alignas(64) unsigned char out[LARGE_LEN];

	msg_init(out, e->en_len, 0, MSG_QUIT);
	sleep_ns((uint64_t)cf->cf_idle_ms * 1000000u);
	return end_send(e, out);
}

/* Spin until the probe word reads 'want'; bounded by 5 s. */
static int
spin_until(atomic_uint_least64_t *w, uint64_t want)
{
	uint64_t t0 = 0;
	unsigned spins = 0;

	while (atomic_load_explicit(w, memory_order_acquire) != want) {
		cpu_relax();
		if (++spins % (1u << 16) != 0)
			continue;
		if (t0 == 0)
			t0 = now_ns();
		else if (now_ns() - t0 > 5000000000ull)
			return -ETIMEDOUT;
		sched_yield(); /* both on one CPU: let the other run */
	}
	return 0;
}

/* One batch of probe round trips from trip 'i'. */
static int
probe_batch(atomic_uint_least64_t *w, uint64_t i)
{
	uint64_t k;
	int rc = 0;

	for (k = i; k < i + PROBE_BATCH && rc == 0; k++) {
		atomic_store_explicit(w, 2 * k + 1, memory_order_release);
		rc = spin_until(w, 2 * k + 2);
	}
	return rc;
}

/* Median round trip of the spin ping-pong over batches, in ns. */
static int
do_ping(const struct config *cf, struct shared *sh)
{
	int n = cf->cf_probe_batches;
	double *ns = malloc((size_t)n * sizeof(*ns));
	uint64_t trip = 0;
	uint64_t t;
	int rc = 0;
	int b;

	if (ns == NULL)
		return -ENOMEM;
	for (b = -PROBE_WARMUP; b < n && rc == 0; b++) {
		t = now_ns();
		rc = probe_batch(&sh->sh_word, trip);
		trip += PROBE_BATCH;
		if (b >= 0)
			ns[b] = (double)(now_ns() - t) / PROBE_BATCH;
	}
	if (rc == 0) {
		qsort(ns, (size_t)n, sizeof(*ns), bench_cmp_double);
		sh->sh_res[0] = ns[n / 2];
	}
	free(ns);
	return rc;
}

static int
do_pong(const struct config *cf, struct shared *sh)
{
	uint64_t trips = (uint64_t)(cf->cf_probe_batches + PROBE_WARMUP) *
	                 PROBE_BATCH;
	uint64_t k;
	int rc = 0;

	for (k = 0; k < trips && rc == 0; k++) {
		rc = spin_until(&sh->sh_word, 2 * k + 1);
		atomic_store_explicit(&sh->sh_word, 2 * k + 2,
		                      memory_order_release);
	}
	return rc;
}

static int
role_run(const struct job *jb, enum role ro, struct end *e)
{
	const struct config *cf = jb->jb_cfg;
	struct shared *sh = jb->jb_sh;

	if (ro >= ROLE_SENDER0 && ro < ROLE_SENDER0 + SENDERS_MAX)
		return do_sender(cf, e, (uint32_t)(ro - ROLE_SENDER0));
	switch (ro) {
	case ROLE_CLIENT:
		return do_client(cf, sh, e);
	case ROLE_SERVER:
		return do_server(e);
	case ROLE_RECEIVER:
		return do_receiver(sh, e, scen_senders(jb->jb_run.rn_scen));
	case ROLE_IDLE:
		return do_idle(sh, e);
	case ROLE_WAKER:
		return do_waker(cf, e);
	case ROLE_PING:
		return do_ping(cf, sh);
	case ROLE_PONG:
		return do_pong(cf, sh);
	default:
		return -EINVAL;
	}
}

/* ------------------------------------------------------------------ */
/* The worker process and the parent's side of a job. */

static int
pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

/* A worker of a job (bench_worker_fn): in the child. */
static int
job_worker(void *arg, int idx)
{
	struct job *jb = arg;
	enum role ro = jb->jb_role[idx];
	const char *stage = "pin";
	struct end e;
	int rc = 0;
	int crc;

	end_init(&e, &jb->jb_run, jb->jb_cfg->cf_roost_timeout);
	if (jb->jb_run.rn_scen == SCEN_PINNED)
		rc = pin_self(jb->jb_cfg->cf_pin_cpu);
	if (rc == 0 && jb->jb_run.rn_scen != SCEN_PROBE) {
		stage = "attach";
		rc = end_attach(&jb->jb_run, ro, &e);
	}
	if (rc == 0) {
		stage = "barrier";
		rc = bench_barrier(&jb->jb_sh->sh_sync);
	}
	if (rc == 0) {
		stage = "run";
		rc = role_run(jb, ro, &e);
	}
	crc = end_detach(&e);
	if (rc == 0 && crc < 0) {
		stage = "close";
		rc = crc;
	}
	if (rc < 0)
		fprintf(stderr, "roost_bench: %s %s %s: %s: %s\n",
		        mech_name[jb->jb_run.rn_mech],
		        scen_name[jb->jb_run.rn_scen], role_name[ro], stage,
		        roost_strerror(rc));
	return rc;
}

static int
job_roles(enum scen s, enum role *r)
{
	int n;
	int i;

	switch (s) {
	case SCEN_RTT:
	case SCEN_CALL:
	case SCEN_PINNED:
		r[0] = ROLE_SERVER;
		r[1] = ROLE_CLIENT;
		return 2;
	case SCEN_IDLE:
		r[0] = ROLE_IDLE;
		r[1] = ROLE_WAKER;
		return 2;
	case SCEN_PROBE:
		r[0] = ROLE_PONG;
		r[1] = ROLE_PING;
		return 2;
	default:
		n = scen_senders(s);
		r[0] = ROLE_RECEIVER;
		for (i = 0; i < n; i++)
			r[1 + i] = (enum role)(ROLE_SENDER0 + i);
		return 1 + n;
	}
}

/*
 * Run one scenario of one mechanism: make the channels, fork the workers,
 * wait for them, remove the channels. 'res' gets the two figures of the
 * measuring worker. Returns 0 or a negative code (already reported).
 */
static int
job_run(const struct config *cf, struct shared *sh, enum mech m, enum scen s,
        double res[2])
{
	char label[48];
	struct job jb;
	int rc;
	int trc;

	memset(&jb, 0, sizeof(jb));
	jb.jb_cfg = cf;
	jb.jb_sh = sh;
	g_serial++;
	snprintf(label, sizeof(label), "%s %s", mech_name[m], scen_name[s]);
	sh->sh_res[0] = sh->sh_res[1] = NAN;
	atomic_store(&sh->sh_word, 0);
	rc = run_setup(&jb.jb_run, m, s, cf->cf_mq_depth);
	if (rc < 0)
		fprintf(stderr, "roost_bench: %s setup: %s\n", label,
		        roost_strerror(rc));
	if (rc == 0) {
		jb.jb_n = job_roles(s, jb.jb_role);
		rc = bench_group_run(&sh->sh_sync, jb.jb_n, job_worker, &jb,
		                     label, JOB_TIMEOUT_S);
	}
	trc = run_teardown(&jb.jb_run);
	if (trc < 0) {
		fprintf(stderr, "roost_bench: %s teardown: %s\n", label,
		        roost_strerror(trc));
		rc = rc < 0 ? rc : trc;
	}
	res[0] = sh->sh_res[0];
	res[1] = sh->sh_res[1];
	return rc;
}

/* ------------------------------------------------------------------ */
/* Repetitions. */

double *
val_at(struct results *rs, int rep, int m, int met)
{
	return &rs->rs_val[((size_t)rep * MECH_COUNT + (size_t)m) * MET_COUNT +
	                   (size_t)met];
}

static int
run_probe(const struct config *cf, struct shared *sh, double *out)
{
	double res[2];
	int rc = job_run(cf, sh, MECH_ROOST, SCEN_PROBE, res);

	*out = res[0];
	return rc;
}

/* One scenario of one repetition, for each of its mechanisms in turn. */
static int
rep_scen(const struct config *cf, struct shared *sh, struct results *rs,
         int rep, enum scen s)
{
	int met = scen_metric(s);
	double res[2];
	int m;
	int rc;

	for (m = 0; m < MECH_COUNT; m++) {
		if (!scen_has(s, (enum mech)m))
			continue;
		rc = job_run(cf, sh, (enum mech)m, s, res);
		if (rc < 0)
			return rc;
		*val_at(rs, rep, m, met) = res[0];
		if (s == SCEN_RTT)
			*val_at(rs, rep, m, MET_RTT_P99) = res[1];
	}
	return 0;
}

/* The token ring of every size, roost then pipe. */
static int
rep_ring(const struct config *cf, struct results *rs, int rep)
{
	static const enum hop_mech hm[2] = {HOP_ROOST, HOP_PIPE};
	static const int mech_of[2] = {MECH_ROOST, MECH_PIPE};
	struct hop_cfg hc;
	int k;
	int i;
	int rc;

	hc.hc_warm_s = cf->cf_ring_warm_s;
	hc.hc_budget_s = cf->cf_ring_budget_s;
	hc.hc_min_laps = 2;
	hc.hc_timeout_ms = cf->cf_roost_timeout;
	hc.hc_job_timeout_s = JOB_TIMEOUT_S;
	for (k = 0; k < RING_SIZES; k++) {
		for (i = 0; i < 2; i++) {
			rc = hop_run(&hc, hm[i], ring_sizes[k],
			             val_at(rs, rep, mech_of[i], MET_RING0 + k));
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/*
 * One repetition: the probe, then the round-trip scenarios (judged
 * against the probe, so they follow it at once), the throughput ones,
 * the token ring, the idle receivers.
 */
static int
run_rep(const struct config *cf, struct shared *sh, struct results *rs,
        int rep)
{
	static const enum scen order[] = {
		SCEN_RTT, SCEN_CALL, SCEN_PINNED, SCEN_ONEWAY64,
		SCEN_ONEWAY1K, SCEN_FANIN2, SCEN_FANIN4,
	};
	double res[2] = {NAN, NAN};
	size_t i;
	int rc;

	rc = run_probe(cf, sh, &rs->rs_probe[rep]);
	for (i = 0; i < sizeof(order) / sizeof(order[0]) && rc == 0; i++)
		rc = rep_scen(cf, sh, rs, rep, order[i]);
	if (rc == 0)
		rc = rep_ring(cf, rs, rep);
	if (rc == 0)
		rc = job_run(cf, sh, MECH_ROOST, SCEN_IDLE, res);
	rs->rs_idle[2 * rep] = res[0];
	if (rc == 0)
		rc = job_run(cf, sh, MECH_PIPE, SCEN_IDLE, res);
	rs->rs_idle[2 * rep + 1] = res[0];
	return rc;
}

/* ------------------------------------------------------------------ */
/* Options and main. */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: roost_bench [--reps N] [--quick] [--json] [--best]\n"
	        "                   [--roost-timeout MS]\n"
	        "  --reps N            repetitions (default 5, max %d)\n"
	        "  --quick             counts ~10x smaller: a smoke run\n"
	        "  --json              one JSON object on stdout\n"
	        "  --best              summarise by the best rep, not the "
	        "median\n"
	        "  --median            summarise by the median rep (the "
	        "default)\n"
	        "  --roost-timeout MS  timeout_ms of roost calls (default "
	        "%d; -1 none)\n"
	        "  --private-lanes N   private lanes per mailbox (default: "
	        "the library's, 1; 0: every sender takes the lock)\n",
	        REPS_MAX, CALL_TIMEOUT_MS);
}

static bool
parse_int(const char *s, long lo, long hi, int *out)
{
	char *end;
	long v;

	if (s == NULL)
		return false;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* The CPU the pinned ping-pong uses: the first one we may run on. */
static int
pick_pin_cpu(void)
{
	cpu_set_t set;
	int c;

	if (sched_getaffinity(0, sizeof(set), &set) == 0) {
		for (c = 0; c < CPU_SETSIZE; c++) {
			if (CPU_ISSET(c, &set))
				return c;
		}
	}
	return 0;
}

static void
config_sizes(struct config *cf)
{
	int div = cf->cf_quick ? 10 : 1;

	cf->cf_rtt_rounds = 20000 / div;
	cf->cf_rtt_max_s = 0.5 / div;
	cf->cf_rtt_warmup = 2000 / div;
	cf->cf_rtt_warm_s = 0.2 / div;
	cf->cf_warm_s = 0.1 / div;
	cf->cf_budget_s = 0.5 / div;
	cf->cf_ring_warm_s = 0.05 / div;
	cf->cf_ring_budget_s = 0.25 / div;
	cf->cf_idle_ms = cf->cf_quick ? 200 : 1000;
	cf->cf_probe_batches = 200;
	cf->cf_pin_cpu = pick_pin_cpu();
	cf->cf_mq_depth = read_mq_depth();
}

/* Returns 0, 1 for --help, or -1 for a bad command line. */
static int
parse_args(int argc, char **argv, struct config *cf)
{
	int i;

	memset(cf, 0, sizeof(*cf));
	cf->cf_reps = 5;
	cf->cf_roost_timeout = CALL_TIMEOUT_MS;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			cf->cf_quick = true;
		else if (strcmp(argv[i], "--json") == 0)
			cf->cf_json = true;
		else if (strcmp(argv[i], "--median") == 0)
			cf->cf_best = false;
		else if (strcmp(argv[i], "--best") == 0)
			cf->cf_best = true;
		else if (strcmp(argv[i], "--reps") == 0 &&
		         parse_int(argv[i + 1], 1, REPS_MAX, &cf->cf_reps))
			i++;
		else if (strcmp(argv[i], "--roost-timeout") == 0 &&
		         parse_int(argv[i + 1], -1, 3600000,
		                   &cf->cf_roost_timeout) &&
		         cf->cf_roost_timeout != 0) /* 0 would never wait */
			i++;
		else if (strcmp(argv[i], "--private-lanes") == 0 &&
		         parse_int(argv[i + 1], 0, 4, &g_private_lanes))
			i++;
		else if (strcmp(argv[i], "--help") == 0)
			return 1;
		else
			return -1;
	}
	config_sizes(cf);
	return 0;
}

static int
results_alloc(struct results *rs, int reps)
{
	size_t n = (size_t)reps * MECH_COUNT * MET_COUNT;
	size_t i;

	memset(rs, 0, sizeof(*rs));
	rs->rs_reps = reps;
	rs->rs_val = malloc(n * sizeof(*rs->rs_val));
	rs->rs_idle = malloc(2 * (size_t)reps * sizeof(*rs->rs_idle));
	rs->rs_probe = malloc((size_t)reps * sizeof(*rs->rs_probe));
	if (rs->rs_val == NULL || rs->rs_idle == NULL || rs->rs_probe == NULL)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		rs->rs_val[i] = NAN;
	for (i = 0; i < 2 * (size_t)reps; i++)
		rs->rs_idle[i] = NAN;
	for (i = 0; i < (size_t)reps; i++)
		rs->rs_probe[i] = NAN;
	rs->rs_probe_start = rs->rs_probe_end = NAN;
	return 0;
}

static void
results_free(struct results *rs)
{
	free(rs->rs_val);
	free(rs->rs_idle);
	free(rs->rs_probe);
}

static int
run_all(const struct config *cf, struct shared *sh, struct results *rs)
{
	int rc;
	int rep;

	rc = run_probe(cf, sh, &rs->rs_probe_start);
	if (rc == 0 && !cf->cf_json)
		report_banner(cf, rs);
	for (rep = 0; rep < rs->rs_reps && rc == 0; rep++) {
		rc = run_rep(cf, sh, rs, rep);
		if (rc == 0 && !cf->cf_json)
			report_rep(cf, rs, rep);
	}
	if (rc == 0)
		rc = run_probe(cf, sh, &rs->rs_probe_end);
	return rc;
}

int
main(int argc, char **argv)
{
	struct config cf;
	struct results rs;
	struct shared *sh;
	int rc;

	rc = parse_args(argc, argv, &cf);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	bench_signals_block();
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("roost_bench: mmap");
		return 1;
	}
	rc = results_alloc(&rs, cf.cf_reps);
	if (rc == 0)
		rc = run_all(&cf, sh, &rs);
	if (rc == 0 && cf.cf_json)
		report_json(&cf, &rs);
	else if (rc == 0)
		report_human(&cf, &rs);
	else
		fprintf(stderr, "roost_bench: stopped: %s\n",
		        rc == -ECHILD  ? "a worker failed"
		        : rc == -EINTR ? "interrupted"
		                       : roost_strerror(rc));
	results_free(&rs);
	munmap(sh, sizeof(*sh));
	return rc == 0 ? 0 : rc == -EINTR ? 130 : 1;
}
