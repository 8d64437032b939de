/* SPDX-License-Identifier: MIT */
/*
 * roost_call_bench.c - what request/response and the run loop cost.
 *
 *  call      roost_call round trip of 64 B between two processes, the
 *            server answering with roost_reply, against the same
 *            request/response over a pair of pipes. Median and p99, us.
 *            Target: roost_call median <= 2 us.
 *  dispatch  a one-way stream of N 8-byte messages into one actor, taken
 *            by roost_run with a handler table and by a bare roost_recv
 *            loop doing the same work (add the payload to a sum); ns per
 *            message, and the difference: roost_run's dispatch overhead.
 *            Twice: "stream" (sender and receiver run together, the
 *            figure users see) and "drain" (the mailbox is filled first,
 *            then only the receive side is timed, where the overhead is
 *            not hidden behind the sender).
 *
 * Every figure comes from two forked workers that start together through
 * a barrier in an anonymous shared mapping; the parent waits for them with
 * a deadline and kills them if they overrun. The server and the receiver
 * wait with no timeout, as roost_run does: a finite one costs a clock
 * read per receive (about 40 ns on this VM), which would be measured as
 * a difference between the loops. Each job makes its own roost
 * system (or pipes) and removes it. A repetition runs all six variants in
 * turn, so they see the same machine state; the summary keeps the best
 * repetition of each figure (all are lower-is-better: other load only
 * adds to them), or with --median the median one. Measurements start warm: the call client makes untimed
 * calls first, and the dispatch receiver's mailbox is written through once
 * (a new ring costs a page fault per 4 KiB on its first lap, in each
 * process) before the timed messages.
 *
 * This VM moves its vCPUs between placements of very different cross-core
 * costs (see roost_bench.c): compare figures within one run.
 */
#include <roost.h>
#include <roost/view.h>

#include "bench_proc.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CALL_LEN 64            /* request and response payload */
#define TIMEOUT_MS 5000        /* every roost call and receive */
#define JOB_TIMEOUT_S 60       /* the parent kills a job's workers then */
#define WATCHDOG_S 90          /* a worker's own alarm(): the last resort */
#define MBOX_BYTES (64u << 20) /* dispatch receiver: holds 1 M records */
#define REPS_MAX 100
#define RTT_TARGET_US 2.0

enum variant {
	V_CALL_ROOST,
	V_CALL_PIPE,
	V_STREAM_RECV,
	V_STREAM_RUN,
	V_DRAIN_RECV,
	V_DRAIN_RUN,
	V_COUNT
};

static const char *const v_name[V_COUNT] = {
	"call roost", "call pipe", "stream recv", "stream run", "drain recv",
	"drain run",
};

/* Message kinds. The run loop's table has a few kinds besides DATA, as a
 * real actor's would. */
enum { K_REQ = 1, K_RESP, K_QUIT, K_WARM, K_WARM_END, K_DATA, K_END,
       K_CONFIG, K_PING };

struct config {
	int cf_reps;
	bool cf_quick;
	bool cf_json;
	bool cf_median;     /* summary: median of reps, not best */
	int cf_rounds;      /* timed round trips */
	int cf_warm_rounds; /* untimed ones first, at least */
	double cf_warm_s;   /* and for at least this long */
	int cf_msgs;        /* dispatch: timed messages */
};

/* The parent's mapping shared with both workers of a job. */
struct shared {
	_Alignas(64) atomic_int sh_ready;  /* workers attached */
	atomic_int sh_go;                  /* the parent: start */
	atomic_int sh_warm_done;           /* receiver: warm lap taken */
	atomic_int sh_filled;              /* sender: drain fill sent */
	atomic_long sh_warm_msgs;          /* receiver: length of the lap */
	_Alignas(64) double sh_res[2];     /* the measuring worker's */
};

