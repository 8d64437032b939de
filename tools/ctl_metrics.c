/* SPDX-License-Identifier: MIT */
/*
 * ctl_metrics.c - metrics: one scrape of a system in the Prometheus text
 * exposition format 0.0.4, for the monitoring people already run (a
 * textfile collector, or an exporter that runs the command). roostd's
 * HTTP endpoint ([metrics] listen) serves the same, from the same
 * formatter (metrics/expo.h). A node's system adds its gateway's
 * families, which take one call of the gateway.
 *
 * The system's series always count every actor; the per-actor series
 * cover every actor, the --top N deepest queues, or none (--no-actors),
 * so a system of 10,000 actors need not give 10,000 series per family.
 */
#include "roostctl.h"
#include "expo.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The exit status after the output: a damaged mailbox, alarm table or
 * roostd's counters is exit 5 (one line each on stderr), as in ls. */
static int
scrape_status(const struct expo_scrape *sc)
{
	int rc = CTL_OK;
	size_t i;

	for (i = 0; i < sc->sc_n; i++)
		if (ctl_mbox_damaged(&sc->sc_actors[i]))
			rc = CTL_CORRUPT;
	if (sc->sc_alarms < 0 && sc->sc_alarms != -ENOENT)
		rc = ctl_fail(sc->sc_alarms,
		              "roostd's alarm table of system "
		              "'%s' (roost_system_alarms left "
		              "out)",
		              sc->sc_sys.name);
	if (sc->sc_stats_err < 0 && sc->sc_stats_err != -ENOENT)
		rc = ctl_fail(sc->sc_stats_err,
		              "roostd's counters of system '%s' (alarm "
		              "lateness, spawn time and restarts left out)",
		              sc->sc_sys.name);
	return rc;
}

/* metrics' options; 0 or an exit code. */
static int
metrics_opts(struct ctl *c, int argc, char **argv, struct expo_actors *sel)
{
	static const struct option opts[] = {
	    CTL_COMMON_OPTS,
	    {"top", required_argument, NULL, 't'},
	    {"no-actors", no_argument, NULL, 'A'},
	    {0},
	};
	bool has_top = false;
	bool no_actors = false;
	uint64_t top;
	int opt;
	int rc;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "js:h", opts, NULL)) != -1) {
		if (ctl_common_opt(c, opt, "metrics"))
			continue;
		if (opt == 'A') {
			no_actors = true;
			continue;
		}
		if (opt != 't')
			return ctl_usage("metrics", "unknown option");
		rc =
		    ctl_parse_u64("metrics", "--top", optarg, UINT32_MAX, &top);
		if (rc != 0)
			return rc;
		if (top == 0)
			return ctl_usage(
			    "metrics", "--top: expected at least 1 "
			               "(--no-actors leaves every actor out)");
		has_top = true;
		sel->ea_mode = EXPO_ACTORS_TOP;
		sel->ea_top = (uint32_t)top;
	}
	if (optind != argc)
		return ctl_usage("metrics", "takes no arguments");
	if (has_top && no_actors)
		return ctl_usage("metrics",
		                 "--top and --no-actors exclude each other");
	if (no_actors)
		sel->ea_mode = EXPO_ACTORS_OFF;
	if (c->c_json)
		return ctl_usage("metrics", "prints the Prometheus text "
		                            "format; --json does not apply");
	return 0;
}

/* A node's system (one with a NATS gateway): the gateway's counters and
 * its nodes, from one call of the gateway (the only thing a scrape
 * attaches for); a failed call is said on stderr and leaves them out. */
