/* SPDX-License-Identifier: MIT */
/*
 * check_metrics.c - roostd's HTTP metrics endpoint ([metrics] listen),
 * with the real tools: curl scrapes it while messages flow, promtool
 * checks the Prometheus text, Debian's prometheus_client parser (strict
 * OpenMetrics 1.0.0) the OpenMetrics text. Stuck scrapers (connected and
 * silent, or never reading) do not hold up roostd's loop nor the next
 * scrape; a port in use stops roostd with a clear error.
 *
 * roostd listens on 127.0.0.1:0 and the test reads the port it got from
 * roostd's log ("metrics: serving http://127.0.0.1:PORT/metrics").
 */
#include "roostd_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the last scrape gave. */
static char body[1 << 20];
static char ctype[256];
static int http_status;
static unsigned port;

static const char config[] =
    "[system]\nslots = 32\n\n"
    "[metrics]\nlisten = 127.0.0.1:0\n\n"
    "[actor echo]\nprogram = %s\nrestart = permanent\n"
    "shutdown_timeout_ms = 1000\n";

/* The port in the 'nth' (from 1) endpoint line of roostd's log (the
 * log of all its lives), 0 while there is none. */
static unsigned
logged_port(int nth)
{
	static const char key[] = "metrics: serving http://127.0.0.1:";
	char path[160];
	char line[512];
	unsigned p = 0;
	const char *at;
	FILE *f;

	snprintf(path, sizeof(path), "%s.log", cfgpath);
	f = fopen(path, "r");
	if (f == NULL)
		return 0;
	while (nth > 0 && fgets(line, sizeof(line), f) != NULL) {
		at = strstr(line, key);
		if (at != NULL && --nth == 0)
			p = (unsigned)strtoul(at + strlen(key), NULL, 10);
	}
	fclose(f);
	return p < 65536 ? p : 0;
}

/* roostd registers its name before it starts the endpoint: wait for
 * the endpoint's line of its 'nth' life. */
static unsigned
wait_port(int nth)
{
	unsigned p = 0;
	int i;

	for (i = 0; i < TU_PATIENCE_MS && p == 0; i++) {
		p = logged_port(nth);
		if (p == 0)
			usleep(1000);
	}
	ck_assert_msg(p > 0, "no metrics port in roostd's log");
	return p;
}

static pid_t
start(const char *cfg)
{
	pid_t rd;

	ru_setup_names();
	ru_write_config(cfg);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	port = wait_port(1);
	return rd;
}

/* Run argv; stdin from /dev/null and stdout into 'out' (NUL-ended, up
 * to 'len'); its exit status. */
static int
run(char *const argv[], char *out, size_t len)
{
	int p[2];
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		dup2(null, 0);
		dup2(p[1], 1);
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	ru_slurp(p[0], out, len);
	return tu_wait(pid, TU_PATIENCE_MS);
}

/*
 * curl 'method' /'path' with 'accept' (NULL: curl's own "*" "/" "*"):
 * the body in 'body', status and Content-Type in http_status and ctype.
 * Returns curl's exit status.
 */
static int
curl(const char *method, const char *path, const char *accept)
{
	char url[96], hdr[256], file[160], meta[512];
	char *argv[16];
	int n = 0;
	int rc;
	FILE *f;
	size_t got;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	snprintf(file, sizeof(file), "%s.body", cfgpath);
	argv[n++] = (char *)"curl";
	argv[n++] = (char *)"-sS";
	argv[n++] = (char *)"--max-time";
	argv[n++] = (char *)"30";
	argv[n++] = (char *)"-X";
	argv[n++] = (char *)method;
	argv[n++] = (char *)"-o";
	argv[n++] = file;
	argv[n++] = (char *)"-w";
	argv[n++] = (char *)"%{http_code} %{content_type}";
	if (accept != NULL) {
		snprintf(hdr, sizeof(hdr), "Accept: %s", accept);
		argv[n++] = (char *)"-H";
		argv[n++] = hdr;
	}
	argv[n++] = url;
	argv[n] = NULL;
	rc = run(argv, meta, sizeof(meta));
	http_status = atoi(meta);
	snprintf(ctype, sizeof(ctype), "%s",
	         strchr(meta, ' ') ? strchr(meta, ' ') + 1 : "");
	body[0] = '\0';
	f = fopen(file, "r");
	if (f != NULL) {
		got = fread(body, 1, sizeof(body) - 1, f);
		body[got] = '\0';
		fclose(f);
		unlink(file);
	}
	return rc;
}