/* What a worker needs. */
struct job {
	const struct config *jb_cfg;
	struct shared *jb_sh;
	enum variant jb_v;
	char jb_sys[ROOST_SYSTEM_NAME_MAX + 1];
	int jb_req[2];  /* pipe: client -> server */
	int jb_resp[2]; /* pipe: server -> client */
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a;
	uint64_t y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile 'p' of 'n' sorted samples. */
static uint64_t
percentile(const uint64_t *s, size_t n, unsigned p)
{
	size_t rank = (n * p + 99) / 100;

	return s[rank == 0 ? 0 : rank - 1];
}

/* ------------------------------------------------------------------ */
/* Worker helpers. */

/* Count this worker in and wait for the parent's go. */
static void
barrier(struct shared *sh)
{
	atomic_fetch_add(&sh->sh_ready, 1);
	while (atomic_load(&sh->sh_go) == 0)
		usleep(100);
}

static void
wait_flag(atomic_int *flag)
{
	while (atomic_load(flag) == 0)
		usleep(100);
}

static roost_ctx_t *
attach(const struct job *jb, const char *name, uint32_t mbox_bytes)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;

	roost_ctx_opts_init(&o);
	o.system = jb->jb_sys;
	o.name = name;
	o.mbox_bytes = mbox_bytes;
	return roost_ctx_open(&ctx, &o) == 0 ? ctx : NULL;
}

static int
find(roost_ctx_t *ctx, const char *name, roost_aid_t *out)
{
	uint64_t deadline = now_ns() + 10000000000ull;
	int rc;

	while ((rc = roost_whereis(ctx, name, out)) == -ENOENT &&
	       now_ns() < deadline)
		usleep(200);
	return rc;
}

/* ------------------------------------------------------------------ */
/* (1) Request/response. */

/* One request of 'seq' and its answer, checked. */
static int
call_once(struct job *jb, roost_ctx_t *ctx, roost_aid_t srv,
          unsigned char *buf, uint64_t seq)
{
	roost_msg_t *r;
	uint64_t got;
	int rc;

	memcpy(buf, &seq, sizeof(seq));
	if (jb->jb_v == V_CALL_PIPE) {
		rc = bench_write_all(jb->jb_req[1], buf, CALL_LEN);
		if (rc == 0)
			rc = bench_read_all(jb->jb_resp[0], buf, CALL_LEN);
		memcpy(&got, buf, sizeof(got));
		return rc == 0 && got != seq ? -EBADMSG : rc;
	}
	rc = roost_call(ctx, srv, K_REQ, 0, buf, CALL_LEN, TIMEOUT_MS, &r);
	if (rc < 0)
		return rc;
	if (roost_msg_kind(r) != K_RESP || roost_msg_size(r) != CALL_LEN)
		return -EBADMSG;
	memcpy(&got, roost_msg_data(r), sizeof(got));
	return got == seq ? 0 : -EBADMSG;
}

static int
call_client(struct job *jb)
{
	const struct config *cf = jb->jb_cfg;
	unsigned char buf[CALL_LEN];
	roost_ctx_t *ctx = NULL;
	roost_aid_t srv = ROOST_AID_NONE;
	uint64_t *lat;
	uint64_t deadline;
	uint64_t seq = 0;
	uint64_t t;
	uint64_t t2;
	int rc = 0;
	int i;

	memset(buf, 0xa5, sizeof(buf));
	lat = malloc((size_t)cf->cf_rounds * sizeof(*lat));
	if (lat == NULL)
		return -ENOMEM;
	if (jb->jb_v == V_CALL_ROOST) {
		ctx = attach(jb, NULL, 0);
		rc = ctx == NULL ? -ENOENT : find(ctx, "srv", &srv);
	}
	barrier(jb->jb_sh);
	deadline = now_ns() + (uint64_t)(cf->cf_warm_s * 1e9);
	for (i = 0; rc == 0 && (i < cf->cf_warm_rounds || now_ns() < deadline);
	     i++)
		rc = call_once(jb, ctx, srv, buf, seq++);
	t = now_ns();
	for (i = 0; rc == 0 && i < cf->cf_rounds; i++) {
		rc = call_once(jb, ctx, srv, buf, seq++);
		t2 = now_ns();
		lat[i] = t2 - t;
		t = t2;
	}
	if (rc == 0) {
		qsort(lat, (size_t)cf->cf_rounds, sizeof(*lat), cmp_u64);
		jb->jb_sh->sh_res[0] =
		        (double)percentile(lat, (size_t)cf->cf_rounds, 50) / 1e3;
		jb->jb_sh->sh_res[1] =
		        (double)percentile(lat, (size_t)cf->cf_rounds, 99) / 1e3;
	}
	free(lat);
	if (ctx != NULL) {
		if (rc == 0)
			rc = roost_send(ctx, srv, K_QUIT, NULL, 0, TIMEOUT_MS);
		roost_ctx_close(ctx);
	}
	return rc; /* pipe: the server sees EOF when we exit */
}

