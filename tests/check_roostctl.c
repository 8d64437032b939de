/* SPDX-License-Identifier: MIT */
/*
 * check_roostctl.c - the real roostctl binary (ROOSTCTL_BIN) against a
 * real roostd running the echo actor: its output (text, and --json read
 * back with jansson) and its exit codes for every verb and every class
 * of error, including a mailbox scribbled on in /dev/shm. One test runs
 * inspect and ls in a tight loop while four producers feed a consumer,
 * which checks that every message arrives once and in order: looking
 * never disturbs. metrics is checked by promtool (Debian's prometheus
 * package) and against the state it shows: queue depths, counters that
 * grow while messages flow, restarts.
 */
#include "roostd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <msgpack.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* roostctl's exit codes (tools/roostctl.h, docs/roostctl.1). */
enum {
	XC_OK = 0,
	XC_USAGE = 1,
	XC_NOSYS = 2,
	XC_STALE = 3,
	XC_NOACTOR = 4,
	XC_CORRUPT = 5,
	XC_BADJSON = 6,
	XC_PERM = 7,
	XC_NOROOSTD = 8,
	XC_TIMEOUT = 9,
	XC_FAILED = 10
};

#define OUT_MAX (4u << 20)

static char *out; /* stdout of the last run */
static char *err; /* stderr of the last run */

/*
 * Run roostctl with 'argv' (after the binary's name; --system SYS is
 * put first when 'sys' is not NULL), capture its stdout and stderr, and
 * return its exit status (128+signal if killed, -1 if it hung for 30
 * s). Never asserts, so helpers may call it too.
 */
static int
run_argv(const char *sys, const char *const *argv)
{
	const char *args[64];
	struct pollfd p[2];
	size_t got[2] = {0, 0};
	char *buf[2];
	int po[2], pe[2];
	int n = 0;
	int i;
	ssize_t r;
	pid_t pid;

	if (out == NULL) {
		out = malloc(OUT_MAX);
		err = malloc(OUT_MAX);
		if (out == NULL || err == NULL)
			return -1;
	}
	buf[0] = out;
	buf[1] = err;
	args[n++] = ROOSTCTL_BIN;
	if (sys != NULL) {
		args[n++] = "--system";
		args[n++] = sys;
	}
	for (i = 0; argv[i] != NULL && n < 62; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	if (pipe(po) < 0 || pipe(pe) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(po[1], 1);
		dup2(pe[1], 2);
		close(po[0]);
		close(pe[0]);
		execv(ROOSTCTL_BIN, (char *const *)args);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	p[0].fd = po[0];
	p[1].fd = pe[0];
	p[0].events = p[1].events = POLLIN;
	while (p[0].fd >= 0 || p[1].fd >= 0) {
		if (poll(p, 2, 30000) <= 0)
			break;
		for (i = 0; i < 2; i++) {
			if (p[i].fd < 0 ||
			    !(p[i].revents & (POLLIN | POLLHUP)))
				continue;
			r = read(p[i].fd, buf[i] + got[i],
			         OUT_MAX - 1 - got[i]);
			if (r <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
			} else {
				got[i] += (size_t)r;
			}
		}
	}
	for (i = 0; i < 2; i++) {
		if (p[i].fd >= 0)
			close(p[i].fd);
		buf[i][got[i]] = '\0';
	}
	return tu_wait(pid, 30000);
}

/* run_argv with the arguments as a NULL-terminated list. */
static int
run_sys(const char *sys, ...)
{
	const char *argv[60];
	va_list ap;
	int n = 0;

	va_start(ap, sys);
	while (n < 59 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	return run_argv(sys, argv);
}

#define ctl(...)         run_sys(rsys, __VA_ARGS__, (const char *)NULL)
#define ctl_on(sys, ...) run_sys(sys, __VA_ARGS__, (const char *)NULL)

/* Assert the exit status of the last run, showing its stderr if not. */
#define expect(run, want)                                                     \
	do {                                                                  \
		int expect_rc_ = (run);                                       \
		ck_assert_msg(expect_rc_ == (want),                           \
		              "roostctl exited %d, "                          \
		              "wanted %d; stderr: %s",                        \
		              expect_rc_, (want), err);                       \
	} while (0)

static json_t *
parse_out(void)
{
	json_error_t e;
	json_t *j = json_loads(out, JSON_DECODE_ANY, &e);

	ck_assert_msg(j != NULL, "roostctl's JSON does not parse (%s): %s",
	              e.text, out);
	return j;
}

/* The actor named 'name' in an ls --json document, or NULL. */
static json_t *
actor_in(json_t *ls, const char *name)
{
	json_t *a;
	size_t i;

	json_array_foreach(json_object_get(ls, "actors"), i, a)
	{
		json_t *n = json_object_get(a, "name");

		if (json_is_string(n) &&
		    strcmp(json_string_value(n), name) == 0)
			return a;
	}
	return NULL;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_string(v), "field %s is not a string", key);
	return json_string_value(v);
}

static json_int_t
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	ck_assert_msg(json_is_integer(v), "field %s is not an integer", key);
	return json_integer_value(v);
}

/* Feed the last output to `promtool check metrics` (Debian's prometheus
 * package; scripts/deps.sh installs it): its exit status, 0 when it
 * parses and passes promtool's lint. promtool's own messages go to the
 * test's output. */
static int
promtool_check(void)
{
	static char *const argv[] = {"promtool", "check", "metrics", NULL};

	return tu_run_with_input(argv, out);
}

/* The value of 'metric' in the last metrics output: the sample of the
 * actor named 'actor', or the system's own when 'actor' is NULL; -1
 * when there is no such sample. */
static double
metric_value(const char *metric, const char *actor)
{
	char key[256];
	const char *p;

	if (actor != NULL)
		snprintf(key, sizeof(key), "\n%s{system=\"%s\",actor=\"%s\",",
		         metric, rsys, actor);
	else
		snprintf(key, sizeof(key), "\n%s{system=\"%s\"} ", metric,
		         rsys);
	p = strstr(out, key);
	if (p == NULL)
		return -1;
	p = strchr(p + 1, '\n');
	ck_assert_ptr_nonnull(p);
	while (*--p != ' ')
		;
	return strtod(p + 1, NULL);
}

static roost_ctx_t *
open_named(const char *sys, const char *name, uint32_t mbox_bytes)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	int rc;

	roost_ctx_opts_init(&o);
	o.system = sys;
	o.name = name;
	o.mbox_bytes = mbox_bytes;
	rc = roost_ctx_open(&ctx, &o);
	if (rc < 0)
		tu_fail("open %s: %s", name ? name : "-", roost_strerror(rc));
	return ctx;
}

static const char echo_config[] =
    "[system]\nslots = 32\nmailbox_bytes = 65536\n\n"
    "[actor echo]\nprogram = %s\nargs = --forward sink\n"
    "restart = permanent\nshutdown_timeout_ms = 1000\n";

/* The same with one shared user lane per mailbox: tests that scribble
 * the locked lane's records and tail, where its senders write. */
static const char echo_config_shared[] =
    "[system]\nslots = 32\nmailbox_bytes = 65536\nprivate_lanes = 0\n\n"
    "[actor echo]\nprogram = %s\nargs = --forward sink\n"
    "restart = permanent\nshutdown_timeout_ms = 1000\n";

static pid_t
start_system(const char *config)
{
	pid_t rd;

	ru_setup_names();
	ru_write_config(config);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	return rd;
}

static pid_t
start_echo_system(void)
{
	return start_system(echo_config);
}

/* Wait until the echo actor is registered (it starts after roostd). */
static void
wait_echo(void)
{
	int i;

	for (i = 0; i < 500; i++) {
		if (ctl("inspect", "echo") == XC_OK)
			return;
		usleep(10000);
	}
	ck_abort_msg("echo never came up: %s", err);
}

