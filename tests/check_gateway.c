/* SPDX-License-Identifier: MIT */
/*
 * check_gateway.c - nodes over NATS: real nats-server processes on free
 * loopback ports, and per node a real roostd with its gateway and an
 * echo actor, each node its own system on this machine.
 */
#include "nats_creds.h"
#include "nats_util.h"

#include <nats/nats.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sup/proto.h"

enum { KIND_ECHO = 1, KIND_REPLY = 100, KIND_SEQ = 7, KIND_DONE = 8 };

/* examples/echo_actor.c: link to the sender, answer the result. */
enum { KIND_LINK_ME = 8 };

#define STREAM_N 100000u
#define STREAM_SIZE 64u    /* bytes per message: a sequence number, then 0s */
#define STREAM_PAUSE 1000u /* the receiver sleeps 10 ms every this many */
#define WAIT_MS 15000

/* Call 'to' with 'text' and check the echo: the same bytes, from 'to'. */
static void
echo_call(roost_ctx_t *ctx, roost_aid_t to, const char *text)
{
	roost_msg_t *r;
	int rc;

	rc = roost_call(ctx, to, KIND_ECHO, 0, text, strlen(text), WAIT_MS, &r);
	ck_assert_msg(rc == 0, "call: %s", roost_strerror(rc));
	ck_assert_uint_eq(roost_msg_kind(r), KIND_REPLY);
	ck_assert_uint_eq(roost_msg_size(r), strlen(text));
	ck_assert_mem_eq(roost_msg_data(r), text, strlen(text));
	ck_assert_uint_eq(roost_msg_from(r).id, to.id);
}

/* What `roostctl ARGS` prints on node 'n' (the real binary); its exit
 * status. */