static int
call_server(struct job *jb)
{
	unsigned char buf[CALL_LEN];
	roost_ctx_t *ctx;
	roost_msg_t *m;
	int rc = 0;

	if (jb->jb_v == V_CALL_PIPE) {
		barrier(jb->jb_sh);
		while ((rc = bench_read_all(jb->jb_req[0], buf, CALL_LEN)) == 0)
			rc = bench_write_all(jb->jb_resp[1], buf, CALL_LEN);
		return rc == -ECONNRESET ? 0 : rc;
	}
	ctx = attach(jb, "srv", 0);
	if (ctx == NULL)
		return -ENOENT;
	barrier(jb->jb_sh);
	while ((rc = roost_recv(ctx, &m, -1)) == 0 &&
	       roost_msg_kind(m) == K_REQ)
		rc = roost_reply(ctx, m, K_RESP, 0, roost_msg_data(m),
		                 roost_msg_size(m));
	roost_ctx_close(ctx);
	return rc;
}

/* ------------------------------------------------------------------ */
/* (2) Dispatch: the same work by roost_run and by a bare loop. */

struct sink {
	uint64_t sk_count;
	uint64_t sk_sum;
	uint64_t sk_t0; /* first DATA */
	uint64_t sk_t1; /* END */
};

static void
sink_data(struct sink *s, const roost_msg_t *m)
{
	uint64_t v;

	if (s->sk_count++ == 0)
		s->sk_t0 = now_ns();
	memcpy(&v, roost_msg_data(m), sizeof(v));
	s->sk_sum += v;
}

static int
on_data(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	(void)ctx;
	sink_data(state, m);
	return ROOST_CONTINUE;
}

static int
on_end(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	(void)ctx, (void)m;
	((struct sink *)state)->sk_t1 = now_ns();
	return ROOST_COMPLETE;
}

static int
on_other(roost_ctx_t *ctx, void *state, const roost_msg_t *m)
{
	(void)ctx, (void)state, (void)m;
	return ROOST_CONTINUE;
}

static const roost_handler_t sink_handlers[] = {
	{K_CONFIG, on_other},
	{K_PING, on_other},
	{K_DATA, on_data},
	{K_END, on_end},
	{0, NULL},
};

static const roost_behaviour_t sink_behaviour = {
	.handlers = sink_handlers,
};

/* Bytes one 8-byte message takes in the ring: send one to ourselves. */
static int
record_bytes(roost_ctx_t *ctx, uint64_t *rec, uint64_t *cap)
{
	roost_mbox_stats_t st;
	roost_msg_t *m;
	uint64_t v = 0;
	int rc;

	memset(&st, 0, sizeof(st));
	rc = roost_send(ctx, roost_self(ctx), K_WARM, &v, sizeof(v), 0);
	if (rc == 0)
		rc = roost_mbox_stats(ctx, roost_self(ctx), &st);
	if (rc == 0)
		rc = roost_recv(ctx, &m, 0);
	*rec = st.used;
	*cap = st.capacity;
	return rc == 0 && st.used == 0 ? -EPROTO : rc;
}