static void
print_gateway(struct ctl *c, const char *sys)
{
	static const struct {
		const char *key;
		struct expo_family f;
	} counters[] = {
	    {"published", {"roost_gateway_published_total", "counter",
	                   "Frames this node's gateway published."}},
	    {"delivered", {"roost_gateway_delivered_total", "counter",
	                   "Frames from other nodes delivered here."}},
	    {"undelivered", {"roost_gateway_undelivered_total", "counter",
	                     "Messages not delivered, either way (each "
	                     "counted and its sender told)."}},
	    {"bad_frames", {"roost_gateway_bad_frames_total", "counter",
	                    "Malformed frames dropped."}},
	    {"forged", {"roost_gateway_forged_total", "counter",
	                "Frames refused: sender not the node their subject "
	                "names."}},
	    {"lost_in_flight", {"roost_gateway_lost_in_flight_total",
	                        "counter",
	                        "User frames from other nodes that never "
	                        "came (gaps in their numbers)."}},
	    {"window_waits", {"roost_gateway_window_waits_total", "counter",
	                      "Times the gateway waited for flow-control "
	                      "credit."}},
	    {"pending_max_bytes", {"roost_gateway_pending_max_bytes", "gauge",
	                           "Most bytes libnats held for delivery here "
	                           "at once."}},
	    {"connected", {"roost_gateway_connected", "gauge",
	                   "1 when the gateway is connected to NATS and ready, "
	                   "else 0."}},
	};
	static const struct expo_family up = {
	    "roost_gateway_node_up", "gauge",
	    "1 when the node was heard within down_after_ms, else 0."};
	static const struct expo_family rtt = {
	    "roost_gateway_node_rtt_seconds", "gauge",
	    "Round trip of the last ping to the node (0: none yet)."};
	const char *name;
	roost_aid_t gw;
	json_t *st = NULL;
	json_t *v;
	json_t *n;
	char text[32];
	size_t i;

	if (roost_view_find(c->c_view, "gateway", &gw) < 0 ||
	    ctl_gateway_status(c, "metrics", &st) != 0)
		return;
	/* The answer is another process's: a family whose value is not
	 * what it should be is left out, and so is a node with no name. */
	for (i = 0; i < sizeof(counters) / sizeof(counters[0]); i++) {
		v = json_object_get(st, counters[i].key);
		if (json_is_boolean(v))
			snprintf(text, sizeof(text), "%d", json_is_true(v));
		else if (json_is_integer(v) && json_integer_value(v) >= 0)
			snprintf(text, sizeof(text), "%lld",
			         (long long)json_integer_value(v));
		else
			continue;
		expo_family_head(stdout, &counters[i].f, EXPO_PROMETHEUS);
		expo_sample(stdout, counters[i].f.f_name, sys, NULL, NULL, text);
	}
	expo_family_head(stdout, &up, EXPO_PROMETHEUS);
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		name = json_string_value(json_object_get(n, "name"));
		if (name != NULL)
			expo_sample(stdout, up.f_name, sys, "node", name,
			            json_is_true(json_object_get(n, "up")) ? "1"
			                                                   : "0");
	}
	expo_family_head(stdout, &rtt, EXPO_PROMETHEUS);
	json_array_foreach(json_object_get(st, "nodes"), i, n) {
		name = json_string_value(json_object_get(n, "name"));
		v = json_object_get(n, "rtt_us");
		if (name == NULL || !json_is_integer(v) ||
		    json_integer_value(v) < 0)
			continue;
		snprintf(text, sizeof(text), "%.6f",
		         (double)json_integer_value(v) / 1e6);
		expo_sample(stdout, rtt.f_name, sys, "node", name, text);
	}
	json_decref(st);
}

int
ctl_metrics(struct ctl *c, int argc, char **argv)
{
	struct expo_actors sel = {EXPO_ACTORS_ALL, 0};
	struct expo_scrape sc;
	int rc;

	memset(&sc, 0, sizeof(sc));
	rc = metrics_opts(c, argc, argv, &sel);
	if (rc != 0)
		return rc;
	rc = ctl_view(c, false);
	if (rc != 0)
		return rc;
	rc = expo_collect(c->c_view, &sc);
	if (rc < 0) {
		rc = ctl_fail(rc, "reading system '%s'", c->c_sysname);
		goto out;
	}
	expo_print(stdout, &sc, EXPO_PROMETHEUS, &sel);
	print_gateway(c, sc.sc_sys.name);
	rc = scrape_status(&sc);
out:
	expo_free(&sc);
	return rc;
}