START_TEST(test_roostctl_ls)
{
	json_t *j, *a, *sys, *mb;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	expect(ctl("ls"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "NAME"));
	ck_assert_ptr_nonnull(strstr(out, "echo"));
	ck_assert_ptr_nonnull(strstr(out, "deadletters"));
	ck_assert_ptr_nonnull(strstr(out, "running"));
	ck_assert_ptr_nonnull(strstr(out, "live"));
	expect(ctl("--json", "ls", "--rate-ms", "50"), XC_OK);
	j = parse_out();
	sys = json_object_get(j, "system");
	ck_assert_str_eq(jstr(sys, "name"), rsys);
	ck_assert_str_eq(jstr(sys, "state"), "live");
	ck_assert_int_eq(jint(sys, "roostd_pid"), rd);
	ck_assert(json_is_true(json_object_get(sys, "supervised")));
	a = actor_in(j, "echo");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(jstr(a, "state"), "running");
	ck_assert_str_eq(jstr(a, "restart"), "permanent");
	ck_assert_int_eq(jint(a, "restarts"), 0);
	ck_assert(json_is_true(json_object_get(a, "roostd")));
	ck_assert(json_is_true(json_object_get(a, "supervised")));
	ck_assert_int_gt(jint(a, "pid"), 0);
	ck_assert(json_is_number(json_object_get(a, "rate")));
	mb = json_object_get(a, "mailbox");
	ck_assert_str_eq(jstr(mb, "state"), "open");
	ck_assert_int_gt(jint(mb, "capacity"), 0);
	ck_assert_ptr_nonnull(actor_in(j, "roostd"));
	ck_assert(
	    json_is_null(json_object_get(actor_in(j, "roostd"), "restarts")));
	json_decref(j);
	/* --json goes after the verb too; --help lists the exit codes. */
	expect(ctl("ls", "--json", "--rate-ms", "0"), XC_OK);
	json_decref(parse_out());
	expect(ctl("--help"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "2 no such system"));
	ck_assert_ptr_nonnull(strstr(out, "5 corrupted"));
	expect(ctl("version"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "roostctl 0."));
	ru_stop_roostd(rd);
}
END_TEST

/* Pack 'j' (JSON text) the way roostctl should. */
static size_t
pack_expected(const char *text, char *buf, size_t len)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	size_t n;

	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	if (strcmp(text, "{\"hello\":\"world\",\"n\":3}") == 0) {
		msgpack_pack_map(&pk, 2);
		msgpack_pack_str_with_body(&pk, "hello", 5);
		msgpack_pack_str_with_body(&pk, "world", 5);
		msgpack_pack_str_with_body(&pk, "n", 1);
		msgpack_pack_int(&pk, 3);
	}
	n = sb.size < len ? sb.size : len;
	memcpy(buf, sb.data, n);
	msgpack_sbuffer_destroy(&sb);
	return n;
}

START_TEST(test_roostctl_inspect)
{
	roost_ctx_t *box, *snd;
	json_t *j, *msgs, *m, *p;
	pid_t rd;

	rd = start_echo_system();
	/* A mailbox nobody reads: what is sent stays queued. */
	box = open_named(rsys, "box", 65536);
	snd = open_named(rsys, "sender", 0);
	ck_assert_int_eq(roost_kind_register(snd, 7, "greeting"), 0);
	expect(ctl("send", "box", "greeting", "{\"a\":[1,2],\"s\":\"x\"}"),
	       XC_OK);
	expect(ctl("send", "box", "8", "--raw", "hello"), XC_OK);
	ck_assert_int_eq(
	    roost_send(snd, roost_self(box), 9, "\x01\x02", 2, 1000), 0);
	expect(ctl("send", "box", "10", "--system-lane",
	           "[1,{\"$bin\":\"00ff\"}]"),
	       XC_OK);
	/* Text: decoded MessagePack, hex and ASCII, names. */
	expect(ctl("inspect", "box"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "{\"a\":[1,2],\"s\":\"x\"}"));
	ck_assert_ptr_nonnull(strstr(out, "68 65 6c 6c 6f |hello|"));
	ck_assert_ptr_nonnull(strstr(out, "greeting"));
	ck_assert_ptr_nonnull(strstr(out, "sender("));
	ck_assert_ptr_nonnull(strstr(out, "user lane: 3 message(s)"));
	ck_assert_ptr_nonnull(strstr(out, "system lane: 1 message(s)"));
	/* JSON: system lane first, then the user lane, oldest first. */
	expect(ctl("--json", "inspect", "box"), XC_OK);
	j = parse_out();
	ck_assert_str_eq(jstr(json_object_get(j, "actor"), "name"), "box");
	ck_assert_int_eq(
	    jint(json_object_get(json_object_get(j, "mailbox"), "counters"),
	         "queued"),
	    4);
	msgs = json_object_get(j, "messages");
	ck_assert_uint_eq(json_array_size(msgs), 4);
	m = json_array_get(msgs, 0);
	ck_assert_str_eq(jstr(m, "lane"), "system");
	ck_assert_int_eq(jint(m, "kind"), 10);
	p = json_object_get(m, "payload");
	ck_assert_str_eq(jstr(json_array_get(p, 1), "$bin"), "00ff");
	m = json_array_get(msgs, 1);
	ck_assert_str_eq(jstr(m, "lane"), "user");
	ck_assert_int_eq(jint(m, "kind"), 7);
	ck_assert_str_eq(jstr(m, "kind_name"), "greeting");
	ck_assert_str_eq(jstr(m, "encoding"), "msgpack");
	p = json_object_get(m, "payload");
	ck_assert_str_eq(jstr(p, "s"), "x");
	ck_assert_int_eq(
	    json_integer_value(json_array_get(json_object_get(p, "a"), 1)), 2);
	ck_assert_int_eq(json_array_size(json_object_get(m, "flags")), 1);
	m = json_array_get(msgs, 2);
	ck_assert_str_eq(jstr(m, "encoding"), "raw");
	ck_assert_str_eq(jstr(m, "hex"), "68656c6c6f");
	ck_assert_str_eq(jstr(m, "ascii"), "hello");
	ck_assert(json_is_null(json_object_get(m, "from_name")));
	m = json_array_get(msgs, 3);
	ck_assert_str_eq(jstr(m, "from_name"), "sender");
	ck_assert_str_eq(jstr(m, "hex"), "0102");
	ck_assert_int_lt(jint(json_array_get(msgs, 1), "seq"),
	                 jint(json_array_get(msgs, 2), "seq"));
	json_decref(j);
	/* --limit and --lane. */
	expect(
	    ctl("--json", "inspect", "box", "--limit", "1", "--lane", "user"),
	    XC_OK);
	j = parse_out();
	ck_assert_uint_eq(json_array_size(json_object_get(j, "messages")), 1);
	ck_assert(json_is_true(json_object_get(
	    json_object_get(
	        json_object_get(json_object_get(j, "mailbox"), "lanes"),
	        "user"),
	    "truncated")));
	json_decref(j);
	/* By address, too; and the queue is still all there (looking took
	 * nothing). */
	{
		char addr[32];
		roost_mbox_stats_t st;

		snprintf(addr, sizeof(addr), "%u.%u",
		         roost_aid_slot(roost_self(box)),
		         roost_aid_gen(roost_self(box)));
		expect(ctl("inspect", addr, "--full"), XC_OK);
		ck_assert_ptr_nonnull(strstr(out, "00000000  68 65 6c 6c 6f"));
		ck_assert_int_eq(roost_mbox_stats(snd, roost_self(box), &st),
		                 0);
		ck_assert_uint_eq(st.queued, 4);
		ck_assert_uint_eq(st.dequeued, 0);
	}
	/* Hostile MessagePack: a map32 claiming 2^32 entries in 5 bytes,
	 * and a string that is not UTF-8. Shown, never trusted. */
	ck_assert_int_eq(roost_send_ex(snd, roost_self(box), 11,
	                               ROOST_SEND_MSGPACK, 0,
	                               "\xdf\xff\xff\xff\xff", 5, 1000),
	                 0);
	ck_assert_int_eq(roost_send_ex(snd, roost_self(box), 12,
	                               ROOST_SEND_MSGPACK, 0, "\xa2\xff\xfe", 3,
	                               1000),
	                 0);
	expect(ctl("--json", "inspect", "box", "--lane", "user"), XC_OK);
	j = parse_out();
	msgs = json_object_get(j, "messages");
	ck_assert_uint_eq(json_array_size(msgs), 5);
	m = json_array_get(msgs, 3);
	ck_assert_str_eq(jstr(m, "hex"), "dfffffffff");
	ck_assert(json_is_string(json_object_get(m, "payload_error")));
	m = json_array_get(msgs, 4);
	ck_assert_str_eq(jstr(json_object_get(m, "payload"), "$strhex"),
	                 "fffe");
	json_decref(j);
	expect(ctl("inspect", "box"), XC_OK);
	ck_assert_int_eq(roost_ctx_close(snd), 0);
	ck_assert_int_eq(roost_ctx_close(box), 0);
	ru_stop_roostd(rd);
}
END_TEST

