/* SPDX-License-Identifier: MIT */
/*
 * nats_util.h - real nats-server processes and roost nodes (a roostd
 * with its gateway, each its own system) for the gateway's suites. Every
 * wait is for a state, with a deadline; servers and roostds are stopped
 * by pid.
 */
#ifndef ROOST_TEST_NATS_UTIL_H
#define ROOST_TEST_NATS_UTIL_H

#include "test_util.h"

#include <stdbool.h>
#include <sys/types.h>

struct nu_server {
	pid_t ns_pid;
	int ns_port;
	int ns_cluster_port;      /* its route port, when clustered */
	char ns_dir[64];          /* its ports file lands here */
};

struct nu_node {
	char nd_name[16];         /* node name */
	char nd_sys[48];          /* its roost system */
	char nd_cfg[96];          /* its config */
	char nd_log[104];         /* roostd's and the gateway's stderr */
	pid_t nd_roostd;
};

/* Start nats-server on a free loopback port ('args': more options,
 * NULL-terminated, may be NULL); returns once it listens. */
void nu_server_start(struct nu_server *s, const char *const *args);
/* SIGTERM, then wait for it (SIGKILL after a deadline). */
void nu_server_stop(struct nu_server *s);

/*
 * Write a config for node 'name' (id 'id') on 'port' and start its
 * roostd; 'extra' (may be "") is more [gateway] keys, one per line, and
 * the config gets an echo actor (ECHO_BIN). Returns once roostd runs.
 */
void nu_node_start(struct nu_node *n, const char *name, unsigned id,
                   int port, const char *extra);
/* The same with the gateway's 'urls' given whole. */
void nu_node_start_urls(struct nu_node *n, const char *name, unsigned id,
                        const char *urls, const char *extra);
/* SIGTERM roostd, wait for exit 0 and nothing left in /dev/shm; remove
 * the config and log. */
void nu_node_stop(struct nu_node *n);
/* A context on the node's system (unnamed when 'name' is NULL). */
roost_ctx_t *nu_node_open(const struct nu_node *n, const char *name);
/* Wait until the node's log has a line containing 'needle'. */
void nu_log_wait(const struct nu_node *n, const char *needle, int ms);
/* Wait until "name@node" resolves (nodes see each other). */
roost_aid_t nu_whereis_wait(roost_ctx_t *ctx, const char *spec, int ms);
/* The pid and restart count of actor 'name' on the node. */
void nu_actor(const struct nu_node *n, const char *name, pid_t *pid,
              uint32_t *restarts);

#endif
