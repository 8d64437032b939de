/* SPDX-License-Identifier: MIT */
/*
 * hop_bench.c - Armstrong's ring (see hop_bench.h). Worker i receives the
 * token from worker i-1 and sends it to worker i+1 (mod n): over roost,
 * each worker has a mailbox named "h<i>" and sends to "h<i+1>"; over
 * pipes, worker i reads pipe i and writes pipe i+1. Worker 0 leads: it
 * makes untimed laps for hc_warm_s, then times whole laps until
 * hc_budget_s has passed (and at least hc_min_laps), then sends a QUIT
 * token round and waits for it to come back, so every worker ends after
 * its last send. The token counts its hops and the leader checks the
 * count after every lap.
 */
#include "hop_bench.h"
#include "bench_proc.h"
#include "bench_util.h"

#include <roost.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HOP_KIND 1
#define HOP_MBOX_BYTES 16384u  /* one token at a time: small mailboxes */
#define TK_RUN 1u
#define TK_QUIT 2u

struct token {
	uint64_t tk_hops;  /* hops made since the start */
	uint32_t tk_type;  /* TK_* */
	uint32_t tk_pad;
	unsigned char tk_fill[HOP_TOKEN_LEN - 16];
};

_Static_assert(sizeof(struct token) == HOP_TOKEN_LEN, "a 64-byte token");

/* The parent's mapping shared with the workers. */
struct hop_shared {
	struct bench_sync hs_sync;
	_Alignas(64) double hs_us;  /* per hop; written by the leader */
	uint64_t hs_laps;           /* timed laps */
};

/* One run: made by the parent before it forks. */
struct hop_job {
	const struct hop_cfg *hj_cfg;
	enum hop_mech hj_mech;
	int hj_n;
	struct hop_shared *hj_sh;
	char hj_sys[ROOST_SYSTEM_NAME_MAX + 1];
	bool hj_sys_made;
	int *hj_fd;  /* pipe i: read end [2i], write end [2i+1] */
};

/* A worker's side of the ring. */
struct hop_end {
	enum hop_mech he_mech;
	int he_timeout;
	roost_ctx_t *he_ctx;
	roost_aid_t he_next;
	int he_rfd;
	int he_wfd;
};

static int g_hop_serial; /* makes system names unique */

static const char *
hop_mech_name(enum hop_mech m)
{
	return m == HOP_ROOST ? "roost" : "pipe";
}

/* ------------------------------------------------------------------ */
/* Sending and receiving the token. */

static int
tok_send(struct hop_end *e, const struct token *t)
{
	if (e->he_mech == HOP_PIPE)
		return bench_write_all(e->he_wfd, t, sizeof(*t));
	return roost_send(e->he_ctx, e->he_next, HOP_KIND, t, sizeof(*t),
	                  e->he_timeout);
}

/* Receive the token into 't' (roost: copied out of the view). */
static int
tok_recv(struct hop_end *e, struct token *t)
{
	roost_msg_t *m;
	int rc;

	if (e->he_mech == HOP_PIPE)
		return bench_read_all(e->he_rfd, t, sizeof(*t));
	rc = roost_recv(e->he_ctx, &m, e->he_timeout);
	if (rc < 0)
		return rc;
	if (roost_msg_size(m) != sizeof(*t))
		return -EBADMSG;
	memcpy(t, roost_msg_data(m), sizeof(*t));
	return 0;
}

/* ------------------------------------------------------------------ */
/* The workers. */

/* Every other worker: pass the token on until QUIT has passed. */
static int
hop_follow(struct hop_end *e)
{
	struct token t;
	int rc;

	for (;;) {
		rc = tok_recv(e, &t);
		if (rc < 0)
			return rc;
		t.tk_hops++;
		rc = tok_send(e, &t);
		if (rc < 0 || t.tk_type == TK_QUIT)
			return rc;
	}
}