static int
ctl_out(const struct nu_node *n, const char *args, char *out, size_t len)
{
	char cmd[256];
	size_t got;
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "%s --system %s %s 2>&1", ROOSTCTL_BIN,
	         n->nd_sys, args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	got = fread(out, 1, len - 1, p);
	out[got] = '\0';
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* What `roostctl nodes` prints for node 'n'. */
static void
ctl_nodes(const struct nu_node *n, char *out, size_t len)
{
	ck_assert_int_eq(ctl_out(n, "nodes", out, len), 0);
}

/* The integer 'key' of `roostctl nodes --json` for node 'n'. */
static long long
ctl_nodes_int(const struct nu_node *n, const char *key)
{
	char out[4096];
	char needle[64];
	const char *at;

	ck_assert_int_eq(ctl_out(n, "--json nodes", out, sizeof(out)), 0);
	snprintf(needle, sizeof(needle), "\"%s\":", key);
	at = strstr(out, needle);
	ck_assert_msg(at != NULL, "no %s in:\n%s", key, out);
	return strtoll(at + strlen(needle), NULL, 10);
}

/* The value of the first sample of 'family' in `roostctl metrics` of
 * node 'n'. */
static long long
metric(const struct nu_node *n, const char *family)
{
	char out[16384];
	char needle[96];
	const char *at;

	ck_assert_int_eq(ctl_out(n, "metrics --no-actors", out, sizeof(out)),
	                 0);
	snprintf(needle, sizeof(needle), "\n%s{", family);
	at = strstr(out, needle);
	ck_assert_msg(at != NULL, "no %s in:\n%s", family, out);
	at = strstr(at, "} ");
	ck_assert_ptr_nonnull(at);
	return strtoll(at + 2, NULL, 10);
}

/* The next message on 'ctx' is an UNDELIVERED notice from 'from' for a
 * message of kind 'kind', error 'err'. */
static void
expect_undelivered(roost_ctx_t *ctx, roost_aid_t from, uint32_t kind, int err)
{
	roost_undelivered_t u;
	roost_msg_t *m;

	ck_assert_int_eq(roost_recv(ctx, &m, WAIT_MS), 0);
	ck_assert_uint_eq(roost_msg_kind(m), ROOST_KIND_UNDELIVERED);
	ck_assert_uint_eq(roost_msg_from(m).id, from.id);
	ck_assert_uint_eq(roost_msg_size(m), sizeof(u));
	memcpy(&u, roost_msg_data(m), sizeof(u));
	ck_assert_int_eq(u.err, err);
	ck_assert_uint_eq(u.kind, kind);
}

/* Call 'to' until its node is seen down: until the gateway notices, a
 * call times out (published, nobody listens); then it is -ENOTCONN. */
static void
wait_node_down(roost_ctx_t *ctx, roost_aid_t to)
{
	roost_msg_t *r;
	int rc;

	do {
		rc = roost_call(ctx, to, KIND_ECHO, 0, "x", 1, 100, &r);
		ck_assert_msg(rc == -ETIMEDOUT || rc == -ENOTCONN, "call: %s",
		              roost_strerror(rc));
	} while (rc != -ENOTCONN);
}

/* A server and nodes a (id 1) and b (id 2) on it. */
static void
two_nodes_start(struct nu_server *s, struct nu_node *a, struct nu_node *b)
{
	nu_server_start(s, NULL);
	nu_node_start(a, "a", 1, s->ns_port, "");
	nu_node_start(b, "b", 2, s->ns_port, "");
}

static void
two_nodes_stop(struct nu_server *s, struct nu_node *a, struct nu_node *b)
{
	nu_node_stop(b);
	nu_node_stop(a);
	nu_server_stop(s);
}

START_TEST(test_gateway_call)
{
	struct nu_server s;
	struct nu_node a, b;
	roost_ctx_t *ca, *cb;
	roost_aid_t echo_b, echo_a, stale, other;
	roost_msg_t *r;
	char big[65536] = {0};
	char out[2048];
	uint8_t packed[32];
	int n;

	two_nodes_start(&s, &a, &b);
	ca = nu_node_open(&a, NULL);
	cb = nu_node_open(&b, NULL);

	echo_b = nu_whereis_wait(ca, "echo@b", WAIT_MS);
	ck_assert_uint_eq(roost_aid_node(echo_b), 2);
	echo_call(ca, echo_b, "hello from a");
	ctl_nodes(&a, out, sizeof(out));
	ck_assert_msg(strstr(out, "node a (id 1): connected") != NULL &&
	              strstr(out, "b                                     2 up")
	                      != NULL && strstr(out, "ROUND TRIP") != NULL,
	              "roostctl nodes:\n%s", out);
	/* The round trip to b, measured each heartbeat (100 ms here). */
	for (n = 0; ctl_nodes_int(&a, "rtt_us") == 0; n++) {
		ck_assert_int_lt(n, 100);
		usleep(20000);
	}
	/* b's actors, from a. */
	ck_assert_int_eq(ctl_out(&a, "ls --node b", out, sizeof(out)), 0);
	ck_assert_msg(strstr(out, "node b\n") != NULL &&
	              strstr(out, "\necho ") != NULL &&
	              strstr(out, "\ngateway ") != NULL, "ls --node b:\n%s",
	              out);
	ck_assert_int_eq(ctl_out(&a, "--json ls --node b", out, sizeof(out)),
	                 0);
	ck_assert_msg(strstr(out, "\"actors\"") != NULL, "%s", out);
	ck_assert_int_ne(ctl_out(&a, "ls --node nowhere", out, sizeof(out)),
	                 0);
	ck_assert_msg(strstr(out, "No route to host") != NULL ||
	              strstr(out, "unreachable") != NULL, "%s", out);
	echo_a = nu_whereis_wait(cb, "echo@a", WAIT_MS);
	ck_assert_uint_eq(roost_aid_node(echo_a), 1);
	echo_call(cb, echo_a, "hello from b");
	/* Its own node's name is the local address. */
	echo_a = nu_whereis_wait(ca, "echo@a", WAIT_MS);
	ck_assert_uint_eq(roost_aid_node(echo_a), 0);
	echo_call(ca, echo_a, "self");

	/* MessagePack passes unchanged, flagged. */
	n = roost_pack(packed, sizeof(packed), "{s:I}", "n", (int64_t)42);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(roost_call(ca, echo_b, KIND_ECHO, ROOST_SEND_MSGPACK,
	                            packed, (size_t)n, WAIT_MS, &r), 0);
	ck_assert(roost_msg_flags(r) & ROOST_MSG_MSGPACK);
	ck_assert_uint_eq(roost_msg_size(r), (size_t)n);
	ck_assert_mem_eq(roost_msg_data(r), packed, (size_t)n);

	/* Each failure its own error. */
	ck_assert_int_eq(roost_whereis(ca, "nobody@b", &stale), -ENOENT);
	ck_assert_int_eq(roost_whereis(ca, "echo@nowhere", &stale),
	                 -EHOSTUNREACH);
	ck_assert_int_eq(roost_whereis(ca, "echo@b@c", &stale), -EINVAL);
	ck_assert_int_eq(roost_whereis(ca, "@b", &stale), -EINVAL);
	ck_assert_int_eq(roost_register(ca, "x@y", roost_self(ca)), -EINVAL);
	other.id = (echo_b.id & ~(0xffffull << 16)) | (9ull << 16);
	ck_assert_int_eq(roost_call(ca, other, KIND_ECHO, 0, "x", 1, WAIT_MS,
	                            &r), -EHOSTUNREACH);
	/* This node's own address with its node bits: through the gateway. */
	other.id = (echo_a.id & ~(0xffffull << 16)) | (1ull << 16);
	ck_assert_int_eq(roost_call(ca, other, KIND_ECHO, 0, "o", 1, WAIT_MS,
	                            &r), 0);
	ck_assert_uint_eq(roost_msg_from(r).id, echo_a.id);
	stale.id = echo_b.id + (1ull << 32);
	ck_assert_int_eq(roost_call(ca, stale, KIND_ECHO, 0, "x", 1, WAIT_MS,
	                            &r), -ESRCH);
	/* A plain send's failure comes back as a notice: refused by b's
	 * mailbox (a stale address), or by a's gateway (an unknown node). */
	ck_assert_int_eq(roost_send(ca, stale, KIND_SEQ, "x", 1, WAIT_MS), 0);
	expect_undelivered(ca, stale, KIND_SEQ, -ESRCH);
	other.id = (echo_b.id & ~(0xffffull << 16)) | (9ull << 16);
	ck_assert_int_eq(roost_send(ca, other, KIND_DONE, "x", 1, WAIT_MS), 0);
	expect_undelivered(ca, other, KIND_DONE, -EHOSTUNREACH);
	/* Counted on the side that failed, in the metrics too. */
	ck_assert_int_ge(metric(&a, "roost_gateway_undelivered_total"), 1);
	ck_assert_int_ge(metric(&b, "roost_gateway_undelivered_total"), 2);
	ck_assert_int_eq(metric(&a, "roost_gateway_node_up"), 1);
	ck_assert_int_gt(metric(&a, "roost_gateway_published_total"), 0);
	ck_assert_int_eq(roost_send(ca, echo_b, KIND_ECHO, big, sizeof(big),
	                            WAIT_MS), -EMSGSIZE);
	/* A batch to another node: each message in order (the echo
	 * answers a plain ECHO with a plain message). */
	{
		roost_batch_msg_t batch[3] = {
			{KIND_ECHO, 0, "1", 1}, {KIND_ECHO, 0, "2", 1},
			{KIND_ECHO, 0, "3", 1}};
		size_t sent = 9;

		batch[1].size = sizeof(big);
		batch[1].data = big;
		ck_assert_int_eq(roost_send_batch(ca, echo_b, batch, 3, WAIT_MS,
		                                  &sent), -EMSGSIZE);
		ck_assert_uint_eq(sent, 0);
		batch[1].size = 1;
		batch[1].data = "2";
		ck_assert_int_eq(roost_send_batch(ca, echo_b, batch, 3, WAIT_MS,
		                                  &sent), 0);
		ck_assert_uint_eq(sent, 3);
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(roost_recv(ca, &r, WAIT_MS), 0);
			ck_assert_uint_eq(roost_msg_kind(r), KIND_REPLY);
			ck_assert_uint_eq(roost_msg_from(r).id, echo_b.id);
			ck_assert_mem_eq(roost_msg_data(r), batch[i].data, 1);
		}
	}

	ck_assert_int_eq(roost_ctx_close(ca), 0);
	ck_assert_int_eq(roost_ctx_close(cb), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

struct stream_arg {
	const struct nu_node *sa_node;
};

/* On node a: send STREAM_N numbered messages to sink@b, then wait for
 * the sink's DONE, sent back to this remote sender's address. */
static int
stream_sender(void *arg)
{
	const struct stream_arg *sa = arg;
	roost_ctx_t *ctx = nu_node_open(sa->sa_node, NULL);
	roost_aid_t sink = nu_whereis_wait(ctx, "sink@b", WAIT_MS);
	roost_msg_t *m;
	uint8_t buf[STREAM_SIZE] = {0};
	uint32_t i;
	int rc;

	for (i = 0; i < STREAM_N; i++) {
		memcpy(buf, &i, sizeof(i));
		rc = roost_send(ctx, sink, KIND_SEQ, buf, sizeof(buf), WAIT_MS);
		if (rc < 0)
			return 10;
	}
	rc = roost_recv(ctx, &m, 60000);
	if (rc < 0 || roost_msg_kind(m) != KIND_DONE ||
	    roost_msg_from(m).id != sink.id)
		return 11;
	return roost_ctx_close(ctx) == 0 ? 0 : 12;
}

/* A fast sender on a, a slow receiver on b (it sleeps now and then):
 * all 100,000 arrive in order, none is dropped, and flow control slowed
 * the sender (a's gateway waited for credit) rather than let frames
 * pile up at b (libnats never held more than about one window there). */
START_TEST(test_gateway_stream_in_order)
{
	struct nu_server s;
	struct nu_node a, b;
	struct stream_arg sa = {&a};
	roost_ctx_t *sink;
	roost_msg_t *m;
	roost_aid_t from = ROOST_AID_NONE;
	uint32_t seq;
	uint32_t i;
	pid_t pid;

	two_nodes_start(&s, &a, &b);
	sink = nu_node_open(&b, "sink");
	pid = tu_fork(stream_sender, &sa);
	for (i = 0; i < STREAM_N; i++) {
		ck_assert_int_eq(roost_recv(sink, &m, 60000), 0);
		ck_assert_uint_eq(roost_msg_kind(m), KIND_SEQ);
		ck_assert_uint_eq(roost_msg_size(m), STREAM_SIZE);
		memcpy(&seq, roost_msg_data(m), sizeof(seq));
		ck_assert_uint_eq(seq, i);
		if (i == 0)
			from = roost_msg_from(m);
		ck_assert_uint_eq(roost_msg_from(m).id, from.id);
		if (i % STREAM_PAUSE == 0)
			usleep(10000);
	}
	ck_assert_uint_eq(roost_aid_node(from), 1);
	/* The remote sender's address is one roost_send takes. */
	ck_assert_int_eq(roost_send(sink, from, KIND_DONE, NULL, 0, WAIT_MS), 0);
	ck_assert_int_eq(tu_wait(pid, 60000), 0);
	ck_assert_int_eq(ctl_nodes_int(&a, "undelivered"), 0);
	ck_assert_int_eq(ctl_nodes_int(&b, "undelivered"), 0);
	/* One window (1 MiB) and the credit in flight, not the backlog
	 * (100,000 frames of 104 bytes). */
	ck_assert_int_le(ctl_nodes_int(&b, "pending_max_bytes"), 3 << 19);
	ck_assert_int_gt(ctl_nodes_int(&a, "window_waits"), 0);
	ck_assert_int_eq(roost_ctx_close(sink), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

/* A node whose gateway stops is down for the others after down_after_ms
 * (1 s in nats_util's configs): its addresses are -ENOTCONN, not a
 * silent loss; when it comes back it is seen again. */
START_TEST(test_gateway_node_down_and_back)
{
	struct nu_server s;
	struct nu_node a, b;
	roost_ctx_t *ca;
	roost_aid_t echo_b;

	two_nodes_start(&s, &a, &b);
	ca = nu_node_open(&a, NULL);
	echo_b = nu_whereis_wait(ca, "echo@b", WAIT_MS);
	echo_call(ca, echo_b, "up");
	nu_node_stop(&b);
	wait_node_down(ca, echo_b);
	ck_assert_int_eq(roost_whereis(ca, "echo@b", &echo_b), -ENOTCONN);
	ck_assert_int_eq(roost_send(ca, echo_b, KIND_ECHO, "x", 1, 0), 0);
	expect_undelivered(ca, echo_b, KIND_ECHO, -ENOTCONN);
	nu_log_wait(&a, "node 'b' (id 2) is down", WAIT_MS);

	nu_node_start(&b, "b", 2, s.ns_port, "");
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "back");
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

/* Three nodes: each calls the other two, and a message from a reaches c
 * with a's address, which c's echo answers across a third node's
 * gateway. */
START_TEST(test_gateway_three_nodes)
{
	static const char *const names[] = {"a", "b", "c"};
	struct nu_server s;
	struct nu_node n[3];
	roost_ctx_t *ctx[3];
	char spec[16];
	int i, j;

	nu_server_start(&s, NULL);
	for (i = 0; i < 3; i++)
		nu_node_start(&n[i], names[i], (unsigned)i + 1, s.ns_port, "");
	for (i = 0; i < 3; i++)
		ctx[i] = nu_node_open(&n[i], NULL);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < 3; j++) {
			if (i == j)
				continue;
			snprintf(spec, sizeof(spec), "echo@%s", names[j]);
			echo_call(ctx[i], nu_whereis_wait(ctx[i], spec, WAIT_MS),
			          names[i]);
		}
	}
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(roost_ctx_close(ctx[i]), 0);
	for (i = 2; i >= 0; i--)
		nu_node_stop(&n[i]);
	nu_server_stop(&s);
}
END_TEST

/* A two-server NATS cluster, a node on each server. */
START_TEST(test_gateway_cluster)
{
	static const char *const first[] = {"--cluster", "nats://127.0.0.1:-1",
	                                    "--cluster_name", "roost", NULL};
	struct nu_server s1, s2;
	struct nu_node a, b;
	char route[64];
	const char *second[] = {"--cluster", "nats://127.0.0.1:-1",
	                        "--cluster_name", "roost", "--routes", route,
	                        NULL};
	roost_ctx_t *ca;

	nu_server_start(&s1, first);
	ck_assert_int_gt(s1.ns_cluster_port, 0);
	snprintf(route, sizeof(route), "nats://127.0.0.1:%d",
	         s1.ns_cluster_port);
	nu_server_start(&s2, second);
	nu_node_start(&a, "a", 1, s1.ns_port, "");
	nu_node_start(&b, "b", 2, s2.ns_port, "");
	ca = nu_node_open(&a, NULL);
	/* Once the route is up, each node hears the other. */
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "via a route");
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	nu_node_stop(&b);
	nu_node_stop(&a);
	nu_server_stop(&s2);
	nu_server_stop(&s1);
}
END_TEST

/* The nats-server killed and started again on the same port: both
 * gateways reconnect by themselves and the nodes find each other. */
START_TEST(test_gateway_server_restart)
{
	struct nu_server s, again;
	struct nu_node a, b;
	char port[16];
	const char *same_port[] = {"-p", port, NULL};
	roost_ctx_t *ca;
	roost_aid_t echo_b;

	two_nodes_start(&s, &a, &b);
	ca = nu_node_open(&a, NULL);
	echo_b = nu_whereis_wait(ca, "echo@b", WAIT_MS);
	echo_call(ca, echo_b, "before");
	ck_assert_int_eq(kill(s.ns_pid, SIGKILL), 0);
	ck_assert_int_eq(tu_wait(s.ns_pid, 10000), 128 + SIGKILL);
	s.ns_pid = 0;
	nu_log_wait(&a, "disconnected from NATS", WAIT_MS);
	wait_node_down(ca, echo_b);
	/* nats-server takes the last "-p" given. */
	snprintf(port, sizeof(port), "%d", s.ns_port);
	nu_server_start(&again, same_port);
	ck_assert_int_eq(again.ns_port, s.ns_port);
	nu_log_wait(&a, "reconnected to", WAIT_MS);
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "after");
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	nu_node_stop(&b);
	nu_node_stop(&a);
	nu_server_stop(&again);
	nu_server_stop(&s);
}
END_TEST