static bool
is_kind(const roost_msg_t *m, void *arg)
{
	return roost_msg_kind(m) == *(uint32_t *)arg;
}

START_TEST(test_roostctl_send_call)
{
	roost_ctx_t *sink;
	roost_msg_t *m;
	uint32_t kind = 1234;
	char want[64];
	size_t n;
	json_t *j, *r;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	/* The echo actor forwards kinds >= 1000 to "sink": sent by hand,
	 * handled, and its payload is the JSON as MessagePack. */
	sink = open_named(rsys, "sink", 0);
	expect(ctl("send", "echo", "1234", "{\"hello\":\"world\",\"n\":3}"),
	       XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "sent 1234"));
	ck_assert_int_eq(
	    roost_recv_match(sink, &m, ROOST_LANE_ANY, is_kind, &kind, 10000),
	    0);
	n = pack_expected("{\"hello\":\"world\",\"n\":3}", want, sizeof(want));
	ck_assert_uint_eq(roost_msg_size(m), n);
	ck_assert_int_eq(memcmp(roost_msg_data(m), want, n), 0);
	/* call prints the reply, decoded. */
	expect(ctl("call", "echo", "1", "{\"n\":42}"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "{\"n\":42}"));
	ck_assert_ptr_nonnull(strstr(out, "reply 100 from echo("));
	expect(ctl("--json", "call", "echo", "1", "[true,null,-1.5]"), XC_OK);
	j = parse_out();
	r = json_object_get(j, "reply");
	ck_assert_int_eq(jint(r, "kind"), KIND_REPLY);
	ck_assert_str_eq(jstr(r, "from_name"), "echo");
	ck_assert(
	    json_is_true(json_array_get(json_object_get(r, "payload"), 0)));
	ck_assert(json_real_value(json_array_get(json_object_get(r, "payload"),
	                                         2)) == -1.5);
	json_decref(j);
	expect(ctl("call", "echo", "1", "--raw", "abc"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "61 62 63 |abc|"));
	/* PID is answered without roost_reply: the call times out. */
	expect(ctl("call", "echo", "6", "--timeout", "200"), XC_TIMEOUT);
	ck_assert_ptr_nonnull(strstr(err, "no reply"));
	ck_assert_int_eq(roost_ctx_close(sink), 0);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_roostctl_spawn_stop_kill)
{
	json_t *j, *a;
	pid_t rd;
	int rc;
	int i;

	rd = start_echo_system();
	expect(
	    ctl("spawn", "--name", "sp", "--restart", "transient", ECHO_BIN),
	    XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "as sp at"));
	expect(ctl("--json", "spawn", "--name", "k", ECHO_BIN, "--stubborn"),
	       XC_OK);
	j = parse_out();
	ck_assert_str_eq(jstr(json_object_get(j, "spawned"), "name"), "k");
	json_decref(j);
	expect(ctl("--json", "ls", "--rate-ms", "0"), XC_OK);
	j = parse_out();
	a = actor_in(j, "sp");
	ck_assert_ptr_nonnull(a);
	ck_assert_str_eq(jstr(a, "restart"), "transient");
	ck_assert_str_eq(jstr(a, "state"), "running");
	json_decref(j);
	/* A graceful stop; then it is gone. */
	expect(ctl("stop", "sp", "--wait", "10000"), XC_OK);
	for (i = 0; i < 200 && ctl("inspect", "sp") == XC_OK; i++)
		usleep(10000);
	expect(ctl("inspect", "sp"), XC_NOACTOR);
	/* kill: at once, for good (k ignores SIGTERM and stops). */
	expect(ctl("kill", "k"), XC_OK);
	for (i = 0; i < 200 && ctl("inspect", "k") == XC_OK; i++)
		usleep(10000);
	expect(ctl("kill", "k"), XC_NOACTOR);
	/* Spawn errors. */
	expect(ctl("spawn", "/nonexistent/program"), XC_FAILED);
	expect(ctl("spawn", "/bin/true"), XC_FAILED);
	ck_assert_ptr_nonnull(strstr(err, "exited before it attached"));
	/* exec: EACCES, "permission denied" (roostd may see the child exit
	 * before it reads the exec's error: then it says -ECHILD). */
	rc = ctl("spawn", "/etc/passwd");
	ck_assert_msg(rc == XC_PERM || rc == XC_FAILED, "spawn: %d", rc);
	expect(ctl("kill", "roostd"), XC_FAILED);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_roostctl_timers)
{
	roost_ctx_t *ctx;
	uint8_t pk[16];
	uint64_t id;
	json_t *j, *arr, *t;
	size_t i;
	int n;
	pid_t rd;

	rd = start_echo_system();
	ctx = open_named(rsys, "owner", 0);
	expect(ctl("timers"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "0 alarm(s)"));
	n = roost_pack(pk, sizeof(pk), "{s:i}", "tick", 7);
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(roost_timer_start(ctx, roost_self(ctx), 60000000,
	                                   30000000, 4242, ROOST_SEND_MSGPACK,
	                                   pk, (size_t)n, &id),
	                 0);
	/* Enough more that the list takes several pages. */
	for (i = 0; i < 150; i++)
		ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx),
		                                  120000000 + i, 77, "raw", 3,
		                                  NULL),
		                 0);
	expect(ctl("--json", "timers"), XC_OK);
	j = parse_out();
	arr = json_object_get(j, "timers");
	ck_assert_uint_eq(json_array_size(arr), 151);
	t = json_array_get(arr, 0); /* the earliest due: ours */
	ck_assert_int_eq(jint(t, "id"), (json_int_t)id);
	ck_assert_int_eq(jint(t, "kind"), 4242);
	ck_assert_str_eq(jstr(t, "to_name"), "owner");
	ck_assert_int_eq(jint(t, "interval_ms"), 30000);
	ck_assert_int_gt(jint(t, "due_in_ms"), 50000);
	ck_assert_int_eq(jint(json_object_get(t, "payload"), "tick"), 7);
	t = json_array_get(arr, 1);
	ck_assert_str_eq(jstr(t, "hex"), "726177");
	json_decref(j);
	expect(ctl("timers"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "151 alarm(s)"));
	ck_assert_ptr_nonnull(strstr(out, "{\"tick\":7}"));
	ck_assert_ptr_nonnull(strstr(out, "owner("));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Poll 'deadletters --json' until 'queued' letters are there and
 * roostd's table (published once per loop turn) counts 'retired'. */
static json_t *
wait_letters(json_int_t queued, json_int_t retired)
{
	json_t *j;
	int i;

	for (i = 0; i < 1000; i++) {
		expect(ctl("--json", "deadletters"), XC_OK);
		j = parse_out();
		if (jint(j, "queued") == queued &&
		    jint(j, "retired") == retired)
			return j;
		json_decref(j);
		usleep(10000);
	}
	ck_abort_msg("dead letters never reached %d", (int)queued);
	return NULL;
}

