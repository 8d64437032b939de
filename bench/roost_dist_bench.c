/* SPDX-License-Identifier: MIT */
/*
 * roost_dist_bench.c - roost across nodes against raw NATS, on one
 * nats-server in one run (docs/distribution.md):
 *
 *   round trip: a raw libnats request/reply against a roost_call from
 *   node a to the echo actor of node b (four local hops and the gateways
 *   on top of NATS's round trip);
 *   one-way 64 B: raw publish-to-subscribe against roost_send from node a
 *   to an actor of node b, counting only messages received, from the
 *   first received to the last.
 *
 * It starts its own nats-server (a free loopback port) and two roost
 * nodes (roostd + gateway + echo), and stops them by pid. Prints each
 * figure, the ratios, and a verdict per target (call at most 1.5x the
 * raw round trip; one-way at least 0.5x raw).
 */
#include <roost.h>

#include <assert.h>
#include <dirent.h>
#include <nats/nats.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_util.h"

#define RT_N 2000
#define RT_WARM 200
#define ONEWAY_N 200000
#define REPS 3 /* interleaved; the median of each is reported */
#define MSG_SIZE 64
#define KIND_ECHO 1
#define KIND_DATA 7

static char dir[64] = "/tmp/roost-dist-bench-XXXXXX";
static pid_t server_pid;
static pid_t roostd_pid[2];
static char sysname[2][32];

static void
die(const char *what, int rc)
{
	fprintf(stderr, "roost_dist_bench: %s: %s\n", what,
	        rc != 0 ? roost_strerror(rc) : "failed");
	exit(1);
}

