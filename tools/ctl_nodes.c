/* SPDX-License-Identifier: MIT */
/*
 * ctl_nodes.c - `roostctl nodes`: this node as its gateway sees it (the
 * link to NATS, the counters) and the nodes it has heard from, each up
 * or down with the time since its last heartbeat. The gateway answers a
 * "gateway.nodes" call with a MessagePack map (docs/distribution.md);
 * --json prints that map as it is.
 */
#include "roostctl.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define NODES_TIMEOUT_MS 2000

/* The gateway's answer as JSON; 0 or a roostctl exit status. */
static int
ask_gateway(struct ctl *c, json_t **out)
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
	if (rc == 0 && roost_view_kind_lookup(c->c_view, "gateway.nodes",
	                                      &kind) < 0)
		return ctl_err(CTL_FAILED, "this libroost has no gateway.nodes");
	if (rc == 0)
		rc = ctl_connect(c);
	if (rc != 0)
		return rc;
	rc = roost_call(c->c_ctx, gw, kind, ROOST_SEND_SYSTEM, NULL, 0,
	                NODES_TIMEOUT_MS, &r);
	if (rc < 0)
		return ctl_fail(rc, "nodes: asking the gateway");
	*out = ctl_payload_decode(roost_msg_data(r), roost_msg_size(r), &why);
	if (*out == NULL || !json_is_object(*out))
		return ctl_err(CTL_FAILED, "nodes: the gateway's answer does not "
		               "decode: %s", why != NULL ? why : "not a map");
	return 0;
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
	       "frames %lld, forged %lld\n",
	       (long long)json_integer_value(json_object_get(st, "published")),
	       (long long)json_integer_value(json_object_get(st, "delivered")),
	       (long long)json_integer_value(json_object_get(st,
	                                                     "undelivered")),
	       (long long)json_integer_value(json_object_get(st,
	                                                     "bad_frames")),
	       (long long)json_integer_value(json_object_get(st, "forged")));
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
	rc = ask_gateway(c, &st);
	if (rc == 0 && c->c_json)
		ctl_json_print(json_incref(st));
	else if (rc == 0)
		print_table(st);
	json_decref(st);
	return rc;
}