START_TEST(test_roostctl_deadletters)
{
	json_t *j, *l, *a;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	expect(ctl("deadletters"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "dead letters: 0 queued"));
	/* POISON kills echo twice: the message goes to the dead letters. */
	expect(ctl("send", "echo", "5", "--raw", "xyz"), XC_OK);
	j = wait_letters(1, 1);
	l = json_array_get(json_object_get(j, "letters"), 0);
	ck_assert_str_eq(jstr(l, "to_name"), "echo");
	ck_assert_int_eq(jint(l, "kind"), KIND_POISON);
	ck_assert_str_eq(jstr(l, "hex"), "78797a");
	ck_assert_str_eq(
	    json_string_value(json_array_get(json_object_get(l, "flags"), 0)),
	    "redelivered");
	json_decref(j);
	expect(ctl("deadletters"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "echo("));
	ck_assert_ptr_nonnull(strstr(out, "78 79 7a |xyz|"));
	/* ls: the restarts, the last exit and the letter. */
	expect(ctl("--json", "ls", "--rate-ms", "0"), XC_OK);
	j = parse_out();
	a = actor_in(j, "echo");
	ck_assert_int_eq(jint(a, "restarts"), 2);
	ck_assert_int_eq(jint(a, "deadletters"), 1);
	ck_assert_str_eq(jstr(json_object_get(a, "last_exit"), "reason"),
	                 "signal");
	ck_assert_int_eq(jint(json_object_get(a, "last_exit"), "signal"),
	                 SIGABRT);
	ck_assert_int_eq(jint(json_object_get(j, "system"), "deadletters"), 1);
	json_decref(j);
	expect(ctl("deadletters", "--drain"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "drained 1 dead letter(s)"));
	json_decref(wait_letters(0, 1));
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_roostctl_shutdown)
{
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	expect(ctl("shutdown"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "shut down"));
	ck_assert_int_eq(tu_wait(rd, 30000), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	expect(ctl("ls"), XC_NOSYS);
	ck_assert_ptr_nonnull(strstr(err, "no system"));
	unlink(cfgpath);
}
END_TEST

/* The entry of 'name' in a systems --json document, or NULL. */
static json_t *
system_in(json_t *j, const char *name)
{
	json_t *s;
	size_t i;

	json_array_foreach(json_object_get(j, "systems"), i,
	                   s) if (strcmp(jstr(s, "name"), name) == 0) return s;
	return NULL;
}

/* While roostd waits for a slow actor to attach (its program waits for
 * a gate file the test opens), systems calls the system live, never
 * hung, also past the heartbeat's staleness (2 s). */
START_TEST(test_roostctl_systems_starting)
{
	char script[160];
	char gate[160];
	char config[512];
	struct timespec ts;
	json_int_t age_ms = 0;
	json_t *j, *s;
	FILE *f;
	pid_t rd;
	roost_ctx_t *ctx;

	ru_setup_names();
	snprintf(script, sizeof(script), "%s.slow.sh", cfgpath);
	snprintf(gate, sizeof(gate), "%s.gate", cfgpath);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nwhile [ ! -e %s ]; do sleep 0.05; done\n"
	           "exec %s\n", gate, ECHO_BIN);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0755), 0);
	snprintf(config, sizeof(config), "[actor slow]\nprogram = %s\n; %%s\n",
	         script);
	ru_write_config(config);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	/* Until the system is older than the staleness, with the actor
	 * still starting: live at every look. */
	while (age_ms < 2500) {
		expect(ctl("--json", "systems"), XC_OK);
		j = parse_out();
		s = system_in(j, rsys);
		ck_assert_ptr_nonnull(s);
		ck_assert_msg(strcmp(jstr(s, "state"), "live") == 0,
		              "a starting system is %s after %d ms",
		              jstr(s, "state"), (int)age_ms);
		clock_gettime(CLOCK_REALTIME, &ts);
		age_ms = (json_int_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 -
		         jint(s, "created_unix_ms");
		json_decref(j);
		usleep(50000);
	}
	ctx = ru_open_when_up();
	ck_assert_int_eq(roost_whereis(ctx, "slow", &(roost_aid_t){0}),
	                 -ENOENT);
	f = fopen(gate, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	tu_whereis_wait(ctx, "slow", 10000);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	unlink(gate);
	unlink(script);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_roostctl_systems)
{
	char clean[96];
	json_t *j, *s;
	pid_t rd;

	/* tu_sys exists with nothing attached: stale. rsys runs. */
	rd = start_echo_system();
	expect(ctl("--json", "systems"), XC_OK);
	j = parse_out();
	s = system_in(j, rsys);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(jstr(s, "state"), "live");
	ck_assert(json_is_null(json_object_get(s, "clean")));
	s = system_in(j, tu_sys);
	ck_assert_ptr_nonnull(s);
	ck_assert_str_eq(jstr(s, "state"), "stale");
	snprintf(clean, sizeof(clean), "roostctl --system %s clean", tu_sys);
	ck_assert_str_eq(jstr(s, "clean"), clean);
	json_decref(j);
	expect(ctl("systems"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, clean));
	/* A stale system refuses every verb but clean, with exit 3. */
	expect(ctl_on(tu_sys, "ls"), XC_STALE);
	ck_assert_ptr_nonnull(strstr(err, "stale"));
	ck_assert_ptr_nonnull(strstr(err, clean));
	expect(ctl_on(tu_sys, "inspect", "x"), XC_STALE);
	expect(ctl("clean"), XC_FAILED); /* live: not removed */
	expect(ctl_on(tu_sys, "clean"), XC_OK);
	ck_assert_int_eq(tu_shm_count(tu_sys), 0);
	expect(ctl_on(tu_sys, "ls"), XC_NOSYS);
	ru_stop_roostd(rd);
}
END_TEST

/* roostd killed: the system is orphaned while echo lives (reading works,
 * roostd's verbs do not), stale once echo is gone too, then cleaned. */
START_TEST(test_roostctl_orphaned_then_stale)
{
	json_t *j;
	pid_t rd;
	int echo_pid;
	int i;

	rd = start_echo_system();
	wait_echo();
	expect(ctl("--json", "ls", "--rate-ms", "0"), XC_OK);
	j = parse_out();
	echo_pid = (int)jint(actor_in(j, "echo"), "pid");
	json_decref(j);
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, 10000), 128 + SIGKILL);
	usleep(2200000); /* the heartbeat goes stale after 2 s */
	expect(ctl("--json", "systems"), XC_OK);
	j = parse_out();
	ck_assert_str_eq(jstr(system_in(j, rsys), "state"), "orphaned");
	json_decref(j);
	expect(ctl("ls", "--rate-ms", "0"), XC_OK);
	/* Alarms outlive roostd: read from its table. */
	expect(ctl("timers"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "DUE IN"));
	expect(ctl("spawn", ECHO_BIN), XC_NOROOSTD);
	kill(echo_pid, SIGKILL);
	for (i = 0; i < 500; i++) {
		if (ctl("ls") == XC_STALE)
			break;
		usleep(10000);
	}
	expect(ctl("ls"), XC_STALE);
	expect(ctl("clean"), XC_OK);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	unlink(cfgpath);
}
END_TEST

/* After kill -9 of roostd, shutdown and clean point the same one way
 * out (start roostd, which adopts the actors, then shutdown), never at
 * each other, and that way out works. */
START_TEST(test_roostctl_orphaned_way_out)
{
	const char *state = NULL;
	json_t *j = NULL;
	pid_t rd;
	int i;

	rd = start_echo_system();
	wait_echo();
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, 10000), 128 + SIGKILL);
	/* Orphaned once the heartbeat is stale (2 s): wait for the state. */
	for (i = 0; i < 1000; i++) {
		expect(ctl("--json", "systems"), XC_OK);
		json_decref(j);
		j = parse_out();
		state = jstr(system_in(j, rsys), "state");
		if (strcmp(state, "orphaned") == 0)
			break;
		usleep(10000);
	}
	ck_assert_str_eq(state, "orphaned");
	json_decref(j);
	expect(ctl("shutdown"), XC_NOROOSTD);
	ck_assert_ptr_nonnull(strstr(err, "start roostd for it"));
	ck_assert_ptr_null(strstr(err, "clean"));
	expect(ctl("clean"), XC_FAILED);
	ck_assert_ptr_nonnull(strstr(err, "start roostd for it"));
	ck_assert_ptr_nonnull(strstr(err, "which adopts them; then"));
	/* The way out: roostd again, then shutdown. */
	rd = ru_start_roostd(-1);
	ru_wait_up();
	expect(ctl("shutdown"), XC_OK);
	ck_assert_int_eq(tu_wait(rd, 30000), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	ru_cleanup();
}
END_TEST