/* A GET of /metrics that must succeed, in 'accept''s format. */
static void
scrape(const char *accept)
{
	ck_assert_int_eq(curl("GET", "/metrics", accept), 0);
	ck_assert_int_eq(http_status, 200);
}

static int
promtool_check(void)
{
	static char *const argv[] = {"promtool", "check", "metrics", NULL};

	return tu_run_with_input(argv, body);
}

/* The OpenMetrics 1.0.0 parser of Debian's python3-prometheus-client:
 * it refuses a missing "# EOF", a counter sample without _total, a
 * histogram without its +Inf bucket, count and sum in order, and more. */
static int
openmetrics_check(void)
{
	static char *const argv[] = {
	    "/usr/bin/python3", "-c",
	    "import sys\n"
	    "from prometheus_client.openmetrics.parser import "
	    "text_string_to_metric_families as parse\n"
	    "try:\n"
	    "    n = len(list(parse(sys.stdin.read())))\n"
	    "except Exception as e:\n"
	    "    sys.exit('openmetrics: %s' % e)\n"
	    "sys.exit(0 if n > 0 else 'openmetrics: no families')\n",
	    NULL};

	return tu_run_with_input(argv, body);
}

/* The value of 'metric' (its full name and labels, up to the value) in
 * the last scrape; -1 when absent. */
static double
value_of(const char *metric, const char *labels)
{
	char key[256];
	const char *p;

	snprintf(key, sizeof(key), "\n%s{system=\"%s\"%s} ", metric, rsys,
	         labels);
	p = strstr(body, key);
	return p == NULL ? -1 : strtod(p + strlen(key), NULL);
}

static double
actor_value(const char *metric, const char *actor)
{
	char labels[128];
	char key[256];
	const char *p;

	/* The slot label follows; match up to it. */
	snprintf(labels, sizeof(labels), ",actor=\"%s\",slot=\"", actor);
	snprintf(key, sizeof(key), "\n%s{system=\"%s\"%s", metric, rsys,
	         labels);
	p = strstr(body, key);
	if (p == NULL)
		return -1;
	p = strchr(p + strlen(key), ' ');
	return p == NULL ? -1 : strtod(p + 1, NULL);
}

/* Scrape (Prometheus text) until 'metric' with 'labels' is 'want':
 * roostd counts some things after the event a test can see. */
static void
scrape_until(const char *metric, const char *labels, double want)
{
	int i;

	for (i = 0; i < TU_PATIENCE_MS / 10; i++) {
		scrape(NULL);
		if (value_of(metric, labels) == want)
			return;
		usleep(10000);
	}
	ck_abort_msg("%s%s stays at %g, not %g", metric, labels,
	             value_of(metric, labels), want);
}

static roost_ctx_t *
open_client(void)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;

	roost_ctx_opts_init(&o);
	o.system = rsys;
	if (roost_ctx_open(&ctx, &o) < 0)
		tu_fail("cannot open a context on %s", rsys);
	return ctx;
}

/* Echo's traffic, shared with the forked caller. */
struct flow {
	uint64_t fl_calls; /* answered so far; only the caller writes */
	int fl_stop;
};

static int
caller(void *arg)
{
	struct flow *fl = arg;
	roost_ctx_t *ctx = open_client();
	roost_aid_t echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	roost_msg_t *reply;

	while (!__atomic_load_n(&fl->fl_stop, __ATOMIC_RELAXED)) {
		if (roost_call(ctx, echo, KIND_ECHO, 0, "ping", 4,
		               TU_PATIENCE_MS, &reply) < 0)
			tu_fail("call to echo failed");
		/* Release: echo's counters moved before the count does. */
		__atomic_fetch_add(&fl->fl_calls, 1, __ATOMIC_RELEASE);
	}
	return roost_ctx_close(ctx) == 0 ? 0 : 1;
}