/* One lap from the leader: send, wait for the token to come back. */
static int
hop_lap(struct hop_end *e, struct token *t, int n)
{
	uint64_t want = t->tk_hops + (uint64_t)n;
	int rc;

	t->tk_hops++;
	rc = tok_send(e, t);
	if (rc == 0)
		rc = tok_recv(e, t);
	if (rc == 0 && t->tk_hops != want) {
		fprintf(stderr, "roost_bench: ring token came back after "
		        "%llu hops, not %llu\n",
		        (unsigned long long)t->tk_hops,
		        (unsigned long long)want);
		rc = -EBADMSG;
	}
	return rc;
}

/* Worker 0: warm up, time laps, send QUIT round. */
static int
hop_lead(const struct hop_job *hj, struct hop_end *e)
{
	const struct hop_cfg *cf = hj->hj_cfg;
	uint64_t warm_ns = (uint64_t)(cf->hc_warm_s * BENCH_NS);
	uint64_t budget_ns = (uint64_t)(cf->hc_budget_s * BENCH_NS);
	struct token t;
	uint64_t laps = 0;
	uint64_t t0;
	uint64_t t1;
	int rc;

	memset(&t, 0xa5, sizeof(t));
	t.tk_hops = 0;
	t.tk_type = TK_RUN;
	t0 = bench_now_ns();
	do {
		rc = hop_lap(e, &t, hj->hj_n);
	} while (rc == 0 && bench_now_ns() - t0 < warm_ns);
	t0 = bench_now_ns();
	t1 = t0;
	while (rc == 0 && (laps < (uint64_t)cf->hc_min_laps ||
	                   t1 - t0 < budget_ns)) {
		rc = hop_lap(e, &t, hj->hj_n);
		laps++;
		t1 = bench_now_ns();
	}
	if (rc == 0) {
		t.tk_type = TK_QUIT;
		rc = hop_lap(e, &t, hj->hj_n);
	}
	if (rc == 0) {
		hj->hj_sh->hs_laps = laps;
		hj->hj_sh->hs_us = (double)(t1 - t0) / 1e3 /
		                   ((double)laps * hj->hj_n);
	}
	return rc;
}

/* Look 'name' up until it appears or BENCH_READY_TIMEOUT_S passes. */
static int
find_name(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	uint64_t deadline = bench_now_ns() +
	                    BENCH_READY_TIMEOUT_S * 1000000000ull;
	int rc;

	while ((rc = roost_whereis(ctx, name, out)) == -ENOENT &&
	       bench_now_ns() < deadline)
		bench_sleep_ns(200000); /* that worker is still attaching */
	return rc;
}

static int
attach_roost(const struct hop_job *hj, int i, struct hop_end *e)
{
	roost_ctx_opts_t o;
	char name[16];
	char next[16];
	int rc;

	snprintf(name, sizeof(name), "h%d", i);
	snprintf(next, sizeof(next), "h%d", (i + 1) % hj->hj_n);
	roost_ctx_opts_init(&o);
	o.system = hj->hj_sys;
	o.name = name;
	rc = roost_ctx_open(&e->he_ctx, &o);
	if (rc < 0) {
		e->he_ctx = NULL;
		return rc;
	}
	return find_name(e->he_ctx, next, &e->he_next);
}

/* Keep the read end of pipe i and the write end of pipe i+1. */
static void
attach_pipe(const struct hop_job *hj, int i, struct hop_end *e)
{
	int keep_r = 2 * i;
	int keep_w = 2 * ((i + 1) % hj->hj_n) + 1;
	int k;

	for (k = 0; k < 2 * hj->hj_n; k++) {
		if (k != keep_r && k != keep_w)
			close(hj->hj_fd[k]);
	}
	e->he_rfd = hj->hj_fd[keep_r];
	e->he_wfd = hj->hj_fd[keep_w];
}