/* A CA, a server certificate for 127.0.0.1 and a client certificate
 * under 'dir', made with openssl (EC keys: quick). */
static void
make_certs(const char *dir)
{
	char cmd[1400];

	snprintf(cmd, sizeof(cmd),
	         "(cd %s && printf 'subjectAltName=IP:127.0.0.1\\n' > san && "
	         "printf 'extendedKeyUsage=clientAuth\\n' > cli.ext && "
	         "openssl req -x509 -newkey ec -pkeyopt "
	         "ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.pem "
	         "-days 1 -subj /CN=roost-test-ca && "
	         "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	         "-nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 && "
	         "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key "
	         "-CAcreateserial -out srv.pem -days 1 -extfile san && "
	         "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
	         "-nodes -keyout cli.key -out cli.csr -subj /CN=roost-node && "
	         "openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key "
	         "-CAcreateserial -out cli.pem -days 1 -extfile cli.ext) "
	         ">/dev/null 2>&1",
	         dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* TLS on, with client certificates: the server has a certificate of a
 * CA the test makes and verifies the clients' (its tls block, verify
 * on) and a user and password. Gateways with the CA, a client
 * certificate and the password call each other; one without a client
 * certificate, and one without the CA, are refused by TLS and say so,
 * retrying. */
START_TEST(test_gateway_tls)
{
	char dir[] = "/tmp/roost-tls-XXXXXX";
	char conf[64], keys[320], nocert[160], noca[96];
	const char *args[] = {"-c", conf, NULL};
	struct nu_server s;
	struct nu_node a, b, c, d;
	roost_ctx_t *ca;
	char rm[64];
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	make_certs(dir);
	snprintf(conf, sizeof(conf), "%s/server.conf", dir);
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "tls {\n cert_file: \"%s/srv.pem\"\n key_file: "
	        "\"%s/srv.key\"\n ca_file: \"%s/ca.pem\"\n verify: true\n}\n"
	        "authorization {\n user: roost\n password: pw\n}\n",
	        dir, dir, dir);
	fclose(f);
	snprintf(nocert, sizeof(nocert), "tls_ca = %s/ca.pem\nuser = roost\n"
	         "password = pw\n", dir);
	snprintf(keys, sizeof(keys), "%stls_cert = %s/cli.pem\n"
	         "tls_key = %s/cli.key\n", nocert, dir, dir);
	nu_server_start(&s, args);
	nu_node_start(&a, "a", 1, s.ns_port, keys);
	nu_node_start(&b, "b", 2, s.ns_port, keys);
	ca = nu_node_open(&a, NULL);
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "over TLS");
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	/* No client certificate: the server's verification refuses it. */
	nu_node_start(&c, "c", 3, s.ns_port, nocert);
	nu_log_wait(&c, "gateway c: cannot connect to NATS (attempt 2)",
	            WAIT_MS);
	/* tls:// without the CA: the server's certificate is not trusted. */
	snprintf(noca, sizeof(noca), "tls://127.0.0.1:%d", s.ns_port);
	nu_node_start_urls(&d, "d", 4, noca, "");
	nu_log_wait(&d, "gateway d: cannot connect to NATS (attempt 2)",
	            WAIT_MS);
	nu_node_stop(&d);
	nu_node_stop(&c);
	nu_node_stop(&b);
	nu_node_stop(&a);
	nu_server_stop(&s);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	ck_assert_int_eq(system(rm), 0);
}
END_TEST

