/* SPDX-License-Identifier: MIT */
/*
 * ctl_nodes.c - `roostctl nodes`: this node as its gateway sees it (the
 * link to NATS, the counters) and the nodes it has heard from, each up
 * or down with the time since its last heartbeat and the round trip;
 * `roostctl ls --node NODE`: another node's actors. The gateway
 * answers "gateway.nodes" and "gateway.actors" calls with MessagePack
 * maps (docs/distribution.md); --json prints them as they are.
 */
#include "roostctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define NODES_TIMEOUT_MS 2000

/* The gateway's answer to a call of kind 'kind_name' with 'data' as
 * payload, as JSON; 0 or a roostctl exit status. */
static int
ask_gateway(struct ctl *c, const char *kind_name, const char *verb,
            const void *data, size_t len, json_t **out)
{
	roost_aid_t gw;
	roost_msg_t *r;
	uint32_t kind;
	const char *why = NULL;
	int rc;

	rc = ctl_view(c, false);
	if (rc == 0 && roost_view_find(c->c_view, "gateway", &gw) < 0)
		return ctl_err(CTL_NOACTOR, "system '%s' has no gateway (a "
		               "[gateway] section in roostd's config runs one)",
		               c->c_sysname);
	if (rc == 0 && roost_view_kind_lookup(c->c_view, kind_name, &kind) < 0)
		return ctl_err(CTL_FAILED, "this libroost has no %s", kind_name);
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		return rc;
	rc = roost_call(c->c_ctx, gw, kind, ROOST_SEND_SYSTEM, data, len,
	                NODES_TIMEOUT_MS, &r);
	if (rc < 0)
		return ctl_fail(rc, "%s: asking the gateway", verb);
	*out = ctl_payload_decode(roost_msg_data(r), roost_msg_size(r), &why);
	if (*out == NULL || !json_is_object(*out))
		return ctl_err(CTL_FAILED, "%s: the gateway's answer does not "
		               "decode: %s", verb, why != NULL ? why : "not a map");
	return 0;
}

int
ctl_gateway_status(struct ctl *c, const char *verb, json_t **out)
{
	return ask_gateway(c, "gateway.nodes", verb, NULL, 0, out);
}

static void
print_table(json_t *st)
{
	json_t *nodes = json_object_get(st, "nodes");
	json_t *n;
	size_t i;

	printf("node %s (id %lld): %s\n",
	       json_string_value(json_object_get(st, "node")),
	       (long long)json_integer_value(json_object_get(st, "id")),
	       json_string_value(json_object_get(st, "link")));
	printf("published %lld, delivered %lld, not delivered %lld, bad "
	       "frames %lld, forged %lld, lost in flight %lld\n",
	       (long long)json_integer_value(json_object_get(st, "published")),
	       (long long)json_integer_value(json_object_get(st, "delivered")),
	       (long long)json_integer_value(json_object_get(st,
	                                                     "undelivered")),
	       (long long)json_integer_value(json_object_get(st,
	                                                     "bad_frames")),
	       (long long)json_integer_value(json_object_get(st, "forged")),
	       (long long)json_integer_value(json_object_get(st,
	                                                     "lost_in_flight")));
	printf("flow control: waited for credit %lld times, at most %lld "
	       "bytes waiting here\n",
	       (long long)json_integer_value(json_object_get(st,
	                                                     "window_waits")),
	       (long long)json_integer_value(json_object_get(
	               st, "pending_max_bytes")));
	printf("%-32s %6s %-5s %12s %12s\n", "NODE", "ID", "STATE",
	       "LAST SEEN", "ROUND TRIP");
	json_array_foreach(nodes, i, n) {
		printf("%-32s %6lld %-5s %10lld ms %9lld us\n",
		       json_string_value(json_object_get(n, "name")),
		       (long long)json_integer_value(json_object_get(n, "id")),
		       json_is_true(json_object_get(n, "up")) ? "up" : "down",
		       (long long)json_integer_value(json_object_get(
		               n, "last_seen_ms")),
		       (long long)json_integer_value(json_object_get(n,
		                                                     "rtt_us")));
	}
}

int
ctl_nodes(struct ctl *c, int argc, char **argv)
{
	static const struct option opts[] = {CTL_COMMON_OPTS, {0}};
	json_t *st = NULL;
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:h", opts, NULL)) != -1)
		if (!ctl_common_opt(c, opt, "nodes"))
			return ctl_usage("nodes", "unknown option");
	if (optind != argc)
		return ctl_usage("nodes", "takes no arguments");
	rc = ctl_gateway_status(c, "nodes", &st);
	if (rc == 0 && c->c_json)
		ctl_json_print(json_incref(st));
	else if (rc == 0)
		print_table(st);
	json_decref(st);
	return rc;
}

static void
print_actors(json_t *st)
{
	json_t *n;
	size_t i;
	uint64_t aid;

	printf("node %s\n", json_string_value(json_object_get(st, "node")));
	printf("%-32s %-14s %8s %-9s %8s\n", "NAME", "ADDRESS", "PID",
	       "STATE", "QUEUED");
	json_array_foreach(json_object_get(st, "actors"), i, n) {
		aid = (uint64_t)json_integer_value(json_object_get(n, "aid"));
		printf("%-32s %7u.%-6u %8lld %-9s %8lld\n",
		       json_string_value(json_object_get(n, "name")),
		       roost_aid_slot((roost_aid_t){aid}),
		       roost_aid_gen((roost_aid_t){aid}),
		       (long long)json_integer_value(json_object_get(n, "pid")),
		       json_string_value(json_object_get(n, "state")),
		       (long long)json_integer_value(json_object_get(n,
		                                                     "queued")));
	}
	if (json_is_true(json_object_get(st, "truncated")))
		printf("(more actors than one answer holds: truncated)\n");
}

int
ctl_ls_node(struct ctl *c, const char *node)
{
	json_t *st = NULL;
	int rc;

	rc = ask_gateway(c, "gateway.actors", "ls", node, strlen(node), &st);
	if (rc == 0 && c->c_json)
		ctl_json_print(json_incref(st));
	else if (rc == 0)
		print_actors(st);
	json_decref(st);
	return rc;
}