static void
wait_calls_past(struct flow *fl, uint64_t calls)
{
	int i;

	for (i = 0; i < TU_PATIENCE_MS * 10; i++) {
		if (__atomic_load_n(&fl->fl_calls, __ATOMIC_ACQUIRE) > calls)
			return;
		usleep(100);
	}
	ck_abort_msg("the caller is stuck at %llu calls",
	             (unsigned long long)calls);
}

/*
 * Scrapes with curl while calls flow through echo: both formats pass
 * their real checkers, echo's counters grow between scrapes, and
 * roostd's own series (alarm lateness, spawn time, restarts) count what
 * happened.
 */
START_TEST(test_metrics_http)
{
	double in, out, late_count;
	roost_ctx_t *ctx;
	roost_msg_t *m;
	struct flow *fl;
	uint64_t calls, id;
	pid_t rd, child;
	int i;

	rd = start(config);
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	scrape(NULL);
	ck_assert_str_eq(ctype, "text/plain; version=0.0.4; charset=utf-8");
	ck_assert_msg(promtool_check() == 0, "promtool refused:\n%s", body);
	ck_assert(value_of("roost_system_roostd_up", "") == 1);
	scrape_until("roost_system_spawn_seconds_count", "", 1);
	ck_assert(value_of("roost_system_spawn_seconds_sum", "") > 0);
	ck_assert_ptr_null(strstr(body, "# EOF"));
	/* OpenMetrics when asked (as Prometheus asks), checked by its
	 * parser; a counter's family is named without _total there. */
	scrape("application/openmetrics-text;version=1.0.0,"
	       "text/plain;version=0.0.4;q=0.5,*/*;q=0.1");
	ck_assert_str_eq(ctype, "application/openmetrics-text; "
	                        "version=1.0.0; charset=utf-8");
	ck_assert_msg(openmetrics_check() == 0, "the parser refused:\n%s",
	              body);
	ck_assert_ptr_nonnull(
	    strstr(body, "\n# TYPE roost_actor_enqueued_messages counter\n"));
	ck_assert_int_eq(strcmp(body + strlen(body) - 6, "# EOF\n"), 0);
	/* text/plain preferred: Prometheus text. */
	scrape("application/openmetrics-text;q=0.3,text/plain");
	ck_assert_ptr_null(strstr(body, "# EOF"));
	/* Alarms roostd delivered are in the lateness histogram. */
	scrape(NULL);
	late_count = value_of("roost_system_alarm_lateness_seconds_count", "");
	for (i = 0; i < 5; i++)
		ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx), 1000,
		                                  900 + i, NULL, 0, &id),
		                 0);
	for (i = 0; i < 5; i++) {
		m = ru_take_kind(ctx, 900 + i, TU_PATIENCE_MS);
		ck_assert_ptr_nonnull(m);
	}
	scrape(NULL);
	ck_assert(value_of("roost_system_alarm_lateness_seconds_count", "") ==
	          late_count + 5);
	ck_assert(value_of("roost_system_alarm_lateness_seconds_bucket",
	                   ",le=\"+Inf\"") == late_count + 5);
	ck_assert(value_of("roost_system_alarm_lateness_seconds_sum", "") > 0);
	/* Counters move while messages flow. */
	fl = mmap(NULL, sizeof(*fl), PROT_READ | PROT_WRITE,
	          MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(fl != MAP_FAILED);
	memset(fl, 0, sizeof(*fl));
	in = actor_value("roost_actor_enqueued_messages_total", "echo");
	out = actor_value("roost_actor_dequeued_messages_total", "echo");
	ck_assert(in >= 0 && out >= 0);
	child = tu_fork(caller, fl);
	for (i = 0; i < 10; i++) {
		calls = __atomic_load_n(&fl->fl_calls, __ATOMIC_ACQUIRE);
		wait_calls_past(fl, calls);
		scrape(i % 2 ? "application/openmetrics-text" : NULL);
		ck_assert(actor_value("roost_actor_enqueued_messages_total",
		                      "echo") > in);
		ck_assert(actor_value("roost_actor_dequeued_messages_total",
		                      "echo") > out);
		in =
		    actor_value("roost_actor_enqueued_messages_total", "echo");
		out =
		    actor_value("roost_actor_dequeued_messages_total", "echo");
	}
	ck_assert_msg(openmetrics_check() == 0, "the parser refused:\n%s",
	              body);
	__atomic_store_n(&fl->fl_stop, 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(tu_wait(child, TU_PATIENCE_MS), 0);
	munmap(fl, sizeof(*fl));
	scrape(NULL);
	ck_assert_msg(promtool_check() == 0, "promtool refused:\n%s", body);
	/* A crash: roostd restarts echo and counts it. */
	ck_assert_int_eq(
	    roost_send(ctx, tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS),
	               KIND_CRASH, NULL, 0, 1000),
	    0);
	scrape_until("roost_system_restarts_total", "", 1);
	/* Anything but GET or HEAD of /metrics. */
	ck_assert_int_eq(curl("GET", "/", NULL), 0);
	ck_assert_int_eq(http_status, 404);
	ck_assert_int_eq(curl("POST", "/metrics", NULL), 0);
	ck_assert_int_eq(http_status, 405);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

/* A TCP connection to the endpoint, its receive buffer small. */
static int
connect_endpoint(void)
{
	struct sockaddr_in a;
	int small = 1024;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/*
 * Scrapers that connect and send nothing, send half a request, or ask
 * and never read: roostd's loop goes on answering (an alarm arrives, a
 * spawn is answered, a name is found), another scrape is served, and
 * the shutdown ends cleanly with them still connected.
 */
START_TEST(test_metrics_http_stuck_scrapers)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
	roost_spawn_opts_t so;
	int fds[24];
	roost_ctx_t *ctx;
	roost_aid_t aid;
	uint64_t id;
	pid_t rd;
	int i;

	/* Many actors, all with series: a big answer to leave unread. */
	rd = start("[system]\nslots = 64\n\n"
	           "[metrics]\nlisten = 127.0.0.1:0\nper_actor = all\n\n"
	           "[actor echo]\nprogram = %s\ncount = 20\n");
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "echo.20", TU_PATIENCE_MS);
	for (i = 0; i < 24; i++) {
		fds[i] = connect_endpoint();
		if (i % 3 == 1)
			ck_assert_int_eq(write(fds[i], get, 10), 10);
		if (i % 3 == 2)
			ck_assert_int_eq(write(fds[i], get, sizeof(get) - 1),
			                 (ssize_t)sizeof(get) - 1);
	}
	/* roostd's loop: an alarm, a spawn, a name. */
	ck_assert_int_eq(
	    roost_send_after(ctx, roost_self(ctx), 1000, 901, NULL, 0, &id),
	    0);
	ck_assert_ptr_nonnull(ru_take_kind(ctx, 901, TU_PATIENCE_MS));
	roost_spawn_opts_init(&so);
	so.program = ECHO_BIN;
	so.name = "late";
	so.timeout_ms = TU_PATIENCE_MS;
	ck_assert_int_eq(roost_spawn(ctx, &so, &aid), 0);
	ck_assert(
	    roost_aid_eq(tu_whereis_wait(ctx, "late", TU_PATIENCE_MS), aid));
	/* The endpoint serves others meanwhile. */
	scrape(NULL);
	ck_assert(actor_value("roost_actor_queued_messages", "late") >= 0);
	ck_assert_msg(promtool_check() == 0, "promtool refused:\n%s", body);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
	for (i = 0; i < 24; i++)
		close(fds[i]);
}
END_TEST