START_TEST(test_roostctl_errors)
{
	roost_ctx_t *ctx;
	char shm[128];
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	/* Usage. */
	expect(ctl("frobnicate"), XC_USAGE);
	expect(ctl("inspect"), XC_USAGE);
	expect(ctl("send", "echo"), XC_USAGE);
	expect(ctl("inspect", "echo", "--limit", "many"), XC_USAGE);
	expect(ctl("send", "echo", "nosuchkind"), XC_USAGE);
	expect(run_sys(NULL, (const char *)NULL), XC_USAGE);
	/* Unknown actor, by name and by address. */
	expect(ctl("inspect", "nobody"), XC_NOACTOR);
	ck_assert_ptr_nonnull(strstr(err, "no actor 'nobody'"));
	expect(ctl("send", "nobody", "1"), XC_NOACTOR);
	expect(ctl("inspect", "31.999"), XC_NOACTOR);
	expect(ctl("stop", "@7.7"), XC_NOACTOR);
	/* No such system. */
	expect(ctl_on("no-such-system", "ls"), XC_NOSYS);
	expect(ctl_on("bad.name", "ls"), XC_USAGE);
	/* Bad JSON: nothing is sent. */
	expect(ctl("send", "echo", "1", "{\"a\":"), XC_BADJSON);
	ck_assert_ptr_nonnull(strstr(err, "bad JSON"));
	expect(ctl("call", "echo", "1", "[1,2"), XC_BADJSON);
	expect(ctl("send", "echo", "1", "{\"$bin\":\"abc\"}"), XC_BADJSON);
	/* No roostd: tu_sys has a live process (us) but no roostd. */
	ctx = tu_open("alone");
	expect(ctl_on(tu_sys, "ls", "--rate-ms", "0"), XC_OK);
	expect(ctl_on(tu_sys, "timers"), XC_NOROOSTD);
	ck_assert_ptr_nonnull(strstr(err, "no alarm table"));
	expect(ctl_on(tu_sys, "deadletters"), XC_NOROOSTD);
	expect(ctl_on(tu_sys, "shutdown"), XC_NOROOSTD);
	/* Permission denied: another user's segment (as root: owned by
	 * nobody, which libroost refuses to trust; else mode 000). */
	roost__sys_shm_name(shm, sizeof(shm), tu_sys);
	memmove(shm + 9, shm + 1, strlen(shm)); /* "/dev/shm/roost..." */
	memcpy(shm, "/dev/shm/", 9);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(shm, 65534, 65534), 0);
	else
		ck_assert_int_eq(chmod(shm, 0), 0);
	expect(ctl_on(tu_sys, "ls"), XC_PERM);
	ck_assert_ptr_nonnull(strstr(err, "permission denied"));
	expect(ctl_on(tu_sys, "inspect", "alone"), XC_PERM);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(shm, 0, 0), 0);
	else
		ck_assert_int_eq(chmod(shm, 0600), 0);
	expect(ctl_on(tu_sys, "inspect", "alone"), XC_OK);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* Every verb refuses an argument it does not take, with a usage line. */
START_TEST(test_roostctl_extra_args)
{
	static const char *const extra[][6] = {
	    {"ls", "extra"},
	    {"inspect", "echo", "extra"},
	    {"top", "--count", "1", "extra"},
	    {"deadletters", "extra"},
	    {"deadletters", "--drain", "extra"},
	    {"timers", "extra"},
	    {"systems", "extra"},
	    {"version", "extra"},
	    {"--version", "extra"},
	    {"send", "echo", "1", "{}", "extra"},
	    {"call", "echo", "1", "{}", "extra"},
	    {"stop", "echo", "extra"},
	    {"kill", "echo", "extra"},
	    {"shutdown", "extra"},
	    {"clean", "extra"},
	};
	size_t i;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	for (i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		int rc = run_argv(rsys, extra[i]);

		ck_assert_msg(rc == XC_USAGE, "%s %s: exited %d, stderr: %s",
		              extra[i][0], extra[i][1], rc, err);
		ck_assert_msg(strstr(err, "usage") != NULL ||
		                  strstr(err, "roostctl --help") != NULL,
		              "%s: no usage line: %s", extra[i][0], err);
	}
	/* Nothing was done: echo still answers. */
	expect(ctl("call", "echo", "1", "{}"), XC_OK);
	ru_stop_roostd(rd);
}
END_TEST

/* An empty --system is a usage error, never the default system (an
 * unset variable in --system "$SYS" must not act on another system). */
START_TEST(test_roostctl_empty_system)
{
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	/* An empty name, before and after the verb, for looking and for
	 * acting. */
	expect(ctl_on("", "ls"), XC_USAGE);
	ck_assert_ptr_nonnull(strstr(err, "--system needs a name"));
	expect(ctl_on("", "shutdown"), XC_USAGE);
	expect(ctl("shutdown", "--system", ""), XC_USAGE);
	expect(ctl("stop", "echo", "--system", ""), XC_USAGE);
	expect(run_sys(NULL, "--system", "", "version", (const char *)NULL),
	       XC_USAGE);
	/* The system is untouched: echo still answers. */
	expect(ctl("call", "echo", "1", "{}"), XC_OK);
	ru_stop_roostd(rd);
}
END_TEST