static int
receiver(struct job *jb)
{
	bool drain = jb->jb_v == V_DRAIN_RECV || jb->jb_v == V_DRAIN_RUN;
	bool run = jb->jb_v == V_STREAM_RUN || jb->jb_v == V_DRAIN_RUN;
	uint64_t n = (uint64_t)jb->jb_cfg->cf_msgs;
	struct sink s = {0, 0, 0, 0};
	roost_ctx_t *ctx;
	roost_msg_t *m;
	uint64_t rec;
	uint64_t cap;
	int rc;

	ctx = attach(jb, "rx", MBOX_BYTES);
	if (ctx == NULL)
		return -ENOENT;
	/* The warm lap: enough messages to write the whole ring once. */
	rc = record_bytes(ctx, &rec, &cap);
	atomic_store(&jb->jb_sh->sh_warm_msgs, rc == 0 ? (long)(cap / rec + 1)
	                                               : 0);
	barrier(jb->jb_sh);
	while (rc == 0 && (rc = roost_recv(ctx, &m, TIMEOUT_MS)) == 0 &&
	       roost_msg_kind(m) != K_WARM_END)
		;
	atomic_store(&jb->jb_sh->sh_warm_done, 1);
	if (rc == 0 && drain)
		wait_flag(&jb->jb_sh->sh_filled);
	if (rc == 0 && run) {
		rc = roost_run(ctx, &sink_behaviour, &s);
	} else {
		while (rc == 0 && (rc = roost_recv(ctx, &m, -1)) == 0) {
			if (roost_msg_kind(m) == K_DATA) {
				sink_data(&s, m);
			} else if (roost_msg_kind(m) == K_END) {
				s.sk_t1 = now_ns();
				break;
			}
		}
	}
	roost_ctx_close(ctx);
	if (rc == 0 && (s.sk_count != n || s.sk_sum != n * (n - 1) / 2))
		rc = -EBADMSG;
	/* From the first DATA to END: n intervals. */
	jb->jb_sh->sh_res[0] = (double)(s.sk_t1 - s.sk_t0) / (double)n;
	return rc;
}

static int
sender(struct job *jb)
{
	bool drain = jb->jb_v == V_DRAIN_RECV || jb->jb_v == V_DRAIN_RUN;
	uint64_t n = (uint64_t)jb->jb_cfg->cf_msgs;
	roost_ctx_t *ctx;
	roost_aid_t rx;
	uint64_t i;
	uint64_t warm;
	int rc;

	ctx = attach(jb, NULL, 0);
	if (ctx == NULL)
		return -ENOENT;
	rc = find(ctx, "rx", &rx);
	barrier(jb->jb_sh);
	warm = (uint64_t)atomic_load(&jb->jb_sh->sh_warm_msgs);
	for (i = 0; rc == 0 && i < warm; i++)
		rc = roost_send(ctx, rx, K_WARM, &i, sizeof(i), TIMEOUT_MS);
	if (rc == 0)
		rc = roost_send(ctx, rx, K_WARM_END, NULL, 0, TIMEOUT_MS);
	/* Drain: fill only once the lap is taken, and never wait for room
	 * (the receiver does not read until we are done). */
	if (rc == 0 && drain)
		wait_flag(&jb->jb_sh->sh_warm_done);
	for (i = 0; rc == 0 && i < n; i++)
		rc = roost_send(ctx, rx, K_DATA, &i, sizeof(i),
		                drain ? 0 : TIMEOUT_MS);
	if (rc == 0)
		rc = roost_send(ctx, rx, K_END, NULL, 0, drain ? 0 : TIMEOUT_MS);
	if (rc == -EAGAIN)
		fprintf(stderr, "roost_call_bench: the drain does not fit the "
		        "mailbox\n");
	atomic_store(&jb->jb_sh->sh_filled, 1);
	roost_ctx_close(ctx);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Jobs: two workers, a deadline, the figures. */

/* Worker 0 serves or receives; worker 1 calls or sends. */
static int
worker(struct job *jb, int role)
{
	alarm(WATCHDOG_S);
	if (jb->jb_v == V_CALL_PIPE) {
		close(role == 0 ? jb->jb_req[1] : jb->jb_req[0]);
		close(role == 0 ? jb->jb_resp[0] : jb->jb_resp[1]);
	}
	if (jb->jb_v == V_CALL_ROOST || jb->jb_v == V_CALL_PIPE)
		return role == 0 ? call_server(jb) : call_client(jb);
	return role == 0 ? receiver(jb) : sender(jb);
}

/* Wait for 'pid' until 'deadline'; false if it failed or overran. */
static bool
reap(pid_t pid, uint64_t deadline)
{
	int status;

	for (;;) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (now_ns() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return false;
		}
		usleep(1000);
	}
}