/* per_actor = off and top 1: the system's series stay, the actors'
 * go (all, or all but the deepest queue). */
START_TEST(test_metrics_http_per_actor)
{
	roost_ctx_t *ctx, *box;
	roost_ctx_opts_t o;
	pid_t rd;
	int i;

	rd = start("[system]\nslots = 32\n\n"
	           "[metrics]\nlisten = 127.0.0.1:0\nper_actor = top 1\n\n"
	           "[actor echo]\nprogram = %s\n");
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	roost_ctx_opts_init(&o);
	o.system = rsys;
	o.name = "box";
	ck_assert_int_eq(roost_ctx_open(&box, &o), 0);
	for (i = 0; i < 3; i++)
		ck_assert_int_eq(
		    roost_send(ctx, roost_self(box), 7, "x", 1, 1000), 0);
	scrape(NULL);
	ck_assert(actor_value("roost_actor_queued_messages", "box") == 3);
	ck_assert_ptr_null(strstr(body, "actor=\"echo\""));
	ck_assert(value_of("roost_system_actors", "") == 5);
	ck_assert_msg(promtool_check() == 0, "promtool refused:\n%s", body);
	ck_assert_int_eq(roost_ctx_close(box), 0);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
	rd = start("[metrics]\nlisten = 127.0.0.1:0\nper_actor = off\n\n"
	           "[actor echo]\nprogram = %s\n");
	/* roostd, the dead letters and echo. */
	scrape_until("roost_system_actors", "", 3);
	scrape("application/openmetrics-text");
	ck_assert_ptr_null(strstr(body, "roost_actor_"));
	ck_assert_msg(openmetrics_check() == 0, "the parser refused:\n%s",
	              body);
	ru_stop_roostd(rd);
}
END_TEST

