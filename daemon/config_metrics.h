/* SPDX-License-Identifier: MIT */
/*
 * config_metrics.h - the [metrics] section of roostd's INI: an HTTP
 * endpoint for Prometheus/OpenMetrics scrapers (daemon/metrics_http.c),
 * serving what `roostctl metrics` prints.
 *
 *   [metrics]
 *   listen = 127.0.0.1:9464 ; required: an IPv4 address and a port, or
 *                           ; [IPv6]:PORT; port 0 takes a free one (logged)
 *   per_actor = all         ; all | off | top N (by queue depth)
 */
#ifndef ROOSTD_CONFIG_METRICS_H
#define ROOSTD_CONFIG_METRICS_H

#include "expo.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

struct rd_metrics_cfg {
	bool mc_enabled;                 /* a [metrics] section was given */
	int mc_line;                     /* its header's line */
	unsigned mc_seen;                /* keys given, 1u << their index */
	struct sockaddr_storage mc_addr; /* where to listen */
	socklen_t mc_addr_len;
	char mc_listen[64];           /* as given, for the log */
	struct expo_actors mc_actors; /* per_actor */
};

/* The defaults (no endpoint; per_actor all). */
void rd_metrics_defaults(struct rd_metrics_cfg *m);

/*
 * One "key = val" of [metrics]. Returns 1 when set; 0 when 'val' is bad
 * or the key is given twice, with what is wrong in 'err'; -1 for a key
 * [metrics] does not have.
 */
int rd_metrics_key(struct rd_metrics_cfg *m, const char *key, const char *val,
                   char *err, size_t len);

/* The checks on the whole section (listen is required). Returns 1, or
 * 0 with what is wrong in 'err'. */
int rd_metrics_check(const struct rd_metrics_cfg *m, char *err, size_t len);

#endif