static int
run_job(const struct config *cf, struct shared *sh, enum variant v,
        double res[2])
{
	static int serial;
	struct job jb;
	uint64_t deadline;
	pid_t pid[2];
	bool ok = true;
	int rc = 0;
	int i;

	memset(&jb, 0, sizeof(jb));
	memset(sh, 0, sizeof(*sh));
	jb.jb_cfg = cf;
	jb.jb_sh = sh;
	jb.jb_v = v;
	jb.jb_req[0] = jb.jb_req[1] = jb.jb_resp[0] = jb.jb_resp[1] = -1;
	snprintf(jb.jb_sys, sizeof(jb.jb_sys), "callb-%d-%d", (int)getpid(),
	         serial++);
	if (v == V_CALL_PIPE) {
		if (pipe(jb.jb_req) < 0 || pipe(jb.jb_resp) < 0)
			return -errno;
	} else {
		rc = roost_system_create(jb.jb_sys, NULL);
		if (rc < 0)
			return rc;
	}
	fflush(stdout);
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		if (pid[i] == 0)
			_exit(worker(&jb, i) == 0 ? 0 : 1);
	}
	for (i = 0; i < 2; i++) {
		if (jb.jb_req[i] >= 0)
			close(jb.jb_req[i]);
		if (jb.jb_resp[i] >= 0)
			close(jb.jb_resp[i]);
	}
	deadline = now_ns() + JOB_TIMEOUT_S * 1000000000ull;
	while (atomic_load(&sh->sh_ready) < 2 && now_ns() < deadline &&
	       pid[0] > 0 && pid[1] > 0)
		usleep(200);
	atomic_store(&sh->sh_go, 1);
	for (i = 0; i < 2; i++)
		ok &= pid[i] > 0 && reap(pid[i], deadline);
	if (v != V_CALL_PIPE)
		roost_system_destroy(jb.jb_sys);
	if (!ok)
		return -ECHILD;
	res[0] = sh->sh_res[0];
	res[1] = sh->sh_res[1];
	return 0;
}

/* ------------------------------------------------------------------ */
/* Results. */

