/* SPDX-License-Identifier: MIT */
/*
 * config_metrics.c - validating the [metrics] section (its keys are in
 * config_metrics.h). config.c finds the section and the line; this file
 * says what is wrong with a value, in a sentence config.c prefixes with
 * "PATH:LINE: ".
 */
#include "config_metrics.h"
#include "config_keys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum mc_key { M_LISTEN, M_PER_ACTOR, M_NKEYS };

static const char *const mc_key_names[M_NKEYS] = {
    [M_LISTEN] = "listen",
    [M_PER_ACTOR] = "per_actor",
};

void
rd_metrics_defaults(struct rd_metrics_cfg *m)
{
	memset(m, 0, sizeof(*m));
	m->mc_actors.ea_mode = EXPO_ACTORS_ALL;
}

/* A port: 0..65535 in decimal digits only. */
static bool
parse_port(const char *s, uint16_t *port)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* "A.B.C.D:PORT" or "[IPv6]:PORT": literal addresses only (roostd does
 * no name lookups). */
static int
set_listen(struct rd_metrics_cfg *m, const char *val, char *err, size_t len)
{
	static const char form[] = "expected ADDRESS:PORT with an IPv4 "
	                           "address or [IPv6] and a port 0-65535, "
	                           "say 127.0.0.1:9464";
	char host[64];
	const char *colon;
	size_t hlen;
	uint16_t port;

	if (strlen(val) >= sizeof(m->mc_listen))
		return rd_key_bad(err, len, "listen: '%s' is too long", val);
	colon = strrchr(val, ':');
	if (colon == NULL || !parse_port(colon + 1, &port))
		return rd_key_bad(err, len, "listen: '%s': %s", val, form);
	hlen = (size_t)(colon - val);
	if (hlen >= 2 && val[0] == '[' && val[hlen - 1] == ']') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&m->mc_addr;

		memcpy(host, val + 1, hlen - 2);
		host[hlen - 2] = '\0';
		memset(a6, 0, sizeof(*a6));
		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return rd_key_bad(err, len, "listen: '%s': %s", val,
			                  form);
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		m->mc_addr_len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&m->mc_addr;

		if (hlen == 0 || hlen >= sizeof(host))
			return rd_key_bad(err, len, "listen: '%s': %s", val,
			                  form);
		memcpy(host, val, hlen);
		host[hlen] = '\0';
		memset(a4, 0, sizeof(*a4));
		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return rd_key_bad(err, len, "listen: '%s': %s", val,
			                  form);
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		m->mc_addr_len = sizeof(*a4);
	}
	snprintf(m->mc_listen, sizeof(m->mc_listen), "%s", val);
	return 1;
}

int
rd_metrics_key(struct rd_metrics_cfg *m, const char *key, const char *val,
               char *err, size_t len)
{
	int k = rd_key_find(mc_key_names, M_NKEYS, &m->mc_seen, key, err, len);

	if (k < 0)
		return k == -1 ? -1 : 0;
	if (k == M_LISTEN)
		return set_listen(m, val, err, len);
	if (expo_actors_parse(val, &m->mc_actors) < 0)
		return rd_key_bad(err, len,
		                  "per_actor: '%s': expected all, off or "
		                  "top N (N from 1 to 4294967295)",
		                  val);
	return 1;
}

int
rd_metrics_check(const struct rd_metrics_cfg *m, char *err, size_t len)
{
	if ((m->mc_seen & (1u << M_LISTEN)) == 0)
		return rd_key_bad(err, len,
		                  "[metrics] needs 'listen' (say listen = "
		                  "127.0.0.1:9464)");
	return 1;
}
