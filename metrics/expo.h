/* SPDX-License-Identifier: MIT */
/*
 * expo.h - the metrics of one system for scraping, shared by `roostctl
 * metrics` and roostd's HTTP endpoint (one formatter for both).
 *
 * A scrape reads through the view API (include/roost/view.h) alone: the
 * actor table with its seqlock, mailbox counters with plain loads,
 * roostd's alarm table and counters; nothing is attached and no lock is
 * taken, so it costs the system nothing but the reads. It is printed as
 * Prometheus text 0.0.4 or OpenMetrics 1.0.0 (docs/roostctl.1 lists the
 * series). This folder includes nothing but the public headers.
 */
#ifndef ROOST_METRICS_EXPO_H
#define ROOST_METRICS_EXPO_H

#include <roost/view.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum expo_format {
	EXPO_PROMETHEUS,  /* text 0.0.4 */
	EXPO_OPENMETRICS, /* 1.0.0: counters named without _total in TYPE,
	                     "# EOF" at the end */
};

#define EXPO_TYPE_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"
#define EXPO_TYPE_OPENMETRICS                                                 \
	"application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Which actors get per-actor series (the system's always count all). */
struct expo_family {
	const char *f_name; /* as sampled: a counter's ends in _total */
	const char *f_type; /* "gauge", "counter", "histogram", "summary" */
	const char *f_help;
};

/* A tool's own families, printed after expo_print's (Prometheus text
 * only: expo_print ends OpenMetrics with "# EOF"): HELP and TYPE (an
 * OpenMetrics counter family is named without the _total its samples
 * carry), then samples 'metric'{system="sys"} value, or with one more
 * label when 'label' is not NULL; label values are escaped. */
void expo_family_head(FILE *f, const struct expo_family *fam,
                      enum expo_format fmt);
void expo_sample(FILE *f, const char *metric, const char *sys,
                 const char *label, const char *label_value,
                 const char *value);

enum expo_actors_mode { EXPO_ACTORS_ALL, EXPO_ACTORS_OFF, EXPO_ACTORS_TOP };

struct expo_actors {
	enum expo_actors_mode ea_mode;
	uint32_t ea_top; /* EXPO_ACTORS_TOP: the N deepest queues, N >= 1 */
};

/* What one scrape read. */
struct expo_scrape {
	roost_sysinfo_t sc_sys;
	roost_actor_info_t *sc_actors; /* every actor, in slot order */
	size_t sc_n;
	size_t sc_cap;
	uint32_t sc_corrupt; /* mailboxes that failed validation */
	int sc_alarms;       /* live alarms, or why not counted (< 0) */
	int sc_stats_err;    /* 0: sc_stats valid, else why not */
	roost_roostd_stats_t sc_stats;
};

/* Read the system of 'v' into 'sc' (zeroed here; expo_free after, even
 * on failure). 0, or the error of reading the actor table or the
 * system; the alarm table's errors are kept in the scrape instead. */
int expo_collect(roost_view_t *v, struct expo_scrape *sc);
void expo_free(struct expo_scrape *sc);

/* Print the scrape to 'f' in 'fmt', per-actor series as 'sel' says
 * (EXPO_ACTORS_TOP reorders sc_actors, deepest queue first). */
void expo_print(FILE *f, struct expo_scrape *sc, enum expo_format fmt,
                const struct expo_actors *sel);

/* The format an HTTP Accept header asks for: OpenMetrics when it
 * accepts application/openmetrics-text at least as much as text/plain,
 * else (also for NULL) Prometheus text. */
enum expo_format expo_format_for(const char *accept);

/* Parse "all", "off" or "top N" (1 <= N <= 2^32-1) into 'out': 0 or -1. */
int expo_actors_parse(const char *text, struct expo_actors *out);

#endif /* ROOST_METRICS_EXPO_H */