/* The best (lowest) or the median of 'n' figures. */
static double
summary_of(const double *v, int n, bool median)
{
	double s[REPS_MAX];

	memcpy(s, v, (size_t)n * sizeof(*s));
	qsort(s, (size_t)n, sizeof(*s), cmp_double);
	if (!median)
		return s[0];
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* res[variant][figure][rep] */
struct results {
	int rs_reps;
	double rs_val[V_COUNT][2][REPS_MAX];
	double rs_sum[V_COUNT][2]; /* the summary: best or median */
};

static void
summarise(const struct config *cf, struct results *rs)
{
	int v;
	int f;

	for (v = 0; v < V_COUNT; v++)
		for (f = 0; f < 2; f++)
			rs->rs_sum[v][f] = summary_of(rs->rs_val[v][f],
			                              rs->rs_reps, cf->cf_median);
}

static void
print_rep(const struct results *rs, int rep)
{
	const double(*x)[2][REPS_MAX] = rs->rs_val;

	printf("rep %d: call roost %.2f/%.2f us, pipe %.2f/%.2f us | stream "
	       "recv %.1f run %.1f ns | drain recv %.1f run %.1f ns\n",
	       rep + 1, x[V_CALL_ROOST][0][rep], x[V_CALL_ROOST][1][rep],
	       x[V_CALL_PIPE][0][rep], x[V_CALL_PIPE][1][rep],
	       x[V_STREAM_RECV][0][rep], x[V_STREAM_RUN][0][rep],
	       x[V_DRAIN_RECV][0][rep], x[V_DRAIN_RUN][0][rep]);
	fflush(stdout);
}

static void
print_overhead(const char *what, double recv, double run)
{
	printf("  %-8s %12.2f %16.2f %+11.2f ns (%+.1f%%)\n", what, recv, run,
	       run - recv, (run - recv) / recv * 100);
}

static void
print_human(const struct config *cf, const struct results *rs)
{
	const double(*m)[2] = rs->rs_sum;
	const char *how = cf->cf_median ? "median" : "best";
	double rtt = m[V_CALL_ROOST][0];

	printf("\ncall round trip, %d B (%s of %d reps; %d timed calls "
	       "each)\n", CALL_LEN, how, rs->rs_reps, cf->cf_rounds);
	printf("                   median        p99\n");
	printf("  roost_call   %9.2f us %9.2f us\n", m[V_CALL_ROOST][0],
	       m[V_CALL_ROOST][1]);
	printf("  pipe pair    %9.2f us %9.2f us   (%.1fx the roost_call "
	       "median)\n", m[V_CALL_PIPE][0], m[V_CALL_PIPE][1],
	       m[V_CALL_PIPE][0] / rtt);
	printf("\ndispatch, %d one-way 8 B messages, ns per message (%s "
	       "of %d reps)\n", cf->cf_msgs, how, rs->rs_reps);
	printf("           roost_recv   roost_run table    overhead\n");
	print_overhead("stream", m[V_STREAM_RECV][0], m[V_STREAM_RUN][0]);
	print_overhead("drain", m[V_DRAIN_RECV][0], m[V_DRAIN_RUN][0]);
	printf("\ntarget:\n  roost_call rtt median <= %.2f us   got %.3f  %s\n",
	       RTT_TARGET_US, rtt, rtt <= RTT_TARGET_US ? "PASS" : "MISS");
}

static void
json_num(double v)
{
	if (isfinite(v))
		printf("%.6g", v);
	else
		printf("null");
}

static void
json_reps(const struct results *rs, int v, int f)
{
	int i;

	printf("[");
	for (i = 0; i < rs->rs_reps; i++) {
		if (i > 0)
			putchar(',');
		json_num(rs->rs_val[v][f][i]);
	}
	printf("]");
}

static void
json_call(const struct results *rs, const char *name, int v)
{
	printf("\"%s\":{\"median_us\":", name);
	json_num(rs->rs_sum[v][0]);
	printf(",\"p99_us\":");
	json_num(rs->rs_sum[v][1]);
	printf(",\"median_us_reps\":");
	json_reps(rs, v, 0);
	printf(",\"p99_us_reps\":");
	json_reps(rs, v, 1);
	printf("}");
}

static void
json_disp(const struct results *rs, const char *name, int vrecv, int vrun)
{
	printf("\"%s\":{\"recv_ns\":", name);
	json_num(rs->rs_sum[vrecv][0]);
	printf(",\"run_ns\":");
	json_num(rs->rs_sum[vrun][0]);
	printf(",\"overhead_ns\":");
	json_num(rs->rs_sum[vrun][0] - rs->rs_sum[vrecv][0]);
	printf(",\"recv_ns_reps\":");
	json_reps(rs, vrecv, 0);
	printf(",\"run_ns_reps\":");
	json_reps(rs, vrun, 0);
	printf("}");
}

static void
print_json(const struct config *cf, const struct results *rs)
{
	double rtt = rs->rs_sum[V_CALL_ROOST][0];

	printf("{\"reps\":%d,\"quick\":%s,\"summary\":\"%s\","
	       "\"call\":{\"bytes\":%d,\"rounds\":%d,", rs->rs_reps,
	       cf->cf_quick ? "true" : "false",
	       cf->cf_median ? "median" : "best", CALL_LEN, cf->cf_rounds);
	json_call(rs, "roost", V_CALL_ROOST);
	putchar(',');
	json_call(rs, "pipe", V_CALL_PIPE);
	printf("},\"dispatch\":{\"bytes\":8,\"messages\":%d,", cf->cf_msgs);
	json_disp(rs, "stream", V_STREAM_RECV, V_STREAM_RUN);
	putchar(',');
	json_disp(rs, "drain", V_DRAIN_RECV, V_DRAIN_RUN);
	printf("},\"targets\":{\"call_rtt_median\":{\"limit\":%g,"
	       "\"at_most\":true,\"value\":", RTT_TARGET_US);
	json_num(rtt);
	printf(",\"pass\":%s}}}\n", rtt <= RTT_TARGET_US ? "true" : "false");
}

/* ------------------------------------------------------------------ */

static void
usage(FILE *f)
{
	fprintf(f,
	        "usage: roost_call_bench [--reps N] [--quick] [--json] "
	        "[--median]\n"
	        "  --reps N   repetitions (default 5, max %d)\n"
	        "  --quick    counts 10x smaller: a smoke run\n"
	        "  --json     one JSON object on stdout\n"
	        "  --median   summarise by the median of reps, not the best\n",
	        REPS_MAX);
}

/* Returns 0, 1 for --help, or -1 for a bad command line. */
static int
parse_args(int argc, char **argv, struct config *cf)
{
	char *end;
	int div;
	int i;

	memset(cf, 0, sizeof(*cf));
	cf->cf_reps = 5;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0) {
			cf->cf_quick = true;
		} else if (strcmp(argv[i], "--json") == 0) {
			cf->cf_json = true;
		} else if (strcmp(argv[i], "--median") == 0) {
			cf->cf_median = true;
		} else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
			cf->cf_reps = (int)strtol(argv[++i], &end, 10);
			if (*end != '\0' || cf->cf_reps < 1 ||
			    cf->cf_reps > REPS_MAX)
				return -1;
		} else if (strcmp(argv[i], "--help") == 0) {
			return 1;
		} else {
			return -1;
		}
	}
	div = cf->cf_quick ? 10 : 1;
	cf->cf_rounds = 20000 / div;
	cf->cf_warm_rounds = 2000 / div;
	cf->cf_warm_s = 0.2 / div;
	cf->cf_msgs = 1000000 / div;
	return 0;
}