/* Map the mailbox of 'aid' in 'sys' for scribbling. */
static struct roost__mbox_hdr *
map_mailbox(const char *sys, roost_aid_t aid, size_t *len)
{
	char shm[128];
	struct stat st;
	void *p;
	int fd;

	roost__mbox_shm_name(shm, sizeof(shm), sys, roost_aid_slot(aid));
	fd = shm_open(shm, O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	*len = (size_t)st.st_size;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ck_assert(p != MAP_FAILED);
	close(fd);
	return p;
}

START_TEST(test_roostctl_corrupt)
{
	struct roost__mbox_hdr *h;
	roost_ctx_t *victim, *snd;
	struct roost__rec *r;
	roost_msg_t *reply;
	uint32_t saved32;
	uint64_t saved64;
	uint8_t *ring;
	size_t len;
	pid_t rd;
	int i;

	rd = start_system(echo_config_shared);
	wait_echo();
	victim = open_named(rsys, "victim", 65536);
	snd = open_named(rsys, "snd", 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(roost_send(snd, roost_self(victim), 20 + i,
		                            "abcd", 4, 1000),
		                 0);
	expect(ctl("inspect", "victim"), XC_OK);
	h = map_mailbox(rsys, roost_self(victim), &len);
	ring = (uint8_t *)h + h->mh_fixed.mf_ring_off[ROOST_LANE_USR];
	/* A record's length: the queue fails validation. */
	r = (struct roost__rec *)(ring + roost__rec_bytes(4));
	saved32 = r->rc_len;
	r->rc_len = 0xfff0;
	expect(ctl("inspect", "victim"), XC_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "corrupted"));
	expect(ctl("--json", "inspect", "victim"), XC_CORRUPT);
	/* The owner meets it: skipped and counted, shown by ls and inspect. */
	ck_assert_int_eq(roost_recv(victim, &reply, 0), 0);
	ck_assert_int_eq(roost_recv(victim, &reply, 0), ROOST_ECORRUPT);
	expect(ctl("ls"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "damage: victim"));
	ck_assert_ptr_nonnull(strstr(out, "1 corrupt record(s) skipped"));
	expect(ctl("inspect", "victim"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "corrupt 1  replaced 0  lost 0"));
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(roost_send(snd, roost_self(victim), 20 + i,
		                            "abcd", 4, 1000),
		                 0);
	r->rc_len = saved32;
	expect(ctl("inspect", "victim"), XC_OK);
	/* A tail far beyond the head. */
	saved64 = h->mh_tail[ROOST_LANE_USR];
	h->mh_tail[ROOST_LANE_USR] = saved64 + (1u << 24);
	expect(ctl("inspect", "victim"), XC_CORRUPT);
	h->mh_tail[ROOST_LANE_USR] = saved64;
	/* The header's magic: ls still shows everything else, marks the
	 * mailbox and exits 5; inspect refuses. */
	saved32 = h->mh_fixed.mf_magic;
	h->mh_fixed.mf_magic = 0xdeadbeef;
	expect(ctl("ls", "--rate-ms", "0"), XC_CORRUPT);
	ck_assert_ptr_nonnull(strstr(out, "CORRUPT"));
	ck_assert_ptr_nonnull(strstr(out, "echo"));
	ck_assert_ptr_nonnull(strstr(err, "victim"));
	expect(ctl("--json", "ls", "--rate-ms", "0"), XC_CORRUPT);
	{
		json_t *j = parse_out();

		ck_assert(json_is_string(
		    json_object_get(actor_in(j, "victim"), "mailbox_error")));
		ck_assert(json_is_null(
		    json_object_get(actor_in(j, "echo"), "mailbox_error")));
		json_decref(j);
	}
	/* metrics: the victim's mailbox series left out and counted, the
	 * rest valid for promtool, exit 5. */
	expect(ctl("metrics"), XC_CORRUPT);
	ck_assert_ptr_nonnull(strstr(err, "victim"));
	ck_assert(metric_value("roost_system_corrupt_mailboxes", NULL) == 1);
	ck_assert(metric_value("roost_actor_queued_messages", "victim") == -1);
	ck_assert(metric_value("roost_actor_queued_messages", "echo") >= 0);
	ck_assert_int_eq(promtool_check(), 0);
	expect(ctl("inspect", "victim"), XC_CORRUPT);
	h->mh_fixed.mf_magic = saved32;
	/* Nothing else was hurt: roostd and echo still answer. */
	ck_assert_int_eq(roost_call(snd, tu_whereis_wait(snd, "echo", 1000),
	                            KIND_ECHO, 0, "ok", 2, 5000, &reply),
	                 0);
	ck_assert_int_eq(kill(rd, 0), 0);
	expect(ctl("inspect", "victim"), XC_OK);
	ck_assert_ptr_nonnull(strstr(out, "user lane: 3 message(s)"));
	munmap(h, len);
	/* A system segment whose magic is gone: ls refuses, systems shows
	 * it as corrupted. */
	{
		char shm[128];
		uint32_t *magic;
		json_t *j, *e;
		int fd;

		roost__sys_shm_name(shm, sizeof(shm), tu_sys);
		fd = shm_open(shm, O_RDWR, 0);
		ck_assert_int_ge(fd, 0);
		magic = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		             0);
		ck_assert(magic != MAP_FAILED);
		close(fd);
		saved32 = *magic;
		*magic = 0;
		expect(ctl_on(tu_sys, "ls"), XC_CORRUPT);
		ck_assert_ptr_nonnull(strstr(err, "corrupted"));
		expect(ctl("--json", "systems"), XC_OK);
		j = parse_out();
		e = system_in(j, tu_sys);
		ck_assert_ptr_nonnull(e);
		ck_assert_str_eq(jstr(e, "error"), "corrupted");
		json_decref(j);
		*magic = saved32;
		munmap(magic, 4096);
	}
	ck_assert_int_eq(roost_ctx_close(snd), 0);
	ck_assert_int_eq(roost_ctx_close(victim), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A damaged ready word (neither of the two values its creator writes,
 * or "not yet published" on a mailbox whose slot is live) is corrupted
 * shared memory to every verb: exit 5 and CORRUPT. */
START_TEST(test_roostctl_corrupt_ready)
{
	static const uint32_t damage[] = {0x5a5a5a5au, ROOST_SEG_INIT};
	struct roost__mbox_hdr *h;
	roost_ctx_t *victim;
	uint32_t saved;
	size_t len;
	size_t i;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	victim = open_named(rsys, "victim", 65536);
	h = map_mailbox(rsys, roost_self(victim), &len);
	saved = h->mh_ready;
	for (i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		h->mh_ready = damage[i];
		expect(ctl("inspect", "victim"), XC_CORRUPT);
		ck_assert_ptr_nonnull(strstr(err, "corrupted"));
		expect(ctl("ls", "--rate-ms", "0"), XC_CORRUPT);
		ck_assert_ptr_nonnull(strstr(out, "CORRUPT"));
		ck_assert_ptr_nonnull(strstr(err, "victim"));
		expect(ctl("call", "victim", "1", "--timeout", "1000"),
		       XC_CORRUPT);
		expect(ctl("send", "victim", "1"), XC_CORRUPT);
	}
	h->mh_ready = saved;
	expect(ctl("inspect", "victim"), XC_OK);
	munmap(h, len);
	ck_assert_int_eq(roost_ctx_close(victim), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* --- looking never disturbs -------------------------------------------- */

#define PRODUCERS    4
#define PER_PRODUCER 20000

struct shared {
	volatile int sh_done; /* producers finished */
};

static int
producer(void *arg)
{
	intptr_t id = (intptr_t)arg;
	roost_ctx_t *ctx = open_named(rsys, NULL, 0);
	roost_aid_t to = tu_whereis_wait(ctx, "consumer", 10000);
	char buf[32];
	int n;
	int rc;
	uint32_t i;

	for (i = 0; i < PER_PRODUCER; i++) {
		n = roost_pack(buf, sizeof(buf), "[u, u]", (unsigned)id, i);
		if (n < 0)
			tu_fail("pack: %d", n);
		/* Blocking sends: a full mailbox waits, never drops. */
		rc = roost_send_ex(ctx, to, 50, ROOST_SEND_MSGPACK, 0, buf,
		                   (size_t)n, 20000);
		if (rc < 0)
			tu_fail("producer %d send %u: %s", (int)id, i,
			        roost_strerror(rc));
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 1;
}

static int
consumer(void *arg)
{
	roost_ctx_t *ctx = open_named(rsys, "consumer", 16384);
	uint32_t next[PRODUCERS] = {0};
	uint64_t id, seq;
	roost_msg_t *m;
	uint32_t got = 0;
	int rc;

	(void)arg;
	while (got < PRODUCERS * PER_PRODUCER) {
		rc = roost_recv(ctx, &m, 20000);
		if (rc < 0)
			tu_fail("consumer recv after %u: %s", got,
			        roost_strerror(rc));
		if (roost_msg_kind(m) != 50 ||
		    !(roost_msg_flags(m) & ROOST_MSG_MSGPACK))
			tu_fail("consumer: unexpected kind %u",
			        roost_msg_kind(m));
		{
			msgpack_unpacked up;

			msgpack_unpacked_init(&up);
			if (msgpack_unpack_next(&up, roost_msg_data(m),
			                        roost_msg_size(m), NULL) !=
			        MSGPACK_UNPACK_SUCCESS ||
			    up.data.type != MSGPACK_OBJECT_ARRAY ||
			    up.data.via.array.size != 2)
				tu_fail("consumer: bad payload");
			id = up.data.via.array.ptr[0].via.u64;
			seq = up.data.via.array.ptr[1].via.u64;
			msgpack_unpacked_destroy(&up);
		}
		if (id >= PRODUCERS || seq != next[id])
			tu_fail(
			    "producer %u: got %u, expected %u (lost, twice or "
			    "out of order)",
			    (unsigned)id, (unsigned)seq, next[id]);
		next[id]++;
		got++;
		/* Slow enough that a backlog builds up for inspect to copy. */
		if (got % 64 == 0)
			usleep(1500);
	}
	if (roost_recv(ctx, &m, 200) != -ETIMEDOUT)
		tu_fail("consumer: a message more than was sent");
	return roost_ctx_close(ctx) == 0 ? 0 : 1;
}

/* In one inspect --json listing, each producer's messages must be in
 * order and never repeated. */
static size_t listed; /* messages seen by inspect, in all */

static void
check_listing(void)
{
	int64_t last[PRODUCERS] = {-1, -1, -1, -1};
	json_t *j = parse_out();
	json_t *m;
	size_t i;

	json_array_foreach(json_object_get(j, "messages"), i, m)
	{
		json_t *p = json_object_get(m, "payload");
		json_int_t id = json_integer_value(json_array_get(p, 0));
		json_int_t seq = json_integer_value(json_array_get(p, 1));

		ck_assert_int_eq(jint(m, "kind"), 50);
		ck_assert(id >= 0 && id < PRODUCERS);
		ck_assert_msg(seq > last[id],
		              "producer %d: %d listed after %d", (int)id,
		              (int)seq, (int)last[id]);
		last[id] = seq;
		listed++;
	}
	json_decref(j);
}

START_TEST(test_roostctl_no_disturb)
{
	pid_t prod[PRODUCERS];
	pid_t cons;
	roost_ctx_t *ctx;
	int looks = 0;
	int status;
	pid_t rd;
	int rc;
	int i;

	ru_setup_names();
	ru_write_config("[system]\nslots = 32\n; %s\n");
	rd = ru_start_roostd(-1);
	ctx = ru_open_when_up();
	cons = tu_fork(consumer, NULL);
	tu_whereis_wait(ctx, "consumer", 10000);
	for (i = 0; i < PRODUCERS; i++)
		prod[i] = tu_fork(producer, (void *)(intptr_t)i);
	/* Look as hard as we can until the consumer is done. */
	while (waitpid(cons, &status, WNOHANG) == 0) {
		switch (looks % 4) {
		case 0:
			rc = ctl("--json", "inspect", "consumer", "--limit",
			         "0");
			if (rc == XC_NOACTOR)
				break; /* it finished meanwhile */
			expect(rc, XC_OK);
			check_listing();
			break;
		case 1:
			expect(ctl("ls", "--rate-ms", "0"), XC_OK);
			break;
		case 2:
			rc = ctl("inspect", "consumer", "--limit", "20");
			ck_assert(rc == XC_OK || rc == XC_NOACTOR);
			break;
		default:
			expect(ctl("--json", "ls", "--rate-ms", "10"), XC_OK);
			json_decref(parse_out());
			break;
		}
		looks++;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	              "consumer failed (status 0x%x)", status);
	for (i = 0; i < PRODUCERS; i++)
		ck_assert_int_eq(tu_wait(prod[i], 30000), 0);
	ck_assert_int_ge(looks, 20);
	if (getenv("ROOSTCTL_TEST_VERBOSE") != NULL)
		fprintf(stderr,
		        "no_disturb: %d looks listed %zu messages "
		        "while %d flowed\n",
		        looks, listed, PRODUCERS * PER_PRODUCER);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

START_TEST(test_roostctl_top)
{
	json_t *j;
	char *line;
	char *save = NULL;
	int frames = 0;
	const char *p;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	/* Not a terminal: plain snapshots, one after the other. */
	expect(ctl("top", "--count", "3", "--interval", "100"), XC_OK);
	for (p = out; (p = strstr(p, "roostctl top - ")) != NULL; p++)
		frames++;
	ck_assert_int_eq(frames, 3);
	ck_assert_ptr_nonnull(strstr(out, "echo"));
	expect(ctl("--json", "top", "--count", "2", "--interval", "100",
	           "--sort", "rate"),
	       XC_OK);
	frames = 0;
	for (line = strtok_r(out, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		j = json_loads(line, 0, NULL);
		ck_assert_ptr_nonnull(j);
		ck_assert_int_eq(jint(j, "frame"), frames);
		ck_assert_str_eq(jstr(j, "sort"), "rate");
		ck_assert_ptr_nonnull(actor_in(j, "echo"));
		json_decref(j);
		frames++;
	}
	ck_assert_int_eq(frames, 2);
	expect(ctl("top", "--sort", "sideways"), XC_USAGE);
	ru_stop_roostd(rd);
}
END_TEST

/* --- metrics ------------------------------------------------------------ */

/* One scrape, checked by promtool. */
static void
scrape(const char *opt)
{
	if (opt != NULL)
		expect(ctl("metrics", opt), XC_OK);
	else
		expect(ctl("metrics"), XC_OK);
	ck_assert_msg(promtool_check() == 0,
	              "promtool refused the output (its message is above)");
}

/* Shared with the caller: it calls echo until told to stop. */
struct flow {
	uint64_t fl_calls; /* answered so far; only the caller writes */
	int fl_stop;       /* set by the test */
};

static int
caller(void *arg)
{
	struct flow *fl = arg;
	roost_ctx_t *ctx = open_named(rsys, NULL, 0);
	roost_aid_t echo = tu_whereis_wait(ctx, "echo", 10000);
	roost_msg_t *reply;
	int rc;

	while (!__atomic_load_n(&fl->fl_stop, __ATOMIC_RELAXED)) {
		rc = roost_call(ctx, echo, KIND_ECHO, 0, "ping", 4, 20000,
		                &reply);
		if (rc < 0)
			tu_fail("call %llu: %s",
			        (unsigned long long)fl->fl_calls,
			        roost_strerror(rc));
		/* Release: the answer (echo's counters moved) happens before
		 * the test's acquire in wait_calls_past sees the count. */
		__atomic_fetch_add(&fl->fl_calls, 1, __ATOMIC_RELEASE);
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 1;
}

/* Wait until the caller has had more than 'calls' answered. */
static void
wait_calls_past(struct flow *fl, uint64_t calls)
{
	int i;

	for (i = 0; i < 100000; i++) {
		if (__atomic_load_n(&fl->fl_calls, __ATOMIC_ACQUIRE) > calls)
			return;
		usleep(100);
	}
	ck_abort_msg("the caller is stuck at %llu calls",
	             (unsigned long long)calls);
}

/* Counters of 'actor' in the last scrape. */
struct echo_counts {
	double ec_in;
	double ec_out;
	double ec_bytes;
};

static struct echo_counts
counts_of(const char *actor)
{
	struct echo_counts c;

	c.ec_in = metric_value("roost_actor_enqueued_messages_total", actor);
	c.ec_out = metric_value("roost_actor_dequeued_messages_total", actor);
	c.ec_bytes = metric_value("roost_actor_enqueued_bytes_total", actor);
	ck_assert(c.ec_in >= 0 && c.ec_out >= 0 && c.ec_bytes >= 0);
	return c;
}

START_TEST(test_roostctl_metrics)
{
	struct echo_counts before, prev, now;
	roost_ctx_t *box, *snd, *odd;
	struct flow *fl;
	uint64_t calls;
	uint64_t id;
	pid_t child;
	pid_t rd;
	int i;

	rd = start_echo_system();
	wait_echo();
	/* A mailbox nobody reads: its depth is what was sent to it. */
	box = open_named(rsys, "box", 65536);
	snd = open_named(rsys, "sender", 0);
	odd = open_named(rsys, "q\"b\\s", 0);
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(
		    roost_send(snd, roost_self(box), 9, "abcd", 4, 1000), 0);
	ck_assert_int_eq(roost_send_after(snd, roost_self(snd), 600000000000,
	                                  77, "x", 1, &id),
	                 0);
	scrape(NULL);
	ck_assert_ptr_nonnull(strstr(
	    out, "# TYPE roost_actor_enqueued_messages_total counter\n"));
	ck_assert_ptr_nonnull(
	    strstr(out, "# TYPE roost_actor_queued_messages gauge\n"));
	ck_assert_ptr_nonnull(strstr(out, "# HELP roost_system_alarms "));
	ck_assert(metric_value("roost_actor_queued_messages", "box") == 5);
	ck_assert(metric_value("roost_actor_enqueued_messages_total", "box") ==
	          5);
	ck_assert(metric_value("roost_actor_dequeued_messages_total", "box") ==
	          0);
	ck_assert(metric_value("roost_actor_enqueued_bytes_total", "box") ==
	          20);
	ck_assert(metric_value("roost_actor_queued_bytes", "box") > 0);
	ck_assert(
	    metric_value("roost_actor_mailbox_high_water_bytes", "box") >=
	    metric_value("roost_actor_queued_bytes", "box"));
	ck_assert(metric_value("roost_actor_blocked_sends_total", "box") == 0);
	ck_assert(metric_value("roost_actor_corrupt_records_total", "box") ==
	          0);
	/* roostd supervises echo, not box: restarts only for echo. */
	ck_assert(metric_value("roost_actor_restarts_total", "echo") == 0);
	ck_assert(metric_value("roost_actor_restarts_total", "box") == -1);
	/* roostd, deadletters, echo, box, sender and the odd name. */
	ck_assert(metric_value("roost_system_actors", NULL) == 6);
	ck_assert(metric_value("roost_system_alarms", NULL) == 1);
	ck_assert(metric_value("roost_system_roostd_up", NULL) == 1);
	ck_assert(metric_value("roost_system_corrupt_mailboxes", NULL) == 0);
	/* A label value escaped: the name q"b\s. */
	ck_assert_ptr_nonnull(strstr(out, ",actor=\"q\\\"b\\\\s\","));
	/* While messages flow through echo (at least one call answered
	 * between two scrapes), its counters grow and never go back. */
	fl = mmap(NULL, sizeof(*fl), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(fl != MAP_FAILED);
	memset(fl, 0, sizeof(*fl));
	before = prev = counts_of("echo");
	child = tu_fork(caller, fl);
	for (i = 0; i < 20; i++) {
		calls = __atomic_load_n(&fl->fl_calls, __ATOMIC_ACQUIRE);
		wait_calls_past(fl, calls);
		scrape(NULL);
		now = counts_of("echo");
		ck_assert(now.ec_in > prev.ec_in);
		ck_assert(now.ec_out > prev.ec_out);
		ck_assert(now.ec_bytes > prev.ec_bytes);
		ck_assert(now.ec_out <= now.ec_in);
		prev = now;
	}
	__atomic_store_n(&fl->fl_stop, 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(tu_wait(child, 30000), 0);
	scrape(NULL);
	now = counts_of("echo");
	ck_assert(now.ec_in >= before.ec_in + (double)fl->fl_calls);
	ck_assert(now.ec_out >= before.ec_out + (double)fl->fl_calls);
	ck_assert(now.ec_bytes >=
	          before.ec_bytes + 4.0 * (double)fl->fl_calls);
	if (getenv("ROOSTCTL_TEST_VERBOSE") != NULL)
		fprintf(stderr,
		        "metrics: 20 scrapes while %llu calls flowed\n",
		        (unsigned long long)fl->fl_calls);
	munmap(fl, sizeof(*fl));
	/* A crash: roostd restarts echo, and both counts show it. */
	expect(ctl("send", "echo", "3"), XC_OK);
	for (i = 0; i < 1000; i++) {
		scrape(NULL);
		if (metric_value("roost_actor_restarts_total", "echo") == 1)
			break;
		usleep(10000);
	}
	ck_assert(metric_value("roost_actor_restarts_total", "echo") == 1);
	ck_assert(metric_value("roost_system_restarts_total", NULL) == 1);
	/* --top 1: only the deepest queue; --no-actors: none; the system's
	 * series stay. */
	scrape("--top=1");
	ck_assert(metric_value("roost_actor_queued_messages", "box") == 5);
	ck_assert_ptr_null(strstr(out, "actor=\"echo\""));
	ck_assert(metric_value("roost_system_actors", NULL) == 6);
	scrape("--no-actors");
	ck_assert_ptr_null(strstr(out, "roost_actor_"));
	ck_assert(metric_value("roost_system_actors", NULL) == 6);
	/* Usage errors: nothing printed, exit 1. */
	expect(ctl("metrics", "--top", "0"), XC_USAGE);
	expect(ctl("metrics", "--top", "-1"), XC_USAGE);
	expect(ctl("metrics", "--top", "many"), XC_USAGE);
	expect(ctl("metrics", "--top", "99999999999"), XC_USAGE);
	expect(ctl("metrics", "--top", "1", "--no-actors"), XC_USAGE);
	expect(ctl("--json", "metrics"), XC_USAGE);
	expect(ctl("metrics", "extra"), XC_USAGE);
	ck_assert_str_eq(out, "");
	expect(ctl_on("no-such-system", "metrics"), XC_NOSYS);
	ck_assert_int_eq(roost_timer_cancel(snd, id), 0);
	ck_assert_int_eq(roost_ctx_close(odd), 0);
	ck_assert_int_eq(roost_ctx_close(snd), 0);
	ck_assert_int_eq(roost_ctx_close(box), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A "gateway" that answers roostctl's status call once with a map of
 * wrong values: a negative count, a string for a count, a node with no
 * name, a node with a negative round trip. */
static int
bad_gateway(void *arg)
{
	roost_ctx_t *ctx = open_named(rsys, "gateway", 0);
	roost_msg_t *m;

	(void)arg;
	if (roost_recv(ctx, &m, 30000) != 0)
		return 1;
	roost_reply_packed(ctx, m, roost_msg_kind(m),
	                   "{s:I, s:s, s:b, s:[{s:b}, {s:s, s:b, s:I}, "
	                   "{s:s, s:b, s:I}]}",
	                   "published", (int64_t)-1, "delivered", "many",
	                   "connected", 1, "nodes", "up", 1, "name", "far",
	                   "up", 1, "rtt_us", (int64_t)-5, "name", "near",
	                   "up", 0, "rtt_us", (int64_t)250);
	roost_ctx_close(ctx);
	return 0;
}

/* roostctl metrics asks the actor registered as "gateway" for its
 * counters: what it answers is another process's word, so wrong values
 * are left out and the output still passes promtool (a nameless node
 * crashed it). */
START_TEST(test_roostctl_metrics_bad_gateway)
{
	char key[160];
	roost_ctx_t *ctx;
	pid_t child;
	pid_t rd;

	rd = start_echo_system();
	wait_echo();
	ctx = open_named(rsys, NULL, 0);
	child = tu_fork(bad_gateway, NULL);
	tu_whereis_wait(ctx, "gateway", 10000);
	scrape("--no-actors");
	ck_assert_int_eq(tu_wait(child, 30000), 0);
	ck_assert(metric_value("roost_gateway_connected", NULL) == 1);
	ck_assert(metric_value("roost_gateway_published_total", NULL) == -1);
	ck_assert(metric_value("roost_gateway_delivered_total", NULL) == -1);
	ck_assert_ptr_nonnull(strstr(out, ",node=\"far\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(out, ",node=\"near\"} 0\n"));
	ck_assert_ptr_nonnull(strstr(out, ",node=\"near\"} 0.000250\n"));
	/* far's round trip is negative: no sample. */
	snprintf(key, sizeof(key), "roost_gateway_node_rtt_seconds{system=\"%s\","
	         "node=\"far\"}", rsys);
	ck_assert_ptr_null(strstr(out, key));
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/*
 * roostd's supervisor table in a system granting a group: a member of
 * the group, opening the system as "UID:NAME", sees what roostd knows of
 * its actors (ROOST_ACTOR_F_ROOSTD); before, the table was made without
 * the group and checked against the reader's own uid and the whole
 * "UID:NAME". Needs root, to be 'nobody'.
 */
static int
roostd_flag_of(void *arg, const roost_actor_info_t *a)
{
	if (strcmp(a->name, "echo") == 0)
		*(uint32_t *)arg = a->flags | 0x80000000u;
	return 0;
}

static int
member_sees_roostd(void *arg)
{
	const struct tu_user *member = arg;
	char ref[sizeof(rsys) + 16];
	roost_view_t *v;
	uint32_t flags = 0;

	if (tu_become(member) < 0)
		return 10;
	snprintf(ref, sizeof(ref), "0:%s", rsys);
	if (roost_view_open(&v, ref) != 0)
		return 11;
	if (roost_view_actors(v, roostd_flag_of, &flags) < 0)
		return 12;
	roost_view_close(v);
	if (!(flags & 0x80000000u))
		return 13; /* echo not listed */
	return (flags & ROOST_ACTOR_F_ROOSTD) ? 0 : 14;
}

START_TEST(test_roostctl_group_sup_table)
{
	struct tu_user *member = tu_shared_alloc(sizeof(*member));
	const struct group *gr;
	char config[512];
	pid_t rd;

	if (!tu_group_users("check_roostctl group_sup_table", member, NULL))
		return;
	gr = getgrgid(member->u_gid);
	ck_assert_ptr_nonnull(gr);
	snprintf(config, sizeof(config),
	         "[system]\nslots = 32\ngroup = %s\n\n[actor echo]\n"
	         "program = %%s\n",
	         gr->gr_name);
	ru_setup_names();
	ru_write_config(config);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	wait_echo();
	ck_assert_int_eq(tu_wait(tu_fork(member_sees_roostd, member), 10000), 0);
	ru_stop_roostd(rd);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("roostctl");

	suite_add_tcase(s, tu_tcase("ls", test_roostctl_ls, 60));
	suite_add_tcase(s, tu_tcase("inspect", test_roostctl_inspect, 60));
	suite_add_tcase(s, tu_tcase("send_call", test_roostctl_send_call, 60));
	suite_add_tcase(
	    s, tu_tcase("spawn_stop_kill", test_roostctl_spawn_stop_kill, 90));
	suite_add_tcase(s, tu_tcase("timers", test_roostctl_timers, 60));
	suite_add_tcase(
	    s, tu_tcase("deadletters", test_roostctl_deadletters, 90));
	suite_add_tcase(s, tu_tcase("shutdown", test_roostctl_shutdown, 60));
	suite_add_tcase(s, tu_tcase("systems", test_roostctl_systems, 60));
	suite_add_tcase(s, tu_tcase("systems_starting",
	                            test_roostctl_systems_starting, 60));
	suite_add_tcase(s, tu_tcase("orphaned_then_stale",
	                            test_roostctl_orphaned_then_stale, 60));
	suite_add_tcase(s, tu_tcase("orphaned_way_out",
	                            test_roostctl_orphaned_way_out, 60));
	suite_add_tcase(s, tu_tcase("errors", test_roostctl_errors, 90));
	suite_add_tcase(s,
	                tu_tcase("extra_args", test_roostctl_extra_args, 60));
	suite_add_tcase(
	    s, tu_tcase("empty_system", test_roostctl_empty_system, 60));
	suite_add_tcase(s, tu_tcase("corrupt", test_roostctl_corrupt, 60));
	suite_add_tcase(
	    s, tu_tcase("corrupt_ready", test_roostctl_corrupt_ready, 60));
	suite_add_tcase(s,
	                tu_tcase("no_disturb", test_roostctl_no_disturb, 240));
	suite_add_tcase(s, tu_tcase("top", test_roostctl_top, 60));
	suite_add_tcase(s, tu_tcase("metrics", test_roostctl_metrics, 120));
	suite_add_tcase(s, tu_tcase("metrics_bad_gateway",
	                            test_roostctl_metrics_bad_gateway, 60));
	suite_add_tcase(s, tu_tcase("group_sup_table",
	                            test_roostctl_group_sup_table, 60));
	return tu_run(s);
}