/* The next notice of kind 'kind' on 'ctx', decoded. */
static void
next_notice(roost_ctx_t *ctx, uint32_t kind, roost_notice_t *n)
{
	roost_msg_t *m;

	ck_assert_int_eq(roost_recv(ctx, &m, WAIT_MS), 0);
	ck_assert_uint_eq(roost_msg_kind(m), kind);
	ck_assert_int_eq(roost_notice_decode(m, n), 0);
}

/* Monitors across nodes: DOWN when the remote actor ends (its node's
 * roostd says why), DOWN noconnection when its node is lost (here: its
 * gateway killed and restarted, so what it watched is gone). */
START_TEST(test_gateway_monitor)
{
	struct nu_server s;
	struct nu_node a, b;
	roost_ctx_t *ca, *cb;
	roost_aid_t echo_b, gw_b, local;
	roost_notice_t n;
	uint64_t ref, ref2, ref3;
	roost_msg_t *r;
	pid_t gw;
	uint32_t restarts;

	two_nodes_start(&s, &a, &b);
	ca = nu_node_open(&a, NULL);
	cb = nu_node_open(&b, NULL);
	echo_b = nu_whereis_wait(ca, "echo@b", WAIT_MS);
	gw_b = nu_whereis_wait(ca, "gateway@b", WAIT_MS);
	ck_assert_int_eq(roost_monitor(ca, echo_b, &ref), 0);
	ck_assert_int_eq(roost_monitor(ca, gw_b, &ref2), 0);
	ck_assert_int_eq(roost_monitor(ca, gw_b, &ref3), 0);
	ck_assert_int_eq(roost_demonitor(ca, ref3), 0);
	ck_assert_int_eq(roost_demonitor(ca, ref3), -ENOENT);
	/* The monitors are in place once a call on the system lane has
	 * gone the same way: b's gateway takes MONITOR to roostd before it
	 * forwards the echo's answer. */
	ck_assert_int_eq(roost_call(ca, echo_b, KIND_ECHO, ROOST_SEND_SYSTEM,
	                            "w", 1, WAIT_MS, &r), 0);

	ck_assert_int_eq(roost_whereis(cb, "echo", &local), 0);
	ck_assert_int_eq(roost_kill(cb, local), 0);
	next_notice(ca, ROOST_KIND_DOWN, &n);
	ck_assert_uint_eq(n.ref, ref);
	ck_assert_uint_eq(n.aid.id, echo_b.id);
	ck_assert_int_eq(n.reason, ROOST_EXIT_KILLED);
	ck_assert(!n.restarting);

	nu_actor(&b, "gateway", &gw, &restarts);
	ck_assert_int_eq(kill(gw, SIGKILL), 0);
	next_notice(ca, ROOST_KIND_DOWN, &n);
	ck_assert_uint_eq(n.ref, ref2);
	ck_assert_uint_eq(n.aid.id, gw_b.id);
	ck_assert_int_eq(n.reason, ROOST_EXIT_NOCONNECTION);

	ck_assert_int_eq(roost_ctx_close(cb), 0);
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

/* A second gateway claiming node a's name is refused (it says so, in
 * its log and roostctl nodes, and stays up); a keeps serving. */
START_TEST(test_gateway_duplicate_node)
{
	struct nu_server s;
	struct nu_node a, b, dup;
	roost_ctx_t *cb;
	pid_t gw;
	uint32_t restarts;
	char out[2048];

	two_nodes_start(&s, &a, &b);
	cb = nu_node_open(&b, NULL);
	echo_call(cb, nu_whereis_wait(cb, "echo@a", WAIT_MS), "first");
	nu_node_start(&dup, "a", 9, s.ns_port, "");
	nu_log_wait(&dup, "refused: another gateway, started first, serves "
	            "node 'a'", WAIT_MS);
	nu_log_wait(&a, "another gateway claims this node", WAIT_MS);
	ctl_nodes(&dup, out, sizeof(out));
	ck_assert_msg(strstr(out, "refused") != NULL, "roostctl nodes:\n%s",
	              out);
	nu_actor(&dup, "gateway", &gw, &restarts);
	ck_assert_uint_eq(restarts, 0);
	echo_call(cb, nu_whereis_wait(cb, "echo@a", WAIT_MS), "still a");
	ck_assert_int_eq(roost_ctx_close(cb), 0);
	nu_node_stop(&dup);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

START_TEST(test_gateway_kill9_restarted)
{
	struct nu_server s;
	struct nu_node a, b;
	roost_ctx_t *ca;
	pid_t gw, now;
	uint32_t restarts;

	two_nodes_start(&s, &a, &b);
	ca = nu_node_open(&a, NULL);
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "before");
	nu_actor(&a, "gateway", &gw, &restarts);
	ck_assert_uint_eq(restarts, 0);
	ck_assert_int_eq(kill(gw, SIGKILL), 0);
	do {
		nu_actor(&a, "gateway", &now, &restarts);
		usleep(2000);
	} while (now == gw);
	ck_assert_uint_eq(restarts, 1);
	/* The restarted gateway has the same address: lookups and calls go
	 * on (once it has heard node b again). */
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "after");
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

START_TEST(test_gateway_wrong_password)
{
	static const char *const auth[] = {"--user", "roost", "--pass",
	                                   "right", NULL};
	struct nu_server s;
	struct nu_node a;
	roost_ctx_t *ca;
	roost_aid_t aid;
	pid_t gw;
	uint32_t restarts;
	char out[2048];

	nu_server_start(&s, auth);
	nu_node_start(&a, "a", 1, s.ns_port,
	              "user = roost\npassword = wrong\n");
	/* A clear error, retried with back-off, never a crash loop. */
	nu_log_wait(&a, "Authorization Violation", WAIT_MS);
	nu_log_wait(&a, "(attempt 3)", WAIT_MS);
	nu_actor(&a, "gateway", &gw, &restarts);
	ck_assert_uint_eq(restarts, 0);
	/* The node keeps working locally; other nodes are -ENOTCONN. */
	ca = nu_node_open(&a, NULL);
	ck_assert_int_eq(roost_whereis(ca, "echo", &aid), 0);
	echo_call(ca, aid, "local");
	ck_assert_int_eq(roost_whereis(ca, "echo@b", &aid), -ENOTCONN);
	ctl_nodes(&a, out, sizeof(out));
	ck_assert_msg(strstr(out, "cannot connect") != NULL &&
	              strstr(out, "Authorization Violation") != NULL,
	              "roostctl nodes:\n%s", out);
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	nu_node_stop(&a);
	nu_server_stop(&s);
}
END_TEST

/* Publish 'len' bytes on 'subject' with a plain libnats connection. */
static void
publish(natsConnection *nc, const char *subject, const void *data, int len)
{
	ck_assert_int_eq(natsConnection_Publish(nc, subject, data, len),
	                 NATS_OK);
}

/* gateway/wire.h: the head's size and version, and the types used. */
enum { HEAD = 48, VERSION = 2, T_MSG = 1, T_HELLO = 5 };

/* A frame head (gateway/wire.h) with the given fields (a user-lane MSG
 * gets sequence number 1). */
static void
frame(uint8_t *buf, uint8_t version, uint8_t type, uint64_t to,
      uint32_t size)
{
	uint64_t seq = type == T_MSG;

	memset(buf, 0, HEAD);
	memcpy(buf, "RSTG", 4);
	buf[4] = version;
	buf[5] = type;
	memcpy(buf + 8, &to, 8);
	memcpy(buf + 36, &size, 4);
	memcpy(buf + 40, &seq, 8);
}

/* A MSG frame (gateway/wire.h) from 'from' to 'to', kind 'kind',
 * sequence number 'seq'. */
static void
msg_frame(uint8_t *buf, uint64_t to, uint64_t from, uint32_t kind,
          uint64_t seq)
{
	frame(buf, VERSION, T_MSG, to, 0);
	memcpy(buf + 16, &from, 8);
	memcpy(buf + 32, &kind, 4);
	memcpy(buf + 40, &seq, 8);
}

/* Say HELLO as node 'name' (id 'id') on 'nc', as a gateway would. */
static void
hello_as(natsConnection *nc, const char *subject, const char *name,
         uint16_t id)
{
	uint8_t buf[HEAD + 32];
	uint64_t from = (uint64_t)id << 16;
	size_t len = strlen(name);

	frame(buf, VERSION, T_HELLO, 1, (uint32_t)len);
	memcpy(buf + 16, &from, 8);
	buf[24] = 1;                    /* its instance id */
	memcpy(buf + HEAD, name, len);
	publish(nc, subject, buf, (int)(HEAD + len));
}

START_TEST(test_gateway_garbage_dropped)
{
	struct nu_server s;
	struct nu_node a, b;
	natsConnection *nc = NULL;
	roost_ctx_t *cb;
	uint8_t junk[300];
	char url[64];
	pid_t gw, now;
	uint32_t restarts;
	uint64_t to_c = (5ull << 32) | (3ull << 16) | 5;
	uint64_t from_c = (1ull << 32) | (3ull << 16) | 7;
	uint64_t sink_at_a;
	roost_ctx_t *sink;
	roost_msg_t *m;

	two_nodes_start(&s, &a, &b);
	sink = nu_node_open(&a, "sink");
	sink_at_a = roost_self(sink).id | (1ull << 16);
	cb = nu_node_open(&b, NULL);
	echo_call(cb, nu_whereis_wait(cb, "echo@a", WAIT_MS), "before");
	nu_actor(&a, "gateway", &gw, &restarts);

	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", s.ns_port);
	ck_assert_int_eq(natsConnection_ConnectTo(&nc, url), NATS_OK);
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 7 + 3);
	publish(nc, "roost.node.a.usr.b", junk, sizeof(junk)); /* 1 */
	publish(nc, "roost.node.a.ctl.b", junk, 3);            /* 2 */
	publish(nc, "roost.nodes.b.2", junk, sizeof(junk));    /* 3 */
	frame(junk, 9, T_MSG, to_c, 0);
	publish(nc, "roost.node.a.usr.b", junk, HEAD);         /* 4 version */
	frame(junk, VERSION, T_MSG, to_c, 100);
	publish(nc, "roost.node.a.usr.b", junk, HEAD);         /* 5 size */
	frame(junk, VERSION, 77, to_c, 0);
	publish(nc, "roost.node.a.ctl.b", junk, HEAD);         /* 6 type */
	msg_frame(junk, to_c, to_c, KIND_SEQ, 1);
	publish(nc, "roost.node.a.usr.b", junk, HEAD);         /* 7 not a's */
	ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);

	nu_log_wait(&a, "(7 so far)", WAIT_MS);

	/* A node c whose user frames 3 and 4 never came: a counts them
	 * lost in flight, and delivers 1, 2 and 5. */
	hello_as(nc, "roost.nodes.c.3", "c", 3);
	nu_log_wait(&a, "node 'c' (id 3) is up", WAIT_MS);
	for (uint64_t seq = 1; seq <= 5; seq++) {
		if (seq == 3 || seq == 4)
			continue;
		msg_frame(junk, sink_at_a, from_c, KIND_SEQ, seq);
		publish(nc, "roost.node.a.usr.c", junk, HEAD);
	}
	ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(roost_recv(sink, &m, WAIT_MS), 0);
		ck_assert_uint_eq(roost_msg_from(m).id, from_c);
	}
	nu_log_wait(&a, "2 frames from node 3 lost in flight", WAIT_MS);
	ck_assert_int_eq(ctl_nodes_int(&a, "lost_in_flight"), 2);
	natsConnection_Destroy(nc);
	nu_actor(&a, "gateway", &now, &restarts);
	ck_assert_int_eq(now, gw);
	ck_assert_uint_eq(restarts, 0);
	echo_call(cb, nu_whereis_wait(cb, "echo@a", WAIT_MS), "after");
	ck_assert_int_eq(roost_ctx_close(cb), 0);
	ck_assert_int_eq(roost_ctx_close(sink), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

/* Links across nodes, both ways: a's context linked to b's echo gets
 * EXIT when it is killed; a's echo linked (by itself) to b's context
 * sends that context EXIT when it is killed; a link to b's gateway
 * ends with EXIT noconnection when that gateway is killed. */
START_TEST(test_gateway_link)
{
	struct nu_server s;
	struct nu_node a, b;
	roost_ctx_t *ca, *cb;
	roost_aid_t echo_b, echo_a, gw_b, local;
	roost_notice_t n;
	roost_msg_t *r;
	int32_t rc;
	pid_t gw;
	uint32_t restarts;

	two_nodes_start(&s, &a, &b);
	ca = nu_node_open(&a, NULL);
	cb = nu_node_open(&b, NULL);
	echo_b = nu_whereis_wait(ca, "echo@b", WAIT_MS);
	echo_a = nu_whereis_wait(cb, "echo@a", WAIT_MS);
	gw_b = nu_whereis_wait(ca, "gateway@b", WAIT_MS);
	/* Linked, unlinked, linked again: one link, so one EXIT (two
	 * links would give two: the next notice after it is gw_b's). */
	ck_assert_int_eq(roost_link(ca, echo_b), 0);
	ck_assert_int_eq(roost_unlink(ca, echo_b), 0);
	ck_assert_int_eq(roost_link(ca, echo_b), 0);
	ck_assert_int_eq(roost_link(ca, gw_b), 0);
	/* In place at b once a system-lane call has gone the same way. */
	ck_assert_int_eq(roost_call(ca, echo_b, KIND_ECHO, ROOST_SEND_SYSTEM,
	                            "w", 1, WAIT_MS, &r), 0);
	ck_assert_int_eq(roost_whereis(cb, "echo", &local), 0);
	ck_assert_int_eq(roost_kill(cb, local), 0);
	next_notice(ca, ROOST_KIND_EXIT, &n);
	ck_assert_uint_eq(n.ref, 0);
	ck_assert_uint_eq(n.aid.id, echo_b.id);
	ck_assert_int_eq(n.reason, ROOST_EXIT_KILLED);

	/* The other way: a's echo links to b's context, then ends. */
	ck_assert_int_eq(roost_call(cb, echo_a, KIND_LINK_ME, ROOST_SEND_SYSTEM,
	                            NULL, 0, WAIT_MS, &r), 0);
	ck_assert_uint_eq(roost_msg_size(r), sizeof(rc));
	memcpy(&rc, roost_msg_data(r), sizeof(rc));
	ck_assert_int_eq(rc, 0);
	ck_assert_int_eq(roost_whereis(ca, "echo", &local), 0);
	ck_assert_int_eq(roost_kill(ca, local), 0);
	next_notice(cb, ROOST_KIND_EXIT, &n);
	ck_assert_uint_eq(n.ref, 0);
	ck_assert_uint_eq(n.aid.id, echo_a.id);
	ck_assert_int_eq(n.reason, ROOST_EXIT_KILLED);

	/* b's gateway lost: the link to it ends with noconnection. */
	nu_actor(&b, "gateway", &gw, &restarts);
	ck_assert_int_eq(kill(gw, SIGKILL), 0);
	next_notice(ca, ROOST_KIND_EXIT, &n);
	ck_assert_uint_eq(n.aid.id, gw_b.id);
	ck_assert_int_eq(n.reason, ROOST_EXIT_NOCONNECTION);

	ck_assert_int_eq(roost_ctx_close(cb), 0);
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	two_nodes_stop(&s, &a, &b);
}
END_TEST

/* One node's NATS user, with the permissions docs/distribution.md
 * gives a node: publish only on subjects naming it as the sender. */
static void
node_user(FILE *f, const char *node, unsigned id)
{
	fprintf(f, "{user: %s, password: pw%s, permissions: {"
	        "publish: [\"roost.nodes.%s.%u\", \"roost.node.*.usr.%s\", "
	        "\"roost.node.*.ctl.%s\"], "
	        "subscribe: [\"roost.nodes.*.*\", \"roost.node.%s.usr.*\", "
	        "\"roost.node.%s.ctl.*\"]}}\n",
	        node, node, node, id, node, node, node, node);
}


/* Nodes a and b with a NATS user each (publish only as themselves). A
 * rogue with b's credentials tries to pass as a: on a's subjects the
 * server refuses it; on b's own subjects with a's sender address (or a
 * HELLO naming a) a's gateway refuses and counts it. The first message
 * a's actor gets is b's real one. */
START_TEST(test_gateway_forgery)
{
	char conf[64];
	const char *args[] = {"-c", conf, NULL};
	struct nu_server s;
	struct nu_node a, b;
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	roost_ctx_t *sink, *cb;
	roost_aid_t echo_a, at_a;
	roost_msg_t *m;
	uint8_t buf[64];
	char url[64];
	char out[2048];
	uint64_t to, as_a;
	FILE *f;

	snprintf(conf, sizeof(conf), "/tmp/roost-nats-%d.conf", (int)getpid());
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "authorization {\nusers = [\n");
	node_user(f, "a", 1);
	node_user(f, "b", 2);
	fprintf(f, "]\n}\n");
	fclose(f);
	nu_server_start(&s, args);
	nu_node_start(&a, "a", 1, s.ns_port, "user = a\npassword = pwa\n");
	nu_node_start(&b, "b", 2, s.ns_port, "user = b\npassword = pwb\n");
	sink = nu_node_open(&a, "sink");
	cb = nu_node_open(&b, NULL);
	at_a = nu_whereis_wait(cb, "sink@a", WAIT_MS);
	echo_a = nu_whereis_wait(cb, "echo@a", WAIT_MS);
	echo_call(cb, echo_a, "honest");

	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", s.ns_port);
	ck_assert_int_eq(natsOptions_Create(&o), NATS_OK);
	ck_assert_int_eq(natsOptions_SetURL(o, url), NATS_OK);
	ck_assert_int_eq(natsOptions_SetUserInfo(o, "b", "pwb"), NATS_OK);
	ck_assert_int_eq(natsConnection_Connect(&nc, o), NATS_OK);
	to = at_a.id;
	as_a = echo_a.id;               /* a's echo, node bits 1 */
	msg_frame(buf, to, as_a, KIND_SEQ, 1);
	/* Refused by the server: b may not publish as a. */
	publish(nc, "roost.node.a.usr.a", buf, HEAD);
	publish(nc, "roost.node.a.ctl.a", buf, HEAD);
	/* Refused by a's gateway: b's subject, a's sender address. */
	publish(nc, "roost.node.a.usr.b", buf, HEAD);
	/* A HELLO naming node a (id 9) on b's subject. */
	hello_as(nc, "roost.nodes.b.2", "a", 2);
	/* b's name with another id: b may not publish there. */
	hello_as(nc, "roost.nodes.b.9", "b", 9);
	ck_assert_int_eq(natsConnection_Flush(nc), NATS_OK);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	/* Two subscriptions, two threads: in either order. */
	nu_log_wait(&a, "refused a forged frame on roost.node.a.usr.b: sender "
	            "address of another node", WAIT_MS);
	nu_log_wait(&a, "refused a forged frame on roost.nodes.b.2: hello of "
	            "another node", WAIT_MS);

	/* b's real message is the first the sink gets. */
	ck_assert_int_eq(roost_send(cb, at_a, KIND_DONE, NULL, 0, WAIT_MS), 0);
	ck_assert_int_eq(roost_recv(sink, &m, WAIT_MS), 0);
	ck_assert_uint_eq(roost_msg_kind(m), KIND_DONE);
	ck_assert_uint_eq(roost_aid_node(roost_msg_from(m)), 2);
	ctl_nodes(&a, out, sizeof(out));
	ck_assert_msg(strstr(out, "forged 2") != NULL, "roostctl nodes:\n%s",
	              out);
	ck_assert_int_eq(roost_ctx_close(cb), 0);
	ck_assert_int_eq(roost_ctx_close(sink), 0);
	two_nodes_stop(&s, &a, &b);
	unlink(conf);
}
END_TEST