/* A loopback socket listening on port '*at', or on one the kernel
 * picks when it is 0; '*at' gets the port. */
static int
listen_on(unsigned *at)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)*at);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*at = ntohs(a.sin_port);
	return fd;
}

/* A port another socket holds: roostd says so and exits 1, leaving
 * nothing behind. */
START_TEST(test_metrics_http_port_taken)
{
	unsigned p = 0;
	char cfg[256];
	char err[4096];
	int fd;

	fd = listen_on(&p);
	ru_setup_names();
	snprintf(cfg, sizeof(cfg),
	         "[metrics]\nlisten = 127.0.0.1:%u\n\n"
	         "[actor echo]\nprogram = %%s\n", p);
	ru_write_config(cfg);
	ck_assert_int_eq(ru_run_roostd(err, sizeof(err)), 1);
	ck_assert_msg(strstr(err, "metrics: cannot listen on 127.0.0.1:") !=
	                  NULL,
	              "%s", err);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	close(fd);
	ru_cleanup();
}
END_TEST

/* A roostd adopting a running system whose metrics port is taken runs
 * it without the endpoint: the actors keep running, and the shutdown
 * after is orderly. (Its start used to fail, and the shutdown that
 * followed removed the system under the actors it had not adopted.) */
START_TEST(test_metrics_http_port_taken_at_adoption)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx;
	roost_aid_t echo;
	unsigned p = 0;
	char cfg[256];
	int32_t pid;
	pid_t rd;
	int fd;
	int i;

	close(listen_on(&p)); /* a free port, for the first roostd */
	ru_setup_names();
	snprintf(cfg, sizeof(cfg),
	         "[metrics]\nlisten = 127.0.0.1:%u\n\n"
	         "[actor echo]\nprogram = %%s\n", p);
	ru_write_config(cfg);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	ck_assert_uint_eq(wait_port(1), p);
	roost_ctx_opts_init(&o);
	o.system = rsys;
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	echo = tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	pid = ru_echo_pid(ctx, echo);
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 128 + SIGKILL);
	fd = listen_on(&p);
	rd = ru_start_roostd(-1);
	for (i = 0; i < TU_PATIENCE_MS &&
	            !ru_log_has("without its metrics endpoint");
	     i++)
		usleep(1000);
	ck_assert_msg(ru_log_has("without its metrics endpoint"),
	              "no line about the endpoint in roostd's log");
	ru_wait_up();
	/* The same process still serves, under the new roostd. */
	ck_assert_int_eq(ru_echo_pid(ctx, echo), pid);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	kill(rd, SIGTERM);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 0);
	ck_assert_int_eq(tu_shm_count(rsys), 0);
	close(fd);
	ru_cleanup();
}
END_TEST

