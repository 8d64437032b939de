/* SPDX-License-Identifier: MIT */
/*
 * nodes.c - the table of nodes heard from (nodes.h).
 */
#include "nodes.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void
gw_nodes_init(struct gw_nodes *ns, uint32_t down_after_ms)
{
	memset(ns, 0, sizeof(*ns));
	pthread_mutex_init(&ns->ns_lock, NULL);
	ns->ns_down_ns = (uint64_t)down_after_ms * 1000000u;
}

/* Heard within down_after_ms of 'now_ns' ('now_ns' may be older than
 * the last HELLO: threads read the clock at different times). */
static bool
is_up(const struct gw_nodes *ns, const struct gw_node *n, uint64_t now_ns)
{
	return now_ns < n->nd_last_ns ||
	       now_ns - n->nd_last_ns < ns->ns_down_ns;
}

int
gw_nodes_hello(struct gw_nodes *ns, const char *name, uint32_t id,
               uint64_t instance, uint64_t now_ns)
{
	struct gw_node *n;
	int rc = -ENOSPC;
	int i;

	pthread_mutex_lock(&ns->ns_lock);
	for (i = 0; i < ns->ns_count; i++) {
		n = &ns->ns_node[i];
		if (n->nd_id != id && strcmp(n->nd_name, name) != 0)
			continue;
		if (n->nd_id != id || strcmp(n->nd_name, name) != 0) {
			rc = -EEXIST;
			goto out;
		}
		rc = n->nd_up && n->nd_instance == instance ? 0 : 1;
		n->nd_restarted |= n->nd_up && n->nd_instance != instance;
		n->nd_instance = instance;
		n->nd_up = true;
		n->nd_last_ns = now_ns;
		goto out;
	}
	if (ns->ns_count < GW_NODES_MAX) {
		n = &ns->ns_node[ns->ns_count++];
		snprintf(n->nd_name, sizeof(n->nd_name), "%s", name);
		n->nd_id = id;
		n->nd_last_ns = now_ns;
		n->nd_up = true;
		n->nd_instance = instance;
		rc = 1;
	}
out:
	pthread_mutex_unlock(&ns->ns_lock);
	return rc;
}

void
gw_nodes_sweep(struct gw_nodes *ns, uint64_t now_ns,
               void (*fn)(void *arg, const struct gw_node *n), void *arg)
{
	pthread_mutex_lock(&ns->ns_lock);
	for (int i = 0; i < ns->ns_count; i++) {
		struct gw_node *n = &ns->ns_node[i];

		if (n->nd_up && !is_up(ns, n, now_ns)) {
			n->nd_up = false;
			n->nd_restarted = false; /* the down covers it */
			fn(arg, n);
		} else if (n->nd_restarted) {
			n->nd_restarted = false;
			fn(arg, n);
		}
	}
	pthread_mutex_unlock(&ns->ns_lock);
}

void
gw_nodes_forget(struct gw_nodes *ns)
{
	pthread_mutex_lock(&ns->ns_lock);
	for (int i = 0; i < ns->ns_count; i++)
		ns->ns_node[i].nd_last_ns = 0;
	pthread_mutex_unlock(&ns->ns_lock);
}

int
gw_nodes_count(struct gw_nodes *ns)
{
	int n;

	pthread_mutex_lock(&ns->ns_lock);
	n = ns->ns_count;
	pthread_mutex_unlock(&ns->ns_lock);
	return n;
}

void
gw_nodes_each(struct gw_nodes *ns, int max,
              void (*fn)(void *arg, const struct gw_node *n), void *arg)
{
	pthread_mutex_lock(&ns->ns_lock);
	for (int i = 0; i < ns->ns_count && i < max; i++)
		fn(arg, &ns->ns_node[i]);
	pthread_mutex_unlock(&ns->ns_lock);
}

int
gw_nodes_by_id(struct gw_nodes *ns, uint32_t id, uint64_t now_ns,
               char *name, bool *up)
{
	int rc = -EHOSTUNREACH;

	pthread_mutex_lock(&ns->ns_lock);
	for (int i = 0; i < ns->ns_count; i++) {
		if (ns->ns_node[i].nd_id == id) {
			memcpy(name, ns->ns_node[i].nd_name, 32);
			*up = is_up(ns, &ns->ns_node[i], now_ns);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ns->ns_lock);
	return rc;
}

int
gw_nodes_by_name(struct gw_nodes *ns, const char *name, uint64_t now_ns,
                 uint32_t *id, bool *up)
{
	int rc = -EHOSTUNREACH;

	pthread_mutex_lock(&ns->ns_lock);
	for (int i = 0; i < ns->ns_count; i++) {
		if (strcmp(ns->ns_node[i].nd_name, name) == 0) {
			*id = ns->ns_node[i].nd_id;
			*up = is_up(ns, &ns->ns_node[i], now_ns);
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ns->ns_lock);
	return rc;
}

void
gw_nodes_rtt(struct gw_nodes *ns, uint32_t id, uint64_t rtt_ns)
{
	pthread_mutex_lock(&ns->ns_lock);
	for (int i = 0; i < ns->ns_count; i++)
		if (ns->ns_node[i].nd_id == id)
			ns->ns_node[i].nd_rtt_ns = rtt_ns;
	pthread_mutex_unlock(&ns->ns_lock);
}