/* Credentials files (decentralized auth: an operator and an account the
 * test signs, nats_creds.c): gateways with a user of the account call
 * each other; one with a user of an unknown account is refused and
 * retries. */
START_TEST(test_gateway_creds)
{
	char dir[] = "/tmp/roost-creds-XXXXXX";
	char conf[64], creds[96], rogue[96], rm[64];
	const char *args[] = {"-c", conf, NULL};
	struct nu_server s;
	struct nu_node a, b, c;
	roost_ctx_t *ca;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	nu_creds_make(dir);
	snprintf(conf, sizeof(conf), "%s/server.conf", dir);
	snprintf(creds, sizeof(creds), "creds = %s/node.creds\n", dir);
	snprintf(rogue, sizeof(rogue), "creds = %s/rogue.creds\n", dir);
	nu_server_start(&s, args);
	nu_node_start(&a, "a", 1, s.ns_port, creds);
	nu_node_start(&b, "b", 2, s.ns_port, creds);
	ca = nu_node_open(&a, NULL);
	echo_call(ca, nu_whereis_wait(ca, "echo@b", WAIT_MS), "with creds");
	ck_assert_int_eq(roost_ctx_close(ca), 0);
	nu_node_start(&c, "c", 3, s.ns_port, rogue);
	nu_log_wait(&c, "Authorization Violation", WAIT_MS);
	nu_node_stop(&c);
	two_nodes_stop(&s, &a, &b);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	ck_assert_int_eq(system(rm), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("gateway");

	suite_add_tcase(s, tu_tcase("call", test_gateway_call, 60));
	suite_add_tcase(s, tu_tcase("stream", test_gateway_stream_in_order,
	                            120));
	suite_add_tcase(s, tu_tcase("down", test_gateway_node_down_and_back,
	                            60));
	suite_add_tcase(s, tu_tcase("three", test_gateway_three_nodes, 60));
	suite_add_tcase(s, tu_tcase("cluster", test_gateway_cluster, 60));
	suite_add_tcase(s, tu_tcase("restart", test_gateway_server_restart,
	                            60));
	suite_add_tcase(s, tu_tcase("tls", test_gateway_tls, 60));
	suite_add_tcase(s, tu_tcase("monitor", test_gateway_monitor, 60));
	suite_add_tcase(s, tu_tcase("duplicate", test_gateway_duplicate_node,
	                            60));
	suite_add_tcase(s, tu_tcase("kill9", test_gateway_kill9_restarted, 60));
	suite_add_tcase(s, tu_tcase("password", test_gateway_wrong_password,
	                            60));
	suite_add_tcase(s, tu_tcase("garbage", test_gateway_garbage_dropped,
	                            60));
	suite_add_tcase(s, tu_tcase("forgery", test_gateway_forgery, 60));
	suite_add_tcase(s, tu_tcase("link", test_gateway_link, 60));
	suite_add_tcase(s, tu_tcase("creds", test_gateway_creds, 60));
	return tu_run(s);
}