static int
hop_worker(void *arg, int i)
{
	const struct hop_job *hj = arg;
	const char *stage = "attach";
	struct hop_end e;
	int rc = 0;
	int crc;

	memset(&e, 0, sizeof(e));
	e.he_mech = hj->hj_mech;
	e.he_timeout = hj->hj_cfg->hc_timeout_ms;
	e.he_rfd = e.he_wfd = -1;
	if (hj->hj_mech == HOP_ROOST)
		rc = attach_roost(hj, i, &e);
	else
		attach_pipe(hj, i, &e);
	if (rc == 0) {
		stage = "barrier";
		rc = bench_barrier(&hj->hj_sh->hs_sync);
	}
	if (rc == 0) {
		stage = "run";
		rc = i == 0 ? hop_lead(hj, &e) : hop_follow(&e);
	}
	crc = roost_ctx_close(e.he_ctx);
	if (rc == 0 && crc < 0) {
		stage = "close";
		rc = crc;
	}
	if (rc < 0)
		fprintf(stderr, "roost_bench: %s ring N=%d worker %d: %s: %s\n",
		        hop_mech_name(hj->hj_mech), hj->hj_n, i, stage,
		        roost_strerror(rc));
	return rc;
}

/* ------------------------------------------------------------------ */
/* The parent's side. */

static int
job_setup(struct hop_job *hj)
{
	roost_sys_opts_t o;
	int fd[2];
	int rc;
	int i;

	if (hj->hj_mech == HOP_ROOST) {
		roost_sys_opts_init(&o);
		o.slots = (uint32_t)hj->hj_n + 8;
		if (o.slots < 16)
			o.slots = 16;
		o.mbox_bytes = HOP_MBOX_BYTES;
		snprintf(hj->hj_sys, sizeof(hj->hj_sys), "hop-%d-%d",
		         (int)getpid(), ++g_hop_serial);
		rc = roost_system_create(hj->hj_sys, &o);
		hj->hj_sys_made = rc == 0;
		return rc;
	}
	hj->hj_fd = malloc(2 * (size_t)hj->hj_n * sizeof(*hj->hj_fd));
	if (hj->hj_fd == NULL)
		return -ENOMEM;
	for (i = 0; i < 2 * hj->hj_n; i++)
		hj->hj_fd[i] = -1;
	for (i = 0; i < hj->hj_n; i++) {
		if (pipe(fd) < 0)
			return -errno;
		hj->hj_fd[2 * i] = fd[0];
		hj->hj_fd[2 * i + 1] = fd[1];
	}
	return 0;
}

static int
job_teardown(struct hop_job *hj)
{
	int rc = 0;
	int i;

	if (hj->hj_fd != NULL) {
		for (i = 0; i < 2 * hj->hj_n; i++) {
			if (hj->hj_fd[i] >= 0)
				close(hj->hj_fd[i]);
		}
		free(hj->hj_fd);
		hj->hj_fd = NULL;
	}
	if (hj->hj_sys_made) {
		hj->hj_sys_made = false;
		rc = roost_system_destroy(hj->hj_sys);
	}
	return rc;
}

int
hop_run(const struct hop_cfg *cfg, enum hop_mech m, int n,
        double *us_per_hop)
{
	struct hop_shared *sh;
	struct hop_job hj;
	char label[48];
	int rc;
	int trc;

	*us_per_hop = NAN;
	if (n < 2 || n > HOP_N_MAX)
		return -EINVAL;
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return -errno;
	sh->hs_us = NAN;
	memset(&hj, 0, sizeof(hj));
	hj.hj_cfg = cfg;
	hj.hj_mech = m;
	hj.hj_n = n;
	hj.hj_sh = sh;
	snprintf(label, sizeof(label), "%s ring N=%d", hop_mech_name(m), n);
	rc = job_setup(&hj);
	if (rc < 0)
		fprintf(stderr, "roost_bench: %s setup: %s\n", label,
		        roost_strerror(rc));
	if (rc == 0)
		rc = bench_group_run(&sh->hs_sync, n, hop_worker, &hj, label,
		                     cfg->hc_job_timeout_s);
	trc = job_teardown(&hj);
	if (trc < 0) {
		fprintf(stderr, "roost_bench: %s teardown: %s\n", label,
		        roost_strerror(trc));
		rc = rc < 0 ? rc : trc;
	}
	if (rc == 0)
		*us_per_hop = sh->hs_us;
	munmap(sh, sizeof(*sh));
	return rc;
}