/* Deliver 'n' alarms to ourselves (1 ms each) and take them. */
static void
alarms(roost_ctx_t *ctx, int n)
{
	uint64_t id;
	int i;

	for (i = 0; i < n; i++)
		ck_assert_int_eq(roost_send_after(ctx, roost_self(ctx), 1000,
		                                  950 + i, NULL, 0, &id),
		                 0);
	for (i = 0; i < n; i++)
		ck_assert_ptr_nonnull(
		    ru_take_kind(ctx, 950 + i, TU_PATIENCE_MS));
}

/*
 * roostd's counters are validated wherever they are read: a scribbled
 * word leaves their series out (the view says ROOST_ECORRUPT), and the
 * next roostd starts them from zero, says so, and counts on.
 */
START_TEST(test_metrics_stats_damaged)
{
	char name[ROOST_SHM_NAME_MAX], path[ROOST_SHM_NAME_MAX + 16];
	roost_roostd_stats_t st;
	uint64_t junk = 0x5151515151515151ull;
	roost_ctx_t *ctx;
	roost_view_t *v;
	pid_t rd;
	int fd;

	rd = start(config);
	ctx = ru_open_when_up();
	tu_whereis_wait(ctx, "echo", TU_PATIENCE_MS);
	alarms(ctx, 2);
	scrape(NULL);
	ck_assert(value_of("roost_system_alarm_lateness_seconds_count", "") ==
	          2);
	/* A bucket count of tag-tmr-stats, scribbled. */
	ck_assert_int_eq(roost__timers_shm_name(name, sizeof(name), rsys), 0);
	snprintf(path, sizeof(path), "/dev/shm%s", name);
	fd = open(path, O_RDWR);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(
	    pwrite(fd, &junk, sizeof(junk),
	           (off_t)(offsetof(struct roost__tmr_hdr, th_stats) +
	                   offsetof(struct roost__tmr_stats, ts_w) + 16)),
	    (ssize_t)sizeof(junk));
	close(fd);
	ck_assert_int_eq(roost_view_open(&v, rsys), 0);
	ck_assert_int_eq(roost_view_roostd_stats(v, &st), ROOST_ECORRUPT);
	roost_view_close(v);
	scrape(NULL);
	ck_assert_ptr_null(strstr(body, "roost_system_alarm_lateness"));
	ck_assert(value_of("roost_system_actors", "") == 4);
	ck_assert_msg(promtool_check() == 0, "promtool refused:\n%s", body);
	/* A new roostd adopts the system and starts the counters anew. */
	kill(rd, SIGKILL);
	ck_assert_int_eq(tu_wait(rd, TU_PATIENCE_MS), 128 + SIGKILL);
	rd = ru_start_roostd(-1);
	ru_wait_up();
	port = wait_port(2);
	ck_assert(ru_log_has("roostd's counters in the alarm table failed "
	                     "validation: starting them from zero"));
	alarms(ctx, 1);
	scrape(NULL);
	ck_assert(value_of("roost_system_alarm_lateness_seconds_count", "") ==
	          1);
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
	ru_stop_roostd(rd);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite *s = suite_create("metrics");

	suite_add_tcase(s, tu_tcase("http", test_metrics_http, 120));
	suite_add_tcase(s, tu_tcase("stuck_scrapers",
	                            test_metrics_http_stuck_scrapers, 120));
	suite_add_tcase(
	    s, tu_tcase("per_actor", test_metrics_http_per_actor, 120));
	suite_add_tcase(
	    s, tu_tcase("stats_damaged", test_metrics_stats_damaged, 120));
	suite_add_tcase(
	    s, tu_tcase("port_taken", test_metrics_http_port_taken, 60));
	suite_add_tcase(s, tu_tcase("port_taken_at_adoption",
	                            test_metrics_http_port_taken_at_adoption,
	                            120));
	return s;
}

int
main(void)
{
	return tu_run(metrics_suite());
}