static int
server_port(void)
{
	char path[sizeof(dir) + 260], buf[256];
	struct dirent *e;
	DIR *d = opendir(dir);
	int port = 0;

	while (d != NULL && port == 0 && (e = readdir(d)) != NULL) {
		FILE *f;
		char *p;

		if (strstr(e->d_name, ".ports") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		if ((p = strstr(buf, "127.0.0.1:")) != NULL)
			port = atoi(p + 10);
	}
	if (d != NULL)
		closedir(d);
	return port;
}

static int
start_server(void)
{
	uint64_t deadline = bench_now_ns() + 10 * 1000000000ull;
	int port;

	if (mkdtemp(dir) == NULL)
		die("mkdtemp", -errno);
	server_pid = fork();
	if (server_pid == 0) {
		(void)!freopen("/dev/null", "w", stderr);
		execlp("nats-server", "nats-server", "-a", "127.0.0.1", "-p",
		       "-1", "--ports_file_dir", dir, (char *)NULL);
		_exit(127);
	}
	while ((port = server_port()) == 0 && bench_now_ns() < deadline)
		bench_sleep_ns(2000000);
	if (port == 0)
		die("nats-server did not start", 0);
	return port;
}

/* Node 'i' ("a" id 1, "b" id 2): roostd with a gateway and an echo. */
static void
start_node(int i, int port)
{
	char cfg[96], log[112];
	const char *name = i == 0 ? "a" : "b";
	uint64_t deadline = bench_now_ns() + 10 * 1000000000ull;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	roost_aid_t a;
	FILE *f;

	snprintf(sysname[i], sizeof(sysname[i]), "distbench%d-%s",
	         (int)getpid(), name);
	snprintf(cfg, sizeof(cfg), "%s/%s.ini", dir, name);
	snprintf(log, sizeof(log), "%s/%s.log", dir, name);
	f = fopen(cfg, "w");
	if (f == NULL)
		die("config", -errno);
	fprintf(f, "[gateway]\nprogram = %s\nnode = %s\nnode_id = %d\n"
	        "urls = nats://127.0.0.1:%d\n\n[actor echo]\nprogram = %s\n",
	        GATEWAY_BIN, name, i + 1, port, ECHO_BIN);
	fclose(f);
	roostd_pid[i] = fork();
	if (roostd_pid[i] == 0) {
		(void)!freopen(log, "w", stderr);
		execl(ROOSTD_BIN, ROOSTD_BIN, "--system", sysname[i],
		      "--config", cfg, "--foreground", (char *)NULL);
		_exit(127);
	}
	roost_ctx_opts_init(&o);
	o.system = sysname[i];
	while (ctx == NULL || roost_whereis(ctx, "echo", &a) != 0) {
		if (ctx == NULL && roost_ctx_open(&ctx, &o) < 0)
			ctx = NULL;
		if (bench_now_ns() > deadline)
			die("a node did not start", 0);
		bench_sleep_ns(2000000);
	}
	roost_ctx_close(ctx);
}

static void
stop_all(void)
{
	char cmd[sizeof(dir) + 16];

	for (int i = 0; i < 2; i++) {
		kill(roostd_pid[i], SIGTERM);
		waitpid(roostd_pid[i], NULL, 0);
	}
	kill(server_pid, SIGTERM);
	waitpid(server_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

static roost_ctx_t *
open_on(int node, const char *name)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = sysname[node];
	o.name = name;
	rc = roost_ctx_open(&ctx, &o);
	if (rc < 0)
		die("roost_ctx_open", rc);
	return ctx;
}

/* --- raw NATS ---------------------------------------------------------- */

/* A connection; 'asap': every publish written at once (no flusher
 * thread in the way: the fair latency reference). */
static natsConnection *
nats_open(int port, bool asap)
{
	char url[64];
	natsConnection *nc = NULL;
	natsOptions *o = NULL;

	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
	if (natsOptions_Create(&o) != NATS_OK ||
	    natsOptions_SetURL(o, url) != NATS_OK ||
	    natsOptions_SetSendAsap(o, asap) != NATS_OK ||
	    natsConnection_Connect(&nc, o) != NATS_OK)
		die("NATS connect", 0);
	natsOptions_Destroy(o);
	return nc;
}

static void
on_request(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	(void)sub;
	(void)arg;
	natsConnection_Publish(nc, natsMsg_GetReply(m), natsMsg_GetData(m),
	                       natsMsg_GetDataLength(m));
	natsMsg_Destroy(m);
}

/* Mean ns per raw request/reply. */
static double
raw_round_trip(int port)
{
	natsConnection *srv = nats_open(port, true);
	natsConnection *cli = nats_open(port, true);
	natsSubscription *sub = NULL;
	char data[MSG_SIZE] = {0};
	natsMsg *r;
	uint64_t t0 = 0;

	natsConnection_Subscribe(&sub, srv, "bench.echo", on_request, NULL);
	natsConnection_Flush(srv);
	for (int i = 0; i < RT_N + RT_WARM; i++) {
		if (i == RT_WARM)
			t0 = bench_now_ns();
		if (natsConnection_Request(&r, cli, "bench.echo", data,
		                           sizeof(data), 5000) != NATS_OK)
			die("NATS request", 0);
		natsMsg_Destroy(r);
	}
	t0 = bench_now_ns() - t0;
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(cli);
	natsConnection_Destroy(srv);
	return (double)t0 / RT_N;
}

struct counter {
	atomic_uint n;
	uint64_t first_ns;
	_Atomic uint64_t last_ns;
};

static void
on_data(natsConnection *nc, natsSubscription *sub, natsMsg *m, void *arg)
{
	struct counter *c = arg;

	(void)nc;
	(void)sub;
	if (atomic_fetch_add(&c->n, 1) == 0)
		c->first_ns = bench_now_ns();
	atomic_store(&c->last_ns, bench_now_ns());
	natsMsg_Destroy(m);
}

/* Messages per second, raw publish to subscribe, received only. */
static double
raw_one_way(int port)
{
	natsConnection *rx = nats_open(port, false);
	natsConnection *tx = nats_open(port, false);
	natsSubscription *sub = NULL;
	struct counter c = {0};
	char data[MSG_SIZE] = {0};
	uint64_t deadline;

	natsConnection_Subscribe(&sub, rx, "bench.data", on_data, &c);
	natsSubscription_SetPendingLimits(sub, -1, -1);
	natsConnection_Flush(rx);
	for (int i = 0; i < ONEWAY_N; i++)
		natsConnection_Publish(tx, "bench.data", data, sizeof(data));
	natsConnection_Flush(tx);
	deadline = bench_now_ns() + 60 * 1000000000ull;
	while (atomic_load(&c.n) < ONEWAY_N && bench_now_ns() < deadline)
		bench_sleep_ns(1000000);
	natsSubscription_Destroy(sub);
	natsConnection_Destroy(tx);
	natsConnection_Destroy(rx);
	return atomic_load(&c.n) * BENCH_NS /
	       (double)(atomic_load(&c.last_ns) - c.first_ns);
}

/* --- roost across the gateways ----------------------------------------- */

/* Mean ns per roost_call to echo@b; 'flags' 0 (user lane: the gateway's
 * buffered connection) or ROOST_SEND_SYSTEM (its write-at-once one). */
static double
roost_round_trip(uint32_t flags)
{
	roost_ctx_t *ctx = open_on(0, NULL);
	char data[MSG_SIZE] = {0};
	roost_aid_t echo;
	roost_msg_t *r;
	uint64_t t0 = 0;
	int rc;

	while ((rc = roost_whereis(ctx, "echo@b", &echo)) != 0)
		if (rc != -EHOSTUNREACH && rc != -ENOTCONN)
			die("whereis echo@b", rc);
	for (int i = 0; i < RT_N + RT_WARM; i++) {
		if (i == RT_WARM)
			t0 = bench_now_ns();
		rc = roost_call(ctx, echo, KIND_ECHO, flags, data, sizeof(data),
		                5000, &r);
		if (rc < 0)
			die("roost_call across nodes", rc);
	}
	t0 = bench_now_ns() - t0;
	roost_ctx_close(ctx);
	return (double)t0 / RT_N;
}

static int
roost_sender(void)
{
	roost_ctx_t *ctx = open_on(0, NULL);
	char data[MSG_SIZE] = {0};
	roost_aid_t sink;
	int rc;

	while ((rc = roost_whereis(ctx, "sink@b", &sink)) != 0)
		if (rc != -EHOSTUNREACH && rc != -ENOTCONN)
			return 1;
	for (int i = 0; i < ONEWAY_N; i++)
		if (roost_send(ctx, sink, KIND_DATA, data, sizeof(data), 10000) < 0)
			return 2;
	return roost_ctx_close(ctx) == 0 ? 0 : 3;
}

static double
roost_one_way(void)
{
	roost_ctx_t *sink = open_on(1, "sink");
	roost_msg_t *m;
	uint64_t first = 0, last = 0;
	int got = 0;
	pid_t pid = fork();

	if (pid == 0)
		_exit(roost_sender());
	while (got < ONEWAY_N && roost_recv(sink, &m, 10000) == 0) {
		last = bench_now_ns();
		if (got++ == 0)
			first = last;
	}
	waitpid(pid, NULL, 0);
	roost_ctx_close(sink);
	if (got < ONEWAY_N)
		fprintf(stderr, "roost_dist_bench: only %d of %d received\n",
		        got, ONEWAY_N);
	return got * BENCH_NS / (double)(last - first);
}

static double
median3(double *v)
{
	double a = v[0], b = v[1], c = v[2];

	return a > b ? (b > c ? b : (a > c ? c : a))
	             : (a > c ? a : (b > c ? c : b));
}

int
main(void)
{
	int port = start_server();
	double raw_rt[REPS], roost_rt[REPS], sys_rt[REPS];
	double raw_ow[REPS], roost_ow[REPS];
	double rrt, rt, srt, row, ow;

	static_assert(REPS == 3, "median3");
	start_node(0, port);
	start_node(1, port);
	for (int i = 0; i < REPS; i++) {
		raw_rt[i] = raw_round_trip(port);
		roost_rt[i] = roost_round_trip(0);
		sys_rt[i] = roost_round_trip(ROOST_SEND_SYSTEM);
		raw_ow[i] = raw_one_way(port);
		roost_ow[i] = roost_one_way();
	}
	stop_all();
	rrt = median3(raw_rt);
	rt = median3(roost_rt);
	srt = median3(sys_rt);
	row = median3(raw_ow);
	ow = median3(roost_ow);
	printf("median of %d interleaved reps\n", REPS);
	printf("round trip, 64 B: raw NATS request/reply %.1f us, roost_call "
	       "across nodes %.1f us (%.2fx), on the system lane %.1f us "
	       "(%.2fx)\n", rrt / 1000, rt / 1000, rt / rrt, srt / 1000,
	       srt / rrt);
	printf("one-way, 64 B: raw NATS publish-subscribe %.0f msg/s, roost "
	       "across nodes %.0f msg/s (%.2fx)\n", row, ow, ow / row);
	printf("verdict: call at most 1.5x raw request/reply: %s (%.2fx)\n",
	       rt <= 1.5 * rrt ? "met" : "MISSED", rt / rrt);
	printf("verdict: one-way at least 0.5x raw publish-subscribe: %s "
	       "(%.2fx)\n", ow >= 0.5 * row ? "met" : "MISSED", ow / row);
	return 0;
}
