/* SPDX-License-Identifier: MIT */
/*
 * ctl_metrics.c - metrics: one scrape of a system in the Prometheus text
 * exposition format 0.0.4, for the monitoring people already run (a
 * textfile collector, or an exporter that runs the command). roostd's
 * HTTP endpoint ([metrics] listen) serves the same, from the same
 * formatter (metrics/expo.h).
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
	rc = scrape_status(&sc);
out:
	expo_free(&sc);
	return rc;
}
