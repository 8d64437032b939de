/* SPDX-License-Identifier: MIT */
/*
 * nodes.h - the nodes a gateway has heard from: name, id, when last
 * heard. Each node says HELLO every heartbeat; one not heard for
 * down_after_ms is down. Thread-safe: the NATS delivery thread fills it,
 * the forwarding loop reads it.
 */
#ifndef ROOST_GATEWAY_NODES_H
#define ROOST_GATEWAY_NODES_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define GW_NODES_MAX 64

struct gw_node {
	char nd_name[32];
	uint32_t nd_id;
	uint64_t nd_last_ns; /* last HELLO, monotonic */
	bool nd_up;          /* as last reported (hello, sweep) */
	uint64_t nd_instance; /* its gateway process's instance id */
	bool nd_restarted;   /* a new instance, not yet swept */
	uint64_t nd_rtt_ns;  /* the last PING's round trip, 0 none yet */
};

struct gw_nodes {
	pthread_mutex_t ns_lock;
	struct gw_node ns_node[GW_NODES_MAX];
	int ns_count;
	uint64_t ns_down_ns; /* silent this long: down */
};

void gw_nodes_init(struct gw_nodes *ns, uint32_t down_after_ms);

/*
 * A HELLO from node 'name' with id 'id' and gateway instance 'instance'
 * at 'now_ns'. Returns 1 when the node was down or new (it came up) or
 * its gateway restarted (a new instance: the next sweep reports it),
 * 0 when it was up, -EEXIST when the
 * name or the id is already another node's (the table keeps the first;
 * the caller logs the conflict), -ENOSPC when the table is full.
 */
int gw_nodes_hello(struct gw_nodes *ns, const char *name, uint32_t id,
                   uint64_t instance, uint64_t now_ns);

/* Mark down the nodes silent for down_after_ms since they were last
 * reported up, and report those whose gateway restarted; 'fn' is called
 * for each (nd_up tells which; under the table's lock: it must not use
 * the table). */
void gw_nodes_sweep(struct gw_nodes *ns, uint64_t now_ns,
                    void (*fn)(void *arg, const struct gw_node *n),
                    void *arg);

/* This gateway lost its connection: every node counts as silent from
 * now (the next sweep reports them down) until its next HELLO, which
 * it sends only once it is ready again (gw_link_ready). */
void gw_nodes_forget(struct gw_nodes *ns);

/* How many nodes are known. Nodes are only ever added, so the first
 * that many stay there. */
int gw_nodes_count(struct gw_nodes *ns);
/* Call 'fn' for the first 'max' nodes known (under the lock, as for
 * the sweep). */
void gw_nodes_each(struct gw_nodes *ns, int max,
                   void (*fn)(void *arg, const struct gw_node *n),
                   void *arg);

/* Node 'id': its name into 'name' (32 bytes) and whether it is up.
 * -EHOSTUNREACH when never heard of. */
int gw_nodes_by_id(struct gw_nodes *ns, uint32_t id, uint64_t now_ns,
                   char *name, bool *up);

/* Node 'id' answered a PING after 'rtt_ns'. */
void gw_nodes_rtt(struct gw_nodes *ns, uint32_t id, uint64_t rtt_ns);

/* Node 'name': its id and whether it is up. -EHOSTUNREACH when never
 * heard of. */
int gw_nodes_by_name(struct gw_nodes *ns, const char *name, uint64_t now_ns,
                     uint32_t *id, bool *up);

#endif