int
main(int argc, char **argv)
{
	static struct results rs;
	struct config cf;
	struct shared *sh;
	double res[2];
	int rc;
	int rep;
	int v;

	rc = parse_args(argc, argv, &cf);
	if (rc != 0) {
		usage(rc > 0 ? stdout : stderr);
		return rc > 0 ? 0 : 2;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("roost_call_bench: mmap");
		return 1;
	}
	rs.rs_reps = cf.cf_reps;
	if (!cf.cf_json)
		printf("roost_call_bench: %d reps%s, %ld CPUs\n", cf.cf_reps,
		       cf.cf_quick ? " (quick)" : "",
		       sysconf(_SC_NPROCESSORS_ONLN));
	for (rep = 0; rep < cf.cf_reps && rc == 0; rep++) {
		for (v = 0; v < V_COUNT && rc == 0; v++) {
			res[0] = res[1] = NAN;
			rc = run_job(&cf, sh, (enum variant)v, res);
			if (rc < 0)
				fprintf(stderr, "roost_call_bench: %s failed: "
				        "%s\n", v_name[v], roost_strerror(rc));
			rs.rs_val[v][0][rep] = res[0];
			rs.rs_val[v][1][rep] = res[1];
		}
		if (rc == 0 && !cf.cf_json)
			print_rep(&rs, rep);
	}
	munmap(sh, sizeof(*sh));
	if (rc < 0)
		return 1;
	summarise(&cf, &rs);
	if (cf.cf_json)
		print_json(&cf, &rs);
	else
		print_human(&cf, &rs);
	return 0;
}
