/* SPDX-License-Identifier: MIT */
/*
 * nats_util.c - nats-server processes and roost nodes for tests
 * (nats_util.h).
 */
#include "nats_util.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "roost/view.h"

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The port nats-server wrote into its ports file in 'dir' for 'what'
 * ("nats" or "cluster"), or 0. */
static int
read_port(const char *dir, const char *what)
{
	char path[sizeof(((struct nu_server *)0)->ns_dir) + 256];
	char buf[256];
	struct dirent *e;
	DIR *d = opendir(dir);
	FILE *f;
	char *p;
	int port = 0;

	if (d == NULL)
		return 0;
	while (port == 0 && (e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".ports") == NULL)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "r");
		if (f == NULL)
			continue;
		buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
		fclose(f);
		p = strstr(buf, what);
		if (p != NULL)
			p = strstr(p, "127.0.0.1:");
		if (p != NULL)
			port = atoi(p + strlen("127.0.0.1:"));
	}
	closedir(d);
	return port;
}

void
nu_server_start(struct nu_server *s, const char *const *args)
{
	const char *argv[32] = {"nats-server", "-a", "127.0.0.1", "-p", "-1",
	                        "--ports_file_dir", s->ns_dir};
	int n = 7;
	uint64_t deadline;

	snprintf(s->ns_dir, sizeof(s->ns_dir), "/tmp/roost-nats-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(s->ns_dir));
	for (; args != NULL && *args != NULL && n < 30; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	s->ns_pid = fork();
	ck_assert_int_ge(s->ns_pid, 0);
	if (s->ns_pid == 0) {
		(void)!freopen("/dev/null", "w", stderr);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	deadline = now_ms() + 10000;
	while ((s->ns_port = read_port(s->ns_dir, "\"nats\"")) == 0 &&
	       now_ms() < deadline)
		usleep(2000);
	ck_assert_msg(s->ns_port > 0, "nats-server did not start");
	s->ns_cluster_port = read_port(s->ns_dir, "\"cluster\"");
}

void
nu_server_stop(struct nu_server *s)
{
	char cmd[96];

	if (s->ns_pid > 0) {
		kill(s->ns_pid, SIGTERM);
		tu_wait(s->ns_pid, 10000);
		s->ns_pid = 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->ns_dir);
	(void)!system(cmd);
}

void
nu_node_start(struct nu_node *n, const char *name, unsigned id, int port,
              const char *extra)
{
	char urls[64];

	snprintf(urls, sizeof(urls), "nats://127.0.0.1:%d", port);
	nu_node_start_urls(n, name, id, urls, extra);
}

void
nu_node_start_urls(struct nu_node *n, const char *name, unsigned id,
                   const char *urls, const char *extra)
{
	FILE *f;
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;
	uint64_t deadline = now_ms() + 10000;

	snprintf(n->nd_name, sizeof(n->nd_name), "%s", name);
	/* Name and id: two systems may claim one node name. */
	snprintf(n->nd_sys, sizeof(n->nd_sys), "%s-%s%u", tu_sys, name, id);
	snprintf(n->nd_cfg, sizeof(n->nd_cfg), "/tmp/roost-gw-%d-%s%u.ini",
	         (int)getpid(), name, id);
	snprintf(n->nd_log, sizeof(n->nd_log), "%s.log", n->nd_cfg);
	f = fopen(n->nd_cfg, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[gateway]\nprogram = %s\nnode = %s\nnode_id = %u\n"
	        "urls = %s\nheartbeat_ms = 100\n"
	        "down_after_ms = 1000\n%s\n[actor echo]\nprogram = %s\n",
	        GATEWAY_BIN, name, id, urls, extra, ECHO_BIN);
	fclose(f);
	unlink(n->nd_log);
	n->nd_roostd = fork();
	ck_assert_int_ge(n->nd_roostd, 0);
	if (n->nd_roostd == 0) {
		(void)!freopen(n->nd_log, "a", stderr);
		execl(ROOSTD_BIN, ROOSTD_BIN, "--system", n->nd_sys, "--config",
		      n->nd_cfg, "--foreground", (char *)NULL);
		_exit(127);
	}
	/* Up once the echo actor (started after the gateway) is named. */
	roost_ctx_opts_init(&o);
	o.system = n->nd_sys;
	for (;;) {
		roost_aid_t a;

		if (ctx == NULL && roost_ctx_open(&ctx, &o) < 0)
			ctx = NULL;
		if (ctx != NULL && roost_whereis(ctx, "echo", &a) == 0)
			break;
		ck_assert_msg(now_ms() < deadline, "node %s did not start",
		              name);
		usleep(2000);
	}
	ck_assert_int_eq(roost_ctx_close(ctx), 0);
}

void
nu_node_stop(struct nu_node *n)
{
	if (n->nd_roostd <= 0)
		return;
	kill(n->nd_roostd, SIGTERM);
	ck_assert_int_eq(tu_wait(n->nd_roostd, 30000), 0);
	n->nd_roostd = 0;
	ck_assert_int_eq(tu_shm_count(n->nd_sys), 0);
	unlink(n->nd_cfg);
	unlink(n->nd_log);
}

roost_ctx_t *
nu_node_open(const struct nu_node *n, const char *name)
{
	roost_ctx_opts_t o;
	roost_ctx_t *ctx = NULL;

	roost_ctx_opts_init(&o);
	o.system = n->nd_sys;
	o.name = name;
	ck_assert_int_eq(roost_ctx_open(&ctx, &o), 0);
	return ctx;
}

void
nu_log_wait(const struct nu_node *n, const char *needle, int ms)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;

	while (!tu_file_has(n->nd_log, needle)) {
		ck_assert_msg(now_ms() < deadline, "node %s: no '%s' in %s",
		              n->nd_name, needle, n->nd_log);
		usleep(5000);
	}
}

roost_aid_t
nu_whereis_wait(roost_ctx_t *ctx, const char *spec, int ms)
{
	uint64_t deadline = now_ms() + (uint64_t)ms;
	roost_aid_t a = ROOST_AID_NONE;
	int rc;

	/* Until both gateways have heard each other's heartbeat. */
	while ((rc = roost_whereis(ctx, spec, &a)) != 0) {
		ck_assert_msg(rc == -EHOSTUNREACH || rc == -ENOTCONN ||
		              rc == -ETIMEDOUT, "whereis %s: %s", spec,
		              roost_strerror(rc));
		ck_assert_msg(now_ms() < deadline, "whereis %s: %s", spec,
		              roost_strerror(rc));
		usleep(5000);
	}
	return a;
}

struct find_actor {
	const char *fa_name;
	roost_actor_info_t fa_info;
	bool fa_found;
};

static int
find_actor(void *arg, const roost_actor_info_t *a)
{
	struct find_actor *fa = arg;

	if (strcmp(a->name, fa->fa_name) != 0)
		return 0;
	fa->fa_info = *a;
	fa->fa_found = true;
	return 1;
}

void
nu_actor(const struct nu_node *n, const char *name, pid_t *pid,
         uint32_t *restarts)
{
	struct find_actor fa = {.fa_name = name};
	roost_view_t *v = NULL;

	ck_assert_int_eq(roost_view_open(&v, n->nd_sys), 0);
	roost_view_actors(v, find_actor, &fa);
	roost_view_close(v);
	ck_assert_msg(fa.fa_found, "no actor %s on %s", name, n->nd_name);
	*pid = fa.fa_info.pid;
	*restarts = fa.fa_info.restarts;
}
